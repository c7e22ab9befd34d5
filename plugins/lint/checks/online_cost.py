"""`online/cost`: Rules do not touch more series than `lint.max_series` (default 10000) on the server."""

from __future__ import annotations

from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.checks._common import RULES


class QueryCost(Check):
    id = "online/cost"
    severity = "info"
    kinds = ("rules",)
    online = True
    summary = "Rules do not touch more series than `lint.max_series` (default 10000) on the server."
    why = "A rule selecting hundreds of thousands of series slows every evaluation of its group and can time out, silently skipping it."
    example_bad = RULES + "      - record: instance:series:count\n        expr: count by (instance) ({__name__=~\".+\"})\n"
    example_good = RULES + "      - record: job:up:sum\n        expr: sum by (job) (up)\n"
    example_context = {"__settings__": {"max_series": 50}}

    def check(self, target, project):
        online = project.online
        if online is None:
            return
        limit = int(project.settings.get("max_series") or 10000)
        rules = [r for r in target.rules if r.facts]

        def cost(rule):
            total = 0
            for sel in rule.facts.selectors:
                total += online.count(sel.text())
            return rule, total

        for rule, total in online.map(cost, rules):
            if total > limit:
                yield self.finding(rule.target, f"the expression touches {total} series (limit {limit})", rule=rule,
                                   hint="narrow the selectors with label matchers, or pre-aggregate with a recording rule")
