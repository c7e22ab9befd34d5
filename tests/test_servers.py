"""aetherops.testing.servers against the real binaries: no mocks.

A missing binary skips these tests (``require_binary``), or fails them when ``CI=true``.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from aetherops.testing.servers import (
    ENV_VARS,
    PACKAGES,
    DemoExporter,
    MissingBinary,
    RunningServer,
    ServerReloadError,
    ServerStartError,
    find_binary,
    free_port,
    require_binary,
    start_alertmanager,
    start_blackbox,
    start_demo_exporter,
    start_prometheus,
)

RULES = """\
groups:
  - name: servers-test.rules
    interval: 1s
    rules:
      - record: job:demo_http_requests:rate10s
        expr: sum by (job) (rate(demo_http_requests_total[10s]))
      - alert: DemoAlwaysFiring
        expr: vector(1)
        labels:
          severity: none
"""

SAMPLE_LINE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})? [-+]?[0-9.eE+-]+$|^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \+Inf$')


def client() -> httpx.Client:
    return httpx.Client(timeout=5, trust_env=False)


def eventually(check, timeout: float = 10.0, interval: float = 0.1):
    """Call ``check`` until it returns something truthy; fail with its last value after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r} after {timeout}s")
        time.sleep(interval)


def query(server: RunningServer, expr: str) -> list[dict]:
    with client() as c:
        body = c.get(f"{server.url}/api/v1/query", params={"query": expr}).json()
    assert body["status"] == "success", body
    return body["data"]["result"]


