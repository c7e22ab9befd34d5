"""Start and stop real Prometheus, Alertmanager, blackbox_exporter and VictoriaMetrics processes.

For tests (see the fixtures in :mod:`aetherops.testing.pytest_plugin`) and for
local experiments. Every server runs in a directory of its own, binds loopback
only, logs to ``<workdir>/<name>.log`` and is returned as a
:class:`RunningServer` once its readiness endpoint answers::

    from aetherops.testing.servers import start_prometheus, start_demo_exporter

    with start_demo_exporter() as demo, start_prometheus(tmp_path, scrape_targets={"demo": [demo.target]}) as prom:
        PrometheusClient(ServiceConfig(name="prometheus", url=prom.url)).query("up")

Binaries are looked up by :func:`find_binary`: an ``AETHEROPS_*_BIN``
environment variable, then ``PATH`` (Debian names such as
``prometheus-alertmanager`` as well as upstream names such as
``alertmanager``), then ``/usr/bin``. A missing binary raises
:class:`MissingBinary`, whose message says which Debian package to install;
in a test, call :func:`require_binary` to turn that into a skip (or a failure
when ``CI=true``).

This module uses only the standard library at import time (the HTTP client,
:class:`aetherops.clients.probe.Prober`, is imported inside the functions that talk HTTP, ``yaml`` and ``pytest`` only
when needed), and runs on Linux and Windows.

It is also a small command line tool::

    python -m aetherops.testing.servers demo-exporter --port 19100
    python -m aetherops.testing.servers which
"""

from __future__ import annotations

import copy
import ipaddress
import json
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "PACKAGES",
    "ENV_VARS",
    "MissingBinary",
    "ServerStartError",
    "ServerReloadError",
    "RunningServer",
    "DemoExporter",
    "find_binary",
    "require_binary",
    "free_port",
    "start_prometheus",
    "start_alertmanager",
    "start_alertmanager_cluster",
    "AlertmanagerCluster",
    "start_blackbox",
    "start_demo_exporter",
    "start_victoriametrics",
    "import_prometheus_text",
    "backfill_openmetrics",
    "DEFAULT_ALERTMANAGER_CONFIG",
    "DEFAULT_BLACKBOX_CONFIG",
]

#: Binary name (the Debian one) -> the Debian package that ships it.
PACKAGES: dict[str, str] = {
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "amtool": "prometheus-alertmanager",
    "prometheus-blackbox-exporter": "prometheus-blackbox-exporter",
    "victoria-metrics": "victoria-metrics",
    "chromium": "chromium",
}

#: Binary name -> the environment variable that overrides its location.
ENV_VARS: dict[str, str] = {
    "prometheus": "AETHEROPS_PROMETHEUS_BIN",
    "promtool": "AETHEROPS_PROMTOOL_BIN",
    "prometheus-alertmanager": "AETHEROPS_ALERTMANAGER_BIN",
    "amtool": "AETHEROPS_AMTOOL_BIN",
    "prometheus-blackbox-exporter": "AETHEROPS_BLACKBOX_BIN",
    "victoria-metrics": "AETHEROPS_VICTORIAMETRICS_BIN",
    "chromium": "AETHEROPS_CHROMIUM_BIN",
}

# Binary name -> the file names to look for, Debian's first, then upstream's.
_CANDIDATES: dict[str, tuple[str, ...]] = {
    "prometheus": ("prometheus",),
    "promtool": ("promtool",),
    "prometheus-alertmanager": ("prometheus-alertmanager", "alertmanager"),
    "amtool": ("amtool",),
    "prometheus-blackbox-exporter": ("prometheus-blackbox-exporter", "blackbox_exporter"),
    "victoria-metrics": ("victoria-metrics", "victoria-metrics-prod"),
    "chromium": ("chromium", "chromium-browser"),
}

# Other spellings accepted by find_binary() and require_binary().
_ALIASES: dict[str, str] = {
    "alertmanager": "prometheus-alertmanager",
    "blackbox": "prometheus-blackbox-exporter",
    "blackbox_exporter": "prometheus-blackbox-exporter",
    "blackbox-exporter": "prometheus-blackbox-exporter",
    "victoriametrics": "victoria-metrics",
    "victoria-metrics-prod": "victoria-metrics",
    "chromium-browser": "chromium",
}

#: Alertmanager configuration used when none is given: one route to a receiver
#: without integrations, so alerts are accepted, grouped and dropped.
DEFAULT_ALERTMANAGER_CONFIG: dict[str, Any] = {
    "route": {
        "receiver": "null",
        "group_by": ["alertname"],
        "group_wait": "1s",
        "group_interval": "1s",
        "repeat_interval": "1h",
    },
    "receivers": [{"name": "null"}],
}

