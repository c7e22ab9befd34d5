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
    import subprocess

    from aetherops.testing.servers import require_binary

    amtool = str(require_binary("amtool"))  # a skip, or a failure under CI=true
    path = tmp_path / "alertmanager.yml"
    path.write_text(_mutate(AM_BASE, AM_MUTATIONS[case]), encoding="utf-8")
    rejected = subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True).returncode != 0
    errors = [f for f in lint([path]).findings if f.severity == "error"]
    assert rejected == bool(errors) == (case != "valid"), (case, [f.message for f in errors])


@pytest.mark.parametrize("case", sorted(RULE_MUTATIONS), ids=str)
def test_promtool_agrees(tmp_path, case):
    import subprocess

    from aetherops.testing.servers import require_binary

    promtool = str(require_binary("promtool"))
    path = tmp_path / "rules.yml"
    path.write_text(_mutate(RULE_BASE, RULE_MUTATIONS[case]), encoding="utf-8")
    rejected = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True).returncode != 0
    errors = [f for f in lint([path]).findings if f.severity == "error"]
    assert rejected == bool(errors) == (case != "valid"), (case, [f.message for f in errors])


TOOL_CHECKED = [c for c in OFFLINE if c.example_kind in ("rules", "alertmanager") and not c.example_context]


@pytest.mark.parametrize("check", TOOL_CHECKED, ids=lambda c: c.id)
def test_examples_against_promtool_and_amtool(tmp_path, check):
    """Syntax checks' bad examples are rejected by the reference tool; every other example passes it (what it misses)."""
    import subprocess

    from aetherops.testing.servers import require_binary

    tool = ["promtool", "check", "rules"] if check.example_kind == "rules" else ["amtool", "check-config"]
    tool[0] = str(require_binary(tool[0]))
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
    # the failing token also appears earlier: the position is where the expression stops being completable
    "sum(rate(x[5m])) / sum(rate(y[5m)) > 0.1", 'up{job="a"} == 0 and up{job="b" == 0', "up == 0 and sum(rate(x[5m])) by (job",
    "rate(x[5m]) > 1 and rate(y[5m) > 1", "rate(x[5m]) + rate(y[5m)) ",
    'sum(rate(http_requests_total{job="api"}[5m])) by (job) / on(job) sum(rate(http_requests_total[5m] by (job)',
    "histogram_quantile(0.9, rate(x_bucket[5m]) by (le))", "sum by (job) (rate(x[5m]) > 0.5 unles y",
]


def test_promql_error_positions_match_promtool(tmp_path):
    """promql-parser gives no positions: the recovered ones agree with promtool's on typical mistakes."""
    import subprocess

    from aetherops.testing.servers import require_binary
    from aetherops_plugins.lint.promql.parse import PromQLError, _analyze_uncached

    require_binary("promtool")
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
    text = bench.generate(3200).replace("for: 10m", "for: 0s", 40).replace("[5m]", "[1m]", 300)
    (tmp_path / "big.yml").write_text(text, encoding="utf-8")
    from aetherops_plugins.lint import parallel

    monkeypatch.setattr(engine, "PARALLEL_MIN_RULES", 1000)
    calls = []
    real = parallel.shard_count
    monkeypatch.setattr(parallel, "shard_count", lambda size, min_size: calls.append(real(size, min_size)) or calls[-1])
    settings = {"scrape_interval": "30s"}
    parallel = [f.to_dict() for f in lint([tmp_path], settings=settings).findings]
    import os
    import threading

    if (os.cpu_count() or 1) > 1 and hasattr(os, "fork") and threading.active_count() == 1:
        assert calls and calls[0] > 1  # the main process did one shard of several
    monkeypatch.setattr(engine, "PARALLEL_MIN_RULES", 10**9)
    sequential = [f.to_dict() for f in lint([tmp_path], settings=settings).findings]
    assert parallel == sequential and len(parallel) >= 60


# ------------------------------------------------------------------ QA round 2
def _rule_file(tmp_path: Path, expr_yaml: str, name: str = "r.yml", extra: str = "        for: 5m\n") -> Path:
    p = tmp_path / name
    p.write_text("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: " + expr_yaml + "\n" + extra, encoding="utf-8")
    return p


