"""`aetherops slo`: SLO specs and the generated rules (checked by the real promtool and by aetherops lint)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from aetherops.durations import format_duration, parse_duration
from aetherops.errors import ConfigError
from aetherops.testing.servers import require_binary
from aetherops_plugins.burnrate.api import DEFAULT_TIERS
from aetherops_plugins.burnrate.spec import load_file

DATA = Path(__file__).parent / "data" / "slo"
SPECS = ["api.yaml", "sloth.yaml", "openslo.yaml"]


def write(tmp_path: Path, text: str, name: str = "slos.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """\
slos:
  - name: api
    objective: {objective}
    period: {period}
    sli:
      error_query: sum(rate(errors_total[{{{{.window}}}}]))
      total_query: sum(rate(requests_total[{{{{.window}}}}]))
"""


# --------------------------------------------------------------------------- specs


def test_native_spec_gets_the_workbook_tiers():
    [slo] = load_file(DATA / "api.yaml")
    assert (slo.name, slo.objective, slo.period, slo.budget) == ("api-availability", 99.9, 30 * 86400, 0.001)
    table = [(t.severity, t.burn_rate, format_duration(t.long_window), format_duration(t.short_window)) for t in slo.tiers]
    assert table == [("page", 14.4, "1h", "5m"), ("page", 6.0, "6h", "30m"), ("ticket", 3.0, "1d", "2h"), ("ticket", 1.0, "3d", "6h")]
    assert [t.threshold(slo.objective) for t in slo.tiers] == [0.0144, 0.006, 0.003, 0.001]
    assert [(p.budget_below, p.action) for p in slo.policy] == [(0.25, "freeze-features"), (0.0, "freeze-all")]
    # the Workbook's budget shares: 2% in 1h, 5% in 6h, 10% in 1d, 10% in 3d
    assert [round(t.budget_share, 3) for t in DEFAULT_TIERS] == [0.02, 0.05, 0.1, 0.1]


def test_sloth_spec_is_read_with_its_labels_and_alert_names():
    [slo] = load_file(DATA / "sloth.yaml")
    assert slo.name == "payments-availability" and slo.objective == 99.5 and slo.service == "checkout"
    assert slo.labels == {"owner": "payments"} and slo.alert_name == "PaymentsHighErrorRate"
    assert slo.alert_labels == {"category": "availability"} and slo.runbook_url == "https://runbooks.example.com/payments"
    assert "{{.window}}" in slo.error_query and "{{.window}}" in slo.total_query


def test_openslo_slo_with_a_referenced_ratio_sli_and_a_28_day_window():
    [slo] = load_file(DATA / "openslo.yaml")
    assert slo.name == "search-availability" and slo.objective == pytest.approx(99.0) and slo.period == 28 * 86400
    assert slo.total_query == "sum(rate(search_requests_total[{{.window}}]))"
    assert slo.error_query == '(sum(rate(search_requests_total[{{.window}}]))) - (sum(rate(search_requests_total{code!~"5.."}[{{.window}}])))'
    # windows scale with the period: 1h over 30d is 56m over 28d
    assert [format_duration(t.long_window) for t in slo.tiers][:2] == ["56m", "5h36m"]


@pytest.mark.parametrize(
    "text, line, field, message",
    [
        (MINIMAL.format(objective=150, period="30d"), 3, "slos.0.objective", "outside (0, 100)"),
        (MINIMAL.format(objective=0, period="30d"), 3, "slos.0.objective", "outside (0, 100)"),
        (MINIMAL.format(objective="'high'", period="30d"), 3, "slos.0.objective", "must be a percentage"),
        (MINIMAL.format(objective=99.9, period="1d") + "    tiers:\n      - severity: ticket\n        burn_rate: 1\n"
         "        long_window: 3d\n        short_window: 6h\n", 11, "slos.0.tiers.0.long_window", "3d is longer than the period 1d"),
        (MINIMAL.format(objective=99.9, period="soon"), 4, "slos.0.period", "must be a duration"),
        (MINIMAL.format(objective=99.9, period="30d").replace("error_query", "eror_query"), 6, "slos.0.sli.eror_query",
         "did you mean 'error_query'"),
        (MINIMAL.format(objective=99.9, period="30d").replace("[{{.window}}]", "[5m]", 1), 6, "slos.0.sli.error_query",
         "{{.window}} placeholder"),
        (MINIMAL.format(objective=99.9, period="30d").replace("sum(rate(errors_total", "sum((rate(errors_total"), 6,
         "slos.0.sli.error_query", "not valid PromQL"),
        ("slos:\n  - name: api\n    objective: 99.9\n    sli: {error_query: 'sum(rate(e[{{.window}}]))'}\n", 4, "slos.0.sli",
         "total_query is missing"),
        ("slos:\n  - name: api\n    objective: 99.9\n    sli: {error_ratio_query: 'x{w=\"{{.window}}\"}'}\n    tiers:\n"
         "      - {severity: page, burn_rate: 2, long_window: 1h, short_window: 2h}\n", 6, "slos.0.tiers.0.short_window",
         "longer than its long_window"),
        ("slos:\n  - name: api\n    objective: 99.9\n    sli: {error_ratio_query: 'x{w=\"{{.window}}\"}'}\n    tiers:\n"
         "      - {severity: pager, burn_rate: 2, long_window: 1h, short_window: 5m}\n", 6, "slos.0.tiers.0.severity",
         "page or ticket"),
        ("slos: {name: x}\n", 1, "slos", "must be a list"),
        ("slos:\n  - name: a b\n", 2, "slos.0.name", "may hold only"),
        ("slos:\n  - [1, 2\n", 3, "", "invalid YAML"),
    ],
)
def test_invalid_specs_name_file_line_and_field(tmp_path, text, line, field, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_file(path)
    rendered = info.value.format_message()
    assert rendered.startswith(f"{path}:{line}: {field}"), rendered
    assert message in rendered and "\n" not in rendered


def test_a_tier_that_can_never_fire_is_a_warning_and_the_spec_still_works(tmp_path, aetherops_cli):
    path = write(tmp_path, MINIMAL.format(objective=90, period="30d"))
    [slo] = load_file(path)
    assert len(slo.warnings) == 1  # 14.4x of a 10% budget needs 144% errors; 6x needs 60%: fine
    assert slo.warnings[0].startswith(f"{path}:3: objective: SLO 'api': tier page-1h (14.4x) can never fire")
    result = aetherops_cli("slo", "rules", path)
    assert result.exit_code == 0, result
    assert result.stderr.count("can never fire") == 1 and "groups:" in result.stdout


def test_cli_exit_codes_for_bad_specs(tmp_path, aetherops_cli):
    missing = aetherops_cli("slo", "rules", tmp_path / "nope.yaml")
    assert missing.exit_code == 4 and "no such SLO spec file" in missing.stderr and len(missing.stderr.splitlines()) == 1
    bad = aetherops_cli("slo", "rules", write(tmp_path, MINIMAL.format(objective=101, period="30d")))
    assert bad.exit_code == 4 and ":3: slos.0.objective:" in bad.stderr and "Traceback" not in bad.stderr
    other = aetherops_cli("slo", "rules", write(tmp_path, "groups: []\n", "rules.yml"))
    assert other.exit_code == 4 and "not an SLO spec" in other.stderr


def test_profile_slos_section_with_lines(profile_factory, aetherops_cli, profiles_dir):
    profile_factory("p", text="slos:\n  - name: api\n    objective: 99.9\n    sli:\n"
                    "      error_query: sum(rate(e_total[{{.window}}]))\n      total_query: sum(rate(r_total[{{.window}}]))\n")
    ok = aetherops_cli("-p", "p", "slo", "rules", "--output", "json")
    assert ok.exit_code == 0, ok
    assert ok.json()["slos"] == ["api"] and ok.json()["alerts"] == 4
    profile_factory("q", text="slos:\n  - name: api\n    objective: 100\n    sli:\n      error_ratio_query: 'x{w=\"{{.window}}\"}'\n")
    bad = aetherops_cli("-p", "q", "slo", "rules")
    assert bad.exit_code == 4 and f"{profiles_dir / 'q.yaml'}:3: slos.0.objective" in bad.stderr, bad
    profile_factory("empty", prometheus={"url": "http://127.0.0.1:9"})
    none = aetherops_cli("-p", "empty", "slo", "rules")
    assert none.exit_code == 4 and "has no slos" in none.stderr


def test_durations_round_trip():
    for text in ("5m", "1h", "1d", "3d", "5h36m", "2d19h12m", "4m40s"):
        assert format_duration(parse_duration(text)) == text
    assert parse_duration("1h 5m") is None and parse_duration("-5m") is None and parse_duration("") is None


# --------------------------------------------------------------------------- rules


@pytest.mark.parametrize("spec", SPECS)
def test_generated_rules_pass_promtool_and_lint_with_no_finding(tmp_path, aetherops_cli, spec):
    from aetherops_plugins.lint.checks import builtin_checks
    from aetherops_plugins.lint.engine import Options, run

    promtool = require_binary("promtool")
    out = tmp_path / "slo-rules.yml"
    result = aetherops_cli("slo", "rules", DATA / spec, "--out", out)
    assert result.exit_code == 0, result
    checked = subprocess.run([str(promtool), "check", "rules", "--lint=all", "--lint-fatal", str(out)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: " in checked.stdout
    report = run(Options(paths=[str(out)]), builtin_checks())
    assert report.rules > 20
    assert [f.to_dict() for f in report.findings] == []
    assert not list(tmp_path.glob(".*.tmp"))


def test_rules_are_traffic_weighted_and_have_one_guarded_alert_per_tier(tmp_path, aetherops_cli):
    result = aetherops_cli("slo", "rules", DATA / "api.yaml", "--output", "json")
    assert result.exit_code == 0, result
    [group] = result.json()["rules"]["groups"]
    assert group["interval"] == "1m"
    records = {r["record"]: r for r in group["rules"] if "record" in r}
    # every window the tiers use plus the period, each from summed counters over that window
    for window in ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"):
        expr = records[f"slo:sli_error:ratio_rate{window}"]["expr"]
        assert expr == (f'(sum(rate(http_requests_total{{job="api",code=~"5.."}}[{window}]))) / '
                        f'(sum(rate(http_requests_total{{job="api"}}[{window}])))')
    assert records["slo:error_budget:remaining"]["expr"] == '1 - slo:sli_error:ratio_rate30d{slo="api-availability"} / 0.001'
    alerts = [r for r in group["rules"] if "alert" in r]
    assert [(a["labels"]["severity"], a["labels"]["window"]) for a in alerts] == [
        ("critical", "1h"), ("critical", "6h"), ("warning", "1d"), ("warning", "3d")]
    for alert, tier in zip(alerts, DEFAULT_TIERS):
        assert alert["labels"]["slo"] == "api-availability"
        assert set(alert["annotations"]) >= {"summary", "description", "runbook_url"}
        assert alert["expr"].endswith(f'and slo:sli_requests:rate{format_duration(tier.short_window)}{{slo="api-availability"}} > 0')
    # the order matters: recording rules first, so alerts read ratios of the same evaluation
    kinds = ["record" if "record" in r else "alert" for r in group["rules"]]
    assert kinds == sorted(kinds, key=lambda k: k == "alert")


def test_rules_to_a_missing_directory_is_a_config_error(tmp_path, aetherops_cli):
    result = aetherops_cli("slo", "rules", DATA / "api.yaml", "--out", tmp_path / "no" / "such" / "rules.yml")
    assert result.exit_code == 4 and "does not exist" in result.stderr


def test_generated_rules_load_into_a_real_prometheus(tmp_path, aetherops_cli):
    from aetherops.testing.servers import start_prometheus

    require_binary("prometheus")
    result = aetherops_cli("slo", "rules", DATA / "sloth.yaml", "--output", "json")
    text = yaml.safe_dump(result.json()["rules"], sort_keys=False)
    with start_prometheus(tmp_path, rule_files={"slo.yml": text}) as server:
        import httpx

        groups = httpx.get(f"{server.url}/api/v1/rules", timeout=10).json()["data"]["groups"]
    assert [g["name"] for g in groups] == ["slo-payments-availability"]
    assert sum(1 for r in groups[0]["rules"] if r["type"] == "alerting") == 4


# --------------------------------------------------------------------------- dashboard


def test_dashboard_passes_lint_with_the_rules_and_provisions_into_grafana(tmp_path, aetherops_cli, grafana_double):
    import json

    import httpx

    from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN
    from aetherops_plugins.lint.checks import builtin_checks
    from aetherops_plugins.lint.engine import Options, run

    rules_file, board_file = tmp_path / "slo-rules.yml", tmp_path / "slo-dashboard.json"
    assert aetherops_cli("slo", "rules", DATA / "api.yaml", "--out", rules_file).exit_code == 0
    result = aetherops_cli("slo", "dashboard", DATA / "api.yaml", "--out", board_file, "--output", "json")
    assert result.exit_code == 0, result
    board = json.loads(board_file.read_text(encoding="utf-8"))
    assert result.json() == {"file": str(board_file), "uid": board["uid"], "panels": len(board["panels"])}
    titles = [p["title"] for p in board["panels"]]
    for wanted in ("attainment over 30d", "error budget remaining", "burn rate page-1h (14.4x)", "burn rate ticket-3d (1x)",
                   "burn-rate alerts firing", "probe success", "recording-rule freshness"):
        assert any(wanted in t for t in titles), (wanted, titles)
    burn = next(p for p in board["panels"] if "page-6h" in p["title"])
    assert [t["expr"] for t in burn["targets"]] == ['slo:error_budget:burn_rate6h{slo="api-availability"}',
                                                   'slo:error_budget:burn_rate30m{slo="api-availability"}']
    assert burn["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"] == 6.0
    # every recording rule the dashboard reads is one `slo rules` writes: lint finds nothing, alone or together
    for paths in ([board_file], [board_file, rules_file]):
        report = run(Options(paths=[str(p) for p in paths]), builtin_checks())
        assert [f.to_dict() for f in report.findings] == []
    # and Grafana accepts it as it is
    headers = {"Authorization": f"Bearer {GRAFANA_TEST_TOKEN}"}
    saved = httpx.post(f"{grafana_double.url}/api/dashboards/db", json={"dashboard": board, "overwrite": True}, headers=headers)
    assert saved.status_code == 200, saved.text
    stored = httpx.get(f"{grafana_double.url}/api/dashboards/uid/{board['uid']}", headers=headers).json()
    assert stored["dashboard"]["title"] == board["title"] and len(stored["dashboard"]["panels"]) == len(board["panels"])


def test_docs_show_every_default_tier_with_its_summary_and_why():
    docs = (Path(__file__).parent.parent / "docs" / "slo.md").read_text(encoding="utf-8")
    for tier in DEFAULT_TIERS:
        row = (f"| {tier.severity} | {tier.burn_rate:g}x | {format_duration(tier.long_window)} | {format_duration(tier.short_window)} "
               f"| {tier.budget_share:.0%} | {tier.summary} {tier.why} |")
        assert row in docs


def test_dashboard_is_provisioned_by_dashboards_push(tmp_path, aetherops_cli, grafana_double, profile_factory, monkeypatch):
    """`slo dashboard` writes what `aetherops dashboards push` provisions: created once, unchanged on the re-run."""
    import json

    from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN

    monkeypatch.setenv("GTOKEN", GRAFANA_TEST_TOKEN)
    monkeypatch.setenv("AETHEROPS_PROFILE", "g")
    profile_factory("g", grafana={"url": grafana_double.url, "auth": {"token_env": "GTOKEN"}})
    tree = tmp_path / "boards" / "SLOs"
    tree.mkdir(parents=True)
    board_file = tree / "api-slo.json"
    assert aetherops_cli("slo", "dashboard", DATA / "api.yaml", "--out", board_file).exit_code == 0
    uid = json.loads(board_file.read_text(encoding="utf-8"))["uid"]

    first = aetherops_cli("dashboards", "push", str(tree.parent), "--output", "json")
    assert first.exit_code == 0, first.stderr
    assert {(r["uid"], r["action"]) for r in first.json()["items"] if r.get("uid") == uid} == {(uid, "created")}
    stored = {d["uid"]: d for d in grafana_double.state["dashboards"]}
    folders = {f["uid"]: f["title"] for f in grafana_double.state["folders"]}
    assert folders[stored[uid]["folder_uid"]] == "SLOs"

    again = aetherops_cli("dashboards", "push", str(tree.parent), "--output", "json")
    assert again.exit_code == 0, again.stderr
    assert {r["action"] for r in again.json()["items"]} == {"unchanged"}
