"""`alerts/comparison`: Alert expressions have a condition (a comparison, `absent()`, `and`/`unless`)."""

from __future__ import annotations

import re

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import rules_file

_HEARTBEAT = re.compile(r"watchdog|deadmans?switch|heartbeat|always.?firing", re.I)


class Comparison(RuleCheck):
    id = "alerts/comparison"
    severity = "warning"
    rule_type = "alert"
    summary = "Alert expressions have a condition (a comparison, `absent()`, `and`/`unless`)."
    why = "An alert fires for every series its expression returns: without a comparison it fires all the time."
    example_bad = rules_file("      - alert: ErrorRate\n        expr: sum by (job) (rate(errors_total[5m]))\n        for: 5m\n")
    example_good = rules_file("      - alert: ErrorRate\n        expr: sum by (job) (rate(errors_total[5m])) > 1\n        for: 5m\n")

    def check_rule(self, rule, project):
        facts = rule.facts
        if not facts:
            return
        if not facts.filters:
            if not facts.selectors:  # a constant (vector(1)): a deliberate heartbeat such as Watchdog/DeadMansSwitch
                if _HEARTBEAT.search(rule.name) or str(rule.labels.get("severity", "")).lower() == "none":
                    return
                yield self.finding(rule.target, "alert expression is a constant, so it always fires (fine for a heartbeat "
                                   "alert such as Watchdog)", rule=rule, line=rule.key_line("expr"), severity="info",
                                   hint="name it as a heartbeat (Watchdog, DeadMansSwitch) or give it `severity: none`")
                return
            bool_only = any(b for op, b in facts.binops)
            yield self.finding(rule.target, "alert expression has no condition, so it fires for every series it returns"
                               + (" (a `bool` comparison returns 0/1 instead of filtering)" if bool_only else ""), rule=rule,
                               line=rule.key_line("expr"), hint="add a comparison such as `> 0.05`")
