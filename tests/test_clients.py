"""Clients built from profile sections: retries, error mapping, and the real Prometheus/Alertmanager APIs."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from aetherops.clients.alertmanager import AlertmanagerClient
from aetherops.clients.grafana import GrafanaClient
from aetherops.clients.http import HTTPService
from aetherops.clients.prometheus import PrometheusClient
from aetherops.clients.retry import RetryPolicy
from aetherops.errors import ServiceError
from aetherops.profiles import ServiceConfig
from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN


class Flaky:
    """A loopback server answering a scripted list of statuses, recording every request."""

    def __init__(self, statuses, ok_body=None):
        self.statuses = list(statuses)
        self.ok_body = ok_body if ok_body is not None else {"ok": True}
        self.seen: list[tuple[str, str, dict]] = []
        flaky = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                flaky.seen.append((self.command, self.path, dict(self.headers)))
                status = flaky.statuses.pop(0) if flaky.statuses else 200
                status, headers = status if isinstance(status, tuple) else (status, {})
                body = json.dumps({"error": f"scripted {status}"} if status >= 400 else flaky.ok_body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
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

    def make(statuses, ok_body=None):
        server = Flaky(statuses, ok_body)
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.close()


def service(url, **kw) -> ServiceConfig:
    return ServiceConfig(name="svc", url=url, timeout=kw.pop("timeout", 2.0), retries=kw.pop("retries", 3), **kw)


class Sleeps(list):
    """A RetryPolicy ``sleep`` that records the waits instead of sleeping."""

    def __call__(self, seconds):
        self.append(seconds)


def fast(config, **kw):
    """The service's policy, recording its waits instead of sleeping."""
    sleeps = Sleeps()
    return RetryPolicy.for_service(config, sleep=sleeps, **kw), sleeps


def test_transient_errors_are_retried_then_succeed(flaky):
    server = flaky([503, 502, 429])
    config = service(server.url)
    policy, sleeps = fast(config)
    assert HTTPService(config, policy=policy).get_json("/x") == {"ok": True}
    assert len(server.seen) == 4 and len(sleeps) == 3


def test_retries_mean_retries_and_are_bounded(flaky):
    server = flaky([503] * 10)
    config = service(server.url, retries=3)
    policy, sleeps = fast(config)
    with pytest.raises(ServiceError) as info:
        HTTPService(config, policy=policy).get_json("/x")
    assert len(server.seen) == 4  # 1 attempt + 3 retries
    message = info.value.format_message()
    assert info.value.exit_code == 3 and "HTTP 503: scripted 503" in message and "after 4 attempts" in message
    assert f"{server.url}/x" in message
    none = flaky([503, 200])
    config = service(none.url, retries=0)
    with pytest.raises(ServiceError, match="HTTP 503"):
        HTTPService(config, policy=fast(config)[0]).get_json("/x")
    assert len(none.seen) == 1


def test_retry_after_is_honoured_on_429_and_capped(flaky):
    server = flaky([(429, {"Retry-After": "2"}), (503, {"Retry-After": "3600"}), 200])
    config = service(server.url)
    policy, sleeps = fast(config, max_retry_after=7.5)
    assert HTTPService(config, policy=policy).get_json("/x") == {"ok": True}
    assert sleeps == [2.0, 7.5] and len(server.seen) == 3


def test_retry_after_as_http_date():
    import email.utils
    import time

    policy = RetryPolicy(max_retry_after=60)
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= policy.retry_after(later) <= 30
    assert policy.retry_after(email.utils.formatdate(time.time() - 30, usegmt=True)) == 0.0
    assert policy.retry_after("soon") is None and policy.retry_after("") is None and policy.retry_after(None) is None


