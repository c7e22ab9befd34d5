"""The bodies of the ``aetherops slo`` commands (imported only when one runs)."""

from __future__ import annotations

from aetherops.durations import format_duration, parse_duration
from aetherops.errors import FindingsError, UsageError
from aetherops.files import write_atomically
from aetherops_plugins.burnrate.api import SLO


def load_slos(ctx, spec: str | None, slo_name: str | None = None) -> list[SLO]:
    """The SLOs of the spec file, or of the profile's ``slos:``; warnings go to stderr."""
    from aetherops_plugins.burnrate.spec import load_file, load_profile

    slos = load_file(spec) if spec else load_profile(ctx.profile)
    if slo_name is not None:
        slos = [s for s in slos if s.name == slo_name]
        if not slos:
            raise UsageError(f"--slo {slo_name!r}: no such SLO in {spec or 'the profile'}")
    for slo in slos:
        for warning in slo.warnings:
            ctx.output.warn(warning)
    return slos


def _duration_option(name: str, value: str) -> int:
    seconds = parse_duration(value)
    if not seconds or seconds <= 0:
        raise UsageError(f"{name} {value!r}: expected a duration such as 1s, 1m or 30d")
    return seconds


def _percent_option(name: str, value: str) -> float:
    text = str(value).strip()
    try:
        share = float(text.rstrip("%")) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise UsageError(f"{name} {value!r}: expected a share such as 2% or 0.02") from None
    if not 0 <= share <= 1:
        raise UsageError(f"{name} {value!r}: must be between 0% and 100%")
    return share


def _seconds(value: int | None) -> str:
    return "-" if value is None else format_duration(value) if value >= 0 else f"-{format_duration(-value)}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


# --------------------------------------------------------------------------- rules


def rules(ctx, spec: str | None, out: str | None) -> None:
    from aetherops_plugins.burnrate.rules import render, rule_groups

    slos = load_slos(ctx, spec)
    text = render(slos)
    if out:
        write_atomically(out, text)
    groups = rule_groups(slos)
    summary = {"file": out, "slos": [s.name for s in slos], "groups": len(groups["groups"]),
               "recording_rules": sum(1 for g in groups["groups"] for r in g["rules"] if "record" in r),
               "alerts": sum(1 for g in groups["groups"] for r in g["rules"] if "alert" in r)}
    if ctx.output.json:
        ctx.output.result({**summary, "rules": groups} if not out else summary)
    elif out:
        ctx.output.line(f"wrote {summary['recording_rules']} recording rules and {summary['alerts']} alerts for "
                        f"{len(slos)} SLO(s) to {out}")
    else:
        import click

        click.echo(text, nl=False)


# --------------------------------------------------------------------------- simulate


def simulate(ctx, spec, *, scenarios, grid, significant, resolution, slo_name, html, plot) -> None:
    from aetherops_plugins.burnrate import simulate as engine

    step = _duration_option("--resolution", resolution)
    share = _percent_option("--significant", significant)
    slos = load_slos(ctx, spec, slo_name)
    if not scenarios and not grid:
        raise UsageError("give at least one --scenario (e.g. outage:ratio=1.0,for=10m) or --grid")
    results = []
    for slo in slos:
        if slo.evaluation_interval % step:
            raise UsageError(f"--resolution {resolution}: the evaluation interval {format_duration(slo.evaluation_interval)} "
                             f"of SLO {slo.name!r} must be a multiple of it")
        parsed = [engine.parse_scenario(s, slo.period) for s in scenarios]
        results.append(engine.simulate(slo, parsed, step, grid=grid, significant=share, keep_series=bool(html or plot)))
    _reports(results, html, plot, title="SLO burn-rate simulation")
    for result in results:
        for scenario in result["scenarios"]:
            scenario.pop("series", None)

    def text() -> None:
        for result in results:
            ctx.output.line(f"SLO {result['slo']}: {result['objective']:g}% over {result['period']} "
                            f"(budget {result['budget']:.4%}, rules every {result['evaluation_interval']})", bold=True)
            ctx.output.table(result["tiers"], [("tier", "TIER"), ("burn_rate", "BURN"), ("long_window", "LONG"),
                                               ("short_window", "SHORT"), ("for", "FOR"), ("min_error_ratio", "TRIPS ABOVE")])
            rows = []
            for scenario in result["scenarios"]:
                for tier in scenario["tiers"]:
                    rows.append({"scenario": scenario["scenario"], "tier": tier["tier"], "fires": "yes" if tier["fires"] else "no",
                                 "detected": _seconds(tier["detected_after_s"]), "reset": _seconds(tier["reset_after_s"]),
                                 "at_detection": _share(tier["budget_at_detection"]), "total": _share(scenario["budget_total"]),
                                 "pages": scenario["pages"]})
            if rows:
                ctx.output.table(rows, [("scenario", "SCENARIO"), ("tier", "TIER"), ("fires", "FIRES"), ("detected", "DETECTED AFTER"),
                                        ("reset", "RESET AFTER END"), ("at_detection", "BUDGET AT DETECTION"),
                                        ("total", "BUDGET TOTAL"), ("pages", "PAGES")],
                                 styles={"fires": lambda v: "red" if v == "yes" else None})
            if result["grid"]:
                for group, score in result["grid"]["scores"].items():
                    ctx.output.line(f"grid ({len(result['grid']['cells'])} incidents, significant >= {share:.0%} of the budget), "
                                    f"{'pages' if group == 'page' else 'any alert'}: precision {_share(score['precision'])}, "
                                    f"recall {_share(score['recall'])}")

    ctx.output.result(results if len(results) > 1 else results[0], text)


