"""`syntax/promql`: Every `expr` parses as PromQL (reported at the position of the error inside the expression)."""

from __future__ import annotations

import re

from aetherops_plugins.lint.api import RuleCheck


class PromQLSyntax(RuleCheck):
    id = "syntax/promql"
    severity = "error"
    summary = "Every `expr` parses as PromQL (reported at the position of the error inside the expression)."
    why = "A rule whose expression does not parse stops the whole file loading; promtool reports only the rule."
    example_bad = "groups:\n  - name: example\n    rules:\n      - alert: HighErrors\n        expr: sum(rate(errors_total[5m]) > 1\n        for: 5m\n"
    example_good = "groups:\n  - name: example\n    rules:\n      - alert: HighErrors\n        expr: sum(rate(errors_total[5m])) > 1\n        for: 5m\n"

    def check_rule(self, rule, project):
        from aetherops_plugins.lint.promql import PromQLError, TooComplex, analyze

        expr = rule.data.get("expr")
        if not isinstance(expr, str) or not expr.strip():
            return
        try:
            facts = analyze(expr)
        except TooComplex as exc:  # an error, not a warning: an expression nobody can check must not pass
            line, col = rule.expr_position(exc.offset)
            yield self.finding(rule.target, exc.message, rule=rule, line=line, column=col,
                               hint="split the expression (e.g. into recording rules) so it can be checked")
            return
        except PromQLError as exc:
            line, col = rule.expr_position(exc.offset)
            yield self.finding(rule.target, f"could not parse expression: {exc.message}", rule=rule, line=line, column=col,
                               hint="fix the PromQL at this position (check with `promtool check rules`)")
            return
        from aetherops_plugins.lint.promql import AGGREGATIONS_2_42, FUNCTIONS_2_42, PROMETHEUS_VERSION, quoted_label_names

        unknown = [fn for fn in facts.calls if fn not in FUNCTIONS_2_42] + [a for a in facts.aggs if a not in AGGREGATIONS_2_42]
        for fn in dict.fromkeys(unknown):
            m = re.search(rf"\b{re.escape(fn)}\s*[(b]", expr)
            line, col = rule.expr_position(m.start() if m else 0)
            yield self.finding(rule.target, f'unknown function with name "{fn}" in Prometheus {PROMETHEUS_VERSION}', rule=rule,
                               line=line, column=col,
                               hint=f"{fn} exists only in Prometheus releases newer than {PROMETHEUS_VERSION}: use a function "
                                    f"{PROMETHEUS_VERSION} has, or upgrade every Prometheus that loads this file")
        for k in quoted_label_names(expr)[:1]:
            line, col = rule.expr_position(k)
            yield self.finding(rule.target, f"quoted label names are not valid PromQL in Prometheus {PROMETHEUS_VERSION}",
                               rule=rule, line=line, column=col,
                               hint='write label names and metric names unquoted (up{job="a"}); quoted names need '
                                    "Prometheus 3.0 or newer")
