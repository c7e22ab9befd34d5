"""QA (issue 12): `alerts list --silenced` lists every alert a silence covers, also one that an inhibit rule
suppresses at the same time (Alertmanager's state `suppressed` with both silencedBy and inhibitedBy).
Found by hand: silencing a service during an outage left `alerts list --silenced` saying "no silenced alerts"."""

from __future__ import annotations

from test_alerts import post, storm_am  # noqa: F401 - the real multi-route Alertmanager fixture


def test_silenced_list_keeps_alerts_that_are_also_inhibited(storm_am, aetherops_cli):  # noqa: F811
    post(storm_am, {"alertname": "ServiceDown", "service": "api"}, {"alertname": "HighLatency", "service": "api"})
    made = aetherops_cli("maintenance", "--minutes", "5", "--match", 'service="api"', "-q")
    assert made.exit_code == 0, made.stderr
    silence = made.stdout.strip()

    result = aetherops_cli("-o", "json", "alerts", "list", "--silenced")
    assert result.exit_code == 0, result.stderr
    rows = {r["alertname"]: r for r in result.json()["alerts"]}
    assert set(rows) == {"ServiceDown", "HighLatency"}
    assert rows["HighLatency"]["inhibited_by"] and rows["HighLatency"]["silenced_by"] == [silence]

    text = aetherops_cli("alerts", "list", "--silenced")
    assert text.exit_code == 0, text.stderr
    assert "no silenced alerts" not in text.stdout
    assert "HighLatency" in text.stdout and "ServiceDown" in text.stdout
