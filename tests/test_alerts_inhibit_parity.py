"""The inhibition aetherops computes from inhibit_rules is the inhibition the real Alertmanager applies.

Generated alert sets are posted to one Alertmanager whose rules exercise `equal` (with labels absent on both
sides), regex and negative matchers, and the two-sided case (an alert matching both source and target
matchers); every rule has `run` in `equal`, so each example's alerts only meet each other."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aetherops.testing.servers import require_binary

CONFIG = {
    "route": {"receiver": "default", "group_wait": "1h"},
    "receivers": [{"name": "default"}],
    "inhibit_rules": [
        {"source_matchers": ['alertname="A"'], "target_matchers": ['alertname="B"'], "equal": ["run", "svc"]},
        {"source_matchers": ['sev="crit"'], "target_matchers": ['sev=~"crit|warn"'], "equal": ["run"]},
        {"source_match_re": {"alertname": "A|C"}, "target_matchers": ['alertname!="A"', 'zone!~"9"'], "equal": ["run", "zone"]},
    ],
}
_runs = itertools.count()


@pytest.fixture(scope="module")
def inhibit_am(tmp_path_factory):
    from aetherops.clients.alertmanager import AlertmanagerClient
    from aetherops.profiles import ServiceConfig
    from aetherops.testing.servers import start_alertmanager

    require_binary("alertmanager")
    server = start_alertmanager(tmp_path_factory.mktemp("inhibit-am"), config=CONFIG)
    client = AlertmanagerClient(ServiceConfig(name="alertmanager", url=server.url, timeout=5))
    yield client
    client.close()
    server.stop()


alert = st.fixed_dictionaries({"alertname": st.sampled_from("ABC")},
                              optional={"sev": st.sampled_from(["crit", "warn"]), "svc": st.sampled_from("xy"),
                                        "zone": st.sampled_from("19")})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(alerts=st.lists(alert, min_size=1, max_size=6, unique_by=lambda a: tuple(sorted(a.items()))))
def test_computed_inhibition_is_alertmanagers(inhibit_am, alerts):
    from aetherops_plugins.alerts import engine, routing

    run = str(next(_runs))
    ends = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    inhibit_am.post_alerts([{"labels": {**a, "run": run}, "endsAt": ends} for a in alerts])
    listed = inhibit_am.alerts(filters=[f'run="{run}"'])
    assert len(listed) == len(alerts)
    config = routing.parse_config(inhibit_am.status()["config"]["original"], "running")
    rows = [engine.alert_row(a, engine.now()) for a in listed]
    for row in rows:
        others = [(r["fingerprint"], r["labels"]) for r in rows if r["fingerprint"] != row["fingerprint"]]
        ours = config.inhibitors(row["labels"], others)
        assert bool(ours) == (row["state"] == "inhibited"), (row["labels"], alerts)
        if row["inhibited_by"]:  # Alertmanager's choice is one of ours
            assert row["inhibited_by"][0] in [fp for fp, _rule in ours]
    groups, warnings = engine.explain_inhibition(config, rows)
    assert warnings == []
    assert sorted(h["fingerprint"] for g in groups for h in g["hides"]) == sorted(r["fingerprint"] for r in rows
                                                                                     if r["state"] == "inhibited")
