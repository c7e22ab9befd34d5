"""`syntax/duration`: `for`, `keep_firing_for` and group `interval` are valid Prometheus durations."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.loader import parse_duration


class Durations(RuleCheck):
    id = "syntax/duration"
    severity = "error"
    summary = "`for`, `keep_firing_for` and group `interval` are valid Prometheus durations."
    why = "Prometheus durations have no fractions or spaces (`1.5m` or `5 m` are refused), and a typo stops the file loading."
    example_bad = "groups:\n  - name: example\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 1.5m\n"
    example_good = "groups:\n  - name: example\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 90s\n"

    def check_rule(self, rule, project):
        for k in ("for", "keep_firing_for"):
            if rule.data.get(k) is not None and parse_duration(rule.data.get(k)) is None:  # `for: null` = no `for`
                yield self.finding(rule.target, f"invalid duration in '{k}': {rule.data.get(k)!r}", rule=rule,
                                   line=rule.key_line(k), hint="use a duration such as 30s, 5m, 1h30m (no fractions, no spaces)")
