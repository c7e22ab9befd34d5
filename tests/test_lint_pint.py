"""The checks pint users expect (offline ones): promql/fragile, promql/impossible, promql/nan, group/interval,
promql/regexp, alerts/external-labels and labels/conflict from a linted prometheus.yml. Each case is a realistic rule;
the silent cases are the idioms well-run projects use on purpose (kube-prometheus' `topk by (...) (1, ...)` dedupe...)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aetherops_plugins.lint.checks import builtin_checks
from aetherops_plugins.lint.engine import Options, run

CHECKS = builtin_checks()
CORPUS = Path(__file__).resolve().parent / "data" / "lint" / "corpus"


def findings(tmp_path, rules: list[dict], check: str, *, interval: str | None = None, files: dict | None = None):
    group = {"name": "g", "rules": rules}
    if interval:
        group["interval"] = interval
    (tmp_path / "rules.yml").write_text(json.dumps({"groups": [group]}), encoding="utf-8")
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return [f for f in run(Options(paths=[str(tmp_path)]), CHECKS).findings if f.check == check]


def alert(expr: str, **extra) -> dict:
    return {"alert": "A", "expr": expr, "for": "5m", **extra}


def record(expr: str) -> dict:
    return {"record": "job:x:sum", "expr": expr}


FRAGILE = {
    "topk ranking": (alert("topk(5, sum by (pod) (rate(cpu_seconds_total[5m]))) > 1"), "topk() in an alert"),
    "bottomk": (alert("bottomk(1, node_filesystem_avail_bytes) < 1e9"), "bottomk() in an alert"),
    "different jobs": (record('sum by (job) (rate(x_total{job="api"}[5m])) / sum by (job) (rate(x_total{job="web"}[5m]))'),
                       "no series ever matches"),
    "without on both sides": (record("sum without (instance) (rate(errors_total[5m])) / sum without (instance) (rate(requests_total[5m]))"),
                              "two `without()` aggregations"),
}
FRAGILE_SILENT = {
    "topk dedupe idiom": alert('sum by (namespace, pod) (kube_pod_status_ready{condition="false"}) * on (namespace, pod) '
                               "group_left() topk by (namespace, pod) (1, max by (namespace, pod, owner_kind) (kube_pod_owner)) > 0"),
    "topk in a recording rule": record("topk(10, sum by (pod) (rate(cpu_seconds_total[5m])))"),
    "same metric without": alert("count without (instance, job) (redis_connected_slaves) - sum without (instance, job) "
                                 "(redis_connected_slaves) - 1 > 0"),
    "different jobs ignoring job": record('sum by (job) (x{job="a"}) / ignoring (job) sum by (job) (x{job="b"})'),
    "by both sides": record("sum by (job) (rate(errors_total[5m])) / sum by (job) (rate(requests_total[5m]))"),
}


@pytest.mark.parametrize("case", sorted(FRAGILE))
def test_fragile(tmp_path, case):
    rule, words = FRAGILE[case]
    found = findings(tmp_path, [rule], "promql/fragile")
    assert len(found) == 1 and words in found[0].message, [f.message for f in found]
    assert found[0].line and found[0].hint


@pytest.mark.parametrize("case", sorted(FRAGILE_SILENT))
def test_fragile_silent(tmp_path, case):
    assert not findings(tmp_path, [FRAGILE_SILENT[case]], "promql/fragile")


IMPOSSIBLE = {
    "regroup on a removed label": (record("sum by (instance) (sum by (job) (rate(x_total[5m])))"), "no 'instance' label"),
    "on() a label one side lost": (alert("sum by (job) (rate(errors_total[5m])) / on (instance) rate(requests_total[5m]) > 0.1"),
                                   "left side has no 'instance'"),
    "group_left of a removed label": (record("rate(x_total[5m]) * on (job) group_left (team) sum by (job) (team_info)"),
                                      "group_left(team)"),
    "count == 0": (alert('count(up{job="api"} == 1) == 0'), "never true"),
    "count < 1": (alert('count by (job) (up{job="api"}) < 1'), "never true"),
    "absent == 0": (alert('absent(up{job="api"}) == 0'), "returns 1 or nothing"),
}
IMPOSSIBLE_SILENT = {
    "regroup on a kept label": record("sum by (job) (sum by (job, instance) (rate(x_total[5m])))"),
    "on() shared label": alert("sum by (job) (rate(errors_total[5m])) / on (job) sum by (job) (rate(requests_total[5m])) > 0.1"),
    "group_left of a kept label": record("rate(x_total[5m]) * on (job) group_left (team) max by (job, team) (team_info)"),
    "count < 3": alert('count(up{job="api"} == 1) < 3'),
    "absent alone": alert('absent(up{job="api"})'),
    "name regroup": record('count by (__name__) ({__name__=~"node_.+"})'),
}


@pytest.mark.parametrize("case", sorted(IMPOSSIBLE))
def test_impossible(tmp_path, case):
    rule, words = IMPOSSIBLE[case]
    found = findings(tmp_path, [rule], "promql/impossible")
    assert len(found) == 1 and words in found[0].message, [f.message for f in found]


@pytest.mark.parametrize("case", sorted(IMPOSSIBLE_SILENT))
def test_impossible_silent(tmp_path, case):
    assert not findings(tmp_path, [IMPOSSIBLE_SILENT[case]], "promql/impossible")


def test_nan(tmp_path):
    bad = record("sum by (job) (rate(errors_total[5m]) / rate(requests_total[5m]))")
    found = findings(tmp_path, [bad], "promql/nan")
    assert len(found) == 1 and "inside sum()" in found[0].message and "sum(a) / sum(b)" in found[0].hint
    for ok in ("sum by (job) (rate(errors_total[5m])) / sum by (job) (rate(requests_total[5m]))",  # divide after
               "max by (job) (rate(errors_total[5m]) / rate(requests_total[5m]))",  # max skips NaN
               "sum by (pod) (container_spec_cpu_quota / container_spec_cpu_period)",  # not a rate: never 0 in practice
               "sum by (job) (rate(errors_total[5m]) / clamp_min(rate(requests_total[5m]), 1))",  # guarded
               "sum by (job) (rate(errors_total[5m]) / 60)"):
        assert not findings(tmp_path, [record(ok)], "promql/nan"), ok


def test_group_interval(tmp_path):
    found = findings(tmp_path, [record("sum by (job) (rate(x_total[1h]))")], "group/interval", interval="15m")
    assert len(found) == 1 and "15m" in found[0].message and "recorded series disappear" in found[0].message
    assert found[0].line == 1 or found[0].line  # JSON has no key lines: the group's
    assert not findings(tmp_path, [record("sum(x)")], "group/interval", interval="5m")
    assert not findings(tmp_path, [record("sum(x)")], "group/interval")


REGEXP = {
    'up{job=~"^api$"}': "anchors are redundant",
    'up{job=~"^api"}': 'matches only "api"',
    'up{job="a", instance=~".*"}': "does nothing",
    'up{job="a", instance!~".*"}': "matches no series",
    'up{job=~".+"}': 'same as job!=""',
    'up{job=~"api\\\\.example"}': 'write job="api.example"',
    'up{job=~"(api)"}': 'write job="api"',
}


@pytest.mark.parametrize("selector", sorted(REGEXP))
def test_regexp(tmp_path, selector):
    found = findings(tmp_path, [record(f"sum({selector})")], "promql/regexp")
    assert len(found) == 1 and REGEXP[selector] in found[0].message + " " + (found[0].hint or ""), [f.message for f in found]


def test_regexp_silent(tmp_path):
    for selector in ('up{job=~"api|web"}', 'up{job=~"api-.*"}', 'up{status=~"5.."}', 'up{job="api"}', 'up{job=~"api"}'):
        assert not findings(tmp_path, [record(f"sum({selector})")], "promql/regexp"), selector


PROM_YML = "global:\n  scrape_interval: 30s\n  external_labels:\n    cluster: prod-eu\n    region: eu\nscrape_configs: []\n"


def test_external_labels_from_a_linted_prometheus_yml(tmp_path):
    rules = [alert("up == 0", annotations={"summary": "{{ $externalLabels.cluster }} {{ $externalLabels.datacenter }} down"})]
    found = findings(tmp_path, rules, "alerts/external-labels", files={"prometheus.yml": PROM_YML})
    assert len(found) == 1 and "datacenter" in found[0].message and "cluster" not in found[0].message.split("has")[0]
    # with no prometheus.yml and no server, nothing is known: silent
    d = tmp_path / "alone"
    d.mkdir()
    assert not findings(d, rules, "alerts/external-labels")


def test_labels_conflict_from_a_linted_prometheus_yml(tmp_path):
    rules = [alert("up == 0", labels={"cluster": "prod-us", "severity": "page"}), alert("up == 0", labels={"region": "eu"})]
    found = findings(tmp_path, rules, "labels/conflict", files={"prometheus.yml": PROM_YML})
    assert len(found) == 2
    assert "prod-us" in found[0].message and "prod-eu" in found[0].message and found[0].severity == "warning"
    assert "same value" in found[1].message and found[1].severity == "info"


def test_new_checks_are_quiet_on_the_kube_prometheus_mixin(monkeypatch):
    """A well-maintained third-party rule set: the new checks' warnings there are few, and each is a real problem."""
    monkeypatch.chdir(CORPUS)
    report = run(Options(paths=["rules/kube-prometheus"]), CHECKS)
    new = {"promql/fragile", "promql/impossible", "promql/nan", "group/interval"}
    warnings = [f for f in report.findings if f.check in new and f.severity != "info"]
    assert warnings == [], [(f.check, f.file, f.line, f.message) for f in warnings]
