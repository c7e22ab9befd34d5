"""aetherops lint --online against a real Prometheus (it scrapes itself, with a rule file loaded) and a local HTTP server."""

from __future__ import annotations

import http.server
import threading
import time
from pathlib import Path

import pytest

from aetherops_plugins.lint.checks import builtin_checks
from aetherops_plugins.lint.engine import Options, run
from aetherops_plugins.lint.online import OnlineContext

pytestmark = pytest.mark.servers

CHECKS = builtin_checks()
ONLINE = [c for c in CHECKS if c.online]
DEPLOYED = """\
groups:
  - name: deployed
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: ServerOnlyAlert
        expr: up == 0
        for: 5m
"""


@pytest.fixture(scope="module")
def prom(tmp_path_factory):
    from aetherops.testing.servers import require_binary, start_prometheus

    require_binary("prometheus")  # a skip, or a failure under CI=true
    server = start_prometheus(tmp_path_factory.mktemp("lint-prom"), rule_files={"deployed.yml": DEPLOYED})
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the first self-scrape comes a few seconds after start
        body = httpx.get(f"{server.url}/api/v1/query", params={"query": 'up{job="prometheus"}'}).json()
        rules = httpx.get(f"{server.url}/api/v1/rules").json()["data"]["groups"]
        if body["data"]["result"] and rules:
            break
        time.sleep(0.5)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def runbooks():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):  # noqa: N802
            self.send_response(200 if self.path == "/ok" else 404)
            self.end_headers()

        def do_GET(self):  # noqa: N802
            self.do_HEAD()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def online_run(prom, path, settings=None, only=None, grafana=None):
    from aetherops.clients.prometheus import PrometheusClient
    from aetherops.profiles import ServiceConfig

    client = PrometheusClient(ServiceConfig(name="prometheus", url=prom.url, timeout=5, retries=1))
    try:
        opts = Options(paths=[str(path)], settings=settings or {}, online=OnlineContext(client, settings or {}, grafana=grafana))
        if only:
            opts.disable = {c.id for c in CHECKS if c.id not in only}
        return run(opts, CHECKS)
    finally:
        client.close()


@pytest.fixture
def grafana(grafana_double):
    from aetherops.clients.grafana import GrafanaClient
    from aetherops.profiles import ServiceConfig
    from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN

    grafana_double.add_datasource({"name": "Prometheus", "uid": "prom", "type": "prometheus", "url": "http://127.0.0.1:9090",
                                   "access": "proxy"})
    return GrafanaClient(ServiceConfig(name="grafana", url=grafana_double.url, bearer_token=GRAFANA_TEST_TOKEN, timeout=5, retries=1))


@pytest.mark.parametrize("check", ONLINE, ids=lambda c: c.id)
def test_online_check_examples(prom, tmp_path, check, grafana):
    settings = dict((check.example_context or {}).get("__settings__", {}))
    filename = "dashboard.json" if check.example_kind == "dashboard" else "rules.yml"
    for which, text in (("bad", check.example_bad), ("good", check.example_good)):
        d = tmp_path / which
        d.mkdir()
        (d / filename).write_text(text, encoding="utf-8")
        found = [f for f in online_run(prom, d, settings, only={check.id}, grafana=grafana).findings if f.check == check.id]
        if which == "bad":
            assert found, f"{check.id}: no finding on its bad example"
            assert all(f.line for f in found)
        else:
            assert not found, [f.to_dict() for f in found]


def test_series_existence_names_the_matcher(prom, tmp_path):
    (tmp_path / "r.yml").write_text(
        "groups:\n- name: g\n  rules:\n"
        "  - alert: A\n    expr: up{job=\"prometheus\"} == 0\n    for: 5m\n"
        "  - alert: B\n    expr: up{job=\"nope\"} == 0\n    for: 5m\n"
        "  - alert: C\n    expr: prometheus_http_requests_totl > 0\n    for: 5m\n"
        "  - alert: D\n    expr: job:up:sum == 0\n    for: 5m\n"
        "  - alert: E\n    expr: absent(never_seen_metric{job=\"x\\\"y\"})\n    for: 5m\n"
        "  - alert: F\n    expr: up{instance=~\"127\\\\.0\\\\.0\\\\.1:.*\"} == 0\n    for: 5m\n"
        "  - record: job:up:sum\n    expr: sum by (job) (up)\n", encoding="utf-8")
    found = {f.name: f for f in online_run(prom, tmp_path, only={"online/series"}).findings}
    assert set(found) == {"B", "C"}
    assert 'job="nope"' in found["B"].message and found["B"].line == 8 and found["B"].column == 11
    assert "prometheus_http_requests_totl" in found["C"].message and "1d" in found["C"].message


