"""Syntax checks: what promtool 2.42 and amtool 0.25 reject, with positions."""

from __future__ import annotations

import re

from aetherops_plugins.lint.api import Check, Finding, RuleCheck
from aetherops_plugins.lint.loader import parse_duration
from aetherops_plugins.lint.yamlpos import YMap

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
GROUP_KEYS = {"name", "interval", "limit", "rules"}
RULE_KEYS = {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
K8S_KEYS = {"apiVersion", "kind", "metadata", "spec"}


class FileSyntax(Check):
    id = "syntax/file"
    severity = "error"
    kinds = ("project",)
    summary = "The file is valid YAML (or JSON for dashboards) and its top level is a mapping."
    why = "Prometheus, Alertmanager and Grafana refuse a file that does not parse; nothing else in it can be checked."
    example_bad = "groups:\n  - name: example\n    rules:\n      - alert: Down\n        expr: up == 0\n       for: 5m\n"
    example_good = "groups:\n  - name: example\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 5m\n"

    def check(self, target, project):
        hints = {"empty": "add content, or stop naming the file", "encoding": "lint reads UTF-8 text files only"}
        for display, line, col, message, kind in getattr(project, "load_errors", ()):
            yield Finding(check=self.id, severity="warning" if kind == "empty" else self.severity, file=display, line=line,
                          column=col, message=message,
                          hint=hints.get(kind, "fix the syntax at this position (indentation, quotes, brackets)"))
        for t in project.targets:
            if t.kind == "dashboard":
                continue
            stack = [t.data]
            while stack:
                n = stack.pop()
                if isinstance(n, dict):
                    for key, line in getattr(n, "dups", ()):
                        yield Finding(check=self.id, severity=self.severity, file=t.display, line=line, column=None,
                                      message=f'mapping key "{key}" already defined', hint="remove or rename the repeated key")
                    stack.extend(v for v in n.values() if isinstance(v, (dict, list)))
                elif isinstance(n, list):
                    stack.extend(v for v in n if isinstance(v, (dict, list)))


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
                    yield f(target, f"field {k} not found in PrometheusRule", line=_kl(data, k), hint="remove the field")
            data = data.get("spec") if isinstance(data.get("spec"), dict) else {}
            for k in data:
                if k != "groups":
                    yield f(target, f"field {k} not found in PrometheusRule spec", line=_kl(data, k), hint="remove the field")
        else:
            for k in data:
                if k != "groups":
                    yield f(target, f"field {k} not found in type rulefmt.RuleGroups", line=_kl(data, k),
                            hint="a rule file has only `groups:` at the top")
        groups = data.get("groups")
        if groups is None:
            return
        if not isinstance(groups, list):
            yield f(target, f"groups must be a list: cannot unmarshal {_yaml_type(groups)} into []rulefmt.RuleGroup",
                    line=_kl(data, "groups"), hint="write `groups:` as a list of `- name: ...`")
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
                    yield f(target, f"field {k} not found in type rulefmt.RuleGroup", line=_kl(g, k, group.line), name=group.name,
                            hint=f"rule groups have only {', '.join(sorted(GROUP_KEYS))}")
            if not group.name:
                yield f(target, "group name must not be empty", line=group.line, hint="give the group a `name:`")
            elif group.name in seen:
                yield f(target, f'groupname: "{group.name}" is repeated in the same file (first at line {seen[group.name]})',
                        line=_kl(g, "name", group.line), name=group.name, hint="group names must be unique within a file")
            else:
                seen[group.name] = _kl(g, "name", group.line)
            if "interval" in g and group.interval is None:
                yield f(target, f"invalid interval {g.get('interval')!r}", line=_kl(g, "interval", group.line), name=group.name,
                        hint="use a Prometheus duration such as 30s, 1m or 1h30m")
            if "limit" in g and (not isinstance(g.get("limit"), int) or isinstance(g.get("limit"), bool)):
                yield f(target, "limit must be an integer", line=_kl(g, "limit", group.line), name=group.name)
            rules = g.get("rules")
            if rules is not None and not isinstance(rules, list):
                yield f(target, f"rules must be a list: cannot unmarshal {_yaml_type(rules)} into []rulefmt.RuleNode",
                        line=_kl(g, "rules", group.line), name=group.name, hint="write `rules:` as a list of `- alert: ...`")
            elif rules:
                rlines = getattr(rules, "lines", None) or [group.line] * len(rules)
                for ri, r in enumerate(rules):
                    if not isinstance(r, dict):
                        yield f(target, f"rule {ri + 1} is not a mapping: cannot unmarshal {_yaml_type(r)} into rulefmt.RuleNode",
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
                    yield f(rule.target, f"invalid label name: {k}", rule=rule, line=_kl(labels, k, rule.line),
                            hint="label names are letters, digits and _, not starting with a digit, and not __name__")
                if isinstance(v, (dict, list)):
                    yield f(rule.target, f"label {k} must be a string", rule=rule, line=_kl(labels, k, rule.line))
        ann = d.get("annotations")
        if ann is not None and not isinstance(ann, dict):
            yield f(rule.target, "annotations must be a mapping", rule=rule, line=rule.key_line("annotations"))
        elif ann:
            for k, v in ann.items():
                if not isinstance(k, str) or not LABEL_NAME.match(k):
                    yield f(rule.target, f"invalid annotation name: {k}", rule=rule, line=_kl(ann, k, rule.line),
                            hint="annotation names follow the label name rules")
                if isinstance(v, (dict, list)):
                    yield f(rule.target, f"annotation {k} must be a string", rule=rule, line=_kl(ann, k, rule.line))


def _yaml_type(value) -> str:
    """How promtool names a YAML value's type in its unmarshal errors (never a Python class name)."""
    if isinstance(value, dict):
        return "!!map"
    if isinstance(value, list):
        return "!!seq"
    if isinstance(value, bool):
        return f"!!bool `{str(value).lower()}`"
    if isinstance(value, int):
        return f"!!int `{value}`"
    if isinstance(value, float):
        return f"!!float `{value}`"
    if value is None:
        return "!!null"
    return f"!!str `{value}`"


def _kl(data, key, default=None):
    if isinstance(data, YMap):
        return data.key_line(key, default)
    return default


class Durations(RuleCheck):
    id = "syntax/duration"
    severity = "error"
    summary = "`for`, `keep_firing_for` and group `interval` are valid Prometheus durations."
    why = "Prometheus durations have no fractions or spaces (`1.5m` or `5 m` are refused), and a typo stops the file loading."
    example_bad = "groups:\n  - name: example\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 1.5m\n"
    example_good = "groups:\n  - name: example\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 90s\n"

    def check_rule(self, rule, project):
        for k in ("for", "keep_firing_for"):
            if rule.data.get(k) is not None and parse_duration(rule.data.get(k)) is None:  # `for: null` = no `for`
                yield self.finding(rule.target, f"invalid duration in '{k}': {rule.data.get(k)!r}", rule=rule,
                                   line=rule.key_line(k), hint="use a duration such as 30s, 5m, 1h30m (no fractions, no spaces)")


class PromQLSyntax(RuleCheck):
    id = "syntax/promql"
    severity = "error"
    summary = "Every `expr` parses as PromQL (reported at the position of the error inside the expression)."
    why = "A rule whose expression does not parse stops the whole file loading; promtool reports only the rule."
    example_bad = "groups:\n  - name: example\n    rules:\n      - alert: HighErrors\n        expr: sum(rate(errors_total[5m]) > 1\n        for: 5m\n"
    example_good = "groups:\n  - name: example\n    rules:\n      - alert: HighErrors\n        expr: sum(rate(errors_total[5m])) > 1\n        for: 5m\n"

    def check_rule(self, rule, project):
        from aetherops_plugins.lint.promql import PromQLError, TooComplex, analyze

        expr = rule.data.get("expr")
        if not isinstance(expr, str) or not expr.strip():
            return
        try:
            facts = analyze(expr)
        except TooComplex as exc:  # an error, not a warning: an expression nobody can check must not pass
            line, col = rule.expr_position(exc.offset)
            yield self.finding(rule.target, exc.message, rule=rule, line=line, column=col,
                               hint="split the expression (e.g. into recording rules) so it can be checked")
            return
        except PromQLError as exc:
            line, col = rule.expr_position(exc.offset)
            yield self.finding(rule.target, f"could not parse expression: {exc.message}", rule=rule, line=line, column=col,
                               hint="fix the PromQL at this position (check with `promtool check rules`)")
            return
        from aetherops_plugins.lint.promql import AGGREGATIONS_2_42, FUNCTIONS_2_42, PROMETHEUS_VERSION, quoted_label_names

        unknown = [fn for fn in facts.calls if fn not in FUNCTIONS_2_42] + [a for a in facts.aggs if a not in AGGREGATIONS_2_42]
        for fn in dict.fromkeys(unknown):
            m = re.search(rf"\b{re.escape(fn)}\s*[(b]", expr)
            line, col = rule.expr_position(m.start() if m else 0)
            yield self.finding(rule.target, f'unknown function with name "{fn}" in Prometheus {PROMETHEUS_VERSION}', rule=rule,
                               line=line, column=col,
                               hint=f"{fn} exists only in Prometheus releases newer than {PROMETHEUS_VERSION}: use a function "
                                    f"{PROMETHEUS_VERSION} has, or upgrade every Prometheus that loads this file")
        for k in quoted_label_names(expr)[:1]:
            line, col = rule.expr_position(k)
            yield self.finding(rule.target, f"quoted label names are not valid PromQL in Prometheus {PROMETHEUS_VERSION}",
                               rule=rule, line=line, column=col,
                               hint='write label names and metric names unquoted (up{job="a"}); quoted names need '
                                    "Prometheus 3.0 or newer")


class Templates(RuleCheck):
    id = "syntax/template"
    severity = "error"
    rule_type = "alert"  # recording rule labels are not templates
    summary = "Label and annotation templates parse (Go text/template) and use only defined variables and functions."
    why = "Prometheus refuses rules whose templates do not parse; a typo such as `$label` stops the file loading."
    example_bad = ("groups:\n  - name: example\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 5m\n"
                   "        annotations:\n          summary: '{{ $label.instance }} is down'\n")
    example_good = ("groups:\n  - name: example\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 5m\n"
                    "        annotations:\n          summary: '{{ $labels.instance }} is down'\n")

    def check_rule(self, rule, project):
        from aetherops_plugins.lint.templates import check_template

        for section in ("labels", "annotations"):
            values = rule.data.get(section)
            if not isinstance(values, dict):
                continue
            for k, v in values.items():
                if not isinstance(v, str) or ("{{" not in v and "}}" not in v):
                    continue
                err = check_template(v)
                if err:
                    yield self.finding(rule.target, f'{section[:-1]} "{k}": template: {err}', rule=rule,
                                       line=_kl(values, k, rule.line),
                                       hint="variables are $labels, $value, $externalLabels, $externalURL; functions as in the Prometheus template reference")
