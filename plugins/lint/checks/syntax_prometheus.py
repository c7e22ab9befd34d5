"""`syntax/prometheus`: prometheus.yml has known top-level and global fields, valid durations and unique scrape job names."""

from __future__ import annotations

import re

from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.checks._common import kl
from aetherops_plugins.lint.loader import parse_duration

TOP = {"global", "scrape_configs", "scrape_config_files", "rule_files", "alerting", "remote_write", "remote_read", "storage",
       "tracing", "runtime", "otlp"}


GLOBAL = {"scrape_interval", "scrape_timeout", "evaluation_interval", "external_labels", "query_log_file", "body_size_limit",
          "sample_limit", "label_limit", "label_name_length_limit", "label_value_length_limit", "target_limit",
          "keep_dropped_targets", "scrape_protocols", "rule_query_offset", "scrape_failure_log_file", "metric_name_validation_scheme",
          "metric_name_escaping_scheme", "always_scrape_classic_histograms", "convert_classic_histograms_to_nhcb",
          "scrape_native_histograms", "extra_scrape_metrics"}


#: scrape_config fields of Prometheus 2.42 (plus every ``*_sd_configs``: which ones exist depends on the build)
SCRAPE = {"job_name", "honor_labels", "honor_timestamps", "params", "scrape_interval", "scrape_timeout", "metrics_path", "scheme",
          "body_size_limit", "sample_limit", "target_limit", "label_limit", "label_name_length_limit", "label_value_length_limit",
          "relabel_configs", "metric_relabel_configs", "static_configs", "authorization", "basic_auth", "bearer_token",
          "bearer_token_file", "oauth2", "proxy_url", "no_proxy", "proxy_from_environment", "proxy_connect_header", "tls_config",
          "follow_redirects", "enable_http2"}


STATIC = {"targets", "labels"}


RELABEL = {"source_labels", "separator", "regex", "modulus", "target_label", "replacement", "action"}


ACTIONS = {"replace", "keep", "drop", "keepequal", "dropequal", "hashmod", "labelmap", "labeldrop", "labelkeep", "lowercase",
           "uppercase"}


_HOSTPORT = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+|\$\{?\w+\}?)(?::\d+)?$")


_RE2_UNSUPPORTED = re.compile(r"\(\?<?[=!]|\\[1-9]|\(\?P?=|\(\?>|\\Z|\(\?\(")


def _shape():
    """The declared shape of a Prometheus 2.42 config, with the message promtool gives for each null entry."""
    from aetherops_plugins.lint.shapes import STR, List, Map

    strings = List(STR, "[]string")
    relabel = Map("relabel.Config", {"source_labels": List(STR, "model.LabelNames")})

    def relabels(null: str) -> List:
        return List(relabel, "[]*relabel.Config", null=null)

    group = Map("targetgroup.Group", {"targets": strings, "labels": Map("model.LabelSet")})
    discovery = {"static_configs": List(group, "[]*targetgroup.Group", null="empty or null section in static_configs"),
                 "*_sd_configs": List(Map(), "discovery.Configs", null="empty or null section in {key}")}
    scrape = Map("config.ScrapeConfig", {"relabel_configs": relabels("empty or null target relabeling rule in scrape config"),
                                         "metric_relabel_configs": relabels("empty or null metric relabeling rule in scrape config"),
                                         "params": Map("url.Values"), **discovery})
    alertmanager = Map("config.AlertmanagerConfig", {"relabel_configs": relabels("empty or null Alertmanager target relabeling rule"),
                                                     **discovery})
    return Map(fields={
        "global": Map(fields={"external_labels": Map("map[string]string")}),
        "scrape_configs": List(scrape, "[]*config.ScrapeConfig", null="empty or null scrape config section"),
        "rule_files": List(STR, "[]string", null='"" does not point to an existing file (a null rule_files entry)'),
        "remote_write": List(Map(fields={"write_relabel_configs": relabels("empty or null relabeling rule in remote write config")}),
                             "[]*config.RemoteWriteConfig", null="empty or null remote write config section"),
        "remote_read": List(Map(), "[]*config.RemoteReadConfig", null="empty or null remote read config section"),
        "alerting": Map(fields={"alert_relabel_configs": relabels("empty or null alert relabeling rule"),
                                "alertmanagers": List(alertmanager, "config.AlertmanagerConfigs",
                                                      null="empty or null Alertmanager config section (promtool 2.42 crashes on it)")}),
    })


_SHAPE = _shape()


