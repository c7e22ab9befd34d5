"""`promql/regexp`: Regex matchers do not add the anchors Prometheus adds anyway, and do not use a regex where `=`/`!=` does."""

from __future__ import annotations

import re

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import pos_of, rules_file

#: a regex that is a literal string once its escapes are undone (and has some)
_ESCAPED_LITERAL = re.compile(r"(?:[^.*+?()\[\]{}|^$\\]|\\[.*+?()\[\]{}|^$\\/-])*\\[.*+?()\[\]{}|^$\\/-](?:[^.*+?()\[\]{}|^$\\]|\\[.*+?()\[\]{}|^$\\/-])*")
_META = re.compile(r"[.*+?()\[\]{}|^$\\]")
_GROUP_LITERAL = re.compile(r"\(([^.*+?()\[\]{}|^$\\]+)\)")


class Regexp(RuleCheck):
    id = "promql/regexp"
    severity = "info"
    summary = "Regex matchers do not add the anchors Prometheus adds anyway, and do not use a regex where `=`/`!=` does."
    why = ("Prometheus anchors every label regex at both ends: `job=~\"^api\"` is `^(?:^api)$` and matches only `api`, not "
           "`api-v2` as a reader expects (for a prefix write `api.*`). `=~\".*\"` matches every value, an absent label too, so "
           "the matcher does nothing. `=~\"foo\\\\.bar\"` or `=~\"(foo)\"` are equality written as a regex: slower and harder to read.")
    example_bad = rules_file("      - record: job:up:sum\n        expr: sum by (job) (up{job=~\"^api$\"})\n")
    example_good = rules_file("      - record: job:up:sum\n        expr: sum by (job) (up{job=\"api\"})\n")

    def check_rule(self, rule, project):
        facts = rule.facts
        if not facts:
            return
        seen = set()
        for sel in facts.selectors:
            for label, op, value in sel.matchers:
                if op not in ("=~", "!~") or (label, op, value) in seen:
                    continue
                seen.add((label, op, value))
                problem = _problem(label, op, value)
                if problem:
                    msg, hint = problem
                    line, col = pos_of(rule, f"{label}{op}")
                    yield self.finding(rule.target, msg, rule=rule, line=line, column=col, hint=hint)


def _problem(label: str, op: str, value: str):
    plain = "=" if op == "=~" else "!="
    shown = f'{label}{op}"{value}"'
    if value in (".*", "^.*$", "(.*)"):
        what = "matches every value, an absent label too: the matcher does nothing" if op == "=~" else \
            "matches no series at all"
        return f"{shown} {what}", f"remove the matcher{'' if op == '=~' else ' (or the rule)'}"
    if value == ".+":
        return f"{shown} is the same as {label}{'!=' if op == '=~' else '='}\"\"", \
            f"write {label}{'!=' if op == '=~' else '='}\"\""
    starts, ends = value.startswith("^"), value.endswith("$") and not value.endswith("\\$")
    if starts or ends:
        inner = value[1 if starts else 0:len(value) - 1 if ends else len(value)]
        if starts and not ends and not _META.search(inner):
            return (f"{shown}: Prometheus anchors regexes at both ends, so this matches only \"{inner}\", not values "
                    f"starting with it", f'for a prefix write {label}{op}"{inner}.*"; for the exact value {label}{plain}"{inner}"')
        return f"{shown}: the anchors are redundant (Prometheus anchors every label regex)", f'write {label}{op}"{inner}"'
    if _ESCAPED_LITERAL.fullmatch(value):
        literal = re.sub(r"\\(.)", r"\1", value)
        return f"{shown} is a plain string written as a regex", f'write {label}{plain}"{literal}"'
    m = _GROUP_LITERAL.fullmatch(value)
    if m:
        return f"{shown} is a plain string written as a regex", f'write {label}{plain}"{m.group(1)}"'
    return None
