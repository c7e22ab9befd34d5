"""`alerts/volatile-labels`: Alert labels do not use `$value` (or anything that changes on every evaluation)."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import kl, rules_file


class VolatileLabels(RuleCheck):
    id = "alerts/volatile-labels"
    severity = "error"
    rule_type = "alert"
    summary = "Alert labels do not use `$value` (or anything that changes on every evaluation)."
    why = "Labels identify an alert: a label that changes each evaluation makes a new alert every time, resolving the old one."
    example_bad = rules_file("      - alert: HighLoad\n        expr: node_load1 > 10\n        for: 5m\n        labels:\n"
                         "          load: '{{ $value }}'\n")
    example_good = rules_file("      - alert: HighLoad\n        expr: node_load1 > 10\n        for: 5m\n        annotations:\n"
                          "          description: 'load is {{ $value }}'\n")

    def check_rule(self, rule, project):
        from aetherops_plugins.lint.templates import uses_value

        labels = rule.data.get("labels")
        if not isinstance(labels, dict):
            return
        for k, v in labels.items():
            if isinstance(v, str) and uses_value(v):
                yield self.finding(rule.target, f"label {k!r} uses $value: it changes on every evaluation", rule=rule,
                                   line=kl(labels, k, rule.line), hint="move it to an annotation")
