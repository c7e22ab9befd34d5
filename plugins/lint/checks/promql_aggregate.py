"""`promql/aggregate`: Aggregations in rules a `lint.policies` entry matches keep and strip the labels it names (pint's promql/aggregate)."""

from __future__ import annotations

from aetherops_plugins.lint.checks._common import pos_of
from aetherops_plugins.lint.policies import PolicyCheck, example

_POLICY = {"name": "keep job", "match": {"kind": "recording"}, "aggregate": {"keep": ["job"], "strip": ["instance"]}}


class AggregateLabels(PolicyCheck):
    id = "promql/aggregate"
    severity = "warning"
    summary = ("Every aggregation in rules a `lint.policies` entry matches keeps the labels of its `aggregate.keep` and removes "
               "those of its `aggregate.strip`.")
    why = ("Recording rules feed routing and dashboards that expect `job` (the `level` of `level:metric:operation`), and "
           "must drop `instance` to stay cheap: `sum without (pod) (...)` keeps `instance`, `sum(...)` loses `job`. pint "
           "calls this promql/aggregate.")
    example_context, example_bad = example(_POLICY, "      - record: job:requests:rate5m\n        expr: sum(rate(requests_total[5m]))\n")
    example_good = example(_POLICY, "      - record: job:requests:rate5m\n        expr: sum by (job) (rate(requests_total[5m]))\n")[1]

    def check_policy(self, policy, rule, project):
        import promql_parser as P

        from aetherops_plugins.lint.checks._pint import rule_ast, walk

        if not (policy.keep or policy.strip):
            return
        ast = rule_ast(rule)
        if ast is None:
            return
        by = P.AggModifierType.By
        for node, _ in walk(ast):
            if type(node) is not P.AggregateExpr or str(node.op) in ("topk", "bottomk", "limitk", "limit_ratio"):
                continue
            mod = node.modifier
            kind, labels = ("by", set()) if mod is None else ("by" if mod.type == by else "without", set(mod.labels))
            shown = f"{node.op}()" if mod is None else f"{node.op} {kind} ({', '.join(mod.labels)})"
            for label in policy.keep:
                if (label not in labels) if kind == "by" else (label in labels):
                    line, col = pos_of(rule, str(node.op))
                    yield self.finding(rule.target, f"{shown} removes {label!r}, which policy {policy.name!r} keeps", rule=rule,
                                       line=line, column=col,
                                       hint=f"add {label} to by (...)" if kind == "by" else f"remove {label} from without (...)")
            for label in policy.strip:
                if (label in labels) if kind == "by" else (label not in labels):
                    line, col = pos_of(rule, str(node.op))
                    yield self.finding(rule.target, f"{shown} keeps {label!r}, which policy {policy.name!r} strips", rule=rule,
                                       line=line, column=col,
                                       hint=f"remove {label} from by (...)" if kind == "by" else f"add {label} to without (...)")