def test_backoff_is_exponential_with_full_jitter_and_bounded():
    top = RetryPolicy(backoff=0.5, max_backoff=3.0, random=lambda: 0.999999)
    assert [round(top.backoff_delay(n), 3) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert RetryPolicy(random=lambda: 0.0).backoff_delay(4) == 0.0
    policy = RetryPolicy(backoff=0.2, max_backoff=1.0)
    for retry in range(1, 8):
        waits = [policy.delay(retry) for _ in range(200)]
        ceiling = min(1.0, 0.2 * 2 ** (retry - 1))
        assert all(0 <= w <= ceiling for w in waits)
        assert max(waits) - min(waits) > ceiling / 4  # jittered, not a fixed wait


def test_policy_run_with_exceptions_and_results():
    sleeps = Sleeps()
    policy = RetryPolicy(retries=2, sleep=sleeps)
    calls = []

    def boom():
        calls.append(1)
        raise ConnectionResetError("reset")

    with pytest.raises(ConnectionResetError):
        policy.run(boom, is_transient=lambda o: isinstance(o, OSError))
    assert len(calls) == 3 and len(sleeps) == 2
    calls.clear()
    with pytest.raises(ValueError):
        policy.run(lambda: calls.append(1) or int("x"), is_transient=lambda o: isinstance(o, OSError))
    assert len(calls) == 1  # not transient: no retry
    answers = iter([503, 503, 200])
    assert policy.run(lambda: next(answers), is_transient=policy.is_transient_status) == 200
    calls.clear()
    assert policy.run(lambda: calls.append(1) or 503, is_transient=policy.is_transient_status, method="POST") == 503
    assert len(calls) == 1  # POST: once unless the caller says it is safe
    assert policy.run(lambda: calls.append(1) or (503 if len(calls) < 3 else 200), is_transient=policy.is_transient_status,
                      method="POST", safe=True) == 200


def test_mock_transport_sees_the_same_policy():
    import httpx

    seen = []

    def handler(request):
        seen.append(request)
        if len(seen) == 1:
            raise httpx.ConnectError("refused", request=request)
        if len(seen) == 2:
            raise httpx.ReadTimeout("slow", request=request)
        if len(seen) == 3:
            return httpx.Response(429, headers={"Retry-After": "1"}, json={"error": "slow down"})
        return httpx.Response(200, json={"ok": True})

    config = service("http://svc.invalid", headers={"X-Scope-OrgID": "t1"}, bearer_token="tok-mock-1")
    policy, sleeps = fast(config, random=lambda: 0.5)
    client = HTTPService(config, transport=httpx.MockTransport(handler), policy=policy)
    assert client.get_json("/api") == {"ok": True}
    assert len(seen) == 4 and sleeps == [0.1, 0.2, 1.0]
    assert seen[0].headers["User-Agent"].startswith("aetherops/") and seen[0].headers["X-Scope-OrgID"] == "t1"
    assert seen[0].headers["Authorization"] == "Bearer tok-mock-1"
    seen.clear()
    refused = HTTPService(config, transport=httpx.MockTransport(lambda r: (_ for _ in ()).throw(httpx.ConnectError("no", request=r))),
                          policy=fast(config)[0])
    with pytest.raises(ServiceError, match="cannot connect .*after 4 attempts"):
        refused.get_json("/api")


def test_tls_context_builder(tmp_path):
    import ssl

    from aetherops.clients.connect import ssl_context

    assert ssl_context(service("http://plain")) is None
    unverified = ssl_context(service("https://x", verify=False))
    assert unverified.verify_mode == ssl.CERT_NONE and not unverified.check_hostname
    verified = ssl_context(service("https://x"))
    assert verified.verify_mode == ssl.CERT_REQUIRED and verified.check_hostname
    assert verified.cert_store_stats()["x509_ca"] > 50  # certifi's bundle, as httpx and requests trust by default


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
    safe = flaky([503, 200])
    config = service(safe.url)
    assert HTTPService(config, policy=fast(config)[0]).request("POST", "/query", retry=True).status_code == 200
    assert len(safe.seen) == 2


def test_4xx_is_not_retried_even_with_retry_after(flaky):
    server = flaky([(400, {"Retry-After": "1"}), 200])
    config = service(server.url)
    policy, sleeps = fast(config)
    with pytest.raises(ServiceError, match="HTTP 400"):
        HTTPService(config, policy=policy).get_json("/x")
    assert len(server.seen) == 1 and sleeps == []


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
    import time

    client = PrometheusClient(service(prometheus_server.url))
    try:
        assert client.ready()
        assert client.build_info()["version"].startswith("2.")
        assert "scrape_configs" in client.running_config()
        assert client.flags()["web.enable-admin-api"] == "true"
        result = client.query("vector(42)")
        assert result and float(result[0]["value"][1]) == 42.0
        assert client.query("7") [0]["metric"] == {} and float(client.query("7")[0]["value"][1]) == 7.0  # a scalar answer
        assert float(client.query("time()", at=1_000_000)[0]["value"][1]) == 1_000_000
        with pytest.raises(ServiceError, match="HTTP 400: .*parse error") as info:
            client.query("sum(")  # the server's own message
        assert info.value.status == 400 and "b'" not in info.value.format_message()
        deadline = time.monotonic() + 60
        while not client.query('up{job="prometheus"}') and time.monotonic() < deadline:  # first self-scrape
            time.sleep(0.5)
        now = time.time()
        up = client.query('up{job="prometheus"}')
        assert up[0]["metric"]["job"] == "prometheus" and up[0]["value"][1] == "1"
        seen_at = float(up[0]["value"][0])
        series = client.query_range('up{job="prometheus"}', start=seen_at - 9.75, end=seen_at + 0.25, step=2)
        times = [t for t, _ in series[0]["values"]]
        # the exact (sub-second) end is evaluated: the library's own rounding to whole seconds is bypassed
        assert times[-1] == pytest.approx(seen_at + 0.25) and all(b - a == pytest.approx(2) for a, b in zip(times, times[1:]))
        assert series[0]["metric"]["job"] == "prometheus"
        found = client.series('up{job="prometheus"}', start=now - 600, end=now)
        assert found and all(s["__name__"] == "up" and s["job"] == "prometheus" for s in found)
        assert "job" in client.labels() and "job" in client.labels("up")
        assert "prometheus" in client.label_values("job") and client.label_values("job", 'up{job="none"}') == []
        targets = client.targets()
        assert [t["scrapePool"] for t in targets["activeTargets"]] == ["prometheus"] and targets["droppedTargets"] == []
        assert targets["activeTargets"][0]["health"] in ("up", "unknown")
        assert client.targets("dropped")["activeTargets"] == []
        assert client.rules() == []  # no rule files (test_prometheus_rules has some)
        name = client.snapshot()
        assert (prometheus_server.workdir / "data" / "snapshots" / name).is_dir()
        client.reload()
    finally:
        client.close()


def test_prometheus_rules_on_real_server(tmp_path):
    from aetherops.testing.servers import MissingBinary, start_prometheus

    rules = ("groups:\n  - name: g\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n"
             "      - alert: Down\n        expr: up == 0\n        for: 5m\n        labels: {severity: page}\n")
    try:
        server = start_prometheus(tmp_path, rule_files={"r.yml": rules})
    except MissingBinary as exc:  # pragma: no cover - installed in CI (and a failure there, like every server fixture)
        pytest.skip(str(exc))
    client = PrometheusClient(service(server.url))
    try:
        groups = client.rules()
        assert [g["name"] for g in groups] == ["g"] and groups[0]["file"].endswith("r.yml")
        assert [(r["type"], r["name"]) for r in groups[0]["rules"]] == [("recording", "job:up:sum"), ("alerting", "Down")]
        alerts = client.rules(type="alert")[0]["rules"]
        assert [r["name"] for r in alerts] == ["Down"] and alerts[0]["duration"] == 300 and alerts[0]["labels"]["severity"] == "page"
        assert [r["name"] for r in client.rules(type="record")[0]["rules"]] == ["job:up:sum"]
    finally:
        client.close()
        server.stop()


def test_prometheus_queries_use_the_shared_retry_policy(flaky):
    answer = {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {"job": "x"}, "value": [1, "1"]}]}}
    server = flaky([(429, {"Retry-After": "2"}), 503, 400], ok_body=answer)
    config = service(server.url, headers={"X-Scope-OrgID": "team-a"}, bearer_token="tok-prom-1")
    policy, sleeps = fast(config, random=lambda: 0.5)
    client = PrometheusClient(config, policy=policy)
    try:
        with pytest.raises(ServiceError, match="HTTP 400: scripted 400") as info:
            client.query("up")  # 429 (Retry-After 2 s), 503 (backoff), then a 400 that is final
        assert len(server.seen) == 3 and sleeps == [2.0, 0.2] and info.value.status == 400
        assert client.query("up") == answer["data"]["result"]
        headers = {k.lower(): v for k, v in server.seen[-1][2].items()}  # header names are case-insensitive
        assert headers["x-scope-orgid"] == "team-a" and headers["authorization"] == "Bearer tok-prom-1"
        assert headers["user-agent"].startswith("aetherops/")
        server.statuses[:] = [503] * 10
        with pytest.raises(ServiceError, match="HTTP 503: scripted 503 .after 4 attempts"):
            client.query("up")
    finally:
        client.close()