#: blackbox_exporter configuration used when none is given. IPv4 is preferred
#: so that ``localhost`` targets behave the same everywhere.
DEFAULT_BLACKBOX_CONFIG: dict[str, Any] = {
    "modules": {
        "http_2xx": {"prober": "http", "timeout": "5s", "http": {"preferred_ip_protocol": "ip4"}},
        "tcp_connect": {"prober": "tcp", "timeout": "5s", "tcp": {"preferred_ip_protocol": "ip4"}},
    },
}

_LOG_TAIL_LINES = 20
_POLL_INTERVAL = 0.05
_PORT_ATTEMPTS = 3


# --------------------------------------------------------------------------- errors


class MissingBinary(Exception):
    """A server binary is not installed (or an ``AETHEROPS_*_BIN`` override is wrong).

    ``name`` is the binary (Debian name), ``package`` the Debian package that
    ships it and ``env_var`` the variable that points at another location.
    """

    def __init__(self, name: str, package: str, detail: str | None = None):
        self.name = name
        self.package = package
        self.env_var = ENV_VARS.get(name, "")
        self.detail = detail
        what = f"{name} not found" + (f" ({detail})" if detail else "")
        super().__init__(
            f"{what}: install the Debian package '{package}' (apt-get install {package}) or set {self.env_var}"
        )


class ServerStartError(Exception):
    """A server exited or did not become ready in time.

    The message ends with the last lines of the server's log; they are also in
    ``log_tail``, and the whole log is at ``log_path``.
    """

    def __init__(self, name: str, reason: str, log_path: Path | None = None, log_tail: str = ""):
        self.name = name
        self.reason = reason
        self.log_path = log_path
        self.log_tail = log_tail
        message = f"{name}: {reason}"
        if log_path is not None:
            message += f"\n--- last lines of {log_path}:\n{log_tail or '(empty)'}"
        super().__init__(message)


class ServerReloadError(Exception):
    """``POST /-/reload`` was refused or failed (e.g. the new configuration is invalid)."""


# --------------------------------------------------------------------------- binaries


def _canonical(name: str) -> str:
    canonical = _ALIASES.get(name, name)
    if canonical not in PACKAGES:
        raise ValueError(f"unknown server binary {name!r}; known: {', '.join(PACKAGES)}")
    return canonical


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_binary(name: str) -> Path:
    """Locate the binary ``name`` (a key of :data:`PACKAGES`, or ``alertmanager``/``blackbox_exporter``).

    Order: the ``AETHEROPS_*_BIN`` variable (see :data:`ENV_VARS`; when it is
    set it must be right, there is no fallback), then ``PATH`` for the Debian
    name and the upstream name (``.exe`` on Windows), then ``/usr/bin``.

    Raises :class:`MissingBinary` naming the Debian package, or ``ValueError``
    for a name that is not a known server binary.
    """
    canonical = _canonical(name)
    package = PACKAGES[canonical]
    env_var = ENV_VARS[canonical]
    override = os.environ.get(env_var, "").strip()
    if override:
        path = Path(override).expanduser()
        if _is_executable(path):
            return path.resolve()
        if os.sep not in override and "/" not in override:  # a bare command name: look it up on PATH
            found = shutil.which(override)
            if found:
                return Path(found)
        raise MissingBinary(canonical, package, f"{env_var}={override} is not an executable file")

    candidates = list(_CANDIDATES[canonical])
    if sys.platform == "win32":
        candidates += [f"{c}.exe" for c in candidates]
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return Path(found)
    if sys.platform != "win32":
        for candidate in candidates:
            path = Path("/usr/bin") / candidate
            if _is_executable(path):
                return path
    raise MissingBinary(canonical, package)


def require_binary(name: str) -> Path:
    """:func:`find_binary` for tests: a missing binary skips the test, or fails it when ``CI=true``.

    The skip reason names the Debian package to install. Usable in tests and
    fixtures of any project that depends on aetherops.
    """
    try:
        return find_binary(name)
    except MissingBinary as exc:
        import pytest

        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"{exc} (CI=true: a missing server binary is a failure)", pytrace=False)
        pytest.skip(str(exc))
        raise  # not reached: pytest.skip raises


# --------------------------------------------------------------------------- ports and hosts


