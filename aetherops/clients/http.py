"""An httpx client built from a profile section, with the shared retry policy and one-line errors.

Transient failures (connect errors, timeouts, 429/502/503/504) are retried by
:class:`~aetherops.clients.retry.RetryPolicy` (``retries`` retries after the first
attempt, jittered backoff, ``Retry-After`` honoured); other 4xx/5xx never are.
Every failure becomes a :class:`ServiceError` naming the URL and the server's
own message (exit code 3).
"""

from __future__ import annotations

import json
import sys
from typing import Any

if "httpx" not in sys.modules:
    # ``import httpx`` also imports its optional command-line client (httpx._main), which pulls in rich
    # and pygments: ~30 ms of every command that talks HTTP. None in sys.modules is the import system's
    # documented way to block a submodule; httpx then installs its fallback ``main``.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx  # noqa: E402

from aetherops.clients.connect import is_tls_error, request_headers, ssl_context  # noqa: E402
from aetherops.clients.retry import TRANSIENT_STATUS, RetryPolicy  # noqa: E402
from aetherops.errors import AetheropsError, ExitCode, ServiceError  # noqa: E402
from aetherops.profiles import ServiceConfig  # noqa: E402
from aetherops.redact import redact  # noqa: E402

#: Kept for modules not yet on :class:`RetryPolicy` (use ``RetryPolicy().backoff``).
BACKOFF_SECONDS = RetryPolicy.backoff


def server_message(response: Any, text: str | None = None) -> str:
    """The server's own error message from a JSON or text body, on one line (any response with ``.text``)."""
    text = (response.text if text is None else text).strip()
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, str) and body.strip():  # Alertmanager answers some errors with a bare JSON string
        return " ".join(body.split())
    if isinstance(body, dict):
        for key in ("error", "message", "msg", "detail"):
            if body.get(key):
                return " ".join(str(body[key]).split())
    return " ".join(text.split())[:300] or str(getattr(response, "reason_phrase", None) or getattr(response, "reason", "") or "")


class HTTPService:
    """A small wrapper around ``httpx.Client`` for one service."""

    def __init__(self, config: ServiceConfig, *, transport: httpx.BaseTransport | None = None, policy: RetryPolicy | None = None):
        self.config = config
        self.name = config.name
        self.base_url = config.url
        self.policy = policy or RetryPolicy.for_service(config)
        self.client = httpx.Client(
            base_url=config.url,
            headers=request_headers(config),
            # plain http: no CA bundle to load (~20 ms of every command against an http:// service)
            verify=ssl_context(config) or False,
            timeout=config.timeout,
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def request(self, method: str, path: str, *, ok=(200,), retry: bool | None = None, **kwargs: Any) -> httpx.Response:
        """Send a request; retry transient failures; raise ServiceError on anything else not in ``ok``.

        ``retry`` defaults to True for idempotent methods and False for POST/PATCH (pass ``retry=True`` for a
        POST that is safe to repeat).
        """
        url = self.url(path)
        where = f"{self.name} {method.upper()} {url}"
        attempts = self.policy.attempts(method, safe=retry)

        def transient(outcome: Any) -> bool:
            if isinstance(outcome, httpx.Response):
                return outcome.status_code not in ok and self.policy.is_transient_status(outcome.status_code)
            return isinstance(outcome, httpx.TransportError) and not is_tls_error(outcome)

        try:
            response = self.policy.run(lambda: self.client.request(method, path, **kwargs), is_transient=transient,
                                       retry_after=lambda r: r.headers.get("Retry-After"), method=method, safe=retry)
        except httpx.InvalidURL as exc:  # e.g. a 70 kB --match value: input given to us, not the server's fault
            shown = url if len(url) <= 200 else f"{url[:200]}... ({len(url):,} characters)"
            error = AetheropsError(f"{self.name} {method.upper()} {shown}: cannot send the request ({exc}); "
                                   "shorten the values given (matchers, ids, expressions)")
            error.exit_code = ExitCode.USAGE
            raise error from None
        except httpx.TransportError as exc:
            if is_tls_error(exc):  # a certificate problem does not fix itself: not retried
                raise ServiceError(f"{where}: TLS error ({_reason(exc)})", url=url) from None
            if isinstance(exc, httpx.TimeoutException):
                problem = f"timed out after {self.config.timeout:g}s"
            elif isinstance(exc, httpx.ConnectError):
                problem = f"cannot connect ({_reason(exc)})"
            else:
                problem = f"connection failed ({_reason(exc)})"
            raise ServiceError(f"{where}: {problem}{_after(attempts)}", url=url) from None
        if response.status_code in ok:
            return response
        suffix = _after(attempts) if transient(response) else ""
        raise ServiceError(f"{where}: HTTP {response.status_code}: {server_message(response)}{suffix}", url=url,
                           status=response.status_code)

    def get_json(self, path: str, **kwargs: Any) -> Any:
        response = self.request("GET", path, **kwargs)
        return self._json(response, path)

    def _json(self, response: httpx.Response, path: str) -> Any:
        from aetherops.yamlsafe import InputError, load_json

        try:
            return load_json(response.content)  # bounded: a hostile server's deeply nested JSON is an error, not a crash
        except InputError as exc:
            what = "JSON nested too deeply" if "nested" in exc.message else "something that is not JSON"
            raise ServiceError(f"{self.name} {self.url(path)}: answered with {what}", url=self.url(path)) from None


def _reason(exc: Exception) -> str:
    text = redact(str(exc)) or type(exc).__name__
    return text.split("] ")[-1] if text.startswith("[") else text


def _after(attempts: int) -> str:
    return f" (after {attempts} attempts)" if attempts > 1 else ""


__all__ = ["HTTPService", "TRANSIENT_STATUS", "server_message"]
