"""aetherops probe: modules and their errors, profile probes, third-party probers, healthcheck mode,
--from-prometheus against a real Prometheus scraping a real blackbox_exporter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from aetherops.testing.servers import free_port, start_prometheus

ROOT = Path(__file__).resolve().parent.parent


class _OK(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = b"ok\n"
        self.send_response(200 if self.path != "/down" else 503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def web():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OK)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# ---------------------------------------------------------------------- modules and config errors
@pytest.mark.parametrize("text, line, words", [
    ("modules:\n  m:\n    prober: http\n    http:\n      fail_if_body_matches_regexp: ['(open']\n", 5, "regular expression"),
    ("modules:\n  m:\n    prober: http\n    http:\n      bogus: 1\n", 5, "field bogus not found"),
    ("modules:\n  m:\n    prober: http\n    timeout: soon\n", 4, "not a duration"),
    ("modules:\n  m:\n    prober: http\n    http:\n      valid_status_codes: [abc]\n", 5, "list of integers"),
    ("modules:\n  m:\n    prober: tcp\n    tcp:\n      query_response:\n        - expect: '[x'\n", 6, "regular expression"),
    ("modules:\n  m:\n    prober: http\n    http:\n      fail_if_header_matches:\n        - regexp: x\n", 6,
     "header name must be set"),
    ("modules:\n  m: [1, 2\n", 3, "invalid YAML"),
    ("modulez:\n  m: {}\n", 1, "field modulez not found"),
    ("modules:\n  m:\n    timeout: 5s\n", 2, "'prober' is required"),
    ("modules:\n  m:\n    prober: http\n    http:\n      tls_config: {insecure: true}\n", 5, "field insecure not found"),
    ("modules:\n  m:\n    prober: http\n    http:\n      preferred_ip_protocol: ip5\n", 5, "ip4 or ip6"),
])
def test_invalid_blackbox_config_exits_4_naming_file_and_line(aetherops_cli, tmp_path, text, line, words):
    config = write(tmp_path / "blackbox.yml", text)
    result = aetherops_cli("probe", "--config", config, "-m", "m", "127.0.0.1:1")
    assert result.exit_code == 4, result
    assert f"blackbox.yml:{line}:" in result.stderr and words in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_unknown_module_exits_4(aetherops_cli, tmp_path, profile_factory):
    config = write(tmp_path / "blackbox.yml", "modules:\n  only_this:\n    prober: tcp\n")
    result = aetherops_cli("probe", "--config", config, "-m", "nope", "127.0.0.1:1")
    assert result.exit_code == 4 and "unknown module 'nope'" in result.stderr and "only_this" in result.stderr
    assert str(config) in result.stderr
    # in a profile's probes: the error names the profile file and the probe's line
    profile_factory("p", text="probes:\n  - target: http://x\n  - target: http://y\n    module: missing_one\n")
    result = aetherops_cli("-p", "p", "probe")
    assert result.exit_code == 4 and "p.yaml:4:" in result.stderr and "missing_one" in result.stderr


def test_profile_probe_modules_and_probes(aetherops_cli, profile_factory, web):
    profile_factory("p", text=textwrap.dedent(f"""
        probes:
          - {{name: web, target: {web}/, module: web_ok, labels: {{team: ops}}}}
          - {{name: down, target: {web}/down, module: web_503}}
          - {{name: tcp, target: "{web[7:]}", module: tcp_connect}}
        probe_modules:
          web_ok:
            prober: http
            timeout: 3s
            http: {{preferred_ip_protocol: ip4, fail_if_body_not_matches_regexp: ["^ok$"]}}
          web_503:
            prober: http
            http: {{preferred_ip_protocol: ip4, valid_status_codes: [503]}}
        """))
    result = aetherops_cli("-p", "p", "probe", "-o", "json")
    assert result.exit_code == 0, result
    data = result.json()
    assert data["total"] == 3 and data["failed"] == 0
    by_name = {r["name"]: r for r in data["probes"]}
    assert by_name["web"]["labels"] == {"team": "ops"} and by_name["web"]["status_code"] == 200
    assert by_name["down"]["status_code"] == 503 and by_name["tcp"]["module"] == "tcp_connect"
    assert all(k == k.lower() and " " not in k for r in data["probes"] for k in r)  # snake_case
    # --module filters the profile's probes; the table names every column
    result = aetherops_cli("-p", "p", "probe", "-m", "web_503")
    assert result.exit_code == 0 and "down" in result.stdout and "web_ok" not in result.stdout
    assert "PROCESSING" in result.stdout and "1 of 1 probes succeeded" in result.stdout


def test_bad_regexp_in_profile_probe_modules_names_the_profile_line(aetherops_cli, profile_factory):
    profile_factory("p", text="probe_modules:\n  m:\n    prober: http\n    http:\n      fail_if_body_matches_regexp:\n"
                              "        - ok\n        - '*bad'\n")
    result = aetherops_cli("-p", "p", "probe", "-m", "m", "http://127.0.0.1:1/")
    assert result.exit_code == 4 and "p.yaml:7:" in result.stderr and "*bad" in result.stderr, result


def test_profile_blackbox_config_file_is_read(aetherops_cli, profile_factory, tmp_path, web):
    config = write(tmp_path / "bb.yml", "modules:\n  from_file:\n    prober: http\n    http:\n"
                                        "      valid_status_codes: [503]\n")
    profile_factory("p", blackbox={"url": "http://127.0.0.1:9", "config_file": str(config)})
    result = aetherops_cli("-p", "p", "probe", "-m", "from_file", f"{web}/down", "-o", "json")
    assert result.exit_code == 0, result
    assert result.json()["probes"][0]["status_code"] == 503


def test_unimplemented_options_are_reported_not_ignored(aetherops_cli, tmp_path, web):
    config = write(tmp_path / "bb.yml", "modules:\n  m:\n    prober: http\n    http:\n      proxy_url: http://proxy:3128\n"
                                        "      compression: gzip\n      tls_config: {min_version: TLS12}\n")
    result = aetherops_cli("probe", "--config", config, "-m", "m", f"{web}/", "-o", "json")
    assert result.exit_code == 0, result
    assert "not implemented" in result.stderr and "http.proxy_url" in result.stderr
    assert result.json()["probes"][0]["unimplemented_options"] == ["http.compression", "http.proxy_url",
                                                                   "http.tls_config.min_version"]
    # a module whose prober no plugin provides (icmp) loads, and probing with it is a failure that says why
    config = write(tmp_path / "icmp.yml", "modules:\n  ping:\n    prober: icmp\n")
    result = aetherops_cli("probe", "--config", config, "-m", "ping", "127.0.0.1", "-o", "json")
    assert result.exit_code == 1 and "prober 'icmp' is not implemented" in result.json()["probes"][0]["reason"]


def test_secrets_are_references_and_never_printed(aetherops_cli, tmp_path, web, monkeypatch):
    secret = "s3cr3t-probe-token-value"
    token_file = tmp_path / "token"
    token_file.write_text(secret + "\n", encoding="utf-8")
    config = write(tmp_path / "bb.yml", f"modules:\n  m:\n    prober: http\n    http:\n      bearer_token_file: {token_file}\n")
    result = aetherops_cli("probe", "--config", config, "-m", "m", f"{web}/", "-o", "json")
    assert result.exit_code == 0 and secret not in result.stdout + result.stderr
    inline = write(tmp_path / "inline.yml", f"modules:\n  m:\n    prober: http\n    http:\n      bearer_token: {secret}\n")
    result = aetherops_cli("probe", "--config", inline, "-m", "m", f"{web}/")
    assert result.exit_code == 4 and "inline.yml:5:" in result.stderr and "bearer_token_file" in result.stderr
    assert secret not in result.stderr


# ---------------------------------------------------------------------- third-party probers
PLUGIN = """
import asyncio
import aetherops
from aetherops_plugins.probe.api import ModuleConfigError, failure, success


