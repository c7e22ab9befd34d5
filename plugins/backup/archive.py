"""``<name>.tar.gz`` archives of backups: written by ``backup --archive``, opened (once, here) by both
``backup verify`` and ``restore``.

Opening is strict, because an archive may come from anywhere: the ``.sha256`` beside it must match,
every member must be a regular file or a folder (no symlink, hard link, fifo or device) under one
top folder, with a confined relative name (:func:`aetherops_plugins.backup.paths.check_relpath`), and
no name twice. Members are checked before anything is extracted, then each one passes tarfile's ``data``
filter (PEP 706) or, on a Python without it, :func:`safe_member`'s same rules in code, and is written one by
one, 0600 in a 0700 temp folder. Any problem is an :class:`ArchiveError`: one line, exit 1 (a damaged
backup, like a folder whose files fail their checksums), the same for ``backup verify`` and ``restore``.
"""

from __future__ import annotations

import os
import tarfile
import zlib
from pathlib import Path
from typing import Any

from aetherops.errors import FindingsError
from aetherops_plugins.backup.api import CHUNK, open_private, sha256_file
from aetherops_plugins.backup.paths import UnsafePathError, check_relpath, make_private_dirs, safe_join

ARCHIVE_SUFFIX = ".tar.gz"
#: prefix of the temp folders archives are extracted to: short, so that <%TEMP%>/<prefix>XXXXXXXX/<backup>/<file>
#: stays below Windows' 260 characters with a long %TEMP% (see MAX_DASHBOARD_REL in components/grafana.py)
TEMP_PREFIX = "aeo-"
SIDECAR_SUFFIX = ".sha256"
_READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError, ValueError)


class ArchiveError(FindingsError):
    """An archive that cannot be trusted or read (exit 1: the backup is damaged, as ``backup verify`` says)."""


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def check_sidecar(path: Path) -> dict[str, Any]:
    """sha256 of ``path`` and whether it matches ``<path>.sha256`` (``sha256_ok`` None when there is none)."""
    info: dict[str, Any] = {"path": str(path), "sha256": sha256_file(path)[1], "sha256_file": None, "sha256_ok": None}
    sidecar = sidecar_of(path)
    if sidecar.is_file() and not sidecar.is_symlink():
        info["sha256_file"] = str(sidecar)
        try:
            expected = (sidecar.read_text(encoding="utf-8", errors="replace").split() or [""])[0]
        except OSError:
            expected = ""
        info["sha256_ok"] = expected == info["sha256"]
    return info


def open_archive(path: Path, workdir: Path, *, sidecar: dict[str, Any] | None = None) -> Path:
    """Check ``path`` (sidecar, then every member), extract it under ``workdir`` and return the backup
    folder inside. ArchiveError (exit 4) naming the archive and the reason otherwise. ``sidecar``: what
    :func:`check_sidecar` already returned for it (the archive is not hashed twice)."""
    path = Path(path)
    try:
        sidecar = sidecar or check_sidecar(path)
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read the archive: {exc.strerror or exc}") from None
    if sidecar["sha256_ok"] is False:
        raise ArchiveError(f"{path}: sha256 differs from {sidecar_of(path).name}; the archive was changed or damaged")
    try:
        with tarfile.open(path, "r:gz") as tar:
            members = tar.getmembers()  # reads the whole archive: a truncated one fails here
            top = _check_members(path, members)
            for member in members:
                _extract(tar, safe_member(member, workdir), workdir)
    except ArchiveError:
        raise
    except UnsafePathError as exc:
        raise ArchiveError(f"{path}: {exc.format_message()}") from None
    except _READ_ERRORS as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ArchiveError(f"{path}: cannot read the archive ({reason})") from None
    folder = workdir / top
    from aetherops_plugins.backup.manifest import MANIFEST

    if not (folder / MANIFEST).is_file():
        raise ArchiveError(f"{path}: not an aetherops backup archive (no {top}/{MANIFEST})")
    return folder


def _check_members(path: Path, members: list[tarfile.TarInfo]) -> str:
    if not members:
        raise ArchiveError(f"{path}: the archive is empty")
    tops, names = set(), set()
    for member in members:
        rel = check_relpath(member.name, what="archive member")
        if not (member.isreg() or member.isdir()):
            raise ArchiveError(f"{path}: member {member.name!r} is a {_kind(member)}; only files and folders are accepted")
        key = rel.as_posix()
        if member.isreg() and key in names:
            raise ArchiveError(f"{path}: member {member.name!r} appears twice")
        names.add(key)
        tops.add(rel.parts[0])
    if len(tops) != 1:
        raise ArchiveError(f"{path}: not an aetherops backup archive (members under {len(tops)} top folders)")
    return tops.pop()


