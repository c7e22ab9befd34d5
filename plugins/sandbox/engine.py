"""Start, check and stop the sandbox's processes.

Every process is started detached (its own session / process group) so it
outlives the ``aetherops sandbox up`` that started it, and recorded in
``state.json`` with its pid, its creation time and its command line; ``down``
stops only a process whose pid still has the recorded creation time (psutil, on
every OS), never a stranger that reused the pid after a reboot.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from aetherops.errors import ConfigError, ServiceError

DEMO_RULES = """\
groups:
  - name: demo.rules
    interval: 5s
    rules:
      - record: job:demo_http_requests:rate1m
        expr: sum by (job) (rate(demo_http_requests_total[1m]))
      - alert: DemoQueueBacklog
        expr: demo_queue_depth > 40
        for: 30s
        labels:
          severity: warning
        annotations:
          summary: The demo queue is backing up
          description: "Queue depth is {{ $value }} on {{ $labels.instance }}."
          runbook_url: http://127.0.0.1:{demo_port}/runbooks/demo-queue
      - alert: SandboxTargetDown
        expr: up == 0
        for: 1m
        labels:
          severity: critical
        annotations:
          summary: A sandbox target is down
          description: "{{ $labels.job }} on {{ $labels.instance }} has been down for a minute."
          runbook_url: http://127.0.0.1:{demo_port}/runbooks/target-down
