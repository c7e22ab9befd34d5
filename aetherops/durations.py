"""Prometheus durations (``1h30m``) to seconds and back."""

from __future__ import annotations

import re
from typing import Any

UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def parse_duration(text: Any) -> int | None:
    """``"1h30m"`` -> 5400 seconds (Prometheus duration syntax); None when it is not one."""
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, (int, float)):
        return int(text) if text >= 0 else None
    value = str(text).strip()
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)", value)
    if not parts or "".join(n + u for n, u in parts) != value:
        return None
    return int(round(sum(float(n) * UNITS[u] for n, u in parts)))


def format_duration(seconds: float) -> str:
    """5400 -> ``1h30m``; the Prometheus spelling, largest units first."""
    seconds = int(round(seconds))
    if seconds == 0:
        return "0s"
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    return out
