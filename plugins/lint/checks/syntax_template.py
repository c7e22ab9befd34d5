"""`syntax/template`: Label and annotation templates parse (Go text/template) and use only defined variables and functions."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import kl


class Templates(RuleCheck):
    id = "syntax/template"
    severity = "error"
    rule_type = "alert"  # recording rule labels are not templates
    summary = "Label and annotation templates parse (Go text/template) and use only defined variables and functions."
    why = "Prometheus refuses rules whose templates do not parse; a typo such as `$label` stops the file loading."
    example_bad = ("groups:\n  - name: example\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 5m\n"
                   "        annotations:\n          summary: '{{ $label.instance }} is down'\n")
    example_good = ("groups:\n  - name: example\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 5m\n"
                    "        annotations:\n          summary: '{{ $labels.instance }} is down'\n")

    def check_rule(self, rule, project):
        from aetherops_plugins.lint.templates import check_template

        for section in ("labels", "annotations"):
            values = rule.data.get(section)
            if not isinstance(values, dict):
                continue
            for k, v in values.items():
                if not isinstance(v, str) or ("{{" not in v and "}}" not in v):
                    continue
                err = check_template(v, str(rule.name))  # promtool's own words: __alert_<name>:<line>: ...
                if err:
                    yield self.finding(rule.target, f'{section[:-1]} "{k}": template: {err}', rule=rule,
                                       line=kl(values, k, rule.line),
                                       hint="variables are $labels, $value, $externalLabels, $externalURL; functions as in the Prometheus template reference")
