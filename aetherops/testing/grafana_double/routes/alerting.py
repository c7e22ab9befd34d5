"""Alerting provisioning API: alert rules and contact points."""

from __future__ import annotations

import copy

from .._common import _BAD_REQUEST, _FOLDER_NOT_FOUND, _NOT_FOUND, DoubleError, _first, _now, _Request

#: What Grafana shows instead of a secret setting (ngalert ``provisioning.RedactedValue``).
REDACTED = "[REDACTED]"
#: Secret settings per integration type (from the ``secure: true`` fields of Grafana's notifier schemas).
SECURE_SETTINGS = {
    "slack": ("url", "token"),
    "webhook": ("password", "authorization_credentials"),
    "pagerduty": ("integrationKey",),
    "opsgenie": ("apiKey",),
    "telegram": ("bottoken",),
    "discord": ("url",),
    "teams": ("url",),
    "googlechat": ("url",),
    "victorops": ("url",),
    "pushover": ("userKey", "apiToken"),
    "sensugo": ("apikey",),
    "line": ("token",),
    "threema": ("api_secret",),
    "kafka": ("password",),
    "wecom": ("url", "secret"),
    "prometheus-alertmanager": ("basicAuthPassword",),
    "sns": ("access_key", "secret_key"),
    "webex": ("bot_token",),
}


def _provenance(req: _Request) -> str:
    """The provisioning API marks what it writes ``api`` (locked in the UI) unless the caller
    sends ``X-Disable-Provenance`` (``determineProvenance`` in api_provisioning.go)."""
    return "" if req.headers.get("X-Disable-Provenance") is not None else "api"


class AlertingRoutes:
    """``/api/v1/provisioning/alert-rules`` and ``/contact-points``."""

    #: ``(method, path regex, handler method name, feature or None, needs auth)``
    ROUTES = [
        ("GET", "/api/v1/provisioning/alert-rules", "_h_list_rules", "alerting", True),
        ("POST", "/api/v1/provisioning/alert-rules", "_h_create_rule", "alerting", True),
        ("GET", "/api/v1/provisioning/alert-rules/([^/]+)", "_h_get_rule", "alerting", True),
        ("PUT", "/api/v1/provisioning/alert-rules/([^/]+)", "_h_update_rule", "alerting", True),
        ("DELETE", "/api/v1/provisioning/alert-rules/([^/]+)", "_h_delete_rule", "alerting", True),
        ("GET", "/api/v1/provisioning/contact-points", "_h_list_contact_points", "alerting", True),
        ("POST", "/api/v1/provisioning/contact-points", "_h_create_contact_point", "alerting", True),
        ("GET", "/api/v1/provisioning/contact-points/export", "_h_export_contact_points", "alerting", True),
        ("PUT", "/api/v1/provisioning/contact-points/([^/]+)", "_h_update_contact_point", "alerting", True),
        ("DELETE", "/api/v1/provisioning/contact-points/([^/]+)", "_h_delete_contact_point", "alerting", True),
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

    def get_contact_point(self, uid: str) -> dict | None:
        """The stored contact point, secrets included (for assertions), or None."""
        with self._lock:
            cp = self._contact_points.get(uid)
            return copy.deepcopy(cp) if cp else None

    def add_contact_point(self, contact_point: dict) -> dict:
        """Store a contact point (provisioning API shape) as given, secrets and all; returns a copy.

        Over HTTP its secret settings (:data:`SECURE_SETTINGS`) are shown as ``[REDACTED]``."""
        with self._lock:
            cp = {"uid": "", "name": "", "type": "email", "settings": {}, "disableResolveMessage": False, "provenance": ""}
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
        body["provenance"] = _provenance(req)
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
            # a "[REDACTED]" sent on create is stored as it is: there is no earlier value to swap back
            cp = self.add_contact_point({**{k: body[k] for k in ("uid", "name", "type", "settings", "disableResolveMessage")
                                            if k in body and body[k] is not None}, "provenance": _provenance(req)})
        return 202, self._redacted(cp)

    def _redacted(self, cp: dict) -> dict:
        out = copy.deepcopy(cp)
        settings = out.get("settings") or {}
        for key in SECURE_SETTINGS.get(out.get("type", ""), ()):
            if settings.get(key):
                settings[key] = REDACTED
        if not out.get("provenance"):
            out.pop("provenance", None)  # omitempty
        return out

    def _h_update_contact_point(self, req: _Request):
        """``UpdateContactPoint``: a secret sent as ``[REDACTED]`` keeps the stored value."""
        body = req.json()
        with self._lock:
            cp = self._contact_points.get(req.groups[0])
            if cp is None:
                raise DoubleError(404, {"message": "contact point not found"})
            settings = body.get("settings") if isinstance(body.get("settings"), dict) else {}
            settings = copy.deepcopy(settings)
            for key in SECURE_SETTINGS.get(body.get("type") or cp["type"], ()):
                if settings.get(key) == REDACTED:
                    settings[key] = (cp.get("settings") or {}).get(key, "")
            cp.update({k: body[k] for k in ("name", "type", "disableResolveMessage") if body.get(k) is not None})
            cp["settings"] = settings
            cp["provenance"] = _provenance(req)
        return 202, {"message": "contactpoint updated"}

    def _h_delete_contact_point(self, req: _Request):
        with self._lock:
            if self._contact_points.pop(req.groups[0], None) is None:
                raise DoubleError(404, {"message": "contact point not found"})
        return 202, {"message": "contactpoint deleted"}

    def _h_export_contact_points(self, req: _Request):
        """``/contact-points/export``: the file-provisioning shape; secrets only with ``decrypt=true``."""
        decrypt = _first(req.query, "decrypt").lower() == "true"
        name = _first(req.query, "name")
        with self._lock:
            grouped: dict[str, list[dict]] = {}
            for cp in self._contact_points.values():
                if name and cp["name"] != name:
                    continue
                shown = copy.deepcopy(cp) if decrypt else self._redacted(cp)
                grouped.setdefault(cp["name"], []).append({"uid": cp["uid"], "type": cp["type"], "settings": shown.get("settings") or {},
                                                           "disableResolveMessage": cp["disableResolveMessage"]})
        points = [{"orgId": self.org_id, "name": n, "receivers": r} for n, r in sorted(grouped.items())]
        return 200, {"apiVersion": 1, "contactPoints": points}

    def _h_update_rule(self, req: _Request):
        """``RoutePutAlertRule``: 200 with the rule; provenance as on create."""
        body = req.json()
        with self._lock:
            rule = self._rules.get(req.groups[0])
            if rule is None:
                raise DoubleError(404, _NOT_FOUND)
            folder_uid = body.get("folderUID") or rule["folderUID"]
            if folder_uid not in self._folders:
                raise DoubleError(400, {"message": "invalid alert rule: folder does not exist"})
            rule.update({k: copy.deepcopy(v) for k, v in body.items() if k not in ("id", "uid", "orgID", "updated", "provenance")})
            rule.update({"folderUID": folder_uid, "updated": _now(), "provenance": _provenance(req)})
            return 200, copy.deepcopy(rule)

    def _h_delete_rule(self, req: _Request):
        with self._lock:
            if self._rules.pop(req.groups[0], None) is None:
                raise DoubleError(404, _NOT_FOUND)
        return 204, None

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
            return 200, [self._redacted(cp) for cp in self._contact_points.values() if not name or cp["name"] == name]

