"""Version pins (``versions: {prometheus: "2.42.0", alertmanager: ">=0.25"}``) and whether a server's version meets one.

A pin is an optional operator (``==`` the default, ``!=``, ``>=``, ``>``, ``<=``, ``<``) and a version of one to
four numeric parts. Versions compare by their numeric parts: a leading ``v`` and any ``+build`` or ``-pre``
suffix are ignored (Debian's Prometheus says ``2.42.0+ds``), and ``==`` with fewer parts is a prefix
(``2.42`` accepts every 2.42.x).
"""

from __future__ import annotations

import re

OPERATORS = ("==", "!=", ">=", "<=", ">", "<")
_PIN = re.compile(r"\s*(==|!=|>=|<=|>|<|=)?\s*v?(\d{1,9}(?:\.\d{1,9}){0,3})\s*\Z")
_VERSION = re.compile(r"\s*v?(\d{1,9}(?:\.\d{1,9})*)")


def parse_pin(text: str) -> tuple[str, tuple[int, ...]]:
    """``">=2.40"`` -> ``(">=", (2, 40))``; ValueError with what a pin looks like."""
    match = _PIN.match(str(text))
    if not match:
        raise ValueError(f"{str(text)[:60]!r} is not a version pin (like 2.42.0, 2.42 or >=2.40)")
    op = match.group(1) or "=="
    return ("==" if op == "=" else op), tuple(int(p) for p in match.group(2).split("."))


def pin_problem(value: str) -> str | None:
    """a version such as "2.42.0", "2.42" (any 2.42.x) or ">=2.40" (quoted in YAML)"""
    try:
        parse_pin(value)
    except ValueError as exc:
        return str(exc)
    return None


def version_parts(version: str) -> tuple[int, ...] | None:
    """The numeric parts of a reported version (``v0.25.1+ds`` -> ``(0, 25, 1)``), None when it has none."""
    match = _VERSION.match(str(version or ""))
    return tuple(int(p) for p in match.group(1).split(".")) if match else None


def satisfies(version: str, pin: str) -> bool:
    """Whether the reported ``version`` meets ``pin``."""
    op, want = parse_pin(pin)
    have = version_parts(version)
    if have is None:
        return False
    if op in ("==", "!="):
        equal = (have + (0,) * (len(want) - len(have)))[:len(want)] == want
        return equal if op == "==" else not equal
    width = max(len(have), len(want))
    a, b = have + (0,) * (width - len(have)), want + (0,) * (width - len(want))
    return {">=": a >= b, ">": a > b, "<=": a <= b, "<": a < b}[op]
