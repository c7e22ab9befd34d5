"""aetherops validate: the pre-deploy gate, on a real Prometheus and Alertmanager."""

from __future__ import annotations

import textwrap

import pytest

pytestmark = pytest.mark.servers

RULES = """\
groups:
- name: api
  rules:
  - alert: ApiDown
    expr: up{job="api"} == 0
    for: 5m
    labels: {severity: critical}
    annotations:
      summary: The API is down.
      description: "{{ $labels.instance }} has been down for 5 minutes."
      runbook_url: https://runbooks.example.com/api-down
  - record: job:up:sum
    expr: sum by (job) (up)
"""
SECRET = "am-token-never-printed-7f3a"
AM_CONFIG = """\
route:
  receiver: team
  group_by: [alertname]
  routes:
  - matchers: [severity="none"]
    receiver: blackhole
receivers:
- name: team
  webhook_configs:
  - url: http://127.0.0.1:9/hook
- name: blackhole
"""


@pytest.fixture
def stack(prometheus_factory, alertmanager_server, profile_factory, monkeypatch):
    """A consistent stack: a Prometheus running rules/api.yml, an Alertmanager running its file, pins that hold."""
    prom = prometheus_factory(rule_files={"rules/api.yml": RULES})
    alertmanager_server.config_path.write_text(AM_CONFIG, encoding="utf-8")
    alertmanager_server.reload()
    monkeypatch.setenv("AM_TOKEN", SECRET)
    monkeypatch.setenv("AETHEROPS_PROFILE", "s")

    def write(**overrides):
        data = {
            "prometheus": {"url": prom.url, "timeout": 5, "retries": 0, "config_file": str(prom.config_path)},
            "alertmanager": {"url": alertmanager_server.url, "timeout": 5, "retries": 0,
                             "config_file": str(alertmanager_server.config_path), "auth": {"token_env": "AM_TOKEN"}},
            "versions": {"prometheus": "2.42.0", "alertmanager": ">=0.25"},
        }
        data.update(overrides)
        profile_factory("s", data)

    write()
    return type("Stack", (), {"prom": prom, "am": alertmanager_server, "rules": prom.workdir / "rules" / "api.yml",
                              "write": staticmethod(write)})


def rows(result) -> dict[tuple[str, str], dict]:
    return {(r["check"], r["target"]): r for r in result.json()["checks"]}


def failed(result) -> list[tuple[str, str]]:
    return [(r["check"], r["target"]) for r in result.json()["checks"] if r["status"] == "fail"]


def test_validate_passes_on_a_consistent_stack(stack, aetherops_cli):
    result = aetherops_cli("validate", "-o", "json")
    assert result.exit_code == 0, result
    data = result.json()
    assert data["ok"] is True and data["summary"]["fail"] == 0
    got = rows(result)
    expected = {("file", "prometheus.config_file"), ("file", "prometheus.rule_files[0]"), ("file", "alertmanager.config_file"),
                ("lint", str(stack.rules)), ("promtool", "rule files"), ("promtool", str(stack.prom.config_path)),
                ("amtool", str(stack.am.config_path)), ("receivers", "alertmanager.config_file"),
                ("health", "prometheus"), ("health", "alertmanager"),
                ("rules_loaded", "prometheus"), ("alertmanager_config", "alertmanager"), ("secret", "alertmanager.auth.token_env"),
                ("version", "prometheus"), ("version", "alertmanager")}
    assert expected <= set(got), sorted(got)
    assert all(r["status"] == "ok" for r in got.values()), got
    assert got[("rules_loaded", "prometheus")]["detail"] == "1 group(s), 2 rule(s) as on disk"
    assert got[("receivers", "alertmanager.config_file")]["detail"] == "team (webhook), blackhole (no integration)"
    assert "2.42.0" in got[("version", "prometheus")]["detail"]
    assert SECRET not in result.stdout + result.stderr
    text = aetherops_cli("validate")
    assert text.exit_code == 0 and "rules_loaded" in text.stdout and "validate: " in text.stderr


