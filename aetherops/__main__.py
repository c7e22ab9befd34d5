"""``python -m aetherops`` and the ``aetherops`` console script.

This module imports neither click nor pluggy: ``aetherops --help`` is answered
from the last rendering of that same help (the help cache) when nothing it was
built from has changed, which skips importing click, pluggy and every plugin's
hook module, most of the command's start-up time. The cache entry records

- the command line, the ``AETHEROPS_*``, locale, colour and ``COLUMNS``/``LINES``
  variables (their names and a SHA-256 of their values: one may hold a secret),
  the terminal size and the Python version (:func:`help_key`);
- every sys.path folder's mtime (installing or removing a package changes it,
  as for the entry-point cache in :mod:`aetherops.plugins`);
- the path, mtime and size of every non-standard-library module file the CLI
  imported to build that help (aetherops, click, pluggy, each plugin's modules),
  so editing a plugin's source (an editable install) re-renders it.

Any difference, a start-up warning (a broken plugin), ``AETHEROPS_TRACE_PLUGINS``
or ``AETHEROPS_NO_PLUGIN_CACHE=1`` means the full CLI runs, as without a cache.
"""

from __future__ import annotations

import os
import sys

HELP_ARGS = (["--help"], ["-h"])
_FORMAT = 1
_TRUTHY = ("1", "true", "yes", "on")
#: variables besides AETHEROPS_* that can change what `--help` prints
_HELP_ENV = ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "PYTHONPATH")


def site_key() -> list:
    """What the installed distributions depend on: every sys.path folder and its mtime
    (installing, upgrading or removing a package changes its site-packages folder)."""
    key = []
    for entry in sys.path:
        try:
            key.append([entry, os.stat(entry or ".").st_mtime_ns])
        except OSError:
            key.append([entry, None])
    return key


def cache_dir() -> str:
    """The user cache dir all three caches (help, entry points, parsed profiles) live in. Worked out by hand
    rather than with platformdirs (and built with os.path, not pathlib): importing those costs more than
    the caches save on every start."""
    override = os.environ.get("AETHEROPS_CACHE_DIR")
    if override:
        return override
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        return os.path.join(os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local"), "aetherops", "Cache")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Caches", "aetherops")
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"), "aetherops")


def cache_path(prefix: str) -> str:
    """``<prefix>-<id>.marshal`` in :func:`cache_dir`, one per interpreter and sys.path."""
    import zlib

    # one file per sys.path: `aetherops` (script dir first) and `python -m aetherops` (cwd first) differ, and
    # sharing one file made each invalidate the other's cache on every alternate run
    ident = "\0".join([sys.prefix, *sys.path]).encode("utf-8", "surrogatepass")
    return os.path.join(cache_dir(), f"{prefix}-{zlib.crc32(ident):08x}.marshal")


def load_cache(path: str) -> dict | None:
    """The dict a cache file holds, or None when there is none or it is unreadable (each cache checks its key)."""
    import marshal

    try:
        with open(path, "rb") as fh:
            entry = marshal.load(fh)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return entry if isinstance(entry, dict) else None


def store_cache(path: str, entry: dict) -> None:
    """Write a cache file atomically (temp file, then rename), readable by the user only (a profile's cache holds
    its settings). ValueError when marshal does not take a value; a file that cannot be written is skipped."""
    import marshal

    blob = marshal.dumps(entry)
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)
    except OSError:
        pass


def help_key(args: list[str], prog_name: str) -> list | None:
    """The help cache's key for this command line, or None when the help cache does not apply to it."""
    if args not in HELP_ARGS:
        return None
    env = os.environ
    if (env.get("AETHEROPS_NO_PLUGIN_CACHE", "").lower() in _TRUTHY
            or env.get("AETHEROPS_TRACE_PLUGINS", "").lower() in _TRUTHY
            or any(k.startswith("_AETHEROPS_COMPLETE") for k in env)):
        return None
    try:
        size = list(os.get_terminal_size(sys.__stdout__.fileno()))  # what shutil.get_terminal_size (click) reads
    except (AttributeError, ValueError, OSError):
        size = None
    variables = sorted([k, v] for k, v in env.items() if k.startswith("AETHEROPS_") or k in _HELP_ENV)
    # an AETHEROPS_* variable may hold a secret (a profile's token_env): the file keeps a digest of the values only
    digest = _sha256(repr(variables).encode("utf-8", "surrogatepass"))
    return [_FORMAT, sys.hexversion, prog_name, args, [k for k, _ in variables], digest, size, site_key()]


def _sha256(data: bytes) -> str:
    """hashlib.sha256, from the builtin module hashlib itself wraps when there is one: importing hashlib (OpenSSL)
    costs ten times as much, a sixth of an `aetherops --help` answered from the cache."""
    try:
        from _sha2 import sha256  # Python 3.12+
    except ImportError:
        try:
            from _sha256 import sha256  # Python 3.11
        except ImportError:
            from hashlib import sha256
    return sha256(data).hexdigest()


def cached_help(key: list) -> str | None:
    """The text `--help` printed last time under ``key``, if every file it was built from is unchanged."""
    entry = load_cache(cache_path("help"))
    try:
        if entry is None or entry["key"] != key:
            return None
        for path, mtime, size in entry["files"]:
            st = os.stat(path)
            if st.st_mtime_ns != mtime or st.st_size != size:
                return None
        text = entry["text"]
    except (OSError, ValueError, EOFError, KeyError, TypeError, AttributeError):
        return None
    return text if isinstance(text, str) else None


def store_help(key: list, text: str) -> None:
    """Remember ``text`` as the output of the `--help` of ``key``, with the module files it was built from."""
    stdlib = os.path.dirname(os.__file__)
    files = []
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or (path.startswith(stdlib) and "-packages" not in path):
            continue
        try:
            st = os.stat(path)
        except OSError:
            return  # built from something that is gone already: do not cache
        files.append([path, st.st_mtime_ns, st.st_size])
    store_cache(cache_path("help"), {"key": key, "files": sorted(files), "text": text})


def main(argv: list[str] | None = None, prog_name: str = "aetherops") -> None:
    """Console-script entry point: `--help` from the help cache when it is current, else :func:`aetherops.cli.main`."""
    args = list(sys.argv[1:] if argv is None else argv)
    key = help_key(args, prog_name)
    text = cached_help(key) if key is not None else None
    if text is not None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            pass
        except (UnicodeEncodeError, ValueError, OSError):
            text = None  # nothing (or a part) written: let the CLI print it its own way
        if text is not None:
            sys.exit(0)
    from aetherops.cli import main as cli_main

    try:
        cli_main(args, prog_name=prog_name, help_cache=key)
    finally:
        # The process ends now. Python's last garbage collection at shutdown walks every object still alive (click,
        # pluggy, httpx and the plugins: ~15-20 ms, an eighth of `aetherops maintenance`) only to find the few
        # cycles left; freezing them skips that walk. Memory goes back to the OS, atexit handlers and refcounted
        # objects' finalizers still run, and in-process callers of aetherops.cli.main are not affected.
        import gc

        gc.freeze()


if __name__ == "__main__":
    main(prog_name="aetherops")