def test_prometheus_query_against_dead_server_is_service_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = PrometheusClient(service(f"http://127.0.0.1:{port}", retries=1, timeout=1))
    with pytest.raises(ServiceError, match="cannot connect .*Connection refused.* \\(after 2 attempts\\)"):
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


def test_grafana_client_retries_and_maps_errors(grafana_double):
    grafana = GrafanaClient(ServiceConfig(name="grafana", url=grafana_double.url, bearer_token=GRAFANA_TEST_TOKEN,
                                          retries=3, timeout=2))
    grafana_double.inject_fault("/api/search", status=503, count=2)
    assert grafana.search("dash-db") == []
    grafana_double.inject_fault("/api/search", reset=True, count=1)
    assert grafana.search("dash-db") == []
    with pytest.raises(ServiceError, match="HTTP 404: Dashboard not found") as info:
        grafana.dashboard("nope")
    assert info.value.status == 404
    bad = GrafanaClient(ServiceConfig(name="grafana", url=grafana_double.url, bearer_token="glsa_wrong", retries=3))
    with pytest.raises(ServiceError, match="HTTP 401"):
        bad.search("dash-db")
    grafana.close()
    bad.close()


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
    grafana = GrafanaClient(ServiceConfig(name="grafana", url=url, retries=3, timeout=2))
    with pytest.raises(ServiceError, match="TLS error"):
        grafana.health()
    assert hits == []  # no request got through the handshake, and nothing was retried into it


