"""Grafana through one client with typed methods, built from a profile's ``grafana`` section.

:class:`GrafanaClient` speaks the Grafana HTTP API over the project's one HTTP layer
(:class:`aetherops.clients.http.HTTPService`: httpx, TLS, auth headers, bounded retries of
transient failures, one-line :class:`ServiceError`). Every caller (backup, restore, health,
online lint, ``aetherops dashboards``) uses its methods; nobody builds Grafana URLs by hand.
A refusal carries Grafana's own ``status``/``messageId`` (``name-exists``,
``version-mismatch``...) as :attr:`GrafanaError.reason`, so a plan can label it
(:func:`aetherops.grafana_plan.explain_save_error`).

Version notes: the legacy ``/api/dashboards/uid/<uid>`` answers 406 on Grafana 12 for a
dashboard stored in the v2 schema; :meth:`GrafanaClient.dashboard` raises
:class:`V2Dashboard` naming the ``/apis/dashboard.grafana.app`` path to read it from, and
:meth:`GrafanaClient.dashboard_v2` / :meth:`save_dashboard_v2` use that API.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from aetherops.clients.http import HTTPService
from aetherops.clients.retry import TRANSIENT_STATUS
from aetherops.errors import ServiceError
from aetherops.profiles import ServiceConfig
from aetherops.redact import redact

__all__ = ["GrafanaClient", "GrafanaError", "V2Dashboard", "SEARCH_PAGE", "DASHBOARD_API_GROUP"]

SEARCH_PAGE = 5000
LIBRARY_PAGE = 100
DASHBOARD_API_GROUP = "dashboard.grafana.app"
DEFAULT_V2_VERSION = "v2beta1"
_ANSWERED = frozenset(range(200, 600)) - TRANSIENT_STATUS  # statuses we read ourselves; the rest are retried
_APIS_PATH = re.compile(r"/apis/dashboard\.grafana\.app/(v[0-9a-z]+)/namespaces/([A-Za-z0-9._-]+)/dashboards")


def _q(value: str) -> str:
    return quote(str(value), safe="")


class GrafanaError(ServiceError):
    """Grafana refused a request: ``status`` (HTTP), ``reason`` (its ``status`` / ``messageId`` field,
    e.g. ``name-exists``), ``server_message`` (its message, one line)."""

    def __init__(self, message: str, *, url: str | None, status: int | None, reason: str = "", server_message: str = ""):
        super().__init__(message, url=url, status=status)
        self.reason = reason
        self.server_message = server_message


class V2Dashboard(GrafanaError):
    """Grafana 12 answered 406: the dashboard is stored in the v2 schema; read it through ``api_version``/``namespace``."""

    def __init__(self, message: str, *, url: str | None, uid: str, api_version: str, namespace: str, server_message: str = ""):
        super().__init__(message, url=url, status=406, reason="v2-dashboard", server_message=server_message)
        self.uid = uid
        self.api_version = api_version
        self.namespace = namespace


class GrafanaClient:
    """Typed Grafana API calls with retries and one-line errors (see the module docstring)."""

    def __init__(self, config: ServiceConfig, *, transport=None, get=None):
        """``transport``: an httpx transport (tests). ``get``: another GET transport, ``get(path, params=, headers=)``
        returning an answer with httpx.Response's ``status_code``/``content``/``json()``/``text``/``reason_phrase``
        (the backup's keep-alive fast path); every other method goes through httpx."""
        self.config = config
        self.url = config.url
        self.http = HTTPService(config, transport=transport, keepalive=True)
        self._get = get
        self.on_close = None  # called by close(): whoever supplied ``get`` closes its connections there
        org = (config.options or {}).get("org_id")
        self.org_id = int(org) if org else 1
        if org:
            self.http.client.headers["X-Grafana-Org-Id"] = str(org)
        self.http.client.headers.setdefault("Accept", "application/json")

    def close(self) -> None:
        self.http.close()
        if self.on_close is not None:
            self.on_close()

    def __enter__(self) -> GrafanaClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ transport
    def request(self, method: str, path: str, *, params: dict | None = None, body: Any = None,
                headers: dict | None = None, ok: tuple[int, ...] = (200, 201, 202)) -> Any:
        """``method path`` (below the Grafana URL) -> the decoded JSON body; :class:`GrafanaError` otherwise."""
        what = f"{method} {path}"
        kwargs: dict[str, Any] = {}
        if params:
            kwargs["params"] = params
        if body is not None:
            kwargs["content"] = json.dumps(body, ensure_ascii=False).encode("utf-8")
            kwargs["headers"] = {"Content-Type": "application/json", **(headers or {})}
        elif headers:
            kwargs["headers"] = headers
        if method == "GET" and self._get is not None:
            response = self._get(path, params=params, headers=headers)
        else:
            response = self.http.request(method, path, ok=_ANSWERED, **kwargs)
        status = response.status_code
        data = self._decode(response, what, status in ok)
        if status in ok:
            return data
        reason, message = _grafana_reason(data, response)
        if status == 406 and method == "GET":
            match = _APIS_PATH.search(message) or _APIS_PATH.search(response.text)
            uid = path.rstrip("/").rsplit("/", 1)[-1]
            raise V2Dashboard(f"grafana {self.url} {what}: HTTP 406: {redact(message)}", url=self.url, uid=uid,
                              api_version=match.group(1) if match else DEFAULT_V2_VERSION,
                              namespace=match.group(2) if match else self.namespace, server_message=redact(message))
        raise GrafanaError(f"grafana {self.url} {what}: HTTP {status}: {redact(message)}", url=self.url, status=status,
                           reason=reason, server_message=redact(message))

    def _decode(self, response, what: str, required: bool) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            if not required:
                return None
            raise ServiceError(f"grafana {self.url} {what}: answered with something that is not JSON (is grafana.url right?)",
                               url=self.url, status=response.status_code) from None

    def _object(self, data: Any, what: str, key: str | None = None) -> dict:
        """``data`` when it is a JSON object (with ``key``); a one-line error for this item otherwise."""
        if isinstance(data, dict) and (key is None or isinstance(data.get(key), dict)):
            return data
        shown = redact(" ".join(json.dumps(data)[:120].split())) if data is not None else "an empty body"
        expected = f"an object with {key!r}" if key else "a JSON object"
        raise GrafanaError(f"grafana {self.url} {what}: answered 200 with {shown}, not {expected}", url=self.url, status=200,
                           reason="unexpected-body")

    def _list(self, data: Any, what: str) -> list:
        if data is None:
            return []
        if isinstance(data, list):
            return data
        raise GrafanaError(f"grafana {self.url} {what}: answered 200 with {type(data).__name__}, not a list", url=self.url,
                           status=200, reason="unexpected-body")

    @property
    def namespace(self) -> str:
        """The /apis namespace of the profile's org (``default`` for org 1, ``org-N`` otherwise)."""
        return "default" if self.org_id == 1 else f"org-{self.org_id}"

    # ------------------------------------------------------------------ server
    def health(self) -> dict:
        """``GET /api/health`` (no credentials needed): ``{"database", "version", "commit"}``."""
        return self._object(self.request("GET", "/api/health"), "GET /api/health")

    def frontend_settings(self) -> dict:
        """``GET /api/frontend/settings`` (needs credentials): ``buildInfo``, ``minRefreshInterval``..."""
        return self._object(self.request("GET", "/api/frontend/settings"), "GET /api/frontend/settings")

    # ------------------------------------------------------------------ search, dashboards
    def search(self, type_: str, *, page: int = 1, limit: int = SEARCH_PAGE, query: str | None = None) -> list[dict]:
        """One page of ``GET /api/search`` (``type_``: dash-db or dash-folder)."""
        params: dict[str, Any] = {"type": type_, "limit": limit, "page": page}
        if query:
            params["query"] = query
        return self._list(self.request("GET", "/api/search", params=params), "GET /api/search")

    def search_all(self, type_: str) -> list[dict]:
        """Every search hit of ``type_``, paging until a short page; hits of another type (and deleted ones) dropped."""
        hits: list[dict] = []
        seen: set[str] = set()
        page = 1
        while True:
            batch = self.search(type_, page=page)
            fresh = []
            for hit in batch:
                if isinstance(hit, dict) and hit.get("uid") not in seen:
                    seen.add(hit.get("uid"))
                    fresh.append(hit)
            hits.extend(h for h in fresh if h.get("type", type_) == type_ and not h.get("isDeleted"))
            if len(batch) < SEARCH_PAGE or not fresh:  # a short page, or a server that ignores `page`
                return hits
            page += 1

    def dashboard(self, uid: str) -> dict:
        """``GET /api/dashboards/uid/<uid>`` -> ``{"dashboard", "meta"}``; :class:`V2Dashboard` on 406 (Grafana 12, v2 schema)."""
        path = f"/api/dashboards/uid/{_q(uid)}"
        return self._object(self.request("GET", path), f"GET {path}", "dashboard")

    def save_dashboard(self, body: dict) -> dict:
        """``POST /api/dashboards/db`` (``{"dashboard", "folderUid", "overwrite", "message"}``)."""
        return self._object(self.request("POST", "/api/dashboards/db", body=body), "POST /api/dashboards/db")

    def _v2_path(self, api_version: str | None, namespace: str | None, uid: str | None = None) -> str:
        base = f"/apis/{DASHBOARD_API_GROUP}/{api_version or DEFAULT_V2_VERSION}/namespaces/{_q(namespace or self.namespace)}/dashboards"
        return f"{base}/{_q(uid)}" if uid else base

    def dashboard_v2(self, uid: str, *, api_version: str | None = None, namespace: str | None = None) -> dict:
        """The dashboard resource (``apiVersion``, ``kind``, ``metadata``, ``spec``) from ``/apis/dashboard.grafana.app``."""
        path = self._v2_path(api_version, namespace, uid)
        return self._object(self.request("GET", path), f"GET {path}", "spec")

    def dashboard_or_v2(self, uid: str, *, api_version: str | None = None) -> dict:
        """A dashboard in whichever schema the server stores it: ``{"dashboard", "meta"}`` like :meth:`dashboard`.

        A v2 one (the legacy API answered 406, or ``api_version`` names the /apis version to read it at) comes
        back as ``{"dashboard": spec, "meta": {"v2": True, "folderUid", "version" (generation),
        "resourceVersion"}, "resource": the whole /apis object}``, so a planner compares specs and an update
        sends ``resourceVersion``. 404 (either API) raises :class:`GrafanaError` with status 404."""
        namespace = None
        if api_version is None:
            try:
                return self.dashboard(uid)
            except V2Dashboard as v2:
                api_version, namespace = v2.api_version, v2.namespace
        resource = self.dashboard_v2(uid, api_version=api_version, namespace=namespace)
        meta = resource.get("metadata") or {}
        return {"dashboard": resource.get("spec") or {}, "resource": resource,
                "meta": {"v2": True, "folderUid": (meta.get("annotations") or {}).get("grafana.app/folder") or "",
                         "version": meta.get("generation"), "resourceVersion": meta.get("resourceVersion")}}

    def save_dashboard_v2(self, resource: dict, *, create: bool) -> dict:
        """Create (POST) or update (PUT, with ``metadata.resourceVersion``) a dashboard resource through ``/apis``."""
        api_version = str(resource.get("apiVersion") or "").rpartition("/")[2] or None
        meta = resource.get("metadata") or {}
        namespace = meta.get("namespace")
        if create:
            path = self._v2_path(api_version, namespace)
            return self._object(self.request("POST", path, body=resource), f"POST {path}")
        path = self._v2_path(api_version, namespace, meta.get("name"))
        return self._object(self.request("PUT", path, body=resource), f"PUT {path}")

    # ------------------------------------------------------------------ folders, datasources
    def create_folder(self, uid: str, title: str, parent_uid: str | None = None) -> dict:
        body = {"uid": uid, "title": title, **({"parentUid": parent_uid} if parent_uid else {})}
        return self._object(self.request("POST", "/api/folders", body=body), "POST /api/folders")

    def datasources(self) -> list[dict]:
        return self._list(self.request("GET", "/api/datasources"), "GET /api/datasources")

    def datasource(self, uid: str) -> dict:
        path = f"/api/datasources/uid/{_q(uid)}"
        return self._object(self.request("GET", path), f"GET {path}")

    def create_datasource(self, body: dict) -> dict:
        return self._object(self.request("POST", "/api/datasources", body=body), "POST /api/datasources")

    # ------------------------------------------------------------------ library panels, alerting
    def library_elements(self) -> list[dict]:
        """Every library element (``GET /api/library-elements``, paged)."""
        elements: list[dict] = []
        page = 1
        while True:
            body = self._object(self.request("GET", "/api/library-elements", params={"perPage": LIBRARY_PAGE, "page": page}),
                                "GET /api/library-elements", "result")
            result = body["result"]
            batch = self._list(result.get("elements"), "GET /api/library-elements")
            elements.extend(batch)
            if len(batch) < LIBRARY_PAGE or len(elements) >= int(result.get("totalCount") or 0):
                return elements
            page += 1

    def create_library_element(self, body: dict) -> dict:
        return self._object(self.request("POST", "/api/library-elements", body=body), "POST /api/library-elements")

    def alert_rules(self) -> list[dict]:
        path = "/api/v1/provisioning/alert-rules"
        return self._list(self.request("GET", path), f"GET {path}")

    def create_alert_rule(self, body: dict, *, disable_provenance: bool) -> dict:
        """``POST /api/v1/provisioning/alert-rules``; ``disable_provenance`` sends ``X-Disable-Provenance``
        (the rule stays editable in the UI; without it Grafana records provenance ``api`` and locks it)."""
        return self._object(self.request("POST", "/api/v1/provisioning/alert-rules", body=body,
                                         headers=_provenance(disable_provenance)), "POST /api/v1/provisioning/alert-rules")

    def contact_points(self) -> list[dict]:
        """``GET /api/v1/provisioning/contact-points`` (secret settings come back redacted)."""
        path = "/api/v1/provisioning/contact-points"
        return self._list(self.request("GET", path), f"GET {path}")

    def create_contact_point(self, body: dict, *, disable_provenance: bool) -> dict:
        return self._object(self.request("POST", "/api/v1/provisioning/contact-points", body=body,
                                         headers=_provenance(disable_provenance)), "POST /api/v1/provisioning/contact-points")


    # ------------------------------------------------------------------ plan items
    def apply(self, item) -> Any:
        """Send one changing :class:`aetherops.grafana_plan.Item` (create/update/overwrite) with the call its kind needs."""
        body, extra = item.body, item.extra
        if item.kind == "folder":
            return self.create_folder(body["uid"], body["title"], body.get("parentUid"))
        if item.kind == "datasource":
            return self.create_datasource(body)
        if item.kind == "library panel":
            return self.create_library_element(body)
        if item.kind == "dashboard" and extra.get("schema") == "v2":
            return self.save_dashboard_v2(body, create=item.action == "create")
        if item.kind == "dashboard":
            return self.save_dashboard(body)
        if item.kind == "alert rule":
            return self.create_alert_rule(body, disable_provenance=extra.get("disable_provenance", True))
        if item.kind == "contact point":
            return self.create_contact_point(body, disable_provenance=extra.get("disable_provenance", True))
        raise ValueError(f"no Grafana call for plan items of kind {item.kind!r}")


def _provenance(disable: bool) -> dict | None:
    return {"X-Disable-Provenance": "true"} if disable else None


def _grafana_reason(data: Any, response) -> tuple[str, str]:
    """(Grafana's ``status``/``messageId``, its message on one line) from an error answer."""
    if isinstance(data, dict) and data.get("kind") == "Status":  # /apis answers with Kubernetes Status objects
        return str(data.get("reason") or ""), " ".join(str(data.get("message") or "").split())[:300] or response.reason_phrase
    if isinstance(data, dict):
        reason = str(data.get("status") or data.get("messageId") or "")
        message = data.get("message") or data.get("error") or data.get("title") or ""
        return reason, " ".join(str(message).split())[:300] or response.reason_phrase
    text = " ".join(response.text.split())[:300]
    return "", text or response.reason_phrase
