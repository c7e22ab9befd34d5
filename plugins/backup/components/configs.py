"""Config files: whatever the profile's ``backup.configs`` globs match, restored into a directory of
your choice (``--configs-to``), never over the originals unless ``--force``."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from aetherops_plugins.backup.api import BackupJob, RestoreJob, open_private, sha256_file
from aetherops_plugins.backup.paths import UnsafePathError, check_relpath, make_private_dirs, safe_join


def _stored_name(path: Path) -> str:
    """Where a file goes inside ``configs/``: its path relative to the current directory when it
    lies below it, else ``_abs/<path without drive or root>``."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        parts = [p for p in resolved.parts[1:]]
        drive = resolved.drive.rstrip(":\\/").replace(":", "")
        return "/".join(["_abs", *([drive] if drive else []), *parts])


class ConfigsComponent:
    name = "configs"
    description = "Config files matched by the profile's backup.configs globs"
    default = True
    restore_default = True

    def backup(self, job: BackupJob) -> None:
        patterns = [p for p in (job.section("backup") or {}).get("configs") or [] if p]
        if not patterns:
            job.skip("the profile gives no backup.configs globs")
        seen: set[Path] = set()
        index = []
        for pattern in patterns:
            matches = sorted(glob.glob(os.path.expanduser(str(pattern)), recursive=True))
            files = [Path(m) for m in matches if Path(m).is_file()]
            if not files:
                job.warn(f"backup.configs glob {pattern!r} matched no file")
            for path in files:
                resolved = path.resolve()
                if resolved in seen:
                    continue
                seen.add(resolved)
                stored = _stored_name(path)
                # the job masks every secret of the profile (all of them are registered at backup start,
                # whichever components run) and warns naming the original file
                job.write_bytes(f"files/{stored}", path.read_bytes(), source=str(path), source_mode=path.stat().st_mode)
                index.append({"file": f"files/{stored}", "original": str(resolved), "glob": pattern,
                              "mode": oct(path.stat().st_mode & 0o777)})
        job.write_json("index.json", {"files": index}, mask=False)  # exact paths: a secret is never in a path
        job.count("files", len(index))

    def restore(self, job: RestoreJob) -> None:
        """Every entry of index.json, written under ``--configs-to DIR`` (confined to DIR) or, with
        ``--force``, over its original when the target profile's ``backup.configs`` globs match it. An
        entry that would go anywhere else refuses the whole restore during planning, before anything is
        written (UnsafePathError, exit 4)."""
        entries = _entries(job.read_json("index.json")) if job.exists("index.json") else []
        target_dir = job.options.get("configs_to")
        globs = [p for p in (job.profile.section("backup") or {}).get("configs") or [] if p] if job.profile else []
        for entry in entries:
            rel = _stored_path(entry["file"])
            data = job.read_bytes(rel.as_posix())  # listed in MANIFEST.json (hence verified) and inside the backup
            if target_dir:
                dest = safe_join(target_dir, PurePosixPath(*rel.parts[1:]).as_posix(), what=f"{INDEX} entry")
            elif job.force:
                dest = _original_in_profile(entry["original"], globs)
            else:
                job.plan("file", entry["original"], "skip", "give --configs-to DIR (or --force to write over the original)")
                continue
            if dest.is_file() and sha256_file(dest)[1] == hashlib.sha256(data).hexdigest():
                job.plan("file", str(dest), "unchanged")
                continue
            action = "update" if dest.exists() else "create"
            item = job.plan("file", str(dest), action, f"from {rel}")
            if job.dry_run:
                continue
            try:
                _write_file(dest, data, entry.get("mode"), target_dir)
                item.applied = True
            except OSError as exc:
                item.error = f"{dest}: {exc.strerror or exc}"


INDEX = "configs/index.json"


def _entries(data: Any) -> list[dict]:
    """The entries of index.json; UnsafePathError (exit 4) on the first that is not well-formed."""
    problems = _index_entry_problems(data)
    if problems:
        raise UnsafePathError(problems[0])
    return data["files"]


