"""Hostile input for `aetherops anomaly check`: generated CSV files and option values.

The invariant of every adversarial test (``_invariant.assert_invariant``): a documented exit code, at most one
error line, no traceback. And for the CSV parser itself: it either returns time-ordered finite timestamps or
raises DataError naming the file (and the line, for a bad row).
"""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from aetherops.testing.cli import run_cli

from ._invariant import assert_invariant

_cell = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
    st.sampled_from(["", "nan", "NaN", "null", "inf", "-inf", "1e309", "-0", "2014-04-01 00:00:00", "2014-04-01T00:05:00Z",
                     "2014-02-30 00:00:00", "1700000000", "1700000000000", "99999999999999999999", "+05:00", "\"a,b\"", "\r", "\x00"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**15, 10**15).map(str),
)
_row = st.lists(_cell, min_size=0, max_size=4)
_header = st.one_of(st.just(["timestamp", "value"]), st.lists(st.sampled_from(["timestamp", "value", "ts", "v", "", "x"]), max_size=4))


def _csv(header, rows) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _regular(n: int, gap_every: int) -> list[list[str]]:
    return [[str(1_700_000_000 + 300 * i), "" if gap_every and i % gap_every == 0 else str((i * 7919) % 101)] for i in range(n)]


@given(header=_header, rows=st.one_of(st.lists(_row, max_size=30), st.builds(_regular, st.integers(0, 80), st.integers(0, 5))),
       junk=st.binary(max_size=20))
def test_csv_parser_returns_ordered_series_or_names_the_line(tmp_path_factory, header, rows, junk):
    from aetherops_plugins.anomaly.data import DataError, read_csv

    path = tmp_path_factory.mktemp("csv") / "in.csv"
    path.write_bytes(_csv(header, rows).encode("utf-8") + junk)
    try:
        t, y, dropped = read_csv(path)
    except DataError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)
        return
    assert t == sorted(set(t)) and all(math.isfinite(x) for x in t) and len(t) == len(y) and dropped >= 0
    assert all(math.isnan(v) or math.isfinite(v) for v in y)


@given(rows=st.one_of(st.lists(_row, max_size=40), st.builds(_regular, st.integers(0, 400), st.integers(0, 7))),
       options=st.lists(st.sampled_from([
           ("--warmup", st.sampled_from(["15%", "0%", "99.9%", "100%", "-5%", "%", "2d", "0s", "soon", "1e9d", "nan%"])),
           ("--window", st.sampled_from(["1h", "0s", "1ms", "1y", "-1h", "x", "5m"])),
           ("--since", st.sampled_from(["14d", "0s", "1ms", "100y", "", "1h"])),
           ("--interval-width", st.sampled_from(["0.99", "0.5", "1", "0", "nan", "inf", "-1", "0.999999"])),
           ("--min-consecutive", st.sampled_from(["1", "3", "0", "-1", "1000000", "x"])),
           ("--direction", st.sampled_from(["both", "above", "below", "sideways"])),
           ("--daily-order", st.sampled_from(["0", "4", "50", "51", "-1"])),
           ("--weekly-order", st.sampled_from(["0", "3", "50", "x"])),
           ("--changepoints", st.sampled_from(["0", "25", "200", "201"])),
           ("--engine", st.sampled_from(["prophet-style", "example_threshold", "nope", ""])),
           ("--timestamp-column", st.sampled_from(["timestamp", "value", "nope", ""])),
       ]), max_size=4).flatmap(lambda picks: st.tuples(*[st.tuples(st.just(name), values) for name, values in picks])))
def test_check_csv_with_hostile_files_and_options(tmp_path_factory, rows, options):
    path = tmp_path_factory.mktemp("csv") / "in.csv"
    path.write_text(_csv(["timestamp", "value"], rows), encoding="utf-8")
    args = ["anomaly", "check", "--csv", str(path), "--output", "json"]
    for name, value in options:
        args += [name, value]
    result = run_cli(args)
    assert_invariant(result)
    if result.exit_code in (0, 1):
        assert result.json()["checks"][0]["series"][0]["status"] in ("ok", "anomalous", "not_enough_data")


@given(query=st.one_of(st.text(max_size=30), st.sampled_from(["up", "rate(x_total[5m])", "x_total", "{", "sum by (", "\x00"])),
       since=st.sampled_from(["14d", "0s", "x", "1y"]), step=st.sampled_from(["5m", "0s", "1ms", "7x"]))
def test_check_query_options_against_a_dead_prometheus(profiles_dir, query, since, step):
    (profiles_dir / "dead.yaml").write_text("prometheus: {url: 'http://127.0.0.1:9', timeout: 1, retries: 0}\n", encoding="utf-8")
    result = run_cli(["-p", "dead", "anomaly", "check", query, "--since", since, "--step", step])
    assert_invariant(result)
    assert result.exit_code in (2, 3), result
