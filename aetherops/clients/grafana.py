"""Grafana through grafana-client's ``GrafanaApi``, built from a profile's ``grafana`` section.

grafana-client has no retries and lets connection errors of its HTTP stack
escape; :meth:`GrafanaService.call` adds bounded retries for transient failures
and turns every failure into a one-line :class:`ServiceError`.
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import Any, Callable
from urllib.parse import urlsplit

from aetherops.clients.http import BACKOFF_SECONDS, TRANSIENT_STATUS
from aetherops.errors import ServiceError
from aetherops.profiles import ServiceConfig
from aetherops.redact import redact


def make_grafana_api(config: ServiceConfig, *, pool_size: int = 10):
    """A ``grafana_client.GrafanaApi`` for the profile section (auth, TLS, headers, org, timeout)."""
    from grafana_client import GrafanaApi

    parts = urlsplit(config.url)
    auth: Any = None
    if config.bearer_token:
        auth = config.bearer_token
    elif config.basic_auth:
        auth = tuple(config.basic_auth)
    prefix = parts.path.strip("/")
    api = GrafanaApi(
        auth=auth,
        host=parts.hostname or "localhost",
        port=parts.port,
        url_path_prefix=f"{prefix}/" if prefix else "",
        protocol=parts.scheme or "http",
        verify=config.verify,
        timeout=config.timeout,
        user_agent=_user_agent(),
        organization_id=config.options.get("org_id"),
        session_pool_size=pool_size,
    )
    if config.headers:
        api.client.s.headers.update(config.headers)
    if config.cert:
        api.client.s.cert = config.cert
    return api


class GrafanaService:
    """A Grafana API client with retries and clear errors."""

    def __init__(self, config: ServiceConfig, *, pool_size: int = 10):
        self.config = config
        self.url = config.url
        self.pool_size = pool_size

    @cached_property
    def api(self):
        return make_grafana_api(self.config, pool_size=self.pool_size)

    def close(self) -> None:
        """Close the HTTP session (the Context calls this when the command ends)."""
        api = self.__dict__.pop("api", None)
        if api is not None:
            api.client.s.close()

    def call(self, what: str, fn: Callable[..., Any], *args: Any, retry: bool = True, **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)`` (a grafana-client method); retry transient failures;
        raise ServiceError naming ``what`` and the server's message otherwise."""
        import niquests
        from grafana_client.client import GrafanaException, GrafanaTimeoutError

        attempts = max(1, self.config.retries) if retry else 1
        last = ""
        for attempt in range(1, attempts + 1):
            try:
                return fn(*args, **kwargs)
            except GrafanaTimeoutError:
                last = f"timed out after {self.config.timeout:g}s"
                status = None
            except GrafanaException as exc:
                status = exc.status_code
                message = exc.response.get("message") if isinstance(exc.response, dict) else None
                message = " ".join(str(message or exc.message or exc.response or "").split())
                if status not in TRANSIENT_STATUS and status != 0:
                    raise ServiceError(f"grafana {self.url} {what}: HTTP {status}: {redact(message)}", url=self.url, status=status) from None
                last = f"HTTP {status}" if status else f"connection failed ({redact(message)})"
            except niquests.exceptions.SSLError as exc:  # a certificate problem does not fix itself: no retry
                raise ServiceError(f"grafana {self.url} {what}: TLS error ({_tls_reason(exc)})", url=self.url) from None
            except (niquests.exceptions.RequestException, OSError) as exc:
                last = f"cannot connect ({type(exc).__name__})"
                status = None
            except ValueError:  # the server answered, but not with JSON (a proxy's HTML page, a wrong URL...)
                raise ServiceError(f"grafana {self.url} {what}: answered with something that is not JSON "
                                   "(is grafana.url right?)", url=self.url, status=200) from None
            if attempt < attempts:
                time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        suffix = f" (after {attempts} attempts)" if attempts > 1 else ""
        raise ServiceError(f"grafana {self.url} {what}: {last}{suffix}", url=self.url)

    def health(self) -> dict:
        """``GET /api/health`` (no auth needed; grafana-client's own ``health.check`` reads
        ``/api/frontend/settings`` instead, which needs credentials and says nothing of the database)."""
        body = self.call("GET /api/health", self.api.client.GET, "/health")
        if not isinstance(body, dict):  # grafana-client hands back text/* bodies as strings
            raise ServiceError(f"grafana {self.url} GET /api/health: answered with something that is not JSON "
                               "(is grafana.url right?)", url=self.url, status=200)
        return body


def _tls_reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    for marker in ("certificate verify failed", "CERTIFICATE_VERIFY_FAILED", "wrong version number", "hostname"):
        if marker.lower() in text.lower():
            start = text.lower().index(marker.lower())
            return redact(text[start:start + 120].split(")")[0])
    return redact(text[:160]) or type(exc).__name__


def _user_agent() -> str:
    from aetherops import __version__

    return f"aetherops/{__version__}"
