"""A contract-faithful Grafana HTTP API double (stdlib only).

No Grafana server can be installed on the machines that run our tests, benchmarks
and sandbox, so :class:`GrafanaDouble` serves the subset of the Grafana 10-12 HTTP API
written down in the project's Grafana contract (``grafana-api.md`` in the shared guide).

Faithful:
  * status codes and error bodies (401 ``auth.unauthorized`` / ``api-key.invalid``,
    412 ``version-mismatch`` / ``name-exists``, 409 duplicate folder uid or
    data source name, 404 ``{"message":"Not found"}`` for unknown routes, 422 for
    ``limit`` > 5000 in search), with ``Content-Type: application/json; charset=UTF-8``
    on errors;
  * the dashboard save logic (``POST /api/dashboards/db``) step by step, in the
    contract's order, including version increments, 20 kept version rows,
    "no folder on update moves to the root" and ``overwrite`` adopting the stored version;
  * version-dependent behaviour, switched by ``grafana_version``: ``name-exists``
    only below 12, the dashboard-versions list wrapped in
    ``{"continueToken","versions"}`` from 11.6, ``folderUid`` in the save response
    from 11, folder uids readable through ``/api/dashboards/uid`` below 12, and
    Grafana 9's lowercase 401 bodies below 10;
  * search sorting (folders first, then case-insensitive title), paging and filters;
  * secrets: ``secureJsonData`` is stored but only ever shown as ``secureJsonFields``.

Simplified:
  * one organisation (``X-Grafana-Org-Id`` other than ``org_id`` gives 401, an
    assumption); every authenticated caller is an admin (no 403s, no permissions);
    ``createdBy``/``updatedBy`` are always ``"admin"``;
  * no unified-storage ``/apis/...`` routes for Grafana 13; no annotations, users,
    teams, snapshots; library panels, alert rules and contact points can be listed,
    read and created over HTTP (``POST /api/library-elements`` -> 200 ``{"result"}``,
    400 on a duplicate name in the folder or uid; ``POST /api/v1/provisioning/alert-rules``
    -> 201, 409 on a duplicate uid, 400 without title/folderUID; ``POST
    /api/v1/provisioning/contact-points`` -> 202, 400 on a duplicate uid), not updated
    or deleted (seed them with the ``add_*`` helpers);
  * slugs are ASCII-only (``"Prod DB"`` -> ``prod-db``); timestamps are UTC with ``Z``;
  * messages for rare 400s (missing data source name, long save message, alert rules
    blocking a folder delete) are plausible, not verified against Grafana.

Run alone: ``python -m aetherops.testing.grafana_double --port 3000 --seed-demo``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import hmac
import json
import random
import re
import signal
import socket
import string
import struct
import sys
import threading
import time
import traceback
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["ALL_FEATURES", "DoubleError", "GrafanaDouble", "main"]

#: Optional API families; pass a subset as ``features=`` to turn the others off (-> 404).
ALL_FEATURES = frozenset({"library_panels", "alerting"})
#: Grafana's default ``[dashboards] versions_to_keep``.
VERSIONS_TO_KEEP = 20

_UID_RE = re.compile(r"^[a-zA-Z0-9\-_]*$")
_UID_ALPHABET = string.ascii_letters + string.digits
_JSON = "application/json"
_JSON_UTF8 = "application/json; charset=UTF-8"
_NOT_FOUND = {"message": "Not found"}
_DASH_NOT_FOUND = {"message": "Dashboard not found"}
_FOLDER_NOT_FOUND = {"status": "not-found", "message": "folder not found"}
_DS_NOT_FOUND = {"message": "Data source not found"}
_BAD_REQUEST = {"message": "bad request data"}
_TYPE_NAMES = {
    "prometheus": "Prometheus",
    "alertmanager": "Alertmanager",
    "loki": "Loki",
    "tempo": "Tempo",
    "elasticsearch": "Elasticsearch",
    "graphite": "Graphite",
    "influxdb": "InfluxDB",
    "postgres": "PostgreSQL",
    "mysql": "MySQL",
    "testdata": "TestData",
}


class DoubleError(Exception):
    """A request the double rejects: ``status`` and the JSON ``body`` Grafana would send.

    Raised by the seeding helpers (e.g. :meth:`GrafanaDouble.add_dashboard`) with the same
    status and body the HTTP API would answer.
    """

    def __init__(self, status: int, body: Any):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug


def _version_tuple(version: str) -> tuple[int, int, int]:
    parts = [int(p) for p in re.findall(r"\d+", version.split("-")[0].split("+")[0])[:3]]
    while len(parts) < 3:
        parts.append(0)
    return parts[0], parts[1], parts[2]


def _as_int(value: Any, default: int = 0) -> int:
    """Like Go's ``MustInt64``/``QueryInt``: anything that is not an integer becomes ``default``."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return default
    return default


def _first(query: dict[str, list[str]], key: str, default: str = "") -> str:
    values = query.get(key)
    return values[0] if values else default


def _multi(query: dict[str, list[str]], key: str) -> list[str]:
    out: list[str] = []
    for value in query.get(key, []):
        out.extend(v for v in value.split(",") if v)
    return out


