"""`promql/counter`: `rate`/`increase` only on counters, and counters (`_total`) only through `rate`/`increase`."""

from __future__ import annotations

import re

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import pos_of, rules_file

_GAUGE_SUFFIX = re.compile(r"(_bytes|_ratio|_percent|_temperature_celsius|_celsius|_info|_up|_size|_gauge|_in_progress|_inflight|_last_seen|_timestamp_seconds|_free|_available|_limit|_used)$")


_COUNTER_SUFFIX = ("_total", "_count", "_sum", "_bucket")


#: aggregations and functions that pass a counter's raw value through (``sum(x_total) > 5`` compares raw values too)
_KEEPS_VALUE_AGGS = frozenset({"sum", "min", "max", "avg", "stddev", "stdvar", "quantile", "topk", "bottomk"})
_KEEPS_VALUE_FUNCS = frozenset({"abs", "ceil", "floor", "round", "clamp", "clamp_min", "clamp_max", "label_replace", "label_join",
                                "sort", "sort_desc"})


def _bare_counter(n) -> str | None:
    """The `_total` selector whose raw value ``n`` is (through parentheses, value-keeping aggregations/functions and
    arithmetic with numbers), or None."""
    import promql_parser as P

    while True:
        t = type(n)
        if t is P.VectorSelector:
            name = n.name or ""
            return name if name.endswith("_total") and ":" not in name else None
        if t is P.ParenExpr or t is P.UnaryExpr:
            n = n.expr
        elif t is P.AggregateExpr and str(n.op) in _KEEPS_VALUE_AGGS:
            n = n.expr
        elif t is P.Call and n.func.name in _KEEPS_VALUE_FUNCS and n.args:
            n = n.args[0]
        elif t is P.BinaryExpr and str(n.op) in ("+", "-", "*", "/") and (type(n.rhs) is P.NumberLiteral or type(n.lhs) is P.NumberLiteral):
            n = n.lhs if type(n.rhs) is P.NumberLiteral else n.rhs
        else:
            return None


def compared_counters(facts) -> list[tuple[str, str]]:
    """(counter name, comparison operator) for each `_total` counter compared by its raw value (``x_total > 100``)."""
    from aetherops_plugins.lint.promql import COMPARISONS

    if not any(op in COMPARISONS for op, _ in facts.binops):
        return []
    if not any(s.name and s.name.endswith("_total") and s.range is None and s.func is None for s in facts.selectors):
        return []
    import promql_parser as P

    out: list[tuple[str, str]] = []
    stack = [facts.ast]
    while stack:
        n = stack.pop()
        t = type(n)
        if t is P.BinaryExpr:
            op = str(n.op)
            if op in COMPARISONS:
                for side in (n.lhs, n.rhs):
                    name = _bare_counter(side)
                    if name:
                        out.append((name, op))
            stack += [n.lhs, n.rhs]
        elif t in (P.ParenExpr, P.AggregateExpr, P.UnaryExpr, P.SubqueryExpr):
            stack.append(n.expr)
        elif t is P.Call:
            stack += [a for a in n.args if isinstance(a, P.Expr)]
    return out


class CounterGauge(RuleCheck):
    id = "promql/counter"
    severity = "warning"
    summary = ("`rate`/`increase` only on counters, and counters (`_total`) only through `rate`/`increase`: never a range "
               "vector over a counter without them, nor a counter compared by its raw value (`http_requests_total > 100`).")
    why = ("rate() of a gauge is meaningless (it treats every drop as a counter reset); max_over_time() or a raw comparison of a "
           "`_total` counter measures uptime, not traffic, and jumps at every restart.")
    example_bad = rules_file("      - alert: MemoryGrowing\n        expr: rate(process_resident_memory_bytes[5m]) > 0\n        for: 10m\n")
    example_good = rules_file("      - alert: MemoryGrowing\n        expr: deriv(process_resident_memory_bytes[5m]) > 0\n        for: 10m\n")

    def check_rule(self, rule, project):
        facts = rule.facts
        if not facts:
            return
        recorded = project.recorded
        for name, op in dict.fromkeys(compared_counters(facts)):
            if name in recorded:
                continue
            line, col = pos_of(rule, name)
            yield self.finding(rule.target, f"the counter {name!r} is compared by its raw value (`{op}`): it counts since the "
                               "process started, so the condition depends on uptime and flips at every restart", rule=rule,
                               line=line, column=col, hint=f"compare its rate or increase: rate({name}[5m]) {op} ... or "
                               f"increase({name}[1h]) {op} ...")
        for sel in facts.selectors:
            name = sel.name or ""
            if not name or name in recorded or ":" in name:
                continue
            if sel.func in ("rate", "irate", "increase") and _GAUGE_SUFFIX.search(name) and not name.endswith(_COUNTER_SUFFIX):
                line, col = pos_of(rule, name)
                yield self.finding(rule.target, f"{sel.func}() on {name!r}, which looks like a gauge", rule=rule, line=line, column=col,
                                   hint="use deriv() or delta() for gauges; rate() is for counters (_total)")
            elif name.endswith("_total") and sel.range is not None and sel.func not in ("rate", "irate", "increase", "resets",
                                                                                        "absent_over_time", "present_over_time",
                                                                                        "count_over_time", "changes", "timestamp",
                                                                                        "last_over_time"):
                line, col = pos_of(rule, name)
                yield self.finding(rule.target, f"range vector over the counter {name!r} without rate()/increase()"
                                   + (f" (in {sel.func}())" if sel.func else ""), rule=rule, line=line, column=col,
                                   hint=f"wrap it: rate({name}[...]) or increase({name}[...])")
