"""`online/features` (pint: promql/features): Functions and syntax that need a feature flag are used only when the server has it (online)."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import pos_of, rules_file

EXPERIMENTAL = "promql-experimental-functions"
#: experimental functions and aggregations: the Prometheus release that added them (behind EXPERIMENTAL)
SINCE = {"sort_by_label": (2, 49, 0), "sort_by_label_desc": (2, 49, 0), "mad_over_time": (2, 50, 0), "limitk": (2, 54, 0),
         "limit_ratio": (2, 54, 0), "double_exponential_smoothing": (3, 0, 0), "info": (3, 0, 0)}
#: syntax that needed a flag before Prometheus 2.33 made it the default
BEFORE_2_33 = {"@ modifier": "promql-at-modifier", "negative offset": "promql-negative-offset"}


class Features(RuleCheck):
    id = "online/features"
    severity = "warning"
    online = True
    summary = "Functions and syntax that need a feature flag are used only when the server has it (online: its version and --enable-feature)."
    why = ("Experimental PromQL functions (`sort_by_label`, `limitk`, `mad_over_time`...) exist only with "
           "`--enable-feature=promql-experimental-functions`: elsewhere the rule file fails to load and every rule in it "
           "stops being evaluated. (pint calls this check promql/features.)")
    example_bad = rules_file("      - record: instance:up:sorted\n        expr: sort_by_label(up, \"instance\")\n")
    example_good = rules_file("      - record: instance:up:sorted\n        expr: sort(up)\n")

    def check_rule(self, rule, project):
        import promql_parser as P

        from aetherops_plugins.lint.checks._pint import rule_ast, server, walk

        online = project.online
        ast = rule_ast(rule) if online is not None else None
        if ast is None:
            return
        info = server(online)
        version, features = info["version"], info["features"]
        needs: dict[str, str] = {}
        for node, _ in walk(ast):
            t = type(node)
            if t is P.Call and node.func.experimental or t is P.AggregateExpr and str(node.op) in SINCE:
                needs.setdefault(node.func.name if t is P.Call else str(node.op), EXPERIMENTAL)
            elif t is P.VectorSelector and version is not None and version < (2, 33, 0):
                if node.at is not None:
                    needs.setdefault("@ modifier", BEFORE_2_33["@ modifier"])
                if node.offset is not None and node.offset.total_seconds() < 0:
                    needs.setdefault("negative offset", BEFORE_2_33["negative offset"])
        shown = ".".join(map(str, version)) if version else "unknown"
        for what, flag in needs.items():
            if flag in features and (version is None or version >= SINCE.get(what, (0, 0, 0))):
                continue
            since = SINCE.get(what)
            line, col = pos_of(rule, what.split(" ")[0])
            if since and version is not None and version < since:
                msg = (f"{what} needs Prometheus {'.'.join(map(str, since))} or newer with --enable-feature={flag}; "
                       f"the server runs {shown}")
                hint = f"upgrade the server and enable {flag}, or rewrite the rule without {what}"
            else:
                msg = f"{what} needs --enable-feature={flag}, which the server (Prometheus {shown}) does not run with"
                hint = f"start Prometheus with --enable-feature={flag}, or rewrite the rule without {what}"
            yield self.finding(rule.target, msg, rule=rule, line=line, column=col, hint=hint)
