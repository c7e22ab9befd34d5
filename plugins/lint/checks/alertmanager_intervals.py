"""`alertmanager/intervals`: `repeat_interval` is not shorter than `group_interval`."""

from __future__ import annotations

from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.checks._common import kl
from aetherops_plugins.lint.loader import parse_duration


class Intervals(Check):
    id = "alertmanager/intervals"
    severity = "warning"
    kinds = ("alertmanager",)
    summary = "`repeat_interval` is not shorter than `group_interval`."
    why = "Notifications are only sent at group_interval ticks: a shorter repeat_interval does nothing but mislead the reader."
    example_kind = "alertmanager"
    example_bad = "route:\n  receiver: default\n  group_interval: 5m\n  repeat_interval: 1m\nreceivers:\n  - name: default\n"
    example_good = "route:\n  receiver: default\n  group_interval: 5m\n  repeat_interval: 4h\nreceivers:\n  - name: default\n"

    def check(self, target, project):
        def walk(r, gi, ri):
            if not isinstance(r, dict):
                return
            gi = parse_duration(r.get("group_interval")) if "group_interval" in r else gi
            ri = parse_duration(r.get("repeat_interval")) if "repeat_interval" in r else ri
            if gi and ri and ri < gi and ("group_interval" in r or "repeat_interval" in r):
                yield self.finding(target, f"repeat_interval ({ri:g}s) is shorter than group_interval ({gi:g}s)",
                                   line=kl(r, "repeat_interval", getattr(r, "line", 1)), hint="make repeat_interval a multiple of group_interval")
            for c in r.get("routes") or []:
                yield from walk(c, gi, ri)

        yield from walk(target.data.get("route"), 300.0, 14400.0)
