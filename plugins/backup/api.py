"""The contract between ``aetherops backup`` / ``aetherops restore`` and the things they save.

A *backup component* is any object with a ``name`` and a ``backup(job)``
method; it may also have ``restore(job)``. Components are contributed through
the ``aetherops_backup_components(context)`` hook; the built-in ones (grafana,
prometheus, alertmanager, silences, configs) use the very same hook.

A component never opens files of the backup itself: it writes through the
:class:`BackupJob` it is given (``job.write_json``, ``job.write_text``,
``job.copy_file``, ``job.copy_tree``...), which places the file under the
component's folder, hashes it on the way and records it for the manifest.
Restores read through the :class:`RestoreJob` and report every intended change
with ``job.plan(...)`` before (and instead of, under ``--dry-run``) making it.

Minimal third-party component::

    import aetherops

    class LokiRules:
        name = "loki"
        description = "Loki ruler rules"

        def backup(self, job):
            if not job.profile.section("loki").get("url"):
                job.skip("no loki.url in the profile")
            job.write_text("rules.yaml", fetch_rules())
            job.count("rule_files")

        def restore(self, job):
            job.plan("rules", "rules.yaml", "manual", "load with lokitool")

    @aetherops.hookimpl
    def aetherops_backup_components(context):
        return [LokiRules()]

This module is importable by third parties as ``aetherops_plugins.backup.api``;
it imports only the standard library (and aetherops' redact helpers).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Callable, Iterator, Protocol, runtime_checkable

from aetherops_plugins.backup.paths import Confined, UnsafePathError, check_relpath, make_private_dirs, safe_join

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context
    from aetherops.profiles import Profile

__all__ = [
    "BackupComponent",
    "BackupJob",
    "RestoreJob",
    "PlanItem",
    "SkipComponent",
    "ComponentFailed",
    "sha256_file",
    "open_private",
    "safe_join",
    "UnsafePathError",
    "CHUNK",
]

CHUNK = 1024 * 1024


@runtime_checkable
class BackupComponent(Protocol):
    """What ``aetherops_backup_components`` returns a list of.

    Attributes and methods:

    - ``name`` (str): unique; the folder of the backup the component writes to,
      and what ``--only`` / ``--exclude`` select.
    - ``description`` (str, optional): one line for ``--help``-style listings.
    - ``default`` (bool, optional, default True): whether a plain ``aetherops
      backup`` includes it (False: only with ``--only NAME``).
    - ``restore_default`` (bool, optional, default True): whether a plain
      ``aetherops restore`` restores it (False: only with ``--only NAME``).
    - ``backup(job)``: write the files; call ``job.skip(reason)`` when the
      profile does not offer the service; raise ``aetherops.errors.ServiceError``
      when a configured service is down (the backup then fails with exit 3).
    - ``restore(job)`` (optional): report the plan with ``job.plan(...)``; when
      ``job.dry_run`` is false, apply it. It is called twice: once with
      ``dry_run=True`` to plan (before the safety backup), then for real.
    """

    name: str

    def backup(self, job: BackupJob) -> None: ...


class SkipComponent(Exception):
    """Raised by ``job.skip(reason)``: the profile does not offer this component (not an error)."""


class ComponentFailed(Exception):
    """A component could not do its work; the message says why (the backup fails)."""


def sha256_file(path: Path) -> tuple[int, str]:
    """(size, sha256 hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


def open_private(path: str | os.PathLike, *, exclusive: bool = False, mode: int = 0o600):
    """Open ``path`` for writing bytes, created with ``mode`` (0600: backups hold sensitive configs; on
    Windows the file inherits its folder's ACL). Never follows a symlink at ``path``; ``exclusive``
    refuses an existing file."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    flags |= getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, mode)
    try:
        if os.name == "posix":
            os.fchmod(fd, mode)  # an existing file keeps its mode through O_TRUNC otherwise
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


def _safe_rel(relpath: str | os.PathLike) -> PurePosixPath:
    """A path a component writes or reads, relative to its folder (see ``paths.check_relpath``)."""
    return check_relpath(relpath, what="backup path")


def _json_bytes(data: Any, compact: bool = False) -> bytes:
    if compact:  # the C encoder: ten times faster than indent=2, which only has a pure-Python implementation
        return (json.dumps(data, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":")) + "\n").encode("utf-8")
    pretty = _orjson_bytes(data)
    if pretty is not None:
        return pretty
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def _orjson_bytes(data: Any) -> bytes | None:
    """Indented, sorted JSON through orjson (the same text as ``json.dumps(indent=2, sort_keys=True)`` for what a
    backup holds, 50x faster: pretty-printed dashboards cost no more than one-line ones); None without orjson or
    for what it does not take (non-string keys, integers past 64 bits): then the json module writes it."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - a dependency; the json module is the fallback
        return None
    option = (orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE | orjson.OPT_PASSTHROUGH_DATETIME
              | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS)
    try:
        return orjson.dumps(data, default=str, option=option)
    except (TypeError, orjson.JSONEncodeError):
        return None


class BackupJob:
    """What a component writes through during ``aetherops backup``.

    ``root`` is the component's folder inside the (still partial) backup.
    Every method is thread-safe, so a component may write from a worker pool.
    """

    def __init__(self, name: str, root: Path, *, context: Context, profile: Profile, concurrency: int = 16,
                 keep_going: bool = False, progress: Callable[[int | None, str], Any] | None = None):
        self.name = name
        self.root = Path(root)
        self.context = context
        self.profile = profile
        self.concurrency = max(1, int(concurrency))
        self.keep_going = keep_going
        self.files: dict[str, dict[str, Any]] = {}  # "component/rel" -> {size, sha256}
        self.counts: dict[str, int] = {}
        self.warnings: list[str] = []
        self.notes: list[str] = []
        self.missing: list[dict[str, Any]] = []
        self.meta: dict[str, Any] = {}
        self.server: dict[str, Any] | None = None
        self._progress = progress
        self._lock = threading.Lock()
        self._dirs: set[Path] = set()

    # -- profile and clients
    def section(self, name: str) -> Any:
        """A section of the profile being backed up, defaults filled in."""
        return self.profile.section(name)

    def has_service(self, name: str) -> bool:
        """Whether the profile gives ``name.url``."""
        return bool((self.profile.section(name) or {}).get("url"))

    def client(self, service: str):
        """The core's client for ``service`` of this profile (PrometheusClient, AlertmanagerClient, GrafanaClient)."""
        return self.context.client(service, self.profile)

    # -- outcome
    def skip(self, reason: str) -> None:
        """Stop here: the profile does not offer this component. Recorded as a note, not an error."""
        raise SkipComponent(reason)

    def note(self, message: str) -> None:
        with self._lock:
            self.notes.append(message)

    def warn(self, message: str) -> None:
        with self._lock:
            self.warnings.append(message)

    def count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def add_missing(self, kind: str, ident: str, error: str, **extra: Any) -> None:
        """With ``--keep-going``: an item that could not be saved (listed in the manifest, exit 1)."""
        with self._lock:
            self.missing.append({"component": self.name, "kind": kind, "id": ident, "error": error, **extra})

    def record_server(self, url: str, version: str | None = None, **extra: Any) -> None:
        """The server this component read from (shown in the manifest)."""
        self.server = {"url": url, "version": version, **extra}

    def progress(self, total: int | None, description: str):
        """A context manager yielding ``advance(n=1)`` (a bar on a terminal, nothing when piped)."""
        if self._progress is None:
            import contextlib

            return contextlib.nullcontext(lambda n=1: None)
        return self._progress(total, description)

    # -- writing
    def path(self, relpath: str | os.PathLike) -> Path:
        """The absolute path of ``relpath`` inside the component folder (parents created)."""
        rel = _safe_rel(relpath)
        target = self.root.joinpath(*rel.parts)
        parent = target.parent
        if parent not in self._dirs:
            with self._lock:
                if not self.root.is_dir():
                    self.root.parent.mkdir(parents=True, exist_ok=True)
                    make_private_dirs(self.root.parent, self.root)
                make_private_dirs(self.root, parent)
                self._dirs.add(parent)
        return target

    def _record(self, rel: PurePosixPath, size: int, digest: str) -> str:
        key = f"{self.name}/{rel.as_posix()}"
        with self._lock:
            self.files[key] = {"size": size, "sha256": digest}
        return key

    def _mask(self, rel: PurePosixPath, data: bytes, source: str | None = None, *, quiet: bool = False) -> bytes:
        """``data`` with the secrets registered by profiles masked (text only; whole values in secret fields,
        the file still parses: see ``masking``), with a warning naming the file unless ``quiet``."""
        from aetherops.redact import known_secrets
        from aetherops_plugins.backup.masking import MaskingError, mask_text

        secrets = known_secrets()
        if not secrets:
            return data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return data
        where = source or f"{self.name}/{rel.as_posix()}"
        try:
            masked, count, notes = mask_text(text, secrets)
        except MaskingError as exc:
            raise ComponentFailed(f"{where}: {exc}; take the secret out of the file or leave the file out of the backup") from None
        for note in notes:
            self.warn(f"{where}: {note}")
        if not count:
            return data
        if not quiet:
            self.warn(f"{where}: a secret of the profile was masked in the copy")
        return masked.encode("utf-8")

    def write_bytes(self, relpath: str | os.PathLike, data: bytes, *, source: str | None = None,
                    source_mode: int | None = None) -> str:
        """Write ``data`` (UTF-8 text in it has the secrets registered by profiles masked, with a warning
        naming ``source`` or the file); returns the path recorded in the manifest. The file is 0600, or
        ``source_mode`` (the copied file's ``st_mode``) when that is stricter."""
        rel = _safe_rel(relpath)
        data = self._mask(rel, data, source)
        target = self.path(rel.as_posix())
        try:
            with open_private(target, mode=_private_mode(source_mode)) as fh:
                fh.write(data)
        except OSError as exc:  # disk full: name the destination, not only the errno
            raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc
        return self._record(rel, len(data), hashlib.sha256(data).hexdigest())

    def write_text(self, relpath: str | os.PathLike, text: str) -> str:
        """Write UTF-8 text (secrets registered by profiles are masked, whole values only)."""
        rel = _safe_rel(relpath)
        return self._write_masked(rel, self._mask(rel, text.encode("utf-8"), quiet=True))

    def write_json(self, relpath: str | os.PathLike, data: Any, *, compact: bool = False, mask: bool = True) -> str:
        """Write stable JSON (sorted keys; indented, or one line with ``compact``). Secrets registered by
        profiles are masked (whole string values) unless ``mask=False`` (an index of paths, which must
        stay exact)."""
        from aetherops.redact import known_secrets

        data_bytes = _json_bytes(data, compact)
        secrets = known_secrets() if mask else ()
        if secrets and any(s in data_bytes.decode("utf-8") for s in secrets):
            from aetherops_plugins.backup.masking import MASK, is_strong, mask_data

            text = _json_bytes(mask_data(data, secrets)[0], compact).decode("utf-8")
            for secret in (s for s in secrets if is_strong(s) and s in text):  # in a key: inside quotes, stays JSON
                text = text.replace(secret, MASK)
            data_bytes = text.encode("utf-8")
        return self._write_masked(relpath, data_bytes)

    def _write_masked(self, relpath: str | os.PathLike, data: bytes, *, source_mode: int | None = None) -> str:
        """Write bytes already masked (write_text / write_json mask silently: that is what they promise)."""
        rel = _safe_rel(relpath)
        target = self.path(rel.as_posix())
        try:
            with open_private(target, mode=_private_mode(source_mode)) as fh:
                fh.write(data)
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc
        return self._record(rel, len(data), hashlib.sha256(data).hexdigest())

    def copy_file(self, source: str | os.PathLike, relpath: str | os.PathLike, *, link: bool = False) -> str:
        """Copy a file in (hard-linked when ``link`` and possible); hashed from the copy.

        Without ``link`` a text file has the secrets registered by profiles masked (with a warning);
        hard links (TSDB snapshot blocks) are never rewritten."""
        from aetherops.redact import known_secrets

        rel = _safe_rel(relpath)
        target = self.path(rel)
        try:
            if link:  # a hard link shares the source's inode and mode: the 0700 folder keeps others out
                try:
                    os.link(source, target)
                except OSError:
                    _copy_private(source, target)
            elif known_secrets() and os.path.getsize(source) <= 16 * CHUNK:
                data = Path(source).read_bytes()
                masked = self._mask(rel, data, str(source))
                if masked is not data:
                    return self._write_masked(rel, masked, source_mode=os.stat(source).st_mode)
                _copy_private(source, target)
            else:
                _copy_private(source, target)
        except OSError as exc:
            if exc.filename:  # the source cannot be read, or the target cannot be created: already named
                raise
            raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc
        size, digest = sha256_file(target)
        return self._record(rel, size, digest)

    def copy_tree(self, source: str | os.PathLike, relpath: str | os.PathLike, *, link: bool = True) -> int:
        """Copy a directory tree in, hard-linking files where possible; returns the number of files.

        When the files are really copied (no hard link: another filesystem, or ``link=False``) a progress bar in
        MiB is shown on a terminal (``progress``): a TSDB snapshot can be gigabytes. Linking takes no time."""
        source = Path(source)
        base = _safe_rel(relpath)
        files: list[tuple[Path, PurePosixPath]] = []
        for dirpath, dirnames, filenames in os.walk(source):
            dirnames.sort()
            for filename in sorted(filenames):
                src = Path(dirpath) / filename
                files.append((src, base.joinpath(*src.relative_to(source).parts)))
        if not files:
            return 0
        first_src, first_rel = files[0]
        self.copy_file(first_src, first_rel, link=link)
        if link and _same_file(first_src, self.root.joinpath(*first_rel.parts)):
            for src, rel in files[1:]:
                self.copy_file(src, rel, link=True)
            return len(files)
        sizes = [_size(src) for src, _ in files[1:]]
        with self.progress(max(1, -(-sum(sizes) // MIB)), f"{self.name}: copying {base.as_posix()} (MiB, no hard link)") as advance:
            for (src, rel), size in zip(files[1:], sizes):
                self.copy_file(src, rel, link=link)
                advance(size / MIB)
        return len(files)


MIB = 1024 * 1024


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _private_mode(source_mode: int | None) -> int:
    """0600, or the source's owner bits when stricter (owner read is kept: verify must read the file)."""
    return 0o600 if source_mode is None else (source_mode & 0o600) | 0o400


def _copy_private(source: str | os.PathLike, target: Path) -> None:
    """Copy ``source`` (data and times) to a new ``target`` made 0600, or the source's mode when stricter."""
    st = os.stat(source)
    with open(source, "rb") as src, open_private(target, mode=_private_mode(st.st_mode)) as dst:
        shutil.copyfileobj(src, dst, CHUNK)
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))


@dataclass
class PlanItem:
    """One intended change of a restore: ``action`` is create, update, unchanged, conflict, skip, manual, delete."""

    component: str
    kind: str
    name: str
    action: str
    detail: str = ""
    diff: str | None = None
    applied: bool = False
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        d = {"component": self.component, "kind": self.kind, "name": self.name, "action": self.action,
             "detail": self.detail, "applied": self.applied}
        if self.error:
            d["error"] = self.error
        if self.diff is not None:
            d["diff"] = self.diff
        return d


CHANGING_ACTIONS = frozenset({"create", "update", "overwrite", "delete"})


@dataclass
class RestoreJob:
    """What a component reads from and reports through during ``aetherops restore``.

    - ``root``: the component's folder in the (verified) backup.
    - ``manifest``: the whole MANIFEST.json; ``entry``: this component's part of it.
    - ``context`` / ``profile``: the target (``--to-profile`` or the selected profile).
    - ``dry_run``, ``force``, ``diff``: the command-line switches.
    - ``options``: ``folder_map`` (dict), ``datasource_uid_map`` (dict), ``configs_to`` (Path or None),
      ``concurrency`` (int), and anything a plugin adds.
    """

    name: str
    root: Path
    manifest: dict[str, Any]
    context: Any
    profile: Any
    dry_run: bool = True
    force: bool = False
    diff: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    items: list[PlanItem] = field(default_factory=list)
    instructions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _confined: Any = field(default=None, repr=False)

    @property
    def entry(self) -> dict[str, Any]:
        return (self.manifest.get("components") or {}).get(self.name, {})

    def client(self, service: str):
        return self.context.client(service, self.profile)

    def has_service(self, name: str) -> bool:
        return bool((self.profile.section(name) or {}).get("url"))

    def _listed(self, relpath: str) -> Path | None:
        """The file ``relpath`` of this component when MANIFEST.json lists it (a restore reads nothing
        else); UnsafePathError when the path would leave the backup folder."""
        rel = _safe_rel(relpath)
        key = f"{self.name}/{rel.as_posix()}"
        if self._confined is None:
            self._confined = Confined(self.root.parent)
        target = self._confined.join(key, what="path in the backup")
        return target if key in (self.manifest.get("files") or {}) else None

    def exists(self, relpath: str) -> bool:
        """Whether the backup has the file ``relpath`` (listed in MANIFEST.json and on disk)."""
        target = self._listed(relpath)
        return target is not None and target.is_file()

    def read_bytes(self, relpath: str) -> bytes:
        """The file ``relpath`` of this component; UnsafePathError (exit 4) for a path outside the backup
        folder or one MANIFEST.json does not list."""
        target = self._listed(relpath)
        if target is None:
            raise UnsafePathError(f"{self.name}/{relpath} is not listed in MANIFEST.json; restore reads only files the "
                                  "manifest checks")
        return target.read_bytes()

    def read_text(self, relpath: str) -> str:
        return self.read_bytes(relpath).decode("utf-8")

    def read_json(self, relpath: str) -> Any:
        return json.loads(self.read_bytes(relpath))

    def files(self, under: str = "") -> Iterator[str]:
        """Paths (relative to the component folder) of the files the manifest lists under ``under``."""
        prefix = f"{self.name}/{under.strip('/')}/" if under else f"{self.name}/"
        for key in sorted(self.manifest.get("files", {})):
            if key.startswith(prefix):
                yield key[len(self.name) + 1:]

    def plan(self, kind: str, name: str, action: str, detail: str = "", *, diff: str | None = None) -> PlanItem:
        """Report one intended change; returns the item (set ``.applied`` / ``.error`` after applying it)."""
        item = PlanItem(self.name, kind, name, action, detail, diff if self.diff else None)
        with self._lock:
            self.items.append(item)
        return item

    def instruct(self, text: str) -> None:
        """A manual step printed after the plan (e.g. how to load a Prometheus snapshot)."""
        self.instructions.append(text)

    def warn(self, message: str) -> None:
        with self._lock:
            self.warnings.append(message)


def describe_counts(counts: dict[str, int], leave_out: tuple[str, ...] = ()) -> list[str]:
    """``{"dashboards": 3, "folders": 1}`` -> ``["3 dashboards", "1 folder"]``: the parts of a summary line.

    The backup command prints this for a component without ``describe(summary)``; a component's own
    ``describe`` uses it for the counts it has nothing more to say about."""
    parts = []
    for key, value in counts.items():
        if key in leave_out:
            continue
        label = key.replace("_", " ")
        if value == 1 and label.endswith("s"):
            label = label[:-1]
        parts.append(f"{value} {label}")
    return parts
