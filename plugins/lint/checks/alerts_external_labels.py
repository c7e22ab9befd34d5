"""`alerts/external-labels`: Alert templates read only external labels the Prometheus server has."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import PROM_EXTERNAL_LABELS, kl, rules_file


class ExternalLabels(RuleCheck):
    id = "alerts/external-labels"
    severity = "warning"
    rule_type = "alert"
    summary = "Alert templates read only external labels the Prometheus server has (linted prometheus.yml, or the server with --online)."
    why = ("`{{ $externalLabels.datacenter }}` renders empty when the server's `global.external_labels` has no `datacenter`: "
           "the page says \"down in \" and the on-call does not know where.")
    example_bad = rules_file("      - alert: InstanceDown\n        expr: up == 0\n        for: 5m\n        annotations:\n"
                             "          summary: '{{ $labels.instance }} down in {{ $externalLabels.datacenter }}'\n")
    example_good = rules_file("      - alert: InstanceDown\n        expr: up == 0\n        for: 5m\n        annotations:\n"
                              "          summary: '{{ $labels.instance }} down in {{ $externalLabels.cluster }}'\n")
    example_context = {"prometheus.yml": PROM_EXTERNAL_LABELS}

    def check_rule(self, rule, project):
        from aetherops_plugins.lint.checks._pint import external_labels
        from aetherops_plugins.lint.templates import variable_fields

        refs = []
        for section in ("labels", "annotations"):
            values = rule.data.get(section)
            if isinstance(values, dict):
                for k, v in values.items():
                    if isinstance(v, str) and "xternalLabels" in v:
                        refs += [(section, k, values, label, written) for label, written in variable_fields(v, "$externalLabels")]
        if not refs or not (project.prometheus_configs or project.online is not None):
            return  # nothing to compare with: no prometheus.yml linted, no server
        known, where = external_labels(project)
        for section, key, values, label, written in refs:
            if label not in known:
                have = ", ".join(sorted(known)) or "none"
                yield self.finding(rule.target, f'{section[:-1]} "{key}" reads {written} but the server has no external label '
                                   f"{label!r} (it has: {have}{f'; from {where}' if where else ''})", rule=rule,
                                   line=kl(values, key, rule.line),
                                   hint=f"add {label} to global.external_labels in prometheus.yml, or use one the server has")