def test_loaded_versus_disk(prom, tmp_path):
    disk = DEPLOYED.replace("      - alert: ServerOnlyAlert\n        expr: up == 0\n        for: 5m\n",
                            "      - alert: DiskOnlyAlert\n        expr: up == 0\n        for: 5m\n")
    disk += "  - name: never-loaded\n    rules:\n      - record: job:x:sum\n        expr: sum by (job) (up)\n"
    (tmp_path / "deployed.yml").write_text(disk, encoding="utf-8")
    found = sorted((f.line, f.message) for f in online_run(prom, tmp_path, only={"online/loaded"}).findings)
    messages = " | ".join(m for _, m in found)
    assert "'DiskOnlyAlert' is on disk but not loaded" in messages
    assert "ServerOnlyAlert" in messages and "not on disk" in messages
    assert "group 'never-loaded' is not loaded" in messages
    assert len(found) == 3


def test_runbook_links(prom, tmp_path, runbooks):
    (tmp_path / "r.yml").write_text(
        "groups:\n- name: g\n  rules:\n"
        f"  - alert: Good\n    expr: up == 0\n    for: 5m\n    annotations:\n      runbook_url: {runbooks}/ok\n"
        f"  - alert: Gone\n    expr: up == 0\n    for: 5m\n    annotations:\n      runbook_url: {runbooks}/gone\n", encoding="utf-8")
    found = online_run(prom, tmp_path, only={"online/runbook"}).findings
    assert [(f.name, f.line) for f in found] == [("Gone", 13)] and "HTTP 404" in found[0].message


def test_online_through_the_cli(prom, tmp_path, profile_factory, aetherops_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("r.yml").write_text("groups:\n- name: g\n  rules:\n  - alert: Typo\n    expr: upp == 0\n    for: 5m\n", encoding="utf-8")
    profile_factory("live", prometheus={"url": prom.url, "timeout": 5, "retries": 1})
    r = aetherops_cli("-p", "live", "lint", "r.yml", "--online", "--format", "json", "--severity-threshold", "warning")
    assert r.exit_code == 1, r
    checks = {f["check"] for f in r.json()["findings"]}
    assert "online/series" in checks and "online/loaded" in checks
    r = aetherops_cli("-p", "live", "lint", "r.yml", "--format", "json")
    assert not any(f["check"].startswith("online/") for f in r.json()["findings"])
    profile_factory("down", prometheus={"url": "http://127.0.0.1:9", "timeout": 1, "retries": 1})
    assert aetherops_cli("-p", "down", "lint", "r.yml", "--online").exit_code == 3


def test_datasource_references(prom, tmp_path, grafana):
    (tmp_path / "d.json").write_text(
        '{"title": "D", "uid": "d", "panels": [\n'
        ' {"title": "ok", "datasource": {"type": "prometheus", "uid": "prom"}, "targets": [{"expr": "up"}]},\n'
        ' {"title": "by name", "datasource": "Prometheus", "targets": [{"expr": "up"}]},\n'
        ' {"title": "gone", "datasource": {"type": "prometheus", "uid": "old-prom"}, "targets": [{"expr": "up"}]}]}\n',
        encoding="utf-8")
    found = online_run(prom, tmp_path, only={"online/datasource"}, grafana=grafana).findings
    assert [(f.name, f.line) for f in found] == [("gone", 4)] and "old-prom" in found[0].message


def test_vector_matching_on_live_labels(prom, tmp_path):
    (tmp_path / "r.yml").write_text(
        "groups:\n- name: g\n  rules:\n"
        "  - alert: Fine\n    expr: up / on(job) sum by (job) (up) > 2\n    for: 5m\n"
        "  - alert: Never\n    expr: sum by (instance) (up) / sum by (job) (up) > 2\n    for: 5m\n", encoding="utf-8")
    found = online_run(prom, tmp_path, only={"online/vector-matching"}).findings
    assert [(f.name, f.line, f.column) for f in found] == [("Never", 8, len("    expr: sum by (instance) (up) ") + 1)] and "share no label set" in found[0].message