def test_ca_file_trusts_the_server_and_non_json_is_named(tls_server):
    url, cert, hits = tls_server
    assert HTTPService(service(url, verify=str(cert))).request("GET", "/trusted").status_code == 200
    hits.clear()
    grafana = GrafanaClient(ServiceConfig(name="grafana", url=url, retries=3, timeout=2, verify=str(cert)))
    with pytest.raises(ServiceError, match="answered with something that is not JSON") as info:
        grafana.health()
    assert info.value.status == 200 and hits == ["/api/health"]  # reachable, and not retried


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.servers
def test_no_resource_warning_on_any_command(stack_profile, profile_factory, tmp_path):
    """Every client closes what it opens: ``python -W error -X dev`` (every warning an error, ResourceWarning on)
    stays silent against real servers."""
    import subprocess
    import sys

    rules = tmp_path / "rules.yml"
    rules.write_text("groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 5m\n"
                     "        annotations: {runbook_url: 'http://127.0.0.1:%d/gone'}\n" % _closed_port(), encoding="utf-8")
    profile_factory("dead", prometheus={"url": f"http://127.0.0.1:{_closed_port()}", "retries": 0, "timeout": 1})
    commands = [
        ["--help"], ["plugins"], ["profiles", "show"], ["health"], ["health", "-o", "json"],
        ["maintenance", "list"], ["lint", "--online", str(rules)], ["backup", "--dir", str(tmp_path / "b"), "--no-archive"],
        ["backup", "list", "--dir", str(tmp_path / "b")], ["-p", "dead", "health"], ["-p", "dead", "lint", "--online", str(rules)],
    ]
    commands.append(lambda: ["restore", str(next(p for p in (tmp_path / "b" / "stack").iterdir() if p.is_dir())), "--dry-run"])
    for args in commands:
        args = args() if callable(args) else args
        run = subprocess.run([sys.executable, "-W", "error", "-X", "dev", "-m", "aetherops", *args],
                             capture_output=True, text=True, encoding="utf-8", timeout=240, cwd=tmp_path)
        assert "Warning" not in run.stderr and "Exception ignored" not in run.stderr, (args, run.stderr)
        assert "Traceback" not in run.stderr, (args, run.stderr)
        assert run.returncode in (0, 1, 3), (args, run.returncode, run.stderr)


