"""`rules/label`: Rules a `lint.policies` entry matches carry the labels and annotations it requires (pint's rule/label)."""

from __future__ import annotations

from aetherops_plugins.lint.checks._common import kl
from aetherops_plugins.lint.policies import PolicyCheck, example

_POLICY = {"name": "routing", "match": {"kind": "alerting"}, "require": {"labels": {"team": "[a-z-]+"},
                                                                        "annotations": {"runbook_url": "https://.+"}}}


class RequiredLabels(PolicyCheck):
    id = "rules/label"
    severity = "warning"
    summary = "Rules a `lint.policies` entry matches carry the labels and annotations it `require`s, with values matching its regexes."
    why = ("Team conventions live in routing trees and dashboards: an alert without `team` goes to the default receiver, "
           "a runbook link to the wrong wiki is no runbook. A policy states the convention once; pint calls this rule/label.")
    example_context, example_bad = example(_POLICY, "      - alert: Down\n        expr: up == 0\n        for: 5m\n        labels:\n"
                                                    "          severity: critical\n        annotations:\n"
                                                    "          runbook_url: https://runbooks.example.com/Down\n")
    example_good = example(_POLICY, "      - alert: Down\n        expr: up == 0\n        for: 5m\n        labels:\n"
                                    "          severity: critical\n          team: storage\n        annotations:\n"
                                    "          runbook_url: https://runbooks.example.com/Down\n")[1]

    def check_policy(self, policy, rule, project):
        for section, wanted in (("labels", policy.require_labels), ("annotations", policy.require_annotations)):
            if not wanted or (section == "annotations" and rule.type != "alert"):
                continue
            values = rule.data.get(section)
            values = values if isinstance(values, dict) else {}
            for key, rx in wanted:
                if key not in values:
                    yield self.finding(rule.target, f"policy {policy.name!r} requires {section[:-1]} {key!r}", rule=rule,
                                       hint=f"add {section}: {{{key}: ...}}" + (f" matching {rx.pattern}" if rx else ""))
                elif rx is not None and not rx.fullmatch(str(values[key])):
                    yield self.finding(rule.target, f"{section[:-1]} {key}={str(values[key])!r} does not match policy "
                                       f"{policy.name!r}: {rx.pattern}", rule=rule, line=kl(values, key, rule.line),
                                       hint=f"use a value matching {rx.pattern}")
