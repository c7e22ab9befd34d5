"""MANIFEST.json, RESTORE.md, verification, listing and pruning of backups on disk."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aetherops_plugins.backup.api import open_private, sha256_file
from aetherops_plugins.backup.paths import Confined, UnsafePathError, is_link

MANIFEST = "MANIFEST.json"
RESTORE_MD = "RESTORE.md"
FORMAT = 1
PARTIAL_SUFFIX = ".partial"
STATE_FILE = ".aetherops-backups.json"  # per-profile folder: verification results
# Written first into every folder a backup run creates (so prune recognises its own .partial and damaged
# folders); never listed in the manifest, like MANIFEST.json itself.
MARKER = ".aetherops-backup"
TS_FORMAT = "%Y%m%dT%H%M%SZ"
_TS_RE = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")


def utc_stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime(TS_FORMAT)


def parse_stamp(name: str) -> datetime | None:
    try:
        return datetime.strptime(name.removesuffix(PARTIAL_SUFFIX).split("-")[0], TS_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def is_backup_name(name: str) -> bool:
    return bool(_TS_RE.match(name))


def load_manifest(path: Path) -> dict[str, Any]:
    """The manifest of the backup folder ``path``; ValueError when missing or unreadable."""
    manifest_path = Path(path) / MANIFEST
    if is_link(manifest_path):
        raise ValueError(f"{manifest_path} is a symlink: not an aetherops backup manifest")
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{manifest_path} is missing: not a complete aetherops backup") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{manifest_path} cannot be read: {exc}") from None
    if not isinstance(data, dict) or data.get("tool") != "aetherops" or not isinstance(data.get("files"), dict):
        raise ValueError(f"{manifest_path} is not an aetherops backup manifest")
    return data


def printable(text: str) -> str:
    """``text`` when it prints on one line, else its quoted repr (CR, NUL, line separators...)."""
    return text if text.isprintable() else repr(text)


@dataclass
class VerifyResult:
    path: Path
    ok: bool
    checked: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)  # paths that would leave the folder, symlinks, bad index entries
    error: str | None = None

    def problems(self) -> list[str]:
        """One line each (a path with a control character, e.g. a crafted manifest key, is shown quoted)."""
        out = [f"unsafe: {printable(p)}" for p in self.unsafe]
        out += [f"missing: {printable(p)}" for p in self.missing] + [f"differs: {printable(p)}" for p in self.changed]
        out += [f"not in manifest: {printable(p)}" for p in self.extra]
        if self.error:
            out.insert(0, self.error)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "ok": self.ok, "files_checked": self.checked, "bytes": self.bytes,
                "missing": self.missing, "changed": self.changed, "extra": self.extra, "unsafe": self.unsafe,
                "error": self.error}


def verify_backup(path: Path, *, quick: bool = False) -> VerifyResult:
    """Check every file of the manifest (size and sha256; ``quick``: existence and size only), that no
    file was added beside them, that every path stays inside the folder (no ``..``, absolute path, drive,
    symlink: ``unsafe``) and that ``configs/index.json`` names only files the manifest lists."""
    path = Path(path)
    try:
        manifest = load_manifest(path)
    except ValueError as exc:
        return VerifyResult(path, False, error=str(exc))
    result = VerifyResult(path, True)
    files: dict[str, dict] = manifest["files"]
    confined = Confined(path)
    for rel, info in sorted(files.items()):
        try:
            target = confined.join(rel, what="MANIFEST entry")
        except UnsafePathError as exc:
            result.unsafe.append(exc.format_message())
            continue
        if not isinstance(info, dict):
            info = {}
        if not target.is_file():
            result.missing.append(rel)
            continue
        if quick:
            size = target.stat().st_size
            if size != info.get("size"):
                result.changed.append(rel)
            result.bytes += size
        else:
            size, digest = sha256_file(target)
            result.bytes += size
            if size != info.get("size") or digest != info.get("sha256"):
                result.changed.append(rel)
        result.checked += 1
    known = set(files) | {MANIFEST}
    for dirpath, dirnames, filenames in os.walk(path):  # never follows a symlinked folder
        for name in [*dirnames, *filenames]:
            full = Path(dirpath, name)
            rel = full.relative_to(path).as_posix()
            if is_link(full):
                result.unsafe.append(f"{rel} is a symlink")
            elif name in filenames and rel not in known:
                result.extra.append(rel)
    result.extra.sort()
    if not result.unsafe:
        from aetherops_plugins.backup.components.configs import index_problems

        result.unsafe += index_problems(path, files)
    result.ok = not (result.missing or result.changed or result.extra or result.unsafe)
    if not quick:
        record_verification(path, result.ok)
    return result


# ---------------------------------------------------------------- verification state
def _state_path(profile_dir: Path) -> Path:
    return Path(profile_dir) / STATE_FILE


def read_state(profile_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads(_state_path(profile_dir).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def record_verification(backup: Path, ok: bool, how: str = "verify") -> None:
    """Remember (beside the backups, never inside one) when a backup was last fully verified."""
    if is_link(Path(backup)):
        return
    backup = Path(backup).resolve()
    name = backup.name[: -len(".tar.gz")] if backup.name.endswith(".tar.gz") else backup.name
    if not is_backup_name(name):
        return
    profile_dir = backup.parent
    state = read_state(profile_dir)
    state[backup.name] = {"ok": ok, "at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "how": how}
    state = {k: v for k, v in state.items() if (profile_dir / k).exists()}
    tmp = _state_path(profile_dir).with_suffix(f".{os.getpid()}.tmp")
    try:
        with open_private(tmp) as fh:
            fh.write((json.dumps(state, indent=2, sort_keys=True) + "\n").encode("utf-8"))
        os.replace(tmp, _state_path(profile_dir))
    except OSError:  # best effort (disk full, read-only): never leave the temp file behind
        try:
            tmp.unlink()
        except OSError:
            pass


# ---------------------------------------------------------------- listing
@dataclass
class BackupInfo:
    path: Path
    profile: str
    name: str
    manifest: dict[str, Any] | None
    error: str | None = None
    verified: str = "no"  # yes | no | FAILED | damaged
    partial: bool = False
    archive: Path | None = None  # set for an archive-only backup (<name>.tar.gz without its folder)
    foreign: str | None = None  # set (the reason) for what is not a backup: never deleted, never counted

    @property
    def kind(self) -> str | None:
        """backup, safety, archive (only the .tar.gz is left), partial (.partial folder), "not a backup",
        or None (damaged)."""
        if self.foreign is not None:
            return "not a backup"
        if self.archive is not None:
            return "archive"
        if self.manifest is not None:
            return self.manifest.get("kind", "backup")
        return "partial" if self.partial else None

    @property
    def scope(self) -> str | None:
        """full (every default component was selected) or partial (--only / --exclude); None when unknown."""
        if self.manifest is None:
            return None
        if self.manifest.get("scope"):
            return self.manifest["scope"]
        # made before the scope was recorded: full when the built-in components are all there
        names = set(self.manifest.get("components") or {})
        return "full" if {"grafana", "prometheus", "alertmanager", "silences", "configs"} <= names else "partial"

    @property
    def is_full(self) -> bool:
        """A complete backup of every default component: what prune protects and verify picks by default."""
        return self.kind == "backup" and self.scope == "full" and bool(self.manifest and self.manifest.get("complete"))

    @property
    def created(self) -> datetime | None:
        return parse_stamp(self.name)

    @property
    def size(self) -> int:
        if self.archive is not None:
            try:
                return self.archive.stat().st_size
            except OSError:
                return 0
        if self.manifest:
            return int(self.manifest.get("totals", {}).get("bytes", 0))
        return 0

    def as_dict(self) -> dict[str, Any]:
        created = self.created
        age = (datetime.now(timezone.utc) - created).total_seconds() if created else None
        m = self.manifest or {}
        return {
            "path": str(self.archive or self.path),
            "profile": self.profile,
            "name": self.name,
            "kind": self.kind,
            "scope": self.scope,
            "created": created.strftime("%Y-%m-%dT%H:%M:%SZ") if created else None,
            "age_s": round(age) if age is not None else None,
            "bytes": self.size,
            "files": len(m.get("files", {})),
            "complete": bool(m.get("complete")) if m else False,
            "counts": {name: c.get("counts", {}) for name, c in (m.get("components") or {}).items()},
            "verified": self.verified,
            "error": self.error,
        }


def list_backups(base: Path, profile: str | None = None, *, include_partial: bool = False,
                 include_archives: bool = False, include_foreign: bool = False) -> list[BackupInfo]:
    """Backups under ``base/<profile>/``, newest first (every profile when ``profile`` is None).

    A folder is a backup when it carries an aetherops MANIFEST.json, or the marker file every backup run
    writes first (a damaged backup); anything else, and every symlink, is *not a backup*: left out, or
    listed with ``foreign`` set (the reason) when ``include_foreign``. Symlinks are never followed.
    ``include_partial``: also ``.partial`` folders this tool created. ``include_archives``: also
    ``<name>.tar.gz`` files whose folder is gone (kind ``archive``)."""
    base = Path(base)
    out: list[BackupInfo] = []
    if not base.is_dir():
        return out
    profile_dirs = [base / profile] if profile else sorted(p for p in base.iterdir() if p.is_dir() and not is_link(p))
    for pdir in profile_dirs:
        if not pdir.is_dir():
            continue
        state = read_state(pdir)
        for child in sorted(pdir.iterdir()):
            info = _classify(pdir, child, state, include_archives)
            if info is None:
                continue
            if info.foreign is not None:
                if include_foreign:
                    out.append(info)
            elif not info.partial or include_partial:
                out.append(info)
    out.sort(key=lambda b: (b.created or datetime.min.replace(tzinfo=timezone.utc), b.name), reverse=True)
    return out


def _classify(pdir: Path, child: Path, state: dict[str, Any], include_archives: bool) -> BackupInfo | None:
    """What ``child`` of a profile folder is: a backup, a partial, an archive, not a backup (``foreign``),
    or None for the files that belong to backups (state file, archives when not listed, sidecars)."""
    name = child.name
    if is_link(child):
        return BackupInfo(child, pdir.name, name, None, foreign="a symlink (never followed)")
    if child.is_file():
        if name == STATE_FILE or (name.startswith(STATE_FILE[:-5]) and name.endswith(".tmp")):
            return None
        for suffix in (".tar.gz", ".tar.gz.sha256", ".tar.gz.partial", ".tar.gz.sha256.partial"):
            stem = name[: -len(suffix)] if name.endswith(suffix) else None
            if stem and is_backup_name(stem):
                if suffix == ".tar.gz" and include_archives and not (pdir / stem).is_dir():
                    sidecar = child.with_name(name + ".sha256")
                    info = BackupInfo(pdir / stem, pdir.name, stem, None, None if sidecar.is_file() else "no .sha256 beside it",
                                      "no", archive=child)
                    record = state.get(name)
                    if record:
                        info.verified = "yes" if record.get("ok") else "FAILED"
                    return info
                return None
        return BackupInfo(child, pdir.name, name, None, foreign="a file, not a backup folder")
    if not child.is_dir():
        return BackupInfo(child, pdir.name, name, None, foreign="not a regular file or folder")
    marked = (child / MARKER).is_file() and not is_link(child / MARKER)
    if name.endswith(PARTIAL_SUFFIX):
        if not marked:
            return BackupInfo(child, pdir.name, name, None, foreign="a .partial folder aetherops did not create (no marker)")
        return BackupInfo(child, pdir.name, name, None, "incomplete (.partial)", "no", True)
    if not is_backup_name(name):
        return BackupInfo(child, pdir.name, name, None, foreign="not named like a backup")
    try:
        manifest = load_manifest(child)
        error = None
    except ValueError as exc:
        if not marked:
            return BackupInfo(child, pdir.name, name, None, foreign="no aetherops MANIFEST.json or marker")
        manifest, error = None, str(exc)
    info = BackupInfo(child, pdir.name, name, manifest, error)
    record = state.get(name)
    if manifest is None:
        info.verified = "damaged"
    elif record:
        info.verified = "yes" if record.get("ok") else "FAILED"
    return info


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def human_age(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = max(0, int(seconds))
    for unit, span in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= span:
            return f"{seconds // span}{unit}"
    return f"{seconds}s"


# ---------------------------------------------------------------- pruning
def remove_backup(path: Path) -> None:
    """Delete a backup folder and its archive (``<name>.tar.gz`` and ``.sha256``) if any. A symlink is
    never followed nor deleted through (ValueError)."""
    path = Path(path)
    if is_link(path) or not path.is_dir():
        raise ValueError(f"{path} is not a backup folder")
    shutil.rmtree(path, ignore_errors=False, onerror=_chmod_retry)
    for suffix in (".tar.gz", ".tar.gz.sha256"):
        archive = path.parent / f"{path.name}{suffix}"
        if archive.is_file() and not is_link(archive):
            archive.unlink()


def _chmod_retry(func, path, _exc_info):  # Windows: read-only files
    import stat

    if is_link(Path(path)):  # never chmod through a symlink
        return
    try:
        os.chmod(path, stat.S_IWRITE | stat.S_IREAD)
        func(path)
    except OSError:
        pass


def stale_partials(base: Path, profile: str, older_than_s: float = 3600) -> list[Path]:
    """``.partial`` folders this tool created (they carry its marker) untouched for ``older_than_s``."""
    now = time.time()
    return sorted(i.path for i in list_backups(base, profile, include_partial=True)
                  if i.partial and now - i.path.stat().st_mtime > older_than_s)


# ---------------------------------------------------------------- RESTORE.md
def restore_markdown(manifest: dict[str, Any], final_path: Path | None = None) -> str:
    """The RESTORE.md of a backup: exact commands for bash and PowerShell.

    Every path is relative to the backup folder (the commands run from inside it), so the file stays
    right after the backup is moved, copied to another machine or extracted from its archive.
    ``final_path`` is accepted for compatibility and not used."""
    profile = manifest.get("profile", "PROFILE")
    path_posix = "."
    path_win = "."
    comps = manifest.get("components", {})
    lines = [
        f"# Restoring this backup ({manifest.get('started', '')}, profile `{profile}`)",
        "",
        f"Made by aetherops {manifest.get('tool_version')} from profile `{profile}`. Every file is listed in",
        "MANIFEST.json with its size and sha256; `aetherops restore` refuses a backup that fails them.",
        "",
        "**Run every command below from inside this backup folder** (the folder that holds this RESTORE.md;",
        "for an archive, extract it first and `cd` into the extracted folder). Paths are relative to it, so",
        "they stay right wherever the backup is moved.",
        "",
        "```bash",
        "cd path/to/this/backup      # the folder of this RESTORE.md",
        "```",
        "",
        "```powershell",
        "Set-Location path\\to\\this\\backup   # the folder of this RESTORE.md",
        "```",
        "",
        "## 1. Check the backup",
        "",
        "```bash",
        f"aetherops -p {profile} backup verify {path_posix}",
        "```",
        "",
        "```powershell",
        f"aetherops -p {profile} backup verify {path_win}",
        "```",
        "",
        "## 2. See what a restore would change (changes nothing)",
        "",
        "```bash",
        f"aetherops -p {profile} restore {path_posix} --dry-run --diff",
        "```",
        "",
        "```powershell",
        f"aetherops -p {profile} restore {path_win} --dry-run --diff",
        "```",
        "",
        "## 3. Restore",
        "",
        "Dashboards changed on the server since this backup are reported as conflicts and skipped;",
        "add `--force` to overwrite them. A safety backup of what will be overwritten is taken first",
        "(in the backups root this folder belongs to, or in `--safety-dir DIR`).",
        "",
        "```bash",
        f"aetherops -p {profile} restore {path_posix}",
        f"# into another stack, e.g. staging: aetherops restore {path_posix} --to-profile staging",
        "```",
        "",
        "```powershell",
        f"aetherops -p {profile} restore {path_win}",
        f"# into another stack, e.g. staging: aetherops restore {path_win} --to-profile staging",
        "```",
        "",
    ]
    if "configs" in comps and comps["configs"].get("status") == "ok":
        lines += [
            "### Config files", "",
            "Restored into a directory of your choice (never over the originals unless `--force`):", "",
            "```bash", f"aetherops -p {profile} restore {path_posix} --only configs --configs-to ../restored-configs", "```", "",
            "```powershell", f"aetherops -p {profile} restore {path_win} --only configs --configs-to ..\\restored-configs", "```", "",
        ]
    if "silences" in comps and comps["silences"].get("status") == "ok":
        lines += [
            "### Alertmanager silences", "",
            "Recreated only when asked (those not yet expired):", "",
            "```bash", f"aetherops -p {profile} restore {path_posix} --only silences", "```", "",
            "```powershell", f"aetherops -p {profile} restore {path_win} --only silences", "```", "",
        ]
    prom = comps.get("prometheus", {})
    snap = (prom.get("meta") or {}).get("snapshot")
    if snap and (prom.get("meta") or {}).get("snapshot_empty"):
        lines += ["### Prometheus TSDB snapshot", "", f"Snapshot `{snap}` is empty (Prometheus had no samples yet): nothing to restore.", ""]
    elif snap:
        data_dir = (prom.get("meta") or {}).get("data_dir") or "<prometheus --storage.tsdb.path>"
        copied = (prom.get("meta") or {}).get("snapshot_copied")
        src_posix = f"prometheus/snapshot/{snap}" if copied else f"{data_dir}/snapshots/{snap}"
        src_win = (f"prometheus\\snapshot\\{snap}" if copied else f"{data_dir}\\snapshots\\{snap}")
        lines += [
            "### Prometheus TSDB snapshot", "",
            f"Snapshot `{snap}`" + (" is inside this backup." if copied else f" stays on the Prometheus host in `{data_dir}/snapshots/`."),
            "A running Prometheus cannot load a snapshot: stop it, replace its data directory, start it.", "",
            "```bash",
            "sudo systemctl stop prometheus",
            f"mv '{data_dir}' '{data_dir}.before-restore'",
            f"cp -a '{src_posix}' '{data_dir}'",
            "sudo systemctl start prometheus",
            "```", "",
            "```powershell",
            "Stop-Service prometheus",
            # Rename-Item takes a bare new name, not a path: Move-Item renames with a full path
            f"Move-Item -LiteralPath '{data_dir}' -Destination '{data_dir}.before-restore'",
            f"Copy-Item -Recurse '{src_win}' '{data_dir}'",
            "Start-Service prometheus",
            "```", "",
        ]
    lines += [
        "## Not in this backup", "",
        "- Datasource secrets (passwords, tokens, `secureJsonData`): Grafana never returns them. Re-enter them",
        "  after a restore for the datasources listed in `grafana/datasources.json` under `secure_fields`.",
        "- Alertmanager receiver secrets (webhook/Slack URLs, keys) are redacted in `alertmanager/alertmanager.yml`;",
        "  restore the original file from your configuration repository.",
        "- Grafana users, teams, permissions and API tokens.",
        "",
    ]
    skipped = [f"- `{n}`: {c.get('reason')}" for n, c in comps.items() if c.get("status") == "skipped"]
    if skipped:
        lines += ["## Skipped components", "", *skipped, ""]
    return "\n".join(lines)
