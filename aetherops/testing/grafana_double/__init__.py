"""A contract-faithful Grafana HTTP API double (stdlib only).

No Grafana server can be installed on the machines that run our tests, benchmarks
and sandbox, so :class:`GrafanaDouble` serves the subset of the Grafana 10-12 HTTP API
written down in ``docs/testing/grafana-api.md`` (each behaviour with the Grafana source
it comes from; the contract tests name the section they check).

Where things are:
  * ``server.py``: lifecycle (start/stop in a daemon thread), reading requests, dispatch;
  * ``store.py``: the in-memory state behind one lock; ``faults.py``: fault injection;
  * ``auth.py``: Bearer/Basic auth; ``versions.py``: what differs between 10, 11 and 12;
  * ``routes/``: one module per resource (health, search, dashboards, folders,
    datasources, library panels, alerting provisioning); ``seed.py``: demo data;
  * ``cli.py``: ``python -m aetherops.testing.grafana_double``.

Faithful:
  * status codes and error bodies (401 ``auth.unauthorized`` / ``api-key.invalid``,
    412 ``version-mismatch`` / ``name-exists``, 409 duplicate folder uid or
    data source name, 404 ``{"message":"Not found"}`` for unknown routes, 422 for
    ``limit`` > 5000 in search), with ``Content-Type: application/json; charset=UTF-8``
    on errors; routes match with or without a trailing slash (``/api/search/``);
  * auth is checked before a body is read; bodies past ``max_body_bytes`` get 413 unread;
  * the dashboard save logic (``POST /api/dashboards/db``) step by step, in the
    contract's order, including version increments, 20 kept version rows,
    "no folder on update moves to the root", ``overwrite`` adopting the stored version
    and saving plugin dashboards, the refresh minimum, and library panels connected
    AFTER the save (a missing one: 500 "Error while connecting library panels", saved anyway);
  * version-dependent behaviour, switched by ``grafana_version`` (``versions.py``): slug
    ``name-exists`` and folder ``name-match`` only below 12, the dashboard-versions list
    wrapped in ``{"continueToken","versions"}`` from 11.6, ``folderUid`` in the save
    response from 11, folder uids readable through ``/api/dashboards/uid`` below 12,
    Grafana 9's lowercase 401 bodies below 10; on 12 ``isDeleted`` in search hits,
    ``meta.apiVersion``, 413 for oversized dashboards, 412 for a duplicate folder uid,
    v2 dashboards (``store_as_v2``: 406 with the ``/apis`` pointer on the legacy API) and
    the ``/apis/dashboard.grafana.app`` list/get/create/update routes;
  * nested folders up to ``max_folder_depth`` (400 ``folder.maximum-depth-reached``);
  * search sorting (folders first, then case-insensitive title), paging and filters;
  * secrets: ``secureJsonData`` is stored but only ever shown as ``secureJsonFields``;
    contact-point secrets are ``[REDACTED]`` unless exported with ``decrypt=true``;
    ``jsonData.teamHttpHeaders`` is refused (403); provisioning writes carry
    ``provenance: api`` unless ``X-Disable-Provenance`` is sent.

Simplified:
  * one organisation (``X-Grafana-Org-Id`` other than ``org_id`` gives 401, an
    assumption); every authenticated caller is an admin (no 403s for permissions);
    ``createdBy``/``updatedBy`` are always ``"admin"``;
  * ``/apis`` serves dashboards only, in the version they are stored in (no v1<->v2
    conversion on read; the double's own v1->v2 conversion for ``store_as_v2``);
    no annotations, users, teams, snapshots, notification policies, mute timings;
    alert rules and contact points: list, read, create, update, delete (no rule groups, no export of rules);
  * slugs are ASCII-only (``"Prod DB"`` -> ``prod-db``); timestamps are UTC with ``Z``;
  * messages for rare 400s (missing data source name, long save message, alert rules
    blocking a folder delete), the 413 messages and the 412 body for a duplicate folder
    uid on 12 are plausible, not verified against Grafana (see the contract).

Run alone: ``python -m aetherops.testing.grafana_double --port 3000 --seed-demo``.
"""

