"""Profiles: lookup, extends, ${ENV}, secret references, validation errors with file:line (exit 4)."""

from __future__ import annotations

import textwrap

import pytest

from aetherops.errors import ConfigError
from aetherops.profiles import Field, ProfileSection, ProfileStore

SECRET = "s3cr3t-token-value-91f2"


def store(**kwargs) -> ProfileStore:
    return ProfileStore(**kwargs)


def test_embedded_local_profile_is_the_default(aetherops_env, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no ./profiles here: the shipped one must be found
    profile = store().load()
    assert profile.name == "local"
    assert profile.service("prometheus").url == "http://127.0.0.1:19090"
    state = aetherops_env["AETHEROPS_STATE_DIR"].replace("\\", "/")
    assert profile.section("grafana")["auth"]["token_file"] == f"{state}/sandbox/grafana-token"


def test_extends_merges_deeply_and_child_wins(profile_factory, profiles_dir):
    profile_factory(text=textwrap.dedent("""
        prometheus:
          url: http://base:9090
          headers: {X-Scope-OrgID: team-a}
          timeout: 3
        """), name="base")
    profile_factory(text="extends: base\nprometheus:\n  url: http://child:9090\n", name="child")
    profile = store().load("child")
    service = profile.service("prometheus")
    assert service.url == "http://child:9090"
    assert service.headers == {"X-Scope-OrgID": "team-a"}
    assert service.timeout == 3.0


def test_extends_cycle_is_a_config_error(profile_factory):
    profile_factory("a", text="extends: b\n")
    profile_factory("b", text="extends: a\n")
    with pytest.raises(ConfigError, match="cycle: a -> b -> a"):
        store().load("a")


def test_env_expansion_with_default(profile_factory, monkeypatch):
    monkeypatch.setenv("PROM_HOST", "prom.internal")
    profile_factory("p", text="prometheus:\n  url: http://${PROM_HOST}:${PROM_PORT:-9090}\n")
    assert store().load("p").service("prometheus").url == "http://prom.internal:9090"


def test_missing_env_var_names_file_and_line(profile_factory, monkeypatch):
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)
    profile_factory("p", text="# comment\nprometheus:\n  url: http://${NOPE_NOT_SET}:9090\n")
    with pytest.raises(ConfigError) as info:
        store().load("p")
    message = info.value.format_message()
    assert "p.yaml:3:" in message and "NOPE_NOT_SET" in message


def test_token_env_resolves_and_is_never_shown(profile_factory, monkeypatch, aetherops_cli):
    monkeypatch.setenv("MY_GRAFANA_TOKEN", SECRET)
    profile_factory("p", text="grafana:\n  url: http://g:3000\n  auth: {token_env: MY_GRAFANA_TOKEN}\n")
    service = store().load("p").service("grafana")
    assert service.bearer_token == SECRET
    assert SECRET not in repr(service)
    for args in (["profiles", "show", "p"], ["-o", "json", "profiles", "show", "p"]):
        result = aetherops_cli(*args)
        assert result.exit_code == 0, result
        assert SECRET not in result.stdout + result.stderr
        assert "MY_GRAFANA_TOKEN" in result.stdout  # the reference is shown, the value is not


def test_password_file_resolves(profile_factory, tmp_path):
    secret_file = tmp_path / "am-password"
    secret_file.write_text(SECRET + "\n", encoding="utf-8")
    profile_factory("p", alertmanager={"url": "http://am:9093", "auth": {"username": "ops", "password_file": str(secret_file)}})
    service = store().load("p").service("alertmanager")
    assert service.basic_auth == ("ops", SECRET)
    assert service.auth_headers()["Authorization"].startswith("Basic ")


def test_missing_secret_env_is_exit_4_one_line(profile_factory, aetherops_cli, monkeypatch):
    monkeypatch.delenv("UNSET_TOKEN_VAR", raising=False)
    profile_factory("p", text="grafana:\n  url: http://127.0.0.1:9\n  auth:\n    token_env: UNSET_TOKEN_VAR\n")
    result = aetherops_cli("-p", "p", "health")
    assert result.exit_code == 4, result
    assert "UNSET_TOKEN_VAR" in result.stderr and "p.yaml:" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("key", ["token", "password", "api_key", "secret"])
