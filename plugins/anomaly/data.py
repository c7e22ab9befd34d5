"""Where series come from: a CSV file (NAB's ``timestamp,value``) or a Prometheus-compatible range query.

CSV rules: a header row names the columns (``--timestamp-column``, default ``timestamp``; ``--value-column``,
default ``value``; a two-column file without those names uses its first and second column). Timestamps are
ISO 8601 (``2014-07-01 00:00:00``, ``2014-07-01T00:00:00Z``, with or without an offset; naive means UTC) or
unix seconds (values above 1e11 are taken as milliseconds). Rows are put in time order; of rows with the
same timestamp (a clock set back, as in some NAB files) the last one counts and the others are counted as
dropped. An empty value, ``NaN`` or ``null`` is a missing sample (a gap); anything else that is not a number,
and an infinite one, is an error naming the file and line.
"""

from __future__ import annotations

import csv
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

MISSING = {"", "nan", "null", "none", "na", "-"}
FIRST, LAST = -62135596800.0, 253402300799.0  #: 0001-01-01 .. 9999-12-31T23:59:59Z, what a datetime can show
MAX_POINTS = 10_000  #: Prometheus refuses range queries of more than 11,000 points per series


class DataError(ValueError):
    """A CSV file that cannot be read; ``str()`` is ``FILE:LINE: what is wrong``."""

    def __init__(self, path: Any, line: int | None, message: str):
        self.path, self.line = path, line
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")


def parse_timestamp(text: str) -> float:
    """Unix seconds from ISO 8601 or a unix timestamp (seconds, or milliseconds above 1e11); ValueError otherwise."""
    value = text.strip()
    if not value:
        raise ValueError("empty timestamp")
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        seconds = number / 1000.0 if abs(number) > 1e11 else number
        if not FIRST <= seconds <= LAST:  # also NaN and infinities
            raise ValueError(f"timestamp {value!r} is not a time between the years 1 and 9999")
        return seconds
    iso = value[:-1] + "+00:00" if value[-1:] in ("Z", "z") else value
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError(f"timestamp {value!r} is neither ISO 8601 nor unix seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def parse_value(text: str) -> float:
    value = text.strip()
    if value.lower() in MISSING:
        return math.nan
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"value {value!r} is not a number") from None
    if math.isinf(number):
        raise ValueError(f"value {value!r} is infinite")
    return number


def read_csv(path: str | Path, timestamp_column: str | None = None, value_column: str | None = None) -> tuple[list[float], list[float], int]:
    """``(timestamps, values, dropped)`` of a CSV file in time order (``dropped``: rows whose timestamp a later row
    repeats); :class:`DataError` naming the line for anything malformed."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise DataError(path, None, f"cannot read: {exc.strerror or exc}") from None
    timestamps: list[float] = []
    values: list[float] = []
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None:
                raise DataError(path, None, "empty file: expected a header row such as timestamp,value")
            names = [h.strip() for h in header]
            ts_col = _column(path, names, timestamp_column, "timestamp", 0, "--timestamp-column")
            val_col = _column(path, names, value_column, "value", 1, "--value-column")
            if ts_col == val_col:
                raise DataError(path, 1, f"the timestamp and value columns are the same column ({names[ts_col]!r})")
            for row in reader:
                line = reader.line_num
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) <= max(ts_col, val_col):
                    raise DataError(path, line, f"{len(row)} columns; the header has {len(names)}")
                try:
                    ts = parse_timestamp(row[ts_col])
                    value = parse_value(row[val_col])
                except (ValueError, OverflowError, OSError) as exc:
                    raise DataError(path, line, str(exc)) from None
                timestamps.append(ts)
                values.append(value)
        except csv.Error as exc:
            raise DataError(path, reader.line_num, f"not CSV: {exc}") from None
        except UnicodeDecodeError:
            raise DataError(path, None, "not UTF-8 text") from None
    if not timestamps:
        raise DataError(path, None, "no rows after the header")
    latest = dict(zip(timestamps, values))  # the last row of a timestamp wins
    times = sorted(latest)
    return times, [latest[t] for t in times], len(timestamps) - len(times)


def _column(path, names: list[str], wanted: str | None, default: str, position: int, option: str) -> int:
    if wanted is not None:
        if wanted not in names:
            raise DataError(path, 1, f"{option} {wanted!r}: no such column (columns: {', '.join(names)})")
        return names.index(wanted)
    if default in names:
        return names.index(default)
    if len(names) == 2:
        return position
    raise DataError(path, 1, f"no {default!r} column: name it with {option} (columns: {', '.join(names)})")


def fetch_series(prometheus, query: str, start: int, end: int, step: int) -> list[tuple[dict[str, str], list[float], list[float]]]:
    """Every series ``query`` returns from ``start`` to ``end`` at ``step``: ``(labels, timestamps, values)``, in
    chunks of at most ``MAX_POINTS`` samples (missing samples are simply absent; NaN values are kept as gaps)."""
    from datetime import datetime as _dt

    found: dict[tuple, tuple[dict[str, str], dict[float, float]]] = {}
    chunk_start = start
    while chunk_start <= end:
        chunk_end = min(end, chunk_start + (MAX_POINTS - 1) * step)
        result = prometheus.query_range(query, _dt.fromtimestamp(chunk_start, timezone.utc), _dt.fromtimestamp(chunk_end, timezone.utc),
                                        f"{step}s")
        for item in result or []:
            labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
            key = tuple(sorted(labels.items()))
            samples = found.setdefault(key, (labels, {}))[1]
            for ts, value in item.get("values", []):
                try:
                    v = float(value)
                except (TypeError, ValueError):
                    continue
                samples[float(ts)] = v if not math.isinf(v) else math.nan
        chunk_start = chunk_end + step
    out = []
    for _, (labels, samples) in sorted(found.items()):
        times = sorted(samples)
        out.append((labels, times, [samples[t] for t in times]))
    return out
