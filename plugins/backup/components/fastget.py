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
import ssl
import threading
import time
import urllib.request
from typing import Any
from urllib.parse import urlencode, urlsplit

from aetherops.errors import ServiceError

TRANSIENT_STATUS = frozenset({502, 503, 504})
BACKOFF_SECONDS = 0.2


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

    __slots__ = ("status_code", "content", "reason_phrase")

    def __init__(self, status: int, content: bytes, reason: str):
        self.status_code = status
        self.content = content
        self.reason_phrase = reason

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class FastGet:
    """Thread-safe ``get(path)``; each worker thread keeps its own connection."""

    def __init__(self, config):
        from aetherops import __version__

        parts = urlsplit(config.url)
        self.url = config.url
        self.scheme = parts.scheme or "http"
        self.host = parts.hostname or "localhost"
        self.port = parts.port
        self.prefix = parts.path.rstrip("/")
        self.timeout = config.timeout
        self.retries = max(1, int(config.retries))
        self.headers = {"User-Agent": f"aetherops/{__version__}", "Accept": "application/json", **config.headers,
                        **config.auth_headers()}
        org = (config.options or {}).get("org_id")
        if org:
            self.headers["X-Grafana-Org-Id"] = str(org)
        self.context = None
        if self.scheme == "https":
            verify = config.verify
            if isinstance(verify, str):
                self.context = ssl.create_default_context(cafile=verify)
            elif verify:
                self.context = ssl.create_default_context()
            else:
                self.context = ssl._create_unverified_context()  # noqa: S323 - the profile said tls.verify: false
            if config.cert:
                cert, key = config.cert if isinstance(config.cert, tuple) else (config.cert, None)
                self.context.load_cert_chain(cert, key)
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
        """GET ``path`` (below the Grafana URL) -> the answer (any status); transient failures retried,
        a connection that cannot be made is a ServiceError. :class:`GrafanaClient` reads the answer."""
        if params:
            path = f"{path}?{urlencode(params, doseq=True)}"
        send = {**self.headers, **(headers or {})}
        last = ""
        for attempt in range(1, self.retries + 1):
            try:
                conn = self._conn()
                conn.request("GET", self.prefix + path, headers=send)
                response = conn.getresponse()
                body = response.read()
                answer = Answer(response.status, body, response.reason)
                if response.will_close:
                    self._drop()
            except TimeoutError:
                self._drop()
                last = f"timed out after {self.timeout:g}s"
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                last = f"cannot connect ({type(exc).__name__})"
            else:
                if answer.status_code not in TRANSIENT_STATUS or attempt == self.retries:
                    return answer
                last = f"HTTP {answer.status_code}"
            if attempt < self.retries:
                time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        suffix = f" (after {self.retries} attempts)" if self.retries > 1 else ""
        raise ServiceError(f"grafana {self.url} GET {path}: {last}{suffix}", url=self.url)

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
