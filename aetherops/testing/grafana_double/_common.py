"""Shared pieces of the double: the error it raises, the request routes receive, small helpers."""

from __future__ import annotations

import copy
import json
import re
import string
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

#: Grafana's default ``[dashboards] versions_to_keep``.
VERSIONS_TO_KEEP = 20

_UID_RE = re.compile(r"^[a-zA-Z0-9\-_]*$")
_UID_ALPHABET = string.ascii_letters + string.digits
_JSON = "application/json"
_JSON_UTF8 = "application/json; charset=UTF-8"
_NOT_FOUND = {"message": "Not found"}
_DASH_NOT_FOUND = {"message": "Dashboard not found"}
_FOLDER_NOT_FOUND = {"status": "not-found", "message": "folder not found"}
_DS_NOT_FOUND = {"message": "Data source not found"}
_BAD_REQUEST = {"message": "bad request data"}
_TYPE_NAMES = {
    "prometheus": "Prometheus",
    "alertmanager": "Alertmanager",
    "loki": "Loki",
    "tempo": "Tempo",
    "elasticsearch": "Elasticsearch",
    "graphite": "Graphite",
    "influxdb": "InfluxDB",
    "postgres": "PostgreSQL",
    "mysql": "MySQL",
    "testdata": "TestData",
}


class DoubleError(Exception):
    """A request the double rejects: ``status`` and the JSON ``body`` Grafana would send.

    Raised by the seeding helpers (e.g. :meth:`GrafanaDouble.add_dashboard`) with the same
    status and body the HTTP API would answer.
    """

    def __init__(self, status: int, body: Any):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_SLUG_RE = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=1 << 16)
def _slugify(title: str) -> str:
    """Grafana's ASCII slug of a title (cached: the save's name check slugs the titles in the target folder)."""
    return _SLUG_RE.sub("-", title.lower()).strip("-")


def _copy_json(value: Any) -> Any:
    """A deep copy of JSON data (dicts, lists, scalars), several times faster than ``copy.deepcopy``; anything
    else (a tuple a seeding caller passed) goes through ``copy.deepcopy``, so the copy is the same."""
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    if value is None or type(value) in (str, int, float, bool):
        return value
    return copy.deepcopy(value)


def _version_tuple(version: str) -> tuple[int, int, int]:
    parts = [int(p) for p in re.findall(r"\d+", version.split("-")[0].split("+")[0])[:3]]
    while len(parts) < 3:
        parts.append(0)
    return parts[0], parts[1], parts[2]


def _as_int(value: Any, default: int = 0) -> int:
    """Like Go's ``MustInt64``/``QueryInt``: anything that is not an integer becomes ``default``."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return default
    return default


def _first(query: dict[str, list[str]], key: str, default: str = "") -> str:
    values = query.get(key)
    return values[0] if values else default


def _multi(query: dict[str, list[str]], key: str) -> list[str]:
    out: list[str] = []
    for value in query.get(key, []):
        out.extend(v for v in value.split(",") if v)
    return out


class _Request:
    __slots__ = ("method", "path", "query", "groups", "raw", "headers")

    def __init__(self, method, path, query, groups, raw, headers):
        self.method = method
        self.path = path
        self.query = query
        self.groups = groups
        self.raw = raw
        self.headers = headers

    @property
    def body(self) -> bytes:
        """The raw body; read from the connection on first use (after auth)."""
        if not isinstance(self.raw, bytes):
            self.raw = self.raw.read()
        return self.raw

    def json(self) -> dict:
        """The body as a JSON object, or 400 ``bad request data`` like Grafana's binding."""
        try:
            body = json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise DoubleError(400, _BAD_REQUEST) from None
        if not isinstance(body, dict):
            raise DoubleError(400, _BAD_REQUEST)
        return body


_DURATION_RE = re.compile(r"^(\d+)(ms|s|m|h|d|w|y)$")
_DURATION_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def _duration_seconds(text: str) -> float | None:
    """A Grafana ``gtime`` duration (``5s``, ``1m``, ``1d``) in seconds, or None when unparsable."""
    match = _DURATION_RE.match(text.strip())
    return int(match.group(1)) * _DURATION_SECONDS[match.group(2)] if match else None
