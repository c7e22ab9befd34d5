"""aetherops lint (offline): every check's failing and passing example, parity with promtool/amtool on the
corpus, line numbers, suppression, baseline, output formats and exit codes."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from aetherops_plugins.lint.api import Check, validate_checks
from aetherops_plugins.lint.checks import builtin_checks
from aetherops_plugins.lint.engine import Options, run

DATA = Path(__file__).resolve().parent / "data" / "lint"
CORPUS = DATA / "corpus"
CHECKS = builtin_checks()
OFFLINE = [c for c in CHECKS if not c.online]
FILENAMES = {"rules": "rules.yml", "alertmanager": "alertmanager.yml", "prometheus": "prometheus.yml", "dashboard": "dashboard.json"}


def lint(paths, **kw):
    return run(Options(paths=[str(p) for p in paths], **kw), CHECKS)


def write_example(tmp_path: Path, check, text: str) -> Path:
    d = tmp_path / ("bad" if text == check.example_bad else "good")
    d.mkdir()
    (d / FILENAMES[check.example_kind]).write_text(text, encoding="utf-8")
    for name, content in (check.example_context or {}).items():
        if not name.startswith("__"):
            (d / name).write_text(content, encoding="utf-8")
    return d


def settings_of(check) -> dict:
    return dict((check.example_context or {}).get("__settings__", {}))


def test_registry_is_valid_and_documented():
    assert validate_checks(CHECKS)
    for c in CHECKS:
        assert re.fullmatch(r"[a-z]+/[a-z0-9-]+", c.id), c.id
        assert c.summary and c.why and c.example_bad and c.example_good, c.id
    with pytest.raises(ValueError, match="twice"):
        validate_checks(CHECKS + [CHECKS[0]])


@pytest.mark.parametrize("check", OFFLINE, ids=lambda c: c.id)
def test_check_fails_on_its_bad_example(tmp_path, check):
    report = lint([write_example(tmp_path, check, check.example_bad)], settings=settings_of(check))
    ids = [f.check for f in report.findings]
    assert check.id in ids, [f.to_dict() for f in report.findings]
    f = next(f for f in report.findings if f.check == check.id)
    assert f.line and f.severity == check.severity and f.message and f.hint is not None


@pytest.mark.parametrize("check", OFFLINE, ids=lambda c: c.id)
def test_check_passes_on_its_good_example(tmp_path, check):
    report = lint([write_example(tmp_path, check, check.example_good)], settings=settings_of(check))
    assert check.id not in [f.check for f in report.findings], [f.to_dict() for f in report.findings]


# ------------------------------------------------------------------ parity with promtool 2.42 / amtool 0.25
EXPECTED = list(csv.DictReader((CORPUS / "EXPECTED.tsv").open(encoding="utf-8"), delimiter="\t"))


def test_corpus_parity_with_promtool_and_amtool(monkeypatch):
    monkeypatch.chdir(CORPUS)
    assert len(EXPECTED) > 200
    missed, false = [], []
    for row in EXPECTED:
        report = run(Options(paths=[row["path"]]), CHECKS)
        errors = [f for f in report.findings if f.severity == "error"]
        if row["exit_code"] != "0" and not errors:
            missed.append((row["path"], row["message"]))
        if row["exit_code"] == "0" and any(f.check.startswith("syntax/") for f in errors):
            false.append((row["path"], [f.message for f in errors]))
    assert not missed, missed
    assert not false, false


AM_BASE = """\
global:
  smtp_smarthost: 'localhost:25'
  smtp_from: 'alertmanager@example.org'
route:
  receiver: team
  group_by: [alertname, cluster]
  routes:
    - receiver: ops
      matchers: ['team="ops"']
      continue: true
