"""aetherops dashboards against the double set to Grafana 10.4, 11.5 and 12.1: classic dashboards everywhere,
and Grafana 12's v2-schema dashboards (406 on the legacy API) pulled, pushed, diffed and conflict-checked through
/apis/dashboard.grafana.app (issue 8)."""

from __future__ import annotations

import json
import shutil

import pytest

from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN

V10, V11, V12 = "10.4.3", "11.5.2", "12.1.0"
WRITES = ("POST", "PUT", "DELETE", "PATCH")
PANELS = [{"id": 1, "type": "stat", "title": "Up", "gridPos": {"x": 0, "y": 0, "w": 6, "h": 4}}]


@pytest.fixture
def grafana_at(grafana_double_factory, profile_factory, monkeypatch):
    """``grafana_at(version)`` -> a double of that version, selected by the default profile ``g``."""
    monkeypatch.setenv("GTOKEN", GRAFANA_TEST_TOKEN)
    monkeypatch.setenv("AETHEROPS_PROFILE", "g")

    def make(version: str):
        double = grafana_double_factory(grafana_version=version)
        profile_factory("g", grafana={"url": double.url, "timeout": 10, "retries": 1, "auth": {"token_env": "GTOKEN"}})
        return double

    return make


def writes(double) -> list:
    return [r for r in double.request_log if r[0] in WRITES]


def run(cli, *args):
    result = cli("dashboards", *args, "--output", "json")
    assert "Traceback" not in result.stderr, result.stderr
    return result


def client_for(double):
    from aetherops.clients.grafana import GrafanaClient
    from aetherops.profiles import ServiceConfig

    return GrafanaClient(ServiceConfig(name="grafana", url=double.url, bearer_token=GRAFANA_TEST_TOKEN))


def v2_file(uid: str | None, title: str, **spec) -> dict:
    meta = {"name": uid} if uid else {}
    return {"apiVersion": "dashboard.grafana.app/v2beta1", "kind": "Dashboard", "metadata": meta,
            "spec": {"title": title, "elements": {}, "layout": {"kind": "GridLayout", "spec": {"items": []}}, **spec}}


@pytest.mark.parametrize("version", [V10, V11, V12])
def test_classic_dashboards_round_trip_on_every_version(aetherops_cli, grafana_at, tmp_path, version):
    double = grafana_at(version)
    tree = tmp_path / "dash"
    (tree / "Team" / "Sub").mkdir(parents=True)
    (tree / "Team" / "a.json").write_text(json.dumps({"uid": "a", "title": "A", "panels": PANELS}), encoding="utf-8")
    (tree / "Team" / "Sub" / "b.json").write_text(json.dumps({"uid": "b", "title": "B", "panels": []}), encoding="utf-8")
    first = run(aetherops_cli, "push", str(tree))
    assert first.exit_code == 0, first.stderr
    assert first.json()["summary"] == {"created": 4}  # two folders (nested), two dashboards
    folders = {f["uid"]: f for f in double.state["folders"]}
    sub = next(f for f in folders.values() if f["title"] == "Sub")
    assert folders[sub["parent_uid"]]["title"] == "Team"
    before = len(writes(double))
    assert run(aetherops_cli, "push", str(tree)).json()["summary"] == {"unchanged": 4}
    assert len(writes(double)) == before
    pulled = tmp_path / "pulled"
    assert run(aetherops_cli, "pull", str(pulled)).exit_code == 0
    assert json.loads((pulled / "Team" / "Sub" / "b.json").read_text(encoding="utf-8"))["title"] == "B"
    assert run(aetherops_cli, "diff", str(pulled)).exit_code == 0


