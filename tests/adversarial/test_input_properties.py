"""Property-based hostile input (hypothesis): generated profiles, rule files and dashboards fed to the commands.

One invariant for every example (``_invariant.assert_invariant``): an exit code from the documented set, at most
one error line on stderr, no traceback, no "internal error"; and nothing written outside the paths the command
owns (these commands own none but aetherops' cache dir: the working directory and the config/state dirs stay as
they were).

The ``default`` hypothesis profile keeps this quick in every test run; ``nox -s fuzz`` runs the ``fuzz`` profile."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from aetherops.testing.cli import run_cli

from ._invariant import assert_invariant

DEAD = "http://127.0.0.1:9"

# ------------------------------------------------------------------ strategies
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
_weird_text = st.one_of(_text, st.sampled_from(["${NOPE_UNSET}", "${HOME}", "http://h:1/?token=x", "a\r\nb", "\x00",
                                                "-1", ".nan", "1e309", "2001-13-45", "2001-02-30 25:61:00", "&a", "*a", "!!python/object:os.system", "{{ $x"]))
_scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                    st.floats(allow_nan=True, allow_infinity=True), _weird_text)
_value = st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(_text, inner, max_size=4)), max_leaves=12)
_service = st.fixed_dictionaries({}, optional={
    "url": st.one_of(st.just(DEAD), _weird_text, _scalar),
    "timeout": st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5), _weird_text),
    "retries": st.one_of(st.integers(-3, 1), _weird_text),
    "headers": st.dictionaries(_text, _weird_text, max_size=3),
    "auth": st.dictionaries(st.sampled_from(["token", "token_env", "password_file", "username", "bogus"]), _weird_text,
                            max_size=2),
    "tls": st.dictionaries(st.sampled_from(["verify", "ca_file", "cert_file"]), _scalar, max_size=2),
    "extra_key": _value,
})
_section_names = st.sampled_from(["prometheus", "alertmanager", "grafana", "blackbox", "backup", "lint", "maintenance",
                                  "sandbox", "extends", "default", "unknown_section"])
profile_data = st.dictionaries(_section_names, st.one_of(_service, _value), max_size=5)
raw_bytes = st.one_of(st.binary(max_size=200), _text.map(lambda t: t.encode("utf-8")),
                      st.sampled_from([b"a: &a [*a]\n", b"- - - -\n", b"a: [\n", b"\xff\xfe\x00", b"%YAML 9.9\n---\n",
                                       b"x: !!binary AAAA\n", b"a: 1\na: 2\n", b"---\n---\n"]))


def _durations():
    return st.one_of(st.sampled_from(["5m", "1h30m", "0", "30s", "1.5m", "-1m", "", "5 m", "1y2w"]), _weird_text)


_exprs = st.one_of(
    st.sampled_from(["up", "sum(rate(x_total[5m])) by (job)", 'up{job="a"} == 0', "rate(x[1m]", "((((up))))",
                     "histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))", "a and on() b", "1 +", "{}"]),
    st.lists(st.sampled_from(["up", "(", ")", "+", " or ", "sum(", "rate(", "x[5m]", "{a=\"b\"}", "by (job)", "1"]),
             max_size=30).map("".join),
    _weird_text,
)
_rule = st.fixed_dictionaries({}, optional={
    "alert": _weird_text, "record": st.one_of(st.just("job:x:rate5m"), _weird_text), "expr": _exprs, "for": _durations(),
    "keep_firing_for": _durations(), "labels": st.dictionaries(_text, _scalar, max_size=3),
    "annotations": st.dictionaries(st.sampled_from(["summary", "description", "runbook_url", "x"]),
                                   st.one_of(_weird_text, st.just("{{ $labels.job }} {{ $value | humanize }}"),
                                             st.just("{{ if }}")), max_size=3),
    "junk": _value,
})
_group = st.fixed_dictionaries({"rules": st.one_of(st.lists(_rule, max_size=4), _value)},
                               optional={"name": _weird_text, "interval": _durations(), "limit": _scalar})
rule_file = st.one_of(st.fixed_dictionaries({"groups": st.lists(st.one_of(_group, _value), max_size=3)}),
                      st.fixed_dictionaries({"kind": st.just("PrometheusRule"),
                                             "spec": st.fixed_dictionaries({"groups": st.lists(_group, max_size=2)})}),
                      _value)
_panel = st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(["graph", "timeseries", "row", "stat", "x"]), "title": _weird_text,
    "datasource": st.one_of(_scalar, st.fixed_dictionaries({"uid": _weird_text, "type": _weird_text})),
    "targets": st.lists(st.fixed_dictionaries({}, optional={"expr": _exprs, "refId": _text, "datasource": _scalar}),
                        max_size=3),
    "panels": st.lists(_value, max_size=2), "gridPos": _value,
})
dashboard = st.one_of(
    st.fixed_dictionaries({"panels": st.lists(st.one_of(_panel, _value), max_size=4)},
                          optional={"title": _weird_text, "uid": _weird_text, "schemaVersion": _scalar,
                                    "templating": st.fixed_dictionaries({"list": st.lists(_value, max_size=3)})}),
    st.fixed_dictionaries({"dashboard": st.fixed_dictionaries({"title": _weird_text, "panels": st.lists(_panel, max_size=3)})}),
)


# ------------------------------------------------------------------ running a command in a sandboxed directory
def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under root with size and mtime, except aetherops' own cache (the entry-point cache is its to write)."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        if Path(dirpath).is_relative_to(root / "home" / "cache"):
            continue
        for name in files:
            p = Path(dirpath) / name
            st_ = p.stat()
            out[str(p.relative_to(root))] = (st_.st_size, st_.st_mtime_ns)
    return out


def _run_in(tmp: Path, *args: str, env: dict | None = None):
    """Run the CLI with cwd = tmp and aetherops' own dirs inside tmp; assert the invariant and that nothing changed."""
    home = tmp / "home"
    base_env = {"AETHEROPS_CONFIG_DIR": str(home / "config"), "AETHEROPS_CACHE_DIR": str(home / "cache"),
                "AETHEROPS_STATE_DIR": str(home / "state"), "AETHEROPS_PROFILES_DIR": str(tmp / "profiles"),
                "AETHEROPS_PROFILE": None, "NO_COLOR": "1"}
    before = _tree(tmp)
    old_cwd = os.getcwd()
    os.chdir(tmp)
    try:
        result = run_cli(list(args), env={**base_env, **(env or {})})
    finally:
        os.chdir(old_cwd)
    assert_invariant(result)
    assert _tree(tmp) == before, f"files written by {args}: {set(_tree(tmp)) ^ set(before)}"
    return result


