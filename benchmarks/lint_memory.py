"""Memory and time of ``aetherops lint`` on big rule files: peak RSS against the file's size, and time per MB.

Run from the project root: ``python benchmarks/lint_memory.py [--rules N ...]``. For each size (default 41,250 and
165,000 rules, the biggest about 65 MB: the issue's "50 MB, 165k-rule" case made with benchmarks/lint.py's
generator) it writes the file, runs ``aetherops lint FILE`` and ``promtool check rules FILE`` (the peer, same file,
same run) and prints each one's peak resident memory (the largest process of the run: lint's forked workers share
the parent's pages), that peak divided by the file size (target for aetherops: <= 10x), and seconds per MB (linear
time: the figure stays about the same from the small file to the big one). POSIX only (``os.wait4``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lint import generate  # noqa: E402 - the same realistic rule file as benchmarks/lint.py


def peak(cmd: list[str]) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit code) of one run."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, proc.returncode  # ru_maxrss is in KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, nargs="+", default=[41_250, 165_000])
    args = parser.parse_args()
    if not hasattr(os, "wait4"):
        print("this benchmark needs os.wait4 (Linux, macOS)")
        return 0
    exe = shutil.which("aetherops", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if not exe:
        print("aetherops console script not found (pip install -e .)")
        return 1
    promtool = shutil.which("promtool")
    print(f"cores: {os.cpu_count()}")
    results = []
    with tempfile.TemporaryDirectory(prefix="aetherops-lint-mem-") as tmp:
        for n in args.rules:
            path = Path(tmp) / f"rules-{n}.yml"
            path.write_text(generate(n), encoding="utf-8")
            mb = path.stat().st_size / 1e6
            seconds, rss, code = peak([exe, "lint", str(path), "--severity-threshold", "error"])
            if code not in (0, 1):
                print(f"aetherops lint failed with exit {code}")
                return 1
            line = (f"{n:>7} rules, {mb:5.1f} MB | aetherops lint: peak {rss:7.1f} MB = {rss / mb:5.1f}x the file "
                    f"(target <= 10x), {seconds:6.2f} s = {seconds / mb:.3f} s/MB")
            if promtool:
                p_seconds, p_rss, _ = peak([promtool, "check", "rules", str(path)])
                line += f" | promtool: peak {p_rss:7.1f} MB = {p_rss / mb:5.1f}x, {p_seconds:6.2f} s"
            print(line, flush=True)
            results.append((n, mb, rss, seconds))
            path.unlink()
    if len(results) > 1:
        (n0, mb0, _, s0), (n1, mb1, _, s1) = results[0], results[-1]
        print(f"time scaling {n0} -> {n1} rules: x{s1 / s0:.2f} for x{mb1 / mb0:.2f} the size (linear: about equal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
