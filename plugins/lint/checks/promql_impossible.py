"""`promql/impossible`: No grouping or join on a label removed earlier in the expression, and no comparison that can never be true."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import pos_of, rules_file


class Impossible(RuleCheck):
    id = "promql/impossible"
    severity = "warning"
    summary = "No grouping or join on a label removed earlier in the expression, and no comparison that can never be true."
    why = ("`sum by (instance) (sum by (job) (x))` groups on a label the inner sum already removed: one empty group, not one per "
           "instance. `on(instance)` against a side without `instance` never matches. `count(x) == 0` and `absent(x) == 0` can "
           "never be true (count() of nothing is no series, not 0): the alert is dead code and never fires.")
    example_bad = rules_file("      - alert: NoTargets\n        expr: count(up{job=\"api\"}) == 0\n        for: 5m\n")
    example_good = rules_file("      - alert: NoTargets\n        expr: absent(up{job=\"api\"})\n        for: 5m\n")

    def check_rule(self, rule, project):
        import promql_parser as P

        from aetherops_plugins.lint.checks._pint import lacks, matching, nodes, unwrap

        facts = rule.facts
        if facts is None:
            return
        expr = rule.expr
        dropping = "absent" in expr or "vector(" in expr or "label_" in expr or "histogram_" in expr
        nested = len(facts.aggs) > 1 or dropping
        joins = "on" in expr and ("on(" in expr or "on (" in expr or "group_" in expr)
        counts = ("count" in expr or "absent" in expr) and ("==" in expr or "<" in expr)
        if not (nested or joins or counts):
            return  # no label an inner part could have removed, no join, no count/absent comparison
        found = nodes(rule)
        if found is None:
            return
        # only an aggregation over another aggregation (or a label-dropping function) can miss a label
        outer = {id(p) for _, ps in found.aggs for p in ps if type(p) is P.AggregateExpr}
        for node, _ in found.aggs if nested else ():
            if node.modifier is not None and node.modifier.type == P.AggModifierType.By and (dropping or id(node) in outer):
                for label in node.modifier.labels:
                    why = lacks(node.expr, label)
                    if why:
                        line, col = pos_of(rule, f"({label}") if f"({label}" in rule.expr else pos_of(rule, label)
                        yield self.finding(rule.target, f"{node.op} by ({label}): the aggregated expression has no {label!r} "
                                           f"label ({why})", rule=rule, line=line, column=col,
                                           hint=f"keep {label!r} in the inner aggregation, or drop it from by (...)")
        for node, _ in found.binaries if joins or counts else ():
            yield from self._binary(rule, node, P, lacks, matching, unwrap)

    def _binary(self, rule, node, P, lacks, matching, unwrap):
        kind, labels, group, card = matching(node)
        if kind == "on":
            for label in labels:
                left, right = lacks(node.lhs, label), lacks(node.rhs, label)
                if bool(left) != bool(right):
                    side, why = ("left", left) if left else ("right", right)
                    line, col = pos_of(rule, "on(") if "on(" in rule.expr else pos_of(rule, "on (")
                    yield self.finding(rule.target, f"on({label}): the {side} side has no {label!r} label ({why}): no series "
                                       "ever matches", rule=rule, line=line, column=col,
                                       hint=f"keep {label!r} on both sides, or match on labels both keep")
        if group:
            one = node.rhs if card == P.VectorMatchCardinality.ManyToOne else node.lhs
            for label in group:
                why = lacks(one, label)
                if why:
                    line, col = pos_of(rule, "group_")
                    yield self.finding(rule.target, f"group_{'left' if one is node.rhs else 'right'}({label}) copies a label the "
                                       f"'one' side does not have ({why}): it is always empty", rule=rule, line=line, column=col,
                                       hint=f"keep {label!r} in the other side's aggregation")
        op = str(node.op)
        if op not in ("==", "<", "<=") or (node.modifier is not None and node.modifier.return_bool):
            return
        lhs, rhs = unwrap(node.lhs), unwrap(node.rhs)
        if type(rhs) is not P.NumberLiteral:
            return
        v = rhs.val
        never = (op == "==" and v == 0) or (op == "<" and v <= 1) or (op == "<=" and v < 1)
        if type(lhs) is P.AggregateExpr and str(lhs.op) in ("count", "count_values") and never:
            line, col = pos_of(rule, str(lhs.op))
            yield self.finding(rule.target, f"{lhs.op}(...) {op} {rhs}: count of no series is no result, not 0, so this is never "
                               "true", rule=rule, line=line, column=col,
                               hint="alert on absent(...) (or absent_over_time) to catch series that are missing")
        elif type(lhs) is P.Call and lhs.func.name in ("absent", "absent_over_time") and (
                (op == "==" and v != 1) or (op == "<" and v <= 1) or (op == "<=" and v < 1)):
            line, col = pos_of(rule, lhs.func.name)
            yield self.finding(rule.target, f"{lhs.func.name}(...) {op} {rhs}: {lhs.func.name}() returns 1 or nothing, so this is "
                               "never true", rule=rule, line=line, column=col, hint=f"use {lhs.func.name}(...) alone")