from __future__ import annotations

import random
import re
import threading

from ._common import DoubleError
from .auth import AuthMixin
from .cli import main
from .faults import FaultsMixin
from .routes.alerting import AlertingRoutes
from .routes.dashboards import DashboardRoutes
from .routes.datasources import DatasourceRoutes
from .routes.folders import FolderRoutes
from .routes.health import HealthRoutes
from .routes.library import LibraryRoutes
from .routes.search import SearchRoutes
from .routes.unified import UnifiedStorageRoutes
from .seed import SeedMixin
from .server import ServerMixin, _Server
from .store import StoreMixin
from .versions import VersionRules

__all__ = ["ALL_FEATURES", "DoubleError", "GrafanaDouble", "main"]

#: Optional API families; pass a subset as ``features=`` to turn the others off (-> 404).
ALL_FEATURES = frozenset({"library_panels", "alerting"})
#: Default request body cap (the double's; real Grafana is usually behind a proxy with its own).
MAX_BODY_BYTES = 32 * 1024 * 1024
#: Default dashboard size limit on Grafana 12 (unified storage; grafana#101590).
MAX_DASHBOARD_BYTES = 10 * 1024 * 1024
_RESOURCES = (HealthRoutes, SearchRoutes, DashboardRoutes, FolderRoutes, DatasourceRoutes, LibraryRoutes, AlertingRoutes,
              UnifiedStorageRoutes)


class GrafanaDouble(ServerMixin, AuthMixin, FaultsMixin, StoreMixin, SeedMixin, *_RESOURCES):
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
        max_body_bytes: request bodies past this answer 413 without being read.
        max_folder_depth: nested folders deeper than this answer 400 ``folder.maximum-depth-reached``.
        min_refresh_interval: a dashboard ``refresh`` below this is raised to it (400 on Grafana 12's ``/apis``).
        max_dashboard_bytes: Grafana 12 answers 413 for a dashboard JSON larger than this.
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
        max_body_bytes: int | None = MAX_BODY_BYTES,
        max_folder_depth: int = 4,
        min_refresh_interval: str = "5s",
        max_dashboard_bytes: int = MAX_DASHBOARD_BYTES,
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
        #: Request bodies larger than this get 413 unread (None: no cap).
        self.max_body_bytes = max_body_bytes
        #: Grafana's ``folder.MaxNestedFolderDepth``: a folder may have at most this many ancestors minus one.
        self.max_folder_depth = max_folder_depth
        #: ``[dashboards] min_refresh_interval``.
        self.min_refresh_interval = min_refresh_interval
        #: Grafana 12 refuses dashboards whose JSON is larger than this with 413.
        self.max_dashboard_bytes = max_dashboard_bytes
        #: Store new dashboards with these uids as v2 (``/apis/dashboard.grafana.app/v2beta1``) on Grafana 12.
        self.v2_uids: set[str] = set()
        self.commit = "4f5a2c1d9e"
        #: Make ``/api/health`` answer 503 ``"database":"failing"``.
        self.database_failing = False
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._rng = random.Random()
        self._routes = self._build_routes()
        self.reset()

    def _build_routes(self):
        """Every resource's ``ROUTES``, compiled, in declaration order (first match wins)."""
        table = [route for resource in _RESOURCES for route in resource.ROUTES]
        return [(m, re.compile(p), self._handler(name), feature, auth) for m, p, name, feature, auth in table]

    def _handler(self, name):
        """A method name, or ``(factory name, *args)`` for handlers built by a factory method."""
        if isinstance(name, tuple):
            return getattr(self, name[0])(*name[1:])
        return getattr(self, name)

    @property
    def rules(self) -> VersionRules:
        """The version-dependent switches for :attr:`grafana_version` (see ``versions.py``)."""
        return VersionRules.of(self.grafana_version)
