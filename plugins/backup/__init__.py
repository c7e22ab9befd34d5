"""Built-in plugin: ``aetherops backup`` (+ ``list``, ``verify``, ``prune``) and ``aetherops restore``.

What gets backed up comes from the ``aetherops_backup_components`` hook; this
plugin contributes the built-in components (grafana, prometheus, alertmanager,
silences, configs) through that hook like any third-party plugin would. The
engine lives beside this module and is imported only when a command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

import aetherops
from aetherops import pass_context
from aetherops.errors import Findings

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context

DEFAULT_CONCURRENCY = 16


@aetherops.hookimpl
def aetherops_register_commands(cli: click.Group) -> None:
    cli.add_command(backup_group)
    cli.add_command(restore_command)


@aetherops.hookimpl
def aetherops_profile_sections():
    from aetherops.profiles import Field, ProfileSection

    return [
        ProfileSection(
            "backup",
            {
                "dir": Field(str, "backups", "Where backups go: <dir>/<profile>/<UTC timestamp>/ (relative to the current directory)."),
                "keep": Field(int, None, "How many backups `aetherops backup prune` keeps (the newest verified one is always kept).",
                              min=1),
                "configs": Field(list, [], "Globs of config files to copy into the backup (e.g. monitoring/*.yml)."),
                "datasource_uid_map": Field(dict, {}, "Restore into this profile: backed-up datasource uid -> this stack's uid."),
                "concurrency": Field(int, DEFAULT_CONCURRENCY, "Parallel Grafana requests during backup and restore.",
                                     min=1, max=256),
                "archive": Field(bool, False, "Also write a .tar.gz (with its sha256) of every backup."),
                "contact_point_secrets": Field(dict, {}, "Restore: secrets of Grafana contact points, never in a backup: "
                                               "<contact point name>: {<field>_env: VAR} or {<field>_file: PATH} per secret "
                                               "field the backup lists (e.g. url_env, password_file)."),
                "grafana_provenance": Field(str, "keep", "Restore: provenance of Grafana alert rules and contact points: keep "
                                            "(what the backup recorded), api (locked in the UI), none (editable).",
                                            choices=("keep", "api", "none")),
                "remove_server_snapshot": Field(bool, True, "After copying a Prometheus snapshot into the backup, delete it from "
                                                "<data_dir>/snapshots/ (Prometheus never prunes snapshots)."),
            },
            "Backup and restore (aetherops backup / restore).",
        )
    ]


@aetherops.hookimpl
def aetherops_add_hookspecs(pm) -> None:
    from aetherops_plugins.backup import hookspecs

    pm.add_hookspecs(hookspecs)


@aetherops.hookimpl
def aetherops_backup_components(context):
    from aetherops_plugins.backup.components.alertmanager import AlertmanagerComponent, SilencesComponent
    from aetherops_plugins.backup.components.configs import ConfigsComponent
    from aetherops_plugins.backup.components.grafana import GrafanaComponent
    from aetherops_plugins.backup.components.prometheus import PrometheusComponent

    return [GrafanaComponent(), PrometheusComponent(), AlertmanagerComponent(), SilencesComponent(), ConfigsComponent()]


def _complete_components(click_ctx, param, incomplete):
    """Shell completion of --only/--exclude: the component names of every loaded plugin, with their description."""
    from aetherops.completion import quietly
    from aetherops_plugins.backup.engine import collect_components

    return quietly(lambda context: [(name, getattr(c, "description", None)) for name, c in sorted(collect_components(context).items())])(
        click_ctx, param, incomplete)


def _concurrency(ctx: Context, value: int | None) -> int:
    if value:
        return value
    return ctx.section("backup").concurrency  # declared default and range: one place (the Field above)


# ---------------------------------------------------------------------- backup
@click.group("backup", invoke_without_command=True)
@click.option("--dir", "dir_", metavar="DIR", type=click.Path(file_okay=False),
              help="Backups root (default: the profile's backup.dir, else ./backups).")
@click.option("--only", multiple=True, metavar="NAMES", help="Only these components (comma-separated or repeated).",
              shell_complete=_complete_components)
@click.option("--exclude", multiple=True, metavar="NAMES", help="Leave these components out.",
              shell_complete=_complete_components)
@click.option("--archive/--no-archive", default=None, help="Also write <timestamp>.tar.gz and its .sha256.")
@click.option("--concurrency", type=click.IntRange(1, 256), default=None, metavar="N",
              help=f"Parallel Grafana requests (default: backup.concurrency, {DEFAULT_CONCURRENCY}).")
@click.option("--keep-going", is_flag=True, help="A dashboard that cannot be fetched is listed as missing (exit 1) instead of failing the backup.")
@pass_context
def backup_group(ctx: Context, dir_, only, exclude, archive, concurrency, keep_going):
    """Back up Grafana, Prometheus, Alertmanager and config files into DIR/<profile>/<UTC timestamp>/.

    Everything is written under <timestamp>.partial/ and renamed when every file is written and
    hashed (MANIFEST.json), so a failed backup never looks complete. Exit 0 when complete, 1 when
    --keep-going left something out, a component failed or every component was skipped (nothing was
    backed up), 3 when a configured service is down.

    Subcommands: list, verify, prune.
    """
    click_ctx = click.get_current_context()
    if click_ctx.invoked_subcommand is not None:
        click_ctx.meta["aetherops_backup_dir"] = dir_
        return
    from aetherops_plugins.backup.engine import collect_components, parse_names, resolve_base_dir, run_backup
    from aetherops_plugins.backup.manifest import human_size

    section = ctx.section("backup") or {}
    base = resolve_base_dir(ctx, dir_)
    components = collect_components(ctx)
    result = run_backup(ctx, base_dir=base, only=parse_names(only), exclude=parse_names(exclude),
                        archive=bool(section.get("archive")) if archive is None else archive,
                        concurrency=_concurrency(ctx, concurrency), keep_going=keep_going, components=components)

    for name, comp in result["components"].items():
        for warning in comp.get("warnings", []):
            ctx.output.warn(f"{name}: {warning}")

    def text() -> None:
        out = ctx.output
        head = "Backup complete" if result["complete"] else "Backup INCOMPLETE"
        out.line(f"{head}: {result['path']}", fg=None if result["complete"] else "red", bold=True)
        width = max(len(n) for n in result["components"]) + 2
        for name, comp in result["components"].items():
            out.line(f"  {name.ljust(width)}{_describe(comp, components.get(name))}")
        out.line(f"  {result['files']} files, {human_size(result['bytes'])}, {result['duration_s']:.1f} s")
        if result["archive"]:
            out.line(f"  archive: {result['archive']['path']} (sha256 {result['archive']['sha256'][:16]}...)")
        if result["missing"]:
            out.line(f"  missing ({len(result['missing'])}): " + ", ".join(m["id"] for m in result["missing"][:10]), fg="red")
        out.line(f"  verify:  aetherops backup verify \"{result['path']}\"")
        out.line(f"  restore: aetherops restore \"{result['path']}\" --dry-run")

    ctx.output.result(result, text)
    if result["missing"]:
        raise Findings()


def _describe(comp: dict, component: Any) -> str:
    """The component's summary line: its own ``describe(summary)`` if it has one, else its counts."""
    from aetherops_plugins.backup.api import describe_counts

    if comp.get("status") == "skipped":
        return f"skipped: {comp.get('reason')}"
    describe = getattr(component, "describe", None)
    parts = [describe(comp)] if callable(describe) else describe_counts(comp.get("counts") or {})
    if comp.get("status") == "incomplete":
        parts.append(f"{len(comp.get('missing', []))} MISSING")
    if comp.get("warnings"):
        parts.append(f"{len(comp['warnings'])} warning(s)")
    if not any(parts):
        parts = [f"{comp.get('files', 0)} file(s)"]
    return ", ".join(p for p in parts if p)