def test_validate_fails_when_a_rule_file_differs_from_what_prometheus_loaded(stack, aetherops_cli):
    stack.rules.write_text(RULES + textwrap.indent(textwrap.dedent("""\
        - record: job:up:count
          expr: count by (job) (up)
        """), "  "), encoding="utf-8")
    result = aetherops_cli("validate", "-o", "json")
    assert result.exit_code == 1, result
    assert failed(result) == [("rules_loaded", "prometheus")]
    assert "group 'api': 3 rule(s) on disk, 2 loaded" in rows(result)[("rules_loaded", "prometheus")]["detail"]
    # a group renamed on disk: both sides named
    stack.rules.write_text(RULES.replace("- name: api", "- name: api-v2"), encoding="utf-8")
    detail = rows(aetherops_cli("validate", "-o", "json"))[("rules_loaded", "prometheus")]["detail"]
    assert "group 'api-v2' is on disk, not loaded" in detail and "group 'api' is loaded, not on disk" in detail


def test_validate_fails_when_a_secret_env_var_is_missing(stack, aetherops_cli, monkeypatch):
    monkeypatch.delenv("AM_TOKEN")
    result = aetherops_cli("validate", "-o", "json")
    assert result.exit_code == 1, result
    got = rows(result)
    secret = got[("secret", "alertmanager.auth.token_env")]
    assert secret["status"] == "fail"
    assert "s.yaml:" in secret["detail"] and "environment variable AM_TOKEN (named by alertmanager.auth.token_env) is not set" in secret["detail"]
    # the client cannot be built without it: health says so instead of crashing with exit 4
    assert got[("health", "alertmanager")]["status"] == "fail" and "AM_TOKEN" in got[("health", "alertmanager")]["detail"]
    assert got[("health", "prometheus")]["status"] == "ok"
    assert got[("version", "alertmanager")]["status"] == "skip"


def test_validate_fails_when_a_pinned_version_differs(stack, aetherops_cli):
    stack.write(versions={"prometheus": "2.41", "alertmanager": "0.25.0"})
    result = aetherops_cli("validate", "-o", "json")
    assert result.exit_code == 1, result
    assert failed(result) == [("version", "prometheus")]
    assert rows(result)[("version", "prometheus")]["detail"].endswith("does not match the pin 2.41")
    assert rows(result)[("version", "alertmanager")]["status"] == "ok"


def test_validate_fails_when_alertmanager_runs_another_config_than_the_file(stack, aetherops_cli):
    stack.am.config_path.write_text(AM_CONFIG + "# edited after the last reload\n", encoding="utf-8")
    result = aetherops_cli("validate", "-o", "json")
    assert result.exit_code == 1, result
    assert failed(result) == [("alertmanager_config", "alertmanager")]
    assert rows(result)[("alertmanager_config", "alertmanager")]["detail"] == (
        "the running config is not alertmanager.yml as on disk (changed since the last reload?)")
    stack.am.config_path.write_text(AM_CONFIG.replace("name: team", "name: team-v2").replace("receiver: team", "receiver: team-v2"),
                                    encoding="utf-8")
    detail = rows(aetherops_cli("validate", "-o", "json"))[("alertmanager_config", "alertmanager")]["detail"]
    assert detail.endswith("; receivers only in the file: team-v2; receivers only in the running config: team")


def test_validate_warns_when_the_catch_all_receiver_sends_nowhere(stack, aetherops_cli):
    stack.am.config_path.write_text(AM_CONFIG.replace("  receiver: team\n  group_by", "  receiver: blackhole\n  group_by"),
                                    encoding="utf-8")
    stack.am.reload()
    result = aetherops_cli("validate", "-o", "json")
    assert result.exit_code == 0, result
    row = rows(result)[("receivers", "alertmanager.config_file")]
    assert row["status"] == "warn" and "'blackhole' has no integration" in row["detail"]
    assert aetherops_cli("validate", "--strict").exit_code == 1


