"""pytest fixtures for aetherops and its plugins (entry point ``pytest11``).

Real servers, not mocks: ``prometheus_server``, ``alertmanager_server``,
``blackbox_server`` and ``victoriametrics_server`` start the real binaries on free loopback ports in temp
dirs (missing binaries skip the test, or fail it when ``CI=true``);
``alertmanager_cluster`` starts a two-peer gossip cluster (HA);
``grafana_double`` serves the Grafana API double (``grafana_double_factory``
starts more, with your settings). ``profile_factory`` writes
profiles, ``stack_profile`` wires one to all of the servers, and
``aetherops_cli`` runs the CLI in-process and returns exit code, stdout,
stderr and parsed JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

GRAFANA_TEST_TOKEN = "glsa_aetherops_test_token_5f1c2e"


@pytest.fixture
def aetherops_env(tmp_path_factory, monkeypatch) -> dict[str, str]:
    """Isolate aetherops from the user's config, cache, state and profiles."""
    base = tmp_path_factory.mktemp("aetherops-home")
    env = {
        "AETHEROPS_CONFIG_DIR": str(base / "config"),
        "AETHEROPS_CACHE_DIR": str(base / "cache"),
        "AETHEROPS_STATE_DIR": str(base / "state"),
        "NO_COLOR": "1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("AETHEROPS_PROFILE", "AETHEROPS_PROFILES_DIR", "AETHEROPS_PLUGINS", "AETHEROPS_DISABLE_PLUGIN_AUTOLOAD",
                "AETHEROPS_DEBUG", "AETHEROPS_TRACE_PLUGINS", "FORCE_COLOR"):
        monkeypatch.delenv(key, raising=False)
    return env


@pytest.fixture
def aetherops_cli(aetherops_env) -> Callable[..., Any]:
    """``aetherops_cli("health", "--output", "json", env={...})`` -> CliResult (exit_code, stdout, stderr, json())."""
    from aetherops.testing.cli import run_cli

    def run(*args: str, env: dict | None = None, input: str | None = None):
        return run_cli([str(a) for a in args], env=env, input=input)

    return run


@pytest.fixture
def profiles_dir(tmp_path, monkeypatch, aetherops_env) -> Path:
    """An empty profiles dir, set as AETHEROPS_PROFILES_DIR."""
    path = tmp_path / "profiles"
    path.mkdir()
    monkeypatch.setenv("AETHEROPS_PROFILES_DIR", str(path))
    return path


