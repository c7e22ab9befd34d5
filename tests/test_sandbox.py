"""`aetherops sandbox up|status|down` with the real binaries, then `health` on it."""

from __future__ import annotations

import os
import socket
import time

import pytest

from aetherops.testing.servers import free_port, require_binary


@pytest.fixture
def sandbox_profile(profile_factory):
    for name in ("prometheus", "prometheus-alertmanager", "prometheus-blackbox-exporter"):
        require_binary(name)
    ports = {name: free_port() for name in ("prometheus", "alertmanager", "grafana", "blackbox", "demo")}
    profile_factory(
        "sbx",
        prometheus={"url": f"http://127.0.0.1:{ports['prometheus']}", "timeout": 5, "retries": 2},
        alertmanager={"url": f"http://127.0.0.1:{ports['alertmanager']}", "timeout": 5, "retries": 2},
        grafana={"url": f"http://127.0.0.1:{ports['grafana']}", "timeout": 5, "retries": 2,
                 "auth": {"token_file": "${AETHEROPS_STATE_DIR}/sandbox/grafana-token"}},
        blackbox={"url": f"http://127.0.0.1:{ports['blackbox']}"},
        sandbox={"demo_exporter_port": ports["demo"]},
    )
    return ports


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return True


@pytest.mark.skipif(os.name == "nt", reason="process checks below use POSIX signals")
def test_up_health_status_down(sandbox_profile, aetherops_cli, aetherops_env):
    up = aetherops_cli("-p", "sbx", "sandbox", "up", "--output", "json")
    try:
        assert up.exit_code == 0, up
        rows = {r["service"]: r for r in up.json()}
        assert set(rows) == {"demo-exporter", "blackbox_exporter", "alertmanager", "prometheus", "grafana-double"}
        assert all(r["running"] and r["ready"] for r in rows.values()), rows
        pids = {name: r["pid"] for name, r in rows.items()}

        health = aetherops_cli("-p", "sbx", "health", "--output", "json")
        assert health.exit_code == 0, health
        assert {r["service"]: r["ok"] for r in health.json()} == {"prometheus": True, "alertmanager": True, "grafana": True,
                                                                  "blackbox": True}

        # the token file is private and never shown
        token_file = os.path.join(aetherops_env["AETHEROPS_STATE_DIR"], "sandbox", "grafana-token")
        token = open(token_file, encoding="utf-8").read().strip()
        assert token not in up.stdout + up.stderr + health.stdout + health.stderr
        assert oct(os.stat(token_file).st_mode & 0o777) == "0o600"

        # Prometheus scrapes the demo exporter and probes Grafana through blackbox_exporter
        import httpx

        deadline = time.monotonic() + 20
        jobs: set = set()
        while time.monotonic() < deadline:
            result = httpx.get(f"{rows['prometheus']['url']}/api/v1/query", params={"query": "up == 1"}).json()["data"]["result"]
            jobs = {r["metric"]["job"] for r in result}
            if {"prometheus", "demo", "alertmanager", "blackbox", "blackbox-grafana"} <= jobs:
                break
            time.sleep(0.5)
        assert {"prometheus", "demo", "alertmanager", "blackbox", "blackbox-grafana"} <= jobs

        # its demo rules lint clean, online too: their runbook links answer from the demo exporter, on this machine
        sandbox_dir = os.path.join(aetherops_env["AETHEROPS_STATE_DIR"], "sandbox")
        lint = aetherops_cli("-p", "sbx", "lint", "--online", os.path.join(sandbox_dir, "prometheus.yml"),
                             os.path.join(sandbox_dir, "alertmanager.yml"), os.path.join(sandbox_dir, "rules"),
                             "--severity-threshold", "warning", "-o", "json")
        assert lint.exit_code == 0, [(f["check"], f["message"]) for f in lint.json()["findings"]]
        assert httpx.get(f"http://127.0.0.1:{sandbox_profile['demo']}/runbooks/demo-queue").status_code == 200

        again = aetherops_cli("-p", "sbx", "sandbox", "up", "-o", "json")  # idempotent: same processes
        assert {r["service"]: r["pid"] for r in again.json()} == pids
        assert aetherops_cli("-p", "sbx", "sandbox", "status").exit_code == 0
    finally:
        down = aetherops_cli("-p", "sbx", "sandbox", "down", "-o", "json")
    assert down.exit_code == 0, down
    assert all(r["stopped"] for r in down.json())
    for pid in pids.values():
        assert not _alive(pid), f"pid {pid} still running after down"
    status = aetherops_cli("-p", "sbx", "sandbox", "status", "-o", "json")
    assert status.exit_code == 0 and status.json() == []


def test_missing_binary_names_the_package(sandbox_profile, aetherops_cli, tmp_path):
    result = aetherops_cli("-p", "sbx", "sandbox", "up", env={"AETHEROPS_ALERTMANAGER_BIN": str(tmp_path / "nope")})
    assert result.exit_code == 4, result
    assert "prometheus-alertmanager" in result.stderr and "apt-get install" in result.stderr
    assert "Traceback" not in result.stderr


def test_port_in_use_is_refused(sandbox_profile, aetherops_cli):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", sandbox_profile["demo"]))
        squatter.listen(1)
        result = aetherops_cli("-p", "sbx", "sandbox", "up")
    assert result.exit_code == 4, result
    assert f"port {sandbox_profile['demo']}" in result.stderr and "in use" in result.stderr
    assert aetherops_cli("-p", "sbx", "sandbox", "status", "-o", "json").json() == []


def test_non_loopback_profile_is_refused(profile_factory, aetherops_cli):
    profile_factory("remote", prometheus={"url": "http://prom.example.com:9090"}, alertmanager={"url": "http://127.0.0.1:1"},
                    grafana={"url": "http://127.0.0.1:2"})
    result = aetherops_cli("-p", "remote", "sandbox", "up")
    assert result.exit_code == 4 and "loopback only" in result.stderr
