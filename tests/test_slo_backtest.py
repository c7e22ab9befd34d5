"""`aetherops slo backtest` and `slo status` against real history: a backfilled Prometheus and VictoriaMetrics."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from aetherops.testing.servers import backfill_openmetrics, free_port, require_binary, start_prometheus

pytestmark = pytest.mark.servers

STEP = 60
HOURS = 50
SPEC = """\
slos:
  - name: checkout
    objective: 99.9
    sli:
      error_query: sum(rate(slo_bt_errors_total{{job="{job}"}}[{{{{.window}}}}]))
      total_query: sum(rate(slo_bt_requests_total{{job="{job}"}}[{{{{.window}}}}]))
    policy:
      - {{budget_below: 90%, action: freeze-features}}
      - {{budget_below: 0%, action: freeze-all}}
"""


class History:
    """HOURS of minutely counters at 10 req/s: a 30-minute full outage 20 hours before the end."""

    def __init__(self, end: int, outage_before_end: int = 20 * 3600, recent_outage: int = 0):
        self.end = end
        self.start = end - HOURS * 3600
        self.outage = (end - outage_before_end, end - outage_before_end + 1800)
        self.recent = (end - recent_outage, end) if recent_outage else None
        self.samples = []
        requests = errors = 0.0
        for ts in range(self.start, end + 1, STEP):
            self.samples.append((ts, requests, errors))
            requests += 600
            if self.outage[0] <= ts < self.outage[1] or (self.recent and ts >= self.recent[0]):
                errors += 600

    def openmetrics(self, job: str) -> str:
        lines = ["# TYPE slo_bt_requests counter"]
        lines += [f'slo_bt_requests_total{{job="{job}"}} {r:g} {ts}' for ts, r, _ in self.samples]
        lines += ["# TYPE slo_bt_errors counter"]
        lines += [f'slo_bt_errors_total{{job="{job}"}} {e:g} {ts}' for ts, _, e in self.samples]
        return "\n".join(lines) + "\n# EOF\n"

    def prometheus_text(self, job: str) -> str:
        out = [f'slo_bt_requests_total{{job="{job}"}} {r:g} {ts * 1000}\n' for ts, r, _ in self.samples]
        out += [f'slo_bt_errors_total{{job="{job}"}} {e:g} {ts * 1000}\n' for ts, _, e in self.samples]
        return "".join(out)


def epoch(iso: str) -> int:
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


@pytest.fixture(scope="module")
def history() -> History:
    return History(end=int(time.time()) // STEP * STEP - 300)


@pytest.fixture(scope="module")
def backfilled_prometheus(tmp_path_factory, history):
    require_binary("prometheus")
    require_binary("promtool")
    workdir = tmp_path_factory.mktemp("prom-history")
    backfill_openmetrics(workdir / "data", history.openmetrics("prom"))
    port = free_port()
    server = start_prometheus(workdir, port=port, config={"scrape_configs": []},
                              extra_args=["--storage.tsdb.retention.time=100y"])
    yield server
    server.stop()


def check_backtest(result: dict, history: History) -> None:
    tiers = {t["tier"]: t for t in result["tiers"]}
    [fast] = tiers["page-1h"]["firings"]
    # the 1h ratio passes 1.44% one minute into the outage; `for: 1m` adds one evaluation
    assert abs(epoch(fast["fired_at"]) - (history.outage[0] + 120)) <= 2 * STEP, (fast, history.outage)
    # the 5m window forgets the outage five minutes after it ends
    assert abs(epoch(fast["reset_at"]) - (history.outage[1] + 300)) <= 2 * STEP
    assert tiers["page-6h"]["fires"] and tiers["ticket-1d"]["fires"]
    # 30 minutes of errors in 48 hours of 10 req/s, against a 0.1% budget
    assert result["budget_spent"] == pytest.approx(1800 / (48 * 3600) / 0.001, rel=0.05)
    assert result["attainment"] == pytest.approx(1 - 1800 / (48 * 3600), abs=1e-4)


def test_backtest_on_a_backfilled_prometheus(tmp_path, aetherops_cli, profile_factory, backfilled_prometheus, history):
    spec = tmp_path / "slo.yaml"
    spec.write_text(SPEC.format(job="prom"), encoding="utf-8")
    profile_factory("hist", prometheus={"url": backfilled_prometheus.url, "timeout": 30})
    result = aetherops_cli("-p", "hist", "slo", "backtest", spec, "--since", "48h", "--step", "1m", "--output", "json")
    assert result.exit_code == 0, result
    check_backtest(result.json(), history)
    text = aetherops_cli("-p", "hist", "slo", "backtest", spec, "--since", "48h")
    assert text.exit_code == 0 and "page-1h" in text.stdout and "FIRED AT" in text.stdout


def test_backtest_on_victoriametrics(tmp_path, aetherops_cli, profile_factory, victoriametrics_server, victoriametrics_import, history):
    victoriametrics_import(history.prometheus_text("vm"))
    spec = tmp_path / "slo.yaml"
    spec.write_text(SPEC.format(job="vm"), encoding="utf-8")
    profile_factory("vm", prometheus={"url": victoriametrics_server.url, "timeout": 30})
    result = aetherops_cli("-p", "vm", "slo", "backtest", spec, "--since", "48h", "--step", "1m", "--output", "json")
    assert result.exit_code == 0, result
    check_backtest(result.json(), history)


def test_status_and_gate_on_victoriametrics(tmp_path, aetherops_cli, profile_factory, victoriametrics_server, victoriametrics_import):
    now = int(time.time()) // STEP * STEP
    # no old outage; errors for the last 2 minutes, up to now: 120 s of 50 h is 2/3 of a 0.1% budget
    recent = History(end=now, outage_before_end=HOURS * 3600 + 7200, recent_outage=120)
    victoriametrics_import(recent.prometheus_text("live"))
    spec = tmp_path / "slo.yaml"
    spec.write_text(SPEC.format(job="live"), encoding="utf-8")
    profile_factory("live", prometheus={"url": victoriametrics_server.url, "timeout": 30})
    result = aetherops_cli("-p", "live", "slo", "status", spec, "--output", "json")
    assert result.exit_code == 0, result
    data = result.json()
    assert "page-1h" in data["firing"] and not data["deploys_allowed"]
    assert data["budget_remaining"] == pytest.approx(1 - 120 / (HOURS * 3600) / 0.001, abs=0.02)
    assert data["attainment"] == pytest.approx(1 - 120 / (HOURS * 3600), abs=2e-5)
    text = aetherops_cli("-p", "live", "slo", "status", spec)
    assert text.exit_code == 0 and "budget remaining" in text.stdout and "freeze-features: APPLIES" in text.stdout, text
    gate = aetherops_cli("-p", "live", "slo", "status", spec, "--gate")
    assert gate.exit_code == 1 and "freeze-features" in gate.stderr and len(gate.stderr.strip().splitlines()) == 1


def test_status_gate_passes_on_a_healthy_slo(tmp_path, aetherops_cli, profile_factory, victoriametrics_server, victoriametrics_import):
    now = int(time.time()) // STEP * STEP
    victoriametrics_import(History(end=now, outage_before_end=HOURS * 3600 + 7200).prometheus_text("calm"))
    spec = tmp_path / "slo.yaml"
    spec.write_text(SPEC.format(job="calm"), encoding="utf-8")
    profile_factory("calm", prometheus={"url": victoriametrics_server.url, "timeout": 30})
    result = aetherops_cli("-p", "calm", "slo", "status", spec, "--gate", "--output", "json")
    assert result.exit_code == 0, result
    data = result.json()
    assert data["deploys_allowed"] is True and data["budget_remaining"] == pytest.approx(1.0) and data["firing"] == []
    assert all(t["long_burn_rate"] == 0 for t in data["tiers"])


def test_backtest_and_status_with_prometheus_down_exit_3(tmp_path, aetherops_cli, profile_factory):
    spec = tmp_path / "slo.yaml"
    spec.write_text(SPEC.format(job="x"), encoding="utf-8")
    profile_factory("down", prometheus={"url": f"http://127.0.0.1:{free_port()}", "timeout": 2, "retries": 1})
    for command in (["backtest", spec, "--since", "1d"], ["status", spec], ["status", spec, "--gate"]):
        result = aetherops_cli("-p", "down", "slo", *command)
        assert result.exit_code == 3, result
        assert "cannot connect" in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr


def test_generated_ratio_queries_answer_the_same_on_prometheus_and_victoriametrics(
        tmp_path, backfilled_prometheus, victoriametrics_server, victoriametrics_import, history):
    """MetricsQL is a superset of PromQL with its own rate(): the queries `slo rules` generates must agree."""
    import httpx

    from aetherops_plugins.burnrate.rules import ratio_expr
    from aetherops_plugins.burnrate.spec import load_file

    victoriametrics_import(history.prometheus_text("vm"))  # idempotent: the same samples again
    (tmp_path / "prom.yaml").write_text(SPEC.format(job="prom"), encoding="utf-8")
    (tmp_path / "vm.yaml").write_text(SPEC.format(job="vm"), encoding="utf-8")
    [on_prom], [on_vm] = load_file(tmp_path / "prom.yaml"), load_file(tmp_path / "vm.yaml")
    at = history.outage[0] + 20 * 60  # 20 minutes into the outage: every window holds some of it
    compared = 0
    for window in on_prom.windows():
        if window > 40 * 3600:
            continue  # longer than the history
        answers = []
        for server, slo in ((backfilled_prometheus, on_prom), (victoriametrics_server, on_vm)):
            body = httpx.get(f"{server.url}/api/v1/query", params={"query": ratio_expr(slo, window), "time": at}, timeout=30).json()
            assert body["status"] == "success", body
            answers.append(float(body["data"]["result"][0]["value"][1]))
        expected = min(1200, window) / window  # 20 minutes of 100% errors at constant traffic
        assert answers[0] == pytest.approx(expected, rel=0.02), (window, answers)
        assert answers[1] == pytest.approx(answers[0], rel=0.02), (window, answers)
        compared += 1
    assert compared >= 5


def test_status_without_traffic_warns_and_does_not_block(tmp_path, aetherops_cli, profile_factory, victoriametrics_server):
    spec = tmp_path / "slo.yaml"
    spec.write_text(SPEC.format(job="nobody-sends-this"), encoding="utf-8")
    profile_factory("quiet", prometheus={"url": victoriametrics_server.url, "timeout": 30})
    result = aetherops_cli("-p", "quiet", "slo", "status", spec, "--gate", "--output", "json")
    assert result.exit_code == 0, result
    assert result.json()["budget_remaining"] is None and result.json()["deploys_allowed"] is True
    assert "no requests over 30d" in result.stderr
