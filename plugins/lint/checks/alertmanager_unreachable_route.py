"""`alertmanager/unreachable-route`: No route comes after a sibling that matches everything without `continue: true`."""

from __future__ import annotations

from aetherops_plugins.lint.amconfig import is_catch_all, routes
from aetherops_plugins.lint.api import Check


class UnreachableRoute(Check):
    id = "alertmanager/unreachable-route"
    severity = "warning"
    kinds = ("alertmanager",)
    summary = "No route comes after a sibling that matches everything without `continue: true`."
    why = "Routes are tried in order and the first match wins: everything after a catch-all is dead configuration."
    example_kind = "alertmanager"
    example_bad = ("route:\n  receiver: default\n  routes:\n    - receiver: default\n    - receiver: pager\n"
                   "      matchers: ['severity=\"critical\"']\nreceivers:\n  - name: default\n  - name: pager\n")
    example_good = ("route:\n  receiver: default\n  routes:\n    - receiver: pager\n      matchers: ['severity=\"critical\"']\n"
                    "    - receiver: default\nreceivers:\n  - name: default\n  - name: pager\n")

    def check(self, target, project):
        for r, _ in routes(target.data.get("route")):
            children = [c for c in (r.get("routes") or []) if isinstance(c, dict)]
            lines = getattr(r.get("routes"), "lines", [])
            for i, c in enumerate(children):
                if is_catch_all(c) and not c.get("continue") and i + 1 < len(children):
                    for j in range(i + 1, len(children)):
                        yield self.finding(target, f"route {j + 1} can never match: route {i + 1} (line {lines[i] if i < len(lines) else '?'}) "
                                           "matches every alert and has no `continue: true`",
                                           line=lines[j] if j < len(lines) else None, name=str(children[j].get("receiver") or ""),
                                           hint="move the catch-all route last, give it matchers, or set continue: true")
                    break
