"""Prometheus configuration (prometheus.yml) checks."""

from __future__ import annotations

from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.loader import parse_duration

TOP = {"global", "scrape_configs", "scrape_config_files", "rule_files", "alerting", "remote_write", "remote_read", "storage",
       "tracing", "runtime", "otlp"}
GLOBAL = {"scrape_interval", "scrape_timeout", "evaluation_interval", "external_labels", "query_log_file", "body_size_limit",
          "sample_limit", "label_limit", "label_name_length_limit", "label_value_length_limit", "target_limit",
          "keep_dropped_targets", "scrape_protocols", "rule_query_offset", "scrape_failure_log_file", "metric_name_validation_scheme",
          "metric_name_escaping_scheme", "always_scrape_classic_histograms", "convert_classic_histograms_to_nhcb",
          "scrape_native_histograms", "extra_scrape_metrics"}


def _kl(d, key, default=None):
    kl = getattr(d, "key_line", None)
    return kl(key, default) if kl else default


class PrometheusSchema(Check):
    id = "syntax/prometheus"
    severity = "error"
    kinds = ("prometheus",)
    summary = "prometheus.yml has known top-level and global fields, valid durations and unique scrape job names."
    why = "Prometheus refuses to start, or to reload, with an invalid configuration; two jobs with one name is refused too."
    example_kind = "prometheus"
    example_bad = "global:\n  scrape_interval: 15 s\nscrape_configs:\n  - job_name: api\n  - job_name: api\n"
    example_good = "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: api\n  - job_name: web\n"

    def check(self, target, project):
        d = target.data
        f = self.finding
        for k in d:
            if k not in TOP:
                yield f(target, f"field {k} not found in the Prometheus config", line=_kl(d, k), hint="remove it or fix its spelling")
        g = d.get("global")
        if isinstance(g, dict):
            for k in g:
                if k not in GLOBAL:
                    yield f(target, f"field {k} not found in global", line=_kl(g, k))
            for k in ("scrape_interval", "scrape_timeout", "evaluation_interval"):
                if k in g and parse_duration(g.get(k)) is None:
                    yield f(target, f"invalid duration {k}: {g.get(k)!r}", line=_kl(g, k), hint="use a duration such as 15s or 1m")
        seen = {}
        scs = d.get("scrape_configs") or []
        lines = getattr(scs, "lines", [])
        for i, sc in enumerate(scs if isinstance(scs, list) else []):
            if not isinstance(sc, dict):
                continue
            line = lines[i] if i < len(lines) else None
            name = sc.get("job_name")
            if not name:
                yield f(target, "scrape config has no job_name", line=line)
            elif name in seen:
                yield f(target, f'found multiple scrape configs with job name "{name}"', line=line, name=str(name),
                        hint=f"first at line {seen[name]}; job names must be unique")
            else:
                seen[name] = line
            for k in ("scrape_interval", "scrape_timeout"):
                if k in sc and parse_duration(sc.get(k)) is None:
                    yield f(target, f"invalid duration {k}: {sc.get(k)!r}", line=_kl(sc, k, line), name=str(name or ""))


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
