"""The body of ``aetherops lint`` (imported only when the command runs)."""

from __future__ import annotations

from typing import Any

import click

from aetherops.errors import ConfigError, Findings
from aetherops.output import Output, echo_lines


def collect_checks(ctx) -> list:
    """Every plugin's checks; a broken plugin or check is a warning naming the plugin, and lint runs the rest."""
    from aetherops_plugins.lint.api import check_problem

    return ctx.pm.collect("aetherops_lint_checks", validate=check_problem, key="id")


def _settings(ctx, have_paths: bool) -> dict[str, Any]:
    try:
        return dict(ctx.section("lint") or {})
    except ConfigError as exc:
        if have_paths and not ctx.profile_name:
            ctx.output.warn(f"linting with default settings: {exc.format_message()}")
            return {}
        raise


def _write_text(lines) -> None:
    """The text report in one write: colour decided once, secrets redacted (Output.line per line costs ~10 us each,
    which is most of the time with 30,000 findings)."""
    import sys

    from aetherops.output import colour_enabled
    from aetherops.redact import redact

    colour = colour_enabled()
    style = click.style
    text = "\n".join(style(t, fg=c) if c and colour else t for t, c in lines)
    click.echo(redact(text), color=colour, file=sys.stdout)


def _overrides(raw) -> dict[str, str]:
    """``lint.severity_overrides``; YAML reads a bare ``off`` as false (and ``on``/``yes`` as true): false means off,
    true means the check's own severity (no override)."""
    out: dict[str, str] = {}
    for k, v in (raw or {}).items():
        if v is True:
            continue
        out[str(k)] = "off" if v is False or v is None else str(v).lower()
    return out


def _change(ref: str, paths):
    """What changed since ``ref`` in the git work tree of the first path (UsageError when git cannot say)."""
    from pathlib import Path

    from aetherops_plugins.lint.ci import GitError, changes_since

    try:
        return changes_since(ref, Path(paths[0]).resolve())
    except GitError as exc:
        raise click.UsageError(str(exc)) from None


def run_command(ctx, *, paths, fmt, disable, enable, severity_threshold, baseline_file, write_baseline, online, list_checks,
                changed_since=None) -> None:
    from aetherops_plugins.lint import baseline as baseline_mod
    from aetherops_plugins.lint import formats
    from aetherops_plugins.lint.engine import Options, reaches, run
    from aetherops_plugins.lint.loader import ReadError

    # `-o yaml` prints the --format json document as YAML; an explicit --format json stays JSON
    structured = "yaml" if fmt is None and ctx.output.format == "yaml" else "json"
    fmt = fmt or ("json" if ctx.output.json else "text")
    checks = collect_checks(ctx)
    if list_checks:
        rows = [{"id": c.id, "severity": c.severity, "kinds": ",".join(c.kinds), "online": bool(getattr(c, "online", False)),
                 "summary": getattr(c, "summary", "")} for c in checks]
        if fmt == "json":
            Output(structured).result(rows)
        else:
            out = Output("text", headers=ctx.output.headers)
            out.table(rows, [("id", "CHECK"), ("severity", "SEVERITY"), ("kinds", "KINDS"), ("summary", "WHAT")])
        return
    settings = _settings(ctx, bool(paths))
    paths = list(paths) or [str(p) for p in settings.get("paths") or []]
    if not paths:
        raise click.UsageError("no paths given and the profile has no lint.paths")
    overrides = _overrides(settings.get("severity_overrides"))
    for k, v in overrides.items():
        if v not in ("error", "warning", "info", "off"):
            raise ConfigError(f"lint.severity_overrides.{k} must be error, warning, info or off (quote it: \"off\"), "
                              f"not {v!r}")
    threshold = severity_threshold or settings.get("severity_threshold") or "error"
    baseline_file = baseline_file or settings.get("baseline")
    baseline = baseline_mod.read(baseline_file) if baseline_file and not write_baseline else None
    online_ctx = None
    if online:
        from aetherops_plugins.lint.online import make_context

        online_ctx = make_context(ctx, settings)
        ctx.output.note(f"online checks against {ctx.profile.service('prometheus').url}")
    opts = Options(paths=paths, disable=set(disable) | set(map(str, settings.get("disable") or [])),
                   enable=set(enable) | set(map(str, settings.get("enable") or [])), severity_overrides=overrides,
                   settings=settings, online=online_ctx, baseline=baseline)
    opts.disable -= set(enable)
    from aetherops_plugins.lint.engine import _matches

    ids = [c.id for c in checks]
    for where, patterns in (("--disable/lint.disable", opts.disable), ("--enable/lint.enable", opts.enable),
                            ("lint.severity_overrides", set(overrides))):
        for pattern in sorted(patterns):
            if not any(_matches(cid, [pattern]) for cid in ids):
                ctx.output.warn(f"{where}: {pattern!r} matches no check (see aetherops lint --list-checks)")
    change = _change(changed_since, paths) if changed_since else None  # a bad ref fails before the linting
    try:
        report = run(opts, checks)
    except ReadError as exc:
        raise ConfigError(str(exc)) from None
    if change is not None:
        from aetherops_plugins.lint.ci import filter_report

        kept = filter_report(report, change)
        removed = kept["removed_recording_rules"]
        ctx.output.note(f"changes since {changed_since}: {kept['changed_rules']} rule(s) changed"
                        + (f", {kept['dependent_rules']} rule(s) use removed recording rule(s) {', '.join(removed)}" if removed else ""))

    if write_baseline:
        n = baseline_mod.write(write_baseline, report.findings)
        ctx.output.note(f"wrote {n} finding(s) to {write_baseline}")
        return
    for message in report.warnings:
        ctx.output.warn(message)
    if not report.targets and not report.findings:  # almost always a typo in a CI path
        for name, reason in report.skipped:
            ctx.output.note(f"{name}: {reason}; not linted")
        raise ConfigError(f"no rule, config or dashboard files found under {', '.join(paths)}")
    if fmt == "json":
        Output(structured).result(formats.to_json(report))
    elif fmt == "sarif":
        Output("json").result(formats.to_sarif(report, checks))
    elif fmt == "github":
        echo_lines(formats.github_lines(report))
        s = formats.summary(report)
        for note in report.notes:
            ctx.output.note(note)
        for name, reason in report.skipped:
            ctx.output.note(f"{name}: {reason}; not linted")
        ctx.output.note(f"{s['errors']} error(s), {s['warnings']} warning(s), {s['info']} info in {s['files']} file(s)")
    else:
        _write_text(formats.text_lines(report))
    import gc

    gc.freeze()  # the process ends now: spare it a final collection over every object of the run
    if reaches(report.findings, threshold):
        raise Findings()
