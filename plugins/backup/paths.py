"""Path confinement: the one place that turns a path read from a backup into a path on disk.

Every path a backup names (``MANIFEST.json`` keys, ``configs/index.json`` entries, archive members)
and every path a restore writes goes through :func:`safe_join`, which refuses, before anything is
read or written:

- an empty path, a NUL byte, ``.`` / ``..`` / empty components;
- an absolute path (``/etc``, ``\\etc``), a UNC path (``\\\\host\\share``, ``//host/share``), a drive
  letter (``C:\\x``, ``C:x``) in any component, and on Windows any ``:`` (alternate data streams);
- a component below ``root`` that is a symlink (or a Windows junction), whatever it points to;

and checks that the result still resolves inside ``root``. Both ``/`` and ``\\`` separate components,
so a backup made on one OS means the same thing on the other.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from aetherops.errors import ConfigError

_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafePathError(ConfigError, ValueError):
    """A path in a backup (or a restore target) that would leave its folder (exit 4)."""


def check_relpath(relpath: str | os.PathLike, *, what: str = "path") -> PurePosixPath:
    """``relpath`` as a relative POSIX path of plain components, or UnsafePathError saying why not."""
    text = os.fspath(relpath) if isinstance(relpath, os.PathLike) else relpath
    if not isinstance(text, str) or not text:
        raise UnsafePathError(f"{what} {relpath!r}: empty or not a string")
    if "\x00" in text:
        raise UnsafePathError(f"{what} {text!r}: contains a NUL byte")
    norm = text.replace("\\", "/")
    if norm.startswith("/"):
        kind = "a UNC path" if norm.startswith("//") else "an absolute path"
        raise UnsafePathError(f"{what} {text!r} is {kind}")
    parts = norm.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise UnsafePathError(f"{what} {text!r} has a {part or 'empty'!r} component")
        if _DRIVE.match(part) or (os.name == "nt" and ":" in part):
            raise UnsafePathError(f"{what} {text!r} names a drive or stream ({part!r})")
    return PurePosixPath(*parts)


def has_symlink_below(root: Path, target: Path) -> Path | None:
    """The first component of ``target`` below ``root`` that is a symlink or junction, else None."""
    current = Path(root)
    for part in Path(target).relative_to(root).parts:
        current = current / part
        if is_link(current):
            return current
    return None


def is_link(path: Path) -> bool:
    if os.path.islink(path):
        return True
    is_junction = getattr(os.path, "isjunction", None)  # Python 3.12+, Windows
    return bool(is_junction and is_junction(path))


def safe_join(root: str | os.PathLike, relpath: str | os.PathLike, *, what: str = "path") -> Path:
    """``root / relpath``, refused (UnsafePathError) unless it stays inside ``root`` with no symlink
    component below ``root``. ``root`` itself may be (or lie below) a symlink."""
    root = Path(root)
    rel = check_relpath(relpath, what=what)
    target = root.joinpath(*rel.parts)
    link = has_symlink_below(root, target)
    if link is not None:
        raise UnsafePathError(f"{what} {str(relpath)!r} goes through a symlink ({link.relative_to(root).as_posix()})")
    try:
        target.resolve().relative_to(root.resolve())
    except ValueError:
        raise UnsafePathError(f"{what} {str(relpath)!r} resolves outside {root}") from None
    return target


def make_private_dirs(root: str | os.PathLike, target: str | os.PathLike) -> None:
    """Create ``target`` and its missing parents below ``root`` (which must exist), each 0700 on POSIX
    (on Windows folders inherit the parent's ACL)."""
    root, target = Path(root), Path(target)
    current = root
    for part in target.relative_to(root).parts:
        current = current / part
        try:
            current.mkdir(mode=0o700)
        except FileExistsError:
            if is_link(current) or not current.is_dir():
                raise
