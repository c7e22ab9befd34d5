"""aetherops dashboards push / pull / diff / list against the Grafana double."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import strategies as st

DATA = Path(__file__).parent / "data" / "dashboards"
WRITES = ("POST", "PUT", "DELETE", "PATCH")


@pytest.fixture
def tree(tmp_path) -> Path:
    dest = tmp_path / "dashboards"
    shutil.copytree(DATA, dest, ignore=shutil.ignore_patterns("LICENSE", "*.md"))
    return dest


@pytest.fixture
def grafana(grafana_double, profile_factory, monkeypatch):
    from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN

    monkeypatch.setenv("GTOKEN", GRAFANA_TEST_TOKEN)
    monkeypatch.setenv("AETHEROPS_PROFILE", "g")
    profile_factory("g", grafana={"url": grafana_double.url, "auth": {"token_env": "GTOKEN"}})
    return grafana_double


def writes(double) -> list:
    return [r for r in double.request_log if r[0] in WRITES]


def by_uid(double) -> dict:
    return {d["uid"]: d for d in double.state["dashboards"]}


def push(cli, tree, *args):
    return cli("dashboards", "push", str(tree), "--output", "json", *args)


def test_push_creates_in_folders_then_is_idempotent(aetherops_cli, grafana, tree):
    result = push(aetherops_cli, tree)
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["summary"]["created"] == 33 + 2  # 33 dashboards, 2 folders
    folders = {f["uid"]: f["title"] for f in grafana.state["folders"]}
    assert sorted(folders.values()) == ["kubernetes", "node-exporter"]
    stored = by_uid(grafana)
    assert folders[stored["7d57716318ee0dddbac5a7f451fb7753"]["folder_uid"]] == "node-exporter"
    assert folders[stored["3138fa155d5915769fbded898ac09fd9"]["folder_uid"]] == "kubernetes"
    assert not stored["alertmanager-overview"].get("folder_uid")

    before = len(writes(grafana))
    again = push(aetherops_cli, tree)
    assert again.exit_code == 0, again.stderr
    assert {r["action"] for r in again.json()["items"]} == {"unchanged"}
    assert len(writes(grafana)) == before  # zero write requests on the second push


def test_repo_edit_updates_ui_edit_conflicts_unless_force(aetherops_cli, grafana, tree):
    assert push(aetherops_cli, tree).exit_code == 0
    path = tree / "node-exporter" / "nodes.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["title"] = "Node Exporter / Nodes (edited in git)"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = push(aetherops_cli, tree)
    assert result.exit_code == 0, result.stderr
    changed = [r for r in result.json()["items"] if r["action"] != "unchanged"]
    assert [(r["uid"], r["action"]) for r in changed] == [("7d57716318ee0dddbac5a7f451fb7753", "updated")]
    assert by_uid(grafana)["7d57716318ee0dddbac5a7f451fb7753"]["data"]["title"] == "Node Exporter / Nodes (edited in git)"

    # someone edits it in the UI: the next push must not overwrite it
    from aetherops.clients.grafana import GrafanaClient
    from aetherops.profiles import ServiceConfig
    from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN

    client = GrafanaClient(ServiceConfig(name="grafana", url=grafana.url, bearer_token=GRAFANA_TEST_TOKEN))
    current = client.dashboard("7d57716318ee0dddbac5a7f451fb7753")
    ui = {**current["dashboard"], "description": "changed in the UI"}
    client.save_dashboard({"dashboard": ui, "folderUid": current["meta"]["folderUid"], "overwrite": False})
    client.close()
    doc["tags"] = ["git"]
    path.write_text(json.dumps(doc), encoding="utf-8")

    before = len(writes(grafana))
    conflict = push(aetherops_cli, tree, "--diff")
    assert conflict.exit_code == 1
    row = [r for r in conflict.json()["items"] if r["action"] != "unchanged"]
    assert [(r["uid"], r["action"]) for r in row] == [("7d57716318ee0dddbac5a7f451fb7753", "conflict")]
    assert "changed in the UI" in row[0]["diff"]
    assert len(writes(grafana)) == before
    assert by_uid(grafana)["7d57716318ee0dddbac5a7f451fb7753"]["data"]["description"] == "changed in the UI"

    forced = push(aetherops_cli, tree, "--force")
    assert forced.exit_code == 0, forced.stderr
    stored = by_uid(grafana)["7d57716318ee0dddbac5a7f451fb7753"]["data"]
    assert "description" not in stored and stored["tags"] == ["git"]


def test_dry_run_changes_nothing(aetherops_cli, grafana, tree):
    result = push(aetherops_cli, tree, "--dry-run")
    assert result.exit_code == 0
    assert result.json()["summary"]["create"] == 35
    assert writes(grafana) == [] and grafana.state["dashboards"] == []


def test_folder_option_puts_all_in_one(aetherops_cli, grafana, tree):
    assert push(aetherops_cli, tree, "--folder", "Ops").exit_code == 0
    folders = grafana.state["folders"]
    assert [f["title"] for f in folders] == ["Ops"]
    assert {d.get("folder_uid") for d in grafana.state["dashboards"]} == {folders[0]["uid"]}


def test_pull_then_push_is_noop_and_pull_is_byte_stable(aetherops_cli, grafana, tree, tmp_path):
    assert push(aetherops_cli, tree).exit_code == 0
    out = tmp_path / "pulled"
    first = aetherops_cli("dashboards", "pull", str(out), "--output", "json")
    assert first.exit_code == 0, first.stderr
    files = sorted(out.rglob("*.json"))
    assert len(files) == 33
    assert (out / "node-exporter").is_dir() and (out / "kubernetes").is_dir()
    snapshot = {p: p.read_bytes() for p in files}
    second = aetherops_cli("dashboards", "pull", str(out), "--output", "json")
    assert {r["action"] for r in second.json()["files"]} == {"unchanged"}
    assert {p: p.read_bytes() for p in sorted(out.rglob("*.json"))} == snapshot

    before = len(writes(grafana))
    again = push(aetherops_cli, out)
    assert again.exit_code == 0
    assert {r["action"] for r in again.json()["items"]} == {"unchanged"}
    assert len(writes(grafana)) == before


def test_diff_exit_codes(aetherops_cli, grafana, tree):
    drift = aetherops_cli("dashboards", "diff", str(tree), "--output", "json")
    assert drift.exit_code == 1
    assert {r["action"] for r in drift.json()["items"]} == {"create"}
    assert push(aetherops_cli, tree).exit_code == 0
    clean = aetherops_cli("dashboards", "diff", str(tree))
    assert clean.exit_code == 0, clean.stdout
    path = tree / "proxy-missing.json"
    path.write_text(json.dumps({"uid": "extra-one", "title": "Extra"}), encoding="utf-8")
    again = aetherops_cli("dashboards", "diff", str(tree), "--output", "json")
    assert again.exit_code == 1
    assert [r["uid"] for r in again.json()["items"] if r["action"] != "unchanged"] == ["extra-one"]


def test_list(aetherops_cli, grafana, tree):
    assert push(aetherops_cli, tree).exit_code == 0
    result = aetherops_cli("dashboards", "list", "--folder", "node-exporter", "--output", "json")
    assert result.exit_code == 0
    rows = result.json()["dashboards"]
    assert len(rows) == 5 and {r["folder"] for r in rows} == {"node-exporter"}
    text = aetherops_cli("dashboards", "list")
    assert "Alertmanager / Overview" in text.stdout


@pytest.mark.parametrize("content, expected", [
    ('{\n  "uid": "a",\n  "title": "A",\n}\n', "broken.json:4: invalid JSON"),
    ('{"uid": "a"}', "no title"),
    ('[1, 2]', "not a dashboard"),
    ('{"uid": "a", "title": "A", "__inputs": 5}', "__inputs"),
    ('{"uid": ["a"], "title": "A"}', "uid must be a string"),
])
def test_a_bad_file_is_reported_per_dashboard_and_the_rest_still_pushed(aetherops_cli, grafana, tmp_path, content,
                                                                         expected):
    root = tmp_path / "bad"
    root.mkdir()
    (root / "broken.json").write_text(content, encoding="utf-8")
    (root / "good.json").write_text(json.dumps({"uid": "good-1", "title": "Good"}), encoding="utf-8")
    result = aetherops_cli("dashboards", "push", str(root))
    assert result.exit_code == 1, result
    assert "Traceback" not in result.stderr
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("error"))
    assert "broken.json" in line and expected in line
    assert "push: 1 created, 1 error" in result.stdout
    assert [w for w in writes(grafana) if w[0] == "POST" and w[1] == "/api/dashboards/db"] and "good-1" in by_uid(grafana)
    data = aetherops_cli("dashboards", "push", str(root), "-o", "json").json()
    bad = [r for r in data["items"] if r["action"] == "error"]
    assert len(bad) == 1 and bad[0]["name"] == "broken.json" and expected in bad[0]["reason"]


def test_a_bad_file_turns_prune_off(aetherops_cli, grafana, tree):
    assert push(aetherops_cli, tree).exit_code == 0
    (tree / "node-exporter" / "nodes.json").write_text("{", encoding="utf-8")
    before = len(grafana.state["dashboards"])
    result = aetherops_cli("dashboards", "push", str(tree), "--prune", "-o", "json")
    assert result.exit_code == 1
    assert len(grafana.state["dashboards"]) == before  # its dashboard is not pruned: the file still means it
    assert any(r["kind"] == "prune" and r["action"] == "skipped" for r in result.json()["items"])


def test_duplicate_uid_is_an_error_row_and_the_first_file_is_pushed(aetherops_cli, grafana, tree):
    shutil.copy(tree / "node-exporter" / "nodes.json", tree / "nodes-copy.json")
    result = aetherops_cli("dashboards", "push", str(tree), "-o", "json")
    assert result.exit_code == 1
    errors = [r for r in result.json()["items"] if r["action"] == "error"]
    assert len(errors) == 1 and "duplicate uid 7d57716318ee0dddbac5a7f451fb7753" in errors[0]["reason"]
    assert errors[0]["name"] == "nodes-copy.json"
    assert "7d57716318ee0dddbac5a7f451fb7753" in by_uid(grafana)


def test_grafana_down_exit_3(aetherops_cli, profile_factory, tree, monkeypatch):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AETHEROPS_PROFILE", "down")
    profile_factory("down", grafana={"url": f"http://127.0.0.1:{port}", "timeout": 2, "retries": 0})
    result = aetherops_cli("dashboards", "push", str(tree))
    assert result.exit_code == 3
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_server_error_mid_push_reported_per_dashboard(aetherops_cli, grafana, tree):
    grafana.inject_fault("/api/dashboards/db", status=500, count=1, method="POST")
    result = push(aetherops_cli, tree)
    assert result.exit_code == 3
    data = result.json()
    assert data["summary"]["error"] == 1 and data["summary"]["created"] == 34
    assert len(grafana.state["dashboards"]) == 32
    # the failed one is not recorded as pushed: the next push creates it, the rest are unchanged
    again = push(aetherops_cli, tree)
    assert again.exit_code == 0
    assert again.json()["summary"] == {"created": 1, "unchanged": 35 - 1}


def test_inputs_bound_from_set_input(aetherops_cli, grafana, tmp_path):
    root = tmp_path / "shared"
    root.mkdir()
    exported = {"__inputs": [{"name": "DS_PROM", "type": "datasource", "pluginId": "prometheus"}],
                "__requires": [], "uid": "shared-1", "title": "Shared",
                "panels": [{"type": "timeseries", "datasource": {"type": "prometheus", "uid": "${DS_PROM}"}}]}
    (root / "shared.json").write_text(json.dumps(exported), encoding="utf-8")
    unbound = aetherops_cli("dashboards", "push", str(root))
    assert unbound.exit_code == 1 and "DS_PROM" in unbound.stdout and writes(grafana) == []
    bound = aetherops_cli("dashboards", "push", str(root), "--set-input", "DS_PROM=prom-uid")
    assert bound.exit_code == 0, bound.stderr
    stored = by_uid(grafana)["shared-1"]["data"]
    assert stored["panels"][0]["datasource"]["uid"] == "prom-uid" and "__inputs" not in stored


_json_values = st.recursive(
    st.none() | st.booleans()
    | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(
        st.sampled_from(["uid", "title", "dashboard", "__inputs", "panels", "x"]),
        inner, max_size=4),
    max_leaves=10)


def test_hostile_files_never_traceback(aetherops_cli, grafana, tmp_path):
    import tempfile

    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.one_of(st.binary(max_size=60), _json_values.map(lambda v: json.dumps(v).encode("utf-8"))))
    def check(content: bytes) -> None:
        root = Path(tempfile.mkdtemp(dir=tmp_path))
        (root / "d.json").write_bytes(content)
        result = aetherops_cli("dashboards", "push", str(root), "--dry-run")
        assert result.exit_code in (0, 1, 3, 4), (content, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) <= 1

    check()


def test_prune_deletes_only_in_managed_folders(aetherops_cli, grafana, tree):
    assert push(aetherops_cli, tree, "--message", "from git").exit_code == 0
    stored = by_uid(grafana)
    kube_folder = stored["3138fa155d5915769fbded898ac09fd9"]["folder_uid"]
    assert grafana.state["versions"]["3138fa155d5915769fbded898ac09fd9"][-1]["message"].startswith("from git (aetherops:")
    (tree / "kubernetes" / "kubelet.json").unlink()
    (tree / "alertmanager-overview.json").unlink()  # General is never pruned
    plan = push(aetherops_cli, tree, "--prune", "--dry-run")
    assert [(r["uid"], r["action"]) for r in plan.json()["items"] if r["action"] != "unchanged"] == [
        ("3138fa155d5915769fbded898ac09fd9", "delete")]
    assert "3138fa155d5915769fbded898ac09fd9" in by_uid(grafana)
    result = push(aetherops_cli, tree, "--prune")
    assert result.exit_code == 0, result.stderr
    assert result.json()["summary"]["deleted"] == 1
    after = by_uid(grafana)
    assert "3138fa155d5915769fbded898ac09fd9" not in after and "alertmanager-overview" in after
    assert sum(1 for d in after.values() if d["folder_uid"] == kube_folder) == 24 - 1


def test_uidless_dashboard_gets_stable_uid_and_write_uids(aetherops_cli, grafana, tmp_path):
    root = tmp_path / "d"
    (root / "team").mkdir(parents=True)
    path = root / "team" / "latency.json"
    path.write_text(json.dumps({"title": "Latency", "panels": []}), encoding="utf-8")
    first = push(aetherops_cli, root)
    assert first.exit_code == 0, first.stderr
    again = push(aetherops_cli, root)
    assert {r["action"] for r in again.json()["items"]} == {"unchanged"}  # no duplicate on a re-run
    assert len(grafana.state["dashboards"]) == 1
    uid = grafana.state["dashboards"][0]["uid"]
    assert uid == "team-latency" and "uid" not in json.loads(path.read_text(encoding="utf-8"))
    assert push(aetherops_cli, root, "--write-uids").exit_code == 0
    assert json.loads(path.read_text(encoding="utf-8"))["uid"] == uid


def test_open_print_url_and_ambiguous_title(aetherops_cli, grafana, tmp_path, monkeypatch):
    root = tmp_path / "d"
    for sub in ("a", "b"):
        (root / sub).mkdir(parents=True)
        (root / sub / "x.json").write_text(json.dumps({"uid": f"same-{sub}", "title": "Same"}), encoding="utf-8")
    assert push(aetherops_cli, root).exit_code == 0
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url))
    one = aetherops_cli("dashboards", "open", "same-a", "--print-url")
    assert one.exit_code == 0 and one.stdout.strip().startswith(grafana.url) and "/d/same-a" in one.stdout
    assert opened == []
    aetherops_cli("dashboards", "open", "same-b")
    assert len(opened) == 1 and "/d/same-b" in opened[0]
    both = aetherops_cli("dashboards", "open", "same")
    assert both.exit_code == 2 and "same-a" in both.stderr and "same-b" in both.stderr


def test_nested_folders_created_under_their_parent(aetherops_cli, grafana, tmp_path):
    root = tmp_path / "d"
    (root / "apps" / "payments").mkdir(parents=True)
    (root / "apps" / "payments" / "p.json").write_text(json.dumps({"uid": "pay", "title": "Payments overview"}), encoding="utf-8")
    result = push(aetherops_cli, root)
    assert result.exit_code == 0, result.stderr
    folders = {f["title"]: f for f in grafana.state["folders"]}
    assert folders["payments"]["parent_uid"] == folders["apps"]["uid"]
    assert by_uid(grafana)["pay"]["folder_uid"] == folders["payments"]["uid"]
    assert {r["action"] for r in push(aetherops_cli, root).json()["items"]} == {"unchanged"}


def test_plan_push_is_pure(tmp_path, monkeypatch):
    """The planning step needs no HTTP: files + a ServerState + the record -> items."""
    from aetherops.grafana_plan import ServerState
    from aetherops_plugins.dashboards import engine

    monkeypatch.setenv("AETHEROPS_STATE_DIR", str(tmp_path / "state"))
    local = [engine.LocalDashboard(tmp_path / "a.json", "ops", {"uid": "a", "title": "A", "panels": [1]}),
             engine.LocalDashboard(tmp_path / "b.json", "", {"uid": "b", "title": "B"})]
    server_b = {"uid": "b", "title": "B", "version": 3, "id": 9}
    state = ServerState(version="11.2.0", hits=[{"uid": "b", "title": "B", "folderUid": ""}],
                        dashboards={"b": {"dashboard": server_b, "meta": {"folderUid": "", "version": 3}}})
    record = engine.Record("http://grafana.invalid")
    actions = [(i.kind, i.uid, i.action) for i in engine.plan_push(local, state, record, force=False)]
    assert actions == [("folder", "ops", "create"), ("dashboard", "a", "create"), ("dashboard", "b", "unchanged")]

    local[1].dashboard["panels"] = []  # a repo edit of b: conflict until the record says the server copy is ours
    assert engine.plan_push(local, state, record, force=False)[-1].action == "conflict"
    record.pushed["b"] = engine.fingerprint(server_b)
    item = engine.plan_push(local, state, record, force=False)[-1]
    assert (item.action, item.version) == ("update", 3)


def test_version_conflict_during_push_is_a_conflict(aetherops_cli, grafana, tree):
    assert push(aetherops_cli, tree).exit_code == 0
    path = tree / "kubernetes" / "kubelet.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["tags"] = ["edited"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    grafana.inject_fault("/api/dashboards/db", status=412, count=1, method="POST")
    result = push(aetherops_cli, tree)
    assert result.exit_code == 1
    rows = [r for r in result.json()["items"] if r["action"] != "unchanged"]
    assert [(r["uid"], r["action"]) for r in rows] == [("3138fa155d5915769fbded898ac09fd9", "conflict")]
    assert "tags" not in by_uid(grafana)["3138fa155d5915769fbded898ac09fd9"]["data"] or \
        by_uid(grafana)["3138fa155d5915769fbded898ac09fd9"]["data"]["tags"] != ["edited"]


def test_progress_advances_once_per_dashboard_sent(grafana, tree, tmp_path, monkeypatch):
    import contextlib

    from aetherops.clients.grafana import GrafanaClient
    from aetherops.profiles import ServiceConfig
    from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN
    from aetherops_plugins.dashboards import engine

    monkeypatch.setenv("AETHEROPS_STATE_DIR", str(tmp_path / "state"))
    seen = []

    @contextlib.contextmanager
    def progress(total, description):
        seen.append(("start", total))
        yield lambda n=1: seen.append(("advance", n))

    client = GrafanaClient(ServiceConfig(name="grafana", url=grafana.url, bearer_token=GRAFANA_TEST_TOKEN))
    try:
        kwargs = dict(folder=None, bindings={}, dry_run=False, diff=False, force=False, url=grafana.url, progress=progress)
        engine.push(client, tree, **kwargs)
        assert seen[0] == ("start", 33) and seen.count(("advance", 1)) == 33
        seen.clear()
        engine.push(client, tree, **kwargs)  # nothing to send: no bar at all
        assert seen == []
    finally:
        client.close()


def test_lint_errors_refuse_that_file_unless_no_lint(aetherops_cli, grafana, tmp_path):
    root = tmp_path / "d"
    root.mkdir()
    bad = {"uid": "broken-q", "title": "Broken", "panels": [{"title": "Errors", "type": "timeseries",
                                                               "targets": [{"expr": "sum(rate(errors_total[5m])"}]}]}
    (root / "broken.json").write_text(json.dumps(bad), encoding="utf-8")
    (root / "fine.json").write_text(json.dumps({"uid": "fine", "title": "Fine", "panels": []}), encoding="utf-8")
    result = push(aetherops_cli, root)
    assert result.exit_code == 1
    rows = {r["uid"]: r for r in result.json()["items"]}
    assert rows["broken-q"]["action"] == "error" and "dashboard/promql" in rows["broken-q"]["reason"]
    assert rows["fine"]["action"] == "created"
    assert set(by_uid(grafana)) == {"fine"}
    forced = push(aetherops_cli, root, "--no-lint")
    assert forced.exit_code == 0, forced.stderr
    assert set(by_uid(grafana)) == {"fine", "broken-q"}


def test_iteration_and_key_order_do_not_count_as_changes(aetherops_cli, grafana, tmp_path):
    root = tmp_path / "d"
    root.mkdir()
    path = root / "a.json"
    path.write_text(json.dumps({"uid": "a", "title": "A", "panels": [], "iteration": 1}), encoding="utf-8")
    assert push(aetherops_cli, root).exit_code == 0
    path.write_text(json.dumps({"iteration": 99, "panels": [], "title": "A", "uid": "a", "id": 7, "version": 40}),
                    encoding="utf-8")
    again = push(aetherops_cli, root)
    assert [r["action"] for r in again.json()["items"]] == ["unchanged"]


def test_pull_with_grafana_down_is_one_line_exit_3(aetherops_cli, profile_factory, tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AETHEROPS_PROFILE", "down")
    profile_factory("down", grafana={"url": f"http://127.0.0.1:{port}", "timeout": 2, "retries": 0})
    result = aetherops_cli("dashboards", "pull", str(tmp_path / "out"))
    assert result.exit_code == 3 and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_forbidden_folder_and_reset_mid_push(aetherops_cli, grafana, tree):
    grafana.inject_fault("/api/folders", status=403, count=1, method="POST")
    grafana.inject_fault("/api/dashboards/db", count=1, method="POST", reset=True)
    result = push(aetherops_cli, tree)
    assert result.exit_code == 3
    rows = result.json()["items"]
    errors = [r for r in rows if r["action"] == "error"]
    folder_errors = [r for r in errors if r["kind"] == "folder"]
    assert len(folder_errors) == 1 and "403" in folder_errors[0]["reason"]
    # the dashboards of that folder are not sent, one more failed on the reset, the rest landed
    stored = len(grafana.state["dashboards"])
    assert stored == sum(1 for r in rows if r["kind"] == "dashboard" and r["action"] == "created")
    assert stored < 33 and len(errors) == 1 + (33 - stored)
    again = push(aetherops_cli, tree)
    assert again.exit_code == 0, again.stderr
    assert len(grafana.state["dashboards"]) == 33


def test_inputs_bound_from_profile(aetherops_cli, grafana, profile_factory, tmp_path):
    profile_factory("g", grafana={"url": grafana.url, "auth": {"token_env": "GTOKEN"}},
                    dashboards={"dir": str(tmp_path / "d"), "datasources": {"DS_PROM": "from-profile"}})
    root = tmp_path / "d"
    root.mkdir()
    exported = {"__inputs": [{"name": "DS_PROM", "type": "datasource"}], "uid": "s", "title": "S",
                "panels": [{"datasource": "${DS_PROM}"}]}
    (root / "s.json").write_text(json.dumps(exported), encoding="utf-8")
    result = aetherops_cli("dashboards", "push")  # DIR from the profile's dashboards.dir
    assert result.exit_code == 0, result.stderr
    assert by_uid(grafana)["s"]["data"]["panels"][0]["datasource"] == "from-profile"


def test_folder_titles_unsafe_as_dir_names_round_trip(aetherops_cli, grafana, tmp_path):
    from aetherops.clients.grafana import GrafanaClient
    from aetherops.profiles import ServiceConfig
    from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN

    client = GrafanaClient(ServiceConfig(name="grafana", url=grafana.url, bearer_token=GRAFANA_TEST_TOKEN))
    client.create_folder("team-a", "Team: A?")
    client.save_dashboard({"dashboard": {"uid": "t", "title": "T"}, "folderUid": "team-a", "overwrite": False})
    client.close()
    out = tmp_path / "pulled"
    assert aetherops_cli("dashboards", "pull", str(out)).exit_code == 0
    assert (out / "Team_ A_" / "t.json").is_file()
    before = len(writes(grafana))
    again = push(aetherops_cli, out)
    assert again.exit_code == 0, again.stderr
    assert {r["action"] for r in again.json()["items"]} == {"unchanged"} and len(writes(grafana)) == before


def test_a_fresh_machine_tells_repo_edits_from_ui_edits_by_version_message(aetherops_cli, grafana, tree, aetherops_env):
    assert push(aetherops_cli, tree, "--message", "release 1").exit_code == 0
    message = grafana.state["versions"]["3138fa155d5915769fbded898ac09fd9"][-1]["message"]
    assert message.startswith("release 1 (aetherops:")
    shutil.rmtree(aetherops_env["AETHEROPS_STATE_DIR"])  # a CI runner that never pushed before
    path = tree / "kubernetes" / "kubelet.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["tags"] = ["from-ci"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = push(aetherops_cli, tree)
    assert result.exit_code == 0, result.stdout
    assert [r["action"] for r in result.json()["items"] if r["action"] != "unchanged"] == ["updated"]

    from aetherops.clients.grafana import GrafanaClient
    from aetherops.profiles import ServiceConfig
    from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN

    client = GrafanaClient(ServiceConfig(name="grafana", url=grafana.url, bearer_token=GRAFANA_TEST_TOKEN))
    current = client.dashboard("3138fa155d5915769fbded898ac09fd9")
    client.save_dashboard({"dashboard": {**current["dashboard"], "description": "UI"},
                           "folderUid": current["meta"]["folderUid"], "overwrite": False})
    client.close()
    shutil.rmtree(aetherops_env["AETHEROPS_STATE_DIR"])
    doc["tags"] = ["again"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    conflict = push(aetherops_cli, tree)
    assert conflict.exit_code == 1
    assert [r["action"] for r in conflict.json()["items"] if r["action"] != "unchanged"] == ["conflict"]


def test_prune_never_deletes_a_file_held_back_by_lint(aetherops_cli, grafana, tmp_path):
    root = tmp_path / "d"
    (root / "team").mkdir(parents=True)
    path = root / "team" / "q.json"
    path.write_text(json.dumps({"uid": "q", "title": "Q", "panels": []}), encoding="utf-8")
    assert push(aetherops_cli, root).exit_code == 0
    path.write_text(json.dumps({"uid": "q", "title": "Q", "panels": [{"title": "x", "targets": [{"expr": "sum("}]}]}),
                    encoding="utf-8")
    result = push(aetherops_cli, root, "--prune")
    assert result.exit_code == 1
    assert [r["action"] for r in result.json()["items"] if r["kind"] == "dashboard"] == ["error"]
    assert "q" in by_uid(grafana)


def test_pull_folder_and_uid_filters(aetherops_cli, grafana, tree, tmp_path):
    assert push(aetherops_cli, tree).exit_code == 0
    only_folder = tmp_path / "f"
    assert aetherops_cli("dashboards", "pull", str(only_folder), "--folder", "node-exporter").exit_code == 0
    assert sorted(p.parent.name for p in only_folder.rglob("*.json")) == ["node-exporter"] * 5
    only_uid = tmp_path / "u"
    result = aetherops_cli("dashboards", "pull", str(only_uid), "--uid", "alertmanager-overview", "--output", "json")
    assert [Path(r["path"]).relative_to(only_uid).as_posix() for r in result.json()["files"]] == ["alertmanager-overview.json"]


def test_diff_reports_server_only_dashboards_in_managed_folders(aetherops_cli, grafana, tree):
    assert push(aetherops_cli, tree).exit_code == 0
    from aetherops.clients.grafana import GrafanaClient
    from aetherops.profiles import ServiceConfig
    from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN

    kube = by_uid(grafana)["3138fa155d5915769fbded898ac09fd9"]["folder_uid"]
    client = GrafanaClient(ServiceConfig(name="grafana", url=grafana.url, bearer_token=GRAFANA_TEST_TOKEN))
    client.save_dashboard({"dashboard": {"uid": "made-in-ui", "title": "Made in the UI"}, "folderUid": kube, "overwrite": False})
    client.save_dashboard({"dashboard": {"uid": "elsewhere", "title": "Elsewhere"}, "folderUid": "", "overwrite": False})
    client.close()
    result = aetherops_cli("dashboards", "diff", str(tree), "--output", "json")
    assert result.exit_code == 1
    assert [(r["uid"], r["action"]) for r in result.json()["items"] if r["action"] != "unchanged"] == [("made-in-ui", "delete")]
    assert "made-in-ui" in by_uid(grafana)
