"""`crossfile/dashboard-recording-rule`: Dashboard queries use only recording rules (`level:metric:op` names) defined in the linted rule files."""

from __future__ import annotations

from aetherops_plugins.lint.api import Check, Finding
from aetherops_plugins.lint.checks._common import RULES
from aetherops_plugins.lint.dashboard import panel_queries, query_line


class DashboardRecordingRule(Check):
    id = "crossfile/dashboard-recording-rule"
    severity = "warning"
    kinds = ("project",)
    summary = "Dashboard queries use only recording rules (`level:metric:op` names) defined in the linted rule files."
    why = "A dashboard on a recording rule nobody records stays empty; it is usually noticed during the incident it was built for."
    example_kind = "dashboard"
    example_bad = '{"title": "API", "uid": "api", "panels": [{"title": "Errors", "targets": [{"expr": "job:errors:rate5m"}]}]}\n'
    example_good = '{"title": "API", "uid": "api", "panels": [{"title": "Errors", "targets": [{"expr": "job:requests:rate5m"}]}]}\n'
    example_context = {"rules.yml": RULES + "      - record: job:requests:rate5m\n        expr: sum by (job) (rate(requests_total[5m]))\n"}

    def check(self, target, project):
        from aetherops_plugins.lint.promql import PromQLError, analyze, substitute_grafana

        if not project.of_kind("rules"):
            return
        recorded = project.recorded
        for t in project.of_kind("dashboard"):
            for panel, query, expr in panel_queries(t.data):
                facts = None
                for candidate in substitute_grafana(expr):
                    try:
                        facts = analyze(candidate)
                        break
                    except PromQLError:
                        continue
                if not facts:
                    continue
                for name in dict.fromkeys(s.name for s in facts.selectors if s.name and ":" in s.name):
                    if name not in recorded:
                        yield Finding(check=self.id, severity=self.severity, file=t.display, line=query_line(t, query, expr),
                                      name=str(panel.get("title") or ""),
                                      message=f"panel {panel.get('title')!r} queries {name!r}, which no linted rule file records",
                                      hint="lint the rule files with the dashboards, or fix the name")
