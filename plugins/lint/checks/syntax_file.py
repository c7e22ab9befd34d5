"""`syntax/file`: The file is valid YAML (or JSON for dashboards) and its top level is a mapping."""

from __future__ import annotations

from aetherops_plugins.lint.api import Check, Finding


class FileSyntax(Check):
    id = "syntax/file"
    severity = "error"
    kinds = ("project",)
    summary = "The file is valid YAML (or JSON for dashboards) and its top level is a mapping."
    why = "Prometheus, Alertmanager and Grafana refuse a file that does not parse; nothing else in it can be checked."
    example_bad = "groups:\n  - name: example\n    rules:\n      - alert: Down\n        expr: up == 0\n       for: 5m\n"
    example_good = "groups:\n  - name: example\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 5m\n"

    def check(self, target, project):
        hints = {"empty": "add content, or stop naming the file", "encoding": "lint reads UTF-8 text files only"}
        for display, line, col, message, kind in getattr(project, "load_errors", ()):
            yield Finding(check=self.id, severity="warning" if kind == "empty" else self.severity, file=display, line=line,
                          column=col, message=message,
                          hint=hints.get(kind, "fix the syntax at this position (indentation, quotes, brackets)"))
        for t in project.targets:
            if t.kind == "dashboard":
                continue
            stack = [t.data]
            while stack:
                n = stack.pop()
                if isinstance(n, dict):
                    for key, line in getattr(n, "dups", ()):
                        yield Finding(check=self.id, severity=self.severity, file=t.display, line=line, column=None,
                                      message=f'mapping key "{key}" already defined', hint="remove or rename the repeated key")
                    stack.extend(v for v in n.values() if isinstance(v, (dict, list)))
                elif isinstance(n, list):
                    stack.extend(v for v in n if isinstance(v, (dict, list)))