def test_inline_secret_is_refused_with_line(profile_factory, key):
    profile_factory("p", text=f"grafana:\n  url: http://g\n  auth:\n    {key}: literal-value\n")
    with pytest.raises(ConfigError) as info:
        store().load("p")
    message = info.value.format_message()
    assert "inline secret" in message and "p.yaml:4:" in message and "literal-value" not in message


def test_secret_by_env_reference_is_allowed(profile_factory, monkeypatch):
    monkeypatch.setenv("HOOK_URL", "https://hooks.example/abc")
    profile_factory("p", text="notify:\n  webhook_url: ${HOOK_URL}\n")
    profile = store().load("p")
    assert profile.section("notify")["webhook_url"] == "https://hooks.example/abc"
    assert "abc" not in str(profile.redacted())


@pytest.mark.parametrize(
    ("text", "needle", "line"),
    [
        ("prometheus:\n  url: [unclosed\n", "invalid YAML", 3),
        ("prometheus:\n  timeout: fast\n", "'prometheus.timeout' must be a number", 2),
        ("prometheus:\n  ulr: http://x\n", "did you mean 'url'", 2),
        ("prometheus:\n  url: http://x\n  url: http://y\n", "duplicate key 'url'", 3),
        ("- just\n- a list\n", "must be a YAML mapping", 1),
        ("prometheus:\n  tls: {verfy: false}\n", "did you mean 'verify'", 2),
    ],
)
def test_bad_profiles_name_file_and_line(profile_factory, aetherops_cli, text, needle, line):
    profile_factory("bad", text=text)
    with pytest.raises(ConfigError) as info:
        store().load("bad")
    message = info.value.format_message()
    assert needle in message
    assert f"bad.yaml:{line}:" in message
    result = aetherops_cli("-p", "bad", "profiles", "show")
    assert result.exit_code == 4
    assert result.stderr.startswith("aetherops: error: ") and needle in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_profile_is_exit_4_listing_known(profile_factory, aetherops_cli):
    profile_factory("prod", prometheus={"url": "http://p"})
    result = aetherops_cli("-p", "prdo", "profiles", "show")
    assert result.exit_code == 4
    assert "unknown profile 'prdo'" in result.stderr and "prod" in result.stderr


def test_plugin_sections_are_validated_and_defaulted(profile_factory):
    section = ProfileSection("probes", {"target": Field(str, None, "x", required=True), "timeout": Field(float, 5.0)}, many=True)
    profile_factory("p", text="probes:\n  - target: https://x\n  - timeout: 2\n")
    with pytest.raises(ConfigError, match=r"'probes.1.target' is required"):
        ProfileStore([section]).load("p")
    profile_factory("q", text="probes:\n  - target: https://x\n")
    assert ProfileStore([section]).load("q").section("probes") == [{"target": "https://x", "timeout": 5.0}]


def test_two_plugins_declaring_one_section_is_an_error():
    section = ProfileSection("dup", {})
    with pytest.raises(ConfigError, match="declared twice"):
        ProfileStore([section, section])


def test_default_marker_selects_profile(profile_factory, monkeypatch):
    profile_factory("one", prometheus={"url": "http://one"})
    profile_factory("two", text="default: true\nprometheus: {url: http://two}\n")
    assert store().load().name == "two"
    monkeypatch.setenv("AETHEROPS_PROFILE", "one")
    assert store().load().name == "one"


