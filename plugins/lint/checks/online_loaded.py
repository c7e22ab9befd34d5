"""`online/loaded`: Rules on disk are loaded by the server, and the server's groups from these files have no rules missing on disk."""

from __future__ import annotations

from typing import Any

from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.checks._common import RULES


class LoadedRules(Check):
    id = "online/loaded"
    severity = "warning"
    kinds = ("project",)
    online = True
    summary = "Rules on disk are loaded by the server, and the server's groups from these files have no rules missing on disk."
    why = "A rule file that failed to reload (or was never listed in rule_files) leaves the server running old rules while the repository looks fine."
    example_bad = RULES.replace("example", "not-deployed") + "      - record: job:up:sum\n        expr: sum by (job) (up)\n"
    example_good = RULES.replace("example", "deployed") + "      - record: job:up:sum\n        expr: sum by (job) (up)\n"

    def check(self, target, project):
        online = project.online
        if online is None or not project.rules:
            return
        loaded = online.rules()
        loaded_by_group: dict[str, set] = {}
        files_by_group: dict[str, str] = {}
        for g in loaded:
            names = loaded_by_group.setdefault(str(g.get("name")), set())
            files_by_group[str(g.get("name"))] = str(g.get("file") or "")
            for r in g.get("rules") or []:
                names.add((("alert" if r.get("type") == "alerting" else "record"), str(r.get("name"))))
        import os

        disk_groups: dict[str, Any] = {}
        for t in project.of_kind("rules"):
            base = os.path.basename(t.display)
            for group in t.groups:
                disk_groups[group.name] = group
                server = loaded_by_group.get(group.name)
                if server is None:
                    yield self.finding(t, f"group {group.name!r} is not loaded by the server", line=group.line, name=group.name,
                                       hint="add the file to rule_files and reload Prometheus (or fix the error that stops it loading)")
                    continue
                disk = {(r.type, r.name) for r in group.rules}
                for r in group.rules:
                    if (r.type, r.name) not in server:
                        yield self.finding(t, f"rule {r.name!r} is on disk but not loaded by the server", rule=r,
                                           hint="reload Prometheus after changing rules (POST /-/reload)")
                server_file = os.path.basename(files_by_group.get(group.name, ""))
                if server_file and server_file != base:
                    continue
                for rtype, rname in sorted(server - disk):
                    yield self.finding(t, f"the server has {('alert' if rtype == 'alert' else 'recording rule')} {rname!r} in group "
                                       f"{group.name!r}, which is not on disk", line=group.line, name=rname, group=group.name,
                                       hint="someone changed the server's rules by hand, or this file is not the deployed one")
