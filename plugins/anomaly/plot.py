"""``--plot FILE.png``: per series, the values, the expected value, the band and the anomalies (matplotlib)."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from typing import Any

from aetherops.errors import UsageError

MAX_PANELS = 12


def render_png(results: list[dict[str, Any]]) -> bytes:
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'aetherops[plot]'") from None
    import numpy as np

    from aetherops_plugins.anomaly.check import _labels

    panels = [(r, s) for r in results for s in r["series"] if "_plot" in s][:MAX_PANELS]
    if not panels:
        raise UsageError("--plot: no series to draw")
    fig = Figure(figsize=(11, 2.8 * len(panels)), dpi=100, layout="constrained")
    axes = fig.subplots(len(panels), 1, squeeze=False)
    for row, (result, series) in enumerate(panels):
        ax = axes[row][0]
        t, y, forecast = series["_plot"]
        when = np.array([datetime.fromtimestamp(float(x), timezone.utc) for x in t])
        y = np.asarray(y, dtype=float)
        ax.plot(when, y, color="#1f77b4", linewidth=0.8, label="value")
        if forecast is not None:
            expected = np.asarray(forecast["expected"], dtype=float)
            ax.plot(when, expected, color="#2ca02c", linewidth=0.8, label="expected")
            ax.fill_between(when, np.asarray(forecast["lower"], dtype=float), np.asarray(forecast["upper"], dtype=float),
                            color="#2ca02c", alpha=0.2, linewidth=0, label=f"{result['interval_width']:g} interval")
        scored_from = datetime.strptime(result["scored_from"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        ax.axvline(scored_from, color="grey", linestyle="--", linewidth=0.8)
        index = {float(x): i for i, x in enumerate(t)}
        for a in series["anomalies"]:
            lo = datetime.strptime(a["start"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
            hi = datetime.strptime(a["end"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
            picks = [index[x] for x in index if lo <= x <= hi]
            ax.scatter(when[picks], y[picks], color="#d62728", s=12, zorder=3)
        ax.set_title(f"{result['name']}: {_labels(series['labels'])} ({len(series['anomalies'])} anomalies)", fontsize=9)
        ax.tick_params(labelsize=7)
        if row == 0:
            ax.legend(fontsize=7, loc="upper left")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
