"""Data sources: secrets are stored, only ever shown as ``secureJsonFields``."""

from __future__ import annotations

import copy

from .._common import _BAD_REQUEST, _DS_NOT_FOUND, _TYPE_NAMES, _UID_RE, DoubleError, _as_int, _Request


class DatasourceRoutes:
    """CRUD by uid, name and id."""

    #: ``(method, path regex, handler method name, feature or None, needs auth)``
    ROUTES = [
        ("GET", r"/api/datasources", "_h_list_datasources", None, True),
        ("POST", r"/api/datasources", "_h_create_datasource", None, True),
        ("GET", r"/api/datasources/uid/([^/]+)", ("_ds_route", "uid", "get"), None, True),
        ("PUT", r"/api/datasources/uid/([^/]+)", ("_ds_route", "uid", "put"), None, True),
        ("DELETE", r"/api/datasources/uid/([^/]+)", ("_ds_route", "uid", "delete"), None, True),
        ("GET", r"/api/datasources/name/([^/]+)", ("_ds_route", "name", "get"), None, True),
        ("DELETE", r"/api/datasources/name/([^/]+)", ("_ds_route", "name", "delete"), None, True),
        ("GET", r"/api/datasources/id/([^/]+)", "_h_datasource_id_by_name", None, True),
        ("GET", r"/api/datasources/(\d+)", ("_ds_route", "id", "get"), None, True),
        ("PUT", r"/api/datasources/(\d+)", ("_ds_route", "id", "put"), None, True),
        ("DELETE", r"/api/datasources/(\d+)", ("_ds_route", "id", "delete"), None, True),
    ]

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
        if "teamHttpHeaders" in json_data:  # pkg/api/datasources.go: LBAC rules have their own API
            raise DoubleError(403, {"message": "Cannot create datasource with team HTTP headers, need to use updateDatasourceLBACRules API"})

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
