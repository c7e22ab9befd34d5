"""Alertmanager v2 API over httpx, built from a profile's ``alertmanager`` section."""

from __future__ import annotations

from typing import Any

from aetherops.clients.http import HTTPService


class AlertmanagerClient(HTTPService):
    """The parts of the Alertmanager v2 API aetherops uses."""

    def ready(self) -> bool:
        return self.request("GET", "/-/ready").status_code == 200

    def status(self) -> dict:
        """``/api/v2/status``: version info, cluster, and the running config (YAML in ``config.original``)."""
        return self.get_json("/api/v2/status")

    def silences(self, filters: list[str] | None = None) -> list[dict]:
        params = [("filter", f) for f in filters or []]
        return self.get_json("/api/v2/silences", params=params)

    def silence(self, silence_id: str) -> dict:
        return self.get_json(f"/api/v2/silence/{silence_id}")

    def create_silence(self, silence: dict[str, Any]) -> str:
        """Create (or, with an ``id``, update) a silence; returns its id."""
        return self.request("POST", "/api/v2/silences", json=silence).json()["silenceID"]

    def expire_silence(self, silence_id: str) -> None:
        self.request("DELETE", f"/api/v2/silence/{silence_id}")

    def alerts(self, active: bool = True) -> list[dict]:
        return self.get_json("/api/v2/alerts", params={"active": str(active).lower()})
