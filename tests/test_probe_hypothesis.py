"""Hostile input for aetherops probe: any blackbox.yml, any target, any options.

Whatever the input: the exit code is one of the documented ones, an error is one line on
stderr, and there is never a traceback.
"""

from __future__ import annotations

import string

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aetherops.errors import ExitCode

EXIT_CODES = {int(c) for c in ExitCode}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["5s", "0.5s", "-1s", "(", "[a-", "ip4", "ip6", "HTTP/1.1",
                                                           "^ok$", "GET", "tcp", "http"]))
KEYS = ["prober", "timeout", "http", "tcp", "icmp", "valid_status_codes", "valid_http_versions", "method", "headers",
        "body", "follow_redirects", "no_follow_redirects", "fail_if_ssl", "fail_if_not_ssl", "fail_if_body_matches_regexp",
        "fail_if_body_not_matches_regexp", "fail_if_header_matches", "fail_if_header_not_matches", "header", "regexp",
        "allow_missing", "tls_config", "insecure_skip_verify", "ca_file", "server_name", "preferred_ip_protocol",
        "ip_protocol_fallback", "basic_auth", "username", "password_file", "bearer_token_file", "query_response",
        "expect", "send", "starttls", "tls", "source_ip_address", "proxy_url", "modules", "bogus"]
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)),
                      max_leaves=20)
module = st.fixed_dictionaries({"prober": st.sampled_from(["http", "tcp", "icmp", "nope"])},
                               optional={"timeout": scalars, "http": values, "tcp": values})
configs = st.one_of(
    st.fixed_dictionaries({"modules": st.dictionaries(st.sampled_from(["m", "x"]), st.one_of(module, values), max_size=2)}),
    values,
)
raw_text = st.text(alphabet=string.printable + "\u00e9\u2603", max_size=200)
targets = st.one_of(st.sampled_from(["127.0.0.1:1", "http://127.0.0.1:1/", "https://[::1]:1/", "http://[::1:/", "::",
                                     ":0", "http://:80", "host:99999", "http://127.0.0.1:1/%zz"]),
                    st.text(alphabet=string.printable, max_size=30))


def check(result) -> None:
    assert result.exit_code in EXIT_CODES, result
    assert "Traceback" not in result.stderr, result
    if result.exit_code not in (0, 1):
        assert len(result.stderr.strip().splitlines()) == 1, result


@SETTINGS
@given(config=configs)
def test_any_blackbox_config_structure(aetherops_cli, tmp_path_factory, config):
    path = tmp_path_factory.mktemp("hyp") / "blackbox.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = aetherops_cli("probe", "--config", path, "-m", "m", "--timeout", "0.5s", "127.0.0.1:1")
    check(result)


@SETTINGS
@given(text=raw_text)
def test_any_blackbox_config_text(aetherops_cli, tmp_path_factory, text):
    path = tmp_path_factory.mktemp("hyp") / "blackbox.yml"
    path.write_text(text, encoding="utf-8")
    result = aetherops_cli("probe", "--config", path, "-m", "m", "--timeout", "0.5s", "127.0.0.1:1")
    check(result)
    if result.exit_code == 4:
        assert str(path) in result.stderr


@SETTINGS
@given(target=targets, module=st.sampled_from(["http_2xx", "tcp_connect", "http", "tcp"]),
       extra=st.lists(st.sampled_from(["--timeout", "0", "--timeout", "x", "--concurrency", "0", "--min-tls-days", "-1",
                                       "--format", "prometheus", "--interval", "1q"]), max_size=2))
def test_any_target_and_options(aetherops_cli, target, module, extra):
    result = aetherops_cli("probe", "-m", module, "--timeout", "0.5s", *extra, "--", target)
    check(result)
    if result.exit_code == 1 and result.stdout.startswith("{"):
        assert result.json()["probes"][0]["reason"]
