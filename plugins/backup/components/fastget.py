"""Keep-alive GETs for the backup's hot path (one request per dashboard), plugged into GrafanaClient.

httpx spends about 0.35 ms more CPU per request than a bare ``http.client``
connection; with 16 worker threads sharing one GIL that, not the network, is
what separates a 1,000-dashboard backup from the physical limit (see
benchmarks/backup.py, which measures both). The backup hands :class:`FastGet`'s
``get`` to :class:`aetherops.clients.grafana.GrafanaClient` as its GET
transport: the same headers, auth, org, TLS settings, timeout and retries, one
connection per worker thread; the client still reads every answer (errors,
406 for v2 dashboards, bodies that are not the expected object). When an HTTP
proxy applies to the Grafana host (``HTTP(S)_PROXY``), :func:`usable` says no
and httpx does all the work.
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.request
from typing import Any
from urllib.parse import urlencode, urlsplit

from aetherops.errors import ServiceError


def usable(config) -> bool:
    """False when a proxy from the environment applies to the Grafana URL (http.client does not do proxies)."""
    parts = urlsplit(config.url)
    proxies = urllib.request.getproxies()
    if not proxies.get(parts.scheme or "http"):
        return True
    try:
        return bool(urllib.request.proxy_bypass(parts.hostname or ""))
    except OSError:
        return False


class Answer:
    """The bits of an HTTP answer :class:`aetherops.clients.grafana.GrafanaClient` reads (httpx.Response's names)."""

    __slots__ = ("status_code", "content", "reason_phrase", "retry_after")

    def __init__(self, status: int, content: bytes, reason: str, retry_after: str | None = None):
        self.status_code = status
        self.content = content
        self.reason_phrase = reason
        self.retry_after = retry_after

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class FastGet:
    """Thread-safe ``get(path)``; each worker thread keeps its own connection."""

    def __init__(self, config):
        from aetherops.clients.connect import request_headers, ssl_context
        from aetherops.clients.retry import RetryPolicy

        parts = urlsplit(config.url)
        self.url = config.url
        self.scheme = parts.scheme or "http"
        self.host = parts.hostname or "localhost"
        self.port = parts.port
        self.prefix = parts.path.rstrip("/")
        self.timeout = config.timeout
        self.policy = RetryPolicy.for_service(config)  # the project's one retry policy and TLS/header builder
        self.headers = request_headers(config, Accept="application/json")
        org = (config.options or {}).get("org_id")
        if org:
            self.headers["X-Grafana-Org-Id"] = str(org)
        self.context = ssl_context(config)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[http.client.HTTPConnection] = []

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.scheme == "https":
                conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=self.context)
            else:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def get(self, path: str, params: dict | None = None, headers: dict | None = None) -> Answer:
        """GET ``path`` (below the Grafana URL) -> the answer (any status); transient failures retried by the
        shared :class:`RetryPolicy`; a connection that cannot be made is a ServiceError. :class:`GrafanaClient`
        reads the answer."""
        from aetherops.clients.connect import is_tls_error

        if params:
            path = f"{path}?{urlencode(params, doseq=True)}"
        send = {**self.headers, **(headers or {})}

        def once() -> Answer:
            try:
                conn = self._conn()
                conn.request("GET", self.prefix + path, headers=send)
                response = conn.getresponse()
                answer = Answer(response.status, response.read(), response.reason, response.getheader("Retry-After"))
                if response.will_close:
                    self._drop()
                return answer
            except BaseException:
                self._drop()
                raise

        def transient(outcome: Any) -> bool:
            if isinstance(outcome, Answer):
                return self.policy.is_transient_status(outcome.status_code)
            return isinstance(outcome, (OSError, http.client.HTTPException)) and not is_tls_error(outcome)

        attempts = self.policy.attempts("GET")
        suffix = f" (after {attempts} attempts)" if attempts > 1 else ""
        try:
            return self.policy.run(once, is_transient=transient, retry_after=lambda a: a.retry_after)
        except TimeoutError:
            raise ServiceError(f"grafana {self.url} GET {path}: timed out after {self.timeout:g}s{suffix}", url=self.url) from None
        except (OSError, http.client.HTTPException) as exc:
            if is_tls_error(exc):
                raise ServiceError(f"grafana {self.url} GET {path}: TLS error ({exc})", url=self.url) from None
            raise ServiceError(f"grafana {self.url} GET {path}: cannot connect ({type(exc).__name__}){suffix}", url=self.url) from None

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
