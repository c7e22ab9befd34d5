"""Guards for the maintenance engine, fast: an in-memory Alertmanager that behaves as 0.25 does (the behaviour the
engine's docstring lists, each checked against the real server in tests/test_maintenance.py).

These run in milliseconds, so ``nox -s mutants`` can run them for every mutant of plugins/maintenance/engine.py.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from urllib.parse import unquote

import pytest

from aetherops.errors import ServiceError, UsageError
from aetherops_plugins.maintenance import engine
from aetherops_plugins.maintenance import matchers as m

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 24, 8, 0, 0, tzinfo=UTC)
URL = "http://am.test:9093"


class Answer:
    def __init__(self, status: int, data=None, text: str | None = None):
        self.status_code = status
        self._data = data
        self.text = text if text is not None else json.dumps(data)

    def json(self):
        if self._data is None:
            raise ValueError("not JSON")
        return self._data


class FakeAM:
    """Alertmanager 0.25's silence semantics in memory: POST with the id of an active silence, same matchers and
    same start updates it in place; anything else makes a new silence (expiring the old one); a start in the past
    becomes the server's now; ``filter`` keeps silences having an equal matcher; DELETE expires."""

    def __init__(self, clock):
        self.clock = clock
        self.silences_by_id: dict[str, dict] = {}
        self.ids = (f"{n:08x}-0000-4000-8000-000000000000" for n in itertools.count(1))
        self.calls: list[tuple] = []
        self.fail: dict[str, ServiceError] = {}  # method -> error raised once
        self.refuse_filter = False
        self.post_answer = None  # replaces the next POST's answer (the silence is still stored)

    def url(self, path: str) -> str:
        return URL + path

    def _state(self, s: dict) -> str:
        now = self.clock()
        if engine.parse_time(s["endsAt"]) <= now:
            return "expired"
        return "pending" if engine.parse_time(s["startsAt"]) > now else "active"

    def _view(self, s: dict) -> dict:
        return {**s, "status": {"state": self._state(s)}}

    def silences(self, filters=None):
        self.calls.append(("GET", "/api/v2/silences", tuple(filters or ())))
        if self.fail.get("GET"):
            raise self.fail.pop("GET")
        if filters and self.refuse_filter:
            raise ServiceError("bad filter", url=self.url("/api/v2/silences"), status=400)
        wanted = [m.normalize([m.parse_matcher(f)]) for f in filters or []]
        return [self._view(s) for s in self.silences_by_id.values() if all(w <= m.normalize(s["matchers"]) for w in wanted)]

    def get_json(self, path: str):
        self.calls.append(("GET", path))
        silence_id = unquote(path.rsplit("/", 1)[1])
        if silence_id not in self.silences_by_id:
            raise ServiceError(f"alertmanager GET {self.url(path)}: HTTP 404: silence not found", url=self.url(path), status=404)
        return self._view(self.silences_by_id[silence_id])

    def request(self, method: str, path: str, json=None, **kwargs):
        self.calls.append((method, path))
        if self.fail.get(method):
            error = self.fail.pop(method)
            if method == "POST" and error.status is None and json is not None:
                self._store(json)  # the request reached the server, the answer was lost
            raise error
        if method == "DELETE":
            silence_id = unquote(path.rsplit("/", 1)[1])
            s = self.silences_by_id[silence_id]
            if self._state(s) != "expired":
                s["endsAt"] = engine.fmt_time(self.clock())
            return Answer(200, {})
        new_id = self._store(json)
        if self.post_answer is not None:
            answer, self.post_answer = self.post_answer, None
            return answer
        return Answer(200, {"silenceID": new_id})

    def _store(self, body: dict) -> str:
        now = self.clock()
        old = self.silences_by_id.get(body.get("id") or "")
        if old is not None and self._state(old) == "active" and m.normalize(old["matchers"]) == m.normalize(body["matchers"]) \
                and engine.parse_time(old["startsAt"]) == engine.parse_time(body["startsAt"]):
            old.update(endsAt=body["endsAt"], comment=body["comment"], createdBy=body["createdBy"], updatedAt=engine.fmt_time(now))
            return old["id"]
        if old is not None and self._state(old) != "expired":
            old["endsAt"] = engine.fmt_time(now)
        starts = max(engine.parse_time(body["startsAt"]), now)
        new = {"id": next(self.ids), "matchers": body["matchers"], "startsAt": engine.fmt_time(starts), "endsAt": body["endsAt"],
               "createdBy": body["createdBy"], "comment": body["comment"], "updatedAt": engine.fmt_time(now)}
        self.silences_by_id[new["id"]] = new
        return new["id"]

    def add(self, matchers, *, minutes=30, author="alice", comment="c", start=None) -> dict:
        start = start or self.clock()
        sid = self._store(engine.silence_body(m.parse_matchers(matchers), start, start + dt.timedelta(minutes=minutes), author, comment))
        return self.silences_by_id[sid]

    def active(self) -> list[dict]:
        return [s for s in self.silences_by_id.values() if self._state(s) == "active"]


@pytest.fixture
def clock(monkeypatch):
    """engine.now() under the test's control: ``clock.advance(seconds)``."""
    class Clock:
        now = T0

        def __call__(self):
            return self.now

        def advance(self, seconds: float):
            self.now += dt.timedelta(seconds=seconds)

    c = Clock()
    monkeypatch.setattr(engine, "now", c)
    monkeypatch.setattr(engine, "RECHECK_SECONDS", 0)
    return c


@pytest.fixture
def am(clock):
    return FakeAM(clock)


MATCH = m.parse_matchers(['service="api"'])


def create(am, minutes=30, author="alice", comment=None, matchers=MATCH, dry_run=False):
    return engine.create_or_extend(am, matchers, seconds=minutes * 60, author=author, comment=comment,
                                   default_comment="default comment", dry_run=dry_run)


