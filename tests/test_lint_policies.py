"""lint.policies: matching (path, kind, name, label) and each requirement's check (rules/label, rules/reject,
rules/for, promql/aggregate, promql/selector), validation in the profile, and the documented example."""

from __future__ import annotations

import pytest
import yaml

from aetherops_plugins.lint.checks import builtin_checks
from aetherops_plugins.lint.engine import Options, run
from aetherops_plugins.lint.policies import EXAMPLE, PolicyError, parse

CHECKS = builtin_checks()
POLICY_CHECKS = {"rules/label", "rules/reject", "rules/for", "promql/aggregate", "promql/selector"}

RULES = {
    "prod/api.yml": [
        {"alert": "ApiDown", "expr": 'up{job="api"} == 0', "for": "1m", "labels": {"severity": "critical", "team": "api"},
         "annotations": {"summary": "API down", "runbook_url": "https://wiki.example.com/ApiDown"}},
        {"alert": "ApiSlow", "expr": "histogram_quantile(0.99, sum by (le) (rate(api_latency_seconds_bucket[5m]))) > 1",
         "for": "10m", "labels": {"severity": "warning"}, "annotations": {"summary": "slow: {{ $value }}"}},
        {"record": "job:requests:rate5m", "expr": "sum without (pod) (rate(requests_total[5m]))"},
    ],
    "dev/api.yml": [
        {"alert": "DevDown", "expr": "up == 0", "labels": {"severity": "critical"}},
    ],
}


def lint(tmp_path, policies, only=POLICY_CHECKS):
    for name, rules in RULES.items():
        path = tmp_path / "rules" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump({"groups": [{"name": name, "rules": rules}]}, sort_keys=False), encoding="utf-8")
    report = run(Options(paths=[str(tmp_path / "rules")], settings={"policies": policies}), CHECKS)
    return [f for f in report.findings if f.check in only]


def brief(found):
    return sorted((f.check, f.name) for f in found)


def test_no_policies_no_findings(tmp_path):
    assert lint(tmp_path, []) == []


def test_match_by_path_kind_name_and_label(tmp_path):
    require_team = {"require": {"labels": {"team": None}}}
    assert brief(lint(tmp_path, [{"name": "p", **require_team}])) == [
        ("rules/label", "ApiSlow"), ("rules/label", "DevDown"), ("rules/label", "job:requests:rate5m")]
    assert brief(lint(tmp_path, [{"name": "p", "match": {"path": "rules/prod/*.yml"}, **require_team}])) == [
        ("rules/label", "ApiSlow"), ("rules/label", "job:requests:rate5m")]
    assert brief(lint(tmp_path, [{"name": "p", "match": {"path": "prod/**", "kind": "alerting"}, **require_team}])) == [
        ("rules/label", "ApiSlow")]
    assert brief(lint(tmp_path, [{"name": "p", "match": {"name": "Dev.*"}, **require_team}])) == [("rules/label", "DevDown")]
    assert brief(lint(tmp_path, [{"name": "p", "match": {"label": {"severity": "critical"}}, **require_team}])) == [
        ("rules/label", "DevDown")]
    # the name regex is anchored like Prometheus': "Api" alone matches no rule name
    assert lint(tmp_path, [{"name": "p", "match": {"name": "Api"}, **require_team}]) == []


def test_require_values_and_annotations(tmp_path):
    found = lint(tmp_path, [{"name": "runbooks", "match": {"kind": "alerting"},
                             "require": {"annotations": {"runbook_url": "https://runbooks\\.example\\.com/.+"},
                                         "labels": {"severity": "critical|warning|info"}}}])
    messages = {(f.name, f.message) for f in found}
    assert ("ApiDown", "annotation runbook_url='https://wiki.example.com/ApiDown' does not match policy 'runbooks': "
                       "https://runbooks\\.example\\.com/.+") in messages
    assert ("ApiSlow", "policy 'runbooks' requires annotation 'runbook_url'") in messages
    assert len(found) == 3  # DevDown has no annotations at all: one finding; severities are all allowed


def test_forbid(tmp_path):
    found = lint(tmp_path, [{"name": "pages", "forbid": {"annotations": {"summary": ".*\\$value.*"}, "labels": ["team"]}}])
    assert {(f.check, f.name, f.message) for f in found} == {
        ("rules/reject", "ApiSlow", "policy 'pages' forbids annotation summary='slow: {{ $value }}' (matches .*\\$value.*)"),
        ("rules/reject", "ApiDown", "policy 'pages' forbids label team")}


