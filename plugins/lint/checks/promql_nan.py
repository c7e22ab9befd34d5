"""`promql/nan`: No division inside an aggregation: aggregate the numerator and the denominator, then divide."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import pos_of, rules_file

#: a denominator built from rate()/increase() is 0 whenever nothing happened: the usual source of NaN
#: aggregations one NaN or Inf input turns into NaN or Inf
_POISONED = frozenset({"sum", "avg", "stddev", "stdvar"})  # (min and max skip NaN)


class NaNInAggregation(RuleCheck):
    id = "promql/nan"
    severity = "warning"
    summary = "No division inside an aggregation: aggregate the numerator and the denominator, then divide."
    why = ("In `sum(errors / requests)` one series with no requests divides by zero: NaN (or +Inf), and the whole sum becomes "
           "NaN, so the alert neither fires nor resolves and the graph has a hole. `sum(errors) / sum(requests)` is also the "
           "correct ratio (a sum of ratios weighs a quiet instance like a busy one).")
    example_bad = rules_file("      - record: job:errors:ratio_rate5m\n        expr: sum by (job) (rate(errors_total[5m]) / "
                             "rate(requests_total[5m]))\n")
    example_good = rules_file("      - record: job:errors:ratio_rate5m\n        expr: sum by (job) (rate(errors_total[5m])) / "
                              "sum by (job) (rate(requests_total[5m]))\n")

    def check_rule(self, rule, project):
        import promql_parser as P

        from aetherops_plugins.lint.checks._pint import has_rate, is_vector, nodes, unwrap

        facts = rule.facts
        if facts is None or not facts.divides_by_rate or not any(a in _POISONED for a in facts.aggs):
            return  # no rate denominator, or no aggregation that NaN poisons
        found = nodes(rule)
        if found is None:
            return
        seen = set()
        for node, parents in found.binaries:
            agg = next((p for p in reversed(parents) if type(p) is P.AggregateExpr), None)  # cheap tests first
            if agg is None or str(node.op) != "/" or str(agg.op) not in _POISONED or id(agg) in seen:
                continue
            if not is_vector(node.rhs) or not has_rate(node.rhs) or _guarded(unwrap(node.rhs), P):
                continue
            seen.add(id(agg))
            line, col = pos_of(rule, "/")
            yield self.finding(rule.target, f"division inside {agg.op}(): one series with a zero denominator makes the "
                               f"whole {agg.op} NaN or Inf", rule=rule, line=line, column=col,
                               hint=f"{agg.op} the numerator and the denominator separately, then divide: "
                                    f"{agg.op}(a) / {agg.op}(b)")


def _guarded(rhs, P) -> bool:
    """A denominator that cannot be 0: clamp_min(x, >0), or a filter such as `x > 0`."""
    if type(rhs) is P.Call and rhs.func.name == "clamp_min":
        return True
    if type(rhs) is P.BinaryExpr and str(rhs.op) in (">", "!=") and not (rhs.modifier and rhs.modifier.return_bool):
        return True
    return False
