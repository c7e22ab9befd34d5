"""Guards for aetherops.profiles: how a service section becomes what a client uses (URL, timeouts, TLS files,
credentials from env vars and files) and the errors that name the key, fast enough for ``nox -s mutants``."""

from __future__ import annotations

import base64
import os
import textwrap

import pytest

from aetherops import redact
from aetherops.errors import ConfigError
from aetherops.profiles import Profile, ProfileStore, ServiceConfig


@pytest.fixture(autouse=True)
def fresh_secrets(monkeypatch):
    monkeypatch.setattr(redact, "_SECRETS", set())


@pytest.fixture
def load(profiles_dir):
    def load(text: str, name: str = "p") -> Profile:
        (profiles_dir / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
        return ProfileStore(profiles_dir=profiles_dir).load(name)

    return load


def test_service_defaults_and_coercion(load):
    service = load("""\
        prometheus:
          url: http://prom:9090///
          timeout: 7
          retries: 5
          headers: {X-Scope-OrgID: 12}
          data_dir: /var/lib/prometheus
        """).service("prometheus")
    assert service.url == "http://prom:9090" and service.timeout == 7.0 and isinstance(service.timeout, float)
    assert service.retries == 5 and service.headers == {"X-Scope-OrgID": "12"} and service.options == {"config_file": None, "rule_files": [], "data_dir": "/var/lib/prometheus"}
    assert service.verify is True and service.cert is None and service.bearer_token is None and service.basic_auth is None
    assert service.auth_headers() == {} and redact.known_secrets() == frozenset()
    plain = load("prometheus:\n  url: http://prom:9090\n", name="q").service("prometheus")
    assert (plain.timeout, plain.retries, plain.headers) == (10.0, 3, {}) and "url" not in plain.options


def test_no_url_is_a_config_error(load):
    profile = load("grafana:\n  timeout: 3\n")
    assert profile.has_service("grafana") is False and profile.has_service("prometheus") is False
    with pytest.raises(ConfigError) as info:
        profile.service("grafana")
    assert "profile 'p' has no grafana.url" in info.value.format_message()


def test_bearer_token_from_env_is_registered(load, monkeypatch):
    monkeypatch.setenv("GUARD_TOKEN", "  tok-123456  ")
    service = load("grafana:\n  url: http://g\n  auth:\n    token_env: GUARD_TOKEN\n").service("grafana")
    assert service.bearer_token == "tok-123456"
    assert service.auth_headers() == {"Authorization": "Bearer tok-123456"}
    assert {"tok-123456", "Bearer tok-123456"} <= redact.known_secrets()


def test_bearer_token_env_and_file(load, monkeypatch, tmp_path):
    monkeypatch.setenv("GUARD_BEARER", "bearer-abc")
    assert load("grafana:\n  url: http://g\n  auth:\n    bearer_token_env: GUARD_BEARER\n").service("grafana").bearer_token == "bearer-abc"
    secret = tmp_path / "token.txt"
    secret.write_text("file-token-xyz\n", encoding="utf-8")
    service = load(f"grafana:\n  url: http://g\n  auth:\n    token_file: {secret}\n", name="f").service("grafana")
    assert service.bearer_token == "file-token-xyz" and "file-token-xyz" in redact.known_secrets()


def test_basic_auth_header_and_secrets(load, monkeypatch):
    monkeypatch.setenv("GUARD_PW", "pa:ss-word")
    service = load("alertmanager:\n  url: http://am\n  auth:\n    username: ops\n    password_env: GUARD_PW\n").service("alertmanager")
    assert service.basic_auth == ("ops", "pa:ss-word")
    encoded = base64.b64encode(b"ops:pa:ss-word").decode("ascii")
    assert service.auth_headers() == {"Authorization": f"Basic {encoded}"}
    assert {encoded, f"Basic {encoded}", "pa:ss-word"} <= redact.known_secrets()


def test_username_without_password_names_the_key(load):
    with pytest.raises(ConfigError) as info:
        load("alertmanager:\n  url: http://am\n  auth:\n    username: ops\n").service("alertmanager")
    message = info.value.format_message()
    assert "alertmanager.auth.username needs password_env or password_file" in message and "p.yaml:3:" in message


def test_missing_env_and_unreadable_file_name_the_key_and_line(load, monkeypatch, tmp_path):
    monkeypatch.delenv("GUARD_UNSET", raising=False)
    with pytest.raises(ConfigError) as info:
        load("grafana:\n  url: http://g\n  auth:\n    token_env: GUARD_UNSET\n").service("grafana")
    assert "environment variable GUARD_UNSET (named by auth.token_env) is not set" in info.value.format_message()
    assert "p.yaml:3:" in info.value.format_message()
    missing = tmp_path / "nope.txt"
    with pytest.raises(ConfigError) as info:
        load(f"grafana:\n  url: http://g\n  auth:\n    password_file: {missing}\n    username: u\n", name="f").service("grafana")
    assert f"cannot read secret file {missing} (auth.password_file): No such file or directory" in info.value.format_message()


def test_secret_headers_are_registered_others_not(load, monkeypatch):
    monkeypatch.setenv("GUARD_KEY", "key-value-1")
    service = load("prometheus:\n  url: http://p\n  headers:\n    X-Api-Key: ${GUARD_KEY}\n    X-Tenant: tenant-1\n").service("prometheus")
    assert service.headers == {"X-Api-Key": "key-value-1", "X-Tenant": "tenant-1"}
    assert "key-value-1" in redact.known_secrets() and "tenant-1" not in redact.known_secrets()


def test_tls_files(load, tmp_path):
    ca, cert, key = (tmp_path / n for n in ("ca.pem", "cert.pem", "key.pem"))
    for path in (ca, cert, key):
        path.write_text("x", encoding="utf-8")
    service = load(f"prometheus:\n  url: https://p\n  tls:\n    ca_file: {ca}\n    cert_file: {cert}\n    key_file: {key}\n").service("prometheus")
    assert service.verify == str(ca) and service.cert == (str(cert), str(key))
    single = load(f"prometheus:\n  url: https://p\n  tls:\n    cert_file: {cert}\n", name="s").service("prometheus")
    assert single.cert == str(cert) and single.verify is True
    off = load(f"prometheus:\n  url: https://p\n  tls:\n    verify: false\n    ca_file: {ca}\n", name="o").service("prometheus")
    assert off.verify is False
    with pytest.raises(ConfigError) as info:
        load(f"prometheus:\n  url: https://p\n  tls:\n    ca_file: {tmp_path / 'gone.pem'}\n", name="g").service("prometheus")
    message = info.value.format_message()
    assert f"prometheus.tls.ca_file: no such file {tmp_path / 'gone.pem'}" in message and "g.yaml:4:" in message


def test_relative_and_home_paths(load, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rel.txt").write_text("rel-secret\n", encoding="utf-8")
    assert load("grafana:\n  url: http://g\n  auth:\n    token_file: rel.txt\n").service("grafana").bearer_token == "rel-secret"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load("grafana:\n  url: http://g\n  auth:\n    token_file: ~/rel.txt\n", name="h").service("grafana").bearer_token == "rel-secret"


def test_redacted_profile_hides_secrets(load, monkeypatch):
    monkeypatch.setenv("GUARD_TOKEN", "tok-999999")
    profile = load("grafana:\n  url: http://g\n  auth:\n    token_env: GUARD_TOKEN\n")
    profile.service("grafana")
    assert "tok-999999" not in repr(profile.redacted()) and profile.redacted()["grafana"]["url"] == "http://g"


def test_service_config_repr_hides_credentials():
    config = ServiceConfig(name="g", url="http://g", bearer_token="tok-repr-1", basic_auth=("u", "pw-repr-1"))
    assert "tok-repr-1" not in repr(config) and "pw-repr-1" not in repr(config)


def test_env_reference_in_a_url(load, monkeypatch):
    monkeypatch.setenv("GUARD_HOST", "prom.internal")
    assert load("prometheus:\n  url: http://${GUARD_HOST}:9090\n").service("prometheus").url == "http://prom.internal:9090"
    assert os.environ["GUARD_HOST"] == "prom.internal"
