"""Silences through the Alertmanager v2 API: create-or-extend, list, extend, end.

Imported only when a ``maintenance`` command runs. Talks to Alertmanager
through the core :class:`aetherops.clients.alertmanager.AlertmanagerClient`
(httpx), so every failure is a one-line :class:`ServiceError` (exit 3) naming
the URL and the server's message.

Facts about Alertmanager (checked against 0.25) this module relies on:

- ``POST /api/v2/silences`` with the ``id`` of an *active* silence, the same
  matchers and the same ``startsAt`` updates it in place (same id). Anything
  else (an expired silence, a changed ``startsAt`` or matchers) makes a new
  silence with a new id and expires the old one: we report both ids.
- ``GET /api/v2/silences?filter=M`` keeps the silences having a matcher equal
  to ``M`` (same name, operator and value), expired ones included.
- ``DELETE /api/v2/silence/ID`` expires; an unknown id answers 404/500
  "silence not found"; expiring an expired silence is a no-op (200).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote as urlquote

from aetherops.errors import ServiceError, UsageError
from aetherops_plugins.maintenance import matchers as m

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.clients.alertmanager import AlertmanagerClient

UTC = dt.timezone.utc
#: a new silence's startsAt is sent this far in the past: Alertmanager moves a past start to its own "now", so
#: the silence is active at once even when this machine's clock runs ahead of the server's
START_MARGIN = dt.timedelta(seconds=60)
#: longer than any silence id (a UUID has 36 characters): refused before a request is built
MAX_ID_CHARS = 200
_PREFIX = r"[0-9a-fA-F-]{4,35}\Z"  # patterns compiled on first use (re caches them)
_FRACTION = r"\.(\d+)"


# ---------------------------------------------------------------- time
def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def fmt_time(when: dt.datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as Alertmanager writes it."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_time(text: str) -> dt.datetime:
    """Alertmanager's timestamps (``2026-11-24T08:24:12.000Z``, any fraction length, any offset)."""
    text = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    text = re.sub(_FRACTION, lambda mt: "." + (mt.group(1) + "000000")[:6], text, count=1)
    when = dt.datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def human_delta(seconds: float) -> str:
    """``5400`` -> ``1h30m``; ``42`` -> ``42s``."""
    seconds = int(round(abs(seconds)))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m{secs:02d}s" if secs and minutes < 10 else f"{minutes}m"
    return f"{secs}s"


# ---------------------------------------------------------------- results
class Outcome:
    """What a writing command did (or, with dry_run, would do).

    ``action``: created | extended | expired; in a dry run: create | extend | expire.
    (A plain class, not a dataclass: this module is on the hot path of a 0.2 s command.)
    """

    __slots__ = ("action", "silence", "previous_id", "dry_run", "request", "notes", "warnings", "peers")

    def __init__(self, action: str, silence: dict[str, Any], previous_id: str | None = None, dry_run: bool = False,
                 request: dict[str, Any] | None = None, notes: list[str] | None = None, warnings: list[str] | None = None):
        self.action = action
        self.silence = silence
        self.previous_id = previous_id
        self.dry_run = dry_run
        self.request = request
        self.notes = notes or []
        self.warnings = warnings or []
        self.peers: list[dict[str, Any]] = []  # an HA cluster: where the silence is visible (wait_on_peers)

    def as_dict(self) -> dict[str, Any]:
        s = self.silence
        data = {
            "action": self.action,
            "id": s.get("id"),
            "startsAt": s.get("startsAt"),
            "endsAt": s.get("endsAt"),
            "matchers": s.get("matchers", []),
            "createdBy": s.get("createdBy"),
            "comment": s.get("comment"),
            "previousId": self.previous_id,
            "dryRun": self.dry_run,
            "warnings": list(self.warnings),
        }
        if self.request is not None:
            data["request"] = self.request
        if self.peers:
            data["peers"] = self.peers
        return data


