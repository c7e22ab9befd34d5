"""Built-in plugin: ``aetherops dashboards push | pull | diff | list`` (dashboards as code).

A folder of dashboard JSON files is the source of truth for a Grafana; a sub-directory is a Grafana
folder. Planning is :mod:`aetherops.grafana_plan`, shared with ``aetherops restore``; the engine lives
beside this module and is imported only when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

import aetherops
from aetherops import pass_context
from aetherops.errors import Exit, ExitCode, Findings

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context

DIR_HELP = "The dashboards folder (default: the profile's dashboards.dir, else ./dashboards)."


@aetherops.hookimpl
def aetherops_register_commands(cli: click.Group) -> None:
    cli.add_command(dashboards_group)


@aetherops.hookimpl
def aetherops_profile_sections():
    from aetherops.profiles import Field, ProfileSection

    return [
        ProfileSection(
            "dashboards",
            {
                "dir": Field(str, "dashboards", "The folder of dashboard JSON files (a sub-directory is a Grafana folder)."),
                "folder": Field(str, None, "Put every dashboard into this one Grafana folder instead."),
                "datasources": Field(dict, {}, "Bindings for the __inputs of exported dashboards: input NAME -> datasource uid."),
            },
            "Dashboards as code (aetherops dashboards).",
        )
    ]


def _section(ctx: Context):
    return ctx.section("dashboards")


def _dir(ctx: Context, value: str | None) -> Path:
    return Path(value or _section(ctx).dir)


def _folder(ctx: Context, value: str | None) -> str | None:
    return value if value is not None else _section(ctx).folder


@click.group("dashboards")
def dashboards_group():
    """Dashboards as code: push a folder of dashboard JSON to Grafana, pull it back, detect drift.

    Exit codes: 0 done, 1 conflicts or drift, 3 Grafana down or refusing a save, 4 a bad dashboard file.
    """


def _lint_checks(ctx: Context, no_lint: bool) -> list | None:
    """The lint plugin's checks when it is installed (its hookspec registered) and --no-lint is not given."""
    if no_lint or not hasattr(ctx.pm.hook, "aetherops_lint_checks"):
        return None
    from aetherops_plugins.lint.cli import collect_checks

    return collect_checks(ctx)


def _push(ctx: Context, directory, folder, set_input, no_lint: bool = False, **flags):
    from aetherops_plugins.dashboards import engine

    return engine.push(ctx.grafana, _dir(ctx, directory), folder=_folder(ctx, folder),
                       bindings=engine.parse_inputs(set_input, _section(ctx).datasources), url=ctx.grafana.url,
                       progress=None if ctx.output.json else ctx.output.progress,
                       lint_checks=_lint_checks(ctx, no_lint), **flags)


def _print_report(ctx: Context, report, *, verb: str) -> None:
    counts = report.counts()
    summary = ", ".join(f"{n} {a}" for a, n in sorted(counts.items())) or "nothing to do"

    def text() -> None:
        for row in report.rows:
            if row["kind"] == "folder" and row["action"] == "unchanged":
                continue
            ctx.output.line(f"{row['action']:<10} {row['kind']:<9} {row['name']}: {row['reason']}")
            if row.get("diff"):
                ctx.output.line(row["diff"].rstrip("\n"))
        ctx.output.line(f"{verb}: {summary}")

    ctx.output.result({"items": report.rows, "summary": counts}, text)


