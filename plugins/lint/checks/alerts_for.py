"""`alerts/for`: Alerts have a `for` of at least the group's evaluation interval."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import rules_file
from aetherops_plugins.lint.loader import format_duration


class AlertFor(RuleCheck):
    id = "alerts/for"
    severity = "warning"
    rule_type = "alert"
    summary = "Alerts have a `for` of at least the group's evaluation interval."
    why = ("Without `for`, one bad scrape or a restart (cold start: counters reset, rates spike) pages someone; a `for` "
           "shorter than the evaluation interval has no effect.")
    example_bad = rules_file("      - alert: HighLatency\n        expr: job:latency_seconds:p99 > 1\n")
    example_good = rules_file("      - alert: HighLatency\n        expr: job:latency_seconds:p99 > 1\n        for: 10m\n")

    def check_rule(self, rule, project):
        if rule.facts and any(c in ("absent", "absent_over_time") for c in rule.facts.calls):
            return  # alerts/absent-for reports those
        interval = rule.group.interval or project.evaluation_interval
        if rule.data.get("for") is None:  # absent, or `for: null` (promtool accepts it as no `for`)
            yield self.finding(rule.target, "alert has no `for`: it fires on the first evaluation (one bad scrape, a restart)",
                               rule=rule, hint=f"add `for:` of a few evaluation intervals, e.g. for: {format_duration(max(interval * 5, 300))}")
            return
        d = rule.for_seconds
        if d is not None and 0 < d < interval:
            yield self.finding(rule.target, f"`for: {rule.data.get('for')}` is shorter than the evaluation interval "
                               f"({format_duration(interval)}), so it has no effect", rule=rule, line=rule.key_line("for"),
                               hint=f"use at least for: {format_duration(interval)}")
        elif d == 0:
            yield self.finding(rule.target, "`for: 0` fires on the first evaluation", rule=rule, line=rule.key_line("for"),
                               hint="use a `for` of a few evaluation intervals")