class _Request:
    __slots__ = ("method", "path", "query", "groups", "raw", "headers")

    def __init__(self, method, path, query, groups, raw, headers):
        self.method = method
        self.path = path
        self.query = query
        self.groups = groups
        self.raw = raw
        self.headers = headers

    def json(self) -> dict:
        """The body as a JSON object, or 400 ``bad request data`` like Grafana's binding."""
        try:
            body = json.loads(self.raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise DoubleError(400, _BAD_REQUEST) from None
        if not isinstance(body, dict):
            raise DoubleError(400, _BAD_REQUEST)
        return body


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, address, handler, double: GrafanaDouble):
        self.double = double
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GrafanaDouble/1.0"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are closed after this
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms delayed-ACK stalls

    def log_message(self, format, *args):  # quiet; see GrafanaDouble.request_log
        pass

    def _handle(self):
        self.server.double._serve(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class GrafanaDouble:
    """An in-memory Grafana API server for tests, benchmarks and the sandbox.

    ``GrafanaDouble(token="glsa_x").start()`` serves on a free loopback port in a
    daemon thread; ``.url`` is its base URL. Requests run concurrently
    (``ThreadingHTTPServer``); all state sits behind one lock.

    Args:
        host, port: where to listen; ``port=0`` picks a free port.
        token: if set (or ``basic_auth``), every route but ``GET /api/health`` needs
            ``Authorization: Bearer <token>`` (or matching Basic credentials).
        basic_auth: ``(user, password)`` accepted as Basic credentials.
        latency_ms: sleep per request (settable at runtime, does not serialise requests).
        grafana_version: the version reported and used for version-dependent behaviour.
        features: subset of :data:`ALL_FEATURES` to offer; the rest answer 404.
        hide_version: omit ``version``/``commit`` from ``/api/health``.
        org_id: the single organisation's id.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        latency_ms: float = 0,
        grafana_version: str = "11.2.0",
        *,
        features: set[str] | frozenset[str] | None = None,
        hide_version: bool = False,
        org_id: int = 1,
    ):
        features = ALL_FEATURES if features is None else frozenset(features)
        unknown = set(features) - ALL_FEATURES
        if unknown:
            raise ValueError(f"unknown features {sorted(unknown)}; known: {sorted(ALL_FEATURES)}")
        self.host = host
        self._requested_port = port
        self.token = token
        self.basic_auth = tuple(basic_auth) if basic_auth else None
        self.latency_ms = latency_ms
        self.grafana_version = grafana_version
        self.features = features
        self.hide_version = hide_version
        self.org_id = org_id
        self.commit = "4f5a2c1d9e"
        #: Make ``/api/health`` answer 503 ``"database":"failing"``.
        self.database_failing = False
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._rng = random.Random()
        self._routes = self._build_routes()
        self.reset()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> GrafanaDouble:
        """Bind and serve in a daemon thread; returns ``self``."""
        if self._server is not None:
            return self
        cls = _Server6 if ":" in self.host else _Server
        self._server = cls((self.host, self._requested_port), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"grafana-double:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open keep-alive connections."""
        server, self._server = self._server, None
        if server is None:
            return
        # serve_forever notices shutdown only between polls; poke it with connections so
        # stop() takes milliseconds instead of up to a poll interval
        waiter = threading.Thread(target=server.shutdown, daemon=True)
        waiter.start()
        host = server.server_address[0]
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
        while waiter.is_alive():
            try:
                socket.create_connection((host, server.server_address[1]), timeout=0.2).close()
            except OSError:
                pass
            waiter.join(0.01)
        with server.sockets_lock:
            sockets = list(server.open_sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> GrafanaDouble:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`), else the requested one."""
        if self._server is not None:
            return self._server.server_address[1]
        return self._requested_port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:43123`` (no trailing slash)."""
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    # ------------------------------------------------------------------ state and seeding

    def reset(self) -> None:
        """Forget all objects, faults and logged requests (configuration is kept)."""
        with self._lock:
            self._next_id = 1  # dashboards and folders share one id sequence, like Grafana's dashboard table
            self._next_version_id = 1
            self._next_ds_id = 1
            self._next_lib_id = 1
            self._next_rule_id = 1
            self._dashboards: dict[int, dict] = {}
            self._dash_uids: dict[str, int] = {}
            self._folders: dict[str, dict] = {}
            self._versions: dict[int, list[dict]] = {}
            self._datasources: dict[int, dict] = {}
            self._library: dict[str, dict] = {}
            self._rules: dict[str, dict] = {}
            self._contact_points: dict[str, dict] = {}
            self._starred: set[str] = set()
            self._faults: list[dict] = []
            self._log: list[tuple[str, str, int]] = []
            self.database_failing = False

    @property
    def state(self) -> dict:
        """A deep-copied snapshot of everything stored, secrets included (for assertions)."""
        with self._lock:
            return copy.deepcopy(
                {
                    "folders": list(self._folders.values()),
                    "dashboards": list(self._dashboards.values()),
                    "versions": {self._dashboards[i]["uid"]: rows for i, rows in self._versions.items() if i in self._dashboards},
                    "datasources": list(self._datasources.values()),
                    "library_panels": list(self._library.values()),
                    "alert_rules": list(self._rules.values()),
                    "contact_points": list(self._contact_points.values()),
                    "starred": sorted(self._starred),
                }
            )

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        """``(method, path_without_query, status)`` per request; status 0 for an injected reset."""
        with self._lock:
            return list(self._log)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._log)

    def get_dashboard(self, uid: str) -> dict | None:
        """The stored dashboard JSON (a copy), or None."""
        with self._lock:
            rec = self._dash_by_uid(uid)
            return copy.deepcopy(rec["data"]) if rec else None

    def get_folder(self, uid: str) -> dict | None:
        """The folder as ``GET /api/folders/:uid`` shows it, or None."""
        with self._lock:
            return self._folder_dto(self._folders[uid]) if uid in self._folders else None

    def add_folder(self, title: str, uid: str | None = None, parent_uid: str | None = None) -> dict:
        """Create a folder like ``POST /api/folders``; returns its DTO. Raises :class:`DoubleError`."""
        body: dict[str, Any] = {"title": title}
        if uid is not None:
            body["uid"] = uid
        if parent_uid is not None:
            body["parentUid"] = parent_uid
        return self._create_folder(body)

    def add_dashboard(
        self,
        dashboard: dict,
        folder_uid: str | None = None,
        *,
        overwrite: bool = False,
        message: str = "",
        provisioned: bool = False,
        plugin_id: str | None = None,
    ) -> dict:
        """Save like ``POST /api/dashboards/db`` (same checks); returns the success body.

        ``provisioned``/``plugin_id`` mark the stored dashboard so later saves and deletes
        are rejected the way Grafana rejects them. Raises :class:`DoubleError`.
        """
        body = {"dashboard": dashboard, "overwrite": overwrite, "message": message}
        if folder_uid:
            body["folderUid"] = folder_uid
        result = self._save_dashboard(body)
        if provisioned or plugin_id:
            with self._lock:
                rec = self._dashboards[result["id"]]
                rec["provisioned"] = provisioned
                rec["provisioned_external_id"] = f"{result['slug']}.json" if provisioned else ""
                rec["plugin_id"] = plugin_id or ""
        return result

    def add_datasource(self, datasource: dict) -> dict:
        """Create like ``POST /api/datasources``; returns the data source without secrets."""
        return self._create_datasource(copy.deepcopy(datasource))["datasource"]

    def get_datasource_secrets(self, uid: str) -> dict:
        """The stored ``secureJsonData`` of a data source (never served over HTTP)."""
        with self._lock:
            for rec in self._datasources.values():
                if rec["uid"] == uid:
                    return dict(rec["secure"])
        raise KeyError(uid)

    def star(self, uid: str) -> None:
        """Star a dashboard for the (single) user: ``isStarred`` and ``starred=true`` see it."""
        with self._lock:
            self._starred.add(uid)

    def add_library_panel(self, name: str, model: dict | None = None, folder_uid: str | None = None, uid: str | None = None) -> dict:
        """Store a library panel; returns the element as ``GET /api/library-elements/:uid`` shows it."""
        with self._lock:
            folder = self._folders.get(folder_uid) if folder_uid else None
            if folder_uid and folder is None:
                raise DoubleError(404, _FOLDER_NOT_FOUND)
            uid = uid or self._new_uid(self._library)
            if uid in self._library:
                raise DoubleError(400, {"message": "library element with that uid already exists"})
            model = copy.deepcopy(model) if model else {"type": "timeseries", "title": name}
            now = _now()
            elem = {
                "id": self._next_lib_id,
                "orgId": self.org_id,
                "folderId": folder["id"] if folder else 0,
                "folderUid": folder_uid or "",
                "uid": uid,
                "name": name,
                "kind": 1,
                "type": model.get("type", "timeseries"),
                "description": model.get("description", ""),
                "model": model,
                "version": 1,
                "meta": {
                    "folderName": folder["title"] if folder else "General",
                    "folderUid": folder_uid or "",
                    "connectedDashboards": 0,
                    "created": now,
                    "updated": now,
                    "createdBy": {"id": 1, "name": "admin", "avatarUrl": "/avatar/46d229b033af06a191ff2267bca9ae56"},
                    "updatedBy": {"id": 1, "name": "admin", "avatarUrl": "/avatar/46d229b033af06a191ff2267bca9ae56"},
                },
            }
            self._next_lib_id += 1
            self._library[uid] = elem
            return copy.deepcopy(elem)

    def add_alert_rule(self, rule: dict) -> dict:
        """Store a Grafana-managed alert rule (provisioning API shape); missing fields get defaults."""
        with self._lock:
            rule = copy.deepcopy(rule)
            folder_uid = rule.get("folderUID", "")
            if folder_uid and folder_uid not in self._folders:
                raise DoubleError(404, _FOLDER_NOT_FOUND)
            uid = rule.get("uid") or self._new_uid(self._rules)
            if uid in self._rules:
                raise DoubleError(409, {"message": "a rule with this UID already exists"})
            full = {
                "id": self._next_rule_id,
                "uid": uid,
                "orgID": self.org_id,
                "folderUID": folder_uid,
                "ruleGroup": "default",
                "title": "Unnamed rule",
                "condition": "A",
                "data": [],
                "updated": _now(),
                "noDataState": "NoData",
                "execErrState": "Error",
                "for": "5m",
                "annotations": {},
                "labels": {},
                "provenance": "",
                "isPaused": False,
            }
            full.update(rule)
            full["uid"] = uid
            self._next_rule_id += 1
            self._rules[uid] = full
            return copy.deepcopy(full)

    def add_contact_point(self, contact_point: dict) -> dict:
        """Store a contact point (provisioning API shape). Settings are returned as stored."""
        with self._lock:
            cp = {"uid": "", "name": "", "type": "email", "settings": {}, "disableResolveMessage": False}
            cp.update(copy.deepcopy(contact_point))
            cp["uid"] = cp["uid"] or self._new_uid(self._contact_points)
            self._contact_points[cp["uid"]] = cp
            return copy.deepcopy(cp)

    def inject_fault(self, path_prefix: str, status: int = 503, count: int | None = 1, method: str | None = None, reset: bool = False) -> None:
        """Fail the next ``count`` requests whose path starts with ``path_prefix``.

        They get ``status`` with a JSON error body, or with ``reset=True`` the connection is
        closed without a response. ``method`` restricts the match (``"GET"``...);
        ``count=None`` keeps failing until :meth:`clear_faults`. Faults apply before auth.
        """
        with self._lock:
            self._faults.append(
                {"prefix": path_prefix, "status": status, "remaining": count, "method": method.upper() if method else None, "reset": reset}
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def seed_demo(self) -> dict:
        """Seed folders, six Prometheus dashboards, two data sources (one with a secret
        basic-auth password), a library panel, an alert rule and a contact point."""
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
            })
            self.add_contact_point({"uid": "oncall-email", "name": "oncall", "type": "email", "settings": {"addresses": "oncall@example.com"}})
            return {"folders": len(self._folders), "dashboards": len(self._dashboards), "datasources": len(self._datasources)}

    # ------------------------------------------------------------------ HTTP plumbing

    def _serve(self, handler: _Handler) -> None:
        method = handler.command
        split = urlsplit(handler.path)
        path = split.path
        try:
            raw = self._read_body(handler)
        except (OSError, ValueError):
            handler.close_connection = True
            return
        latency = self.latency_ms
        if latency and latency > 0:
            time.sleep(latency / 1000.0)
        fault = self._take_fault(method, path)
        if fault is not None and fault["reset"]:
            self._record(method, path, 0)
            self._reset_connection(handler)
            return
        content_type = _JSON
        pretty = False
        if fault is not None:
            status = fault["status"]
            body: Any = {"message": f"injected fault: {status} {handler.responses.get(status, ('',))[0]}".strip()}
        else:
            query = parse_qs(split.query, keep_blank_values=True)
            status, body, pretty = self._dispatch(method, path, query, raw, handler.headers)
            if path == "/api/health":
                content_type = _JSON_UTF8
        if status >= 400:
            content_type = _JSON_UTF8
        if pretty:
            data = json.dumps(body, indent=2, sort_keys=True).encode()
        else:
            data = json.dumps(body, separators=(",", ":")).encode()
        self._record(method, path, status)
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(data)))
            handler.send_header("Cache-Control", "no-store")
            handler.send_header("X-Content-Type-Options", "nosniff")
            handler.end_headers()
            if method != "HEAD":
                handler.wfile.write(data)
        except OSError:
            handler.close_connection = True

    @staticmethod
    def _read_body(handler: _Handler) -> bytes:
        if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(handler.rfile.read(size))
                handler.rfile.readline()
        length = int(handler.headers.get("Content-Length") or 0)
        return handler.rfile.read(length) if length > 0 else b""

    @staticmethod
    def _reset_connection(handler: _Handler) -> None:
        handler.close_connection = True
        try:  # RST instead of FIN where the platform allows it
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except (OSError, struct.error):
            pass

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._log.append((method, path, status))

    def _take_fault(self, method: str, path: str) -> dict | None:
        with self._lock:
            for fault in self._faults:
                if fault["remaining"] is not None and fault["remaining"] <= 0:
                    continue
                if fault["method"] and fault["method"] != method:
                    continue
                if not path.startswith(fault["prefix"]):
                    continue
                if fault["remaining"] is not None:
                    fault["remaining"] -= 1
                return fault
        return None

    def _dispatch(self, method, path, query, raw, headers) -> tuple[int, Any, bool]:
        for route_method, pattern, fn, feature, needs_auth in self._routes:
            if route_method != method and not (method == "HEAD" and route_method == "GET"):
                continue
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if feature and feature not in self.features:
                return 404, _NOT_FOUND, False
            try:
                if needs_auth:
                    self._check_auth(headers)
                req = _Request(method, path, query, tuple(unquote(g) for g in match.groups()), raw, headers)
                result = fn(req)
            except DoubleError as exc:
                return exc.status, exc.body, False
            except Exception:  # a bug in the double: answer like Grafana would, and say why on stderr
                traceback.print_exc()
                return 500, {"message": "Internal Server Error"}, False
            if len(result) == 3:
                return result
            return result[0], result[1], False
        return 404, _NOT_FOUND, False

    def _check_auth(self, headers) -> None:
        if self.token is None and self.basic_auth is None:
            return
        legacy = self._ver < (10, 0, 0)

        def unauthorized(message_id: str, message: str, legacy_message: str):
            if legacy:
                return DoubleError(401, {"message": legacy_message})
            return DoubleError(401, {"extra": None, "message": message, "messageId": message_id, "statusCode": 401, "traceID": ""})

        header = headers.get("Authorization", "").strip()
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if not header or not credential:
            raise unauthorized("auth.unauthorized", "Unauthorized", "Unauthorized")
        if scheme.lower() == "bearer":
            if self.token is None or not hmac.compare_digest(credential.encode(), self.token.encode()):
                raise unauthorized("api-key.invalid", "Invalid API key", "invalid API key")
        elif scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(credential, validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise unauthorized("auth.unauthorized", "Unauthorized", "Unauthorized") from None
            expected = self.basic_auth
            if expected is None or not (
                hmac.compare_digest(user.encode(), expected[0].encode()) and hmac.compare_digest(password.encode(), expected[1].encode())
            ):
                raise unauthorized("password-auth.failed", "Invalid username or password", "invalid username or password")
        else:
            raise unauthorized("auth.unauthorized", "Unauthorized", "Unauthorized")
        org = headers.get("X-Grafana-Org-Id")
        if org is not None and org.strip() != str(self.org_id):
            raise unauthorized("auth.unauthorized", "Unauthorized", "Unauthorized")

    def _build_routes(self):
        seg = r"([^/]+)"
        table = [
            ("GET", "/api/health", self._h_health, None, False),
            ("GET", "/api/frontend/settings", self._h_frontend_settings, None, True),
            ("GET", "/api/search", self._h_search, None, True),
            ("GET", "/api/dashboards/tags", self._h_dashboard_tags, None, True),
            ("POST", "/api/dashboards/db", self._h_save_dashboard, None, True),
            ("GET", f"/api/dashboards/uid/{seg}", self._h_get_dashboard, None, True),
            ("DELETE", f"/api/dashboards/uid/{seg}", self._h_delete_dashboard, None, True),
            ("GET", f"/api/dashboards/uid/{seg}/versions", self._h_versions, None, True),
            ("GET", f"/api/dashboards/uid/{seg}/versions/{seg}", self._h_version, None, True),
            ("POST", f"/api/dashboards/uid/{seg}/restore", self._h_restore, None, True),
            ("GET", r"/api/dashboards/id/(\d+)/versions", self._by_dash_id(self._h_versions), None, True),
            ("GET", rf"/api/dashboards/id/(\d+)/versions/{seg}", self._by_dash_id(self._h_version), None, True),
            ("POST", r"/api/dashboards/id/(\d+)/restore", self._by_dash_id(self._h_restore), None, True),
            ("GET", "/api/folders", self._h_list_folders, None, True),
            ("POST", "/api/folders", self._h_create_folder, None, True),
            ("GET", r"/api/folders/id/(\d+)", self._h_get_folder_by_id, None, True),
            ("GET", f"/api/folders/{seg}", self._h_get_folder, None, True),
            ("PUT", f"/api/folders/{seg}", self._h_update_folder, None, True),
            ("DELETE", f"/api/folders/{seg}", self._h_delete_folder, None, True),
            ("POST", f"/api/folders/{seg}/move", self._h_move_folder, None, True),
            ("GET", "/api/datasources", self._h_list_datasources, None, True),
            ("POST", "/api/datasources", self._h_create_datasource, None, True),
            ("GET", f"/api/datasources/uid/{seg}", self._ds_route("uid", "get"), None, True),
            ("PUT", f"/api/datasources/uid/{seg}", self._ds_route("uid", "put"), None, True),
            ("DELETE", f"/api/datasources/uid/{seg}", self._ds_route("uid", "delete"), None, True),
            ("GET", f"/api/datasources/name/{seg}", self._ds_route("name", "get"), None, True),
            ("DELETE", f"/api/datasources/name/{seg}", self._ds_route("name", "delete"), None, True),
            ("GET", f"/api/datasources/id/{seg}", self._h_datasource_id_by_name, None, True),
            ("GET", r"/api/datasources/(\d+)", self._ds_route("id", "get"), None, True),
            ("PUT", r"/api/datasources/(\d+)", self._ds_route("id", "put"), None, True),
            ("DELETE", r"/api/datasources/(\d+)", self._ds_route("id", "delete"), None, True),
            ("GET", "/api/library-elements", self._h_list_library, "library_panels", True),
            ("POST", "/api/library-elements", self._h_create_library, "library_panels", True),
            ("GET", f"/api/library-elements/{seg}", self._h_get_library, "library_panels", True),
            ("GET", "/api/v1/provisioning/alert-rules", self._h_list_rules, "alerting", True),
            ("POST", "/api/v1/provisioning/alert-rules", self._h_create_rule, "alerting", True),
            ("GET", f"/api/v1/provisioning/alert-rules/{seg}", self._h_get_rule, "alerting", True),
            ("GET", "/api/v1/provisioning/contact-points", self._h_list_contact_points, "alerting", True),
            ("POST", "/api/v1/provisioning/contact-points", self._h_create_contact_point, "alerting", True),
        ]
        return [(m, re.compile(p), fn, feature, auth) for m, p, fn, feature, auth in table]

    # ------------------------------------------------------------------ small internals

    @property
    def _ver(self) -> tuple[int, int, int]:
        return _version_tuple(self.grafana_version)

    def _new_uid(self, *taken: dict) -> str:
        while True:
            uid = self._rng.choice(string.ascii_lowercase) + "".join(self._rng.choices(_UID_ALPHABET, k=8))
            if uid in self._folders or uid in self._dash_uids or any(uid in t for t in taken):
                continue
            return uid

    def _dash_by_uid(self, uid: str) -> dict | None:
        dash_id = self._dash_uids.get(uid)
        return self._dashboards.get(dash_id) if dash_id is not None else None

    def _folder_by_id(self, folder_id: int) -> dict | None:
        for folder in self._folders.values():
            if folder["id"] == folder_id:
                return folder
        return None

    @staticmethod
    def _folder_url(folder: dict) -> str:
        return f"/dashboards/f/{folder['uid']}/{_slugify(folder['title'])}"

    def _folder_parents(self, folder: dict) -> list[dict]:
        chain = []
        parent = folder.get("parent_uid")
        while parent and parent in self._folders and len(chain) < 64:
            chain.append(self._folders[parent])
            parent = self._folders[parent].get("parent_uid")
        return list(reversed(chain))

    def _folder_dto(self, folder: dict, with_parents: bool = True) -> dict:
        dto = {
            "id": folder["id"],
            "uid": folder["uid"],
            "orgId": self.org_id,
            "title": folder["title"],
            "url": self._folder_url(folder),
            "hasAcl": False,
            "canSave": True,
            "canEdit": True,
            "canAdmin": True,
            "canDelete": True,
            "createdBy": folder["created_by"],
            "created": folder["created"],
            "updatedBy": folder["updated_by"],
            "updated": folder["updated"],
            "version": folder["version"],
        }
        if folder.get("parent_uid"):
            dto["parentUid"] = folder["parent_uid"]
            if with_parents:
                dto["parents"] = [self._folder_dto(p, with_parents=False) for p in self._folder_parents(folder)]
        return dto

    def _subtree(self, uid: str) -> list[str]:
        """``uid`` and all folders below it."""
        out, todo = [], [uid]
        while todo:
            current = todo.pop()
            out.append(current)
            todo.extend(f["uid"] for f in self._folders.values() if f.get("parent_uid") == current)
        return out

    # ------------------------------------------------------------------ health and settings

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

    # ------------------------------------------------------------------ search

    def _h_search(self, req: _Request):
        q = req.query
        limit = _as_int(_first(q, "limit"))
        if limit > 5000:
            raise DoubleError(422, {"message": "Limit is above maximum allowed (5000), use page parameter to access hits beyond limit"})
        if limit < 1:
            limit = 1000
        page = max(_as_int(_first(q, "page"), 1), 1)
        text = _first(q, "query").lower()
        tags = [t for t in q.get("tag", []) if t]
        kind = _first(q, "type")
        dash_uids = set(_multi(q, "dashboardUIDs"))
        dash_ids = {_as_int(i, -1) for i in _multi(q, "dashboardIds")}
        folder_uids = set(_multi(q, "folderUIDs"))
        folder_ids = {_as_int(i, -1) for i in _multi(q, "folderIds")}
        starred = _first(q, "starred").lower() == "true"

        def folder_ok(parent_uid: str) -> bool:
            if folder_uids and not (parent_uid in folder_uids or (not parent_uid and "general" in folder_uids)):
                return False
            if folder_ids:
                parent = self._folders.get(parent_uid) if parent_uid else None
                if (parent["id"] if parent else 0) not in folder_ids:
                    return False
            return True

        with self._lock:
            hits = []
            if kind != "dash-db" and not tags and not starred:
                for folder in self._folders.values():
                    if text and text not in folder["title"].lower():
                        continue
                    if (dash_uids and folder["uid"] not in dash_uids) or (dash_ids and folder["id"] not in dash_ids):
                        continue
                    if not folder_ok(folder.get("parent_uid") or ""):
                        continue
                    hits.append(self._folder_hit(folder))
            if kind != "dash-folder":
                for rec in self._dashboards.values():
                    if text and text not in rec["title"].lower():
                        continue
                    if (dash_uids and rec["uid"] not in dash_uids) or (dash_ids and rec["id"] not in dash_ids):
                        continue
                    if not folder_ok(rec["folder_uid"]):
                        continue
                    rec_tags = rec["data"].get("tags") or []
                    if tags and not all(t in rec_tags for t in tags):
                        continue
                    if starred and rec["uid"] not in self._starred:
                        continue
                    hits.append(self._dash_hit(rec))
        hits.sort(key=lambda h: (h["type"] != "dash-folder", h["title"].lower(), h["uid"]))
        start = (page - 1) * limit
        return 200, hits[start : start + limit]

    def _parent_keys(self, parent_uid: str) -> dict:
        parent = self._folders.get(parent_uid) if parent_uid else None
        if parent is None:
            return {}
        return {"folderId": parent["id"], "folderUid": parent["uid"], "folderTitle": parent["title"], "folderUrl": self._folder_url(parent)}

    def _folder_hit(self, folder: dict) -> dict:
        slug = _slugify(folder["title"])
        hit = {
            "id": folder["id"], "uid": folder["uid"], "orgId": self.org_id, "title": folder["title"], "uri": f"db/{slug}",
            "url": self._folder_url(folder), "slug": "", "type": "dash-folder", "tags": [], "isStarred": False, "sortMeta": 0,
        }
        hit.update(self._parent_keys(folder.get("parent_uid") or ""))
        return hit

    def _dash_hit(self, rec: dict) -> dict:
        slug = _slugify(rec["title"])
        tags = sorted(t for t in (rec["data"].get("tags") or []) if isinstance(t, str))
        hit = {
            "id": rec["id"], "uid": rec["uid"], "orgId": self.org_id, "title": rec["title"], "uri": f"db/{slug}",
            "url": f"/d/{rec['uid']}/{slug}", "slug": "", "type": "dash-db", "tags": tags,
            "isStarred": rec["uid"] in self._starred, "sortMeta": 0,
        }
        hit.update(self._parent_keys(rec["folder_uid"]))
        return hit

    def _h_dashboard_tags(self, req: _Request):
        counts: dict[str, int] = {}
        with self._lock:
            for rec in self._dashboards.values():
                for tag in rec["data"].get("tags") or []:
                    counts[tag] = counts.get(tag, 0) + 1
        return 200, [{"term": t, "count": n} for t, n in sorted(counts.items())]

    # ------------------------------------------------------------------ dashboards

    def _h_get_dashboard(self, req: _Request):
        uid = req.groups[0]
        with self._lock:
            rec = self._dash_by_uid(uid)
            if rec is None:
                folder = self._folders.get(uid)
                if folder is not None and self._ver < (12, 0, 0):
                    return 200, self._folder_as_dashboard(folder)
                raise DoubleError(404, _DASH_NOT_FOUND)
            slug = _slugify(rec["title"])
            meta: dict[str, Any] = {
                "type": "db", "canSave": True, "canEdit": True, "canAdmin": True, "canStar": True, "canDelete": True,
                "slug": slug, "url": f"/d/{rec['uid']}/{slug}", "expires": "0001-01-01T00:00:00Z",
                "created": rec["created"], "updated": rec["updated"], "updatedBy": rec["updated_by"], "createdBy": rec["created_by"],
                "version": rec["version"], "hasAcl": False, "isFolder": False, "folderId": 0,
            }
            parent = self._parent_keys(rec["folder_uid"])
            if parent:
                meta.update(parent)
            else:
                meta.update({"folderTitle": "General", "folderUrl": ""})
            meta["provisioned"] = rec["provisioned"]
            meta["provisionedExternalId"] = rec["provisioned_external_id"]
            return 200, {"dashboard": copy.deepcopy(rec["data"]), "meta": meta}

    def _folder_as_dashboard(self, folder: dict) -> dict:
        """Grafana < 12 keeps folders in the dashboard table, so their uid resolves here too."""
        slug = _slugify(folder["title"])
        meta = {
            "type": "db", "canSave": True, "canEdit": True, "canAdmin": True, "canStar": False, "canDelete": True,
            "slug": slug, "url": self._folder_url(folder), "expires": "0001-01-01T00:00:00Z",
            "created": folder["created"], "updated": folder["updated"], "updatedBy": folder["updated_by"],
            "createdBy": folder["created_by"], "version": folder["version"], "hasAcl": False, "isFolder": True, "folderId": 0,
        }
        parent = self._parent_keys(folder.get("parent_uid") or "")
        meta.update(parent or {"folderTitle": "General", "folderUrl": ""})
        meta.update({"provisioned": False, "provisionedExternalId": ""})
        data = {"id": folder["id"], "uid": folder["uid"], "title": folder["title"], "version": folder["version"], "schemaVersion": 17}
        return {"dashboard": data, "meta": meta}

    def _h_save_dashboard(self, req: _Request):
        return 200, self._save_dashboard(req.json())

    def _save_dashboard(self, body: dict, restored_from: int = 0) -> dict:
        """``POST /api/dashboards/db``: the contract's steps 1-6, in order."""
        if not isinstance(body, dict):
            raise DoubleError(400, _BAD_REQUEST)
        dash = body.get("dashboard")
        if dash is None:
            dash = {}
        if not isinstance(dash, dict):
            raise DoubleError(400, _BAD_REQUEST)
        dash = copy.deepcopy(dash)
        overwrite = body.get("overwrite") is True
        message = body.get("message") or ""
        message = message if isinstance(message, str) else json.dumps(message)
        dash_id = _as_int(dash.get("id")) if not isinstance(dash.get("id"), str) else 0
        uid = dash.get("uid") if isinstance(dash.get("uid"), str) else ""
        title = dash.get("title") if isinstance(dash.get("title"), str) else ""
        version = _as_int(dash.get("version")) if not isinstance(dash.get("version"), str) else 0

        with self._lock:
            # 1. id set but unknown
            by_id = None
            if dash_id:
                by_id = self._dashboards.get(dash_id)
                if by_id is None:
                    raise DoubleError(404, {"message": "Dashboard not found", "status": "not-found"})
                if not uid:
                    uid = by_id["uid"]
            by_uid = self._dash_by_uid(uid) if uid else None
            if by_uid is None and uid in self._folders:
                raise DoubleError(400, {"message": "Dashboard cannot be changed to a folder"})
            # 2. id and uid point to different dashboards
            if by_id is not None and by_uid is not None and by_id["id"] != by_uid["id"]:
                raise DoubleError(400, {"message": "A dashboard with the same uid already exists"})
            existing = by_id or by_uid
            # 3. optimistic locking
            if existing is not None and version != existing["version"]:
                if not overwrite:
                    raise DoubleError(412, {"message": "The dashboard has been changed by someone else", "status": "version-mismatch"})
                version = existing["version"]
            # the target folder: folderUid wins over the deprecated folderId; neither means the root
            folder_uid, folder_missing = "", False
            ref_uid, ref_id = body.get("folderUid"), _as_int(body.get("folderId"))
            if isinstance(ref_uid, str) and ref_uid:
                folder_uid, folder_missing = ref_uid, ref_uid not in self._folders
            elif ref_id:
                folder = self._folder_by_id(ref_id)
                folder_uid, folder_missing = (folder["uid"], False) if folder else (str(ref_id), True)
            # 4. same title in the same folder (errors.go up to 11.x)
            if self._ver < (12, 0, 0) and title.strip():
                own_id = existing["id"] if existing else None
                clash = next(
                    (r for r in self._dashboards.values() if r["title"] == title and r["folder_uid"] == folder_uid and r["id"] != own_id),
                    None,
                )
                if clash is not None:
                    if not overwrite:
                        raise DoubleError(412, {"message": "A dashboard with the same name in the folder already exists", "status": "name-exists"})
                    existing, uid, version = clash, clash["uid"], clash["version"]  # Grafana overwrites the same-named one
            # 5. other rejections
            if existing is not None and existing["plugin_id"]:
                raise DoubleError(412, {"message": f"The dashboard belongs to plugin {existing['plugin_id']}.", "status": "plugin-dashboard"})
            if existing is not None and existing["provisioned"]:
                raise DoubleError(400, {"message": "Cannot save provisioned dashboard"})
            if not title.strip():
                raise DoubleError(400, {"message": "Dashboard title cannot be empty", "status": "empty-name"})
            if not _UID_RE.match(uid):
                raise DoubleError(400, {"message": "uid contains illegal characters"})
            if len(uid) > 40:
                raise DoubleError(400, {"message": "uid too long, max 40 characters"})
            if len(message) > 500:
                raise DoubleError(400, {"message": "Dashboard message too long, max 500 characters"})
            if folder_missing:
                raise DoubleError(404, {"message": "Folder not found"})
            # 6. success
            now = _now()
            if existing is not None:
                rec = existing
                parent_version = rec["version"]
                new_version = version + 1
                if uid != rec["uid"]:  # an update by id may rename the uid
                    self._dash_uids.pop(rec["uid"], None)
                    self._dash_uids[uid] = rec["id"]
                    rec["uid"] = uid
            else:
                uid = uid or self._new_uid()
                rec = {
                    "id": self._next_id, "uid": uid, "created": now, "created_by": "admin",
                    "provisioned": False, "provisioned_external_id": "", "plugin_id": "",
                }
                self._next_id += 1
                self._dashboards[rec["id"]] = rec
                self._dash_uids[uid] = rec["id"]
                parent_version, new_version = 0, 1
            dash.update({"id": rec["id"], "uid": uid, "title": title, "version": new_version})
            rec.update({"title": title, "folder_uid": folder_uid, "version": new_version, "updated": now, "updated_by": "admin", "data": dash})
            rows = self._versions.setdefault(rec["id"], [])
            rows.append({
                "id": self._next_version_id, "dashboardId": rec["id"], "uid": uid, "parentVersion": parent_version,
                "restoredFrom": restored_from, "version": new_version, "created": now, "createdBy": "admin",
                "message": message, "data": copy.deepcopy(dash),
            })
            self._next_version_id += 1
            del rows[:-VERSIONS_TO_KEEP]
            slug = _slugify(title)
            result = {"id": rec["id"], "uid": uid, "url": f"/d/{uid}/{slug}", "status": "success", "version": new_version, "slug": slug}
            if self._ver >= (11, 0, 0):
                result["folderUid"] = folder_uid
            return result

    def _h_delete_dashboard(self, req: _Request):
        with self._lock:
            rec = self._dash_by_uid(req.groups[0])
            if rec is None:
                raise DoubleError(404, _DASH_NOT_FOUND)
            if rec["provisioned"]:
                raise DoubleError(400, {"message": "provisioned dashboard cannot be deleted"})
            self._drop_dashboard(rec)
            return 200, {"title": rec["title"], "message": f"Dashboard {rec['title']} deleted", "id": rec["id"]}

    def _drop_dashboard(self, rec: dict) -> None:
        self._dashboards.pop(rec["id"], None)
        self._dash_uids.pop(rec["uid"], None)
        self._versions.pop(rec["id"], None)
        self._starred.discard(rec["uid"])

    # ------------------------------------------------------------------ dashboard versions

    def _by_dash_id(self, fn):
        def handler(req: _Request):
            with self._lock:
                rec = self._dashboards.get(int(req.groups[0]))
                if rec is None:
                    raise DoubleError(404, _DASH_NOT_FOUND)
                req.groups = (rec["uid"],) + req.groups[1:]
            return fn(req)

        return handler

    @staticmethod
    def _version_meta(row: dict) -> dict:
        return {k: v for k, v in row.items() if k != "data"}

    def _h_versions(self, req: _Request):
        q = req.query
        limit = _as_int(_first(q, "limit"))
        limit = limit if limit > 0 else 1000
        with self._lock:
            rec = self._dash_by_uid(req.groups[0])
            if rec is None:
                raise DoubleError(404, _DASH_NOT_FOUND)
            rows = sorted(self._versions.get(rec["id"], []), key=lambda r: r["version"], reverse=True)
            rows = [self._version_meta(r) for r in rows]
        if self._ver < (11, 6, 0):
            start = max(_as_int(_first(q, "start")), 0)
            return 200, copy.deepcopy(rows[start : start + limit])
        start = self._decode_continue(_first(q, "continueToken")) if _first(q, "continueToken") else max(_as_int(_first(q, "start")), 0)
        page = rows[start : start + limit]
        token = self._encode_continue(start + limit) if start + limit < len(rows) else ""
        return 200, {"continueToken": token, "versions": copy.deepcopy(page)}

    @staticmethod
    def _encode_continue(offset: int) -> str:
        return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")

    @staticmethod
    def _decode_continue(token: str) -> int:
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            return max(int(data["o"]), 0)
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise DoubleError(400, {"message": "invalid continue token"}) from None

    def _h_version(self, req: _Request):
        uid, raw_version = req.groups
        try:
            number = int(raw_version)
        except ValueError:
            raise DoubleError(400, {"message": "id is invalid"}) from None
        with self._lock:
            rec = self._dash_by_uid(uid)
            if rec is None:
                raise DoubleError(404, _DASH_NOT_FOUND)
            row = next((r for r in self._versions.get(rec["id"], []) if r["version"] == number), None)
            if row is None:
                raise DoubleError(404, {"message": f"Dashboard version {number} not found for dashboardId {rec['id']}"})
            return 200, copy.deepcopy(row)

    def _h_restore(self, req: _Request):
        body = req.json()
        number = _as_int(body.get("version"))
        with self._lock:
            rec = self._dash_by_uid(req.groups[0])
            if rec is None:
                raise DoubleError(404, _DASH_NOT_FOUND)
            row = next((r for r in self._versions.get(rec["id"], []) if r["version"] == number), None)
            if row is None:
                raise DoubleError(404, {"message": "Dashboard version not found"})
            data = copy.deepcopy(row["data"])
            data.update({"id": rec["id"], "uid": rec["uid"], "version": rec["version"]})
            save = {"dashboard": data, "folderUid": rec["folder_uid"], "message": f"Restored from version {number}"}
            return 200, self._save_dashboard(save, restored_from=number)

    # ------------------------------------------------------------------ folders

    def _h_list_folders(self, req: _Request):
        q = req.query
        parent = _first(q, "parentUid")
        limit = _as_int(_first(q, "limit"))
        limit = limit if limit > 0 else 1000
        page = max(_as_int(_first(q, "page"), 1), 1)
        with self._lock:
            if parent and parent not in self._folders:
                raise DoubleError(404, _FOLDER_NOT_FOUND)
            children = [f for f in self._folders.values() if (f.get("parent_uid") or "") == parent]
            children.sort(key=lambda f: (f["title"].lower(), f["uid"]))
            out = []
            for f in children[(page - 1) * limit : page * limit]:
                item = {"id": f["id"], "uid": f["uid"], "title": f["title"]}
                if f.get("parent_uid"):
                    item["parentUid"] = f["parent_uid"]
                out.append(item)
            return 200, out

    def _h_get_folder(self, req: _Request):
        with self._lock:
            folder = self._folders.get(req.groups[0])
            if folder is None:
                raise DoubleError(404, _FOLDER_NOT_FOUND)
            return 200, self._folder_dto(folder)

    def _h_get_folder_by_id(self, req: _Request):
        with self._lock:
            folder = self._folder_by_id(int(req.groups[0]))
            if folder is None:
                raise DoubleError(404, _FOLDER_NOT_FOUND)
            return 200, self._folder_dto(folder)

    def _h_create_folder(self, req: _Request):
        return 200, self._create_folder(req.json())

    def _create_folder(self, body: dict) -> dict:
        title = body.get("title") if isinstance(body.get("title"), str) else ""
        uid = body.get("uid") if isinstance(body.get("uid"), str) else ""
        parent = body.get("parentUid") if isinstance(body.get("parentUid"), str) else ""
        with self._lock:
            if not title.strip():
                raise DoubleError(400, {"message": "folder title cannot be empty"})
            if not _UID_RE.match(uid):
                raise DoubleError(400, {"message": "uid contains illegal characters"})
            if len(uid) > 40:
                raise DoubleError(400, {"message": "uid too long, max 40 characters"})
            if uid and (uid in self._folders or uid in self._dash_uids):
                raise DoubleError(409, {"message": "a folder/dashboard with the same uid already exists"})
            if parent and parent not in self._folders:
                raise DoubleError(404, _FOLDER_NOT_FOUND)
            now = _now()
            folder = {
                "id": self._next_id, "uid": uid or self._new_uid(), "title": title, "parent_uid": parent,
                "version": 1, "created": now, "updated": now, "created_by": "admin", "updated_by": "admin",
            }
            self._next_id += 1
            self._folders[folder["uid"]] = folder
            return self._folder_dto(folder)

    def _h_update_folder(self, req: _Request):
        body = req.json()
        with self._lock:
            folder = self._folders.get(req.groups[0])
            if folder is None:
                raise DoubleError(404, _FOLDER_NOT_FOUND)
            if body.get("overwrite") is not True and _as_int(body.get("version")) != folder["version"]:
                raise DoubleError(412, {"status": "version-mismatch", "message": "the folder has been changed by someone else"})
            if "title" in body:
                title = body["title"]
                if not isinstance(title, str) or not title.strip():
                    raise DoubleError(400, {"message": "folder title cannot be empty"})
                folder["title"] = title
            new_uid = body.get("uid")
            if isinstance(new_uid, str) and new_uid and new_uid != folder["uid"]:
                if not _UID_RE.match(new_uid) or len(new_uid) > 40:
                    raise DoubleError(400, {"message": "uid contains illegal characters"})
                if new_uid in self._folders or new_uid in self._dash_uids:
                    raise DoubleError(409, {"message": "a folder/dashboard with the same uid already exists"})
                self._rekey_folder(folder, new_uid)
            folder["version"] += 1
            folder["updated"] = _now()
            return 200, self._folder_dto(folder)

    def _rekey_folder(self, folder: dict, new_uid: str) -> None:
        old = folder["uid"]
        del self._folders[old]
        folder["uid"] = new_uid
        self._folders[new_uid] = folder
        for other in self._folders.values():
            if other.get("parent_uid") == old:
                other["parent_uid"] = new_uid
        for rec in self._dashboards.values():
            if rec["folder_uid"] == old:
                rec["folder_uid"] = new_uid
        for elem in self._library.values():
            if elem["folderUid"] == old:
                elem["folderUid"] = elem["meta"]["folderUid"] = new_uid
        for rule in self._rules.values():
            if rule.get("folderUID") == old:
                rule["folderUID"] = new_uid

    def _h_move_folder(self, req: _Request):
        body = req.json()
        parent = body.get("parentUid") if isinstance(body.get("parentUid"), str) else ""
        with self._lock:
            folder = self._folders.get(req.groups[0])
            if folder is None or (parent and parent not in self._folders):
                raise DoubleError(404, _FOLDER_NOT_FOUND)
            if parent and parent in self._subtree(folder["uid"]):
                raise DoubleError(400, {"message": "failed to move folder: circular reference detected"})
            folder["parent_uid"] = parent
            folder["version"] += 1
            folder["updated"] = _now()
            return 200, self._folder_dto(folder)

    def _h_delete_folder(self, req: _Request):
        force_rules = _first(req.query, "forceDeleteRules").lower() == "true"
        with self._lock:
            folder = self._folders.get(req.groups[0])
            if folder is None:
                raise DoubleError(404, _FOLDER_NOT_FOUND)
            uids = set(self._subtree(folder["uid"]))
            rules = [r for r in self._rules.values() if r.get("folderUID") in uids]
            if rules and "alerting" in self.features and not force_rules:
                raise DoubleError(400, {"message": "folder cannot be deleted: folder contains alert rules"})
            for rec in [r for r in self._dashboards.values() if r["folder_uid"] in uids]:
                self._drop_dashboard(rec)
            for rule in rules:
                self._rules.pop(rule["uid"], None)
            for uid in [u for u, e in self._library.items() if e["folderUid"] in uids]:
                del self._library[uid]
            for uid in uids:
                self._folders.pop(uid, None)
            return 200, {"message": "Folder deleted", "id": folder["id"], "title": folder["title"]}

    # ------------------------------------------------------------------ data sources

    @staticmethod
    def _logo(ds_type: str) -> str:
        return f"public/app/plugins/datasource/{ds_type}/img/{ds_type}_logo.svg"

    def _ds_list_item(self, rec: dict) -> dict:
        return {
            "id": rec["id"], "uid": rec["uid"], "orgId": rec["orgId"], "name": rec["name"], "type": rec["type"],
            "typeName": _TYPE_NAMES.get(rec["type"], rec["type"].capitalize()), "typeLogoUrl": self._logo(rec["type"]),
            "access": rec["access"], "url": rec["url"], "user": rec["user"], "database": rec["database"],
            "basicAuth": rec["basicAuth"], "isDefault": rec["isDefault"], "jsonData": copy.deepcopy(rec["jsonData"]),
            "readOnly": rec["readOnly"],
        }

    def _ds_full(self, rec: dict) -> dict:
        return {
            "id": rec["id"], "uid": rec["uid"], "orgId": rec["orgId"], "name": rec["name"], "type": rec["type"],
            "typeLogoUrl": self._logo(rec["type"]), "access": rec["access"], "url": rec["url"], "user": rec["user"],
            "database": rec["database"], "basicAuth": rec["basicAuth"], "basicAuthUser": rec["basicAuthUser"],
            "withCredentials": rec["withCredentials"], "isDefault": rec["isDefault"], "jsonData": copy.deepcopy(rec["jsonData"]),
            "secureJsonFields": {k: True for k in sorted(rec["secure"])}, "version": rec["version"], "readOnly": rec["readOnly"],
        }

    def _find_ds(self, by: str, key: str) -> dict:
        for rec in self._datasources.values():
            if (by == "uid" and rec["uid"] == key) or (by == "name" and rec["name"] == key) or (by == "id" and str(rec["id"]) == key):
                return rec
        raise DoubleError(404, _DS_NOT_FOUND)

    @staticmethod
    def _ds_fields(body: dict) -> dict:
        """The writable fields of a data source body; 400 when they do not make sense."""
        name, ds_type = body.get("name"), body.get("type")
        if not isinstance(name, str) or not name.strip() or not isinstance(ds_type, str) or not ds_type:
            raise DoubleError(400, {"message": "Required fields are missing: name and type"})
        json_data = body.get("jsonData") or {}
        secure = body.get("secureJsonData") or {}
        if not isinstance(json_data, dict) or not isinstance(secure, dict):
            raise DoubleError(400, _BAD_REQUEST)

        def text(key):
            value = body.get(key)
            return value if isinstance(value, str) else ""

        return {
            "name": name, "type": ds_type, "access": text("access") or "proxy", "url": text("url"), "user": text("user"),
            "database": text("database"), "basicAuth": body.get("basicAuth") is True, "basicAuthUser": text("basicAuthUser"),
            "withCredentials": body.get("withCredentials") is True, "isDefault": body.get("isDefault") is True,
            "jsonData": copy.deepcopy(json_data), "readOnly": body.get("readOnly") is True,
            "secure": {str(k): str(v) for k, v in secure.items() if v is not None},
        }

    def _h_list_datasources(self, req: _Request):
        with self._lock:
            return 200, [self._ds_list_item(r) for r in sorted(self._datasources.values(), key=lambda r: r["name"].lower())]

    def _h_create_datasource(self, req: _Request):
        return 200, self._create_datasource(req.json())

    def _create_datasource(self, body: dict) -> dict:
        fields = self._ds_fields(body)
        uid = body.get("uid") if isinstance(body.get("uid"), str) else ""
        with self._lock:
            if not _UID_RE.match(uid) or len(uid) > 40:
                raise DoubleError(400, {"message": "Failed to add datasource: invalid uid"})
            if any(r["name"] == fields["name"] for r in self._datasources.values()):
                raise DoubleError(409, {"message": "data source with the same name already exists"})
            if uid and any(r["uid"] == uid for r in self._datasources.values()):
                raise DoubleError(409, {"message": "data source with the same uid already exists"})
            uid = uid or self._new_uid({r["uid"]: r for r in self._datasources.values()})
            rec = {"id": self._next_ds_id, "uid": uid, "orgId": self.org_id, "version": 1, **fields}
            self._next_ds_id += 1
            if rec["isDefault"]:
                for other in self._datasources.values():
                    other["isDefault"] = False
            self._datasources[rec["id"]] = rec
            return {"datasource": self._ds_full(rec), "id": rec["id"], "message": "Datasource added", "name": rec["name"]}

    def _ds_route(self, by: str, action: str):
        def handler(req: _Request):
            key = req.groups[0]
            with self._lock:
                rec = self._find_ds(by, key)
                if action == "get":
                    return 200, self._ds_full(rec)
                if rec["readOnly"]:
                    raise DoubleError(403, {"message": "Cannot update read-only data source" if action == "put" else "Cannot delete read-only data source"})
                if action == "delete":
                    del self._datasources[rec["id"]]
                    return 200, {"message": "Data source deleted", "id": rec["id"]}
            return self._update_datasource(rec, req.json())

        return handler

    def _update_datasource(self, rec: dict, body: dict):
        fields = self._ds_fields(body)
        with self._lock:
            if rec["id"] not in self._datasources:
                raise DoubleError(404, _DS_NOT_FOUND)
            sent_version = _as_int(body.get("version"))
            if sent_version and sent_version < rec["version"]:
                raise DoubleError(409, {"message": "Datasource has already been updated by someone else. Please reload and try again"})
            if any(r["name"] == fields["name"] and r["id"] != rec["id"] for r in self._datasources.values()):
                raise DoubleError(409, {"message": "data source with the same name already exists"})
            secure = dict(rec["secure"])
            secure.update(fields.pop("secure"))
            rec.update(fields)
            rec["secure"] = secure
            rec["version"] += 1
            if rec["isDefault"]:
                for other in self._datasources.values():
                    if other is not rec:
                        other["isDefault"] = False
            return 200, {"datasource": self._ds_full(rec), "id": rec["id"], "message": "Datasource updated", "name": rec["name"]}

    def _h_datasource_id_by_name(self, req: _Request):
        with self._lock:
            return 200, {"id": self._find_ds("name", req.groups[0])["id"]}

    # ------------------------------------------------------------------ library panels, alerting

    def _h_list_library(self, req: _Request):
        q = req.query
        per_page = _as_int(_first(q, "perPage"))
        per_page = per_page if per_page > 0 else 100
        page = max(_as_int(_first(q, "page"), 1), 1)
        text = _first(q, "searchString").lower()
        folders = set(_multi(q, "folderFilterUIDs"))
        with self._lock:
            items = [
                e for e in self._library.values()
                if (not text or text in e["name"].lower()) and (not folders or e["folderUid"] in folders)
            ]
            items.sort(key=lambda e: (e["name"].lower(), e["uid"]))
            chunk = copy.deepcopy(items[(page - 1) * per_page : page * per_page])
        return 200, {"result": {"totalCount": len(items), "elements": chunk, "page": page, "perPage": per_page}}

    def _h_get_library(self, req: _Request):
        with self._lock:
            elem = self._library.get(req.groups[0])
            if elem is None:
                raise DoubleError(404, {"message": "library element could not be found"})
            return 200, {"result": copy.deepcopy(elem)}

    def _h_create_library(self, req: _Request):
        body = req.json()
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise DoubleError(400, {"message": "library element name is required"})
        if body.get("kind", 1) != 1:
            raise DoubleError(400, {"message": "only library panels (kind 1) are supported"})
        model = body.get("model")
        if model is not None and not isinstance(model, dict):
            raise DoubleError(400, _BAD_REQUEST)
        folder_uid = body.get("folderUid") if isinstance(body.get("folderUid"), str) else ""
        uid = body.get("uid") if isinstance(body.get("uid"), str) and body.get("uid") else None
        with self._lock:
            if any(e["name"] == name and e["folderUid"] == folder_uid for e in self._library.values()):
                raise DoubleError(400, {"message": "library element with that name already exists"})
            elem = self.add_library_panel(name, model=model or None, folder_uid=folder_uid or None, uid=uid)
        return 200, {"result": elem}

    def _h_create_rule(self, req: _Request):
        body = req.json()
        if not isinstance(body.get("title"), str) or not body.get("title") or not isinstance(body.get("folderUID"), str) \
                or not body.get("folderUID"):
            raise DoubleError(400, {"message": "invalid alert rule: title and folderUID are required"})
        body = {k: v for k, v in body.items() if k not in ("id", "updated", "orgID", "provenance")}
        with self._lock:
            if body["folderUID"] not in self._folders:
                raise DoubleError(400, {"message": "invalid alert rule: folder does not exist"})
            rule = self.add_alert_rule(body)
        return 201, rule

    def _h_create_contact_point(self, req: _Request):
        body = req.json()
        if not isinstance(body.get("name"), str) or not body.get("name") or not isinstance(body.get("type"), str) \
                or not body.get("type"):
            raise DoubleError(400, {"message": "invalid contact point: name and type are required"})
        if body.get("settings") is not None and not isinstance(body.get("settings"), dict):
            raise DoubleError(400, _BAD_REQUEST)
        with self._lock:
            uid = body.get("uid")
            if isinstance(uid, str) and uid and uid in self._contact_points:
                raise DoubleError(400, {"message": "contact point with this uid already exists"})
            cp = self.add_contact_point({k: body[k] for k in ("uid", "name", "type", "settings", "disableResolveMessage")
                                         if k in body and body[k] is not None})
        return 202, cp

    def _h_list_rules(self, req: _Request):
        with self._lock:
            return 200, copy.deepcopy(sorted(self._rules.values(), key=lambda r: r["id"]))

    def _h_get_rule(self, req: _Request):
        with self._lock:
            rule = self._rules.get(req.groups[0])
            if rule is None:
                raise DoubleError(404, _NOT_FOUND)
            return 200, copy.deepcopy(rule)

    def _h_list_contact_points(self, req: _Request):
        name = _first(req.query, "name")
        with self._lock:
            return 200, [copy.deepcopy(cp) for cp in self._contact_points.values() if not name or cp["name"] == name]


def main(argv: list[str] | None = None) -> int:
    """``python -m aetherops.testing.grafana_double``: serve until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m aetherops.testing.grafana_double", description="Serve the Grafana API double.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000, help="0 picks a free port (default 3000)")
    parser.add_argument("--token", help="require 'Authorization: Bearer TOKEN'")
    parser.add_argument("--token-file", help="like --token, read from this file (keeps it out of the process list)")
    parser.add_argument("--basic-auth", metavar="USER:PASSWORD", help="accept these Basic credentials")
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--grafana-version", default="11.2.0")
    parser.add_argument("--hide-version", action="store_true", help="omit version/commit from /api/health")
    parser.add_argument("--seed-demo", action="store_true", help="start with demo folders, dashboards and data sources")
    args = parser.parse_args(argv)
    basic = None
    if args.basic_auth:
        user, sep, password = args.basic_auth.partition(":")
        if not sep:
            parser.error("--basic-auth must be USER:PASSWORD")
        basic = (user, password)
    token = args.token
    if args.token_file:
        try:
            with open(args.token_file, encoding="utf-8") as fh:
                token = fh.read().strip()
        except OSError as exc:
            parser.error(f"cannot read --token-file: {exc}")
    double = GrafanaDouble(
        host=args.host, port=args.port, token=token, basic_auth=basic, latency_ms=args.latency_ms,
        grafana_version=args.grafana_version, hide_version=args.hide_version,
    )
    if args.seed_demo:
        double.seed_demo()
    try:
        double.start()
    except OSError as exc:
        print(f"grafana-double: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"grafana-double {args.grafana_version} listening on {double.url}", file=sys.stderr, flush=True)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    for name in ("SIGTERM", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), on_signal)
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        double.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
