"""QA (issues 12 and 15): a `${VAR}` secret reference written in the profile (`headers: {X-Api-Key: "${API_KEY}"}`)
that is unset is a failed `secret` row of `validate`, like an unset `token_env` or an unreadable `*_file`:
`profiles show` reports all three forms the same way, and validate only showed the first two (the `${VAR}` one
appeared only as the service's failed health row, with no `secret` row naming the reference). Real Prometheus."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.servers


def test_validate_has_a_secret_row_for_an_unset_var_reference(prometheus_server, alertmanager_server, profile_factory,
                                                               aetherops_cli, monkeypatch):
    monkeypatch.delenv("QA_UNSET_API_KEY", raising=False)
    profile_factory("v", prometheus={"url": prometheus_server.url, "timeout": 5, "retries": 0,
                                     "headers": {"X-Api-Key": "${QA_UNSET_API_KEY}"}},
                    alertmanager={"url": alertmanager_server.url, "timeout": 5, "retries": 0})
    result = aetherops_cli("-p", "v", "validate", "-o", "json")
    assert result.exit_code == 1, result.stderr
    checks = {(c["check"], c["target"]): c for c in result.json()["checks"]}
    row = checks[("secret", "prometheus.headers.X-Api-Key")]
    assert row["status"] == "fail"
    assert "v.yaml:" in row["detail"] and "QA_UNSET_API_KEY is not set" in row["detail"]
    assert "Traceback" not in result.stderr

    monkeypatch.setenv("QA_UNSET_API_KEY", "qa-never-shown-1f2e")
    result = aetherops_cli("-p", "v", "validate", "-o", "json")
    assert result.exit_code == 0, result.stdout
    assert not [c for c in result.json()["checks"] if c["check"] == "secret" and c["status"] == "fail"]
    assert "qa-never-shown-1f2e" not in result.stdout + result.stderr