def _base_dir(ctx: Context, dir_: str | None):
    from aetherops_plugins.backup.engine import resolve_base_dir

    parent = click.get_current_context().parent
    return resolve_base_dir(ctx, dir_ or (parent.meta.get("aetherops_backup_dir") if parent else None))


@backup_group.command("list")
@click.option("--dir", "dir_", metavar="DIR", type=click.Path(file_okay=False), help="Backups root (default: backup.dir).")
@click.option("--all-profiles", is_flag=True, help="Backups of every profile, not only the selected one.")
@pass_context
def backup_list(ctx: Context, dir_, all_profiles):
    """Backups under DIR with age, size, counts and whether they were verified (newest first)."""
    from aetherops_plugins.backup.api import describe_counts
    from aetherops_plugins.backup.manifest import human_age, human_size, list_backups, verify_backup

    base = _base_dir(ctx, dir_)
    infos = list_backups(base, None if all_profiles else ctx.profile.name, include_partial=True, include_archives=True)
    rows = []
    for info in infos:
        row = info.as_dict()
        if info.manifest is not None and info.archive is None and row["verified"] != "FAILED":
            quick = verify_backup(info.path, quick=True)
            if not quick.ok:
                row["verified"] = "damaged"
        rows.append(row)

    def text() -> None:
        if not rows:
            ctx.output.line(f"no backups under {base}")
            return
        table = []
        for r in rows:
            counts = r["counts"]
            summary = []
            for c in counts.values():
                summary += describe_counts({k: v for k, v in c.items() if k in ("dashboards", "folders", "datasources",
                                                                                 "snapshots", "silences", "files", "rule_files")})
            table.append({**r, "age": human_age(r["age_s"]), "size": human_size(r["bytes"]), "summary": ", ".join(summary),
                          "kind": r["kind"] or "",
                          "complete": "?" if r["kind"] == "archive" else ("yes" if r["complete"] else "NO")})
        cols = [("name", "BACKUP"), ("age", "AGE"), ("size", "SIZE"), ("kind", "KIND"), ("complete", "COMPLETE"),
                ("verified", "VERIFIED"), ("summary", "CONTENTS")]
        if all_profiles:
            cols.insert(0, ("profile", "PROFILE"))
        ctx.output.table(table, cols, styles={"verified": lambda v: {"yes": "green", "FAILED": "red", "damaged": "red"}.get(v),
                                              "complete": lambda v: "red" if v == "NO" else None})
        ctx.output.line(f"{len(rows)} backup(s) under {base}")

    ctx.output.result(rows, text)


