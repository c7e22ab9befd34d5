"""``/api/search`` and ``/api/dashboards/tags``."""

from __future__ import annotations

from .._common import DoubleError, _as_int, _first, _multi, _Request, _slugify


class SearchRoutes:
    """Search hits for folders and dashboards, sorted, paged and filtered like Grafana's legacy search."""

    #: ``(method, path regex, handler method name, feature or None, needs auth)``
    ROUTES = [
        ("GET", "/api/search", "_h_search", None, True),
        ("GET", "/api/dashboards/tags", "_h_dashboard_tags", None, True),
    ]

    def star(self, uid: str) -> None:
        """Star a dashboard for the (single) user: ``isStarred`` and ``starred=true`` see it."""
        with self._lock:
            self._starred.add(uid)

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
        if self.rules.unified_storage:
            hit["isDeleted"] = False
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
        if self.rules.unified_storage:  # 12's search (unified storage) reports soft-deleted state
            hit["isDeleted"] = False
        hit.update(self._parent_keys(rec["folder_uid"]))
        return hit

    def _h_dashboard_tags(self, req: _Request):
        counts: dict[str, int] = {}
        with self._lock:
            for rec in self._dashboards.values():
                for tag in rec["data"].get("tags") or []:
                    counts[tag] = counts.get(tag, 0) + 1
        return 200, [{"term": t, "count": n} for t, n in sorted(counts.items())]
