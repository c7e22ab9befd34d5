"""An httpx client built from a profile section, with bounded retries and one-line errors.

Transient failures (connect errors, timeouts, 502/503/504) are retried with
exponential backoff up to ``ServiceConfig.retries`` attempts; 4xx never are.
Every failure becomes a :class:`ServiceError` naming the URL and the server's
own message (exit code 3).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

if "httpx" not in sys.modules:
    # ``import httpx`` also imports its optional command-line client (httpx._main), which pulls in rich
    # and pygments: ~30 ms of every command that talks HTTP. None in sys.modules is the import system's
    # documented way to block a submodule; httpx then installs its fallback ``main``.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx  # noqa: E402

from aetherops.errors import AetheropsError, ExitCode, ServiceError
from aetherops.profiles import ServiceConfig
from aetherops.redact import redact

TRANSIENT_STATUS = frozenset({502, 503, 504})
BACKOFF_SECONDS = 0.2


def server_message(response: httpx.Response) -> str:
    """The server's own error message from a JSON or text body, on one line."""
    text = response.text.strip()
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
    return " ".join(text.split())[:300] or response.reason_phrase


class HTTPService:
    """A small wrapper around ``httpx.Client`` for one service."""

    def __init__(self, config: ServiceConfig, *, transport: httpx.BaseTransport | None = None):
        self.config = config
        self.name = config.name
        self.base_url = config.url
        headers = {"User-Agent": _user_agent(), **config.headers, **config.auth_headers()}
        self.client = httpx.Client(
            base_url=config.url,
            headers=headers,
            # plain http: no CA bundle to load (~20 ms of every command against an http:// service)
            verify=_verify(config.verify) if config.url.lower().startswith("https:") else False,
            cert=config.cert,
            timeout=config.timeout,
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def request(self, method: str, path: str, *, ok=(200,), retry: bool | None = None, **kwargs: Any) -> httpx.Response:
        """Send a request; retry transient failures; raise ServiceError on anything else not in ``ok``.

        ``retry`` defaults to True for idempotent methods and False for POST.
        """
        if retry is None:
            retry = method.upper() in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
        attempts = max(1, self.config.retries) if retry else 1
        url = self.url(path)
        last_error: str = ""
        for attempt in range(1, attempts + 1):
            try:
                response = self.client.request(method, path, **kwargs)
            except httpx.InvalidURL as exc:  # e.g. a 70 kB --match value: input given to us, not the server's fault
                shown = url if len(url) <= 200 else f"{url[:200]}... ({len(url):,} characters)"
                error = AetheropsError(f"{self.name} {method.upper()} {shown}: cannot send the request ({exc}); "
                                       "shorten the values given (matchers, ids, expressions)")
                error.exit_code = ExitCode.USAGE
                raise error from None
            except httpx.TimeoutException:
                last_error = f"timed out after {self.config.timeout:g}s"
            except httpx.ConnectError as exc:
                if _is_tls_error(exc):  # a certificate problem does not fix itself: no retry
                    raise ServiceError(f"{self.name} {method.upper()} {url}: TLS error ({_reason(exc)})", url=url) from None
                last_error = f"cannot connect ({_reason(exc)})"
            except httpx.TransportError as exc:
                last_error = f"connection failed ({_reason(exc)})"
            else:
                if response.status_code in ok:
                    return response
                if response.status_code in TRANSIENT_STATUS and attempt < attempts:
                    last_error = f"HTTP {response.status_code}"
                else:
                    raise ServiceError(
                        f"{self.name} {method.upper()} {url}: HTTP {response.status_code}: {server_message(response)}",
                        url=url,
                        status=response.status_code,
                    )
            if attempt < attempts:
                time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        raise ServiceError(f"{self.name} {method.upper()} {url}: {last_error}" + (f" (after {attempts} attempts)" if attempts > 1 else ""), url=url)

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


def _verify(verify: bool | str):
    if isinstance(verify, str):
        import ssl

        return ssl.create_default_context(cafile=verify)
    return verify


def _is_tls_error(exc: Exception) -> bool:
    import ssl

    seen = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc) or "SSL" in type(exc).__name__


def _reason(exc: Exception) -> str:
    text = redact(str(exc)) or type(exc).__name__
    return text.split("] ")[-1] if text.startswith("[") else text


def _user_agent() -> str:
    from aetherops import __version__

    return f"aetherops/{__version__}"
