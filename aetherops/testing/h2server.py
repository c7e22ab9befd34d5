"""A small HTTPS test server that speaks HTTP/2 (negotiated by ALPN) and HTTP/1.1, for probe tests.

Faults for tests (HTTP/2 only), chosen by a route header ``x-test-fault``: ``reset`` sends the response
headers then RST_STREAM; ``cut`` promises a longer body (``content-length``), sends part of it and closes the
connection; ``goaway`` answers with GOAWAY and no response.

Faithful: TLS with ALPN ``["h2", "http/1.1"]``, so a client offering h2 gets HTTP/2 (the ``h2`` package's
server-side connection: SETTINGS, HEADERS, DATA, flow control) and one offering only http/1.1 gets HTTP/1.1,
like nginx or Go's net/http with ``http2`` on. Simplified: a fixed routing table (``routes``: path ->
``(status, headers, body)``), one response per request, no server push, no request bodies kept.

    with H2Server(cert_file, key_file, {"/ok": (200, {}, b"fine")}) as server:
        server.url  # https://127.0.0.1:PORT
        server.protocols  # ALPN protocol of each connection so far: ["h2", "http/1.1", ...]
"""

from __future__ import annotations

import asyncio
import ssl
import threading

Route = tuple[int, dict, bytes]
DEFAULT_ROUTES: dict[str, Route] = {
    "/ok": (200, {"x-probe": "yes"}, b"status: healthy\n"),
    "/missing": (404, {}, b"not found\n"),
    "/redirect": (301, {"location": "/ok"}, b"moved\n"),
}


class H2Server:
    """HTTPS on 127.0.0.1 (a free port) in a background thread; ``with`` starts and stops it."""

    def __init__(self, cert_file, key_file, routes: dict[str, Route] | None = None, *, alpn: tuple[str, ...] = ("h2", "http/1.1")):
        self.routes = dict(DEFAULT_ROUTES if routes is None else routes)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(str(cert_file), str(key_file))
        self.context.set_alpn_protocols(list(alpn))
        self.protocols: list[str] = []
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._server = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> H2Server:
        self._thread = threading.Thread(target=self._run, name="h2-test-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the HTTP/2 test server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> H2Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        self._loop = loop = asyncio.new_event_loop()
        self._server = loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.context))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ssl_object = writer.get_extra_info("ssl_object")
        protocol = (ssl_object.selected_alpn_protocol() if ssl_object else None) or "http/1.1"
        self.protocols.append(protocol)
        try:
            if protocol == "h2":
                await self._serve_h2(reader, writer)
            else:
                await self._serve_h1(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    def _answer(self, path: str) -> Route:
        return self.routes.get(path.split("?", 1)[0], (404, {}, b"no such route\n"))

    async def _serve_h1(self, reader, writer) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        path = head.split(b" ", 2)[1].decode("latin-1")
        status, headers, body = self._answer(path)
        lines = [f"HTTP/1.1 {status} X", f"content-length: {len(body)}", "connection: close",
                 *(f"{k}: {v}" for k, v in headers.items())]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()

    async def _serve_h2(self, reader, writer) -> None:
        import h2.config
        import h2.connection
        import h2.events

        conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        await writer.drain()
        while True:
            data = await reader.read(65536)
            if not data:
                return
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    path = dict(event.headers).get(":path", "/")
                    status, headers, body = self._answer(path)
                    headers = dict(headers)
                    fault = headers.pop("x-test-fault", None)
                    if fault == "goaway":
                        conn.close_connection()
                        writer.write(conn.data_to_send())
                        await writer.drain()
                        return
                    length = len(body) * 10 if fault == "cut" else len(body)
                    conn.send_headers(event.stream_id, [(":status", str(status)), ("content-length", str(length)),
                                                        *headers.items()], end_stream=not body)
                    if fault == "reset":
                        conn.reset_stream(event.stream_id)
                    elif fault == "cut":
                        conn.send_data(event.stream_id, body)
                        writer.write(conn.data_to_send())
                        await writer.drain()
                        return
                    elif body:
                        conn.send_data(event.stream_id, body, end_stream=True)
                elif isinstance(event, h2.events.ConnectionTerminated):
                    writer.write(conn.data_to_send())
                    await writer.drain()
                    return
            writer.write(conn.data_to_send())
            await writer.drain()
