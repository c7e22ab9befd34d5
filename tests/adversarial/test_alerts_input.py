"""Hostile and generated input for `aetherops alerts`: labels, matchers, configs and routing trees.

Two properties: the invariant (documented exit code, one line, no traceback) for anything, and parity with the
real `amtool config routes test` (Alertmanager 0.25) for generated routing trees and label sets."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from aetherops.testing.servers import require_binary

from ._invariant import assert_invariant

DATA = Path(__file__).parent.parent / "data" / "alerts"
DEAD = "http://127.0.0.1:9"

NAMES = ["alertname", "severity", "team", "env", "service", "instance"]
VALUES = ["", "a", "b", "db", "prod", "critical", "db-1", "x y", "é", "٣", "A"]
REGEXES = ["a|b", ".*", ".+", "db-\\d+", "(?i)a", "\\pL+", "[a-c]", "x y|prod", "crit.*", "é|É", ""]


def amtool(config: Path, labels: list[str]) -> str | None:
    proc = subprocess.run([str(require_binary("amtool")), "config", "routes", "test", f"--config.file={config}", "--", *labels],
                          capture_output=True, text=True, timeout=30)
    return proc.stdout.strip() if proc.returncode == 0 else None


# ---------------------------------------------------------------- labels: parsing agrees with amtool's
label_text = st.one_of(
    st.builds(lambda n, op, v: f"{n}{op}{v}", st.sampled_from(NAMES + ["a:b", "1x", ""]), st.sampled_from(["=", "!=", "=~", " = "]),
              st.text(alphabet=st.sampled_from('ab "\\,=~{}é\t'), max_size=8)),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
)


@given(labels=st.lists(label_text.filter(lambda t: not t.startswith("-")), min_size=1, max_size=3))
# space that Python's re and strip() take and Go's \s does not: the value keeps it (route `empty=""` then misses)
@example(["empty=\u2000"]).via("found by hand")
@example(["empty=\x1c"]).via("found by hand")
@example(["empty= \u00a0 "]).via("found by hand")
@example(["\u2000empty=x"]).via("found by hand")
@example(['{empty="x"}']).via("amtool takes one matcher per label, no braces")
@example(['quoted="a \\"b\\" c"', "empty=\t"]).via("found by hand")
def test_label_arguments_parse_like_amtool(labels):
    from aetherops_plugins.alerts import routing

    config = routing.load_file(DATA / "parity.yml")
    try:
        ours = ",".join(config.receivers_for(routing.parse_labels(labels, colons=True)))
    except routing.m.MatcherError:
        ours = None
    assert ours == amtool(DATA / "parity.yml", labels), labels


@given(labels=st.lists(label_text, min_size=1, max_size=3))
def test_hostile_labels_keep_the_invariant(labels, aetherops_cli, profile_factory):
    profile_factory("dead", alertmanager={"url": DEAD, "retries": 0, "timeout": 2})
    args = [x for label in labels for x in ("--label", label)]
    for command in (["alerts", "routes", "--config", str(DATA / "parity.yml")], ["alerts", "test", "--resolve-after", "0"]):
        result = aetherops_cli("-p", "dead", *command, *args)
        assert_invariant(result)
        assert result.exit_code in (0, 2, 3), result


# ---------------------------------------------------------------- generated routing trees: same receivers as amtool
def _matchers():
    op_value = st.one_of(st.tuples(st.sampled_from(["=", "!="]), st.sampled_from(VALUES)),
                         st.tuples(st.sampled_from(["=~", "!~"]), st.sampled_from(REGEXES)))
    return st.lists(st.tuples(st.sampled_from(NAMES), op_value), max_size=2)


def _route(depth: int):
    children = st.lists(st.deferred(lambda: _route(depth + 1)), max_size=3) if depth < 3 else st.just([])
    return st.builds(_make_route, _matchers(), st.sampled_from(["match", "match_re", "matchers"]), st.booleans(),
                     st.sampled_from([None, "r1", "r2", "r3"]), st.sampled_from([None, ["alertname"], ["..."], []]), children)


def _make_route(matchers, style, cont, receiver, group_by, children):
    route: dict = {}
    if style == "matchers" or any(op in ("!=", "!~") for _, (op, _v) in matchers):
        if matchers:
            route["matchers"] = [f'{n}{op}"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for n, (op, v) in matchers]
    else:
        equal = {n: v for n, (op, v) in matchers if op == "="}
        regex = {n: v for n, (op, v) in matchers if op == "=~"}
        if equal:
            route["match"] = equal
        if regex:
            route["match_re"] = regex
    if cont:
        route["continue"] = True
    if receiver:
        route["receiver"] = receiver
    if group_by is not None:
        route["group_by"] = group_by
    if children:
        route["routes"] = children
    return route


label_sets = st.lists(st.dictionaries(st.sampled_from(NAMES), st.sampled_from(VALUES), max_size=4), min_size=1, max_size=4)


@given(routes=st.lists(_route(1), max_size=4), samples=label_sets)
def test_generated_routing_trees_agree_with_amtool(routes, samples):
    from aetherops_plugins.alerts import routing

    config = {"route": {"receiver": "default", "routes": routes}, "receivers": [{"name": n} for n in ("default", "r1", "r2", "r3")]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "am.yml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        parsed = routing.load_file(path)
        for labels in samples:
            args = [f"{k}={v}" if v else f'{k}=""' for k, v in labels.items()]
            assert ",".join(parsed.receivers_for(labels)) == amtool(path, args), (config, labels)


# ---------------------------------------------------------------- hostile config files
config_text = st.one_of(
    st.text(max_size=200),
    st.builds(lambda body: "route:\n  receiver: a\n  routes:\n" + body + "\nreceivers: [{name: a}]\n",
              st.text(alphabet=st.sampled_from("- matchers:[]'\"=~!{}()\\ \nreceiver:acontinue:true"), max_size=120)),
    st.builds(yaml.safe_dump, st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
                                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                                               st.sampled_from(["route", "routes", "receiver", "matchers", "match", "match_re",
                                                                "continue", "group_by", "inhibit_rules", "receivers", "name"]),
                                               inner, max_size=4), max_leaves=12)),
)


@given(text=config_text)
def test_hostile_configs_keep_the_invariant(text, aetherops_cli, profile_factory):
    profile_factory("offline")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "am.yml"
        path.write_bytes(text.encode("utf-8", errors="replace"))
        result = aetherops_cli("-p", "offline", "alerts", "routes", "--config", str(path), "--label", "alertname=X")
        assert_invariant(result)
        assert result.exit_code in (0, 4), result


@pytest.mark.parametrize("text", ["route: [", "route:\n  receiver: a\n  routes:\n    - matchers: ['(']\n",
                                  "route:\n  receiver: a\n  matchers: ['a=b']\n", "- 1\n- 2\n", "route:\n  receiver: a\n  foo: 1\n",
                                  "route:\n  receiver: a\n  routes: [{continue: maybe}]\n", "a: &a [*a]\n"])
def test_broken_configs_are_exit_4_naming_the_file(text, aetherops_cli, profile_factory, tmp_path):
    profile_factory("offline")
    path = tmp_path / "am.yml"
    path.write_text(text, encoding="utf-8")
    result = aetherops_cli("-p", "offline", "alerts", "routes", "--config", path, "--label", "alertname=X")
    assert_invariant(result)
    assert result.exit_code == 4 and str(path) in result.stderr, result


# ---------------------------------------------------------------- config `matchers:` entries: tokenized and parsed as amtool does
entry_text = st.one_of(
    st.text(alphabet=st.sampled_from('ab=!~"\\,{} é\u2000.*'), max_size=14),
    st.builds(lambda a, b: a + b, st.sampled_from(['a="', "a=", 'b!~"', "{a=", 'a="x", b=~"']),
              st.text(alphabet=st.sampled_from('ab=!~"\\,{} é\u2000.*'), max_size=8)),
)
ENTRY_LABELS = [[], ["a=x"], ["a=b", "b=a"], ['a=a \\"b'], ["b=x"], ["a=é"]]


@given(entry=entry_text)
@example(entry='{a="x"\u2000}').via("the last token alone is trimmed of Unicode space")
@example(entry='a=x\\",b=y').via("a backslash escapes a quote outside quotes too")
@example(entry=" {a=x}").via("braces are trimmed, space is not")
@example(entry="{}").via("no matcher at all")
def test_config_matcher_entries_agree_with_amtool(entry):
    from aetherops.errors import ConfigError
    from aetherops_plugins.alerts import routing

    config = {"route": {"receiver": "default", "routes": [{"matchers": [entry], "receiver": "hit"}]},
              "receivers": [{"name": "default"}, {"name": "hit"}]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "am.yml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        try:
            parsed = routing.load_file(path)
        except ConfigError:
            parsed = None
        for labels in ENTRY_LABELS:
            theirs = amtool(path, labels)
            if parsed is None:
                assert theirs is None, (entry, labels, theirs)
                break
            assert ",".join(parsed.receivers_for(routing.parse_labels(labels))) == theirs, (entry, labels)