def _stored_path(file: str) -> PurePosixPath:
    rel = check_relpath(file, what=f"{INDEX} file")
    if rel.parts[0] != "files" or len(rel.parts) < 2:
        raise UnsafePathError(f"{INDEX} file {file!r} is not under files/")
    return rel


def _index_entry_problems(data: Any, listed: dict | None = None) -> list[str]:
    entries = data.get("files") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return [f"{INDEX}: no list of files"]
    out: list[str] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str) or not isinstance(entry.get("original"), str):
            out.append(f"{INDEX}: entry {i} is not an object with 'file' and 'original'")
            continue
        try:
            rel = _stored_path(entry["file"])
            _check_original(entry["original"])
        except UnsafePathError as exc:
            out.append(exc.format_message())
            continue
        if listed is not None and f"configs/{rel.as_posix()}" not in listed:
            out.append(f"{INDEX}: {entry['file']!r} is not listed in MANIFEST.json")
    return out


def index_problems(folder: Path, listed: dict) -> list[str]:
    """Why ``configs/index.json`` of the backup ``folder`` cannot be trusted (``backup verify`` reports
    them as unsafe): an entry outside ``files/``, with ``..``, absolute or a drive, a file MANIFEST.json
    does not list, or an original that is not a plain absolute path."""
    if INDEX not in listed:
        return []
    try:
        data = json.loads(safe_join(folder, INDEX).read_bytes())
    except (OSError, ValueError) as exc:
        return [f"{INDEX} cannot be read: {exc}"]
    return _index_entry_problems(data, listed)


def _check_original(original: str) -> None:
    """An original path as the backup recorded it: absolute (POSIX or Windows), no ``..``, no NUL."""
    if "\x00" in original or not (PurePosixPath(original).is_absolute() or PureWindowsPath(original).is_absolute()):
        raise UnsafePathError(f"{INDEX}: original {original!r} is not an absolute path")
    if ".." in original.replace("\\", "/").split("/"):
        raise UnsafePathError(f"{INDEX}: original {original!r} has a '..' component")


def _glob_regex(pattern: str) -> re.Pattern:
    """A regex for a ``glob.glob(recursive=True)`` pattern, matched against whole absolute paths."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2:]:
            close = pattern.index("]", i + 2)
            body = pattern[i + 1:close].replace("\\", "\\\\")
            out.append("[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
            i = close + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z", re.IGNORECASE if os.name == "nt" else 0)


def _original_in_profile(original: str, globs: list[str]) -> Path:
    """``original`` when the target profile's ``backup.configs`` globs match it (restore --force writes
    nowhere else); UnsafePathError otherwise."""
    _check_original(original)
    dest = Path(original)
    base = Path.cwd().resolve()
    for pattern in globs:
        expanded = os.path.expanduser(str(pattern))
        absolute = Path(expanded) if Path(expanded).is_absolute() else base / expanded
        if _glob_regex(absolute.as_posix()).match(dest.as_posix()):
            return dest
        if any(Path(m).resolve() == dest for m in glob.glob(expanded, recursive=True)):
            return dest
    raise UnsafePathError(f"{INDEX}: original {original!r} is not matched by the target profile's backup.configs globs; "
                          "restore --force writes only there (use --configs-to DIR)")


def _write_file(dest: Path, data: bytes, recorded_mode: Any, target_dir: Path | None) -> None:
    """Atomically (temp + rename) and never through a symlink at ``dest``. Mode: the file's current one
    when it is replaced, else the recorded one without group/other write (0600 when unknown)."""
    if target_dir is not None:
        Path(target_dir).mkdir(parents=True, exist_ok=True)
        make_private_dirs(Path(target_dir), dest.parent)
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = int(str(recorded_mode), 8) & 0o644 | 0o600 if str(recorded_mode).startswith("0o") else 0o600
    except ValueError:
        mode = 0o600
    if dest.is_file() and not os.path.islink(dest):
        mode = dest.stat().st_mode & 0o777
    tmp = dest.with_name(dest.name + ".aetherops-tmp")
    try:
        with open_private(tmp, mode=mode) as fh:
            fh.write(data)
        os.replace(tmp, dest)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
