"""Built-in plugin: ``aetherops health`` checks every service the profile names."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

import aetherops
from aetherops import pass_context
from aetherops.errors import Exit, ExitCode, Findings

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context


@aetherops.hookimpl
def aetherops_register_commands(cli: click.Group) -> None:
    cli.add_command(health)


@click.command()
@click.option("--service", "services", multiple=True, type=click.Choice(["prometheus", "alertmanager", "grafana", "blackbox"]),
              help="Check only this service (repeatable).")
@pass_context
def health(ctx: Context, services: tuple[str, ...]):
    """Check Prometheus, Alertmanager, Grafana and blackbox_exporter: reachable, ready, which version.

    Exit 0 when all are healthy, 1 when any is unhealthy, 3 when none could be reached.
    """
    from aetherops_plugins.health.checks import check_services

    results = check_services(ctx, services or None)

    def text() -> None:
        ctx.output.table(
            results,
            [("service", "SERVICE"), ("url", "URL"), ("ok", "OK"), ("version", "VERSION"), ("latency_ms", "LATENCY ms"), ("error", "ERROR")],
            styles={"ok": lambda ok: "green" if ok else "red"},
        )

    ctx.output.result(results, text)
    if not results:
        from aetherops.errors import ConfigError

        raise ConfigError(f"profile '{ctx.profile.name}' names no service (prometheus/alertmanager/grafana/blackbox url)",
                          path=ctx.profile.path)
    if not any(r["reachable"] for r in results):
        ctx.output.note("no service could be reached")
        raise Exit(ExitCode.SERVICE)
    if not all(r["ok"] for r in results):
        raise Findings()


health.aetherops_fleet = True  # `aetherops -p a -p b health` / `--all-profiles` checks every stack at once (docs/plugins/fleet.md)
