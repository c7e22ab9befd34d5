"""`aetherops health` against the real Prometheus and Alertmanager and the Grafana double."""

from __future__ import annotations

import socket
import subprocess

import pytest

from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def binary_version(name: str) -> str:
    from aetherops.testing.servers import find_binary

    out = subprocess.run([str(find_binary(name)), "--version"], capture_output=True, text=True).stdout + \
        subprocess.run([str(find_binary(name)), "--version"], capture_output=True, text=True).stderr
    return out.split("version ")[1].split()[0]


def test_all_healthy(stack_profile, aetherops_cli, grafana_double):
    result = aetherops_cli("health", "--output", "json")
    assert result.exit_code == 0, result
    rows = {r["service"]: r for r in result.json()}
    assert set(rows) == {"prometheus", "alertmanager", "grafana", "blackbox"}
    for row in rows.values():
        assert row["ok"] is True and row["error"] is None and row["latency_ms"] >= 0
        assert set(row) == {"service", "url", "ok", "reachable", "version", "latency_ms", "error"}
    assert rows["prometheus"]["version"] == binary_version("prometheus")
    assert rows["alertmanager"]["version"] == binary_version("prometheus-alertmanager")
    assert rows["grafana"]["version"] == grafana_double.grafana_version
    assert rows["blackbox"]["version"] == binary_version("prometheus-blackbox-exporter")
    text = aetherops_cli("health")
    assert text.exit_code == 0 and "prometheus" in text.stdout and "alertmanager" in text.stdout


def test_one_service_down_is_exit_1(stack_profile, aetherops_cli, alertmanager_server):
    alertmanager_server.stop()
    result = aetherops_cli("health", "-o", "json")
    assert result.exit_code == 1, result
    rows = {r["service"]: r for r in result.json()}
    assert rows["alertmanager"]["ok"] is False and alertmanager_server.url in rows["alertmanager"]["error"]
    assert rows["prometheus"]["ok"] and rows["grafana"]["ok"] and rows["blackbox"]["ok"]


def test_nothing_reachable_is_exit_3(profile_factory, aetherops_cli):
    port = closed_port()
    profile_factory("dead", prometheus={"url": f"http://127.0.0.1:{port}", "retries": 1, "timeout": 1},
                    alertmanager={"url": f"http://127.0.0.1:{port}", "retries": 1, "timeout": 1})
    result = aetherops_cli("-p", "dead", "health")
    assert result.exit_code == 3, result
    assert "Traceback" not in result.stderr and "no service could be reached" in result.stderr
    assert f"127.0.0.1:{port}" in result.stdout and "cannot connect" in result.stdout


def test_wrong_grafana_token_is_unhealthy(profile_factory, aetherops_cli, grafana_double, monkeypatch):
    monkeypatch.setenv("WRONG_TOKEN", "glsa_not_the_right_one_123")
    profile_factory("g", grafana={"url": grafana_double.url, "auth": {"token_env": "WRONG_TOKEN"}})
    result = aetherops_cli("-p", "g", "health", "-o", "json")
    assert result.exit_code == 1, result
    row = result.json()[0]
    assert row["ok"] is False and row["reachable"] is True and "401" in row["error"]
    assert "glsa_not_the_right_one_123" not in result.stdout + result.stderr


def test_grafana_database_failing_is_unhealthy(profile_factory, aetherops_cli, grafana_double, monkeypatch):
    monkeypatch.setenv("GOOD_TOKEN", GRAFANA_TEST_TOKEN)
    profile_factory("g", grafana={"url": grafana_double.url, "auth": {"token_env": "GOOD_TOKEN"}, "retries": 1})
    assert aetherops_cli("-p", "g", "health").exit_code == 0
    grafana_double.database_failing = True
    result = aetherops_cli("-p", "g", "health", "-o", "json")
    assert result.exit_code in (1, 3) and result.json()[0]["ok"] is False


def test_service_option_limits_checks(stack_profile, aetherops_cli):
    rows = aetherops_cli("health", "--service", "prometheus", "-o", "json").json()
    assert [r["service"] for r in rows] == ["prometheus"]


@pytest.mark.parametrize("status", [502, 503])
def test_transient_grafana_errors_are_retried(profile_factory, aetherops_cli, grafana_double, monkeypatch, status):
    monkeypatch.setenv("GOOD_TOKEN", GRAFANA_TEST_TOKEN)
    profile_factory("g", grafana={"url": grafana_double.url, "auth": {"token_env": "GOOD_TOKEN"}, "retries": 3})
    grafana_double.inject_fault("/api/health", status=status, count=2)
    result = aetherops_cli("-p", "g", "health", "-o", "json")
    assert result.exit_code == 0, result
