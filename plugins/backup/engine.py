"""``aetherops backup``: run every component into ``<dir>/<profile>/<UTC stamp>.partial/``, hash every
file, write MANIFEST.json and RESTORE.md, then rename the folder into place (atomic)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

import click

from aetherops.errors import AetheropsError, ConfigError, FindingsError, ServiceError
from aetherops_plugins.backup import DEFAULT_CONCURRENCY  # one declared default: the profile Field's
from aetherops_plugins.backup.api import BackupJob, ComponentFailed, SkipComponent, open_private, sha256_file
from aetherops_plugins.backup.archive import write_archive
from aetherops_plugins.backup.manifest import (
    FORMAT,
    MANIFEST,
    MARKER,
    PARTIAL_SUFFIX,
    RESTORE_MD,
    record_verification,
    restore_markdown,
    utc_stamp,
)

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context
    from aetherops.profiles import Profile


def collect_components(ctx: Context) -> dict[str, Any]:
    """Every component contributed through ``aetherops_backup_components``, by name (a broken plugin or
    component is a warning naming the plugin; the others are backed up)."""

    def problem(component: Any) -> str | None:
        name = getattr(component, "name", None)
        if not name or not isinstance(name, str) or not callable(getattr(component, "backup", None)):
            return "no name or no backup(job) method"
        return None

    return {c.name: c for c in ctx.pm.collect("aetherops_backup_components", validate=problem, context=ctx)}


def parse_names(value: str | Iterable[str] | None) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        value = [value]
    return [n.strip() for v in value for n in str(v).split(",") if n.strip()]


def select_components(components: dict[str, Any], only: list[str], exclude: list[str], *,
                      default_attr: str = "default") -> dict[str, Any]:
    unknown = [n for n in [*only, *exclude] if n not in components]
    if unknown:
        raise click.BadParameter(f"unknown component(s) {', '.join(unknown)}; known: {', '.join(sorted(components))}",
                                 param_hint="--only/--exclude")
    if only:
        chosen = {n: components[n] for n in components if n in only}
    else:
        chosen = {n: c for n, c in components.items() if getattr(c, default_attr, True)}
    return {n: c for n, c in chosen.items() if n not in exclude}


def _unique_target(profile_dir: Path, stamp: str) -> str:
    name, i = stamp, 1
    # an archive-only backup (its folder deleted) still owns its name
    while any((profile_dir / f"{name}{suffix}").exists() for suffix in ("", PARTIAL_SUFFIX, ".tar.gz")):
        i += 1
        name = f"{stamp}-{i}"
    return name


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def run_backup(ctx: Context, *, base_dir: Path, only: list[str] | None = None, exclude: list[str] | None = None,
               archive: bool = False, concurrency: int = DEFAULT_CONCURRENCY, keep_going: bool = False,
               profile: Profile | None = None, kind: str = "backup", components: dict[str, Any] | None = None,
               quiet: bool = False) -> dict[str, Any]:
    """Make one backup; returns the result (also what ``--output json`` prints).

    Raises ServiceError (exit 3) when a configured service is down, FindingsError (exit 1) when a
    component failed; either way no complete-looking folder is left behind. SIGTERM, like Ctrl-C,
    removes the ``.partial`` folder and exits 130.
    """
    with _terminate_as_interrupt():
        return _run_backup(ctx, base_dir=base_dir, only=only, exclude=exclude, archive=archive, concurrency=concurrency,
                           keep_going=keep_going, profile=profile, kind=kind, components=components, quiet=quiet)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """While a backup runs, SIGTERM raises KeyboardInterrupt like Ctrl-C does, so the cleanup that removes
    the ``.partial`` folder runs. Only where the platform has SIGTERM and in the main thread (signal
    handlers can only be set there); elsewhere nothing changes."""
    sigterm = getattr(signal, "SIGTERM", None)
    if sigterm is None or os.name == "nt" or threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        previous = signal.signal(sigterm, interrupt)
    except (ValueError, OSError):  # not settable here (embedded interpreter)
        yield
        return
    try:
        yield
    finally:
        signal.signal(sigterm, previous)


def _make_backup_folder(partial: Path, started: datetime) -> None:
    """The ``.partial`` folder, 0700 (its parents too when this creates them), with the marker that tells
    prune this tool made it."""
    import json

    parent = partial.parent
    missing = []
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    partial.mkdir(mode=0o700)
    if os.name == "posix":
        os.chmod(partial, 0o700)
    with open_private(partial / MARKER, exclusive=True) as fh:
        fh.write((json.dumps({"tool": "aetherops", "started": _iso(started)}) + "\n").encode("utf-8"))


def _run_backup(ctx: Context, *, base_dir: Path, only: list[str] | None, exclude: list[str] | None, archive: bool,
                concurrency: int, keep_going: bool, profile: Profile | None, kind: str, components: dict[str, Any] | None,
                quiet: bool) -> dict[str, Any]:
    from aetherops import __version__

    profile = profile or ctx.profile
    all_components = components if components is not None else collect_components(ctx)
    chosen = select_components(all_components, only or [], exclude or [])
    if not chosen:
        raise click.UsageError("nothing to back up: no component selected")

    register_profile_secrets(profile)
    defaults = {n for n, c in all_components.items() if getattr(c, "default", True)}
    scope = "full" if defaults <= set(chosen) else "partial"

    profile_dir = Path(base_dir) / profile.name
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    name = _unique_target(profile_dir, utc_stamp(started))
    partial = profile_dir / f"{name}{PARTIAL_SUFFIX}"
    final = profile_dir / name
    try:
        _make_backup_folder(partial, started)
    except OSError as exc:
        raise FindingsError(f"cannot create the backup folder {partial}: {exc.strerror or exc}") from None

    manifest: dict[str, Any] = {
        "format": FORMAT,
        "tool": "aetherops",
        "tool_version": __version__,
        "kind": kind,
        "scope": scope,
        "selected": sorted(chosen),
        "profile": profile.name,
        "host": socket.gethostname(),
        "started": _iso(started),
        "servers": {},
        "components": {},
        "files": {},
    }
    missing: list[dict] = []
    try:
        for cname, component in chosen.items():
            job = BackupJob(cname, partial / cname, context=ctx, profile=profile, concurrency=concurrency,
                            keep_going=keep_going, progress=None if quiet else ctx.output.progress)
            entry: dict[str, Any] = {"status": "ok"}
            c0 = time.perf_counter()
            try:
                component.backup(job)
            except SkipComponent as exc:
                entry = {"status": "skipped", "reason": str(exc)}
                shutil.rmtree(job.root, ignore_errors=True)
                job.files.clear()
            except (ServiceError, ConfigError) as exc:
                raise _Failed(cname, exc) from None
            except AetheropsError as exc:
                raise _Failed(cname, exc) from None
            except ComponentFailed as exc:
                raise _Failed(cname, FindingsError(str(exc))) from None
            except click.exceptions.Exit:
                raise
            except OSError as exc:  # disk full, permissions...
                where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
                raise _Failed(cname, FindingsError(f"cannot write the backup: {exc.strerror or exc}{where}")) from None
            except Exception as exc:  # noqa: BLE001 - a third-party component's bug fails the backup, in one line
                raise _Failed(cname, FindingsError(f"{type(exc).__name__}: {exc}")) from None
            entry.update({
                "description": getattr(component, "description", ""),
                "plugin": _plugin_of(ctx, component),
                "counts": dict(sorted(job.counts.items())),
                "warnings": job.warnings,
                "notes": job.notes,
                "meta": job.meta,
                "files": len(job.files),
                "duration_s": round(time.perf_counter() - c0, 3),
            })
            if job.missing:
                entry["status"] = "incomplete"
                entry["missing"] = job.missing
                missing.extend(job.missing)
            elif job.warnings and entry["status"] == "ok":
                entry["status"] = "ok"
            manifest["components"][cname] = entry
            if job.server:
                manifest["servers"][cname] = job.server
            manifest["files"].update(job.files)

        if kind != "safety" and all(c.get("status") == "skipped" for c in manifest["components"].values()):
            reasons = "; ".join(f"{n}: {c.get('reason')}" for n, c in manifest["components"].items())
            raise _Failed("*", FindingsError(f"nothing was backed up: every selected component was skipped ({reasons})"))

        # Anything on disk that no job recorded (a component writing beside the API) gets hashed too;
        # anything recorded but absent fails the backup.
        _reconcile(partial, manifest["files"])
        finished = datetime.now(timezone.utc)
        manifest["finished"] = _iso(finished)
        manifest["duration_s"] = round(time.perf_counter() - t0, 3)
        manifest["complete"] = not missing
        manifest["missing"] = missing
        restore_text = restore_markdown(manifest)
        data = restore_text.encode("utf-8")
        _write_atomic(partial / RESTORE_MD, data)
        import hashlib

        manifest["files"][RESTORE_MD] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        manifest["files"] = dict(sorted(manifest["files"].items()))
        manifest["totals"] = {"files": len(manifest["files"]), "bytes": sum(f["size"] for f in manifest["files"].values())}
        from aetherops.output import dumps

        _write_atomic(partial / MANIFEST, dumps(manifest).encode("utf-8"))
        _fsync_dir(partial)

        archive_info = None
        if archive:
            try:
                archive_info = write_archive(partial, profile_dir, name)
            except OSError as exc:
                if not exc.filename:
                    raise OSError(exc.errno, exc.strerror or str(exc), str(profile_dir / f"{name}.tar.gz")) from exc
                raise
        os.replace(partial, final)
        if archive_info:
            os.replace(archive_info["tmp"], archive_info["path"])
            os.replace(archive_info["sha_tmp"], archive_info["sha_path"])
        record_verification(final, True, how="backup")
    except _Failed as failure:
        _discard(partial, profile_dir, name)
        exc = failure.error
        if failure.component == "*":
            raise _with_message(exc, f"{exc.format_message()}; nothing was kept") from None
        message = f"backup failed in component '{failure.component}': {exc.format_message()}; nothing was kept (removed {partial})"
        raise _with_message(exc, message) from None
    except OSError as exc:  # writing the manifest, the archive, or the final rename
        _discard(partial, profile_dir, name)
        raise FindingsError(f"backup failed: cannot write {exc.filename or partial}: {exc.strerror or exc}; nothing was kept") from None
    except BaseException:
        _discard(partial, profile_dir, name)
        raise

    return {
        "path": str(final),
        "name": name,
        "profile": profile.name,
        "kind": kind,
        "complete": manifest["complete"],
        "started": manifest["started"],
        "finished": manifest["finished"],
        "duration_s": manifest["duration_s"],
        "files": manifest["totals"]["files"],
        "bytes": manifest["totals"]["bytes"],
        "servers": manifest["servers"],
        "components": {n: {k: v for k, v in c.items() if k in ("status", "reason", "counts", "files", "warnings", "notes", "missing", "meta")}
                       for n, c in manifest["components"].items()},
        "missing": missing,
        "archive": {"path": str(archive_info["path"]), "sha256": archive_info["sha256"], "bytes": archive_info["bytes"]}
        if archive_info else None,
    }


def register_profile_secrets(profile: Profile) -> None:
    """Resolve every configured service of the profile, so that all its secrets (tokens, passwords) are
    registered in aetherops.redact before any file is written, whichever components run. A service that
    cannot be resolved is left alone here: a component that needs it fails properly."""
    for service in ("prometheus", "alertmanager", "grafana", "blackbox"):
        if not (profile.section(service) or {}).get("url"):
            continue
        try:
            profile.service(service)
        except ConfigError:
            pass


def _with_message(exc: AetheropsError, message: str) -> AetheropsError:
    if isinstance(exc, ServiceError):
        return ServiceError(message, url=exc.url, status=exc.status)
    if isinstance(exc, ConfigError):
        return ConfigError(message)
    err = FindingsError(message)
    err.exit_code = exc.exit_code
    return err


class _Failed(Exception):
    def __init__(self, component: str, error: AetheropsError):
        super().__init__(component)
        self.component = component
        self.error = error


def _plugin_of(ctx: Context, component: Any) -> str | None:
    module = type(component).__module__
    for name, plugin in ctx.pm.list_name_plugin():
        base = getattr(plugin, "__name__", None)
        if base and (module == base or module.startswith(base + ".")):
            return name
    return module


def _reconcile(root: Path, files: dict[str, dict]) -> None:
    on_disk = set()
    for dirpath, _dirs, filenames in os.walk(root):
        for filename in filenames:
            rel = Path(dirpath, filename).relative_to(root).as_posix()
            if rel in (MANIFEST, RESTORE_MD):
                continue
            on_disk.add(rel)
            if rel not in files:
                size, digest = sha256_file(Path(dirpath, filename))
                files[rel] = {"size": size, "sha256": digest}
    absent = sorted(set(files) - on_disk)
    if absent:
        raise _Failed(absent[0].split("/")[0], FindingsError(f"recorded but not on disk: {', '.join(absent[:5])}"))


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open_private(tmp) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _discard(partial: Path, profile_dir: Path, name: str) -> None:
    shutil.rmtree(partial, ignore_errors=True)
    for leftover in (f"{name}.tar.gz.partial", f"{name}.tar.gz.sha256.partial"):
        try:
            (profile_dir / leftover).unlink()
        except OSError:
            pass


def resolve_base_dir(ctx: Context, dir_option: str | None, profile: Profile | None = None) -> Path:
    if dir_option:
        return Path(dir_option)
    section = (profile or ctx.profile).section("backup") or {}
    return Path(os.path.expanduser(str(section.get("dir") or "backups")))


# ---------------------------------------------------------------------- verify
def verify_path(target: Path) -> dict[str, Any]:
    """``backup verify``: a backup folder, or a ``.tar.gz`` (its .sha256 first, then unpacked and verified
    like a folder). The result's ``ok`` says whether it passed; ``error`` says why an archive cannot be read."""
    from aetherops_plugins.backup.manifest import verify_backup

    target = Path(target)
    if target.is_file() and target.name.endswith(".tar.gz"):
        return _verify_archive(target)
    if not target.is_dir():
        raise click.BadParameter(f"{target} is not a backup folder or archive", param_hint="PATH")
    return verify_backup(target).as_dict()


