"""The version matrix: the same ``aetherops backup`` -> ``restore`` into an empty double -> ``backup``
round trip on Grafana 10.4, 11.x and 12.x settings of the double, asserting identical backups apart
from the differences documented in docs/testing/grafana-api.md ("Round-trip differences").

Contract: "Round-trip differences". Cases that trip on a known bug of today's tool are
``xfail(strict=True)`` naming the bug: the engineer who fixes the tool removes the mark.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN

pytestmark = pytest.mark.servers

VERSIONS = {"10.4": "10.4.3", "11.x": "11.5.2", "12.x": "12.1.0"}
#: Keys whose values a restore cannot keep: database ids, version counters, timestamps, the
#: server-side counters derived from them. Everything else must survive the round trip.
VOLATILE_KEYS = frozenset({"id", "version", "created", "updated", "folderId", "createdBy", "updatedBy"})
#: MANIFEST fields that describe the run, not the data.
RUN_FIELDS = ("started", "finished", "duration_s", "host", "servers", "files", "totals", "tool_version", "profile")
SECRETS_NOTE = "datasource secrets are not backed up"


def seed_core(double) -> None:
    """Everything as if provisioned through the API (provenance "api"), no library panel in use:
    what today's tool must round-trip on every version."""
    double.seed_demo(provenance="api")
    double.add_folder("Deep", uid="deep", parent_uid="apps-payments")
    double.add_dashboard({"uid": "prod-db", "title": "Prod DB", "tags": ["db"], "refresh": "1m", "panels": []}, folder_uid="deep")


def seed_library_in_use(double) -> None:
    seed_core(double)
    double.add_dashboard({"uid": "uses-lib", "title": "Uses the shared CPU panel",
                          "panels": [{"id": 1, "libraryPanel": {"uid": "lib-cpu", "name": "Shared CPU panel"}}]}, folder_uid="infra")


def seed_ui_provenance(double) -> None:
    double.seed_demo()  # rule and contact point without provenance: editable in the UI, and must stay so


def seed_v2(double) -> None:
    seed_core(double)
    double.store_as_v2("payments-service")


def seed_contact_point_secret(double) -> None:
    seed_core(double)
    double.add_contact_point({"uid": "pager", "name": "pager", "type": "webhook", "provenance": "api",
                              "settings": {"url": "https://hooks.example/pager", "password": "hook-secret"}})


def normalise(value):
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def backup_view(path: Path) -> dict:
    """A backup as the matrix compares it: the manifest without run fields, the file list, every JSON file normalised."""
    manifest = json.loads((path / "MANIFEST.json").read_text(encoding="utf-8"))
    view = {"manifest": {k: v for k, v in manifest.items() if k not in RUN_FIELDS}, "file_list": sorted(manifest["files"])}
    for name in manifest["files"]:
        if name.endswith(".json"):
            view[name] = normalise(json.loads((path / name).read_text(encoding="utf-8")))
    for component in view["manifest"].get("components", {}).values():
        component.pop("duration_s", None)
    return view


def round_trip(factory, profile_factory, aetherops_cli, tmp_path, monkeypatch, version: str, seed) -> tuple[dict, dict, dict]:
    monkeypatch.setenv("MATRIX_GRAFANA_TOKEN", GRAFANA_TEST_TOKEN)
    source = factory(grafana_version=version)
    target = factory(grafana_version=version)
    seed(source)
    for name, double in (("source", source), ("target", target)):
        profile_factory(name, grafana={"url": double.url, "timeout": 10, "retries": 1, "auth": {"token_env": "MATRIX_GRAFANA_TOKEN"}})
    first = aetherops_cli("-p", "source", "backup", "--dir", str(tmp_path / "first"), "--only", "grafana", "-o", "json")
    assert first.exit_code == 0, first
    restored = aetherops_cli("-p", "target", "restore", first.json()["path"], "--to-profile", "target", "--only", "grafana", "-o", "json")
    second = aetherops_cli("-p", "target", "backup", "--dir", str(tmp_path / "second"), "--only", "grafana", "-o", "json")
    assert second.exit_code == 0, second
    return backup_view(Path(first.json()["path"])), backup_view(Path(second.json()["path"])), {
        "restore": restored, "target": target}


