"""Checks across files: rules vs Alertmanager vs Prometheus config vs dashboards; and dashboards."""

from __future__ import annotations

import json
import re

from aetherops_plugins.lint.api import Check, Finding, RuleCheck

_RULES = "groups:\n  - name: example\n    rules:\n"


def _kl(d, key, default=None):
    kl = getattr(d, "key_line", None)
    return kl(key, default) if kl else default


def alert_labels(rule):
    """(known, excluded) labels an alert carries: its expression's output, its static labels, alertname."""
    static = frozenset(str(k) for k in rule.labels) | {"alertname"}
    facts = rule.facts
    if facts is None:
        return None, frozenset()
    known, excluded = facts.labels
    if known is None:
        return None, excluded - static
    return known | static, frozenset()


def carries(rule, label: str, project=None) -> bool:
    """Whether the alert reaches Alertmanager with ``label`` (its expression, static labels, or external labels)."""
    if project is not None and label in project.external_labels:
        return True
    known, excluded = alert_labels(rule)
    if known is None:
        return label not in excluded
    return label in known


def _alertname_matchers(ir, side: str) -> list[tuple[str, str]]:
    """(op, value) matchers on alertname for one side of an inhibit rule."""
    from aetherops_plugins.lint.checks.alertmanager import parse_matcher

    out = []
    m = ir.get(f"{side}_match")
    if isinstance(m, dict) and "alertname" in m:
        out.append(("=", str(m["alertname"])))
    m = ir.get(f"{side}_match_re")
    if isinstance(m, dict) and "alertname" in m:
        out.append(("=~", str(m["alertname"])))
    for text in ir.get(f"{side}_matchers") or []:
        p = parse_matcher(text)
        if p and p[0] == "alertname" and p[1] in ("=", "=~"):
            out.append((p[1], p[2]))
    return out


def _matching_alerts(project, op, value):
    import re

    if op == "=":
        return [a for a in project.alerts if a.name == value]
    try:
        rx = re.compile(f"^(?:{value})$")
    except re.error:
        return []
    return [a for a in project.alerts if rx.match(a.name)]


class InhibitAlerts(Check):
    id = "crossfile/inhibit-alerts"
    severity = "warning"
    kinds = ("project",)
    summary = "Inhibit rules name alerts that exist in the rule files linted alongside, and `equal` labels those alerts carry."
    why = ("amtool accepts an inhibit rule naming an alert that was renamed or deleted: the inhibition silently stops working "
           "and the pager gets the storm it was meant to prevent. The same happens when `equal` names a label one side drops.")
    example_kind = "alertmanager"
    example_bad = ("route:\n  receiver: default\nreceivers:\n  - name: default\ninhibit_rules:\n  - source_matchers: ['alertname=\"NodeDown\"']\n"
                   "    target_matchers: ['alertname=\"HighLatency\"']\n    equal: [instance]\n")
    example_good = ("route:\n  receiver: default\nreceivers:\n  - name: default\ninhibit_rules:\n  - source_matchers: ['alertname=\"InstanceDown\"']\n"
                    "    target_matchers: ['alertname=\"HighLatency\"']\n    equal: [instance]\n")
    example_context = {"rules.yml": _RULES + "      - alert: InstanceDown\n        expr: up == 0\n        for: 5m\n"
                       "      - alert: HighLatency\n        expr: histogram_quantile(0.99, sum by (le, instance) (rate(latency_seconds_bucket[5m]))) > 1\n"
                       "        for: 10m\n"}

    def check(self, target, project):
        if not project.alerts:
            return
        for am in project.of_kind("alertmanager"):
            irs = am.data.get("inhibit_rules") or []
            lines = getattr(irs, "lines", [])
            for i, ir in enumerate(irs):
                if not isinstance(ir, dict):
                    continue
                line = lines[i] if i < len(lines) else None
                matched = {}
                for side in ("source", "target"):
                    alerts = []
                    for op, value in _alertname_matchers(ir, side):
                        found = _matching_alerts(project, op, value)
                        if not found:
                            yield self.finding(am, f"inhibit rule {side} alertname{op}{value!r} matches no alert in the linted rule files",
                                               line=_kl(ir, f"{side}_matchers", None) or _kl(ir, f"{side}_match", None) or line,
                                               name=value, hint="fix the alert name, or delete the inhibit rule")
                        alerts.extend(found)
                    matched[side] = alerts
                for label in ir.get("equal") or []:
                    for side in ("source", "target"):
                        lacking = [a.name for a in matched[side] if not carries(a, str(label), project)]
                        if lacking:
                            yield self.finding(am, f"inhibit rule equal label {label!r} is not carried by {side} alert "
                                               f"{', '.join(sorted(set(lacking)))}", line=_kl(ir, "equal", line), name=str(label),
                                               hint=f"keep {label!r} in the alert's aggregation, or drop it from equal")