def metric_value(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in:\n{text}")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def demo():
    exporter = start_demo_exporter()
    yield exporter
    exporter.stop()


@pytest.fixture(scope="module")
def prom(tmp_path_factory, demo):
    require_binary("prometheus")
    server = start_prometheus(tmp_path_factory.mktemp("prometheus"), rule_files={"servers-test-rules.yml": RULES},
                              scrape_targets={"demo": [demo.target]})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def blackbox(tmp_path_factory):
    require_binary("prometheus-blackbox-exporter")
    server = start_blackbox(tmp_path_factory.mktemp("blackbox"))
    yield server
    server.stop()


@pytest.fixture
def alertmanager(tmp_path):
    require_binary("prometheus-alertmanager")
    server = start_alertmanager(tmp_path / "am")
    yield server
    server.stop()


# --------------------------------------------------------------------------- Prometheus


@pytest.mark.servers
def test_prometheus_is_ready_with_its_files_in_workdir(prom):
    with client() as c:
        assert c.get(f"{prom.url}/-/ready").status_code == 200
    assert prom.is_running()
    assert prom.url == f"http://127.0.0.1:{prom.port}" and prom.target == f"127.0.0.1:{prom.port}"
    assert prom.config_path == prom.workdir / "prometheus.yml" and prom.config_path.is_file()
    assert (prom.workdir / "data").is_dir()
    assert prom.log_path == prom.workdir / "prometheus.log" and prom.log_path.is_file()
    assert "--web.enable-admin-api" in prom.args and "--web.enable-lifecycle" in prom.args


@pytest.mark.servers
def test_prometheus_scrapes_itself(prom):
    result = eventually(lambda: query(prom, 'up{job="prometheus"} == 1'))
    assert result[0]["metric"]["instance"] == prom.target
    assert result[0]["value"][1] == "1"


@pytest.mark.servers
def test_prometheus_scrapes_the_demo_exporter(prom, demo):
    eventually(lambda: query(prom, 'up{job="demo"} == 1'))
    series = eventually(lambda: query(prom, 'demo_http_requests_total{job="demo"}'))
    assert {s["metric"]["handler"] for s in series} >= {"/api/orders", "/api/users"}
    assert query(prom, "demo_queue_depth")[0]["metric"]["instance"] == demo.target
    assert eventually(lambda: query(prom, 'demo_request_duration_seconds_count{job="demo"} > 0'))


@pytest.mark.servers
def test_prometheus_loads_the_rule_files(prom):
    assert "servers-test-rules.yml" in prom.config_path.read_text(encoding="utf-8")
    with client() as c:
        groups = c.get(f"{prom.url}/api/v1/rules").json()["data"]["groups"]
    assert [g["name"] for g in groups] == ["servers-test.rules"]
    assert eventually(lambda: query(prom, 'ALERTS{alertname="DemoAlwaysFiring"}'))


@pytest.mark.servers
def test_prometheus_admin_snapshot(prom):
    with client() as c:
        body = c.post(f"{prom.url}/api/v1/admin/tsdb/snapshot").json()
    assert body["status"] == "success", body
    assert (prom.workdir / "data" / "snapshots" / body["data"]["name"]).is_dir()


@pytest.mark.servers
def test_prometheus_reload_and_bad_reload(tmp_path):
    require_binary("prometheus")
    with start_prometheus(tmp_path) as server:
        server.reload()
        server.config_path.write_text("global:\n  scrape_interval: soon\n", encoding="utf-8")
        with pytest.raises(ServerReloadError, match="soon"):
            server.reload()
        assert server.is_running()
    with start_prometheus(tmp_path / "no-lifecycle", lifecycle=False) as server:
        with pytest.raises(ServerReloadError, match="lifecycle"):
            server.reload()


@pytest.mark.servers
def test_prometheus_with_a_given_config_and_port(tmp_path, demo):
    require_binary("prometheus")
    port = free_port()
    config = {"scrape_configs": [{"job_name": "only-demo", "static_configs": [{"targets": [demo.target]}]}]}
    with start_prometheus(tmp_path, port=port, config=config, admin_api=False) as server:
        assert server.port == port
        assert "--web.enable-admin-api" not in server.args
        with client() as c:
            loaded = c.get(f"{server.url}/api/v1/status/config").json()["data"]["yaml"]
    # The given config, with the fast default intervals filled in (no self-scrape job added).
    assert "job_name: only-demo" in loaded and demo.target in loaded and "job_name: prometheus" not in loaded
    assert "scrape_interval: 1s" in loaded and "evaluation_interval: 1s" in loaded


# --------------------------------------------------------------------------- Alertmanager


@pytest.mark.servers
def test_alertmanager_status_and_silences(alertmanager):
    now = datetime.now(timezone.utc)
    silence = {
        "matchers": [{"name": "alertname", "value": "DemoAlwaysFiring", "isRegex": False, "isEqual": True}],
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
        "createdBy": "tests/test_servers.py",
        "comment": "silenced by a test",
    }
    with client() as c:
        assert c.get(f"{alertmanager.url}/-/ready").status_code == 200
        status = c.get(f"{alertmanager.url}/api/v2/status").json()
        assert status["cluster"]["status"] == "disabled"
        assert "null" in status["config"]["original"]
        response = c.post(f"{alertmanager.url}/api/v2/silences", json=silence)
        assert response.status_code == 200, response.text
        silence_id = response.json()["silenceID"]
        stored = c.get(f"{alertmanager.url}/api/v2/silence/{silence_id}").json()
    assert stored["status"]["state"] == "active" and stored["createdBy"] == "tests/test_servers.py"
    alertmanager.reload()


@pytest.mark.servers
def test_alertmanager_with_an_invalid_config_raises_with_the_log_tail(tmp_path):
    require_binary("prometheus-alertmanager")
    config = {"route": {"receiver": "nowhere"}, "receivers": [{"name": "null"}]}
    with pytest.raises(ServerStartError) as info:
        start_alertmanager(tmp_path, config=config)
    assert "nowhere" in info.value.log_tail
    assert "nowhere" in str(info.value) and str(tmp_path / "alertmanager.log") in str(info.value)


# --------------------------------------------------------------------------- blackbox_exporter


@pytest.mark.servers
def test_blackbox_probes(blackbox, prom):
    closed = free_port()
    with client() as c:
        assert c.get(f"{blackbox.url}/-/ready").status_code == 200
        tcp = c.get(f"{blackbox.url}/probe", params={"target": prom.target, "module": "tcp_connect"}).text
        http = c.get(f"{blackbox.url}/probe", params={"target": f"{prom.url}/-/ready", "module": "http_2xx"}).text
        down = c.get(f"{blackbox.url}/probe", params={"target": f"127.0.0.1:{closed}", "module": "tcp_connect"}).text
    assert metric_value(tcp, "probe_success") == 1, tcp
    assert metric_value(http, "probe_success") == 1 and metric_value(http, "probe_http_status_code") == 200, http
    assert metric_value(down, "probe_success") == 0, down
    blackbox.reload()


# --------------------------------------------------------------------------- lifecycle and errors


@pytest.mark.servers
def test_stop_ends_the_process_and_is_idempotent(tmp_path):
    require_binary("prometheus-blackbox-exporter")
    with start_blackbox(tmp_path) as server:
        assert server.is_running()
        port = server.port
    assert not server.is_running()
    assert server.process.returncode is not None
    assert server.stop() == server.process.returncode
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


@pytest.mark.servers
def test_invalid_prometheus_config_raises_with_the_log_tail(tmp_path):
    require_binary("prometheus")
    with pytest.raises(ServerStartError) as info:
        start_prometheus(tmp_path, config={"global": {"scrape_interval": "not-a-duration"}})
    assert "not a valid duration" in info.value.log_tail
    assert "prometheus.log" in str(info.value) and "not-a-duration" in str(info.value)


@pytest.mark.servers
def test_invalid_rule_file_raises_with_the_log_tail(tmp_path):
    require_binary("prometheus")
    with pytest.raises(ServerStartError, match="broken.yml"):
        start_prometheus(tmp_path, rule_files={"broken.yml": "groups:\n  - name: x\n    rules:\n      - record: r\n        expr: sum(\n"})


@pytest.mark.servers
def test_busy_explicit_port_raises(tmp_path):
    require_binary("prometheus-blackbox-exporter")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ServerStartError, match="address already in use"):
            start_blackbox(tmp_path, port=port)


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_find_binary_with_a_bogus_override_names_the_package(name, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VARS[name], str(tmp_path / "no-such-binary"))
    with pytest.raises(MissingBinary) as info:
        find_binary(name)
    package = PACKAGES[name]
    assert info.value.package == package
    message = str(info.value)
    assert f"install the Debian package '{package}' (apt-get install {package})" in message
    assert ENV_VARS[name] in message and "no-such-binary" in message


