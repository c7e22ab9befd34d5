"""Helpers for the backup adversarial tests (no tests here): a real configs-only backup made by the CLI
(no server needed), and the tampering an attacker would do - rewriting MANIFEST.json so that every
checksum still passes - plus crafted archives."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

PROM_YML = "global:\n  scrape_interval: 15s\nscrape_configs:\n- job_name: prometheus\n  static_configs:\n  - targets: [localhost:9090]\n"


def make_configs_backup(cli, profile_factory, root: Path, *, files: dict[str, str] | None = None, archive: bool = False,
                        profile: str = "adv", extra_sections: dict | None = None) -> Path:
    """``<root>/b/<profile>/<stamp>`` holding ``configs/files/mon/*.yml`` (cwd must be ``root``)."""
    src = root / "mon"
    src.mkdir(parents=True, exist_ok=True)
    for name, text in ({"prometheus.yml": PROM_YML} if files is None else files).items():
        (src / name).write_text(text, encoding="utf-8")
    profile_factory(profile, backup={"configs": ["mon/*.yml"]}, **(extra_sections or {}))
    args = ["-p", profile, "backup", "--dir", str(root / "b"), "--only", "configs", "-o", "json"]
    result = cli(*args, *(["--archive"] if archive else []))
    assert result.exit_code == 0, result
    return Path(result.json()["path"])


def manifest(folder: Path) -> dict:
    return json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))


def forge_manifest(folder: Path, entries: dict[str, bytes | None]) -> None:
    """Set (bytes: with their real size and sha256) or drop (None) MANIFEST.json entries, as an attacker
    who rewrites the manifest would, so that plain checksum verification still passes."""
    data = manifest(folder)
    for rel, content in entries.items():
        if content is None:
            data["files"].pop(rel, None)
        else:
            data["files"][rel] = {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
    (folder / "MANIFEST.json").write_text(json.dumps(data, indent=2), encoding="utf-8")


def write_listed(folder: Path, rel: str, content: bytes) -> None:
    """Write a file of the backup and list it in MANIFEST.json with its real checksum."""
    target = folder.joinpath(*rel.split("/"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    forge_manifest(folder, {rel: content})


def set_index(folder: Path, entries: list[dict]) -> None:
    """Replace configs/index.json (and its checksum in the manifest)."""
    write_listed(folder, "configs/index.json", json.dumps({"files": entries}).encode("utf-8"))


def tree(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, bytes | str]:
    """Every file (content) and symlink (target) under ``root``, for "nothing else was written" checks."""
    out: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if any(here == s or s in here.parents for s in skip):
            continue
        for name in dirnames + filenames:
            path = here / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = "-> " + os.readlink(path)
            elif path.is_file() and not any(path == s or s in path.parents for s in skip):
                out[rel] = path.read_bytes()
    return out


def one_error_line(stderr: str) -> str:
    """The single line a failing command prints (no traceback, no internal error)."""
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def tar_bytes(members: list[tuple[tarfile.TarInfo, bytes | None]], *, gz: bool = True) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def member(name: str, kind: bytes = tarfile.REGTYPE, *, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.mode = 0o600
    return info


def archive_of(folder: Path, extra: list[tuple[tarfile.TarInfo, bytes | None]] = ()) -> bytes:
    """The members of a real backup folder (under ``<name>/``) plus ``extra`` ones."""
    members = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        members.append((member(f"{folder.name}/{path.relative_to(folder).as_posix()}"), path.read_bytes()))
    return tar_bytes([*members, *extra])
