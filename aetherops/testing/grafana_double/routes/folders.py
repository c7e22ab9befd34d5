"""Folders, nested: list, get, create, update, move, delete."""

from __future__ import annotations

from typing import Any

from .._common import _FOLDER_NOT_FOUND, _UID_RE, DoubleError, _as_int, _first, _now, _Request, _slugify


class FolderRoutes:
    """Folders live in the dashboards' id sequence; nested folders have ``parentUid`` and ``parents``."""

    #: ``(method, path regex, handler method name, feature or None, needs auth)``
    ROUTES = [
        ("GET", r"/api/folders", "_h_list_folders", None, True),
        ("POST", r"/api/folders", "_h_create_folder", None, True),
        ("GET", r"/api/folders/id/(\d+)", "_h_get_folder_by_id", None, True),
        ("GET", r"/api/folders/([^/]+)", "_h_get_folder", None, True),
        ("PUT", r"/api/folders/([^/]+)", "_h_update_folder", None, True),
        ("DELETE", r"/api/folders/([^/]+)", "_h_delete_folder", None, True),
        ("POST", r"/api/folders/([^/]+)/move", "_h_move_folder", None, True),
        ("GET", r"/api/folders/([^/]+)/permissions", "_h_folder_permissions", None, True),
        ("POST", r"/api/folders/([^/]+)/permissions", "_h_set_folder_permissions", None, True),
    ]

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
                raise DoubleError(self.rules.duplicate_folder_uid_status, {"message": "a folder/dashboard with the same uid already exists"})
            if parent and parent not in self._folders:
                raise DoubleError(404, _FOLDER_NOT_FOUND)
            self._check_depth(parent, height=1)
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

    def _check_depth(self, parent_uid: str, height: int) -> None:
        """Folder service ``Create``/``Move``: a folder whose ancestors (parent included) number
        ``max_folder_depth`` or more is refused; ``height`` counts a moved subtree's levels."""
        if not parent_uid:
            return
        ancestors = len(self._folder_parents(self._folders[parent_uid])) + 1
        if ancestors + height - 1 >= self.max_folder_depth:
            raise DoubleError(400, {"extra": None, "message": "Maximum nested folder depth reached",
                                    "messageId": "folder.maximum-depth-reached", "statusCode": 400, "traceID": ""})

    def _height(self, uid: str) -> int:
        children = [f["uid"] for f in self._folders.values() if f.get("parent_uid") == uid]
        return 1 + max((self._height(c) for c in children), default=0)

    def _h_move_folder(self, req: _Request):
        body = req.json()
        parent = body.get("parentUid") if isinstance(body.get("parentUid"), str) else ""
        with self._lock:
            folder = self._folders.get(req.groups[0])
            if folder is None or (parent and parent not in self._folders):
                raise DoubleError(404, _FOLDER_NOT_FOUND)
            if parent and parent in self._subtree(folder["uid"]):
                raise DoubleError(400, {"message": "failed to move folder: circular reference detected"})
            self._check_depth(parent, height=self._height(folder["uid"]))
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

    def _h_folder_permissions(self, req: _Request):
        """``GET /api/folders/:uid/permissions``: Grafana's defaults for a new folder (Editor edit, Viewer view)."""
        with self._lock:
            folder = self._folders.get(req.groups[0])
            if folder is None:
                raise DoubleError(404, _FOLDER_NOT_FOUND)
            common = {"folderId": folder["id"], "created": folder["created"], "updated": folder["updated"], "userId": 0,
                      "userLogin": "", "userEmail": "", "teamId": 0, "team": "", "uid": folder["uid"], "title": folder["title"],
                      "slug": _slugify(folder["title"]), "isFolder": True, "url": self._folder_url(folder), "inherited": False}
            return 200, [{**common, "role": "Editor", "permission": 2, "permissionName": "Edit"},
                         {**common, "role": "Viewer", "permission": 1, "permissionName": "View"}]

    def _h_set_folder_permissions(self, req: _Request):
        """``POST /api/folders/:uid/permissions {items}``: accepted, not stored (every caller is an admin here)."""
        body = req.json()
        with self._lock:
            if req.groups[0] not in self._folders:
                raise DoubleError(404, _FOLDER_NOT_FOUND)
        if not isinstance(body.get("items", []), list):
            raise DoubleError(400, {"message": "bad request data"})
        return 200, {"message": "Folder permissions updated"}
