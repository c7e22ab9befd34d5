"""Checks on recording and alerting rules (offline)."""

from __future__ import annotations

import re
from functools import lru_cache

from aetherops_plugins.lint.api import Check, RuleCheck
from aetherops_plugins.lint.loader import format_duration

_RULES = "groups:\n  - name: example\n    rules:\n"


def _alert(body: str) -> str:
    return _RULES + body


def _kl(mapping, key, default):
    kl = getattr(mapping, "key_line", None)
    return kl(key, default) if kl else default


def _pos_of(rule, needle: str, start: int = 0):
    k = rule.expr.find(needle, start)
    if k == -1:
        return rule.key_line("expr"), None
    return rule.expr_position(k)


class Duplicates(Check):
    id = "rules/duplicate"
    severity = "warning"
    kinds = ("project",)
    summary = "No two rules with the same name and the same labels, in one group or across files."
    why = ("Two recording rules writing the same series overwrite each other's samples; two identical alerts page twice. "
           "(Rules with the same name but different labels are allowed.)")
    example_bad = _alert("      - record: job:up:sum\n        expr: sum by (job) (up)\n"
                         "      - record: job:up:sum\n        expr: sum by (job) (up{env=\"prod\"})\n")
    example_good = _alert("      - record: job:up:sum\n        expr: sum by (job) (up)\n"
                          "      - record: job:up:sum\n        expr: sum by (job) (up{env=\"prod\"})\n        labels:\n          env: prod\n")

    def check(self, target, project):
        seen: dict = {}
        for rule in project.rules:
            if not rule.type or not rule.name:
                continue
            labels = rule.labels
            key = (rule.type, rule.name, tuple(sorted((str(k), str(v)) for k, v in labels.items())) if labels else ())
            others = seen.get(key)
            if others is None:
                seen[key] = [rule]
                continue
            first = next((o for o in others if not _disjoint(o, rule)), None)
            if first is None:  # same name and labels, but the expressions select different series (code=~"2.." vs "5..")
                others.append(rule)
                where = f"line {others[0].line}" if others[0].target.path == rule.target.path else \
                    f"{others[0].target.display}:{others[0].line}"
                yield self.finding(rule.target, f"{'recording rule' if rule.type == 'record' else 'alert'} {rule.name!r} is "
                                   f"also defined at {where} with the same labels, but the expressions select different "
                                   "series (promtool --lint reports it as a duplicate)", rule=rule, severity="info",
                                   hint="fine when the series never overlap; a label telling them apart makes it explicit")
                continue
            where = f"line {first.line}" if first.target.path == rule.target.path else f"{first.target.display}:{first.line}"
            yield self.finding(rule.target, f"duplicate {'recording rule' if rule.type == 'record' else 'alert'} "
                               f"{rule.name!r} with the same labels (first at {where})", rule=rule,
                               hint="remove one, or tell them apart with a label")


def _positive_matchers(rule) -> dict:
    """label -> [(op, value)] of the = and =~ matchers of every selector of the rule's expression."""
    facts = rule.facts
    out: dict = {}
    if facts is None:
        return out
    for sel in facts.selectors:
        for label, op, value in sel.matchers:
            if op in ("=", "=~") and label != "__name__":
                out.setdefault(label, []).append((op, value))
    return out


def _literal_prefix(op: str, value: str) -> str:
    if op == "=":
        return value
    m = re.match(r"[A-Za-z0-9_\-/ ]*", value)
    prefix = m.group(0) if m else ""
    rest = value[len(prefix):]
    if rest[:1] in ("*", "?", "{") and prefix:  # `ab*`: only `a` is certain
        prefix = prefix[:-1]
    if "|" in value:
        return ""
    return prefix


def _values_disjoint(a: tuple, b: tuple) -> bool:
    (oa, va), (ob, vb) = a, b
    if oa == "=" and ob == "=":
        return va != vb
    if oa == "=" or ob == "=":
        lit, (rop, rx) = (va, b) if oa == "=" else (vb, a)
        try:
            return re.fullmatch(rx, lit) is None
        except re.error:
            return False
    pa, pb = _literal_prefix(oa, va), _literal_prefix(ob, vb)
    n = min(len(pa), len(pb))
    return n > 0 and pa[:n] != pb[:n]


