"""The burn-rate simulator: synthetic incidents through the alert tiers, vectorised with numpy.

Traffic is a constant request rate; a scenario sets the error ratio of every
time step. Cumulative sums of errors and requests give every window's
error ratio at every rule evaluation in one subtraction
(``(E[t] - E[t-W]) / (T[t] - T[t-W])``, what ``rate()`` over ``[W]`` gives
when samples sit on the step grid), and the ``for`` of each alert is a
run-length over the evaluations. :func:`evaluate` is shared with the
backtest, which feeds it real history instead.

numpy is imported here, and this module only when a command runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aetherops.durations import format_duration, parse_duration
from aetherops.errors import UsageError
from aetherops_plugins.burnrate.api import SLO, Tier

KINDS = {
    "outage": {"ratio": 1.0},
    "degradation": {"ratio": 0.02, "for": "6h"},
    "flapping": {"ratio": 1.0, "on": "1m", "off": "9m", "for": "6h"},
    "baseline": {"ratio": 0.0005},
}
KEYS = {"ratio", "for", "on", "off", "traffic", "baseline"}
DEFAULT_TRAFFIC = 10.0  #: requests per second
MAX_STEPS = 20_000_000  #: about 500 MB of arrays; 30 days at 1 s (plus warm-up) is 3.1 million
#: The grid: error ratios as multiples of the error budget (capped at 100%), and incident durations.
GRID_BURN_RATES = (0.5, 1, 2, 3, 4.5, 6, 10, 14.4, 20, 50, 100, 1000)
GRID_DURATIONS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 3 * 86400)


@dataclass
class Scenario:
    kind: str
    ratio: float
    duration: int
    on: int | None = None
    off: int | None = None
    traffic: float = DEFAULT_TRAFFIC
    baseline: float = 0.0
    text: str = ""

    @property
    def label(self) -> str:
        return self.text or f"{self.kind}:ratio={self.ratio:g},for={format_duration(self.duration)}"


def parse_scenario(text: str, period: int) -> Scenario:
    """``outage:ratio=1.0,for=10m`` -> Scenario; a bad one is a UsageError (exit 2) naming the part."""
    raw = str(text).strip()
    kind, _, rest = raw.partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise UsageError(f"--scenario {raw!r}: unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    values: dict[str, Any] = dict(KINDS[kind])
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in KEYS:
            raise UsageError(f"--scenario {raw!r}: {part!r} is not KEY=VALUE with KEY one of {', '.join(sorted(KEYS))}")
        values[key] = value.strip()

    def number(key: str, low: float, high: float) -> float:
        value = values[key]
        try:
            number = float(str(value).rstrip("%")) / (100 if str(value).endswith("%") else 1)
        except ValueError:
            raise UsageError(f"--scenario {raw!r}: {key} must be a number, not {value!r}") from None
        if not (low <= number <= high) or math.isnan(number):
            raise UsageError(f"--scenario {raw!r}: {key} must be between {low:g} and {high:g}")
        return number

    def duration(key: str) -> int:
        value = values[key]
        seconds = parse_duration(value) if isinstance(value, str) else None
        if not seconds or seconds <= 0 or seconds > 400 * 86400:
            raise UsageError(f"--scenario {raw!r}: {key} must be a duration such as 10m or 6h (at most 400d), not {value!r}")
        return seconds

    scenario = Scenario(kind=kind, ratio=number("ratio", 0, 1), duration=duration("for") if "for" in values else period,
                        traffic=number("traffic", 1e-6, 1e9) if "traffic" in values else DEFAULT_TRAFFIC,
                        baseline=number("baseline", 0, 1) if "baseline" in values else 0.0, text=raw)
    if kind == "outage" and "for" not in values:
        scenario.duration = 600
    if kind == "flapping":
        scenario.on, scenario.off = duration("on"), duration("off")
    return scenario


# --------------------------------------------------------------------------- evaluation


@dataclass
class Evaluation:
    """Ratios and alert states at every rule evaluation of a timeline."""

    ticks: np.ndarray  #: seconds from the timeline's start
    ratios: dict[int, np.ndarray]  #: window -> error ratio at each tick (NaN without traffic)
    traffic: dict[int, np.ndarray]  #: short window -> requests in it at each tick
    condition: dict[int, np.ndarray]  #: tier index -> condition true
    firing: dict[int, np.ndarray]  #: tier index -> alert firing (after `for`)


def evaluate(slo: SLO, errors_cum: np.ndarray, total_cum: np.ndarray, step: int) -> Evaluation:
    """Evaluate every tier of ``slo`` over cumulative error and request counts sampled every ``step`` seconds.

    ``*_cum[i]`` is the count up to ``i * step`` (``*_cum[0] = 0``). Rules are
    evaluated every ``slo.evaluation_interval`` from time 0, like promtool.
    """
    interval = slo.evaluation_interval
    if interval % step:
        raise UsageError(f"the evaluation interval {format_duration(interval)} is not a multiple of the step {format_duration(step)}")
    n = len(errors_cum) - 1
    every = interval // step
    index = np.arange(0, n + 1, every)
    ticks = index * step
    ratios: dict[int, np.ndarray] = {}
    traffic: dict[int, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for window in slo.windows():
            back = np.maximum(index - int(math.ceil(window / step)), 0)
            requests = total_cum[index] - total_cum[back]
            ratios[window] = np.where(requests > 0, (errors_cum[index] - errors_cum[back]) / requests, np.nan)
            traffic[window] = requests
    condition, firing = {}, {}
    positions = np.arange(len(index))
    for i, tier in enumerate(slo.tiers):
        threshold = tier.threshold(slo.objective)
        with np.errstate(invalid="ignore"):
            cond = (ratios[tier.long_window] > threshold) & (ratios[tier.short_window] > threshold) & (traffic[tier.short_window] > 0)
        condition[i] = cond
        need = int(math.ceil(slo.tier_for(tier) / interval))
        last_false = np.maximum.accumulate(np.where(~cond, positions, -1))
        firing[i] = (positions - last_false) >= need + 1
    return Evaluation(ticks=ticks, ratios=ratios, traffic=traffic, condition=condition, firing=firing)


def intervals(ticks: np.ndarray, active: np.ndarray) -> list[tuple[int, int | None]]:
    """(first tick active, first tick inactive again or None) for each run of ``active``."""
    edges = np.diff(active.astype(np.int8), prepend=0, append=0)
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return [(int(ticks[s]), int(ticks[e]) if e < len(ticks) else None) for s, e in zip(starts, ends)]


# --------------------------------------------------------------------------- scenarios


@dataclass
class Timeline:
    scenario: Scenario
    step: int
    start: int  #: incident start (seconds)
    end: int  #: incident end
    length: int
    errors_cum: np.ndarray = field(repr=False)
    total_cum: np.ndarray = field(repr=False)


def build_timeline(slo: SLO, scenario: Scenario, step: int, warmup: int | None = None, after: int | None = None) -> Timeline:
    """Baseline traffic for ``warmup`` (default: the longest window), the incident, then ``after`` (default: the longest window)."""
    longest = max(slo.windows()) + max(slo.tier_for(t) for t in slo.tiers) + slo.evaluation_interval
    warmup = longest if warmup is None else warmup
    after = longest if after is None else after
    interval = slo.evaluation_interval
    warmup = int(math.ceil(warmup / interval) * interval)
    duration = int(math.ceil(scenario.duration / step) * step)
    length = int(math.ceil((warmup + duration + after) / interval) * interval)
    n = length // step
    if n > MAX_STEPS:
        raise UsageError(f"{scenario.label}: {n:,} time steps of {format_duration(step)} is more than the simulator holds "
                         f"({MAX_STEPS:,}); use a coarser --resolution, e.g. 1m")
    ratio = np.full(n, scenario.baseline, dtype=np.float64)
    first, last = warmup // step, (warmup + duration) // step
    if scenario.kind == "flapping":
        cycle = (scenario.on or step) + (scenario.off or 0)
        offsets = (np.arange(first, last) - first) * step % cycle
        ratio[first:last] = np.where(offsets < (scenario.on or step), scenario.ratio, scenario.baseline)
    else:
        ratio[first:last] = scenario.ratio
    per_step = scenario.traffic * step
    errors_cum = np.concatenate(([0.0], np.cumsum(ratio * per_step)))
    total_cum = np.arange(n + 1, dtype=np.float64) * per_step
    return Timeline(scenario, step, warmup, warmup + duration, length, errors_cum, total_cum)


def run_scenario(slo: SLO, scenario: Scenario, step: int, *, keep_series: bool = False, **timeline_args) -> dict[str, Any]:
    """Simulate one scenario: per tier, whether and when it fires and resets, and the budget spent."""
    timeline = build_timeline(slo, scenario, step, **timeline_args)
    ev = evaluate(slo, timeline.errors_cum, timeline.total_cum, step)
    budget_total = slo.budget * scenario.traffic * slo.period
    errors_at = timeline.errors_cum
    start_errors = errors_at[timeline.start // step]
    after_start = ev.ticks >= timeline.start
    tiers = []
    page_any = np.zeros(len(ev.ticks), dtype=bool)
    for i, tier in enumerate(slo.tiers):
        firing = ev.firing[i] & after_start
        cond = ev.condition[i] & after_start
        if tier.severity == "page":
            page_any |= firing
        runs = intervals(ev.ticks, firing)
        row: dict[str, Any] = {"tier": tier.name, "severity": tier.severity, "burn_rate": tier.burn_rate,
                               "threshold": tier.threshold(slo.objective), "fires": bool(runs), "condition_after_s": None,
                               "detected_after_s": None, "reset_after_s": None, "budget_at_detection": None,
                               "firings": len(runs), "intervals": [[s, e] for s, e in runs]}
        if cond.any():
            row["condition_after_s"] = int(ev.ticks[np.argmax(cond)] - timeline.start)
        if runs:
            fired = runs[0][0]
            row["detected_after_s"] = fired - timeline.start
            row["budget_at_detection"] = float((errors_at[min(fired // step, len(errors_at) - 1)] - start_errors) / budget_total)
            resolved = runs[-1][1]
            row["reset_after_s"] = None if resolved is None else resolved - timeline.end
        tiers.append(row)
    result = {
        "scenario": scenario.label, "kind": scenario.kind, "ratio": scenario.ratio, "duration_s": scenario.duration,
        "budget_total": float((errors_at[-1] - start_errors) / budget_total),
        "pages": len(intervals(ev.ticks, page_any)), "tiers": tiers,
        "start_s": timeline.start, "end_s": timeline.end,
    }
    if keep_series:
        result["series"] = _series(slo, ev, timeline)
    return result


def _series(slo: SLO, ev: Evaluation, timeline: Timeline, points: int = 600) -> dict[str, Any]:
    """Burn rates per tier window around the incident, thinned to about ``points`` points, for charts."""
    # from a little before the incident to a little after the last alert resolves (or the end of the incident)
    any_firing = np.zeros(len(ev.ticks), dtype=bool)
    for active in ev.firing.values():
        any_firing |= active
    settled = timeline.end
    if any_firing.any():
        settled = max(settled, int(ev.ticks[np.flatnonzero(any_firing)[-1]]))
    margin = max(1800, (settled - timeline.start) // 10)
    lo = max(0, timeline.start - margin)
    hi = min(timeline.length, settled + margin)
    mask = (ev.ticks >= lo) & (ev.ticks <= hi)
    idx = np.flatnonzero(mask)
    if len(idx) > points:
        idx = idx[:: int(math.ceil(len(idx) / points))]
    out = {"t": [int(t - timeline.start) for t in ev.ticks[idx]], "tiers": []}
    for i, tier in enumerate(slo.tiers):
        out["tiers"].append({
            "tier": tier.name, "burn_rate": tier.burn_rate,
            "long": [_num(v / slo.budget) for v in ev.ratios[tier.long_window][idx]],
            "short": [_num(v / slo.budget) for v in ev.ratios[tier.short_window][idx]],
            "firing": [bool(v) for v in ev.firing[i][idx]],
        })
    return out


def _num(value: float) -> float | None:
    return None if value != value else round(float(value), 4)


# --------------------------------------------------------------------------- grid


def run_grid(slo: SLO, step: int, significant: float, traffic: float = DEFAULT_TRAFFIC) -> dict[str, Any]:
    """Every (error ratio, duration) of the grid: detection time per tier, and precision/recall of the tier set."""
    ratios = sorted({min(1.0, float(format(b * slo.budget, ".6g"))) for b in GRID_BURN_RATES})
    cells = []
    counts = {"page": [0, 0, 0], "any": [0, 0, 0]}  # true positives, false positives, false negatives
    for ratio in ratios:
        for duration in GRID_DURATIONS:
            if duration > slo.period:
                continue
            scenario = Scenario("degradation", ratio, duration, traffic=traffic)
            result = run_scenario(slo, scenario, step)
            is_significant = result["budget_total"] >= significant
            cell = {"ratio": ratio, "duration_s": duration, "budget_total": result["budget_total"], "significant": is_significant,
                    "detected_after_s": {t["tier"]: t["detected_after_s"] for t in result["tiers"]}}
            for group, severities in (("page", ("page",)), ("any", ("page", "ticket"))):
                alerted = any(t["fires"] for t in result["tiers"] if t["severity"] in severities)
                if alerted and is_significant:
                    counts[group][0] += 1
                elif alerted:
                    counts[group][1] += 1
                elif is_significant:
                    counts[group][2] += 1
            cells.append(cell)
    scores = {}
    for group, (tp, fp, fn) in counts.items():
        scores[group] = {"precision": tp / (tp + fp) if tp + fp else None, "recall": tp / (tp + fn) if tp + fn else None,
                         "true_positives": tp, "false_positives": fp, "false_negatives": fn}
    return {"significant": significant, "ratios": ratios, "durations_s": [d for d in GRID_DURATIONS if d <= slo.period],
            "cells": cells, "scores": scores}


def simulate(slo: SLO, scenarios: list[Scenario], step: int, *, grid: bool, significant: float, keep_series: bool) -> dict[str, Any]:
    """The whole simulation of one SLO (the JSON shape of ``slo simulate``)."""
    return {
        "slo": slo.name, "objective": slo.objective, "period": format_duration(slo.period), "budget": slo.budget,
        "evaluation_interval": format_duration(slo.evaluation_interval), "resolution": format_duration(step),
        "tiers": [tier_summary(slo, t) for t in slo.tiers],
        "scenarios": [run_scenario(slo, s, step, keep_series=keep_series) for s in scenarios],
        "grid": run_grid(slo, step, significant) if grid else None,
    }


def tier_summary(slo: SLO, tier: Tier) -> dict[str, Any]:
    """The tier as configured, with the lowest error ratio that can ever trip it."""
    return {"tier": tier.name, "severity": tier.severity, "burn_rate": tier.burn_rate, "long_window": format_duration(tier.long_window),
            "short_window": format_duration(tier.short_window), "for": format_duration(slo.tier_for(tier)),
            "min_error_ratio": tier.threshold(slo.objective), "can_fire": tier.threshold(slo.objective) < 1}
