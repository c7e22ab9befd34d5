"""aetherops maintenance: silences on a real Alertmanager 0.25, cross-checked with amtool."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from aetherops.testing.servers import require_binary
from aetherops_plugins.maintenance import engine
from aetherops_plugins.maintenance import matchers as m

CHECK_ACTIVE = (
    "import json, sys, urllib.request\n"
    "s = json.load(urllib.request.urlopen(sys.argv[1] + '/api/v2/silences'))\n"
    "sys.exit(0 if any(x['status']['state'] == 'active' and x['comment'] == sys.argv[2] for x in s) else 9)\n"
)
JSON_KEYS = {"action", "id", "starts_at", "ends_at", "matchers", "created_by", "comment", "previous_id", "dry_run", "warnings"}


# ---------------------------------------------------------------- helpers
@pytest.fixture
def am(alertmanager_server, profile_factory, monkeypatch):
    """A real Alertmanager and a selected profile ``am`` pointing at it."""
    profile_factory("am", alertmanager={"url": alertmanager_server.url, "timeout": 5, "retries": 2})
    monkeypatch.setenv("AETHEROPS_PROFILE", "am")
    return alertmanager_server


def server_silences(server) -> list[dict]:
    return httpx.get(f"{server.url}/api/v2/silences", timeout=5).json()


def state_of(server, silence_id: str) -> str:
    return httpx.get(f"{server.url}/api/v2/silence/{silence_id}", timeout=5).json()["status"]["state"]


def active(server) -> list[dict]:
    return [s for s in server_silences(server) if s["status"]["state"] == "active"]


def amtool(server, *args: str) -> str:
    binary = str(require_binary("amtool"))  # a skip, or a failure under CI=true
    done = subprocess.run([binary, f"--alertmanager.url={server.url}", *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def seconds_between(a: str, b: str) -> float:
    return (engine.parse_time(b) - engine.parse_time(a)).total_seconds()


def ends_between(ends_at: str, before: dt.datetime, after: dt.datetime, seconds: float) -> bool:
    """Whether a silence asked for between ``before`` and ``after`` to last ``seconds`` ends when it should
    (bracketed by the clock read around the command, however slow this machine is; ms rounding allowed)."""
    ends = engine.parse_time(ends_at)
    slack = dt.timedelta(milliseconds=2)
    return before + dt.timedelta(seconds=seconds) - slack <= ends <= after + dt.timedelta(seconds=seconds) + slack


# ---------------------------------------------------------------- matchers (no server)
@pytest.mark.parametrize("text, expected", [
    ('severity="critical"', ("severity", "critical", False, True)),
    ("severity=critical", ("severity", "critical", False, True)),
    ('service=~"crm-.*"', ("service", "crm-.*", True, True)),
    ('env!="dev"', ("env", "dev", False, False)),
    ('team!~"db|infra"', ("team", "db|infra", True, False)),
    ('  job = "a b"  ', ("job", "a b", False, True)),
    (r'job=~"api-\d+"', ("job", r"api-\d+", True, True)),
    (r'x="q\"uote\\"', ("x", 'q"uote\\', False, True)),
    ('{env="prod"}', ("env", "prod", False, True)),
    ('path="a=b"', ("path", "a=b", False, True)),
])
def test_parse_matcher(text, expected):
    parsed = m.parse_matcher(text)
    assert (parsed["name"], parsed["value"], parsed["isRegex"], parsed["isEqual"]) == expected
    assert m.parse_matcher(m.format_matcher(parsed)) == parsed  # formatting round-trips


@pytest.mark.parametrize("text, why", [
    ("severity~critical", "expected NAME"),
    ('="x"', "missing label name"),
    ('1abc="x"', "invalid label name"),
    ('job:x="a"', "invalid label name"),
    ('a="unterminated', "never closed"),
    ('a="x"y"', "unescaped double quote"),
    ('a=~"("', "invalid regular expression"),
    ('a=~"(?=x)"', "lookahead"),
    (r'a=~"(x)\1"', "back-references"),
    ("", "empty"),
])
def test_bad_matcher_is_named(text, why):
    with pytest.raises(m.MatcherError) as info:
        m.parse_matcher(text)
    assert why in info.value.message
    assert repr(text) in info.value.message or text == ""
    assert info.value.exit_code == 2


def test_matcher_set_needs_one_non_empty_matcher():
    with pytest.raises(m.MatcherError, match="every matcher also matches"):
        m.parse_matchers(['env!="dev"', 'x=~".*"'])
    assert len(m.parse_matchers(['env!="dev"', 'alertname=~".+"'])) == 2


def test_braces_form_is_several_matchers():
    # Alertmanager's and amtool's {a="b", c=~"d"}: commas inside quotes belong to the value; a trailing comma is fine
    parsed = m.parse_matchers(['{env="prod", team=~"x,y"}', "{severity=critical,}"])
    assert [m.format_matcher(x) for x in parsed] == ['env="prod"', 'team=~"x,y"', 'severity="critical"']
    for bad, why in (("{}", "empty matcher"), ('{a="1",,b="2"}', "empty matcher"), ('{a="1" b="2"}', "unescaped double quote")):
        with pytest.raises(m.MatcherError, match=why):
            m.parse_matchers([bad])
    with pytest.raises(m.MatcherError, match="2 matchers in braces"):
        m.parse_matcher('{a="1", b="2"}')  # where exactly one is expected


def test_normalized_sets_ignore_order_quoting_and_duplicates():
    a = m.parse_matchers(['a="1"', 'b=~"x.*"'])
    b = m.parse_matchers(["b=~x.*", "a=1", "a=1"])
    assert m.normalize(a) == m.normalize(b)
    assert m.normalize(a) != m.normalize(m.parse_matchers(['a="1"', 'b!~"x.*"']))
    # a silence from an old Alertmanager without isEqual means isEqual=true
    assert m.normalize([{"name": "a", "value": "1", "isRegex": False}]) == m.normalize(m.parse_matchers(["a=1"]))


def test_time_helpers():
    assert engine.parse_time("2026-11-24T08:24:12.123456789Z") == dt.datetime(2026, 11, 24, 8, 24, 12, 123456, tzinfo=dt.timezone.utc)
    assert engine.parse_time("2026-11-24T09:24:12+01:00") == dt.datetime(2026, 11, 24, 8, 24, 12, tzinfo=dt.timezone.utc)
    when = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.timezone.utc)
    assert engine.fmt_time(when) == "2026-01-02T03:04:05.678Z"
    assert engine.human_delta(5400) == "1h30m" and engine.human_delta(42) == "42s" and engine.human_delta(90061) == "1d1h"


# ---------------------------------------------------------------- usage errors (nothing sent)
def test_no_options_is_a_usage_error(am, aetherops_cli):
    result = aetherops_cli("maintenance")
    assert result.exit_code == 2, result
    assert "--minutes" in result.stderr and "list" in result.stderr
    assert server_silences(am) == []


@pytest.mark.parametrize("minutes", ["0", "-5", "1441"])
def test_minutes_out_of_range_sends_nothing(am, aetherops_cli, minutes):
    result = aetherops_cli("maintenance", "--minutes", minutes)
    assert result.exit_code == 2, result
    assert "1..1440" in result.stderr
    assert server_silences(am) == []


def test_profile_max_minutes_default_matchers_and_author(alertmanager_server, profile_factory, aetherops_cli, monkeypatch):
    profile_factory("ops", alertmanager={"url": alertmanager_server.url},
                    maintenance={"max_minutes": 60, "default_matchers": ['team="db"', 'env!="dev"'], "author": "ops-bot"})
    monkeypatch.setenv("AETHEROPS_PROFILE", "ops")
    refused = aetherops_cli("maintenance", "--minutes", "61")
    assert refused.exit_code == 2 and "1..60" in refused.stderr, refused
    assert server_silences(alertmanager_server) == []
    made = aetherops_cli("maintenance", "--minutes", "60", "-o", "json")
    assert made.exit_code == 0, made
    silence = server_silences(alertmanager_server)[0]
    assert silence["createdBy"] == "ops-bot"
    assert m.normalize(silence["matchers"]) == m.normalize(m.parse_matchers(['team="db"', 'env!="dev"']))


@pytest.mark.parametrize("value", [0, -5])
def test_profile_max_minutes_below_1_is_a_config_error(alertmanager_server, profile_factory, profiles_dir, aetherops_cli,
                                                       monkeypatch, value):
    profile_factory("ops", alertmanager={"url": alertmanager_server.url}, maintenance={"max_minutes": value})
    monkeypatch.setenv("AETHEROPS_PROFILE", "ops")
    for args in (["--minutes", "5"], ["run", "--minutes", "5", "--", sys.executable, "-c", "pass"]):
        result = aetherops_cli("maintenance", *args)
        assert result.exit_code == 4, result
        assert "maintenance.max_minutes" in result.stderr and str(value) in result.stderr
        where = str(profiles_dir / "ops.yaml")
        line = next(i for i, text in enumerate((profiles_dir / "ops.yaml").read_text().splitlines(), 1) if "max_minutes" in text)
        assert f"{where}:{line}: maintenance.max_minutes" in result.stderr
    assert server_silences(alertmanager_server) == []


def test_bad_default_matcher_in_profile_is_a_config_error(alertmanager_server, profile_factory, aetherops_cli, monkeypatch):
    profile_factory("ops", alertmanager={"url": alertmanager_server.url}, maintenance={"default_matchers": ["team~db"]})
    monkeypatch.setenv("AETHEROPS_PROFILE", "ops")
    result = aetherops_cli("maintenance", "--minutes", "5")
    assert result.exit_code == 4, result
    assert "default_matchers" in result.stderr and "team~db" in result.stderr
    assert server_silences(alertmanager_server) == []


@pytest.mark.parametrize("bad", ['severity~"critical"', 'service=~"crm-("', '9x="a"'])
def test_bad_matcher_exit_2_naming_it(am, aetherops_cli, bad):
    result = aetherops_cli("maintenance", "--minutes", "30", "--match", 'env="prod"', "--match", bad)
    assert result.exit_code == 2, result
    assert bad in result.stderr
    assert "Traceback" not in result.stderr
    assert server_silences(am) == []


def test_braces_matchers_on_the_command_line(am, aetherops_cli):
    made = aetherops_cli("maintenance", "--minutes", "5", "--match", '{env="prod", team=~"db|infra"}', "-o", "json")
    assert made.exit_code == 0, made
    wanted = m.parse_matchers(['env="prod"', 'team=~"db|infra"'])
    assert m.normalize(active(am)[0]["matchers"]) == m.normalize(wanted)
    listed = aetherops_cli("maintenance", "list", "--match", '{env="prod", team=~"db|infra"}', "-o", "json")
    assert [r["id"] for r in listed.json()] == [made.json()["id"]]


def test_options_before_a_subcommand_are_refused(am, aetherops_cli):
    result = aetherops_cli("maintenance", "--minutes", "5", "list")
    assert result.exit_code == 2, result
    assert server_silences(am) == []


# ---------------------------------------------------------------- create / list, both ways with amtool
def test_create_is_seen_by_amtool_with_json_keys(am, aetherops_cli):
    before = engine.now()
    result = aetherops_cli("maintenance", "--minutes", "30", "--comment", "deploy 42", "--author", "alice",
                           "--match", 'service=~"crm-.*"', "--match", "severity=critical", "--output", "json")
    after = engine.now()
    assert result.exit_code == 0, result
    data = result.json()
    assert set(data) == JSON_KEYS
    assert data["action"] == "created" and data["dry_run"] is False and data["previous_id"] is None
    assert data["created_by"] == "alice" and data["comment"] == "deploy 42"
    assert {"name": "service", "value": "crm-.*", "is_regex": True, "is_equal": True} in data["matchers"]

    seen = json.loads(amtool(am, "silence", "query", "-o", "json"))
    assert [s["id"] for s in seen] == [data["id"]]
    silence = seen[0]
    assert silence["createdBy"] == "alice" and silence["comment"] == "deploy 42"
    assert m.normalize(silence["matchers"]) == m.normalize(
        [{"name": x["name"], "value": x["value"], "isRegex": x["is_regex"], "isEqual": x["is_equal"]} for x in data["matchers"]])
    assert ends_between(silence["endsAt"], before, after, 1800)
    assert before - dt.timedelta(seconds=1) <= engine.parse_time(silence["startsAt"]) <= after  # active at once
    # amtool's own filter syntax finds it by matcher too
    assert data["id"] in amtool(am, "silence", "query", "-q", 'service=~"crm-.*"')


def test_defaults_silence_every_alert_as_the_os_user(am, aetherops_cli):
    result = aetherops_cli("maintenance", "--minutes", "10")
    assert result.exit_code == 0, result
    assert result.stdout.startswith("created silence ")
    silence = active(am)[0]
    assert silence["id"] in result.stdout
    assert silence["matchers"] == [{"name": "alertname", "value": ".+", "isRegex": True, "isEqual": True}]
    assert silence["createdBy"] == getpass.getuser()
    assert "aetherops" in silence["comment"] and socket.gethostname() in silence["comment"]


def test_list_shows_amtool_silences(am, aetherops_cli):
    before = engine.now()
    made = amtool(am, "silence", "add", 'service=~"crm-.*"', "severity=critical", "--author=bob",
                  "--comment=from amtool", "--duration=10m").strip()
    expired = amtool(am, "silence", "add", "team=old", "--author=bob", "--comment=old", "--duration=10m").strip()
    amtool(am, "silence", "expire", expired)

    result = aetherops_cli("maintenance", "list", "-o", "json")
    elapsed = (engine.now() - before).total_seconds()
    assert result.exit_code == 0, result
    rows = result.json()
    assert [r["id"] for r in rows] == [made]
    row = rows[0]
    assert row["state"] == "active" and row["created_by"] == "bob" and row["comment"] == "from amtool"
    assert row["matchers_text"] == 'service=~"crm-.*", severity="critical"'
    assert 600 - elapsed - 1 <= row["ends_in_seconds"] <= 600  # amtool's 10 minutes, counted down since it ran

    text = aetherops_cli("maintenance", "list")
    assert made in text.stdout and "bob" in text.stdout and "from amtool" in text.stdout and expired not in text.stdout
    everything = aetherops_cli("maintenance", "list", "--all", "-o", "json").json()
    assert {r["id"]: r["state"] for r in everything} == {made: "active", expired: "expired"}
    by_match = aetherops_cli("maintenance", "list", "--all", "--match", "team=old", "-o", "json").json()
    assert [r["id"] for r in by_match] == [expired]


# ---------------------------------------------------------------- idempotency, extend, end
def test_rerun_extends_instead_of_stacking(am, aetherops_cli):
    first = aetherops_cli("maintenance", "--minutes", "30", "--author", "alice", "--match", 'a="1"', "--match", 'b=~"x.*"', "-o", "json")
    assert first.exit_code == 0, first
    moved_on = engine.parse_time(first.json()["ends_at"]) - dt.timedelta(minutes=30) + dt.timedelta(seconds=1.1)
    while engine.now() < moved_on:  # a later run asks for a later end
        time.sleep(0.05)
    # same set of matchers, other order and quoting
    again = aetherops_cli("maintenance", "--minutes", "30", "--author", "alice", "--match", "b=~x.*", "--match", "a=1", "-o", "json")
    assert again.exit_code == 0, again
    assert again.json()["action"] == "extended"
    assert again.json()["id"] == first.json()["id"]
    silences = active(am)
    assert len(silences) == 1
    assert seconds_between(first.json()["ends_at"], silences[0]["endsAt"]) >= 1.0
    # another author or another matcher set is another silence
    other = aetherops_cli("maintenance", "--minutes", "30", "--author", "bob", "--match", 'a="1"', "--match", 'b=~"x.*"', "-o", "json")
    more = aetherops_cli("maintenance", "--minutes", "30", "--author", "alice", "--match", 'a="1"', "-o", "json")
    assert other.json()["action"] == "created" and more.json()["action"] == "created"
    assert len(active(am)) == 3


def test_extend_by_id_and_prefix(am, aetherops_cli):
    made = aetherops_cli("maintenance", "--minutes", "10", "-o", "json").json()
    before = engine.now()
    result = aetherops_cli("maintenance", "extend", made["id"], "--minutes", "90", "-o", "json")
    after = engine.now()
    assert result.exit_code == 0, result
    data = result.json()
    assert data["action"] == "extended" and data["id"] == made["id"] and data["previous_id"] is None
    silence = active(am)[0]
    assert silence["id"] == made["id"]
    assert ends_between(silence["endsAt"], before, after, 5400)
    before = engine.now()
    again = aetherops_cli("maintenance", "extend", made["id"][:8], "--minutes", "20")
    after = engine.now()
    assert again.exit_code == 0, again
    assert ends_between(active(am)[0]["endsAt"], before, after, 1200)
    out_of_range = aetherops_cli("maintenance", "extend", made["id"], "--minutes", "5000")
    assert out_of_range.exit_code == 2


def test_extending_an_expired_silence_reports_the_new_id(am, aetherops_cli):
    made = aetherops_cli("maintenance", "--minutes", "10", "-o", "json").json()
    assert aetherops_cli("maintenance", "end", made["id"]).exit_code == 0
    result = aetherops_cli("maintenance", "extend", made["id"], "--minutes", "15", "-o", "json")
    assert result.exit_code == 0, result
    data = result.json()
    assert data["previous_id"] == made["id"] and data["id"] != made["id"]
    assert [s["id"] for s in active(am)] == [data["id"]]


def test_end_by_id_and_mine(am, aetherops_cli):
    mine1 = aetherops_cli("maintenance", "--minutes", "10", "--author", "alice", "--match", "a=1", "-o", "json").json()["id"]
    mine2 = aetherops_cli("maintenance", "--minutes", "10", "--author", "alice", "--match", "a=2", "-o", "json").json()["id"]
    theirs = amtool(am, "silence", "add", "a=3", "--author=bob", "--comment=bob's", "--duration=10m").strip()
    single = aetherops_cli("maintenance", "--minutes", "10", "--match", "a=4", "-o", "json").json()["id"]

    ended = aetherops_cli("maintenance", "end", single, "-o", "json")
    assert ended.exit_code == 0, ended
    assert [o["id"] for o in ended.json()] == [single] and ended.json()[0]["action"] == "expired"
    assert state_of(am, single) == "expired"

    result = aetherops_cli("maintenance", "end", "--mine", "--author", "alice")
    assert result.exit_code == 0, result
    assert mine1 in result.stdout and mine2 in result.stdout
    assert state_of(am, mine1) == "expired" and state_of(am, mine2) == "expired"
    assert state_of(am, theirs) == "active"
    assert aetherops_cli("maintenance", "end").exit_code == 2  # neither IDs nor --mine


def test_end_mine_defaults_to_the_os_user(am, aetherops_cli):
    made = aetherops_cli("maintenance", "--minutes", "10", "-o", "json").json()["id"]
    theirs = amtool(am, "silence", "add", "a=3", "--author=someone-else", "--comment=x", "--duration=10m").strip()
    result = aetherops_cli("maintenance", "end", "--mine", "-o", "json")
    assert result.exit_code == 0, result
    assert [o["id"] for o in result.json()] == [made]
    assert state_of(am, made) == "expired" and state_of(am, theirs) == "active"


@pytest.mark.parametrize("args", [
    ["end", "00000000-0000-4000-8000-000000000000"],
    ["extend", "00000000-0000-4000-8000-000000000000", "--minutes", "5"],
    ["end", "deadbeef"],
])
def test_unknown_id_exit_3_with_the_servers_answer(am, aetherops_cli, args):
    keep = aetherops_cli("maintenance", "--minutes", "10", "-o", "json").json()["id"]
    result = aetherops_cli("maintenance", *args)
    assert result.exit_code == 3, result
    assert am.url in result.stderr and args[1] in result.stderr
    assert "Traceback" not in result.stderr
    assert state_of(am, keep) == "active"


def test_end_checks_every_id_before_expiring_any(am, aetherops_cli):
    made = aetherops_cli("maintenance", "--minutes", "10", "-o", "json").json()["id"]
    result = aetherops_cli("maintenance", "end", made, "00000000-0000-4000-8000-000000000000")
    assert result.exit_code == 3, result
    assert state_of(am, made) == "active"


# ---------------------------------------------------------------- dry run
def test_dry_run_sends_nothing(am, aetherops_cli):
    result = aetherops_cli("maintenance", "--minutes", "30", "--match", "a=1", "--dry-run", "-o", "json")
    assert result.exit_code == 0, result
    data = result.json()
    assert data["dry_run"] is True and data["action"] == "create" and data["id"] is None
    assert data["request"]["method"] == "POST" and data["request"]["url"] == f"{am.url}/api/v2/silences"
    assert data["request"]["body"]["matchers"] == [{"name": "a", "value": "1", "isRegex": False, "isEqual": True}]
    assert server_silences(am) == []
    text = aetherops_cli("maintenance", "--minutes", "30", "--dry-run")
    assert text.exit_code == 0 and "dry run" in text.stdout and "POST" in text.stdout
    run = aetherops_cli("maintenance", "run", "--minutes", "5", "--dry-run", "-o", "json", "--", sys.executable, "-c", "raise SystemExit(7)")
    assert run.exit_code == 0, run  # the command was not run (it would exit 7)
    assert run.json()["dry_run"] is True and run.json()["command"][-1] == "raise SystemExit(7)"
    assert run.json()["request"]["method"] == "POST" and run.json()["request"]["body"]["matchers"][0]["name"] == "alertname"
    assert server_silences(am) == []

    made = aetherops_cli("maintenance", "--minutes", "10", "--match", "a=1", "-o", "json").json()
    before = server_silences(am)
    post, delete = ("POST", f"{am.url}/api/v2/silences"), ("DELETE", f"{am.url}/api/v2/silence/{made['id']}")
    for args, action, request in ((["--minutes", "30", "--match", "a=1", "--dry-run"], "extend", post),
                                  (["extend", made["id"], "--minutes", "60", "--dry-run"], "extend", post),
                                  (["end", made["id"], "--dry-run"], "expire", delete),
                                  (["end", "--mine", "--dry-run"], "expire", delete)):
        result = aetherops_cli("maintenance", *args, "-o", "json")
        assert result.exit_code == 0, result
        data = result.json()
        data = data[0] if isinstance(data, list) else data
        assert (data["action"], data["id"], data["dry_run"]) == (action, made["id"], True), args
        assert (data["request"]["method"], data["request"]["url"]) == request, args
        if request is post:  # the body that would update the silence in place: its id, later end
            assert data["request"]["body"]["id"] == made["id"]
            assert engine.parse_time(data["request"]["body"]["endsAt"]) > engine.parse_time(made["ends_at"])
    assert server_silences(am) == before
    would = aetherops_cli("maintenance", "--minutes", "30", "--match", "a=1", "--dry-run", "-o", "json").json()
    assert would["action"] == "extend" and would["id"] == made["id"]


# ---------------------------------------------------------------- faults
def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("args", [
    ["--minutes", "30"],
    ["list"],
    ["end", "--mine"],
    ["extend", "00000000-0000-4000-8000-000000000000", "--minutes", "5"],
])
def test_dead_alertmanager_exit_3_with_url(profile_factory, aetherops_cli, monkeypatch, args):
    url = f"http://127.0.0.1:{_closed_port()}"
    profile_factory("dead", alertmanager={"url": url, "timeout": 2, "retries": 1})
    monkeypatch.setenv("AETHEROPS_PROFILE", "dead")
    result = aetherops_cli("maintenance", *args)
    assert result.exit_code == 3, result
    assert url in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_run_does_not_start_the_command_without_a_silence(profile_factory, aetherops_cli, monkeypatch, tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}"
    profile_factory("dead", alertmanager={"url": url, "timeout": 2, "retries": 1})
    monkeypatch.setenv("AETHEROPS_PROFILE", "dead")
    marker = tmp_path / "ran"
    touch = f"import pathlib, sys; pathlib.Path({str(marker)!r}).write_text('x'); sys.exit(4)"
    result = aetherops_cli("maintenance", "run", "--minutes", "5", "--", sys.executable, "-c", touch)
    assert result.exit_code == 3, result
    assert url in result.stderr and "not started" in result.stderr
    assert not marker.exists()
    anyway = aetherops_cli("maintenance", "run", "--minutes", "5", "--run-anyway", "--", sys.executable, "-c", touch)
    assert anyway.exit_code == 4, anyway
    assert marker.exists()


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_a_regex_alertmanager_refuses_is_caught_before_sending(am, aetherops_cli, dry_run):
    # \\Z (end of text) is valid for Python's re, but Go's RE2 has no \\Z: Alertmanager refuses it, so do we, in
    # a dry run too, with Alertmanager's own words
    for command in (["--minutes", "5"], ["run", "--minutes", "5"]):
        tail = ["--", sys.executable, "-c", "pass"] if command[0] == "run" else []
        result = aetherops_cli("maintenance", *command, "--match", r'a=~"x\Z"', *dry_run, *tail)
        assert result.exit_code == 2, result
        assert r"invalid escape sequence: `\Z`" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert server_silences(am) == []


@pytest.mark.parametrize("regex", [r"\p{Greek}+", r"\pL+", r"[[:alpha:]]+", r"\PN\z", r"(?U)a+\Qx.y\E"])
def test_re2_classes_alertmanager_accepts_are_accepted(am, aetherops_cli, regex):
    made = aetherops_cli("maintenance", "--minutes", "5", "--match", f"name=~{m.quote(regex)}", "-o", "json")
    assert made.exit_code == 0, made
    assert active(am)[0]["matchers"] == [{"name": "name", "value": regex, "isRegex": True, "isEqual": True}]
    again = aetherops_cli("maintenance", "--minutes", "9", "--match", f"name=~{m.quote(regex)}", "-o", "json")
    assert again.json()["action"] == "extended" and len(active(am)) == 1  # found again through the filter


@pytest.mark.parametrize("match", [
    'a=~"' + "(" * 5000 + "x" + ")" * 5000 + '"',  # deeper than any parser's recursion
    'a=~"' + "(" * 1000 + "x" + ")" * 1000 + '"',  # Go's nesting limit (1000)
    'a="' + "x" * 100_000 + '"',  # longer than a URL may be
    "{" + ", ".join(f'l{i}="{i}"' for i in range(5000)) + "}",
])
def test_huge_or_deep_matchers_are_one_line_exit_2(am, aetherops_cli, match):
    for args in (["--minutes", "5"], ["--minutes", "5", "--dry-run"], ["list"], ["end", "--mine"]):
        result = aetherops_cli("maintenance", *args, "--match", match)
        assert result.exit_code == 2, result
        assert len(result.stderr.strip().splitlines()) == 1 and len(result.stderr) < 400, result.stderr[:500]
        assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    assert server_silences(am) == []


def test_long_matchers_under_the_limit_skip_the_url_filter(am, aetherops_cli):
    # four 4000-character values (UTF-8, percent-encoded: ~100 KB of filter): compared here instead of in the URL
    values = [str(i) * 10 + "é" * 3990 for i in range(4)]
    args = [x for v in values for x in ("--match", f'k{v[0]}="{v}"')]
    made = aetherops_cli("maintenance", "--minutes", "5", *args, "-o", "json")
    assert made.exit_code == 0, made
    again = aetherops_cli("maintenance", "--minutes", "6", *args, "-o", "json")
    assert again.exit_code == 0 and again.json()["action"] == "extended", again
    listed = aetherops_cli("maintenance", "list", *args[:2], "-o", "json")
    assert [r["id"] for r in listed.json()] == [made.json()["id"]]
    other = aetherops_cli("maintenance", "--minutes", "5", "--match", 'k0="other"', "-o", "json")
    assert aetherops_cli("maintenance", "list", *args[:2], "-o", "json").json()[0]["id"] != other.json()["id"]
    assert len(aetherops_cli("maintenance", "list", *args[:2], "-o", "json").json()) == 1


def test_a_silence_id_too_long_to_be_one_is_exit_2(am, aetherops_cli):
    for args in (["end", "f" * 100_000], ["extend", "a" * 5000, "--minutes", "5"]):
        result = aetherops_cli("maintenance", *args)
        assert result.exit_code == 2, result
        assert "not a silence id" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_silence_id_shorter_than_the_prefix_is_exit_2_before_any_request(fake_am, aetherops_cli):
    fake = fake_am({("GET", "/api/v2/silences"): (200, [SILENCE]), ("DELETE", "/api/v2/silence/" + SILENCE["id"]): (200, {})})
    for args in (["end", "5e1"], ["extend", "5e", "--minutes", "5"], ["end", ""]):
        result = aetherops_cli("maintenance", *args)
        assert result.exit_code == 2, result
        assert "too short" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert fake.requests == []
    assert aetherops_cli("maintenance", "end", "5e1a").exit_code == 0  # four characters: a prefix, resolved
    assert ("DELETE", "/api/v2/silence/" + SILENCE["id"]) in fake.requests


def test_server_refusal_is_exit_3_with_its_message(fake_am, aetherops_cli):
    fake = fake_am({("GET", "/api/v2/silences"): (200, []),
                    ("POST", "/api/v2/silences"): (400, "silence invalid: some rule of a newer Alertmanager")})
    result = aetherops_cli("maintenance", "--minutes", "5")
    assert result.exit_code == 3, result
    assert "some rule of a newer Alertmanager" in result.stderr and "HTTP 400" in result.stderr and fake.url in result.stderr


# ---------------------------------------------------------------- run
def test_run_passes_the_exit_code_through_and_expires(am, aetherops_cli):
    result = aetherops_cli("maintenance", "run", "--minutes", "5", "--comment", "run-fail", "-o", "json", "--",
                           sys.executable, "-c", "import sys; sys.exit(7)")
    assert result.exit_code == 7, result
    data = result.json()
    assert data["exit_code"] == 7 and data["expired"] is True and data["command"][0] == sys.executable
    assert state_of(am, data["id"]) == "expired"


def test_run_silences_while_the_command_runs(am, aetherops_cli):
    result = aetherops_cli("maintenance", "run", "--minutes", "5", "--comment", "run-ok", "--match", "service=api", "--",
                           sys.executable, "-c", CHECK_ACTIVE, am.url, "run-ok")
    assert result.exit_code == 0, result  # the command saw its silence active
    silences = server_silences(am)
    assert len(silences) == 1 and silences[0]["status"]["state"] == "expired"
    assert silences[0]["matchers"] == [{"name": "service", "value": "api", "isRegex": False, "isEqual": True}]
    assert "expired" in result.stderr


def test_run_outliving_its_silence_extends_it(am, aetherops_cli):
    script = "import time; time.sleep(3.5)\n" + CHECK_ACTIVE
    result = aetherops_cli("maintenance", "run", "--duration-seconds", "2", "--comment", "long-run", "-o", "json", "--",
                           sys.executable, "-c", script, am.url, "long-run")
    assert result.exit_code == 0, result  # still silenced after 3.5 s of a 2 s silence
    data = result.json()
    assert data["extensions"] >= 1 and data["expired"] is True
    assert all(s["status"]["state"] == "expired" for s in server_silences(am))


def test_run_missing_command_expires_the_silence(am, aetherops_cli):
    result = aetherops_cli("maintenance", "run", "--minutes", "5", "--", "no-such-command-aetherops-test")
    assert result.exit_code == 127, result
    assert "not found" in result.stderr
    assert [s["status"]["state"] for s in server_silences(am)] == ["expired"]


def _wait_for_a_silence(server, proc) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not active(server):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    assert active(server), "the silence never became active"


def _wait_for_file(path, proc, timeout: float = 30) -> None:
    """Wait until the command wrote ``path`` (it does once its signal handlers are set)."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text()) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    assert path.exists(), f"the command never wrote {path}"


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process is POSIX-only")
@pytest.mark.parametrize("child, code", [
    # traps SIGINT, cleans up and exits 5: run reports and exits with that 5, not with 130
    ("import pathlib, signal, sys, time; signal.signal(signal.SIGINT, lambda *a: sys.exit(5)); "
     "pathlib.Path(sys.argv[1]).write_text('ready'); time.sleep(600)", 5),
    # does not handle it: killed by SIGINT, 128 + 2
    ("import pathlib, signal, sys, time; signal.signal(signal.SIGINT, signal.SIG_DFL); "
     "pathlib.Path(sys.argv[1]).write_text('ready'); time.sleep(600)", 130),
])
def test_run_interrupted_reports_the_commands_own_code_and_expires(am, child, code, tmp_path):
    env = {**os.environ, "NO_COLOR": "1"}
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-m", "aetherops", "maintenance", "run", "--minutes", "5", "--comment", "interrupted", "-o", "json",
         "--", sys.executable, "-c", child, str(ready)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        _wait_for_a_silence(am, proc)
        _wait_for_file(ready, proc)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)  # the child sleeps 600 s: it was stopped, not waited out
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, (out, err)
    assert "Traceback" not in err
    assert f"the command exited {code}" in err and "interrupted" in err
    data = json.loads(out)
    assert data["exit_code"] == code and data["interrupted"] is True and data["expired"] is True
    silences = server_silences(am)
    assert len(silences) == 1 and silences[0]["status"]["state"] == "expired", silences


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a pseudo-terminal as controlling terminal: Linux")
def test_ctrl_c_on_a_terminal_reaches_the_command_in_the_foreground_group(am, tmp_path):
    # aetherops runs as the foreground job of a terminal (a pty); typing Ctrl-C there signals the foreground group.
    # The command must be in that group (so it can read the terminal) and get the Ctrl-C itself.
    import fcntl
    import pty
    import termios

    seen = tmp_path / "seen"
    sender = tmp_path / "sender"
    # the command blocks SIGINT and waits for it with sigwaitinfo, which says who sent it: a Ctrl-C typed on the
    # terminal comes from the kernel (si_code SI_KERNEL), one forwarded by aetherops from its process (SI_USER)
    child = (f"import os, pathlib, signal, sys\n"
             f"signal.pthread_sigmask(signal.SIG_BLOCK, {{signal.SIGINT}})\n"
             f"pathlib.Path({str(seen)!r}).write_text(str(os.tcgetpgrp(0) == os.getpgrp()))\n"
             f"info = signal.sigwaitinfo({{signal.SIGINT}})\n"
             f"pathlib.Path({str(sender)!r}).write_text(f'{{info.si_code}} {{info.si_pid}}')\n"
             f"sys.exit(5)\n")
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aetherops", "maintenance", "run", "--minutes", "5", "-o", "json", "--",
             sys.executable, "-c", child],
            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"}, text=True,
            start_new_session=True, preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        try:
            _wait_for_a_silence(am, proc)
            _wait_for_file(seen, proc)
            os.write(master, b"\x03")  # Ctrl-C typed on the terminal
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    finally:
        os.close(master)
        os.close(slave)
    assert seen.read_text() == "True"  # the command was in the terminal's foreground group
    assert proc.returncode == 5, (out, err)
    code, pid = (int(x) for x in sender.read_text().split())
    assert code == 0x80 and pid != proc.pid, sender.read_text()  # SI_KERNEL: it got the Ctrl-C itself, not a forwarded one
    assert json.loads(out)["exit_code"] == 5 and json.loads(out)["interrupted"] is True
    assert [s["status"]["state"] for s in server_silences(am)] == ["expired"]


