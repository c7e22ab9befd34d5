"""Hostile lint.policies: any YAML-shaped value is either parsed or refused with a PolicyError naming the policy,
never another exception (the profile validator and the checks rely on it)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aetherops_plugins.lint.policies import PolicyError, parse

SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.sampled_from(["(", "5m", "x{", "alerting", "*"])
KEYS = st.sampled_from(["name", "match", "require", "forbid", "for", "aggregate", "selectors", "path", "kind", "label",
                        "labels", "annotations", "min", "max", "keep", "strip", "bogus"])
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4), max_leaves=12)


@given(VALUES)
def test_any_value_is_parsed_or_refused_by_name(value):
    try:
        policies = parse(value)
    except PolicyError as exc:
        assert str(exc).startswith("lint.policies")
    else:
        assert isinstance(policies, list)
