"""Startup cost: median wall time of `aetherops --help` next to a bare `python -c pass`, in the same run.

Target (issue 15): `aetherops --help` within 3x of `python -c pass`. `aetherops --help` is answered from the help
cache (aetherops/__main__.py) once warm; `aetherops plugins --help` shows what building the whole CLI (click, pluggy,
every plugin's hook module) costs, as a first `--help` or any command pays it.
Timed like an installed aetherops (pip writes .pyc files at install): PYTHONDONTWRITEBYTECODE is dropped and bytecode
cached in a temp dir, so an editable install's source tree stays clean. `nox -s bench` measures a regular install.
Run: python benchmarks/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: every command runs from an empty dir: from the source tree, `python -m aetherops` would import ./aetherops, not
#: the install being measured (the dir also holds the bytecode cache, see main)
CWD = tempfile.mkdtemp(prefix="aetherops-bench-")


def one_ms(argv: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=CWD, check=False)
    return (time.perf_counter() - started) * 1000


def medians(cases: dict[str, list[str]], runs: int, env: dict) -> dict[str, float]:
    """Runs are interleaved (a, b, c, a, b, c, ...) so background load hits every case alike."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, argv in cases.items():
            times[name].append(one_ms(argv, env))
    return {name: statistics.median(values) for name, values in times.items()}


def install_kind(env: dict) -> str:
    """Which aetherops this interpreter runs: an editable install (setuptools' finder, imported by `site` on every
    Python start, python -c pass included) or a regular one (what `nox -s bench` measures)."""
    done = subprocess.run([sys.executable, "-c", "import aetherops; print(aetherops.__file__)"], capture_output=True,
                          text=True, env=env, cwd=CWD, check=False)
    where = done.stdout.strip()
    return f"{'regular' if '-packages' in where else 'editable'} install ({where or 'not importable'}, {sys.executable})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPYCACHEPREFIX": os.path.join(CWD, "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    script = shutil.which("aetherops", path=str(Path(sys.executable).parent)) or shutil.which("aetherops")
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "aetherops --help": [script, "--help"] if script else [sys.executable, "-m", "aetherops", "--help"],
        "python -m aetherops --help": [sys.executable, "-m", "aetherops", "--help"],
        "aetherops plugins": [script, "plugins"] if script else [sys.executable, "-m", "aetherops", "plugins"],
        "aetherops plugins --help": [script, "plugins", "--help"] if script else [sys.executable, "-m", "aetherops", "plugins", "--help"],
    }
    for argv in cases.values():  # warm the OS cache, .pyc files and the entry-point cache
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=CWD, check=False)
    results = medians(cases, args.runs, env)
    base = results["python -c pass"]
    load = ", load average %.1f" % os.getloadavg()[0] if hasattr(os, "getloadavg") else ""
    print(f"startup benchmark, median of {args.runs} runs, {os.cpu_count()} CPUs{load}, {install_kind(env)}")
    for name, ms in results.items():
        print(f"  {name:<28} {ms:8.1f} ms   {ms / base:5.2f}x python -c pass")
    ratio = results["aetherops --help"] / base
    print(f"aetherops --help / python -c pass = {ratio:.2f} (target <= 3.0: {'met' if ratio <= 3.0 else 'NOT met'})")
    breakdown(cases["aetherops --help"], env)
    breakdown(cases["aetherops plugins --help"], env)


#: the top-level imports of `aetherops --help` worth watching (python -X importtime, cumulative microseconds)
WATCHED = ("site", "__editable___aetherops_0_1_0_finder", "aetherops", "aetherops.__main__", "pluggy", "click", "aetherops.cli",
           "aetherops.plugins")


def breakdown(argv: list[str], env: dict, runs: int = 7) -> None:
    """Where `aetherops --help` spends its import time: the smallest of `runs` readings per module (an editable
    install pays setuptools' finder, which imports pathlib, inside `site`; a wheel install does not)."""
    best: dict[str, int] = {}
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-X", "importtime", *argv[1:]] if argv[0] == sys.executable else
                              [sys.executable, "-X", "importtime", argv[0], *argv[1:]],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=CWD, check=False)
        for line in done.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[2].strip() in WATCHED:
                name, cumulative = parts[2].strip(), int(parts[1])
                best[name] = min(best.get(name, cumulative), cumulative)
    command = " ".join(["aetherops", *argv[1:]] if argv[0] != sys.executable else argv[2:])
    print(f"import time of `{command}` (cumulative, best of {runs}): "
          + ", ".join(f"{name} {best[name] / 1000:.1f} ms" for name in WATCHED if name in best))


if __name__ == "__main__":
    main()
