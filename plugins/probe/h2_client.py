"""One HTTP/2 request over an open TLS stream whose ALPN chose ``h2`` (the ``h2`` package's state machine).

What blackbox_exporter 0.23 does through Go's net/http: with ``enable_http2`` (its default) the TLS
handshake offers ``h2`` and ``http/1.1``; a server that picks h2 is spoken to in HTTP/2 and the response's
version is ``HTTP/2.0`` (``probe_http_version 2``). One stream per connection (keep-alives are off in the
exporter too); phases as for HTTP/1.1: ``processing`` from the request until the response headers,
``transfer`` until the stream ends. Imported only when a server negotiates h2.
"""

from __future__ import annotations

import asyncio

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from aetherops_plugins.probe.net import ProbeFailure, Trace

_READ = 1 << 16


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, authority: str, path: str, method: str,
                   headers: dict[str, str], body: bytes, trace: Trace, keep) -> dict:
    """Send one request, read its response: ``{"status", "headers" (lower-case name -> values), "body",
    "body_error"}``. ``keep(status)``: whether the body is needed (regular expressions). The ``processing``
    phase must have been started by the caller; this ends it and times ``transfer``."""
    status: int | None = None
    response_headers: dict[str, list[str]] = {}
    parts: list[bytes] = []
    wanted = False
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8",
                                                                       validate_inbound_headers=False))
    request = [(":method", method), (":scheme", "https"), (":authority", authority), (":path", path)]
    request += [(name.lower(), value) for name, value in headers.items()
                if name.lower() not in ("host", "connection", "keep-alive", "transfer-encoding", "upgrade")]
    pending = memoryview(body)
    try:
        conn.initiate_connection()
        stream = conn.get_next_available_stream_id()
        conn.send_headers(stream, request, end_stream=not body)
        while True:
            while pending and conn.local_flow_control_window(stream) > 0:  # the request body, as the window allows
                size = min(len(pending), conn.local_flow_control_window(stream), conn.max_outbound_frame_size)
                conn.send_data(stream, bytes(pending[:size]), end_stream=size == len(pending))
                pending = pending[size:]
            writer.write(conn.data_to_send())
            await writer.drain()
            data = await reader.read(_READ)
            if not data:
                if status is None:
                    raise ProbeFailure("server closed the connection before the response (HTTP/2)")
                return _response(status, response_headers, parts, "server closed the connection mid-response (HTTP/2)")
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream:
                    for name, value in event.headers:
                        if name == ":status":
                            status = int(value)
                        elif not name.startswith(":"):
                            response_headers.setdefault(name.lower(), []).append(value)
                    trace.done()
                    trace.start("transfer")
                    wanted = bool(status is not None and keep(status))
                elif isinstance(event, h2.events.DataReceived) and event.stream_id == stream:
                    if wanted:
                        parts.append(event.data)
                    conn.acknowledge_received_data(event.flow_controlled_length, stream)
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream:
                    if status is None:
                        raise ProbeFailure("HTTP/2 stream ended without a response")
                    trace.done()
                    conn.close_connection()
                    writer.write(conn.data_to_send())
                    return _response(status, response_headers, parts, None)
                elif isinstance(event, h2.events.StreamReset) and event.stream_id == stream:
                    if status is None:
                        raise ProbeFailure(f"server reset the HTTP/2 stream (error code {event.error_code})")
                    return _response(status, response_headers, parts, f"server reset the HTTP/2 stream mid-response "
                                                                       f"(error code {event.error_code})")
                elif isinstance(event, h2.events.ConnectionTerminated):
                    if status is None:
                        raise ProbeFailure(f"server ended the HTTP/2 connection (GOAWAY, error code {event.error_code})")
                    return _response(status, response_headers, parts, "server ended the HTTP/2 connection mid-response")
    except h2.exceptions.ProtocolError as exc:
        if status is None:
            raise ProbeFailure(f"HTTP/2 protocol error: {exc}") from None
        return _response(status, response_headers, parts, f"HTTP/2 protocol error mid-response: {exc}")
    except ConnectionError as exc:
        if status is None:
            raise ProbeFailure(f"connection lost while waiting for the response: {exc.strerror or exc}") from None
        return _response(status, response_headers, parts, f"connection lost while reading the body: {exc.strerror or exc}")


def _response(status: int, headers: dict, parts: list[bytes], error: str | None) -> dict:
    return {"status": status, "headers": headers, "body": b"".join(parts), "body_error": error}
