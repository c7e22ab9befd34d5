"""Hostile command-line input that ends up in a URL or a regex: long matcher values, deeply nested regexes,
and servers answering with deeply nested JSON (issue 14, "Hostile input everywhere")."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ._invariant import assert_invariant

DEAD = "http://127.0.0.1:9"  # nothing listens on the discard port


@pytest.fixture
def dead_am(profile_factory):
    return profile_factory("dead", alertmanager={"url": DEAD, "retries": 0, "timeout": 2})


@pytest.mark.parametrize("size", [70_000, 300_000])
def test_long_matcher_value_is_one_line_exit_2_not_invalid_url(dead_am, aetherops_cli, size):
    value = "x" * size
    for extra in ((), ("--dry-run",)):
        result = aetherops_cli("-p", dead_am, "maintenance", "--minutes", "5", "--match", f'job="{value}"', *extra)
        assert result.exit_code == 2, result
        assert_invariant(result)
        assert "InvalidURL" not in result.stderr and "shorten" in result.stderr
        assert value not in result.stderr  # the URL in the message is the endpoint, not its query


def test_long_silence_id_is_one_short_line_exit_2(dead_am, aetherops_cli):
    result = aetherops_cli("-p", dead_am, "maintenance", "end", "x" * 70_000)
    assert result.exit_code == 2, result
    assert_invariant(result)
    assert "70,0" in result.stderr and len(result.stderr) < 1000  # the URL's length, not the URL


@pytest.mark.parametrize("depth", [1_500, 20_000])
def test_deeply_nested_regex_matcher_is_one_line_exit_2(dead_am, aetherops_cli, depth):
    regex = "(" * depth + "a" + ")" * depth
    result = aetherops_cli("-p", dead_am, "maintenance", "--minutes", "5", "--match", f'job=~"{regex}"', "--dry-run")
    assert result.exit_code == 2, result
    assert_invariant(result)
    assert "RecursionError" not in result.stderr and "nests too deeply" in result.stderr
    assert len(result.stderr) < 1000


def test_server_answering_deeply_nested_json_is_a_service_error():
    import httpx

    from aetherops.clients.http import HTTPService
    from aetherops.errors import ServiceError
    from aetherops.profiles import ServiceConfig

    body = b"[" * 100_000 + b"]" * 100_000
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    service = HTTPService(ServiceConfig(name="prometheus", url="http://prom.test", retries=0), transport=transport)
    with pytest.raises(ServiceError, match="JSON nested too deeply"):
        service.get_json("/api/v1/status/buildinfo")
    service.close()


_matcher_text = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60),
    st.builds(lambda name, op, value: f"{name}{op}{value}",
              st.sampled_from(["job", "alertname", "__name__", "a b", "", "ä", "0x"]),
              st.sampled_from(["=", "!=", "=~", "!~", "==", "~", ""]),
              st.one_of(st.text(max_size=30), st.sampled_from(['"x"', '".+"', '"(a|b"', '"\\\\p{Greek}"', '"(?P<n>a)"',
                                                                '"a{1,99999}"', '"\\\\1"', "'single'", '"' + "(" * 1200 + '"',
                                                                '"' + "x" * 70_000 + '"']))),
    st.sampled_from(["{a=\"b\", c=~\"d\"}", "{", "}", "{a=\"b\"", "a=\"b\",c=\"d\""]),
)


@given(matchers=st.lists(_matcher_text, min_size=1, max_size=3))
def test_generated_matchers_keep_the_invariant(matchers):
    from aetherops.testing.cli import run_cli

    with tempfile.TemporaryDirectory(prefix="aetherops-fuzz-") as tmp:
        profiles = Path(tmp) / "profiles"
        profiles.mkdir()
        (profiles / "dead.yaml").write_text(f"alertmanager:\n  url: {DEAD}\n  retries: 0\n  timeout: 2\n", encoding="utf-8")
        args = ["-p", "dead", "maintenance", "--minutes", "5", "--dry-run"]
        for m in matchers:
            args += ["--match", m]
        result = run_cli(args, env={"AETHEROPS_PROFILES_DIR": str(profiles), "AETHEROPS_CONFIG_DIR": str(Path(tmp) / "c"),
                                    "AETHEROPS_CACHE_DIR": str(Path(tmp) / "cache"), "AETHEROPS_PROFILE": None})
        assert result.exit_code in (2, 3, 4), result  # bad matcher, or the dead Alertmanager
        assert_invariant(result)
        assert sorted(p.name for p in Path(tmp).iterdir()) in (["cache", "profiles"], ["profiles"])
