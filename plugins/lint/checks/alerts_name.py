"""`alerts/name`: Alert names are CamelCase and at most 40 characters (the mixin convention kube-prometheus lints for)."""

from __future__ import annotations

import re

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import rules_file

_CAMEL = re.compile(r"^[A-Z][A-Za-z0-9]*$")


class AlertName(RuleCheck):
    id = "alerts/name"
    severity = "info"
    rule_type = "alert"
    summary = "Alert names are CamelCase and at most 40 characters (the mixin convention kube-prometheus lints for)."
    why = "Alert names are read in pages, silences and inhibit rules: one convention makes them searchable and easy to match."
    example_bad = rules_file("      - alert: high_error_rate_on_the_public_api_gateway_pods\n        expr: job:errors:ratio_rate5m > 0.05\n        for: 5m\n")
    example_good = rules_file("      - alert: ApiGatewayHighErrorRate\n        expr: job:errors:ratio_rate5m > 0.05\n        for: 5m\n")

    def check_rule(self, rule, project):
        name = rule.name
        if not name:
            return
        problems = []
        if not _CAMEL.match(name):
            problems.append("is not CamelCase")
        if len(name) > 40:
            problems.append(f"is {len(name)} characters long (max 40)")
        if problems:
            yield self.finding(rule.target, f"alert name {name!r} " + " and ".join(problems), rule=rule,
                               hint="e.g. " + "".join(w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", name) if w)[:40])
