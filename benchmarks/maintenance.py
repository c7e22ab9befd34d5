"""Creating a maintenance silence: median wall time of `aetherops maintenance --minutes 30` next to `amtool silence query`
(the peer of issue 15's target) and `amtool silence add`.

Starts its own Alertmanager (real binary, temp dir), writes a profile pointing at it, and runs both
tools as subprocesses, alternating, each run with other matchers so every run creates a silence.
Also times `--dry-run` (same GET, no POST) and `python -c pass` as the interpreter's floor.

Targets: aetherops under 0.25 s (issue 3); within 10x of `amtool silence query` against the same Alertmanager,
in the same run (issue 15). Prints the CPU count: the targets are for a 2-core machine.
Run: python benchmarks/maintenance.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _common import ROOT, aetherops_command, timed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from aetherops.testing.servers import MissingBinary, start_alertmanager
    from benchmarks.startup import install_kind

    aetherops = aetherops_command()
    amtool = shutil.which("amtool")
    with tempfile.TemporaryDirectory(prefix="aetherops-bench-") as tmp:
        tmp_path = Path(tmp)
        try:
            server = start_alertmanager(tmp_path / "alertmanager")
        except MissingBinary as exc:
            print(f"skipped: {exc}")
            return
        try:
            profiles = tmp_path / "profiles"
            profiles.mkdir()
            (profiles / "bench.yaml").write_text(
                f"alertmanager:\n  url: {server.url}\n  timeout: 5\n  retries: 2\n", encoding="utf-8")
            env = {**os.environ, "NO_COLOR": "1", "AETHEROPS_PROFILES_DIR": str(profiles), "AETHEROPS_PROFILE": "bench",
                   "AETHEROPS_CONFIG_DIR": str(tmp_path / "config"), "AETHEROPS_STATE_DIR": str(tmp_path / "state")}
            # Like an installed aetherops (pip writes .pyc files at install): bytecode cached, in a temp dir so the
            # source tree stays clean even when the environment sets PYTHONDONTWRITEBYTECODE.
            cold_env = dict(env)
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(tmp_path / "pycache")

            def ours(i: int, *extra: str) -> list[str]:
                return [*aetherops, "maintenance", "--minutes", "30", "--comment", f"bench {i}", "--match", f'bench="a{i}"', *extra]

            def query() -> list[str]:
                return [amtool, f"--alertmanager.url={server.url}", "silence", "query"]

            def theirs(i: int) -> list[str]:
                return [amtool, f"--alertmanager.url={server.url}", "silence", "add", f'bench="t{i}"', "--duration=30m",
                        f"--comment=bench {i}", "--author=bench"]

            # warm the OS cache and .pyc files
            timed(ours(-1), env)
            if amtool:
                timed(theirs(-1), env)
            results: dict[str, list[float]] = {"python -c pass": [], "aetherops maintenance --minutes 30": [],
                                               "aetherops maintenance --minutes 30 --dry-run": []}
            if cold_env.get("PYTHONDONTWRITEBYTECODE"):
                results["  same, without cached bytecode (PYTHONDONTWRITEBYTECODE as set here)"] = []
            if amtool:
                results["amtool silence query"] = []
                results["amtool silence add"] = []
            for i in range(args.runs):
                results["python -c pass"].append(timed([sys.executable, "-c", "pass"], env))
                results["aetherops maintenance --minutes 30"].append(timed(ours(i), env))
                results["aetherops maintenance --minutes 30 --dry-run"].append(timed(ours(1000 + i, "--dry-run"), env))
                if cold_env.get("PYTHONDONTWRITEBYTECODE"):
                    results["  same, without cached bytecode (PYTHONDONTWRITEBYTECODE as set here)"].append(timed(ours(2000 + i), cold_env))
                if amtool:
                    results["amtool silence query"].append(timed(query(), env))
                    results["amtool silence add"].append(timed(theirs(i), env))
            import httpx

            created = len(httpx.get(f"{server.url}/api/v2/silences", timeout=5).json())
        finally:
            server.stop()

    medians = {name: statistics.median(values) * 1000 for name, values in results.items()}
    load = ", load average %.1f" % os.getloadavg()[0] if hasattr(os, "getloadavg") else ""
    print(f"maintenance benchmark, median of {args.runs} runs, {os.cpu_count()} CPUs{load}, Alertmanager {server.url} "
          f"({created} silences created), {install_kind(env)}")
    for name, ms in medians.items():
        print(f"  {name:<72} {ms:8.1f} ms")
    ours_ms = medians["aetherops maintenance --minutes 30"]
    print(f"aetherops maintenance --minutes 30: {ours_ms / 1000:.3f} s (target < 0.25 s: {'met' if ours_ms < 250 else 'NOT met'})")
    if amtool:
        ratio = ours_ms / medians["amtool silence query"]
        print(f"aetherops maintenance / amtool silence query = {ratio:.1f}x (target <= 10x: {'met' if ratio <= 10 else 'NOT met'})")
        print(f"aetherops maintenance / amtool silence add = {ours_ms / medians['amtool silence add']:.1f}x")
    else:
        print("amtool not found: no ratio")


if __name__ == "__main__":
    main()