@dashboards_group.command("push")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--folder", default=None, metavar="NAME", help="Put every dashboard into this Grafana folder.")
@click.option("--dry-run", is_flag=True, help="Plan and report, change nothing.")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified JSON diff for each changed dashboard.")
@click.option("--force", is_flag=True, help="Overwrite dashboards changed on the server since the last push.")
@click.option("--prune", is_flag=True, help="Delete dashboards in the managed folders that are not in DIRECTORY.")
@click.option("--message", default="", metavar="TEXT", help="Version message stored with each saved dashboard.")
@click.option("--write-uids", is_flag=True, help="Write the uid derived from its path into each file that has none.")
@click.option("--no-lint", is_flag=True, help="Push files the lint plugin's dashboard checks find errors in.")
@click.option("--set-input", "set_input", multiple=True, metavar="NAME=UID", help="Bind an __inputs entry (repeatable).")
@pass_context
def push_command(ctx: Context, directory, folder, dry_run, show_diff, force, prune, message, write_uids, no_lint,
                 set_input):
    """Push every *.json under DIRECTORY to Grafana: created / updated / unchanged / conflict.

    Only changed dashboards are sent. A dashboard edited in Grafana since the last push is a conflict
    (not overwritten) unless --force. --prune deletes dashboards in the folders DIRECTORY manages (never
    in General or other folders) that it does not have. A bad file is an error row; the rest is still pushed.
    Exit 1 on conflicts or bad files, 3 when Grafana refused a save.
    """
    report = _push(ctx, directory, folder, set_input, dry_run=dry_run, diff=show_diff, force=force, prune=prune,
                   message=message, write_uids=write_uids, no_lint=no_lint)
    _print_report(ctx, report, verb="dry run" if dry_run else "push")
    if report.server_errors:
        raise Exit(ExitCode.SERVICE)
    if any(r["action"] in ("conflict", "error") for r in report.rows):
        raise Findings()


@dashboards_group.command("diff")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--folder", default=None, metavar="NAME", help="Compare as if every dashboard were in this folder.")
@click.option("--set-input", "set_input", multiple=True, metavar="NAME=UID", help="Bind an __inputs entry (repeatable).")
@pass_context
def diff_command(ctx: Context, directory, folder, set_input):
    """Drift between DIRECTORY and Grafana, for CI: exit 1 when anything would change or conflicts.

    Dashboards on the server in a folder DIRECTORY manages but missing from it count as drift (what
    push --prune would delete)."""
    report = _push(ctx, directory, folder, set_input, dry_run=True, diff=True, force=False, prune=True)
    _print_report(ctx, report, verb="diff")
    if any(r["action"] != "unchanged" for r in report.rows):
        raise Findings()


@dashboards_group.command("pull")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--folder", default=None, metavar="NAME", help="Only dashboards in this Grafana folder (title path).")
@click.option("--uid", "uids", multiple=True, metavar="UID", help="Only this dashboard (repeatable).")
@pass_context
def pull_command(ctx: Context, directory, folder, uids):
    """Write Grafana's dashboards into DIRECTORY as stable, normalised JSON (the layout push reads)."""
    from aetherops_plugins.dashboards import engine

    rows = engine.pull(ctx.grafana, _dir(ctx, directory), folder=folder, uids=uids, url=ctx.grafana.url)
    written = sum(1 for r in rows if r["action"] == "written")

    def text() -> None:
        for row in rows:
            ctx.output.line(f"{row['action']:<10} {row['path']}")
        ctx.output.line(f"pull: {written} written, {len(rows) - written} unchanged")

    ctx.output.result({"files": rows}, text)


@dashboards_group.command("list")
@click.option("--folder", default=None, metavar="NAME", help="Only dashboards in this Grafana folder (title path).")
@pass_context
def list_command(ctx: Context, folder):
    """List Grafana's dashboards: uid, title, folder."""
    from aetherops_plugins.dashboards import engine

    rows = engine.list_dashboards(ctx.grafana, folder)
    ctx.output.result({"dashboards": rows},
                      lambda: ctx.output.table(rows, [("uid", "UID"), ("title", "Title"), ("folder", "Folder")]))


@dashboards_group.command("open")
@click.argument("uid_or_title")
@click.option("--print-url", is_flag=True, help="Only print the URL, do not start a browser.")
@pass_context
def open_command(ctx: Context, uid_or_title, print_url):
    """Open a dashboard (by uid, else by title) in the browser. Several with that title: listed, exit 2."""
    from aetherops_plugins.dashboards import engine

    match = engine.find_one(ctx.grafana, uid_or_title)
    if not print_url:
        import webbrowser

        webbrowser.open(match["url"])
    ctx.output.result(match, match["url"])
