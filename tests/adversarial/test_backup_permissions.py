"""Backups hold sensitive configs: folders 0700, files 0600 (or the source's mode when stricter),
archive, its sidecar and its members too, and the files restore extracts or writes. POSIX modes only:
on Windows files inherit their folder's ACL (docs/backup.md)."""

from __future__ import annotations

import os
import stat
import tarfile
from pathlib import Path

import pytest

from .test_backup_kit import make_configs_backup

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX modes; Windows inherits the parent's ACL")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def made(aetherops_cli, profile_factory, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    old = os.umask(0o022)  # the usual umask: what a plain open() would have made world-readable
    try:
        (tmp_path / "mon").mkdir()
        (tmp_path / "mon/strict.yml").write_text("a: 1\n", encoding="utf-8")
        os.chmod(tmp_path / "mon/strict.yml", 0o400)
        folder = make_configs_backup(aetherops_cli, profile_factory, tmp_path, archive=True)
        yield folder
    finally:
        os.umask(old)


def test_backup_folders_are_0700_and_files_0600(made):
    assert mode(made) == 0o700
    dirs = [p for p in made.rglob("*") if p.is_dir()]
    files = [p for p in made.rglob("*") if p.is_file()]
    assert dirs and files
    assert {str(p.relative_to(made)): mode(p) for p in dirs} == {str(p.relative_to(made)): 0o700 for p in dirs}
    expected = {str(p.relative_to(made)): 0o600 for p in files}
    expected["configs/files/mon/strict.yml"] = 0o400  # the source was stricter: kept
    assert {str(p.relative_to(made)): mode(p) for p in files} == expected


def test_archive_sidecar_and_members_are_private(made):
    archive = made.with_name(made.name + ".tar.gz")
    assert mode(archive) == 0o600 and mode(archive.with_name(archive.name + ".sha256")) == 0o600
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
    assert members and {m.name: m.mode for m in members} == {m.name: 0o600 for m in members}
    assert all(m.isreg() for m in members)


def test_new_backup_root_and_profile_folder_are_0700(made):
    assert mode(made.parent) == 0o700 and mode(made.parent.parent) == 0o700


def test_verification_state_is_0600(made, aetherops_cli):
    assert aetherops_cli("backup", "verify", str(made)).exit_code == 0
    assert mode(made.parent / ".aetherops-backups.json") == 0o600


def test_restored_configs_are_not_world_writable_and_default_private(made, aetherops_cli, tmp_path):
    out = tmp_path / "out"
    done = aetherops_cli("restore", str(made), "--only", "configs", "--configs-to", str(out))
    assert done.exit_code == 0, done
    assert mode(out / "mon/prometheus.yml") == 0o644  # the recorded mode of the original
    assert mode(out / "mon/strict.yml") == 0o600  # 0400 recorded: owner keeps write, nobody else gains anything
    assert mode(out / "mon") == 0o700