def regex_error(value) -> str | None:
    """Why Go's RE2 (what Prometheus uses, anchored) refuses ``value``; Python's ``re`` stands in for the syntax."""
    text = str(value)
    m = _RE2_UNSUPPORTED.search(text)
    if m:
        return f"error parsing regexp: invalid or unsupported Perl syntax: `{m.group(0)}`"
    try:
        re.compile(f"^(?:{text})$")
    except re.error as exc:
        return f"error parsing regexp: {exc}"
    return None


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
        from aetherops_plugins.lint.shapes import shape_errors

        d = target.data
        f = self.finding
        decode = list(shape_errors(d, _SHAPE))
        for line, message in decode:
            yield f(target, message, line=line, hint="remove the empty entry, or write the value as the Prometheus 2.42 "
                    "configuration reference shows (a list is `- item` lines)")
        if decode:
            return  # promtool stops at the first of these: what follows would be read wrongly
        for k in d:
            if k not in TOP:
                yield f(target, f"field {k} not found in the Prometheus config", line=kl(d, k), hint="remove it or fix its spelling")
        g = d.get("global")
        if isinstance(g, dict):
            for k in g:
                if k not in GLOBAL:
                    yield f(target, f"field {k} not found in global", line=kl(g, k))
            for k in ("scrape_interval", "scrape_timeout", "evaluation_interval"):
                if k in g and parse_duration(g.get(k)) is None:
                    yield f(target, f"invalid duration {k}: {g.get(k)!r}", line=kl(g, k), hint="use a duration such as 15s or 1m")
            gi, gt = parse_duration(g.get("scrape_interval", "1m")), parse_duration(g.get("scrape_timeout", "10s"))
            if gi and gt and gt > gi and "scrape_timeout" in g:
                yield f(target, "global scrape timeout greater than scrape interval", line=kl(g, "scrape_timeout"))
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
                    yield f(target, f"invalid duration {k}: {sc.get(k)!r}", line=kl(sc, k, line), name=str(name or ""))
            yield from self.scrape_config(target, sc, line, str(name or ""), g if isinstance(g, dict) else {})

    def scrape_config(self, target, sc, line, name, g):
        f = self.finding
        for k in sc:
            if k not in SCRAPE and not str(k).endswith("_sd_configs"):
                yield f(target, f"field {k} not found in type config.ScrapeConfig", line=kl(sc, k, line), name=name,
                        hint="remove it or fix its spelling (Prometheus 2.42 scrape_config reference)")
        interval = parse_duration(sc.get("scrape_interval")) if "scrape_interval" in sc else None
        if interval is None:
            interval = parse_duration(g.get("scrape_interval")) if "scrape_interval" in g else 60.0
        timeout = parse_duration(sc.get("scrape_timeout")) if "scrape_timeout" in sc else None
        if interval and timeout and timeout > interval:
            yield f(target, f'scrape timeout greater than scrape interval for scrape config with job name "{name}"',
                    line=kl(sc, "scrape_timeout", line), name=name, hint="make scrape_timeout at most scrape_interval")
        for key in ("relabel_configs", "metric_relabel_configs"):
            rcs = sc.get(key)
            for rc in rcs if isinstance(rcs, list) else []:
                rl = kl(sc, key, line)
                if not isinstance(rc, dict):
                    yield f(target, f"{key} entries must be mappings", line=rl, name=name)
                    continue
                rl = getattr(rc, "line", rl) or rl
                for k in rc:
                    if k not in RELABEL:
                        yield f(target, f"field {k} not found in type relabel.Config", line=kl(rc, k, rl), name=name)
                action = str(rc.get("action", "replace")).lower()
                if action not in ACTIONS:
                    yield f(target, f'unknown relabel action "{rc.get("action")}"', line=kl(rc, "action", rl), name=name,
                            hint=f"one of {', '.join(sorted(ACTIONS))}")
                if "regex" in rc and rc.get("regex") is not None:
                    err = regex_error(rc.get("regex"))
                    if err:
                        yield f(target, err, line=kl(rc, "regex", rl), name=name, hint="Prometheus regexes are RE2 (no lookaround, "
                                "no backreferences)")
                if action == "hashmod" and not rc.get("modulus"):
                    yield f(target, "relabel configuration for hashmod requires non-zero modulus", line=rl, name=name)
        stcs = sc.get("static_configs")
        for gi, st in enumerate(stcs if isinstance(stcs, list) else []):
            sl = getattr(st, "line", None) or kl(sc, "static_configs", line)
            if not isinstance(st, dict):
                continue
            targets = st.get("targets")
            for ti, tg in enumerate(targets if isinstance(targets, list) else []):
                if tg is None or str(tg).strip() == "":
                    yield f(target, f"instance {ti} in group {gi}: no address", line=kl(st, "targets", sl), name=name,
                            hint="remove the empty target")
            for k in st:
                if k not in STATIC:
                    yield f(target, f"field {k} not found in static_configs", line=kl(st, k, sl), name=name,
                            hint="static_configs entries have targets and labels")
            # like Prometheus (ScrapeConfig.UnmarshalYAML): URLs in targets are refused only when no relabel
            # config could rewrite __address__ (the blackbox_exporter pattern puts probe URLs there)
            for t in [] if sc.get("relabel_configs") else st.get("targets") or []:
                if not _HOSTPORT.match(str(t)):
                    yield f(target, f'"{t}" is not a valid hostname', line=kl(st, "targets", sl), name=name,
                            hint="targets are host:port; put the scheme in `scheme:` and the path in `metrics_path:`")
