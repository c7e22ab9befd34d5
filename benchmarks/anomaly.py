"""Benchmark: the built-in ``prophet-style`` engine next to real Prophet on labelled series.

Data: the NAB files (Numenta Anomaly Benchmark, MIT) under ``../shared/corpus/anomaly/nab`` (or the copy in
tests/data/anomaly/nab when the corpus is not there) and synthetic series made from a seed: 30 days at 5
minutes with daily and weekly seasonality, trend changes and noise, with spikes, dips and level shifts
injected and labelled.

Both engines run as ``aetherops anomaly check --csv`` runs them, with the same settings: the first 15% of
each series (NAB's probation; 14 days for the synthetic ones) is warm-up, then the model is refit on up to
14 days of history before each stretch and scores it; flags persisting --min-consecutive samples are
anomalies. A stretch is a day (the command's default), or a twelfth of the scored part when that is longer
(--refits 12), so that Prophet's run over months-long NAB files stays within minutes.

Counting is window-based: an anomaly that overlaps a labelled window finds it (each
window counts once, recall = windows found / windows), an anomaly outside every window is a false positive
(precision = windows found / (windows found + false positives)).

Speed: one fit on a 30-day, 5-minute history (8,640 points) and a prediction of the next hour, per engine,
median of --repeat runs; and the total fit+predict time per series over the whole run.

Run from the project root:  python benchmarks/anomaly.py  [--engines prophet-style,prophet] [--nab-limit N]

Prints the numbers (and the core count); asserts nothing. Prophet is measured only when installed
(pip install 'aetherops[prophet]').
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# ../shared/corpus beside the checkout (the whole NAB set), else the two files copied into tests/data
CORPUS = [ROOT.parent / "shared" / "corpus" / "anomaly" / "nab", ROOT / "tests" / "data" / "anomaly" / "nab"]
DAY = 86400
STEP = 300


def nab_series(limit: int | None):
    from aetherops_plugins.anomaly.data import parse_timestamp, read_csv

    base = next((p for p in CORPUS if (p / "labels" / "combined_windows.json").is_file()), None)
    if base is None:
        print("NAB corpus not found; synthetic series only")
        return []
    windows = json.loads((base / "labels" / "combined_windows.json").read_text(encoding="utf-8"))
    out = []
    for name in sorted(windows):
        path = base / "data" / name
        if not path.is_file():
            continue
        t, y, _ = read_csv(path)
        labelled = [(parse_timestamp(a), parse_timestamp(b)) for a, b in windows[name]]
        out.append((f"nab/{name}", np.asarray(t), np.asarray(y), labelled, int(len(t) * 0.15)))
    return out[:limit] if limit else out


def synthetic_series(count: int, seed: int, days: int = 30):
    """``count`` seeded series of ``days`` days at 5 minutes; anomalies only after the 14-day warm-up."""
    rng = np.random.default_rng(seed)
    n = days * DAY // STEP
    start = 1_700_006_400  # a Wednesday midnight UTC
    t = start + STEP * np.arange(n, dtype=float)
    out = []
    for k in range(count):
        base = rng.uniform(50, 500)
        hours = (t % DAY) / 3600
        daily = np.sin(2 * np.pi * (hours - 9) / 24) + 0.4 * np.sin(4 * np.pi * hours / 24)
        weekday = ((t // DAY + 3) % 7) < 5
        level = base * (1 + 0.25 * daily) * np.where(weekday, 1.0, 0.7)
        # a trend with two changes of slope
        x = np.arange(n) / n
        c1, c2 = rng.uniform(0.2, 0.45), rng.uniform(0.55, 0.8)
        trend = base * (rng.uniform(-0.1, 0.1) * x + rng.uniform(-0.3, 0.3) * np.maximum(0, x - c1) + rng.uniform(-0.3, 0.3) * np.maximum(0, x - c2))
        noise_scale = base * rng.uniform(0.02, 0.06)
        noise = rng.standard_t(5, n) * noise_scale if k % 2 else rng.normal(0, noise_scale, n)
        y = level + trend + noise
        labelled = []
        warm = 14 * DAY // STEP
        slots = np.sort(rng.choice(np.arange(warm + 12, n - 48, 96), size=4, replace=False))
        for j, i in enumerate(slots):
            kind = ("spike", "dip", "shift", "spike")[(j + k) % 4]
            if kind == "spike":
                length = int(rng.integers(3, 7))
                y[i:i + length] += noise_scale * rng.uniform(8, 15)
            elif kind == "dip":
                length = int(rng.integers(4, 12))
                y[i:i + length] -= base * rng.uniform(0.3, 0.5)
            else:
                length = int(rng.integers(24, 72))
                y[i:i + length] += base * rng.uniform(0.2, 0.4) * rng.choice([-1, 1])
            labelled.append((float(t[max(0, i - 6)]), float(t[min(n - 1, i + length + 6)])))
        out.append((f"synthetic/{seed}-{k}", t, y, labelled, warm))
    return out


def evaluate(engine, series, options, min_consecutive, refits=12):
    from aetherops_plugins.anomaly.scoring import group, walk_forward

    found = windows_total = false_pos = 0
    seconds = []
    for _, t, y, labelled, warmup in series:
        begin = time.perf_counter()
        chunk = max(DAY, (float(t[-1]) - float(t[warmup])) / refits + 1)
        scored = walk_forward(engine, t, y, dict(options), warmup=warmup, chunk=chunk, history=14 * DAY)
        seconds.append(time.perf_counter() - begin)
        anomalies = group(t, y, scored.flags, min_consecutive=min_consecutive)
        first = float(t[warmup])
        windows = [w for w in labelled if w[1] >= first]
        windows_total += len(windows)
        hit = set()
        for a in anomalies:
            inside = [i for i, (lo, hi) in enumerate(windows) if a["start"] <= hi and a["end"] >= lo]
            if inside:
                hit.update(inside)
            else:
                false_pos += 1
        found += len(hit)
    precision = found / (found + false_pos) if found + false_pos else 0.0
    recall = found / windows_total if windows_total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"windows": windows_total, "found": found, "false_positives": false_pos, "precision": precision, "recall": recall,
            "f1": f1, "seconds_per_series": statistics.mean(seconds) if seconds else 0.0, "seconds_total": sum(seconds)}


def time_one_fit(engine, repeat: int) -> float:
    [(_, t, y, _, _)] = synthetic_series(1, seed=99, days=31)
    n = 30 * DAY // STEP  # 8,640 points of history, then one hour to predict
    t, y = t[:n + 12], y[:n + 12]
    options = {"score_from": float(t[n]), "interval_width": 0.99, "step": STEP}
    runs = []
    for _ in range(repeat):
        begin = time.perf_counter()
        engine.detect(t, y, options)
        runs.append(time.perf_counter() - begin)
    return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="prophet-style,prophet", help="engines to compare (default: prophet-style,prophet)")
    parser.add_argument("--nab-limit", type=int, default=None, help="only the first N NAB files (default: all)")
    parser.add_argument("--synthetic", type=int, default=6, help="synthetic series (default 6)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--interval-width", type=float, default=0.99)
    parser.add_argument("--min-consecutive", type=int, default=3)
    parser.add_argument("--refits", type=int, default=12, help="at most this many refits per series (default 12)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the 8,640-point fit per engine; the median counts")
    args = parser.parse_args()

    from aetherops.plugins import make_plugin_manager

    pm = make_plugin_manager()
    engines = {d.name: d for result in pm.hook.aetherops_anomaly_detectors() for d in result}
    chosen = []
    for name in args.engines.split(","):
        engine = engines.get(name)
        problem = getattr(engine, "available", lambda: None)() if engine else f"no engine {name!r}"
        if problem:
            print(f"{name}: skipped ({problem})")
            continue
        chosen.append(engine)
    print(f"cores: {os.cpu_count()}  python {sys.version.split()[0]}  numpy {np.__version__}  "
          f"interval width {args.interval_width}  min consecutive {args.min_consecutive}  "
          f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M}Z")
    datasets = {"nab": nab_series(args.nab_limit), "synthetic": synthetic_series(args.synthetic, args.seed)}
    options = {"interval_width": args.interval_width, "step": None}
    fits = {}
    for engine in chosen:
        fits[engine.name] = time_one_fit(engine, args.repeat)
    print(f"\none fit + predict on 8,640 points (30 days at 5 minutes), median of {args.repeat}:")
    for name, seconds in fits.items():
        print(f"  {name:14s} {seconds * 1000:9.1f} ms")
    if "prophet-style" in fits and "prophet" in fits:
        print(f"  prophet-style is {fits['prophet'] / fits['prophet-style']:.1f}x faster than prophet")
    for label, series in datasets.items():
        if not series:
            continue
        print(f"\n{label}: {len(series)} series, {sum(len(s[1]) for s in series):,} points, {sum(len(s[3]) for s in series)} labelled windows")
        print(f"  {'engine':14s} {'precision':>9s} {'recall':>7s} {'F1':>6s} {'found':>6s} {'FP':>5s} {'s/series':>9s}")
        for engine in chosen:
            r = evaluate(engine, series, options, args.min_consecutive, args.refits)
            print(f"  {engine.name:14s} {r['precision']:9.3f} {r['recall']:7.3f} {r['f1']:6.3f} {r['found']:>3d}/{r['windows']:<3d}"
                  f"{r['false_positives']:5d} {r['seconds_per_series']:9.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
