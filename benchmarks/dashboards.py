"""Benchmark: `aetherops dashboards push` of 1,000 dashboards in 50 folders to the Grafana double at 20 ms per
request: the first push (everything created) and the no-op second push, each against the physical limit
(requests x latency / concurrency), printed as a ratio (target: within 1.5x).

Run from the project root:  python benchmarks/dashboards.py  [--dashboards 1000] [--folders 50] [--latency-ms 20]

The double runs in a child process (so its CPU time is not the GIL's); the push is the engine the command
calls, in this process, with its requests counted on the client. Prints the numbers; asserts nothing.
Also printed: the client's CPU per dashboard (this process: reading files, planning, HTTP), the double's
(where /proc tells) and the load average, since on a shared 2-core machine other work stretches the wall time
of the same CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TOKEN = "glsa_benchmark_token_0123456789"


def child_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of a child process so far, where /proc tells (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def write_tree(root: Path, n_dash: int, n_folders: int) -> None:
    ds = {"type": "prometheus", "uid": "prometheus"}
    for i in range(n_dash):
        folder = root / f"team-{i % n_folders:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        panels = [{"id": p + 1, "type": "timeseries", "title": f"Panel {p} of service {i}", "datasource": ds,
                   "targets": [{"expr": f'sum(rate(http_requests_total{{service="svc-{i}"}}[5m]))', "refId": "A"}]}
                  for p in range(6)]
        (folder / f"svc-{i:04d}.json").write_text(json.dumps({"uid": f"svc-{i:04d}", "title": f"Service {i}",
                                                             "panels": panels}), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dashboards", type=int, default=1000)
    parser.add_argument("--folders", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["AETHEROPS_STATE_DIR"] = str(Path(tmp) / "state")
        from aetherops.clients.grafana import GrafanaClient
        from aetherops.profiles import ServiceConfig
        from aetherops_plugins.dashboards import engine

        root = Path(tmp) / "dashboards"
        write_tree(root, args.dashboards, args.folders)
        child = subprocess.Popen([sys.executable, "-m", "aetherops.testing.grafana_double", "--port", "0", "--token", TOKEN,
                                  "--latency-ms", str(args.latency_ms)], stderr=subprocess.PIPE, text=True)
        url = re.search(r"listening on (\S+)", child.stderr.readline()).group(1)
        client = GrafanaClient(ServiceConfig(name="grafana", url=url, bearer_token=TOKEN, timeout=30))
        counted = [0]
        lock = threading.Lock()
        send = client.request

        def request(*a, **kw):
            with lock:
                counted[0] += 1
            return send(*a, **kw)

        client.request = request
        print(f"cores: {os.cpu_count()}  dashboards: {args.dashboards}  folders: {args.folders}  "
              f"latency: {args.latency_ms:g} ms  concurrency: {engine.WORKERS}  "
              f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg()) if hasattr(os, 'getloadavg') else 'n/a'}")
        try:
            for label in ("first push", "second push (no-op)"):
                before = counted[0]
                server_before = child_cpu(child.pid)
                start, cpu = time.perf_counter(), time.process_time()
                report = engine.push(client, root, folder=None, bindings={}, dry_run=False, diff=False, force=False,
                                     url=url)
                wall = time.perf_counter() - start
                cpu_ms = (time.process_time() - cpu) * 1000 / args.dashboards
                requests = counted[0] - before
                server_after = child_cpu(child.pid)
                server = (f"  server cpu {(server_after - server_before) * 1000 / args.dashboards:.2f} ms/dashboard"
                          if server_before is not None and server_after is not None else "")
                limit = requests * args.latency_ms / 1000 / engine.WORKERS
                print(f"{label:<20} {wall:6.2f} s  {requests:5d} requests  limit {limit:5.2f} s  "
                      f"ratio {wall / limit:4.2f}x  client cpu {cpu_ms:.2f} ms/dashboard{server}  {report.counts()}")
        finally:
            client.close()
            child.terminate()
            child.wait(timeout=10)


if __name__ == "__main__":
    main()
