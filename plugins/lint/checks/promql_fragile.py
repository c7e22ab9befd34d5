"""`promql/fragile`: Alerts do not depend on which series topk/bottomk pick, and binary operations between aggregates
match on labels both sides are sure to share."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import pos_of, rules_file


class Fragile(RuleCheck):
    id = "promql/fragile"
    severity = "warning"
    summary = ("Alerts do not use topk/bottomk/limitk, and math between aggregates neither relies on `without()` on both sides "
               "nor joins aggregates of different jobs on a `job` label they cannot share.")
    why = ("topk() picks different series from one evaluation to the next, so the alert resolves and fires again (flaps). "
           "`sum without (instance) (a) / sum without (instance) (b)` matches only while both metrics carry exactly the same "
           "other labels: one new label on one metric silently empties the result. Aggregates of `job=\"a\"` and `job=\"b\"` "
           "that both keep `job` never match at all.")
    example_bad = rules_file("      - alert: TopConsumer\n        expr: topk(3, sum by (pod) (rate(cpu_seconds_total[5m]))) > 2\n"
                             "        for: 10m\n")
    example_good = rules_file("      - alert: HighConsumer\n        expr: sum by (pod) (rate(cpu_seconds_total[5m])) > 2\n"
                              "        for: 10m\n")

    def check_rule(self, rule, project):
        import promql_parser as P

        from aetherops_plugins.lint.checks._pint import ARITHMETIC, COMPARISON, matching, nodes, selector_jobs, unwrap

        facts = rule.facts
        if facts is None:
            return
        aggs = facts.aggs
        picks = rule.type == "alert" and any(a in _PICKERS for a in aggs)
        expr = rule.expr
        if not picks and (len(aggs) < 2 or ("without" not in expr and 'job="' not in expr)):
            return  # no topk in an alert; no two aggregations using without() or pinning jobs
        found = nodes(rule)
        if found is None:
            return
        picked = set()
        for node, _ in found.aggs if picks else ():
            if str(node.op) in _PICKERS and not _dedupe(node, P):
                op = str(node.op)
                if op not in picked:
                    picked.add(op)
                    line, col = pos_of(rule, op)
                    yield self.finding(rule.target, f"{op}() in an alert: the series it picks change between evaluations, so "
                                       "the alert flaps", rule=rule, line=line, column=col,
                                       hint=f"alert on a threshold over every series and keep {op}() for dashboards")
        for node, _ in found.binaries:
            if type(node) is not P.BinaryExpr or str(node.op) not in ARITHMETIC | COMPARISON:
                continue
            lhs, rhs = unwrap(node.lhs), unwrap(node.rhs)
            if type(lhs) is not P.AggregateExpr or type(rhs) is not P.AggregateExpr:
                continue
            kind, labels, _, _ = matching(node)
            if kind is not None:
                continue
            lm, rm = lhs.modifier, rhs.modifier
            without = P.AggModifierType.Without
            if lm is not None and rm is not None and lm.type == without and rm.type == without and _names(lhs) != _names(rhs):
                line, col = pos_of(rule, "without")
                yield self.finding(rule.target, f"`{node.op}` between two `without()` aggregations: it matches only while "
                                   "both sides keep exactly the same other labels", rule=rule, line=line, column=col,
                                   hint="aggregate with by (...) on both sides, or match with on(...)", severity="info")
                continue
            if 'job="' not in rule.expr:
                continue
            lj, rj = selector_jobs(lhs), selector_jobs(rhs)
            if lj and rj and not (lj & rj) and _keeps(lhs, "job") and _keeps(rhs, "job"):
                line, col = pos_of(rule, str(node.op), len(str(lhs)) // 2)
                yield self.finding(rule.target, f"`{node.op}` between aggregates of job {'/'.join(sorted(lj))} and job "
                                   f"{'/'.join(sorted(rj))} that both keep `job`: no series ever matches", rule=rule,
                                   line=line, column=col, hint="add ignoring(job) (or on(...) the labels they share), or aggregate job away")


_PICKERS = frozenset({"topk", "bottomk", "limitk", "limit_ratio"})


def _dedupe(agg, P) -> bool:
    """``topk by (...) (1, x)``: one series per group, the usual way to drop duplicates (kube-prometheus does it)."""
    mod = agg.modifier
    return mod is not None and mod.type == P.AggModifierType.By and type(agg.param) is P.NumberLiteral and agg.param.val == 1


def _names(n) -> set:
    import promql_parser as P

    from aetherops_plugins.lint.checks._pint import walk

    return {x.name for x, _ in walk(n) if type(x) is P.VectorSelector}


def _keeps(agg, label: str) -> bool:
    import promql_parser as P

    mod = agg.modifier
    if mod is None:
        return False
    return (label in mod.labels) if mod.type == P.AggModifierType.By else (label not in mod.labels)