receivers:
  - name: team
    email_configs:
      - to: team@example.org
        send_resolved: true
  - name: ops
    opsgenie_configs:
      - api_key_file: /etc/am/opsgenie
        responders: [{name: ops, type: team}]
    webhook_configs:
      - url: http://127.0.0.1:5001/hook
        http_config:
          proxy_url: http://127.0.0.1:3128
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [alertname]
"""
AM_MUTATIONS = {
    "valid": (None, None),
    "group_by label": ("[alertname, cluster]", "[alertname, 'clus-ter']"),
    "continue not a bool": ("continue: true", "continue: maybe"),
    "unknown http_config field": ("proxy_url:", "proxy_uri:"),
    "bad proxy port": ("127.0.0.1:3128", "127.0.0.1:31x8"),
    "equal label": ("equal: [alertname]", "equal: ['alert-name']"),
    "responder type": ("type: team}", "type: squad}"),
    "undefined receiver": ("- receiver: ops", "- receiver: opz"),
    "bad duration": ("  group_by:", "  group_wait: 30 s\n  group_by:"),
    "bad regex": ("matchers: ['team=\"ops\"']", "matchers: ['team=~\"(ops\"']"),
    "email without smarthost": ("  smtp_smarthost: 'localhost:25'\n", ""),
}
RULE_BASE = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: rate(x_total[5m]) > 0\n        for: 5m\n" \
            "        labels:\n          severity: warning\n        annotations:\n          summary: '{{ $labels.job }}'\n"
RULE_MUTATIONS = {
    "valid": (None, None),
    "bad for": ("for: 5m", "for: 5.5m"),
    "range vector expected": ("rate(x_total[5m])", "rate(x_total)"),
    "template variable": ("$labels.job", "$label.job"),
    "template function": ("$labels.job }}", "$labels.job | humanise }}"),
    "unclosed action": ("{{ $labels.job }}", "{{ $labels.job }"),
    "label name": ("severity:", "sev-erity:"),
    "unknown field": ("annotations:", "annotation:"),
    "record with for": ("- alert: A", "- record: a:b:c"),
}


def _mutate(base, change):
    old, new = change
    if old is None:
        return base
    assert old in base
    return base.replace(old, new, 1)


@pytest.mark.parametrize("case", sorted(AM_MUTATIONS), ids=str)
def test_amtool_agrees(tmp_path, case):
    import shutil
    import subprocess

    amtool = shutil.which("amtool")
    if not amtool:
        pytest.skip("amtool not installed")
    path = tmp_path / "alertmanager.yml"
    path.write_text(_mutate(AM_BASE, AM_MUTATIONS[case]), encoding="utf-8")
    rejected = subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True).returncode != 0
    errors = [f for f in lint([path]).findings if f.severity == "error"]
    assert rejected == bool(errors) == (case != "valid"), (case, [f.message for f in errors])


@pytest.mark.parametrize("case", sorted(RULE_MUTATIONS), ids=str)
def test_promtool_agrees(tmp_path, case):
    import shutil
    import subprocess

    promtool = shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool not installed")
    path = tmp_path / "rules.yml"
    path.write_text(_mutate(RULE_BASE, RULE_MUTATIONS[case]), encoding="utf-8")
    rejected = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True).returncode != 0
    errors = [f for f in lint([path]).findings if f.severity == "error"]
    assert rejected == bool(errors) == (case != "valid"), (case, [f.message for f in errors])


TOOL_CHECKED = [c for c in OFFLINE if c.example_kind in ("rules", "alertmanager") and not c.example_context]


@pytest.mark.parametrize("check", TOOL_CHECKED, ids=lambda c: c.id)
def test_examples_against_promtool_and_amtool(tmp_path, check):
    """Syntax checks' bad examples are rejected by the reference tool; every other example passes it (what it misses)."""
    import shutil
    import subprocess

    tool = ["promtool", "check", "rules"] if check.example_kind == "rules" else ["amtool", "check-config"]
    if not shutil.which(tool[0]):
        pytest.skip(f"{tool[0]} not installed")
    for which, text in (("bad", check.example_bad), ("good", check.example_good)):
        path = tmp_path / f"{which}.yml"
        path.write_text(text, encoding="utf-8")
        rejected = subprocess.run(tool + [str(path)], capture_output=True, text=True).returncode != 0
        expected = which == "bad" and (check.id.startswith("syntax/") or check.id == "alertmanager/undefined-receiver")
        assert rejected == expected, (which, check.id)


def test_promtool_duplicate_lint_is_reported(monkeypatch):
    monkeypatch.chdir(CORPUS)
    rows = [r for r in EXPECTED if "duplicate rule" in r["message"]]
    assert rows
    for row in rows:
        report = run(Options(paths=[row["path"]]), CHECKS)
        assert "rules/duplicate" in {f.check for f in report.findings}, row["path"]


