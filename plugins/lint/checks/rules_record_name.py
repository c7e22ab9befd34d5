"""`rules/record-name`: Recording rule names follow `level:metric:operations` (and `_total` is dropped under rate)."""

from __future__ import annotations

import re

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import rules_file
from aetherops_plugins.lint.loader import format_duration, parse_duration

_RECORD_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z_][a-zA-Z0-9_:]*:[a-zA-Z0-9_]+$")


_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_WINDOW_IN_NAME = re.compile(r"(?:^|_)(?:i?rate|increase)(\d+)([smhdwy])(?=_|$)")


class RecordName(RuleCheck):
    id = "rules/record-name"
    severity = "info"
    rule_type = "record"
    summary = ("Recording rule names follow `level:metric:operations` (and `_total` is dropped under rate); info by default, "
               "since compatibility and legacy names are common and intended.")
    why = ("The convention tells the reader what a series is (aggregation level, metric, operations) without opening the "
           "rule file, and keeps recorded series apart from scraped ones.")
    example_bad = rules_file("      - record: http_requests_rate\n        expr: sum by (job) (rate(http_requests_total[5m]))\n")
    example_good = rules_file("      - record: job:http_requests:rate5m\n        expr: sum by (job) (rate(http_requests_total[5m]))\n")

    def check_rule(self, rule, project):
        out: list = []
        name = rule.name
        if not name or not _METRIC_NAME.match(name):
            return out
        if not _RECORD_NAME.match(name):
            out.append(self.finding(rule.target, f"recording rule name {name!r} does not follow level:metric:operations", rule=rule,
                                    hint="e.g. job:http_requests:rate5m (level = the `by` labels, metric, then the operations, newest first)"))
            return out
        metric = name.split(":")[1]
        facts = rule.facts
        ops = name.split(":", 2)[2]
        named = {int(parse_duration(n + u)) for n, u in _WINDOW_IN_NAME.findall(ops)} if "ate" in ops or "increase" in ops else ()
        if facts and named:
            used = {int(s.range) for s in facts.selectors if s.func in ("rate", "irate", "increase") and s.range}
            if used and not used & named:
                out.append(self.finding(rule.target, f"{name!r} says {'/'.join(format_duration(x) for x in sorted(named))} but the expression "
                                        f"uses [{'/'.join(format_duration(x) for x in sorted(used))}]", rule=rule,
                                        hint="keep the window in the name and in the expression the same"))
        if facts and metric.endswith("_total") and any(c in ("rate", "irate", "increase") for c in facts.calls):
            out.append(self.finding(rule.target, f"{name!r}: drop `_total` from the metric part when recording a rate", rule=rule,
                                    hint=f"e.g. {name.replace(metric, metric[:-6])}"))
        return out
