"""`online/datasource`: Dashboard datasource references (uid or name) exist in the profile's Grafana."""

from __future__ import annotations

from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.dashboard import iter_panels, json_line

_SPECIAL_DS = {"-- grafana --", "-- mixed --", "-- dashboard --", "default", "grafana", "dashboard", "mixed"}


class Datasources(Check):
    id = "online/datasource"
    severity = "warning"
    kinds = ("dashboard",)
    online = True
    summary = "Dashboard datasource references (uid or name) exist in the profile's Grafana."
    why = "A panel pointing at a data source that does not exist (renamed, another instance's uid) shows an error instead of data."
    example_kind = "dashboard"
    example_bad = ('{"title": "API", "uid": "api", "panels": [{"title": "Up", "datasource": {"type": "prometheus", "uid": "gone"}, '
                   '"targets": [{"expr": "up"}]}]}\n')
    example_good = ('{"title": "API", "uid": "api", "panels": [{"title": "Up", "datasource": {"type": "prometheus", "uid": "${datasource}"}, '
                    '"targets": [{"expr": "up"}]}]}\n')

    def check(self, target, project):

        online = project.online
        grafana = online.grafana_service() if online is not None else None
        if grafana is None:
            return
        def listed() -> set:
            return {str(d.get(k)) for d in grafana.datasources() if isinstance(d, dict) for k in ("uid", "name") if d.get(k)}

        known = online.remember("__datasources__", listed)
        seen = set()
        for panel in iter_panels(target.data):
            refs = [panel.get("datasource")] + [t.get("datasource") for t in panel.get("targets") or [] if isinstance(t, dict)]
            for ref in refs:
                value = ref.get("uid") if isinstance(ref, dict) else ref
                if not value or not isinstance(value, str) or "$" in value or value.lower() in _SPECIAL_DS:
                    continue
                if value not in known and (panel.get("title"), value) not in seen:
                    seen.add((panel.get("title"), value))
                    yield self.finding(target, f"panel {panel.get('title')!r} uses data source {value!r}, which Grafana does not have",
                                       line=json_line(target, value, "uid") or json_line(target, value, "datasource"),
                                       name=str(panel.get("title") or ""),
                                       hint="use a data source template variable (${datasource}) or an existing uid")