def test_find_binary_override_and_aliases(monkeypatch):
    monkeypatch.setenv("AETHEROPS_BLACKBOX_BIN", sys.executable)
    assert find_binary("prometheus-blackbox-exporter").samefile(sys.executable)
    assert find_binary("blackbox_exporter").samefile(sys.executable)
    with pytest.raises(ValueError, match="unknown server binary"):
        find_binary("grafana-server")


def test_require_binary_skips_or_fails_on_ci(tmp_path, monkeypatch):
    monkeypatch.setenv("AETHEROPS_AMTOOL_BIN", str(tmp_path / "amtool"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="prometheus-alertmanager"):
        require_binary("amtool")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="prometheus-alertmanager"):
        require_binary("amtool")


def test_free_port_is_bindable_and_loopback_only():
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
    with pytest.raises(ValueError, match="loopback"):
        free_port("0.0.0.0")
    with pytest.raises(ValueError, match="loopback"):
        start_demo_exporter(host="192.0.2.1")


# --------------------------------------------------------------------------- demo exporter


def _requests_total(text: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("demo_http_requests_total{"))


def test_demo_exporter_serves_moving_metrics(demo):
    assert isinstance(demo, DemoExporter) and demo.metrics_url == f"http://127.0.0.1:{demo.port}/metrics"
    with client() as c:
        first = c.get(demo.metrics_url)
        second = eventually(lambda: (lambda text: text if _requests_total(text) > _requests_total(first.text) else None)(
            c.get(demo.metrics_url).text))  # the counters move with the clock: wait until they did
        assert c.get(f"{demo.url}/nope").status_code == 404
    assert first.headers["content-type"].startswith("text/plain; version=0.0.4")

    def total(text: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("demo_http_requests_total{"))

    assert total(second) > total(first.text) > 0
    for line in second.splitlines():
        assert line.startswith("# ") or SAMPLE_LINE.match(line), line
    assert '# TYPE demo_http_requests_total counter' in second
    assert '# TYPE demo_queue_depth gauge' in second
    assert '# TYPE demo_request_duration_seconds histogram' in second
    assert re.search(r'demo_http_requests_total\{code="200",method="GET",handler="/api/orders"\} \d+', second)
    buckets = [float(v) for v in re.findall(r'demo_request_duration_seconds_bucket\{le="[^"]+"\} (\S+)', second)]
    assert buckets == sorted(buckets) and buckets[-1] == metric_value(second, "demo_request_duration_seconds_count")


