"""Demo data: what ``--seed-demo`` and the sandbox start with."""

from __future__ import annotations


class SeedMixin:
    """Seeding through the same helpers the tests use."""

    def seed_demo(self, provenance: str = "") -> dict:
        """Seed folders, six Prometheus dashboards, two data sources (one with a secret
        basic-auth password), a library panel, an alert rule and a contact point.

        ``provenance`` is the alert rule's and contact point's: ``""`` as if made in the UI,
        ``"api"`` as if created through the provisioning API."""
        ds = {"type": "prometheus", "uid": "prometheus"}
        with self._lock:
            self.add_datasource(
                {"name": "Prometheus", "uid": "prometheus", "type": "prometheus", "url": "http://localhost:9090", "access": "proxy",
                 "isDefault": True, "jsonData": {"httpMethod": "POST", "timeInterval": "15s"}}
            )
            self.add_datasource(
                {"name": "Alertmanager", "uid": "alertmanager", "type": "alertmanager", "url": "http://localhost:9093", "access": "proxy",
                 "basicAuth": True, "basicAuthUser": "admin", "jsonData": {"implementation": "prometheus"},
                 "secureJsonData": {"basicAuthPassword": "demo-alertmanager-secret"}}
            )
            self.add_folder("Infrastructure", uid="infra")
            self.add_folder("Applications", uid="apps")
            self.add_folder("Payments", uid="apps-payments", parent_uid="apps")

            def panels(*specs):
                out = []
                for i, (title, expr, unit) in enumerate(specs):
                    out.append({
                        "id": i + 1, "type": "timeseries", "title": title, "datasource": ds,
                        "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8},
                        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                        "targets": [{"datasource": ds, "expr": expr, "refId": "A", "legendFormat": "__auto"}],
                    })
                return out

            def dashboard(uid, title, tags, *specs):
                return {
                    "uid": uid, "title": title, "tags": tags, "timezone": "browser", "schemaVersion": 39, "editable": True,
                    "time": {"from": "now-6h", "to": "now"}, "refresh": "30s", "templating": {"list": []},
                    "annotations": {"list": []}, "panels": panels(*specs),
                }

            seeds = [
                (dashboard("node-exporter", "Node Exporter Overview", ["linux", "node"],
                           ("CPU busy", '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))', "percent"),
                           ("Memory used", "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes", "percentunit"),
                           ("Disk space free", 'node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"} / node_filesystem_size_bytes{fstype!~"tmpfs|overlay"}', "percentunit"),
                           ("Network received", 'sum by (instance) (rate(node_network_receive_bytes_total{device!="lo"}[5m]))', "Bps")), "infra"),
                (dashboard("prometheus-self", "Prometheus Self-Monitoring", ["prometheus", "meta"],
                           ("Samples appended", "rate(prometheus_tsdb_head_samples_appended_total[5m])", "ops"),
                           ("Head series", "prometheus_tsdb_head_series", "short"),
                           ("Targets up", "sum by (job) (up)", "short"),
                           ("Rule evaluation failures", "sum(rate(prometheus_rule_evaluation_failures_total[5m]))", "ops")), "infra"),
                (dashboard("alertmanager-overview", "Alertmanager Overview", ["alertmanager", "meta"],
                           ("Active alerts", "sum by (state) (alertmanager_alerts)", "short"),
                           ("Notifications failed", "sum by (integration) (rate(alertmanager_notifications_failed_total[5m]))", "ops")), "infra"),
                (dashboard("api-gateway-slo", "API Gateway SLOs", ["slo", "http"],
                           ("Error ratio", 'sum(rate(http_requests_total{job="api-gateway",code=~"5.."}[5m])) / sum(rate(http_requests_total{job="api-gateway"}[5m]))', "percentunit"),
                           ("p99 latency", 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="api-gateway"}[5m])))', "s")), "apps"),
                (dashboard("payments-service", "Payments Service", ["payments", "slo"],
                           ("Payments by status", "sum by (status) (rate(payments_processed_total[5m]))", "ops"),
                           ("p95 latency", 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="payments"}[5m])))', "s")), "apps-payments"),
                (dashboard("blackbox-probes", "Blackbox Probes", ["blackbox"],
                           ("Probe success", "probe_success", "bool"),
                           ("Probe duration", "probe_duration_seconds", "s"),
                           ("Days until certificate expiry", "(probe_ssl_earliest_cert_expiry - time()) / 86400", "d")), None),
            ]
            for dash, folder in seeds:
                self.add_dashboard(dash, folder_uid=folder, message="seeded by grafana_double")
            self.add_library_panel(
                "Shared CPU panel", folder_uid="infra", uid="lib-cpu",
                model=panels(("CPU busy", '100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle"}[5m])))', "percent"))[0],
            )
            self.add_alert_rule({
                "uid": "high-error-rate", "title": "HighErrorRate", "folderUID": "apps", "ruleGroup": "slo",
                "data": [{"refId": "A", "datasourceUid": "prometheus", "relativeTimeRange": {"from": 600, "to": 0},
                          "model": {"expr": 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.05', "refId": "A"}}],
                "labels": {"severity": "page"}, "annotations": {"summary": "More than 5% of requests fail"},
                "provenance": provenance,
            })
            self.add_contact_point({"uid": "oncall-email", "name": "oncall", "type": "email", "provenance": provenance,
                                    "settings": {"addresses": "oncall@example.com"}})
            return {"folders": len(self._folders), "dashboards": len(self._dashboards), "datasources": len(self._datasources)}
