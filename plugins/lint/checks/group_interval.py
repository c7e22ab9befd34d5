"""`group/interval`: A rule group's `interval` is shorter than the 5m staleness lookback."""

from __future__ import annotations

from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.checks._common import rules_file


class GroupInterval(Check):
    id = "group/interval"
    severity = "warning"
    kinds = ("rules",)
    summary = "A rule group's `interval` is shorter than the 5m staleness lookback."
    why = ("A query sees a series only for 5 minutes after its last sample (the lookback delta). A group evaluated every 10m "
           "writes its recording rules' samples 10m apart, so for half of the time every query, dashboard and alert that uses "
           "them finds nothing; alerts of the group are also checked only that rarely.")
    example_bad = rules_file("      - record: job:requests:rate1h\n        expr: sum by (job) (rate(requests_total[1h]))\n").replace(
        "  - name: example\n", "  - name: example\n    interval: 10m\n")
    example_good = rules_file("      - record: job:requests:rate1h\n        expr: sum by (job) (rate(requests_total[1h]))\n").replace(
        "  - name: example\n", "  - name: example\n    interval: 2m\n")

    def check(self, target, project):
        from aetherops_plugins.lint.checks._common import kl
        from aetherops_plugins.lint.checks._pint import LOOKBACK_SECONDS
        from aetherops_plugins.lint.loader import format_duration

        for group in target.groups:
            interval = group.interval
            if not interval or interval <= LOOKBACK_SECONDS:
                continue
            kinds = "recorded series disappear" if any(r.type == "record" for r in group.rules) else "alerts are evaluated rarely"
            yield self.finding(target, f"group {group.name!r} runs every {format_duration(interval)}, longer than the 5m "
                               f"staleness lookback: its {kinds} between evaluations", line=kl(group.data, "interval", group.line),
                               name=group.name, group=group.name,
                               hint="use an interval of 5m or less (compute long windows with a longer range, e.g. rate(x[1h]), "
                                    "not a longer interval)")