def _verify_archive(path: Path) -> dict[str, Any]:
    import tempfile

    from aetherops_plugins.backup.archive import TEMP_PREFIX, ArchiveError, check_sidecar, open_archive
    from aetherops_plugins.backup.manifest import verify_backup

    def failed(error: str) -> dict[str, Any]:
        return {"path": str(path), "ok": False, "files_checked": 0, "bytes": 0, "missing": [], "changed": [], "extra": [],
                "unsafe": [], "error": error}

    try:
        info = check_sidecar(path)
    except OSError as exc:
        return failed(f"cannot read archive: {exc.strerror or exc}")
    tmp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    try:
        try:
            folder = open_archive(path, tmp, sidecar=info)
        except ArchiveError as exc:
            result = failed(exc.format_message().removeprefix(f"{path}: "))
        else:
            result = verify_backup(folder).as_dict()
            result["path"] = str(path)
        record_verification(path, result["ok"])
        result["archive"] = info
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------- prune
FUTURE_SKEW = timedelta(minutes=5)


@dataclass
class PrunePlan:
    """What ``backup prune`` keeps and deletes (paths of the backups given to :func:`retention_plan`)."""

    kept: list[Any] = field(default_factory=list)
    deleted: list[Any] = field(default_factory=list)
    protected: Any = None
    safety_kept: list[Any] = field(default_factory=list)
    safety_deleted: list[Any] = field(default_factory=list)
    undated: list[Any] = field(default_factory=list)  # future or unparsable timestamp: kept, never counted


