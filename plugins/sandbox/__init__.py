"""Built-in plugin: ``aetherops sandbox up|status|down``, a local stack to try aetherops on.

Real Prometheus (admin API and lifecycle on, scraping itself, a demo exporter,
Alertmanager and blackbox_exporter), real Alertmanager, real blackbox_exporter,
and the Grafana API double seeded with demo dashboards, on the ports of the
selected profile (``profiles/local.yaml`` by default), with their data under
the state dir.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

import aetherops
from aetherops import pass_context
from aetherops.errors import Findings

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context


@aetherops.hookimpl
def aetherops_profile_sections():
    from aetherops.profiles import Field, ProfileSection, positive

    return [ProfileSection("sandbox", {
        "demo_exporter_port": Field(int, 19100, "Port of the sandbox's demo exporter (metrics that move).", min=1, max=65535),
        "state_dir": Field(str, None, "Where the sandbox keeps its data and logs (default: <user state dir>/sandbox)."),
        "ready_timeout": Field(float, 30.0, "Seconds to wait for each service to become ready.", validator=positive),
    }, "The local sandbox stack started by `aetherops sandbox up`.")]


@aetherops.hookimpl
def aetherops_register_commands(cli: click.Group) -> None:
    cli.add_command(sandbox)


@click.group()
def sandbox():
    """Start, inspect and stop a local stack (real Prometheus, Alertmanager, blackbox_exporter + Grafana double)."""


@sandbox.command()
@pass_context
def up(ctx: Context):
    """Start the sandbox stack on the profile's ports (idempotent: running services are kept)."""
    from aetherops_plugins.sandbox.engine import Sandbox

    rows = Sandbox.from_context(ctx).up(note=ctx.output.note)
    _show(ctx, rows)


@sandbox.command()
@pass_context
def status(ctx: Context):
    """Show what the sandbox runs (exit 1 if something it started is not running)."""
    from aetherops_plugins.sandbox.engine import Sandbox

    rows = Sandbox.from_context(ctx).status()
    _show(ctx, rows)
    if rows and not all(r["running"] and r["ready"] for r in rows):
        raise Findings()


@sandbox.command()
@pass_context
def down(ctx: Context):
    """Stop exactly the processes `sandbox up` started."""
    from aetherops_plugins.sandbox.engine import Sandbox

    rows = Sandbox.from_context(ctx).down(note=ctx.output.note)
    ctx.output.result(rows, lambda: ctx.output.table(rows, [("service", "SERVICE"), ("pid", "PID"), ("stopped", "STOPPED")]))


def _show(ctx: Context, rows: list[dict]) -> None:
    def text() -> None:
        if not rows:
            ctx.output.line("the sandbox is not running (aetherops sandbox up)")
            return
        ctx.output.table(rows, [("service", "SERVICE"), ("url", "URL"), ("pid", "PID"), ("running", "RUNNING"),
                                ("ready", "READY"), ("log", "LOG")],
                         styles={"ready": lambda ok: "green" if ok else "red"})

    ctx.output.result(rows, text)
