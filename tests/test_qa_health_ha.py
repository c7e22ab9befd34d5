"""QA (issue 12, Alertmanager HA): with the first peer of `alertmanager.urls` down, `health` fails over to the
next peer; its row must name the peer that answered, not the dead one next to OK=True (which read as "the
down peer is fine" to an on-call engineer). Real two-peer gossip cluster."""

from __future__ import annotations


def test_health_row_names_the_peer_that_answered(alertmanager_cluster, profile_factory, aetherops_cli):
    dead, alive = alertmanager_cluster.urls
    alertmanager_cluster.kill(0)
    profile_factory("ha", alertmanager={"urls": [dead, alive], "timeout": 2, "retries": 0})

    result = aetherops_cli("-p", "ha", "-o", "json", "health")
    assert result.exit_code == 0, result.stderr
    [row] = result.json()
    assert row["ok"] is True
    assert row["url"] == alive
