"""aetherops query / query-range through prometheus-api-client, on a real Prometheus; the time parsers."""

from __future__ import annotations

import pytest

from aetherops.errors import UsageError
from aetherops_plugins.stack.query import auto_step, parse_duration, parse_time, range_window

NOW = 1_800_000_000.0


@pytest.fixture
def prom(prometheus_server, profile_factory, monkeypatch):
    monkeypatch.setenv("AETHEROPS_PROFILE", "q")
    profile_factory("q", prometheus={"url": prometheus_server.url, "timeout": 5, "retries": 0})
    return prometheus_server


@pytest.mark.servers
def test_query_json_and_table(prom, aetherops_cli):
    expr = 'label_replace(vector(42), "job", "api", "", "")'
    result = aetherops_cli("query", expr, "-o", "json")
    assert result.exit_code == 0, result
    [row] = result.json()
    assert row["labels"] == {"job": "api"} and row["value"] == "42" and isinstance(row["timestamp"], float)
    text = aetherops_cli("query", expr)
    assert text.exit_code == 0
    assert '{job="api"}' in text.stdout and "42" in text.stdout and "SERIES" in text.stdout


@pytest.mark.servers
def test_query_expectations_for_scripts(prom, aetherops_cli):
    assert aetherops_cli("query", "vector(1)", "--expect-results").exit_code == 0
    assert aetherops_cli("query", "vector(1)", "--expect-empty").exit_code == 1
    assert aetherops_cli("query", "vector(1) == 0", "--expect-empty").exit_code == 0
    failed = aetherops_cli("query", "vector(1) == 0", "--expect-results", "-o", "json")
    assert failed.exit_code == 1 and failed.json() == [] and failed.stderr == ""
    both = aetherops_cli("query", "up", "--expect-empty", "--expect-results")
    assert both.exit_code == 2 and "exclude each other" in both.stderr


@pytest.mark.servers
def test_query_at_a_given_time(prom, aetherops_cli):
    result = aetherops_cli("query", "time()", "--at", "1700000000", "-o", "json")
    assert result.exit_code == 0, result
    assert result.json() == [{"labels": {}, "timestamp": 1700000000.0, "value": "1700000000"}]
    iso = aetherops_cli("query", "time()", "--at", "2023-11-14T22:13:20Z", "-o", "json")
    assert iso.json()[0]["value"] == "1700000000"


@pytest.mark.servers
def test_query_range_points_and_summary(prom, aetherops_cli):
    expr = 'label_replace(vector(7), "job", "api", "", "")'
    result = aetherops_cli("query-range", expr, "--since", "10m", "--until", "1700000600", "--step", "1m", "-o", "json")
    assert result.exit_code == 0, result
    [row] = result.json()
    assert row["labels"] == {"job": "api"}
    assert row["values"] == [[1700000000.0 + 60 * i, "7"] for i in range(11)]
    text = aetherops_cli("query-range", expr, "--since", "10m", "--until", "1700000600", "--step", "1m")
    assert text.exit_code == 0 and "11" in text.stdout and "2023-11-14T22:13:20.000Z" in text.stdout


@pytest.mark.servers
def test_query_bad_expression_names_the_server_error(prom, aetherops_cli):
    result = aetherops_cli("query", "sum(")
    assert result.exit_code == 3, result
    assert "parse error" in result.stderr and result.stderr.count("\n") == 1


def test_query_range_with_too_many_points_is_a_usage_error(profile_factory, aetherops_cli):
    profile_factory("x", prometheus={"url": "http://127.0.0.1:9"})
    result = aetherops_cli("-p", "x", "query-range", "up", "--since", "30d", "--step", "1s")
    assert result.exit_code == 2 and "points per series" in result.stderr


def test_parse_time_forms():
    assert parse_time("now", "--at", now=NOW) == NOW
    assert parse_time("1700000000", "--at", now=NOW) == 1_700_000_000.0
    assert parse_time("1h", "--at", now=NOW) == NOW - 3600
    assert parse_time("-1h30m", "--at", now=NOW) == NOW - 5400
    assert parse_time("5m ago", "--at", now=NOW) == NOW - 300
    assert parse_time("2023-11-14T22:13:20Z", "--at") == 1_700_000_000.0
    assert parse_time("2023-11-14T23:13:20+01:00", "--at") == 1_700_000_000.0
    for bad in ("yesterday", "1x", "", "2023-13-45T00:00:00Z", "99999999999d"):
        with pytest.raises(UsageError):
            parse_time(bad, "--at", now=NOW)


def test_range_window_and_steps():
    assert range_window("1h", None, "1m", now=NOW) == (NOW - 3600, NOW, 60.0)
    assert range_window("1h", None, None, now=NOW)[2] == auto_step(NOW - 3600, NOW) == 15.0
    assert parse_duration("90", "--step") == 90.0 and parse_duration("1m30s", "--step") == 90.0
    for since, until in (("0s", None), ("1700000000", "1600000000")):
        with pytest.raises(UsageError):
            range_window(since, until, None, now=NOW)
    with pytest.raises(UsageError, match="--step"):
        range_window("1h", None, "0", now=NOW)


@pytest.mark.servers
def test_query_fans_out_over_profiles(prom, profile_factory, aetherops_cli):
    profile_factory("q2", prometheus={"url": prom.url, "timeout": 5, "retries": 0})
    result = aetherops_cli("-p", "q", "-p", "q2", "query", "vector(3)", "-o", "json")
    assert result.exit_code == 0, result
    assert [(r["profile"], [s["value"] for s in r["result"]]) for r in result.json()] == [("q", ["3"]), ("q2", ["3"])]