def silence_row(silence: dict[str, Any], at: dt.datetime | None = None) -> dict[str, Any]:
    """One silence as ``list`` shows it (JSON keys documented in docs/maintenance.md)."""
    at = at or now()
    state = (silence.get("status") or {}).get("state", "")
    ends = parse_time(silence["endsAt"]) if silence.get("endsAt") else None
    starts = parse_time(silence["startsAt"]) if silence.get("startsAt") else None
    ends_in = (ends - at).total_seconds() if ends else None
    if state == "expired" and ends:
        when = f"ended {human_delta(ends_in)} ago"
    elif state == "pending" and starts:
        when = f"starts in {human_delta((starts - at).total_seconds())}, lasts {human_delta((ends - starts).total_seconds())}"
    elif ends_in is not None:
        when = human_delta(ends_in)
    else:
        when = ""
    return {
        "id": silence.get("id"),
        "state": state,
        "matchers": silence.get("matchers", []),
        "matchersText": m.format_matchers(silence.get("matchers", [])),
        "startsAt": silence.get("startsAt"),
        "endsAt": silence.get("endsAt"),
        "endsInSeconds": round(ends_in, 3) if ends_in is not None else None,
        "endsIn": when,
        "createdBy": silence.get("createdBy"),
        "comment": silence.get("comment"),
        "updatedAt": silence.get("updatedAt"),
    }


# ---------------------------------------------------------------- requests
def filters_for(matchers: list[dict]) -> list[str]:
    """``filter`` parameters that make Alertmanager return only silences having all these matchers."""
    return [m.format_matcher(x) for x in matchers]


