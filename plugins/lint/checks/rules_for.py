"""`rules/for`: Alerts a `lint.policies` entry matches have a `for` within its `min`/`max` (pint's rule/for)."""

from __future__ import annotations

from aetherops_plugins.lint.policies import PolicyCheck, example

_POLICY = {"name": "paging delay", "match": {"kind": "alerting", "label": {"severity": "critical"}}, "for": {"min": "5m", "max": "1h"}}


class ForBounds(PolicyCheck):
    id = "rules/for"
    severity = "warning"
    summary = "Alerts a `lint.policies` entry matches have a `for` between its `for.min` and `for.max` (no `for` counts as 0s)."
    why = ("A paging alert with `for: 0s` wakes someone for a single bad scrape; one with `for: 6h` pages after the damage is "
           "done. A policy states the team's bounds per severity; pint calls this rule/for.")
    example_context, example_bad = example(_POLICY, "      - alert: Down\n        expr: up == 0\n        for: 1m\n        labels:\n"
                                                    "          severity: critical\n")
    example_good = example(_POLICY, "      - alert: Down\n        expr: up == 0\n        for: 5m\n        labels:\n"
                                    "          severity: critical\n")[1]

    def check_policy(self, policy, rule, project):
        from aetherops_plugins.lint.loader import format_duration

        if rule.type != "alert" or (policy.for_min is None and policy.for_max is None):
            return
        seconds = rule.for_seconds or 0.0
        line = rule.key_line("for") if "for" in rule.data else rule.line
        shown = format_duration(seconds) if seconds else "0s (no for)"
        if policy.for_min is not None and seconds < policy.for_min:
            yield self.finding(rule.target, f"for: {shown} is shorter than policy {policy.name!r} allows "
                               f"({format_duration(policy.for_min)})", rule=rule, line=line,
                               hint=f"set for: {format_duration(policy.for_min)} or longer")
        if policy.for_max is not None and seconds > policy.for_max:
            yield self.finding(rule.target, f"for: {shown} is longer than policy {policy.name!r} allows "
                               f"({format_duration(policy.for_max)})", rule=rule, line=line,
                               hint=f"set for: {format_duration(policy.for_max)} or shorter")
