"""`crossfile/missing-recording-rule`: Rules only use recording-rule-shaped names (`level:metric:op`) that some linted rule records."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import RULES, pos_of


class MissingRecordingRule(RuleCheck):
    id = "crossfile/missing-recording-rule"
    severity = "warning"
    summary = "Rules only use recording-rule-shaped names (`level:metric:op`) that some linted rule records."
    why = "A query on a series nobody records returns nothing: the alert can never fire, silently."
    example_bad = RULES + "      - alert: HighErrors\n        expr: job:errors:rate5m > 1\n        for: 5m\n"
    example_good = (RULES + "      - record: job:errors:rate5m\n        expr: sum by (job) (rate(errors_total[5m]))\n"
                    "      - alert: HighErrors\n        expr: job:errors:rate5m > 1\n        for: 5m\n")

    def check_rule(self, rule, project):
        out: list = []
        facts = rule.facts
        if not facts:
            return out
        recorded = project.recorded
        for name in dict.fromkeys(s.name for s in facts.selectors if s.name and ":" in s.name):
            if name not in recorded:
                line, col = pos_of(rule, name)
                out.append(self.finding(rule.target, f"{name!r} looks like a recording rule but no linted file records it", rule=rule,
                                        line=line, column=col, hint="lint the file that records it alongside, or fix the name"))
        return out
