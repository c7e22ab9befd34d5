"""`alertmanager/undefined-receiver`: Every receiver a route names is defined."""

from __future__ import annotations

from aetherops_plugins.lint.amconfig import routes
from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.checks._common import kl


class UndefinedReceiver(Check):
    id = "alertmanager/undefined-receiver"
    severity = "error"
    kinds = ("alertmanager",)
    summary = "Every receiver a route names is defined."
    why = "Alertmanager refuses the config: the alerts that route would have sent go nowhere while the old config stays loaded."
    example_kind = "alertmanager"
    example_bad = "route:\n  receiver: default\n  routes:\n    - receiver: pager\n      matchers: ['severity=\"critical\"']\nreceivers:\n  - name: default\n"
    example_good = ("route:\n  receiver: default\n  routes:\n    - receiver: pager\n      matchers: ['severity=\"critical\"']\nreceivers:\n"
                    "  - name: default\n  - name: pager\n")

    def check(self, target, project):
        d = target.data
        defined = {str(r.get("name")) for r in d.get("receivers") or [] if isinstance(r, dict)}
        for r, _ in routes(d.get("route")):
            name = r.get("receiver")
            if name and str(name) not in defined:
                yield self.finding(target, f'undefined receiver "{name}" used in route', line=kl(r, "receiver", getattr(r, "line", 1)),
                                   name=str(name), hint=f"define a receiver named {name!r}, or fix the name")