def test_user_config_dir_is_searched(aetherops_env, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    user_dir = tmp_path / "cfg"
    monkeypatch.setenv("AETHEROPS_CONFIG_DIR", str(user_dir))
    (user_dir / "profiles").mkdir(parents=True)
    (user_dir / "profiles" / "mine.yaml").write_text("alertmanager: {url: 'http://am:9093'}\n", encoding="utf-8")
    assert store().load("mine").service("alertmanager").url == "http://am:9093"


def test_profiles_list_shows_broken_ones(profile_factory, aetherops_cli):
    profile_factory("good", prometheus={"url": "http://p"})
    profile_factory("broken", text="prometheus: [\n")
    result = aetherops_cli("profiles", "list", "--output", "json")
    assert result.exit_code == 4, result  # so CI can validate a profiles dir
    rows = {r["name"]: r for r in result.json()}
    assert rows["good"]["status"] == "ok"
    assert rows["broken"]["status"] == "error" and "broken.yaml" in rows["broken"]["error"]
    assert "local" in rows  # the embedded default is always visible


def test_example_prod_profile_has_no_secrets_and_loads(aetherops_env, monkeypatch):
    from pathlib import Path

    monkeypatch.setenv("GRAFANA_TOKEN", SECRET)
    monkeypatch.setenv("ALERTMANAGER_TOKEN", SECRET + "2")
    monkeypatch.setenv("PROMETHEUS_PASSWORD", SECRET + "3")
    text = (Path(__file__).parent.parent / "profiles" / "example-prod.yaml").read_text(encoding="utf-8")
    assert "X-Scope-OrgID" in text and "ca_file" in text
    profile = ProfileStore().load("example-prod")
    assert profile.service("grafana").bearer_token == SECRET
    assert profile.service("prometheus").headers["X-Scope-OrgID"]


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://ops:hunter2-secret@prom:9090", "inline secret in 'prometheus.url'"),
        ("prom:9090", "must be an http:// or https:// URL"),
        ("not a url", "must be an http:// or https:// URL"),
        ("http://prom:99999", "not a valid URL"),
        ("ftp://prom", "must be an http:// or https:// URL"),
    ],
)
def test_bad_service_urls_are_config_errors(profile_factory, aetherops_cli, url, needle):
    profile_factory("u", text=f"# c\nprometheus:\n  url: '{url}'\n")
    result = aetherops_cli("-p", "u", "health")
    assert result.exit_code == 4, result
    assert needle in result.stderr and "u.yaml:3:" in result.stderr
    assert "hunter2-secret" not in result.stderr


def test_errors_in_a_parent_profile_name_the_parent(profile_factory):
    profile_factory("parent", text="# parent\nprometheus:\n  timeout: slow\n")
    profile_factory("child", text="extends: parent\nprometheus:\n  url: http://x\n")
    with pytest.raises(ConfigError) as info:
        store().load("child")
    assert "parent.yaml:3:" in info.value.format_message()


def test_extends_unknown_profile_names_the_line(profile_factory):
    profile_factory("child", text="# c\nextends: nowhere\n")
    with pytest.raises(ConfigError) as info:
        store().load("child")
    assert "child.yaml:2:" in info.value.format_message() and "extends unknown profile 'nowhere'" in info.value.format_message()


def test_missing_profiles_dir_is_a_config_error(aetherops_cli, tmp_path):
    result = aetherops_cli("--profiles-dir", str(tmp_path / "nope"), "profiles", "list")
    assert result.exit_code == 4 and "does not exist" in result.stderr


def test_required_section_is_checked_when_asked_for(profile_factory):
    section = ProfileSection("loki", {"url": Field(str, None, "Loki", required=True)})
    profile_factory("p", prometheus={"url": "http://x"})
    profile = ProfileStore([section]).load("p")  # loading works: other commands do not need loki
    with pytest.raises(ConfigError, match=r"has no 'loki' section \(loki.url required\)"):
        profile.section("loki")


def test_missing_tls_file_is_a_config_error_with_line(profile_factory, aetherops_cli, tmp_path):
    profile_factory("t", text=f"prometheus:\n  url: https://x\n  tls:\n    ca_file: {tmp_path / 'nope.pem'}\n")
    result = aetherops_cli("-p", "t", "health")
    assert result.exit_code == 4, result
    assert "prometheus.tls.ca_file: no such file" in result.stderr and "t.yaml:4:" in result.stderr


