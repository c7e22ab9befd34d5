"""Benchmark: `aetherops probe` of 1,000 loopback HTTP targets (half answering after 50 ms), next to the
same targets through blackbox_exporter's /probe endpoint driven with the same concurrency, and next to
the physical limit (the targets' latencies / concurrency).

Run from the project root:  python benchmarks/probe.py  [--targets 1000] [--latency-ms 50] [--concurrency 64] [--runs 3]

The target server (asyncio, one process) and blackbox_exporter run as child processes. Measured, best of
--runs each:
- the real command `python -m aetherops probe` in a child process (startup + 1,000 probes), locally and
  with --exporter (the same command, probing through blackbox_exporter),
- the probing alone, in this process, through the engine the command runs (local and exporter routes).
Also printed: aetherops' CPU per probe (in-process: this process's CPU time over the best run) and the
load average, since on a shared 2-core machine other work stretches the wall time of the same CPU.
Prints the numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERVER = r"""
import asyncio, sys
latency = float(sys.argv[1]) / 1000.0
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"

async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if head.split(b" ", 2)[1].startswith(b"/slow/"):
                await asyncio.sleep(latency)
            writer.write(RESPONSE)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, IndexError):
        pass
    finally:
        writer.close()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import yaml

    from aetherops.testing.servers import start_blackbox

    server = subprocess.Popen([sys.executable, "-c", SERVER, str(args.latency_ms)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline())
    work = Path(tempfile.mkdtemp(prefix="aetherops-bench-probe-"))
    exporter = start_blackbox(work / "blackbox", config={"modules": {"http_2xx": {
        "prober": "http", "timeout": "10s", "http": {"preferred_ip_protocol": "ip4"}}}})
    try:
        targets = [f"http://127.0.0.1:{port}/{'slow' if i % 2 else 'fast'}/{i:04d}" for i in range(args.targets)]
        slow = sum(1 for t in targets if "/slow/" in t)
        profiles = work / "profiles"
        profiles.mkdir()
        (profiles / "bench.yaml").write_text(yaml.safe_dump({
            "blackbox": {"url": exporter.url, "timeout": 30, "retries": 1},
            "probes": [{"name": f"t{i:04d}", "target": t, "module": "http_2xx"} for i, t in enumerate(targets)],
        }), encoding="utf-8")
        env = {**os.environ, "AETHEROPS_PROFILES_DIR": str(profiles), "AETHEROPS_PROFILE": "bench",
               "AETHEROPS_CONFIG_DIR": str(work / "config"), "NO_COLOR": "1"}

        def command(*extra: str):
            def run():
                done = subprocess.run([sys.executable, "-m", "aetherops", "probe", "--concurrency", str(args.concurrency),
                                       "--timeout", "10s", "-o", "json", *extra], env=env, capture_output=True, text=True)
                if done.returncode != 0:
                    raise SystemExit(f"aetherops probe {' '.join(extra)} failed ({done.returncode}): {done.stderr[-500:]}")
            return run

        from aetherops_plugins.probe.config import build_modules
        from aetherops_plugins.probe.engine import ProbeJob, ProbeOptions, run_local
        from aetherops_plugins.probe.exporter import probe_via_exporter
        from aetherops_plugins.probe.http_prober import HTTPProber

        modules = build_modules({"http_2xx": {"prober": "http", "http": {"preferred_ip_protocol": "ip4"}}},
                                lambda keypath: ("bench", None), {"http": HTTPProber()}, source="bench")
        jobs = [ProbeJob(name=t, target=t, module="http_2xx") for t in targets]
        opts = ProbeOptions(concurrency=args.concurrency, timeout=10.0)

        def engine_local():
            results = asyncio.run(run_local(jobs, modules, opts))
            assert all(r["success"] for r in results), [r["reason"] for r in results if not r["success"]][:3]

        def engine_exporter():
            from concurrent.futures import ThreadPoolExecutor

            from aetherops.clients.http import HTTPService
            from aetherops.profiles import ServiceConfig

            client = HTTPService(ServiceConfig(name="blackbox", url=exporter.url, timeout=30, retries=1))
            with ThreadPoolExecutor(args.concurrency) as pool:
                results = list(pool.map(lambda job: probe_via_exporter(client, job, 10.0), jobs))
            client.close()
            assert all(r["success"] for r in results), [r["reason"] for r in results if not r["success"]][:3]

        engine_local()  # warm-up (DNS caches, page cache, the exporter's first requests)
        cli_local = best_of(args.runs, command())
        cli_exporter = best_of(args.runs, command("--exporter"))
        cpu_started = time.process_time()
        probe_local = best_of(args.runs, engine_local)
        cpu_per_probe_ms = (time.process_time() - cpu_started) * 1000.0 / args.runs / args.targets
        probe_exporter = best_of(args.runs, engine_exporter)
    finally:
        exporter.stop()
        server.stdin.close()
        server.wait(10)

    limit = slow * args.latency_ms / 1000.0 / args.concurrency
    limit_all = args.targets * args.latency_ms / 1000.0 / args.concurrency
    print(f"cores: {os.cpu_count()}  targets: {args.targets} ({slow} answering after {args.latency_ms:g} ms)  "
          f"concurrency: {args.concurrency}  best of {args.runs}  load average: "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg()) if hasattr(os, 'getloadavg') else 'n/a'}")
    print(f"physical limit (sum of latencies / concurrency):  {limit:.3f} s"
          f"   (every target at {args.latency_ms:g} ms: {limit_all:.3f} s)")
    print(f"probing, in-process   aetherops: {probe_local:.3f} s   via blackbox_exporter /probe: {probe_exporter:.3f} s   "
          f"ratio exporter/aetherops: {probe_exporter / probe_local:.2f}x   aetherops/limit: {probe_local / limit:.2f}x   "
          f"cpu {cpu_per_probe_ms:.3f} ms/probe")
    print(f"whole command         aetherops probe: {cli_local:.3f} s   aetherops probe --exporter: {cli_exporter:.3f} s   "
          f"ratio: {cli_exporter / cli_local:.2f}x   aetherops probe/limit: {cli_local / limit:.2f}x (with Python's startup)")


if __name__ == "__main__":
    main()
