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


# maintenance (trust-guards) refuses a matcher longer than MAX_MATCHER_CHARS before any URL or regex is
# built: a stronger, earlier refusal than the long-URL check in aetherops.clients.http (tested directly below).
@pytest.mark.parametrize("size", [70_000, 300_000])
def test_long_matcher_value_is_one_line_exit_2_not_invalid_url(dead_am, aetherops_cli, size):
    from aetherops_plugins.maintenance.matchers import MAX_MATCHER_CHARS

    value = "x" * size
    head = ('job="' + value)[:80]  # the matcher is shown cut, with its length
    for extra in ((), ("--dry-run",)):
        result = aetherops_cli("-p", dead_am, "maintenance", "--minutes", "5", "--match", f'job="{value}"', *extra)
        assert result.exit_code == 2, result
        assert_invariant(result)
        assert "InvalidURL" not in result.stderr and value not in result.stderr
        assert result.stderr == (f"aetherops: error: bad matcher {head!r}... ({size + 6} characters): "
                                 f"longer than {MAX_MATCHER_CHARS} characters (see 'aetherops maintenance --help')\n")


def test_long_silence_id_is_one_short_line_exit_2(dead_am, aetherops_cli):
    result = aetherops_cli("-p", dead_am, "maintenance", "end", "x" * 70_000)
    assert result.exit_code == 2, result
    assert_invariant(result)
    # the id's length, not the id: refused by maintenance before a URL is built
    assert result.stderr == (f"aetherops: error: {'x' * 40!r}... (70000 characters) is not a silence id (at most 200) "
                             "(see 'aetherops maintenance end --help')\n")


def test_a_too_long_request_url_is_exit_2_with_its_length_not_invalid_url():
    import httpx

    from aetherops.clients.http import HTTPService
    from aetherops.errors import AetheropsError, ExitCode
    from aetherops.profiles import ServiceConfig

    sent = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200, json=[]))
    service = HTTPService(ServiceConfig(name="alertmanager", url="http://am.test", retries=0), transport=transport)
    url = "http://am.test/api/v2/silence/" + "x" * 70_000
    with pytest.raises(AetheropsError) as info:
        service.get_json("/api/v2/silence/" + "x" * 70_000)
    assert info.value.exit_code == ExitCode.USAGE and sent == []
    assert info.value.format_message() == (  # the URL's length, not the URL
        f"alertmanager GET {url[:200]}... (70,030 characters): cannot send the request (URL too long); "
        "shorten the values given (matchers, ids, expressions)")
    with pytest.raises(AetheropsError) as info:  # a long query: the endpoint is named, the values are not
        service.get_json("/api/v2/silences", params={"filter": "x" * 70_000})
    service.close()
    assert info.value.exit_code == ExitCode.USAGE and sent == []
    assert info.value.format_message() == ("alertmanager GET http://am.test/api/v2/silences: cannot send the request "
                                           "(URL component 'query' too long); shorten the values given (matchers, ids, expressions)")


@pytest.mark.parametrize("depth", [1_500, 20_000])
def test_deeply_nested_regex_matcher_is_one_line_exit_2(dead_am, aetherops_cli, depth):
    from aetherops_plugins.maintenance.matchers import MAX_MATCHER_CHARS

    regex = "(" * depth + "a" + ")" * depth
    result = aetherops_cli("-p", dead_am, "maintenance", "--minutes", "5", "--match", f'job=~"{regex}"', "--dry-run")
    assert result.exit_code == 2, result
    assert_invariant(result)
    assert "RecursionError" not in result.stderr and len(result.stderr) < 1000
    if len(regex) + 7 <= MAX_MATCHER_CHARS:  # short enough to reach the RE2 check
        assert "nests too deeply" in result.stderr
    else:  # refused earlier for its length
        assert f"({len(regex) + 7} characters): longer than {MAX_MATCHER_CHARS} characters" in result.stderr


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
