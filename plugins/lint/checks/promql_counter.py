"""`promql/counter`: `rate`/`increase` only on counters, and counters (`_total`) only through `rate`/`increase`."""

from __future__ import annotations

import re

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import pos_of, rules_file

_GAUGE_SUFFIX = re.compile(r"(_bytes|_ratio|_percent|_temperature_celsius|_celsius|_info|_up|_size|_gauge|_in_progress|_inflight|_last_seen|_timestamp_seconds|_free|_available|_limit|_used)$")


_COUNTER_SUFFIX = ("_total", "_count", "_sum", "_bucket")


class CounterGauge(RuleCheck):
    id = "promql/counter"
    severity = "warning"
    summary = "`rate`/`increase` only on counters, and counters (`_total`) only through `rate`/`increase`."
    why = ("rate() of a gauge is meaningless (it treats every drop as a counter reset); max_over_time() or a raw comparison of a "
           "`_total` counter measures uptime, not traffic, and jumps at every restart.")
    example_bad = rules_file("      - alert: MemoryGrowing\n        expr: rate(process_resident_memory_bytes[5m]) > 0\n        for: 10m\n")
    example_good = rules_file("      - alert: MemoryGrowing\n        expr: deriv(process_resident_memory_bytes[5m]) > 0\n        for: 10m\n")

    def check_rule(self, rule, project):
        facts = rule.facts
        if not facts:
            return
        recorded = project.recorded
        for sel in facts.selectors:
            name = sel.name or ""
            if not name or name in recorded or ":" in name:
                continue
            if sel.func in ("rate", "irate", "increase") and _GAUGE_SUFFIX.search(name) and not name.endswith(_COUNTER_SUFFIX):
                line, col = pos_of(rule, name)
                yield self.finding(rule.target, f"{sel.func}() on {name!r}, which looks like a gauge", rule=rule, line=line, column=col,
                                   hint="use deriv() or delta() for gauges; rate() is for counters (_total)")
            elif name.endswith("_total") and sel.range is not None and sel.func not in ("rate", "irate", "increase", "resets",
                                                                                        "absent_over_time", "present_over_time",
                                                                                        "count_over_time", "changes", "timestamp",
                                                                                        "last_over_time"):
                line, col = pos_of(rule, name)
                yield self.finding(rule.target, f"range vector over the counter {name!r} without rate()/increase()"
                                   + (f" (in {sel.func}())" if sel.func else ""), rule=rule, line=line, column=col,
                                   hint=f"wrap it: rate({name}[...]) or increase({name}[...])")
