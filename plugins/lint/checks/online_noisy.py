"""`online/noisy`: Alerts that would have fired more than `lint.noisy_threshold` times (default 10) over `lint.noisy_days` (default 7)."""

from __future__ import annotations

import time

from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.checks._common import RULES


class NoisyAlerts(Check):
    id = "online/noisy"
    severity = "info"
    kinds = ("rules",)
    online = True
    summary = "Alerts that would have fired more than `lint.noisy_threshold` times (default 10) over `lint.noisy_days` (default 7)."
    why = "An alert that fires every day trains people to ignore it; the count comes from replaying its expression over past data."
    example_bad = RULES + "      - alert: AlwaysUp\n        expr: up > 0\n        for: 0s\n"
    example_good = RULES + "      - alert: NeverFires\n        expr: up > 100\n        for: 0s\n"
    example_context = {"__settings__": {"noisy_threshold": 0, "noisy_days": 0.01}}

    def check(self, target, project):
        online = project.online
        if online is None:
            return
        days = float(project.settings.get("noisy_days") or 7)
        threshold = int(project.settings.get("noisy_threshold") if project.settings.get("noisy_threshold") is not None else 10)
        end = time.time()
        start = end - days * 86400
        alerts = [r for r in target.alerts if r.facts]

        def replay(rule):
            step = max(project.evaluation_interval, (end - start) / 1000.0, 1.0)
            first = end - int((end - start) // step) * step  # so that `end` itself is evaluated
            try:
                result = online.query_range(rule.expr, first, end, step)
            except Exception:  # noqa: BLE001 - a query the server refuses is reported by online/series instead
                return rule, 0
            need = max(1, int((rule.for_seconds or 0) // step))
            fired = 0
            for series in result:
                times = [float(t) for t, _ in series.get("values") or []]
                run, prev = 0, None
                for ts in times:
                    run = run + 1 if prev is not None and abs(ts - prev - step) < step / 2 else 1
                    if run == need:
                        fired += 1
                    prev = ts
            return rule, fired

        for rule, fired in online.map(replay, alerts):
            if fired > threshold:
                yield self.finding(rule.target, f"would have fired {fired} times in the last {days:g} day(s)", rule=rule,
                                   hint="raise the threshold, lengthen `for`, or add a traffic guard")
