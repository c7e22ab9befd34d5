"""Backup engine pieces that need no server: redaction, uid mapping, manifests, jobs, selection."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from aetherops_plugins.backup.api import BackupJob, RestoreJob, SkipComponent
from aetherops_plugins.backup.components.alertmanager import REDACTED, redact_alertmanager_config
from aetherops_plugins.backup.engine import parse_names, select_components
from aetherops_plugins.backup.manifest import MARKER, list_backups, verify_backup
from aetherops_plugins.backup.restore import parse_folder_map

AM_CONFIG = """
global:
  slack_api_url: https://hooks.slack.com/services/T0/B0/XYZsecret
  smtp_auth_password: hunter2
  opsgenie_api_url: https://api.opsgenie.com/
  resolve_timeout: 5m
route: {receiver: team}
receivers:
- name: team
  webhook_configs:
  - url: https://hooks.example.com/x?token=abc123
    send_resolved: true
  pagerduty_configs:
  - routing_key: pd-routing-key
    severity: critical
  slack_configs:
  - channel: '#ops'
    api_url: <secret>
"""


def test_alertmanager_receiver_secrets_are_redacted_and_the_rest_kept():
    import yaml

    text, count = redact_alertmanager_config(AM_CONFIG)
    data = yaml.safe_load(text)
    assert count == 4  # slack url, smtp password, webhook url, routing key; '<secret>' is already hidden
    for secret in ("XYZsecret", "hunter2", "abc123", "pd-routing-key"):
        assert secret not in text
    assert data["global"]["opsgenie_api_url"] == "https://api.opsgenie.com/"  # a public endpoint, kept
    assert data["global"]["slack_api_url"] == REDACTED
    receiver = data["receivers"][0]
    assert receiver["webhook_configs"][0] == {"url": REDACTED, "send_resolved": True}
    assert receiver["pagerduty_configs"][0] == {"routing_key": REDACTED, "severity": "critical"}
    assert receiver["slack_configs"][0] == {"channel": "#ops", "api_url": "<secret>"}
    assert data["route"] == {"receiver": "team"}


def test_folder_map_parsing():
    assert parse_folder_map(["a=b", " c = d "]) == {"a": "b", "c": "d"}
    with pytest.raises(click.BadParameter):
        parse_folder_map(["nope"])
    assert parse_names(("grafana,configs", "silences")) == ["grafana", "configs", "silences"]


class _C:
    def __init__(self, name, default=True):
        self.name, self.default = name, default

    def backup(self, job):
        pass


def test_component_selection():
    comps = {"a": _C("a"), "b": _C("b"), "opt": _C("opt", default=False)}
    assert list(select_components(comps, [], [])) == ["a", "b"]
    assert list(select_components(comps, ["opt", "a"], [])) == ["a", "opt"]
    assert list(select_components(comps, [], ["b"])) == ["a"]
    with pytest.raises(click.BadParameter, match="zzz"):
        select_components(comps, ["zzz"], [])


def test_job_writes_inside_its_folder_and_hashes(tmp_path):
    job = BackupJob("loki", tmp_path / "loki", context=None, profile=None)
    key = job.write_json("a/b.json", {"z": 1, "a": [1, 2]})
    assert key == "loki/a/b.json"
    data = (tmp_path / "loki/a/b.json").read_bytes()
    import hashlib

    assert job.files[key] == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    assert data.startswith(b'{\n  "a"')  # sorted, indented
    assert job.write_json("c.json", {"b": 1, "a": 2}, compact=True) and (tmp_path / "loki/c.json").read_text() == '{"a":2,"b":1}\n'
    for bad in ("../escape.txt", "/abs.txt", "a/../../x"):
        with pytest.raises(ValueError):
            job.write_text(bad, "x")
    with pytest.raises(SkipComponent, match="no loki"):
        job.skip("no loki")


def test_job_masks_registered_secrets(tmp_path):
    from aetherops.redact import register_secret

    register_secret("unit-test-secret-value-77")
    job = BackupJob("x", tmp_path / "x", context=None, profile=None)
    job.write_text("t.txt", "token=unit-test-secret-value-77")
    job.write_json("j.json", {"k": "unit-test-secret-value-77"}, compact=True)
    for name in ("t.txt", "j.json"):
        assert "unit-test-secret-value-77" not in (tmp_path / "x" / name).read_text(encoding="utf-8")


def test_restore_job_lists_its_files(tmp_path):
    (tmp_path / "loki").mkdir()
    (tmp_path / "loki/r.yaml").write_text("x", encoding="utf-8")
    manifest = {"files": {"loki/r.yaml": {}, "loki/sub/s.yaml": {}, "other/x": {}}, "components": {"loki": {"status": "ok"}}}
    job = RestoreJob("loki", tmp_path / "loki", manifest, None, None)
    assert list(job.files()) == ["r.yaml", "sub/s.yaml"] and list(job.files("sub")) == ["sub/s.yaml"]
    assert job.read_text("r.yaml") == "x" and job.entry == {"status": "ok"}
    item = job.plan("rules", "r", "create", diff="---")
    assert item.diff is None  # diffs only with --diff


def _fake_backup(root: Path, name: str, files: dict[str, bytes]) -> Path:
    import hashlib

    path = root / "p" / name
    path.mkdir(parents=True)
    for rel, data in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_bytes(data)
    manifest = {"tool": "aetherops", "kind": "backup", "complete": True, "components": {},
                "files": {rel: {"size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for rel, d in files.items()},
                "totals": {"bytes": sum(len(d) for d in files.values())}}
    (path / "MANIFEST.json").write_text(json.dumps(manifest), encoding="utf-8")
    return path


def test_verify_reports_changed_missing_and_extra_files(tmp_path):
    path = _fake_backup(tmp_path, "20260101T000000Z", {"a/x.json": b"1", "b.txt": b"22"})
    assert verify_backup(path).ok
    (path / "a/x.json").write_bytes(b"2")  # same size, other content: only the hash catches it
    (path / "b.txt").unlink()
    (path / "intruder").write_bytes(b"")
    result = verify_backup(path)
    assert (result.ok, result.changed, result.missing, result.extra) == (False, ["a/x.json"], ["b.txt"], ["intruder"])
    assert verify_backup(path, quick=True).changed == []  # quick mode checks sizes only
    assert not verify_backup(tmp_path / "p" / "nothing").ok


def test_list_orders_newest_first_and_shows_partials(tmp_path):
    _fake_backup(tmp_path, "20260101T000000Z", {"f": b"1"})
    _fake_backup(tmp_path, "20260301T000000Z", {"f": b"1"})
    (tmp_path / "p" / "20260401T000000Z.partial").mkdir()
    (tmp_path / "p" / "20260401T000000Z.partial" / MARKER).write_text("{}", encoding="utf-8")  # made by aetherops
    names = [b.name for b in list_backups(tmp_path, "p")]
    assert names == ["20260301T000000Z", "20260101T000000Z"]
    assert [b.partial for b in list_backups(tmp_path, "p", include_partial=True)] == [True, False, False]


def test_hook_module_imports_nothing_heavy():
    code = ("import sys, aetherops_plugins.backup as b; "
            "heavy = [m for m in ('httpx', 'grafana_client', 'niquests', 'yaml', 'aetherops_plugins.backup.engine') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_write_errors_name_the_destination(tmp_path, monkeypatch):
    import errno

    from aetherops_plugins.backup import api

    class FullDisk:
        def __init__(self, *a, **k):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")  # what a real write() raises: no file name

    job = BackupJob("grafana", tmp_path / "grafana", context=None, profile=None)
    monkeypatch.setattr(api, "open_private", FullDisk)
    for write in (lambda: job.write_bytes("a.bin", b"x"), lambda: job.write_json("b.json", {"a": 1})):
        with pytest.raises(OSError) as info:
            write()
        assert info.value.errno == errno.ENOSPC and info.value.filename and info.value.filename.startswith(str(tmp_path / "grafana"))


def test_verification_state_leaves_no_temp_file_when_the_disk_is_full(tmp_path, monkeypatch):
    import errno

    from aetherops_plugins.backup import manifest
    from aetherops_plugins.backup.manifest import record_verification

    backup = tmp_path / "stack" / "20260105T020000Z"
    backup.mkdir(parents=True)
    real = manifest.open_private

    class FullDisk:
        def __init__(self, path, **kwargs):
            self.fh = real(path, **kwargs)  # created, then nothing fits

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()
            return False

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(manifest, "open_private", FullDisk)
    record_verification(backup, True)
    assert [p.name for p in (tmp_path / "stack").iterdir()] == ["20260105T020000Z"]


def test_copied_text_files_are_masked_with_a_warning(tmp_path, monkeypatch):
    from aetherops import redact

    monkeypatch.setattr(redact, "_SECRETS", {"s3cr3t-token-value"})
    src = tmp_path / "rules.yml"
    src.write_text("token: s3cr3t-token-value\n", encoding="utf-8")
    job = BackupJob("prometheus", tmp_path / "out", context=None, profile=None)
    job.copy_file(src, "rules/rules.yml")
    assert (tmp_path / "out/rules/rules.yml").read_text(encoding="utf-8") == 'token: "***"\n'  # still YAML
    assert job.files["prometheus/rules/rules.yml"]["size"] == len('token: "***"\n')
    assert any(str(src) in w and "masked" in w for w in job.warnings)
