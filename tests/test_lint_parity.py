"""Issue 13, "Parity gaps" (Go templates aside): inputs promtool 2.42 / amtool 0.25 reject are errors here too, and
the valid neighbour of each passes both. Every case runs the real tool (on PATH) and asserts agreement."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aetherops.testing.servers import require_binary
from aetherops_plugins.lint.checks import builtin_checks
from aetherops_plugins.lint.engine import Options, run

CHECKS = builtin_checks()


def errors(path: Path) -> list[str]:
    return [f.message for f in run(Options(paths=[str(path)]), CHECKS).findings if f.severity == "error"]


def rejected_by(tool: list[str], path: Path) -> bool:
    r = subprocess.run(tool + [str(path)], capture_output=True, text=True, timeout=60)
    return r.returncode != 0  # 1 refused; amtool/promtool crash (exit 2) on some null entries: refused too


def assert_agrees(tool: list[str], path: Path, text: str, needle: str | None) -> None:
    """The reference tool and aetherops both reject ``text`` (with ``needle`` in one of our errors), or both accept it."""
    path.write_text(text, encoding="utf-8")
    tool[0] = str(require_binary(tool[0]))
    found = errors(path)
    assert rejected_by(tool, path) == (needle is not None), path.read_text()
    assert bool(found) == (needle is not None), found
    if needle:
        assert any(needle in m for m in found), found


# ------------------------------------------------------------------ Alertmanager
AM_OK = "route:\n  receiver: r\nreceivers:\n  - name: r\n"
HOOK = AM_OK + "    webhook_configs:\n      - url: http://receiver:8080/\n        http_config:\n"
EMAIL = "route:\n  receiver: r\nreceivers:\n  - name: r\n    email_configs:\n      - to: ops@example.com\n"

AM_CASES = {
    # smtp_smarthost without a port (global, and per email config)
    "smarthost-global": ("global:\n  smtp_smarthost: mail.example.com\n  smtp_from: am@example.com\n" + EMAIL, "missing port"),
    "smarthost-global-ok": ("global:\n  smtp_smarthost: mail.example.com:587\n  smtp_from: am@example.com\n" + EMAIL, None),
    "smarthost-email": (EMAIL + "        from: am@example.com\n        smarthost: mail.example.com\n", "missing port"),
    "smarthost-ipv6": (EMAIL + "        from: am@example.com\n        smarthost: '[::1]'\n", "missing port"),
    "smarthost-empty-port": (EMAIL + "        from: am@example.com\n        smarthost: 'mail:'\n", "port cannot be empty"),
    "smarthost-ipv6-ok": (EMAIL + "        from: am@example.com\n        smarthost: '[::1]:25'\n", None),
    # templates: invalid glob patterns
    "templates-open-class": ("templates: ['/etc/alertmanager/[']\n" + AM_OK, "syntax error in pattern"),
    "templates-range": ("templates: ['/etc/alertmanager/[a-].tmpl']\n" + AM_OK, "syntax error in pattern"),
    "templates-empty-class": ("templates: ['/etc/alertmanager/[]a].tmpl']\n" + AM_OK, "syntax error in pattern"),
    "templates-ok": ("templates: ['/etc/alertmanager/*.tmpl', '/etc/alertmanager/[a-z]*.tmpl']\n" + AM_OK, None),
    # mutually exclusive http_config settings
    "bearer-both": (HOOK + "          bearer_token: t\n          bearer_token_file: /run/secrets/t\n", "bearer_token & bearer_token_file"),
    "basic-password-both": (HOOK + "          basic_auth: {username: u, password: p, password_file: /run/p}\n", "password & password_file"),
    "authorization-both": (HOOK + "          authorization: {credentials: c, credentials_file: /run/c}\n", "credentials & credentials_file"),
    "authorization-bearer": (HOOK + "          authorization: {credentials: c}\n          bearer_token: t\n", "not compatible"),
    "basic-bearer": (HOOK + "          basic_auth: {username: u}\n          bearer_token_file: /run/t\n", "at most one of basic_auth"),
    "basic-oauth2": (HOOK + "          basic_auth: {username: u}\n          oauth2: {client_id: a, client_secret: b, "
                     "token_url: 'http://t/'}\n", "at most one of basic_auth, oauth2 & authorization"),
    "authorization-basic-type": (HOOK + "          authorization: {type: Basic, credentials: c}\n", 'cannot be set to "basic"'),
    "oauth2-secret-both": (HOOK + "          oauth2: {client_id: a, client_secret: b, client_secret_file: /run/b, "
                           "token_url: 'http://t/'}\n", "client_secret & client_secret_file"),
    "global-bearer-both": ("global:\n  http_config:\n    bearer_token: t\n    bearer_token_file: /run/t\n" + AM_OK,
                           "bearer_token & bearer_token_file"),
    "tls-inline-ca": (HOOK + "          tls_config: {ca: abc}\n", "field ca not found"),
    "http-ok": (HOOK + "          authorization: {credentials_file: /run/c}\n          tls_config: {ca_file: /etc/ca.pem}\n", None),
    # a scalar where a list (or a mapping) is expected
    "routes-scalar": ("route:\n  receiver: r\n  routes: \"x\"\nreceivers:\n  - name: r\n", "into []*config.Route"),
    "receivers-scalar": ("route:\n  receiver: r\nreceivers: r\n", "into []*config.Receiver"),
    "group-by-scalar": ("route:\n  receiver: r\n  group_by: alertname\nreceivers:\n  - name: r\n", "into []string"),
    "matchers-scalar": ("route:\n  receiver: r\n  routes:\n    - receiver: r\n      matchers: 'team=db'\nreceivers:\n  - name: r\n",
                        "into []string"),
    "equal-scalar": (AM_OK + "inhibit_rules:\n  - source_matchers: [a=b]\n    target_matchers: [c=d]\n    equal: cluster\n",
                     "into model.LabelNames"),
    "webhooks-scalar": (AM_OK + "    webhook_configs: http://receiver/\n", "into []*config.WebhookConfig"),
    "templates-scalar": ("templates: x.tmpl\n" + AM_OK, "into []string"),
    "match-scalar": ("route:\n  receiver: r\n  routes:\n    - receiver: r\n      match: x\nreceivers:\n  - name: r\n",
                     "into map[string]string"),
    "route-list": ("route:\n  - receiver: r\nreceivers:\n  - name: r\n", "!!seq into config.plain"),
    "weekdays-scalar": (AM_OK + "time_intervals:\n  - name: t\n    time_intervals:\n      - weekdays: monday\n",
                        "into []timeinterval.WeekdayRange"),
    "null-route": ("route:\n  receiver: r\n  routes: [null]\nreceivers:\n  - name: r\n", "null entry in routes"),
    "null-receiver": (AM_OK + "  - null\n", "null entry in receivers"),
    "lists-ok": ("route:\n  receiver: r\n  group_by: [alertname]\n  routes:\n    - receiver: r\n      matchers: ['team=\"db\"']\n"
                 "receivers:\n  - name: r\ninhibit_rules:\n  - source_matchers: [a=b]\n    target_matchers: [c=d]\n    equal: [x]\n",
                 None),
}


@pytest.mark.parametrize("case", sorted(AM_CASES))
def test_alertmanager_parity_with_amtool(tmp_path, case):
    assert_agrees(["amtool", "check-config"], tmp_path / "alertmanager.yml", *AM_CASES[case])


# ------------------------------------------------------------------ Prometheus config
SCRAPE = "scrape_configs:\n  - job_name: api\n    static_configs:\n      - targets: ['api:8080']\n"
PROM_CASES = {
    "scrape-null": ("scrape_configs:\n  - null\n", "empty or null scrape config section"),
    "scrape-empty-entry": ("scrape_configs:\n  -\n", "empty or null scrape config section"),
    "remote-write-null": (SCRAPE + "remote_write:\n  - null\n", "empty or null remote write config section"),
    "remote-read-null": (SCRAPE + "remote_read:\n  - null\n", "empty or null remote read config section"),
    "alertmanager-null": (SCRAPE + "alerting:\n  alertmanagers:\n    - null\n", "empty or null Alertmanager config section"),
    "alert-relabel-null": (SCRAPE + "alerting:\n  alert_relabel_configs:\n    - null\n", "empty or null alert relabeling rule"),
    "alertmanager-relabel-null": (SCRAPE + "alerting:\n  alertmanagers:\n    - static_configs: [{targets: ['am:9093']}]\n"
                                  "      relabel_configs:\n        - null\n", "empty or null Alertmanager target relabeling rule"),
    "alertmanager-sd-null": (SCRAPE + "alerting:\n  alertmanagers:\n    - file_sd_configs:\n        - null\n",
                             "empty or null section in file_sd_configs"),
    "relabel-null": (SCRAPE + "    relabel_configs:\n      - null\n", "empty or null target relabeling rule in scrape config"),
    "metric-relabel-null": (SCRAPE + "    metric_relabel_configs:\n      - null\n", "empty or null metric relabeling rule"),
    "static-null": ("scrape_configs:\n  - job_name: api\n    static_configs:\n      - null\n", "empty or null section in static_configs"),
    "file-sd-null": ("scrape_configs:\n  - job_name: api\n    file_sd_configs:\n      - null\n", "empty or null section in file_sd_configs"),
    "write-relabel-null": (SCRAPE + "remote_write:\n  - url: http://remote/\n    write_relabel_configs:\n      - null\n",
                           "empty or null relabeling rule in remote write config"),
    "target-null": ("scrape_configs:\n  - job_name: api\n    static_configs:\n      - targets: [null]\n", "no address"),
    "scrape-configs-scalar": ("scrape_configs: x\n", "into []*config.ScrapeConfig"),
    "rule-files-scalar": (SCRAPE + "rule_files: rules.yml\n", "into []string"),
    "external-labels-scalar": ("global:\n  external_labels: x\n" + SCRAPE, "into map[string]string"),
    "global-null-ok": ("global: null\n" + SCRAPE, None),
    "external-labels-null-ok": ("global:\n  external_labels: null\n" + SCRAPE, None),
    "valid": ("global:\n  scrape_interval: 15s\n" + SCRAPE + "    relabel_configs:\n      - source_labels: [__address__]\n"
              "        target_label: instance\n", None),
}


@pytest.mark.parametrize("case", sorted(PROM_CASES))
def test_prometheus_config_parity_with_promtool(tmp_path, case):
    assert_agrees(["promtool", "check", "config", "--syntax-only"], tmp_path / "prometheus.yml", *PROM_CASES[case])


# ------------------------------------------------------------------ a misspelt rule file inside a directory
MISSPELT = "group:\n  - name: api\n    rules:\n      - alert: ApiDown\n        expr: up{job=\"api\"} == 0\n        for: 5m\n"
GOOD = "groups:\n  - name: web\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n"


@pytest.mark.parametrize("text", [MISSPELT, MISSPELT.replace("group:", "Groups:"), "rule_groups:\n" + MISSPELT.split("\n", 1)[1]],
                         ids=["group", "Groups", "other-key"])
def test_misspelt_rule_file_is_an_error_in_a_directory_too(tmp_path, text):
    promtool = str(require_binary("promtool"))
    d = tmp_path / "rules"
    d.mkdir()
    (d / "api.yml").write_text(text, encoding="utf-8")
    (d / "web.yml").write_text(GOOD, encoding="utf-8")
    assert rejected_by([promtool, "check", "rules"], d / "api.yml")
    report = run(Options(paths=[str(d)]), CHECKS)
    got = [(Path(f.file).name, f.line, f.message) for f in report.findings if f.severity == "error"]
    key = text.split(":", 1)[0]
    assert got == [("api.yml", 1, f"field {key} not found in type rulefmt.RuleGroups")]
    assert report.skipped == []


def test_every_file_not_linted_is_listed_at_the_end(tmp_path):
    d = tmp_path / "monitoring"
    d.mkdir()
    (d / "rules.yml").write_text(GOOD, encoding="utf-8")
    (d / "values.yaml").write_text("replicaCount: 2\n", encoding="utf-8")
    (d / "empty.yml").write_text("# nothing yet\n", encoding="utf-8")
    (d / "package.json").write_text('{"name": "x"}', encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "aetherops", "lint", str(d)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    at = lines.index("not linted (3 files):")
    assert lines[at + 1:at + 4] == [
        f"  {(d / 'empty.yml').as_posix()}: empty (no YAML document in it)",
        f"  {(d / 'package.json').as_posix()}: not recognised as a rule file, Alertmanager/Prometheus config or dashboard",
        f"  {(d / 'values.yaml').as_posix()}: not recognised as a rule file, Alertmanager/Prometheus config or dashboard"]
    assert lines[-1].startswith("0 error(s)")  # the summary stays the last line
    r = subprocess.run([sys.executable, "-m", "aetherops", "lint", str(d), "--format", "json"], capture_output=True, text=True,
                       timeout=60)
    import json

    assert [x["file"].rsplit("/", 1)[-1] for x in json.loads(r.stdout)["not_linted"]] == ["empty.yml", "package.json", "values.yaml"]


# ------------------------------------------------------------------ YAML expansion attacks
def _laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghijklm"[:levels - 1]:
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    return "\n".join(lines) + f"\ngroups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        labels: {{x: *{prev}}}\n"


def _rule_list_bomb(levels: int = 24) -> str:
    out = ["groups:", "  - name: g0", "    rules: &r0", "      - alert: A", "        expr: up == 0"]
    for k in range(1, levels):
        out.append(f"  - name: g{k}\n    rules: &r{k} [*r{k - 1}, *r{k - 1}]")
    return "\n".join(out) + "\n"


def _deep(depth: int = 5000) -> str:
    return "groups:\n" + "".join(f"{'  ' * i}- a:\n" for i in range(1, 300)) + "groups: " + "[" * depth + "]" * depth + "\n"


@pytest.mark.parametrize("make", [_laughs, _rule_list_bomb, _deep], ids=["billion-laughs", "rule-list-bomb", "deep-nesting"])
def test_yaml_expansion_attacks_are_one_line_errors_like_promtool(tmp_path, make):
    path = tmp_path / "bomb.yml"
    path.write_text(make(), encoding="utf-8")
    promtool = str(require_binary("promtool"))
    assert rejected_by([promtool, "check", "rules"], path)
    # a subprocess with a hard timeout: a hang or memory blow-up fails here instead of stalling the suite
    r = subprocess.run([sys.executable, "-m", "aetherops", "lint", str(path), "--format", "json"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr[-500:]
    import json

    findings = json.loads(r.stdout)["findings"]
    assert len(findings) == 1 and findings[0]["check"] == "syntax/file", findings
    assert "\n" not in findings[0]["message"]