@pytest.mark.parametrize("library", ["requests", "niquests"])
def test_session_adapter_runs_the_policy_for_requests_and_niquests(flaky, library):
    """grafana-client (niquests) and prometheus-api-client (requests) sessions retry by the same policy."""
    import importlib

    from aetherops.clients.retry import session_adapter

    lib = importlib.import_module(library)
    adapters = importlib.import_module(f"{library}.adapters")
    server = flaky([(503, {"Retry-After": "1"}), 502, 200])
    sleeps = Sleeps()
    policy = RetryPolicy(retries=3, sleep=sleeps, random=lambda: 0.5)
    with lib.Session() as session:
        session.mount(server.url, session_adapter(policy, adapters.HTTPAdapter, transient_errors=(lib.ConnectionError, lib.Timeout)))
        assert session.get(f"{server.url}/x", timeout=5).json() == {"ok": True}
        assert len(server.seen) == 3 and sleeps == [1.0, 0.2]
        server.statuses[:] = [503, 200]
        assert session.post(f"{server.url}/x", timeout=5).status_code == 503  # POST: once
        assert len(server.seen) == 4


# ---- hostile input: the header and error-text parsers never raise and stay in bounds
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.floats(allow_nan=True).map(str), st.integers().map(str), st.none()))
def test_retry_after_is_bounded_for_any_header(value):
    wait = RetryPolicy(max_retry_after=12.5).retry_after(value)
    assert wait is None or 0.0 <= wait <= 12.5


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([200, 400, 404, 429, 500, 502, 503, 504, "reset"]), min_size=1, max_size=8),
       st.integers(min_value=0, max_value=4), st.sampled_from(["GET", "POST", "PUT"]))
def test_policy_run_stops_at_the_first_final_outcome(outcomes, retries, method):
    policy = RetryPolicy(retries=retries, sleep=Sleeps())
    calls = []

    def call():
        outcome = outcomes[min(len(calls), len(outcomes) - 1)]
        calls.append(outcome)
        if outcome == "reset":
            raise ConnectionResetError()
        return outcome

    def transient(o):
        return isinstance(o, ConnectionResetError) or policy.is_transient_status(o)

    try:
        result = policy.run(call, is_transient=transient, method=method)
    except ConnectionResetError:
        result = "reset"
    assert 1 <= len(calls) <= policy.attempts(method) and result == calls[-1]
    assert len(calls) == policy.attempts(method) or not transient(ConnectionResetError() if result == "reset" else result)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_prometheus_error_text_is_one_line(text):
    from aetherops.clients.prometheus import _api_error

    for raw in (text, f"HTTP Status Code 400 ({text.encode()!r})", f"HTTP Status Code 503 ({text!r})"):
        status, message = _api_error(raw)
        assert status in (None, 400, 503) and "\n" not in message
