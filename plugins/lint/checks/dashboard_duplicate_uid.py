"""`dashboard/duplicate-uid`: Dashboard uids are unique across the linted dashboards."""

from __future__ import annotations

from aetherops_plugins.lint.api import Check, Finding
from aetherops_plugins.lint.dashboard import json_line


class DashboardUid(Check):
    id = "dashboard/duplicate-uid"
    severity = "error"
    kinds = ("project",)
    summary = "Dashboard uids are unique across the linted dashboards."
    why = "Provisioning two dashboards with one uid makes Grafana keep only one of them (which one depends on file order)."
    example_kind = "dashboard"
    example_bad = '{"title": "API", "uid": "overview", "panels": []}\n'
    example_good = '{"title": "API", "uid": "api", "panels": []}\n'
    example_context = {"other.json": '{"title": "Overview", "uid": "overview", "panels": []}\n'}

    def check(self, target, project):
        seen = {}
        for t in project.of_kind("dashboard"):
            uid = t.data.get("uid")
            if not uid:
                continue
            if uid in seen:
                yield Finding(check=self.id, severity=self.severity, file=t.display, line=json_line(t, uid, "uid"), name=str(uid),
                              message=f"dashboard uid {uid!r} is also used by {seen[uid].display}",
                              hint="give each dashboard its own uid")
            else:
                seen[uid] = t