@backup_group.command("verify")
@click.argument("path", required=False, type=click.Path(path_type=str))
@click.option("--dir", "dir_", metavar="DIR", type=click.Path(file_okay=False), help="Backups root, for the default PATH.")
@pass_context
def backup_verify(ctx: Context, path, dir_):
    """Check every file of a backup against MANIFEST.json (size and sha256).

    PATH is a backup folder or a .tar.gz made by --archive (default: the newest full backup of the
    profile). Exit 1 naming every file that differs, is missing, was added or is unsafe (a path that
    leaves the folder, a symlink), or why an archive cannot be read.
    """
    from pathlib import Path

    from aetherops_plugins.backup.engine import verify_path
    from aetherops_plugins.backup.manifest import list_backups, printable

    if path is None:
        # the newest full backup (never a safety backup, nor a partial --only one while a full one exists)
        infos = [i for i in list_backups(_base_dir(ctx, dir_), ctx.profile.name) if i.manifest is not None and i.kind == "backup"]
        infos = [i for i in infos if i.is_full] or infos
        if not infos:
            raise click.UsageError(f"no backup of profile '{ctx.profile.name}' under {_base_dir(ctx, dir_)}; give PATH")
        target = infos[0].path
    else:
        target = Path(path)
    result = verify_path(target)

    def text() -> None:
        if result["ok"]:
            ctx.output.line(f"OK: {result['path']}: {result['files_checked']} files verified", fg="green")
            return
        ctx.output.line(f"FAILED: {result['path']}", fg="red", bold=True)
        if result.get("error"):
            ctx.output.line(f"  {result['error']}")
        for key, label in (("unsafe", "unsafe"), ("changed", "differs"), ("missing", "missing"), ("extra", "not in manifest")):
            for rel in result.get(key, []):
                ctx.output.line(f"  {label}: {printable(rel)}")

    ctx.output.result(result, text)
    if not result["ok"]:
        raise Findings()


