"""Built-in plugin: ``aetherops probe`` runs blackbox_exporter-style HTTP, HTTPS and TCP probes right now.

The probers (``http``, ``tcp``) come through the ``aetherops_probe_modules`` hook,
exactly as a third party's would (see ``aetherops_plugins.probe.api``). The
engine lives beside this module and is imported only when the command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

import aetherops
from aetherops import pass_context

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context

DEFAULT_CONCURRENCY = 64


@aetherops.hookimpl
def aetherops_add_hookspecs(pm) -> None:
    from aetherops_plugins.probe import hookspecs

    pm.add_hookspecs(hookspecs)


@aetherops.hookimpl
def aetherops_register_commands(cli: click.Group) -> None:
    cli.add_command(probe)


@aetherops.hookimpl
def aetherops_profile_sections():
    from aetherops.profiles import Field, ProfileSection

    return [
        ProfileSection(
            "probes",
            {
                "name": Field(str, None, "What the results call this probe (default: the target)."),
                "target": Field(str, None, "URL (http module) or host:port (tcp module), as blackbox_exporter's ?target=.",
                                required=True),
                "module": Field(str, "http_2xx", "Module from probe_modules:, the blackbox config file, or built-in "
                                                  "(http_2xx, tcp_connect, http, tcp)."),
                "labels": Field(dict, {}, "Labels added to this probe's results (JSON and Prometheus text)."),
                "timeout": Field(float, None, "Seconds before this probe times out (default: its module's timeout, else 10)."),
            },
            "Probes `aetherops probe` runs when given no targets.",
            many=True,
        ),
        ProfileSection(
            "probe_modules",
            {},
            "Probe modules in blackbox_exporter's format: NAME: {prober: http|tcp, timeout: 5s, http: {...}}. "
            "They override the modules of blackbox.config_file and the built-in ones.",
            allow_extra=True,
        ),
    ]


@aetherops.hookimpl
def aetherops_probe_modules():
    from aetherops_plugins.probe.http_prober import HTTPProber
    from aetherops_plugins.probe.tcp_prober import TCPProber

    return [HTTPProber(), TCPProber()]


class Duration(click.ParamType):
    """``30s``, ``1m30s``, ``250ms`` or plain seconds."""

    name = "duration"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return float(value)
        from aetherops_plugins.probe.config import parse_duration

        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@click.command()
@click.argument("targets", nargs=-1, metavar="[TARGET]...")
@click.option("-m", "--module", metavar="NAME", help="Module for the TARGETs (default http_2xx); with profile probes, "
                                                     "only the probes using it.")
@click.option("--config", "config", metavar="FILE", type=click.Path(dir_okay=False),
              help="Read modules from this blackbox_exporter config file (blackbox.yml).")
@click.option("--concurrency", type=click.IntRange(1, 4096), default=DEFAULT_CONCURRENCY, show_default=True,
              help="Probes running at the same time.")
@click.option("--timeout", type=Duration(), default=None, help="Per-probe timeout (default: the module's, else 10s).")
@click.option("--from-prometheus", is_flag=True, help="Probe what the profile's Prometheus probes: targets of jobs "
                                                      "scraping a blackbox_exporter /probe path, with their module.")
@click.option("--exporter", is_flag=True, help="Run the probes through the profile's blackbox_exporter /probe endpoint.")
@click.option("--min-tls-days", type=click.FloatRange(0), default=None, metavar="N",
              help="Fail a probe whose TLS certificate expires in fewer than N days.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "prometheus"]), default=None,
              help="text (table), json (same as --output json) or prometheus (text exposition).")
@click.option("--wait", is_flag=True, help="Healthcheck mode: probe until healthy (docker HEALTHCHECK semantics).")
@click.option("--start-period", type=Duration(), default=0.0, show_default=True,
              help="With --wait: failures during this period do not count.")
@click.option("--interval", type=Duration(), default=5.0, show_default=True, help="With --wait: time between attempts.")
@click.option("--retries", type=click.IntRange(1), default=3, show_default=True,
              help="With --wait: consecutive counted failures before giving up.")
@pass_context
def probe(ctx: Context, targets, module, config, concurrency, timeout, from_prometheus, exporter, min_tls_days, fmt,
          wait, start_period, interval, retries):
    """Probe HTTP, HTTPS and TCP targets now, as blackbox_exporter would.

    With no TARGET, probes the profile's probes: list. Modules come from --config (a blackbox.yml),
    else the profile's probe_modules: and blackbox.config_file, else the built-in http_2xx and
    tcp_connect. Exit 0 when every probe succeeds, 1 when any fails, 3 when a service (Prometheus,
    blackbox_exporter) cannot be reached, 4 for a bad module configuration.
    """
    from aetherops_plugins.probe.engine import ProbeOptions, run_probe_command

    if fmt == "json":
        ctx.output.format = "json"
    run_probe_command(ctx, ProbeOptions(
        targets=tuple(targets), module=module, config=config, concurrency=concurrency, timeout=timeout,
        from_prometheus=from_prometheus, exporter=exporter, min_tls_days=min_tls_days, fmt=fmt or ctx.output.format,
        wait=wait, start_period=start_period, interval=interval, retries=retries))
