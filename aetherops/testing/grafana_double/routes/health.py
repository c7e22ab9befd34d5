"""``/api/health`` and ``/api/frontend/settings``."""

from __future__ import annotations

from typing import Any

from .._common import _Request


class HealthRoutes:
    """Health (no auth) and the frontend settings grafana-client reads its version from."""

    #: ``(method, path regex, handler method name, feature or None, needs auth)``
    ROUTES = [
        ("GET", "/api/health", "_h_health", None, False),
        ("GET", "/api/frontend/settings", "_h_frontend_settings", None, True),
    ]

    def _h_health(self, req: _Request):
        body: dict[str, Any] = {"database": "failing" if self.database_failing else "ok"}
        if not self.hide_version:
            body["version"] = self.grafana_version
            body["commit"] = self.commit
        return (503 if self.database_failing else 200), body, True

    def _h_frontend_settings(self, req: _Request):
        with self._lock:
            default_ds = next((d["name"] for d in self._datasources.values() if d["isDefault"]), "")
        return 200, {
            "appUrl": self.url + "/",
            "appSubUrl": "",
            "defaultDatasource": default_ds,
            "unifiedAlertingEnabled": "alerting" in self.features,
            "featureToggles": {"nestedFolders": True},
            "minRefreshInterval": self.min_refresh_interval,
            "buildInfo": {
                "version": self.grafana_version,
                "commit": self.commit,
                "edition": "Open Source",
                "env": "production",
                "latestVersion": "",
                "hasUpdate": False,
                "hideVersion": self.hide_version,
                "buildstamp": 1700000000,
            },
        }
