"""`alertmanager/unused-receiver`: Every receiver is used by some route."""

from __future__ import annotations

from aetherops_plugins.lint.amconfig import routes
from aetherops_plugins.lint.api import Check


class UnusedReceiver(Check):
    id = "alertmanager/unused-receiver"
    severity = "warning"
    kinds = ("alertmanager",)
    summary = "Every receiver is used by some route."
    why = "An unused receiver usually means a route was deleted or misspelt: the team it was for gets no alerts."
    example_kind = "alertmanager"
    example_bad = "route:\n  receiver: default\nreceivers:\n  - name: default\n  - name: db-team\n"
    example_good = ("route:\n  receiver: default\n  routes:\n    - receiver: db-team\n      matchers: ['team=\"db\"']\nreceivers:\n"
                    "  - name: default\n  - name: db-team\n")

    def check(self, target, project):
        d = target.data
        used = {str(r.get("receiver")) for r, _ in routes(d.get("route")) if r.get("receiver")}
        receivers = d.get("receivers") or []
        lines = getattr(receivers, "lines", [])
        for i, r in enumerate(receivers):
            if isinstance(r, dict) and r.get("name") and str(r["name"]) not in used:
                yield self.finding(target, f'receiver "{r["name"]}" is not used by any route', line=lines[i] if i < len(lines) else None,
                                   name=str(r["name"]), hint="route some alerts to it, or delete it")