def silence_body(matchers: list[dict], starts: dt.datetime | str, ends: dt.datetime, author: str, comment: str,
                 silence_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if silence_id:
        body["id"] = silence_id
    body.update({
        "matchers": [{"name": x["name"], "value": x["value"], "isRegex": bool(x["isRegex"]), "isEqual": x.get("isEqual", True) is not False}
                     for x in matchers],
        "startsAt": starts if isinstance(starts, str) else fmt_time(starts),
        "endsAt": fmt_time(ends),
        "createdBy": author,
        "comment": comment,
    })
    return body


def new_silence_body(matchers: list[dict], start: dt.datetime, end: dt.datetime, author: str, comment: str) -> dict[str, Any]:
    """The body creating a silence from ``start`` (now) to ``end``; startsAt is sent START_MARGIN early (see there)."""
    return silence_body(matchers, start - START_MARGIN, end, author, comment)


def _unexpected(am: AlertmanagerClient, path: str, what: str, data: Any) -> ServiceError:
    """Alertmanager answered 2xx with JSON of the wrong shape: exit 3 naming the URL, not an internal error."""
    import json

    url = am.url(path)
    try:
        shown = json.dumps(data, ensure_ascii=False)
    except (TypeError, ValueError):
        shown = repr(data)
    shown = shown if len(shown) <= 200 else shown[:200] + "..."
    return ServiceError(f"alertmanager {url}: answered with unexpected JSON ({what}): {shown}", url=url)


def checked_silence(am: AlertmanagerClient, path: str, silence: Any) -> dict[str, Any]:
    """``silence`` if it has the shape of an Alertmanager v2 silence (what this module reads of it), else ServiceError."""
    if not isinstance(silence, dict):
        raise _unexpected(am, path, "expected a silence object", silence)
    if not isinstance(silence.get("id"), str) or not silence["id"]:
        raise _unexpected(am, path, "a silence without an id", silence)
    matchers = silence.get("matchers")
    if not isinstance(matchers, list) or not all(isinstance(x, dict) for x in matchers):
        raise _unexpected(am, path, "a silence without a list of matchers", silence)
    if not isinstance(silence.get("status", {}), dict):
        raise _unexpected(am, path, "a silence whose status is not an object", silence)
    for key in ("startsAt", "endsAt"):
        value = silence.get(key)
        try:
            parse_time(value)
        except (AttributeError, TypeError, ValueError):
            raise _unexpected(am, path, f"a silence whose {key} is not a timestamp", silence) from None
    return silence


def get_silences(am: AlertmanagerClient, filters: list[str] | None = None) -> list[dict[str, Any]]:
    """``GET /api/v2/silences`` (with ``filter`` parameters), every silence checked for shape."""
    data = am.silences(filters)
    if not isinstance(data, list):
        raise _unexpected(am, "/api/v2/silences", "expected a list of silences", data)
    return [checked_silence(am, "/api/v2/silences", s) for s in data]


def post_silence(am: AlertmanagerClient, body: dict[str, Any]) -> str:
    response = am.request("POST", "/api/v2/silences", json=body)
    try:
        data = response.json()
    except ValueError:
        raise ServiceError(f"alertmanager POST {am.url('/api/v2/silences')}: answered without a silenceID: {response.text[:200]}",
                           url=am.url("/api/v2/silences")) from None
    if not isinstance(data, dict) or not isinstance(data.get("silenceID"), str) or not data["silenceID"]:
        raise _unexpected(am, "/api/v2/silences", "no silenceID", data)
    return data["silenceID"]


class CreatedDespiteError(ServiceError):
    """The POST creating a silence failed without a clear refusal, but Alertmanager has the silence:
    ``silence`` is it (as found), ``cause`` the failure's own message."""

    def __init__(self, cause: ServiceError, silence: dict[str, Any]):
        self.cause = cause.message
        self.silence = silence
        super().__init__(f"{cause.message}; but Alertmanager created silence {silence['id']} anyway",
                         url=cause.url, status=cause.status)


#: statuses from a proxy in front of Alertmanager that do not tell whether the request reached it
_UNCERTAIN_STATUS = (502, 504)
#: how long after a failed POST the silence it may have created is looked for a second time
RECHECK_SECONDS = 0.5


def uncertain(exc: ServiceError) -> bool:
    """Whether a failed request may still have been carried out: a timeout or a connection lost after sending
    (the core client's "timed out" / "connection failed"), a gateway's 502/504, or a 2xx answer we could not read.
    Not: a refusal with an HTTP status, or "cannot connect" (nothing was sent)."""
    if exc.status is not None:
        return exc.status in _UNCERTAIN_STATUS
    return "cannot connect" not in exc.message


def find_created(am: AlertmanagerClient, body: dict[str, Any], since: dt.datetime) -> dict | None:
    """The silence a failed POST of ``body`` may have created: same matchers, author and comment, active or
    pending, updated since ``since`` (less START_MARGIN, for a server clock behind ours). Newest first."""
    wanted = m.normalize(body["matchers"])
    cutoff = since - START_MARGIN
    found = []
    for s in _candidates(am, body["matchers"]):
        if ((s.get("status") or {}).get("state") not in ("active", "pending") or s.get("createdBy") != body["createdBy"]
                or s.get("comment") != body["comment"] or m.normalize(s.get("matchers", [])) != wanted):
            continue
        try:
            if parse_time(s.get("updatedAt") or "") < cutoff:
                continue
        except (AttributeError, TypeError, ValueError):
            pass  # no usable updatedAt: the other fields must do
        found.append(s)
    found.sort(key=lambda s: str(s.get("updatedAt") or ""), reverse=True)
    return found[0] if found else None


def post_new_silence(am: AlertmanagerClient, body: dict[str, Any]) -> str:
    """POST a new silence (no ``id``) and return its id.

    A POST can fail after Alertmanager has stored the silence (the answer timed out, the connection dropped). When
    the failure is not a clear refusal (:func:`uncertain`), the silence is looked up (once more after
    RECHECK_SECONDS when not found): if it exists, :class:`CreatedDespiteError` carries it, so the caller can
    report or expire it; if not, or if the lookup fails too, the original ServiceError says so.
    """
    since = now()
    try:
        return post_silence(am, body)
    except ServiceError as exc:
        if not uncertain(exc):
            raise
        failure = exc
    import time

    try:
        found = find_created(am, body, since)
        if found is None:
            time.sleep(RECHECK_SECONDS)
            found = find_created(am, body, since)
    except ServiceError as lookup:
        raise ServiceError(f"{failure.message}; could not check whether Alertmanager created the silence anyway: {lookup.message}",
                           url=failure.url, status=failure.status) from None
    if found is None:
        raise ServiceError(f"{failure.message} (checked: no silence was created)", url=failure.url, status=failure.status)
    raise CreatedDespiteError(failure, found)


def _request_info(am: AlertmanagerClient, method: str, path: str, body: dict | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {"method": method, "url": am.url(path)}
    if body is not None:
        info["body"] = body
    return info


#: longest ``filter`` query sent, in characters once URL-encoded; past it every silence is fetched and compared here
#: (a URL has a length limit: the client's is 64 KiB, a proxy's can be 8 KiB)
MAX_FILTER_CHARS = 4000


def _candidates(am: AlertmanagerClient, matchers: list[dict]) -> list[dict]:
    """Silences having these matchers (Alertmanager's ``filter``), or all of them when it refuses our filter or
    the filter would make the URL too long."""
    filters = filters_for(matchers)
    if sum(len(urlquote(f, safe="")) + 8 for f in filters) > MAX_FILTER_CHARS:
        return get_silences(am)
    try:
        return get_silences(am, filters)
    except ServiceError as exc:
        if exc.status != 400:
            raise
        # this Alertmanager does not take our filter (another version's parser): compare every silence ourselves;
        # a matcher it cannot take at all is then refused by the POST, with its own message
        return get_silences(am)


def silences_having(am: AlertmanagerClient, matchers: list[dict]) -> list[dict]:
    """Silences having each of these matchers (and maybe others), as Alertmanager's ``filter`` selects them."""
    wanted = m.normalize(matchers)
    return [s for s in _candidates(am, matchers) if wanted <= m.normalize(s.get("matchers", []))]


def identical_active(am: AlertmanagerClient, matchers: list[dict], author: str) -> list[dict]:
    """Active silences with exactly these matchers (as a set) and this author."""
    wanted = m.normalize(matchers)
    return [
        s for s in _candidates(am, matchers)
        if (s.get("status") or {}).get("state") == "active" and s.get("createdBy") == author and m.normalize(s.get("matchers", [])) == wanted
    ]


def find_active(am: AlertmanagerClient, matchers: list[dict], author: str) -> dict | None:
    """The active silence with exactly these matchers (as a set) and this author, latest end first."""
    found = identical_active(am, matchers, author)
    found.sort(key=lambda s: s.get("endsAt", ""), reverse=True)
    return found[0] if found else None


def seniority(silence: dict) -> tuple:
    """How identical silences made at the same moment rank: the earliest start (Alertmanager sets a new silence's
    start to its own clock) wins, then the smallest id. Every process sees the same values, so all agree."""
    return (parse_time(silence["startsAt"]), str(silence["id"]))


def create_or_extend(am: AlertmanagerClient, matchers: list[dict], *, seconds: float, author: str, comment: str | None,
                     default_comment: str, dry_run: bool = False) -> Outcome:
    """Silence ``matchers`` for ``seconds`` from now; extend an active identical silence of the same author
    instead of stacking a duplicate (its end never moves earlier). One GET + one POST, and one more GET after
    creating a silence (:func:`settle`)."""
    existing = find_active(am, matchers, author)
    start = now()
    end = start + dt.timedelta(seconds=seconds)
    if existing is not None:
        outcome = _extend_existing(am, existing, matchers, end, author, comment, default_comment, dry_run)
        return outcome if dry_run else on_peers(am, outcome)
    body = new_silence_body(matchers, start, end, author, comment or default_comment)
    shown = {**body, "startsAt": fmt_time(start)}
    if dry_run:
        return Outcome("create", {**shown, "id": None}, dry_run=True, request=_request_info(am, "POST", "/api/v2/silences", body))
    try:
        new_id = post_new_silence(am, body)
    except CreatedDespiteError as exc:
        warning = (f"{exc.cause}; but the silence was created (found on the server): {exc.silence['id']}"
                   f" until {exc.silence.get('endsAt')}")
        return Outcome("created", {**shown, "id": exc.silence["id"], "endsAt": exc.silence.get("endsAt", shown["endsAt"])},
                       warnings=[warning])
    created = Outcome("created", {**shown, "id": new_id})
    return on_peers(am, settle(am, created, matchers, end, author, comment, default_comment))


def _extend_existing(am: AlertmanagerClient, existing: dict, matchers: list[dict], end: dt.datetime, author: str,
                     comment: str | None, default_comment: str, dry_run: bool = False, notes: list[str] | None = None) -> Outcome:
    """Make ``existing`` last until ``end``, or keep its end when that is later (an end never moves earlier)."""
    notes = list(notes or [])
    old_end = parse_time(existing["endsAt"])
    if old_end > end:
        notes.append(f"silence {existing['id']} already lasts until {fmt_time(old_end)}; its end is kept")
        end = old_end
    body = silence_body(existing.get("matchers", matchers), existing["startsAt"], end, author,
                        comment if comment is not None else existing.get("comment") or default_comment, existing["id"])
    if dry_run:
        return Outcome("extend", body, dry_run=True, request=_request_info(am, "POST", "/api/v2/silences", body), notes=notes)
    new_id = post_silence(am, body)
    return Outcome("extended", {**body, "id": new_id}, previous_id=existing["id"] if new_id != existing["id"] else None, notes=notes)


def settle(am: AlertmanagerClient, created: Outcome, matchers: list[dict], end: dt.datetime, author: str,
           comment: str | None, default_comment: str) -> Outcome:
    """Re-check after creating a silence: another aetherops run at the same moment may have found no silence
    either and created its twin (same matchers, same author). The most senior twin (:func:`seniority`) is kept;
    every other one is expired, ours included when it lost, so identical runs leave one silence whichever
    order they finish in. A loser reports the kept silence (extended to its own end when that is later)."""
    ours = created.silence["id"]
    twins = identical_active(am, matchers, author)
    if all(s["id"] == ours for s in twins):
        return created  # alone (or ours already gone and nothing to report instead)
    kept = min(twins, key=seniority)
    losers = [s for s in twins if s["id"] != kept["id"]]
    if kept["id"] != ours:
        losers.append({"id": ours})  # ours may already have been expired by the winner: then this is a no-op
        outcome = _extend_existing(am, kept, matchers, end, author, comment, default_comment)
    else:
        outcome = created
    ended = []
    for loser in {s["id"]: s for s in losers}.values():
        try:
            am.request("DELETE", f"/api/v2/silence/{urlquote(str(loser['id']), safe='')}")
        except ServiceError as exc:
            outcome.warnings.append(f"could not expire duplicate silence {loser['id']}: {exc.message}")
        else:
            ended.append(loser["id"])
    outcome.notes.append(f"another run created the same silence at the same moment: kept {kept['id']}"
                         + (f", expired {', '.join(ended)}" if ended else ""))
    return outcome


#: how long a new (or extended) silence may take to reach every peer of an HA cluster before we name the peer that lags
PEER_WAIT_SECONDS = 10.0


def wait_on_peers(am: AlertmanagerClient, silence_id: str, ends_at: str | None, *,
                  timeout: float | None = None) -> list[dict[str, Any]]:
    """Wait until silence ``silence_id`` (ending at ``ends_at``) is visible on every reachable peer of the
    cluster (``alertmanager.urls``), at most ``timeout`` seconds. One row per peer: ``state`` is visible,
    lagging (not there, or not with this end, when the time was up) or unreachable. ``[]`` for one Alertmanager."""
    import time

    peers = list(getattr(am, "peers", []))
    if len(peers) < 2:
        return []
    timeout = PEER_WAIT_SECONDS if timeout is None else timeout
    wanted = parse_time(ends_at) if ends_at else None
    path = f"/api/v2/silence/{urlquote(str(silence_id), safe='')}"
    rows = {peer.base_url: {"url": peer.base_url, "state": "lagging", "error": None} for peer in peers}
    pending = list(peers)
    deadline = time.monotonic() + timeout
    while pending:
        for peer in list(pending):
            row = rows[peer.base_url]
            try:
                found = peer.get_json(path)
            except ServiceError as exc:
                if exc.status is None:  # down: nothing to wait for
                    row.update(state="unreachable", error=exc.message)
                    pending.remove(peer)
                else:  # 404 (or 0.25's 500 "silence not found"): gossip has not brought it yet
                    row["error"] = exc.message
                continue
            try:
                same_end = wanted is None or abs((parse_time(found.get("endsAt")) - wanted).total_seconds()) < 1
            except (AttributeError, TypeError, ValueError):
                same_end = False
            if same_end:
                row.update(state="visible", error=None)
                pending.remove(peer)
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    return list(rows.values())


def on_peers(am: AlertmanagerClient, outcome: Outcome, *, timeout: float | None = None) -> Outcome:
    """:func:`wait_on_peers` for a created or extended silence: the rows in ``outcome.peers``, a warning naming
    each peer that lags, a note for each peer that is down."""
    silence_id = outcome.silence.get("id")
    if not silence_id:
        return outcome
    timeout = PEER_WAIT_SECONDS if timeout is None else timeout
    outcome.peers = wait_on_peers(am, silence_id, outcome.silence.get("endsAt"), timeout=timeout)
    for row in outcome.peers:
        if row["state"] == "lagging":
            outcome.warnings.append(f"silence {silence_id} is not visible on peer {row['url']} after {timeout:g}s "
                                    "(gossip lags; alerts routed through that peer may still notify)")
        elif row["state"] == "unreachable":
            outcome.notes.append(f"peer {row['url']} is unreachable: the silence reaches it by gossip when it is back")
    return outcome


#: The shortest id prefix `end`/`extend` accept (docs/maintenance.md).
MIN_PREFIX_CHARS = 4


def resolve_id(am: AlertmanagerClient, silence_id: str) -> dict:
    """The silence with this id, or with this unique id prefix (at least 4 characters)."""
    silence_id = silence_id.strip()
    if len(silence_id) > MAX_ID_CHARS:
        raise UsageError(f"{silence_id[:40]!r}... ({len(silence_id)} characters) is not a silence id (at most {MAX_ID_CHARS})")
    if len(silence_id) < MIN_PREFIX_CHARS:  # before any request: 'ab' would match half the silences
        raise UsageError(f"silence id {silence_id!r} is too short: give the whole id or a prefix of at least "
                         f"{MIN_PREFIX_CHARS} characters")
    if re.match(_PREFIX, silence_id):
        hits = [s for s in get_silences(am) if str(s.get("id", "")).lower().startswith(silence_id.lower())]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise UsageError(f"silence id prefix {silence_id!r} is ambiguous: " + ", ".join(s["id"] for s in hits[:5]))
        raise ServiceError(f"alertmanager {am.url('/api/v2/silences')}: no silence id starts with {silence_id!r}",
                           url=am.url("/api/v2/silences"), status=404)
    path = f"/api/v2/silence/{urlquote(silence_id, safe='')}"
    try:
        return checked_silence(am, path, am.get_json(path))
    except ServiceError as exc:
        if exc.status == 404:
            raise ServiceError(f"no silence with id {silence_id!r}: {exc.message}", url=exc.url, status=404) from None
        raise


def extend(am: AlertmanagerClient, silence_id: str, *, seconds: float, comment: str | None = None,
           dry_run: bool = False) -> Outcome:
    """Set the end of a silence to ``seconds`` from now (its matchers, author and start kept)."""
    existing = resolve_id(am, silence_id)
    state = (existing.get("status") or {}).get("state")
    end = now() + dt.timedelta(seconds=seconds)
    notes = []
    if state == "expired":
        notes.append(f"silence {existing['id']} had expired; Alertmanager makes a new silence for it")
    elif parse_time(existing["endsAt"]) > end:
        notes.append(f"the new end is earlier than the old one ({existing['endsAt']}): the silence is shortened")
    body = silence_body(existing.get("matchers", []), existing["startsAt"], end, existing.get("createdBy") or "aetherops",
                        comment if comment is not None else existing.get("comment", ""), existing["id"])
    if dry_run:
        return Outcome("extend", body, dry_run=True, request=_request_info(am, "POST", "/api/v2/silences", body), notes=notes)
    new_id = post_silence(am, body)
    return on_peers(am, Outcome("extended", {**body, "id": new_id}, previous_id=existing["id"] if new_id != existing["id"] else None,
                                notes=notes))


def expire(am: AlertmanagerClient, silence: dict, *, dry_run: bool = False) -> Outcome:
    """Expire one silence (``DELETE /api/v2/silence/ID``)."""
    path = f"/api/v2/silence/{urlquote(str(silence['id']), safe='')}"
    state = (silence.get("status") or {}).get("state")
    notes = [f"silence {silence['id']} had already expired"] if state == "expired" else []
    if dry_run:
        return Outcome("expire", silence, dry_run=True, request=_request_info(am, "DELETE", path), notes=notes)
    am.request("DELETE", path)
    ended = dict(silence)
    if state != "expired":
        ended["endsAt"] = fmt_time(now())
    return Outcome("expired", ended, notes=notes)


def expire_id(am: AlertmanagerClient, silence_id: str, *, dry_run: bool = False) -> Outcome:
    return expire(am, resolve_id(am, silence_id), dry_run=dry_run)


def mine(am: AlertmanagerClient, author: str, matchers: list[dict] | None = None) -> list[dict]:
    """Active and pending silences created by ``author`` (and having ``matchers``, when given)."""
    silences = silences_having(am, matchers) if matchers else get_silences(am)
    return [s for s in silences if s.get("createdBy") == author and (s.get("status") or {}).get("state") in ("active", "pending")]


def list_silences(am: AlertmanagerClient, *, include_all: bool = False, matchers: list[dict] | None = None,
                  author: str | None = None) -> list[dict]:
    """Silences as rows: active ones (all states with ``include_all``), soonest end first."""
    at = now()
    rows = [silence_row(s, at) for s in (silences_having(am, matchers) if matchers else get_silences(am))]
    if not include_all:
        rows = [r for r in rows if r["state"] == "active"]
    if author is not None:
        rows = [r for r in rows if r["createdBy"] == author]
    def key(row: dict) -> tuple:
        if row["state"] == "expired":  # most recently ended first
            return (2, -(row["endsInSeconds"] or 0.0))
        return ({"active": 0, "pending": 1}.get(row["state"], 3), row["endsInSeconds"] or 0.0)

    rows.sort(key=key)
    return rows