def _disjoint(r1, r2) -> bool:
    """The two rules' expressions select different series: one label matched to values no series can have in both."""
    m1, m2 = _positive_matchers(r1), _positive_matchers(r2)
    for label in m1.keys() & m2.keys():
        if all(_values_disjoint(a, b) for a in m1[label] for b in m2[label]):
            return True
    return False


_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_RECORD_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z_][a-zA-Z0-9_:]*:[a-zA-Z0-9_]+$")


class RecordName(RuleCheck):
    id = "rules/record-name"
    severity = "warning"
    rule_type = "record"
    summary = "Recording rule names follow `level:metric:operations` (and `_total` is dropped under rate)."
    why = ("The convention tells the reader what a series is (aggregation level, metric, operations) without opening the "
           "rule file, and keeps recorded series apart from scraped ones.")
    example_bad = _alert("      - record: http_requests_rate\n        expr: sum by (job) (rate(http_requests_total[5m]))\n")
    example_good = _alert("      - record: job:http_requests:rate5m\n        expr: sum by (job) (rate(http_requests_total[5m]))\n")

    def check_rule(self, rule, project):
        name = rule.name
        if not name or not re.match(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$", name):
            return
        if not _RECORD_NAME.match(name):
            yield self.finding(rule.target, f"recording rule name {name!r} does not follow level:metric:operations", rule=rule,
                               hint="e.g. job:http_requests:rate5m (level = the `by` labels, metric, then the operations, newest first)")
            return
        metric = name.split(":")[1]
        facts = rule.facts
        ops = name.split(":", 2)[2]
        named = {int(n) * _UNIT[u] for n, u in re.findall(r"(?:^|_)(?:i?rate|increase)(\d+)([smhdwy])(?=_|$)", ops)}
        if facts and named:
            used = {int(s.range) for s in facts.selectors if s.func in ("rate", "irate", "increase") and s.range}
            if used and not used & named:
                yield self.finding(rule.target, f"{name!r} says {'/'.join(format_duration(x) for x in sorted(named))} but the expression "
                                   f"uses [{'/'.join(format_duration(x) for x in sorted(used))}]", rule=rule,
                                   hint="keep the window in the name and in the expression the same")
        if facts and metric.endswith("_total") and any(c in ("rate", "irate", "increase") for c in facts.calls):
            yield self.finding(rule.target, f"{name!r}: drop `_total` from the metric part when recording a rate", rule=rule,
                               hint=f"e.g. {name.replace(metric, metric[:-6])}")


class AlertFor(RuleCheck):
    id = "alerts/for"
    severity = "warning"
    rule_type = "alert"
    summary = "Alerts have a `for` of at least the group's evaluation interval."
    why = ("Without `for`, one bad scrape or a restart (cold start: counters reset, rates spike) pages someone; a `for` "
           "shorter than the evaluation interval has no effect.")
    example_bad = _alert("      - alert: HighLatency\n        expr: job:latency_seconds:p99 > 1\n")
    example_good = _alert("      - alert: HighLatency\n        expr: job:latency_seconds:p99 > 1\n        for: 10m\n")

    def check_rule(self, rule, project):
        if rule.facts and any(c in ("absent", "absent_over_time") for c in rule.facts.calls):
            return  # alerts/absent-for reports those
        interval = rule.group.interval or project.evaluation_interval
        if rule.data.get("for") is None:  # absent, or `for: null` (promtool accepts it as no `for`)
            yield self.finding(rule.target, "alert has no `for`: it fires on the first evaluation (one bad scrape, a restart)",
                               rule=rule, hint=f"add `for:` of a few evaluation intervals, e.g. for: {format_duration(max(interval * 5, 300))}")
            return
        d = rule.for_seconds
        if d is not None and 0 < d < interval:
            yield self.finding(rule.target, f"`for: {rule.data.get('for')}` is shorter than the evaluation interval "
                               f"({format_duration(interval)}), so it has no effect", rule=rule, line=rule.key_line("for"),
                               hint=f"use at least for: {format_duration(interval)}")
        elif d == 0:
            yield self.finding(rule.target, "`for: 0` fires on the first evaluation", rule=rule, line=rule.key_line("for"),
                               hint="use a `for` of a few evaluation intervals")


class Severity(RuleCheck):
    id = "alerts/severity"
    severity = "warning"
    rule_type = "alert"
    summary = "Alerts carry a `severity` label with one of the allowed values (profile `lint.allowed_severities`)."
    why = "Alertmanager routes on severity; an alert without one, or with a misspelt one, lands on the default receiver or nowhere."
    example_bad = _alert("      - alert: Down\n        expr: up == 0\n        for: 5m\n        labels:\n          severity: urgent\n")
    example_good = _alert("      - alert: Down\n        expr: up == 0\n        for: 5m\n        labels:\n          severity: critical\n")

    def check_rule(self, rule, project):
        allowed = [str(s) for s in (project.settings.get("allowed_severities") or ["critical", "warning", "info"])]
        value = rule.labels.get("severity")
        if value is None:
            yield self.finding(rule.target, "alert has no severity label", rule=rule,
                               hint=f"add labels: {{severity: {allowed[0]}}} (one of {', '.join(allowed)})")
        elif "{{" not in str(value) and str(value) not in allowed:
            yield self.finding(rule.target, f"severity {value!r} is not one of {', '.join(allowed)}", rule=rule,
                               line=_kl(rule.labels, "severity", rule.line),
                               hint="use an allowed severity (profile lint.allowed_severities)")


class Annotations(RuleCheck):
    id = "alerts/annotations"
    severity = "warning"
    rule_type = "alert"
    summary = "Alerts have `summary`, `description` and `runbook_url` annotations (profile `lint.required_annotations`)."
    why = "The person paged at 3 a.m. reads the summary, needs the description to judge impact and the runbook to act."
    example_bad = _alert("      - alert: Down\n        expr: up == 0\n        for: 5m\n        annotations:\n          summary: Target down\n")
    example_good = _alert("      - alert: Down\n        expr: up == 0\n        for: 5m\n        annotations:\n          summary: Target down\n"
                          "          description: '{{ $labels.instance }} of {{ $labels.job }} is down.'\n"
                          "          runbook_url: https://runbooks.example.com/Down\n")

    def check_rule(self, rule, project):
        required = project.settings.get("required_annotations") or ["summary", "description", "runbook_url"]
        ann = rule.annotations
        missing = [a for a in required if not str(ann.get(a) or "").strip()]
        if missing:
            yield self.finding(rule.target, f"missing annotation{'s' if len(missing) > 1 else ''}: {', '.join(missing)}", rule=rule,
                               hint="add " + ", ".join(f"{m}:" for m in missing) + " under annotations")


class TemplateLabels(RuleCheck):
    id = "alerts/template-labels"
    severity = "warning"
    rule_type = "alert"
    summary = "Templates use only labels the alert's expression can produce."
    why = "After `sum by (job)` there is no `instance` label: `{{ $labels.instance }}` renders empty in the page."
    example_bad = _alert("      - alert: HighErrors\n        expr: sum by (job) (rate(errors_total[5m])) > 1\n        for: 5m\n"
                         "        annotations:\n          summary: 'Errors on {{ $labels.instance }}'\n")
    example_good = _alert("      - alert: HighErrors\n        expr: sum by (job, instance) (rate(errors_total[5m])) > 1\n        for: 5m\n"
                          "        annotations:\n          summary: 'Errors on {{ $labels.instance }}'\n")

    def check_rule(self, rule, project):
        from aetherops_plugins.lint.templates import label_references

        facts = rule.facts
        if facts is None:
            return
        static = {str(k) for k in rule.labels}
        for section in ("annotations", "labels"):
            values = rule.data.get(section)
            if not isinstance(values, dict):
                continue
            for k, v in values.items():
                if not isinstance(v, str):
                    continue
                refs = label_references(v)
                if not refs:
                    continue
                known, excluded = facts.labels
                for label in dict.fromkeys(refs):
                    if label in static:
                        continue
                    if (known is not None and label not in known) or label in excluded:
                        yield self.finding(rule.target, f'{section[:-1]} "{k}" uses $labels.{label} but the expression '
                                           f"cannot produce a {label!r} label", rule=rule, line=_kl(values, k, rule.line),
                                           hint=f"keep {label!r} in the aggregation (by ({label}, ...)) or drop it from the template")


@lru_cache(maxsize=256)
def _rate_range_text(func: str, seconds: float, scrape: float) -> tuple[str, str]:
    return (f"{func}() over [{format_duration(seconds)}] is less than 4x the scrape interval ({format_duration(scrape)})",
            f"use at least [{format_duration(4 * scrape)}]")


class RateRange(RuleCheck):
    id = "promql/rate-range"
    severity = "warning"
    summary = "`rate`/`irate`/`increase` ranges are at least 4x the scrape interval."
    why = "With fewer than ~4 samples in the window, one missed scrape leaves rate() with nothing: the series vanishes and alerts flap."
    example_bad = _alert("      - record: job:http_requests:rate1m\n        expr: sum by (job) (rate(http_requests_total[1m]))\n")
    example_good = _alert("      - record: job:http_requests:rate5m\n        expr: sum by (job) (rate(http_requests_total[5m]))\n")

    def check_rule(self, rule, project):
        facts = rule.facts
        if not facts:
            return
        scrape = project.scrape_interval
        expr = None
        seen: dict = {}  # name -> where its last occurrence was found (selectors come in text order)
        for sel in facts.selectors:
            if sel.func in ("rate", "irate", "increase") and sel.range is not None and sel.range < 4 * scrape:
                if expr is None:
                    expr = rule.expr
                name = sel.name or ""
                k = expr.find(name, seen.get(name, -1) + 1) if name else -1
                if k == -1:
                    k = expr.find(name) if name else -1
                seen[name] = k
                line, col = rule.expr_position(k) if k != -1 else (rule.key_line("expr"), None)
                message, hint = _rate_range_text(sel.func, sel.range, scrape)
                yield self.finding(rule.target, message, rule=rule, line=line, column=col, hint=hint)


_GAUGE_SUFFIX = re.compile(r"(_bytes|_ratio|_percent|_temperature_celsius|_celsius|_info|_up|_size|_gauge|_in_progress|_inflight|_last_seen|_timestamp_seconds|_free|_available|_limit|_used)$")
_COUNTER_SUFFIX = ("_total", "_count", "_sum", "_bucket")


class CounterGauge(RuleCheck):
    id = "promql/counter"
    severity = "warning"
    summary = "`rate`/`increase` only on counters, and counters (`_total`) only through `rate`/`increase`."
    why = ("rate() of a gauge is meaningless (it treats every drop as a counter reset); max_over_time() or a raw comparison of a "
           "`_total` counter measures uptime, not traffic, and jumps at every restart.")
    example_bad = _alert("      - alert: MemoryGrowing\n        expr: rate(process_resident_memory_bytes[5m]) > 0\n        for: 10m\n")
    example_good = _alert("      - alert: MemoryGrowing\n        expr: deriv(process_resident_memory_bytes[5m]) > 0\n        for: 10m\n")

    def check_rule(self, rule, project):
        facts = rule.facts
        if not facts:
            return
        recorded = project.recorded
        for sel in facts.selectors:
            name = sel.name or ""
            if not name or name in recorded or ":" in name:
                continue
            if sel.func in ("rate", "irate", "increase") and _GAUGE_SUFFIX.search(name) and not name.endswith(_COUNTER_SUFFIX):
                line, col = _pos_of(rule, name)
                yield self.finding(rule.target, f"{sel.func}() on {name!r}, which looks like a gauge", rule=rule, line=line, column=col,
                                   hint="use deriv() or delta() for gauges; rate() is for counters (_total)")
            elif name.endswith("_total") and sel.range is not None and sel.func not in ("rate", "irate", "increase", "resets",
                                                                                        "absent_over_time", "present_over_time",
                                                                                        "count_over_time", "changes", "timestamp",
                                                                                        "last_over_time"):
                line, col = _pos_of(rule, name)
                yield self.finding(rule.target, f"range vector over the counter {name!r} without rate()/increase()"
                                   + (f" (in {sel.func}())" if sel.func else ""), rule=rule, line=line, column=col,
                                   hint=f"wrap it: rate({name}[...]) or increase({name}[...])")


_HEARTBEAT = re.compile(r"watchdog|deadmans?switch|heartbeat|always.?firing", re.I)


class Comparison(RuleCheck):
    id = "alerts/comparison"
    severity = "warning"
    rule_type = "alert"
    summary = "Alert expressions have a condition (a comparison, `absent()`, `and`/`unless`)."
    why = "An alert fires for every series its expression returns: without a comparison it fires all the time."
    example_bad = _alert("      - alert: ErrorRate\n        expr: sum by (job) (rate(errors_total[5m]))\n        for: 5m\n")
    example_good = _alert("      - alert: ErrorRate\n        expr: sum by (job) (rate(errors_total[5m])) > 1\n        for: 5m\n")

    def check_rule(self, rule, project):
        facts = rule.facts
        if not facts:
            return
        if not facts.filters:
            if not facts.selectors:  # a constant (vector(1)): a deliberate heartbeat such as Watchdog/DeadMansSwitch
                if _HEARTBEAT.search(rule.name) or str(rule.labels.get("severity", "")).lower() == "none":
                    return
                yield self.finding(rule.target, "alert expression is a constant, so it always fires (fine for a heartbeat "
                                   "alert such as Watchdog)", rule=rule, line=rule.key_line("expr"), severity="info",
                                   hint="name it as a heartbeat (Watchdog, DeadMansSwitch) or give it `severity: none`")
                return
            bool_only = any(b for op, b in facts.binops)
            yield self.finding(rule.target, "alert expression has no condition, so it fires for every series it returns"
                               + (" (a `bool` comparison returns 0/1 instead of filtering)" if bool_only else ""), rule=rule,
                               line=rule.key_line("expr"), hint="add a comparison such as `> 0.05`")


class TrafficGuard(RuleCheck):
    id = "alerts/traffic-guard"
    severity = "warning"
    rule_type = "alert"
    summary = "Alerts that divide by a rate have a traffic guard (`and sum(rate(x[w])) > 0`)."
    why = ("An error ratio is NaN or wildly noisy when there is no traffic (cold start, night-time, a new deployment): "
           "with 1 request and 1 error the ratio is 100% and someone is paged.")
    example_bad = _alert("      - alert: HighErrorRatio\n        expr: |\n          sum(rate(errors_total[5m])) / sum(rate(requests_total[5m])) > 0.05\n"
                         "        for: 10m\n")
    example_good = _alert("      - alert: HighErrorRatio\n        expr: |\n          sum(rate(errors_total[5m])) / sum(rate(requests_total[5m])) > 0.05\n"
                          "          and sum(rate(requests_total[5m])) > 1\n        for: 10m\n")

    def check_rule(self, rule, project):
        facts = rule.facts
        if facts and facts.divides_by_rate and not facts.guarded:
            line, col = _pos_of(rule, "/")
            yield self.finding(rule.target, "division by a rate without a traffic guard: the ratio fires on little or no traffic",
                               rule=rule, line=line, column=col, hint="append `and sum(rate(<denominator>[5m])) > <minimum rate>`")


class AbsentFor(RuleCheck):
    id = "alerts/absent-for"
    severity = "warning"
    rule_type = "alert"
    summary = "Alerts on `absent()` have a `for`."
    why = "absent() is true during every restart, rule reload and scrape failure: without `for` it pages on each deploy."
    example_bad = _alert("      - alert: ExporterMissing\n        expr: absent(up{job=\"node\"})\n")
    example_good = _alert("      - alert: ExporterMissing\n        expr: absent(up{job=\"node\"})\n        for: 10m\n")

    def check_rule(self, rule, project):
        facts = rule.facts
        if facts and any(c in ("absent", "absent_over_time") for c in facts.calls) and not rule.for_seconds:
            yield self.finding(rule.target, "absent() alert without `for`: it fires on every restart and reload", rule=rule,
                               hint="add for: 10m (or more than a restart takes)")


_REGEX_META = re.compile(r"[.*+?()\[\]{}|^$\\]")


class RegexLiteral(RuleCheck):
    id = "promql/regex-literal"
    severity = "info"
    summary = "Regex matchers (`=~`, `!~`) contain a regex; plain strings use `=` and `!=`."
    why = "`job=~\"api\"` is an (anchored) equality written as a regex: slower, and it suggests a pattern that is not there."
    example_bad = _alert("      - record: job:up:sum\n        expr: sum by (job) (up{job=~\"api\"})\n")
    example_good = _alert("      - record: job:up:sum\n        expr: sum by (job) (up{job=\"api\"})\n")

    def check_rule(self, rule, project):
        facts = rule.facts
        if not facts:
            return
        for sel in facts.selectors:
            for label, op, value in sel.matchers:
                if op in ("=~", "!~") and value and not _REGEX_META.search(value):
                    line, col = _pos_of(rule, f"{label}{op}")
                    plain = "=" if op == "=~" else "!="
                    yield self.finding(rule.target, f'{label}{op}"{value}" is a plain string', rule=rule, line=line, column=col,
                                       hint=f'use {label}{plain}"{value}"')


#: time() turned into a time of day or week: `% 86400`, `/ 3600 % 24`, `% 604800` (an age `/ 3600` is fine)
_TIME_ARITH = re.compile(r"%\s*\(?\s*(?:86400|43200|604800|3600|24|7|168)\b")


class TimeOfDay(RuleCheck):
    id = "alerts/time-of-day"
    severity = "warning"
    summary = "No business-hours guards built on `hour()`, `day_of_week()` or `time()` arithmetic."
    why = ("PromQL time functions are in UTC: an `hour() >= 9 < 17` guard is off by the time-zone offset, and shifts by an "
           "hour twice a year with daylight saving. Use Alertmanager time intervals (time_intervals/mute_time_intervals with a location).")
    example_bad = _alert("      - alert: QueueStuck\n        expr: queue_depth > 100 and on() hour() >= 9 < 17\n        for: 15m\n")
    example_good = _alert("      - alert: QueueStuck\n        expr: queue_depth > 100\n        for: 15m\n        labels:\n"
                          "          business_hours: \"true\"\n")

    def check_rule(self, rule, project):
        from aetherops_plugins.lint.promql import TIME_FUNCS

        facts = rule.facts
        if not facts:
            return
        used = [c for c in facts.calls if c in TIME_FUNCS]
        if not used and "time" in facts.calls and _TIME_ARITH.search(rule.expr):
            used = ["time() %"]  # vector(time()) % 86400 > 32400, time() / 3600 % 24...
        if used:
            line, col = _pos_of(rule, "time(" if used[0] == "time() %" else used[0])
            yield self.finding(rule.target, f"time-of-day guard with {used[0]}(): PromQL time is UTC, so the window is off by the "
                               "time-zone offset and moves with daylight saving", rule=rule, line=line, column=col,
                               hint="route on time in Alertmanager: time_intervals with a `location:` and mute_time_intervals/active_time_intervals")


class VolatileLabels(RuleCheck):
    id = "alerts/volatile-labels"
    severity = "error"
    rule_type = "alert"
    summary = "Alert labels do not use `$value` (or anything that changes on every evaluation)."
    why = "Labels identify an alert: a label that changes each evaluation makes a new alert every time, resolving the old one."
    example_bad = _alert("      - alert: HighLoad\n        expr: node_load1 > 10\n        for: 5m\n        labels:\n"
                         "          load: '{{ $value }}'\n")
    example_good = _alert("      - alert: HighLoad\n        expr: node_load1 > 10\n        for: 5m\n        annotations:\n"
                          "          description: 'load is {{ $value }}'\n")

    def check_rule(self, rule, project):
        from aetherops_plugins.lint.templates import uses_value

        labels = rule.data.get("labels")
        if not isinstance(labels, dict):
            return
        for k, v in labels.items():
            if isinstance(v, str) and uses_value(v):
                yield self.finding(rule.target, f"label {k!r} uses $value: it changes on every evaluation", rule=rule,
                                   line=_kl(labels, k, rule.line), hint="move it to an annotation")


_CAMEL = re.compile(r"^[A-Z][A-Za-z0-9]*$")


class AlertName(RuleCheck):
    id = "alerts/name"
    severity = "info"
    rule_type = "alert"
    summary = "Alert names are CamelCase and at most 40 characters (the mixin convention kube-prometheus lints for)."
    why = "Alert names are read in pages, silences and inhibit rules: one convention makes them searchable and easy to match."
    example_bad = _alert("      - alert: high_error_rate_on_the_public_api_gateway_pods\n        expr: job:errors:ratio_rate5m > 0.05\n        for: 5m\n")
    example_good = _alert("      - alert: ApiGatewayHighErrorRate\n        expr: job:errors:ratio_rate5m > 0.05\n        for: 5m\n")

    def check_rule(self, rule, project):
        name = rule.name
        if not name:
            return
        problems = []
        if not _CAMEL.match(name):
            problems.append("is not CamelCase")
        if len(name) > 40:
            problems.append(f"is {len(name)} characters long (max 40)")
        if problems:
            yield self.finding(rule.target, f"alert name {name!r} " + " and ".join(problems), rule=rule,
                               hint="e.g. " + "".join(w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", name) if w)[:40])
