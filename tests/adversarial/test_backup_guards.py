"""The backup's integrity checks, one planted fault per test: each of these was once missed by the
suite (issue 14, "Tests that guard the promises")."""

from __future__ import annotations

import pytest

from .test_backup_kit import make_configs_backup, one_error_line, tree


@pytest.fixture
def backup(aetherops_cli, profile_factory, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return make_configs_backup(aetherops_cli, profile_factory, tmp_path, archive=True)


def test_restore_refuses_a_backup_whose_file_was_only_changed(backup, aetherops_cli, tmp_path):
    copy = backup / "configs/files/mon/prometheus.yml"
    data = copy.read_bytes()
    copy.write_bytes(data.replace(b"15s", b"99s"))  # same size, other content; nothing removed
    assert len(copy.read_bytes()) == len(data)
    result = aetherops_cli("restore", str(backup), "--only", "configs", "--configs-to", str(tmp_path / "out"))
    assert result.exit_code == 1, result
    line = one_error_line(result.stderr)
    assert "fails verification" in line and "differs: configs/files/mon/prometheus.yml" in line
    assert not (tmp_path / "out").exists()


def test_verify_fails_on_a_file_not_in_the_manifest(backup, aetherops_cli):
    (backup / "configs/files/mon/added.yml").write_text("x: 1\n", encoding="utf-8")
    result = aetherops_cli("backup", "verify", str(backup), "-o", "json")
    assert result.exit_code == 1, result
    data = result.json()
    assert data["extra"] == ["configs/files/mon/added.yml"]
    assert (data["missing"], data["changed"], data["unsafe"]) == ([], [], [])


def test_an_archive_whose_sha256_sidecar_differs_is_refused(backup, aetherops_cli, tmp_path):
    archive = backup.with_name(backup.name + ".tar.gz")
    sidecar = archive.with_name(archive.name + ".sha256")
    digest, name = sidecar.read_text(encoding="utf-8").split()
    sidecar.write_text(f"{'0' * len(digest)}  {name}\n", encoding="utf-8")  # the archive itself is intact
    before = tree(tmp_path, skip=(backup.parent / ".aetherops-backups.json",))
    restore = aetherops_cli("restore", str(archive), "--only", "configs", "--configs-to", str(tmp_path / "out"))
    assert restore.exit_code == 1, restore  # the same code as `backup verify` of it (issue 15)
    assert "sha256 differs" in one_error_line(restore.stderr)
    assert tree(tmp_path, skip=(backup.parent / ".aetherops-backups.json",)) == before
    verify = aetherops_cli("backup", "verify", str(archive), "-o", "json")
    assert verify.exit_code == 1 and verify.json()["archive"]["sha256_ok"] is False, verify
    assert "sha256 differs" in verify.json()["error"]
