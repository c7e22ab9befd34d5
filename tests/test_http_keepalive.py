"""KeepAliveTransport (aetherops/clients/http.py): GrafanaClient's requests over keep-alive http.client connections.

What must hold whatever the transport: one connection reused for sequential requests, bodies intact, a connection
the server closed while idle replaced (even for a POST, which is never retried), failures classified like
httpx's own transport (cannot connect, timed out), and environment proxies still honoured by httpx."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time

import pytest

from aetherops.clients.grafana import GrafanaClient
from aetherops.clients.http import HTTPService, KeepAliveTransport
from aetherops.errors import ServiceError
from aetherops.profiles import ServiceConfig


class Echo:
    """A loopback HTTP/1.1 server echoing each request as JSON, counting connections; ``close_after``: close every
    connection after its first answer without saying so (what an idle timeout on the server does)."""

    def __init__(self, *, close_after: bool = False, delay: float = 0.0):
        self.connections = 0
        self.seen: list[tuple[str, str]] = []
        echo = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                echo.connections += 1
                super().setup()

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                echo.seen.append((self.command, self.path))
                if delay:
                    time.sleep(delay)
                body = json.dumps({"method": self.command, "path": self.path, "body": data.decode("utf-8"),
                                   "host": self.headers.get("Host"), "auth": self.headers.get("Authorization")}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                if close_after:
                    self.close_connection = True

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.handle_error = lambda request, address: None  # a client that timed out: nobody to answer
        self.server, self.url = server, "http://%s:%d" % server.server_address[:2]
        threading.Thread(target=server.serve_forever, daemon=True).start()


@pytest.fixture
def echo():
    """``echo(**kw)`` starts an :class:`Echo` server; all are stopped after the test."""
    with contextlib.ExitStack() as stack:

        def make(**kw) -> Echo:
            server = Echo(**kw)
            stack.callback(server.server.server_close)
            stack.callback(server.server.shutdown)
            return server

        yield make


def grafana(url: str, **kw) -> GrafanaClient:
    return GrafanaClient(ServiceConfig(name="grafana", url=url, bearer_token="glsa_keepalive_test", timeout=kw.pop("timeout", 5),
                                       retries=kw.pop("retries", 0), **kw))


def test_grafana_client_uses_the_keepalive_transport_and_one_connection(echo):
    server = echo()
    client = grafana(server.url)
    assert isinstance(client.http.client._transport, KeepAliveTransport)
    body = {"dashboard": {"title": "Ünïcode ✓", "panels": [{"id": 1}] * 50}, "overwrite": False}
    for i in range(10):
        answer = client.request("POST", f"/api/dashboards/db?n={i}", body=body) if i % 2 else client.request("GET", f"/api/x/{i}")
        assert answer["path"].endswith(f"?n={i}" if i % 2 else f"/api/x/{i}")
        assert answer["host"] == server.url.removeprefix("http://")
        assert answer["auth"] == "Bearer glsa_keepalive_test"
        if i % 2:
            assert json.loads(answer["body"]) == body
    client.close()
    assert server.connections == 1


def test_a_connection_the_server_closed_is_replaced_not_reused(echo):
    server = echo(close_after=True)
    client = grafana(server.url, retries=0)
    for i in range(4):  # POSTs are never retried: a stale connection reused would fail the request
        assert client.request("POST", "/api/folders", body={"uid": f"f{i}", "title": f"F{i}"})["method"] == "POST"
        time.sleep(0.05)  # the server's FIN arrives while the connection is idle
    client.close()
    assert server.connections == 4
    assert [m for m, _ in server.seen] == ["POST"] * 4


def test_refused_and_timed_out_are_one_line_service_errors(echo):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ServiceError, match="cannot connect") as info:
        grafana(f"http://127.0.0.1:{port}").health()
    assert info.value.exit_code == 3
    slow = echo(delay=1.0)
    with pytest.raises(ServiceError, match=r"timed out after 0.3s"):
        grafana(slow.url, timeout=0.3).health()


def test_environment_proxy_still_goes_through_httpx(echo, monkeypatch):
    proxy, target = echo(), echo()
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    client = grafana(target.url)
    assert not isinstance(client.http.client._transport, KeepAliveTransport)
    client.request("GET", "/api/health")
    client.close()
    assert target.seen == []
    assert proxy.seen == [("GET", f"{target.url}/api/health")]  # the absolute form a proxy receives


def test_plain_http_service_keeps_httpx_transport_unless_asked(monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    config = ServiceConfig(name="svc", url="http://127.0.0.1:9", timeout=1)
    assert not isinstance(HTTPService(config).client._transport, KeepAliveTransport)
    assert isinstance(HTTPService(config, keepalive=True).client._transport, KeepAliveTransport)
