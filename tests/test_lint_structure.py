"""The lint plugin's shape: one check per module named after its id, and the one parallel executor."""

from __future__ import annotations

import importlib
import os

import pytest

from aetherops_plugins.lint import parallel
from aetherops_plugins.lint.checks import builtin_checks, check_modules


def test_one_check_per_module_named_after_its_id():
    checks = builtin_checks()
    assert len(checks) == len(check_modules())
    for c in checks:
        module = type(c).__module__.rsplit(".", 1)[-1]
        assert module == c.id.replace("/", "_").replace("-", "_"), (module, c.id)


def test_online_checks_are_check_modules_like_the_others():
    online = [c for c in builtin_checks() if getattr(c, "online", False)]
    assert online and all(type(c).__module__.startswith("aetherops_plugins.lint.checks.online_") for c in online)
    assert not [n for n in vars(importlib.import_module("aetherops_plugins.lint.online")).values()
                if isinstance(n, type) and getattr(n, "id", None)]


def _work(k, n):
    return [(k, n, i) for i in range(3)]


def test_split_run_concatenates_shards_in_order():
    n = parallel.shard_count(10, 1)
    assert parallel.split_run(_work, 10, min_size=1) == [(k, n, i) for k in range(n) for i in range(3)]
    assert parallel.split_run(_work, 10, min_size=100) == [(0, 1, 0), (0, 1, 1), (0, 1, 2)]


@pytest.mark.skipif(parallel.shard_count(10, 1) < 2, reason="needs fork and two cores")
def test_a_failing_child_shard_is_computed_again_here():
    parent = os.getpid()

    def work(k, n):
        if os.getpid() != parent:
            raise RuntimeError("child dies")
        return [k]

    n = parallel.shard_count(10, 1)
    assert parallel.split_run(work, 10, min_size=1) == list(range(n))

    def unpicklable(k, n):
        return [lambda: k] if os.getpid() != parent else [k]

    assert parallel.split_run(unpicklable, 10, min_size=1) == list(range(n))


def test_a_per_file_check_runs_on_every_file(tmp_path):
    """Regression: a check looking at whole files (not one rule at a time) sees every file, not just the first."""
    from aetherops_plugins.lint.engine import Options, run

    for name in ("a.yml", "b.yml", "c.yml"):
        (tmp_path / name).write_text("groups:\n  - name: g\n    bogus: 1\n    rules: []\n", encoding="utf-8")
    report = run(Options(paths=[str(tmp_path)]), builtin_checks())
    assert sorted(f.file.rsplit("/", 1)[-1] for f in report.findings if f.check == "syntax/rules-schema") == ["a.yml", "b.yml", "c.yml"]
