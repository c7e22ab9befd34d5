"""aetherops backup / restore against the Grafana double, a real Prometheus (admin API on) and a real
Alertmanager: round trip, conflicts, dry run, failures midway, corruption, secrets, snapshots, prune,
archives and third-party components."""

from __future__ import annotations

import gzip
import hashlib
import json
import textwrap
from pathlib import Path

import httpx
import pytest

from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN

pytestmark = pytest.mark.servers


# ----------------------------------------------------------------------------- helpers
def run_backup(cli, base: Path, *args: str, expect: int = 0):
    result = cli("backup", "--dir", str(base), *args, "--output", "json")
    assert result.exit_code == expect, result
    return result.json() if expect in (0, 1) and result.stdout.strip() else None


def manifest_of(path: str | Path) -> dict:
    return json.loads((Path(path) / "MANIFEST.json").read_text(encoding="utf-8"))


def complete_backups(base: Path, profile: str = "stack") -> list[Path]:
    pdir = base / profile
    if not pdir.is_dir():
        return []
    return sorted(p for p in pdir.iterdir() if p.is_dir() and (p / "MANIFEST.json").exists())


def dashboards_state(double) -> dict:
    out = {}
    for rec in double.state["dashboards"]:
        data = {k: v for k, v in rec["data"].items() if k not in ("id", "version")}
        out[rec["uid"]] = {"folder": rec["folder_uid"], "data": data}
    return out


def folders_state(double) -> set:
    return {(f["uid"], f["title"], f.get("parent_uid") or "") for f in double.state["folders"]}


def datasources_state(double) -> dict:
    keys = ("uid", "name", "type", "url", "access", "basicAuth", "basicAuthUser", "isDefault", "jsonData")
    return {d["uid"]: {k: d.get(k) for k in keys} for d in double.state["datasources"]}


def changing_requests(double) -> list:
    return [r for r in double.request_log if r[0] not in ("GET", "HEAD")]


@pytest.fixture
def seeded(stack_profile, grafana_double):
    grafana_double.seed_demo()
    return grafana_double


# ----------------------------------------------------------------------------- backup
def test_backup_layout_manifest_and_summary(seeded, prometheus_server, aetherops_cli, tmp_path):
    base = tmp_path / "b"
    text = aetherops_cli("backup", "--dir", str(base))
    assert text.exit_code == 0, text
    [path] = complete_backups(base)
    # the short final block says where the backup landed and what it holds
    assert f"Backup complete: {path}" in text.stdout
    assert "6 dashboards" in text.stdout and "3 folders" in text.stdout and "2 datasources" in text.stdout
    assert "snapshot " in text.stdout

    m = manifest_of(path)
    assert m["profile"] == "stack" and m["complete"] is True and m["tool"] == "aetherops"
    assert m["servers"]["grafana"]["version"] == "11.2.0" and m["servers"]["grafana"]["url"] == seeded.url
    assert m["servers"]["prometheus"]["version"] and m["servers"]["alertmanager"]["version"]
    assert m["components"]["grafana"]["counts"]["dashboards"] == 6
    assert m["components"]["grafana"]["plugin"] == "backup"  # built-ins come through the hook like any plugin
    assert m["components"]["configs"]["status"] == "skipped"
    # one file per dashboard, in the folder tree (nested folder below its parent)
    assert (path / "grafana/dashboards/apps/apps-payments/payments-service.json").is_file()
    assert (path / "grafana/dashboards/general/blackbox-probes.json").is_file()
    doc = json.loads((path / "grafana/dashboards/infra/node-exporter.json").read_text(encoding="utf-8"))
    assert doc["meta"]["folderUid"] == "infra" and doc["meta"]["folderTitle"] == "Infrastructure" and doc["meta"]["version"] == 1
    # every file but the manifest is listed with its real size and sha256
    on_disk = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()} - {"MANIFEST.json"}
    assert on_disk == set(m["files"])
    for rel, info in m["files"].items():
        data = (path / rel).read_bytes()
        assert info == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}, rel
    restore_md = (path / "RESTORE.md").read_text(encoding="utf-8")
    assert "```bash" in restore_md and "```powershell" in restore_md and "aetherops -p stack restore" in restore_md
    assert not list((base / "stack").glob("*.partial"))


