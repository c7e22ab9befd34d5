"""Keep-alive GETs for the backup's hot path (one request per dashboard).

grafana-client (over niquests) spends about 1.3 ms of CPU per request; with 16
worker threads sharing one GIL that, not the network, bounds a 1,000-dashboard
backup (see benchmarks/backup.py). This fetcher sends the same GETs with the
same headers, auth, org, TLS settings, timeout and retries as the profile's
GrafanaService, over one ``http.client`` connection per worker thread, at about
0.4 ms of CPU per request. Everything else (search, folders, writes, restore)
goes through grafana-client. When an HTTP proxy applies to the Grafana host
(``HTTP(S)_PROXY``), :func:`usable` says no and grafana-client does all the work.
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
from aetherops.redact import redact

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


class FastGet:
    """Thread-safe ``get_json(path)``; each worker thread keeps its own connection."""

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

    def get_json(self, path: str, params: dict | None = None, what: str | None = None) -> Any:
        """GET ``path`` (below the Grafana URL); retries transient failures; ServiceError otherwise."""
        what = what or f"GET {path}"
        if params:
            path = f"{path}?{urlencode(params, doseq=True)}"
        last = ""
        for attempt in range(1, self.retries + 1):
            try:
                conn = self._conn()
                conn.request("GET", self.prefix + path, headers=self.headers)
                response = conn.getresponse()
                body = response.read()
                status = response.status
                if response.will_close:
                    self._drop()
            except TimeoutError:
                self._drop()
                last = f"timed out after {self.timeout:g}s"
                status = None
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                last = f"cannot connect ({type(exc).__name__})"
                status = None
            else:
                if status == 200:
                    try:
                        return json.loads(body)
                    except ValueError:
                        raise ServiceError(f"grafana {self.url} {what}: answered with something that is not JSON", url=self.url) from None
                message = _message(body)
                if status not in TRANSIENT_STATUS:
                    raise ServiceError(f"grafana {self.url} {what}: HTTP {status}: {redact(message)}", url=self.url, status=status)
                last = f"HTTP {status}"
            if attempt < self.retries:
                time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        suffix = f" (after {self.retries} attempts)" if self.retries > 1 else ""
        raise ServiceError(f"grafana {self.url} {what}: {last}{suffix}", url=self.url)

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()


class ClientReader:
    """The same ``get_json`` through grafana-client (used when a proxy applies, and by restore)."""

    def __init__(self, service):
        self.service = service
        self.url = service.url

    def get_json(self, path: str, params: dict | None = None, what: str | None = None) -> Any:
        sub = path[len("/api"):] if path.startswith("/api/") else path
        return self.service.call(what or f"GET {path}", self.service.api.client.GET, sub, params=params)

    def close(self) -> None:
        api = self.service.__dict__.get("api")
        if api is not None:
            try:
                api.client.s.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass


def _message(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("message"):
        return " ".join(str(data["message"]).split())
    return " ".join(text.split())[:300]