def test_dashboards_of_the_corpus_parse(monkeypatch):
    monkeypatch.chdir(CORPUS)
    report = run(Options(paths=["dashboards"]), CHECKS)
    assert len(report.targets) == 33 and all(t.kind == "dashboard" for t in report.targets)
    assert not [f for f in report.findings if f.check in ("dashboard/promql", "syntax/file")]


# ------------------------------------------------------------------ line numbers and positions
RULES = """\
groups:
  - name: api
    rules:
      - record: job:requests:rate5m
        expr: sum by (job) (rate(requests_total[5m]))

      - alert: HighErrors
        expr: |
          sum by (job) (rate(errors_total[5m]))
            / sum by (job) (rate(requests_total[5m])) )
        for: 10m
      - alert: NoFor
        expr: up == 0
"""


def test_line_and_column_of_a_promql_error_inside_a_block_scalar(tmp_path):
    (tmp_path / "r.yml").write_text(RULES, encoding="utf-8")
    report = lint([tmp_path / "r.yml"])
    syntax = [f for f in report.findings if f.check == "syntax/promql"]
    assert len(syntax) == 1
    # the stray ')' is on line 10, column 55 of the file; like promtool, the position is just after it
    assert (syntax[0].line, syntax[0].column) == (10, 56) and RULES.splitlines()[9][54] == ")"
    assert syntax[0].name == "HighErrors" and syntax[0].group == "api"
    nofor = [f for f in report.findings if f.check == "alerts/for"]
    assert [(f.name, f.line) for f in nofor] == [("NoFor", 12)]


def test_line_and_column_in_a_plain_scalar(tmp_path):
    text = "groups:\n- name: g\n  rules:\n  - record: a:b:c\n    expr: sum(rate(x_total[5m]) by (job)\n"
    (tmp_path / "r.yml").write_text(text, encoding="utf-8")
    f = next(f for f in lint([tmp_path]).findings if f.check == "syntax/promql")
    # promtool: "1:23: unexpected <by> in aggregation", i.e. file column 11 + 22
    assert f.line == 5 and f.column == len("    expr: sum(rate(x_total[5m]) ") + 1


POSITION_CASES = [
    "sum(rate(x[5m])", "rate(x)", "sum(x) by (job", 'x{a="b"', "x + ", "foo(x)", "x[5x]", "sum by (job) (x) > bool",
    "rate(x[5m]) / ) 2", 'x{a=~"("}', "avg_over_time(x)", "x offset", "topk(x, y)", "x and 1", "histogram_quantile(x[5m])",
    "sum(rate(x[5m])) by (job) >", 'label_replace(x, "a")', "x @ foo", "count_values(x, y)", "(x", "x)", "x]",
    "sum without(job (x)", "abs(x, y)", "x > 1 unless", '"str" + 1', "sum(x) by job", "rate(x[5m] offset)", 'x{a!~"[" }',
    "min_over_time(rate(x[5m]))", "x == bool y and", 'increase(x{a="b"}[5m)',
    'sum(rate(http_requests_total{job="api"}[5m])) by (job) / on(job) sum(rate(http_requests_total[5m] by (job)',
    "histogram_quantile(0.9, rate(x_bucket[5m]) by (le))", "sum by (job) (rate(x[5m]) > 0.5 unles y",
]


def test_promql_error_positions_match_promtool(tmp_path):
    """promql-parser gives no positions: the recovered ones agree with promtool's on typical mistakes."""
    import shutil
    import subprocess

    from aetherops_plugins.lint.promql import PromQLError, _analyze_uncached

    if not shutil.which("promtool"):
        pytest.skip("promtool not installed")
    disagree = []
    for expr in POSITION_CASES:
        (tmp_path / "r.yml").write_text("groups:\n- name: g\n  rules:\n  - record: a:b:c\n    expr: " + json.dumps(expr) + "\n",
                                        encoding="utf-8")
        out = subprocess.run(["promtool", "check", "rules", str(tmp_path / "r.yml")], capture_output=True, text=True).stderr
        m = re.search(r"could not parse expression: 1:(\d+):", out)
        ours = _analyze_uncached(expr)
        assert m and isinstance(ours, PromQLError), (expr, out)
        if ours.offset != int(m.group(1)) - 1:
            disagree.append((expr, int(m.group(1)) - 1, ours.offset))
    assert not disagree, disagree