def retention_plan(backups: Sequence[Any], keep: int, *, now: datetime, verifies: Callable[[Any], bool],
                   include_safety: bool = False) -> PrunePlan:
    """The retention policy of ``backup prune``, a pure function of its inputs.

    ``backups``: backups of one profile (objects with ``kind``, ``is_full``, ``created``: what
    ``list_backups`` returns), in any order. Keeps the ``keep`` newest backups (full or ``--only``) and
    always the newest full one for which ``verifies(backup)`` is true (a partial one stands in when no
    full one verifies); ``verifies`` is called newest first and only until one passes. Safety backups
    never count towards ``keep`` and are kept unless ``include_safety`` (then the ``keep`` newest are).
    A backup whose timestamp is unparsable or in the future (beyond a few minutes of clock skew) takes
    no kept slot and is never deleted (``undated``): it cannot be placed in time."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    dated, plan = [], PrunePlan()
    for info in backups:
        created = info.created
        if created is None or created > now + FUTURE_SKEW:
            plan.undated.append(info)
        else:
            dated.append(info)
    dated.sort(key=lambda b: b.created, reverse=True)
    safety = [i for i in dated if i.kind == "safety"]
    normal = [i for i in dated if i.kind != "safety"]
    for candidates in ([i for i in normal if i.is_full], [i for i in normal if i.kind == "backup"]):
        plan.protected = next((i for i in candidates if verifies(i)), None)
        if plan.protected is not None:
            break
    for i, info in enumerate(normal):
        (plan.kept if i < keep or info is plan.protected else plan.deleted).append(info)
    plan.safety_kept = safety[:keep] if include_safety else list(safety)
    plan.safety_deleted = safety[keep:] if include_safety else []
    return plan


def run_prune(base: Path, profile: str, keep: int, *, include_safety: bool = False, dry_run: bool = False) -> dict[str, Any]:
    """``backup prune``: apply :func:`retention_plan` to the backups of ``profile`` under ``base``.

    Only folders that are backups (an aetherops MANIFEST.json, or this tool's marker) are candidates;
    anything else, symlinks included, is listed under ``not_backups`` and left alone."""
    from aetherops_plugins.backup.manifest import list_backups, remove_backup, stale_partials, verify_backup

    infos = list_backups(base, profile, include_foreign=True)
    foreign = [i for i in infos if i.foreign is not None]
    backups = [i for i in infos if i.foreign is None]
    plan = retention_plan(backups, keep, now=datetime.now(timezone.utc), include_safety=include_safety,
                          verifies=lambda info: verify_backup(info.path).ok)
    partials = stale_partials(base, profile)
    if not dry_run:
        for path in [i.path for i in plan.deleted + plan.safety_deleted] + partials:
            remove_backup(path)
    protected = plan.protected
    return {"dir": str(base), "profile": profile, "keep": keep, "dry_run": dry_run,
            "protected": str(protected.path) if protected else None,
            "protected_scope": protected.scope if protected else None,
            "protected_full": bool(protected and protected.is_full),
            "kept": [str(i.path) for i in plan.kept], "deleted": [str(i.path) for i in plan.deleted + plan.safety_deleted],
            "safety_kept": [str(i.path) for i in plan.safety_kept], "include_safety": include_safety,
            "stale_partials": [str(p) for p in partials],
            "undated": [str(i.path) for i in plan.undated],
            "not_backups": [{"path": str(i.path), "reason": i.foreign} for i in foreign],
            "backups_found": bool([i for i in backups if i.kind != "safety"])}
