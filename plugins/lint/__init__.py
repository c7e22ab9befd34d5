"""Built-in plugin: ``aetherops lint`` checks rules, Alertmanager/Prometheus configs and dashboards.

The engine (loader, PromQL analysis, checks, formats) lives in the modules
beside this one and is imported only when the command runs. The built-in
checks are contributed through the ``aetherops_lint_checks`` hook, exactly
as a third-party plugin contributes its own (see ``aetherops_plugins.lint.api``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

import aetherops
from aetherops import pass_context

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context

FORMATS = ("text", "json", "github", "sarif")


@aetherops.hookimpl
def aetherops_register_commands(cli: click.Group) -> None:
    cli.add_command(lint)


@aetherops.hookimpl
def aetherops_add_hookspecs(pm) -> None:
    from aetherops_plugins.lint import hookspecs

    pm.add_hookspecs(hookspecs)


@aetherops.hookimpl
def aetherops_lint_checks():
    from aetherops_plugins.lint.checks import builtin_checks

    return builtin_checks()


def _duration(value: str) -> str | None:
    """A Prometheus duration (30s, 5m, 1h30m)."""
    from aetherops_plugins.lint.loader import parse_duration

    return None if parse_duration(value) is not None else "must be a Prometheus duration such as 30s, 5m or 1h30m"


def _aliases(value) -> str | None:
    """A mapping of annotation name to a list of other names that satisfy it."""
    if not isinstance(value, dict) or not all(
            isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)) for v in value.values()):
        return "must map an annotation name to a list of names, e.g. {runbook_url: [playbook, documentation]}"
    return None


def _policies(value) -> str | None:
    """A list of rule policies (docs/lint.md, "Policies")."""
    from aetherops_plugins.lint.policies import validate

    return validate(value)


@aetherops.hookimpl
def aetherops_profile_sections():
    from aetherops.profiles import Field, ProfileSection, positive
    from aetherops_plugins.lint.checks.alerts_annotations import DEFAULT_ALIASES, DEFAULT_REQUIRED

    return [
        ProfileSection(
            "lint",
            {
                "paths": Field(list, [], "Files and directories `aetherops lint` checks when given no paths."),
                "disable": Field(list, [], "Check ids (or globs such as `online/*`) not to run."),
                "enable": Field(list, [], "Check ids to run although off by default."),
                "severity_overrides": Field(dict, {}, "Check id -> error|warning|info|off."),
                "severity_threshold": Field(str, "error", "Lowest severity that makes the command exit 1.",
                                            choices=("info", "warning", "error")),
                "allowed_severities": Field(list, ["critical", "warning", "info"], "Values allowed in alerts' severity label."),
                "required_annotations": Field(list, list(DEFAULT_REQUIRED), "Annotations every alert needs (alerts/annotations)."),
                "annotation_aliases": Field(dict, DEFAULT_ALIASES, "Annotation -> other names that satisfy it "
                                            "(e.g. runbook_url: [playbook, documentation]); replaces the defaults.", validator=_aliases),
                "scrape_interval": Field(str, None, "Scrape interval for rate-range checks (default: the linted prometheus.yml's; unknown: those checks say so and skip).",
                                         validator=_duration),
                "evaluation_interval": Field(str, None, "Rule evaluation interval when no prometheus.yml is linted (default 1m).",
                                             validator=_duration),
                "baseline": Field(str, None, "Baseline file applied when --baseline is not given."),
                "online_lookback": Field(str, "1d", "How far back online checks look for series.", validator=_duration),
                "max_series": Field(int, 10000, "online/cost: series a rule may touch.", min=1),
                "noisy_days": Field(float, 7.0, "online/noisy: days of history to replay.", validator=positive),
                "noisy_threshold": Field(int, 10, "online/noisy: firings above this are a finding.", min=0),
                "runbook_timeout": Field(float, 5.0, "online/runbook: seconds to wait for a runbook link.", validator=positive),
                "policies": Field(list, [], "Team rules for rules: match (path, kind, name, label) -> require/forbid labels and "
                                  "annotations, for min/max, aggregation and selector labels (rules/label, rules/reject, rules/for, "
                                  "promql/aggregate, promql/selector).", validator=_policies),
            },
            "Settings of `aetherops lint` (docs/lint.md).",
        )
    ]


def _complete_checks(click_ctx, param, incomplete):
    """Shell completion of --disable/--enable: the check ids of every loaded plugin, with their summary."""
    from aetherops.completion import quietly
    from aetherops_plugins.lint.cli import collect_checks

    return quietly(lambda context: [(c.id, getattr(c, "summary", None)) for c in collect_checks(context)])(click_ctx, param, incomplete)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format (default text; `--output json` is the same as `--format json`).")
@click.option("--disable", multiple=True, metavar="CHECK", help="Do not run this check (id or glob; repeatable).",
              shell_complete=_complete_checks)
@click.option("--enable", multiple=True, metavar="CHECK", help="Run this check although disabled by default or by the profile.",
              shell_complete=_complete_checks)
@click.option("--severity-threshold", type=click.Choice(["info", "warning", "error"]), default=None,
              help="Exit 1 when a finding of at least this severity remains (default: profile lint.severity_threshold, else error).")
@click.option("--baseline", "baseline_file", type=click.Path(), default=None, help="Ignore findings recorded in this baseline file.")
@click.option("--write-baseline", "write_baseline", type=click.Path(), default=None,
              help="Record every current finding in this file (and exit 0).")
@click.option("--online", is_flag=True, help="Also run the online checks against the profile's Prometheus.")
@click.option("--list-checks", is_flag=True, help="List the checks (id, severity, kinds) and exit.")
@click.option("--changed-since", "changed_since", metavar="REF", default=None,
              help="CI mode: report only findings on rules changed since this git ref, and on rules that use a "
                   "recording rule the change removed or renamed.")
@pass_context
def lint(ctx: Context, paths, fmt, disable, enable, severity_threshold, baseline_file, write_baseline, online, list_checks,
         changed_since):
    """Lint Prometheus rules, Alertmanager and Prometheus configs, and Grafana dashboards.

    PATHS are files or directories (each file's kind is detected from its
    content); with none, the profile's `lint.paths` are linted. Exit 0 when
    clean, 1 when a finding reaches the severity threshold, 4 when a path
    cannot be read.
    """
    from aetherops_plugins.lint.cli import run_command

    run_command(ctx, paths=paths, fmt=fmt, disable=disable, enable=enable, severity_threshold=severity_threshold,
                baseline_file=baseline_file, write_baseline=write_baseline, online=online, list_checks=list_checks,
                changed_since=changed_since)
