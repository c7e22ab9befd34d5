"""The health checks themselves (imported only when ``aetherops health`` runs)."""

from __future__ import annotations

import re
import threading
import time

from aetherops.context import Context
from aetherops.errors import ConfigError, ServiceError

SERVICES = ("prometheus", "alertmanager", "grafana", "blackbox")


def _prometheus(client) -> str | None:
    client.ready()
    return client.build_info().get("version")


def _alertmanager(client) -> str | None:
    status = client.status()
    return (status.get("versionInfo") or {}).get("version")


def _grafana(client) -> str | None:
    body = client.health()
    if body.get("database") not in (None, "ok"):
        raise ServiceError(f"grafana {client.url}/api/health: database {body.get('database')}", status=503)
    if client.config.bearer_token or client.config.basic_auth:
        # /api/health needs no credentials: also prove the profile's credentials work
        settings = client.frontend_settings()
        return body.get("version") or (settings.get("buildInfo") or {}).get("version")
    return body.get("version")


def _blackbox(client) -> str | None:
    client.request("GET", "/-/healthy")
    metrics = client.request("GET", "/metrics").text  # blackbox_exporter has no status API; its build info is a metric
    match = re.search(r'blackbox_exporter_build_info\{[^}]*version="([^"]+)"', metrics)
    return match.group(1) if match else None


CHECKS = {"prometheus": _prometheus, "alertmanager": _alertmanager, "grafana": _grafana, "blackbox": _blackbox}


def check_one(ctx: Context, service: str) -> dict:
    """Check one service; never raises for a service fault, reports it instead."""
    url = ctx.profile.service(service).url
    started = time.perf_counter()
    result = {"service": service, "url": url, "ok": False, "reachable": False, "version": None, "latency_ms": None, "error": None}
    try:
        client = ctx.client(service)
        result["version"] = CHECKS[service](client)
        result["ok"] = result["reachable"] = True
        # an Alertmanager cluster (alertmanager.urls) fails over: name the peer that answered, not a dead first one
        result["url"] = getattr(client, "active_url", None) or url
    except ServiceError as exc:
        result["error"] = exc.format_message()
        result["reachable"] = exc.status is not None
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _config_failure(ctx: Context, service: str, exc: ConfigError) -> dict:
    """The row of a service that cannot even be asked: its secret is missing, its TLS file is absent..."""
    url = (ctx.profile.data.get(service) or {}).get("url")
    return {"service": service, "url": url, "ok": False, "reachable": False, "version": None, "latency_ms": None,
            "error": exc.format_message()}


def check_services(ctx: Context, services=None) -> list[dict]:
    """Check the services in parallel (one slow service does not delay the others).

    A service whose client cannot be built (a secret reference that does not resolve, a missing TLS file)
    is that service's failed row; the others are still checked. When every service fails so, the first
    error is raised (exit 4)."""
    wanted = [s for s in (services or SERVICES) if ctx.profile.has_service(s)]
    results: dict[str, dict] = {}
    errors: list[ConfigError] = []
    for s in wanted:  # build clients (and resolve secrets) up front, before any request
        try:
            ctx.client(s)
        except ConfigError as exc:
            results[s] = _config_failure(ctx, s, exc)
            errors.append(exc)
    if wanted and len(errors) == len(wanted):
        raise errors[0]
    # daemon threads, not a ThreadPoolExecutor: Ctrl-C must end the command now, not after every timeout and retry
    threads = [threading.Thread(target=lambda s=s: results.__setitem__(s, check_one(ctx, s)), daemon=True)
               for s in wanted if s not in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.1)
    return [results[s] for s in wanted if s in results]
