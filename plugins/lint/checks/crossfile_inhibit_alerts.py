"""`crossfile/inhibit-alerts`: Inhibit rules name alerts that exist in the rule files linted alongside, and `equal` labels those alerts carry."""

from __future__ import annotations

import re

from aetherops_plugins.lint.amconfig import parse_matcher
from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.checks._common import RULES, carries, kl


def _alertname_matchers(ir, side: str) -> list[tuple[str, str]]:
    """(op, value) matchers on alertname for one side of an inhibit rule."""

    out = []
    m = ir.get(f"{side}_match")
    if isinstance(m, dict) and "alertname" in m:
        out.append(("=", str(m["alertname"])))
    m = ir.get(f"{side}_match_re")
    if isinstance(m, dict) and "alertname" in m:
        out.append(("=~", str(m["alertname"])))
    for text in ir.get(f"{side}_matchers") or []:
        p = parse_matcher(text)
        if p and p[0] == "alertname" and p[1] in ("=", "=~"):
            out.append((p[1], p[2]))
    return out


def _matching_alerts(project, op, value):

    if op == "=":
        return [a for a in project.alerts if a.name == value]
    try:
        rx = re.compile(f"^(?:{value})$")
    except re.error:
        return []
    return [a for a in project.alerts if rx.match(a.name)]


class InhibitAlerts(Check):
    id = "crossfile/inhibit-alerts"
    severity = "warning"
    kinds = ("project",)
    summary = "Inhibit rules name alerts that exist in the rule files linted alongside, and `equal` labels those alerts carry."
    why = ("amtool accepts an inhibit rule naming an alert that was renamed or deleted: the inhibition silently stops working "
           "and the pager gets the storm it was meant to prevent. The same happens when `equal` names a label one side drops.")
    example_kind = "alertmanager"
    example_bad = ("route:\n  receiver: default\nreceivers:\n  - name: default\ninhibit_rules:\n  - source_matchers: ['alertname=\"NodeDown\"']\n"
                   "    target_matchers: ['alertname=\"HighLatency\"']\n    equal: [instance]\n")
    example_good = ("route:\n  receiver: default\nreceivers:\n  - name: default\ninhibit_rules:\n  - source_matchers: ['alertname=\"InstanceDown\"']\n"
                    "    target_matchers: ['alertname=\"HighLatency\"']\n    equal: [instance]\n")
    example_context = {"rules.yml": RULES + "      - alert: InstanceDown\n        expr: up == 0\n        for: 5m\n"
                       "      - alert: HighLatency\n        expr: histogram_quantile(0.99, sum by (le, instance) (rate(latency_seconds_bucket[5m]))) > 1\n"
                       "        for: 10m\n"}

    def check(self, target, project):
        if not project.alerts:
            return
        for am in project.of_kind("alertmanager"):
            irs = am.data.get("inhibit_rules") or []
            lines = getattr(irs, "lines", [])
            for i, ir in enumerate(irs):
                if not isinstance(ir, dict):
                    continue
                line = lines[i] if i < len(lines) else None
                matched = {}
                for side in ("source", "target"):
                    alerts = []
                    for op, value in _alertname_matchers(ir, side):
                        found = _matching_alerts(project, op, value)
                        if not found:
                            yield self.finding(am, f"inhibit rule {side} alertname{op}{value!r} matches no alert in the linted rule files",
                                               line=kl(ir, f"{side}_matchers", None) or kl(ir, f"{side}_match", None) or line,
                                               name=value, hint="fix the alert name, or delete the inhibit rule")
                        alerts.extend(found)
                    matched[side] = alerts
                for label in ir.get("equal") or []:
                    for side in ("source", "target"):
                        lacking = [a.name for a in matched[side] if not carries(a, str(label), project)]
                        if lacking:
                            yield self.finding(am, f"inhibit rule equal label {label!r} is not carried by {side} alert "
                                               f"{', '.join(sorted(set(lacking)))}", line=kl(ir, "equal", line), name=str(label),
                                               hint=f"keep {label!r} in the alert's aggregation, or drop it from equal")