def test_validate_reports_a_broken_rule_file_with_its_line(stack, aetherops_cli):
    stack.rules.write_text("groups:\n- name: api\n  rules: [\n", encoding="utf-8")
    result = aetherops_cli("validate", "-o", "json")
    assert result.exit_code == 1, result
    got = rows(result)
    assert got[("file", "prometheus.rule_files[0]")]["status"] == "fail"
    assert "line " in got[("file", "prometheus.rule_files[0]")]["detail"]
    assert got[("rules_loaded", "prometheus")]["status"] == "skip"


def test_validate_lint_warning_fails_only_with_strict(stack, aetherops_cli):
    stack.rules.write_text(RULES.replace("      runbook_url: https://runbooks.example.com/api-down\n", ""), encoding="utf-8")
    loose = aetherops_cli("validate", "-o", "json")
    assert loose.exit_code == 0, loose
    lint_row = rows(loose)[("lint", str(stack.rules))]
    assert lint_row["status"] == "warn" and "runbook_url" in lint_row["detail"]
    strict = aetherops_cli("validate", "--strict", "-o", "json")
    assert strict.exit_code == 1 and strict.json()["ok"] is False and strict.json()["strict"] is True


def test_validate_lint_error_fails(stack, aetherops_cli):
    stack.rules.write_text(RULES.replace("sum by (job) (up)", "sum by (job) (up"), encoding="utf-8")
    result = aetherops_cli("validate", "-o", "json")
    assert result.exit_code == 1
    assert {("lint", str(stack.rules)), ("promtool", "rule files")} <= set(failed(result))
    assert "unclosed left parenthesis" in rows(result)[("promtool", "rule files")]["detail"]


def test_validate_nothing_reachable_is_exit_3(profile_factory, aetherops_cli):
    from aetherops.testing.servers import free_port

    profile_factory("dead", prometheus={"url": f"http://127.0.0.1:{free_port()}", "retries": 0, "timeout": 2})
    result = aetherops_cli("-p", "dead", "validate", "-o", "json")
    assert result.exit_code == 3, result
    assert rows(result)[("health", "prometheus")]["status"] == "fail"


def test_validate_checks_secret_files_named_in_the_alertmanager_config(stack, aetherops_cli, tmp_path):
    stack.am.config_path.write_text(textwrap.dedent(f"""\
        route: {{receiver: pager}}
        receivers:
        - name: pager
          pagerduty_configs:
          - routing_key_file: {tmp_path / "missing-key"}
        """), encoding="utf-8")
    result = aetherops_cli("validate", "-o", "json")
    got = rows(result)
    key = ("secret", "alertmanager.config_file: receivers.0.pagerduty_configs.0.routing_key_file")
    assert got[key]["status"] == "fail" and "no such file" in got[key]["detail"]


PLUGIN = '''
import aetherops

@aetherops.hookimpl
def aetherops_config_files(context):
    from aetherops_plugins.stack.api import ConfigFile

    return [ConfigFile("acme.targets_file", {path!r}, kind="json"), ConfigFile("acme.bad", "x", kind="toml")]
'''


