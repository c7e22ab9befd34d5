"""A ``promtool test rules`` file for a simulated scenario: Prometheus' own evaluation as the referee.

The scenario's counters become ``input_series`` (one sample per simulator
step), the generated rules are the rule file, and for every tier the test
asserts the simulator's answer around each firing and resolution: not firing
one evaluation before, firing at the simulated time (and the reverse when it
resolves). If promtool agrees, the simulator's times are right to the
evaluation. Used by the tests and by ``benchmarks/slo.py``.
"""

from __future__ import annotations

from typing import Any

from aetherops.durations import format_duration
from aetherops_plugins.burnrate.api import SLO
from aetherops_plugins.burnrate.simulate import Scenario, build_timeline, evaluate, intervals

ERRORS_METRIC = "slo_sim_errors_total"
REQUESTS_METRIC = "slo_sim_requests_total"


def simulation_slo(slo: SLO) -> SLO:
    """``slo`` with its SLI pointed at the simulated counters."""
    from dataclasses import replace

    return replace(slo, error_query=f"sum(rate({ERRORS_METRIC}[{{{{.window}}}}]))", total_query=f"sum(rate({REQUESTS_METRIC}[{{{{.window}}}}]))",
                   error_ratio_query=None, warnings=[])


def _values(cumulative) -> str:
    return " ".join(format(float(v), ".17g") for v in cumulative)


def promtool_test(slo: SLO, scenario: Scenario, step: int, rule_file: str, **timeline_args) -> tuple[dict[str, Any], list[dict]]:
    """The test file (a dict to dump as YAML) and the simulated firing intervals per tier.

    ``slo`` must come from :func:`simulation_slo`; ``step`` is both the
    sample interval and a divisor of the evaluation interval.
    """
    from aetherops_plugins.burnrate.rules import rule_groups

    timeline = build_timeline(slo, scenario, step, **timeline_args)
    ev = evaluate(slo, timeline.errors_cum, timeline.total_cum, step)
    interval = slo.evaluation_interval
    group = rule_groups([slo])["groups"][0]
    alerts = [r for r in group["rules"] if "alert" in r]
    checks: list[dict] = []
    simulated = []
    last = int(ev.ticks[-1])
    for i, (tier, alert) in enumerate(zip(slo.tiers, alerts)):
        runs = intervals(ev.ticks, ev.firing[i])
        simulated.append({"tier": tier.name, "intervals": runs})
        labels = {"__name__": "ALERTS", "alertname": alert["alert"], "alertstate": "firing", **alert["labels"]}
        expr = f'ALERTS{{alertname="{alert["alert"]}",alertstate="firing",tier="{tier.name}"}}'
        for start, end in runs:
            moments = [(start, True), (start - interval, False)]
            if end is not None:
                moments += [(end, False), (end - interval, True)]
            for at, firing in moments:
                if 0 <= at <= last:
                    checks.append({"expr": expr, "eval_time": format_duration(at) if at else "0s",
                                   "exp_samples": [{"labels": _series(labels), "value": 1}] if firing else []})
        if not runs:  # never fires: check the end of the timeline and the moment the incident ends
            for at in sorted({timeline.end, last}):
                checks.append({"expr": expr, "eval_time": format_duration(at), "exp_samples": []})
    test = {
        "rule_files": [rule_file],
        "evaluation_interval": format_duration(interval),
        "tests": [{
            "interval": format_duration(step),
            "input_series": [
                {"series": f"{REQUESTS_METRIC}", "values": _values(timeline.total_cum)},
                {"series": f"{ERRORS_METRIC}", "values": _values(timeline.errors_cum)},
            ],
            "promql_expr_test": checks,
        }],
    }
    return test, simulated


def _series(labels: dict[str, str]) -> str:
    name = labels.get("__name__", "")
    inner = ", ".join(f'{k}="{v}"' for k, v in labels.items() if k != "__name__")
    return f"{name}{{{inner}}}"
