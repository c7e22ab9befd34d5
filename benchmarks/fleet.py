"""Fleet fan-out: `aetherops -p p0 ... -p pN health` in one process next to the shell loop it replaces.

Starts a real Prometheus and Alertmanager (temp dirs), writes N profiles pointing at them, then times, alternating:

- `aetherops -p p0 -p p1 ... health` (one process, one thread per profile);
- the peer: `for p in p0 p1 ...; do aetherops -p $p health; done` (N processes, one after the other), what a
  Makefile or CI script does today;
- N processes started at once (`xargs -P`), the best a shell can do.

No target: the figures show what one process saves over a loop (interpreter and plugin start-up, paid once).
Run: python benchmarks/fleet.py [--runs N] [--profiles N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, aetherops_command


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profiles", type=int, default=8)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from aetherops.testing.servers import MissingBinary, start_alertmanager, start_prometheus

    aetherops = aetherops_command()
    names = [f"p{i}" for i in range(args.profiles)]
    with tempfile.TemporaryDirectory(prefix="aetherops-bench-fleet-") as tmp:
        tmp_path = Path(tmp)
        servers = []
        for start in (start_prometheus, start_alertmanager):
            try:
                servers.append(start(tmp_path / start.__name__))
            except MissingBinary as exc:
                for server in servers:
                    server.stop()
                print(f"skipped: {exc}")
                return
        prometheus, alertmanager = servers
        try:
            profiles = tmp_path / "profiles"
            profiles.mkdir()
            for name in names:
                (profiles / f"{name}.yaml").write_text(
                    f"prometheus: {{url: '{prometheus.url}', timeout: 5, retries: 2}}\n"
                    f"alertmanager: {{url: '{alertmanager.url}', timeout: 5, retries: 2}}\n", encoding="utf-8")
            env = {**os.environ, "NO_COLOR": "1", "AETHEROPS_PROFILES_DIR": str(profiles),
                   "AETHEROPS_CONFIG_DIR": str(tmp_path / "config"), "AETHEROPS_STATE_DIR": str(tmp_path / "state"),
                   "PYTHONPYCACHEPREFIX": str(tmp_path / "pycache")}
            env.pop("PYTHONDONTWRITEBYTECODE", None)

            def run(argv: list[str]) -> subprocess.Popen:
                return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)

            def check(proc: subprocess.Popen) -> None:
                _, err = proc.communicate()
                if proc.returncode != 0:
                    raise SystemExit(f"aetherops failed ({proc.returncode}): {err.strip()}")

            fleet_argv = [*aetherops, *[a for n in names for a in ("-p", n)], "health"]

            def fleet() -> None:
                check(run(fleet_argv))

            def loop() -> None:
                for name in names:
                    check(run([*aetherops, "-p", name, "health"]))

            def parallel() -> None:
                for proc in [run([*aetherops, "-p", name, "health"]) for name in names]:
                    check(proc)

            cases = {f"aetherops -p ... ({len(names)} profiles) health": fleet,
                     f"shell loop: {len(names)} x aetherops -p NAME health": loop,
                     f"{len(names)} aetherops processes at once (xargs -P)": parallel}
            for case in cases.values():  # warm the OS cache and .pyc files
                case()
            results: dict[str, list[float]] = {name: [] for name in cases}
            for _ in range(args.runs):
                for name, case in cases.items():
                    results[name].append(timed(case))
        finally:
            alertmanager.stop()
            prometheus.stop()

    medians = {name: statistics.median(values) * 1000 for name, values in results.items()}
    print(f"fleet benchmark, median of {args.runs} runs, {len(names)} profiles on a real Prometheus and Alertmanager, "
          f"{os.cpu_count()} cores")
    for name, ms in medians.items():
        print(f"  {name:<56} {ms:8.1f} ms")
    ours, loop_ms, par_ms = medians.values()
    print(f"fleet / shell loop = {ours / loop_ms:.2f}x; fleet / parallel processes = {ours / par_ms:.2f}x")


if __name__ == "__main__":
    main()