def _wait_for_samples(prometheus_server, timeout: float = 15) -> None:
    """Prometheus scrapes for the first time a few seconds after it starts; a snapshot before that is empty."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if httpx.get(f"{prometheus_server.url}/api/v1/query", params={"query": "up"}).json()["data"]["result"]:
            return
        time.sleep(0.25)
    pytest.fail("Prometheus scraped nothing")


def test_snapshot_is_taken_recorded_and_copied(seeded, prometheus_server, aetherops_cli, profile_factory, tmp_path):
    _wait_for_samples(prometheus_server)
    out = run_backup(aetherops_cli, tmp_path / "b", "--only", "prometheus")
    meta = out["components"]["prometheus"]["meta"]
    name = meta["snapshot"]
    assert name and meta["snapshot_copied"] is True
    server_copy = prometheus_server.workdir / "data" / "snapshots" / name
    assert not server_copy.exists() and meta["removed_from_server"] is True  # copied in, then removed from the server
    path = Path(out["path"])
    recorded = json.loads((path / "prometheus/snapshot.json").read_text(encoding="utf-8"))
    assert recorded["name"] == name and recorded["server"] == prometheus_server.url and recorded["copied"] is True
    files = manifest_of(path)["files"]
    snap_files = [rel for rel in files if rel.startswith(f"prometheus/snapshot/{name}/")]
    assert len(snap_files) == out["components"]["prometheus"]["counts"]["snapshot_files"] > 0
    assert any(rel.endswith("/meta.json") for rel in snap_files)  # a TSDB block

    # with remove_server_snapshot off, the server keeps its copy and the backup holds the same files
    profile_factory("keep", prometheus={"url": prometheus_server.url, "data_dir": str(prometheus_server.workdir / "data")},
                    backup={"remove_server_snapshot": False})
    kept = aetherops_cli("-p", "keep", "backup", "--dir", str(tmp_path / "b"), "--only", "prometheus", "-o", "json").json()
    kept_name = kept["components"]["prometheus"]["meta"]["snapshot"]
    server_copy = prometheus_server.workdir / "data" / "snapshots" / kept_name
    assert server_copy.is_dir()  # the server really made it
    source_files = {p.relative_to(server_copy).as_posix() for p in server_copy.rglob("*") if p.is_file()}
    kept_files = set(manifest_of(kept["path"])["files"])
    assert source_files and {f"prometheus/snapshot/{kept_name}/{rel}" for rel in source_files} <= kept_files
    # hard-linked where possible: the backup's copy is the server's file
    some = sorted(source_files)[0]
    assert (server_copy / some).samefile(Path(kept["path"]) / "prometheus/snapshot" / kept_name / some)
    assert "prometheus/prometheus.yml" in files and "scrape_configs" in (path / "prometheus/prometheus.yml").read_text(encoding="utf-8")


def test_snapshot_without_admin_api_is_a_warning_not_a_failure(profile_factory, aetherops_cli, tmp_path):
    from aetherops.testing.servers import start_prometheus

    prom = start_prometheus(tmp_path / "prom", admin_api=False)
    try:
        profile_factory("noadmin", prometheus={"url": prom.url, "data_dir": str(prom.workdir / "data")})
        out = aetherops_cli("-p", "noadmin", "backup", "--dir", str(tmp_path / "b"), "-o", "json")
    finally:
        prom.stop()
    assert out.exit_code == 0, out
    comp = out.json()["components"]["prometheus"]
    assert comp["meta"]["snapshot"] is None
    assert any("admin APIs disabled" in w and "--web.enable-admin-api" in w for w in comp["warnings"])
    assert "admin APIs disabled" in out.stderr
    assert (Path(out.json()["path"]) / "prometheus/prometheus.yml").is_file()


def test_archive_sha256_matches(seeded, aetherops_cli, tmp_path):
    out = run_backup(aetherops_cli, tmp_path / "b", "--only", "grafana", "--archive")
    archive = Path(out["archive"]["path"])
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert out["archive"]["sha256"] == digest
    sidecar = archive.with_name(archive.name + ".sha256").read_text(encoding="utf-8").split()
    assert sidecar == [digest, archive.name]
    ok = aetherops_cli("backup", "verify", str(archive), "--output", "json")
    assert ok.exit_code == 0 and ok.json()["ok"] is True, ok
    # the archive restores like the folder (members under <stamp>/, checked against the .sha256 first)
    seeded.reset()
    plan = aetherops_cli("restore", str(archive), "--dry-run", "--only", "grafana", "-o", "json")
    assert plan.exit_code == 0, plan
    assert sum(i["action"] == "create" and i["kind"] == "dashboard" for i in plan.json()["items"]) == 6
    # a flipped byte in the archive is caught by its sha256
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    assert aetherops_cli("backup", "verify", str(archive)).exit_code == 1


def test_transient_failures_are_retried(seeded, aetherops_cli, tmp_path):
    seeded.inject_fault("/api/dashboards/uid/node-exporter", status=503, count=1)
    out = run_backup(aetherops_cli, tmp_path / "b", "--only", "grafana")
    assert out["complete"] and out["components"]["grafana"]["counts"]["dashboards"] == 6
    assert ("GET", "/api/dashboards/uid/node-exporter", 503) in seeded.request_log


def test_server_failing_midway_leaves_no_complete_looking_backup(seeded, aetherops_cli, tmp_path):
    base = tmp_path / "b"
    seeded.inject_fault("/api/dashboards/uid/payments-service", status=503, count=None)
    result = aetherops_cli("backup", "--dir", str(base))
    assert result.exit_code == 3, result
    assert "payments-service" in result.stderr and "grafana" in result.stderr and seeded.url in result.stderr
    assert complete_backups(base) == []
    assert not [p for p in (base / "stack").iterdir() if p.is_dir()]  # no .partial left either
    assert aetherops_cli("backup", "list", "--dir", str(base), "--output", "json").json() == []


def test_keep_going_lists_the_missing_dashboard_and_exits_1(seeded, aetherops_cli, tmp_path):
    seeded.inject_fault("/api/dashboards/uid/payments-service", status=503, count=None)
    out = run_backup(aetherops_cli, tmp_path / "b", "--only", "grafana", "--keep-going", expect=1)
    assert out["complete"] is False and [m["id"] for m in out["missing"]] == ["payments-service"]
    m = manifest_of(out["path"])
    assert m["complete"] is False and m["missing"][0]["id"] == "payments-service"
    assert m["components"]["grafana"]["counts"]["dashboards"] == 5
    plan = aetherops_cli("restore", out["path"], "--dry-run", "-o", "json")
    assert plan.exit_code == 0, plan
    assert any("incomplete" in w and "payments-service" in w for w in plan.json()["warnings"])


def test_configured_service_down_exits_3_with_url(profile_factory, aetherops_cli, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    profile_factory("down", grafana={"url": url, "timeout": 1, "retries": 1})
    result = aetherops_cli("-p", "down", "backup", "--dir", str(tmp_path / "b"))
    assert result.exit_code == 3, result
    assert url in result.stderr
    assert complete_backups(tmp_path / "b", "down") == []


def test_components_not_in_the_profile_are_skipped_with_a_note(grafana_double, profile_factory, aetherops_cli, tmp_path, monkeypatch):
    grafana_double.seed_demo()
    monkeypatch.setenv("GTOKEN", GRAFANA_TEST_TOKEN)
    profile_factory("gonly", grafana={"url": grafana_double.url, "auth": {"token_env": "GTOKEN"}})
    out = aetherops_cli("-p", "gonly", "backup", "--dir", str(tmp_path / "b"), "--output", "json")
    assert out.exit_code == 0, out
    comps = out.json()["components"]
    assert comps["prometheus"] == {**comps["prometheus"], "status": "skipped", "reason": "the profile has no prometheus.url"}
    assert comps["alertmanager"]["status"] == "skipped" and comps["grafana"]["status"] == "ok"
    m = manifest_of(out.json()["path"])
    assert m["components"]["prometheus"]["status"] == "skipped" and "prometheus" not in m["servers"]


def test_extras_not_offered_are_skipped_with_a_note(profile_factory, aetherops_cli, tmp_path, monkeypatch):
    from aetherops.testing.grafana_double import GrafanaDouble

    with GrafanaDouble(token=GRAFANA_TEST_TOKEN, features=set()) as bare:
        bare.add_folder("Team", uid="team")
        bare.add_dashboard({"uid": "d1", "title": "D1", "panels": []}, folder_uid="team")
        monkeypatch.setenv("GTOKEN", GRAFANA_TEST_TOKEN)
        profile_factory("bare", grafana={"url": bare.url, "auth": {"token_env": "GTOKEN"}})
        out = aetherops_cli("-p", "bare", "backup", "--dir", str(tmp_path / "b"), "--only", "grafana", "--output", "json")
    assert out.exit_code == 0, out
    grafana = out.json()["components"]["grafana"]
    assert grafana["counts"] == {"dashboards": 1, "datasources": 0, "folders": 1}
    assert sum("skipped: the server does not offer them (HTTP 404)" in n for n in grafana["notes"]) == 3
    files = manifest_of(out.json()["path"])["files"]
    assert "grafana/dashboards/team/d1.json" in files and "grafana/alert-rules.json" not in files


def test_only_and_exclude_select_components(seeded, aetherops_cli, tmp_path):
    out = run_backup(aetherops_cli, tmp_path / "b", "--only", "grafana,silences", "--exclude", "silences")
    assert list(out["components"]) == ["grafana"]
    bad = aetherops_cli("backup", "--dir", str(tmp_path / "b"), "--only", "nope")
    assert bad.exit_code == 2 and "nope" in bad.stderr


# ----------------------------------------------------------------------------- verify / list / prune
def test_corrupted_file_fails_verify_and_restore(seeded, aetherops_cli, tmp_path):
    out = run_backup(aetherops_cli, tmp_path / "b", "--only", "grafana")
    path = Path(out["path"])
    target = path / "grafana/dashboards/infra/node-exporter.json"
    target.write_text(target.read_text(encoding="utf-8").replace("CPU busy", "CPU idle"), encoding="utf-8")
    (path / "grafana/folders.json").unlink()
    result = aetherops_cli("backup", "verify", str(path))
    assert result.exit_code == 1
    assert "differs: grafana/dashboards/infra/node-exporter.json" in result.stdout
    assert "missing: grafana/folders.json" in result.stdout
    seeded.reset()
    before = len(seeded.request_log)
    restore = aetherops_cli("restore", str(path))
    assert restore.exit_code == 1 and "fails verification" in restore.stderr and "node-exporter.json" in restore.stderr
    assert changing_requests(seeded) == [] and len(seeded.request_log) == before
    listed = aetherops_cli("backup", "list", "--dir", str(tmp_path / "b"), "--output", "json").json()
    assert listed[0]["verified"] in ("FAILED", "damaged")


def test_prune_keeps_the_newest_verified_backup(seeded, aetherops_cli, tmp_path):
    base = tmp_path / "b"
    paths = []
    for _ in range(3):
        paths.append(Path(run_backup(aetherops_cli, base, "--only", "grafana")["path"]))
    newest = paths[-1]
    (newest / "grafana/datasources.json").write_text("{}", encoding="utf-8")  # the newest no longer verifies
    result = aetherops_cli("backup", "prune", "--keep", "1", "--dir", str(base), "--output", "json")
    assert result.exit_code == 0, result
    data = result.json()
    assert data["protected"] == str(paths[1])
    assert sorted(data["kept"]) == sorted([str(paths[1]), str(newest)])
    assert data["deleted"] == [str(paths[0])]
    assert not paths[0].exists() and paths[1].exists() and newest.exists()
    listed = {r["name"]: r["verified"] for r in aetherops_cli("backup", "list", "--dir", str(base), "-o", "json").json()}
    assert listed == {paths[1].name: "yes", newest.name: "FAILED"}


def test_prune_needs_keep(seeded, aetherops_cli, tmp_path):
    result = aetherops_cli("backup", "prune", "--dir", str(tmp_path / "b"))
    assert result.exit_code == 2 and "backup.keep" in result.stderr


# ----------------------------------------------------------------------------- restore
def test_full_round_trip(seeded, aetherops_cli, tmp_path):
    base = tmp_path / "b"
    before = (dashboards_state(seeded), folders_state(seeded), datasources_state(seeded))
    first = run_backup(aetherops_cli, base, "--only", "grafana")
    seeded.reset()
    assert seeded.state["dashboards"] == []
    result = aetherops_cli("restore", first["path"], "--output", "json")
    assert result.exit_code == 0, result
    data = result.json()
    assert data["summary"].get("create", 0) >= 6 + 3 + 2 and data["conflicts"] == 0 and data["errors"] == 0
    assert data["safety_backup"] and Path(data["safety_backup"], "MANIFEST.json").is_file()
    assert manifest_of(data["safety_backup"])["kind"] == "safety"
    assert any("re-enter basicAuthPassword" in w for w in data["warnings"])
    assert (dashboards_state(seeded), folders_state(seeded), datasources_state(seeded)) == before
    # a second backup holds the same dashboards, folders and datasources (modulo id/version)
    second = run_backup(aetherops_cli, base, "--only", "grafana")

    def content(path):
        p = Path(path) / "grafana"
        dashes = {}
        for f in (p / "dashboards").rglob("*.json"):
            d = json.loads(f.read_text(encoding="utf-8"))
            dashes[f.relative_to(p).as_posix()] = ({k: v for k, v in d["dashboard"].items() if k not in ("id", "version")},
                                                   d["meta"]["folderUid"])
        folders = json.loads((p / "folders.json").read_text(encoding="utf-8"))
        ds = [{k: v for k, v in d.items() if k not in ("id", "version", "secure_fields")}  # secrets are never backed up
              for d in json.loads((p / "datasources.json").read_text(encoding="utf-8"))["datasources"]]
        return dashes, folders, ds

    assert content(first["path"]) == content(second["path"])
    # and restoring again changes nothing
    again = aetherops_cli("restore", second["path"], "--only", "grafana", "--dry-run", "--output", "json").json()
    assert {i["action"] for i in again["items"] if i["kind"] in ("dashboard", "folder", "datasource")} == {"unchanged"}


def test_dry_run_changes_nothing(seeded, aetherops_cli, tmp_path):
    out = run_backup(aetherops_cli, tmp_path / "b", "--only", "grafana")
    seeded.reset()
    result = aetherops_cli("restore", out["path"], "--dry-run", "--output", "json")
    assert result.exit_code == 0, result
    plan = result.json()
    assert plan["dry_run"] is True and plan["safety_backup"] is None
    assert {i["name"].split("/")[-1] for i in plan["items"] if i["kind"] == "dashboard" and i["action"] == "create"} >= {
        "Payments Service", "Node Exporter Overview"}
    assert changing_requests(seeded) == []
    assert seeded.state["dashboards"] == [] and seeded.state["folders"] == []
    assert len(complete_backups(tmp_path / "b")) == 1  # no safety backup either


def test_conflict_is_skipped_unless_forced(seeded, aetherops_cli, tmp_path):
    out = run_backup(aetherops_cli, tmp_path / "b", "--only", "grafana")
    original = seeded.get_dashboard("node-exporter")
    edited = {**original, "title": "Node Exporter (edited in the UI)"}
    seeded.add_dashboard(edited, folder_uid="infra")  # version 1 -> 2, like a save in the UI
    result = aetherops_cli("restore", out["path"], "--only", "grafana", "--diff", "--dry-run", "--output", "json")
    assert result.exit_code == 0, result
    items = {i["name"]: i for i in result.json()["items"] if i["kind"] == "dashboard"}
    conflict = items["Infrastructure/Node Exporter Overview"]
    assert conflict["action"] == "conflict" and "server v2" in conflict["detail"]
    assert "-  \"title\": \"Node Exporter (edited in the UI)\"" in conflict["diff"]
    assert items["Infrastructure/Prometheus Self-Monitoring"]["action"] == "unchanged"

    result = aetherops_cli("restore", out["path"], "--only", "grafana")
    assert result.exit_code == 1, result
    assert "conflict" in result.stdout
    assert seeded.get_dashboard("node-exporter")["title"] == "Node Exporter (edited in the UI)"

    forced = aetherops_cli("restore", out["path"], "--only", "grafana", "--force", "--output", "json")
    assert forced.exit_code == 0, forced
    assert seeded.get_dashboard("node-exporter")["title"] == original["title"]
    assert seeded.get_dashboard("node-exporter")["version"] == 3
    # the safety backup holds the edited version that --force overwrote
    safety = Path(forced.json()["safety_backup"])
    saved = json.loads((safety / "grafana/dashboards/infra/node-exporter.json").read_text(encoding="utf-8"))
    assert saved["dashboard"]["title"] == "Node Exporter (edited in the UI)"


def test_update_posts_the_stored_version_without_overwrite(seeded, aetherops_cli, tmp_path):
    out = run_backup(aetherops_cli, tmp_path / "b", "--only", "grafana")
    # same uid and version on the server, other content (e.g. recreated by hand after a wipe)
    seeded.reset()
    seeded.add_folder("Infrastructure", uid="infra")
    seeded.add_dashboard({"uid": "node-exporter", "title": "Node Exporter Overview", "panels": []}, folder_uid="infra")
    result = aetherops_cli("restore", out["path"], "--only", "grafana", "--output", "json")
    assert result.exit_code == 0, result
    item = next(i for i in result.json()["items"] if i["name"].endswith("Node Exporter Overview"))
    assert item["action"] == "update" and item["applied"]
    assert len(seeded.get_dashboard("node-exporter")["panels"]) == 4


def test_provisioned_dashboards_are_skipped(seeded, aetherops_cli, tmp_path):
    out = run_backup(aetherops_cli, tmp_path / "b", "--only", "grafana")
    seeded.reset()
    seeded.add_dashboard({"uid": "blackbox-probes", "title": "Blackbox (from files)", "panels": []}, provisioned=True)
    result = aetherops_cli("restore", out["path"], "--only", "grafana", "-o", "json")
    assert result.exit_code == 0, result
    item = next(i for i in result.json()["items"] if i["name"] == "General/Blackbox Probes")
    assert item["action"] == "skip" and "provisioned" in item["detail"] and not item["applied"]
    assert seeded.get_dashboard("blackbox-probes")["title"] == "Blackbox (from files)"
    assert seeded.get_dashboard("node-exporter") is not None  # the others were restored


def test_folder_map_and_to_profile_map_datasources(seeded, aetherops_cli, profile_factory, tmp_path, monkeypatch):
    from aetherops.testing.grafana_double import GrafanaDouble

    out = run_backup(aetherops_cli, tmp_path / "b", "--only", "grafana")
    with GrafanaDouble(token=GRAFANA_TEST_TOKEN) as staging:
        staging.add_datasource({"name": "Prom staging", "uid": "prom-staging", "type": "prometheus", "url": "http://s:9090"})
        monkeypatch.setenv("STAGING_TOKEN", GRAFANA_TEST_TOKEN)
        profile_factory("staging", grafana={"url": staging.url, "auth": {"token_env": "STAGING_TOKEN"}},
                        backup={"datasource_uid_map": {"prometheus": "prom-staging"}})
        result = aetherops_cli("restore", out["path"], "--to-profile", "staging", "--only", "grafana",
                               "--folder-map", "infra=infra-staging", "--output", "json")
        assert result.exit_code == 0, result
        assert result.json()["target_profile"] == "staging"
        dash = staging.get_dashboard("node-exporter")
        uids = {p["datasource"]["uid"] for p in dash["panels"]} | {t["datasource"]["uid"] for p in dash["panels"] for t in p["targets"]}
        assert uids == {"prom-staging"}
        folders = {f["uid"]: f["title"] for f in staging.state["folders"]}
        assert folders["infra-staging"] == "Infrastructure" and "infra" not in folders
        assert {r["folder_uid"] for r in staging.state["dashboards"] if r["uid"] == "node-exporter"} == {"infra-staging"}
        ds = {d["uid"] for d in staging.state["datasources"]}
        assert ds == {"prom-staging", "alertmanager"}  # prometheus was mapped, not created
    assert seeded.get_dashboard("node-exporter")["panels"][0]["datasource"]["uid"] == "prometheus"  # source untouched


# ----------------------------------------------------------------------------- configs and silences
def test_configs_backup_and_restore_to_a_directory(stack_profile, profile_factory, prometheus_server, alertmanager_server,
                                                  grafana_double, aetherops_cli, tmp_path, monkeypatch):
    src = tmp_path / "monitoring"
    (src / "rules").mkdir(parents=True)
    (src / "prometheus.yml").write_text("global: {scrape_interval: 15s}\n", encoding="utf-8")
    (src / "rules" / "a.yml").write_text("groups: []\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    profile_factory("cfg", backup={"configs": ["monitoring/*.yml", "monitoring/rules/*.yml"]})
    out = aetherops_cli("-p", "cfg", "backup", "--dir", str(tmp_path / "b"), "--only", "configs", "-o", "json")
    assert out.exit_code == 0, out
    path = Path(out.json()["path"])
    assert out.json()["components"]["configs"]["counts"] == {"files": 2}
    assert (path / "configs/files/monitoring/rules/a.yml").read_text(encoding="utf-8") == "groups: []\n"

    (src / "prometheus.yml").write_text("changed\n", encoding="utf-8")
    plan = aetherops_cli("-p", "cfg", "restore", str(path), "--only", "configs", "-o", "json").json()
    assert {i["action"] for i in plan["items"]} == {"skip"}  # never over the originals without --force
    assert (src / "prometheus.yml").read_text(encoding="utf-8") == "changed\n"
    dest = tmp_path / "restored"
    done = aetherops_cli("-p", "cfg", "restore", str(path), "--only", "configs", "--configs-to", str(dest))
    assert done.exit_code == 0, done
    assert (dest / "monitoring/prometheus.yml").read_text(encoding="utf-8") == "global: {scrape_interval: 15s}\n"
    forced = aetherops_cli("-p", "cfg", "restore", str(path), "--only", "configs", "--force")
    assert forced.exit_code == 0, forced
    assert (src / "prometheus.yml").read_text(encoding="utf-8") == "global: {scrape_interval: 15s}\n"


def test_silences_are_recreated_when_asked(seeded, alertmanager_server, aetherops_cli, tmp_path):
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    body = {"matchers": [{"name": "alertname", "value": "Noisy", "isRegex": False, "isEqual": True}],
            "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=2)).isoformat(), "createdBy": "ops", "comment": "maintenance"}
    sid = httpx.post(f"{alertmanager_server.url}/api/v2/silences", json=body).json()["silenceID"]
    out = run_backup(aetherops_cli, tmp_path / "b", "--only", "silences")
    assert out["components"]["silences"]["counts"] == {"silences": 1}
    httpx.delete(f"{alertmanager_server.url}/api/v2/silence/{sid}")
    plain = aetherops_cli("restore", out["path"], "--output", "json").json()
    assert "silences" not in plain["components"]  # only when asked
    result = aetherops_cli("restore", out["path"], "--only", "silences", "--output", "json")
    assert result.exit_code == 0, result
    active = [s for s in httpx.get(f"{alertmanager_server.url}/api/v2/silences").json() if s["status"]["state"] == "active"]
    assert [(s["comment"], s["matchers"][0]["value"]) for s in active] == [("maintenance", "Noisy")]
    again = aetherops_cli("restore", out["path"], "--only", "silences", "--output", "json").json()
    assert [i["action"] for i in again["items"]] == ["unchanged"]


# ----------------------------------------------------------------------------- secrets
def test_no_secret_reaches_any_written_file(grafana_double, prometheus_server, profile_factory, aetherops_cli, tmp_path, monkeypatch):
    from aetherops import redact
    from aetherops.testing.servers import start_alertmanager

    slack = "https://hooks.slack.com/services/T000/B000/aetheropsSlackSecret123"
    webhook = "https://hooks.example.com/notify?token=aetheropsWebhookSecret456"
    config = {
        "global": {"slack_api_url": slack, "resolve_timeout": "5m"},
        "route": {"receiver": "team"},
        "receivers": [{"name": "team", "slack_configs": [{"channel": "#ops"}], "webhook_configs": [{"url": webhook}]}],
    }
    grafana_double.seed_demo()  # a datasource with secureJsonData basicAuthPassword
    ds_secret = grafana_double.get_datasource_secrets("alertmanager")["basicAuthPassword"]
    am = start_alertmanager(tmp_path / "am", config=config)
    try:
        monkeypatch.setenv("GTOKEN", GRAFANA_TEST_TOKEN)
        (tmp_path / "conf").mkdir()
        (tmp_path / "conf" / "zz-leak.yml").write_text(f"grafana_token: {GRAFANA_TEST_TOKEN}\n", encoding="utf-8")
        monkeypatch.chdir(tmp_path)
        profile_factory("sec", grafana={"url": grafana_double.url, "auth": {"token_env": "GTOKEN"}},
                        alertmanager={"url": am.url}, prometheus={"url": prometheus_server.url},
                        backup={"configs": ["conf/*.yml"]})
        status = httpx.get(f"{am.url}/api/v2/status").json()["config"]["original"]
        assert "aetheropsWebhookSecret456" in status  # the server does hand this one out
        # grafana not part of the run, nothing resolved yet in this process: the token is masked all the same
        monkeypatch.setattr(redact, "_SECRETS", set())
        only_configs = aetherops_cli("-p", "sec", "backup", "--dir", str(tmp_path / "b"), "--only", "configs", "-o", "json")
        assert only_configs.exit_code == 0, only_configs
        assert "zz-leak.yml" in only_configs.stderr and "masked" in only_configs.stderr
        result = aetherops_cli("-p", "sec", "backup", "--dir", str(tmp_path / "b"), "--archive", "-o", "json")
        assert result.exit_code == 0, result
        path = Path(result.json()["path"])
        seeded_safety = aetherops_cli("-p", "sec", "restore", str(path), "--only", "grafana", "--force")
        assert seeded_safety.exit_code in (0, 1), seeded_safety
    finally:
        am.stop()
    secrets = [GRAFANA_TEST_TOKEN, ds_secret, "aetheropsSlackSecret123", "aetheropsWebhookSecret456"]
    files = [p for p in (tmp_path / "b").rglob("*") if p.is_file()]
    assert len(files) > 15
    for f in files:
        data = f.read_bytes()
        if f.name.endswith(".tar.gz"):
            data = gzip.decompress(data)
        for secret in secrets:
            assert secret.encode() not in data, f"{secret[:8]}... leaked into {f}"
    am_yaml = (path / "alertmanager/alertmanager.yml").read_text(encoding="utf-8")
    assert "<redacted by aetherops>" in am_yaml and "#ops" in am_yaml
    ds = json.loads((path / "grafana/datasources.json").read_text(encoding="utf-8"))
    assert {d["name"]: d["secure_fields"] for d in ds["datasources"]}["Alertmanager"] == ["basicAuthPassword"]
    for stream in (result.stdout, result.stderr):
        assert not any(s in stream for s in secrets)


# ----------------------------------------------------------------------------- third-party components
THIRD_PARTY = '''
    import aetherops

    CALLS = []

    class LokiRules:
        name = "loki"
        description = "Loki ruler rules (test plugin)"

        def backup(self, job):
            CALLS.append("backup")
            job.write_text("rules/team-a.yaml", "groups: []\\n")
            job.write_json("index.json", {"tenants": ["team-a"]})
            job.count("rule_files")

        def restore(self, job):
            job.plan("rules", "team-a", "manual", "load with lokitool: " + job.read_text("rules/team-a.yaml").strip())

    class Broken:
        name = "broken"
        default = False

        def backup(self, job):
            job.write_text("half.txt", "x")
            raise RuntimeError("disk on fire")

    @aetherops.hookimpl
    def aetherops_backup_components(context):
        return [LokiRules(), Broken()]
'''


@pytest.fixture
def loki_plugin(tmp_path, monkeypatch):
    mod = tmp_path / "plugmods"
    mod.mkdir()
    (mod / "loki_backup_plugin.py").write_text(textwrap.dedent(THIRD_PARTY), encoding="utf-8")
    monkeypatch.syspath_prepend(str(mod))
    return "loki_backup_plugin"


def test_third_party_component_is_called_and_in_the_manifest(seeded, loki_plugin, aetherops_cli, tmp_path):
    result = aetherops_cli("--plugin", loki_plugin, "backup", "--dir", str(tmp_path / "b"), "--only", "loki,grafana", "-o", "json")
    assert result.exit_code == 0, result
    path = Path(result.json()["path"])
    m = manifest_of(path)
    assert {"loki/rules/team-a.yaml", "loki/index.json"} <= set(m["files"])
    assert m["components"]["loki"]["counts"] == {"rule_files": 1}
    assert m["components"]["loki"]["plugin"] == loki_plugin
    assert aetherops_cli("backup", "verify", str(path)).exit_code == 0
    plan = aetherops_cli("--plugin", loki_plugin, "restore", str(path), "--only", "loki", "--dry-run", "-o", "json").json()
    assert plan["items"] == [{"component": "loki", "kind": "rules", "name": "team-a", "action": "manual",
                              "detail": "load with lokitool: groups: []", "applied": False}]


def test_a_failing_component_fails_the_backup(seeded, loki_plugin, aetherops_cli, tmp_path):
    base = tmp_path / "b"
    result = aetherops_cli("--plugin", loki_plugin, "backup", "--dir", str(base), "--only", "grafana,broken")
    assert result.exit_code == 1, result
    assert "broken" in result.stderr and "disk on fire" in result.stderr
    assert complete_backups(base) == [] and not list((base / "stack").glob("*.partial"))


# ----------------------------------------------------------------------------- HTTP paths
def test_backup_goes_through_grafana_client_when_a_proxy_applies(seeded, aetherops_cli, tmp_path, monkeypatch):
    from aetherops_plugins.backup.components import fastget

    def no_fast(config):
        raise AssertionError("FastGet must not be used when a proxy applies")

    monkeypatch.setattr(fastget, "usable", lambda config: False)
    monkeypatch.setattr(fastget, "FastGet", no_fast)
    seeded.inject_fault("/api/dashboards/uid/blackbox-probes", status=502, count=1)  # retried by GrafanaService.call
    out = run_backup(aetherops_cli, tmp_path / "b", "--only", "grafana")
    counts = out["components"]["grafana"]["counts"]
    assert counts["dashboards"] == 6 and counts["folders"] == 3 and counts["library_panels"] == 1
    doc = json.loads((Path(out["path"]) / "grafana/dashboards/apps/apps-payments/payments-service.json").read_text(encoding="utf-8"))
    assert doc["meta"]["folderUid"] == "apps-payments"


def test_proxy_detection(monkeypatch):
    from aetherops.profiles import ServiceConfig
    from aetherops_plugins.backup.components.fastget import usable

    config = ServiceConfig(name="grafana", url="http://grafana.example.com:3000")
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert usable(config)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example.com:3128")
    monkeypatch.setenv("http_proxy", "http://proxy.example.com:3128")
    assert not usable(config)
    monkeypatch.setenv("NO_PROXY", "grafana.example.com")
    monkeypatch.setenv("no_proxy", "grafana.example.com")
    assert usable(config)


@pytest.mark.parametrize("version, expected", [("11.2.0", "conflict"), ("12.1.0", "create")])
def test_same_title_other_uid_depends_on_the_grafana_version(version, expected, profile_factory, aetherops_cli, tmp_path, monkeypatch):
    from aetherops.testing.grafana_double import GrafanaDouble

    monkeypatch.setenv("GTOKEN", GRAFANA_TEST_TOKEN)
    with GrafanaDouble(token=GRAFANA_TEST_TOKEN, grafana_version=version) as double:
        profile_factory("g", grafana={"url": double.url, "auth": {"token_env": "GTOKEN"}})
        double.add_folder("Ops", uid="ops")
        double.add_dashboard({"uid": "orig", "title": "Latency", "panels": []}, folder_uid="ops")
        out = aetherops_cli("-p", "g", "backup", "--dir", str(tmp_path / "b"), "--only", "grafana", "-o", "json")
        assert out.exit_code == 0, out
        double.reset()
        double.add_folder("Ops", uid="ops")
        double.add_dashboard({"uid": "someone-else", "title": "Latency", "panels": [{"id": 1}]}, folder_uid="ops")
        result = aetherops_cli("-p", "g", "restore", out.json()["path"], "--only", "grafana", "-o", "json")
        item = next(i for i in result.json()["items"] if i["kind"] == "dashboard")
        assert item["action"] == expected, item
        if expected == "conflict":  # Grafana < 12 refuses a second "Latency" in the folder: 412 name-exists
            assert result.exit_code == 1 and "same name" in item["detail"] and double.get_dashboard("orig") is None
        else:
            assert result.exit_code == 0 and double.get_dashboard("orig")["title"] == "Latency"


# ----------------------------------------------------------------------------- QA findings (issue 4 follow-up)
def test_prune_never_counts_safety_or_partial_backups(seeded, aetherops_cli, tmp_path):
    base = tmp_path / "b"
    fulls = [Path(run_backup(aetherops_cli, base)["path"]) for _ in range(3)]
    assert all(manifest_of(p)["scope"] == "full" for p in fulls)
    seeded.reset()  # restore then changes Grafana: it takes a safety backup first (kind safety, beside the backups)
    restored = aetherops_cli("restore", str(fulls[0]), "--only", "grafana", "-o", "json")
    assert restored.exit_code == 0, restored
    safety = Path(restored.json()["safety_backup"])
    assert safety.parent == base / "stack" and manifest_of(safety)["kind"] == "safety"
    partial = Path(run_backup(aetherops_cli, base, "--only", "silences")["path"])  # the newest one, --only
    assert manifest_of(partial)["scope"] == "partial"

    result = aetherops_cli("backup", "prune", "--keep", "1", "--dir", str(base), "--dry-run", "-o", "json")
    assert result.exit_code == 0, result
    data = result.json()
    assert data["protected"] == str(fulls[2]) and data["protected_scope"] == "full"
    assert sorted(data["kept"]) == sorted([str(partial), str(fulls[2])])
    assert sorted(data["deleted"]) == sorted([str(fulls[0]), str(fulls[1])])
    assert data["safety_kept"] == [str(safety)] and str(safety) not in data["deleted"]
    assert all(p.exists() for p in [*fulls, safety, partial])  # dry run
    text = aetherops_cli("backup", "prune", "--keep", "1", "--dir", str(base), "--dry-run")
    assert text.exit_code == 0 and f"would delete: {fulls[0]}" in text.stdout, text
    assert f"newest verified full: {fulls[2]}" in text.stdout and "1 safety backup(s) kept (--include-safety" in text.stdout

    # verify without PATH checks the newest full backup, not the safety or the --only one
    verified = aetherops_cli("backup", "verify", "--dir", str(base), "-o", "json")
    assert verified.exit_code == 0 and verified.json()["path"] == str(fulls[2]), verified

    done = aetherops_cli("backup", "prune", "--keep", "1", "--dir", str(base), "-o", "json")
    assert done.exit_code == 0, done
    assert safety.exists() and fulls[2].exists() and partial.exists() and not fulls[0].exists()
    kinds = {r["name"]: r["kind"] for r in aetherops_cli("backup", "list", "--dir", str(base), "-o", "json").json()}
    assert kinds == {fulls[2].name: "backup", partial.name: "backup", safety.name: "safety"}
    # safety backups go only when asked, and then by their own count
    only_safety = aetherops_cli("backup", "prune", "--keep", "1", "--dir", str(base), "--include-safety", "--dry-run", "-o", "json")
    assert only_safety.json()["safety_kept"] == [str(safety)] and only_safety.json()["deleted"] == []


def test_profile_secrets_are_masked_whichever_components_run(grafana_double, profile_factory, aetherops_cli, tmp_path, monkeypatch):
    from aetherops import redact

    src = tmp_path / "sandbox"
    src.mkdir()
    (src / "zz-leak.yml").write_text(f"grafana_token: {GRAFANA_TEST_TOKEN}\nother: kept\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GTOKEN", GRAFANA_TEST_TOKEN)
    profile_factory("leak", grafana={"url": grafana_double.url, "auth": {"token_env": "GTOKEN"}},
                    backup={"configs": ["sandbox/*.yml"]})
    for selection in (["--only", "configs"], ["--exclude", "grafana"]):
        monkeypatch.setattr(redact, "_SECRETS", set())  # nothing resolved yet in this process
        out = aetherops_cli("-p", "leak", "backup", "--dir", str(tmp_path / "b"), *selection, "-o", "json")
        assert out.exit_code == 0, out
        copy = Path(out.json()["path"]) / "configs/files/sandbox/zz-leak.yml"
        assert copy.read_text(encoding="utf-8") == 'grafana_token: "***"\nother: kept\n', selection  # still YAML
        assert "zz-leak.yml: a secret of the profile was masked" in out.stderr
        assert aetherops_cli("backup", "verify", out.json()["path"]).exit_code == 0  # hashed as written


def test_restore_target_defaults_to_the_backups_profile(grafana_double, profile_factory, aetherops_cli, tmp_path, monkeypatch):
    from aetherops.testing.grafana_double import GrafanaDouble

    grafana_double.seed_demo()
    monkeypatch.setenv("GTOKEN", GRAFANA_TEST_TOKEN)
    with GrafanaDouble(token=GRAFANA_TEST_TOKEN) as other:
        profile_factory("prodlike", grafana={"url": grafana_double.url, "auth": {"token_env": "GTOKEN"}})
        profile_factory("other", grafana={"url": other.url, "auth": {"token_env": "GTOKEN"}})
        out = aetherops_cli("-p", "prodlike", "backup", "--dir", str(tmp_path / "b"), "--only", "grafana", "-o", "json")
        assert out.exit_code == 0, out
        path = out.json()["path"]
        grafana_double.reset()
        # another profile selected explicitly: refused, naming --to-profile
        for args, env in ((["-p", "other"], None), ([], {"AETHEROPS_PROFILE": "other"})):
            refused = aetherops_cli(*args, "restore", path, "--dry-run", env=env)
            assert refused.exit_code == 2, refused
            assert "--to-profile other" in refused.stderr and "prodlike" in refused.stderr
        # nothing selected: the backup's own profile
        plain = aetherops_cli("restore", path, "-o", "json")
        assert plain.exit_code == 0, plain
        assert plain.json()["target_profile"] == "prodlike" and plain.json()["backup_profile"] == "prodlike"
        assert grafana_double.get_dashboard("node-exporter") is not None and other.state["dashboards"] == []
        # said explicitly: into the other stack
        into = aetherops_cli("-p", "other", "restore", path, "--to-profile", "other", "-o", "json")
        assert into.exit_code == 0, into
        assert other.get_dashboard("node-exporter") is not None


def test_restore_exits_1_when_planned_items_are_not_applied(seeded, aetherops_cli, tmp_path):
    out = run_backup(aetherops_cli, tmp_path / "b", "--only", "grafana")
    seeded.reset()
    seeded.inject_fault("/api/library-elements", status=404, count=None, method="POST")
    seeded.inject_fault("/api/v1/provisioning/contact-points", status=404, count=None, method="POST")
    result = aetherops_cli("restore", out["path"], "--only", "grafana", "-o", "json")
    assert result.exit_code == 1, result
    data = result.json()
    assert data["complete"] is False
    assert sorted((i["kind"], i["name"], i["planned"]) for i in data["not_applied"]) == [
        ("contact point", "oncall", "create"), ("library panel", "Shared CPU panel", "create")]
    assert [r["uid"] for r in seeded.state["alert_rules"]] == ["high-error-rate"]  # the rest went through
    text = aetherops_cli("restore", out["path"], "--only", "grafana")
    assert text.exit_code == 1 and "Restore INCOMPLETE" in text.stdout and "NOT applied" in text.stdout
    assert "Restored:" not in text.stdout and "Shared CPU panel" in text.stdout


def test_round_trip_restores_library_panels_alert_rules_and_contact_points(seeded, aetherops_cli, tmp_path):
    def extras(double):
        s = double.state
        return ({(e["uid"], e["name"], e["folderUid"], json.dumps(e["model"], sort_keys=True)) for e in s["library_panels"]},
                {(r["uid"], r["title"], r["folderUID"], r["ruleGroup"], json.dumps(r["data"], sort_keys=True)) for r in s["alert_rules"]},
                {(c["uid"], c["name"], c["type"], json.dumps(c["settings"], sort_keys=True)) for c in s["contact_points"]})

    before = extras(seeded)
    assert all(before)
    out = run_backup(aetherops_cli, tmp_path / "b", "--only", "grafana")
    seeded.reset()
    result = aetherops_cli("restore", out["path"], "--only", "grafana", "-o", "json")
    assert result.exit_code == 0, result
    created = {(i["kind"], i["name"]) for i in result.json()["items"] if i["action"] == "create" and i["applied"]}
    assert {("library panel", "Shared CPU panel"), ("alert rule", "HighErrorRate"), ("contact point", "oncall")} <= created
    assert extras(seeded) == before and result.json()["not_applied"] == []
    again = run_backup(aetherops_cli, tmp_path / "b", "--only", "grafana")
    assert again["components"]["grafana"]["counts"] == out["components"]["grafana"]["counts"]
    plan = aetherops_cli("restore", again["path"], "--only", "grafana", "--dry-run", "-o", "json").json()
    assert {i["action"] for i in plan["items"] if i["kind"] in ("library panel", "alert rule", "contact point")} == {"unchanged"}


def test_dashboard_deleted_during_the_backup_is_a_warning(seeded, aetherops_cli, tmp_path):
    seeded.inject_fault("/api/dashboards/uid/payments-service", status=404, count=None, method="GET")
    out = run_backup(aetherops_cli, tmp_path / "b", "--only", "grafana")
    grafana = out["components"]["grafana"]
    assert out["complete"] is True and grafana["counts"]["dashboards"] == 5
    assert any("payments-service" in w and "deleted during the backup" in w for w in grafana["warnings"])
    assert manifest_of(out["path"])["components"]["grafana"]["warnings"] == grafana["warnings"]


def test_failed_backup_removes_its_prometheus_snapshot_and_names_the_path(seeded, prometheus_server, aetherops_cli, tmp_path,
                                                                         monkeypatch):
    import errno

    from aetherops_plugins.backup import api

    _wait_for_samples(prometheus_server)
    snapshots = prometheus_server.workdir / "data" / "snapshots"
    before = set(snapshots.iterdir()) if snapshots.is_dir() else set()
    real_copy = api.BackupJob.copy_file
    calls = []

    def disk_full(self, source, relpath, *, link=False):
        calls.append(relpath)
        if len(calls) > 1:  # the first file lands, then the disk is full
            target = self.path(relpath)
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        return real_copy(self, source, relpath, link=link)

    monkeypatch.setattr(api.BackupJob, "copy_file", disk_full)
    base = tmp_path / "b"
    result = aetherops_cli("backup", "--dir", str(base), "--only", "prometheus")
    assert result.exit_code == 1, result
    assert "No space left on device" in result.stderr and str(base / "stack") in result.stderr
    assert (set(snapshots.iterdir()) if snapshots.is_dir() else set()) == before  # no snapshot left behind
    assert complete_backups(base) == [] and not list((base / "stack").glob("*.partial"))
    assert not list((base / "stack").glob("*.tmp"))


def test_a_backup_where_every_component_was_skipped_fails(profile_factory, aetherops_cli, tmp_path):
    profile_factory("nothing", backup={"keep": 3})
    # (--only: an installed example plugin may add a component that always writes something)
    result = aetherops_cli("-p", "nothing", "backup", "--dir", str(tmp_path / "b"), "--only", "grafana,prometheus,alertmanager,configs")
    assert result.exit_code == 1, result
    assert "nothing was backed up" in result.stderr and "the profile has no grafana.url" in result.stderr
    assert "Backup complete" not in result.stdout
    assert complete_backups(tmp_path / "b", "nothing") == [] and not list((tmp_path / "b").rglob("*.partial"))


def test_restore_md_paths_are_relative_to_the_backup(seeded, prometheus_server, aetherops_cli, tmp_path, monkeypatch):
    import shutil

    out = run_backup(aetherops_cli, tmp_path / "b", "--only", "grafana,prometheus")
    text = (Path(out["path"]) / "RESTORE.md").read_text(encoding="utf-8")
    assert str(tmp_path) not in text and tmp_path.as_posix() not in text
    assert "from inside this backup folder" in text and "aetherops -p stack restore . --dry-run --diff" in text
    if manifest_of(out["path"])["components"]["prometheus"]["meta"].get("snapshot_copied"):
        assert "cp -a 'prometheus/snapshot/" in text
    # moved elsewhere, the commands still work from inside it
    moved = tmp_path / "elsewhere" / Path(out["path"]).name
    shutil.move(out["path"], moved)
    monkeypatch.chdir(moved)
    assert aetherops_cli("-p", "stack", "backup", "verify", ".").exit_code == 0
    plan = aetherops_cli("-p", "stack", "restore", ".", "--dry-run", "--only", "grafana", "-o", "json")
    assert plan.exit_code == 0, plan


def test_datasource_map_to_a_missing_uid_fails_the_restore(seeded, aetherops_cli, profile_factory, tmp_path, monkeypatch):
    from aetherops.testing.grafana_double import GrafanaDouble

    out = run_backup(aetherops_cli, tmp_path / "b", "--only", "grafana")
    monkeypatch.setenv("STAGING_TOKEN", GRAFANA_TEST_TOKEN)
    with GrafanaDouble(token=GRAFANA_TEST_TOKEN) as staging:
        profile_factory("staging", grafana={"url": staging.url, "auth": {"token_env": "STAGING_TOKEN"}},
                        backup={"datasource_uid_map": {"prometheus": "prom-does-not-exist"}})
        result = aetherops_cli("restore", out["path"], "--to-profile", "staging", "--only", "grafana", "-o", "json")
        assert result.exit_code == 1, result
        item = next(i for i in result.json()["items"] if i["kind"] == "datasource" and i["name"] == "Prometheus")
        assert item["action"] == "conflict" and "prom-does-not-exist" in item["detail"]
    # a map onto a datasource this very restore creates is fine
    with GrafanaDouble(token=GRAFANA_TEST_TOKEN) as staging2:
        profile_factory("staging2", grafana={"url": staging2.url, "auth": {"token_env": "STAGING_TOKEN"}},
                        backup={"datasource_uid_map": {"prometheus": "alertmanager"}})
        ok = aetherops_cli("restore", out["path"], "--to-profile", "staging2", "--only", "grafana", "-o", "json")
        assert ok.exit_code == 0, ok
        assert {d["uid"] for d in staging2.state["datasources"]} == {"alertmanager"}


def test_archive_only_backups_are_listed_and_verified_not_pruned(seeded, aetherops_cli, tmp_path):
    import shutil

    base = tmp_path / "b"
    old = run_backup(aetherops_cli, base, "--only", "grafana", "--archive")
    shutil.rmtree(old["path"])  # only <ts>.tar.gz and its .sha256 are left
    newer = [run_backup(aetherops_cli, base, "--only", "grafana")["path"] for _ in range(2)]
    listed = aetherops_cli("backup", "list", "--dir", str(base), "-o", "json").json()
    table = aetherops_cli("backup", "list", "--dir", str(base))
    assert table.exit_code == 0 and "archive" in table.stdout, table
    archive_row = next(r for r in listed if r["kind"] == "archive")
    assert archive_row["path"] == old["archive"]["path"] and archive_row["bytes"] == old["archive"]["bytes"]
    assert archive_row["verified"] == "no"
    assert aetherops_cli("backup", "verify", old["archive"]["path"]).exit_code == 0
    listed = aetherops_cli("backup", "list", "--dir", str(base), "-o", "json").json()
    assert next(r for r in listed if r["kind"] == "archive")["verified"] == "yes"
    pruned = aetherops_cli("backup", "prune", "--keep", "1", "--dir", str(base), "-o", "json").json()
    assert pruned["deleted"] == [newer[0]] and Path(old["archive"]["path"]).is_file()
