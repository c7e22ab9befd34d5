"""Grafana 12 unified storage: ``/apis/dashboard.grafana.app/<version>/namespaces/<ns>/dashboards``.

Only on Grafana 12 (``rules.unified_storage``); older versions answer 404 like a Grafana
without the routes. Dashboards are stored once; each is either v1 (the classic JSON, also
served by ``/api/dashboards``) or v2 (``spec`` in the v2 schema, ``GET /api/dashboards/uid``
answers 406 with a pointer here). Errors are Kubernetes ``Status`` objects.
"""

from __future__ import annotations

import copy
import json
import uuid

from .._common import _UID_RE, VERSIONS_TO_KEEP, DoubleError, _as_int, _first, _now, _Request

_GROUP = "dashboard.grafana.app"
_FOLDER_ANNOTATION = "grafana.app/folder"
_VERSION_SEG = r"(v[0-9]+(?:alpha|beta)?[0-9]*)"


def _status(code: int, reason: str, message: str, name: str = "") -> DoubleError:
    details = {"group": _GROUP, "kind": "dashboards"}
    if name:
        details["name"] = name
    return DoubleError(code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "message": message, "reason": reason, "details": details, "code": code})


def v1_to_v2_spec(data: dict) -> dict:
    """A minimal v2 spec for a classic dashboard: panels become ``elements`` in a ``GridLayout``
    (the double's own conversion, enough for round trips; not Grafana's converter)."""
    elements, items = {}, []
    for i, panel in enumerate(p for p in data.get("panels") or [] if isinstance(p, dict)):
        key = f"panel-{panel.get('id', i + 1)}"
        elements[key] = {"kind": "Panel", "spec": {k: v for k, v in panel.items() if k != "gridPos"}}
        grid = panel.get("gridPos") or {}
        items.append({"kind": "GridLayoutItem", "spec": {"x": grid.get("x", 0), "y": grid.get("y", 0), "width": grid.get("w", 12),
                                                         "height": grid.get("h", 8), "element": {"kind": "ElementReference", "name": key}}})
    spec = {"title": data.get("title", ""), "description": data.get("description", ""), "tags": list(data.get("tags") or []),
            "editable": data.get("editable", True), "elements": elements, "layout": {"kind": "GridLayout", "spec": {"items": items}},
            "timeSettings": {"from": (data.get("time") or {}).get("from", "now-6h"), "to": (data.get("time") or {}).get("to", "now"),
                             "autoRefresh": data.get("refresh") or "", "timezone": data.get("timezone", "browser")}}
    return spec


def _message(metadata: dict) -> str:
    """The ``grafana.app/message`` annotation: Grafana keeps it as the version's message in the dashboard history."""
    annotations = metadata.get("annotations") if isinstance(metadata.get("annotations"), dict) else {}
    return str(annotations.get("grafana.app/message") or "")


