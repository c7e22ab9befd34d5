"""Hostile input for `aetherops slo`: whatever the spec or scenario, a documented exit code, one error line, no traceback."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aetherops.testing.cli import run_cli

ALLOWED = {0, 2, 4}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=30), st.sampled_from(["30d", "1h", "5m", "0s", "-1d", "99.9", "{{.window}}", "25%", "page", "ticket"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)
queries = st.one_of(values, st.sampled_from([
    "sum(rate(errors_total[{{.window}}]))", "sum(rate(requests_total[{{.window}}]))", "sum(rate(x[5m]))", "sum((", "{{.window}}",
    'rate(a{b="{{.window}}"}[{{.window}}])']))
tier = st.fixed_dictionaries({}, optional={"severity": st.one_of(values, st.sampled_from(["page", "ticket"])),
                                           "burn_rate": st.one_of(values, st.floats(0, 100)),
                                           "long_window": st.one_of(values, st.sampled_from(["1h", "6h", "40d"])),
                                           "short_window": st.one_of(values, st.sampled_from(["5m", "2h"])),
                                           "for": values})
slo = st.fixed_dictionaries({}, optional={
    "name": st.one_of(values, st.sampled_from(["api", "a-b.c", "x y"])),
    "objective": st.one_of(values, st.floats(-1, 101), st.sampled_from([99.9, 90, 100, 0])),
    "period": st.one_of(values, st.sampled_from(["30d", "7d", "1h", "28d"])),
    "sli": st.one_of(values, st.fixed_dictionaries({}, optional={"error_query": queries, "total_query": queries, "error_ratio_query": queries})),
    "labels": values, "alerting": values, "tiers": st.one_of(values, st.lists(tier, max_size=3)),
    "policy": st.one_of(values, st.lists(st.fixed_dictionaries({}, optional={"budget_below": values, "action": values, "gate": values}),
                                         max_size=2)),
    "evaluation_interval": st.one_of(values, st.sampled_from(["1m", "30s", "7s"])),
    "bogus": values,
})
documents = st.one_of(
    st.fixed_dictionaries({"slos": st.one_of(values, st.lists(slo, max_size=2))}),
    st.fixed_dictionaries({"version": st.just("prometheus/v1"), "service": values, "slos": st.one_of(values, st.lists(values, max_size=2))}),
    st.fixed_dictionaries({"apiVersion": st.just("openslo/v1"), "kind": st.sampled_from(["SLO", "SLI", "Service"]),
                           "metadata": values, "spec": values}),
    values,
)


def check(result) -> None:
    assert result.exit_code in ALLOWED, result
    assert "Traceback" not in result.stderr, result
    if result.exit_code:
        errors = [line for line in result.stderr.splitlines() if line.startswith("aetherops: error:")]
        assert len(errors) == 1 and result.stderr.strip().splitlines()[-1] == errors[0], result


@SETTINGS
@given(doc=documents)
def test_any_structured_spec(tmp_path, aetherops_env, doc):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    check(run_cli(["slo", "rules", str(path)]))


@SETTINGS
@given(text=st.text(max_size=300))
def test_any_text_as_spec(tmp_path, aetherops_env, text):
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    check(run_cli(["slo", "rules", str(path)]))


VALID = """\
slos:
  - name: api
    objective: 99.9
    sli:
      error_query: sum(rate(errors_total[{{.window}}]))
      total_query: sum(rate(requests_total[{{.window}}]))
"""


@SETTINGS
@given(scenario=st.one_of(st.text(max_size=60), st.builds(
    lambda kind, pairs: kind + ":" + ",".join(f"{k}={v}" for k, v in pairs),
    st.sampled_from(["outage", "degradation", "flapping", "baseline", "meteor"]),
    st.lists(st.tuples(st.sampled_from(["ratio", "for", "on", "off", "traffic", "baseline", "x"]),
                       st.one_of(st.sampled_from(["1", "0.5", "10m", "1h", "-1", "nan", "1e9", "50%", "0s"]), st.text(max_size=6))),
             max_size=4))),
       resolution=st.sampled_from(["1m", "30s", "7s", "0s", "soon"]))
def test_any_scenario(tmp_path, aetherops_env, scenario, resolution):
    path = tmp_path / "spec.yaml"
    path.write_text(VALID, encoding="utf-8")
    check(run_cli(["slo", "simulate", str(path), "--scenario", scenario, "--resolution", resolution]))
