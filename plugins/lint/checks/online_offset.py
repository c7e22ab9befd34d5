"""`online/offset` (pint: promql/offset): No `offset` reaches past the server's retention (online)."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import pos_of, rules_file


class OffsetBeyondRetention(RuleCheck):
    id = "online/offset"
    severity = "warning"
    online = True
    summary = "No `offset` reaches past the server's retention (online: the server's storage retention)."
    why = ("`x offset 30d` on a server that keeps 15 days of data always returns nothing: a week-over-week comparison that "
           "is silently empty, an alert that can never fire. (pint calls this check promql/offset.)")
    example_bad = rules_file("      - record: job:up:sum_30d_ago\n        expr: sum by (job) (up offset 30d)\n")
    example_good = rules_file("      - record: job:up:sum_1d_ago\n        expr: sum by (job) (up offset 1d)\n")

    def check_rule(self, rule, project):
        from aetherops_plugins.lint.checks._pint import lookbacks_and_retention
        from aetherops_plugins.lint.loader import format_duration

        found = lookbacks_and_retention(rule, project, "offset")
        if found is None:
            return
        looks, retention = found
        for offset, _range, text in looks:
            if offset >= retention:
                line, col = pos_of(rule, "offset")
                yield self.finding(rule.target, f"{text} reaches past the server's {format_duration(retention)} retention: "
                                   "it never returns data", rule=rule, line=line, column=col,
                                   hint="use an offset within the retention, or query long-term storage for older data")
                return
