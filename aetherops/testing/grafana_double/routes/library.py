"""Library panels (``/api/library-elements``)."""

from __future__ import annotations

import copy

from .._common import _BAD_REQUEST, _FOLDER_NOT_FOUND, DoubleError, _as_int, _first, _multi, _now, _Request

_LIB_NOT_FOUND = {"message": "library element could not be found"}


def _library_panel_uids(panels: list) -> list[str]:
    """The ``libraryPanel.uid`` of every panel, rows' collapsed panels included."""
    uids: list[str] = []
    for panel in panels if isinstance(panels, list) else []:
        if not isinstance(panel, dict):
            continue
        ref = panel.get("libraryPanel")
        if isinstance(ref, dict) and isinstance(ref.get("uid"), str) and ref["uid"]:
            uids.append(ref["uid"])
        uids.extend(_library_panel_uids(panel.get("panels") or []))
    return uids


class LibraryRoutes:
    """Library elements of kind 1 (panels)."""

    #: ``(method, path regex, handler method name, feature or None, needs auth)``
    ROUTES = [
        ("GET", "/api/library-elements", "_h_list_library", "library_panels", True),
        ("POST", "/api/library-elements", "_h_create_library", "library_panels", True),
        ("GET", "/api/library-elements/([^/]+)", "_h_get_library", "library_panels", True),
        ("PATCH", "/api/library-elements/([^/]+)", "_h_patch_library", "library_panels", True),
        ("DELETE", "/api/library-elements/([^/]+)", "_h_delete_library", "library_panels", True),
        ("GET", "/api/library-elements/([^/]+)/connections", "_h_library_connections", "library_panels", True),
    ]

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
            chunk = [self._lib_view(e) for e in items[(page - 1) * per_page : page * per_page]]
        return 200, {"result": {"totalCount": len(items), "elements": chunk, "page": page, "perPage": per_page}}

    def _h_get_library(self, req: _Request):
        with self._lock:
            elem = self._library.get(req.groups[0])
            if elem is None:
                raise DoubleError(404, _LIB_NOT_FOUND)
            return 200, {"result": self._lib_view(elem)}

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

    def _lib_view(self, elem: dict) -> dict:
        out = copy.deepcopy(elem)
        out["meta"]["connectedDashboards"] = len(self._lib_connections.get(elem["uid"], ()))
        return out

    def library_connections(self, uid: str) -> list[str]:
        """The uids of the dashboards a library panel is connected to (sorted)."""
        with self._lock:
            return sorted(self._lib_connections.get(uid, ()))

    def _connect_library_panels(self, rec: dict) -> None:
        """``ConnectLibraryPanelsForDashboard``, run after the dashboard is stored: in one
        transaction, so a missing element leaves the old connections and answers 500."""
        wanted = set(_library_panel_uids(rec["data"].get("panels") or []))
        if "library_panels" not in self.features:
            return
        if any(uid not in self._library for uid in wanted):
            raise DoubleError(500, {"message": "Error while connecting library panels"})
        for connected in self._lib_connections.values():
            connected.discard(rec["uid"])
        for uid in wanted:
            self._lib_connections.setdefault(uid, set()).add(rec["uid"])

    def _h_library_connections(self, req: _Request):
        with self._lock:
            elem = self._library.get(req.groups[0])
            if elem is None:
                raise DoubleError(404, _LIB_NOT_FOUND)
            result = []
            for dash_uid in sorted(self._lib_connections.get(elem["uid"], ())):
                rec = self._dash_by_uid(dash_uid)
                if rec is not None:
                    result.append({"id": rec["id"], "kind": 1, "elementId": elem["id"], "connectionId": rec["id"],
                                   "connectionUid": dash_uid, "created": rec["created"],
                                   "createdBy": elem["meta"]["createdBy"]})
            return 200, {"result": result}

    def _h_patch_library(self, req: _Request):
        body = req.json()
        with self._lock:
            elem = self._library.get(req.groups[0])
            if elem is None:
                raise DoubleError(404, _LIB_NOT_FOUND)
            if _as_int(body.get("version")) != elem["version"]:
                raise DoubleError(412, {"message": "the library element has been changed by someone else"})
            if isinstance(body.get("name"), str) and body["name"].strip():
                elem["name"] = body["name"]
            if isinstance(body.get("model"), dict):
                elem["model"] = copy.deepcopy(body["model"])
                elem["type"] = elem["model"].get("type", elem["type"])
                elem["description"] = elem["model"].get("description", "")
            folder_uid = body.get("folderUid")
            if isinstance(folder_uid, str):
                folder = self._folders.get(folder_uid) if folder_uid else None
                if folder_uid and folder is None:
                    raise DoubleError(404, _FOLDER_NOT_FOUND)
                elem["folderUid"] = elem["meta"]["folderUid"] = folder_uid
                elem["folderId"] = folder["id"] if folder else 0
                elem["meta"]["folderName"] = folder["title"] if folder else "General"
            elem["version"] += 1
            elem["meta"]["updated"] = _now()
            return 200, {"result": self._lib_view(elem)}

    def _h_delete_library(self, req: _Request):
        with self._lock:
            elem = self._library.get(req.groups[0])
            if elem is None:
                raise DoubleError(404, _LIB_NOT_FOUND)
            if self._lib_connections.get(elem["uid"]):
                raise DoubleError(403, {"message": "the library element has connections"})
            del self._library[elem["uid"]]
            self._lib_connections.pop(elem["uid"], None)
            return 200, {"message": "Library element deleted", "id": elem["id"]}
