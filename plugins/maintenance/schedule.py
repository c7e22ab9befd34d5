"""When a silence starts and ends (``--for 2h``, ``--start``, ``--end``), silences scheduled for later, and the
firing alerts a dry run would silence. Imported only by the commands that need it."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from aetherops_plugins.maintenance import engine

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.clients.alertmanager import AlertmanagerClient

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


class WhenError(ValueError):
    """A duration or a time that cannot be read; the message says what is expected."""


def parse_duration(text: str) -> float:
    """``"2h"`` -> 7200.0; ``"1h30m"``, ``"90m"``, ``"45s"``, ``"1d"``, ``"1.5h"`` (units s, m, h, d, w, as amtool)."""
    value = str(text).strip().lower().replace(" ", "")
    if not value or _DURATION.sub("", value):
        hint = " (a unit is needed: 30m, 2h)" if value.replace(".", "", 1).isdigit() else ""
        raise WhenError(f"{_shown(text)} is not a duration like 30m, 2h, 1h30m or 1d{hint}")
    seconds = sum(float(n) * _UNITS[unit] for n, unit in _DURATION.findall(value))
    if seconds <= 0:
        raise WhenError(f"{_shown(text)} is not a positive duration")
    if seconds > MAX_SECONDS:  # also inf: "9999...9d"
        raise WhenError(f"{_shown(text)} is longer than any silence (at most 10 years)")
    return seconds


#: longest duration read at all (the profile's maintenance.max_minutes is the real limit)
MAX_SECONDS = 10 * 366 * 86400


def _shown(text: str) -> str:
    text = str(text)
    return repr(text) if len(text) <= 40 else f"{text[:40]!r}... ({len(text)} characters)"


def parse_when(text: str, now: dt.datetime) -> dt.datetime:
    """A point in time: ``now``, ``+2h`` (from now), or ISO 8601 / RFC 3339 (``2026-12-01T22:00:00Z``,
    ``2026-12-01 22:00+01:00``); without an offset it is this machine's local time."""
    value = str(text).strip()
    if value.lower() == "now":
        return now
    if value.startswith("+"):
        return now + dt.timedelta(seconds=parse_duration(value[1:]))
    try:
        when = dt.datetime.fromisoformat(re.sub(r"[Zz]$", "+00:00", value))
        if when.tzinfo is None:
            when = when.astimezone()  # local time of this machine
        return when.astimezone(dt.timezone.utc)
    except (ValueError, OverflowError, OSError):  # not a time, or one the platform cannot convert (year 1, 9999)
        raise WhenError(f"{_shown(text)} is not a time like 2026-12-01T22:00:00Z, '2026-12-01 22:00' (local time), "
                        "+2h or now") from None


def window(now: dt.datetime, *, seconds: float | None, start: str | None, end: str | None) -> tuple[dt.datetime, dt.datetime]:
    """(start, end) of a silence from ``--minutes``/``--for`` (``seconds``), ``--start`` and ``--end``.

    ``--start`` + a duration, ``--start`` + ``--end``, ``--end`` alone (from now), or a duration alone (from now).
    WhenError when the combination or the times make no silence (the caller checks the length)."""
    if seconds is not None and end is not None:
        raise WhenError("give a duration (--minutes/--for) or --end, not both")
    begins = parse_when(start, now) if start is not None else now
    if end is not None:
        ends = parse_when(end, now)
    elif seconds is not None:
        try:
            ends = begins + dt.timedelta(seconds=seconds)
        except OverflowError:
            raise WhenError(f"the silence would end after the year 9999 (start {engine.fmt_time(begins)})") from None
    else:
        raise WhenError("--start needs --for DURATION, --minutes N or --end TIME: when does the silence end?")
    if ends <= begins:
        raise WhenError(f"the silence would end ({engine.fmt_time(ends)}) before it starts ({engine.fmt_time(begins)})")
    if ends <= now:
        raise WhenError(f"the silence would end in the past ({engine.fmt_time(ends)})")
    return begins, ends


def create_scheduled(am: AlertmanagerClient, matchers: list[dict], *, start: dt.datetime, end: dt.datetime, author: str,
                     comment: str, dry_run: bool = False) -> engine.Outcome:
    """A silence that starts later (Alertmanager keeps it ``pending`` until ``start``). One POST; an active
    silence is never extended for it: the planned window is its own."""
    body = engine.silence_body(matchers, start, end, author, comment)
    request = {"method": "POST", "url": am.url("/api/v2/silences"), "body": body}
    if dry_run:
        return engine.Outcome("create", {**body, "id": None}, dry_run=True, request=request)
    try:
        new_id = engine.post_new_silence(am, body)
    except engine.CreatedDespiteError as exc:
        return engine.Outcome("created", {**body, "id": exc.silence["id"]},
                              warnings=[f"{exc.cause}; but the silence was created (found on the server): {exc.silence['id']}"])
    return engine.Outcome("created", {**body, "id": new_id},
                          notes=[f"scheduled: the silence is pending until {engine.fmt_time(start)}"])


def would_silence(am: AlertmanagerClient, matchers: list[dict]) -> list[dict[str, Any]]:
    """The firing alerts these matchers select, as Alertmanager itself matches them (``GET /api/v2/alerts``
    with the matchers as ``filter``; already silenced or inhibited ones included, their state says so)."""
    alerts = am.alerts(filters=engine.filters_for(matchers))  # active, silenced and inhibited (unprocessed by default)
    rows = []
    for alert in alerts if isinstance(alerts, list) else []:
        if not isinstance(alert, dict):
            continue
        labels = alert.get("labels") if isinstance(alert.get("labels"), dict) else {}
        status = alert.get("status") if isinstance(alert.get("status"), dict) else {}
        rows.append({"alertname": labels.get("alertname"), "labels": labels, "state": status.get("state"),
                     "starts_at": alert.get("startsAt"), "fingerprint": alert.get("fingerprint")})
    rows.sort(key=lambda r: (str(r["alertname"]), sorted(r["labels"].items())))
    return rows


def completion_silences(context) -> list[tuple[str, str]]:
    """(id, "state until END: MATCHERS (AUTHOR: COMMENT)") of the active and pending silences, for shell
    completion: one GET with a 2 s timeout and no retry (the user is waiting at a TAB)."""
    import dataclasses

    from aetherops.clients.alertmanager import AlertmanagerClient
    from aetherops_plugins.maintenance.matchers import format_matchers

    config = dataclasses.replace(context.profile.service("alertmanager"), timeout=2.0, retries=0)
    am = AlertmanagerClient(config)
    try:
        silences = am.silences()
    finally:
        am.close()
    out = []
    for s in sorted(silences, key=lambda s: str(s.get("endsAt"))):
        state = (s.get("status") or {}).get("state")
        if state in ("active", "pending") and isinstance(s.get("id"), str):
            out.append((s["id"], f"{state} until {s.get('endsAt')}: {format_matchers(s.get('matchers') or [])} "
                                 f"({s.get('createdBy')}: {s.get('comment')})"))
    return out
