"""Startup stays cheap: --help and `plugins` import no HTTP client, no Grafana/Prometheus client, no numpy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("httpx", "grafana_client", "prometheus_api_client", "numpy", "niquests", "requests", "rich", "yaml", "promql_parser")

PROBE = """
import json, sys
from aetherops.cli import main
try:
    main({args!r})
except SystemExit:
    pass
sys.__stderr__.write("MODULES:" + json.dumps(sorted(sys.modules)) + "\\n")
"""


@pytest.mark.parametrize("args", [["--help"], ["plugins", "--output", "json"], ["maintenance", "--help"], ["backup", "--help"], ["lint", "--help"]])
def test_cheap_commands_import_nothing_heavy(args, aetherops_env):
    result = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True, timeout=60)
    line = next(x for x in result.stderr.splitlines() if x.startswith("MODULES:"))
    modules = set(json.loads(line.removeprefix("MODULES:")))
    loaded = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert not loaded, f"`aetherops {' '.join(args)}` imported {loaded}"
    # and no plugin engine module: hook modules only (and the hookspecs they declare, which import only aetherops)
    engines = sorted(m for m in modules if m.startswith("aetherops_plugins.") and m.count(".") > 1 and not m.endswith(".hookspecs"))
    assert not engines, f"`aetherops {' '.join(args)}` imported plugin engines {engines}"