def _check_loopback(host: str) -> str:
    if host == "localhost":
        return host
    try:
        if ipaddress.ip_address(host.strip("[]")).is_loopback:
            return host.strip("[]")
    except ValueError:
        pass
    raise ValueError(f"test servers bind loopback only, not {host!r} (use 127.0.0.1, ::1 or localhost)")


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now (the OS picks it).

    Another process may take it before you bind it; the ``start_*`` functions
    retry with a new port when that happens and ``port=0`` was asked for.
    """
    host = _check_loopback(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host if host != "localhost" else "127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- running servers


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", errors="replace").splitlines()[-lines:])


def _http_client(timeout: float = 5.0):
    from aetherops.clients.probe import Prober

    # trust_env=False: a proxy from HTTP(S)_PROXY must never see loopback test traffic.
    return Prober(timeout=timeout, trust_env=False)


@dataclass
class RunningServer:
    """A server process started by one of the ``start_*`` functions.

    ``url`` is its base URL (``http://127.0.0.1:PORT``), ``workdir`` holds its
    configuration, data and log, ``config_path`` its configuration file.
    Use it as a context manager, or call :meth:`stop`.
    """

    name: str
    url: str
    port: int
    workdir: Path
    process: subprocess.Popen
    log_path: Path
    config_path: Path | None = None
    host: str = "127.0.0.1"
    reload_supported: bool = True
    args: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        """``host:port``, as written in a Prometheus scrape config or a blackbox ``target``."""
        return _hostport(self.host, self.port)

    @property
    def pid(self) -> int:
        return self.process.pid

    def is_running(self) -> bool:
        """True while the process has not exited."""
        return self.process.poll() is None

    def stop(self, timeout: float = 10) -> int | None:
        """Terminate the process (SIGTERM / TerminateProcess), kill it after ``timeout`` seconds.

        Idempotent; returns the exit code.
        """
        if self.process.poll() is None:
            try:
                self.process.terminate()
            except OSError:  # exited in between
                pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def reload(self, timeout: float = 10) -> None:
        """Make the server re-read its configuration (``POST /-/reload``).

        Prometheus needs ``lifecycle=True``; Alertmanager and blackbox_exporter
        always support it. Raises :class:`ServerReloadError` when the server
        refuses (the new configuration is invalid, the endpoint is disabled).
        """
        if not self.reload_supported:
            raise ServerReloadError(f"{self.name} was started without reload support (start it with lifecycle=True)")
        with _http_client(timeout) as client:
            response = client.request("POST", f"{self.url}/-/reload")
        if response.status_code != 200:
            raise ServerReloadError(f"{self.name} reload failed: HTTP {response.status_code}: {response.text.strip()}")

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last ``lines`` lines of the server's log (stdout and stderr)."""
        return _tail(self.log_path, lines)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else f"exited {self.process.returncode}"
        return f"<RunningServer {self.name} {self.url} pid={self.process.pid} {state}>"


def _dump_yaml(data: Any) -> str:
    try:
        import yaml
    except ImportError:  # JSON is YAML, and every server here reads YAML
        return json.dumps(data, indent=2) + "\n"
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def _write_config(path: Path, config: Mapping[str, Any] | str) -> None:
    text = config if isinstance(config, str) else _dump_yaml(config)
    path.write_text(text, encoding="utf-8")


def _wait_ready(server: RunningServer, paths: Sequence[str], timeout: float) -> None:
    """Poll ``paths`` (the first that is not 404 counts) until one answers 200."""
    deadline = time.monotonic() + timeout
    with _http_client(timeout=1.0) as client:
        while True:
            code = server.process.poll()
            if code is not None:
                raise ServerStartError(server.name, f"exited with code {code} before it was ready", server.log_path, server.log_tail())
            for path in paths:
                status = client.status(server.url + path)
                if status is None:
                    break
                if status == 200:
                    return
                if status != 404:
                    break
            if time.monotonic() >= deadline:
                server.stop()
                raise ServerStartError(
                    server.name, f"not ready at {server.url}{paths[0]} after {timeout:g}s", server.log_path, server.log_tail()
                )
            time.sleep(_POLL_INTERVAL)


def _launch(
    *,
    name: str,
    binary: Path,
    workdir: Path,
    host: str,
    port: int,
    config_path: Path | None,
    write_config: Callable[[int], None],
    build_args: Callable[[str], list[str]],
    ready_paths: Sequence[str],
    ready_timeout: float,
    reload_supported: bool,
) -> RunningServer:
    """Start ``binary`` and wait until it is ready; retry on a port race when the port was ours to choose."""
    host = _check_loopback(host)
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{name}.log"
    attempts = _PORT_ATTEMPTS if port == 0 else 1
    for attempt in range(attempts):
        chosen = port or free_port(host)
        write_config(chosen)
        listen = _hostport(host, chosen)
        args = [str(binary), *build_args(listen)]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                args, cwd=str(workdir), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        server = RunningServer(
            name=name,
            url=f"http://{listen}",
            port=chosen,
            workdir=workdir,
            process=process,
            log_path=log_path,
            config_path=config_path,
            host=host,
            reload_supported=reload_supported,
            args=args,
        )
        try:
            _wait_ready(server, ready_paths, ready_timeout)
        except ServerStartError as exc:
            server.stop()
            in_use = "address already in use" in exc.log_tail.lower() or "only one usage of each socket" in exc.log_tail.lower()
            if in_use and attempt + 1 < attempts:
                continue
            raise
        except BaseException:
            server.stop()
            raise
        return server
    raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------- Prometheus


def start_prometheus(
    workdir: Path | str,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    config: Mapping[str, Any] | str | None = None,
    rule_files: Mapping[str, str] | None = None,
    scrape_targets: Mapping[str, Sequence[str]] | None = None,
    scrape_interval: str = "1s",
    admin_api: bool = True,
    lifecycle: bool = True,
    extra_args: Sequence[str] = (),
    ready_timeout: float = 30,
) -> RunningServer:
    """Start Prometheus in ``workdir`` and wait until ``/-/ready`` answers 200.

    - ``port=0`` picks a free port; the server always binds loopback (``host``).
    - ``config``: the ``prometheus.yml`` content as a dict (or YAML text, used
      verbatim). Default: scrape itself as job ``prometheus``. A dict config
      gets ``global.scrape_interval`` and ``global.evaluation_interval`` set to
      ``scrape_interval`` unless it has its own. To scrape the server itself
      from your own config, pick the port first with :func:`free_port`.
    - ``rule_files``: file name -> rule file YAML text; written beside the
      configuration and listed in its ``rule_files``.
    - ``scrape_targets``: job name -> ``host:port`` targets, added as static
      scrape jobs (e.g. ``{"demo": [demo.target]}``).
    - ``admin_api`` / ``lifecycle``: ``--web.enable-admin-api`` (snapshots,
      deletes) and ``--web.enable-lifecycle`` (``/-/reload``, ``/-/quit``).

    Prometheus is ready within a fraction of a second, but its first scrape
    comes about 5 s later: target discovery hands over new targets in 5 s
    batches (not configurable in 2.x), so poll queries such as
    ``up == 1`` for up to ~10 s.

    Files: ``workdir/prometheus.yml``, TSDB in ``workdir/data``, log in
    ``workdir/prometheus.log``. Raises :class:`MissingBinary` or
    :class:`ServerStartError` (with the log tail: an invalid config or rule
    file ends up there).
    """
    binary = find_binary("prometheus")
    workdir = Path(workdir)
    config_path = workdir / "prometheus.yml"
    data_dir = workdir / "data"

    def write_config(chosen_port: int) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        rule_paths = []
        for filename, text in (rule_files or {}).items():
            path = workdir / filename
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            rule_paths.append(str(path.resolve()))
        if isinstance(config, str):
            if rule_files or scrape_targets:
                raise ValueError("rule_files and scrape_targets need config as a dict (or None), not YAML text")
            _write_config(config_path, config)
            return
        if config is None:
            cfg: dict[str, Any] = {
                "global": {},
                "scrape_configs": [
                    {"job_name": "prometheus", "static_configs": [{"targets": [_hostport(host, chosen_port)]}]},
                ],
            }
        else:
            cfg = copy.deepcopy(dict(config))
        glob = cfg.setdefault("global", {}) or {}
        cfg["global"] = glob
        glob.setdefault("scrape_interval", scrape_interval)
        glob.setdefault("evaluation_interval", scrape_interval)
        if rule_paths:
            cfg["rule_files"] = list(cfg.get("rule_files") or []) + rule_paths
        if scrape_targets:
            jobs = cfg.setdefault("scrape_configs", []) or []
            cfg["scrape_configs"] = jobs
            for job, targets in scrape_targets.items():
                jobs.append({"job_name": job, "static_configs": [{"targets": list(targets)}]})
        _write_config(config_path, cfg)

    def build_args(listen: str) -> list[str]:
        args = [
            f"--config.file={config_path.resolve()}",
            f"--storage.tsdb.path={data_dir.resolve()}",
            f"--web.listen-address={listen}",
        ]
        if admin_api:
            args.append("--web.enable-admin-api")
        if lifecycle:
            args.append("--web.enable-lifecycle")
        return args + list(extra_args)

    return _launch(
        name="prometheus",
        binary=binary,
        workdir=workdir,
        host=host,
        port=port,
        config_path=config_path,
        write_config=write_config,
        build_args=build_args,
        ready_paths=("/-/ready",),
        ready_timeout=ready_timeout,
        reload_supported=lifecycle,
    )


# --------------------------------------------------------------------------- Alertmanager


def start_alertmanager(
    workdir: Path | str,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    config: Mapping[str, Any] | str | None = None,
    extra_args: Sequence[str] = (),
    ready_timeout: float = 30,
) -> RunningServer:
    """Start Alertmanager in ``workdir`` and wait until ``/-/ready`` answers 200.

    ``config`` (dict or YAML text) defaults to :data:`DEFAULT_ALERTMANAGER_CONFIG`:
    one route to a receiver named ``null`` without integrations. Clustering
    is off (``--cluster.listen-address=``), so no gossip port is opened and
    the server is ready at once. Files: ``workdir/alertmanager.yml``,
    silences and notification log in ``workdir/data``, log in
    ``workdir/alertmanager.log``.
    """
    binary = find_binary("prometheus-alertmanager")
    workdir = Path(workdir)
    config_path = workdir / "alertmanager.yml"
    data_dir = workdir / "data"

    def write_config(_port: int) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        data_dir.mkdir(exist_ok=True)
        _write_config(config_path, DEFAULT_ALERTMANAGER_CONFIG if config is None else config)

    def build_args(listen: str) -> list[str]:
        return [
            f"--config.file={config_path.resolve()}",
            f"--storage.path={data_dir.resolve()}",
            f"--web.listen-address={listen}",
            *([] if any(str(a).startswith("--cluster.listen-address=") for a in extra_args) else ["--cluster.listen-address="]),
            *extra_args,
        ]

    return _launch(
        name="alertmanager",
        binary=binary,
        workdir=workdir,
        host=host,
        port=port,
        config_path=config_path,
        write_config=write_config,
        build_args=build_args,
        ready_paths=("/-/ready",),
        ready_timeout=ready_timeout,
        reload_supported=True,
    )


@dataclass
class AlertmanagerCluster:
    """Alertmanager peers of one gossip cluster (see :func:`start_alertmanager_cluster`).

    ``peers`` are :class:`RunningServer` objects (``peers[0].url``...), ``urls`` their base URLs, ``cluster_ports``
    their gossip ports. :meth:`kill` stops one peer hard (a crash: no gossip leave); :meth:`stop` stops them all.
    """

    peers: list[RunningServer]
    cluster_ports: list[int]

    @property
    def urls(self) -> list[str]:
        return [p.url for p in self.peers]

    def kill(self, index: int) -> None:
        """SIGKILL peer ``index`` (TerminateProcess on Windows) and wait for it: a peer that crashed."""
        process = self.peers[index].process
        if process.poll() is None:
            process.kill()
            process.wait(10)

    def stop(self, timeout: float = 2) -> None:
        """Stop every peer. A clustered Alertmanager can take many seconds to leave the gossip after SIGTERM:
        each is killed after ``timeout`` seconds (their state is in a temp dir and thrown away)."""
        for peer in self.peers:
            if peer.process.poll() is None:
                try:
                    peer.process.terminate()
                except OSError:
                    pass
        deadline = time.monotonic() + timeout
        for peer in self.peers:
            try:
                peer.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                peer.process.kill()
                peer.process.wait()

    def wait_gossip(self, timeout: float = 30) -> None:
        """Wait until every running peer's ``/api/v2/status`` says ``ready`` (settled) with all running peers as members."""
        running = [p for p in self.peers if p.is_running()]
        deadline = time.monotonic() + timeout
        with _http_client(timeout=2.0) as client:
            while True:
                members = []
                for peer in running:
                    try:
                        response = client.request("GET", f"{peer.url}/api/v2/status")
                        body = json.loads(response.text) if response.status_code == 200 else {}
                    except Exception:  # noqa: BLE001 - not ready yet
                        body = {}
                    cluster = body.get("cluster") or {}
                    # "settling" until the member list has been stable for a few gossip rounds
                    members.append(len(cluster.get("peers") or []) if cluster.get("status") == "ready" else 0)
                if members and all(n >= len(running) for n in members):
                    return
                if time.monotonic() >= deadline:
                    raise ServerStartError("alertmanager-cluster", f"peers see {members} members, not {len(running)}, "
                                           f"after {timeout:g}s", running[0].log_path, running[0].log_tail())
                time.sleep(0.1)

    def __enter__(self) -> AlertmanagerCluster:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def start_alertmanager_cluster(
    workdir: Path | str,
    *,
    peers: int = 2,
    host: str = "127.0.0.1",
    config: Mapping[str, Any] | str | None = None,
    gossip_interval: str = "50ms",
    pushpull_interval: str = "1s",
    extra_args: Sequence[str] = (),
    ready_timeout: float = 60,
) -> AlertmanagerCluster:
    """Start ``peers`` Alertmanagers forming one gossip cluster (HA), each in ``workdir/peer-N``.

    Each gets its own ``--storage.path``, web port and ``--cluster.listen-address`` (free loopback ports) and
    ``--cluster.peer`` = every other peer; gossip and push-pull intervals are short (``gossip_interval``,
    ``pushpull_interval``) so a silence made on one peer is listed by the others within a second and the
    cluster settles fast. All share ``config`` (default :data:`DEFAULT_ALERTMANAGER_CONFIG`). Returns once
    every peer is ready and sees all the others (``/api/v2/status`` ``cluster.peers``).
    """
    workdir = Path(workdir)
    host = _check_loopback(host)
    ports = [free_port(host) for _ in range(peers)]
    while len(set(ports)) < peers:  # the OS handed the same free port twice
        ports = [free_port(host) for _ in range(peers)]
    started: list[RunningServer] = []
    try:
        for index, port in enumerate(ports):
            others = [f"--cluster.peer={_hostport(host, p)}" for p in ports if p != port]
            started.append(start_alertmanager(
                workdir / f"peer-{index}", host=host, config=config, ready_timeout=ready_timeout,
                extra_args=[f"--cluster.listen-address={_hostport(host, port)}", f"--cluster.advertise-address={_hostport(host, port)}",
                            *others, f"--cluster.gossip-interval={gossip_interval}",
                            f"--cluster.pushpull-interval={pushpull_interval}", "--cluster.settle-timeout=5s",
                            "--cluster.reconnect-interval=1s", *extra_args]))
        cluster = AlertmanagerCluster(started, ports)
        cluster.wait_gossip(ready_timeout)
        return cluster
    except BaseException:
        AlertmanagerCluster(started, ports).stop()
        raise


# --------------------------------------------------------------------------- blackbox_exporter


def start_blackbox(
    workdir: Path | str,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    config: Mapping[str, Any] | str | None = None,
    extra_args: Sequence[str] = (),
    ready_timeout: float = 30,
) -> RunningServer:
    """Start blackbox_exporter in ``workdir`` and wait until it answers.

    ``config`` (dict or YAML text) defaults to :data:`DEFAULT_BLACKBOX_CONFIG`
    (modules ``http_2xx`` and ``tcp_connect``). Probe with
    ``GET {url}/probe?target=HOST:PORT&module=tcp_connect``. Readiness is
    ``/-/ready`` (or ``/`` on versions without it). Files:
    ``workdir/blackbox.yml``, log in ``workdir/blackbox.log``.
    """
    binary = find_binary("prometheus-blackbox-exporter")
    workdir = Path(workdir)
    config_path = workdir / "blackbox.yml"

    def write_config(_port: int) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        _write_config(config_path, DEFAULT_BLACKBOX_CONFIG if config is None else config)

    def build_args(listen: str) -> list[str]:
        return [f"--config.file={config_path.resolve()}", f"--web.listen-address={listen}", *extra_args]

    return _launch(
        name="blackbox",
        binary=binary,
        workdir=workdir,
        host=host,
        port=port,
        config_path=config_path,
        write_config=write_config,
        build_args=build_args,
        ready_paths=("/-/ready", "/"),
        ready_timeout=ready_timeout,
        reload_supported=True,
    )


# --------------------------------------------------------------------------- VictoriaMetrics


def start_victoriametrics(
    workdir: Path | str,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    retention: str = "100y",
    extra_args: Sequence[str] = (),
    ready_timeout: float = 30,
) -> RunningServer:
    """Start single-node VictoriaMetrics in ``workdir`` and wait until ``/health`` answers 200.

    It serves the Prometheus query API (``/api/v1/query``, ``/api/v1/query_range``,
    ``/api/v1/series``) at ``url``. Write samples with :func:`import_prometheus_text`.
    ``-search.latencyOffset=0s`` makes freshly written samples visible at once
    (the default hides the last 30 s); ``retention`` keeps backdated test
    history (default 100 years). Files: data in ``workdir/data``, log in
    ``workdir/victoria-metrics.log``. It has no configuration file and no
    reload endpoint.
    """
    binary = find_binary("victoria-metrics")
    workdir = Path(workdir)
    data_dir = workdir / "data"

    def write_config(_port: int) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)

    def build_args(listen: str) -> list[str]:
        return [
            f"-storageDataPath={data_dir.resolve()}",
            f"-httpListenAddr={listen}",
            f"-retentionPeriod={retention}",
            "-search.latencyOffset=0s",
            *extra_args,
        ]

    return _launch(
        name="victoria-metrics",
        binary=binary,
        workdir=workdir,
        host=host,
        port=port,
        config_path=None,  # it has none
        write_config=write_config,
        build_args=build_args,
        ready_paths=("/health",),
        ready_timeout=ready_timeout,
        reload_supported=False,
    )