def test_yaml_error_has_line_and_column(tmp_path):
    (tmp_path / "r.yml").write_text("groups:\n  - name: g\n    rules: [\n", encoding="utf-8")
    f = next(f for f in lint([tmp_path]).findings if f.check == "syntax/file")
    assert f.line == 4 and f.column


def test_prometheus_rule_and_multi_document_helm_output(tmp_path):
    text = (
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: a\nspec:\n  groups:\n  - name: g\n"
        "    rules:\n    - alert: Down\n      expr: up == 0\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\n"
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: b\nspec:\n  groups:\n  - name: h\n"
        "    rules:\n    - alert: Flapping\n      expr: up\n      for: 5m\n"
    )
    (tmp_path / "helm.yaml").write_text(text, encoding="utf-8")
    report = lint([tmp_path])
    assert sorted(r.name for t in report.targets for r in t.rules) == ["Down", "Flapping"]
    assert ("alerts/for", 9) in {(f.check, f.line) for f in report.findings}
    assert ("alerts/comparison", 26) in {(f.check, f.line) for f in report.findings}


def test_duplicates_across_files_with_different_labels_allowed(tmp_path):
    a = "groups:\n- name: a\n  rules:\n  - record: job:x:sum\n    expr: sum by (job) (x)\n"
    (tmp_path / "a.yml").write_text(a, encoding="utf-8")
    (tmp_path / "b.yml").write_text(a, encoding="utf-8")
    (tmp_path / "c.yml").write_text(a + "    labels:\n      env: prod\n", encoding="utf-8")
    dups = [f for f in lint([tmp_path]).findings if f.check == "rules/duplicate"]
    assert [f.file.rsplit("/", 1)[-1] for f in dups] == ["b.yml"] and "a.yml:4" in dups[0].message


def test_record_name_window_matches_the_expression(tmp_path):
    text = ("groups:\n- name: a\n  rules:\n  - record: job:x:rate5m\n    expr: sum by (job) (rate(x_total[1m]))\n"
            "  - record: job:y:rate5m\n    expr: sum by (job) (rate(y_total[5m]))\n"
            "  - record: job:z_total:rate5m\n    expr: sum by (job) (rate(z_total[5m]))\n")
    (tmp_path / "r.yml").write_text(text, encoding="utf-8")
    found = sorted((f.name, f.message) for f in lint([tmp_path]).findings if f.check == "rules/record-name")
    assert [n for n, _ in found] == ["job:x:rate5m", "job:z_total:rate5m"]
    assert "says 5m" in found[0][1] and "[1m]" in found[0][1] and "drop `_total`" in found[1][1]


def test_template_labels_follow_the_aggregation(tmp_path):
    text = (
        "groups:\n- name: a\n  rules:\n"
        "  - alert: A\n    expr: sum without (instance) (rate(x_total[5m])) > 0\n    for: 5m\n"
        "    annotations: {summary: '{{ $labels.instance }} {{ $labels.job }}'}\n"
        "  - alert: B\n    expr: count(up) by (job) / on(job) group_left(team) job_team_info > 0\n    for: 5m\n"
        "    annotations: {summary: '{{ $labels.team }} {{ $labels.job }} {{ $labels.pod }}'}\n"
    )
    (tmp_path / "r.yml").write_text(text, encoding="utf-8")
    found = sorted((f.name, f.message.split("$labels.")[1].split()[0]) for f in lint([tmp_path]).findings
                   if f.check == "alerts/template-labels")
    assert found == [("A", "instance"), ("B", "pod")]


def test_unreachable_route_and_unused_receiver_lines(tmp_path):
    am = CORPUS / "alertmanager" / "cli-testdata" / "conf.routing.yml"
    report = lint([am])
    assert "syntax/alertmanager" not in {f.check for f in report.findings}


