"""The live server of ``aetherops lint --online``: its client and every answer cached for the run.

The online checks themselves are modules like the others, ``checks/online_*.py``.

They use the profile's Prometheus client (``ctx.prometheus``: tenant headers,
auth and TLS already applied), so they work against Prometheus, Thanos,
Mimir, Cortex or VictoriaMetrics alike. Queries run a few at a time and each
answer is cached for the run.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from aetherops_plugins.lint.loader import parse_duration

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.clients.prometheus import PrometheusClient


class OnlineContext:
    """The live server, its answers cached."""

    def __init__(self, client, settings: dict | None = None, workers: int = 8, grafana=None):
        self._client = client
        self.grafana = grafana  # a GrafanaClient, or a callable returning one (None: no Grafana in the profile)
        self.settings = settings or {}
        self.workers = workers
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.lookback = parse_duration(self.settings.get("online_lookback") or "1d") or 86400.0

    @property
    def client(self) -> PrometheusClient:
        if callable(self._client) and not hasattr(self._client, "query"):
            self._client = self._client()
        return self._client

    def grafana_service(self):
        if callable(self.grafana) and not hasattr(self.grafana, "datasources"):
            self.grafana = self.grafana()
        return self.grafana

    def query(self, promql: str) -> list[dict]:
        """Instant query (cached); raises ServiceError on failure."""
        with self._lock:
            if promql in self._cache:
                return self._cache[promql]
        result = self.client.query(promql)
        with self._lock:
            self._cache[promql] = result
        return result

    def count(self, promql: str) -> int:
        res = self.query(f"count({promql})")
        try:
            return int(float(res[0]["value"][1])) if res else 0
        except (KeyError, IndexError, ValueError, TypeError):
            return 0

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[dict]:
        return self.client.query_range(promql, start, end, step)

    def map(self, fn, items):
        items = list(items)
        if len(items) <= 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(max_workers=min(self.workers, len(items))) as pool:
            return list(pool.map(fn, items))

    def remember(self, key: str, compute):
        """``compute()``'s answer, computed once per run (e.g. Grafana's data sources)."""
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = compute()
        with self._lock:
            self._cache[key] = value
        return value

    def rules(self) -> list[dict]:
        with self._lock:
            if "__rules__" in self._cache:
                return self._cache["__rules__"]
        groups = self.client.rules()
        with self._lock:
            self._cache["__rules__"] = groups
        return groups


def make_context(ctx, settings: dict) -> OnlineContext:
    """The online context of a command run: the profile's Prometheus (and Grafana, when the profile has one)."""
    grafana = (lambda: ctx.grafana) if ctx.profile.has_service("grafana") else None
    return OnlineContext(lambda: ctx.prometheus, settings, grafana=grafana)


__all__ = ["OnlineContext", "make_context"]
