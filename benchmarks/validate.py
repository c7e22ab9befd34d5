"""The pre-deploy gate: median wall time of `aetherops validate` next to the script it replaces.

Starts its own Prometheus (200 recording rules in 20 groups) and Alertmanager, writes a profile naming their
config files, and times, alternating: `aetherops validate` (files, lint, promtool/amtool, health, loaded rules,
running Alertmanager config, secrets, version pins) and a `validate-alerting.sh`-style bash script (test -f,
promtool check config/rules, amtool check-config, curl on readiness, rules, status, build info), which checks
less (no lint, no comparison of what runs with the files). Also `aetherops health` and `python -c pass` as floors.

Run: python benchmarks/validate.py [--runs N]
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
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from aetherops.testing.servers import MissingBinary, start_alertmanager, start_prometheus

    aetherops = aetherops_command()
    rules = "groups:\n" + "".join(
        f"- name: g{i}\n  rules:\n" + "".join(f"  - record: job:m{i}_{j}:sum\n    expr: sum by (job) (up)\n" for j in range(10))
        for i in range(20))
    with tempfile.TemporaryDirectory(prefix="aetherops-bench-") as tmp:
        tmp_path = Path(tmp)
        try:
            prom = start_prometheus(tmp_path / "prometheus", rule_files={"rules/r.yml": rules})
            am = start_alertmanager(tmp_path / "alertmanager")
        except MissingBinary as exc:
            print(f"skipped: {exc}")
            return
        try:
            profiles = tmp_path / "profiles"
            profiles.mkdir()
            (profiles / "bench.yaml").write_text(
                f"prometheus: {{url: '{prom.url}', config_file: '{prom.config_path}'}}\n"
                f"alertmanager: {{url: '{am.url}', config_file: '{am.config_path}'}}\n"
                "versions: {prometheus: '2', alertmanager: '>=0.20'}\n", encoding="utf-8")
            env = {**os.environ, "NO_COLOR": "1", "AETHEROPS_PROFILES_DIR": str(profiles), "AETHEROPS_PROFILE": "bench",
                   "AETHEROPS_CONFIG_DIR": str(tmp_path / "config"), "AETHEROPS_STATE_DIR": str(tmp_path / "state"),
                   "PYTHONPYCACHEPREFIX": str(tmp_path / "pycache")}
            env.pop("PYTHONDONTWRITEBYTECODE", None)  # like an installed aetherops: bytecode cached
            rule_file = prom.workdir / "rules" / "r.yml"
            peer = None
            if shutil.which("bash") and shutil.which("curl") and shutil.which("promtool") and shutil.which("amtool"):
                peer = ["bash", "-c", "set -e\n"
                        f"test -f '{prom.config_path}'; test -f '{rule_file}'; test -f '{am.config_path}'\n"
                        f"promtool check config --syntax-only '{prom.config_path}' >/dev/null\n"
                        f"promtool check rules '{rule_file}' >/dev/null\n"
                        f"amtool check-config '{am.config_path}' >/dev/null\n"
                        f"curl -fsS {prom.url}/-/ready >/dev/null; curl -fsS {am.url}/-/ready >/dev/null\n"
                        f"curl -fsS {prom.url}/api/v1/rules >/dev/null; curl -fsS {am.url}/api/v2/status >/dev/null\n"
                        f"curl -fsS {prom.url}/api/v1/status/buildinfo >/dev/null\n"]
            commands = {"python -c pass": [sys.executable, "-c", "pass"], "aetherops health": [*aetherops, "health"],
                        "aetherops validate": [*aetherops, "validate"]}
            if peer:
                commands["validate-alerting.sh-style bash script"] = peer
            for argv in commands.values():  # warm the OS cache and .pyc files
                timed(argv, env)
            results: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(args.runs):
                for name, argv in commands.items():
                    results[name].append(timed(argv, env))
        finally:
            prom.stop()
            am.stop()

    medians = {name: statistics.median(values) * 1000 for name, values in results.items()}
    print(f"validate benchmark, median of {args.runs} runs, {os.cpu_count()} cores, 200 rules in 20 groups")
    for name, ms in medians.items():
        print(f"  {name:<48} {ms:8.1f} ms")
    if peer:
        ratio = medians["aetherops validate"] / medians["validate-alerting.sh-style bash script"]
        print(f"aetherops validate / bash script = {ratio:.1f}x (the script checks less: no lint, no drift check)")
    else:
        print("bash, curl, promtool or amtool not found: no ratio")


if __name__ == "__main__":
    main()
