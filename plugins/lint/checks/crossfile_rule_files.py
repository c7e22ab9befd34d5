"""`crossfile/rule-files`: prometheus.yml's `rule_files` globs match files, and every linted rule file is listed by one of them."""

from __future__ import annotations

from aetherops_plugins.lint.api import Check


class RuleFiles(Check):
    id = "crossfile/rule-files"
    severity = "warning"
    kinds = ("project",)
    summary = "prometheus.yml's `rule_files` globs match files, and every linted rule file is listed by one of them."
    why = ("A rule file no `rule_files` glob matches is never loaded: its alerts exist only in the repository. A glob that "
           "matches nothing usually means the files were moved.")
    example_kind = "prometheus"
    example_bad = "global:\n  scrape_interval: 15s\nrule_files:\n  - alerts/*.yml\nscrape_configs:\n  - job_name: api\n"
    example_good = "global:\n  scrape_interval: 15s\nrule_files:\n  - '*.yml'\nscrape_configs:\n  - job_name: api\n"
    example_context = {"rules.yml": "groups:\n  - name: api\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n"}

    def check(self, target, project):
        import fnmatch
        import glob
        import os

        configs = project.prometheus_configs
        if not configs:
            return
        patterns = []
        for t in configs:
            files = t.data.get("rule_files") or []
            lines = getattr(files, "lines", [])
            base = t.path.resolve().parent
            for i, pattern in enumerate(files if isinstance(files, list) else []):
                if not isinstance(pattern, str):
                    continue
                full = pattern if os.path.isabs(pattern) else str(base / pattern)
                patterns.append(os.path.normpath(full))
                if not glob.glob(full):
                    yield self.finding(t, f"rule_files entry {pattern!r} matches no file", line=lines[i] if i < len(lines) else None,
                                       name=pattern, hint="fix the path (relative to prometheus.yml) or remove the entry")
        for rt in project.of_kind("rules"):
            if rt.groups_key_path != ("groups",):
                continue  # PrometheusRule objects are loaded by the operator, not rule_files
            path = os.path.normpath(str(rt.path.resolve()))
            if not any(fnmatch.fnmatch(path, p) for p in patterns):
                yield self.finding(rt, "no rule_files entry of the linted prometheus.yml lists this file: Prometheus never loads it",
                                   line=1, hint="add it (or a glob matching it) to rule_files")
