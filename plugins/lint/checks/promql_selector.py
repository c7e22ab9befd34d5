"""`promql/selector`: Selectors in rules a `lint.policies` entry matches have the label matchers it requires (pint's promql/selector)."""

from __future__ import annotations

from aetherops_plugins.lint.checks._common import pos_of
from aetherops_plugins.lint.policies import PolicyCheck, example

_POLICY = {"name": "scoped queries", "match": {"path": "*rules.yml"}, "selectors": {"require": ["job"]}}


class SelectorMatchers(PolicyCheck):
    id = "promql/selector"
    severity = "warning"
    summary = ("Every vector selector in rules a `lint.policies` entry matches has a matcher on each label of its "
               "`selectors.require` and none on its `selectors.forbid`.")
    why = ("On a shared Prometheus (or a Thanos/Mimir tenant) `up == 0` without `job=` alerts on every team's targets, and "
           "an unscoped selector can touch millions of series. pint calls this promql/selector.")
    example_context, example_bad = example(_POLICY, "      - alert: Down\n        expr: up == 0\n        for: 5m\n")
    example_good = example(_POLICY, "      - alert: Down\n        expr: up{job=\"api\"} == 0\n        for: 5m\n")[1]

    def check_policy(self, policy, rule, project):
        facts = rule.facts
        if facts is None or not (policy.selector_require or policy.selector_forbid):
            return
        recorded = project.recorded
        for sel in facts.selectors:
            if sel.name and sel.name in recorded:
                continue  # a recording rule's output: its own selectors are checked where it is recorded
            names = {m[0] for m in sel.matchers}
            shown = sel.text()
            for label in policy.selector_require:
                if label not in names:
                    line, col = pos_of(rule, sel.name or "{")
                    yield self.finding(rule.target, f"{shown} has no {label} matcher, which policy {policy.name!r} requires",
                                       rule=rule, line=line, column=col, hint=f'add {label}="..." to the selector')
            for label in policy.selector_forbid:
                if label in names:
                    line, col = pos_of(rule, f"{label}")
                    yield self.finding(rule.target, f"{shown} matches on {label}, which policy {policy.name!r} forbids",
                                       rule=rule, line=line, column=col, hint=f"remove the {label} matcher")
