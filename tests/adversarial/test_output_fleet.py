"""Hostile fleet command lines (issue 12): odd profile names, broken profiles, secrets, many profiles at once.

Whatever names `-p` is given (path tricks, shell metacharacters, unicode, empty), and whatever the profiles hold
(invalid YAML, an inline secret), a fleet run keeps the invariant: a documented exit code, one row per distinct
profile, no traceback, and no secret in any output.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ._invariant import assert_invariant

SECRET = "fleet-secret-9c2e-value"
NAMES = st.one_of(
    st.sampled_from(["../etc/passwd", "..", ".", "$(id)", "a b", "-p", "--all-profiles", "nul", "CON", "ok", "broken",
                     "leaky", "x" * 300, "ünï", "a\u202eb"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20),
)


@given(st.lists(NAMES, min_size=2, max_size=6))
def test_any_profile_names(profile_factory, aetherops_cli, names):
    profile_factory("ok", prometheus={"url": "http://127.0.0.1:9", "timeout": 1, "retries": 0})
    profile_factory("broken", text="prometheus: [unclosed\n")
    profile_factory("leaky", text=f"prometheus:\n  url: http://127.0.0.1:9\n  auth: {{token: {SECRET}}}\n")
    args = [arg for name in names for arg in ("-p", name)]
    result = aetherops_cli(*args, "-o", "json", "health")
    assert_invariant(result)
    assert SECRET not in result.stdout and SECRET not in result.stderr
    distinct = list(dict.fromkeys(names))
    if result.exit_code != 2 and len(distinct) > 1:  # 2: a name click reads as an option ("-p", "--all-profiles")
        assert [row["profile"] for row in result.json()] == distinct
        assert all(row["exit_code"] in (3, 4) for row in result.json())  # port 9 is closed; the others are broken


def test_fifty_profiles_at_once(profile_factory, aetherops_cli):
    for i in range(50):
        profile_factory(f"p{i:02d}", prometheus={"url": "http://127.0.0.1:9", "timeout": 1, "retries": 0})
    result = aetherops_cli("--all-profiles", "--no-headers", "health")
    assert_invariant(result)
    assert result.exit_code == 3
    rows = [line.split() for line in result.stdout.splitlines() if line.strip()]
    assert [r[0] for r in rows[:50]] == [f"p{i:02d}" for i in range(50)]
    assert [r[:3] for r in rows[50:]] == [[f"p{i:02d}", "exit", "3"] for i in range(50)]
