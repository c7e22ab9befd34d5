"""Reports of a simulation or backtest: one self-contained HTML page (inline SVG, no network) and a PNG.

The page holds, per SLO: the tiers, the scenario table, a heat map of the
detection time of every tier over the grid (error ratio x duration), and a
burn-rate chart per scenario with each tier's long and short window against
its threshold, firing periods shaded. No script, no font or stylesheet from
anywhere: it opens the same offline, in a mail attachment or a CI artifact.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from aetherops.durations import format_duration
from aetherops.errors import UsageError

COLOURS = ("#d62728", "#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b")
STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}
th{background:#f4f4f4}td.yes{color:#b00;font-weight:600}.charts{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0}figcaption{font-size:12px;color:#555}.note{color:#555;font-size:13px}
"""


def _fmt_seconds(value: int | None) -> str:
    if value is None:
        return "-"
    return format_duration(value) if value >= 0 else "-" + format_duration(-value)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


# --------------------------------------------------------------------------- SVG pieces


def heatmap_svg(grid: dict[str, Any], tier: str) -> str:
    """Rows: error ratios (high at the top); columns: durations; colour: detection time (grey: never)."""
    ratios = list(reversed(grid["ratios"]))
    durations = grid["durations_s"]
    cell_w, cell_h, left, top = 46, 22, 70, 24
    width, height = left + cell_w * len(durations) + 10, top + cell_h * len(ratios) + 40
    cells = {(c["ratio"], c["duration_s"]): c for c in grid["cells"]}
    detected = [c["detected_after_s"][tier] for c in grid["cells"] if c["detected_after_s"].get(tier) is not None]
    longest = max(detected, default=1) or 1
    parts = [f'<svg class="heatmap" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="detection time of {escape(tier)}">']
    parts.append(f'<text x="{left}" y="14" font-size="12">{escape(tier)}: detection time (darker = sooner; grey = never)</text>')
    for r, ratio in enumerate(ratios):
        y = top + r * cell_h
        parts.append(f'<text x="{left - 4}" y="{y + 15}" font-size="10" text-anchor="end">{ratio:.3%}</text>')
        for d, duration in enumerate(durations):
            x = left + d * cell_w
            cell = cells.get((ratio, duration))
            value = None if cell is None else cell["detected_after_s"].get(tier)
            if value is None:
                fill, label = "#e6e6e6", "never"
            else:
                share = math.log1p(value) / math.log1p(longest)
                shade = int(60 + 170 * share)
                fill, label = f"rgb({shade},{int(shade * 0.55)},{int(shade * 0.35)})", _fmt_seconds(value)
            stroke = ' stroke="#000" stroke-width="1.5"' if cell and cell["significant"] else ' stroke="#fff"'
            parts.append(f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" fill="{fill}"{stroke}>'
                         f'<title>{ratio:.3%} for {format_duration(duration)}: {label}</title></rect>')
            if value is not None:
                parts.append(f'<text x="{x + cell_w / 2 - 1}" y="{y + 14}" font-size="9" text-anchor="middle" fill="#fff">'
                             f'{escape(label)}</text>')
    base = top + len(ratios) * cell_h
    for d, duration in enumerate(durations):
        parts.append(f'<text x="{left + d * cell_w + cell_w / 2}" y="{base + 14}" font-size="10" text-anchor="middle">'
                     f'{format_duration(duration)}</text>')
    parts.append(f'<text x="{left}" y="{base + 32}" font-size="11">incident duration; black outline: significant '
                 f'(at least {grid["significant"]:.0%} of the budget)</text></svg>')
    return "".join(parts)


def burn_chart_svg(series: dict[str, Any], tier: dict[str, Any], colour: str) -> str:
    """Long and short window burn rates of one tier over time (log scale), threshold dashed, firing shaded."""
    width, height, left, right, top, bottom = 560, 220, 52, 12, 20, 34
    t = series["t"]
    if not t:
        return ""
    values = [v for v in tier["long"] + tier["short"] if v is not None and v > 0]
    y_max = max(values + [tier["burn_rate"] * 2, 2.0])
    y_min = 0.1
    t0, t1 = t[0], t[-1] if t[-1] > t[0] else t[0] + 1

    def x(ts: float) -> float:
        return left + (ts - t0) / (t1 - t0) * (width - left - right)

    def y(v: float | None) -> float:
        v = max(v or y_min, y_min)
        return top + (1 - (math.log10(v) - math.log10(y_min)) / (math.log10(y_max) - math.log10(y_min))) * (height - top - bottom)

    parts = [f'<svg class="burn-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="burn rate of {escape(tier["tier"])}">',
             f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" fill="#fafafa" stroke="#ccc"/>']
    # firing periods
    start = None
    for i, firing in enumerate(tier["firing"] + [False]):
        if firing and start is None:
            start = i
        elif not firing and start is not None:
            end = min(i, len(t) - 1)
            parts.append(f'<rect class="firing" x="{x(t[start]):.1f}" y="{top}" width="{max(x(t[end]) - x(t[start]), 1):.1f}" '
                         f'height="{height - top - bottom}" fill="{colour}" opacity="0.12"/>')
            start = None
    # grid lines at powers of ten
    for power in range(-1, int(math.ceil(math.log10(y_max))) + 1):
        v = 10 ** power
        if y_min <= v <= y_max:
            parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e0e0e0"/>'
                         f'<text x="{left - 4}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end">{v:g}x</text>')
    parts.append(f'<line class="threshold" x1="{left}" x2="{width - right}" y1="{y(tier["burn_rate"]):.1f}" '
                 f'y2="{y(tier["burn_rate"]):.1f}" stroke="#000" stroke-dasharray="5,4"/>')
    for key, dash, opacity in (("long", "", 1.0), ("short", ' stroke-dasharray="2,2"', 0.7)):
        points = " ".join(f"{x(ts):.1f},{y(v):.1f}" for ts, v in zip(t, tier[key]))
        parts.append(f'<polyline class="{key}" fill="none" stroke="{colour}" stroke-width="1.6" opacity="{opacity}"{dash} points="{points}"/>')
    for frac in (0, 0.25, 0.5, 0.75, 1):
        ts = t0 + frac * (t1 - t0)
        label = ("-" if ts < 0 else "+") + format_duration(abs(ts)) if "origin" not in series else format_duration(ts)
        parts.append(f'<text x="{x(ts):.1f}" y="{height - bottom + 14}" font-size="10" text-anchor="middle">{label}</text>')
    parts.append(f'<text x="{left}" y="14" font-size="12">{escape(tier["tier"])}: burn rate, long (solid) and short (dotted) '
                 f'window, threshold {tier["burn_rate"]:g}x (dashed)</text></svg>')
    return "".join(parts)


