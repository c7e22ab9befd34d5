"""Prometheus (or a Prometheus-compatible API) built from a profile's ``prometheus`` section.

Queries go through prometheus-api-client's ``PrometheusConnect``; the endpoints
it does not cover (readiness, build info, admin TSDB snapshot, lifecycle
reload, running config and rules) go through the shared httpx client.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from aetherops.clients.http import TRANSIENT_STATUS, HTTPService
from aetherops.errors import ServiceError


class PrometheusClient(HTTPService):
    """Prometheus HTTP API: queries, status, admin snapshot, reload."""

    @cached_property
    def api(self):
        """prometheus-api-client's ``PrometheusConnect`` with the profile's auth, TLS, headers and retries."""
        import requests
        from prometheus_api_client import PrometheusConnect
        from urllib3.util.retry import Retry

        session = requests.Session()
        session.verify = self.config.verify
        session.cert = self.config.cert
        retry = Retry(total=max(0, self.config.retries - 1), backoff_factor=0.2, status_forcelist=sorted(TRANSIENT_STATUS),
                      allowed_methods=frozenset({"GET", "POST"}), raise_on_status=False)
        return PrometheusConnect(
            url=self.config.url,
            headers={**self.config.headers, **self.config.auth_headers()},
            retry=retry,
            session=session,
            timeout=self.config.timeout,
        )

    def _call(self, what: str, fn, *args, **kwargs):
        import requests
        from prometheus_api_client import PrometheusApiClientException

        try:
            return fn(*args, **kwargs)
        except PrometheusApiClientException as exc:
            raise ServiceError(f"prometheus {self.config.url} {what}: {' '.join(str(exc).split())}", url=self.config.url) from None
        except requests.Timeout:
            raise ServiceError(f"prometheus {self.config.url} {what}: timed out after {self.config.timeout:g}s", url=self.config.url) from None
        except requests.RequestException as exc:
            reason = type(exc).__name__ if not str(exc) else str(exc).split(":")[-1].strip(" )'>")
            raise ServiceError(f"prometheus {self.config.url} {what}: cannot connect ({reason})", url=self.config.url) from None

    # -- queries (prometheus-api-client)
    def query(self, promql: str, **params: Any) -> list[dict]:
        """Instant query; the ``result`` list of the API response."""
        return self._call(f"query {promql!r}", self.api.custom_query, promql, params=params or None)

    def query_range(self, promql: str, start, end, step: str) -> list[dict]:
        """Range query between two datetimes."""
        return self._call(f"query_range {promql!r}", self.api.custom_query_range, promql, start_time=start, end_time=end, step=step)

    def label_values(self, label: str) -> list[str]:
        return self._call(f"label values of {label}", self.api.get_label_values, label)

    # -- status and admin (httpx)
    def ready(self) -> bool:
        return self.request("GET", "/-/ready").status_code == 200

    def build_info(self) -> dict:
        return self.get_json("/api/v1/status/buildinfo").get("data", {})

    def running_config(self) -> str:
        """The YAML of the configuration the server runs with."""
        return self.get_json("/api/v1/status/config").get("data", {}).get("yaml", "")

    def rules(self) -> list[dict]:
        """Rule groups the server has loaded (each with its ``file``)."""
        return self.get_json("/api/v1/rules").get("data", {}).get("groups", [])

    def targets(self) -> dict:
        return self.get_json("/api/v1/targets").get("data", {})

    def flags(self) -> dict:
        return self.get_json("/api/v1/status/flags").get("data", {})

    def snapshot(self, skip_head: bool = False) -> str:
        """Take a TSDB snapshot through the admin API; returns its name."""
        params = {"skip_head": "true"} if skip_head else None
        body = self.request("POST", "/api/v1/admin/tsdb/snapshot", params=params).json()
        return body["data"]["name"]

    def reload(self) -> None:
        """Ask the server to reload its configuration (needs --web.enable-lifecycle)."""
        self.request("POST", "/-/reload")
