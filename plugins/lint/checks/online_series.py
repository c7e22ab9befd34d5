"""`online/series`: Series and label values the rules select exist on the server (over the lookback, `lint.online_lookback`, default 1d)."""

from __future__ import annotations

from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.checks._common import RULES, pos_of
from aetherops_plugins.lint.loader import format_duration
from aetherops_plugins.lint.promql import escape


class SeriesExist(Check):
    id = "online/series"
    severity = "warning"
    kinds = ("rules",)
    online = True
    summary = "Series and label values the rules select exist on the server (over the lookback, `lint.online_lookback`, default 1d)."
    why = ("A typo in a metric name or label value makes a rule select nothing: the alert can never fire and nobody notices. "
           "Checking over a time range (not just now) avoids flagging series that come and go.")
    example_bad = RULES + "      - alert: Down\n        expr: upp{job=\"prometheus\"} == 0\n        for: 5m\n"
    example_good = RULES + "      - alert: Down\n        expr: up{job=\"prometheus\"} == 0\n        for: 5m\n"

    def check(self, target, project):
        online = project.online
        if online is None:
            return
        recorded = project.recorded
        window = format_duration(online.lookback)
        work = {}
        for rule in target.rules:
            facts = rule.facts
            if not facts:
                continue
            for sel in facts.selectors:
                if not sel.name or sel.name in recorded or sel.name in ("ALERTS", "ALERTS_FOR_STATE"):
                    continue
                if sel.func in ("absent", "absent_over_time"):
                    continue  # absent() is meant to select nothing
                work.setdefault(sel.text(), (sel, []))[1].append(rule)

        def probe(item):
            text, (sel, rules) = item
            if online.count(f"last_over_time({text}[{window}])"):
                return None
            if sel.matchers and online.count(f"last_over_time({sel.name}[{window}])"):
                # the metric exists: find the matcher that filters everything out
                for label, op, value in sel.matchers:
                    if online.count(f'last_over_time({sel.name}{{{label}{op}"{escape(value)}"}}[{window}])') == 0:
                        return (sel, rules, f'no {sel.name} series has {label}{op}"{value}" in the last {window}')
                return (sel, rules, f"no {sel.name} series matches all of {text} in the last {window}")
            return (sel, rules, f"metric {sel.name!r} has no series on the server in the last {window}")

        for res in online.map(probe, work.items()):
            if res is None:
                continue
            sel, rules, msg = res
            for rule in dict.fromkeys(rules):
                line, col = pos_of(rule, sel.name)
                yield self.finding(rule.target, msg, rule=rule, line=line, column=col,
                                   hint="check the metric name and label values against the server (or the exporter is not scraped)")
