"""`online/vector-matching`: Both sides of a binary operation between vectors share label sets in the live data (so it can match)."""

from __future__ import annotations

from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.checks._common import RULES
from aetherops_plugins.lint.checks._pint import SCALAR_CALLS, is_vector


class VectorMatching(Check):
    id = "online/vector-matching"
    severity = "warning"
    kinds = ("rules",)
    online = True
    summary = "Both sides of a binary operation between vectors share label sets in the live data (so it can match)."
    why = ("`a / b` only returns series whose labels (or `on(...)` labels) match on both sides: a label one side lacks "
           "(`instance` vs `pod`, `job` renamed) makes the result silently empty, and the alert can never fire.")
    example_bad = RULES + "      - alert: Mismatch\n        expr: up / on(instance) sum by (job) (up) > 2\n        for: 5m\n"
    example_good = RULES + "      - alert: Matching\n        expr: up / on(job) group_left sum by (job) (up) > 2\n        for: 5m\n"

    def check(self, target, project):
        import promql_parser as P

        online = project.online
        if online is None:
            return
        work = []
        for rule in target.rules:
            facts = rule.facts
            if not facts or not any(op not in ("or",) for op, _ in facts.binops):
                continue
            try:
                ast = facts.ast
            except ValueError:
                continue
            stack = [ast]
            while stack:
                n = stack.pop()
                t = type(n)
                if t is P.BinaryExpr:
                    stack += [n.lhs, n.rhs]
                    if str(n.op) != "or" and not _scalar(n.lhs) and not _scalar(n.rhs):
                        work.append((rule, n))
                elif t in (P.ParenExpr, P.AggregateExpr, P.UnaryExpr, P.SubqueryExpr):
                    stack.append(n.expr)
                elif t is P.Call:
                    stack += [a for a in n.args if isinstance(a, P.Expr)]

        def probe(item):
            rule, n = item
            try:
                left, right = online.query(str(n.lhs)), online.query(str(n.rhs))
            except Exception:  # noqa: BLE001 - a side the server refuses: online/series reports missing series
                return None
            if not left or not right:
                return None
            mod = n.modifier
            matching = mod.matching if mod else None

            def key(series):
                labels = {k: v for k, v in (series.get("metric") or {}).items() if k != "__name__"}
                if matching is not None and matching.type == P.LabelModifierType.Include:
                    return tuple(labels.get(x, "") for x in sorted(matching.labels))
                drop = set(matching.labels) if matching is not None else set()
                return tuple(sorted((k, v) for k, v in labels.items() if k not in drop))

            lk = {key(s) for s in left}
            rk = {key(s) for s in right}
            if lk & rk:
                return None
            return rule, n, sorted(lk, key=str)[0], sorted(rk, key=str)[0]

        for res in online.map(probe, work):
            if res is None:
                continue
            rule, n, lsample, rsample = res
            op = str(n.op)
            k = rule.expr.find(f" {op} ")
            line, col = rule.expr_position(k + 1) if k >= 0 else (rule.key_line("expr"), None)
            yield self.finding(rule.target, f"the two sides of `{op}` share no label set on the server (left e.g. {_fmt(lsample)}, "
                               f"right e.g. {_fmt(rsample)}): the result is always empty", rule=rule, line=line, column=col,
                               hint="match on labels both sides have: on(...)/ignoring(...), or aggregate both sides by the same labels")


#: sides left alone: scalars, and vector(s) (no labels: it matches only a side without labels, by design)
_LABELLESS = SCALAR_CALLS | {"vector"}


def _scalar(n) -> bool:
    return not is_vector(n, _LABELLESS)


def _fmt(key) -> str:
    if key and isinstance(key[0], tuple):
        return "{" + ", ".join(f'{k}="{v}"' for k, v in key) + "}"
    return "(" + ", ".join(f'"{v}"' for v in key) + ")"
