"""Config files: whatever the profile's ``backup.configs`` globs match, restored into a directory of
your choice (``--configs-to``), never over the originals unless ``--force``."""

from __future__ import annotations

import glob
import os
from pathlib import Path, PurePosixPath

from aetherops_plugins.backup.api import BackupJob, RestoreJob, sha256_file


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
                job.write_bytes(f"files/{stored}", path.read_bytes(), source=str(path))
                index.append({"file": f"files/{stored}", "original": str(resolved), "glob": pattern,
                              "mode": oct(path.stat().st_mode & 0o777)})
        job.write_json("index.json", {"files": index})
        job.count("files", len(index))

    def restore(self, job: RestoreJob) -> None:
        entries = job.read_json("index.json").get("files", []) if job.exists("index.json") else []
        target_dir = job.options.get("configs_to")
        for entry in entries:
            rel = entry["file"]
            source = job.root.joinpath(*PurePosixPath(rel).parts)
            if target_dir:
                dest = Path(target_dir).joinpath(*PurePosixPath(rel).parts[1:])
            elif job.force:
                dest = Path(entry["original"])
            else:
                job.plan("file", entry["original"], "skip", "give --configs-to DIR (or --force to write over the original)")
                continue
            if dest.is_file() and sha256_file(dest)[1] == sha256_file(source)[1]:
                job.plan("file", str(dest), "unchanged")
                continue
            action = "update" if dest.exists() else "create"
            if dest.exists() and not target_dir and not job.force:
                action = "conflict"
            item = job.plan("file", str(dest), action, f"from {rel}")
            if job.dry_run or action == "conflict":
                continue
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
                tmp = dest.with_name(dest.name + ".aetherops-tmp")
                tmp.write_bytes(source.read_bytes())
                os.replace(tmp, dest)
                item.applied = True
            except OSError as exc:
                item.error = f"{dest}: {exc.strerror or exc}"
