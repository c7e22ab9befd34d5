"""`aetherops slo simulate`: the Workbook's figures, and parity with promtool's own rule evaluation."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import pytest
import yaml

from aetherops.durations import format_duration, parse_duration
from aetherops.testing.servers import require_binary
from aetherops_plugins.burnrate.parity import promtool_test, simulation_slo
from aetherops_plugins.burnrate.rules import render
from aetherops_plugins.burnrate.simulate import Scenario, parse_scenario, run_scenario
from aetherops_plugins.burnrate.spec import load_file

DATA = Path(__file__).parent / "data" / "slo"


@pytest.fixture(scope="module")
def slo():
    [slo] = load_file(DATA / "api.yaml")  # 99.9% over 30 days, rules every 1m
    return slo


def tiers(result) -> dict:
    return {t["tier"]: t for t in result["tiers"]}


# --------------------------------------------------------------------------- the Workbook's figures


def test_full_outage_trips_the_fast_page_after_about_52_seconds(slo):
    result = run_scenario(slo, parse_scenario("outage:ratio=1.0,for=10m", slo.period), step=1)
    page = tiers(result)["page-1h"]
    # 0.0144 h = 51.84 s: the 1h ratio reaches 1.44%; the rule sees it at the next evaluation (within one interval)
    assert abs(page["condition_after_s"] - 51.84) <= slo.evaluation_interval
    assert page["condition_after_s"] >= 51.84
    assert page["detected_after_s"] == page["condition_after_s"] + slo.evaluation_interval  # `for: 1m`
    assert page["fires"] and result["pages"] == 1
    # 10 minutes of 100% errors spend 10/43200 of the requests, i.e. 23% of a 0.1% budget
    assert result["budget_total"] == pytest.approx(600 / (0.001 * 30 * 86400), rel=1e-9)


def test_one_percent_errors_never_trip_the_fast_page_but_trip_the_6x_page_after_about_3_6_hours(slo):
    result = run_scenario(slo, parse_scenario("degradation:ratio=0.01,for=12h", slo.period), step=1)
    by_tier = tiers(result)
    assert by_tier["page-1h"]["fires"] is False and by_tier["page-1h"]["condition_after_s"] is None
    slow = by_tier["page-6h"]
    assert slow["fires"] and abs(slow["condition_after_s"] - 3.6 * 3600) <= slo.evaluation_interval
    assert slow["budget_at_detection"] == pytest.approx(0.05, abs=0.001)  # the 6x tier: 5% of the budget by then


@pytest.mark.parametrize("tier, lowest", [("page-1h", 0.0144), ("page-6h", 0.006), ("ticket-1d", 0.003), ("ticket-3d", 0.001)])
def test_lowest_error_ratio_that_can_trip_each_tier(slo, tier, lowest):
    """Just above the ratio the tier trips (given time), just below it never does."""
    step = 60
    above = run_scenario(slo, Scenario("degradation", lowest * 1.02, 5 * 86400), step)
    below = run_scenario(slo, Scenario("degradation", lowest * 0.98, 5 * 86400), step)
    assert tiers(above)[tier]["fires"] is True
    assert tiers(below)[tier]["fires"] is False


def test_cli_table_json_and_tier_summary(tmp_path, aetherops_cli):
    result = aetherops_cli("slo", "simulate", DATA / "api.yaml", "--scenario", "outage:ratio=1.0,for=10m",
                           "--scenario", "flapping:ratio=1.0,on=1m,off=9m,for=6h", "--output", "json")
    assert result.exit_code == 0, result
    data = result.json()
    assert [t["min_error_ratio"] for t in data["tiers"]] == [0.0144, 0.006, 0.003, 0.001]
    outage, flapping = data["scenarios"]
    assert outage["scenario"] == "outage:ratio=1.0,for=10m" and outage["pages"] == 1
    assert flapping["pages"] >= 1 and tiers(flapping)["page-1h"]["firings"] >= 1
    for tier in outage["tiers"]:
        assert tier["reset_after_s"] is not None and tier["reset_after_s"] >= 0  # every tier resets after the outage
    # ticket-3d resets when its 6h short window has forgotten the outage
    assert tiers(outage)["ticket-3d"]["reset_after_s"] == pytest.approx(6 * 3600, abs=120)
    text = aetherops_cli("slo", "simulate", DATA / "api.yaml", "--scenario", "outage:ratio=1.0,for=10m")
    assert text.exit_code == 0 and "DETECTED AFTER" in text.stdout and "page-1h" in text.stdout


def test_grid_reports_precision_and_recall(aetherops_cli):
    result = aetherops_cli("slo", "simulate", DATA / "api.yaml", "--grid", "--resolution", "1m", "--output", "json")
    assert result.exit_code == 0, result
    grid = result.json()["grid"]
    assert len(grid["cells"]) == len(grid["ratios"]) * len(grid["durations_s"]) > 50
    scores = grid["scores"]["any"]
    assert 0 < scores["precision"] <= 1 and 0 < scores["recall"] <= 1
    # an incident at 1000x the budget rate for an hour is significant and detected by the fast page
    cell = next(c for c in grid["cells"] if c["ratio"] == 1.0 and c["duration_s"] == 3600)
    assert cell["significant"] and cell["detected_after_s"]["page-1h"] is not None
    # half the budget rate for a minute spends nothing worth a page
    small = next(c for c in grid["cells"] if c["ratio"] == 0.0005 and c["duration_s"] == 60)
    assert not small["significant"] and all(v is None for v in small["detected_after_s"].values())


@pytest.mark.parametrize("scenario, message", [
    ("meteor:ratio=1", "unknown kind 'meteor'"),
    ("outage:ratio=2", "ratio must be between 0 and 1"),
    ("outage:ratio=lots", "ratio must be a number"),
    ("outage:for=soon", "for must be a duration"),
    ("outage:ratio", "is not KEY=VALUE"),
])
def test_bad_scenarios_are_usage_errors(aetherops_cli, scenario, message):
    result = aetherops_cli("slo", "simulate", DATA / "api.yaml", "--scenario", scenario)
    assert result.exit_code == 2, result
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_no_scenario_and_bad_resolution_are_usage_errors(aetherops_cli):
    assert aetherops_cli("slo", "simulate", DATA / "api.yaml").exit_code == 2
    odd = aetherops_cli("slo", "simulate", DATA / "api.yaml", "--scenario", "outage", "--resolution", "7s")
    assert odd.exit_code == 2 and "multiple" in odd.stderr


# --------------------------------------------------------------------------- parity with promtool


PARITY = [
    "outage:ratio=1.0,for=10m",
    "degradation:ratio=0.025,for=6h",
    "flapping:ratio=1.0,on=1m,off=9m,for=3h",
    "degradation:ratio=0.004,for=12h",
]


def run_promtool(tmp_path: Path, test: dict) -> subprocess.CompletedProcess:
    promtool = require_binary("promtool")
    path = tmp_path / "slo-test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False, width=10**9), encoding="utf-8")
    return subprocess.run([str(promtool), "test", "rules", str(path)], capture_output=True, text=True, cwd=tmp_path, timeout=600)


@pytest.mark.parametrize("text", PARITY)
def test_simulator_firing_and_resolving_times_match_promtool(tmp_path, slo, text):
    sim_slo = simulation_slo(slo)
    (tmp_path / "slo-rules.yml").write_text(render([sim_slo]), encoding="utf-8")
    scenario = parse_scenario(text, sim_slo.period)
    test, simulated = promtool_test(sim_slo, scenario, 60, "slo-rules.yml", warmup=3600, after=8 * 3600)
    checks = test["tests"][0]["promql_expr_test"]
    assert any(s["intervals"] for s in simulated) and len(checks) >= 4
    done = run_promtool(tmp_path, test)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "SUCCESS" in done.stdout


def test_parity_check_fails_when_the_times_are_one_evaluation_off(tmp_path, slo):
    """The referee is real: the same test with every expectation one interval late fails in promtool."""
    sim_slo = simulation_slo(slo)
    (tmp_path / "slo-rules.yml").write_text(render([sim_slo]), encoding="utf-8")
    test, _ = promtool_test(sim_slo, parse_scenario(PARITY[0], sim_slo.period), 60, "slo-rules.yml", warmup=3600, after=3 * 3600)
    shifted = copy.deepcopy(test)
    for check in shifted["tests"][0]["promql_expr_test"]:
        check["eval_time"] = format_duration(parse_duration(check["eval_time"]) + 60)
    done = run_promtool(tmp_path, shifted)
    assert done.returncode != 0 and "FAILED" in done.stdout + done.stderr


def test_a_timeline_too_long_for_memory_is_refused_with_a_hint(tmp_path, aetherops_cli):
    spec = tmp_path / "long.yaml"
    spec.write_text((DATA / "api.yaml").read_text(encoding="utf-8").replace("objective: 99.9", "objective: 99.9\n    period: 3650d"),
                    encoding="utf-8")
    result = aetherops_cli("slo", "simulate", spec, "--scenario", "baseline:ratio=0.0005")
    assert result.exit_code == 2 and "use a coarser --resolution" in result.stderr
    coarse = aetherops_cli("slo", "simulate", spec, "--scenario", "baseline:ratio=0.0005", "--resolution", "1m", "--output", "json")
    assert coarse.exit_code == 0, coarse
    assert coarse.json()["scenarios"][0]["budget_total"] == pytest.approx(0.5)
