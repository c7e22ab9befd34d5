"""`rules/reject`: Rules a `lint.policies` entry matches have none of the labels and annotations it `forbid`s (pint's rule/reject)."""

from __future__ import annotations

from aetherops_plugins.lint.checks._common import kl
from aetherops_plugins.lint.policies import PolicyCheck, example

_POLICY = {"name": "no per-instance alerts", "match": {"kind": "alerting"}, "forbid": {"labels": {"instance": None},
                                                                                      "annotations": {"summary": ".*\\$value.*"}}}


class RejectedLabels(PolicyCheck):
    id = "rules/reject"
    severity = "warning"
    summary = "Rules a `lint.policies` entry matches have none of the labels and annotations it `forbid`s (or none whose value matches its regex)."
    why = ("Some labels break a team's routing or dedupe (a static `instance`, a `severity: page` where only `critical` "
           "is routed), some annotation contents do not belong in pages. pint calls this rule/reject.")
    example_context, example_bad = example(_POLICY, "      - alert: Down\n        expr: up == 0\n        for: 5m\n        labels:\n"
                                                    "          instance: db-1\n")
    example_good = example(_POLICY, "      - alert: Down\n        expr: up{instance=\"db-1\"} == 0\n        for: 5m\n        labels:\n"
                                    "          severity: critical\n")[1]

    def check_policy(self, policy, rule, project):
        for section, banned in (("labels", policy.forbid_labels), ("annotations", policy.forbid_annotations)):
            values = rule.data.get(section)
            if not banned or not isinstance(values, dict):
                continue
            for key, rx in banned:
                if key in values and (rx is None or rx.fullmatch(str(values[key]))):
                    shown = f"{key}={str(values[key])!r}" if rx is not None else key
                    yield self.finding(rule.target, f"policy {policy.name!r} forbids {section[:-1]} {shown}"
                                       + (f" (matches {rx.pattern})" if rx is not None else ""), rule=rule,
                                       line=kl(values, key, rule.line), hint=f"remove {key} from {section}")
