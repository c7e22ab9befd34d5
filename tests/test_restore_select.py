"""Issue 15, for grafana-backup-tool users: restore one dashboard or one folder (``--uid``, ``--folder``), and
dashboards stored pretty-printed with sorted keys so backups diff well in git (the manifest still verifies).
Against the Grafana double."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN

pytestmark = pytest.mark.servers


@pytest.fixture
def backup(grafana_double, profile_factory, aetherops_cli, tmp_path, monkeypatch):
    """A grafana-only backup of the seeded double; then the double is emptied (a lost Grafana)."""
    monkeypatch.setenv("POLISH_GRAFANA_TOKEN", GRAFANA_TEST_TOKEN)
    monkeypatch.setenv("AETHEROPS_PROFILE", "g")
    profile_factory("g", grafana={"url": grafana_double.url, "auth": {"token_env": "POLISH_GRAFANA_TOKEN"}, "retries": 1})
    grafana_double.seed_demo()
    made = aetherops_cli("backup", "--dir", str(tmp_path / "b"), "--only", "grafana", "-o", "json")
    assert made.exit_code == 0, made
    grafana_double.reset()
    return Path(made.json()["path"])


def _dashboards(double) -> dict[str, str]:
    return {r["uid"]: r["folder_uid"] for r in double.state["dashboards"]}


def _folders(double) -> dict[str, str]:
    return {f["uid"]: f.get("parent_uid") or "" for f in double.state["folders"]}


def test_restore_one_dashboard_with_the_folders_on_its_path(backup, grafana_double, aetherops_cli, tmp_path):
    result = aetherops_cli("restore", str(backup), "--uid", "payments-service", "--safety-dir", str(tmp_path / "s"), "-o", "json")
    assert result.exit_code == 0, result
    assert _dashboards(grafana_double) == {"payments-service": "apps-payments"}
    assert _folders(grafana_double) == {"apps": "", "apps-payments": "apps"}
    kinds = {(i["kind"], i["name"]) for i in result.json()["items"]}
    assert not any(kind in ("datasource", "alert rule", "contact point") for kind, _ in kinds)
    assert result.json()["components"] == ["grafana"]


def test_restore_one_folder_by_uid_or_title_with_its_subfolders(backup, grafana_double, aetherops_cli, tmp_path):
    result = aetherops_cli("restore", str(backup), "--folder", "Applications", "--safety-dir", str(tmp_path / "s"))
    assert result.exit_code == 0, result
    assert _dashboards(grafana_double) == {"api-gateway-slo": "apps", "payments-service": "apps-payments"}
    grafana_double.reset()
    again = aetherops_cli("restore", str(backup), "--folder", "infra", "--uid", "blackbox-probes", "--safety-dir", str(tmp_path / "s"))
    assert again.exit_code == 0, again
    assert _dashboards(grafana_double) == {"node-exporter": "infra", "prometheus-self": "infra", "alertmanager-overview": "infra",
                                           "blackbox-probes": ""}


def test_dry_run_of_a_selection_plans_only_it(backup, grafana_double, aetherops_cli):
    plan = aetherops_cli("restore", str(backup), "--uid", "node-exporter", "--dry-run", "-o", "json")
    assert plan.exit_code == 0, plan
    planned = [(i["kind"], i["name"], i["action"]) for i in plan.json()["items"] if i["action"] != "unchanged"]
    assert ("folder", "Infrastructure", "create") in planned
    assert [p for p in planned if p[0] == "dashboard"] == [("dashboard", "Infrastructure/Node Exporter Overview", "create")]
    assert grafana_double.state["dashboards"] == []


@pytest.mark.parametrize("args, says", [
    (["--uid", "no-such-dashboard"], "not in this backup"),
    (["--folder", "no-such-folder"], "is not a folder of this backup"),
    (["--uid", "node-exporter", "--only", "configs"], "--only grafana"),
])
def test_a_selection_the_backup_does_not_hold_is_a_usage_error(backup, grafana_double, aetherops_cli, args, says):
    result = aetherops_cli("restore", str(backup), *args)
    assert result.exit_code == 2, result
    assert says in result.stderr and "Traceback" not in result.stderr
    assert grafana_double.state["dashboards"] == [] and grafana_double.state["folders"] == []


def test_dashboards_are_pretty_printed_with_sorted_keys_and_verify(backup, aetherops_cli):
    index = json.loads((backup / "grafana" / "dashboards.json").read_text(encoding="utf-8"))["dashboards"]
    assert len(index) == 6
    for entry in index:
        text = (backup / "grafana" / entry["file"]).read_text(encoding="utf-8")
        record = json.loads(text)
        assert text == json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        assert text.count("\n") > 20  # one key per line: a change to one panel is a small diff
    verified = aetherops_cli("backup", "verify", str(backup), "-o", "json")
    assert verified.exit_code == 0 and verified.json()["ok"] is True, verified


def test_the_json_module_writes_the_same_bytes_without_orjson(monkeypatch):
    import sys

    from aetherops_plugins.backup import api

    record = {"dashboard": {"uid": "x", "title": "Ünïcode", "panels": [{"id": 1, "gridPos": {"h": 8}}], "b": None}, "meta": {}}
    with_orjson = api._json_bytes(record)
    monkeypatch.setitem(sys.modules, "orjson", None)  # an environment without it
    assert api._json_bytes(record) == with_orjson
    assert api._json_bytes({1: "non-string key"}) == b'{\n  "1": "non-string key"\n}\n'
