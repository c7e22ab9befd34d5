"""Hostile profile values: URLs and headers with line breaks, credentials in URL query strings (issue 14).

A credential in a URL's query string is refused exactly like a password in the user-info part (docs/security.md):
a URL is shown in output, errors, logs and backup manifests, so no secret may live in one. The refusal names the
file, the line and the parameter, never the value; the tests scan every output for it."""

from __future__ import annotations

import pytest

from ._invariant import assert_invariant

SECRET = "qs-secret-7d41c0ffee-value"

QUERY_KEYS = ["api_key", "apikey", "token", "access_token", "password", "secret", "signature", "X-Amz-Signature",
              "sig", "auth", "private_token", "client_secret"]


@pytest.mark.parametrize("key", QUERY_KEYS)
@pytest.mark.parametrize("as_reference", [False, True], ids=["literal", "env_reference"])
def test_credential_in_url_query_is_refused_and_never_shown(profile_factory, aetherops_cli, tmp_path, key, as_reference):
    value = "${QS_SECRET}" if as_reference else SECRET
    name = profile_factory("q", text=f"# leading comment\nprometheus:\n  url: 'http://127.0.0.1:9/api?x=1&{key}={value}'\n")
    env = {"QS_SECRET": SECRET}
    runs = [aetherops_cli("-p", name, "profiles", "show", env=env),
            aetherops_cli("-p", name, "--output", "json", "profiles", "show", env=env),
            aetherops_cli("--output", "json", "profiles", "list", env=env),
            aetherops_cli("profiles", "list", env=env),
            aetherops_cli("-p", name, "--output", "json", "health", env=env),
            aetherops_cli("-p", name, "backup", "--dir", str(tmp_path / "backups"), env=env)]
    for result in runs:
        assert result.exit_code == 4, result
        assert SECRET not in result.stdout and SECRET not in result.stderr, result
        assert_invariant(result)
    assert not (tmp_path / "backups").exists()  # refused before anything (a MANIFEST) is written
    err = runs[0].stderr.strip()
    assert f"q.yaml:3: inline secret in 'prometheus.url': the query parameter '{key}'" in err, err
    (row,) = [r for r in runs[2].json() if r["name"] == "q"]
    assert row["status"] == "error" and "inline secret" in row["error"] and SECRET not in row["error"]


@pytest.mark.parametrize("key", ["page", "orgId", "var-job", "refresh"])
def test_ordinary_query_parameters_are_allowed(profile_factory, aetherops_cli, key):
    name = profile_factory("q", text=f"prometheus:\n  url: 'http://127.0.0.1:9/api?{key}=1'\n")
    result = aetherops_cli("-p", name, "profiles", "show")
    assert result.exit_code == 0, result


LINE_BREAKS = {
    "url_crlf": ('prometheus:\n  url: "http://127.0.0.1:9090/\\r\\nX-Evil: 1"\n', 2, "'prometheus.url' contains a line break"),
    "url_lf": ('prometheus:\n  url: "http://127.0.0.1:9090/\\nfoo"\n', 2, "'prometheus.url' contains a line break"),
    "url_nul": ('prometheus:\n  url: "http://127.0.0.1:9090/\\0"\n', 2, "'prometheus.url' contains a line break"),
    "url_from_env": ('prometheus:\n  url: "${EVIL_URL}"\n', 2, "'prometheus.url' contains a line break"),
    "header_value": ('grafana:\n  url: http://127.0.0.1:3000\n  headers:\n    X-Scope-OrgID: "a\\r\\nX-Evil: 1"\n', 4,
                     "header 'X-Scope-OrgID' contains a line break"),
    "header_from_env": ('alertmanager:\n  url: http://127.0.0.1:9093\n  headers:\n    X-Tenant: "${EVIL_HEADER}"\n', 4,
                        "header 'X-Tenant' contains a line break"),
    "header_name": ('prometheus:\n  url: http://127.0.0.1:9090\n  headers:\n    "X-A\\nB": x\n', 4, "contains a line break"),
    "plugin_url": ('lint:\n  paths: ["http://example.invalid/\\r\\nx"]\n', 2, "'lint.paths.0' contains a line break"),
}


@pytest.mark.parametrize("case", sorted(LINE_BREAKS))
def test_line_breaks_in_urls_and_headers_are_config_errors(profile_factory, aetherops_cli, case):
    text, line, message = LINE_BREAKS[case]
    name = profile_factory("crlf", text=text)
    env = {"EVIL_URL": "http://127.0.0.1:9090/\r\nX-Evil: 1", "EVIL_HEADER": "t\r\nX-Evil: 1"}
    for args in (("-p", name, "profiles", "show"), ("-p", name, "health")):
        result = aetherops_cli(*args, env=env)
        assert result.exit_code == 4, result
        assert_invariant(result)
        assert f"crlf.yaml:{line}:" in result.stderr and message in result.stderr, result
        assert "X-Evil" not in result.stderr