def test_hook_aetherops_config_files(tmp_path, monkeypatch, profile_factory, aetherops_cli):
    broken = tmp_path / "targets.json"
    broken.write_text('{"targets": [1, 2', encoding="utf-8")
    (tmp_path / "acme_files.py").write_text(PLUGIN.format(path=str(broken)), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    profile_factory("p", {"description": "no services"})
    result = aetherops_cli("--plugin", "acme_files", "-p", "p", "validate", "-o", "json")
    assert result.exit_code == 1, result
    got = rows(result)
    assert got[("file", "acme.targets_file")]["status"] == "fail" and "invalid JSON" in got[("file", "acme.targets_file")]["detail"]
    assert "plugin 'acme_files'" in result.stderr and "kind must be one of" in result.stderr
    assert ("file", "acme.bad") not in got
    broken.write_text('{"targets": [1, 2]}', encoding="utf-8")
    fixed = aetherops_cli("--plugin", "acme_files", "-p", "p", "validate", "-o", "json")
    assert rows(fixed)[("file", "acme.targets_file")]["status"] == "ok"


def test_validate_without_the_lint_plugin_skips_the_lint_row(stack, aetherops_cli):
    result = aetherops_cli("--no-plugin", "lint", "validate", "-o", "json")
    assert result.exit_code == 0, result
    assert rows(result)[("lint", "-")] == {"check": "lint", "target": "-", "status": "skip", "detail": "the lint plugin is not loaded"}


def test_validate_resolves_secret_references_inside_lists(profile_factory, aetherops_cli, tmp_path, monkeypatch):
    monkeypatch.delenv("PROBE_TOKEN", raising=False)
    readable = tmp_path / "pw"
    readable.write_text("s3cret-value-x", encoding="utf-8")
    profile_factory("p", {"acme": {"targets": [{"name": "a", "auth": {"token_env": "PROBE_TOKEN"}},
                                               {"name": "b", "auth": {"password_file": str(readable)}}]}})
    result = aetherops_cli("-p", "p", "validate", "-o", "json")
    got = rows(result)
    assert got[("secret", "acme.targets.0.auth.token_env")] == {"check": "secret", "target": "acme.targets.0.auth.token_env",
                                                         "status": "fail", "detail": "environment variable PROBE_TOKEN is not set"}
    assert got[("secret", "acme.targets.1.auth.password_file")]["status"] == "ok"
    assert "s3cret-value-x" not in result.stdout
    monkeypatch.setenv("PROBE_TOKEN", "t")
    assert rows(aetherops_cli("-p", "p", "validate", "-o", "json"))[("secret", "acme.targets.0.auth.token_env")]["status"] == "ok"


def test_validate_checks_every_peer_of_an_alertmanager_cluster(alertmanager_cluster, profile_factory, aetherops_cli):
    first, second = alertmanager_cluster.peers
    profile_factory("ha", alertmanager={"urls": alertmanager_cluster.urls, "timeout": 5, "retries": 0,
                                        "config_file": str(first.config_path)})
    ok = aetherops_cli("-p", "ha", "validate", "-o", "json")
    assert ok.exit_code == 0, ok
    assert [rows(ok)[("alertmanager_config", url)]["status"] for url in alertmanager_cluster.urls] == ["ok", "ok"]
    # the second peer was deployed another config and reloaded: only its row fails
    second.config_path.write_text(second.config_path.read_text(encoding="utf-8") + "# drift\n", encoding="utf-8")
    second.reload()
    drift = aetherops_cli("-p", "ha", "validate", "-o", "json")
    assert drift.exit_code == 1
    assert failed(drift) == [("alertmanager_config", second.url)]


def test_validate_fans_out_over_profiles(prometheus_factory, profile_factory, aetherops_cli):
    from aetherops.testing.servers import free_port

    prom = prometheus_factory(rule_files={"rules/api.yml": RULES})
    for name in ("eu", "us"):
        profile_factory(name, prometheus={"url": prom.url, "config_file": str(prom.config_path), "retries": 0})
    profile_factory("dead", prometheus={"url": f"http://127.0.0.1:{free_port()}", "retries": 0, "timeout": 2})
    result = aetherops_cli("-p", "eu", "-p", "us", "-p", "dead", "validate", "-o", "json")
    assert result.exit_code == 3, result  # the worst of the profiles'
    by_profile = {r["profile"]: r for r in result.json()}
    assert [by_profile[p]["exit_code"] for p in ("eu", "us", "dead")] == [0, 0, 3]
    for name in ("eu", "us"):
        checks = {(c["check"], c["target"]): c["status"] for c in by_profile[name]["result"]["checks"]}
        assert checks[("rules_loaded", "prometheus")] == "ok"
    text = aetherops_cli("-p", "eu", "-p", "dead", "validate")
    assert text.stdout.splitlines()[0].split()[:3] == ["PROFILE", "CHECK", "TARGET"]