def test_token_as_env_reference_in_auth(profile_factory, monkeypatch):
    monkeypatch.setenv("QA_TOKEN", SECRET)
    profile_factory("p", text="grafana:\n  url: http://g\n  auth: {token: '${QA_TOKEN}'}\n")
    profile = store().load("p")
    assert profile.service("grafana").bearer_token == SECRET
    assert SECRET not in str(profile.redacted())


def test_secret_headers_and_basic_auth_are_redacted(profile_factory, monkeypatch, aetherops_cli, tmp_path):
    from aetherops.redact import redact

    monkeypatch.setenv("HDR_KEY", "HdrKeySECRET456")
    pw = tmp_path / "pw"
    pw.write_text("S3cretPassw0rd", encoding="utf-8")
    profile_factory("p", text=f"prometheus:\n  url: http://x\n  headers: {{X-Api-Key: '${{HDR_KEY}}', X-Scope-OrgID: t1}}\n"
                              f"  auth: {{username: admin, password_file: '{pw}'}}\n")
    shown = aetherops_cli("-p", "p", "profiles", "show", "-o", "json")
    assert "HdrKeySECRET456" not in shown.stdout and "t1" in shown.stdout
    headers = store().load("p").service("prometheus")
    basic = headers.auth_headers()["Authorization"]
    assert redact(f"sent {basic} and HdrKeySECRET456") == "sent *** and ***"


def test_profiles_show_warns_about_unread_sections(profile_factory, aetherops_cli):
    profile_factory("typo", text="prometheus: {url: 'http://x'}\nmaintenanse: {max_minutes: 5}\n")
    result = aetherops_cli("profiles", "show", "typo")
    assert result.exit_code == 0
    assert "no loaded plugin reads section 'maintenanse' (did you mean 'maintenance'?)" in result.stderr


# ------------------------------------------------------------------ typed sections (issue 16)
def _typed_store(**fields) -> ProfileStore:
    return ProfileStore([ProfileSection("demo", fields, "A demo section.")])


def test_section_is_typed_with_declared_defaults(profile_factory):
    from aetherops.profiles import Section

    profile_factory("p", text="demo:\n  workers: 4\n")
    section = _typed_store(workers=Field(int, 8, "Workers.", min=1), name=Field(str, "x", "A name.")).load("p").section("demo")
    assert isinstance(section, Section)
    assert section.workers == 4 and section.name == "x"  # given, and the declared default
    assert section["workers"] == 4 and section.get("name") == "x" and dict(section) == {"workers": 4, "name": "x"}
    with pytest.raises(AttributeError, match="'demo' has no key 'nope'"):
        section.nope  # noqa: B018
    with pytest.raises(AttributeError, match="read-only"):
        section.workers = 5


def test_absent_section_has_its_defaults_as_attributes(profile_factory):
    profile_factory("p", text="prometheus:\n  url: http://127.0.0.1:9090\n")
    section = _typed_store(workers=Field(int, 8, "Workers.")).load("p").section("demo")
    assert section.workers == 8


def test_an_empty_value_means_the_declared_default(profile_factory):
    profile_factory("p", text="demo:\n  workers:\n")
    assert _typed_store(workers=Field(int, 8, "Workers.")).load("p").section("demo").workers == 8


def test_field_validator_message_names_file_and_line(profile_factory, profiles_dir):
    def even(value):
        """An even number."""
        return None if value % 2 == 0 else "must be even"

    profile_factory("p", text="# c\ndemo:\n  workers: 3\n")
    with pytest.raises(ConfigError) as info:
        _typed_store(workers=Field(int, 8, "Workers.", validator=even)).load("p")
    assert info.value.exit_code == 4 and info.value.line == 3 and "demo.workers must be even, not 3" in str(info.value)
    assert str(profiles_dir / "p.yaml") in str(info.value)


def test_backup_has_one_declared_concurrency_default():
    """backup used 16 in one place and restore 8 in another: one default, the Field's."""
    from aetherops_plugins.backup import DEFAULT_CONCURRENCY, aetherops_profile_sections
    from aetherops_plugins.backup.engine import DEFAULT_CONCURRENCY as engine_default

    (section,) = aetherops_profile_sections()
    assert section.fields["concurrency"].default == DEFAULT_CONCURRENCY == engine_default
    import inspect

    from aetherops_plugins.backup import restore

    assert inspect.signature(restore.run_restore).parameters["concurrency"].default == DEFAULT_CONCURRENCY


