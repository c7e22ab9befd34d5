"""Alertmanager's regex syntax (Go RE2), checked by aetherops before anything is sent, against the real server.

Every case (tests/data/re2_cases.txt, every Unicode class name, and seeded random patterns built from regex
syntax) is sent to a real Alertmanager 0.25: aetherops' verdict must be Alertmanager's, word for word, and so
must the "matches the empty string" rule.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path

import httpx
import pytest

from aetherops_plugins.maintenance import matchers as m
from aetherops_plugins.maintenance import re2

CASES = [line for line in (Path(__file__).parent.parent / "data" / "re2_cases.txt").read_text(encoding="utf-8").splitlines() if line]
NAMES = sorted(re2.CATEGORIES | re2.SCRIPTS)
#: names of a later Unicode (or wrong case) that this Alertmanager's Go refuses
NOT_NAMES = ["Kawi", "Nag_Mundari", "Vithkuqi", "Toto", "Tangsa", "Old_Uyghur", "Cypro_Minoan", "LC", "Cn", "greek", "l"]
SYNTAX = [*"ab()[]{}|*+?^$.\\-:,0123PpQEzZxdw_é", "(?", "(?P<n>", "[:alpha:]", "[:^digit:]", "\\p{Greek}", "{2}", "{1,3}",
          "{0}", "\\x{4", "(?i)", "(?U)", "\\Q", "\\E", "[^", "\\pL", "(?-s:", "{1000}", "\\0"]


def random_patterns(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(SYNTAX) for _ in range(rng.randint(1, 9))) for _ in range(count)]


@pytest.fixture(scope="module")
def am_url(tmp_path_factory):
    from aetherops.testing.servers import require_binary, start_alertmanager

    require_binary("prometheus-alertmanager")
    server = start_alertmanager(tmp_path_factory.mktemp("alertmanager-re2"))
    yield server.url
    server.stop()


def alertmanager_verdict(url: str, pattern: str, *, alone: bool = False) -> str | None:
    """None when Alertmanager takes a silence with this regex matcher, else its words after "error parsing regexp: "
    (or the whole refusal)."""
    now = dt.datetime.now(dt.timezone.utc)
    matchers = [{"name": "a", "value": pattern, "isRegex": True, "isEqual": True}]
    if not alone:
        matchers.append({"name": "b", "value": "1", "isRegex": False, "isEqual": True})
    body = {"matchers": matchers, "startsAt": now.isoformat(), "endsAt": (now + dt.timedelta(minutes=5)).isoformat(),
            "createdBy": "re2-test", "comment": "re2"}
    answer = httpx.post(f"{url}/api/v2/silences", json=body, timeout=10)
    if answer.status_code == 200:
        httpx.delete(f"{url}/api/v2/silence/{answer.json()['silenceID']}", timeout=10)
        return None
    assert answer.status_code == 400, answer.text
    text = answer.json()
    found = re.search(r"error parsing regexp: (.*)$", text)
    return found.group(1) if found else text


def ours(pattern: str) -> str | None:
    try:
        re2.check(pattern)
    except re2.RE2Error as exc:
        return str(exc)
    return None


def assert_same_verdict(url: str, pattern: str) -> None:
    theirs = alertmanager_verdict(url, pattern)
    assert ours(pattern) == theirs, pattern
    if theirs is None:  # accepted: the empty-string rule must agree too
        refused_alone = alertmanager_verdict(url, pattern, alone=True)
        assert (refused_alone is not None and "must not match the empty string" in refused_alone) == re2.check(pattern), pattern


@pytest.mark.parametrize("pattern", CASES)
def test_verdict_is_alertmanagers(am_url, pattern):
    assert_same_verdict(am_url, pattern)


def test_every_unicode_name_and_only_those(am_url):
    for name in NAMES:
        assert ours(f"\\p{{{name}}}") is None and alertmanager_verdict(am_url, f"\\p{{{name}}}") is None, name
        assert ours(f"\\P{{^{name}}}") is None and ours(f"[\\p{{{name}}}x]") is None, name
    for name in NOT_NAMES:
        assert ours(f"\\p{{{name}}}") == alertmanager_verdict(am_url, f"\\p{{{name}}}") == f"invalid character class range: `\\p{{{name}}}`"


def test_random_patterns_get_alertmanagers_verdict(am_url):
    for pattern in random_patterns(seed=20261201, count=150):
        assert_same_verdict(am_url, pattern)


def test_nesting_and_repeat_limits(am_url):
    for pattern in ["(" * 999 + "a" + ")" * 999, "(" * 1000 + "a" + ")" * 1000, "(?:" * 3000 + "a" + ")" * 3000,
                    "(a" * 600 + ")" * 600, "(a{10}){100}", "(a{10}){101}", "((a{2}){2}){250}", "((a{2}){2}){251}",
                    "(a*){1000}", "(a{2,}){500}", "(a{2,}){501}", "a{1000}b{1000}"]:
        assert_same_verdict(am_url, pattern)


def test_dry_run_refuses_exactly_what_alertmanager_refuses(am_url, profile_factory, aetherops_cli, monkeypatch):
    profile_factory("re2", alertmanager={"url": am_url, "timeout": 10, "retries": 1})
    monkeypatch.setenv("AETHEROPS_PROFILE", "re2")
    for pattern in random_patterns(seed=7, count=60) + CASES[:40]:
        result = aetherops_cli("maintenance", "--minutes", "5", "--dry-run", "--match", 'b="1"', "--match", f"a=~{m.quote(pattern)}")
        theirs = alertmanager_verdict(am_url, pattern)
        assert result.exit_code == (0 if theirs is None else 2), (pattern, result)
        if theirs is not None:
            assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
            assert theirs.split(":")[0] in result.stderr
    assert all(s["createdBy"] == "re2-test" for s in httpx.get(f"{am_url}/api/v2/silences", timeout=10).json())  # none sent


def test_amtool_agrees(am_url):
    """amtool (the same Go parser, client side) judges a regex as the checker does, once anchored as amtool anchors
    it (``^(?:REGEX)$``: so ``\\Qab`` is refused by amtool although the server takes it), then the server
    judges it as sent (``)(`` passes amtool, anchored, and is refused by the server)."""
    import subprocess

    from aetherops.testing.servers import require_binary

    amtool = str(require_binary("amtool"))
    for pattern in CASES[::4] + random_patterns(seed=11, count=20):
        done = subprocess.run([amtool, f"--alertmanager.url={am_url}", "silence", "add", 'b="1"', f"a=~{m.quote(pattern)}",
                               "--comment=re2", "--duration=1m"], capture_output=True, text=True, timeout=30)
        verdict = ours(f"^(?:{pattern})$") or ours(pattern)
        assert (done.returncode == 0) == (verdict is None), (pattern, done.stderr)
        if verdict is not None:
            assert verdict in done.stderr, (pattern, done.stderr)
