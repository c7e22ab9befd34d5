"""``aetherops restore``: verify, plan every component, take a safety backup of what will change,
then apply. ``--dry-run`` stops after the plan."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aetherops.errors import ConfigError, FindingsError
from aetherops_plugins.backup.api import CHANGING_ACTIONS, RestoreJob
from aetherops_plugins.backup.engine import DEFAULT_CONCURRENCY, collect_components, parse_names, resolve_base_dir, run_backup
from aetherops_plugins.backup.manifest import load_manifest, verify_backup

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context


def parse_folder_map(values: tuple[str, ...] | list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in values or ():
        old, sep, new = str(value).partition("=")
        if not sep or not old.strip() or not new.strip():
            raise click.BadParameter(f"{value!r} is not OLD=NEW (folder uids)", param_hint="--folder-map")
        mapping[old.strip()] = new.strip()
    return mapping


def _open_backup(path: Path, workdir: list[Path]) -> Path:
    """A backup folder, or a ``.tar.gz`` made by ``--archive`` (checked and extracted by
    ``archive.open_archive``, the same code ``backup verify`` uses: ArchiveError, exit 1)."""
    if path.is_dir():
        return path
    if path.is_file() and path.name.endswith(".tar.gz"):
        from aetherops_plugins.backup.archive import TEMP_PREFIX, open_archive

        tmp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
        workdir.append(tmp)
        return open_archive(path, tmp)
    raise click.BadParameter(f"{path} is neither a backup folder nor a .tar.gz archive", param_hint="PATH")


def _safety_base(ctx, safety_dir, target, folder: Path, workdirs: list[Path]) -> Path:
    """--safety-dir, else beside the backup being restored (``<root>/<profile>/<stamp>`` -> ``<root>``),
    else the target profile's backup.dir (for an archive extracted to a temp dir)."""
    from aetherops_plugins.backup.manifest import is_backup_name

    if safety_dir:
        return Path(safety_dir)
    folder = folder.resolve()  # PATH may be "." (RESTORE.md's commands run from inside the backup)
    extracted = any(tmp in folder.parents for tmp in (w.resolve() for w in workdirs))
    if not extracted and is_backup_name(folder.name):
        return folder.parent.parent
    return resolve_base_dir(ctx, None, target)


def _target_profile(ctx, backup_profile: str | None, to_profile: str | None):
    """``--to-profile`` if given; else the backup's own profile. A profile selected explicitly (``-p`` or
    AETHEROPS_PROFILE) that is not the backup's is refused: restoring prod into staging must be said."""
    if to_profile:
        return ctx.load_profile(to_profile)
    selected = getattr(ctx, "profile_name", None)
    if selected and backup_profile and selected != backup_profile:
        raise click.UsageError(
            f"this backup is of profile '{backup_profile}' but profile '{selected}' is selected; to restore it into "
            f"'{selected}' anyway, say so with --to-profile {selected} (or select -p {backup_profile})")
    if selected or not backup_profile:
        return ctx.profile
    try:
        return ctx.load_profile(backup_profile)
    except ConfigError as exc:
        raise ConfigError(f"this backup is of profile '{backup_profile}', which cannot be loaded here "
                          f"({exc.format_message()}); give --to-profile NAME") from None


def run_restore(ctx: Context, path: Path, *, only: list[str] | None = None, dry_run: bool = False, force: bool = False,
                diff: bool = False, folder_map: dict[str, str] | None = None, to_profile: str | None = None,
                configs_to: Path | None = None, concurrency: int = DEFAULT_CONCURRENCY, safety_dir: str | None = None,
                options: dict[str, Any] | None = None) -> dict[str, Any]:
    """``options``: more ``RestoreJob.options`` for the components (e.g. ``grafana_provenance``)."""
    workdirs: list[Path] = []
    try:
        return _run(ctx, Path(path), only or [], dry_run, force, diff, folder_map or {}, to_profile, configs_to, concurrency,
                    safety_dir, workdirs, options or {})
    finally:
        for tmp in workdirs:
            shutil.rmtree(tmp, ignore_errors=True)


