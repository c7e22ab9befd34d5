"""`promql/regex-literal`: Regex matchers (`=~`, `!~`) contain a regex; plain strings use `=` and `!=`."""

from __future__ import annotations

import re

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import pos_of, rules_file

_REGEX_META = re.compile(r"[.*+?()\[\]{}|^$\\]")


class RegexLiteral(RuleCheck):
    id = "promql/regex-literal"
    severity = "info"
    summary = "Regex matchers (`=~`, `!~`) contain a regex; plain strings use `=` and `!=`."
    why = "`job=~\"api\"` is an (anchored) equality written as a regex: slower, and it suggests a pattern that is not there."
    example_bad = rules_file("      - record: job:up:sum\n        expr: sum by (job) (up{job=~\"api\"})\n")
    example_good = rules_file("      - record: job:up:sum\n        expr: sum by (job) (up{job=\"api\"})\n")

    def check_rule(self, rule, project):
        facts = rule.facts
        if not facts:
            return
        for sel in facts.selectors:
            for label, op, value in sel.matchers:
                if op in ("=~", "!~") and value and not _REGEX_META.search(value):
                    line, col = pos_of(rule, f"{label}{op}")
                    plain = "=" if op == "=~" else "!="
                    yield self.finding(rule.target, f'{label}{op}"{value}" is a plain string', rule=rule, line=line, column=col,
                                       hint=f'use {label}{plain}"{value}"')