class GroupBy(Check):
    id = "crossfile/group-by"
    severity = "warning"
    kinds = ("project",)
    summary = "Route `group_by` labels are produced by some alert in the rule files linted alongside."
    why = "Grouping by a label no alert carries puts every alert in one group (the label is empty for all): one giant notification."
    example_kind = "alertmanager"
    example_bad = "route:\n  receiver: default\n  group_by: [alertname, cluster]\nreceivers:\n  - name: default\n"
    example_good = "route:\n  receiver: default\n  group_by: [alertname, job]\nreceivers:\n  - name: default\n"
    example_context = {"rules.yml": _RULES + "      - alert: JobDown\n        expr: sum by (job) (up) == 0\n        for: 5m\n"}

    def check(self, target, project):
        from aetherops_plugins.lint.checks.alertmanager import _routes

        if not project.alerts:
            return
        for am in project.of_kind("alertmanager"):
            for r, _ in _routes(am.data.get("route")):
                for label in r.get("group_by") or []:
                    label = str(label)
                    if label in ("...", "alertname"):
                        continue
                    if not any(carries(a, label, project) for a in project.alerts):
                        yield self.finding(am, f"group_by label {label!r} is carried by no alert in the linted rule files",
                                           line=_kl(r, "group_by", getattr(r, "line", None)), name=label,
                                           hint="group by labels your alerts keep (check their `by (...)` clauses)")


class MissingRecordingRule(RuleCheck):
    id = "crossfile/missing-recording-rule"
    severity = "warning"
    summary = "Rules only use recording-rule-shaped names (`level:metric:op`) that some linted rule records."
    why = "A query on a series nobody records returns nothing: the alert can never fire, silently."
    example_bad = _RULES + "      - alert: HighErrors\n        expr: job:errors:rate5m > 1\n        for: 5m\n"
    example_good = (_RULES + "      - record: job:errors:rate5m\n        expr: sum by (job) (rate(errors_total[5m]))\n"
                    "      - alert: HighErrors\n        expr: job:errors:rate5m > 1\n        for: 5m\n")

    def check_rule(self, rule, project):
        facts = rule.facts
        if not facts:
            return
        recorded = project.recorded
        for name in dict.fromkeys(s.name for s in facts.selectors if s.name and ":" in s.name):
            if name not in recorded:
                k = rule.expr.find(name)
                line, col = rule.expr_position(k) if k >= 0 else (rule.line, None)
                yield self.finding(rule.target, f"{name!r} looks like a recording rule but no linted file records it", rule=rule,
                                   line=line, column=col, hint="lint the file that records it alongside, or fix the name")


class UpJob(RuleCheck):
    id = "crossfile/up-job"
    severity = "warning"
    rule_type = "alert"
    summary = "`up{job=\"x\"}` (and other `job=` selectors in alerts) name a scrape job of the linted Prometheus config."
    why = "`crm-api` vs `crm_api`: an alert on a job that is not scraped never fires, and `absent()` on it always does."
    example_bad = _RULES + "      - alert: CrmDown\n        expr: up{job=\"crm-api\"} == 0\n        for: 5m\n"
    example_good = _RULES + "      - alert: CrmDown\n        expr: up{job=\"crm_api\"} == 0\n        for: 5m\n"
    example_context = {"prometheus.yml": "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: crm_api\n"
                       "    static_configs:\n      - targets: ['crm:8080']\n"}

    def check_rule(self, rule, project):
        import difflib

        jobs = project.scrape_jobs
        facts = rule.facts
        if jobs is None or not facts:
            return
        for sel in facts.selectors:
            job = sel.equal("job")
            if job is None or job in jobs or (sel.name and ":" in sel.name):
                continue
            if sel.name != "up" and sel.name is not None:
                continue
            close = difflib.get_close_matches(job, sorted(jobs), n=1)
            k = rule.expr.find(job)
            line, col = rule.expr_position(k) if k >= 0 else (rule.line, None)
            yield self.finding(rule.target, f"job {job!r} is not a scrape job of the linted Prometheus config", rule=rule,
                               line=line, column=col, hint=f"did you mean {close[0]!r}?" if close else
                               f"scrape jobs: {', '.join(sorted(jobs)[:8])}")