# ---------------------------------------------------------------- time helpers
def test_fmt_time_is_utc_with_milliseconds():
    assert engine.fmt_time(dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)) == "2026-01-02T03:04:05.678Z"
    assert engine.fmt_time(dt.datetime(2026, 1, 2, 4, 4, 5, 9000, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == "2026-01-02T03:04:05.009Z"


@pytest.mark.parametrize("text, expected", [
    ("2026-11-24T08:24:12Z", dt.datetime(2026, 11, 24, 8, 24, 12, tzinfo=UTC)),
    ("2026-11-24T08:24:12.5z", dt.datetime(2026, 11, 24, 8, 24, 12, 500000, tzinfo=UTC)),
    (" 2026-11-24T08:24:12.123456789Z ", dt.datetime(2026, 11, 24, 8, 24, 12, 123456, tzinfo=UTC)),
    ("2026-11-24T09:24:12.1+01:00", dt.datetime(2026, 11, 24, 8, 24, 12, 100000, tzinfo=UTC)),
    ("2026-11-24T08:24:12", dt.datetime(2026, 11, 24, 8, 24, 12, tzinfo=UTC)),
])
def test_parse_time(text, expected):
    parsed = engine.parse_time(text)
    assert parsed == expected and parsed.utcoffset() is not None


@pytest.mark.parametrize("seconds, text", [
    (0, "0s"), (42, "42s"), (-42, "42s"), (59.6, "1m"), (60, "1m"), (61, "1m01s"), (599, "9m59s"), (600, "10m"),
    (601, "10m"), (3600, "1h"), (3660, "1h01m"), (5400, "1h30m"), (86400, "1d"), (90000, "1d1h"), (90061, "1d1h"),
])
def test_human_delta(seconds, text):
    assert engine.human_delta(seconds) == text


# ---------------------------------------------------------------- bodies and rows
def test_silence_body_and_new_silence_body():
    matchers = [{"name": "a", "value": "1", "isRegex": 0}, {"name": "b", "value": "x.*", "isRegex": True, "isEqual": False}]
    body = engine.silence_body(matchers, "2026-11-24T08:00:00.000Z", T0, "alice", "why", "id-1")
    assert body == {"id": "id-1", "matchers": [{"name": "a", "value": "1", "isRegex": False, "isEqual": True},
                                               {"name": "b", "value": "x.*", "isRegex": True, "isEqual": False}],
                    "startsAt": "2026-11-24T08:00:00.000Z", "endsAt": "2026-11-24T08:00:00.000Z", "createdBy": "alice", "comment": "why"}
    assert list(body)[0] == "id"
    assert "id" not in engine.silence_body(matchers, T0, T0, "a", "c")
    new = engine.new_silence_body(MATCH, T0, T0 + dt.timedelta(minutes=5), "alice", "c")
    assert new["startsAt"] == "2026-11-24T07:59:00.000Z" and new["endsAt"] == "2026-11-24T08:05:00.000Z" and "id" not in new


def test_filters_for():
    assert engine.filters_for(m.parse_matchers(['a="1"', 'b!~"x|y"'])) == ['a="1"', 'b!~"x|y"']


@pytest.mark.parametrize("state, starts, ends, expected", [
    ("active", -600, 5400, "1h30m"),
    ("expired", -600, -90, "ended 1m30s ago"),
    ("pending", 3600, 5400, "starts in 1h, lasts 30m"),
    ("", -600, None, ""),
])
def test_silence_row(state, starts, ends, expected):
    silence = {"id": "x", "status": {"state": state}, "matchers": MATCH, "startsAt": engine.fmt_time(T0 + dt.timedelta(seconds=starts)),
               "endsAt": engine.fmt_time(T0 + dt.timedelta(seconds=ends)) if ends is not None else None,
               "createdBy": "bob", "comment": "c", "updatedAt": "u"}
    row = engine.silence_row(silence, T0)
    assert row["endsIn"] == expected and row["state"] == state
    assert row["endsInSeconds"] == (ends if ends is not None else None)
    assert row["matchersText"] == 'service="api"' and row["createdBy"] == "bob" and row["updatedAt"] == "u"
    assert set(row) == {"id", "state", "matchers", "matchersText", "startsAt", "endsAt", "endsInSeconds", "endsIn", "createdBy",
                        "comment", "updatedAt"}


def test_silence_row_without_status_or_times(clock):
    row = engine.silence_row({"id": "x"})
    assert row["state"] == "" and row["endsIn"] == "" and row["endsInSeconds"] is None and row["matchers"] == []


def test_outcome_as_dict():
    outcome = engine.Outcome("created", {"id": "i", "startsAt": "s", "endsAt": "e", "matchers": MATCH, "createdBy": "a",
                                         "comment": "c"}, previous_id="p", warnings=["w"])
    data = outcome.as_dict()
    assert data == {"action": "created", "id": "i", "startsAt": "s", "endsAt": "e", "matchers": MATCH, "createdBy": "a",
                    "comment": "c", "previousId": "p", "dryRun": False, "warnings": ["w"]}
    assert data["warnings"] is not outcome.warnings
    assert engine.Outcome("create", {}, dry_run=True, request={"method": "POST"}).as_dict()["request"] == {"method": "POST"}
    assert engine.Outcome("x", {}).notes == [] and engine.Outcome("x", {}).as_dict()["matchers"] == []


# ---------------------------------------------------------------- answers of the wrong shape
GOOD = {"id": "i", "matchers": [], "status": {"state": "active"}, "startsAt": "2026-11-24T08:00:00Z", "endsAt": "2026-11-24T09:00:00Z"}


@pytest.mark.parametrize("silence, why", [
    ([GOOD], "expected a silence object"),
    ({**GOOD, "id": ""}, "a silence without an id"),
    ({**GOOD, "id": 5}, "a silence without an id"),
    ({**GOOD, "matchers": None}, "a silence without a list of matchers"),
    ({**GOOD, "matchers": ["x"]}, "a silence without a list of matchers"),
    ({**GOOD, "status": "active"}, "a silence whose status is not an object"),
    ({**GOOD, "startsAt": None}, "a silence whose startsAt is not a timestamp"),
    ({**GOOD, "endsAt": "tomorrow"}, "a silence whose endsAt is not a timestamp"),
])
def test_checked_silence_refuses_wrong_shapes(am, silence, why):
    with pytest.raises(ServiceError) as info:
        engine.checked_silence(am, "/api/v2/silence/i", silence)
    assert why in info.value.message and info.value.url == URL + "/api/v2/silence/i"
    assert info.value.message.startswith(f"alertmanager {URL}/api/v2/silence/i: answered with unexpected JSON")


def test_checked_silence_accepts_a_silence_and_cuts_long_answers(am):
    assert engine.checked_silence(am, "/p", GOOD) is GOOD
    assert engine.checked_silence(am, "/p", {k: v for k, v in GOOD.items() if k != "status"})["id"] == "i"
    with pytest.raises(ServiceError) as info:
        engine.checked_silence(am, "/p", ["x" * 500])
    assert info.value.message.endswith("xxx...") and len(info.value.message) < 320
    with pytest.raises(ServiceError) as info:
        engine.checked_silence(am, "/p", [{1, 2}])
    assert "{1, 2}" in info.value.message  # not JSON: shown as Python


def test_get_silences_needs_a_list(am):
    am.silences = lambda filters=None: {"silences": []}
    with pytest.raises(ServiceError, match="expected a list of silences"):
        engine.get_silences(am)


@pytest.mark.parametrize("answer, why", [
    (Answer(200, None, text="<html>proxy</html>"), "answered without a silenceID: <html>proxy</html>"),
    (Answer(200, {"id": "x"}), "no silenceID"),
    (Answer(200, {"silenceID": ""}), "no silenceID"),
    (Answer(200, ["x"]), "no silenceID"),
])
def test_post_silence_needs_a_silence_id(am, answer, why):
    am.post_answer = answer
    with pytest.raises(ServiceError) as info:
        engine.post_silence(am, engine.new_silence_body(MATCH, T0, T0 + dt.timedelta(minutes=5), "a", "c"))
    assert why in info.value.message and info.value.url == URL + "/api/v2/silences"


# ---------------------------------------------------------------- create, extend (the end never moves earlier)
def test_create_then_rerun_extends_and_never_shortens(am, clock):
    made = create(am, minutes=30)
    assert made.action == "created" and made.silence["id"] and made.previous_id is None and not made.notes
    assert made.silence["startsAt"] == "2026-11-24T08:00:00.000Z" and made.silence["endsAt"] == "2026-11-24T08:30:00.000Z"
    assert made.silence["comment"] == "default comment" and made.silence["createdBy"] == "alice"
    clock.advance(60)
    again = create(am, minutes=30, comment="new comment")
    assert again.action == "extended" and again.silence["id"] == made.silence["id"] and again.previous_id is None
    assert again.silence["endsAt"] == "2026-11-24T08:31:00.000Z" and again.silence["comment"] == "new comment"
    shorter = create(am, minutes=5)
    assert shorter.silence["endsAt"] == "2026-11-24T08:31:00.000Z"  # kept
    assert shorter.notes == [f"silence {made.silence['id']} already lasts until 2026-11-24T08:31:00.000Z; its end is kept"]
    assert shorter.silence["comment"] == "new comment"  # kept without --comment
    (only,) = am.active()
    assert only["endsAt"] == "2026-11-24T08:31:00.000Z"


def test_extend_keeps_the_existing_matchers_and_start(am, clock):
    existing = am.add(['service="api"'], minutes=10, comment="")
    clock.advance(30)
    again = create(am, minutes=20, matchers=m.parse_matchers(["service=api", 'service="api"']))
    assert again.silence["startsAt"] == existing["startsAt"] and again.silence["matchers"] == existing["matchers"]
    assert again.silence["comment"] == "default comment"  # the old one was empty


def test_another_author_or_matcher_set_is_another_silence(am, clock):
    create(am)
    assert create(am, author="bob").action == "created"
    assert create(am, matchers=m.parse_matchers(['service="api"', 'env="prod"'])).action == "created"
    assert len(am.active()) == 3


def test_an_expired_or_pending_identical_silence_is_not_extended(am, clock):
    old = am.add(['service="api"'], minutes=1)
    clock.advance(120)
    am.add(['service="api"'], minutes=10, start=clock() + dt.timedelta(hours=1))  # pending
    made = create(am)
    assert made.action == "created" and made.silence["id"] != old["id"]


def test_the_latest_ending_identical_silence_is_extended(am, clock):
    am.add(['service="api"'], minutes=10)
    later = am.add(['service="api"'], minutes=50)
    am.add(['service="api"'], minutes=20)
    assert create(am, minutes=5).silence["id"] == later["id"]


def test_dry_run_sends_nothing(am, clock):
    would = create(am, dry_run=True)
    assert would.action == "create" and would.dry_run and would.silence["id"] is None
    assert would.request == {"method": "POST", "url": URL + "/api/v2/silences",
                             "body": engine.new_silence_body(MATCH, T0, T0 + dt.timedelta(minutes=30), "alice", "default comment")}
    assert would.silence["startsAt"] == engine.fmt_time(T0)
    made = create(am)
    calls = len(am.calls)
    extend = create(am, minutes=60, dry_run=True)
    assert extend.action == "extend" and extend.request["body"]["id"] == made.silence["id"] and extend.dry_run
    assert [c[0] for c in am.calls[calls:]] == ["GET"]
    assert am.silences_by_id[made.silence["id"]]["endsAt"] == "2026-11-24T08:30:00.000Z"


def test_extend_that_alertmanager_answers_with_a_new_id(am, clock):
    existing = am.add(['service="api"'], minutes=10)
    am._store = (lambda original: (lambda body: original({**body, "startsAt": engine.fmt_time(clock())})))(am._store)
    clock.advance(5)
    out = create(am, minutes=20)
    assert out.previous_id == existing["id"] and out.silence["id"] != existing["id"]


# ---------------------------------------------------------------- identical runs at the same moment
def _twin(am, clock, seconds_later: float, **kw) -> dict:
    """An identical silence created ``seconds_later`` (the clock stays there)."""
    clock.advance(seconds_later)
    return am.add(['service="api"'], **kw)


def test_settle_keeps_the_earliest_twin_and_expires_ours(am, clock):
    first = am.add(['service="api"'], minutes=30)
    ours = _twin(am, clock, 0.2)
    out = engine.settle(am, engine.Outcome("created", dict(ours)), MATCH, engine.parse_time(ours["endsAt"]), "alice", None, "d")
    assert out.action == "extended" and out.silence["id"] == first["id"]
    assert [s["id"] for s in am.active()] == [first["id"]]
    assert out.notes == [f"another run created the same silence at the same moment: kept {first['id']}, expired {ours['id']}"]
    assert ("DELETE", f"/api/v2/silence/{ours['id']}") in am.calls


def test_settle_as_the_winner_expires_the_later_twin(am, clock):
    ours = am.add(['service="api"'], minutes=30)
    later = _twin(am, clock, 0.5)
    created = engine.Outcome("created", dict(ours))
    out = engine.settle(am, created, MATCH, engine.parse_time(ours["endsAt"]), "alice", None, "d")
    assert out is created and out.silence["id"] == ours["id"]
    assert [s["id"] for s in am.active()] == [ours["id"]]
    assert out.notes == [f"another run created the same silence at the same moment: kept {ours['id']}, expired {later['id']}"]


def test_settle_alone_changes_nothing(am, clock):
    ours = am.add(['service="api"'])
    am.add(['service="api"'], author="bob")  # another author's is not a twin
    created = engine.Outcome("created", dict(ours))
    calls = len(am.calls)
    assert engine.settle(am, created, MATCH, T0, "alice", None, "d") is created and not created.notes
    assert [c[0] for c in am.calls[calls:]] == ["GET"] and len(am.active()) == 2


def test_settle_ties_go_to_the_smallest_id(am, clock):
    a = am.add(['service="api"'])
    b = am.add(['service="api"'])  # same start, to the millisecond
    assert a["startsAt"] == b["startsAt"] and a["id"] < b["id"]
    out = engine.settle(am, engine.Outcome("created", dict(b)), MATCH, engine.parse_time(b["endsAt"]), "alice", None, "d")
    assert out.silence["id"] == a["id"] and [s["id"] for s in am.active()] == [a["id"]]
    assert engine.seniority(a) < engine.seniority(b)


def test_settle_extends_the_kept_twin_to_a_later_end(am, clock):
    first = am.add(['service="api"'], minutes=30)
    ours = _twin(am, clock, 0.1, minutes=60)
    wanted = ours["endsAt"]
    out = engine.settle(am, engine.Outcome("created", dict(ours)), MATCH, engine.parse_time(wanted), "alice", "mine", "d")
    assert out.silence["id"] == first["id"] and am.silences_by_id[first["id"]]["endsAt"] == wanted == "2026-11-24T09:00:00.100Z"
    assert am._state(ours) == "expired"
    assert am.silences_by_id[first["id"]]["comment"] == "mine"


def test_settle_after_ours_was_already_expired_by_the_winner(am, clock):
    first = am.add(['service="api"'])
    ours = _twin(am, clock, 0.1)
    am.request("DELETE", f"/api/v2/silence/{ours['id']}")
    out = engine.settle(am, engine.Outcome("created", dict(ours)), MATCH, engine.parse_time(ours["endsAt"]), "alice", None, "d")
    assert out.silence["id"] == first["id"] and [s["id"] for s in am.active()] == [first["id"]]


def test_settle_reports_a_twin_it_could_not_expire(am, clock):
    ours = am.add(['service="api"'])
    later = _twin(am, clock, 0.5)
    am.fail["DELETE"] = ServiceError("HTTP 500: busy", url="u", status=500)
    out = engine.settle(am, engine.Outcome("created", dict(ours)), MATCH, T0, "alice", None, "d")
    assert out.warnings == [f"could not expire duplicate silence {later['id']}: HTTP 500: busy"]
    assert out.notes == [f"another run created the same silence at the same moment: kept {ours['id']}"]


def test_create_settles_after_creating(am, clock, monkeypatch):
    seen = []
    monkeypatch.setattr(engine, "settle", lambda am_, created, *a: seen.append(a) or created)
    create(am, minutes=7, comment="x")
    assert seen == [(MATCH, T0 + dt.timedelta(minutes=7), "alice", "x", "default comment")]


# ---------------------------------------------------------------- a POST whose answer was lost
@pytest.mark.parametrize("error, is_uncertain", [
    (ServiceError("alertmanager POST u: timed out after 5s", url="u"), True),
    (ServiceError("alertmanager POST u: connection failed (reset)", url="u"), True),
    (ServiceError("alertmanager POST u: cannot connect (refused)", url="u"), False),
    (ServiceError("HTTP 502", url="u", status=502), True),
    (ServiceError("HTTP 504", url="u", status=504), True),
    (ServiceError("HTTP 500", url="u", status=500), False),
    (ServiceError("HTTP 400", url="u", status=400), False),
])
def test_uncertain(error, is_uncertain):
    assert engine.uncertain(error) is is_uncertain


def test_a_create_whose_answer_was_lost_reports_the_silence(am, clock):
    am.fail["POST"] = ServiceError("alertmanager POST u: timed out after 1s", url="u")
    out = create(am)
    (made,) = am.active()
    assert out.action == "created" and out.silence["id"] == made["id"] and out.silence["endsAt"] == made["endsAt"]
    assert out.warnings == [f"alertmanager POST u: timed out after 1s; but the silence was created (found on the server): "
                            f"{made['id']} until {made['endsAt']}"]


def test_a_refused_create_is_not_looked_up(am, clock):
    am.fail["POST"] = ServiceError("HTTP 500: disk full", url="u", status=500)
    calls = len(am.calls)
    with pytest.raises(ServiceError, match="disk full"):
        create(am)
    assert [c[0] for c in am.calls[calls:]] == ["GET", "POST"]


def test_a_lost_create_that_made_nothing_says_so(am, clock):
    def lost(method, path, json=None, **kw):
        am.calls.append((method, path))
        raise ServiceError("alertmanager POST u: timed out after 1s", url="u")

    am.request = lost
    with pytest.raises(ServiceError) as info:
        create(am)
    assert info.value.message == "alertmanager POST u: timed out after 1s (checked: no silence was created)"
    assert info.value.url == "u" and [c[0] for c in am.calls].count("GET") == 3  # looked twice


def test_a_lost_create_whose_lookup_fails_too(am, clock):
    am.fail["POST"] = ServiceError("alertmanager POST u: timed out after 1s", url="u")
    real, gets = am.silences, []

    def silences(filters=None):
        gets.append(filters)
        if len(gets) > 1:  # the idempotency check works, the lookup after the lost POST does not
            raise ServiceError("GET refused", url="g")
        return real(filters)

    am.silences = silences
    with pytest.raises(ServiceError) as info:
        create(am)
    assert info.value.message == ("alertmanager POST u: timed out after 1s; could not check whether Alertmanager created "
                                  "the silence anyway: GET refused")


def test_find_created_matches_only_that_request(am, clock):
    body = engine.new_silence_body(MATCH, T0, T0 + dt.timedelta(minutes=5), "alice", "why")
    assert engine.find_created(am, body, T0) is None
    am.add(['service="api"'], author="bob", comment="why")
    am.add(['service="api"'], author="alice", comment="other")
    am.add(['service="api"', 'x="1"'], author="alice", comment="why")
    old = am.add(['service="api"'], author="alice", comment="why")
    assert engine.find_created(am, body, T0)["id"] == old["id"]
    assert engine.find_created(am, body, T0 + dt.timedelta(minutes=2)) is None  # updated before since - 1 min
    assert engine.find_created(am, body, T0 + dt.timedelta(seconds=59))["id"] == old["id"]
    clock.advance(30)
    newer = am.add(['service="api"'], author="alice", comment="why")
    assert engine.find_created(am, body, T0)["id"] == newer["id"]  # newest first
    newer["updatedAt"] = None
    assert engine.find_created(am, body, T0 + dt.timedelta(hours=1))["id"] == newer["id"]  # no usable updatedAt


def test_created_despite_error():
    error = engine.CreatedDespiteError(ServiceError("timed out", url="u", status=504), {"id": "s1"})
    assert error.cause == "timed out" and error.silence == {"id": "s1"} and error.url == "u" and error.status == 504
    assert error.message == "timed out; but Alertmanager created silence s1 anyway"


# ---------------------------------------------------------------- filters
def test_a_refused_filter_falls_back_to_every_silence(am, clock):
    mine = am.add(['service="api"'])
    am.refuse_filter = True
    assert engine.find_active(am, MATCH, "alice")["id"] == mine["id"]
    assert am.calls[-2][2] and am.calls[-1][2] == ()
    am.fail["GET"] = ServiceError("HTTP 500", url="u", status=500)
    with pytest.raises(ServiceError, match="HTTP 500"):
        engine.find_active(am, MATCH, "alice")


def test_a_filter_too_long_for_a_url_is_not_sent(am, clock):
    long_value = "é" * 700  # 700 characters, 4200 once percent-encoded
    made = am.add([f'service="{long_value}"'])
    assert engine.find_active(am, m.parse_matchers([f'service="{long_value}"']), "alice")["id"] == made["id"]
    assert am.calls[-1][2] == ()
    short = "é" * 600
    engine.find_active(am, m.parse_matchers([f'service="{short}"']), "alice")
    assert am.calls[-1][2] == (f'service="{short}"',)


def test_silences_having_keeps_supersets_only(am, clock):
    both = am.add(['service="api"', 'env="prod"'])
    am.add(['env="prod"'])
    am.refuse_filter = True
    assert [s["id"] for s in engine.silences_having(am, MATCH)] == [both["id"]]


# ---------------------------------------------------------------- ids, extend, expire, mine, list
def test_resolve_id_by_id_and_prefix(am, clock):
    a = am.add(['service="api"'])
    b = am.add(['service="web"'])
    assert engine.resolve_id(am, f" {a['id']} ")["id"] == a["id"]
    assert engine.resolve_id(am, a["id"][:8].upper())["id"] == a["id"]
    with pytest.raises(UsageError) as info:
        engine.resolve_id(am, "0000")
    assert info.value.message == f"silence id prefix '0000' is ambiguous: {a['id']}, {b['id']}"
    with pytest.raises(ServiceError) as info:
        engine.resolve_id(am, "ffff")
    assert info.value.status == 404 and info.value.message == f"alertmanager {URL}/api/v2/silences: no silence id starts with 'ffff'"
    with pytest.raises(ServiceError) as info:
        engine.resolve_id(am, "zzzz-not-hex")
    assert info.value.status == 404 and info.value.message.startswith("no silence with id 'zzzz-not-hex': ")
    with pytest.raises(UsageError, match=r"\(201 characters\) is not a silence id \(at most 200\)"):
        engine.resolve_id(am, "a" * 201)
    assert am.calls[-1] == ("GET", "/api/v2/silence/zzzz-not-hex")
    am.fail["GET"] = ServiceError("HTTP 500", url="u", status=500)
    with pytest.raises(ServiceError, match="HTTP 500"):
        engine.resolve_id(am, "ab12")


def test_resolve_id_passes_other_errors(am, clock, monkeypatch):
    monkeypatch.setattr(am, "get_json", lambda path: (_ for _ in ()).throw(ServiceError("HTTP 503", url="u", status=503)))
    with pytest.raises(ServiceError) as info:
        engine.resolve_id(am, "not-a-hex-id")
    assert info.value.message == "HTTP 503"


def test_extend_sets_the_end_and_may_shorten(am, clock):
    s = am.add(['service="api"'], minutes=60, comment="keep")
    out = engine.extend(am, s["id"], seconds=600)
    assert out.action == "extended" and out.silence["endsAt"] == "2026-11-24T08:10:00.000Z" and out.previous_id is None
    assert out.notes == ["the new end is earlier than the old one (2026-11-24T09:00:00.000Z): the silence is shortened"]
    assert out.silence["comment"] == "keep" and out.silence["createdBy"] == "alice"
    longer = engine.extend(am, s["id"], seconds=7200, comment="new")
    assert not longer.notes and longer.silence["comment"] == "new"
    dry = engine.extend(am, s["id"], seconds=60, dry_run=True)
    assert dry.dry_run and dry.action == "extend" and dry.request["method"] == "POST"
    assert am.silences_by_id[s["id"]]["endsAt"] == "2026-11-24T10:00:00.000Z"


def test_extend_an_expired_silence_makes_a_new_one(am, clock):
    s = am.add(['service="api"'], minutes=1)
    clock.advance(120)
    out = engine.extend(am, s["id"], seconds=600)
    assert out.previous_id == s["id"] and out.silence["id"] != s["id"]
    assert out.notes == [f"silence {s['id']} had expired; Alertmanager makes a new silence for it"]


def test_extend_defaults_author_and_comment(am, clock):
    s = am.add(['service="api"'])
    del s["createdBy"], s["comment"]
    out = engine.extend(am, s["id"], seconds=600, dry_run=True)
    assert out.silence["createdBy"] == "aetherops" and out.silence["comment"] == ""


def test_expire(am, clock):
    s = am.add(['service="api"'])
    clock.advance(10)
    view = am._view(s)
    dry = engine.expire(am, view, dry_run=True)
    assert dry.request == {"method": "DELETE", "url": f"{URL}/api/v2/silence/{s['id']}"} and dry.action == "expire"
    assert am._state(s) == "active"
    out = engine.expire_id(am, s["id"][:8])
    assert out.action == "expired" and out.silence["endsAt"] == "2026-11-24T08:00:10.000Z" and not out.notes
    assert view["endsAt"] == "2026-11-24T08:30:00.000Z"  # a copy was changed
    clock.advance(5)
    again = engine.expire(am, am._view(s))
    assert again.notes == [f"silence {s['id']} had already expired"] and again.silence["endsAt"] == "2026-11-24T08:00:10.000Z"
    assert engine.expire(am, {"id": "a/b"}, dry_run=True).request["url"] == f"{URL}/api/v2/silence/a%2Fb"


def test_mine_and_list(am, clock):
    mine = am.add(['service="api"'], minutes=10)
    pending = am.add(['service="web"'], start=clock() + dt.timedelta(hours=1))
    theirs = am.add(['service="api"'], author="bob", minutes=5)
    ended = am.add(['service="db"'], minutes=1)
    clock.advance(90)
    assert {s["id"] for s in engine.mine(am, "alice")} == {mine["id"], pending["id"]}
    assert [s["id"] for s in engine.mine(am, "alice", MATCH)] == [mine["id"]]
    assert [r["id"] for r in engine.list_silences(am)] == [theirs["id"], mine["id"]]  # soonest end first
    assert [r["id"] for r in engine.list_silences(am, include_all=True)] == [theirs["id"], mine["id"], pending["id"], ended["id"]]
    assert [r["id"] for r in engine.list_silences(am, author="bob")] == [theirs["id"]]
    assert [r["id"] for r in engine.list_silences(am, matchers=MATCH)] == [theirs["id"], mine["id"]]
    clock.advance(600)
    rows = engine.list_silences(am, include_all=True)
    assert [r["state"] for r in rows] == ["pending", "expired", "expired", "expired"]  # most recently ended first
    assert [r["id"] for r in rows[1:]] == [mine["id"], theirs["id"], ended["id"]]


# ---------------------------------------------------------------- exact words and fields (what a user or a script reads)
def test_parse_time_takes_any_fraction_length():
    assert engine.parse_time("2026-11-24T08:24:12.5Z").microsecond == 500000
    assert engine.parse_time("2026-11-24T08:24:12.1234567Z").microsecond == 123456
    assert engine.parse_time("2026-11-24T08:24:12Z").tzinfo is not None


def test_fmt_time_converts_naive_and_offset_times_to_utc():
    east = dt.datetime(2026, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert engine.fmt_time(east) == "2026-01-02T03:04:05.000Z"


def test_silence_row_copies_every_field():
    silence = {"id": "x", "status": {"state": "active"}, "matchers": MATCH, "startsAt": "2026-11-24T07:50:00.000Z",
               "endsAt": "2026-11-24T08:10:00.1234Z", "createdBy": "bob", "comment": "why", "updatedAt": "u"}
    assert engine.silence_row(silence, T0) == {
        "id": "x", "state": "active", "matchers": MATCH, "matchersText": 'service="api"',
        "startsAt": "2026-11-24T07:50:00.000Z", "endsAt": "2026-11-24T08:10:00.1234Z", "endsInSeconds": 600.123,
        "endsIn": "10m", "createdBy": "bob", "comment": "why", "updatedAt": "u"}


def test_silence_body_reads_a_missing_is_equal_as_true():
    (matcher,) = engine.silence_body([{"name": "a", "value": "1", "isRegex": False}], T0, T0, "a", "c")["matchers"]
    assert matcher["isEqual"] is True


@pytest.mark.parametrize("data, shown", [
    (["é" * 10], '["éééééééééé"]'),  # as written, not \\u00e9
    (["x" * 196], '["' + "x" * 196 + '"]'),  # exactly 200 characters: whole
    (["x" * 197], '["' + "x" * 197 + '"...'),  # 201: cut at 200
])
def test_unexpected_answers_are_shown_as_json_cut_at_200(am, data, shown):
    with pytest.raises(ServiceError) as info:
        engine.checked_silence(am, "/api/v2/silence/i", data)
    assert info.value.message == f"alertmanager {URL}/api/v2/silence/i: answered with unexpected JSON (expected a silence object): {shown}"


@pytest.mark.parametrize("silence, why", [
    ({**GOOD, "id": ""}, "a silence without an id"),
    ({**GOOD, "matchers": None}, "a silence without a list of matchers"),
    ({**GOOD, "status": "active"}, "a silence whose status is not an object"),
    ({**GOOD, "endsAt": "tomorrow"}, "a silence whose endsAt is not a timestamp"),
])
def test_wrong_shapes_are_named_exactly_with_the_silence(am, silence, why):
    with pytest.raises(ServiceError) as info:
        engine.get_silences(type("AM", (), {"silences": lambda self, f=None: [silence], "url": am.url})())
    assert info.value.message == (f"alertmanager {URL}/api/v2/silences: answered with unexpected JSON ({why}): "
                                  + json.dumps(silence, ensure_ascii=False)[:200] + ("..." if len(json.dumps(silence)) > 200 else ""))
    assert info.value.url == URL + "/api/v2/silences"


def test_a_list_of_silences_is_required_exactly(am):
    with pytest.raises(ServiceError) as info:
        engine.get_silences(type("AM", (), {"silences": lambda self, f=None: {"a": 1}, "url": am.url})())
    assert info.value.message == f'alertmanager {URL}/api/v2/silences: answered with unexpected JSON (expected a list of silences): {{"a": 1}}'


def test_post_silence_errors_name_the_url_and_cut_the_body(am):
    body = engine.new_silence_body(MATCH, T0, T0 + dt.timedelta(minutes=5), "a", "c")
    am.post_answer = Answer(200, None, text="<" + "h" * 300)
    with pytest.raises(ServiceError) as info:
        engine.post_silence(am, body)
    assert info.value.message == f"alertmanager POST {URL}/api/v2/silences: answered without a silenceID: <" + "h" * 199
    assert am.calls[-1] == ("POST", "/api/v2/silences")
    am.post_answer = Answer(200, {"id": "x"})
    with pytest.raises(ServiceError) as info:
        engine.post_silence(am, body)
    assert info.value.message == f'alertmanager {URL}/api/v2/silences: answered with unexpected JSON (no silenceID): {{"id": "x"}}'


def test_lost_create_errors_keep_url_and_status(am, clock):
    def lost(method, path, json=None, **kw):
        raise ServiceError("alertmanager POST u: HTTP 504", url="u", status=504)

    am.request = lost
    with pytest.raises(ServiceError) as info:
        create(am)
    assert (info.value.url, info.value.status) == ("u", 504)
    am.silences = lambda filters=None: (_ for _ in ()).throw(ServiceError("GET refused", url="g"))
    with pytest.raises(ServiceError) as info:
        engine.post_new_silence(am, engine.new_silence_body(MATCH, T0, T0, "a", "c"))
    assert (info.value.url, info.value.status) == ("u", 504)


def test_find_created_takes_pending_silences_and_a_cutoff_to_the_millisecond(am, clock):
    body = engine.new_silence_body(MATCH, T0, T0 + dt.timedelta(minutes=5), "alice", "why")
    pending = am.add(['service="api"'], author="alice", comment="why", start=T0 + dt.timedelta(hours=1))
    assert engine.find_created(am, body, T0)["id"] == pending["id"]
    assert engine.find_created(am, body, T0 + engine.START_MARGIN)["id"] == pending["id"]  # updated exactly at the cutoff
    pending["updatedAt"] = None
    other = am.add(['service="api"'], author="alice", comment="why", start=T0 + dt.timedelta(hours=2))
    assert engine.find_created(am, body, T0)["id"] == other["id"]  # a usable updatedAt sorts first
    pending["updatedAt"] = "garbage"
    other["updatedAt"] = "garbage"
    assert engine.find_created(am, body, T0) is not None


def test_the_filter_budget_is_exact(am, clock, monkeypatch):
    monkeypatch.setattr(engine, "MAX_FILTER_CHARS", len('service%3D%22api%22') + 8)
    engine.find_active(am, MATCH, "alice")
    assert am.calls[-1][2] == ('service="api"',)  # exactly at the budget: sent
    monkeypatch.setattr(engine, "MAX_FILTER_CHARS", len('service%3D%22api%22') + 7)
    engine.find_active(am, MATCH, "alice")
    assert am.calls[-1][2] == ()


def test_an_extension_to_the_same_end_has_no_note(am, clock):
    s = am.add(['service="api"'], minutes=30)
    out = create(am, minutes=30)
    assert out.silence["id"] == s["id"] and out.notes == []


def test_extending_an_existing_silence_without_matchers_uses_ours(am, clock):
    existing = {"id": "e1", "startsAt": engine.fmt_time(T0), "endsAt": engine.fmt_time(T0 + dt.timedelta(minutes=5)), "comment": "c"}
    out = engine._extend_existing(am, existing, MATCH, T0 + dt.timedelta(minutes=9), "alice", None, "d", dry_run=True)
    assert out.silence["matchers"] == MATCH and out.request == {"method": "POST", "url": URL + "/api/v2/silences", "body": out.silence}
    assert out.notes == [] and out.silence["id"] == "e1"
    kept = engine._extend_existing(am, existing, MATCH, T0, "alice", None, "d", dry_run=True)
    assert kept.notes == ["silence e1 already lasts until 2026-11-24T08:05:00.000Z; its end is kept"]
    assert engine.extend(am, am.add(['service="x"'])["id"], seconds=60, dry_run=True).silence["matchers"] == m.parse_matchers(['service="x"'])


def test_dry_run_extend_shows_the_request_and_notes(am, clock):
    s = am.add(['service="api"'], minutes=60)
    out = engine.extend(am, s["id"], seconds=60, dry_run=True)
    assert out.request == {"method": "POST", "url": URL + "/api/v2/silences", "body": out.silence}
    assert out.notes == ["the new end is earlier than the old one (2026-11-24T09:00:00.000Z): the silence is shortened"]
    same = engine.extend(am, s["id"], seconds=3600, dry_run=True)
    assert same.notes == []  # the same end is not "earlier"
    assert engine.expire_id(am, s["id"], dry_run=True).dry_run is True and am._state(s) == "active"


def test_dry_run_expire_outcome(am, clock):
    s = am._view(am.add(['service="api"']))
    out = engine.expire(am, s, dry_run=True)
    assert out.silence is s and out.dry_run is True and out.notes == [] and out.action == "expire"
    clock.advance(3600)
    gone = engine.expire(am, am._view(am.silences_by_id[s["id"]]), dry_run=True)
    assert gone.notes == [f"silence {s['id']} had already expired"]


def test_settle_quotes_ids_and_lists_every_expired_twin(am, clock):
    first = am.add(['service="api"'])
    second = _twin(am, clock, 0.1)
    third = _twin(am, clock, 0.1)
    out = engine.settle(am, engine.Outcome("created", dict(third)), MATCH, engine.parse_time(third["endsAt"]), "alice", None, "d")
    assert out.notes == [f"another run created the same silence at the same moment: kept {first['id']}, "
                         f"expired {second['id']}, {third['id']}"]
    assert out.silence["createdBy"] == "alice" and out.silence["comment"] == "c" and out.silence["matchers"] == first["matchers"]
    am.silences_by_id["a/b"] = {**dict(first), "id": "a/b", "startsAt": engine.fmt_time(clock())}
    engine.settle(am, engine.Outcome("created", dict(first)), MATCH, T0, "alice", None, "d")
    assert ("DELETE", "/api/v2/silence/a%2Fb") in am.calls


def test_settle_extends_with_the_callers_author_and_default_comment(am, clock):
    first = am.add(['service="api"'], comment="")
    ours = _twin(am, clock, 0.1, minutes=90)
    out = engine.settle(am, engine.Outcome("created", dict(ours)), MATCH, engine.parse_time(ours["endsAt"]), "alice", None, "dflt")
    assert out.silence["comment"] == "dflt" and out.silence["createdBy"] == "alice" and out.silence["id"] == first["id"]


def test_a_lost_create_reports_the_end_alertmanager_has(am, clock):
    am.fail["POST"] = ServiceError("alertmanager POST u: timed out after 1s", url="u")
    original = am._store

    def store(body):  # the server kept a different end than we asked
        return original({**body, "endsAt": engine.fmt_time(T0 + dt.timedelta(minutes=99))})

    am._store = store
    out = create(am, minutes=30)
    assert out.silence["endsAt"] == "2026-11-24T09:39:00.000Z"


def test_resolve_id_details(am, clock):
    ids = [am.add([f'service="s{i}"'])["id"] for i in range(7)]
    upper = {**am.silences_by_id[ids[0]], "id": "ABCDEF01-0000-4000-8000-000000000000"}
    am.silences_by_id[upper["id"]] = upper
    assert engine.resolve_id(am, "abcdef01")["id"] == upper["id"]  # ids compared without case
    assert engine.resolve_id(am, "ABCDEF01")["id"] == upper["id"]
    with pytest.raises(UsageError) as info:
        engine.resolve_id(am, "0000")
    assert info.value.message == "silence id prefix '0000' is ambiguous: " + ", ".join(ids[:5])
    with pytest.raises(ServiceError) as info:
        engine.resolve_id(am, "ffff")
    assert info.value.url == URL + "/api/v2/silences"
    with pytest.raises(ServiceError) as info:
        engine.resolve_id(am, "no/such")
    assert info.value.url == URL + "/api/v2/silence/no%2Fsuch" and am.calls[-1] == ("GET", "/api/v2/silence/no%2Fsuch")
    with pytest.raises(UsageError) as info:
        engine.resolve_id(am, "q" * 201)
    assert info.value.message == f"{'q' * 40!r}... (201 characters) is not a silence id (at most 200)"
    with pytest.raises(ServiceError):
        engine.resolve_id(am, "q" * 200)  # 200 is still looked up
    am.silences_by_id["xyzw"] = {"id": "xyzw", "matchers": None, "startsAt": engine.fmt_time(T0), "endsAt": engine.fmt_time(T0)}
    with pytest.raises(ServiceError) as info:
        engine.resolve_id(am, "xyzw")
    assert info.value.url == URL + "/api/v2/silence/xyzw"
    calls = len(am.calls)
    with pytest.raises(UsageError) as info:  # shorter than a prefix may be: refused before any request
        engine.resolve_id(am, "abc")
    assert "too short" in info.value.message and len(am.calls) == calls


def test_list_orders_unknown_states_last_and_missing_ends(am, clock, monkeypatch):
    rows = {"u": ("weird", 5.0), "p": ("pending", None), "a": ("active", 9.0), "a2": ("active", None), "e": ("expired", None),
            "e2": ("expired", -0.5)}
    seen_at = []
    monkeypatch.setattr(engine, "get_silences", lambda am_, filters=None: [{"id": k} for k in rows])
    monkeypatch.setattr(engine, "silence_row", lambda s, at: seen_at.append(at) or {
        "id": s["id"], "state": rows[s["id"]][0], "endsInSeconds": rows[s["id"]][1], "createdBy": None})
    listed = engine.list_silences(am, include_all=True)
    assert [r["id"] for r in listed] == ["a2", "a", "p", "e", "e2", "u"]
    assert seen_at == [T0] * len(rows)  # one clock reading for every row
