"""``aetherops query`` / ``query-range``: PromQL through the profile's PrometheusClient (prometheus-api-client).

Times (``--at``, ``--since``, ``--until``) are ``now``, unix seconds, RFC 3339 (``2026-12-01T10:00:00Z``), or a
duration back from now (``1h``, ``-1h``, ``1h ago``). Steps are Prometheus durations (``15s``, ``1m``) or seconds.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time

from aetherops.errors import UsageError

#: Prometheus refuses range queries of more than 11,000 points per series
MAX_POINTS = 11_000
#: longest expression sent: it travels in the URL, and Prometheus refuses ~1 MB of request headers (431)
MAX_EXPR_CHARS = 100_000
#: points per series when no --step is given
DEFAULT_POINTS = 250
_NUMBER = re.compile(r"[+-]?\d{1,12}(\.\d{1,9})?\Z")
#: the unix seconds a datetime can hold (years 1 to 9999)
_EARLIEST, _LATEST = -62135596800.0, 253402300799.0


def check_expr(expr: str) -> str:
    """The expression, or a UsageError showing its start and length (never the whole of a huge one)."""
    if not expr.strip():
        raise UsageError("EXPR is empty: give a PromQL expression such as 'up == 0'")
    if len(expr) > MAX_EXPR_CHARS:
        raise UsageError(f"EXPR {expr[:40]!r}... has {len(expr):,} characters; at most {MAX_EXPR_CHARS:,} are sent")
    return expr


def parse_duration(text: str, option: str) -> float:
    """A Prometheus duration (``1h30m``, ``90s``) or plain seconds, > 0; UsageError naming the option otherwise."""
    from aetherops_plugins.lint.loader import parse_duration as prometheus_duration

    raw = str(text).strip()
    seconds = float(raw) if _NUMBER.match(raw) else prometheus_duration(raw)
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        raise UsageError(f"{option} {str(text)[:60]!r}: expected a duration such as 30s, 5m, 1h30m (or seconds > 0)")
    return seconds


def parse_time(text: str, option: str, *, now: float | None = None) -> float:
    """Unix seconds from ``now``, unix seconds, RFC 3339, or a duration back from now (``1h``, ``-1h``, ``1h ago``)."""
    seconds = _parse_time(text, option, now)
    if not _EARLIEST <= seconds <= _LATEST:
        raise UsageError(f"{option} {str(text)[:60]!r}: out of range (years 1 to 9999)")
    return seconds


def _parse_time(text: str, option: str, now: float | None) -> float:
    now = time.time() if now is None else now
    raw = str(text).strip()
    if raw.lower() == "now":
        return now
    if _NUMBER.match(raw):
        return float(raw)
    back = raw[1:] if raw.startswith("-") else raw[:-4].strip() if raw.lower().endswith(" ago") else raw
    if back and back[0].isdigit() and not re.match(r"\d{4}-", back):
        return now - parse_duration(back, option)
    try:
        when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option} {raw[:60]!r}: expected now, unix seconds, RFC 3339 (2026-12-01T10:00:00Z) "
                         "or a duration back from now (1h)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    try:
        return when.timestamp()
    except (OverflowError, ValueError, OSError):
        raise UsageError(f"{option} {raw[:60]!r}: out of range") from None


def auto_step(start: float, end: float) -> float:
    """A step giving about DEFAULT_POINTS points, in whole seconds."""
    return float(max(1, math.ceil((end - start) / DEFAULT_POINTS)))


def range_window(since: str, until: str | None, step: str | None, *, now: float | None = None) -> tuple[float, float, float]:
    """(start, end, step) from the options; UsageError when the window is empty or has too many points."""
    now = time.time() if now is None else now
    end = parse_time(until, "--until", now=now) if until else now
    start = parse_time(since, "--since", now=end)
    if start >= end:
        raise UsageError(f"--since {since!r} is not before --until {until or 'now'!r}")
    seconds = parse_duration(step, "--step") if step else auto_step(start, end)
    if (end - start) / seconds > MAX_POINTS:
        raise UsageError(f"--step {step}: {int((end - start) / seconds):,} points per series; Prometheus allows "
                         f"{MAX_POINTS:,} (use a larger --step)")
    return start, end, seconds


def _labels(metric: dict) -> str:
    name = metric.get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest or not name else name


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def instant_rows(samples: list) -> list[dict]:
    """One JSON row per series: ``labels`` (Prometheus's ``metric``), ``timestamp`` (unix seconds), ``value`` (Prometheus's string)."""
    return [{"labels": s.get("metric") or {}, "timestamp": float(s["value"][0]), "value": str(s["value"][1])} for s in samples]


def instant_table(rows: list[dict]) -> list[dict]:
    return [{"series": _labels(r["labels"]) or "{}", "value": r["value"], "time": _iso(r["timestamp"])} for r in rows]


def range_rows(series: list) -> list[dict]:
    """One JSON row per series: ``labels`` (Prometheus's ``metric``) and ``values`` (``[[unix_seconds, "value"], ...]``)."""
    return [{"labels": s.get("metric") or {}, "values": [[float(t), str(v)] for t, v in s.get("values") or []]} for s in series]


def range_table(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        numbers = [float(v) for _, v in r["values"]]
        finite = [n for n in numbers if math.isfinite(n)]
        out.append({"series": _labels(r["labels"]) or "{}", "points": len(numbers),
                    "min": f"{min(finite):g}" if finite else "", "max": f"{max(finite):g}" if finite else "",
                    "last": r["values"][-1][1] if r["values"] else "",
                    "from": _iso(r["values"][0][0]) if r["values"] else "", "to": _iso(r["values"][-1][0]) if r["values"] else ""})
    return out
