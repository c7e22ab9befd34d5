"""Benchmark: the burn-rate simulator next to promtool evaluating the same rules over the same series.

For each scenario the series (one sample a minute) and the rules `aetherops slo rules` generates
go into a `promtool test rules` file whose expectations are the simulator's firing and resolving
times for every tier, so promtool both times its own evaluation and confirms that the simulator's
times are identical. Also times the simulator alone on 30 days at 1 s resolution (four tiers).

Run from the project root:  python benchmarks/slo.py  [--hours 24] [--repeat 5]

Prints the numbers (and the core count); asserts nothing.
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

ROOT = Path(__file__).resolve().parent.parent
SPEC = """\
slos:
  - name: bench
    objective: 99.9
    sli:
      error_query: sum(rate(errors_total[{{.window}}]))
      total_query: sum(rate(requests_total[{{.window}}]))
"""
SCENARIOS = ("outage:ratio=1.0,for=10m", "degradation:ratio=0.025,for=6h", "flapping:ratio=1.0,on=1m,off=9m,for=3h")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=24, help="hours simulated after each incident starts (default 24)")
    parser.add_argument("--repeat", type=int, default=5, help="simulator runs per scenario; the median counts (default 5)")
    args = parser.parse_args()

    import yaml

    from aetherops.testing.servers import MissingBinary, find_binary
    from aetherops_plugins.burnrate.parity import promtool_test, simulation_slo
    from aetherops_plugins.burnrate.rules import render
    from aetherops_plugins.burnrate.simulate import Scenario, parse_scenario, run_scenario
    from aetherops_plugins.burnrate.spec import load_file

    try:
        promtool = find_binary("promtool")
    except MissingBinary as exc:
        print(f"skipped: {exc}")
        return 0
    print(f"cores: {os.cpu_count()}  python {sys.version.split()[0]}  promtool {promtool}")
    work = Path(tempfile.mkdtemp(prefix="aetherops-bench-slo-"))
    try:
        (work / "slos.yaml").write_text(SPEC, encoding="utf-8")
        [slo] = load_file(work / "slos.yaml")
        slo = simulation_slo(slo)
        (work / "rules.yml").write_text(render([slo]), encoding="utf-8")
        after = int(args.hours * 3600)
        print(f"{'scenario':44} {'evals':>6} {'promtool s':>11} {'simulator ms':>13} {'ratio':>8}  identical")
        ratios = []
        for text in SCENARIOS:
            scenario = parse_scenario(text, slo.period)
            test, _ = promtool_test(slo, scenario, 60, "rules.yml", warmup=3600, after=after)
            path = work / "test.yml"
            path.write_text(yaml.safe_dump(test, sort_keys=False, width=10**9), encoding="utf-8")
            started = time.perf_counter()
            done = subprocess.run([str(promtool), "test", "rules", str(path)], capture_output=True, text=True, cwd=work)
            promtool_s = time.perf_counter() - started
            sim = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                run_scenario(slo, scenario, 60, warmup=3600, after=after)
                sim.append(time.perf_counter() - started)
            sim_s = statistics.median(sim)
            evals = (3600 + scenario.duration + after) // slo.evaluation_interval
            ratio = promtool_s / sim_s
            ratios.append(ratio)
            print(f"{text:44} {evals:>6} {promtool_s:>11.2f} {sim_s * 1000:>13.2f} {ratio:>7.0f}x  "
                  f"{'yes' if done.returncode == 0 else 'NO: ' + done.stdout.strip().splitlines()[-1]}")
        print(f"median ratio: {statistics.median(ratios):.0f}x (target >= 100x with identical firing times)")
        # the budget: 30 days at 1 s resolution, four tiers, well under a second
        month = Scenario("baseline", 0.0005, 30 * 86400)
        started = time.perf_counter()
        run_scenario(slo, month, 1)
        print(f"simulator, 30 days at 1 s resolution (plus 3-day warm-up and cool-down), 4 tiers: "
              f"{time.perf_counter() - started:.3f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
