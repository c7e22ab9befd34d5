"""Hostile and damaged archives: restore refuses every one with one line and exit 1 (never an internal
error, never "interrupted"), verify reports it FAILED (exit 1): the same code for both commands, as for a
damaged backup folder; nothing is written outside the temp folder they are checked in. Archive opening is
one function shared by both commands, and every member also passes tarfile's data filter (or the same rules
in code on a Python without it)."""

from __future__ import annotations

import gzip
import tarfile
from pathlib import Path

import pytest

from .test_backup_kit import archive_of, make_configs_backup, member, one_error_line, tar_bytes, tree


@pytest.fixture
def genuine(aetherops_cli, profile_factory, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return make_configs_backup(aetherops_cli, profile_factory, tmp_path)


def _top(folder: Path) -> str:
    return folder.name


# name -> (bytes of the archive given the genuine backup folder, what the error line says)
CASES = {
    "garbage": (lambda f: b"this is not gzip at all\n" * 10, "cannot read the archive"),
    "empty file": (lambda f: b"", "cannot read the archive"),
    "truncated": (lambda f: archive_of(f)[: len(archive_of(f)) // 2], "cannot read the archive"),
    "gzip of garbage": (lambda f: gzip.compress(b"\x01" * 4096), "cannot read the archive"),
    "empty tar": (lambda f: tar_bytes([]), "empty"),
    "symlink member": (lambda f: archive_of(f, [(member(f"{_top(f)}/link", tarfile.SYMTYPE, linkname="/etc/passwd"), None)]),
                       "symlink"),
    "hard link member": (lambda f: archive_of(f, [(member(f"{_top(f)}/hard", tarfile.LNKTYPE, linkname="/etc/passwd"), None)]),
                         "hard link"),
    "fifo member": (lambda f: archive_of(f, [(member(f"{_top(f)}/fifo", tarfile.FIFOTYPE), None)]), "fifo"),
    "char device member": (lambda f: archive_of(f, [(member(f"{_top(f)}/null", tarfile.CHRTYPE), None)]), "device"),
    "block device member": (lambda f: archive_of(f, [(member(f"{_top(f)}/sda", tarfile.BLKTYPE), None)]), "device"),
    "dot-dot member": (lambda f: archive_of(f, [(member("../escaped.txt"), b"x")]), "'..'"),
    "nested dot-dot member": (lambda f: archive_of(f, [(member(f"{_top(f)}/../../escaped.txt"), b"x")]), "'..'"),
    "absolute member": (lambda f: archive_of(f, [(member("/tmp/aetherops-escaped.txt"), b"x")]), "absolute"),
    "drive member": (lambda f: archive_of(f, [(member("C:\\escaped.txt"), b"x")]), "drive"),
    "two top folders": (lambda f: archive_of(f, [(member("other/x.txt"), b"x")]), "top folders"),
    "duplicate member": (lambda f: archive_of(f, [(member(f"{_top(f)}/configs/index.json"), b"{}")]), "twice"),
    "no manifest": (lambda f: tar_bytes([(member("20260101T000000Z/x.txt"), b"x")]), "not an aetherops backup archive"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_archive_is_refused_by_restore_with_the_exit_code_of_verify(genuine, aetherops_cli, tmp_path, case):
    make, says = CASES[case]
    archive = tmp_path / "evil" / f"{genuine.name}.tar.gz"
    archive.parent.mkdir()
    archive.write_bytes(make(genuine))
    before = tree(tmp_path)
    result = aetherops_cli("restore", str(archive), "--only", "configs", "--configs-to", str(tmp_path / "out"))
    assert result.exit_code == 1, result  # like `backup verify` of the same archive, and like a damaged folder
    line = one_error_line(result.stderr)
    assert line.startswith("aetherops: error: ") and str(archive) in line and says in line, line
    assert tree(tmp_path) == before and not Path("/tmp/aetherops-escaped.txt").exists()


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_archive_fails_verify(genuine, aetherops_cli, tmp_path, case):
    make, says = CASES[case]
    archive = tmp_path / "evil" / f"{genuine.name}.tar.gz"
    archive.parent.mkdir()
    archive.write_bytes(make(genuine))
    result = aetherops_cli("backup", "verify", str(archive), "-o", "json")
    assert result.exit_code == 1, result
    assert "Traceback" not in result.stderr and result.json()["ok"] is False and says in result.json()["error"]
    text = aetherops_cli("backup", "verify", str(archive))
    assert text.exit_code == 1 and "FAILED" in text.stdout and says in text.stdout


def test_the_genuine_archive_restores(aetherops_cli, profile_factory, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = make_configs_backup(aetherops_cli, profile_factory, tmp_path, archive=True)
    archive = folder.with_name(folder.name + ".tar.gz")
    assert aetherops_cli("backup", "verify", str(archive)).exit_code == 0
    done = aetherops_cli("restore", str(archive), "--only", "configs", "--configs-to", str(tmp_path / "out"))
    assert done.exit_code == 0, done
    assert (tmp_path / "out/mon/prometheus.yml").is_file()
    with tarfile.open(archive) as tar:  # written as regular files only
        assert all(m.isreg() for m in tar.getmembers())
