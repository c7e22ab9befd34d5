"""`alerts/annotations`: Alerts have `summary`, `description` and `runbook_url` annotations (profile `lint.required_annotations`)."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import rules_file


class Annotations(RuleCheck):
    id = "alerts/annotations"
    severity = "warning"
    rule_type = "alert"
    summary = "Alerts have `summary`, `description` and `runbook_url` annotations (profile `lint.required_annotations`)."
    why = "The person paged at 3 a.m. reads the summary, needs the description to judge impact and the runbook to act."
    example_bad = rules_file("      - alert: Down\n        expr: up == 0\n        for: 5m\n        annotations:\n          summary: Target down\n")
    example_good = rules_file("      - alert: Down\n        expr: up == 0\n        for: 5m\n        annotations:\n          summary: Target down\n"
                          "          description: '{{ $labels.instance }} of {{ $labels.job }} is down.'\n"
                          "          runbook_url: https://runbooks.example.com/Down\n")

    def check_rule(self, rule, project):
        required = project.settings.get("required_annotations") or ["summary", "description", "runbook_url"]
        ann = rule.annotations
        missing = [a for a in required if not str(ann.get(a) or "").strip()]
        if missing:
            yield self.finding(rule.target, f"missing annotation{'s' if len(missing) > 1 else ''}: {', '.join(missing)}", rule=rule,
                               hint="add " + ", ".join(f"{m}:" for m in missing) + " under annotations")
