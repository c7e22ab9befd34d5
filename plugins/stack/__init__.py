"""Built-in plugin: stack operations that replace Makefile targets and scripts.

``aetherops validate`` (the pre-deploy gate), ``reload``, ``query``, ``query-range`` and ``open``. The engines
(:mod:`.validate`, :mod:`.reload`, :mod:`.query`, :mod:`.state`, :mod:`.versions`) are imported only when a
command runs. Other plugins name config files for ``validate`` through the ``aetherops_config_files`` hook
(declared in :mod:`.hookspecs`, contract in :mod:`.api`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

import aetherops
from aetherops import pass_context
from aetherops.errors import Exit, ExitCode, Findings

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context

OPEN_SERVICES = ("grafana", "prometheus", "alertmanager")


@aetherops.hookimpl
def aetherops_register_commands(cli: click.Group) -> None:
    for command in (validate_command, reload_command, query_command, query_range_command, open_command):
        cli.add_command(command)


@aetherops.hookimpl
def aetherops_add_hookspecs(pm) -> None:
    from aetherops_plugins.stack import hookspecs

    pm.add_hookspecs(hookspecs)


@aetherops.hookimpl
def aetherops_config_files(context):
    from aetherops_plugins.stack.validate import profile_config_files

    return profile_config_files(context)


def _pin(value) -> str | None:
    """a version such as "2.42.0", "2.42" (any 2.42.x) or ">=2.40" (quoted in YAML)"""
    from aetherops_plugins.stack.versions import pin_problem

    return pin_problem(value)


@aetherops.hookimpl
def aetherops_profile_sections():
    from aetherops.profiles import Field, ProfileSection

    return [
        ProfileSection(
            "versions",
            {service: Field(str, None, f"The {service} version `aetherops validate` requires.", validator=_pin)
             for service in ("prometheus", "alertmanager", "grafana", "blackbox")},
            "Version pins checked by `aetherops validate` against what the servers report (docs/operations.md).",
        )
    ]


# ------------------------------------------------------------------------------------------------- validate
@click.command("validate")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@pass_context
def validate_command(ctx: Context, strict: bool):
    """The pre-deploy gate: config files, lint, promtool/amtool, health, loaded rules, running config, secrets, versions.

    One row per check (ok, warn, fail, skip). Exit 0 when nothing failed, 1 when a row failed (or, with
    --strict, warned), 3 when no service could be reached, 4 for a profile error.
    """
    from aetherops_plugins.stack.validate import Validation

    run = Validation(ctx, strict=strict)
    rows = run.run()
    failed = run.failed()
    counts = run.summary()
    data = {"ok": not failed, "strict": strict, "summary": counts, "checks": rows}
    ctx.output.result(data, lambda: ctx.output.table(
        rows, [("check", "CHECK"), ("target", "TARGET"), ("status", "STATUS"), ("detail", "DETAIL")],
        styles={"status": lambda s: {"ok": "green", "fail": "red", "warn": "yellow"}.get(s)}))
    ctx.output.note(f"validate: {counts['ok']} ok, {counts['fail']} failed, {counts['warn']} warning(s), {counts['skip']} skipped")
    if run.health and not any(r["reachable"] for r in run.health.values()):
        raise Exit(ExitCode.SERVICE)
    if failed:
        raise Findings()


validate_command.aetherops_fleet = True


# ------------------------------------------------------------------------------------------------- reload
@click.command("reload")
@click.argument("service", required=False, default="all", type=click.Choice(["prometheus", "alertmanager", "all"]))
@pass_context
def reload_command(ctx: Context, service: str):
    """Reload Prometheus and/or Alertmanager (POST /-/reload) and confirm the new config is active.

    Every peer of an Alertmanager cluster (alertmanager.urls) is reloaded. A config the server rejects leaves
    the previous one running: reported with the server's reason, exit 1.
    Exit 3 when a server cannot be reached or its lifecycle API is disabled (Prometheus without
    --web.enable-lifecycle).
    """
    from aetherops.errors import ConfigError
    from aetherops_plugins.stack.reload import SERVICES
    from aetherops_plugins.stack.reload import reload as reload_one

    wanted = [s for s in SERVICES if service in (s, "all") and (service != "all" or ctx.profile.has_service(s))]
    if not wanted:
        raise ConfigError(f"profile '{ctx.profile.name}' names no prometheus or alertmanager url", path=ctx.profile.path)
    rows = [row for s in wanted for row in reload_one(ctx, s)]
    ctx.output.result(rows, lambda: ctx.output.table(
        rows, [("service", "SERVICE"), ("url", "URL"), ("status", "STATUS"), ("detail", "DETAIL")],
        styles={"status": lambda s: "green" if s == "reloaded" else "red"}))
    worst = max(r["exit_code"] for r in rows)
    if worst:
        raise Exit(worst)


# ------------------------------------------------------------------------------------------------- query
@click.command("query")
@click.argument("expr")
@click.option("--at", "at", metavar="TIME", default=None,
              help="Evaluation time: now, unix seconds, RFC 3339, or a duration back (1h) [default: now].")
@click.option("--expect-empty", is_flag=True, help="Exit 1 when the query returns any series (e.g. 'up == 0').")
@click.option("--expect-results", is_flag=True, help="Exit 1 when the query returns no series.")
@pass_context
def query_command(ctx: Context, expr: str, at: str | None, expect_empty: bool, expect_results: bool):
    """Run an instant PromQL query against the profile's Prometheus: a table, or JSON with -o json.

    With --expect-empty or --expect-results it is a check for scripts: exit 1 when the answer is not the expected one.
    """
    from aetherops.errors import UsageError
    from aetherops_plugins.stack import query as engine

    if expect_empty and expect_results:
        raise UsageError("--expect-empty and --expect-results exclude each other")
    when = engine.parse_time(at, "--at") if at else None
    rows = engine.instant_rows(ctx.prometheus.query(engine.check_expr(expr), at=when))
    ctx.output.result(rows, lambda: ctx.output.table(engine.instant_table(rows),
                                                     [("series", "SERIES"), ("value", "VALUE"), ("time", "TIME")]))
    if (expect_empty and rows) or (expect_results and not rows):
        raise Findings()


query_command.aetherops_fleet = True


@click.command("query-range")
@click.argument("expr")
@click.option("--since", default="1h", show_default=True, metavar="TIME",
              help="Start: a duration back from --until (1h), unix seconds or RFC 3339.")
@click.option("--until", default=None, metavar="TIME", help="End [default: now].")
@click.option("--step", default=None, metavar="DURATION", help="Resolution (15s, 1m) [default: about 250 points].")
@pass_context
def query_range_command(ctx: Context, expr: str, since: str, until: str | None, step: str | None):
    """Run a PromQL range query: per series its points, min, max and last value; all points with -o json."""
    from aetherops_plugins.stack import query as engine

    start, end, seconds = engine.range_window(since, until, step)
    rows = engine.range_rows(ctx.prometheus.query_range(engine.check_expr(expr), start, end, seconds))
    ctx.output.result(rows, lambda: ctx.output.table(
        engine.range_table(rows), [("series", "SERIES"), ("points", "POINTS"), ("min", "MIN"), ("max", "MAX"),
                                   ("last", "LAST"), ("from", "FROM"), ("to", "TO")]))


# ------------------------------------------------------------------------------------------------- open
@click.command("open")
@click.argument("target", required=False, default="grafana", metavar="[grafana|prometheus|alertmanager|DASHBOARD]")
@click.option("--print-url", is_flag=True, help="Only print the URL, do not start a browser.")
@pass_context
def open_command(ctx: Context, target: str, print_url: bool):
    """Open Grafana, Prometheus, Alertmanager or a dashboard (uid, else title) in the browser, on any OS.

    Several dashboards with that title: listed, exit 2.
    """
    from aetherops.errors import ConfigError

    if target in OPEN_SERVICES:
        section = ctx.section(target)
        url = section.url or next(iter(section.get("urls") or []), None)  # an Alertmanager cluster: its first peer
        if not url:
            raise ConfigError(f"profile '{ctx.profile.name}' has no {target}.url", path=ctx.profile.path)
        data = {"target": target, "url": str(url).rstrip("/")}
    else:
        from aetherops_plugins.dashboards.engine import find_one

        match = find_one(ctx.grafana, target)
        data = {"target": "dashboard", **match}
    if not print_url:
        import webbrowser

        if not webbrowser.open(data["url"]):
            ctx.output.warn(f"no browser could be started; open {data['url']} yourself")
    ctx.output.result(data, data["url"])
