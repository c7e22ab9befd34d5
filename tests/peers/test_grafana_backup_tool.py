"""grafana-backup-tool (PyPI ``grafana-backup``) as a peer: its ``save`` and ``restore`` against the
Grafana double, and what it saves compared with what ``aetherops backup`` saves.

A widely used third-party client that talks to real Grafana every day: if the double answers it
differently from Grafana, this test shows it. It runs from ``nox -s peers``, which installs the tool
into a venv of its own (it brings ~100 MB of cloud SDKs) and points ``GRAFANA_BACKUP_TOOL`` at its
``grafana-backup`` executable; without that variable the test is skipped.

How it is configured (read from grafana_backup 1.4.2: ``grafanaSettings.py``, ``api_checks.py``):
a JSON file passed as ``--config`` (sections ``general`` and ``grafana``) with env vars on top
(``GRAFANA_URL``, ``GRAFANA_TOKEN``, ``BACKUP_DIR``...). The token goes in ``GRAFANA_TOKEN`` so it is
never written to a file. Around its own bugs:

* ``api_health_check`` stays on: with it off, ``api_checks.main`` reads ``status`` before assigning it
  (UnboundLocalError) when ``api_auth_check`` is off too;
* ``api_auth_check`` is off: it probes ``/api/auth/keys`` (API keys), gone in Grafana 11.3+/12;
* only ``folders,dashboards`` are saved and restored (the comparison is about those), folders flat:
  restore creates folders in ``glob`` order, so a child folder may come before its parent (404);
* it exits 0 when a request fails (errors are printed), so success is checked on the double's state.

Contract: "Routing" (it calls ``/api/search/?...`` with a trailing slash).
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN

TOOL = os.environ.get("GRAFANA_BACKUP_TOOL", "")
pytestmark = [
    pytest.mark.servers,
    pytest.mark.skipif(not TOOL, reason="GRAFANA_BACKUP_TOOL not set: run `nox -s peers` (installs grafana-backup-tool)"),
]
VOLATILE = ("id", "version")


def seed(double) -> None:
    double.add_datasource({"name": "Prometheus", "uid": "prometheus", "type": "prometheus", "url": "http://localhost:9090",
                           "access": "proxy", "isDefault": True})
    double.add_folder("Infrastructure", uid="infra")
    double.add_folder("Applications", uid="apps")
    for i, (uid, title, folder) in enumerate([("node", "Node Exporter", "infra"), ("prom", "Prometheus Self", "infra"),
                                              ("api-slo", "API SLOs", "apps"), ("root-probes", "Blackbox Probes", None)]):
        panels = [{"id": 1, "type": "timeseries", "title": "Panel", "datasource": {"type": "prometheus", "uid": "prometheus"},
                   "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0}, "targets": [{"refId": "A", "expr": f"up{{job=\"{uid}\"}}"}]}]
        double.add_dashboard({"uid": uid, "title": title, "tags": [f"t{i}"], "schemaVersion": 39, "panels": panels},
                             folder_uid=folder)


def run_tool(double, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    config = tmp_path / "grafana-backup.json"
    config.write_text(json.dumps({
        "general": {"debug": False, "verify_ssl": False, "api_health_check": True, "api_auth_check": False,
                    "backup_dir": str(tmp_path / "gbt"), "backup_file_format": "%Y%m%d%H%M%S", "pretty_print": True},
        "grafana": {"url": double.url, "search_api_limit": 5000},
    }), encoding="utf-8")
    env = {**os.environ, "GRAFANA_URL": double.url, "GRAFANA_TOKEN": GRAFANA_TEST_TOKEN}
    result = subprocess.run([TOOL, *args[:1], f"--config={config}", *args[1:]], env=env, capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    return result


def tool_backup(archive: Path) -> dict:
    """The archive's folders and dashboards: {"folders": {uid: title}, "dashboards": {uid: (folder uid, dashboard json)}}."""
    out: dict = {"folders": {}, "dashboards": {}}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile() or not member.name.endswith((".folder", ".dashboard")):
                continue  # also in there: .txt logs and .folder_permission files
            data = json.loads(tar.extractfile(member).read().decode("utf-8"))
            if member.name.endswith(".folder"):
                out["folders"][data["uid"]] = data["title"]
            elif member.name.endswith(".dashboard"):
                dash = {k: v for k, v in data["dashboard"].items() if k not in VOLATILE}
                out["dashboards"][dash["uid"]] = (data["meta"].get("folderUid") or "", dash)
    return out


def aetherops_backup(path: Path) -> dict:
    out: dict = {"folders": {}, "dashboards": {}}
    grafana = path / "grafana"
    for folder in json.loads((grafana / "folders.json").read_text(encoding="utf-8"))["folders"]:
        out["folders"][folder["uid"]] = folder["title"]
    for entry in json.loads((grafana / "dashboards.json").read_text(encoding="utf-8"))["dashboards"]:
        data = json.loads((grafana / entry["file"]).read_text(encoding="utf-8"))
        dash = {k: v for k, v in data["dashboard"].items() if k not in VOLATILE}
        out["dashboards"][dash["uid"]] = (entry.get("folderUid") or "", dash)
    return out


def double_state(double) -> dict:
    state = double.state
    return {"folders": {f["uid"]: f["title"] for f in state["folders"]},
            "dashboards": {d["uid"]: (d["folder_uid"], {k: v for k, v in d["data"].items() if k not in VOLATILE})
                           for d in state["dashboards"]}}


@pytest.mark.parametrize("version", ["10.4.3", "11.5.2", "12.1.0"])
def test_save_and_restore_against_the_double_match_aetherops(version, grafana_double_factory, profile_factory, aetherops_cli,
                                                             tmp_path, monkeypatch):
    source = grafana_double_factory(grafana_version=version)
    seed(source)

    run_tool(source, tmp_path, "save", "--components=folders,dashboards")
    archives = sorted((tmp_path / "gbt").glob("*.tar.gz"))
    assert len(archives) == 1, list((tmp_path / "gbt").iterdir())
    assert ("GET", "/api/search/", 200) in source.request_log  # its trailing-slash search, answered
    assert not [r for r in source.request_log if r[2] >= 400 and r[1] != "/api/folders/0"], source.request_log
    saved = tool_backup(archives[0])

    monkeypatch.setenv("PEER_GRAFANA_TOKEN", GRAFANA_TEST_TOKEN)
    profile_factory("peer", grafana={"url": source.url, "auth": {"token_env": "PEER_GRAFANA_TOKEN"}})
    ours = aetherops_cli("-p", "peer", "backup", "--dir", str(tmp_path / "ours"), "--only", "grafana", "-o", "json")
    assert ours.exit_code == 0, ours
    assert saved == aetherops_backup(Path(ours.json()["path"])) == double_state(source)
    assert len(saved["dashboards"]) == 4 and len(saved["folders"]) == 2

    target = grafana_double_factory(grafana_version=version)
    run_tool(target, tmp_path, "restore", "--components=folders,dashboards", str(archives[0]))
    assert double_state(target) == double_state(source)
    failed = [r for r in target.request_log if r[2] >= 400 and r[1] != "/api/folders/0"]  # root dashboards probe folder "0"
    assert not failed, failed