@backup_group.command("prune")
@click.option("--keep", type=click.IntRange(1), default=None, metavar="N", help="Backups to keep (default: the profile's backup.keep).")
@click.option("--dir", "dir_", metavar="DIR", type=click.Path(file_okay=False), help="Backups root (default: backup.dir).")
@click.option("--include-safety", is_flag=True,
              help="Also prune restore's safety backups (the N newest of them are kept); by default they are never deleted.")
@click.option("--dry-run", is_flag=True, help="Show what would be deleted.")
@pass_context
def backup_prune(ctx: Context, keep, dir_, include_safety, dry_run):
    """Delete all but the newest N backups; never the newest verified full one.

    Restore's safety backups never count towards N and are kept unless --include-safety (then the N
    newest safety backups are kept). Archive-only backups (<timestamp>.tar.gz without its folder) are
    left alone. Leftover <timestamp>.partial folders older than an hour (a crashed run) are removed too.
    Only backups are deleted: anything without an aetherops MANIFEST.json or marker, and every symlink,
    is listed as "not a backup" and left alone; a future or unparsable timestamp takes no kept slot.
    """
    from aetherops_plugins.backup.engine import run_prune

    keep = keep or ctx.section("backup").keep
    if not keep:
        raise click.UsageError("give --keep N or set backup.keep in the profile")
    result = run_prune(_base_dir(ctx, dir_), ctx.profile.name, keep, include_safety=include_safety, dry_run=dry_run)

    def text() -> None:
        verb = "would delete" if dry_run else "deleted"
        for path in result["deleted"] + result["stale_partials"]:
            ctx.output.line(f"{verb}: {path}")
        for entry in result["not_backups"]:
            ctx.output.line(f"not a backup (left alone): {entry['path']}: {entry['reason']}")
        for path in result["undated"]:
            ctx.output.line(f"kept, not counted (timestamp unparsable or in the future): {path}")
        line = f"kept {len(result['kept'])} backup(s)"
        if result["protected"]:
            kind = " full" if result["protected_full"] else " (partial: no full backup verifies)"
            line += f"; newest verified{kind}: {result['protected']}"
        else:
            line += "; none verifies!"
        if result["safety_kept"]:
            line += f"; {len(result['safety_kept'])} safety backup(s) kept" + ("" if include_safety else " (--include-safety to prune them)")
        ctx.output.line(line)

    ctx.output.result(result, text)
    if result["protected"] is None and result["backups_found"]:
        ctx.output.warn("no backup of this profile passes verification")
    elif result["protected"] is not None and not result["protected_full"]:
        ctx.output.warn("no full backup of this profile passes verification; the newest verified partial (--only) one was kept")


# ---------------------------------------------------------------------- restore
@click.command("restore")
@click.argument("path", type=click.Path(exists=True, path_type=str))
@click.option("--only", multiple=True, metavar="NAMES", help="Only these components (e.g. grafana, configs, silences).",
              shell_complete=_complete_components)
@click.option("--dry-run", is_flag=True, help="Print the plan and change nothing.")
@click.option("--diff", is_flag=True, help="With the plan, a unified diff of each dashboard that differs.")
@click.option("--force", is_flag=True, help="Overwrite dashboards changed on the server since the backup (and config originals).")
@click.option("--folder-map", multiple=True, metavar="OLD=NEW", help="Restore folder uid OLD as NEW (repeatable).")
@click.option("--uid", "dashboard_uids", multiple=True, metavar="UID",
              help="Restore only this Grafana dashboard (repeatable; with the folders on its path and the library panels it uses).")
@click.option("--folder", "folder_uids", multiple=True, metavar="FOLDER",
              help="Restore only the Grafana dashboards of this folder, by uid or title, subfolders included (repeatable).")
@click.option("--to-profile", metavar="NAME", help="Restore into this profile's stack (default: the backup's own profile; "
              "datasource uids mapped by its backup.datasource_uid_map).")
