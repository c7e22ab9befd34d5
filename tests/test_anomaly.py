"""`aetherops anomaly check`: the model, the CSV mode, the engines, the plot, and real backends.

The series are made here from a seed (daily and weekly seasonality, noise) with anomalies injected at known
times; the integration tests put the same kind of series into a backfilled Prometheus and into
VictoriaMetrics and run the same command against both.
"""

from __future__ import annotations

import importlib.util
import math
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from aetherops.testing.servers import backfill_openmetrics, free_port, require_binary, start_prometheus

STEP = 300
DAY = 86400
DATA = Path(__file__).resolve().parent / "data" / "anomaly"
HAS_PROPHET = importlib.util.find_spec("prophet") is not None


def seasonal(days: float, *, seed: int = 1, end: int | None = None, step: int = STEP, base: float = 100.0, noise: float = 2.0):
    """``(timestamps, values)``: ``days`` of a daily and weekly cycle around ``base`` with Gaussian noise."""
    rng = np.random.default_rng(seed)
    n = int(days * DAY / step)
    end = end if end is not None else 1_700_000_000 // step * step
    t = end - step * np.arange(n)[::-1]
    hours = (t % DAY) / 3600
    y = base + 20 * np.sin(2 * np.pi * (hours - 8) / 24) + 5 * np.sin(2 * np.pi * t / (7 * DAY)) + rng.normal(0, noise, n)
    return t.astype(float), y