def _reports(results: list[dict], html: str | None, plot: str | None, *, title: str) -> None:
    if html:
        from aetherops_plugins.burnrate.report import render_html

        write_atomically(html, render_html(results, title=title))
    if plot:
        from aetherops_plugins.burnrate.report import render_png

        write_atomically(plot, render_png(results, title=title))


# --------------------------------------------------------------------------- backtest


def backtest(ctx, spec, *, since, step, slo_name, html, plot) -> None:
    from aetherops_plugins.burnrate.backtest import run_backtest

    span = _duration_option("--since", since)
    step_s = _duration_option("--step", step)
    slos = load_slos(ctx, spec, slo_name)
    results = [run_backtest(ctx.prometheus, slo, span, step_s, keep_series=bool(html or plot)) for slo in slos]
    _reports(results, html, plot, title="SLO burn-rate backtest")
    for result in results:
        for scenario in result["scenarios"]:
            scenario.pop("series", None)

    def text() -> None:
        for result in results:
            ctx.output.line(f"SLO {result['slo']}: {result['from']} .. {result['to']} every {result['step']}, "
                            f"budget spent {_share(result['budget_spent'])}, attainment {_share(result['attainment'])}", bold=True)
            rows = [{"tier": t["tier"], "fired": iv["fired_at"], "reset": iv["reset_at"] or "still firing",
                     "budget": _share(iv["budget_at_fire"])}
                    for t in result["tiers"] for iv in t["firings"]]
            if rows:
                ctx.output.table(rows, [("tier", "TIER"), ("fired", "FIRED AT"), ("reset", "RESET AT"), ("budget", "BUDGET SPENT BY THEN")])
            else:
                ctx.output.line("no tier would have fired")

    ctx.output.result(results if len(results) > 1 else results[0], text)


# --------------------------------------------------------------------------- status and dashboard


def status(ctx, spec, *, gate: bool) -> None:
    from aetherops_plugins.burnrate.status import live_status

    slos = load_slos(ctx, spec)
    results = [live_status(ctx.prometheus, slo) for slo in slos]
    for r in results:
        if r["budget_remaining"] is None:
            ctx.output.warn(f"SLO {r['slo']}: no requests over {r['period']}: the budget cannot be judged (check the SLI queries)")

    def text() -> None:
        for r in results:
            ctx.output.line(f"SLO {r['slo']}: attainment {_share(r['attainment'])} of {r['objective']:g}% over {r['period']}, "
                            f"budget remaining {_share(r['budget_remaining'])}", bold=True)
            ctx.output.table(r["tiers"], [("tier", "TIER"), ("threshold_burn_rate", "THRESHOLD"), ("long_burn_rate", "BURN LONG"),
                                          ("short_burn_rate", "BURN SHORT"), ("firing", "FIRING")],
                             styles={"firing": lambda v: "red" if v else None})
            for step in r["policy"]:
                ctx.output.line(f"policy: budget below {step['budget_below']:.0%} -> {step['action']}: "
                                f"{'APPLIES' if step['applies'] else 'not now'}")

    ctx.output.result(results if len(results) > 1 else results[0], text)
    if gate:
        stopping = [f"{r['slo']}: {s['action']}" for r in results for s in r["policy"] if s["applies"] and s["gate"]]
        if stopping:
            raise FindingsError("error budget policy stops deploys: " + "; ".join(stopping))


def dashboard(ctx, spec, out) -> None:
    import json

    from aetherops_plugins.burnrate.dashboard import build_dashboard

    slos = load_slos(ctx, spec)
    board = build_dashboard(slos)
    text = json.dumps(board, indent=2) + "\n"
    if out:
        write_atomically(out, text)
        ctx.output.result({"file": out, "uid": board["uid"], "panels": len(board["panels"])},
                          f"wrote dashboard {board['uid']} ({len(board['panels'])} panels) to {out}")
    elif ctx.output.json:
        ctx.output.result(board)
    else:
        import click

        click.echo(text, nl=False)