def _run(ctx, path, only, dry_run, force, diff, folder_map, to_profile, configs_to, concurrency, safety_dir, workdirs, extra):
    folder = _open_backup(path, workdirs)
    check = verify_backup(folder)
    if not check.ok:
        problems = check.problems()
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise FindingsError(f"backup {path} fails verification ({shown}); refusing to restore")
    manifest = load_manifest(folder)
    manifest.setdefault("name", folder.name)
    early_warnings = []
    if manifest.get("missing"):
        ids = ", ".join(str(m.get("id")) for m in manifest["missing"][:10])
        early_warnings.append(f"this backup is incomplete (made with --keep-going); not in it: {ids}")

    target = _target_profile(ctx, manifest.get("profile"), to_profile)
    ds_map = dict((target.section("backup") or {}).get("datasource_uid_map") or {})
    components = collect_components(ctx)
    in_backup = manifest.get("components", {})
    only = parse_names(only)
    unknown = [n for n in only if n not in components and n not in in_backup]
    if unknown:
        raise click.BadParameter(f"unknown component(s) {', '.join(unknown)}; in this backup: {', '.join(sorted(in_backup))}",
                                 param_hint="--only")
    warnings: list[str] = list(early_warnings)
    chosen: list[str] = []
    for name, entry in in_backup.items():
        if only and name not in only:
            continue
        component = components.get(name)
        if entry.get("status") == "skipped":
            if only:
                warnings.append(f"{name}: not in this backup ({entry.get('reason')})")
            continue
        if component is None:
            warnings.append(f"{name}: no installed plugin restores this component; its files are in {folder / name}")
            continue
        if not only and not getattr(component, "restore_default", True):
            continue
        chosen.append(name)
    for name in only:
        if name not in in_backup:
            warnings.append(f"{name}: not in this backup")

    options = {**extra, "folder_map": folder_map, "datasource_uid_map": ds_map, "configs_to": configs_to,
               "concurrency": concurrency, "backup_path": str(folder)}

    def make_job(name: str, dry: bool) -> RestoreJob:
        return RestoreJob(name, folder / name, manifest, ctx, target, dry_run=dry, force=force, diff=diff, options=options)

    # 1. plan
    planned: dict[str, RestoreJob] = {}
    for name in chosen:
        job = make_job(name, True)
        restore = getattr(components[name], "restore", None)
        if restore is None:
            job.plan("component", name, "manual", f"the component cannot restore itself; its files are in {folder / name}")
        else:
            restore(job)
        planned[name] = job

    changing = [n for n, j in planned.items() if any(i.action in CHANGING_ACTIONS or (force and i.action == "conflict")
                                                      for i in j.items)]
    safety = None
    final_jobs = planned
    if not dry_run and changing:
        # 2. safety backup of what will be overwritten (the target's current state of those components)
        safety_names = [n for n in changing if n in components and not (n == "configs" and configs_to)]
        if safety_names:
            base = _safety_base(ctx, safety_dir, target, folder, workdirs)
            ctx.output.note(f"taking a safety backup of {', '.join(safety_names)} on profile '{target.name}' before changing anything...")
            safety = run_backup(ctx, base_dir=base, only=safety_names, profile=target, kind="safety",
                                components=components, quiet=True, concurrency=concurrency)
            ctx.output.note(f"safety backup: {safety['path']}")
        # 3. apply
        final_jobs = {}
        for name in chosen:
            restore = getattr(components[name], "restore", None)
            job = make_job(name, False)
            if restore is None:
                job.items = planned[name].items
            else:
                restore(job)
            final_jobs[name] = job

    items = [i for j in final_jobs.values() for i in j.items]
    # every change the plan announced must have been made: an item that ends not applied (skipped because
    # the target refused it, failed, or turned into a conflict) makes the restore incomplete (exit 1)
    planned_changes = {(i.component, i.kind, i.name): i.action for j in planned.values() for i in j.items
                       if i.action in CHANGING_ACTIONS or (force and i.action == "conflict")}
    not_applied = []
    if not dry_run:
        for item in items:
            planned_action = planned_changes.get((item.component, item.kind, item.name))
            if (item.action in CHANGING_ACTIONS or planned_action) and not item.applied:
                not_applied.append({**item.as_dict(), "planned": planned_action or item.action})
    instructions = [t for j in final_jobs.values() for t in j.instructions]
    warnings += [w for j in final_jobs.values() for w in j.warnings]
    summary: dict[str, int] = {}
    for item in items:
        summary[item.action] = summary.get(item.action, 0) + 1
    errors = [i for i in items if i.error]
    return {
        "backup": str(path),
        "backup_profile": manifest.get("profile"),
        "target_profile": target.name,
        "dry_run": dry_run,
        "force": force,
        "components": chosen,
        "safety_backup": safety["path"] if safety else None,
        "summary": dict(sorted(summary.items())),
        "items": [i.as_dict() for i in items],
        "instructions": instructions,
        "warnings": warnings,
        "errors": len(errors),
        "conflicts": summary.get("conflict", 0),
        "not_applied": not_applied,
        "complete": not dry_run and not not_applied and not errors and not summary.get("conflict", 0),
    }