RANGE_CASES = [
    ("prometheus:\n  url: http://h:9090\n  timeout: -1\n", "prometheus.timeout must be greater than 0", 3),
    ("prometheus:\n  url: http://h:9090\n  timeout: 0\n", "prometheus.timeout must be greater than 0", 3),
    ("prometheus:\n  url: http://h:9090\n  timeout: .nan\n", "prometheus.timeout must be a number, not NaN", 3),
    ("prometheus:\n  url: http://h:9090\n  timeout: nan\n", "prometheus.timeout must be a number, not NaN", 3),
    ("alertmanager:\n  url: http://h:9093\n  retries: -2\n", "alertmanager.retries must be at least 0", 3),
    ("backup:\n  concurrency: 0\n", "backup.concurrency must be at least 1", 2),
    ("backup:\n  keep: -3\n", "backup.keep must be at least 1", 2),
    ("maintenance:\n  max_minutes: 0\n", "maintenance.max_minutes must be at least 1", 2),
    ("sandbox:\n  ready_timeout: -5\n", "sandbox.ready_timeout must be greater than 0", 2),
    ("lint:\n  scrape_interval: 1.5m\n", "lint.scrape_interval must be a Prometheus duration", 2),
    ("lint:\n  runbook_timeout: .nan\n", "lint.runbook_timeout must be a number, not NaN", 2),
]


@pytest.mark.parametrize("text,message,line", RANGE_CASES, ids=[c[1].split(" ")[0] + "=" + c[0].split(": ")[-1].strip()
                                                                 for c in RANGE_CASES])
def test_out_of_range_profile_values_are_exit_4_with_file_and_line(profile_factory, aetherops_cli, text, message, line):
    name = profile_factory("bad", text=text)
    result = aetherops_cli("-p", name, "profiles", "show")
    assert result.exit_code == 4, result
    (err,) = result.stderr.strip().splitlines()
    assert message in err and f"bad.yaml:{line}:" in err, err


def test_values_in_range_load(profile_factory):
    profile_factory("ok", text="prometheus:\n  url: http://h:9090\n  timeout: 0.5\n  retries: 0\nbackup:\n  concurrency: 1\n  keep: 1\n")
    from aetherops.testing.cli import run_cli

    result = run_cli(["-p", "ok", "--output", "json", "profiles", "show"])
    assert result.exit_code == 0, result
    profile = result.json()["profile"]
    assert profile["prometheus"]["timeout"] == 0.5 and profile["backup"]["concurrency"] == 1


def test_many_section_items_are_typed_and_checked(profile_factory):
    probes = ProfileSection("probes", {"url": Field(str, None, "Target.", required=True),
                                       "interval": Field(float, 30.0, "Seconds.", min=1)}, "Probes.", many=True)
    profile_factory("p", text="probes:\n  - url: http://a\n  - url: http://b\n    interval: 5\n")
    items = ProfileStore([probes]).load("p").section("probes")
    assert [(i.url, i.interval) for i in items] == [("http://a", 30.0), ("http://b", 5.0)]
    profile_factory("bad", text="probes:\n  - url: http://a\n    interval: 0.5\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:3: probes.0.interval must be at least 1, not 0.5"):
        ProfileStore([probes]).load("bad")


def test_piped_profiles_list_without_headers_gives_the_names_in_the_first_field(profile_factory, aetherops_cli):
    """`profiles list --no-headers | awk '{print $1}'` lists profile names: no empty cell comes before the
    name (the default profile used to be marked by a '*' in a first column that was blank on the other rows)."""
    profile_factory("first", {"prometheus": {"url": "http://127.0.0.1:9"}})
    profile_factory("second", {"prometheus": {"url": "http://127.0.0.1:9"}})
    result = aetherops_cli("-p", "first", "profiles", "list", "--no-headers")
    names = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert {"first", "second"} <= names
    assert "*" not in names and "NAME" not in names
