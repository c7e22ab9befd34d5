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


# ---------------------------------------------------------------- loading, extends, validation: the words a user reads
def _error(load, text: str, name: str = "p") -> str:
    with pytest.raises(ConfigError) as info:
        load(text, name=name)
    return info.value.format_message()


def test_unknown_profile_lists_the_known_ones(profiles_dir):
    (profiles_dir / "b.yaml").write_text("{}\n", encoding="utf-8")
    (profiles_dir / "a.yaml").write_text("{}\n", encoding="utf-8")
    store = ProfileStore(profiles_dir=profiles_dir)
    with pytest.raises(ConfigError) as info:
        store.load("zz")
    message = info.value.format_message()
    assert message.startswith("unknown profile 'zz'; known profiles: a, b, ") and ", local" in message
    assert f"; searched {profiles_dir}, " in message


def test_extends_errors(load, profiles_dir):
    assert "p.yaml:1: 'extends' must be a profile name" in _error(load, "extends: [a]\n")
    assert "p.yaml:1: extends unknown profile 'nope'; known profiles: " in _error(load, "extends: nope\n")
    (profiles_dir / "a.yaml").write_text("extends: b\n", encoding="utf-8")
    (profiles_dir / "b.yaml").write_text("extends: a\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        ProfileStore(profiles_dir=profiles_dir).load("a")
    assert "b.yaml:1: profile 'extends' cycle: a -> b -> a" in info.value.format_message()
    (profiles_dir / "self.yaml").write_text("extends: self\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        ProfileStore(profiles_dir=profiles_dir).load("self")
    assert "self.yaml:1: profile 'extends' cycle: self -> self" in info.value.format_message()


def test_extends_merges_and_drops_its_own_keys(load, profiles_dir):
    (profiles_dir / "base.yaml").write_text("default: true\nprometheus:\n  url: http://base:9090\n  timeout: 3\n", encoding="utf-8")
    profile = load("extends: base\nprometheus:\n  timeout: 4\n", name="child")
    assert profile.service("prometheus").url == "http://base:9090" and profile.service("prometheus").timeout == 4.0
    assert "extends" not in profile.data


def test_a_profile_must_be_a_mapping(load):
    assert "p.yaml:1: a profile must be a YAML mapping" in _error(load, "- a\n- b\n")


@pytest.mark.parametrize("text, message", [
    ("prometheus: [1]\n", "p.yaml:1: 'prometheus' must be a mapping"),
    ("prometheus:\n  url: http://p\n  timeout: soon\n", "p.yaml:3: 'prometheus.timeout' must be a number, not str ('soon')"),
    ("prometheus:\n  url: http://p\n  retries: 1.5\n", "p.yaml:3: 'prometheus.retries' must be an integer, not float (1.5)"),
    ("prometheus:\n  url: http://p\n  retries: true\n", "p.yaml:3: 'prometheus.retries' must be an integer, not bool (True)"),
    ("prometheus:\n  url: http://p\n  headers: [a]\n", "p.yaml:3: 'prometheus.headers' must be a mapping, not list (['a'])"),
    ("prometheus:\n  url: 5\n", "p.yaml:2: 'prometheus.url' must be a string, not int (5)"),
    ("prometheus:\n  url: http://p\n  rule_files: x\n", "p.yaml:3: 'prometheus.rule_files' must be a list, not str ('x')"),
    ("prometheus:\n  url: http://p\n  timout: 3\n", "p.yaml:3: unknown key 'timout' in 'prometheus'; did you mean 'timeout'?"),
    ("prometheus:\n  url: http://p\n  tls:\n    verfy: false\n", "p.yaml:4: unknown key 'verfy' in 'prometheus.tls'; did you mean 'verify'?"),
    ("prometheus:\n  url: ftp://p\n", "p.yaml:2: 'prometheus.url' must be an http:// or https:// URL with a host, not 'ftp://p'"),
    ("prometheus:\n  url: http://p:99999\n", "p.yaml:2: 'prometheus.url' is not a valid URL (Port out of range 0-65535)"),
    ("prometheus:\n  url: http://ops@p\n", "p.yaml:2: 'prometheus.url' carries a user name; use auth.username"),
    ("grafana:\n  url: http://g\n  org_id: '12'\n", None),
])
def test_validation_messages_name_file_line_and_key(load, text, message):
    if message is None:
        assert load(text).section("grafana")["org_id"] == 12  # digits in a string are an integer
    else:
        assert message in _error(load, text)


@pytest.mark.parametrize("value, expected", [("yes", True), ("No", False), ("TRUE", True), ("false", False), (True, True)])
def test_booleans_from_yaml_words(load, value, expected):
    profile = load(f"prometheus:\n  url: http://p\n  tls:\n    verify: {value!r}\n")
    assert profile.section("prometheus")["tls"]["verify"] is expected


def test_numbers_from_strings_and_ints(load):
    service = load("prometheus:\n  url: http://p\n  timeout: '2.5'\n  retries: '4'\n").service("prometheus")
    assert (service.timeout, service.retries) == (2.5, 4)
    assert load("prometheus:\n  url: http://p\n  timeout: 3\n", name="i").section("prometheus")["timeout"] == 3.0


def test_env_references(load, monkeypatch):
    monkeypatch.setenv("GUARD_PORT", "9091")
    monkeypatch.delenv("GUARD_NOPE", raising=False)
    assert load("prometheus:\n  url: http://p:${GUARD_PORT}\n").service("prometheus").url == "http://p:9091"
    assert load("prometheus:\n  url: http://${GUARD_NOPE:-fallback}:1\n", name="d").service("prometheus").url == "http://fallback:1"
    message = _error(load, "prometheus:\n  url: http://p\n  headers:\n    X-Org: ${GUARD_NOPE}\n", name="e")
    assert "e.yaml:4: environment variable GUARD_NOPE is not set (used in prometheus.headers.X-Org)" in message
    listed = load("prometheus:\n  url: http://p\n  rule_files: ['${GUARD_PORT}/a']\n", name="l")
    assert listed.section("prometheus")["rule_files"] == ["9091/a"]


def test_sections_without_a_service_url(load):
    profile = load("grafana:\n  timeout: 3\n")
    assert profile.section("grafana")["timeout"] == 3.0 and profile.section("grafana")["retries"] == 3
    assert profile.section("unknown-section") == {}
    assert load("prometheus:\n", name="n").section("prometheus")["url"] is None


# ---------------------------------------------------------------- the YAML file itself
def test_unreadable_and_non_utf8_profiles(profiles_dir):
    from aetherops.profiles import _load_yaml

    (profiles_dir / "dir.yaml").mkdir()
    with pytest.raises(ConfigError) as info:
        _load_yaml(profiles_dir / "dir.yaml")
    assert info.value.path == profiles_dir / "dir.yaml" and "cannot read profile: Is a directory" in info.value.format_message()
    (profiles_dir / "latin.yaml").write_bytes(b"description: caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        ProfileStore(profiles_dir=profiles_dir).load("latin")
    # trust-input names the offset of the first bad byte: b"description: caf" is 16 bytes, then \xe9.
    assert info.value.format_message() == f"{profiles_dir / 'latin.yaml'}: profile is not valid UTF-8 at byte 16"


def test_yaml_errors_name_the_line(load):
    message = _error(load, "prometheus:\n  url: http://p\n  timeout: [1\n")
    assert "p.yaml:4: invalid YAML: " in message and len(message.splitlines()) == 1
    assert "d.yaml:3: duplicate key 'url'" in _error(load, "prometheus:\n  url: http://a\n  url: http://b\n", name="d")


def test_an_empty_profile_is_empty(load):
    profile = load("")
    assert profile.description == "" and profile.section("prometheus")["url"] is None
    described = load("description: the lab\n", name="d")
    assert described.description == "the lab" and described.path.name == "d.yaml"


def test_line_numbers_of_nested_keys(load):
    profile = load("# comment\nprometheus:\n  url: http://p\n  rule_files:\n    - a\n    - b\n")
    assert profile._where(("prometheus", "rule_files", 1)) == (profile.path, 6)
    assert profile._where(("prometheus", "rule_files", 7)) == (profile.path, 4)  # nearest known parent
    assert profile._where(("prometheus",)) == (profile.path, 2)
    assert profile._where(("nothing",)) == (profile.path, None)
    assert Profile("x", None, {})._where(("a",)) == (None, None)


def test_quoted_numbers_stay_strings_and_tags_are_read(load):
    profile = load("description: '12'\nprometheus:\n  url: http://p\n  retries: !!int '5'\n")
    assert profile.description == "12" and profile.section("prometheus")["retries"] == 5


def test_the_child_profile_names_the_line_of_what_it_sets(load, profiles_dir):
    (profiles_dir / "base.yaml").write_text("prometheus:\n  url: http://p\n  timeout: 3\n", encoding="utf-8")
    message = _error(load, "extends: base\n\nprometheus:\n  retries: many\n", name="child")
    assert "child.yaml:4: 'prometheus.retries' must be an integer" in message
    message = _error(load, "extends: base\nprometheus:\n  timeout: 5\n  headers: 1\n", name="c2")
    assert "c2.yaml:4: 'prometheus.headers' must be a mapping" in message


# ---------------------------------------------------------------- sections that plugins declare
def _store(profiles_dir, *sections):
    return ProfileStore(sections, profiles_dir=profiles_dir)


def test_plugin_sections_choices_required_extra_and_lists(profiles_dir):
    from aetherops.profiles import Field, ProfileSection

    class Color:
        pass

    sections = (
        ProfileSection("plug", {"mode": Field(str, "a", "", choices=("a", "b")), "need": Field(str, None, "", required=True),
                                "size": Field((int, str), None), "color": Field(Color, None)}),
        ProfileSection("extra", {"x": Field(int, 1)}, allow_extra=True),
        ProfileSection("probes", {"name": Field(str, None, required=True)}, many=True),
    )
    (profiles_dir / "ok.yaml").write_text("plug:\n  mode: b\n  need: yes-really\n  size: big\nextra:\n  y: 2\nprobes:\n  - name: one\n",
                                          encoding="utf-8")
    profile = _store(profiles_dir, *sections).load("ok")
    assert profile.section("plug") == {"mode": "b", "need": "yes-really", "size": "big", "color": None}
    assert profile.section("extra") == {"x": 1, "y": 2} and profile.section("probes") == [{"name": "one"}]
    for text, message in (
        # Field rules (choices/min/max) use trust-input's documented form: dotted key unquoted, then the bad value.
        ("plug:\n  mode: c\n  need: n\n", "ok.yaml:2: plug.mode must be one of a, b, not 'c'"),
        ("plug:\n  mode: a\n", "ok.yaml:1: 'plug.need' is required"),
        ("plug:\n  need: ''\n", "ok.yaml:1: 'plug.need' is required"),
        ("plug:\n  need: n\n  size: [1]\n", "ok.yaml:3: 'plug.size' must be an integer or a string, not list ([1])"),
        ("plug:\n  need: n\n  color: 1\n", "ok.yaml:3: 'plug.color' must be Color, not int (1)"),
        ("plug:\n  need: n\n  zzz: 1\n", "ok.yaml:3: unknown key 'zzz' in 'plug'; known keys: mode, need, size, color"),
        ("probes: {name: x}\n", "ok.yaml:1: 'probes' must be a list"),
        ("probes:\n  - {}\n", "ok.yaml:2: 'probes.0.name' is required"),
        ("extra:\n  x: no\n", "ok.yaml:2: 'extra.x' must be an integer, not bool (False)"),
        ("prometheus:\n  url: http://p\n  tls:\n    verify: 5\n", "ok.yaml:4: 'prometheus.tls.verify' must be true/false, not int (5)"),
    ):
        (profiles_dir / "ok.yaml").write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as info:
            _store(profiles_dir, *sections).load("ok")
        assert message in info.value.format_message(), (text, info.value.format_message())
    (profiles_dir / "ok.yaml").write_text("{}\n", encoding="utf-8")
    profile = _store(profiles_dir, *sections).load("ok")
    assert profile.missing == {"plug": ["need"]} and profile.section("probes") == []
    with pytest.raises(ConfigError) as info:
        profile.section("plug")
    assert "profile 'ok' has no 'plug' section (plug.need required)" in info.value.format_message()
    with pytest.raises(ConfigError, match="profile section 'plug' is declared twice"):
        _store(profiles_dir, sections[0], sections[0])


def test_tls_and_auth_keep_only_what_was_given(load, monkeypatch):
    monkeypatch.setenv("GUARD_PW", "pw-123")
    monkeypatch.setenv("GUARD_TK", "tk-123")
    profile = load("grafana:\n  url: http://g\n  tls:\n    verify: false\n  auth:\n    username: u\n    password: ${GUARD_PW}\n")
    assert profile.section("grafana")["tls"] == {"verify": False}
    assert profile.section("grafana")["auth"] == {"username": "u", "password": "pw-123"}
    assert profile.service("grafana").basic_auth == ("u", "pw-123") and "pw-123" in redact.known_secrets()
    token = load("grafana:\n  url: http://g\n  auth:\n    token: ${GUARD_TK}\n", name="t").service("grafana")
    assert token.bearer_token == "tk-123"


def test_state_dir_reference_works_unset(load, monkeypatch, tmp_path):
    monkeypatch.delenv("AETHEROPS_STATE_DIR", raising=False)
    from aetherops.profiles import state_dir

    url = load("prometheus:\n  url: http://p\n  data_dir: ${AETHEROPS_STATE_DIR}/tsdb\n").section("prometheus")["data_dir"]
    assert url == str(state_dir()).replace("\\", "/") + "/tsdb"


def test_default_profile_and_search_order(profiles_dir, monkeypatch, tmp_path):
    from aetherops.profiles import search_dirs

    monkeypatch.delenv("AETHEROPS_PROFILE", raising=False)
    (profiles_dir / "a.yaml").write_text("prometheus: {url: 'http://a'}\n", encoding="utf-8")
    (profiles_dir / "b.yaml").write_text("default: yes\n", encoding="utf-8")
    assert ProfileStore(profiles_dir=profiles_dir).default_name() == "b"
    monkeypatch.setenv("AETHEROPS_PROFILE", "a")
    assert ProfileStore(profiles_dir=profiles_dir).default_name() == "a"
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.yml").write_text("{}\n", encoding="utf-8")
    monkeypatch.setenv("AETHEROPS_PROFILES_DIR", f"{other}{os.pathsep}{profiles_dir}")
    dirs = search_dirs(profiles_dir)
    assert dirs[:2] == [profiles_dir, other] and len(dirs) == len({d.resolve() for d in dirs})
    assert ProfileStore(profiles_dir=profiles_dir).available()["a"] == profiles_dir / "a.yaml"
    with pytest.raises(ConfigError, match="does not exist"):
        ProfileStore(profiles_dir=tmp_path / "none")


# ---------------------------------------------------------------- details a mutant once changed unnoticed
def test_service_details(load, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ca.pem").write_text("x", encoding="utf-8")
    service = load("prometheus:\n  url: http://boX/\n  headers:\n    X-Signature: sig-value-1\n  tls:\n    ca_file: ca.pem\n").service("prometheus")
    assert service.name == "prometheus" and service.url == "http://boX"
    assert service.verify == str(tmp_path / "ca.pem")  # relative to the current directory, made absolute
    assert "sig-value-1" in redact.known_secrets()  # a credential header, registered although its key is not secret-looking
    profile = load("grafana:\n  timeout: 1\n", name="n")
    with pytest.raises(ConfigError) as info:
        profile.service("grafana")
    assert info.value.path == profile.path


def test_bearer_token_env_unset_names_its_line(load, monkeypatch):
    monkeypatch.delenv("GUARD_UNSET", raising=False)
    message = _error_service(load, "grafana:\n  url: http://g\n\n  auth:\n    bearer_token_env: GUARD_UNSET\n")
    assert "p.yaml:4: environment variable GUARD_UNSET (named by auth.bearer_token_env) is not set" in message


def _error_service(load, text):
    profile = load(text)
    with pytest.raises(ConfigError) as info:
        profile.service(next(iter(profile.data)))
    return info.value.format_message()


def test_secret_file_errors_name_the_auth_line(load, tmp_path):
    message = _error_service(load, f"grafana:\n  url: http://g\n  auth:\n    token_file: {tmp_path / 'none'}\n")
    assert "p.yaml:3: cannot read secret file" in message and len(message.splitlines()) == 1


def test_env_values_of_ordinary_keys_are_not_secrets(load, monkeypatch):
    monkeypatch.setenv("GUARD_HOST", "plain-host-1")
    load("prometheus:\n  url: http://${GUARD_HOST}\n")
    assert "plain-host-1" not in redact.known_secrets()
    monkeypatch.delenv("GUARD_NOPE", raising=False)
    message = _error(load, "prometheus:\n  url: http://p\n  rule_files:\n    - a\n    - ${GUARD_NOPE}\n", name="l")
    assert "l.yaml:5: environment variable GUARD_NOPE is not set (used in prometheus.rule_files.1)" in message


def test_empty_secret_values_and_inline_secrets_in_lists(load):
    assert load("grafana:\n  url: http://g\n  auth:\n    password: ''\n").section("grafana")["auth"] == {"password": ""}
    message = _error(load, "notify:\n  - name: a\n  - api_key: literal-key-9\n", name="i")
    assert "i.yaml:3: inline secret in 'notify.1.api_key'" in message and "literal-key-9" not in message


def test_extra_keys_all_kept_and_non_service_urls_not_checked(profiles_dir):
    from aetherops.profiles import Field, ProfileSection

    sections = (ProfileSection("extra", {"x": Field(int, 1)}, allow_extra=True),
                ProfileSection("links", {"url": Field(str, None)}))
    (profiles_dir / "e.yaml").write_text("extra:\n  a: 1\n  b: 2\n  x: 3\nlinks:\n  url: ftp://files\n", encoding="utf-8")
    profile = ProfileStore(sections, profiles_dir=profiles_dir).load("e")
    assert profile.section("extra") == {"x": 3, "a": 1, "b": 2} and profile.section("links") == {"url": "ftp://files"}


def test_auth_keys_are_checked(load):
    assert "p.yaml:4: unknown key 'tokn_env' in 'grafana.auth'; did you mean 'token_env'?" in _error(
        load, "grafana:\n  url: http://g\n  auth:\n    tokn_env: X\n")


def test_state_and_config_dirs(monkeypatch, tmp_path):
    import platformdirs

    from aetherops.profiles import state_dir, user_config_dir

    monkeypatch.setenv("AETHEROPS_STATE_DIR", str(tmp_path / "s"))
    monkeypatch.setenv("AETHEROPS_CONFIG_DIR", str(tmp_path / "c"))
    assert state_dir() == tmp_path / "s" and user_config_dir() == tmp_path / "c"
    monkeypatch.delenv("AETHEROPS_STATE_DIR")
    monkeypatch.delenv("AETHEROPS_CONFIG_DIR")
    assert state_dir() == platformdirs.user_state_path("aetherops", appauthor=False)
    assert user_config_dir() == platformdirs.user_config_path("aetherops", appauthor=False, roaming=True)


def test_lookups_skip_missing_dirs_and_non_profiles(profiles_dir, monkeypatch, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "b.yaml").write_text("default: true\n", encoding="utf-8")
    (real / "notes.txt").write_text("x", encoding="utf-8")
    (real / "dir.yaml").mkdir()
    monkeypatch.delenv("AETHEROPS_PROFILE", raising=False)
    monkeypatch.setenv("AETHEROPS_PROFILES_DIR", f"{tmp_path / 'missing'}{os.pathsep}{real}")
    store = ProfileStore()
    assert store.default_name() == "b"
    names = set(store.available())
    assert {"b", "local"} <= names and "notes" not in names and "dir" not in names


def test_profiles_in_the_current_directory_are_found(monkeypatch, tmp_path):
    monkeypatch.delenv("AETHEROPS_PROFILES_DIR", raising=False)
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "here.yaml").write_text("description: found\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert ProfileStore().load("here").description == "found"


def test_reserved_keys_first_do_not_hide_the_rest(load):
    profile = load("description: lab\ndefault: false\nprometheus:\n  url: http://p\n")
    assert profile.section("prometheus")["url"] == "http://p" and profile.has_service("prometheus")
    assert profile.has_service("not-a-section") is False


def test_numeric_keys_stay_text(load):
    profile = load("notify:\n  1: one\n  true: yes\n")
    assert profile.section("notify") == {"1": "one", "true": True}


def test_missing_required_sections_name_every_key_and_the_file(profiles_dir):
    from aetherops.profiles import Field, ProfileSection

    section = ProfileSection("plug", {"a": Field(str, None, required=True), "b": Field(str, None, required=True)})
    (profiles_dir / "m.yaml").write_text("{}\n", encoding="utf-8")
    profile = ProfileStore([section], profiles_dir=profiles_dir).load("m")
    with pytest.raises(ConfigError) as info:
        profile.section("plug")
    assert info.value.path == profile.path
    assert info.value.format_message().endswith("profile 'm' has no 'plug' section (plug.a, plug.b required)")