class Flaky:
    name = "flaky"
    known_options = frozenset({"want"})

    def prepare(self, options):
        if options.get("want") not in (None, "up", "down", "boom", "hang"):
            raise ModuleConfigError("want must be up, down, boom or hang", key=("want",))
        return options.get("want") or "up"

    async def probe(self, target, options, timeout):
        if options == "boom":
            raise RuntimeError("the prober broke")
        if options == "hang":
            await asyncio.sleep(3600)
        return success(phases={"connect": 1.5}) if options == "up" else failure(f"{target} is down")


@aetherops.hookimpl
def aetherops_probe_modules():
    return [Flaky()]
"""


def test_hook_aetherops_probe_modules(aetherops_cli, tmp_path, monkeypatch):
    """A third-party prober, contributed through the hook, is used by `aetherops probe` like the built-in ones."""
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "flaky_prober.py").write_text(PLUGIN, encoding="utf-8")
    config = write(tmp_path / "bb.yml", """
        modules:
          ok: {prober: flaky}
          bad: {prober: flaky, flaky: {want: down}}
          boom: {prober: flaky, flaky: {want: boom}}
          hang: {prober: flaky, timeout: 0.2s, flaky: {want: hang}}
        """)
    for module, success, reason in (("ok", True, None), ("bad", False, "x is down"), ("boom", False, "the prober broke"),
                                    ("hang", False, "timed out after 0.2s")):
        result = aetherops_cli("--plugin", "flaky_prober", "probe", "--config", config, "-m", module, "x", "-o", "json")
        record = result.json()["probes"][0]
        assert record["success"] is success and result.exit_code == (0 if success else 1), result
        assert reason is None or reason in record["reason"]
        assert "Traceback" not in result.stderr
    assert aetherops_cli("--plugin", "flaky_prober", "probe", "-m", "flaky", "x", "-o", "json").json()["probes"][0][
        "phases_ms"]["connect"] == 1.5  # the prober's name is a module by itself
    bad = write(tmp_path / "bad.yml", "modules:\n  m:\n    prober: flaky\n    flaky:\n      want: sideways\n")
    result = aetherops_cli("--plugin", "flaky_prober", "probe", "--config", bad, "-m", "m", "x")
    assert result.exit_code == 4 and "bad.yml:5:" in result.stderr and "want must be" in result.stderr
    # the example plugin's plain (non-async) prober works too
    result = aetherops_cli("probe", "-m", "example_echo", "anything", "-o", "json")
    assert result.exit_code == 0 and result.json()["probes"][0]["success"] is True, result


# ---------------------------------------------------------------------- healthcheck mode
def test_wait_succeeds_once_the_target_comes_up(aetherops_cli):
    port = free_port()
    ready = threading.Event()

    def serve_later():
        time.sleep(1.0)
        server = ThreadingHTTPServer(("127.0.0.1", port), _OK)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        ready.set()

    threading.Thread(target=serve_later, daemon=True).start()
    result = aetherops_cli("probe", f"http://127.0.0.1:{port}/", "--wait", "--start-period", "60s", "--interval", "200ms",
                           "--retries", "3", "--timeout", "1s", "-o", "json")
    assert ready.is_set() and result.exit_code == 0, result
    assert result.json()["probes"][0]["success"] is True


def test_wait_gives_up_after_retries_outside_the_start_period(aetherops_cli):
    port = free_port()
    started = time.monotonic()
    result = aetherops_cli("probe", f"127.0.0.1:{port}", "-m", "tcp_connect", "--wait", "--start-period", "0.6s",
                           "--interval", "0.1s", "--retries", "2")
    assert result.exit_code == 1, result
    assert time.monotonic() - started >= 0.6  # the start period's failures did not count
    assert "unhealthy after 2 consecutive failures" in result.stderr
    attempts = int(result.stderr.split("consecutive failures (")[1].split(" attempts")[0])
    assert attempts >= 3  # at least one uncounted attempt in the start period, then two counted ones
    assert len(result.stderr.strip().splitlines()) == 1  # no progress lines when stderr is not a terminal


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_wait_shows_progress_on_a_terminal(tmp_path):
    import pty

    port = free_port()
    main, secondary = pty.openpty()
    env = {**os.environ, "AETHEROPS_CONFIG_DIR": str(tmp_path), "AETHEROPS_CACHE_DIR": str(tmp_path / "c"), "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "aetherops", "probe", f"127.0.0.1:{port}", "-m", "tcp_connect", "--wait",
                           "--interval", "0.1s", "--retries", "2"], stderr=secondary, stdout=subprocess.PIPE, env=env,
                          timeout=120)
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(main)
    text = output.decode("utf-8", "replace")
    assert proc.returncode == 1
    assert "attempt 1" in text and "failure 2 of 2" in text, text


# ---------------------------------------------------------------------- --from-prometheus
def test_from_prometheus_probes_what_prometheus_probes(aetherops_cli, profile_factory, blackbox_server, tmp_path, web):
    closed = free_port()
    bb = blackbox_server.target
    config = {"scrape_configs": [
        {"job_name": "blackbox-http", "metrics_path": "/probe", "params": {"module": ["http_2xx"]},
         "static_configs": [{"targets": [f"{web}/", f"{web}/down"]}],
         "relabel_configs": [{"source_labels": ["__address__"], "target_label": "__param_target"},
                             {"source_labels": ["__param_target"], "target_label": "instance"},
                             {"target_label": "__address__", "replacement": bb}]},
        {"job_name": "blackbox-tcp", "metrics_path": "/probe", "params": {"module": ["tcp_connect"]},
         "static_configs": [{"targets": [f"127.0.0.1:{closed}"]}],
         "relabel_configs": [{"source_labels": ["__address__"], "target_label": "__param_target"},
                             {"source_labels": ["__param_target"], "target_label": "instance"},
                             {"target_label": "__address__", "replacement": bb}]},
        {"job_name": "blackbox-self", "static_configs": [{"targets": [bb]}]},
    ]}
    with start_prometheus(tmp_path / "prom", config=config) as prom:
        profile_factory("prod", prometheus={"url": prom.url}, blackbox={"url": blackbox_server.url})
        deadline = time.monotonic() + 60
        while True:  # Prometheus hands new targets over in batches: wait until all three probe targets are active
            result = aetherops_cli("-p", "prod", "probe", "--from-prometheus", "-o", "json")
            if result.stdout and len(result.json()["probes"]) == 3 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert result.exit_code == 1, result
        probes = {(r["target"], r["module"]): r for r in result.json()["probes"]}
        assert set(probes) == {(f"{web}/", "http_2xx"), (f"{web}/down", "http_2xx"), (f"127.0.0.1:{closed}", "tcp_connect")}
        assert probes[(f"{web}/", "http_2xx")]["success"] is True
        assert probes[(f"{web}/down", "http_2xx")]["status_code"] == 503
        assert probes[(f"{web}/", "http_2xx")]["labels"] == {"job": "blackbox-http"}
        # the same list through the exporter agrees
        remote = aetherops_cli("-p", "prod", "probe", "--from-prometheus", "--exporter", "-o", "json")
        assert [(r["target"], r["success"], r["status_code"]) for r in remote.json()["probes"]] == \
               [(r["target"], r["success"], r["status_code"]) for r in result.json()["probes"]]


def test_from_prometheus_with_prometheus_down_exits_3(aetherops_cli, profile_factory):
    profile_factory("down", prometheus={"url": f"http://127.0.0.1:{free_port()}", "retries": 1, "timeout": 2})
    result = aetherops_cli("-p", "down", "probe", "--from-prometheus")
    assert result.exit_code == 3 and len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_nothing_to_probe_is_a_usage_error(aetherops_cli, profile_factory):
    profile_factory("empty", text="description: nothing here\n")
    result = aetherops_cli("-p", "empty", "probe")
    assert result.exit_code == 2 and "nothing to probe" in result.stderr


def test_prometheus_text_is_parseable_and_labelled(aetherops_cli, web):
    result = aetherops_cli("probe", f"{web}/", f"{web}/down", "--format", "prometheus")
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line and not line.startswith("#")]
    assert f'probe_success{{instance="{web}/",module="http_2xx"}} 1' in lines
    assert f'probe_success{{instance="{web}/down",module="http_2xx"}} 0' in lines
    assert f'probe_http_status_code{{instance="{web}/down",module="http_2xx"}} 503' in lines
    json.dumps(lines)  # plain text, no objects


# ---------------------------------------------------------------------- the sandbox
@pytest.mark.skipif(os.name == "nt", reason="the sandbox test runs POSIX processes")
def test_local_profile_probes_work_after_sandbox_up(aetherops_cli, profiles_dir):
    """profiles/local.yaml's probes, on free ports (a real sandbox may be running on the usual ones)."""
    from aetherops.testing.servers import require_binary

    for name in ("prometheus", "prometheus-alertmanager", "prometheus-blackbox-exporter"):
        require_binary(name)
    text = (ROOT / "profiles" / "local.yaml").read_text(encoding="utf-8")
    for port in ("19090", "19093", "13000", "19115", "19100"):
        assert port in text
        text = text.replace(port, str(free_port()))
    (profiles_dir / "local.yaml").write_text(text, encoding="utf-8")
    up = aetherops_cli("sandbox", "up")
    try:
        assert up.exit_code == 0, up
        result = aetherops_cli("probe", "-o", "json")
        assert result.exit_code == 0, result
        names = {r["name"] for r in result.json()["probes"] if r["success"]}
        assert names == {"prometheus", "alertmanager", "grafana", "blackbox-exporter", "demo-exporter"}
        remote = aetherops_cli("probe", "--exporter", "-o", "json")
        assert remote.exit_code == 0 and all(r["via"] == "exporter" for r in remote.json()["probes"]), remote
    finally:
        down = aetherops_cli("sandbox", "down")
    assert down.exit_code == 0, down
    after = aetherops_cli("probe", "--timeout", "2s", "-o", "json")
    assert after.exit_code == 1 and all(not r["success"] for r in after.json()["probes"])


