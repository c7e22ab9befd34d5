"""`labels/conflict`: Rules do not set a label the server also sets as an external label."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import PROM_EXTERNAL_LABELS, kl, rules_file


class LabelConflict(RuleCheck):
    id = "labels/conflict"
    severity = "warning"
    summary = "Rules do not set a label the server also sets as an external label (linted prometheus.yml, or the server with --online)."
    why = ("External labels are added only where a label is missing: an alert with `cluster: prod-us` on the `prod-eu` "
           "server keeps `prod-us`, so it is routed, silenced and inhibited as the other cluster's; a recording rule's "
           "series are remote-written or federated under the wrong cluster. The same value is merely redundant (info).")
    example_bad = rules_file("      - alert: InstanceDown\n        expr: up == 0\n        for: 5m\n        labels:\n"
                             "          cluster: prod-us\n")
    example_good = rules_file("      - alert: InstanceDown\n        expr: up == 0\n        for: 5m\n        labels:\n"
                              "          severity: critical\n")
    example_context = {"prometheus.yml": PROM_EXTERNAL_LABELS}

    def check_rule(self, rule, project):
        from aetherops_plugins.lint.checks._pint import external_labels

        labels = rule.data.get("labels")
        if not isinstance(labels, dict) or not labels or not (project.prometheus_configs or project.online is not None):
            return
        known, where = external_labels(project)
        for k, v in labels.items():
            k = str(k)
            if k not in known:
                continue
            origin = f" (from {where})" if where else ""
            what = "alert" if rule.type == "alert" else "recorded series"
            if str(v) != known[k]:
                yield self.finding(rule.target, f"label {k}={v!r} conflicts with the external label {k}={known[k]!r}{origin}: "
                                   f"the rule's value wins, so the {what} look{'s' if what == 'alert' else ''} like another "
                                   f"{k}'s", rule=rule, line=kl(labels, k, rule.line),
                                   hint=f"remove {k} from the rule's labels (the server adds {k}={known[k]!r})")
            else:
                yield self.finding(rule.target, f"label {k}={v!r} has the same value as the external label{origin}: redundant",
                                   rule=rule, line=kl(labels, k, rule.line), severity="info",
                                   hint=f"remove {k} from the rule's labels; the server adds it")