def import_prometheus_text(server: RunningServer | str, text: str, *, timeout: float = 60) -> None:
    """Write samples to VictoriaMetrics and make them searchable at once.

    ``text`` is the Prometheus text exposition format, one sample a line, with
    an optional timestamp in **milliseconds** (``metric{a="b"} 1 1700000000000``).
    ``server`` is a :class:`RunningServer` or a base URL. Posts to
    ``/api/v1/import/prometheus``, then calls ``/internal/force_flush``; raises
    ``RuntimeError`` with the server's answer when either is refused.
    """
    url = server.url if isinstance(server, RunningServer) else str(server).rstrip("/")
    with _http_client(timeout) as client:
        response = client.request("POST", f"{url}/api/v1/import/prometheus", content=text.encode("utf-8"))
        if response.status_code not in (200, 204):
            raise RuntimeError(f"import into {url} failed: HTTP {response.status_code}: {response.text.strip()[:300]}")
        response = client.request("GET", f"{url}/internal/force_flush")
        if response.status_code != 200:
            raise RuntimeError(f"force_flush on {url} failed: HTTP {response.status_code}: {response.text.strip()[:300]}")


def backfill_openmetrics(data_dir: Path | str, text: str, *, workdir: Path | str | None = None, timeout: float = 300) -> Path:
    """Write history into a Prometheus TSDB directory before Prometheus starts.

    ``text`` is OpenMetrics text with timestamps in **seconds**; ``# EOF`` is
    appended when missing. Runs ``promtool tsdb create-blocks-from openmetrics
    FILE DATA_DIR`` and returns ``data_dir``. Start Prometheus on it with
    :func:`start_prometheus` (its TSDB is ``workdir/data``, so pass that
    ``workdir``'s ``data``) and, for history older than 15 days, with
    ``extra_args=["--storage.tsdb.retention.time=100y"]`` or it is deleted at
    start-up. Raises ``RuntimeError`` with promtool's output when it refuses.
    """
    promtool = find_binary("promtool")
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(workdir) if workdir is not None else data_dir.parent
    scratch.mkdir(parents=True, exist_ok=True)
    source = scratch / "backfill.om"
    if not text.rstrip().endswith("# EOF"):
        text = text.rstrip("\n") + "\n# EOF\n"
    source.write_text(text, encoding="utf-8")
    done = subprocess.run([str(promtool), "tsdb", "create-blocks-from", "openmetrics", str(source), str(data_dir)],
                          capture_output=True, text=True, timeout=timeout, cwd=str(scratch))
    if done.returncode != 0:
        raise RuntimeError(f"promtool tsdb create-blocks-from openmetrics failed ({done.returncode}): "
                           f"{(done.stderr or done.stdout).strip()[-500:]}")
    return data_dir


