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


def _facts_key(f):
    return (f.selectors, f.calls, f.binops, f.aggs, f.experimental, f.labels, f.filters, f.divides_by_rate, f.guarded)


def test_simple_expressions_read_without_the_parser_give_the_parsers_facts():
    """The fast path for `name{l="v"} > 1` must agree with the parser on every expression it takes, and leave the rest."""
    import promql_parser as P
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from aetherops_plugins.lint.promql.facts import collect, simple_facts

    names = st.sampled_from(["up", "job:http_errors:ratio_rate5m", "x_total", "sum", "on", "Inf", "node_load1", "a:b", "_x"])
    labels = st.sampled_from(["job", "instance", "on", "__name__", "le", "_a"])
    values = st.sampled_from(["", "api", "a b", "x\\\"y", "5.."])
    ops = st.sampled_from(["=", "!=", "=~", "!~"])
    matcher = st.builds(lambda label, op, v, sp: f'{label}{sp}{op}{sp}"{v}"', labels, ops, values, st.sampled_from(["", " "]))
    cmp = st.sampled_from(["", " > 1", " == 0", ">=bool 0.5", " < -1e3", " != 1.", " > .5", " > 1 > 2", " / 2", " > x"])

    @settings(max_examples=300, deadline=None)
    @given(names, st.none() | st.lists(matcher, max_size=3), cmp, st.sampled_from(["", " ", "\n", ","]))
    def agree(name, matchers, tail, pad):
        inside = "" if matchers is None else "{" + ", ".join(matchers) + (pad if pad == "," else "") + "}"
        expr = f"{pad.strip(',')}{name}{inside}{tail}{pad.strip(',')}"
        fast = simple_facts(expr)
        if fast is None:
            return
        full = collect(expr, P.parse(expr))  # the fast path only takes what parses
        assert _facts_key(fast) == _facts_key(full), expr

    agree()


def test_yaml_reader_fast_path_gives_what_pyyaml_gives():
    """The scalar fast path in yamlpos must resolve exactly like PyYAML's safe loader (ints, floats, bools, nulls,
    dates, quoted and block strings)."""
    import yaml

    from aetherops_plugins.lint.yamlpos import load_documents

    text = ("a: 99.9\nb: '99.9'\nc: true\nd: yes\ne: null\nf: ~\ng: 2024-01-02\nh: 0x1F\ni: -1\nj: .5\nk: plain text\n"
            "l: \"quoted\\ttext\"\nm: |\n  block\n  text\nn: >\n  folded\n  text\no: ''\np:\nq: +1\nr: on\ns: .inf\nt: '<<'\n")
    assert load_documents(text)[0] == yaml.safe_load(text)
