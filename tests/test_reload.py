"""aetherops reload: POST /-/reload on a real Prometheus and Alertmanager, then proof of what runs."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.servers

RULES = """\
groups:
- name: api
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
"""


@pytest.fixture
def prom(prometheus_factory, alertmanager_server, profile_factory, monkeypatch):
    server = prometheus_factory(rule_files={"rules/api.yml": RULES})
    monkeypatch.setenv("AETHEROPS_PROFILE", "s")
    profile_factory("s", prometheus={"url": server.url, "timeout": 5, "retries": 0, "config_file": str(server.config_path)},
                    alertmanager={"url": alertmanager_server.url, "timeout": 5, "retries": 0,
                                  "config_file": str(alertmanager_server.config_path)})
    server.rules = server.workdir / "rules" / "api.yml"
    server.am = alertmanager_server
    return server


def loaded(server) -> dict[str, int]:
    from aetherops.clients.prometheus import PrometheusClient
    from aetherops.profiles import ServiceConfig

    client = PrometheusClient(ServiceConfig(name="prometheus", url=server.url))
    try:
        return {g["name"]: len(g["rules"]) for g in client.rules()}
    finally:
        client.close()


def test_reload_picks_up_a_changed_rule_file(prom, aetherops_cli):
    prom.rules.write_text(RULES.replace("- name: api", "- name: api-v2") +
                          "  - record: job:up:count\n    expr: count by (job) (up)\n", encoding="utf-8")
    assert loaded(prom) == {"api": 1}
    result = aetherops_cli("reload", "prometheus", "-o", "json")
    assert result.exit_code == 0, result
    [row] = result.json()
    assert row["service"] == "prometheus" and row["status"] == "reloaded" and row["changed"] is True
    assert "rule groups changed: +api-v2 -api" in row["detail"] and "matches the rule files" in row["detail"]
    assert loaded(prom) == {"api-v2": 2}
    again = aetherops_cli("reload", "prometheus", "-o", "json").json()[0]
    assert again["changed"] is False and "nothing changed" in again["detail"]


def test_reload_reports_a_rejected_rule_file_and_keeps_the_old_one(prom, aetherops_cli):
    prom.rules.write_text(RULES.replace("sum by (job) (up)", "sum by (job) (up"), encoding="utf-8")
    result = aetherops_cli("reload", "prometheus")
    assert result.exit_code == 1, result
    assert "rejected" in result.stdout and "failed to reload config" in result.stdout
    assert "unclosed left parenthesis" in result.stdout  # the likely cause, found here since Prometheus does not say
    assert "the previous config keeps running" in result.stdout
    assert loaded(prom) == {"api": 1}
    row = aetherops_cli("reload", "prometheus", "-o", "json").json()[0]
    assert row["status"] == "rejected" and row["changed"] is False and row["exit_code"] == 1


def test_reload_when_the_lifecycle_api_is_disabled(prometheus_factory, profile_factory, aetherops_cli):
    server = prometheus_factory(lifecycle=False)
    profile_factory("nolife", prometheus={"url": server.url, "retries": 0, "timeout": 5})
    result = aetherops_cli("-p", "nolife", "reload", "-o", "json")
    assert result.exit_code == 3, result
    [row] = result.json()
    assert row["status"] == "disabled" and "--web.enable-lifecycle" in row["detail"] and "Lifecycle API is not enabled" in row["detail"]


def test_reload_alertmanager_changed_and_rejected_config(prom, aetherops_cli):
    config = prom.am.config_path
    config.write_text(config.read_text(encoding="utf-8").replace("repeat_interval: 1h", "repeat_interval: 2h"), encoding="utf-8")
    result = aetherops_cli("reload", "alertmanager", "-o", "json")
    assert result.exit_code == 0, result
    [row] = result.json()
    assert row["status"] == "reloaded" and row["changed"] is True and "runs alertmanager.yml as on disk" in row["detail"]
    config.write_text("route: {receiver: nobody}\nreceivers: [{name: someone}]\n", encoding="utf-8")
    rejected = aetherops_cli("reload", "alertmanager")
    assert rejected.exit_code == 1, rejected
    assert 'undefined receiver "nobody" used in route' in rejected.stdout
    assert "the previous config keeps running" in rejected.stdout


def test_reload_all_reloads_both_and_exit_is_the_worst(prom, aetherops_cli):
    prom.am.config_path.write_text("route: {receiver: nobody}\nreceivers: [{name: someone}]\n", encoding="utf-8")
    result = aetherops_cli("reload", "-o", "json")
    assert result.exit_code == 1, result
    assert {r["service"]: r["status"] for r in result.json()} == {"prometheus": "reloaded", "alertmanager": "rejected"}


def test_reload_unreachable_is_exit_3(profile_factory, aetherops_cli):
    from aetherops.testing.servers import free_port

    profile_factory("dead", alertmanager={"url": f"http://127.0.0.1:{free_port()}", "retries": 0, "timeout": 2})
    result = aetherops_cli("-p", "dead", "reload", "-o", "json")
    assert result.exit_code == 3 and result.json()[0]["status"] == "error" and "cannot connect" in result.json()[0]["detail"]


def test_reload_every_peer_of_an_alertmanager_cluster(alertmanager_cluster, profile_factory, aetherops_cli):
    first, second = alertmanager_cluster.peers
    profile_factory("ha", alertmanager={"urls": alertmanager_cluster.urls, "timeout": 5, "retries": 0,
                                        "config_file": str(first.config_path)})
    for peer in (first, second):  # the same new config deployed to both
        peer.config_path.write_text(peer.config_path.read_text(encoding="utf-8").replace("repeat_interval: 1h", "repeat_interval: 3h"),
                                    encoding="utf-8")
    result = aetherops_cli("-p", "ha", "reload", "alertmanager", "-o", "json")
    assert result.exit_code == 0, result
    assert [(r["url"], r["status"], r["changed"]) for r in result.json()] == [
        (first.url, "reloaded", True), (second.url, "reloaded", True)]
    alertmanager_cluster.kill(1)
    partial = aetherops_cli("-p", "ha", "reload", "alertmanager", "-o", "json")
    assert partial.exit_code == 3, partial
    assert [r["status"] for r in partial.json()] == ["reloaded", "error"]
