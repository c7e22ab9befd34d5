"""`alerts/for`: what is demonstrably wrong with an alert's `for` (and a missing `for` on a short-window rate)."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import rules_file
from aetherops_plugins.lint.loader import format_duration

#: range functions that look at only the last two samples, whatever the window
_TWO_SAMPLES = frozenset({"irate", "idelta"})
_WINDOWED = frozenset({"rate", "increase", "delta", "deriv", "changes", "resets"})
#: a rate over at most this window (seconds) is "short": one missed or late scrape moves it a lot
SHORT_WINDOW = 120.0
_ABSENT = frozenset({"absent", "absent_over_time"})


def short_window(facts) -> str | None:
    """The first short-window rate of the expression (``irate(x[5m])``, ``rate(x[1m])``), as text; None when there is none."""
    for sel in facts.selectors:
        if sel.range is None or not sel.func:
            continue
        if sel.func in _TWO_SAMPLES or (sel.func in _WINDOWED and sel.range <= SHORT_WINDOW):
            return f"{sel.func}({sel.name or ''}[{format_duration(sel.range)}])"
    return None


class AlertFor(RuleCheck):
    id = "alerts/for"
    severity = "warning"
    rule_type = "alert"
    summary = ("An alert's `for` is not redundant (`0s`), long enough for an `absent()` alert, and present when the expression "
               "is a short-window rate (a missing `for` elsewhere is info).")
    why = ("Without `for`, an alert on `irate()` or a 1-minute `rate()` pages on a single late scrape or restart blip; "
           "`absent()` is true for a moment after every restart, so it needs a `for` of a few intervals. A `for` shorter "
           "than the evaluation interval is not wrong: it still holds the alert pending for one evaluation.")
    example_bad = rules_file("      - alert: HighErrorRate\n        expr: sum by (job) (irate(errors_total[5m])) > 10\n")
    example_good = rules_file("      - alert: HighErrorRate\n        expr: sum by (job) (irate(errors_total[5m])) > 10\n"
                              "        for: 10m\n")

    def check_rule(self, rule, project):
        facts = rule.facts
        absent = bool(facts and any(c in _ABSENT for c in facts.calls))
        interval = rule.group.interval or project.evaluation_interval
        raw = rule.data.get("for")
        if raw is None:  # absent, or `for: null` (promtool accepts it as no `for`)
            if absent:
                return  # alerts/absent-for reports those
            blip = short_window(facts) if facts else None
            if blip:
                yield self.finding(rule.target, f"alert on the short-window {blip} has no `for`: a single late scrape or "
                                   "restart blip pages", rule=rule,
                                   hint=f"add `for:` of a few evaluation intervals, e.g. for: {format_duration(max(interval * 5, 300))}")
            else:
                yield self.finding(rule.target, "alert has no `for`: it fires on the first evaluation that matches", rule=rule,
                                   severity="info", hint="add `for:` if a single evaluation should not page")
            return
        d = rule.for_seconds
        if d is None:
            return  # not a duration: syntax/duration reports it (an error)
        if d == 0:
            yield self.finding(rule.target, f"`for: {raw}` is the default: the line is redundant", rule=rule,
                               line=rule.key_line("for"), severity="info", hint="remove it (or give a real `for`)")
            return
        if absent:
            scrape = project.scrape_interval
            need = 2 * max(interval, scrape or 0)
            if d < need:
                basis = f"evaluation interval {format_duration(interval)}" + (
                    f", scrape interval {format_duration(scrape)}" if scrape else "")
                yield self.finding(rule.target, f"absent() alert with `for: {raw}`: absent() is true for a moment after every "
                                   f"restart and reload, so it needs at least two intervals ({format_duration(need)}; {basis})",
                                   rule=rule, line=rule.key_line("for"), hint=f"use for: {format_duration(max(need, 600))} or more")
