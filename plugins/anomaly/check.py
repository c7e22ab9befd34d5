"""``aetherops anomaly check``: resolve the checks, fetch or read the series, score them, report.

A check is a QUERY (fitted on ``--since`` of history, the last ``--window`` judged), a CSV file (every
sample after the warm-up judged, refitting every ``--window``) or one of the profile's ``anomaly:`` entries.
Engines come from the ``aetherops_anomaly_detectors`` hook; persistence and direction are applied here, the
same for every engine (:mod:`aetherops_plugins.anomaly.scoring`).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from aetherops.durations import format_duration, parse_duration
from aetherops.errors import ConfigError, FindingsError, UsageError
from aetherops.files import write_atomically

DAY = 86400
COUNTER = re.compile(r"^\s*[A-Za-z_:][A-Za-z0-9_:]*_(total|count|sum|bucket)\s*(\{[^}]*\})?\s*$")


@dataclass
class CheckOptions:
    """The command line, as given."""

    query: str | None = None
    csv: str | None = None
    run_all: bool = False
    since: str = "14d"
    step: str = "5m"
    window: str | None = None
    interval_width: float = 0.99
    min_consecutive: int = 3
    direction: str = "both"
    engine: str = "prophet-style"
    daily_order: int = 10
    weekly_order: int = 3
    changepoints: int = 25
    timestamp_column: str | None = None
    value_column: str | None = None
    warmup: str = "15%"
    plot: str | None = None


@dataclass
class Spec:
    """One check, resolved: durations in seconds."""

    name: str
    query: str
    since: int
    step: int
    window: int
    interval_width: float
    min_consecutive: int
    direction: str
    engine: str
    model: dict[str, int] = field(default_factory=dict)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(name: str, value: Any, error=UsageError) -> int:
    seconds = parse_duration(value)
    if not seconds or seconds <= 0:
        raise error(f"{name} {value!r}: expected a duration such as 5m, 1h or 14d")
    return seconds


# --------------------------------------------------------------------------- engines


def _valid(item: Any) -> str | None:
    if not isinstance(getattr(item, "name", None), str) or not item.name:
        return "no name"
    if not callable(getattr(item, "detect", None)):
        return "no detect(timestamps, values, options) method"
    return None


def engines(ctx) -> dict[str, Any]:
    return {engine.name: engine for engine in ctx.pm.collect("aetherops_anomaly_detectors", validate=_valid)}


def _problem(engine) -> str | None:
    available = getattr(engine, "available", None)
    return available() if callable(available) else None


def pick_engine(ctx, name: str, error=UsageError):
    found = engines(ctx)
    engine = found.get(name)
    if engine is None:
        raise error(f"engine {name!r}: no such engine (available: {', '.join(sorted(found)) or 'none'})")
    problem = _problem(engine)
    if problem:
        raise error(problem)
    return engine


def list_engines(ctx) -> None:
    rows = []
    for name, engine in sorted(engines(ctx).items()):
        problem = _problem(engine)
        rows.append({"name": name, "available": problem is None, "description": getattr(engine, "description", "") or "",
                     "problem": problem})
    ctx.output.result({"engines": rows}, lambda: ctx.output.table(
        [dict(r, available="yes" if r["available"] else f"no: {r['problem']}") for r in rows],
        [("name", "ENGINE"), ("available", "AVAILABLE"), ("description", "DESCRIPTION")]))


# --------------------------------------------------------------------------- the command


def run_check_command(ctx, opts: CheckOptions) -> None:
    modes = [m for m, given in (("QUERY", opts.query), ("--csv", opts.csv), ("--all", opts.run_all)) if given]
    if len(modes) != 1:
        raise UsageError("give one of QUERY, --csv FILE or --all" + (f" (not {' and '.join(modes)})" if modes else ""))
    if not 0.5 <= opts.interval_width < 1:  # click's FloatRange lets NaN through
        raise UsageError(f"--interval-width {opts.interval_width}: expected a number in [0.5, 1), such as 0.99")
    if opts.plot and opts.run_all:
        raise UsageError("--plot draws one check: use it with QUERY or --csv, not --all")
    model = {"daily_order": opts.daily_order, "weekly_order": opts.weekly_order, "changepoints": opts.changepoints}
    if opts.csv:
        engine = pick_engine(ctx, opts.engine)
        results = [check_csv(ctx, opts, engine, model)]
    else:
        if opts.run_all:
            specs = profile_specs(ctx)
        else:
            specs = [Spec(name="query", query=opts.query or "", since=_duration("--since", opts.since), step=_duration("--step", opts.step),
                          window=_duration("--window", opts.window or "1h"), interval_width=opts.interval_width,
                          min_consecutive=opts.min_consecutive, direction=opts.direction, engine=opts.engine, model=model)]
        error = ConfigError if opts.run_all else UsageError
        for spec in specs:
            if spec.window < spec.step:
                raise error(f"check {spec.name!r}: the window ({format_duration(spec.window)}) is shorter than the step "
                            f"({format_duration(spec.step)})")
        chosen = {spec.engine: pick_engine(ctx, spec.engine, error) for spec in specs}
        now = time.time()
        results = [check_query(ctx, spec, chosen[spec.engine], now, want_forecast=bool(opts.plot)) for spec in specs]
    report(ctx, results)
    if opts.plot:
        from aetherops_plugins.anomaly.plot import render_png

        write_atomically(opts.plot, render_png(results))
        ctx.output.note(f"plot written to {opts.plot}")
    total = sum(r["anomalies"] for r in results)
    if total:
        fired = [r["name"] for r in results if r["anomalies"]]
        raise FindingsError(f"{total} anomal{'y' if total == 1 else 'ies'} ({', '.join(fired)})")


def profile_specs(ctx) -> list[Spec]:
    entries = ctx.section("anomaly") or []
    if not entries:
        raise ConfigError(f"profile {ctx.profile.name!r} has no `anomaly:` checks for --all (docs/anomaly.md)")
    specs = []
    for entry in entries:
        name = entry["name"]
        where = f"anomaly check {name!r}:"
        specs.append(Spec(name=name, query=entry["query"], since=_duration(f"{where} since", entry["since"], ConfigError),
                          step=_duration(f"{where} step", entry["step"], ConfigError),
                          window=_duration(f"{where} window", entry["window"], ConfigError),
                          interval_width=float(entry["interval_width"]), min_consecutive=int(entry["min_consecutive"]),
                          direction=entry["direction"], engine=entry["engine"],
                          model={k: int(entry[k]) for k in ("daily_order", "weekly_order", "changepoints")}))
    return specs


def _series_result(labels: dict[str, str], t, y, scored, spec_min: int, direction: str) -> dict[str, Any]:
    from aetherops_plugins.anomaly.scoring import group

    out: dict[str, Any] = {"labels": labels, "status": "ok", "history_points": scored.history_points,
                           "scored_points": scored.scored_points, "anomalies": [], "message": None}
    if scored.not_enough_data:
        out["status"] = "not_enough_data"
        out["message"] = scored.not_enough_data
        return out
    anomalies = group(t, y, scored.flags, min_consecutive=spec_min, direction=direction)
    for a in anomalies:
        a["start"], a["end"], a["peak_at"] = iso(a["start"]), iso(a["end"]), iso(a["peak_at"])
    out["anomalies"] = anomalies
    if anomalies:
        out["status"] = "anomalous"
    return out


def check_query(ctx, spec: Spec, engine, now: float, *, want_forecast: bool = False) -> dict[str, Any]:
    from aetherops_plugins.anomaly.data import fetch_series
    from aetherops_plugins.anomaly.scoring import score_window

    if COUNTER.match(spec.query):
        ctx.output.warn(f"check {spec.name!r}: {spec.query.strip()} looks like a counter (it only grows, and resets): "
                        f"check rate({spec.query.strip()}[{format_duration(max(4 * spec.step, 60))}]) instead")
    end = int(now // spec.step * spec.step)
    score_from = end - spec.window + spec.step
    start = score_from - spec.since
    found = fetch_series(ctx.prometheus, spec.query, start, end, spec.step)
    options = {"interval_width": spec.interval_width, "score_from": float(score_from), "step": float(spec.step), **spec.model}
    series = []
    for labels, t, y in found:
        scored = score_window(engine, t, y, options, want_forecast=want_forecast)
        item = _series_result(labels, t, y, scored, spec.min_consecutive, spec.direction)
        if want_forecast:
            item["_plot"] = (t, y, scored.forecast)
        series.append(item)
    return _check_result(ctx, spec.name, {"query": spec.query}, engine.name, start, score_from, end, spec, series)


def _check_result(ctx, name, source, engine_name, start, score_from, end, spec, series) -> dict[str, Any]:
    for item in series:
        if item["status"] == "not_enough_data":
            ctx.output.warn(f"check {name!r}: {_labels(item['labels'])}: not enough data ({item['message']})")
    if not series:
        ctx.output.warn(f"check {name!r}: no series between {iso(start)} and {iso(end)}")
    return {"name": name, **source, "engine": engine_name, "from": iso(start), "scored_from": iso(score_from), "to": iso(end),
            "step": format_duration(spec.step) if spec.step else None, "interval_width": spec.interval_width,
            "min_consecutive": spec.min_consecutive, "direction": spec.direction,
            "anomalies": sum(len(s["anomalies"]) for s in series), "series": series}


def check_csv(ctx, opts: CheckOptions, engine, model: dict[str, int]) -> dict[str, Any]:
    import numpy as np

    from aetherops_plugins.anomaly.data import DataError, read_csv
    from aetherops_plugins.anomaly.scoring import walk_forward

    try:
        times, values, dropped = read_csv(opts.csv, opts.timestamp_column, opts.value_column)
    except DataError as exc:
        raise UsageError(str(exc)) from None
    if dropped:
        ctx.output.warn(f"{opts.csv}: {dropped} row(s) repeat an earlier timestamp; the last row of each timestamp counts")
    t = np.asarray(times, dtype=float)
    y = np.asarray(values, dtype=float)
    warmup = _warmup(opts.warmup, t)
    since = _duration("--since", opts.since)
    step = float(np.median(np.diff(t))) if t.size > 1 else 0.0
    chunk = _duration("--window", opts.window) if opts.window else DAY
    options = {"interval_width": opts.interval_width, "step": step or None, **model}
    scored = walk_forward(engine, t, y, options, warmup=warmup, chunk=chunk, history=since, want_forecast=bool(opts.plot))
    item = _series_result({}, t, y, scored, opts.min_consecutive, opts.direction)
    if opts.plot:
        item["_plot"] = (t, y, scored.forecast)
    spec = Spec(name=str(opts.csv), query="", since=since, step=int(round(step)), window=chunk, interval_width=opts.interval_width,
                min_consecutive=opts.min_consecutive, direction=opts.direction, engine=engine.name)
    first = float(t[warmup]) if warmup < t.size else float(t[-1])
    result = _check_result(ctx, str(opts.csv), {"csv": str(opts.csv)}, engine.name, float(t[0]), first, float(t[-1]), spec, [item])
    result["refit_every"] = format_duration(chunk)
    return result


def _warmup(text: str, t) -> int:
    import numpy as np

    value = str(text).strip()
    if value.endswith("%"):
        try:
            share = float(value[:-1])
        except ValueError:
            share = math.nan
        if not 0 <= share < 100:
            raise UsageError(f"--warmup {text!r}: expected a share below 100% (15%) or a duration (2d)")
        return int(t.size * share / 100)
    seconds = parse_duration(value)
    if seconds is None:
        raise UsageError(f"--warmup {text!r}: expected a share below 100% (15%) or a duration (2d)")
    return int(np.searchsorted(t, t[0] + seconds, side="left"))


# --------------------------------------------------------------------------- output


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return "{}"
    name = labels.get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest or not name else name


def _g(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def report(ctx, results: list[dict[str, Any]]) -> None:
    data = {"checks": [{**r, "series": [{k: v for k, v in s.items() if not k.startswith("_")} for s in r["series"]]} for r in results],
            "anomalies": sum(r["anomalies"] for r in results)}

    def text() -> None:
        for r in data["checks"]:
            source = r.get("query") or r.get("csv")
            ctx.output.line(f"{r['name']}: {source}  [{r['engine']}, scored {r['scored_from']} .. {r['to']}]", bold=True)
            rows = []
            for s in r["series"]:
                for a in s["anomalies"]:
                    rows.append({"series": _labels(s["labels"]), "start": a["start"], "end": a["end"], "points": a["points"],
                                 "peak": _g(a["peak"]), "expected": _g(a["expected"]),
                                 "band": f"{_g(a['lower'])} .. {_g(a['upper'])}", "score": _g(a["score"])})
            if rows:
                ctx.output.table(rows, [("series", "SERIES"), ("start", "START"), ("end", "END"), ("points", "POINTS"), ("peak", "PEAK"),
                                        ("expected", "EXPECTED"), ("band", "BAND"), ("score", "SCORE")])
            counts = {status: sum(1 for s in r["series"] if s["status"] == status) for status in ("anomalous", "ok", "not_enough_data")}
            ctx.output.line(f"  {r['anomalies']} anomal{'y' if r['anomalies'] == 1 else 'ies'} in {counts['anomalous']} of "
                            f"{len(r['series'])} series" + (f"; {counts['not_enough_data']} with not enough data"
                                                            if counts["not_enough_data"] else ""))

    ctx.output.result(data, text)
