"""`dashboard/promql`: Every panel query parses as PromQL (Grafana variables such as `$__rate_interval` and `${var}` allowed)."""

from __future__ import annotations

from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.dashboard import panel_queries, query_line


class DashboardPromQL(Check):
    id = "dashboard/promql"
    severity = "error"
    kinds = ("dashboard",)
    summary = "Every panel query parses as PromQL (Grafana variables such as `$__rate_interval` and `${var}` allowed)."
    why = "A panel with a broken query shows 'No data' or an error exactly when someone opens it during an incident."
    example_kind = "dashboard"
    example_bad = '{"title": "API", "uid": "api", "panels": [{"title": "Errors", "targets": [{"expr": "sum(rate(errors_total[$__rate_interval])"}]}]}\n'
    example_good = '{"title": "API", "uid": "api", "panels": [{"title": "Errors", "targets": [{"expr": "sum(rate(errors_total[$__rate_interval]))"}]}]}\n'

    def check(self, target, project):
        from aetherops_plugins.lint.promql import PromQLError, analyze, substitute_grafana

        for panel, query, expr in panel_queries(target.data):
            error = None
            for candidate in substitute_grafana(expr):
                try:
                    analyze(candidate)
                    error = None
                    break
                except PromQLError as exc:
                    error = error or exc
            if error:
                yield self.finding(target, f"panel {panel.get('title')!r}: could not parse expression: {error.message}",
                                   line=query_line(target, query, expr), name=str(panel.get("title") or ""),
                                   hint="fix the query (Grafana variables are substituted before parsing)")