def write_csv(path: Path, t, y, *, header: str = "timestamp,value") -> Path:
    from datetime import datetime, timezone

    lines = [header]
    for ts, v in zip(t, y):
        when = datetime.fromtimestamp(float(ts), timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{when},{'' if isinstance(v, float) and math.isnan(v) else repr(float(v))}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def check_csv(aetherops_cli, path, *args):
    result = aetherops_cli("anomaly", "check", "--csv", path, "--output", "json", *args)
    assert result.exit_code in (0, 1), result
    return result, result.json()["checks"][0]


# --------------------------------------------------------------------------- the model itself


def test_model_recovers_trend_and_seasonality():
    from aetherops_plugins.anomaly.model import Settings, fit

    t, y = seasonal(14, noise=1.0)
    model = fit(t, y, Settings(), step=STEP)
    assert set(model.orders) == {86400.0, 7 * 86400.0}
    truth = 100 + 20 * np.sin(2 * np.pi * ((t % DAY) / 3600 - 8) / 24) + 5 * np.sin(2 * np.pi * t / (7 * DAY))
    assert np.sqrt(np.mean((model.predict(t) - truth) ** 2)) < 0.5
    lo, hi = model.band(0.99)
    assert 2.0 < hi < 3.5 and -3.5 < lo < -2.0  # about 2.58 sigma of unit noise


def test_robust_fit_ignores_outliers_in_the_history():
    from aetherops_plugins.anomaly.model import fit

    t, y = seasonal(7, noise=1.0)
    clean = fit(t, y, step=STEP).predict(t)
    dirty = y.copy()
    dirty[500:530] += 400  # a 2.5-hour outage-sized spike in the history
    assert np.max(np.abs(fit(t, dirty, step=STEP).predict(t) - clean)) < 2.0


def test_seasonality_needs_two_cycles_and_fine_enough_samples():
    from aetherops_plugins.anomaly.model import DAY as D
    from aetherops_plugins.anomaly.model import WEEK, Settings, seasonal_orders

    assert seasonal_orders(13 * D, 300, Settings()) == {D: 10}
    assert seasonal_orders(14 * D - 300, 300, Settings()) == {D: 10, WEEK: 3}
    assert seasonal_orders(1.5 * D, 300, Settings()) == {}
    assert seasonal_orders(30 * D, 3 * 3600, Settings()) == {D: 3, WEEK: 3}  # 8 samples a day carry 3 daily harmonics
    assert seasonal_orders(30 * D, 3 * 3600, Settings(daily_order=0, weekly_order=0)) == {}


def test_persistence_groups_runs_and_ignores_short_ones():
    from aetherops_plugins.anomaly.scoring import group

    t = np.arange(20, dtype=float)
    y = np.ones(20)
    y[15] = math.nan  # a missing sample neither breaks nor extends a run
    flags = [{"timestamp": float(i), "value": 1.0, "score": 2.0, "expected": 0.0} for i in (2, 3, 9, 10, 11, 14, 16)]
    flags.append({"timestamp": 12.0, "value": 1.0, "score": -3.0, "expected": 5.0})
    runs = group(t, y, flags, min_consecutive=3)
    assert [(a["start"], a["end"], a["points"], a["direction"]) for a in runs] == [(9.0, 11.0, 3, "above"), (14.0, 16.0, 2, "above")][:1]
    assert [(a["start"], a["end"]) for a in group(t, y, flags, min_consecutive=2)] == [(2.0, 3.0), (9.0, 11.0), (14.0, 16.0)]
    assert group(t, y, flags, min_consecutive=1, direction="below")[0]["start"] == 12.0


# --------------------------------------------------------------------------- CSV mode


def test_injected_anomalies_are_found(tmp_path, aetherops_cli):
    t, y = seasonal(10, seed=3)
    spike, dip, shift = 8 * 288 + 100, 9 * 288 + 40, 9 * 288 + 200
    y[spike:spike + 4] += 40
    y[dip:dip + 6] -= 35
    y[shift:shift + 30] += 25
    result, check = check_csv(aetherops_cli, write_csv(tmp_path / "s.csv", t, y), "--warmup", "7d")
    assert result.exit_code == 1 and "anomal" in result.stderr
    [series] = check["series"]
    assert series["status"] == "anomalous"
    found = [(a["start"], a["direction"]) for a in series["anomalies"]]
    from aetherops_plugins.anomaly.check import iso

    for index, direction in ((spike, "above"), (dip, "below"), (shift, "above")):
        assert any(abs(_epoch(s) - t[index]) <= 2 * STEP and d == direction for s, d in found), (index, found)
    assert len(found) <= 4, found  # and (almost) nothing else in three days of scoring
    peak = max(series["anomalies"], key=lambda a: a["score"])
    assert peak["peak"] > peak["upper"] > peak["expected"] > peak["lower"] and peak["score"] > 1
    assert check["scored_from"] == iso(t[7 * 288])


def _epoch(text: str) -> float:
    from datetime import datetime, timezone

    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def test_clean_seasonal_series_gives_no_anomaly(tmp_path, aetherops_cli):
    t, y = seasonal(21, seed=5)
    result, check = check_csv(aetherops_cli, write_csv(tmp_path / "clean.csv", t, y), "--warmup", "14d")
    assert result.exit_code == 0, result
    assert check["anomalies"] == 0 and check["series"][0]["status"] == "ok"
    assert check["series"][0]["scored_points"] == 7 * 288
    # the same series judged point by point (no persistence) has a few outside a 99% band: persistence is what keeps it quiet
    _, single = check_csv(aetherops_cli, tmp_path / "clean.csv", "--warmup", "14d", "--min-consecutive", "1")
    assert 0 < single["anomalies"] < 0.03 * 7 * 288


def test_gaps_nan_and_missing_rows_are_tolerated(tmp_path, aetherops_cli):
    t, y = seasonal(16, seed=7)
    y[1000:1040] = math.nan  # NaN values (empty cells in the CSV)
    keep = np.ones(t.size, dtype=bool)
    keep[2000:2100] = False  # missing scrapes: no rows at all
    keep[15 * 288 + 10:15 * 288 + 20] = False
    y[15 * 288 + 50:15 * 288 + 56] += 50
    y[15 * 288 + 52] = math.nan  # a gap inside the anomaly does not split it
    result, check = check_csv(aetherops_cli, write_csv(tmp_path / "gaps.csv", t[keep], y[keep]), "--warmup", "15d")
    assert result.exit_code == 1, result
    [anomaly] = check["series"][0]["anomalies"]
    assert anomaly["points"] == 5 and abs(_epoch(anomaly["start"]) - t[15 * 288 + 50]) < 1


def test_constant_series(tmp_path, aetherops_cli):
    t, _ = seasonal(4)
    flat = np.full(t.size, 42.0)
    result, check = check_csv(aetherops_cli, write_csv(tmp_path / "flat.csv", t, flat), "--warmup", "2d")
    assert result.exit_code == 0 and check["anomalies"] == 0, result
    flat[-20:] = 43.0  # a constant that moves is anomalous, whatever the (zero) noise
    result, check = check_csv(aetherops_cli, write_csv(tmp_path / "step.csv", t, flat), "--warmup", "2d")
    assert result.exit_code == 1 and check["series"][0]["anomalies"][0]["points"] == 20


def test_too_short_history_is_not_enough_data(tmp_path, aetherops_cli):
    t, y = seasonal(0.05)  # 14 samples
    result, check = check_csv(aetherops_cli, write_csv(tmp_path / "short.csv", t, y))
    assert result.exit_code == 0, result
    series = check["series"][0]
    assert series["status"] == "not_enough_data" and "at least 24" in series["message"]
    assert "not enough data" in result.stderr
    text = aetherops_cli("anomaly", "check", "--csv", tmp_path / "short.csv")
    assert text.exit_code == 0 and "1 with not enough data" in text.stdout


def test_nab_file_with_a_known_anomaly(aetherops_cli):
    # NAB's art_daily_jumpsup: a daily pattern whose level jumps on 2014-04-11 (labelled window); nothing else is wrong
    result, check = check_csv(aetherops_cli, DATA / "nab" / "data" / "artificialWithAnomaly" / "art_daily_jumpsup.csv")
    assert result.exit_code == 1
    starts = [_epoch(a["start"]) for a in check["series"][0]["anomalies"]]
    window = (_epoch("2014-04-10T07:15:00Z"), _epoch("2014-04-11T16:45:00Z"))
    assert any(window[0] <= s <= window[1] for s in starts), check["series"][0]["anomalies"]
    result, check = check_csv(aetherops_cli, DATA / "nab" / "data" / "artificialNoAnomaly" / "art_daily_small_noise.csv")
    assert result.exit_code == 0 and check["anomalies"] == 0, result


def test_csv_columns_and_bad_files(tmp_path, aetherops_cli):
    t, y = seasonal(3)
    path = write_csv(tmp_path / "c.csv", t, y, header="when,cpu")
    _, check = check_csv(aetherops_cli, path)  # two columns: first and second
    assert check["series"][0]["history_points"] + check["series"][0]["scored_points"] == t.size
    named = tmp_path / "named.csv"
    named.write_text("host,when,cpu\n" + "".join(f"a,{int(ts)},{v}\n" for ts, v in zip(t, y)), encoding="utf-8")
    result = aetherops_cli("anomaly", "check", "--csv", named)
    assert result.exit_code == 2 and "--timestamp-column" in result.stderr and "Traceback" not in result.stderr
    assert aetherops_cli("anomaly", "check", "--csv", named, "--timestamp-column", "when", "--value-column", "cpu").exit_code in (0, 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,abc\n", encoding="utf-8")
    result = aetherops_cli("anomaly", "check", "--csv", bad)
    assert result.exit_code == 2 and f"{bad}:3: value 'abc' is not a number" in result.stderr
    result = aetherops_cli("anomaly", "check", "--csv", tmp_path / "missing.csv")
    assert result.exit_code == 2 and "missing.csv" in result.stderr


def test_csv_parser_orders_rows_and_keeps_the_last_duplicate(tmp_path):
    from aetherops_plugins.anomaly.data import read_csv

    path = tmp_path / "d.csv"
    path.write_text("\ufefftimestamp,value\n1700000600,3\n2023-11-14T22:13:20Z,1\n1700000600000,4\n1700000300,nan\n", encoding="utf-8")
    assert read_csv(path) == ([1700000000.0, 1700000300.0, 1700000600.0], [1.0, pytest.approx(math.nan, nan_ok=True), 4.0], 1)


# --------------------------------------------------------------------------- options, engines, output


@pytest.mark.parametrize("args, message", [
    ((), "give one of QUERY, --csv FILE or --all"),
    (("up", "--csv", "x.csv"), "not QUERY and --csv"),
    (("up", "--since", "soon"), "--since 'soon'"),
    (("up", "--step", "1h", "--window", "5m"), "shorter than the step"),
    (("up", "--engine", "nope"), "no such engine (available: example_threshold, prophet, prophet-style)"),
    (("--all", "--plot", "x.png"), "--plot draws one check"),
    (("up", "--interval-width", "1.5"), "--interval-width"),
])
def test_usage_errors(args, message, aetherops_cli, profile_factory):
    profile_factory("p", prometheus={"url": "http://127.0.0.1:9"})
    result = aetherops_cli("-p", "p", "anomaly", "check", *args)
    assert result.exit_code == 2 and message in result.stderr, result


def test_engines_lists_built_in_and_plugin_engines(aetherops_cli):
    result = aetherops_cli("anomaly", "engines", "--output", "json")
    engines = {e["name"]: e for e in result.json()["engines"]}
    assert engines["prophet-style"]["available"] is True
    assert engines["prophet"]["available"] is HAS_PROPHET
    assert "example_threshold" in engines  # the example plugin's engine, through the same hook


def test_a_plugin_engine_runs_through_the_command(tmp_path, aetherops_cli):
    t = np.arange(100, dtype=float) * STEP + 1_700_000_000
    y = np.zeros(100)
    y[90:95] = 1.0  # the example engine flags everything above its threshold (0 by default)
    result, check = check_csv(aetherops_cli, write_csv(tmp_path / "x.csv", t, y), "--engine", "example_threshold", "--warmup", "50%")
    assert result.exit_code == 1 and check["engine"] == "example_threshold"
    assert [a["points"] for a in check["series"][0]["anomalies"]] == [5]


def test_prophet_engine_missing_names_the_extra(tmp_path, aetherops_cli, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "prophet", None)  # as if not installed
    t, y = seasonal(3)
    result = aetherops_cli("anomaly", "check", "--csv", write_csv(tmp_path / "s.csv", t, y), "--engine", "prophet")
    assert result.exit_code == 2 and "pip install 'aetherops[prophet]'" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(not HAS_PROPHET, reason="the prophet engine needs the prophet package (pip install 'aetherops[prophet]')")
def test_prophet_engine_finds_the_same_injected_anomaly(tmp_path, aetherops_cli):
    t, y = seasonal(5, seed=11)
    y[4 * 288 + 100:4 * 288 + 106] += 60
    path = write_csv(tmp_path / "s.csv", t, y)
    for engine in ("prophet", "prophet-style"):
        result, check = check_csv(aetherops_cli, path, "--engine", engine, "--warmup", "4d")
        assert result.exit_code == 1, (engine, result)
        starts = [_epoch(a["start"]) for a in check["series"][0]["anomalies"]]
        assert any(abs(s - t[4 * 288 + 100]) <= STEP for s in starts), (engine, check)


def test_text_output_lists_each_anomaly(tmp_path, aetherops_cli):
    t, y = seasonal(4, seed=2)
    y[-10:-4] += 60
    result = aetherops_cli("anomaly", "check", "--csv", write_csv(tmp_path / "s.csv", t, y), "--warmup", "3d")
    assert result.exit_code == 1
    assert "SERIES" in result.stdout and "EXPECTED" in result.stdout and "1 anomaly in 1 of 1 series" in result.stdout
    assert result.stderr.strip() == "aetherops: error: 1 anomaly (" + str(tmp_path / "s.csv") + ")"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and zlib.crc32(data[12:16 + length]) == struct.unpack(">I", data[16 + length:20 + length])[0]
    return struct.unpack(">II", data[16:24])


def test_plot_draws_series_band_and_anomalies(tmp_path, aetherops_cli):
    t, y = seasonal(4, seed=2)
    y[-40:-30] += 60
    png = tmp_path / "out.png"
    result = aetherops_cli("anomaly", "check", "--csv", write_csv(tmp_path / "s.csv", t, y), "--warmup", "2d", "--plot", png)
    assert result.exit_code == 1 and png.is_file()
    data = png.read_bytes()
    width, height = _png_size(data)
    assert width >= 800 and height >= 200
    from matplotlib.image import imread

    pixels = (imread(str(png))[..., :3] * 255).astype(int)
    red = (pixels[..., 0] > 180) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)  # the flagged points (#d62728)
    band = (abs(pixels[..., 0] - 213) < 12) & (abs(pixels[..., 1] - 234) < 12) & (abs(pixels[..., 2] - 213) < 12)  # the band, green at 20%
    blue = (pixels[..., 0] < 80) & (pixels[..., 1] > 90) & (pixels[..., 2] > 150)  # the series (#1f77b4)
    assert red.sum() > 50 and band.sum() > 2000 and blue.sum() > 500, (red.sum(), band.sum(), blue.sum())
    # the red marks are in the last 10% of the plotted time (the anomaly), not all over
    columns = np.flatnonzero(red.any(axis=0))
    assert columns.min() > 0.75 * width


# --------------------------------------------------------------------------- real backends

COUNTER_RESETS = (8 * 3600, 20 * 3600, 41 * 3600)  # seconds before the end


class History:
    """Three days at 5 minutes of two gauges (one with an anomaly in the last half hour) and a counter with resets."""

    def __init__(self, end: int):
        self.end = end
        self.t, self.quiet = seasonal(3, seed=21, end=end)
        _, self.loud = seasonal(3, seed=22, end=end)
        self.loud[-6:] += 80
        rate = 10 + 2 * np.sin(2 * np.pi * ((self.t % DAY) / 3600 - 8) / 24)
        counter, total = [], 0.0
        for ts, r in zip(self.t, rate):
            total = 0.0 if any(abs(ts - (end - back)) < 1 for back in COUNTER_RESETS) else total + r * STEP
            counter.append(total)
        self.counter = counter

    def openmetrics(self) -> str:
        lines = ["# TYPE anomaly_demo gauge"]
        lines += [f'anomaly_demo{{instance="quiet"}} {v:.4f} {int(ts)}' for ts, v in zip(self.t, self.quiet)]
        lines += [f'anomaly_demo{{instance="loud"}} {v:.4f} {int(ts)}' for ts, v in zip(self.t, self.loud)]
        lines += ["# TYPE anomaly_requests counter"]
        lines += [f'anomaly_requests_total{{instance="c"}} {v:.1f} {int(ts)}' for ts, v in zip(self.t, self.counter)]
        return "\n".join(lines) + "\n# EOF\n"

    def prometheus_text(self) -> str:
        out = [f'anomaly_vm_demo{{instance="quiet"}} {v:.4f} {int(ts) * 1000}\n' for ts, v in zip(self.t, self.quiet)]
        out += [f'anomaly_vm_demo{{instance="loud"}} {v:.4f} {int(ts) * 1000}\n' for ts, v in zip(self.t, self.loud)]
        out += [f'anomaly_vm_requests_total{{instance="c"}} {v:.1f} {int(ts) * 1000}\n' for ts, v in zip(self.t, self.counter)]
        return "".join(out)


@pytest.fixture(scope="module")
def history() -> History:
    return History(end=int(time.time()) // STEP * STEP - STEP)


@pytest.fixture(scope="module")
def backfilled_prometheus(tmp_path_factory, history):
    require_binary("prometheus")
    require_binary("promtool")
    workdir = tmp_path_factory.mktemp("anomaly-history")
    backfill_openmetrics(workdir / "data", history.openmetrics())
    server = start_prometheus(workdir, port=free_port(), config={"scrape_configs": []}, extra_args=["--storage.tsdb.retention.time=100y"])
    yield server
    server.stop()


def check_backend(aetherops_cli, profile: str, metric: str, counter: str) -> None:
    result = aetherops_cli("-p", profile, "anomaly", "check", metric, "--since", "2d", "--window", "1h", "--output", "json")
    assert result.exit_code == 1, result
    [check] = result.json()["checks"]
    series = {s["labels"]["instance"]: s for s in check["series"]}
    assert set(series) == {"quiet", "loud"} and series["loud"]["labels"]["__name__"] == metric  # one model per series, labels kept
    assert series["quiet"]["status"] == "ok" and series["loud"]["status"] == "anomalous"
    [anomaly] = series["loud"]["anomalies"]
    assert anomaly["points"] >= 5 and anomaly["direction"] == "above" and anomaly["peak"] > anomaly["upper"]
    assert series["loud"]["history_points"] > 500 and series["loud"]["scored_points"] >= 10
    # a counter with resets, through rate(): no anomaly (the resets are what rate() absorbs)
    result = aetherops_cli("-p", profile, "anomaly", "check", f"rate({counter}[15m])", "--since", "2d", "--output", "json")
    assert result.exit_code == 0, result
    assert result.json()["checks"][0]["series"][0]["status"] == "ok"
    # the raw counter is flagged as one, with the query to use instead
    raw = aetherops_cli("-p", profile, "anomaly", "check", counter, "--since", "2d")
    assert "looks like a counter" in raw.stderr and f"rate({counter}[20m])" in raw.stderr
    # a window longer than the history: not enough data, exit 0
    short = aetherops_cli("-p", profile, "anomaly", "check", metric, "--since", "1h", "--output", "json")
    assert short.exit_code == 0 and {s["status"] for s in short.json()["checks"][0]["series"]} == {"not_enough_data"}


@pytest.mark.servers
def test_check_on_a_backfilled_prometheus(aetherops_cli, profile_factory, backfilled_prometheus):
    profile_factory("hist", prometheus={"url": backfilled_prometheus.url, "timeout": 30})
    check_backend(aetherops_cli, "hist", "anomaly_demo", "anomaly_requests_total")


@pytest.mark.servers
def test_check_on_victoriametrics(aetherops_cli, profile_factory, victoriametrics_server, victoriametrics_import, history):
    victoriametrics_import(history.prometheus_text())
    profile_factory("vm", prometheus={"url": victoriametrics_server.url, "timeout": 30})
    check_backend(aetherops_cli, "vm", "anomaly_vm_demo", "anomaly_vm_requests_total")


@pytest.mark.servers
def test_standing_checks_from_the_profile(aetherops_cli, profile_factory, victoriametrics_server, victoriametrics_import, history):
    victoriametrics_import(history.prometheus_text())
    profile_factory("standing", prometheus={"url": victoriametrics_server.url, "timeout": 30}, anomaly=[
        {"name": "quiet-gauge", "query": 'anomaly_vm_demo{instance="quiet"}', "since": "2d"},
        {"name": "loud-gauge", "query": 'anomaly_vm_demo{instance="loud"}', "since": "2d", "window": "30m", "direction": "above"},
        {"name": "loud-dips-only", "query": 'anomaly_vm_demo{instance="loud"}', "since": "2d", "direction": "below"},
    ])
    result = aetherops_cli("-p", "standing", "anomaly", "check", "--all", "--output", "json")
    assert result.exit_code == 1, result
    checks = {c["name"]: c for c in result.json()["checks"]}
    assert [checks[n]["anomalies"] for n in ("quiet-gauge", "loud-gauge", "loud-dips-only")] == [0, 1, 0]
    assert checks["loud-gauge"]["step"] == "5m" and checks["loud-gauge"]["interval_width"] == 0.99
    assert "1 anomaly (loud-gauge)" in result.stderr
    text = aetherops_cli("-p", "standing", "anomaly", "check", "--all")
    assert text.exit_code == 1 and "quiet-gauge:" in text.stdout and "loud-gauge:" in text.stdout


def test_all_without_standing_checks_is_a_config_error(aetherops_cli, profile_factory):
    profile_factory("none", prometheus={"url": "http://127.0.0.1:9"})
    result = aetherops_cli("-p", "none", "anomaly", "check", "--all")
    assert result.exit_code == 4 and "no `anomaly:` checks" in result.stderr
    profile_factory("badcheck", prometheus={"url": "http://127.0.0.1:9"}, anomaly=[{"name": "x", "query": "up", "window": "soon"}])
    result = aetherops_cli("-p", "badcheck", "anomaly", "check", "--all")
    assert result.exit_code == 4 and "anomaly check 'x': window 'soon'" in result.stderr


def test_prometheus_down_is_exit_3(aetherops_cli, profile_factory):
    profile_factory("down", prometheus={"url": f"http://127.0.0.1:{free_port()}", "timeout": 2, "retries": 0})
    result = aetherops_cli("-p", "down", "anomaly", "check", "up")
    assert result.exit_code == 3 and "prometheus" in result.stderr and "Traceback" not in result.stderr