# --------------------------------------------------------------------------- demo exporter

_HANDLERS = (
    # handler, method, requests per second, share of 404s, share of 500s
    ("/api/orders", "GET", 6.0, 0.02, 0.005),
    ("/api/orders", "POST", 1.5, 0.0, 0.02),
    ("/api/users", "GET", 3.0, 0.05, 0.002),
    ("/healthz", "GET", 0.5, 0.0, 0.0),
)
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _DemoMetrics:
    """Metrics that move with wall-clock time, advanced lazily on each scrape."""

    def __init__(self, seed: int | None = None):
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._last = self._start - 60.0  # start with a minute of history, so rates exist at once
        self.requests: dict[tuple[str, str, str], int] = {}
        for handler, method, _, p404, p500 in _HANDLERS:
            for code, share in (("200", 1.0), ("404", p404), ("500", p500)):
                if share > 0:
                    self.requests[(code, method, handler)] = 0
        self.bucket_counts = [0] * len(_BUCKETS)
        self.duration_sum = 0.0
        self.duration_count = 0
        self.queue_depth = 0
        self._carry = {key: 0.0 for key in self.requests}
        self.advance()

    def advance(self) -> None:
        with self._lock:
            now = time.monotonic()
            dt = min(max(now - self._last, 0.0), 300.0)
            self._last = now
            rng = self._rng
            for handler, method, rate, p404, p500 in _HANDLERS:
                wave = 1.0 + 0.3 * math.sin((now - self._start) / 90.0)
                for code, share in (("404", p404), ("500", p500), ("200", 1.0 - p404 - p500)):
                    key = (code, method, handler)
                    if key not in self.requests:
                        continue
                    expected = rate * wave * share * dt * rng.uniform(0.7, 1.3) + self._carry[key]
                    n = int(expected)
                    self._carry[key] = expected - n
                    self.requests[key] += n
                    for _ in range(n):
                        self._observe(rng.lognormvariate(math.log(0.04 if code != "500" else 0.8), 0.9))
            # queue depth: a slow wave between about 5 and 45 with some noise
            t = now - self._start
            depth = 25 + 20 * math.sin(2 * math.pi * t / 600.0) + rng.gauss(0, 2)
            self.queue_depth = max(0, int(round(depth)))

    def _observe(self, seconds: float) -> None:
        self.duration_sum += seconds
        self.duration_count += 1
        for i, bound in enumerate(_BUCKETS):
            if seconds <= bound:
                self.bucket_counts[i] += 1

    def render(self) -> str:
        self.advance()
        with self._lock:
            lines = [
                "# HELP demo_http_requests_total Total HTTP requests handled by the demo service.",
                "# TYPE demo_http_requests_total counter",
            ]
            for (code, method, handler), value in sorted(self.requests.items(), key=lambda kv: (kv[0][2], kv[0][1], kv[0][0])):
                lines.append(f'demo_http_requests_total{{code="{code}",method="{method}",handler="{handler}"}} {value}')
            lines += [
                "# HELP demo_queue_depth Jobs waiting in the demo work queue.",
                "# TYPE demo_queue_depth gauge",
                f"demo_queue_depth {self.queue_depth}",
                "# HELP demo_request_duration_seconds Time spent serving demo HTTP requests.",
                "# TYPE demo_request_duration_seconds histogram",
            ]
            for bound, count in zip(_BUCKETS, self.bucket_counts):
                lines.append(f'demo_request_duration_seconds_bucket{{le="{bound:g}"}} {count}')
            lines += [
                f'demo_request_duration_seconds_bucket{{le="+Inf"}} {self.duration_count}',
                f"demo_request_duration_seconds_sum {self.duration_sum:.6f}",
                f"demo_request_duration_seconds_count {self.duration_count}",
                "# HELP demo_build_info Build information of the demo service.",
                "# TYPE demo_build_info gauge",
                'demo_build_info{version="1.4.2",revision="a1b2c3d"} 1',
            ]
        return "\n".join(lines) + "\n"


