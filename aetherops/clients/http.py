"""An httpx client built from a profile section, with the shared retry policy and one-line errors.

Transient failures (connect errors, timeouts, 429/502/503/504) are retried by
:class:`~aetherops.clients.retry.RetryPolicy` (``retries`` retries after the first
attempt, jittered backoff, ``Retry-After`` honoured); other 4xx/5xx never are.
Every failure becomes a :class:`ServiceError` naming the URL and the server's
own message (exit code 3).
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import ssl
import sys
import threading
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


class KeepAliveTransport(httpx.BaseTransport):
    """An httpx transport on the standard library's ``http.client``: keep-alive connections in a small pool.

    httpcore/h11 spend about 0.3 ms of CPU per request in Python and send a request's headers and body in two
    ``send`` calls (two wake-ups of the server); ``http.client`` sends them in one. With 16 worker threads on one
    GIL that CPU, not the network, separates a 1,000-dashboard push from its physical limit (benchmarks/
    dashboards.py). httpx still does everything above the wire: base URL, headers and credentials, redirects,
    content decoding. httpx ignores environment proxies for a custom transport: :class:`HTTPService` uses this
    one only when no proxy is set for the URL's scheme.

    HTTP/1.1 only; TLS with the service's :func:`~aetherops.clients.connect.ssl_context`. Failures are raised
    as the httpx exceptions :class:`HTTPService` classifies (connect, timeout, TLS, dropped connection).
    An idle connection the server has closed meanwhile (its socket reads as ready) is dropped, not reused."""

    def __init__(self, context: ssl.SSLContext | None = None, *, max_idle: int = 32):
        self.context = context
        self.max_idle = max_idle
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def _take(self, key: tuple[str, str, int], timeout: float | None) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle.get(key)
            while idle:
                conn = idle.pop()
                sock = conn.sock
                if sock is not None and not _readable(sock):  # an idle socket with something to read was closed
                    sock.settimeout(timeout)
                    return conn, True
                conn.close()
        scheme, host, port = key
        if scheme == "https":
            conn = _HTTPSConnection(host, port, timeout=timeout, context=self.context)
        else:
            conn = _HTTPConnection(host, port, timeout=timeout)
        return conn, False

    def _give_back(self, key: tuple[str, str, int], conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if not self._closed and len(idle) < self.max_idle:
                idle.append(conn)
                return
        conn.close()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        port = url.port or (443 if scheme == "https" else 80)
        key = (scheme, url.host, port)
        timeouts = request.extensions.get("timeout") or {}
        connect_timeout, read_timeout = timeouts.get("connect"), timeouts.get("read")
        body = request.read()
        conn, reused = self._take(key, read_timeout)
        try:
            if conn.sock is None:
                conn.timeout = connect_timeout
                conn.connect()
                conn.sock.settimeout(read_timeout)
                if scheme == "http":  # http.client sets TCP_NODELAY itself; kept explicit for the short writes
                    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except BaseException as exc:
            conn.close()
            raise _as_httpx(exc, request, connecting=True) from exc
        try:
            conn.putrequest(request.method, url.raw_path.decode("ascii"), skip_host=True, skip_accept_encoding=True)
            for name, value in request.headers.multi_items():
                conn.putheader(name, value)
            conn.endheaders(body if body else None)  # headers and a bytes body in one send
            response = conn.getresponse()
            content = response.read()
        except BaseException as exc:
            conn.close()
            raise _as_httpx(exc, request, connecting=False) from exc
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.getheaders()]
        if response.will_close:
            conn.close()
        else:
            self._give_back(key, conn)
        return httpx.Response(response.status, headers=headers, stream=httpx.ByteStream(content),
                              extensions={"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode("latin-1")})

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for conn in conns:
            conn.close()


class _OneSend:
    """``http.client`` sends the header block and a bytes body in two ``send`` calls (two segments, two wake-ups
    of the server): send them as one. Any other body (a file, an iterable) goes the standard way."""

    def _send_output(self, message_body=None, encode_chunked=False):
        if isinstance(message_body, bytes) and message_body:
            self._buffer.extend((b"", b""))
            message = b"\r\n".join(self._buffer) + message_body
            del self._buffer[:]
            self.send(message)
            return
        super()._send_output(message_body, encode_chunked=encode_chunked)


class _HTTPConnection(_OneSend, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_OneSend, http.client.HTTPSConnection):
    pass


def _env_proxy(url: str) -> bool:
    """Whether the environment names a proxy for ``url``'s scheme (``HTTP(S)_PROXY``, ``ALL_PROXY``). httpx applies
    those only to its own transports, so then :class:`KeepAliveTransport` is not used at all (NO_PROXY or not)."""
    import urllib.request

    proxies = urllib.request.getproxies()
    scheme = url.partition(":")[0].lower() or "http"
    return bool(proxies.get(scheme) or proxies.get("all"))


def _readable(sock: socket.socket) -> bool:
    """Whether an idle keep-alive socket has data or EOF waiting (the server closed it): then it is not reused.
    (``poll`` where there is one: ``select`` fails for descriptors past FD_SETSIZE.)"""
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _as_httpx(exc: BaseException, request: httpx.Request, *, connecting: bool) -> BaseException:
    """The httpx exception :meth:`HTTPService.request` classifies, for what ``http.client`` or the socket raised."""
    if not isinstance(exc, (OSError, http.client.HTTPException)):
        return exc if not isinstance(exc, ValueError) else httpx.LocalProtocolError(str(exc), request=request)
    text = str(exc) or type(exc).__name__
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return (httpx.ConnectTimeout if connecting else httpx.ReadTimeout)(text, request=request)
    if connecting or isinstance(exc, ssl.SSLError):
        return httpx.ConnectError(text, request=request)
    if isinstance(exc, http.client.HTTPException) and not isinstance(exc, (http.client.RemoteDisconnected, http.client.IncompleteRead)):
        return httpx.RemoteProtocolError(text, request=request)
    return httpx.ReadError(text, request=request)


class HTTPService:
    """A small wrapper around ``httpx.Client`` for one service.

    ``keepalive``: send through :class:`KeepAliveTransport` (the standard library's ``http.client``, less CPU per
    request) instead of httpcore; ignored when a ``transport`` is given or a proxy is set in the environment."""

    def __init__(self, config: ServiceConfig, *, transport: httpx.BaseTransport | None = None, policy: RetryPolicy | None = None,
                 keepalive: bool = False):
        self.config = config
        self.name = config.name
        self.base_url = config.url
        self.policy = policy or RetryPolicy.for_service(config)
        context = ssl_context(config)
        if transport is None and keepalive and not _env_proxy(config.url):
            transport = KeepAliveTransport(context)
        self.client = httpx.Client(
            base_url=config.url,
            headers=request_headers(config),
            # plain http: no CA bundle to load (~20 ms of every command against an http:// service)
            verify=context or False,
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


__all__ = ["HTTPService", "KeepAliveTransport", "TRANSIENT_STATUS", "server_message"]