def test_time_limit_fallback_for_python_310_behaves_like_asyncio_timeout():
    import asyncio

    from aetherops_plugins.probe.net import _TimeLimit

    async def run(seconds_needed):
        async with _TimeLimit(0.05):
            await asyncio.sleep(seconds_needed)
        return "done"

    assert asyncio.run(run(0)) == "done"
    with pytest.raises(TimeoutError):
        asyncio.run(run(5))


def test_password_in_target_url_is_basic_auth_and_never_shown(aetherops_cli):
    seen = {}

    class Auth(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen["authorization"] = self.headers.get("Authorization")
            self.send_response(200 if seen["authorization"] == "Basic dXNlcjpodW50ZXIyLXNlY3JldA==" else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Auth)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    try:
        target = f"http://user:hunter2-secret@127.0.0.1:{server.server_address[1]}/"
        result = aetherops_cli("probe", target, "-o", "json")
        text = aetherops_cli("probe", target)
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0 and result.json()["probes"][0]["status_code"] == 200, result
    assert "hunter2-secret" not in result.stdout + result.stderr + text.stdout + text.stderr


def test_every_probers_example_module_is_valid(aetherops_env):
    from aetherops.plugins import make_plugin_manager
    from aetherops_plugins.probe.config import build_modules

    pm = make_plugin_manager()
    probers = {p.name: p for result in pm.hook.aetherops_probe_modules() for p in result}
    assert {"http", "tcp"} <= set(probers)
    for name in ("http", "tcp"):
        prober = probers[name]
        assert prober.summary and prober.example["prober"] == name
        module = build_modules({"example": prober.example}, lambda keypath: ("example", None), probers, source="example")
        assert module["example"].prober is prober and module["example"].unimplemented == []