# --------------------------------------------------------------------------- page


def render_html(results: list[dict[str, Any]], *, title: str) -> str:
    body = [f"<h1>{escape(title)}</h1>"]
    for result in results:
        body.append(f'<h2>SLO {escape(result["slo"])}: {result["objective"]:g}% over {escape(result["period"])} '
                    f'(error budget {result["budget"]:.3%})</h2>')
        if result.get("from"):
            body.append(f'<p class="note">History {escape(result["from"])} .. {escape(result["to"])} every {escape(result["step"])}: '
                        f'budget spent {_pct(result.get("budget_spent"))}, attainment {_pct(result.get("attainment"))}.</p>')
        if result.get("grid"):
            grid = result["grid"]
            tier_names = list(grid["cells"][0]["detected_after_s"]) if grid["cells"] else []
            body.append("<h3>Detection time per tier over the scenario grid</h3>")
            scores = grid["scores"]
            body.append(f'<p class="note">Pages: precision {_pct(scores["page"]["precision"])}, recall {_pct(scores["page"]["recall"])}; '
                        f'any alert: precision {_pct(scores["any"]["precision"])}, recall {_pct(scores["any"]["recall"])}.</p>')
            body.append('<div class="charts">' + "".join(f"<figure>{heatmap_svg(grid, name)}</figure>" for name in tier_names) + "</div>")
        rows = []
        for scenario in result["scenarios"]:
            for tier in scenario["tiers"]:
                if "firings" in tier and isinstance(tier["firings"], list):  # backtest
                    for firing in tier["firings"] or [None]:
                        rows.append([scenario["scenario"], tier["tier"], "yes" if firing else "no",
                                     firing["fired_at"] if firing else "-", (firing or {}).get("reset_at") or "-",
                                     _pct(firing["budget_at_fire"]) if firing else "-"])
                else:
                    rows.append([scenario["scenario"], tier["tier"], "yes" if tier["fires"] else "no", _fmt_seconds(tier["detected_after_s"]),
                                 _fmt_seconds(tier["reset_after_s"]), _pct(tier["budget_at_detection"])])
        if rows:
            head = ["scenario", "tier", "fires", "detected / fired", "reset", "budget by then"]
            body.append("<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>" + "".join(
                "<tr>" + "".join(f'<td class="{escape(str(c))}">{escape(str(c))}</td>' for c in row) + "</tr>" for row in rows) + "</table>")
        for scenario in result["scenarios"]:
            series = scenario.get("series")
            if not series:
                continue
            body.append(f'<h3>Burn rates: {escape(scenario["scenario"])}</h3><div class="charts">')
            for i, tier in enumerate(series["tiers"]):
                body.append(f"<figure>{burn_chart_svg(series, tier, COLOURS[i % len(COLOURS)])}</figure>")
            body.append("</div>")
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{''.join(body)}"
            "<p class=\"note\">Generated by aetherops slo (docs/slo.md).</p></body></html>\n")


def render_png(results: list[dict[str, Any]], *, title: str) -> bytes:
    """Burn rates against thresholds over time, one panel per tier (matplotlib, the `plot` extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'aetherops[plot]'") from None
    import io

    panels = [(r, s) for r in results for s in r["scenarios"] if s.get("series")]
    if not panels:
        raise UsageError("--plot: nothing to draw (no scenario with a time series)")
    tiers = max(len(s["series"]["tiers"]) for _, s in panels)
    fig, axes = plt.subplots(len(panels), tiers, figsize=(4 * tiers, 3 * len(panels)), squeeze=False)
    for row, (result, scenario) in enumerate(panels):
        series = scenario["series"]
        hours = [t / 3600 for t in series["t"]]
        for col, tier in enumerate(series["tiers"]):
            ax = axes[row][col]
            ax.plot(hours, [v if v else float("nan") for v in tier["long"]], label="long window", color=COLOURS[col % len(COLOURS)])
            ax.plot(hours, [v if v else float("nan") for v in tier["short"]], label="short window", linestyle=":", color=COLOURS[col % len(COLOURS)])
            ax.axhline(tier["burn_rate"], color="black", linestyle="--", linewidth=1, label=f"{tier['burn_rate']:g}x")
            ax.set_yscale("log")
            ax.set_title(f"{result['slo']} {tier['tier']}\n{scenario['scenario'][:40]}", fontsize=8)
            ax.set_xlabel("hours")
            ax.legend(fontsize=6)
    fig.suptitle(title)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return buffer.getvalue()
