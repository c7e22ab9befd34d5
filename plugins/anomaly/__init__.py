"""Built-in plugin: ``aetherops anomaly check`` flags anomalies in Prometheus series (or CSV files) with a
Prophet-style model.

The engines (``prophet-style`` in numpy, ``prophet`` when installed) come through the
``aetherops_anomaly_detectors`` hook, which this plugin declares, exactly as a third party's would (see
``aetherops_plugins.anomaly.api``). The model, the data readers and the command's engine live beside this
module and are imported only when a command runs: ``aetherops --help`` imports no numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

import aetherops
from aetherops import pass_context

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context

DIRECTIONS = ("both", "above", "below")


@aetherops.hookimpl
def aetherops_add_hookspecs(pm) -> None:
    from aetherops_plugins.anomaly import hookspecs

    pm.add_hookspecs(hookspecs)


@aetherops.hookimpl
def aetherops_register_commands(cli: click.Group) -> None:
    cli.add_command(anomaly)


@aetherops.hookimpl
def aetherops_profile_sections():
    from aetherops.profiles import Field, ProfileSection

    return [
        ProfileSection(
            "anomaly",
            {
                "name": Field(str, None, "What the results call this check.", required=True),
                "query": Field(str, None, "PromQL; one model per returned series (use rate() on counters).", required=True),
                "since": Field(str, "14d", "History the model learns from, before the window."),
                "step": Field(str, "5m", "Resolution of the range query."),
                "window": Field(str, "1h", "The recent stretch judged for anomalies."),
                "interval_width": Field(float, 0.99, "Width of the prediction interval, in (0, 1).", min=0.5, max=0.999999),
                "min_consecutive": Field(int, 3, "Consecutive samples outside the band that make an anomaly.", min=1),
                "direction": Field(str, "both", "Flag values above the band, below it, or both.", choices=DIRECTIONS),
                "engine": Field(str, "prophet-style", "Engine name (`aetherops anomaly engines`)."),
                "daily_order": Field(int, 10, "Fourier order of the daily seasonality (0: none).", min=0, max=50),
                "weekly_order": Field(int, 3, "Fourier order of the weekly seasonality (0: none).", min=0, max=50),
                "changepoints": Field(int, 25, "Candidate trend changepoints.", min=0, max=200),
            },
            "Standing anomaly checks `aetherops anomaly check --all` runs (docs/anomaly.md).",
            many=True,
        )
    ]


@aetherops.hookimpl
def aetherops_anomaly_detectors():
    from aetherops_plugins.anomaly.engines import Prophet, ProphetStyle

    return [ProphetStyle(), Prophet()]


@click.group()
def anomaly():
    """Prophet-style anomaly checks on Prometheus series and CSV files (docs/anomaly.md)."""


@anomaly.command("check")
@click.argument("query", required=False)
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False), help="Score a CSV file (timestamp,value) instead of a query.")
@click.option("--all", "run_all", is_flag=True, help="Run the profile's standing checks (its `anomaly:` list).")
@click.option("--since", default="14d", show_default=True, help="History the model learns from, before the window.")
@click.option("--step", default="5m", show_default=True, help="Resolution of the range query.")
@click.option("--window", default=None, help="The recent stretch judged [default: 1h; with --csv: how often the model "
                                             "is refit, default 1d].")
@click.option("--interval-width", type=click.FloatRange(0.5, 1.0, max_open=True), default=0.99, show_default=True,
              help="Width of the prediction interval.")
@click.option("--min-consecutive", type=click.IntRange(1, 100_000), default=3, show_default=True,
              help="Consecutive samples outside the band that make an anomaly.")
@click.option("--direction", type=click.Choice(DIRECTIONS), default="both", show_default=True, help="Flag values above the band, below it, or both.")
@click.option("--engine", default="prophet-style", show_default=True, help="Engine (`aetherops anomaly engines`).")
@click.option("--daily-order", type=click.IntRange(0, 50), default=10, show_default=True, help="Fourier order of the daily seasonality (0: none).")
@click.option("--weekly-order", type=click.IntRange(0, 50), default=3, show_default=True, help="Fourier order of the weekly seasonality (0: none).")
@click.option("--changepoints", type=click.IntRange(0, 200), default=25, show_default=True, help="Candidate trend changepoints.")
@click.option("--timestamp-column", default=None, help="With --csv: the timestamp column [default: timestamp].")
@click.option("--value-column", default=None, help="With --csv: the value column [default: value].")
@click.option("--warmup", default="15%", show_default=True, help="With --csv: samples only learned from, as a share (15%) or a duration (2d).")
@click.option("--plot", "plot", type=click.Path(dir_okay=False), help="Write a PNG of series, expected value, band and anomalies (needs aetherops[plot]).")
@pass_context
def check_command(ctx: Context, query, csv_file, run_all, since, step, window, interval_width, min_consecutive, direction, engine,
                  daily_order, weekly_order, changepoints, timestamp_column, value_column, warmup, plot):
    """Flag anomalies in the last --window of QUERY, a model fitted on the --since before it.

    One model per returned series. With --csv FILE, every sample after the warm-up is scored instead; with
    --all, the profile's `anomaly:` checks run. Exit 0 when there is no anomaly, 1 when there is, 2 for bad
    options or a bad CSV file, 3 when Prometheus cannot be queried, 4 for a bad profile. A series with too
    little history is reported as "not enough data" (exit 0).
    """
    from aetherops_plugins.anomaly.check import CheckOptions, run_check_command

    run_check_command(ctx, CheckOptions(
        query=query, csv=csv_file, run_all=run_all, since=since, step=step, window=window, interval_width=interval_width,
        min_consecutive=min_consecutive, direction=direction, engine=engine, daily_order=daily_order, weekly_order=weekly_order,
        changepoints=changepoints, timestamp_column=timestamp_column, value_column=value_column, warmup=warmup, plot=plot))


@anomaly.command("engines")
@pass_context
def engines_command(ctx: Context):
    """List the anomaly engines (built-in and from plugins) and whether each can run here."""
    from aetherops_plugins.anomaly.check import list_engines

    list_engines(ctx)