class DemoExporter:
    """A tiny in-process exporter serving ``/metrics`` (see :func:`start_demo_exporter`).

    ``url`` is the base URL, ``metrics_url`` the scrape URL, ``target`` the
    ``host:port`` for a scrape config. Stop it with :meth:`stop` or a ``with``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int | None = None):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        host = _check_loopback(host)
        metrics = _DemoMetrics(seed)
        self.metrics = metrics

        class Handler(BaseHTTPRequestHandler):
            server_version = "aetherops-demo-exporter/1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._send(200, metrics.render(), _CONTENT_TYPE)
                elif path in ("/-/ready", "/-/healthy"):
                    self._send(200, "OK\n", "text/plain; charset=utf-8")
                elif path == "/":
                    self._send(200, '<html><body><h1>demo exporter</h1><a href="/metrics">metrics</a></body></html>\n',
                               "text/html; charset=utf-8")
                elif path.startswith("/runbooks/") and len(path) > len("/runbooks/"):
                    # the sandbox's demo alerts link here, so their runbook_url answers without leaving the machine
                    name = path.rsplit("/", 1)[-1]
                    self._send(200, f"# Runbook: {name}\n\nA demo runbook served by the sandbox's demo exporter.\n",
                               "text/markdown; charset=utf-8")
                else:
                    self._send(404, "not found\n", "text/plain; charset=utf-8")

            def _send(self, status: int, body: str, content_type: str) -> None:
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

            def server_bind(self) -> None:
                # HTTPServer.server_bind() calls socket.getfqdn(), which can hang on broken DNS.
                import socketserver

                socketserver.TCPServer.server_bind(self)
                self.server_name, self.server_port = host, self.server_address[1]

        self._server = Server((host if host != "localhost" else "127.0.0.1", port), Handler)
        self.host = host
        self.port: int = self._server.server_address[1]
        self.url = f"http://{_hostport(host, self.port)}"
        self.metrics_url = f"{self.url}/metrics"
        self.target = _hostport(host, self.port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"demo-exporter-{self.port}", daemon=True
        )
        self._thread.start()
        self._stopped = False

    def stop(self) -> None:
        """Stop serving and close the socket. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def is_running(self) -> bool:
        return not self._stopped and self._thread.is_alive()

    def __enter__(self) -> DemoExporter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<DemoExporter {self.metrics_url}{'' if self.is_running() else ' stopped'}>"


