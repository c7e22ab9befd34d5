"""`alerts/traffic-guard`: Alerts that divide by a rate have a traffic guard (`and sum(rate(x[w])) > 0`)."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import pos_of, rules_file


class TrafficGuard(RuleCheck):
    id = "alerts/traffic-guard"
    severity = "warning"
    rule_type = "alert"
    summary = "Alerts that divide by a rate have a traffic guard (`and sum(rate(x[w])) > 0`)."
    why = ("An error ratio is NaN or wildly noisy when there is no traffic (cold start, night-time, a new deployment): "
           "with 1 request and 1 error the ratio is 100% and someone is paged.")
    example_bad = rules_file("      - alert: HighErrorRatio\n        expr: |\n          sum(rate(errors_total[5m])) / sum(rate(requests_total[5m])) > 0.05\n"
                         "        for: 10m\n")
    example_good = rules_file("      - alert: HighErrorRatio\n        expr: |\n          sum(rate(errors_total[5m])) / sum(rate(requests_total[5m])) > 0.05\n"
                          "          and sum(rate(requests_total[5m])) > 1\n        for: 10m\n")

    def check_rule(self, rule, project):
        facts = rule.facts
        if facts and facts.divides_by_rate and not facts.guarded:
            line, col = pos_of(rule, "/")
            yield self.finding(rule.target, "division by a rate without a traffic guard: the ratio fires on little or no traffic",
                               rule=rule, line=line, column=col, hint="append `and sum(rate(<denominator>[5m])) > <minimum rate>`")