def test_stack_cross_file_findings(monkeypatch):
    monkeypatch.chdir(DATA)
    report = run(Options(paths=["stack"]), CHECKS)
    got = sorted((f.check, f.file, f.line, f.name) for f in report.findings)
    assert got == [
        ("alerts/traffic-guard", "stack/rules.yml", 18, "CrmHighErrorRatio"),
        ("crossfile/dashboard-recording-rule", "stack/dashboard.json", 13, "Errors"),
        ("crossfile/group-by", "stack/alertmanager.yml", 3, "cluster"),
        ("crossfile/inhibit-alerts", "stack/alertmanager.yml", 15, "CrmDown"),
        ("crossfile/up-job", "stack/rules.yml", 7, "CrmApiDown"),
    ], got
    up_job = next(f for f in report.findings if f.check == "crossfile/up-job")
    line7 = (DATA / "stack" / "rules.yml").read_text(encoding="utf-8").splitlines()[6]
    assert "'crm_api'" in up_job.hint and up_job.column == line7.index('"crm-api"') + 2
    # linted alone, the rule file has nothing to cross-check against
    alone = {f.check for f in run(Options(paths=["stack/rules.yml"]), CHECKS).findings}
    assert not {c for c in alone if c.startswith("crossfile/")}


def test_external_labels_count_for_group_by_and_equal(tmp_path):
    import shutil

    stack = shutil.copytree(DATA / "stack", tmp_path / "stack")
    prom = stack / "prometheus.yml"
    prom.write_text(prom.read_text(encoding="utf-8").replace("  evaluation_interval: 30s\n",
                                                            "  evaluation_interval: 30s\n  external_labels:\n    cluster: eu-1\n"),
                    encoding="utf-8")
    checks = {f.check for f in lint([stack]).findings}
    assert "crossfile/group-by" not in checks and "crossfile/inhibit-alerts" in checks


# ------------------------------------------------------------------ suppression and baseline
def test_suppression_comments(tmp_path):
    text = (
        "# aetherops: file/disable=alerts/annotations\n"
        "groups:\n- name: a\n  rules:\n"
        "  # aetherops: disable=alerts/for\n"
        "  - alert: Quiet\n    expr: up == 0\n    labels: {severity: critical}\n"
        "  - alert: Loud\n    expr: up == 0  # aetherops: disable=alerts/severity\n"
        "  - alert: Louder\n    expr: up == 0\n"
    )
    (tmp_path / "r.yml").write_text(text, encoding="utf-8")
    report = lint([tmp_path])
    got = {(f.check, f.name) for f in report.findings}
    assert ("alerts/for", "Quiet") not in got and ("alerts/for", "Loud") in got and ("alerts/for", "Louder") in got
    assert ("alerts/severity", "Loud") not in got and ("alerts/severity", "Louder") in got
    assert not any(c == "alerts/annotations" for c, _ in got)
    assert report.suppressed == 5