def safe_member(member: tarfile.TarInfo, dest: Path) -> tarfile.TarInfo:
    """``member`` as it may be extracted below ``dest``, or ArchiveError.

    The rules of tarfile's ``data`` extraction filter (PEP 706), applied in code so that every Python
    follows them, stricter where a backup allows less (any absolute name, drive or ``..`` is refused, not
    rewritten; no link at all): the target stays inside ``dest``; no link, device or fifo; no set-uid,
    set-gid or sticky bit nor group/other write; owner read/write; no owner names or ids. Where this Python
    has ``tarfile.data_filter`` the member then passes it too."""
    safe = _data_filter_rules(member, Path(dest))
    data_filter = getattr(tarfile, "data_filter", None)
    if data_filter is not None:
        try:
            return data_filter(safe, os.fspath(dest))
        except tarfile.FilterError as exc:  # pragma: no cover - the rules above refuse more
            raise ArchiveError(f"member {member.name!r} refused by the data filter: {exc}") from None
    return safe


def _data_filter_rules(member: tarfile.TarInfo, dest: Path) -> tarfile.TarInfo:
    import copy

    try:
        check_relpath(member.name, what="archive member")
    except UnsafePathError as exc:
        raise ArchiveError(exc.format_message()) from None
    if not (member.isreg() or member.isdir()):
        raise ArchiveError(f"member {member.name!r} is a {_kind(member)}; only files and folders are accepted")
    real_dest = os.path.realpath(dest)
    target = os.path.realpath(os.path.join(real_dest, member.name))
    if os.path.commonpath([real_dest, target]) != real_dest:
        raise ArchiveError(f"member {member.name!r} would be extracted outside {dest}")
    safe = copy.copy(member)
    mode = member.mode & 0o755  # no set-uid, set-gid, sticky, group/other write
    safe.mode = (mode | 0o600) if member.isreg() else (mode | 0o700)
    if member.isreg() and not mode & 0o100:
        safe.mode &= ~0o111  # a file nobody may execute stays so
    safe.uid = safe.gid = 0
    safe.uname = safe.gname = ""
    return safe


def _kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hard link"
    if member.isfifo():
        return "fifo"
    if member.ischr() or member.isblk():
        return "device"
    return "special file"


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, workdir: Path) -> None:
    target = safe_join(workdir, member.name, what="archive member")
    if member.isdir():
        make_private_dirs(workdir, target)
        return
    make_private_dirs(workdir, target.parent)
    source = tar.extractfile(member)
    if source is None:  # pragma: no cover - regular members always have data
        raise ArchiveError(f"member {member.name!r} has no data")
    with source, open_private(target, exclusive=True) as out:
        while True:
            chunk = source.read(CHUNK)
            if not chunk:
                break
            out.write(chunk)


def write_archive(partial: Path, profile_dir: Path, name: str) -> dict[str, Any]:
    """``<name>.tar.gz`` (regular-file members under ``<name>/``, mode 0600) and ``<name>.tar.gz.sha256``,
    both written 0600 to temp names (the caller renames them into place)."""
    path = profile_dir / f"{name}{ARCHIVE_SUFFIX}"
    tmp = profile_dir / f"{name}{ARCHIVE_SUFFIX}.partial"
    with open_private(tmp) as raw, tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
        for dirpath, dirnames, filenames in os.walk(partial):
            dirnames.sort()
            for filename in sorted(filenames):
                full = Path(dirpath, filename)
                st = full.stat()
                info = tarfile.TarInfo(f"{name}/{full.relative_to(partial).as_posix()}")
                info.size, info.mtime, info.mode, info.type = st.st_size, int(st.st_mtime), 0o600, tarfile.REGTYPE
                with open(full, "rb") as fh:
                    tar.addfile(info, fh)
    size, digest = sha256_file(tmp)
    sha_path = sidecar_of(path)
    sha_tmp = profile_dir / f"{sha_path.name}.partial"
    with open_private(sha_tmp) as fh:
        fh.write(f"{digest}  {path.name}\n".encode("utf-8"))
    return {"path": path, "tmp": tmp, "sha_path": sha_path, "sha_tmp": sha_tmp, "sha256": digest, "bytes": size}
