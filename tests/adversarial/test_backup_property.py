"""Property-based: crafted MANIFEST.json entries, configs/index.json files and archives fed to
``restore`` and ``backup verify``. Whatever hypothesis generates, the exit code is a documented one,
stderr holds at most one line (no traceback, no internal error), and nothing is written outside what
the command owns (``--configs-to DIR``, the profile's config files under ``--force``, the verification
state beside the backups). ``AETHEROPS_FUZZ_EXAMPLES`` raises the number of examples (nox -s fuzz)."""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .test_backup_kit import archive_of, forge_manifest, make_configs_backup, member, tar_bytes, tree, write_listed

EXAMPLES = int(os.environ.get("AETHEROPS_FUZZ_EXAMPLES", "30"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("AETHEROPS_FUZZ_EXAMPLES"),
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
EXIT_CODES = {0, 1, 2, 3, 4}

SEGMENTS = ["..", ".", "", "files", "mon", "prometheus.yml", "configs", "C:", "C:x", "c:\\", "\\\\host", "share", "x\x00y",
            "é", "CON", "a:b", " ", "~", "$HOME", "%APPDATA%"]


def hostile_paths(outside: Path) -> st.SearchStrategy[str]:
    joined = st.tuples(st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=5), st.sampled_from(["/", "\\"]), st.booleans())
    return st.one_of(
        st.sampled_from(["files/mon/prometheus.yml", "files/../../escape.yml", "../escape.yml", "/etc/hostname",
                         str(outside / "evil.yml"), "C:\\evil.yml", "C:evil.yml", "\\\\host\\share\\evil.yml",
                         "//host/share/evil.yml", "files\\..\\..\\evil.yml", "files/mon/../../../evil.yml"]),
        joined.map(lambda t: ("/" if t[2] else "") + t[1].join(t[0])),
        st.text(max_size=24),
    )


def index_entries(outside: Path, profile_file: Path) -> st.SearchStrategy:
    path = hostile_paths(outside)
    original = st.one_of(path, st.just(str(profile_file)), st.just(str(outside / "victim.yml")))
    entry = st.fixed_dictionaries({"file": path, "original": original},
                                  optional={"mode": st.sampled_from(["0o644", "0o4777", "bogus", "0o0"]), "glob": st.text(max_size=5)})
    junk = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))
    return st.lists(st.one_of(entry, entry, junk), max_size=3)