def test_demo_exporter_stop():
    exporter = start_demo_exporter()
    with client() as c:
        assert c.get(exporter.metrics_url).status_code == 200
    exporter.stop()
    exporter.stop()
    assert not exporter.is_running()
    with pytest.raises(httpx.TransportError), client() as c:
        c.get(exporter.metrics_url)


def test_demo_exporter_as_a_process(tmp_path):
    port = free_port()
    port_file = tmp_path / "port"
    process = subprocess.Popen(
        [sys.executable, "-m", "aetherops.testing.servers", "demo-exporter", "--port", str(port), "--port-file", str(port_file)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        line = process.stdout.readline()
        assert f"127.0.0.1:{port}/metrics" in line, line + process.stdout.read()
        assert port_file.read_text().strip() == str(port)
        with client() as c:
            assert "demo_queue_depth" in c.get(f"http://127.0.0.1:{port}/metrics").text
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()


# --------------------------------------------------------------------------- VictoriaMetrics and backfilled Prometheus


@pytest.mark.servers
def test_victoriametrics_serves_imported_history_through_the_prometheus_api(victoriametrics_server, victoriametrics_import):
    from aetherops.testing.servers import import_prometheus_text

    assert victoriametrics_server.is_running() and victoriametrics_server.config_path is None
    now_ms = int(time.time()) * 1000
    start_ms = now_ms - 3600_000
    # one hour of a counter at 15 s steps, backdated: it is searchable at once (latencyOffset=0s + force_flush)
    victoriametrics_import("".join(f'servers_test_requests_total{{code="200"}} {i * 15} {start_ms + i * 15_000}\n' for i in range(241)))
    with client() as c:
        body = c.get(f"{victoriametrics_server.url}/api/v1/query_range",
                     params={"query": 'servers_test_requests_total{code="200"}', "start": start_ms / 1000,
                             "end": now_ms / 1000, "step": "60"}).json()
    assert body["status"] == "success"
    [series] = body["data"]["result"]
    values = [float(v) for _, v in series["values"]]
    assert len(values) >= 60 and values == sorted(values) and 3540 <= values[-1] <= 3600  # VM aligns steps its own way
    with client() as c:
        body = c.get(f"{victoriametrics_server.url}/api/v1/query",
                     params={"query": 'servers_test_requests_total{code="200"}', "time": now_ms / 1000 + 5}).json()
    assert [float(r["value"][1]) for r in body["data"]["result"]] == [3600.0]
    with pytest.raises(RuntimeError, match="import into"):
        import_prometheus_text(victoriametrics_server.url + "/nowhere", "x 1\n")


@pytest.mark.servers
def test_prometheus_starts_on_backfilled_openmetrics_history(tmp_path):
    from aetherops.testing.servers import backfill_openmetrics

    require_binary("promtool")
    now = int(time.time())
    start = now - 20 * 86400  # older than the default 15 d retention: kept only with a longer one
    lines = ["# TYPE servers_backfill_total counter"]
    lines += [f'servers_backfill_total{{job="bf"}} {i} {start + i * 3600}' for i in range(0, 20 * 24)]
    backfill_openmetrics(tmp_path / "data", "\n".join(lines) + "\n")
    assert any((tmp_path / "data").iterdir())
    with start_prometheus(tmp_path, extra_args=["--storage.tsdb.retention.time=100y"]) as server:
        with client() as c:
            body = c.get(f"{server.url}/api/v1/query", params={"query": 'servers_backfill_total{job="bf"}',
                                                                "time": start + 100 * 3600}).json()
    assert [float(r["value"][1]) for r in body["data"]["result"]] == [100.0]
    with pytest.raises(RuntimeError, match="create-blocks-from"):
        backfill_openmetrics(tmp_path / "bad", "this is not openmetrics {{{\n")
