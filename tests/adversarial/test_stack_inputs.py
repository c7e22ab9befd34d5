"""Hostile input to the stack plugin: times, durations, steps, version pins, config files (issue 12).

The parsers answer a value or a one-line usage error, never anything else; the commands keep the invariant
(documented exit code, one line on stderr, no traceback) whatever the input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aetherops.errors import UsageError
from aetherops_plugins.stack.query import parse_duration, parse_time, range_window
from aetherops_plugins.stack.versions import parse_pin, satisfies

from ._invariant import assert_invariant

DEAD = "http://127.0.0.1:9"  # nothing listens on the discard port
NOW = 1_800_000_000.0

TIMEISH = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"-?\d{1,14}(\.\d{0,12})?[smhdwy]?( ago)?", fullmatch=True),
    st.from_regex(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?", fullmatch=True),
    st.sampled_from(["now", "NOW", "-", " ago", "1h ago", "0", "-0", "1e9", "nan", "inf", "9" * 40, "1h30m", "1y2w"]),
)
VERSIONS = st.lists(st.integers(0, 10**6), min_size=1, max_size=4).map(lambda parts: ".".join(map(str, parts)))


@given(TIMEISH)
def test_parse_time_is_a_time_in_range_or_a_usage_error(text):
    try:
        value = parse_time(text, "--at", now=NOW)
    except UsageError as exc:
        assert "--at" in exc.format_message() and "\n" not in exc.format_message()
        return
    assert math.isfinite(value) and -62135596800.0 <= value <= 253402300799.0


@given(TIMEISH)
def test_parse_duration_is_positive_seconds_or_a_usage_error(text):
    try:
        value = parse_duration(text, "--step")
    except UsageError:
        return
    assert math.isfinite(value) and value > 0


@given(TIMEISH, st.one_of(st.none(), TIMEISH), st.one_of(st.none(), TIMEISH))
def test_range_window_is_bounded_or_a_usage_error(since, until, step):
    try:
        start, end, seconds = range_window(since, until, step, now=NOW)
    except UsageError:
        return
    assert start < end and seconds > 0 and (end - start) / seconds <= 11_000


@given(st.text(max_size=30))
def test_parse_pin_accepts_or_says_what_a_pin_is(text):
    try:
        op, parts = parse_pin(text)
    except ValueError as exc:
        assert "is not a version pin" in str(exc)
        return
    assert op in ("==", "!=", ">=", "<=", ">", "<") and 1 <= len(parts) <= 4


@given(VERSIONS, VERSIONS, st.text(max_size=12))
def test_pins_are_consistent(a, b, junk):
    assert satisfies(a, a) and satisfies(f"v{a}+{junk}", a)
    assert satisfies(a, f">={b}") != satisfies(a, f"<{b}")
    assert satisfies(a, f"<={b}") != satisfies(a, f">{b}")
    assert satisfies(a, f"!={b}") != satisfies(a, f"=={b}")
    assert satisfies(junk, ">=0") in (True, False)  # never raises on what a server reports


@given(TIMEISH, TIMEISH)
def test_query_range_options_keep_the_invariant(profile_factory, aetherops_cli, since, step):
    profile_factory("dead", prometheus={"url": DEAD, "retries": 0, "timeout": 1})
    result = aetherops_cli("-p", "dead", "query-range", "up", "--since", since, "--step", step)
    assert_invariant(result)
    assert result.exit_code in (2, 3), result


@given(TIMEISH)
def test_query_at_keeps_the_invariant(profile_factory, aetherops_cli, at):
    profile_factory("dead", prometheus={"url": DEAD, "retries": 0, "timeout": 1})
    result = aetherops_cli("-p", "dead", "query", "up", "--at", at)
    assert_invariant(result)
    assert result.exit_code in (2, 3), result


@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=True), st.lists(st.integers(), max_size=2)))
def test_hostile_version_pins_in_a_profile(profile_factory, aetherops_cli, pin):
    import yaml

    profile_factory("p", text=yaml.safe_dump({"versions": {"prometheus": pin}}))
    result = aetherops_cli("-p", "p", "validate", "-o", "json")
    assert_invariant(result)
    assert result.exit_code in (0, 4), result


@given(st.one_of(st.text(max_size=300), st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
                 st.sampled_from(["groups: 3", "groups:\n- {}", "groups:\n- name: [x]", "- a\n- b", "groups: [{name: g, rules: 7}]",
                                  "a: &a [*a]", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: '('\n"])))
@pytest.mark.filterwarnings("ignore")
def test_hostile_rule_files_are_a_failed_row(tmp_path_factory, profile_factory, aetherops_cli, text):
    path = tmp_path_factory.mktemp("rules") / "r.yml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    profile_factory("p", prometheus={"rule_files": [str(path)]})
    result = aetherops_cli("-p", "p", "validate", "-o", "json")
    assert_invariant(result)
    assert result.exit_code in (0, 1), result
    assert {r["check"] for r in result.json()["checks"]} >= {"file"}


@given(st.text(max_size=200))
def test_open_hostile_targets(profile_factory, aetherops_cli, target):
    profile_factory("p", prometheus={"url": "http://prom.example"})
    result = aetherops_cli("-p", "p", "open", target, "--print-url")
    assert_invariant(result)


@pytest.mark.parametrize("command", [("query",), ("query-range", "--since", "5m")])
@pytest.mark.parametrize("expr", ["x" * 2_000_000, "", "   "])
def test_huge_or_empty_expressions_are_refused_before_a_request(profile_factory, aetherops_cli, command, expr):
    profile_factory("dead", prometheus={"url": DEAD, "retries": 0, "timeout": 1})
    result = aetherops_cli("-p", "dead", command[0], expr, *command[1:])
    assert_invariant(result)
    assert result.exit_code == 2 and len(result.stderr) < 300, result.stderr[:300]


AM_SHAPES = [
    "route: {receiver: a}\nreceivers: 5\n", "route: {receiver: a}\nreceivers: [{1: [x]}, 7, {name: [a]}]\n",
    "route: {receiver: [a]}\nreceivers: {a: b}\n", "route: []\n", "route: {}\nreceivers: [{name: a, x_configs: [1]}]\n",
    "route: {receiver: a}\nreceivers: [{name: a, webhook_configs: [{url: x, password_file: [1]}]}]\n",
]


def _validate_am_config(tmp_path_factory, profile_factory, aetherops_cli, text):
    path = tmp_path_factory.mktemp("am") / "alertmanager.yml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    profile_factory("p", alertmanager={"config_file": str(path)})
    result = aetherops_cli("-p", "p", "validate", "-o", "json")
    assert_invariant(result)
    assert result.exit_code in (0, 1), result


@pytest.mark.parametrize("text", AM_SHAPES)
def test_odd_alertmanager_configs_are_rows_not_crashes(tmp_path_factory, profile_factory, aetherops_cli, text):
    _validate_am_config(tmp_path_factory, profile_factory, aetherops_cli, text)


@given(st.text(max_size=200))
def test_hostile_alertmanager_configs_are_rows_not_crashes(tmp_path_factory, profile_factory, aetherops_cli, text):
    _validate_am_config(tmp_path_factory, profile_factory, aetherops_cli, text)


KEYS = st.sampled_from(["token_env", "password_file", "bearer_token_env", "key_file", "tls", "auth", "name", "x", "api_url_file"])
LEAVES = st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none())
SHAPES = st.recursive(LEAVES, lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(KEYS, children, max_size=4)),
                      max_leaves=12)


@given(SHAPES)
def test_hostile_secret_reference_shapes_in_a_profile(profile_factory, aetherops_cli, shape):
    import yaml

    profile_factory("p", text=yaml.safe_dump({"acme": {"targets": shape}}))
    result = aetherops_cli("-p", "p", "validate", "-o", "json")
    assert_invariant(result)
    assert result.exit_code in (0, 1, 4), result


@given(st.text(max_size=60), st.lists(st.text(max_size=30), max_size=3), st.text(max_size=60))
def test_hostile_config_file_names_in_a_profile(profile_factory, aetherops_cli, prom_file, rule_globs, am_file):
    import yaml

    profile_factory("p", text=yaml.safe_dump({"prometheus": {"config_file": prom_file, "rule_files": rule_globs},
                                              "alertmanager": {"config_file": am_file}}))
    result = aetherops_cli("-p", "p", "validate", "-o", "json")
    assert_invariant(result)
    assert result.exit_code in (0, 1, 4), result