def test_for_bounds(tmp_path):
    found = lint(tmp_path, [{"name": "paging", "match": {"label": {"severity": "critical"}}, "for": {"min": "5m", "max": "1h"}},
                            {"name": "tickets", "match": {"label": {"severity": "warning"}}, "for": {"max": "5m"}}])
    assert {(f.name, f.message) for f in found} == {
        ("ApiDown", "for: 1m is shorter than policy 'paging' allows (5m)"),
        ("DevDown", "for: 0s (no for) is shorter than policy 'paging' allows (5m)"),
        ("ApiSlow", "for: 10m is longer than policy 'tickets' allows (5m)")}


def test_aggregate_keep_and_strip(tmp_path):
    found = lint(tmp_path, [{"name": "cheap records", "match": {"kind": "recording"}, "aggregate": {"keep": ["job"], "strip": ["instance"]}},
                            {"name": "le", "match": {"name": "ApiSlow"}, "aggregate": {"keep": ["le", "job"]}}])
    assert {(f.name, f.message) for f in found} == {
        ("job:requests:rate5m", "sum without (pod) keeps 'instance', which policy 'cheap records' strips"),
        ("ApiSlow", "sum by (le) removes 'job', which policy 'le' keeps")}
    assert all(f.check == "promql/aggregate" and f.line for f in found)
    # the same record, fixed, passes: by (job) keeps job and drops instance
    RULES["prod/api.yml"][2]["expr"] = "sum by (job) (rate(requests_total[5m]))"
    try:
        assert lint(tmp_path, [{"name": "cheap records", "match": {"kind": "recording"},
                                "aggregate": {"keep": ["job"], "strip": ["instance"]}}]) == []
    finally:
        RULES["prod/api.yml"][2]["expr"] = "sum without (pod) (rate(requests_total[5m]))"


def test_selector_matchers(tmp_path):
    found = lint(tmp_path, [{"name": "scoped", "selectors": {"require": ["job"], "forbid": ["instance"]}}])
    assert brief(found) == [("promql/selector", "ApiSlow"), ("promql/selector", "DevDown"), ("promql/selector", "job:requests:rate5m")]
    assert any("api_latency_seconds_bucket has no job matcher" in f.message for f in found)


@pytest.mark.parametrize("bad, words", [
    ("not a list", "must be a list"),
    ([{"name": "x", "requires": {}}], "unknown key(s) requires"),
    ([{"name": "x", "match": {"kind": "alerts"}}], "match.kind must be alerting or recording"),
    ([{"name": "x", "require": {"labels": {"team": "("}}}], "require.labels.team: invalid regex"),
    ([{"name": "x", "for": {"min": "5 minutes"}}], "for.min: '5 minutes' is not a Prometheus duration"),
    ([{"name": "x", "aggregate": {"keep": "job", "drop": []}}], "aggregate must be a mapping of keep, strip"),
])
def test_invalid_policies_name_the_policy_and_key(bad, words):
    with pytest.raises(PolicyError) as info:
        parse(bad)
    assert words in str(info.value)


def test_an_invalid_policy_is_a_config_error_in_the_profile(tmp_path, profile_factory, aetherops_cli):
    (tmp_path / "r.yml").write_text("groups: []\n", encoding="utf-8")
    name = profile_factory("team", lint={"policies": [{"name": "x", "require": {"labels": {"team": "("}}}]})
    result = aetherops_cli("-p", name, "lint", str(tmp_path / "r.yml"))
    assert result.exit_code == 4 and "invalid regex" in result.stderr and "Traceback" not in result.stderr


def test_the_documented_example_is_valid_and_works(tmp_path, monkeypatch, profile_factory, aetherops_cli):
    settings = yaml.safe_load(EXAMPLE)["lint"]
    assert len(parse(settings["policies"])) == 1
    (tmp_path / "rules" / "prod").mkdir(parents=True)
    (tmp_path / "rules" / "prod" / "kube.yml").write_text(
        "groups:\n- name: k\n  rules:\n  - alert: KubeDown\n    expr: up == 0\n    for: 2m\n    labels:\n      severity: page\n"
        "      instance: x\n", encoding="utf-8")
    name = profile_factory("team", lint=settings)
    monkeypatch.chdir(tmp_path)  # the example's path glob is relative: rules/prod/**
    result = aetherops_cli("-p", name, "lint", "rules", "-o", "json", "--severity-threshold", "warning")
    checks = {f["check"] for f in result.json()["findings"]}
    assert {"rules/label", "rules/reject", "rules/for", "promql/selector"} <= checks, result.json()["findings"]
    assert result.exit_code == 1
