"""From an engine's per-point flags to anomalies: the scored window, walk-forward refits, persistence.

- :func:`score_window` fits on the history before ``score_from`` and scores every point after it (what
  ``anomaly check QUERY`` does per series).
- :func:`walk_forward` scores every point after a warm-up in chunks, refitting before each chunk on the
  history that precedes it (``anomaly check --csv``, and the benchmark).
- :func:`group` turns flagged points into anomalies: one starts with ``min_consecutive`` consecutive flagged
  samples on the same side of the band and ends when as many samples in a row are back inside it (or one is
  flagged on the other side): the same hysteresis both ways, so one episode that dips back into the band for a
  sample or two is one anomaly, not several. Missing samples neither break nor extend anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from aetherops_plugins.anomaly.api import NotEnoughData


@dataclass
class Scored:
    """One series scored: its flags, its forecast (when the engine has one and it was asked for), or why not."""

    flags: list[dict[str, Any]] = field(default_factory=list)
    forecast: dict[str, Any] | None = None
    not_enough_data: str | None = None
    scored_points: int = 0
    history_points: int = 0


def _run(engine, t, y, options: dict[str, Any], want_forecast: bool) -> tuple[list[dict], dict | None]:
    if want_forecast and hasattr(engine, "forecast"):
        from aetherops_plugins.anomaly.engines import flags_from_forecast

        fc = engine.forecast(t, y, options)
        return flags_from_forecast(t, y, fc, options["score_from"]), fc
    return list(engine.detect(t, y, options) or []), None


def score_window(engine, t, y, options: dict[str, Any], *, want_forecast: bool = False) -> Scored:
    """Fit on the points before ``options['score_from']``, flag the ones after it."""
    import numpy as np

    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    start = options["score_from"]
    out = Scored(scored_points=int(((t >= start) & np.isfinite(y)).sum()), history_points=int(((t < start) & np.isfinite(y)).sum()))
    try:
        out.flags, out.forecast = _run(engine, t, y, options, want_forecast)
    except NotEnoughData as exc:
        out.not_enough_data = str(exc) or "not enough history"
    return out


def walk_forward(engine, t, y, options: dict[str, Any], *, warmup: int, chunk: float, history: float,
                 want_forecast: bool = False) -> Scored:
    """Score every point from index ``warmup`` on, refitting every ``chunk`` seconds on up to ``history`` seconds before it."""
    import numpy as np

    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    out = Scored()
    if t.size == 0 or warmup >= t.size:
        out.not_enough_data = "no samples after the warm-up"
        return out
    first = float(t[warmup])
    out.history_points = int(np.isfinite(y[:warmup]).sum())
    if want_forecast:
        out.forecast = {k: np.full(t.size, np.nan) for k in ("expected", "lower", "upper")}
    start = first
    end = float(t[-1])
    while start <= end:
        stop = start + chunk
        lo = int(np.searchsorted(t, start - history, side="left"))
        hi = int(np.searchsorted(t, stop, side="left"))
        begin = int(np.searchsorted(t, start, side="left"))
        if hi > begin:
            opts = dict(options, score_from=start)
            try:
                flags, fc = _run(engine, t[lo:hi], y[lo:hi], opts, want_forecast)
            except NotEnoughData as exc:
                out.not_enough_data = str(exc) or "not enough history"
                return out
            out.flags.extend(flags)
            if fc is not None and out.forecast is not None:
                for key in out.forecast:
                    out.forecast[key][begin:hi] = np.asarray(fc[key], dtype=float)[begin - lo:]
        start = stop
    out.scored_points = int(np.isfinite(y[warmup:]).sum())
    return out


def group(t, y, flags: list[dict[str, Any]], *, min_consecutive: int = 1, direction: str = "both") -> list[dict[str, Any]]:
    """Anomalies: ``min_consecutive`` flagged samples in a row on one side start one, as many in-band samples end it."""
    import numpy as np

    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    present = np.isfinite(y)
    index = {float(ts): i for i, ts in enumerate(t)}
    side = np.zeros(t.size, dtype=int)
    info: dict[int, dict[str, Any]] = {}
    for flag in flags:
        i = index.get(float(flag["timestamp"]))
        score = float(flag.get("score", 0.0))
        if i is None or not present[i] or not math.isfinite(score):
            continue
        s = -1 if score < 0 or (score == 0 and float(flag.get("value", 0)) < float(flag.get("expected", 0))) else 1
        if direction == "above" and s < 0 or direction == "below" and s > 0:
            continue
        side[i] = s
        info[i] = flag
    anomalies = []

    def close(run: list[int]) -> None:
        peak = max(run, key=lambda j: abs(float(info[j].get("score", 0.0))))
        p = info[peak]
        anomalies.append({"start": float(t[run[0]]), "end": float(t[run[-1]]), "points": len(run),
                          "direction": "above" if side[peak] > 0 else "below", "peak_at": float(t[peak]),
                          "peak": float(y[peak]), "expected": _num(p.get("expected")), "lower": _num(p.get("lower")),
                          "upper": _num(p.get("upper")), "score": _num(p.get("score"))})

    active: list[int] = []  # the flagged samples of the anomaly going on
    pending: list[int] = []  # consecutive flagged samples that may start one
    quiet = 0  # samples back inside the band since the active anomaly's last flag
    for i in np.flatnonzero(present):
        s = int(side[i])
        if active:
            if s == side[active[-1]]:
                active.append(int(i))
                quiet = 0
                continue
            quiet += 1
            if s == 0 and quiet < min_consecutive:
                continue
            close(active)  # back in the band long enough, or flagged on the other side
            active, quiet = [], 0
        if s == 0:
            pending = []
            continue
        if pending and side[pending[-1]] != s:
            pending = []
        pending.append(int(i))
        if len(pending) >= min_consecutive:
            active, pending = pending, []
    if active:
        close(active)
    return anomalies


def _num(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None