@click.option("--configs-to", type=click.Path(file_okay=False), metavar="DIR", help="Write the backed-up config files under DIR.")
@click.option("--concurrency", type=click.IntRange(1, 256), default=None, metavar="N", help="Parallel Grafana requests.")
@click.option("--safety-dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Where the safety backup goes (default: beside the backup being restored).")
@click.option("--grafana-provenance", type=click.Choice(["keep", "api", "none"]), default=None,
              help="Provenance of restored alert rules and contact points: keep what the backup recorded (default: "
                   "editable ones stay editable, API-provisioned ones stay locked), api (all locked in the UI), none "
                   "(all editable). Default: the profile's backup.grafana_provenance.")
@pass_context
def restore_command(ctx: Context, path, only, dry_run, diff, force, folder_map, dashboard_uids, folder_uids, to_profile, configs_to,
                    concurrency, safety_dir, grafana_provenance):
    """Restore a backup made by `aetherops backup` (a folder or its .tar.gz).

    Checksums are verified first; a backup that fails them is refused. Each dashboard is planned as
    create / update / unchanged / conflict (changed on the server since the backup: skipped unless
    --force). Before changing anything a safety backup of the target is taken. The target is
    --to-profile, else the backup's own profile (a different profile selected with -p or
    AETHEROPS_PROFILE is refused: say --to-profile). Exit 0 when all was restored, 1 when conflicts
    were skipped or a planned change was not applied, 3 when a service is down.
    """
    from pathlib import Path

    from aetherops_plugins.backup.engine import parse_names
    from aetherops_plugins.backup.restore import parse_folder_map, run_restore

    names = parse_names(only)
    options: dict = {"grafana_provenance": grafana_provenance} if grafana_provenance else {}
    if dashboard_uids or folder_uids:  # one dashboard or folder: the grafana component only
        if names and names != ["grafana"]:
            raise click.UsageError("--uid and --folder restore Grafana dashboards: use them without --only, or with --only grafana")
        names = ["grafana"]
        options.update(dashboard_uids=list(dashboard_uids), folder_uids=list(folder_uids))
    result = run_restore(ctx, Path(path), only=names, dry_run=dry_run, force=force, diff=diff,
                         folder_map=parse_folder_map(folder_map), to_profile=to_profile,
                         configs_to=Path(configs_to) if configs_to else None, concurrency=_concurrency(ctx, concurrency),
                         safety_dir=safety_dir, options=options or None)
    for warning in result["warnings"]:
        ctx.output.warn(warning)

    def text() -> None:
        out = ctx.output
        shown = [i for i in result["items"] if i["action"] != "unchanged" or i.get("error")]
        if shown:
            out.table([{**i, "result": ("ERROR: " + i["error"]) if i.get("error") else ("done" if i["applied"] else "")} for i in shown],
                      [("component", "COMPONENT"), ("kind", "KIND"), ("name", "NAME"), ("action", "ACTION"), ("detail", "DETAIL"),
                       ("result", "RESULT")],
                      styles={"action": lambda a: {"conflict": "red", "create": "green", "update": "yellow", "overwrite": "yellow"}.get(a)})
        for item in result["items"]:
            if item.get("diff"):
                out.line(item["diff"].rstrip("\n"))
        summary = ", ".join(f"{n} {a}" for a, n in result["summary"].items()) or "nothing to do"
        if result["dry_run"]:
            mode, style = "Plan (dry run, nothing changed)", {}
        elif result["not_applied"] or result["errors"] or result["conflicts"]:
            mode, style = "Restore INCOMPLETE", {"fg": "red"}
        else:
            mode, style = "Restored", {}
        out.line(f"{mode}: {result['backup']} -> profile '{result['target_profile']}': {summary}", bold=True, **style)
        if result["not_applied"]:
            out.line(f"  {len(result['not_applied'])} planned change(s) NOT applied:", fg="red")
            for i in result["not_applied"]:
                reason = i.get("error") or i.get("detail") or i["action"]
                out.line(f"    {i['component']} {i['kind']} {i['name']} ({i['planned']}): {reason}")
        if result["safety_backup"]:
            out.line(f"Safety backup of what was overwritten: {result['safety_backup']}")
        for text_block in result["instructions"]:
            out.line("")
            out.line(text_block)

    ctx.output.result(result, text)
    if result["errors"] or (not result["dry_run"] and (result["conflicts"] or result["not_applied"])):
        raise Findings()