def _dump(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


# ------------------------------------------------------------------ properties
@given(data=profile_data)
def test_generated_profiles_show_list_and_health(data):
    with tempfile.TemporaryDirectory(prefix="aetherops-fuzz-") as tmp:
        tmp = Path(tmp)
        (tmp / "profiles").mkdir()
        (tmp / "profiles" / "fuzz.yaml").write_text(_dump(data), encoding="utf-8")
        (tmp / "profiles" / "dead.yaml").write_text(_dump({**data, "prometheus": {"url": DEAD, "retries": 0, "timeout": 2}}),
                                                    encoding="utf-8")
        for args in (("profiles", "show", "fuzz"), ("--output", "json", "profiles", "list"), ("profiles", "list")):
            _run_in(tmp, *args)
        result = _run_in(tmp, "-p", "dead", "--output", "json", "health", "--service", "prometheus")
        assert result.exit_code in (1, 3, 4), result


@given(raw=raw_bytes)
def test_raw_profile_bytes(raw):
    with tempfile.TemporaryDirectory(prefix="aetherops-fuzz-") as tmp:
        tmp = Path(tmp)
        (tmp / "profiles").mkdir()
        (tmp / "profiles" / "raw.yaml").write_bytes(raw)
        (tmp / "profiles" / "good.yaml").write_text("prometheus:\n  url: http://127.0.0.1:9090\n", encoding="utf-8")
        shown = _run_in(tmp, "profiles", "show", "raw")
        assert shown.exit_code in (0, 4), shown
        listed = _run_in(tmp, "--output", "json", "profiles", "list")
        assert {r["name"]: r["status"] for r in listed.json()}["good"] == "ok"  # one bad file never hides the others


@given(rules=rule_file)
def test_generated_rule_files_lint(rules):
    with tempfile.TemporaryDirectory(prefix="aetherops-fuzz-") as tmp:
        tmp = Path(tmp)
        (tmp / "rules.yml").write_text(_dump(rules), encoding="utf-8")
        result = _run_in(tmp, "lint", "rules.yml", "--format", "json")
        assert result.exit_code in (0, 1, 4), result  # 4: not a file lint knows (one line saying so)
        if result.exit_code != 4:
            json.loads(result.stdout)


@given(raw=raw_bytes)
def test_raw_rule_file_bytes_lint(raw):
    with tempfile.TemporaryDirectory(prefix="aetherops-fuzz-") as tmp:
        tmp = Path(tmp)
        (tmp / "rules.yml").write_bytes(raw)
        (tmp / "dash.json").write_bytes(raw)
        result = _run_in(tmp, "lint", "rules.yml", "dash.json")
        assert result.exit_code in (0, 1, 4), result


@given(dash=dashboard)
def test_generated_dashboards_lint(dash):
    with tempfile.TemporaryDirectory(prefix="aetherops-fuzz-") as tmp:
        tmp = Path(tmp)
        (tmp / "dash.json").write_text(json.dumps(dash), encoding="utf-8")
        result = _run_in(tmp, "lint", "dash.json", "--format", "json")
        assert result.exit_code in (0, 1, 4), result
