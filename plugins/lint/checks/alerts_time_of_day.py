"""`alerts/time-of-day`: No business-hours guards built on `hour()`, `day_of_week()` or `time()` arithmetic."""

from __future__ import annotations

import re

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import pos_of, rules_file

#: time() turned into a time of day or week: `% 86400`, `/ 3600 % 24`, `% 604800` (an age `/ 3600` is fine)
_TIME_ARITH = re.compile(r"%\s*\(?\s*(?:86400|43200|604800|3600|24|7|168)\b")


class TimeOfDay(RuleCheck):
    id = "alerts/time-of-day"
    severity = "warning"
    summary = "No business-hours guards built on `hour()`, `day_of_week()` or `time()` arithmetic."
    why = ("PromQL time functions are in UTC: an `hour() >= 9 < 17` guard is off by the time-zone offset, and shifts by an "
           "hour twice a year with daylight saving. Use Alertmanager time intervals (time_intervals/mute_time_intervals with a location).")
    example_bad = rules_file("      - alert: QueueStuck\n        expr: queue_depth > 100 and on() hour() >= 9 < 17\n        for: 15m\n")
    example_good = rules_file("      - alert: QueueStuck\n        expr: queue_depth > 100\n        for: 15m\n        labels:\n"
                          "          business_hours: \"true\"\n")

    def check_rule(self, rule, project):
        from aetherops_plugins.lint.promql import TIME_FUNCS

        facts = rule.facts
        if not facts:
            return
        used = [c for c in facts.calls if c in TIME_FUNCS]
        if not used and "time" in facts.calls and _TIME_ARITH.search(rule.expr):
            used = ["time() %"]  # vector(time()) % 86400 > 32400, time() / 3600 % 24...
        if used:
            line, col = pos_of(rule, "time(" if used[0] == "time() %" else used[0])
            yield self.finding(rule.target, f"time-of-day guard with {used[0]}(): PromQL time is UTC, so the window is off by the "
                               "time-zone offset and moves with daylight saving", rule=rule, line=line, column=col,
                               hint="route on time in Alertmanager: time_intervals with a `location:` and mute_time_intervals/active_time_intervals")
