"""Server lifecycle and HTTP plumbing: threads, keep-alive, bodies, dispatch."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

if TYPE_CHECKING:
    from . import GrafanaDouble

from ._common import _JSON, _JSON_UTF8, _NOT_FOUND, DoubleError, _Request


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, address, handler, double: GrafanaDouble):
        self.double = double
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GrafanaDouble/1.0"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are closed after this
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms delayed-ACK stalls

    def log_message(self, format, *args):  # quiet; see GrafanaDouble.request_log
        pass

    def _handle(self):
        self.server.double._serve(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


_DRAIN_LIMIT = 256 * 1024


class _BodyError(Exception):
    """The connection broke or the framing was invalid while reading a body."""


class _BodyReader:
    """Reads a request body once, on demand, at most ``limit`` bytes.

    Routes read the body only after auth passed, like Grafana's middleware chain; past
    ``limit`` the answer is 413 without reading the rest (the connection is then closed).
    """

    def __init__(self, handler, limit: int | None):
        self.handler = handler
        self.limit = limit
        self.consumed = not self._has_body()
        self.failed = False
        self.refused = False  # 413: the rest of the body is never read, the connection closes
        self._data = b""

    def _has_body(self) -> bool:
        headers = self.handler.headers
        return "chunked" in headers.get("Transfer-Encoding", "").lower() or int(headers.get("Content-Length") or 0) > 0

    def read(self) -> bytes:
        if self.consumed:
            return self._data
        try:
            self._data = self._read()
        except (OSError, ValueError):
            self.failed = True
            self.handler.close_connection = True
            raise _BodyError() from None
        self.consumed = True
        return self._data

    def drain(self) -> bool:
        """After the answer: read and drop an unread body of up to 256 KiB; False if the connection must close."""
        if self.failed or self.refused:
            return False
        if self.consumed:
            return True
        length = int(self.handler.headers.get("Content-Length") or 0)
        if "chunked" in self.handler.headers.get("Transfer-Encoding", "").lower() or length > _DRAIN_LIMIT:
            return False
        try:
            self.handler.rfile.read(length)
        except OSError:
            return False
        self.consumed = True
        return True

    def _too_large(self) -> DoubleError:
        self.refused = True
        return DoubleError(413, {"message": f"request body too large, max {self.limit} bytes"})

    def _read(self) -> bytes:
        rfile, headers, limit = self.handler.rfile, self.handler.headers, self.limit
        if "chunked" in headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if limit is not None and total > limit:
                    raise self._too_large()
                chunks.append(rfile.read(size))
                rfile.readline()
        length = int(headers.get("Content-Length") or 0)
        if limit is not None and length > limit:
            raise self._too_large()
        return rfile.read(length) if length > 0 else b""


class ServerMixin:
    """Start/stop in a daemon thread, read requests, apply latency and faults, dispatch to the routes."""

    def start(self) -> GrafanaDouble:
        """Bind and serve in a daemon thread; returns ``self``."""
        if self._server is not None:
            return self
        cls = _Server6 if ":" in self.host else _Server
        self._server = cls((self.host, self._requested_port), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"grafana-double:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open keep-alive connections."""
        server, self._server = self._server, None
        if server is None:
            return
        # serve_forever notices shutdown only between polls; poke it with connections so
        # stop() takes milliseconds instead of up to a poll interval
        waiter = threading.Thread(target=server.shutdown, daemon=True)
        waiter.start()
        host = server.server_address[0]
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
        while waiter.is_alive():
            try:
                socket.create_connection((host, server.server_address[1]), timeout=0.2).close()
            except OSError:
                pass
            waiter.join(0.01)
        with server.sockets_lock:
            sockets = list(server.open_sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> GrafanaDouble:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`), else the requested one."""
        if self._server is not None:
            return self._server.server_address[1]
        return self._requested_port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:43123`` (no trailing slash)."""
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def _serve(self, handler: _Handler) -> None:
        method = handler.command
        split = urlsplit(handler.path)
        path = split.path
        body_reader = _BodyReader(handler, self.max_body_bytes)
        latency = self.latency_ms
        if latency and latency > 0:
            time.sleep(latency / 1000.0)
        fault = self._take_fault(method, path)
        if fault is not None and fault["reset"]:
            self._record(method, path, 0)
            self._reset_connection(handler)
            return
        content_type = _JSON
        pretty = False
        if fault is not None:
            status = fault["status"]
            body: Any = {"message": f"injected fault: {status} {handler.responses.get(status, ('',))[0]}".strip()}
        else:
            query = parse_qs(split.query, keep_blank_values=True)
            status, body, pretty = self._dispatch(method, path, query, body_reader, handler.headers)
            if path == "/api/health":
                content_type = _JSON_UTF8
        if body_reader.failed:  # the connection broke mid-body: nobody to answer
            return
        close = not body_reader.drain()  # like Go's net/http: drain a small unread body, else close
        if status >= 400:
            content_type = _JSON_UTF8
        if pretty:
            data = json.dumps(body, indent=2, sort_keys=True).encode()
        else:
            data = json.dumps(body, separators=(",", ":")).encode()
        if status == 204:  # No Content: no body at all
            data = b""
        self._record(method, path, status)
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(data)))
            handler.send_header("Cache-Control", "no-store")
            handler.send_header("X-Content-Type-Options", "nosniff")
            if close:
                handler.send_header("Connection", "close")
                handler.close_connection = True
            handler.end_headers()
            if method != "HEAD":
                handler.wfile.write(data)
        except OSError:
            handler.close_connection = True

    @staticmethod
    def _reset_connection(handler: _Handler) -> None:
        handler.close_connection = True
        try:  # RST instead of FIN where the platform allows it
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except (OSError, struct.error):
            pass

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._log.append((method, path, status))

    def _dispatch(self, method, path, query, raw, headers) -> tuple[int, Any, bool]:
        """Route, check auth, then (only then) let the handler read the body.

        ``raw`` is the request body or a :class:`_BodyReader` read on first use. Grafana's
        router (``pkg/web``) matches a route with or without one trailing slash.
        """
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        for route_method, pattern, fn, feature, needs_auth in self._routes:
            if route_method != method and not (method == "HEAD" and route_method == "GET"):
                continue
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if feature and feature not in self.features:
                return 404, _NOT_FOUND, False
            try:
                if needs_auth:
                    self._check_auth(headers)
                req = _Request(method, path, query, tuple(unquote(g) for g in match.groups()), raw, headers)
                result = fn(req)
            except DoubleError as exc:
                return exc.status, exc.body, False
            except _BodyError:
                return 400, {"message": "bad request data"}, False
            except Exception:  # a bug in the double: answer like Grafana would, and say why on stderr
                traceback.print_exc()
                return 500, {"message": "Internal Server Error"}, False
            if len(result) == 3:
                return result
            return result[0], result[1], False
        return 404, _NOT_FOUND, False
