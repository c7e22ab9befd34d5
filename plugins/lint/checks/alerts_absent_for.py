"""`alerts/absent-for`: Alerts on `absent()` have a `for`."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import rules_file


class AbsentFor(RuleCheck):
    id = "alerts/absent-for"
    severity = "warning"
    rule_type = "alert"
    summary = "Alerts on `absent()` have a `for`."
    why = "absent() is true during every restart, rule reload and scrape failure: without `for` it pages on each deploy."
    example_bad = rules_file("      - alert: ExporterMissing\n        expr: absent(up{job=\"node\"})\n")
    example_good = rules_file("      - alert: ExporterMissing\n        expr: absent(up{job=\"node\"})\n        for: 10m\n")

    def check_rule(self, rule, project):
        facts = rule.facts
        if facts and any(c in ("absent", "absent_over_time") for c in facts.calls) and not rule.for_seconds:
            yield self.finding(rule.target, "absent() alert without `for`: it fires on every restart and reload", rule=rule,
                               hint="add for: 10m (or more than a restart takes)")