def test_baseline_round_trip(tmp_path, aetherops_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rules = Path("rules.yml")
    rules.write_text("groups:\n- name: a\n  rules:\n  - alert: Old\n    expr: up\n", encoding="utf-8")
    assert aetherops_cli("lint", "rules.yml", "--severity-threshold", "warning").exit_code == 1
    r = aetherops_cli("lint", "rules.yml", "--write-baseline", "baseline.json")
    assert r.exit_code == 0 and "wrote" in r.stderr
    assert json.loads(Path("baseline.json").read_text(encoding="utf-8"))["findings"]
    r = aetherops_cli("lint", "rules.yml", "--baseline", "baseline.json", "--severity-threshold", "warning", "--format", "json")
    assert r.exit_code == 0, r
    assert r.json()["findings"] == [] and r.json()["summary"]["baselined"] >= 3
    # lines moving does not invalidate the baseline; a new problem is reported
    rules.write_text("# moved\ngroups:\n- name: a\n  rules:\n  - alert: Old\n    expr: up\n  - alert: New\n    expr: up\n",
                     encoding="utf-8")
    r = aetherops_cli("lint", "rules.yml", "--baseline", "baseline.json", "--format", "json", "--severity-threshold", "warning")
    assert r.exit_code == 1 and {f["name"] for f in r.json()["findings"]} == {"New"}


# ------------------------------------------------------------------ command, formats, exit codes
BAD = "groups:\n- name: a\n  rules:\n  - alert: Broken\n    expr: sum(rate(x_total[5m])\n    for: 5m\n"
CLEAN = ("groups:\n- name: a\n  rules:\n  - alert: InstanceDown\n    expr: up == 0\n    for: 5m\n    labels: {severity: critical}\n"
         "    annotations:\n      summary: Instance down\n      description: '{{ $labels.instance }} is down'\n"
         "      runbook_url: https://runbooks.example.com/InstanceDown\n")


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("bad.yml").write_text(BAD, encoding="utf-8")
    Path("clean.yml").write_text(CLEAN, encoding="utf-8")
    return tmp_path


def test_exit_codes(files, aetherops_cli):
    assert aetherops_cli("lint", "clean.yml", "--severity-threshold", "info").exit_code == 0
    r = aetherops_cli("lint", "bad.yml")
    assert r.exit_code == 1 and "bad.yml" in r.stdout and "5:32" in r.stdout and "syntax/promql" in r.stdout
    assert aetherops_cli("lint", "missing.yml").exit_code == 4
    # warnings alone do not fail at the default threshold (error), do at warning
    Path("warn.yml").write_text("groups:\n- name: a\n  rules:\n  - alert: X\n    expr: up == 0\n", encoding="utf-8")
    assert aetherops_cli("lint", "warn.yml").exit_code == 0
    assert aetherops_cli("lint", "warn.yml", "--severity-threshold", "warning").exit_code == 1
    assert aetherops_cli("lint", "warn.yml", "--severity-threshold", "warning", "--disable", "alerts/*").exit_code == 0
    r = aetherops_cli("lint", "warn.yml", "--disable", "alerts/fro")
    assert "'alerts/fro' matches no check" in r.stderr


def test_json_output_and_output_alias(files, aetherops_cli):
    a = aetherops_cli("lint", "bad.yml", "--format", "json")
    b = aetherops_cli("lint", "bad.yml", "--output", "json")
    assert a.exit_code == b.exit_code == 1
    doc = a.json()
    assert doc["version"] == 1 and doc["summary"]["errors"] == 1 and b.json()["findings"] == doc["findings"]
    f = next(f for f in doc["findings"] if f["check"] == "syntax/promql")
    assert set(f) >= {"check", "severity", "file", "line", "column", "name", "group", "message", "hint", "fingerprint"}
    assert (f["file"], f["line"], f["name"]) == ("bad.yml", 5, "Broken")


def test_github_annotations(files, aetherops_cli):
    r = aetherops_cli("lint", "bad.yml", "clean.yml", "--format", "github")
    lines = [x for x in r.stdout.splitlines() if x]
    assert lines and all(re.fullmatch(r"::(error|warning|notice) file=[^,:]+(,line=\d+)?(,col=\d+)?,title=[^:]+::.+", x) for x in lines), lines
    assert any(x.startswith("::error file=bad.yml,line=5,col=32,title=syntax/promql Broken::") for x in lines)
    assert all("\n" not in x for x in lines)


def test_sarif_output(files, aetherops_cli):
    r = aetherops_cli("lint", "bad.yml", "--format", "sarif")
    assert r.exit_code == 1
    doc = r.json()
    assert doc["version"] == "2.1.0" and "sarif" in doc["$schema"]
    run_ = doc["runs"][0]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "aetherops-lint" and driver["rules"]
    rule_ids = [x["id"] for x in driver["rules"]]
    for res in run_["results"]:
        assert res["ruleId"] in rule_ids and driver["rules"][res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["level"] in ("error", "warning", "note") and res["message"]["text"]
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == "bad.yml" and loc["region"]["startLine"] >= 1
    assert any(r["ruleId"] == "syntax/promql" and r["level"] == "error" for r in run_["results"])


def test_profile_paths_disable_and_overrides(files, aetherops_cli, profile_factory):
    profile_factory("ci", lint={"paths": ["bad.yml"], "severity_overrides": {"syntax/promql": "warning"}})
    r = aetherops_cli("-p", "ci", "lint", "--format", "json")
    assert r.exit_code == 0, r
    assert {f["severity"] for f in r.json()["findings"] if f["check"] == "syntax/promql"} == {"warning"}
    profile_factory("off", lint={"paths": ["bad.yml"], "disable": ["syntax/promql"]})
    r = aetherops_cli("-p", "off", "lint", "--format", "json")
    assert "syntax/promql" not in {f["check"] for f in r.json()["findings"]}
    r = aetherops_cli("-p", "off", "lint", "--format", "json", "--enable", "syntax/promql")
    assert "syntax/promql" in {f["check"] for f in r.json()["findings"]}


def test_third_party_check_through_the_hook(files, aetherops_cli, tmp_path, monkeypatch):
    mod = tmp_path / "acme_lint.py"
    mod.write_text(
        "import aetherops\nfrom aetherops_plugins.lint.api import Check\n\n"
        "class TeamLabel(Check):\n    id = 'acme/team-label'\n    severity = 'error'\n    kinds = ('rules',)\n"
        "    def check(self, target, project):\n        for rule in target.alerts:\n"
        "            if 'team' not in rule.labels:\n"
        "                yield self.finding(target, 'no team label', rule=rule, hint='add a team label')\n\n"
        "@aetherops.hookimpl\ndef aetherops_lint_checks():\n    return [TeamLabel()]\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    r = aetherops_cli("--plugin", "acme_lint", "lint", "clean.yml", "--format", "json")
    assert r.exit_code == 1, r
    assert [(f["check"], f["name"]) for f in r.json()["findings"]] == [("acme/team-label", "InstanceDown")]


def test_list_checks(aetherops_cli):
    r = aetherops_cli("lint", "--list-checks", "--format", "json")
    assert {c.id for c in CHECKS} <= {c["id"] for c in r.json()}


def test_docs_page_is_current():
    from aetherops_plugins.lint import docgen

    current = (Path(__file__).resolve().parent.parent / "docs" / "lint.md").read_text(encoding="utf-8")
    assert current == docgen.render(), "docs/lint.md is stale: python -m aetherops_plugins.lint.docgen > docs/lint.md"


def test_check_base_class_helpers():
    class Dummy(Check):
        id = "x/y"
        severity = "info"

    f = Dummy().finding(type("T", (), {"display": "f.yml"})(), "msg", line=3, hint="h")
    assert (f.check, f.severity, f.file, f.line) == ("x/y", "info", "f.yml", 3)
    assert f.fingerprint() == Dummy().finding(type("T", (), {"display": "f.yml"})(), "msg", line=9).fingerprint()


def test_dict_findings_and_crashing_checks_are_reported(tmp_path):
    class Dicts:
        id = "third/dicts"
        severity = "info"
        kinds = ("rules",)

        def check(self, target, project):
            for rule in target.rules:
                yield {"message": f"saw {rule.name}", "line": rule.line, "rule": rule.name}

    class Crashes:
        id = "third/crash"
        severity = "warning"
        kinds = ("project",)

        def check(self, target, project):
            raise RuntimeError("boom")

    (tmp_path / "r.yml").write_text(CLEAN, encoding="utf-8")
    report = run(Options(paths=[str(tmp_path)]), [Dicts(), Crashes()])
    got = {(f.check, f.severity, f.name, f.line): f.message for f in report.findings}
    assert got[("third/dicts", "info", "InstanceDown", 4)] == "saw InstanceDown"
    assert any(k[0] == "third/crash" and k[1] == "error" and "boom" in m for k, m in got.items())


def test_parallel_shards_find_the_same_as_one_process(tmp_path, monkeypatch):
    import importlib.util

    from aetherops_plugins.lint import engine

    spec = importlib.util.spec_from_file_location("bench_lint", Path(__file__).resolve().parent.parent / "benchmarks" / "lint.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    text = bench.generate(3200).replace("for: 10m", "for: 10s", 40).replace("[5m]", "[1m]", 30)
    (tmp_path / "big.yml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(engine, "PARALLEL_MIN_RULES", 1000)
    calls = []
    real = engine._run_shard
    monkeypatch.setattr(engine, "_run_shard", lambda shard, n: calls.append(n) or real(shard, n))
    parallel = [f.to_dict() for f in lint([tmp_path]).findings]
    import os
    import threading

    if (os.cpu_count() or 1) > 1 and hasattr(os, "fork") and threading.active_count() == 1:
        assert calls and calls[0] > 1  # the main process did one shard of several
    monkeypatch.setattr(engine, "PARALLEL_MIN_RULES", 10**9)
    sequential = [f.to_dict() for f in lint([tmp_path]).findings]
    assert parallel == sequential and len(parallel) >= 60
