"""The bodies of ``aetherops alerts test|routes|list``: Alertmanager's v2 API plus :mod:`.routing`.

Imported only when an ``alerts`` command runs. Talks to Alertmanager through the core
:class:`aetherops.clients.alertmanager.AlertmanagerClient` (one Alertmanager or an HA cluster, failing over).

Facts about Alertmanager 0.25 relied on here:

- ``GET /api/v2/alerts`` computes each alert's status when asked: ``status.state`` (active | suppressed |
  unprocessed), ``status.silencedBy`` (silence ids), ``status.inhibitedBy`` (fingerprint of one inhibiting
  alert), and ``receivers`` from the running routing tree.
- ``POST /api/v2/alerts`` with ``endsAt`` in the future: the alert fires until then and then resolves by
  itself; posting the same labels with ``endsAt`` = now resolves it at once.
- Alerts are not gossiped between the peers of a cluster (silences are): Prometheus posts to every peer.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from aetherops.errors import ConfigError, ServiceError, UsageError
from aetherops_plugins.alerts import routing
from aetherops_plugins.maintenance.engine import fmt_time, human_delta, now, parse_time

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context

#: how long `alerts test` waits for its alert to show up in GET /api/v2/alerts
READ_BACK_SECONDS = 10.0


def format_labels(labels: Mapping[str, str], skip: str | None = None) -> str:
    from aetherops_plugins.maintenance.matchers import quote

    return "{" + ", ".join(f"{k}={quote(str(v))}" for k, v in sorted(labels.items()) if k != skip) + "}"


# ---------------------------------------------------------------- the config
def config_from(ctx: Context, config_file: str | None, *, prefer_running: bool = False) -> routing.AlertmanagerConfig:
    """The Alertmanager config to evaluate: ``--config FILE``; else the profile's ``alertmanager.config_file``
    (unless ``prefer_running``); else the running one (``/api/v2/status`` ``config.original``)."""
    if config_file:
        return routing.load_file(config_file)
    if not prefer_running:
        configured = (ctx.profile.data.get("alertmanager") or {}).get("config_file")
        if configured:
            return routing.load_file(configured)
    return running_config(ctx)


def running_config(ctx: Context) -> routing.AlertmanagerConfig:
    am = ctx.alertmanager
    status = am.status()
    original = ((status or {}).get("config") or {}).get("original") if isinstance(status, dict) else None
    if not isinstance(original, str) or not original.strip():
        raise ServiceError(f"alertmanager {am.url('/api/v2/status')}: answered without config.original", url=am.url("/api/v2/status"))
    return routing.parse_config(original, am.url("/api/v2/status"))


# ---------------------------------------------------------------- routes
def routes(ctx: Context, labels: Iterable[str], config_file: str | None) -> dict[str, Any]:
    parsed = routing.parse_labels(labels, colons=True)
    config = config_from(ctx, config_file)
    matched = config.routes_for(parsed)
    return {"labels": parsed, "config": config.source, "receivers": [r.receiver for r in matched],
            "routes": [r.describe() for r in matched]}


# ---------------------------------------------------------------- alerts from the API
def _state(alert: Mapping[str, Any]) -> str:
    status = alert.get("status") or {}
    if status.get("inhibitedBy"):
        return "inhibited"
    if status.get("silencedBy"):
        return "silenced"
    return "active" if status.get("state") in ("active", None) else str(status.get("state"))


def _since(starts: str | None, at: dt.datetime) -> str:
    if not starts:
        return ""
    try:
        return human_delta((at - parse_time(starts)).total_seconds())
    except (TypeError, ValueError):
        return ""


def fetch_alerts(ctx: Context, filters: list[str] | None = None) -> list[dict[str, Any]]:
    am = ctx.alertmanager
    data = am.alerts(filters=filters)
    if not isinstance(data, list) or not all(isinstance(a, dict) and isinstance(a.get("labels"), dict) for a in data):
        raise ServiceError(f"alertmanager {am.url('/api/v2/alerts')}: answered with something that is not a list of alerts",
                           url=am.url("/api/v2/alerts"))
    return data


def alert_row(alert: Mapping[str, Any], at: dt.datetime) -> dict[str, Any]:
    labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
    status = alert.get("status") or {}
    receivers = [str(r.get("name")) if isinstance(r, dict) else str(r) for r in alert.get("receivers") or []]
    return {
        "fingerprint": alert.get("fingerprint"),
        "alertname": labels.get("alertname", ""),
        "labels": labels,
        "labels_text": format_labels(labels, skip="alertname"),
        "annotations": dict(alert.get("annotations") or {}),
        "state": _state(alert),
        "api_state": status.get("state"),
        "silenced_by": list(status.get("silencedBy") or []),
        "inhibited_by": list(status.get("inhibitedBy") or []),
        "receivers": receivers,
        "receivers_text": ", ".join(receivers),
        "starts_at": alert.get("startsAt"),
        "ends_at": alert.get("endsAt"),
        "since": _since(alert.get("startsAt"), at),
        "why": "",
    }


def explain_inhibition(config: routing.AlertmanagerConfig | None, rows: list[dict[str, Any]]) -> tuple[list[dict], list[str]]:
    """Group inhibited alerts under the root alert that inhibits them.

    For each inhibited alert the inhibiting alert is computed from the config's inhibit rules among the firing
    alerts (the API's ``inhibitedBy`` fingerprint picks among several; without a config it is used alone). The
    chain is followed up to an alert that is not inhibited itself: the root cause. Returns the groups (roots
    in order of how much they hide) and warnings for what the rules do not explain.
    """
    by_fp = {r["fingerprint"]: r for r in rows}
    warnings: list[str] = []
    parent: dict[str, tuple[str, int | None]] = {}
    for row in rows:
        if row["state"] != "inhibited":
            continue
        api = [fp for fp in row["inhibited_by"] if fp in by_fp]
        found: list[tuple[str, int | None]] = []
        if config is not None:
            candidates = ((r["fingerprint"], r["labels"]) for r in rows if r["fingerprint"] != row["fingerprint"])
            found = [(fp, rule.index) for fp, rule in config.inhibitors(row["labels"], candidates)]
        choice = next((f for f in found if f[0] in api), None) or (found[0] if found else None)
        if choice is None and api:
            choice = (api[0], None)
            if config is not None:
                warnings.append(f"{row['alertname']} {row['labels_text']} is inhibited by {by_fp[api[0]]['alertname']}, "
                                f"but no inhibit rule of {config.source} says so (is the file the running config?)")
        if choice is None:
            warnings.append(f"{row['alertname']} {row['labels_text']} is inhibited, but its inhibiting alert is not firing "
                            "any more (or not listed)")
            continue
        parent[row["fingerprint"]] = choice
    groups: dict[str, dict[str, Any]] = {}
    for fp, (via, rule) in parent.items():
        root, seen = via, {fp}
        while root in parent and root not in seen:  # up to an alert that is not inhibited (a cycle stops)
            seen.add(root)
            root = parent[root][0]
        group = groups.setdefault(root, {"root": _brief(by_fp[root]), "hides": []})
        hidden = _brief(by_fp[fp])
        hidden.update({"via": via, "via_alertname": by_fp[via]["alertname"], "rule": rule})
        group["hides"].append(hidden)
    for fp, (via, _rule) in parent.items():
        by_fp[fp]["why"] = f"inhibited by {by_fp[via]['alertname']}"
        by_fp[fp]["inhibited_by_alert"] = via
    ordered = sorted(groups.values(), key=lambda g: (-len(g["hides"]), g["root"]["alertname"]))
    for group in ordered:
        group["hides"].sort(key=lambda h: (h["alertname"], h["labels_text"]))
    return ordered, warnings


def _brief(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("fingerprint", "alertname", "labels", "labels_text", "state", "starts_at")}


def list_alerts(ctx: Context, *, inhibited: bool, silenced: bool, config_file: str | None) -> dict[str, Any]:
    at = now()
    rows = [alert_row(a, at) for a in fetch_alerts(ctx)]
    rows.sort(key=lambda r: ({"active": 0, "silenced": 1, "inhibited": 2}.get(r["state"], 3), r["alertname"], r["labels_text"]))
    for row in rows:
        if row["silenced_by"]:
            row["why"] = "silenced by " + ", ".join(row["silenced_by"])
    warnings: list[str] = []
    config = None
    if any(r["state"] == "inhibited" for r in rows):
        try:
            config = config_from(ctx, config_file, prefer_running=True)
        except (ServiceError, ConfigError) as exc:
            if config_file:
                raise
            warnings.append(f"cannot read the running config ({exc.message}): the inhibiting alerts are the API's inhibitedBy")
    groups, more = explain_inhibition(config, rows)
    warnings += more
    shown = rows
    if inhibited or silenced:
        # a silenced alert that an inhibit rule also suppresses has state "inhibited": --silenced still lists it
        shown = [r for r in rows if (inhibited and r["state"] == "inhibited") or (silenced and r["silenced_by"])]
    return {"alerts": shown, "inhibition": groups, "warnings": warnings}


# ---------------------------------------------------------------- test
def _pairs(texts: Iterable[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for text in texts:
        name, sep, value = str(text).partition("=")
        if not sep or not name.strip():
            raise UsageError(f"bad {what} {text!r}: expected NAME=VALUE")
        out[name.strip()] = value
    return out


def parse_duration(text: str, option: str) -> float:
    from aetherops_plugins.lint.loader import parse_duration as parse

    seconds = parse(str(text).strip())
    if seconds is None:
        raise UsageError(f"{option} {text!r} is not a duration (like 30s, 5m, 1h30m, or 0)")
    return seconds


def _wait_for(ctx: Context, labels: dict[str, str], timeout: float = READ_BACK_SECONDS) -> dict[str, Any] | None:
    """The alert with exactly ``labels``, once Alertmanager has processed it (None after ``timeout``)."""
    from aetherops_plugins.maintenance.matchers import format_matcher

    filters = [format_matcher({"name": k, "value": v, "isRegex": False, "isEqual": True}) for k, v in sorted(labels.items())]
    deadline = time.monotonic() + timeout
    found = None
    while True:
        for alert in fetch_alerts(ctx, filters):
            if {str(k): str(v) for k, v in alert["labels"].items()} == labels:
                found = alert
        if found is not None and (found.get("status") or {}).get("state") != "unprocessed":
            return found
        if time.monotonic() >= deadline:
            return found
        time.sleep(0.1)


def test_alert(ctx: Context, labels: Iterable[str], annotations: Iterable[str], resolve_after: str, *, wait: bool = False,
               generator_url: str | None = None) -> dict[str, Any]:
    parsed = routing.parse_labels(labels)
    if not parsed:
        raise UsageError("give at least one --label NAME=VALUE (e.g. --label alertname=PipelineTest)")
    notes = _pairs(annotations, "--annotation")
    seconds = parse_duration(resolve_after, "--resolve-after")
    am = ctx.alertmanager
    start = now()
    alert: dict[str, Any] = {"labels": parsed, "annotations": notes, "startsAt": fmt_time(start)}
    if generator_url:
        alert["generatorURL"] = generator_url
    if seconds > 0:
        alert["endsAt"] = fmt_time(start + dt.timedelta(seconds=seconds))  # resolves by itself, even if we are killed
    posted = am.post_alerts_everywhere([alert])
    for url, error in posted:
        if error is not None:
            ctx.output.warn(f"peer {url} did not take the alert: {error.message}")
    resolved = False
    try:
        found = _wait_for(ctx, parsed)
        if found is None:
            raise ServiceError(f"alertmanager {am.url('/api/v2/alerts')}: the posted alert {format_labels(parsed)} "
                               f"is not listed after {READ_BACK_SECONDS:g}s", url=am.url("/api/v2/alerts"))
        row = alert_row(found, now())
        result: dict[str, Any] = {"labels": parsed, "annotations": notes, "starts_at": alert["startsAt"],
                                  "ends_at": alert.get("endsAt"), "peers": [{"url": u, "posted": e is None} for u, e in posted]}
        try:
            config = running_config(ctx)
        except (ServiceError, ConfigError) as exc:
            ctx.output.warn(f"cannot evaluate the routing tree ({exc.message}): receivers as the API reports them")
            config = None
        result["routes"] = [r.describe() for r in config.routes_for(parsed)] if config else []
        if config is not None and row["receivers"] and sorted(config.receivers_for(parsed)) != sorted(row["receivers"]):
            ctx.output.warn(f"the routing tree gives {', '.join(config.receivers_for(parsed))}, Alertmanager says "
                            f"{', '.join(row['receivers'])}")
        row["silenced_by"] = [_silence(ctx, sid) for sid in row["silenced_by"]]
        row["inhibited_by"] = _inhibitors(ctx, config, row, found)
        result["alert"] = row
        if seconds == 0:
            _resolve(ctx, alert)
            resolved = True
            result["resolution"] = "resolved now (--resolve-after 0)"
        elif wait:
            ctx.output.note(f"aetherops: waiting {resolve_after} before resolving the test alert (Ctrl-C resolves it now)")
            try:
                time.sleep(max(0.0, (start + dt.timedelta(seconds=seconds) - now()).total_seconds()))
            except KeyboardInterrupt:  # the documented way to end the wait: resolve now, and still show the result
                _resolve(ctx, alert)
                resolved = True
                result.update(resolution=f"resolved at Ctrl-C (before --resolve-after {resolve_after})", resolved=True)
                raise WaitInterrupted(result) from None
            _resolve(ctx, alert)
            resolved = True
            result["resolution"] = f"resolved after {resolve_after}"
        else:
            result["resolution"] = f"by Alertmanager at {alert['endsAt']} (endsAt, --resolve-after {resolve_after})"
        result["resolved"] = resolved
        return result
    except BaseException:
        if not resolved and (wait or seconds == 0):
            try:
                _resolve(ctx, alert)
            except ServiceError as exc:
                ctx.output.warn(f"could not resolve the test alert: {exc.message}")
        raise


class WaitInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``alerts test --wait``: the alert is resolved; ``result`` is what the command prints."""

    def __init__(self, result: dict[str, Any]):
        super().__init__()
        self.result = result


def _resolve(ctx: Context, alert: dict[str, Any]) -> None:
    body = {**alert, "endsAt": fmt_time(now())}
    ctx.alertmanager.post_alerts_everywhere([body])


def _silence(ctx: Context, silence_id: str) -> dict[str, Any]:
    from urllib.parse import quote

    from aetherops_plugins.maintenance.matchers import format_matchers

    try:
        silence = ctx.alertmanager.get_json(f"/api/v2/silence/{quote(str(silence_id), safe='')}")
    except ServiceError:
        return {"id": silence_id}
    return {"id": silence_id, "matchers_text": format_matchers(silence.get("matchers") or []), "created_by": silence.get("createdBy"),
            "comment": silence.get("comment"), "ends_at": silence.get("endsAt")}


def _inhibitors(ctx: Context, config: routing.AlertmanagerConfig | None, row: dict[str, Any], found: dict) -> list[dict[str, Any]]:
    if not row["inhibited_by"]:
        return []
    at = now()
    others = [alert_row(a, at) for a in fetch_alerts(ctx)]
    by_fp = {r["fingerprint"]: r for r in others}
    out = []
    if config is not None:
        candidates = ((r["fingerprint"], r["labels"]) for r in others if r["fingerprint"] != row["fingerprint"])
        for fp, rule in config.inhibitors(row["labels"], candidates):
            out.append({"fingerprint": fp, "alertname": by_fp[fp]["alertname"], "labels": by_fp[fp]["labels"], "rule": rule.index,
                        "api": fp in row["inhibited_by"]})
    if not out:
        out = [{"fingerprint": fp, "alertname": by_fp.get(fp, {}).get("alertname"), "labels": by_fp.get(fp, {}).get("labels"),
                "rule": None, "api": True} for fp in row["inhibited_by"]]
    return out
