"""`syntax/rules-schema`: Rule files follow Prometheus' rule file format (known fields, required fields, valid names)."""

from __future__ import annotations

import re

from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.checks._common import kl
from aetherops_plugins.lint.shapes import yaml_type

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


GROUP_KEYS = {"name", "interval", "limit", "rules"}


RULE_KEYS = {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"}


K8S_KEYS = {"apiVersion", "kind", "metadata", "spec"}


class RuleSchema(Check):
    id = "syntax/rules-schema"
    severity = "error"
    kinds = ("rules",)
    summary = "Rule files follow Prometheus' rule file format (known fields, required fields, valid names)."
    why = "Prometheus refuses to load the whole file, and keeps running the old rules, when one field is wrong."
    example_bad = "groups:\n  - name: example\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n        for: 5m\n"
    example_good = "groups:\n  - name: example\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n"

    def check(self, target, project):
        data = target.data
        f = self.finding
        if target.groups_key_path == ("spec", "groups"):
            for k in data:
                if k not in K8S_KEYS:
                    yield f(target, f"field {k} not found in PrometheusRule", line=kl(data, k), hint="remove the field")
            data = data.get("spec") if isinstance(data.get("spec"), dict) else {}
            for k in data:
                if k != "groups":
                    yield f(target, f"field {k} not found in PrometheusRule spec", line=kl(data, k), hint="remove the field")
        else:
            for k in data:
                if k != "groups":
                    yield f(target, f"field {k} not found in type rulefmt.RuleGroups", line=kl(data, k),
                            hint="a rule file has only `groups:` at the top")
        groups = data.get("groups")
        if groups is None:
            return
        if not isinstance(groups, list):
            yield f(target, f"groups must be a list: cannot unmarshal {yaml_type(groups)} into []rulefmt.RuleGroup",
                    line=kl(data, "groups"), hint="write `groups:` as a list of `- name: ...`")
            return
        seen: dict[str, int] = {}
        for gi, g in enumerate(groups):
            if not isinstance(g, dict):
                yield f(target, f"group {gi + 1} is not a mapping", line=getattr(groups, "lines", [None] * (gi + 1))[gi])
                continue
        for group in target.groups:
            g = group.data
            for k in g:
                if k not in GROUP_KEYS:
                    yield f(target, f"field {k} not found in type rulefmt.RuleGroup", line=kl(g, k, group.line), name=group.name,
                            hint=f"rule groups have only {', '.join(sorted(GROUP_KEYS))}")
            if not group.name:
                yield f(target, "group name must not be empty", line=group.line, hint="give the group a `name:`")
            elif group.name in seen:
                yield f(target, f'groupname: "{group.name}" is repeated in the same file (first at line {seen[group.name]})',
                        line=kl(g, "name", group.line), name=group.name, hint="group names must be unique within a file")
            else:
                seen[group.name] = kl(g, "name", group.line)
            if "interval" in g and group.interval is None:
                yield f(target, f"invalid interval {g.get('interval')!r}", line=kl(g, "interval", group.line), name=group.name,
                        hint="use a Prometheus duration such as 30s, 1m or 1h30m")
            if "limit" in g and (not isinstance(g.get("limit"), int) or isinstance(g.get("limit"), bool)):
                yield f(target, "limit must be an integer", line=kl(g, "limit", group.line), name=group.name)
            rules = g.get("rules")
            if rules is not None and not isinstance(rules, list):
                yield f(target, f"rules must be a list: cannot unmarshal {yaml_type(rules)} into []rulefmt.RuleNode",
                        line=kl(g, "rules", group.line), name=group.name, hint="write `rules:` as a list of `- alert: ...`")
            elif rules:
                rlines = getattr(rules, "lines", None) or [group.line] * len(rules)
                for ri, r in enumerate(rules):
                    if not isinstance(r, dict):
                        yield f(target, f"rule {ri + 1} is not a mapping: cannot unmarshal {yaml_type(r)} into rulefmt.RuleNode",
                                line=rlines[ri], name=group.name, hint="a rule is a mapping with `alert:` or `record:` and `expr:`")
        for rule in target.rules:
            yield from self.rule(rule)

    def rule(self, rule):
        f = self.finding
        d = rule.data
        for k in d:
            if k not in RULE_KEYS:
                yield f(rule.target, f"field {k} not found in type rulefmt.RuleNode", rule=rule, line=rule.key_line(k),
                        hint=f"rules have only {', '.join(sorted(RULE_KEYS))}")
        if "record" in d and "alert" in d:
            yield f(rule.target, "only one of 'record' and 'alert' must be set", rule=rule,
                    hint="split it into a recording rule and an alerting rule")
        elif not rule.type:
            yield f(rule.target, "one of 'record' or 'alert' must be set", rule=rule, hint="add `alert: Name` or `record: level:metric:op`")
        expr = d.get("expr")
        if expr is None or (isinstance(expr, str) and not expr.strip()):
            yield f(rule.target, "field 'expr' must be set in rule", rule=rule, hint="add the PromQL expression as `expr:`")
        elif not isinstance(expr, (str, int, float)):
            yield f(rule.target, "expr must be a string", rule=rule, line=rule.key_line("expr"))
        if rule.type == "record":
            for k in ("for", "keep_firing_for", "annotations"):
                if k in d:
                    yield f(rule.target, f"invalid field '{k}' in recording rule", rule=rule, line=rule.key_line(k),
                            hint=f"remove `{k}` (only alerting rules have it)")
            if not METRIC_NAME.match(rule.name):
                yield f(rule.target, f"invalid recording rule name: {rule.name}", rule=rule,
                        hint="recording rule names are metric names: letters, digits, _ and :")
        elif rule.type == "alert" and not rule.name:
            yield f(rule.target, "alert name must not be empty", rule=rule)
        labels = d.get("labels")
        if labels is not None and not isinstance(labels, dict):
            yield f(rule.target, "labels must be a mapping", rule=rule, line=rule.key_line("labels"))
        elif labels:
            for k, v in labels.items():
                if not isinstance(k, str) or not LABEL_NAME.match(k) or k == "__name__":
                    yield f(rule.target, f"invalid label name: {k}", rule=rule, line=kl(labels, k, rule.line),
                            hint="label names are letters, digits and _, not starting with a digit, and not __name__")
                if isinstance(v, (dict, list)):
                    yield f(rule.target, f"label {k} must be a string", rule=rule, line=kl(labels, k, rule.line))
        ann = d.get("annotations")
        if ann is not None and not isinstance(ann, dict):
            yield f(rule.target, "annotations must be a mapping", rule=rule, line=rule.key_line("annotations"))
        elif ann:
            for k, v in ann.items():
                if not isinstance(k, str) or not LABEL_NAME.match(k):
                    yield f(rule.target, f"invalid annotation name: {k}", rule=rule, line=kl(ann, k, rule.line),
                            hint="annotation names follow the label name rules")
                if isinstance(v, (dict, list)):
                    yield f(rule.target, f"annotation {k} must be a string", rule=rule, line=kl(ann, k, rule.line))
