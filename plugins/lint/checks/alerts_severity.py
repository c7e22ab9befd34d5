"""`alerts/severity`: Alerts carry a `severity` label with one of the allowed values (profile `lint.allowed_severities`)."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import kl, rules_file


class Severity(RuleCheck):
    id = "alerts/severity"
    severity = "warning"
    rule_type = "alert"
    summary = "Alerts carry a `severity` label with one of the allowed values (profile `lint.allowed_severities`)."
    why = "Alertmanager routes on severity; an alert without one, or with a misspelt one, lands on the default receiver or nowhere."
    example_bad = rules_file("      - alert: Down\n        expr: up == 0\n        for: 5m\n        labels:\n          severity: urgent\n")
    example_good = rules_file("      - alert: Down\n        expr: up == 0\n        for: 5m\n        labels:\n          severity: critical\n")

    def check_rule(self, rule, project):
        allowed = [str(s) for s in (project.settings.get("allowed_severities") or ["critical", "warning", "info"])]
        value = rule.labels.get("severity")
        if value is None:
            yield self.finding(rule.target, "alert has no severity label", rule=rule,
                               hint=f"add labels: {{severity: {allowed[0]}}} (one of {', '.join(allowed)})")
        elif "{{" not in str(value) and str(value) not in allowed:
            yield self.finding(rule.target, f"severity {value!r} is not one of {', '.join(allowed)}", rule=rule,
                               line=kl(rule.labels, "severity", rule.line),
                               hint="use an allowed severity (profile lint.allowed_severities)")