def _gone(pid: int, timeout: float) -> bool:
    """Whether process ``pid`` has ended (a zombie waiting for its reaper counts as ended)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and /proc: Linux")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signals_from_elsewhere_reach_the_commands_children(am, tmp_path, signum):
    # the command ignores SIGINT (it notes it got one) and its own child ignores SIGINT too: only a signal to the
    # whole process group, escalated to SIGTERM by a second Ctrl-C, stops them; before, the child outlived the run
    pidfile, noted = tmp_path / "grandchild.pid", tmp_path / "got-sigint"
    script = ("import pathlib, signal, subprocess, sys\n"
              "signal.signal(signal.SIGINT, lambda *a: pathlib.Path(sys.argv[2]).write_text('x'))\n"
              "child = subprocess.Popen(['sleep', '600'], preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))\n"
              "pathlib.Path(sys.argv[1]).write_text(str(child.pid))\n"
              "child.wait()\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "aetherops", "maintenance", "run", "--minutes", "5", "--", sys.executable, "-c", script,
         str(pidfile), str(noted)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"}, text=True)
    grandchild = None
    try:
        _wait_for_a_silence(am, proc)
        _wait_for_file(pidfile, proc)
        grandchild = int(pidfile.read_text())
        proc.send_signal(signum)
        if signum == signal.SIGINT:  # ignored by both: a second Ctrl-C, once the first arrived, terminates the group
            _wait_for_file(noted, proc)
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)  # the child sleeps 600 s and holds our stdout: this waits for it too
        assert _gone(grandchild, 30), "the command's child survived the run"
    finally:
        if proc.poll() is None:
            proc.kill()
        if grandchild is not None and not _gone(grandchild, 0):
            os.kill(grandchild, signal.SIGKILL)
    assert proc.returncode == 128 + signal.SIGTERM, (out, err)
    assert [s["status"]["state"] for s in server_silences(am)] == ["expired"]


def test_run_without_double_dash_passes_the_rest_to_the_command(am, aetherops_cli):
    script = "import sys; sys.exit(0 if sys.argv[1:] == ['-o', 'json', '--x'] else 8)"
    result = aetherops_cli("maintenance", "run", "--minutes", "5", sys.executable, "-c", script, "-o", "json", "--x")
    assert result.exit_code == 0, result
    assert [s["status"]["state"] for s in server_silences(am)] == ["expired"]


@pytest.mark.skipif(os.name != "posix", reason="signals to a child process are POSIX-only")
def test_run_terminated_forwards_sigterm_and_expires(am, tmp_path):
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-m", "aetherops", "maintenance", "run", "--minutes", "5", "--comment", "terminated", "--",
         sys.executable, "-c", "import pathlib, sys, time; pathlib.Path(sys.argv[1]).write_text('x'); time.sleep(600)", str(ready)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"}, text=True)
    try:
        _wait_for_a_silence(am, proc)
        _wait_for_file(ready, proc)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, (out, err)
    assert [s["status"]["state"] for s in server_silences(am)] == ["expired"]


def test_pending_silences_listed_with_all_and_ended_by_mine(am, aetherops_cli):
    start = engine.now() + dt.timedelta(hours=1)
    body = engine.silence_body(m.parse_matchers(["team=db"]), start, start + dt.timedelta(minutes=30), "carol", "tonight")
    pending = httpx.post(f"{am.url}/api/v2/silences", json=body, timeout=5).json()["silenceID"]
    assert aetherops_cli("maintenance", "list", "-o", "json").json() == []
    rows = aetherops_cli("maintenance", "list", "--all", "-o", "json").json()
    assert [(r["id"], r["state"]) for r in rows] == [(pending, "pending")]
    assert rows[0]["ends_in"].startswith("starts in")
    ended = aetherops_cli("maintenance", "end", "--mine", "--author", "carol", "-o", "json")
    assert ended.exit_code == 0 and [o["id"] for o in ended.json()] == [pending], ended
    assert state_of(am, pending) == "expired"


def test_alertmanager_timing_out_is_exit_3(profile_factory, aetherops_cli, monkeypatch):
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        profile_factory("slow", alertmanager={"url": url, "timeout": 0.5, "retries": 1})
        monkeypatch.setenv("AETHEROPS_PROFILE", "slow")
        result = aetherops_cli("maintenance", "--minutes", "5")
    assert result.exit_code == 3, result
    assert url in result.stderr and "timed out" in result.stderr
    assert "Traceback" not in result.stderr


def test_quiet_prints_only_the_id(am, aetherops_cli):
    result = aetherops_cli("maintenance", "--minutes", "5", "-q")
    assert result.exit_code == 0, result
    assert result.stdout.strip() == active(am)[0]["id"]


class _Serving:
    """A loopback HTTP server on a thread, for the doubles below."""

    def _serve(self, handler) -> None:
        import http.server
        import threading

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class _GatedProxy(_Serving):
    """Forwards to Alertmanager, calling ``before(method, path)`` ahead of forwarding and ``after(method, path)``
    once Alertmanager answered (before the answer is passed on): tests hold or slow requests there."""

    def __init__(self, target: str, before=None, after=None):
        import http.server

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = self.path.split("?", 1)[0]
                if before:
                    before(self.command, path)
                answer = httpx.request(self.command, target + self.path, content=body,
                                       headers={"Content-Type": self.headers.get("Content-Type", "application/json")}, timeout=30)
                if after:
                    after(self.command, path)
                try:
                    self.send_response(answer.status_code)
                    self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
                    self.send_header("Content-Length", str(len(answer.content)))
                    self.end_headers()
                    self.wfile.write(answer.content)
                except OSError:  # the client gave up
                    pass

            do_GET = do_POST = do_DELETE = _forward

        self._serve(Handler)


class _SlowPostProxy(_GatedProxy):
    """Holds each POST for ``delay`` seconds (a slow network during silence creation): before forwarding it, or
    with ``after`` once Alertmanager has carried it out (the answer is what is late)."""

    def __init__(self, target: str, delay: float, *, after: bool = False):
        self.posts = 0

        def counted(method, path):
            if method == "POST":
                self.posts += 1
                if not after:
                    time.sleep(delay)

        def late(method, path):
            if method == "POST":
                time.sleep(delay)

        super().__init__(target, before=counted, after=late if after else None)


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process is POSIX-only")
def test_ctrl_c_while_creating_leaves_no_silence_and_starts_nothing(alertmanager_server, profile_factory, monkeypatch, tmp_path):
    proxy = _SlowPostProxy(alertmanager_server.url, delay=3.0)
    try:
        profile_factory("slow", alertmanager={"url": proxy.url, "timeout": 10, "retries": 1})
        marker = tmp_path / "ran"
        proc = subprocess.Popen(
            [sys.executable, "-m", "aetherops", "-p", "slow", "maintenance", "run", "--minutes", "5", "--",
             sys.executable, "-c", f"import pathlib; pathlib.Path({str(marker)!r}).write_text('x')"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"}, text=True)
        try:
            deadline = time.monotonic() + 20
            while proxy.posts == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert proxy.posts == 1, proc.communicate()
            proc.send_signal(signal.SIGINT)  # while the POST is in flight
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    finally:
        proxy.close()
    assert proc.returncode == 130, (out, err)
    assert not marker.exists()
    silences = server_silences(alertmanager_server)
    assert len(silences) == 1 and silences[0]["status"]["state"] == "expired", silences
    assert "not started" in err


def test_a_clock_running_ahead_still_silences_at_once(am, aetherops_cli, monkeypatch):
    real_now = engine.now
    monkeypatch.setattr(engine, "now", lambda: real_now() + dt.timedelta(seconds=30))  # this machine is 30 s ahead
    result = aetherops_cli("maintenance", "--minutes", "10", "-o", "json")
    assert result.exit_code == 0, result
    assert state_of(am, result.json()["id"]) == "active"  # not "pending" for 30 s


# ---------------------------------------------------------------- a POST that fails after Alertmanager carried it out
@pytest.fixture
def late_answers(alertmanager_server, profile_factory, monkeypatch):
    """Profile ``late``: Alertmanager behind a proxy that answers each POST 4 s late, after a 1 s client timeout."""
    proxy = _SlowPostProxy(alertmanager_server.url, delay=4.0, after=True)
    profile_factory("late", alertmanager={"url": proxy.url, "timeout": 1, "retries": 1})
    monkeypatch.setenv("AETHEROPS_PROFILE", "late")
    yield proxy
    proxy.close()


def test_create_whose_answer_timed_out_reports_the_silence_it_made(alertmanager_server, late_answers, aetherops_cli):
    result = aetherops_cli("maintenance", "--minutes", "7", "--match", 'orphan="1"', "-o", "json")
    assert result.exit_code == 0, result  # the silence the user asked for exists: its id is printed
    made = active(alertmanager_server)
    assert len(made) == 1 and made[0]["matchers"] == [{"name": "orphan", "value": "1", "isRegex": False, "isEqual": True}]
    data = result.json()
    assert data["id"] == made[0]["id"] and data["action"] == "created"
    assert len(data["warnings"]) == 1 and "timed out" in data["warnings"][0] and made[0]["id"] in data["warnings"][0]
    assert "warning:" in result.stderr and "timed out" in result.stderr and made[0]["id"] in result.stderr
    assert late_answers.posts == 1  # looked up, not posted twice


def test_run_whose_silence_answer_timed_out_expires_it(alertmanager_server, late_answers, aetherops_cli, tmp_path):
    marker = tmp_path / "ran"
    touch = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('x')"
    result = aetherops_cli("maintenance", "run", "--minutes", "7", "--match", 'orphan="1"', "--", sys.executable, "-c", touch)
    assert result.exit_code == 3, result
    assert not marker.exists()
    silences = server_silences(alertmanager_server)
    assert len(silences) == 1 and silences[0]["status"]["state"] == "expired", silences  # not left running for 7 minutes
    assert "timed out" in result.stderr and silences[0]["id"] in result.stderr and "expired" in result.stderr
    assert "not started" in result.stderr and len(result.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- fake Alertmanagers: wrong JSON, 5xx
class _FakeAlertmanager(_Serving):
    """Answers ``routes[(METHOD, path)] = (status, json_body)`` (query strings ignored); 404 otherwise."""

    def __init__(self, routes: dict):
        import http.server

        fake = self
        self.requests: list[tuple[str, str]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = self.path.split("?", 1)[0]
                fake.requests.append((self.command, path))
                status, body = routes.get((self.command, path), (404, {"error": "no route"}))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _answer

        self._serve(Handler)


@pytest.fixture
def fake_am(profile_factory, monkeypatch):
    fakes = []

    def make(routes: dict) -> _FakeAlertmanager:
        fake = _FakeAlertmanager(routes)
        fakes.append(fake)
        profile_factory("fake", alertmanager={"url": fake.url, "timeout": 2, "retries": 1})
        monkeypatch.setenv("AETHEROPS_PROFILE", "fake")
        return fake

    yield make
    for fake in fakes:
        fake.close()


SILENCE = {"id": "5e1a0000-0000-4000-8000-000000000001", "status": {"state": "active"}, "matchers": [],
           "startsAt": "2026-11-24T08:00:00.000Z", "endsAt": "2026-11-24T09:00:00.000Z", "createdBy": "x", "comment": "c",
           "updatedAt": "2026-11-24T08:00:00.000Z"}


@pytest.mark.parametrize("routes, args, path", [
    ({("GET", "/api/v2/silences"): (200, {"silences": []})}, ["--minutes", "5"], "/api/v2/silences"),
    ({("GET", "/api/v2/silences"): (200, [["not", "a", "silence"]])}, ["list"], "/api/v2/silences"),
    ({("GET", "/api/v2/silences"): (200, [{**SILENCE, "id": None}])}, ["end", "--mine"], "/api/v2/silences"),
    ({("GET", "/api/v2/silences"): (200, [{**SILENCE, "endsAt": 5}])}, ["list"], "/api/v2/silences"),
    ({("GET", "/api/v2/silences"): (200, []), ("POST", "/api/v2/silences"): (200, {"id": "no silenceID key"})},
     ["--minutes", "5"], "/api/v2/silences"),
    ({("GET", "/api/v2/silence/" + SILENCE["id"]): (200, [SILENCE])}, ["end", SILENCE["id"]], "/api/v2/silence/" + SILENCE["id"]),
])
def test_wrong_shaped_json_is_exit_3_naming_the_url(fake_am, aetherops_cli, routes, args, path):
    fake = fake_am(routes)
    result = aetherops_cli("maintenance", *args)
    assert result.exit_code == 3, result
    assert "answered with unexpected JSON" in result.stderr and f"{fake.url}{path}" in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_alertmanager_5xx_is_exit_3_with_its_message_and_url(fake_am, aetherops_cli, tmp_path):
    fake = fake_am({("GET", "/api/v2/silences"): (200, []),
                    ("POST", "/api/v2/silences"): (500, {"error": "silence store unavailable: disk full"})})
    result = aetherops_cli("maintenance", "--minutes", "5")
    assert result.exit_code == 3, result
    assert "HTTP 500" in result.stderr and "silence store unavailable: disk full" in result.stderr
    assert f"{fake.url}/api/v2/silences" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    # a 500 is an answer, a refusal: not retried, and no silence looked up afterwards (one GET: the idempotency check)
    assert fake.requests == [("GET", "/api/v2/silences"), ("POST", "/api/v2/silences")]
    marker = tmp_path / "ran"
    run = aetherops_cli("maintenance", "run", "--minutes", "5", "--", sys.executable, "-c",
                        f"import pathlib; pathlib.Path({str(marker)!r}).write_text('x')")
    assert run.exit_code == 3 and "disk full" in run.stderr and "not started" in run.stderr, run
    assert not marker.exists()


# ---------------------------------------------------------------- two identical runs at the same moment
class _Nth:
    """Counts calls per key, thread-safe: ``nth(key)`` -> 1, 2, 3..."""

    def __init__(self):
        import threading

        self.lock = threading.Lock()
        self.counts: dict = {}

    def __call__(self, key) -> int:
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            return self.counts[key]


def _start_identical(url: str, profile_factory, n: int = 2) -> list[subprocess.Popen]:
    profile_factory("race", alertmanager={"url": url, "timeout": 60, "retries": 1})
    command = [sys.executable, "-m", "aetherops", "-p", "race", "maintenance", "--minutes", "30", "--author", "alice",
               "--comment", "deploy", "--match", 'service="api"', "-o", "json"]
    return [subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**os.environ, "NO_COLOR": "1"}, text=True) for _ in range(n)]


def _finish(proc: subprocess.Popen) -> tuple[dict, str]:
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, (out, err)
    return json.loads(out), err


def test_identical_runs_at_the_same_moment_leave_one_silence(alertmanager_server, profile_factory):
    # both look for an existing silence before either creates one (held at a barrier), both create one, and both
    # re-check only once both silences exist: both must keep the same one and expire the other
    import threading

    nth = _Nth()
    looked, created = threading.Barrier(2, timeout=60), threading.Barrier(2, timeout=60)

    def before(method, path):
        if method == "GET" and path == "/api/v2/silences" and nth("get") <= 2:
            looked.wait()

    def after(method, path):
        if method == "POST" and nth("post") <= 2:
            created.wait()

    proxy = _GatedProxy(alertmanager_server.url, before, after)
    try:
        results = [_finish(p) for p in _start_identical(proxy.url, profile_factory)]
    finally:
        proxy.close()
    silences = server_silences(alertmanager_server)
    assert len(silences) == 2, silences  # two were created: the race really happened
    kept = [s for s in silences if s["status"]["state"] == "active"]
    assert len(kept) == 1, silences
    assert [data["id"] for data, _ in results] == [kept[0]["id"]] * 2
    assert kept[0]["id"] == min(silences, key=engine.seniority)["id"]  # the earliest start (then smallest id) wins
    for _, err in results:
        assert f"kept {kept[0]['id']}" in err and "Traceback" not in err
    assert seconds_between(engine.fmt_time(engine.now()), kept[0]["endsAt"]) > 29 * 60


def test_an_identical_run_finishing_later_expires_its_own_silence(alertmanager_server, profile_factory):
    # the first run creates its silence and finishes while the second one's POST is held: the second created a
    # later twin, so it expires it and reports the first one's silence (which is never touched)
    import threading

    nth = _Nth()
    looked, release = threading.Barrier(2, timeout=60), threading.Event()

    def before(method, path):
        if method == "GET" and path == "/api/v2/silences" and nth("get") <= 2:
            looked.wait()
        if method == "POST" and nth("post") == 2:
            assert release.wait(120)

    proxy = _GatedProxy(alertmanager_server.url, before)
    try:
        procs = _start_identical(proxy.url, profile_factory)
        deadline = time.monotonic() + 120
        while all(p.poll() is None for p in procs) and time.monotonic() < deadline:
            time.sleep(0.05)
        first = next(p for p in procs if p.poll() is not None)
        second = next(p for p in procs if p is not first)
        first_data, first_err = _finish(first)
        release.set()
        second_data, second_err = _finish(second)
    finally:
        release.set()
        proxy.close()
    assert first_data["action"] == "created" and "kept" not in first_err
    states = {s["id"]: s["status"]["state"] for s in server_silences(alertmanager_server)}
    assert len(states) == 2 and states[first_data["id"]] == "active", states
    assert second_data["id"] == first_data["id"]
    (own,) = set(states) - {first_data["id"]}
    assert states[own] == "expired"
    assert f"kept {first_data['id']}, expired {own}" in second_err
