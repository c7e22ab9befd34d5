"""`dashboard/title`: Dashboards and their graph panels have titles."""

from __future__ import annotations

from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.dashboard import iter_panels, query_line


class DashboardTitle(Check):
    id = "dashboard/title"
    severity = "warning"
    kinds = ("dashboard",)
    summary = "Dashboards and their graph panels have titles."
    why = "Untitled dashboards cannot be found by search, and untitled panels cannot be told apart in an incident."
    example_kind = "dashboard"
    example_bad = '{"uid": "api", "panels": [{"type": "timeseries", "targets": [{"expr": "up"}]}]}\n'
    example_good = '{"title": "API", "uid": "api", "panels": [{"type": "timeseries", "title": "Targets up", "targets": [{"expr": "up"}]}]}\n'

    def check(self, target, project):
        d = target.data
        if not str(d.get("title") or "").strip():
            yield self.finding(target, "dashboard has no title", line=1, hint='add "title"')
        for p in iter_panels(d):
            if p.get("type") in ("row", "text") or not p.get("targets"):
                continue
            if not str(p.get("title") or "").strip():
                qs = [t for t in p.get("targets") or [] if isinstance(t, dict) and t.get("expr")]
                yield self.finding(target, f"panel {p.get('id', '?')} has no title",
                                   line=query_line(target, qs[0], qs[0]["expr"]) if qs else None,
                                   hint='add a "title" saying what the panel shows')
