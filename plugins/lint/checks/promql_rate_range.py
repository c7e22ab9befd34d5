"""`promql/rate-range`: `rate`/`irate`/`increase` ranges are at least 4x the scrape interval."""

from __future__ import annotations

from functools import lru_cache

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import rules_file
from aetherops_plugins.lint.loader import format_duration


@lru_cache(maxsize=256)
def _rate_range_text(func: str, seconds: float, scrape: float) -> tuple[str, str]:
    return (f"{func}() over [{format_duration(seconds)}] is less than 4x the scrape interval ({format_duration(scrape)})",
            f"use at least [{format_duration(4 * scrape)}]")


class RateRange(RuleCheck):
    id = "promql/rate-range"
    severity = "warning"
    summary = "`rate`/`irate`/`increase` ranges are at least 4x the scrape interval."
    why = "With fewer than ~4 samples in the window, one missed scrape leaves rate() with nothing: the series vanishes and alerts flap."
    example_bad = rules_file("      - record: job:http_requests:rate1m\n        expr: sum by (job) (rate(http_requests_total[1m]))\n")
    example_good = rules_file("      - record: job:http_requests:rate5m\n        expr: sum by (job) (rate(http_requests_total[5m]))\n")

    def check_rule(self, rule, project):
        facts = rule.facts
        if not facts:
            return
        scrape = project.scrape_interval
        expr = None
        seen: dict = {}  # name -> where its last occurrence was found (selectors come in text order)
        for sel in facts.selectors:
            if sel.func in ("rate", "irate", "increase") and sel.range is not None and sel.range < 4 * scrape:
                if expr is None:
                    expr = rule.expr
                name = sel.name or ""
                k = expr.find(name, seen.get(name, -1) + 1) if name else -1
                if k == -1:
                    k = expr.find(name) if name else -1
                seen[name] = k
                line, col = rule.expr_position(k) if k != -1 else (rule.key_line("expr"), None)
                message, hint = _rate_range_text(sel.func, sel.range, scrape)
                yield self.finding(rule.target, message, rule=rule, line=line, column=col, hint=hint)
