"""Prometheus (or a Prometheus-compatible API: Thanos, Mimir, Cortex, VictoriaMetrics) from a profile's ``prometheus`` section.

Quick start::

    prom = ctx.prometheus                                   # a PrometheusClient, built on first use
    for sample in prom.query('up{job="api"}'):             # list[Sample]
        print(sample["metric"]["instance"], float(sample["value"][1]))
    series = prom.query_range("rate(http_requests_total[5m])", start=time.time() - 3600, end=time.time(), step=60)
    active = prom.targets()["activeTargets"]              # each a Target: labels, health, lastError...
    groups = prom.rules(type="alert")                     # list[RuleGroup], each with its rules

The query API (query, query_range, series, labels, label_values, targets) goes through prometheus-api-client's
``PrometheusConnect``, whose requests session runs on the shared :class:`~aetherops.clients.retry.RetryPolicy`
(mounted as a requests adapter, replacing urllib3's ``Retry``). The endpoints the library does not cover
(readiness, rules, build info, flags, running config, admin TSDB snapshot, lifecycle reload) go through the
shared httpx client of :class:`~aetherops.clients.http.HTTPService`: ``aetherops health`` then never pays for
importing requests. Both use the same headers, credentials, TLS settings, timeout and retry policy.

Results are the Prometheus API's own JSON objects, typed with ``TypedDict`` (documented at
https://prometheus.io/docs/prometheus/latest/querying/api/). Every failure is a one-line
:class:`~aetherops.errors.ServiceError` (exit 3) naming the endpoint and the server's own message.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from functools import cached_property
from typing import Any, Literal, TypedDict

from aetherops.clients.connect import is_tls_error, request_headers
from aetherops.clients.http import HTTPService, server_message
from aetherops.clients.retry import session_adapter
from aetherops.errors import ServiceError

#: Read-only endpoints that may be sent as POST (long PromQL) and are safe to repeat.
_READ_ONLY = ("/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels", "/api/v1/query_exemplars")


class Sample(TypedDict):
    """One series of an instant query: its labels and ``[unix_time, "value"]``."""

    metric: dict[str, str]
    value: list  # [float, str]


class RangeSeries(TypedDict):
    """One series of a range query: its labels and ``[[unix_time, "value"], ...]``."""

    metric: dict[str, str]
    values: list  # list[[float, str]]


class Target(TypedDict, total=False):
    """A scrape target (``/api/v1/targets``)."""

    discoveredLabels: dict[str, str]
    labels: dict[str, str]
    scrapePool: str
    scrapeUrl: str
    globalUrl: str
    lastError: str
    lastScrape: str
    lastScrapeDuration: float
    health: str  # "up", "down" or "unknown"
    scrapeInterval: str
    scrapeTimeout: str


class Targets(TypedDict):
    activeTargets: list[Target]
    droppedTargets: list[dict]


class Rule(TypedDict, total=False):
    """An alerting or recording rule as loaded (``type`` is ``alerting`` or ``recording``)."""

    name: str
    query: str
    type: str
    health: str
    lastError: str
    labels: dict[str, str]
    annotations: dict[str, str]
    duration: float  # alerting rules: ``for`` in seconds
    state: str  # alerting rules: inactive, pending, firing
    alerts: list[dict]


class RuleGroup(TypedDict, total=False):
    name: str
    file: str
    interval: float
    rules: list[Rule]


class BuildInfo(TypedDict, total=False):
    version: str
    revision: str
    branch: str
    buildUser: str
    buildDate: str
    goVersion: str


class PrometheusClient(HTTPService):
    """The Prometheus HTTP API: queries, targets, rules, status, admin snapshot, reload."""

    # ---------------------------------------------------------------- prometheus-api-client
    @cached_property
    def api(self):
        """prometheus-api-client's ``PrometheusConnect`` with the profile's headers, auth, TLS, timeout and retry policy."""
        import requests
        from prometheus_api_client import PrometheusConnect
        from requests.adapters import HTTPAdapter

        session = requests.Session()
        session.verify = self.config.verify
        session.cert = self.config.cert
        session.headers.update(request_headers(self.config))
        api = PrometheusConnect(url=self.config.url, session=session, timeout=self.config.timeout)
        # PrometheusConnect mounts its own urllib3-Retry adapter on its URL: ours replaces it
        session.mount(api.url, session_adapter(self.policy, HTTPAdapter, transient_errors=(requests.ConnectionError, requests.Timeout),
                                               safe_paths=_READ_ONLY))
        return api

    def close(self) -> None:
        api = self.__dict__.pop("api", None)
        if api is not None:
            api.close()
        super().close()

    def _call(self, what: str, fn, *args: Any, **kwargs: Any) -> Any:
        import requests
        from prometheus_api_client import PrometheusApiClientException

        where = f"prometheus {self.config.url} {what}"
        try:
            return fn(*args, **kwargs)
        except PrometheusApiClientException as exc:
            status, message = _api_error(str(exc))
            suffix = self._after() if status is not None and self.policy.is_transient_status(status) else ""
            prefix = f"HTTP {status}: " if status is not None else ""
            raise ServiceError(f"{where}: {prefix}{message}{suffix}", url=self.config.url, status=status) from None
        except requests.Timeout:
            raise ServiceError(f"{where}: timed out after {self.config.timeout:g}s{self._after()}", url=self.config.url) from None
        except requests.RequestException as exc:
            if is_tls_error(exc):
                raise ServiceError(f"{where}: TLS error ({_short(exc)})", url=self.config.url) from None
            raise ServiceError(f"{where}: cannot connect ({_short(exc)}){self._after()}", url=self.config.url) from None
        except (ValueError, KeyError, TypeError):  # 200 with a body that is not the API's JSON (a proxy, a wrong URL)
            raise ServiceError(f"{where}: answered with something that is not the Prometheus API (is prometheus.url right?)",
                               url=self.config.url, status=200) from None

    def _after(self) -> str:
        attempts = self.policy.attempts()  # the query API is read-only: every request may be repeated
        return f" (after {attempts} attempts)" if attempts > 1 else ""

    # -- queries
    def query(self, promql: str, *, at: float | dt.datetime | None = None, timeout: float | None = None) -> list[Sample]:
        """Instant query (``/api/v1/query``): one :class:`Sample` per series, evaluated ``at`` (default: now).

        A scalar or string result comes back as one sample with empty labels."""
        params: dict[str, Any] = {}
        if at is not None:
            params["time"] = _unix(at)
        result = self._call(f"query {promql!r}", self.api.custom_query, promql, params=params or None, timeout=timeout)
        return _as_vector(result)

    def query_range(self, promql: str, start: float | dt.datetime, end: float | dt.datetime, step: float | str, *,
                    timeout: float | None = None) -> list[RangeSeries]:
        """Range query (``/api/v1/query_range``) from ``start`` to ``end`` (unix seconds or datetimes, both included
        when on the step grid), every ``step`` (seconds, or a duration such as ``"1m"``): one :class:`RangeSeries` per series."""
        begin, finish = _unix(start), _unix(end)
        # prometheus-api-client rounds datetimes to whole seconds: pass the exact values as parameters (they win)
        return self._call(f"query_range {promql!r}", self.api.custom_query_range, promql,
                          start_time=dt.datetime.fromtimestamp(begin, dt.timezone.utc),
                          end_time=dt.datetime.fromtimestamp(finish, dt.timezone.utc), step=str(step),
                          params={"start": begin, "end": finish}, timeout=timeout)

    def series(self, *match: str, start: float | dt.datetime, end: float | dt.datetime) -> list[dict[str, str]]:
        """The label sets of the series matching any of the ``match`` selectors between ``start`` and ``end``."""
        return self._call(f"series {list(match)!r}", self.api.get_series, _datetime(start), _datetime(end),
                          params={"match[]": list(match)})

    def labels(self, *match: str) -> list[str]:
        """Label names (of the series matching ``match``, if given)."""
        return self._call("label names", self.api.get_label_names, params={"match[]": list(match)} if match else None)

    def label_values(self, label: str, *match: str) -> list[str]:
        """Values of ``label`` (on the series matching ``match``, if given)."""
        return self._call(f"label values of {label}", self.api.get_label_values, label,
                          params={"match[]": list(match)} if match else None)

    def targets(self, state: Literal["active", "dropped", "any"] | None = None) -> Targets:
        """Scrape targets: ``{"activeTargets": [Target...], "droppedTargets": [...]}``."""
        data = self._call("targets", self.api.get_targets, state=state)
        return {"activeTargets": data.get("activeTargets") or [], "droppedTargets": data.get("droppedTargets") or []}

    # ---------------------------------------------------------------- httpx (not covered by the library)
    def ready(self) -> bool:
        """True when ``/-/ready`` answers 200 (ServiceError otherwise)."""
        return self.request("GET", "/-/ready").status_code == 200

    def rules(self, type: Literal["alert", "record"] | None = None) -> list[RuleGroup]:  # noqa: A002 - the API's name
        """Rule groups the server has loaded (each with its ``file`` and ``rules``); ``type`` keeps only alerting or recording rules."""
        return (self.get_json("/api/v1/rules", params={"type": type} if type else None).get("data") or {}).get("groups") or []

    def build_info(self) -> BuildInfo:
        """``/api/v1/status/buildinfo``: version, revision, Go version..."""
        return self.get_json("/api/v1/status/buildinfo").get("data") or {}

    def flags(self) -> dict[str, str]:
        """The command-line flags the server runs with (``/api/v1/status/flags``)."""
        return self.get_json("/api/v1/status/flags").get("data") or {}

    def running_config(self) -> str:
        """The YAML of the configuration the server runs with (``/api/v1/status/config``)."""
        return (self.get_json("/api/v1/status/config").get("data") or {}).get("yaml", "")

    def snapshot(self, skip_head: bool = False) -> str:
        """Take a TSDB snapshot through the admin API (needs ``--web.enable-admin-api``); returns its name.
        Sent once: a repeated snapshot would make a second copy."""
        params = {"skip_head": "true"} if skip_head else None
        body = self._json(self.request("POST", "/api/v1/admin/tsdb/snapshot", params=params), "/api/v1/admin/tsdb/snapshot")
        return body["data"]["name"]

    def reload(self) -> None:
        """Ask the server to reload its configuration (needs ``--web.enable-lifecycle``). Safe to repeat."""
        self.request("POST", "/-/reload", retry=True)


_API_ERROR = re.compile(r"HTTP Status Code (\d+) \((.*)\)\s*$", re.S)


def _api_error(text: str) -> tuple[int | None, str]:
    """Status and the server's message from prometheus-api-client's ``HTTP Status Code 400 (b'...')``."""
    match = _API_ERROR.match(text.strip())
    if not match:
        return None, " ".join(text.split())
    body = match.group(2)
    try:
        raw = ast.literal_eval(body)
        body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    except (ValueError, SyntaxError):
        pass
    return int(match.group(1)), server_message(None, body) or f"HTTP {match.group(1)}"


def _short(exc: Exception) -> str:
    from aetherops.redact import redact

    text = str(exc)
    return redact(text.split(":")[-1].strip(" )'>\"") if text else type(exc).__name__) or type(exc).__name__


def _unix(value: float | dt.datetime) -> float:
    return value.timestamp() if isinstance(value, dt.datetime) else float(value)


def _datetime(value: float | dt.datetime) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromtimestamp(float(value), dt.timezone.utc)


def _as_vector(result: Any) -> list[Sample]:
    if not isinstance(result, list):
        return []
    if len(result) == 2 and not isinstance(result[0], dict):  # a scalar or string answer: [time, "value"]
        return [{"metric": {}, "value": result}]
    return result


__all__ = ["BuildInfo", "PrometheusClient", "RangeSeries", "Rule", "RuleGroup", "Sample", "Target", "Targets"]
