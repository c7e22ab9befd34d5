"""`online/range-query` (pint: promql/range_query): Range selectors and subqueries fit in the server's retention (online)."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import pos_of, rules_file


class RangeBeyondRetention(RuleCheck):
    id = "online/range-query"
    severity = "warning"
    online = True
    summary = "Range selectors and subqueries fit in the server's retention (online: the server's storage retention)."
    why = ("`avg_over_time(x[30d])` on a server keeping 15 days averages 15 days, not 30: an SLO or capacity rule that "
           "reports something other than what its name says, with no error anywhere. (pint calls this check promql/range_query.)")
    example_bad = rules_file("      - record: job:up:avg30d\n        expr: avg_over_time(job:up:sum[30d])\n")
    example_good = rules_file("      - record: job:up:avg1d\n        expr: avg_over_time(job:up:sum[1d])\n")

    def check_rule(self, rule, project):
        from aetherops_plugins.lint.checks._pint import lookbacks_and_retention
        from aetherops_plugins.lint.loader import format_duration

        found = lookbacks_and_retention(rule, project, "[")
        if found is None:
            return
        looks, retention = found
        for offset, rng, text in looks:
            if rng and offset < retention < offset + rng:
                line, col = pos_of(rule, text.split(" ")[0].split(":")[0].rstrip("]") )
                yield self.finding(rule.target, f"{text} looks back {format_duration(offset + rng)}, beyond the server's "
                                   f"{format_duration(retention)} retention: only the last {format_duration(retention - offset)} "
                                   "are used", rule=rule, line=line, column=col,
                                   hint="shorten the range to the retention, or raise --storage.tsdb.retention.time")
                return