@pytest.mark.parametrize("terms", [1000, 5000])
def test_huge_expression_does_not_crash(tmp_path, terms):
    """promql-parser overflows the C stack (segfault) on ~4,200 chained operators: lint must not go down with it."""
    import subprocess
    import sys

    expr = " or ".join(f'up{{job="j{i}"}} == 0' for i in range(terms))
    p = _rule_file(tmp_path, f"'{expr}'")
    r = subprocess.run([sys.executable, "-m", "aetherops", "lint", str(p), "--format", "json"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode in (0, 1), (r.returncode, r.stderr[-500:])
    findings = json.loads(r.stdout)["findings"]
    assert not [f for f in findings if "crashed" in f["message"]], findings
    big = [f for f in findings if f["check"] == "syntax/promql"]
    # an expression deeper than the parser's limit is an error (never passed with a warning), at the crossing point
    assert len(big) == 1 and big[0]["severity"] == "error" and "deeper than the parser's limit" in big[0]["message"]
    from aetherops_plugins.lint.promql import nesting_offset

    assert big[0]["line"] == 5 and big[0]["column"] == 16 + nesting_offset(expr) and nesting_offset(expr) > 0
    assert r.returncode == 1


def test_expression_deeper_than_the_limit_is_an_error_at_that_position(tmp_path):
    from aetherops_plugins.lint.promql import MAX_NESTING

    p = _rule_file(tmp_path, "'" + "(" * (MAX_NESTING + 100) + "up" + ")" * (MAX_NESTING + 100) + "'")
    (f,) = [f for f in lint([p]).findings if f.check == "syntax/promql"]
    assert f.severity == "error" and (f.line, f.column) == (5, 16 + MAX_NESTING), f


def test_nesting_just_below_the_limit_is_analysed(tmp_path):
    from aetherops_plugins.lint.promql import MAX_NESTING, analyze, nesting

    expr = " or ".join(f'up{{job="j{i}"}} == 0' for i in range(MAX_NESTING // 2 - 1))
    assert nesting(expr) <= MAX_NESTING
    facts = analyze(expr)  # parsed (in a big-stack thread) and walked
    assert len(facts.selectors) == MAX_NESTING // 2 - 1 and facts.filters


ML_RULES = """groups:
  - name: g
    rules:
      - record: a:b:c
        expr: sum(up)
          / sum(rate(x[5m)
      - record: a:b:d
        expr: |-
          sum(up)
            / sum(rate(x[5m)
      - record: a:b:e
        expr: >-
          sum(up)
          / sum(rate(x[5m)
      - record: a:b:f
        expr: "sum(up)\\n
          / sum(rate(x[5m)"
      - record: a:b:g
        expr: "sum(up) \\
          / sum(rate(x[5m)"
      - record: a:b:h
        expr: 'sum(up)
          / sum(rate(x[5m)'
      - record: a:b:i
        expr: "sum(up{a=\\"b\\"}) / sum(rate(x[5m)"
"""


def test_positions_in_multi_line_scalars_of_every_style(tmp_path):
    (tmp_path / "r.yml").write_text(ML_RULES, encoding="utf-8")
    got = {f.name: (f.line, f.column) for f in lint([tmp_path]).findings if f.check == "syntax/promql"}
    # the stray ')' after x[5m: on the expression's second line for every multi-line style
    lines = ML_RULES.splitlines()
    for name, (line, col) in got.items():
        assert lines[line - 1][col - 1] == ")", (name, line, col)
    assert got == {"a:b:c": (6, 26), "a:b:d": (10, 28), "a:b:e": (14, 26), "a:b:f": (17, 26), "a:b:g": (20, 26),
                   "a:b:h": (23, 26), "a:b:i": (25, 48)}


def test_bare_off_in_severity_overrides_means_off(files, aetherops_cli, profile_factory):
    # `promql/regex-literal: off` in YAML is the boolean false
    profile_factory("bare", lint={"paths": ["bad.yml"], "severity_overrides": {"syntax/promql": False, "alerts/for": True}})
    r = aetherops_cli("-p", "bare", "lint", "--format", "json")
    assert r.exit_code in (0, 1), r
    checks = {f["check"] for f in r.json()["findings"]}
    assert "syntax/promql" not in checks


def test_docs_profile_example_is_accepted():
    import yaml

    text = (Path(__file__).resolve().parents[1] / "docs" / "lint.md").read_text(encoding="utf-8")
    m = re.search(r"```yaml\nlint:\n(.*?)```", text, re.S)
    assert m, "profile example missing from docs/lint.md"
    section = yaml.safe_load("lint:\n" + m.group(1))["lint"]
    from aetherops_plugins.lint.cli import _overrides

    assert all(v in ("error", "warning", "info", "off") for v in _overrides(section["severity_overrides"]).values())


@pytest.mark.parametrize("text, needle", [
    ("groups: foo\n", "cannot unmarshal !!str `foo`"),
    ("groups:\n- name: g\n  rules: foo\n", "cannot unmarshal !!str `foo`"),
    ("groups:\n- name: g\n  rules:\n  - foo\n", "rule 1 is not a mapping"),
    ("groups:\n- name: g\n  rules:\n  - record: a:b:c\n    expr: limitk(1, up)\n", 'unknown function with name "limitk"'),
    ("groups:\n- name: g\n  rules:\n  - record: a:b:c\n    expr: sort_by_label(up, \"a\")\n",
     'unknown function with name "sort_by_label"'),
    ("groups:\n- name: g\n  rules:\n  - record: a:b:c\n    expr: 'up{\"job\"=\"a\"}'\n", "quoted label names"),
    ("groups:\n- name: g\n  rules:\n  - record: a:b:c\n    expr: '{\"up\"}'\n", "quoted label names"),
    ("- a\n- b\n", "the document is a list"),
])
def test_promtool_rejects_so_do_we(tmp_path, text, needle):
    import shutil
    import subprocess

    p = tmp_path / "r.yml"
    p.write_text(text, encoding="utf-8")
    errors = [f for f in lint([p]).findings if f.severity == "error"]
    assert any(needle in f.message for f in errors), [f.to_dict() for f in errors]
    assert not any("experimental" in f.message or "YSeq" in f.message or "YMap" in f.message for f in errors)
    if shutil.which("promtool"):
        assert subprocess.run(["promtool", "check", "rules", str(p)], capture_output=True).returncode == 1


def test_for_null_is_accepted_like_promtool(tmp_path):
    p = _rule_file(tmp_path, "up == 0", extra="        for: null\n")
    findings = lint([p]).findings
    assert not [f for f in findings if f.severity == "error"]
    assert [(f.severity, f.message) for f in findings if f.check == "alerts/for"] == [
        ("info", "alert has no `for`: it fires on the first evaluation that matches")]


AM_TI_BASE = "route:\n  receiver: r\n  routes:\n  - receiver: r\n    active_time_intervals: [biz]\nreceivers:\n  - name: r\n"


@pytest.mark.parametrize("extra, needle", [
    ('    webhook_configs:\n      - url: "${WEBHOOK_URL}"\n', 'unsupported scheme ""'),
    ("    webhook_configs:\n      - url: ftp://x/y\n", 'unsupported scheme "ftp"'),
    ("    slack_configs:\n      - api_url: $SLACK_URL\n        channel: x\n", 'unsupported scheme ""'),
    ("    webhook_configs:\n      - url: http://x/y\n        max_alerts: -1\n", "max_alerts"),
    ("time_intervals:\n  - name: biz\n    time_intervals: [{weekdays: [funday]}]\n", "funday is not a valid weekday"),
    ("time_intervals:\n  - name: biz\n    time_intervals: [{weekdays: ['friday:monday']}]\n", "start day"),
    ("time_intervals:\n  - name: biz\n    time_intervals: [{months: [jan]}]\n", "jan is not a valid month"),
    ("time_intervals:\n  - name: biz\n    time_intervals: [{days_of_month: ['32']}]\n", "not a valid day of the month"),
    ("time_intervals:\n  - name: biz\n    time_intervals: [{times: [{start_time: '17:00', end_time: '09:00'}]}]\n",
     "start time cannot be equal or greater"),
    ("time_intervals:\n  - name: biz\n    time_intervals: [{times: [{start_time: '9:00', end_time: '17:00'}]}]\n",
     "couldn't parse timestamp 9:00"),
    ("time_intervals:\n  - name: biz\n    time_intervals: [{years: ['2020:2019']}]\n", "end year 2019"),
])
def test_amtool_rejects_so_do_we(tmp_path, extra, needle):
    import shutil
    import subprocess

    text = AM_TI_BASE + extra
    if "time_intervals:" not in extra:
        text += "time_intervals:\n  - name: biz\n    time_intervals: [{weekdays: ['monday:friday']}]\n"
    p = tmp_path / "alertmanager.yml"
    p.write_text(text, encoding="utf-8")
    errors = [f for f in lint([p]).findings if f.severity == "error"]
    assert any(needle in f.message for f in errors), [f.to_dict() for f in errors]
    if shutil.which("amtool"):
        assert subprocess.run(["amtool", "check-config", str(p)], capture_output=True).returncode != 0


def test_amtool_accepts_valid_time_intervals(tmp_path):
    text = AM_TI_BASE + ("time_intervals:\n  - name: biz\n    time_intervals:\n    - weekdays: ['monday:friday', saturday]\n"
                      "      months: ['january:march', '12']\n      days_of_month: ['1:5', '-3:-1', '-1']\n"
                      "      years: ['2020:2030']\n      times: [{start_time: '09:00', end_time: '24:00'}]\n")
    p = tmp_path / "alertmanager.yml"
    p.write_text(text, encoding="utf-8")
    assert not [f.to_dict() for f in lint([p]).findings if f.severity == "error"]


def test_env_references_are_not_inline_secrets(tmp_path):
    p = tmp_path / "alertmanager.yml"
    p.write_text("route:\n  receiver: r\nreceivers:\n  - name: r\n    pagerduty_configs:\n      - routing_key: \"${PD_KEY}\"\n"
                 "    opsgenie_configs:\n      - api_key: ${OPSGENIE_KEY}\n    telegram_configs:\n      - bot_token: $TG\n"
                 "        chat_id: 1\n    victorops_configs:\n      - api_key: abcdefabcdef0123\n        routing_key: x\n",
                 encoding="utf-8")
    found = [f for f in lint([p]).findings if f.check == "alertmanager/inline-secret"]
    assert [f.line for f in found] == [13], [f.to_dict() for f in found]
    assert not any("environment substitution" in (f.hint or "") for f in lint([p]).findings)


@pytest.mark.parametrize("extra, needle", [
    ("    scrape_intervall: 10s\n", "field scrape_intervall not found"),
    ("    scrape_interval: 10s\n    scrape_timeout: 20s\n", "scrape timeout greater than scrape interval"),
    ("    relabel_configs: [{action: foo}]\n", 'unknown relabel action "foo"'),
    ('    relabel_configs: [{regex: "("}]\n', "error parsing regexp"),
    ('    metric_relabel_configs: [{source_labels: [a], regex: "a(?=b)"}]\n', "unsupported Perl syntax"),
    ('    static_configs: [{targets: ["http://x:9"]}]\n', "is not a valid hostname"),
])
def test_promtool_check_config_rejects_so_do_we(tmp_path, extra, needle):
    import shutil
    import subprocess

    p = tmp_path / "prometheus.yml"
    p.write_text("global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n" + extra, encoding="utf-8")
    errors = [f for f in lint([p]).findings if f.severity == "error"]
    assert any(needle in f.message and f.line and f.line >= 4 for f in errors), [f.to_dict() for f in errors]
    if shutil.which("promtool"):
        assert subprocess.run(["promtool", "check", "config", "--syntax-only", str(p)], capture_output=True).returncode != 0


def test_valid_scrape_config_has_no_errors(tmp_path):
    p = tmp_path / "prometheus.yml"
    p.write_text("global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n"
                 "    relabel_configs: [{action: labelmap, regex: 'foo_(.+)'}, {action: hashmod, source_labels: [a], modulus: 4, "
                 "target_label: b}]\n    static_configs: [{targets: ['x:9', 'localhost:9090', '[::1]:80'], labels: {a: b}}]\n",
                 encoding="utf-8")
    assert not [f.to_dict() for f in lint([p]).findings if f.severity == "error"]


def test_probe_urls_in_targets_are_fine_when_relabelled(tmp_path):
    # the blackbox_exporter pattern: promtool 2.42 accepts URLs in targets when relabel_configs can rewrite __address__
    p = tmp_path / "prometheus.yml"
    p.write_text("scrape_configs:\n  - job_name: bb\n    metrics_path: /probe\n"
                 "    static_configs: [{targets: ['http://127.0.0.1:3000/api/health']}]\n"
                 "    relabel_configs:\n      - {source_labels: [__address__], target_label: __param_target}\n"
                 "      - {target_label: __address__, replacement: '127.0.0.1:9115'}\n", encoding="utf-8")
    assert not [f.to_dict() for f in lint([p]).findings if f.severity == "error"]


def test_a_path_with_nothing_to_lint_is_exit_4(tmp_path, aetherops_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("emptydir").mkdir()
    Path("txt").mkdir()
    Path("txt/notes.txt").write_text("hello", encoding="utf-8")
    for path in ("emptydir", "txt"):
        r = aetherops_cli("lint", path)
        assert r.exit_code == 4 and f"no rule, config or dashboard files found under {path}" in r.stderr, (r.stdout, r.stderr)
    Path("empty.yml").write_text("", encoding="utf-8")
    r = aetherops_cli("lint", "empty.yml", "--format", "json")
    assert r.exit_code == 0
    assert [(f["check"], f["severity"], f["message"]) for f in r.json()["findings"]] == [
        ("syntax/file", "warning", "empty file: no YAML document in it")]
    assert r.json()["summary"]["files"] == 1


def test_bad_inputs_do_not_hang_or_abort(tmp_path, aetherops_cli, monkeypatch):
    import os

    monkeypatch.chdir(tmp_path)
    d = Path("repo")
    d.mkdir()
    (d / "ok.yml").write_text("groups:\n- name: g\n  rules:\n  - record: job:up:sum\n    expr: sum by (job) (up)\n", encoding="utf-8")
    (d / "dangling.yml").symlink_to(tmp_path / "gone.yml")
    (d / "bin.yml").write_bytes(b"\x00\x01\xff\xfe" * 50)
    (d / "list.yml").write_text("- a\n- b\n", encoding="utf-8")
    if hasattr(os, "mkfifo"):
        os.mkfifo(d / "fifo.yml")
    r = aetherops_cli("lint", "repo", "--format", "json")
    assert r.exit_code == 1, (r.stdout, r.stderr)
    assert "dangling.yml: a broken symbolic link; skipped" in r.stderr
    if hasattr(os, "mkfifo"):
        assert "fifo.yml: not a regular file" in r.stderr
    msgs = {f["file"]: f["message"] for f in r.json()["findings"] if f["check"] == "syntax/file"}
    assert msgs["repo/bin.yml"] == "a binary file, not YAML or JSON"
    assert msgs["repo/list.yml"].startswith("the document is a list")
    assert not any("indentation" in (f["hint"] or "") for f in r.json()["findings"] if f["file"] == "repo/bin.yml")
    assert r.json()["summary"]["files"] == 3  # ok.yml, bin.yml, list.yml
    if hasattr(os, "mkfifo"):
        r = aetherops_cli("lint", "repo/fifo.yml")
        assert r.exit_code == 4 and "not a regular file" in r.stderr


@pytest.mark.parametrize("expr, flagged", [
    ("up == 0 and on() (vector(time()) % 86400) > 32400", True),
    ("up == 0 and on() vector(time() / 3600 % 24) > 9", True),
    ("up == 0 and on() vector(time() % 604800) > 86400", True),
    ("time() - process_start_time_seconds < 300", False),
    ("(time() - last_success_timestamp_seconds) / 3600 > 24", False),  # an age in hours, not a time of day
])
def test_time_arithmetic_guards_are_flagged(tmp_path, expr, flagged):
    p = _rule_file(tmp_path, f"'{expr}'")
    found = [f for f in lint([p]).findings if f.check == "alerts/time-of-day"]
    assert bool(found) == flagged, [f.to_dict() for f in found]
    if found:
        assert found[0].line == 5 and found[0].column == 16 + expr.find("time(")


def test_record_name_hint_says_newest_operation_first(tmp_path):
    p = tmp_path / "r.yml"
    p.write_text("groups:\n- name: g\n  rules:\n  - record: http_requests_rate\n    expr: sum by (job) (rate(x_total[5m]))\n",
                 encoding="utf-8")
    f = next(f for f in lint([p]).findings if f.check == "rules/record-name")
    assert "newest first" in f.hint and "newest operation last" not in f.hint


def test_dashboard_findings_point_at_the_right_panel_when_queries_repeat(tmp_path):
    dash = {"title": "D", "uid": "d", "panels": [
        {"title": "A", "type": "timeseries", "targets": [{"expr": "sum(rate(x[5m])"}]},
        {"title": "B", "type": "row", "panels": [], "collapsed": False},
        {"title": "C", "type": "timeseries", "targets": [{"expr": "up"}, {"expr": "sum(rate(x[5m])"}]},
        {"title": "", "type": "timeseries", "targets": [{"expr": "job:missing:rate5m"}]},
        {"title": "E", "type": "timeseries", "targets": [{"expr": "job:missing:rate5m"}]},
    ]}
    text = json.dumps(dash, indent=2)
    (tmp_path / "d.json").write_text(text, encoding="utf-8")
    (tmp_path / "r.yml").write_text("groups:\n- name: g\n  rules:\n  - record: job:up:sum\n    expr: sum by (job) (up)\n",
                                    encoding="utf-8")
    lines = text.splitlines()
    expr_lines = [i for i, ln in enumerate(lines, 1) if '"expr"' in ln]
    findings = lint([tmp_path]).findings
    bad = sorted(f.line for f in findings if f.check == "dashboard/promql")
    assert bad == [expr_lines[0], expr_lines[2]], (bad, expr_lines)
    missing = sorted(f.line for f in findings if f.check == "crossfile/dashboard-recording-rule")
    assert missing == [expr_lines[3], expr_lines[4]]
    untitled = [f.line for f in findings if f.check == "dashboard/title"]
    assert untitled == [expr_lines[3]]


def test_baseline_counts_identical_findings(tmp_path, aetherops_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rules = Path("rules.yml")
    # two groups with an identical alert: identical fingerprints (check, file, name, message)
    one = "- name: {g}\n  rules:\n  - alert: Same\n    expr: up == 0\n"
    rules.write_text("groups:\n" + one.format(g="a") + one.format(g="b"), encoding="utf-8")
    assert aetherops_cli("lint", "rules.yml", "--write-baseline", "baseline.json").exit_code == 0
    entries = json.loads(Path("baseline.json").read_text(encoding="utf-8"))["findings"]
    assert any(e["check"] == "alerts/for" and e["count"] == 2 for e in entries), entries
    r = aetherops_cli("lint", "rules.yml", "--baseline", "baseline.json", "--severity-threshold", "warning", "--format", "json")
    assert r.exit_code == 0 and r.json()["findings"] == []
    # a third identical alert is new: it must not hide behind the other two
    rules.write_text("groups:\n" + one.format(g="a") + one.format(g="b") + one.format(g="c"), encoding="utf-8")
    r = aetherops_cli("lint", "rules.yml", "--baseline", "baseline.json", "--severity-threshold", "warning", "--format", "json")
    assert r.exit_code == 1
    new = [f for f in r.json()["findings"] if f["check"] == "alerts/for"]
    assert len(new) == 1 and new[0]["group"] == "c"


def test_corpus_licences_are_shipped():
    notice = (CORPUS / "NOTICE").read_text(encoding="utf-8")
    assert "Apache License" in (CORPUS / "LICENSE-Apache-2.0.txt").read_text(encoding="utf-8")
    for folder in ("rules/prometheus-testdata", "alertmanager/testdata", "rules/kube-prometheus", "rules/awesome-prometheus-alerts"):
        assert folder in notice and (CORPUS / folder).is_dir()
    assert "Creative Commons Attribution 4.0" in notice and "Samuel Berthe" in notice


def test_duplicate_recording_rules_selecting_disjoint_series_are_only_info(tmp_path):
    rec = ("  - record: code_verb:apiserver_request_total:increase1h\n    expr: sum by (code, verb) "
           "(increase(apiserver_request_total{{job=\"apiserver\",code=~\"{code}\"}}[1h]))\n")
    p = tmp_path / "r.yml"
    p.write_text("groups:\n- name: g\n  rules:\n" + "".join(rec.format(code=c) for c in ("2..", "3..", "4..", "5..", "5..")),
                 encoding="utf-8")
    dups = [(f.line, f.severity) for f in lint([p]).findings if f.check == "rules/duplicate"]
    # only the real repeat (the second 5..) is a warning; the disjoint ones are info (promtool --lint calls them duplicates)
    assert dups == [(6, "info"), (8, "info"), (10, "info"), (12, "warning")], dups


@pytest.mark.parametrize("name, labels, expected", [
    ("Watchdog", "", None), ("DeadMansSwitch", "", None), ("Heartbeat2", "", None), ("Beacon", "severity: none", None),
    ("Beacon", "severity: warning", "info"),
])
def test_heartbeat_alerts_are_not_comparison_findings(tmp_path, name, labels, expected):
    p = tmp_path / "r.yml"
    p.write_text(f"groups:\n- name: g\n  rules:\n  - alert: {name}\n    expr: vector(1)\n    labels: {{{labels}}}\n",
                 encoding="utf-8")
    got = [f.severity for f in lint([p]).findings if f.check == "alerts/comparison"]
    assert got == ([expected] if expected else [])


@pytest.mark.parametrize("expr, flagged", [
    ("job:errors:rate5m / job:requests:rate5m > 0.05", True),
    ("job:errors:rate5m / job:requests:rate5m > 0.05 and job:requests:rate5m > 1", False),
    ("sum(rate(e_total[5m])) / (sum(rate(r_total[5m])) > 0) > 0.05", False),
    ("sum(rate(e_total[5m])) / sum(rate(r_total[5m])) > 0.05", True),
    ("job:up:sum / job:targets:count < 0.5", False),
])
def test_traffic_guard_with_recorded_rates_and_denominator_guards(tmp_path, expr, flagged):
    p = _rule_file(tmp_path, f"'{expr}'")
    assert bool([f for f in lint([p]).findings if f.check == "alerts/traffic-guard"]) == flagged


@pytest.mark.parametrize("expr, words", [("1 +", "unexpected end of input"), ("x{a=}", 'unexpected "}"'),
                                         ("foo bar", 'unexpected identifier "bar"')])
def test_bare_invalid_promql_query_message_says_what_is_wrong(expr, words):
    from aetherops_plugins.lint.promql.parse import PromQLError, _analyze_uncached

    err = _analyze_uncached(expr)
    assert isinstance(err, PromQLError) and words in err.message and err.message != "invalid promql query"


def test_rate_range_is_one_finding_per_rule_at_the_first_short_call(tmp_path):
    expr = "rate(x_total[1m]) / rate(x_total[30s]) > 1"
    p = _rule_file(tmp_path, f"'{expr}'")
    found = [f for f in lint([p], settings={"scrape_interval": "30s"}).findings if f.check == "promql/rate-range"]
    assert [(f.column, f.message) for f in found] == [
        (16 + expr.find("x_total"), "rate(x_total[1m]), rate(x_total[30s]): ranges shorter than 4x the scrape interval (30s)")]


def test_loading_a_rule_file_allocates_memory_proportional_to_it(tmp_path):
    """No node graph of the whole file (it cost 14 bytes per byte of YAML; the load peaked at 24x the file):
    Python's allocations while loading stay under 10x the file (benchmarks/lint_memory.py measures the process)."""
    import sys
    import tracemalloc

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        from lint import generate
    finally:
        sys.path.pop(0)
    from aetherops_plugins.lint.loader import LoadResult, load_file

    text = generate(2000)
    path = tmp_path / "rules.yml"
    path.write_text(text, encoding="utf-8")
    result = LoadResult()
    tracemalloc.start()
    try:
        load_file(path, result)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(result.targets[0].rules) == 2000
    assert peak < 10 * len(text), f"loading peaked at {peak / len(text):.1f}x the file"
