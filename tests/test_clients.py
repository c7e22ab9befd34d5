"""Clients built from profile sections: retries, error mapping, and the real Prometheus/Alertmanager APIs."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from aetherops.clients.alertmanager import AlertmanagerClient
from aetherops.clients.grafana import GrafanaService
from aetherops.clients.http import HTTPService
from aetherops.clients.prometheus import PrometheusClient
from aetherops.errors import ServiceError
from aetherops.profiles import ServiceConfig
from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN


class Flaky:
    """A loopback server answering a scripted list of statuses, recording every request."""

    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.seen: list[tuple[str, str, dict]] = []
        flaky = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                flaky.seen.append((self.command, self.path, dict(self.headers)))
                status = flaky.statuses.pop(0) if flaky.statuses else 200
                body = json.dumps({"error": f"scripted {status}"} if status >= 400 else {"ok": True}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky():
    servers = []

    def make(statuses):
        server = Flaky(statuses)
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.close()


def service(url, **kw) -> ServiceConfig:
    return ServiceConfig(name="svc", url=url, timeout=kw.pop("timeout", 2.0), retries=kw.pop("retries", 3), **kw)


def test_transient_errors_are_retried_then_succeed(flaky, monkeypatch):
    monkeypatch.setattr("aetherops.clients.http.BACKOFF_SECONDS", 0.01)
    server = flaky([503, 502])
    assert HTTPService(service(server.url)).get_json("/x") == {"ok": True}
    assert len(server.seen) == 3


def test_retries_are_bounded(flaky, monkeypatch):
    monkeypatch.setattr("aetherops.clients.http.BACKOFF_SECONDS", 0.01)
    server = flaky([503, 503, 503, 503])
    with pytest.raises(ServiceError) as info:
        HTTPService(service(server.url, retries=3)).get_json("/x")
    assert len(server.seen) == 3
    assert info.value.exit_code == 3 and "HTTP 503: scripted 503" in info.value.format_message()
    assert f"{server.url}/x" in info.value.format_message()


def test_4xx_is_not_retried_and_carries_the_server_message(flaky):
    server = flaky([404])
    with pytest.raises(ServiceError, match="HTTP 404: scripted 404"):
        HTTPService(service(server.url)).get_json("/missing")
    assert len(server.seen) == 1


def test_post_is_not_retried_by_default(flaky):
    server = flaky([503, 200])
    with pytest.raises(ServiceError):
        HTTPService(service(server.url)).request("POST", "/create")
    assert len(server.seen) == 1


def test_headers_and_auth_are_sent_and_secret_never_in_errors(flaky):
    server = flaky([401])
    config = service(server.url, headers={"X-Scope-OrgID": "team-a"}, bearer_token="tok-very-secret-123")
    from aetherops.redact import register_secret

    register_secret("tok-very-secret-123")
    with pytest.raises(ServiceError) as info:
        HTTPService(config).get_json("/x")
    headers = server.seen[0][2]
    assert headers["X-Scope-OrgID"] == "team-a" and headers["Authorization"] == "Bearer tok-very-secret-123"
    assert "tok-very-secret-123" not in info.value.format_message()


def test_connection_refused_is_one_line_with_url():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ServiceError) as info:
        HTTPService(service(f"http://127.0.0.1:{port}", retries=1)).get_json("/api/v2/status")
    message = info.value.format_message()
    assert f"127.0.0.1:{port}/api/v2/status" in message and "cannot connect" in message and "\n" not in message


def test_prometheus_client_on_real_server(prometheus_server):
    client = PrometheusClient(service(prometheus_server.url))
    assert client.ready()
    assert client.build_info()["version"].startswith("2.")
    assert "scrape_configs" in client.running_config()
    result = client.query("vector(42)")
    assert result and float(result[0]["value"][1]) == 42.0
    with pytest.raises(ServiceError, match="parse error"):
        client.query("sum(")  # the server's own message
    name = client.snapshot()
    assert (prometheus_server.workdir / "data" / "snapshots" / name).is_dir()
    client.reload()


def test_prometheus_query_against_dead_server_is_service_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = PrometheusClient(service(f"http://127.0.0.1:{port}", retries=1, timeout=1))
    with pytest.raises(ServiceError, match="cannot connect"):
        client.query("up")


def test_alertmanager_client_on_real_server(alertmanager_server):
    import datetime as dt

    client = AlertmanagerClient(service(alertmanager_server.url))
    assert client.status()["versionInfo"]["version"]
    now = dt.datetime.now(dt.timezone.utc)
    silence_id = client.create_silence({
        "matchers": [{"name": "alertname", "value": "X", "isRegex": False, "isEqual": True}],
        "startsAt": now.isoformat(), "endsAt": (now + dt.timedelta(minutes=5)).isoformat(),
        "createdBy": "test", "comment": "client test"})
    assert client.silence(silence_id)["status"]["state"] == "active"
    client.expire_silence(silence_id)
    assert client.silence(silence_id)["status"]["state"] == "expired"
    with pytest.raises(ServiceError, match="HTTP 404"):
        client.silence("00000000-0000-0000-0000-000000000000")


def test_grafana_service_retries_and_maps_errors(grafana_double):
    grafana = GrafanaService(ServiceConfig(name="grafana", url=grafana_double.url, bearer_token=GRAFANA_TEST_TOKEN,
                                           retries=3, timeout=2))
    grafana_double.inject_fault("/api/search", status=503, count=2)
    assert grafana.call("search", grafana.api.search.search_dashboards) == []
    grafana_double.inject_fault("/api/search", reset=True, count=1)
    assert grafana.call("search", grafana.api.search.search_dashboards) == []
    with pytest.raises(ServiceError, match="HTTP 404: Dashboard not found"):
        grafana.call("get dashboard", grafana.api.dashboard.get_dashboard, "nope")
    bad = GrafanaService(ServiceConfig(name="grafana", url=grafana_double.url, bearer_token="glsa_wrong", retries=3))
    with pytest.raises(ServiceError, match="HTTP 401"):
        bad.call("search", bad.api.search.search_dashboards)


@pytest.fixture
def tls_server(tmp_path):
    """A loopback HTTPS server with a self-signed certificate answering 200 with a non-JSON body."""
    import os
    import shutil
    import ssl
    import subprocess

    if not shutil.which("openssl"):
        if os.environ.get("CI", "").strip().lower() == "true":  # like require_binary: CI must not skip silently
            pytest.fail("openssl is needed to make a test certificate (CI=true: a missing tool is a failure)", pytrace=False)
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = b"<html>not grafana</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert, hits
    server.shutdown()
    server.server_close()


def test_certificate_errors_are_not_retried(tls_server):
    url, cert, hits = tls_server
    with pytest.raises(ServiceError, match="TLS error") as info:
        HTTPService(service(url, retries=3)).get_json("/api/v1/status/buildinfo")
    assert "certificate verify failed" in info.value.format_message().lower()
    grafana = GrafanaService(ServiceConfig(name="grafana", url=url, retries=3, timeout=2))
    with pytest.raises(ServiceError, match="TLS error"):
        grafana.call("GET /api/health", grafana.api.client.GET, "/health")
    assert hits == []  # no request got through the handshake, and nothing was retried into it


def test_ca_file_trusts_the_server_and_non_json_is_named(tls_server):
    url, cert, hits = tls_server
    grafana = GrafanaService(ServiceConfig(name="grafana", url=url, retries=3, timeout=2, verify=str(cert)))
    with pytest.raises(ServiceError, match="answered with something that is not JSON") as info:
        grafana.health()
    assert info.value.status == 200 and hits == ["/api/health"]  # reachable, and not retried
