"""`promql/rate-range`: `rate`/`irate`/`increase` windows cover at least 4 scrape intervals (one finding per rule)."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import rules_file
from aetherops_plugins.lint.loader import format_duration

_RATES = frozenset({"rate", "irate", "increase"})
UNKNOWN = ("promql/rate-range: no scrape interval known (no prometheus.yml linted alongside, no lint.scrape_interval in the "
           "profile), so rate() windows were not checked")


class RateRange(RuleCheck):
    id = "promql/rate-range"
    severity = "warning"
    summary = ("`rate`/`irate`/`increase` ranges are at least 4x the scrape interval (from the linted prometheus.yml or "
               "`lint.scrape_interval`; without either the check says so once and skips).")
    why = "With fewer than ~4 samples in the window, one missed scrape leaves rate() with nothing: the series vanishes and alerts flap."
    example_bad = rules_file("      - record: job:http_requests:rate1m\n        expr: sum by (job) (rate(http_requests_total[1m]))\n")
    example_good = rules_file("      - record: job:http_requests:rate5m\n        expr: sum by (job) (rate(http_requests_total[5m]))\n")
    example_context = {"__settings__": {"scrape_interval": "30s"}}

    def check_rule(self, rule, project):
        facts = rule.facts
        if not facts:
            return
        short = []
        scrape = -1.0
        for sel in facts.selectors:
            if sel.func in _RATES and sel.range is not None:
                if scrape == -1.0:
                    scrape = project.scrape_interval
                    if scrape is None:
                        project.note(UNKNOWN)
                        return
                if sel.range < 4 * scrape:
                    short.append(sel)
        if not short:
            return
        expr = rule.expr
        sel = short[0]
        k = expr.find(sel.name) if sel.name else -1
        line, col = rule.expr_position(k) if k != -1 else (rule.key_line("expr"), None)
        calls = ", ".join(dict.fromkeys(f"{s.func}({s.name or ''}[{format_duration(s.range)}])" for s in short))
        shortest = min(s.range for s in short)
        yield self.finding(rule.target, f"{calls}: range{'s' if len(short) > 1 else ''} shorter than 4x the scrape interval "
                           f"({format_duration(scrape)})", rule=rule, line=line, column=col,
                           hint=f"use at least [{format_duration(4 * scrape)}]" + (
                               f" (shortest now [{format_duration(shortest)}])" if len(short) > 1 else ""))