# ------------------------------------------------------------------ dashboards
def iter_panels(dashboard):
    """Every panel (rows and nested panels included)."""
    stack = list(dashboard.get("panels") or [])
    for row in dashboard.get("rows") or []:
        if isinstance(row, dict):
            stack.extend(row.get("panels") or [])
    while stack:
        p = stack.pop(0)
        if not isinstance(p, dict):
            continue
        yield p
        stack.extend(p.get("panels") or [])


def panel_queries(dashboard):
    """(panel, target, expr) for every PromQL query of the dashboard."""
    for p in iter_panels(dashboard):
        for t in p.get("targets") or []:
            if isinstance(t, dict) and isinstance(t.get("expr"), str) and t.get("expr").strip():
                ds = t.get("datasource") or p.get("datasource")
                dstype = ds.get("type") if isinstance(ds, dict) else None
                if dstype and dstype not in ("prometheus", "datasource") and "prometheus" not in str(dstype):
                    continue
                yield p, t, t["expr"]


def json_line(target, needle_value: str, key: str = "expr") -> int | None:
    text = target.text
    for candidate in (json.dumps(needle_value, ensure_ascii=False), json.dumps(needle_value)):
        for sep in (": ", ":"):
            k = text.find(f'"{key}"{sep}{candidate}')
            if k != -1:
                return text.count("\n", 0, k) + 1
    return None


_EXPR_KEY = re.compile(r'(?<!\\)"expr"\s*:')
_EXPR_LINES: dict = {}


def _expr_lines(target) -> dict:
    """id(dict holding "expr") -> its line, pairing the n-th ``"expr":`` key of the JSON text with the n-th such dict of
    the document (walked in document order: json keeps key order). Empty when the two counts differ."""
    key = id(target)
    got = _EXPR_LINES.get(key)
    if got is not None and got[0] is target:
        return got[1]
    holders = []
    stack = [target.data]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            if "expr" in n:
                holders.append(n)
            stack.extend(reversed([v for v in n.values() if isinstance(v, (dict, list))]))
        elif isinstance(n, list):
            stack.extend(reversed([v for v in n if isinstance(v, (dict, list))]))
    text = target.text
    offsets = [m.start() for m in _EXPR_KEY.finditer(text)]
    lines: dict = {}
    if len(offsets) == len(holders):
        line, last = 1, 0
        for off, h in zip(offsets, holders):
            line += text.count("\n", last, off)
            last = off
            lines[id(h)] = line
    _EXPR_LINES[key] = (target, lines)
    return lines


def query_line(target, query: dict, expr: str) -> int | None:
    """Line of one panel target's ``expr`` (the right one when two panels share the same query text)."""
    kl = getattr(query, "key_line", None)
    if kl is not None:  # a dashboard read from YAML: positions are known
        return kl("expr", None)
    line = _expr_lines(target).get(id(query))
    return line if line is not None else json_line(target, expr)


class DashboardPromQL(Check):
    id = "dashboard/promql"
    severity = "error"
    kinds = ("dashboard",)
    summary = "Every panel query parses as PromQL (Grafana variables such as `$__rate_interval` and `${var}` allowed)."
    why = "A panel with a broken query shows 'No data' or an error exactly when someone opens it during an incident."
    example_kind = "dashboard"
    example_bad = '{"title": "API", "uid": "api", "panels": [{"title": "Errors", "targets": [{"expr": "sum(rate(errors_total[$__rate_interval])"}]}]}\n'
    example_good = '{"title": "API", "uid": "api", "panels": [{"title": "Errors", "targets": [{"expr": "sum(rate(errors_total[$__rate_interval]))"}]}]}\n'

    def check(self, target, project):
        from aetherops_plugins.lint.promql import PromQLError, analyze, substitute_grafana

        for panel, query, expr in panel_queries(target.data):
            error = None
            for candidate in substitute_grafana(expr):
                try:
                    analyze(candidate)
                    error = None
                    break
                except PromQLError as exc:
                    error = error or exc
            if error:
                yield self.finding(target, f"panel {panel.get('title')!r}: could not parse expression: {error.message}",
                                   line=query_line(target, query, expr), name=str(panel.get("title") or ""),
                                   hint="fix the query (Grafana variables are substituted before parsing)")


