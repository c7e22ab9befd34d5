"""Built-in plugin: ``aetherops slo`` generates, simulates, backtests and watches multiwindow burn-rate alerts.

The engine (spec reader, rule generator, numpy simulator, reports) lives in
the modules beside this one and is imported only when a command runs; the
contract (what an SLO and a tier are) is ``aetherops_plugins.burnrate.api``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

import aetherops
from aetherops import pass_context

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context

SPEC_HELP = "SLO spec file (a `slos:` list, Sloth prometheus/v1 or OpenSLO v1); without it, the profile's `slos:`."


@aetherops.hookimpl
def aetherops_register_commands(cli: click.Group) -> None:
    cli.add_command(slo)


@aetherops.hookimpl
def aetherops_profile_sections():
    from aetherops.profiles import Field, ProfileSection

    return [
        ProfileSection(
            "slos",
            {
                "name": Field(str, None, "SLO name (letters, digits, '-', '_', '.'); the `slo` label of every rule.", required=True),
                "objective": Field(float, None, "Objective in percent, in (0, 100), e.g. 99.9.", required=True),
                "period": Field(str, "30d", "The SLO window; the default tiers' windows scale with it."),
                "sli": Field(dict, {}, "error_query and total_query, or error_ratio_query; `{{.window}}` stands for the range."),
                "labels": Field(dict, {}, "Labels added to every recorded series and alert."),
                "alerting": Field(dict, {}, "name, labels, annotations, runbook_url, page: {labels}, ticket: {labels}."),
                "tiers": Field(list, None, "Alert tiers {severity, burn_rate, long_window, short_window, for} instead of the defaults."),
                "policy": Field(list, [], "Error budget policy: [{budget_below: 25%, action: freeze-features, gate: true}]."),
                "description": Field(str, "", "What the SLO promises, in a sentence."),
                "service": Field(str, "", "The service the SLO belongs to."),
                "evaluation_interval": Field(str, "1m", "Interval of the generated rule group (and of the simulator)."),
            },
            "Service level objectives (`aetherops slo`, docs/slo.md).",
            many=True,
        )
    ]


@click.group()
def slo():
    """Multiwindow, multi-burn-rate SLO alerts: generate, simulate, backtest, watch (docs/slo.md)."""


@slo.command("rules")
@click.argument("spec", required=False, type=click.Path(dir_okay=False))
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Write the rule file here (atomically) instead of stdout.")
@pass_context
def rules_command(ctx: Context, spec: str | None, out: str | None):
    """Prometheus recording and alerting rules for the SLOs in SPEC.

    Error ratios over every window the tiers use (from summed counters),
    budget remaining, burn rates, and one alert per tier. Exit 4 when the spec
    is invalid.
    """
    from aetherops_plugins.burnrate.commands import rules

    rules(ctx, spec, out)


@slo.command("simulate")
@click.argument("spec", required=False, type=click.Path(dir_okay=False))
@click.option("--scenario", "scenarios", multiple=True, metavar="KIND:KEY=VALUE,...",
              help="outage:ratio=1.0,for=10m | degradation:ratio=0.02,for=6h | flapping:ratio=1.0,on=1m,off=9m,for=6h | "
                   "baseline:ratio=0.0005 (repeatable).")
@click.option("--grid", is_flag=True, help="Also simulate a grid of error ratio x duration and report precision and recall.")
@click.option("--significant", default="2%", show_default=True, help="Budget share an incident must spend to be significant (grid).")
@click.option("--resolution", default="1s", show_default=True, help="Time step of the simulated traffic.")
@click.option("--slo", "slo_name", default=None, help="Simulate only this SLO of the spec.")
@click.option("--html", "html", type=click.Path(dir_okay=False), help="Write a self-contained HTML report here.")
@click.option("--plot", "plot", type=click.Path(dir_okay=False), help="Write a PNG of the burn rates (needs aetherops[plot]).")
@pass_context
def simulate_command(ctx: Context, spec, scenarios, grid, significant, resolution, slo_name, html, plot):
    """Replay synthetic incidents against the alert tiers: when each fires and resets, and the budget spent.

    Exit 2 for a bad --scenario, 4 for an invalid spec.
    """
    from aetherops_plugins.burnrate.commands import simulate

    simulate(ctx, spec, scenarios=scenarios, grid=grid, significant=significant, resolution=resolution, slo_name=slo_name,
             html=html, plot=plot)


@slo.command("backtest")
@click.argument("spec", required=False, type=click.Path(dir_okay=False))
@click.option("--since", default="30d", show_default=True, help="How much history to replay.")
@click.option("--step", default="1m", show_default=True, help="Resolution of the range queries (and of the replayed evaluations).")
@click.option("--slo", "slo_name", default=None, help="Backtest only this SLO of the spec.")
@click.option("--html", "html", type=click.Path(dir_okay=False), help="Write a self-contained HTML report here.")
@click.option("--plot", "plot", type=click.Path(dir_okay=False), help="Write a PNG of the burn rates (needs aetherops[plot]).")
@pass_context
def backtest_command(ctx: Context, spec, since, step, slo_name, html, plot):
    """Replay the alert tiers over real history from the profile's Prometheus.

    Lists when each tier would have fired and reset, and the budget spent. Exit 3 when Prometheus cannot be queried.
    """
    from aetherops_plugins.burnrate.commands import backtest

    backtest(ctx, spec, since=since, step=step, slo_name=slo_name, html=html, plot=plot)


@slo.command("status")
@click.argument("spec", required=False, type=click.Path(dir_okay=False))
@click.option("--gate", is_flag=True, help="Exit 1 when the error budget policy says to stop deploys.")
@pass_context
def status_command(ctx: Context, spec, gate):
    """Live state per SLO: attainment, budget remaining, burn rate per tier window, tiers firing now, policy."""
    from aetherops_plugins.burnrate.commands import status

    status(ctx, spec, gate=gate)


@slo.command("dashboard")
@click.argument("spec", required=False, type=click.Path(dir_okay=False))
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Write the dashboard JSON here (atomically) instead of stdout.")
@pass_context
def dashboard_command(ctx: Context, spec, out):
    """A Grafana dashboard for the SLOs: attainment, budget, burn rate per tier, firing alerts, rule freshness."""
    from aetherops_plugins.burnrate.commands import dashboard

    dashboard(ctx, spec, out)