"""


@dataclass
class Service:
    name: str
    port: int
    ready_path: str
    command: list[str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _port(url: str, name: str) -> int:
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1") or not parts.port:
        raise ConfigError(f"the sandbox runs on loopback only, but {name}.url is {url}; use -p local or a loopback profile")
    return parts.port


class Sandbox:
    """The sandbox of one profile: its ports, its state dir, its processes."""

    def __init__(self, profile, section: dict, state_root: Path):
        self.profile = profile
        self.section = section
        self.dir = Path(section.get("state_dir") or state_root / "sandbox")
        self.state_file = self.dir / "state.json"
        self.ready_timeout = section.ready_timeout

    @classmethod
    def from_context(cls, ctx) -> Sandbox:
        from aetherops.profiles import state_dir

        return cls(ctx.profile, ctx.section("sandbox"), state_dir())

    # ------------------------------------------------------------ plan
    def services(self) -> list[Service]:
        from aetherops.testing.servers import MissingBinary, find_binary

        data = self.profile.data
        prom_port = _port(data["prometheus"].get("url") or "", "prometheus")
        am_port = _port(data["alertmanager"].get("url") or "", "alertmanager")
        grafana_port = _port(data["grafana"].get("url") or "", "grafana")
        bb_port = _port(data["blackbox"].get("url") or "", "blackbox")
        demo_port = self.section.demo_exporter_port
        try:
            prometheus, alertmanager, blackbox = (find_binary(n) for n in ("prometheus", "prometheus-alertmanager", "prometheus-blackbox-exporter"))
        except MissingBinary as exc:
            raise ConfigError(str(exc)) from None
        d = self.dir
        return [
            Service("demo-exporter", demo_port, "/metrics",
                    [sys.executable, "-m", "aetherops.testing.servers", "demo-exporter", "--port", str(demo_port)]),
            Service("blackbox_exporter", bb_port, "/metrics",
                    [str(blackbox), f"--config.file={d / 'blackbox.yml'}", f"--web.listen-address=127.0.0.1:{bb_port}"]),
            Service("alertmanager", am_port, "/-/ready",
                    [str(alertmanager), f"--config.file={d / 'alertmanager.yml'}", f"--storage.path={d / 'alertmanager-data'}",
                     f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="]),
            Service("prometheus", prom_port, "/-/ready",
                    [str(prometheus), f"--config.file={d / 'prometheus.yml'}", f"--storage.tsdb.path={d / 'prometheus-data'}",
                     f"--web.listen-address=127.0.0.1:{prom_port}", "--web.enable-admin-api", "--web.enable-lifecycle"]),
            Service("grafana-double", grafana_port, "/api/health",
                    [sys.executable, "-m", "aetherops.testing.grafana_double", "--port", str(grafana_port),
                     "--token-file", str(d / "grafana-token"), "--seed-demo"]),
        ]

    def write_configs(self, services: list[Service]) -> None:
        import yaml

        ports = {s.name: s.port for s in services}
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "rules").mkdir(exist_ok=True)
        prometheus = {
            "global": {"scrape_interval": "5s", "evaluation_interval": "5s", "external_labels": {"stack": "aetherops-sandbox"}},
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{ports['alertmanager']}"]}]}]},
            "rule_files": [str(self.dir / "rules" / "*.yml")],
            "scrape_configs": [
                {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{ports['prometheus']}"]}]},
                {"job_name": "demo", "static_configs": [{"targets": [f"127.0.0.1:{ports['demo-exporter']}"]}]},
                {"job_name": "alertmanager", "static_configs": [{"targets": [f"127.0.0.1:{ports['alertmanager']}"]}]},
                {"job_name": "blackbox", "static_configs": [{"targets": [f"127.0.0.1:{ports['blackbox_exporter']}"]}]},
                {"job_name": "blackbox-grafana", "metrics_path": "/probe", "params": {"module": ["http_2xx"]},
                 "static_configs": [{"targets": [f"http://127.0.0.1:{ports['grafana-double']}/api/health"]}],
                 "relabel_configs": [
                     {"source_labels": ["__address__"], "target_label": "__param_target"},
                     {"source_labels": ["__param_target"], "target_label": "instance"},
                     {"target_label": "__address__", "replacement": f"127.0.0.1:{ports['blackbox_exporter']}"}]},
            ],
        }
        alertmanager = {
            "route": {"receiver": "null", "group_by": ["alertname", "job"], "group_wait": "10s", "group_interval": "1m",
                      "repeat_interval": "4h"},
            "receivers": [{"name": "null"}],
        }
        blackbox = {"modules": {"http_2xx": {"prober": "http", "timeout": "5s"}, "tcp_connect": {"prober": "tcp", "timeout": "5s"}}}
        for name, data in (("prometheus.yml", prometheus), ("alertmanager.yml", alertmanager), ("blackbox.yml", blackbox)):
            _atomic_write(self.dir / name, yaml.safe_dump(data, sort_keys=False))
        _atomic_write(self.dir / "rules" / "demo.yml", DEMO_RULES.replace("{demo_port}", str(ports["demo-exporter"])))
        token_file = self.dir / "grafana-token"
        if not token_file.exists():
            _atomic_write(token_file, "glsa_sandbox_" + secrets.token_hex(16) + "\n")
            try:
                token_file.chmod(0o600)
            except OSError:
                pass

    # ------------------------------------------------------------ state
    def _load_state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            raise ConfigError("sandbox state is corrupt; stop the processes by hand and delete it", path=self.state_file) from None

    def _save_state(self, state: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.state_file, json.dumps(state, indent=2) + "\n")

    # ------------------------------------------------------------ commands
    def up(self, note: Callable[[str], None] = lambda m: None) -> list[dict]:
        services = self.services()
        state = self._load_state()
        self.write_configs(services)
        started: list[str] = []
        try:
            for service in services:
                record = state.get(service.name)
                if record and _running(record):
                    continue
                if _port_in_use(service.port):
                    raise ConfigError(f"port {service.port} for the sandbox's {service.name} is in use by another program; "
                                      f"stop it, or copy profile '{self.profile.name}' into ./profiles/ and change the port "
                                      "there (aetherops profiles show shows where it is read from)", path=self.profile.path)
                log = self.dir / f"{service.name}.log"
                process = _spawn(service.command, log, cwd=self.dir)
                state[service.name] = {"pid": process.pid, "port": service.port, "url": service.url, "command": service.command,
                                       "log": str(log), "ready_path": service.ready_path, "started": time.time(),
                                       "create_time": _create_time(process.pid)}
                started.append(service.name)
                self._save_state(state)
                self._wait_ready(service, process, log)
                note(f"started {service.name} on {service.url} (pid {process.pid})")
        except BaseException:
            for name in reversed(started):
                _stop(state.pop(name))
            self._save_state(state)
            raise
        note(f"sandbox up: profile '{self.profile.name}', data and logs in {self.dir}")
        return self.status()

    def _wait_ready(self, service: Service, process: subprocess.Popen, log: Path) -> None:
        from aetherops.clients.probe import is_ready

        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServiceError(f"sandbox {service.name} exited with code {process.returncode}: {_tail(log)}")
            if is_ready(service.url + service.ready_path, timeout=1.0):
                return
            time.sleep(0.1)
        raise ServiceError(f"sandbox {service.name} not ready on {service.url} after {self.ready_timeout:g}s: {_tail(log)}")

    def status(self) -> list[dict]:
        from aetherops.clients.probe import is_ready

        rows = []
        for name, record in self._load_state().items():
            running = _running(record)
            ready = running and is_ready(record["url"] + record["ready_path"], timeout=2.0)
            rows.append({"service": name, "url": record["url"], "pid": record["pid"], "running": running, "ready": ready,
                         "log": record["log"]})
        return rows

    def down(self, note: Callable[[str], None] = lambda m: None) -> list[dict]:
        state = self._load_state()
        rows = []
        for name in reversed(list(state)):
            record = state[name]
            stopped = _stop(record)
            rows.append({"service": name, "pid": record["pid"], "stopped": stopped})
            note(f"stopped {name} (pid {record['pid']})" if stopped else f"{name} (pid {record['pid']}) was not running")
        if self.state_file.exists():
            self.state_file.unlink()
        return rows


# ---------------------------------------------------------------- processes
def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _spawn(command: list[str], log: Path, cwd: Path) -> subprocess.Popen:
    kwargs: dict = {}
    if sys.platform == "win32":
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS
    else:
        kwargs["start_new_session"] = True
    with open(log, "ab") as fh:
        return subprocess.Popen(command, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=str(cwd), **kwargs)


def _tail(log: Path, lines: int = 3) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(line.strip() for line in text[-lines:]) or "(empty log)"


def _port_in_use(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


#: seconds two readings of one process's creation time may differ (Linux derives it from boot time + clock ticks)
CREATE_TIME_TOLERANCE = 1.0


def _create_time(pid: int) -> float | None:
    """The process's creation time (seconds since the epoch, as psutil reports it on every OS), None if gone."""
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def _process(record: dict):
    """The psutil.Process of the record, or None unless its pid still runs the process ``up`` started.

    The creation time recorded at ``up`` must match (a pid reused after a reboot or a crash has another one);
    a record from an older aetherops without it falls back to comparing the program name."""
    import psutil

    try:
        proc = psutil.Process(int(record["pid"]))
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        expected = record.get("create_time")
        if expected is not None:
            return proc if abs(proc.create_time() - float(expected)) <= CREATE_TIME_TOLERANCE else None
        argv = proc.cmdline()
        program = os.path.basename(str(record["command"][0]))
        return proc if argv and os.path.basename(argv[0]) == program else None
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, ValueError, KeyError, IndexError):
        return None


def _running(record: dict) -> bool:
    """True when the recorded pid is alive and is still the process that ``up`` started."""
    return _process(record) is not None


def _stop(record: dict, timeout: float = 10.0) -> bool:
    """Terminate the recorded process (then kill it after ``timeout``). False if it was not running."""
    import psutil

    proc = _process(record)
    if proc is None:
        return False
    try:
        proc.terminate()
        try:
            proc.wait(timeout)  # also reaps it when up and down run in the same process (tests)
        except psutil.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    except psutil.NoSuchProcess:
        pass
    except (psutil.AccessDenied, psutil.TimeoutExpired):
        return False
    return True
