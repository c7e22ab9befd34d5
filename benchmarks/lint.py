"""aetherops lint vs promtool check rules on three 10,000-rule files (realistic, many findings, short rules).

Run from the project root: ``python benchmarks/lint.py [--rules N] [--repeat K]``. Prints the wall time of
``aetherops lint`` (a subprocess of the console script, every offline check on) and of ``promtool check rules`` on
the same file, each the median of K interleaved runs, and their ratio (target: <= 1.0).
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


def generate(n: int, findings: bool = False) -> str:
    """A realistic rule file: recording rules by job, alerts with guards, labels, annotations and runbooks.

    ``findings``: the same file made to produce many findings (about 3 per rule: `[1m]` windows shorter than 4x the
    scrape interval, alerts without `for`, severity `page` outside the allowed set), to time finding construction,
    suppression and output rendering too."""
    window = "1m" if findings else "5m"
    out = ["groups:"]
    per_group = 50
    for g in range(max(1, n // per_group)):
        out += [f"  - name: service-{g}", "    interval: 1m", "    rules:"]
        for i in range(per_group):
            k = g * per_group + i
            svc = f"svc_{k % 997}"
            if i % 2 == 0:
                out += [f"      - record: job:{svc}_requests:rate5m",
                        f"        expr: sum by (job) (rate({svc}_http_requests_total{{code=~\"5..\",env=\"prod\"}}[{window}]))",
                        "        labels:", f"          team: team-{k % 13}"]
            else:
                out += [f"      - alert: Service{k}HighErrorRate",
                        "        expr: |",
                        f"          sum by (job, instance) (rate({svc}_http_errors_total[{window}]))",
                        f"            / sum by (job, instance) (rate({svc}_http_requests_total[{window}])) > 0.05",
                        f"          and sum by (job, instance) (rate({svc}_http_requests_total[{window}])) > 1"]
                out += [] if findings else ["        for: 10m"]
                out += ["        labels:", f"          severity: {'page' if findings else 'warning'}", f"          team: team-{k % 13}",
                        "        annotations:",
                        "          summary: High error rate on {{ $labels.job }}",
                        "          description: Error ratio is {{ $value | humanizePercentage }} on {{ $labels.instance }}.",
                        f"          runbook_url: https://runbooks.example.com/Service{k}HighErrorRate"]
    return "\n".join(out) + "\n"


def generate_short(n: int) -> str:
    """The light shape where promtool is fast: ``n`` short rules, half recording rules dividing two rates, half alerts on
    them with a short summary and a runbook_url but no description (so about one finding per alert)."""
    out = ["groups:"]
    per_group = 50
    for g in range(max(1, n // per_group)):
        out += [f"  - name: short-{g}", "    rules:"]
        for i in range(0, per_group, 2):
            k = g * per_group + i
            out += [f"      - record: job:m{k}_errors:ratio_rate5m",
                    f"        expr: sum by (job) (rate(m{k}_errors_total[5m])) / sum by (job) (rate(m{k}_requests_total[5m]))",
                    f"      - alert: M{k}Errors",
                    f"        expr: job:m{k}_errors:ratio_rate5m > 0.05",
                    "        for: 10m",
                    "        labels:",
                    "          severity: warning",
                    "        annotations:",
                    "          summary: Errors on {{ $labels.job }}",
                    f"          runbook_url: https://runbooks.example.com/M{k}Errors"]
    return "\n".join(out) + "\n"


def timed(cmd: list[str]) -> tuple[float, int, str]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", errors="replace")
    return time.perf_counter() - started, proc.returncode, (proc.stdout.strip().splitlines() or [""])[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    exe = shutil.which("aetherops", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if not exe:
        print("aetherops console script not found (pip install -e .)")
        return 1
    promtool = shutil.which("promtool")
    ratios: list[tuple[str, float]] = []
    print(f"cores: {os.cpu_count()} (aetherops lint uses up to {min(4, os.cpu_count() or 1)} processes on big files; "
          "promtool is one Go process using every core)")
    with tempfile.TemporaryDirectory(prefix="aetherops-lint-bench-") as tmp:
        shapes = (("issue's file (no findings)", "rules.yml", lambda n: generate(n, False)),
                  ("many-findings file", "findings.yml", lambda n: generate(n, True)),
                  ("short rules (light)", "short.yml", generate_short))
        for label, name, make in shapes:
            path = Path(tmp) / name
            path.write_text(make(args.rules), encoding="utf-8")
            print(f"== {label}: {args.rules} rules, {path.stat().st_size / 1e6:.1f} MB, "
                  f"{sum(1 for _ in path.open(encoding='utf-8'))} lines")
            ours, theirs = [], []
            summary = ""
            for _ in range(args.repeat):
                t, code, summary = timed([exe, "lint", str(path), "--severity-threshold", "error"])
                if code not in (0, 1):
                    print(f"aetherops lint failed with exit {code}")
                    return 1
                ours.append(t)
                if promtool:
                    t, code, _ = timed([promtool, "check", "rules", str(path)])
                    theirs.append(t)
            a = statistics.median(ours)
            print(f"aetherops lint (all offline checks): {a:.3f} s  (runs: {', '.join(f'{x:.2f}' for x in ours)})  -> {summary}")
            if theirs:
                p = statistics.median(theirs)
                print(f"promtool check rules:                {p:.3f} s  (runs: {', '.join(f'{x:.2f}' for x in theirs)})")
                print(f"ratio aetherops/promtool:            {a / p:.2f}  (target <= 1.00)")
                ratios.append((label, a / p))
            else:
                print("promtool not found: no comparison")
        for label, r in ratios:
            print(f"ratio {label}: {r:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
