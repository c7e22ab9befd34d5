"""Alertmanager HA: a real two-peer gossip cluster (two processes with --cluster.peer each other).

A profile's ``alertmanager.urls`` lists the peers; reads fail over when one is down; ``maintenance`` waits until
a new silence is visible on every reachable peer.
"""

from __future__ import annotations

import time

import pytest

from aetherops.clients.alertmanager import AlertmanagerClient, peer_urls
from aetherops.profiles import ServiceConfig

pytestmark = pytest.mark.servers


def test_cluster_harness_peers_see_each_other(alertmanager_cluster):
    import httpx

    for url in alertmanager_cluster.urls:
        status = httpx.get(f"{url}/api/v2/status", timeout=5).json()
        assert len(status["cluster"]["peers"]) == 2 and status["cluster"]["status"] == "ready"


def test_a_silence_made_through_one_peer_is_listed_from_the_other(alertmanager_cluster, profile_factory, aetherops_cli):
    first, second = alertmanager_cluster.urls
    profile_factory("peer-a", alertmanager={"url": first, "timeout": 5})
    profile_factory("peer-b", alertmanager={"url": second, "timeout": 5})
    made = aetherops_cli("-p", "peer-a", "maintenance", "--minutes", "5", "--match", 'alertname="Gossip"', "-q")
    assert made.exit_code == 0, made.stderr
    silence_id = made.stdout.strip()
    deadline = time.monotonic() + 10
    while True:
        listed = aetherops_cli("-p", "peer-b", "-o", "json", "maintenance", "list")
        assert listed.exit_code == 0, listed.stderr
        if silence_id in [row["id"] for row in listed.json()]:
            break
        assert time.monotonic() < deadline, "the silence never reached the other peer"
        time.sleep(0.2)


def test_maintenance_waits_until_every_peer_has_the_silence(alertmanager_cluster, profile_factory, aetherops_cli):
    profile_factory("ha", alertmanager={"urls": alertmanager_cluster.urls, "timeout": 5})
    made = aetherops_cli("-p", "ha", "-o", "json", "maintenance", "--minutes", "5", "--match", 'alertname="Both"')
    assert made.exit_code == 0, made.stderr
    data = made.json()
    assert [(p["url"], p["state"]) for p in data["peers"]] == [(u, "visible") for u in alertmanager_cluster.urls]
    # visible on each peer at once: the command returned after gossip delivered it
    import httpx

    for url in alertmanager_cluster.urls:
        assert httpx.get(f"{url}/api/v2/silence/{data['id']}", timeout=5).status_code == 200


def test_with_one_peer_killed_maintenance_and_alerts_still_work(alertmanager_cluster, profile_factory, aetherops_cli):
    alive = alertmanager_cluster.urls[1]
    profile_factory("ha", alertmanager={"urls": alertmanager_cluster.urls, "timeout": 5, "retries": 1})
    alertmanager_cluster.kill(0)  # the first peer, tried first, crashes
    made = aetherops_cli("-p", "ha", "-o", "json", "maintenance", "--minutes", "5", "--match", 'alertname="Survivor"')
    assert made.exit_code == 0, made.stderr
    data = made.json()
    assert {p["url"]: p["state"] for p in data["peers"]} == {alertmanager_cluster.urls[0]: "unreachable", alive: "visible"}
    assert "unreachable" in made.stderr
    listed = aetherops_cli("-p", "ha", "-o", "json", "maintenance", "list")
    assert data["id"] in [row["id"] for row in listed.json()]
    import sys

    ran = aetherops_cli("-p", "ha", "-o", "json", "maintenance", "run", "--duration-seconds", "60", "--match", 'alertname="Job"',
                        "--", sys.executable, "-c", "pass")
    assert ran.exit_code == 0, ran.stderr
    assert ran.json()["expired"] is True and "unreachable" in ran.stderr

    posted = aetherops_cli("-p", "ha", "-o", "json", "alerts", "test", "--label", "alertname=Survivor", "--resolve-after", "0")
    assert posted.exit_code == 0, posted.stderr
    body = posted.json()
    assert body["alert"]["state"] == "silenced" and [s["id"] for s in body["alert"]["silenced_by"]] == [data["id"]]
    assert {p["url"]: p["posted"] for p in body["peers"]} == {alertmanager_cluster.urls[0]: False, alive: True}
    assert aetherops_cli("-p", "ha", "-o", "json", "alerts", "list").exit_code == 0

    alertmanager_cluster.kill(1)  # no peer left: exit 3 naming every peer
    down = aetherops_cli("-p", "ha", "alerts", "list")
    assert down.exit_code == 3 and "no peer of the cluster answered" in down.stderr
    assert all(u in down.stderr for u in alertmanager_cluster.urls)


def test_reads_fail_over_and_stick_to_the_peer_that_answered(alertmanager_cluster):
    from aetherops.testing.servers import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    config = ServiceConfig(name="alertmanager", url=dead, timeout=2, retries=2, options={"urls": alertmanager_cluster.urls})
    assert peer_urls(config) == [dead, *alertmanager_cluster.urls]
    waits: list[float] = []
    client = AlertmanagerClient(config)
    client.policy = client.policy.but(sleep=waits.append)
    try:
        assert client.status()["cluster"]["status"] == "ready"
        assert client.active_url == alertmanager_cluster.urls[0] and waits == []  # no backoff between peers
        alertmanager_cluster.kill(0)
        assert isinstance(client.silences(), list)
        assert client.active_url == alertmanager_cluster.urls[1]
        assert client.url("/api/v2/alerts") == f"{alertmanager_cluster.urls[1]}/api/v2/alerts"
    finally:
        client.close()


def test_profile_urls_are_validated(profile_factory, aetherops_cli):
    profile_factory("badurls", alertmanager={"urls": ["http://127.0.0.1:9093", "ftp://x"]})
    result = aetherops_cli("-p", "badurls", "alerts", "list")
    assert result.exit_code == 4 and "alertmanager.urls" in result.stderr and "ftp://x" in result.stderr


def test_a_peer_that_never_gets_the_silence_is_named(alertmanager_cluster, alertmanager_server, monkeypatch):
    """A "peer" outside the gossip (a standalone Alertmanager) never shows the silence: the bounded wait names it."""
    from aetherops_plugins.maintenance import engine, matchers

    monkeypatch.setattr(engine, "PEER_WAIT_SECONDS", 1.0)
    urls = [*alertmanager_cluster.urls, alertmanager_server.url]
    client = AlertmanagerClient(ServiceConfig(name="alertmanager", url=urls[0], timeout=5, options={"urls": urls}))
    try:
        outcome = engine.create_or_extend(client, matchers.parse_matchers(['alertname="Lag"']), seconds=300, author="t",
                                          comment="c", default_comment="c")
        assert outcome.action == "created"
        outcome = engine.on_peers(client, outcome, timeout=0.5)
        assert [(p["url"], p["state"]) for p in outcome.peers] == [(urls[0], "visible"), (urls[1], "visible"), (urls[2], "lagging")]
        assert any(alertmanager_server.url in w and "not visible" in w for w in outcome.warnings)
        extended = engine.extend(client, outcome.silence["id"], seconds=600)
        assert [p["state"] for p in extended.peers[:2]] == ["visible", "visible"]  # the new end reached both peers
    finally:
        client.close()