def test_v2_dashboard_pull_push_diff_on_12(aetherops_cli, grafana_at, tmp_path, aetherops_env):
    double = grafana_at(V12)
    double.add_folder("Apps", uid="apps")
    double.add_dashboard({"uid": "v2d", "title": "Stored as v2", "panels": PANELS}, folder_uid="apps")
    double.add_dashboard({"uid": "v1d", "title": "Classic", "panels": []})
    double.store_as_v2("v2d")
    tree = tmp_path / "dash"

    pulled = run(aetherops_cli, "pull", str(tree))
    assert pulled.exit_code == 0, pulled.stderr  # was exit 3: the legacy API answers 406 for v2d
    path = tree / "Apps" / "stored-as-v2.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["apiVersion"] == "dashboard.grafana.app/v2beta1" and doc["kind"] == "Dashboard"
    assert doc["metadata"] == {"name": "v2d"}  # no server bookkeeping, no folder annotation (the directory says it)
    assert doc["spec"] == double.get_dashboard_v2("v2d")
    assert "apiVersion" not in json.loads((tree / "classic.json").read_text(encoding="utf-8"))
    again = run(aetherops_cli, "pull", str(tree))
    assert {r["action"] for r in again.json()["files"]} == {"unchanged"}  # byte-stable

    before = len(writes(double))
    noop = run(aetherops_cli, "push", str(tree))
    assert noop.exit_code == 0, noop.stderr
    assert {r["action"] for r in noop.json()["items"]} == {"unchanged"}
    assert len(writes(double)) == before
    assert run(aetherops_cli, "diff", str(tree)).exit_code == 0

    doc["spec"]["description"] = "edited in git"
    path.write_text(json.dumps(doc), encoding="utf-8")
    drift = run(aetherops_cli, "diff", str(tree))
    assert drift.exit_code == 1
    changed = [r for r in drift.json()["items"] if r["action"] != "unchanged"]
    assert [(r["uid"], r["action"]) for r in changed] == [("v2d", "update")] and "edited in git" in changed[0]["diff"]

    pushed = run(aetherops_cli, "push", str(tree), "--message", "release 42")
    assert pushed.exit_code == 0, pushed.stderr
    assert [(r["uid"], r["action"]) for r in pushed.json()["items"] if r["action"] != "unchanged"] == [("v2d", "updated")]
    assert double.get_dashboard_v2("v2d")["description"] == "edited in git"
    puts = [p for m, p, _ in writes(double) if m == "PUT"]
    assert puts == ["/apis/dashboard.grafana.app/v2beta1/namespaces/default/dashboards/v2d"]
    assert not any(p == "/api/dashboards/db" for _, p, _ in writes(double))  # never through the legacy save
    client = client_for(double)
    try:
        history = client.request("GET", "/api/dashboards/uid/v2d/versions", params={"limit": 1})
    finally:
        client.close()
    message = (history["versions"] if isinstance(history, dict) else history)[0]["message"]
    assert message.startswith("release 42 (aetherops:")  # --message went into the grafana.app/message annotation
    assert run(aetherops_cli, "diff", str(tree)).exit_code == 0

    # a CI runner that never pushed: the fingerprint in that message tells the next repo edit from a UI edit
    shutil.rmtree(aetherops_env["AETHEROPS_STATE_DIR"])
    doc["spec"]["tags"] = ["from-ci"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    ci = run(aetherops_cli, "push", str(tree))
    assert ci.exit_code == 0, ci.stdout
    assert [(r["uid"], r["action"]) for r in ci.json()["items"] if r["action"] != "unchanged"] == [("v2d", "updated")]


def test_v2_ui_edit_is_a_conflict_unless_force(aetherops_cli, grafana_at, tmp_path):
    double = grafana_at(V12)
    double.add_dashboard({"uid": "v2d", "title": "Stored as v2", "panels": PANELS})
    double.store_as_v2("v2d")
    tree = tmp_path / "dash"
    assert run(aetherops_cli, "pull", str(tree)).exit_code == 0
    path = tree / "stored-as-v2.json"
    doc = json.loads(path.read_text(encoding="utf-8"))

    client = client_for(double)  # someone edits it in the UI (a save through /apis)
    try:
        resource = client.dashboard_v2("v2d")
        resource["spec"]["description"] = "changed in the UI"
        client.save_dashboard_v2(resource, create=False)
    finally:
        client.close()
    doc["spec"]["tags"] = ["git"]
    path.write_text(json.dumps(doc), encoding="utf-8")

    before = len(writes(double))
    conflict = run(aetherops_cli, "push", str(tree), "--diff")
    assert conflict.exit_code == 1
    row = next(r for r in conflict.json()["items"] if r["uid"] == "v2d")
    assert row["action"] == "conflict" and "changed in the UI" in row["diff"]
    assert len(writes(double)) == before
    assert double.get_dashboard_v2("v2d")["description"] == "changed in the UI"

    forced = run(aetherops_cli, "push", str(tree), "--force")
    assert forced.exit_code == 0, forced.stderr
    stored = double.get_dashboard_v2("v2d")
    assert stored["description"] == "" and stored["tags"] == ["git"]  # the file's spec, the UI edit gone


@pytest.mark.parametrize("version, code", [(V10, 1), (V11, 1), (V12, 0)])
def test_a_new_v2_file_goes_through_apis_only_on_12(aetherops_cli, grafana_at, tmp_path, version, code):
    double = grafana_at(version)
    tree = tmp_path / "dash"
    (tree / "Ops").mkdir(parents=True)
    (tree / "Ops" / "new.json").write_text(json.dumps(v2_file(None, "Brand new")), encoding="utf-8")
    result = run(aetherops_cli, "push", str(tree), "--write-uids")
    assert result.exit_code == code, result.stderr
    row = next(r for r in result.json()["items"] if r["kind"] == "dashboard")
    written = json.loads((tree / "Ops" / "new.json").read_text(encoding="utf-8"))
    assert written["metadata"]["name"] == row["uid"] == "ops-new"  # the uid derived from the path, written back
    if code:
        assert row["action"] == "error" and "v2 schema" in row["reason"]
        assert double.get_dashboard("ops-new") is None
        return
    assert row["action"] == "created"
    stored = double.get_dashboard_v2("ops-new")
    assert stored["title"] == "Brand new"
    folder = next(f for f in double.state["folders"] if f["title"] == "Ops")
    assert next(d for d in double.state["dashboards"] if d["uid"] == "ops-new")["folder_uid"] == folder["uid"]
    assert any(m == "POST" and p == "/apis/dashboard.grafana.app/v2beta1/namespaces/default/dashboards"
               for m, p, _ in double.request_log)
    assert run(aetherops_cli, "push", str(tree)).json()["summary"] == {"unchanged": 2}


def test_a_classic_file_for_a_dashboard_now_stored_as_v2_is_skipped(aetherops_cli, grafana_at, tmp_path):
    double = grafana_at(V12)
    tree = tmp_path / "dash"
    tree.mkdir()
    (tree / "d.json").write_text(json.dumps({"uid": "d", "title": "D", "panels": PANELS}), encoding="utf-8")
    assert run(aetherops_cli, "push", str(tree)).exit_code == 0
    double.store_as_v2("d")  # converted on the server (Grafana 12's schema v2 feature)
    (tree / "d.json").write_text(json.dumps({"uid": "d", "title": "D", "panels": [], "tags": ["x"]}), encoding="utf-8")
    before = len(writes(double))
    result = run(aetherops_cli, "push", str(tree))
    assert result.exit_code == 0, result.stderr  # not exit 3 any more
    row = next(r for r in result.json()["items"] if r["uid"] == "d")
    assert row["action"] == "skip" and "v2 schema" in row["reason"]
    assert len(writes(double)) == before


def test_a_v2_dashboard_that_cannot_be_read_is_one_line_exit_3(aetherops_cli, grafana_at, tmp_path):
    double = grafana_at(V12)
    double.add_dashboard({"uid": "v2d", "title": "Stored as v2", "panels": []})
    double.store_as_v2("v2d")
    double.inject_fault("/apis/dashboard.grafana.app/", status=500, count=None, method="GET")
    result = aetherops_cli("dashboards", "pull", str(tmp_path / "d"))
    assert result.exit_code == 3, result
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "/apis/dashboard.grafana.app" in result.stderr


@pytest.mark.parametrize("resource, words", [
    ({"metadata": 5}, "metadata must be an object"),
    ({"metadata": {"name": ["x"]}}, "metadata.name must be a string"),
    ({"metadata": {"name": "x", "annotations": ["a"]}}, "metadata.annotations must be an object"),
    ({"metadata": {"name": "x", "labels": "l"}}, "metadata.labels must be an object"),
    ({"spec": {"title": ""}}, "no title"),
])
def test_a_bad_v2_file_is_an_error_row_exit_1(aetherops_cli, grafana_at, tmp_path, resource, words):
    double = grafana_at(V12)
    tree = tmp_path / "dash"
    tree.mkdir()
    doc = v2_file("x", "X")
    doc.update(resource)
    (tree / "bad.json").write_text(json.dumps(doc), encoding="utf-8")
    result = aetherops_cli("dashboards", "push", str(tree))
    assert result.exit_code == 1, result
    assert "Traceback" not in result.stderr
    assert any(words in ln and "bad.json" in ln for ln in result.stdout.splitlines() if ln.startswith("error"))
    assert not writes(double)
