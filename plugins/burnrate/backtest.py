"""Backtest: the alert tiers replayed over real history from a Prometheus-compatible API.

Two range queries per SLO (errors and requests per step, through
prometheus-api-client via the core's ``PrometheusClient.query_range``, in
chunks the server accepts) become the same cumulative counts the simulator
builds, so :func:`aetherops_plugins.burnrate.simulate.evaluate` replays every
tier exactly as it simulates one. History before ``--since`` (as long as the
longest window) is fetched too, so the first evaluations see full windows.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import numpy as np

from aetherops.durations import format_duration
from aetherops_plugins.burnrate.api import SLO
from aetherops_plugins.burnrate.rules import window_query
from aetherops_plugins.burnrate.simulate import Timeline, _series, evaluate, intervals

MAX_POINTS = 10_000  #: Prometheus refuses range queries of more than 11,000 points per series
RATE_WINDOW = 120  #: shortest range of the per-step rate queries, in seconds


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fetch_per_step(prometheus, query: str, start: int, end: int, step: int) -> np.ndarray:
    """Values of ``query`` (summed over its series) at every step from ``start`` to ``end``; NaN where there is none."""
    n = (end - start) // step + 1
    out = np.full(n, np.nan)
    chunk_start = start
    while chunk_start <= end:
        chunk_end = min(end, chunk_start + (MAX_POINTS - 1) * step)
        series = prometheus.query_range(query, datetime.fromtimestamp(chunk_start, timezone.utc),
                                        datetime.fromtimestamp(chunk_end, timezone.utc), f"{step}s")
        for item in series or []:
            for ts, value in item.get("values", []):
                i = int(round((float(ts) - start) / step))
                if 0 <= i < n:
                    v = float(value)
                    if math.isfinite(v):
                        out[i] = v if math.isnan(out[i]) else out[i] + v
        chunk_start = chunk_end + step
    return out


def run_backtest(prometheus, slo: SLO, span: int, step: int, *, keep_series: bool = False, now: float | None = None) -> dict[str, Any]:
    """Replay ``slo``'s tiers over the last ``span`` seconds at ``step`` resolution."""
    interval = max(step, int(math.ceil(slo.evaluation_interval / step)) * step)
    replay = replace(slo, evaluation_interval=interval)
    warmup = int(math.ceil(max(replay.windows()) / step)) * step
    end = int((now if now is not None else time.time()) // step * step)
    start = end - int(math.ceil(span / step)) * step
    origin = start - warmup
    # rate() over the step (at least RATE_WINDOW, so a 1m scrape interval leaves two samples in it), times the
    # step: the requests (and errors) of each step, smoothed over at most one extra minute
    window = max(step, RATE_WINDOW)
    if slo.error_ratio_query is not None:
        ratio = fetch_per_step(prometheus, window_query(slo.error_ratio_query, window), origin, end, step)
        requests = np.where(np.isnan(ratio), 0.0, 1.0)
        errors = np.nan_to_num(ratio)
    else:
        errors = np.nan_to_num(fetch_per_step(prometheus, window_query(slo.error_query or "", window), origin, end, step)) * step
        requests = np.nan_to_num(fetch_per_step(prometheus, window_query(slo.total_query or "", window), origin, end, step)) * step
    # sample i is the step that ends at origin + i*step; cumulative counts start at 0 at the origin
    errors[0] = requests[0] = 0.0
    errors_cum = np.cumsum(errors)
    total_cum = np.cumsum(requests)
    ev = evaluate(replay, errors_cum, total_cum, step)
    first = (start - origin) // step
    spent_errors = errors_cum[-1] - errors_cum[first]
    spent_requests = total_cum[-1] - total_cum[first]
    budget_spent = float(spent_errors / (slo.budget * spent_requests)) if spent_requests > 0 else None
    in_span = ev.ticks >= (start - origin)
    tiers = []
    for i, tier in enumerate(slo.tiers):
        runs = intervals(ev.ticks, ev.firing[i] & in_span)
        firings = []
        for fired, resolved in runs:
            idx = min(fired // step, len(errors_cum) - 1)
            req = total_cum[idx] - total_cum[first]
            firings.append({"fired_at": _iso(origin + fired), "reset_at": None if resolved is None else _iso(origin + resolved),
                            "budget_at_fire": float((errors_cum[idx] - errors_cum[first]) / (slo.budget * spent_requests))
                            if spent_requests > 0 else None, "requests_by_then": float(req)})
        tiers.append({"tier": tier.name, "severity": tier.severity, "burn_rate": tier.burn_rate,
                      "threshold": tier.threshold(slo.objective), "fires": bool(runs), "firings": firings})
    result: dict[str, Any] = {
        "slo": slo.name, "objective": slo.objective, "period": format_duration(slo.period), "budget": slo.budget,
        "from": _iso(start), "to": _iso(end), "step": format_duration(step), "evaluation_interval": format_duration(interval),
        "requests": float(spent_requests), "errors": float(spent_errors), "budget_spent": budget_spent,
        "attainment": float(1 - spent_errors / spent_requests) if spent_requests > 0 else None,
        "tiers": tiers, "grid": None,
        "scenarios": [{"scenario": f"history {_iso(start)} .. {_iso(end)}", "tiers": tiers, "pages": sum(
            len(t["firings"]) for t in tiers if t["severity"] == "page"), "budget_total": budget_spent or 0.0}],
    }
    if keep_series:
        timeline = Timeline(scenario=None, step=step, start=start - origin, end=end - origin, length=end - origin,  # type: ignore[arg-type]
                            errors_cum=errors_cum, total_cum=total_cum)
        result["scenarios"][0]["series"] = _series(replay, ev, timeline)
        result["scenarios"][0]["series"]["origin"] = start
    return result
