"""`crossfile/group-by`: Route `group_by` labels are produced by some alert in the rule files linted alongside."""

from __future__ import annotations

from aetherops_plugins.lint.amconfig import routes
from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.checks._common import RULES, carries, kl


class GroupBy(Check):
    id = "crossfile/group-by"
    severity = "warning"
    kinds = ("project",)
    summary = "Route `group_by` labels are produced by some alert in the rule files linted alongside."
    why = "Grouping by a label no alert carries puts every alert in one group (the label is empty for all): one giant notification."
    example_kind = "alertmanager"
    example_bad = "route:\n  receiver: default\n  group_by: [alertname, cluster]\nreceivers:\n  - name: default\n"
    example_good = "route:\n  receiver: default\n  group_by: [alertname, job]\nreceivers:\n  - name: default\n"
    example_context = {"rules.yml": RULES + "      - alert: JobDown\n        expr: sum by (job) (up) == 0\n        for: 5m\n"}

    def check(self, target, project):

        if not project.alerts:
            return
        for am in project.of_kind("alertmanager"):
            for r, _ in routes(am.data.get("route")):
                for label in r.get("group_by") or []:
                    label = str(label)
                    if label in ("...", "alertname"):
                        continue
                    if not any(carries(a, label, project) for a in project.alerts):
                        yield self.finding(am, f"group_by label {label!r} is carried by no alert in the linted rule files",
                                           line=kl(r, "group_by", getattr(r, "line", None)), name=label,
                                           hint="group by labels your alerts keep (check their `by (...)` clauses)")
