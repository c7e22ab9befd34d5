"""Writing files so that a reader never sees a half-written one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from aetherops.errors import ConfigError


def write_atomically(path: str | os.PathLike, data: str | bytes, *, make_parents: bool = False) -> Path:
    """Write ``data`` to a temp file beside ``path``, then rename it over ``path``.

    Text is written as UTF-8 with ``\\n`` line ends. The result has ordinary permissions (0666 minus the
    umask, not mkstemp's 0600). A missing directory is created with ``make_parents``, else it is an error;
    any OS error leaves no temp file behind and becomes a :class:`ConfigError` naming ``path``.
    """
    path = Path(path)
    if make_parents:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the directory: {exc.strerror}", path=path.parent) from None
    elif not path.parent.exists():
        raise ConfigError("the directory to write into does not exist", path=path.parent)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ConfigError(f"cannot write: {exc.strerror}", path=path) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ConfigError(f"cannot write: {exc.strerror}", path=path) from None
        raise
    return path