@pytest.fixture
def profile_factory(profiles_dir) -> Callable[..., str]:
    """Write a profile: ``profile_factory("prod", prometheus={"url": ...})`` or ``profile_factory("bad", text="...")``.

    Returns the profile name.
    """
    import yaml

    def make(name: str = "test", data: dict | None = None, *, text: str | None = None, **sections: Any) -> str:
        path = profiles_dir / f"{name}.yaml"
        if text is None:
            text = yaml.safe_dump({**(data or {}), **sections}, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return name

    return make


def _start(starter: Callable, workdir: Path, **kwargs):
    from aetherops.testing.servers import MissingBinary

    try:
        return starter(workdir, **kwargs)
    except MissingBinary as exc:
        import os

        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{exc} (CI=true: a missing server is a failure)", pytrace=False)
        pytest.skip(str(exc))


def _serving(starter: Callable, tmp_path_factory, name: str):
    """The body of a server fixture: yields one server started in a temp dir of its own, stops it afterwards."""
    server = _start(starter, tmp_path_factory.mktemp(name))
    yield server
    server.stop()


def _starting(starter: Callable, tmp_path_factory, name: str):
    """The body of a ``*_factory`` fixture: yields ``make(**kwargs)``, which starts one more server in a
    temp dir of its own; every server it started is stopped after the test."""
    started = []

    def make(**kwargs):
        server = _start(starter, tmp_path_factory.mktemp(name), **kwargs)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def prometheus_server(tmp_path_factory):
    """A real Prometheus (admin API and lifecycle on) shared by the session."""
    from aetherops.testing.servers import start_prometheus

    yield from _serving(start_prometheus, tmp_path_factory, "prometheus")


@pytest.fixture
def prometheus_factory(tmp_path_factory):
    """Start Prometheus servers of your own: ``prom = prometheus_factory(rule_files={"rules/a.yml": TEXT}, lifecycle=False)``
    (the keyword arguments of :func:`aetherops.testing.servers.start_prometheus`); all stopped after the test."""
    from aetherops.testing.servers import start_prometheus

    yield from _starting(start_prometheus, tmp_path_factory, "prometheus")


@pytest.fixture
def alertmanager_server(tmp_path_factory):
    """A real Alertmanager of its own for each test (silences do not leak between tests)."""
    from aetherops.testing.servers import start_alertmanager

    yield from _serving(start_alertmanager, tmp_path_factory, "alertmanager")


@pytest.fixture
def alertmanager_cluster_factory(tmp_path_factory):
    """Start real Alertmanager gossip clusters (HA): ``cluster = alertmanager_cluster_factory(config=..., peers=2)``;
    ``cluster.urls``, ``cluster.peers[i]``, ``cluster.kill(i)``. Every cluster is stopped after the test."""
    from aetherops.testing.servers import start_alertmanager_cluster

    yield from _starting(start_alertmanager_cluster, tmp_path_factory, "alertmanager-cluster")


@pytest.fixture
def alertmanager_cluster(alertmanager_cluster_factory):
    """A real two-peer Alertmanager gossip cluster of its own for each test (``--cluster.peer`` each other)."""
    return alertmanager_cluster_factory()


@pytest.fixture(scope="session")
def blackbox_server(tmp_path_factory):
    """A real blackbox_exporter shared by the session."""
    from aetherops.testing.servers import start_blackbox

    yield from _serving(start_blackbox, tmp_path_factory, "blackbox")


@pytest.fixture(scope="session")
def victoriametrics_server(tmp_path_factory):
    """A real single-node VictoriaMetrics shared by the session (Prometheus query API at ``.url``).

    Write series with ``victoriametrics_import`` (or
    :func:`aetherops.testing.servers.import_prometheus_text`); use metric or
    label names of your own, since other tests share the server.
    """
    from aetherops.testing.servers import start_victoriametrics

    yield from _serving(start_victoriametrics, tmp_path_factory, "victoriametrics")


@pytest.fixture
def victoriametrics_import(victoriametrics_server) -> Callable[[str], None]:
    """``victoriametrics_import("metric{a=\"b\"} 1 1700000000000\n...")``: write samples (ms timestamps), searchable at once."""
    from aetherops.testing.servers import import_prometheus_text

    def write(text: str) -> None:
        import_prometheus_text(victoriametrics_server, text)

    return write


@pytest.fixture
def grafana_double():
    """The Grafana API double, empty, requiring ``Bearer GRAFANA_TEST_TOKEN``."""
    from aetherops.testing.grafana_double import GrafanaDouble

    double = GrafanaDouble(token=GRAFANA_TEST_TOKEN).start()
    yield double
    double.stop()


@pytest.fixture
def grafana_double_factory():
    """Start Grafana doubles with your own settings (``grafana_version``, ``latency_ms``...); all stopped after the test.

    ``token`` defaults to ``GRAFANA_TEST_TOKEN``: ``double = grafana_double_factory(grafana_version="12.1.0")``."""
    from aetherops.testing.grafana_double import GrafanaDouble

    started = []

    def make(**kwargs):
        kwargs.setdefault("token", GRAFANA_TEST_TOKEN)
        double = GrafanaDouble(**kwargs).start()
        started.append(double)
        return double

    yield make
    for double in started:
        double.stop()


@pytest.fixture
def stack_profile(profile_factory, prometheus_server, alertmanager_server, blackbox_server, grafana_double, monkeypatch) -> str:
    """A profile named ``stack`` pointing at the real servers and the Grafana double, selected by default."""
    monkeypatch.setenv("AETHEROPS_TEST_GRAFANA_TOKEN", GRAFANA_TEST_TOKEN)
    monkeypatch.setenv("AETHEROPS_PROFILE", "stack")
    return profile_factory(
        "stack",
        prometheus={"url": prometheus_server.url, "timeout": 5, "retries": 2,
                    "config_file": str(prometheus_server.config_path), "data_dir": str(prometheus_server.workdir / "data")},
        alertmanager={"url": alertmanager_server.url, "timeout": 5, "retries": 2,
                      "config_file": str(alertmanager_server.config_path)},
        grafana={"url": grafana_double.url, "timeout": 5, "retries": 2, "auth": {"token_env": "AETHEROPS_TEST_GRAFANA_TOKEN"}},
        blackbox={"url": blackbox_server.url, "timeout": 5, "retries": 2},
    )
