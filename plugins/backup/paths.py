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
    return PurePosixPath(*_parts(relpath, what))


def _parts(relpath: str | os.PathLike, what: str) -> tuple[str, ...]:
    text = os.fspath(relpath) if isinstance(relpath, os.PathLike) else relpath
    if not isinstance(text, str) or not text:
        raise UnsafePathError(f"{what} {relpath!r}: empty or not a string")
    if "\x00" in text:
        raise UnsafePathError(f"{what} {text!r}: contains a NUL byte")
    norm = text.replace("\\", "/")
    if norm.startswith("/"):
        kind = "a UNC path" if norm.startswith("//") else "an absolute path"
        raise UnsafePathError(f"{what} {text!r} is {kind}")
    parts = tuple(norm.split("/"))
    for part in parts:
        if part in ("", ".", ".."):
            raise UnsafePathError(f"{what} {text!r} has a {part or 'empty'!r} component")
        if _DRIVE.match(part) or (os.name == "nt" and ":" in part):
            raise UnsafePathError(f"{what} {text!r} names a drive or stream ({part!r})")
    return parts


def is_link(path: str | os.PathLike) -> bool:
    """A symlink, or a Windows junction (Python 3.12+ can tell)."""
    if os.path.islink(path):
        return True
    is_junction = getattr(os.path, "isjunction", None)
    return bool(is_junction and is_junction(path))


class Confined:
    """Paths below one ``root``, checked like :func:`safe_join`; remembers the folders already found
    free of symlinks, so checking every file of a large backup stays cheap."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self._root = os.fspath(root)
        self._real_root = os.path.realpath(self._root)
        self._clean: set[tuple[str, ...]] = set()

    def join(self, relpath: str | os.PathLike, *, what: str = "path") -> Path:
        parts = _parts(relpath, what)
        for i in range(1, len(parts) + 1):
            prefix = parts[:i]
            if prefix in self._clean:
                continue
            if is_link(os.path.join(self._root, *prefix)):
                raise UnsafePathError(f"{what} {str(relpath)!r} goes through a symlink ({'/'.join(prefix)})")
            if i < len(parts):
                parent = parts[:i]
                if not self._inside(os.path.realpath(os.path.join(self._root, *parent))):  # a junction Python cannot see
                    raise UnsafePathError(f"{what} {str(relpath)!r} resolves outside {self.root}")
                self._clean.add(parent)
        return self.root.joinpath(*parts)


    def _inside(self, real: str) -> bool:
        try:
            return os.path.commonpath([real, self._real_root]) == self._real_root
        except ValueError:  # another drive
            return False


def safe_join(root: str | os.PathLike, relpath: str | os.PathLike, *, what: str = "path") -> Path:
    """``root / relpath``, refused (UnsafePathError) unless it stays inside ``root`` with no symlink
    component below ``root``. ``root`` itself may be (or lie below) a symlink."""
    return Confined(root).join(relpath, what=what)


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


# ---------------------------------------------------------------------------------------- portable file names
#: device names Windows reserves in every folder, whatever the extension (``nul.json`` is the NUL device too)
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul", "conin$", "conout$", "clock$",
                              *(f"com{i}" for i in "123456789¹²³"), *(f"lpt{i}" for i in "123456789¹²³")})
#: longest name :func:`portable_name` returns (longer ones keep their start and a hash of the whole)
MAX_NAME = 64


def portable_name(name: str, *, max_len: int = MAX_NAME) -> str:
    """``name`` (a Grafana uid) as a file or folder name valid on Windows, macOS and Linux alike: only letters,
    digits, ``-``, ``_`` and ``.``; no leading or trailing dot or space; not a reserved device name (``con``,
    ``nul``, ``com1``... with or without an extension, any case: prefixed with ``_``); at most ``max_len``
    characters (the start of the name and 8 hex digits of its sha256). Never empty."""
    import hashlib

    text = str(name)
    keep = "".join(c if (c.isascii() and c.isalnum()) or c in "-_." else "_" for c in text).strip(". ") or "_"
    if keep.split(".", 1)[0].lower() in WINDOWS_RESERVED:
        keep = "_" + keep
    if len(keep) > max_len:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        keep = keep[: max_len - 9].rstrip(". ") + "~" + digest
    return keep