class DashboardUid(Check):
    id = "dashboard/duplicate-uid"
    severity = "error"
    kinds = ("project",)
    summary = "Dashboard uids are unique across the linted dashboards."
    why = "Provisioning two dashboards with one uid makes Grafana keep only one of them (which one depends on file order)."
    example_kind = "dashboard"
    example_bad = '{"title": "API", "uid": "overview", "panels": []}\n'
    example_good = '{"title": "API", "uid": "api", "panels": []}\n'
    example_context = {"other.json": '{"title": "Overview", "uid": "overview", "panels": []}\n'}

    def check(self, target, project):
        seen = {}
        for t in project.of_kind("dashboard"):
            uid = t.data.get("uid")
            if not uid:
                continue
            if uid in seen:
                yield Finding(check=self.id, severity=self.severity, file=t.display, line=json_line(t, uid, "uid"), name=str(uid),
                              message=f"dashboard uid {uid!r} is also used by {seen[uid].display}",
                              hint="give each dashboard its own uid")
            else:
                seen[uid] = t


class DashboardTitle(Check):
    id = "dashboard/title"
    severity = "warning"
    kinds = ("dashboard",)
    summary = "Dashboards and their graph panels have titles."
    why = "Untitled dashboards cannot be found by search, and untitled panels cannot be told apart in an incident."
    example_kind = "dashboard"
    example_bad = '{"uid": "api", "panels": [{"type": "timeseries", "targets": [{"expr": "up"}]}]}\n'
    example_good = '{"title": "API", "uid": "api", "panels": [{"type": "timeseries", "title": "Targets up", "targets": [{"expr": "up"}]}]}\n'

    def check(self, target, project):
        d = target.data
        if not str(d.get("title") or "").strip():
            yield self.finding(target, "dashboard has no title", line=1, hint='add "title"')
        for p in iter_panels(d):
            if p.get("type") in ("row", "text") or not p.get("targets"):
                continue
            if not str(p.get("title") or "").strip():
                qs = [t for t in p.get("targets") or [] if isinstance(t, dict) and t.get("expr")]
                yield self.finding(target, f"panel {p.get('id', '?')} has no title",
                                   line=query_line(target, qs[0], qs[0]["expr"]) if qs else None,
                                   hint='add a "title" saying what the panel shows')


class DashboardRecordingRule(Check):
    id = "crossfile/dashboard-recording-rule"
    severity = "warning"
    kinds = ("project",)
    summary = "Dashboard queries use only recording rules (`level:metric:op` names) defined in the linted rule files."
    why = "A dashboard on a recording rule nobody records stays empty; it is usually noticed during the incident it was built for."
    example_kind = "dashboard"
    example_bad = '{"title": "API", "uid": "api", "panels": [{"title": "Errors", "targets": [{"expr": "job:errors:rate5m"}]}]}\n'
    example_good = '{"title": "API", "uid": "api", "panels": [{"title": "Errors", "targets": [{"expr": "job:requests:rate5m"}]}]}\n'
    example_context = {"rules.yml": _RULES + "      - record: job:requests:rate5m\n        expr: sum by (job) (rate(requests_total[5m]))\n"}

    def check(self, target, project):
        from aetherops_plugins.lint.promql import PromQLError, analyze, substitute_grafana

        if not project.of_kind("rules"):
            return
        recorded = project.recorded
        for t in project.of_kind("dashboard"):
            for panel, query, expr in panel_queries(t.data):
                facts = None
                for candidate in substitute_grafana(expr):
                    try:
                        facts = analyze(candidate)
                        break
                    except PromQLError:
                        continue
                if not facts:
                    continue
                for name in dict.fromkeys(s.name for s in facts.selectors if s.name and ":" in s.name):
                    if name not in recorded:
                        yield Finding(check=self.id, severity=self.severity, file=t.display, line=query_line(t, query, expr),
                                      name=str(panel.get("title") or ""),
                                      message=f"panel {panel.get('title')!r} queries {name!r}, which no linted rule file records",
                                      hint="lint the rule files with the dashboards, or fix the name")