def drop_documented_differences(before: dict, after: dict) -> None:
    """Datasource secrets are never backed up, so the restored datasources have none: the first backup lists
    ``secure_fields`` (and notes them), the second has none. Checked here, then taken out of the comparison."""
    name = "grafana/datasources.json"
    if name in before and name in after:
        for ds in after[name]["datasources"]:
            assert ds.pop("secure_fields", []) == []
        for ds in before[name]["datasources"]:
            ds.pop("secure_fields", None)
    for view in (before, after):
        component = view["manifest"]["components"].get("grafana", {})
        component["notes"] = [n for n in component.get("notes", []) if not n.startswith(SECRETS_NOTE)]


def assert_same(before: dict, after: dict) -> None:
    drop_documented_differences(before, after)
    differing = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    diff = []
    for key in differing[:3]:
        old = json.dumps(before.get(key), indent=1, sort_keys=True).splitlines()
        new = json.dumps(after.get(key), indent=1, sort_keys=True).splitlines()
        diff += [f"--- {key}", *[line for line in difflib.unified_diff(old, new, lineterm="", n=1)][2:40]]
    assert not differing, "backups differ:\n" + "\n".join(diff)


@pytest.mark.parametrize("label", sorted(VERSIONS))
def test_round_trip_is_identical_on_every_version(label, grafana_double_factory, profile_factory, aetherops_cli, tmp_path, monkeypatch):
    """Contract: "Round-trip differences"."""
    before, after, run = round_trip(grafana_double_factory, profile_factory, aetherops_cli, tmp_path, monkeypatch, VERSIONS[label], seed_core)
    assert run["restore"].exit_code == 0, run["restore"]
    assert before["manifest"]["components"]["grafana"]["counts"]["dashboards"] == 7
    assert_same(before, after)


def test_round_trip_keeps_library_panel_connections(grafana_double_factory, profile_factory, aetherops_cli, tmp_path, monkeypatch):
    """Contract: "Library panels"."""
    before, after, run = round_trip(grafana_double_factory, profile_factory, aetherops_cli, tmp_path, monkeypatch,
                                    VERSIONS["11.x"], seed_library_in_use)
    assert run["target"].library_connections("lib-cpu") == ["uses-lib"]
    assert run["restore"].exit_code == 0, run["restore"]
    assert_same(before, after)


def test_round_trip_keeps_ui_provenance(grafana_double_factory, profile_factory, aetherops_cli, tmp_path, monkeypatch):
    """Contract: "Provenance"."""
    before, after, _ = round_trip(grafana_double_factory, profile_factory, aetherops_cli, tmp_path, monkeypatch,
                                  VERSIONS["11.x"], seed_ui_provenance)
    assert_same(before, after)


def test_round_trip_with_v2_dashboards_on_12(grafana_double_factory, profile_factory, aetherops_cli, tmp_path, monkeypatch):
    """Contract: "Grafana 12 v2 dashboards"."""
    before, after, run = round_trip(grafana_double_factory, profile_factory, aetherops_cli, tmp_path, monkeypatch,
                                    VERSIONS["12.x"], seed_v2)
    assert before["manifest"]["components"]["grafana"]["counts"]["dashboards"] == 7
    assert run["target"].get_dashboard_v2("payments-service") is not None
    assert_same(before, after)


def test_restore_never_writes_a_redacted_placeholder_as_a_secret(grafana_double_factory, profile_factory, aetherops_cli, tmp_path,
                                                                 monkeypatch):
    """Contract: "Contact points"."""
    _, _, run = round_trip(grafana_double_factory, profile_factory, aetherops_cli, tmp_path, monkeypatch,
                           VERSIONS["11.x"], seed_contact_point_secret)
    stored = run["target"].get_contact_point("pager")
    # skipped (None), or created with the real secret from a reference the user gave: never with a placeholder
    assert stored is None or stored["settings"].get("password") == "hook-secret", stored
