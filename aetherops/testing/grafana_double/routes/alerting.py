"""Alerting provisioning API: alert rules and contact points."""

from __future__ import annotations

import copy

from .._common import _BAD_REQUEST, _FOLDER_NOT_FOUND, _NOT_FOUND, DoubleError, _first, _now, _Request


class AlertingRoutes:
    """``/api/v1/provisioning/alert-rules`` and ``/contact-points``."""

    #: ``(method, path regex, handler method name, feature or None, needs auth)``
    ROUTES = [
        ("GET", "/api/v1/provisioning/alert-rules", "_h_list_rules", "alerting", True),
        ("POST", "/api/v1/provisioning/alert-rules", "_h_create_rule", "alerting", True),
        ("GET", "/api/v1/provisioning/alert-rules/([^/]+)", "_h_get_rule", "alerting", True),
        ("GET", "/api/v1/provisioning/contact-points", "_h_list_contact_points", "alerting", True),
        ("POST", "/api/v1/provisioning/contact-points", "_h_create_contact_point", "alerting", True),
    ]

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

