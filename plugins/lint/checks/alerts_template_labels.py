"""`alerts/template-labels`: Templates use only labels the alert's expression can produce."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import kl, rules_file


class TemplateLabels(RuleCheck):
    id = "alerts/template-labels"
    severity = "warning"
    rule_type = "alert"
    summary = "Templates use only labels the alert's expression can produce."
    why = "After `sum by (job)` there is no `instance` label: `{{ $labels.instance }}` renders empty in the page."
    example_bad = rules_file("      - alert: HighErrors\n        expr: sum by (job) (rate(errors_total[5m])) > 1\n        for: 5m\n"
                         "        annotations:\n          summary: 'Errors on {{ $labels.instance }}'\n")
    example_good = rules_file("      - alert: HighErrors\n        expr: sum by (job, instance) (rate(errors_total[5m])) > 1\n        for: 5m\n"
                          "        annotations:\n          summary: 'Errors on {{ $labels.instance }}'\n")

    def check_rule(self, rule, project):
        from aetherops_plugins.lint.templates import label_references

        facts = rule.facts
        if facts is None:
            return
        static = {str(k) for k in rule.labels}
        for section in ("annotations", "labels"):
            values = rule.data.get(section)
            if not isinstance(values, dict):
                continue
            for k, v in values.items():
                if not isinstance(v, str):
                    continue
                refs = label_references(v)
                if not refs:
                    continue
                known, excluded = facts.labels
                for label in dict.fromkeys(refs):
                    if label in static:
                        continue
                    if (known is not None and label not in known) or label in excluded:
                        yield self.finding(rule.target, f'{section[:-1]} "{k}" uses $labels.{label} but the expression '
                                           f"cannot produce a {label!r} label", rule=rule, line=kl(values, k, rule.line),
                                           hint=f"keep {label!r} in the aggregation (by ({label}, ...)) or drop it from the template")