def start_demo_exporter(*, port: int = 0, host: str = "127.0.0.1", seed: int | None = None) -> DemoExporter:
    """Serve demo metrics on ``http://host:port/metrics`` from a daemon thread of this process.

    The metrics move over time, like a small web service's would:
    ``demo_http_requests_total{code,method,handler}`` (counter),
    ``demo_queue_depth`` (gauge, a slow wave between about 5 and 45),
    ``demo_request_duration_seconds`` (histogram) and ``demo_build_info``.
    ``port=0`` lets the OS pick a port (no race). Also runnable as a process:
    ``python -m aetherops.testing.servers demo-exporter --port N``.
    """
    return DemoExporter(host=host, port=port, seed=seed)


# --------------------------------------------------------------------------- command line


def _main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m aetherops.testing.servers", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo-exporter", help="serve demo metrics on /metrics until interrupted")
    demo.add_argument("--port", type=int, default=0, help="port to listen on (0: pick a free one)")
    demo.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    demo.add_argument("--port-file", type=Path, help="write the chosen port to this file once listening")
    sub.add_parser("which", help="print where each server binary is, or what to install")
    args = parser.parse_args(argv)

    if args.command == "which":
        missing = 0
        for name in PACKAGES:
            try:
                print(f"{name}: {find_binary(name)}")
            except MissingBinary as exc:
                missing += 1
                print(f"{name}: {exc}")
        return 1 if missing else 0

    import signal

    exporter = start_demo_exporter(port=args.port, host=args.host)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if args.port_file:
        args.port_file.write_text(f"{exporter.port}\n", encoding="utf-8")
    print(f"demo exporter listening on {exporter.metrics_url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        exporter.stop()
    return 0


if __name__ == "__main__":
    sys.exit(_main())
