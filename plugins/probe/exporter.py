"""``aetherops probe --exporter``: the same probes run by the profile's blackbox_exporter (``/probe``).

Each probe is one ``GET /probe?target=..&module=..&debug=true``: the debug page
carries the metrics (success, status, duration, phases, certificate expiry) and
the exporter's own log lines, whose last error is the failure reason. The
requests go through the profile's blackbox client (``aetherops.clients.http``),
``concurrency`` at a time.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable

from aetherops.errors import ConfigError, ServiceError
from aetherops_plugins.probe.api import PHASES

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context
    from aetherops_plugins.probe.engine import ProbeJob, ProbeOptions

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
_FAILURE_WORDS = re.compile(r"invalid|fail|did not|not match|error|refused|timeout", re.IGNORECASE)
_LOGFMT = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def parse_metrics(text: str) -> dict[str, Any]:
    """``{name: value}`` and ``{name: {label_value: value}}`` for the one-label series of a probe page."""
    out: dict[str, Any] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if not match:
            continue
        name, labels, value = match.groups()
        try:
            number = float(value)
        except ValueError:
            continue
        if labels:
            pairs = dict(_LABEL.findall(labels))
            out.setdefault(name, {})
            if isinstance(out[name], dict) and pairs:
                out[name][next(iter(pairs.values()))] = number
        else:
            out[name] = number
    return out


def failure_reason(logs: str) -> str | None:
    """The last error the exporter logged for the probe, in its own words."""
    error = hint = None
    for line in logs.splitlines():
        fields = {k: v.strip('"').replace('\\"', '"') for k, v in _LOGFMT.findall(line)}
        msg = fields.get("msg", "")
        if not msg or msg == "Probe failed":
            continue
        detail = msg + "".join(f" ({k} {fields[k]})" for k in ("status_code", "regexp", "header") if fields.get(k))
        if fields.get("err"):
            detail += f": {fields['err']}"
        if fields.get("level") == "error":
            error = detail
        elif _FAILURE_WORDS.search(msg):  # some failures are logged at info level ("Invalid HTTP response status code")
            hint = detail
    return error or hint


def probe_via_exporter(client, job: ProbeJob, timeout: float) -> dict:
    """One probe through blackbox_exporter; the result has the same shape as a local one."""
    from aetherops_plugins.probe.engine import make_result

    started = time.perf_counter()
    try:
        response = client.request(
            "GET", "/probe", params={"target": job.target, "module": job.module, "debug": "true"},
            headers={"X-Prometheus-Scrape-Timeout-Seconds": f"{timeout:g}"}, timeout=timeout + 5.0, retry=False)
    except ServiceError as exc:
        if exc.status == 400 and "unknown module" in str(exc).lower():
            raise ConfigError(f"blackbox_exporter at {client.base_url} has no module '{job.module}'") from None
        raise
    duration = (time.perf_counter() - started) * 1000.0
    text = response.text
    logs, _, rest = text.partition("Metrics that would have been returned:")
    metrics_text = rest.split("Module configuration:", 1)[0]
    metrics = parse_metrics(metrics_text)
    phases = metrics.get("probe_http_duration_seconds") or {}
    success = metrics.get("probe_success") == 1.0
    raw = {
        "success": success,
        "reason": None if success else (failure_reason(logs) or "probe failed (the exporter logged no reason)"),
        "status_code": int(metrics["probe_http_status_code"]) if "probe_http_status_code" in metrics else None,
        "phases": {p: float(phases.get(p, 0.0)) * 1000.0 for p in PHASES} if isinstance(phases, dict) else {},
        "duration_ms": float(metrics.get("probe_duration_seconds", duration / 1000.0)) * 1000.0,
    }
    version = metrics.get("probe_http_version")
    if version:
        raw["http_version"] = f"HTTP/{version:.1f}" if version != 2 else "HTTP/2.0"
    if metrics.get("probe_ssl_earliest_cert_expiry"):
        raw["tls_earliest_cert_expiry"] = metrics["probe_ssl_earliest_cert_expiry"]
    return make_result(job, raw, duration, via="exporter")


def run_via_exporter(ctx: Context, jobs: list[ProbeJob], opts: ProbeOptions, timeout_of: Callable) -> list[dict]:
    """Every job through the profile's blackbox_exporter, ``opts.concurrency`` requests at a time."""
    client = ctx.client("blackbox")
    with ThreadPoolExecutor(max_workers=max(1, min(opts.concurrency, len(jobs) or 1))) as pool:
        return list(pool.map(lambda job: probe_via_exporter(client, job, timeout_of(job)), jobs))
