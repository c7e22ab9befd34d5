"""Dashboards: get, save (``POST /api/dashboards/db``), delete, versions and restore."""

from __future__ import annotations

import base64
import binascii
import copy
import json
from typing import Any

from .._common import (
    _BAD_REQUEST,
    _DASH_NOT_FOUND,
    _UID_RE,
    VERSIONS_TO_KEEP,
    DoubleError,
    _as_int,
    _copy_json,
    _duration_seconds,
    _first,
    _now,
    _Request,
    _slugify,
)


class DashboardRoutes:
    """The dashboard save rules in the contract's order, and the version history."""

    #: ``(method, path regex, handler method name, feature or None, needs auth)``
    ROUTES = [
        ("GET", r"/api/dashboards/uid/([^/]+)", "_h_get_dashboard", None, True),
        ("POST", r"/api/dashboards/db", "_h_save_dashboard", None, True),
        ("DELETE", r"/api/dashboards/uid/([^/]+)", "_h_delete_dashboard", None, True),
        ("GET", r"/api/dashboards/uid/([^/]+)/versions", "_h_versions", None, True),
        ("GET", r"/api/dashboards/uid/([^/]+)/versions/([^/]+)", "_h_version", None, True),
        ("POST", r"/api/dashboards/uid/([^/]+)/restore", "_h_restore", None, True),
        ("GET", r"/api/dashboards/id/(\d+)/versions", ("_by_dash_id", "_h_versions"), None, True),
        ("GET", r"/api/dashboards/id/(\d+)/versions/([^/]+)", ("_by_dash_id", "_h_version"), None, True),
        ("POST", r"/api/dashboards/id/(\d+)/restore", ("_by_dash_id", "_h_restore"), None, True),
    ]

    def get_dashboard(self, uid: str) -> dict | None:
        """The stored dashboard JSON (a copy), or None."""
        with self._lock:
            rec = self._dash_by_uid(uid)
            return copy.deepcopy(rec["data"]) if rec else None

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


    def _h_get_dashboard(self, req: _Request):
        uid = req.groups[0]
        with self._lock:
            rec = self._dash_by_uid(uid)
            if rec is None:
                folder = self._folders.get(uid)
                if folder is not None and self.rules.folder_readable_as_dashboard:
                    return 200, self._folder_as_dashboard(folder)
                raise DoubleError(404, _DASH_NOT_FOUND)
            if rec.get("api_version") == "v2":  # pkg/api/dashboard.go GetDashboard: v2 is not served by /api
                url = f"/apis/dashboard.grafana.app/{self.rules.v2_api_version}/namespaces/{self.namespace}/dashboards/{uid}"
                raise DoubleError(406, {"message": f"dashboard api version not supported, use {url} instead"})
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
            if self.rules.unified_storage:
                meta["apiVersion"] = self.rules.v1_api_version
            return 200, {"dashboard": _copy_json(rec["data"]), "meta": meta}

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
        dash = _copy_json(dash)
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
            # 4. same slug in the same folder, or a folder with that slug (up to 11.x:
            #    getExistingDashboardByTitleAndFolder, "slug=? AND (is_folder OR folder_id=?)")
            if self.rules.slug_name_checks and title.strip():
                own_id = existing["id"] if existing else None
                slug = _slugify(title)
                clash = next(
                    (r for r in self._dashboards.values()
                     if r["folder_uid"] == folder_uid and r["id"] != own_id and _slugify(r["title"]) == slug),
                    None,
                )
                if clash is None and any(_slugify(f["title"]) == slug for f in self._folders.values()):
                    raise DoubleError(400, {"message": "Dashboard name cannot be the same as folder", "status": "name-match"})
                if clash is not None:
                    if not overwrite:
                        raise DoubleError(412, {"message": "A dashboard with the same name in the folder already exists", "status": "name-exists"})
                    existing, uid, version = clash, clash["uid"], clash["version"]  # Grafana overwrites the same-named one
            # 5. other rejections
            if existing is not None and existing["plugin_id"] and not overwrite:
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
            self._apply_min_refresh(dash, strict=False)
            self._check_dashboard_size(dash)
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
                "message": message, "data": _copy_json(dash),
            })
            self._next_version_id += 1
            del rows[:-VERSIONS_TO_KEEP]
            slug = _slugify(title)
            result = {"id": rec["id"], "uid": uid, "url": f"/d/{uid}/{slug}", "status": "success", "version": new_version, "slug": slug}
            if self.rules.save_returns_folder_uid:
                result["folderUid"] = folder_uid
            try:  # pkg/api/dashboard.go postDashboard: library panels are connected AFTER the save
                self._connect_library_panels(rec)
            finally:
                if self.rules.unified_storage and uid in self.v2_uids:
                    self._convert_to_v2(rec)
            return result

    def _apply_min_refresh(self, dash: dict, strict: bool) -> None:
        """``ValidateDashboardRefreshInterval``: the legacy save raises a too-short refresh to the
        minimum; the dashboard.grafana.app admission (``strict``, Grafana 12 ``/apis``) refuses it."""
        refresh = dash.get("refresh")
        if not isinstance(refresh, str) or refresh in ("", "auto"):
            return
        seconds, minimum = _duration_seconds(refresh), _duration_seconds(self.min_refresh_interval)
        if seconds is None or minimum is None or seconds >= minimum:
            return
        if strict:
            raise DoubleError(400, {"message": "Dashboard refresh interval is too low", "status": "bad-request"})
        dash["refresh"] = self.min_refresh_interval

    def _check_dashboard_size(self, dash: dict) -> None:
        if self.rules.dashboard_size_limit:
            size = len(json.dumps(dash, separators=(",", ":")).encode())
            if size > self.max_dashboard_bytes:
                raise DoubleError(413, {"message": f"Dashboard is too large, max size is {self.max_dashboard_bytes} bytes"})

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
        for connected in self._lib_connections.values():
            connected.discard(rec["uid"])
        self._dashboards.pop(rec["id"], None)
        self._dash_uids.pop(rec["uid"], None)
        self._versions.pop(rec["id"], None)
        self._starred.discard(rec["uid"])

    # ------------------------------------------------------------------ dashboard versions

    def _by_dash_id(self, name: str):
        fn = getattr(self, name)

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
        if not self.rules.versions_wrapped:
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
