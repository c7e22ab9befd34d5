"""Issue 15, day-one features for amtool users: ``--for 2h`` durations with units, ``--start``/``--end`` to
schedule a silence later, and ``--dry-run`` listing the firing alerts the matchers would silence, against a
real Alertmanager."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest

from aetherops_plugins.maintenance import engine
from aetherops_plugins.maintenance.schedule import WhenError, parse_duration, parse_when, window

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)


# ---------------------------------------------------------------- parsing (no server)
@pytest.mark.parametrize("text, seconds", [("2h", 7200), ("30m", 1800), ("1h30m", 5400), ("90s", 90), ("1d", 86400),
                                           ("1.5h", 5400), (" 2H ", 7200), ("1w", 604800)])
def test_durations_with_units(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "30", "2x", "h", "-1h", "0m", "1h-", "2h 3"])
def test_bad_durations_say_what_is_expected(text):
    with pytest.raises(WhenError) as info:
        parse_duration(text)
    assert "duration" in str(info.value)


def test_times_absolute_relative_and_local():
    assert parse_when("now", NOW) == NOW
    assert parse_when("+2h", NOW) == NOW + dt.timedelta(hours=2)
    assert parse_when("2026-12-01T22:00:00Z", NOW) == dt.datetime(2026, 12, 1, 22, tzinfo=dt.timezone.utc)
    assert parse_when("2026-12-01 23:00+01:00", NOW) == dt.datetime(2026, 12, 1, 22, tzinfo=dt.timezone.utc)
    local = parse_when("2026-12-01 22:00", NOW)
    assert local.tzinfo is not None and local == dt.datetime(2026, 12, 1, 22).astimezone()
    with pytest.raises(WhenError):
        parse_when("tomorrow-ish", NOW)


def test_windows():
    assert window(NOW, seconds=600, start=None, end=None) == (NOW, NOW + dt.timedelta(minutes=10))
    assert window(NOW, seconds=600, start="+1h", end=None) == (NOW + dt.timedelta(hours=1), NOW + dt.timedelta(minutes=70))
    assert window(NOW, seconds=None, start="+1h", end="+3h") == (NOW + dt.timedelta(hours=1), NOW + dt.timedelta(hours=3))
    assert window(NOW, seconds=None, start=None, end="+3h") == (NOW, NOW + dt.timedelta(hours=3))
    for kwargs, says in (({"seconds": None, "start": "+1h", "end": None}, "when does the silence end"),
                         ({"seconds": 60, "start": None, "end": "+1h"}, "not both"),
                         ({"seconds": None, "start": "+2h", "end": "+1h"}, "before it starts"),
                         ({"seconds": None, "start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}, "in the past")):
        with pytest.raises(WhenError) as info:
            window(NOW, **kwargs)
        assert says in str(info.value)


# ---------------------------------------------------------------- against a real Alertmanager
@pytest.fixture
def am(alertmanager_server, profile_factory, monkeypatch):
    profile_factory("am", alertmanager={"url": alertmanager_server.url, "timeout": 5, "retries": 2})
    monkeypatch.setenv("AETHEROPS_PROFILE", "am")
    return alertmanager_server


def _silence(server, silence_id: str) -> dict:
    return httpx.get(f"{server.url}/api/v2/silence/{silence_id}", timeout=5).json()


def _length(silence: dict) -> float:
    return (engine.parse_time(silence["endsAt"]) - engine.parse_time(silence["startsAt"])).total_seconds()


@pytest.mark.servers
def test_for_takes_a_duration_with_units(am, aetherops_cli):
    tag = uuid.uuid4().hex[:8]
    result = aetherops_cli("maintenance", "--for", "2h", "--match", f"run={tag}", "-o", "json")
    assert result.exit_code == 0, result
    silence = _silence(am, result.json()["id"])
    assert silence["status"]["state"] == "active"
    assert 7200 - 5 <= _length(silence) <= 7200 + 60  # Alertmanager moves a past start to its own clock
    extended = aetherops_cli("maintenance", "extend", silence["id"], "--for", "3h", "-o", "json")
    assert extended.exit_code == 0, extended
    left = (engine.parse_time(_silence(am, extended.json()["id"])["endsAt"]) - engine.now()).total_seconds()
    assert 3 * 3600 - 60 <= left <= 3 * 3600 + 5


@pytest.mark.servers
@pytest.mark.parametrize("args, says", [
    (["--for", "2h", "--minutes", "30"], "not both"),
    (["--for", "2x"], "not a duration"),
    (["--for", "30"], "a unit is needed"),
    (["--for", "25h"], "longer than 1440 minutes"),
    (["--start", "+1h"], "when does the silence end"),
    (["--start", "+2h", "--end", "+1h"], "before it starts"),
    (["--end", "+1h", "--for", "1h"], "not both"),
    (["--start", "+1h", "--for", "1d1m"], "longer than 1440 minutes"),
    (["--start", "yesterday", "--for", "1h"], "not a time"),
])
def test_bad_windows_are_usage_errors_before_any_request(am, aetherops_cli, args, says):
    before = len(httpx.get(f"{am.url}/api/v2/silences", timeout=5).json())
    result = aetherops_cli("maintenance", *args, "--match", "never=sent")
    assert result.exit_code == 2, result
    assert says in result.stderr and "Traceback" not in result.stderr
    assert len(httpx.get(f"{am.url}/api/v2/silences", timeout=5).json()) == before


@pytest.mark.servers
def test_start_schedules_a_pending_silence(am, aetherops_cli):
    tag = uuid.uuid4().hex[:8]
    result = aetherops_cli("maintenance", "--start", "+1h", "--for", "30m", "--match", f"run={tag}", "-o", "json")
    assert result.exit_code == 0, result
    silence = _silence(am, result.json()["id"])
    assert silence["status"]["state"] == "pending"
    starts_in = (engine.parse_time(silence["startsAt"]) - engine.now()).total_seconds()
    assert 3600 - 60 <= starts_in <= 3600
    assert 1800 - 1 <= _length(silence) <= 1800 + 1
    # an explicit window, in RFC 3339 and local time
    start = (engine.now() + dt.timedelta(days=1)).replace(microsecond=0)
    end_local = (start + dt.timedelta(hours=4)).astimezone().replace(tzinfo=None).isoformat(sep=" ")
    other = aetherops_cli("maintenance", "--start", engine.fmt_time(start), "--end", end_local, "--match", f"run={tag}-b",
                          "-o", "json")
    assert other.exit_code == 0, other
    planned = _silence(am, other.json()["id"])
    assert planned["status"]["state"] == "pending" and engine.parse_time(planned["startsAt"]) == start
    assert _length(planned) == 4 * 3600


@pytest.mark.servers
def test_a_scheduled_silence_never_extends_the_active_one(am, aetherops_cli):
    tag = uuid.uuid4().hex[:8]
    now = aetherops_cli("maintenance", "--minutes", "10", "--match", f"run={tag}", "-o", "json").json()
    later = aetherops_cli("maintenance", "--start", "+2h", "--for", "1h", "--match", f"run={tag}", "-o", "json").json()
    assert later["id"] != now["id"] and later["action"] == "created"
    assert _silence(am, now["id"])["endsAt"] == now["endsAt"]


def _post_alerts(server, alerts: list[dict]) -> None:
    starts = engine.fmt_time(engine.now() - dt.timedelta(minutes=1))
    ends = engine.fmt_time(engine.now() + dt.timedelta(hours=1))
    body = [{"labels": labels, "annotations": {}, "startsAt": starts, "endsAt": ends} for labels in alerts]
    assert httpx.post(f"{server.url}/api/v2/alerts", json=body, timeout=5).status_code == 200


@pytest.mark.servers
def test_dry_run_lists_the_firing_alerts_the_matchers_would_silence(am, aetherops_cli):
    team = f"t{uuid.uuid4().hex[:8]}"
    _post_alerts(am, [{"alertname": "DiskFull", "team": team, "severity": "critical"},
                      {"alertname": "HighLatency", "team": team, "severity": "warning"},
                      {"alertname": "DiskFull", "team": team + "-other", "severity": "critical"}])
    before = httpx.get(f"{am.url}/api/v2/silences", timeout=5).json()
    result = aetherops_cli("maintenance", "--minutes", "30", "--match", f"team={team}", "--dry-run", "-o", "json")
    assert result.exit_code == 0, result
    names = sorted((a["alertname"], a["labels"]["severity"]) for a in result.json()["would_silence"])
    assert names == [("DiskFull", "critical"), ("HighLatency", "warning")]
    regex = aetherops_cli("maintenance", "--for", "1h", "--match", f'team=~"{team}.*"', "--match", "severity=critical",
                          "--dry-run", "-o", "json")
    assert sorted(a["labels"]["team"] for a in regex.json()["would_silence"]) == [team, team + "-other"]
    text = aetherops_cli("maintenance", "--minutes", "30", "--match", f"team={team}", "--dry-run")
    assert "would silence 2 firing alert(s):" in text.stdout and f"DiskFull{{severity=critical, team={team}}}" in text.stdout
    none = aetherops_cli("maintenance", "--minutes", "30", "--match", f"team={team}-nobody", "--dry-run")
    assert none.exit_code == 0 and "would silence no firing alert" in none.stdout
    scheduled = aetherops_cli("maintenance", "--start", "+1h", "--for", "1h", "--match", f"team={team}", "--dry-run", "-o", "json")
    assert scheduled.exit_code == 0 and len(scheduled.json()["would_silence"]) == 2
    assert httpx.get(f"{am.url}/api/v2/silences", timeout=5).json() == before  # a dry run sends nothing
