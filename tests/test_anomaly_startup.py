"""`aetherops anomaly --help` and `anomaly check --help` stay cheap: no numpy, no engine module (the pattern of test_startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_startup import HEAVY, PROBE  # noqa: E402 - the same probe and the same list of heavy modules


@pytest.mark.parametrize("args", [["anomaly", "--help"], ["anomaly", "check", "--help"], ["anomaly", "engines", "--help"]])
def test_anomaly_help_imports_nothing_heavy(args, aetherops_env):
    result = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True, timeout=60)
    assert "--since" in result.stdout or "Commands:" in result.stdout or "List the anomaly engines" in result.stdout, result.stdout
    line = next(x for x in result.stderr.splitlines() if x.startswith("MODULES:"))
    modules = set(json.loads(line.removeprefix("MODULES:")))
    loaded = sorted(m for m in modules if m.split(".")[0] in HEAVY + ("pandas", "prophet", "matplotlib"))
    assert not loaded, f"`aetherops {' '.join(args)}` imported {loaded}"
    anomaly = sorted(m for m in modules if m.startswith("aetherops_plugins.anomaly."))
    assert anomaly == ["aetherops_plugins.anomaly.hookspecs"], anomaly