class UnifiedStorageRoutes:
    """The dashboard.grafana.app routes the tool uses: list, get, create, update."""

    #: ``(method, path regex, handler method name, feature or None, needs auth)``
    ROUTES = [
        ("GET", rf"/apis/dashboard\.grafana\.app/{_VERSION_SEG}/namespaces/([^/]+)/dashboards", "_h_k8s_list", None, True),
        ("POST", rf"/apis/dashboard\.grafana\.app/{_VERSION_SEG}/namespaces/([^/]+)/dashboards", "_h_k8s_create", None, True),
        ("GET", rf"/apis/dashboard\.grafana\.app/{_VERSION_SEG}/namespaces/([^/]+)/dashboards/([^/]+)", "_h_k8s_get", None, True),
        ("PUT", rf"/apis/dashboard\.grafana\.app/{_VERSION_SEG}/namespaces/([^/]+)/dashboards/([^/]+)", "_h_k8s_update", None, True),
    ]

    @property
    def namespace(self) -> str:
        """Grafana's namespacer: org 1 is ``default``, others ``org-<id>``."""
        return "default" if self.org_id == 1 else f"org-{self.org_id}"

    def store_as_v2(self, *uids: str) -> None:
        """Store these dashboards in the v2 schema (now if they exist, else when first saved).

        Only on Grafana 12; on 10 and 11 it raises ``ValueError`` (there is no v2 there)."""
        if not self.rules.unified_storage:
            raise ValueError(f"v2 dashboards need Grafana 12, this double is {self.grafana_version}")
        with self._lock:
            self.v2_uids.update(uids)
            for uid in uids:
                rec = self._dash_by_uid(uid)
                if rec is not None:
                    self._convert_to_v2(rec)

    def get_dashboard_v2(self, uid: str) -> dict | None:
        """The stored v2 ``spec`` of a dashboard (a copy), or None when it is not v2."""
        with self._lock:
            rec = self._dash_by_uid(uid)
            return copy.deepcopy(rec["spec"]) if rec is not None and rec.get("api_version") == "v2" else None

    def _convert_to_v2(self, rec: dict) -> None:
        if rec.get("api_version") == "v2":
            return
        rec["api_version"] = "v2"
        rec["spec"] = v1_to_v2_spec(rec["data"])
        rec["data"] = {"uid": rec["uid"], "title": rec["title"], "tags": list(rec["spec"]["tags"]), "version": rec["version"]}

    # ------------------------------------------------------------------ resource shape

    def _k8s_object(self, rec: dict) -> dict:
        is_v2 = rec.get("api_version") == "v2"
        version = self.rules.v2_api_version if is_v2 else self.rules.v1_api_version
        if is_v2:
            spec = copy.deepcopy(rec["spec"])
        else:
            spec = {k: copy.deepcopy(v) for k, v in rec["data"].items() if k not in ("id", "version")}
        annotations = {"grafana.app/createdBy": "user:admin", "grafana.app/updatedBy": "user:admin",
                       "grafana.app/updatedTimestamp": rec["updated"]}
        if rec["folder_uid"]:
            annotations[_FOLDER_ANNOTATION] = rec["folder_uid"]
        rec.setdefault("k8s_uid", str(uuid.uuid4()))
        return {
            "apiVersion": f"{_GROUP}/{version}", "kind": "Dashboard",
            "metadata": {"name": rec["uid"], "namespace": self.namespace, "uid": rec["k8s_uid"],
                         "resourceVersion": str(rec["version"]), "generation": rec["version"],
                         "creationTimestamp": rec["created"], "annotations": annotations,
                         "labels": {"grafana.app/deprecatedInternalID": str(rec["id"])}},
            "spec": spec,
            "status": {},
        }

    def _k8s_check(self, req: _Request) -> None:
        if not self.rules.unified_storage:
            raise DoubleError(404, {"message": "Not found"})
        namespace = req.groups[1]
        if namespace != self.namespace:
            raise _status(403, "Forbidden", f"namespace {namespace!r} does not match the org of this token")

    # ------------------------------------------------------------------ handlers

    def _h_k8s_list(self, req: _Request):
        self._k8s_check(req)
        limit = _as_int(_first(req.query, "limit"))
        start = _as_int(_first(req.query, "continue")) if _first(req.query, "continue") else 0
        with self._lock:
            recs = sorted(self._dashboards.values(), key=lambda r: r["uid"])
            page = recs[start:start + limit] if limit > 0 else recs[start:]
            more = limit > 0 and start + limit < len(recs)
            items = [self._k8s_object(r) for r in page]
        return 200, {"kind": "DashboardList", "apiVersion": f"{_GROUP}/{req.groups[0]}",
                     "metadata": {"resourceVersion": "", "continue": str(start + limit) if more else ""}, "items": items}

    def _h_k8s_get(self, req: _Request):
        self._k8s_check(req)
        with self._lock:
            return 200, self._k8s_object(self._k8s_find(req.groups[2]))

    def _k8s_find(self, name: str) -> dict:
        rec = self._dash_by_uid(name)
        if rec is None:
            raise _status(404, "NotFound", f'dashboards.{_GROUP} "{name}" not found', name)
        return rec

    def _k8s_body(self, req: _Request) -> tuple[dict, dict, str]:
        body = req.json()
        metadata, spec = body.get("metadata"), body.get("spec")
        if not isinstance(metadata, dict) or not isinstance(spec, dict):
            raise _status(400, "BadRequest", "the object needs metadata and spec")
        annotations = metadata.get("annotations") if isinstance(metadata.get("annotations"), dict) else {}
        folder_uid = annotations.get(_FOLDER_ANNOTATION) or ""
        if folder_uid and folder_uid not in self._folders:
            raise _status(400, "BadRequest", f"folder {folder_uid!r} not found")
        title = spec.get("title")
        if not isinstance(title, str) or not title.strip():
            raise _status(400, "BadRequest", "Dashboard title cannot be empty")
        is_v2 = req.groups[0].startswith("v2")
        refresh = (spec.get("timeSettings") or {}).get("autoRefresh") if is_v2 else spec.get("refresh")
        try:
            self._apply_min_refresh({"refresh": refresh}, strict=True)
            self._check_dashboard_size(spec)
        except DoubleError as exc:
            raise _status(exc.status, "RequestEntityTooLarge" if exc.status == 413 else "BadRequest", exc.body["message"]) from None
        return metadata, spec, folder_uid

    def _k8s_store(self, rec: dict, spec: dict, folder_uid: str, is_v2: bool, message: str = "") -> None:
        now = _now()
        rec["version"] += 1
        rec.update({"title": spec["title"], "folder_uid": folder_uid, "updated": now, "updated_by": "admin"})
        if is_v2:
            rec["api_version"], rec["spec"] = "v2", copy.deepcopy(spec)
            rec["data"] = {"uid": rec["uid"], "title": spec["title"], "tags": list(spec.get("tags") or []), "version": rec["version"]}
        else:
            rec["api_version"] = "v1"
            rec.pop("spec", None)
            rec["data"] = {**copy.deepcopy(spec), "id": rec["id"], "uid": rec["uid"], "version": rec["version"]}
        rows = self._versions.setdefault(rec["id"], [])
        rows.append({"id": self._next_version_id, "dashboardId": rec["id"], "uid": rec["uid"], "parentVersion": rec["version"] - 1,
                     "restoredFrom": 0, "version": rec["version"], "created": now, "createdBy": "admin", "message": message,
                     "data": json.loads(json.dumps(rec["data"]))})
        self._next_version_id += 1
        del rows[:-VERSIONS_TO_KEEP]

    def _h_k8s_create(self, req: _Request):
        self._k8s_check(req)
        with self._lock:
            metadata, spec, folder_uid = self._k8s_body(req)
            name = metadata.get("name") or ""
            if not name and metadata.get("generateName"):
                name = str(metadata["generateName"]) + self._new_uid()[:5]
            name = name or self._new_uid()
            if not isinstance(name, str) or not _UID_RE.match(name) or len(name) > 40:
                raise _status(400, "BadRequest", f"invalid name {name!r}")
            if self._dash_by_uid(name) is not None or name in self._folders:
                raise _status(409, "AlreadyExists", f'dashboards.{_GROUP} "{name}" already exists', name)
            now = _now()
            rec = {"id": self._next_id, "uid": name, "created": now, "created_by": "admin", "provisioned": False,
                   "provisioned_external_id": "", "plugin_id": "", "version": 0}
            self._next_id += 1
            self._dashboards[rec["id"]] = rec
            self._dash_uids[name] = rec["id"]
            self._k8s_store(rec, spec, folder_uid, req.groups[0].startswith("v2"), _message(metadata))
            return 201, self._k8s_object(rec)

    def _h_k8s_update(self, req: _Request):
        self._k8s_check(req)
        name = req.groups[2]
        with self._lock:
            rec = self._k8s_find(name)
            metadata, spec, folder_uid = self._k8s_body(req)
            if metadata.get("name") not in (None, "", name):
                raise _status(400, "BadRequest", "the name of the object does not match the name on the URL")
            sent = metadata.get("resourceVersion")
            if sent not in (None, "") and str(sent) != str(rec["version"]):
                raise _status(409, "Conflict", f'Operation cannot be fulfilled on dashboards.{_GROUP} "{name}": the object has been '
                                               "modified; please apply your changes to the latest version and try again", name)
            self._k8s_store(rec, spec, folder_uid, req.groups[0].startswith("v2"), _message(metadata))
            return 200, self._k8s_object(rec)