@pytest.fixture
def pristine(aetherops_cli, profile_factory, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = make_configs_backup(aetherops_cli, profile_factory, tmp_path, archive=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "victim.yml").write_text("untouched\n", encoding="utf-8")
    return folder


class Example:
    """A fresh copy of the pristine backup for one example, and the invariant check around a command."""

    counter = 0

    def __init__(self, root: Path, pristine: Path):
        Example.counter += 1
        self.root = root
        self.dir = root / "examples" / f"ex{Example.counter}"
        self.folder = self.dir / "adv" / pristine.name
        shutil.copytree(pristine.parent, self.dir / "adv", symlinks=True)
        self.out = self.dir / "out"

    def owned(self, force: bool) -> tuple[Path, ...]:
        owned = [self.out, self.folder.parent / ".aetherops-backups.json", self.root / "b" / "adv" / ".aetherops-backups.json"]
        if force:
            owned.append(self.root / "mon")
        return tuple(owned)

    def run(self, cli, *args: str, force: bool = False):
        before = tree(self.root, skip=self.owned(force))
        result = cli(*args)
        assert result.exit_code in EXIT_CODES, result
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result
        assert len([line for line in result.stderr.splitlines() if line.strip()]) <= 1, result
        assert tree(self.root, skip=self.owned(force)) == before, result
        if self.out.exists():  # whatever was written went under --configs-to and is a real file
            assert all(p.is_file() or p.is_dir() for p in self.out.rglob("*")) and not any(p.is_symlink() for p in self.out.rglob("*"))
        return result

    def done(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


@SETTINGS
@given(data=st.data())
def test_crafted_index_and_manifest(pristine, aetherops_cli, tmp_path, data):
    outside = tmp_path / "outside"
    ex = Example(tmp_path, pristine)
    try:
        entries = data.draw(index_entries(outside, tmp_path / "mon" / "prometheus.yml"), label="index entries")
        index_bytes = data.draw(st.one_of(st.just(json.dumps({"files": entries}).encode()), st.binary(max_size=40),
                                          st.just(b'{"files": 7}')), label="index.json")
        if data.draw(st.booleans(), label="rehash index.json in the manifest"):
            write_listed(ex.folder, "configs/index.json", index_bytes)
        else:
            (ex.folder / "configs" / "index.json").write_bytes(index_bytes)
        extra = data.draw(st.dictionaries(hostile_paths(outside), st.binary(max_size=8), max_size=3), label="manifest entries")
        if extra:
            forge_manifest(ex.folder, extra)
        if data.draw(st.booleans(), label="source placed where entries point"):
            write_listed(ex.folder, "escape.yml", b"owned: true\n")
        mode = data.draw(st.sampled_from(["configs-to", "force", "dry-run"]), label="restore mode")
        args = ["restore", str(ex.folder), "--only", "configs"]
        args += {"configs-to": ["--configs-to", str(ex.out)], "force": ["--force"], "dry-run": ["--dry-run", "--configs-to", str(ex.out)]}[mode]
        restore = ex.run(aetherops_cli, *args, force=mode == "force")
        verify = ex.run(aetherops_cli, "backup", "verify", str(ex.folder), "-o", "json")
        if verify.exit_code != 0:
            assert restore.exit_code != 0 or mode == "dry-run" and restore.exit_code in (0, 1, 4), (restore, verify)
        assert (outside / "victim.yml").read_text(encoding="utf-8") == "untouched\n"
        assert not (tmp_path / "escape.yml").exists() and not (tmp_path / "examples" / "escape.yml").exists()
    finally:
        ex.done()


KINDS = [tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE, tarfile.CHRTYPE]


@SETTINGS
@given(data=st.data())
def test_crafted_archives(pristine, aetherops_cli, tmp_path, data):
    outside = tmp_path / "outside"
    ex = Example(tmp_path, pristine)
    try:
        top = ex.folder.name
        names = st.one_of(hostile_paths(outside), hostile_paths(outside).map(lambda p: f"{top}/{p}"))
        extra = data.draw(st.lists(st.tuples(names, st.sampled_from(KINDS), st.binary(max_size=16), st.sampled_from(["", "/etc/passwd", "../x"])),
                                   max_size=3), label="extra members")
        members = []
        for name, kind, content, link in extra:
            info = member(name, kind, linkname=link)
            members.append((info, content if kind == tarfile.REGTYPE else None))
        shape = data.draw(st.sampled_from(["genuine+extra", "only extra", "truncated", "random bytes"]), label="shape")
        if shape == "genuine+extra":
            blob = archive_of(ex.folder, members)
        elif shape == "only extra":
            blob = tar_bytes(members)
        elif shape == "truncated":
            whole = archive_of(ex.folder, members)
            blob = whole[: data.draw(st.integers(0, max(0, len(whole) - 1)), label="cut at")]
        else:
            blob = data.draw(st.binary(max_size=200), label="bytes")
        archive = ex.dir / "adv" / f"{top}.tar.gz"
        archive.write_bytes(blob)
        sidecar = archive.with_name(archive.name + ".sha256")
        if sidecar.exists() and data.draw(st.booleans(), label="drop the sidecar"):
            sidecar.unlink()
        restore = ex.run(aetherops_cli, "restore", str(archive), "--only", "configs", "--configs-to", str(ex.out))
        verify = ex.run(aetherops_cli, "backup", "verify", str(archive))
        if sidecar.exists():  # the pristine sidecar: every crafted archive differs from it
            assert restore.exit_code == verify.exit_code == 1, (restore, verify)
        assert (outside / "victim.yml").read_text(encoding="utf-8") == "untouched\n"
    finally:
        ex.done()
