"""`aetherops alerts test` and `alerts list` against a real Alertmanager (multi-route config with storm-control
inhibit rules)."""

from __future__ import annotations

import datetime as dt

import pytest

from aetherops.testing.servers import require_binary

STORM_CONFIG = {
    "route": {
        "receiver": "default",
        "group_by": ["alertname"],
        "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h",
        "routes": [
            {"matchers": ['severity="critical"'], "receiver": "pager", "continue": True},
            {"matchers": ['team="db"'], "receiver": "db-team",
             "routes": [{"matchers": ['env="dev"'], "receiver": "db-dev"}]},
            {"match_re": {"service": "web-.*"}, "receiver": "web-team"},
        ],
    },
    "receivers": [{"name": n} for n in ("default", "pager", "db-team", "db-dev", "web-team")],
    # storm control: a node down hides its services' down alerts, a service down hides what derives from it
    "inhibit_rules": [
        {"source_matchers": ['alertname="NodeDown"'], "target_matchers": ['alertname="ServiceDown"'], "equal": ["node"]},
        {"source_matchers": ['alertname="ServiceDown"'],
         "target_matchers": ['alertname=~"HighLatency|HighErrorRate|QueueBacklog|SLOBurn"'], "equal": ["service"]},
        {"source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"'], "equal": ["alertname", "service"]},
    ],
}


@pytest.fixture
def storm_am(tmp_path, profile_factory, monkeypatch):
    from aetherops.testing.servers import start_alertmanager

    require_binary("alertmanager")
    server = start_alertmanager(tmp_path / "am", config=STORM_CONFIG)
    profile_factory("storm", alertmanager={"url": server.url, "timeout": 5, "retries": 1})
    monkeypatch.setenv("AETHEROPS_PROFILE", "storm")
    yield server
    server.stop()


def post(server, *alerts: dict[str, str], minutes: int = 10) -> None:
    from aetherops.clients.alertmanager import AlertmanagerClient
    from aetherops.profiles import ServiceConfig

    ends = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    client = AlertmanagerClient(ServiceConfig(name="alertmanager", url=server.url))
    try:
        client.post_alerts([{"labels": labels, "endsAt": ends} for labels in alerts])
    finally:
        client.close()


def test_alerts_test_reaches_the_right_receivers(storm_am, aetherops_cli):
    result = aetherops_cli("-o", "json", "alerts", "test", "--label", "alertname=DiskFull", "--label", "team=db",
                           "--label", "severity=critical", "--label", "env=dev", "--annotation", "summary=pipeline test",
                           "--resolve-after", "0")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["alert"]["receivers"] == ["pager", "db-dev"]
    assert data["alert"]["state"] == "active" and data["alert"]["silenced_by"] == [] and data["alert"]["inhibited_by"] == []
    assert [r["receiver"] for r in data["routes"]] == ["pager", "db-dev"]
    assert data["routes"][1]["path"][-1]["matchers"] == ['env="dev"']
    assert data["resolved"] is True and data["annotations"] == {"summary": "pipeline test"}
    # resolved: Alertmanager lists it no more as active
    listed = aetherops_cli("-o", "json", "alerts", "list").json()["alerts"]
    assert not [a for a in listed if a["alertname"] == "DiskFull"]

    web = aetherops_cli("alerts", "test", "--label", "alertname=Slow", "--label", "service=web-shop")
    assert web.exit_code == 0, web.stderr
    assert "receivers: web-team" in web.stdout and "web-team: route > {service=~\"web-.*\"}" in web.stdout
    assert "resolved:  by Alertmanager at" in web.stdout  # the default: endsAt 5m ahead, resolves by itself


def test_alerts_test_shows_a_silenced_alert_as_silenced(storm_am, aetherops_cli):
    made = aetherops_cli("maintenance", "--minutes", "5", "--match", 'alertname="QuietTest"', "--comment", "deploy", "-q")
    assert made.exit_code == 0, made.stderr
    silence_id = made.stdout.strip()
    result = aetherops_cli("-o", "json", "alerts", "test", "--label", "alertname=QuietTest", "--label", "severity=critical",
                           "--resolve-after", "0")
    assert result.exit_code == 0, result.stderr
    alert = result.json()["alert"]
    assert alert["state"] == "silenced"
    assert [s["id"] for s in alert["silenced_by"]] == [silence_id] and alert["silenced_by"][0]["comment"] == "deploy"
    assert alert["receivers"] == ["pager"]  # where it would go: the routing tree does not know about silences
    text = aetherops_cli("alerts", "test", "--label", "alertname=QuietTest", "--resolve-after", "0")
    assert f"silenced by {silence_id}" in text.stdout and "state:     silenced" in text.stdout


def test_alerts_test_shows_which_alert_inhibits_it(storm_am, aetherops_cli):
    post(storm_am, {"alertname": "ServiceDown", "service": "api", "node": "n9"})
    result = aetherops_cli("-o", "json", "alerts", "test", "--label", "alertname=HighLatency", "--label", "service=api",
                           "--resolve-after", "0")
    assert result.exit_code == 0, result.stderr
    alert = result.json()["alert"]
    assert alert["state"] == "inhibited"
    assert [(i["alertname"], i["rule"], i["api"]) for i in alert["inhibited_by"]] == [("ServiceDown", 1, True)]


def test_inhibition_view_groups_derivatives_under_the_root_cause(storm_am, aetherops_cli):
    post(storm_am,
         {"alertname": "NodeDown", "node": "n1", "severity": "critical"},
         {"alertname": "ServiceDown", "service": "api", "node": "n1"},
         {"alertname": "HighLatency", "service": "api"},
         {"alertname": "HighErrorRate", "service": "api"},
         {"alertname": "QueueBacklog", "service": "api"},
         {"alertname": "SLOBurn", "service": "api", "severity": "warning"},
         {"alertname": "HighLatency", "service": "checkout"},  # another service: not hidden
         {"alertname": "DiskFull", "team": "db"})
    result = aetherops_cli("-o", "json", "alerts", "list", "--inhibited")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["warnings"] == []
    [group] = data["inhibition"]
    assert group["root"]["alertname"] == "NodeDown"  # one root cause...
    hidden = {(h["alertname"], h["via_alertname"]) for h in group["hides"]}
    assert hidden == {("ServiceDown", "NodeDown"), ("HighLatency", "ServiceDown"), ("HighErrorRate", "ServiceDown"),
                      ("QueueBacklog", "ServiceDown"), ("SLOBurn", "ServiceDown")}  # ...and what it hides
    assert {a["alertname"] for a in data["alerts"]} == {"ServiceDown", "HighLatency", "HighErrorRate", "QueueBacklog", "SLOBurn"}
    assert all(a["state"] == "inhibited" for a in data["alerts"])
    text = aetherops_cli("alerts", "list", "--inhibited").stdout
    assert "NodeDown" in text.splitlines()[0] and "hides 5" in text.splitlines()[0]
    assert "HighLatency {service=\"api\"} inhibit_rules[1] (via ServiceDown)" in text

    everything = aetherops_cli("-o", "json", "alerts", "list").json()["alerts"]
    states = {(a["alertname"], a["labels"].get("service")): a["state"] for a in everything}
    assert states[("HighLatency", "checkout")] == "active" and states[("NodeDown", None)] == "active"
    assert states[("HighLatency", "api")] == "inhibited"
    table = aetherops_cli("alerts", "list").stdout
    assert "inhibited by ServiceDown" in table and "STATE" in table


def test_list_silenced_only(storm_am, aetherops_cli):
    post(storm_am, {"alertname": "Noisy", "service": "x"}, {"alertname": "Loud", "service": "y"})
    made = aetherops_cli("maintenance", "--minutes", "5", "--match", 'alertname="Noisy"', "-q")
    assert made.exit_code == 0, made.stderr
    result = aetherops_cli("-o", "json", "alerts", "list", "--silenced")
    rows = result.json()["alerts"]
    assert [(r["alertname"], r["silenced_by"]) for r in rows] == [("Noisy", [made.stdout.strip()])]


def test_bad_input_is_a_usage_error(storm_am, aetherops_cli):
    for args, needle in ((["--label", "alertname=~X"], "NAME=VALUE"), (["--label", "a=b", "--resolve-after", "soon"], "duration"),
                         (["--label", "a=b", "--annotation", "nosep"], "NAME=VALUE")):
        result = aetherops_cli("alerts", "test", *args)
        assert result.exit_code == 2, (args, result.stderr)
        assert needle in result.stderr and "Traceback" not in result.stderr


def test_routes_from_the_running_config(storm_am, aetherops_cli):
    """Without --config or alertmanager.config_file, `alerts routes` evaluates the config Alertmanager runs."""
    result = aetherops_cli("-o", "json", "alerts", "routes", "--label", "team=db", "--label", "severity=critical")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["receivers"] == ["pager", "db-team"] and data["config"].endswith("/api/v2/status")
