"""Helpers the benchmarks share (not a benchmark itself: `nox -s bench` skips files starting with `_`).

A benchmark is run as `python benchmarks/<name>.py`, so this directory is first on sys.path and
`from _common import ...` finds this module."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def aetherops_command() -> list[str]:
    """The `aetherops` console script of this interpreter (as users run it), else `python -m aetherops`."""
    script = shutil.which("aetherops", path=str(Path(sys.executable).parent)) or shutil.which("aetherops")
    return [script] if script else [sys.executable, "-m", "aetherops"]


def timed(argv: list[str], env: dict) -> float:
    """Wall-clock seconds of one run of `argv`; a failed run ends the benchmark with its error."""
    started = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed
