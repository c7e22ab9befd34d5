"""`alerts/annotations`: alerts carry the annotations the profile requires (``lint.required_annotations``), or an accepted alias."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import rules_file

#: what the monitoring mixins (kubernetes-mixin, node-mixin...) put on every alert
DEFAULT_REQUIRED = ("summary", "description", "runbook_url")
#: other names that serve the same purpose in well-run projects (profile ``lint.annotation_aliases`` replaces these)
DEFAULT_ALIASES = {
    "runbook_url": ["runbook", "runbook_link", "playbook", "playbook_url", "documentation", "documentation_url", "doc_url", "docs_url"],
    "description": ["message"],  # what kubernetes-mixin and prometheus-operator used before `description`
    "summary": ["title"],
}


def requirements(settings: dict) -> list[tuple[str, tuple[str, ...]]]:
    """(annotation, names that satisfy it) for each required annotation, from the profile's ``lint`` settings."""
    required = settings.get("required_annotations")
    aliases = settings.get("annotation_aliases")
    required = DEFAULT_REQUIRED if required is None else required
    aliases = DEFAULT_ALIASES if aliases is None else aliases
    out = []
    for name in required:
        name = str(name)
        extra = aliases.get(name) or ()
        out.append((name, (name,) + tuple(str(a) for a in ([extra] if isinstance(extra, str) else extra))))
    return out


class Annotations(RuleCheck):
    id = "alerts/annotations"
    severity = "warning"
    rule_type = "alert"
    summary = ("Alerts have the annotations the profile requires (`lint.required_annotations`, default `summary`, `description`, "
               "`runbook_url`), each satisfied by an accepted alias too (`lint.annotation_aliases`: e.g. `playbook` for `runbook_url`).")
    why = "The person paged at 3 a.m. reads the summary, needs the description to judge impact and the runbook to act."
    example_bad = rules_file("      - alert: Down\n        expr: up == 0\n        for: 5m\n        annotations:\n          summary: Target down\n")
    example_good = rules_file("      - alert: Down\n        expr: up == 0\n        for: 5m\n        annotations:\n          summary: Target down\n"
                              "          description: '{{ $labels.instance }} of {{ $labels.job }} is down.'\n"
                              "          playbook: https://runbooks.example.com/Down\n")

    _cached: tuple = (None, ())

    def check_rule(self, rule, project):
        settings = project.settings
        if self._cached[0] is not settings:
            self._cached = (settings, requirements(settings))
        ann = rule.annotations
        missing = []
        for name, accepted in self._cached[1]:
            if not any(str(ann.get(a) or "").strip() for a in accepted):
                missing.append((name, accepted))
        if missing:
            names = ", ".join(m for m, _ in missing)
            also = [f"{m} (or {', '.join(a[1:])})" for m, a in missing if len(a) > 1]
            yield self.finding(rule.target, f"missing annotation{'s' if len(missing) > 1 else ''}: {names}", rule=rule,
                               hint="add " + ", ".join(f"{m}:" for m, _ in missing) + " under annotations"
                               + (f"; accepted aliases: {'; '.join(also)}" if also else ""))
