"""Online checks (``aetherops lint --online``): rules against a live Prometheus-compatible API.

They use the profile's Prometheus client (``ctx.prometheus``: tenant headers,
auth and TLS already applied), so they work against Prometheus, Thanos,
Mimir, Cortex or VictoriaMetrics alike. Queries run a few at a time and each
answer is cached for the run.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from aetherops_plugins.lint.api import Check, Finding
from aetherops_plugins.lint.loader import format_duration, parse_duration
from aetherops_plugins.lint.promql import _escape

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.clients.prometheus import PrometheusClient

_RULES = "groups:\n  - name: example\n    rules:\n"


class OnlineContext:
    """The live server, its answers cached."""

    def __init__(self, client, settings: dict | None = None, workers: int = 8, grafana=None):
        self._client = client
        self.grafana = grafana  # a GrafanaClient, or a callable returning one (None: no Grafana in the profile)
        self.settings = settings or {}
        self.workers = workers
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.lookback = parse_duration(self.settings.get("online_lookback") or "1d") or 86400.0

    @property
    def client(self) -> PrometheusClient:
        if callable(self._client) and not hasattr(self._client, "query"):
            self._client = self._client()
        return self._client

    def grafana_service(self):
        if callable(self.grafana) and not hasattr(self.grafana, "datasources"):
            self.grafana = self.grafana()
        return self.grafana

    def query(self, promql: str) -> list[dict]:
        """Instant query (cached); raises ServiceError on failure."""
        with self._lock:
            if promql in self._cache:
                return self._cache[promql]
        result = self.client.query(promql)
        with self._lock:
            self._cache[promql] = result
        return result

    def count(self, promql: str) -> int:
        res = self.query(f"count({promql})")
        try:
            return int(float(res[0]["value"][1])) if res else 0
        except (KeyError, IndexError, ValueError, TypeError):
            return 0

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[dict]:
        return self.client.query_range(promql, start, end, step)

    def map(self, fn, items):
        items = list(items)
        if len(items) <= 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(max_workers=min(self.workers, len(items))) as pool:
            return list(pool.map(fn, items))

    def rules(self) -> list[dict]:
        with self._lock:
            if "__rules__" in self._cache:
                return self._cache["__rules__"]
        groups = self.client.rules()
        with self._lock:
            self._cache["__rules__"] = groups
        return groups


def _selector_pos(rule, name):
    k = rule.expr.find(name) if name else -1
    return rule.expr_position(k) if k >= 0 else (rule.line, None)


class SeriesExist(Check):
    id = "online/series"
    severity = "warning"
    kinds = ("rules",)
    online = True
    summary = "Series and label values the rules select exist on the server (over the lookback, `lint.online_lookback`, default 1d)."
    why = ("A typo in a metric name or label value makes a rule select nothing: the alert can never fire and nobody notices. "
           "Checking over a time range (not just now) avoids flagging series that come and go.")
    example_bad = _RULES + "      - alert: Down\n        expr: upp{job=\"prometheus\"} == 0\n        for: 5m\n"
    example_good = _RULES + "      - alert: Down\n        expr: up{job=\"prometheus\"} == 0\n        for: 5m\n"

    def check(self, target, project):
        online = project.online
        if online is None:
            return
        recorded = project.recorded
        window = format_duration(online.lookback)
        work = {}
        for rule in target.rules:
            facts = rule.facts
            if not facts:
                continue
            for sel in facts.selectors:
                if not sel.name or sel.name in recorded or sel.name in ("ALERTS", "ALERTS_FOR_STATE"):
                    continue
                if sel.func in ("absent", "absent_over_time"):
                    continue  # absent() is meant to select nothing
                work.setdefault(sel.text(), (sel, []))[1].append(rule)

        def probe(item):
            text, (sel, rules) = item
            if online.count(f"last_over_time({text}[{window}])"):
                return None
            if sel.matchers and online.count(f"last_over_time({sel.name}[{window}])"):
                # the metric exists: find the matcher that filters everything out
                for label, op, value in sel.matchers:
                    if online.count(f'last_over_time({sel.name}{{{label}{op}"{_escape(value)}"}}[{window}])') == 0:
                        return (sel, rules, f'no {sel.name} series has {label}{op}"{value}" in the last {window}')
                return (sel, rules, f"no {sel.name} series matches all of {text} in the last {window}")
            return (sel, rules, f"metric {sel.name!r} has no series on the server in the last {window}")

        for res in online.map(probe, work.items()):
            if res is None:
                continue
            sel, rules, msg = res
            for rule in dict.fromkeys(rules):
                line, col = _selector_pos(rule, sel.name)
                yield self.finding(rule.target, msg, rule=rule, line=line, column=col,
                                   hint="check the metric name and label values against the server (or the exporter is not scraped)")


class LoadedRules(Check):
    id = "online/loaded"
    severity = "warning"
    kinds = ("project",)
    online = True
    summary = "Rules on disk are loaded by the server, and the server's groups from these files have no rules missing on disk."
    why = "A rule file that failed to reload (or was never listed in rule_files) leaves the server running old rules while the repository looks fine."
    example_bad = _RULES.replace("example", "not-deployed") + "      - record: job:up:sum\n        expr: sum by (job) (up)\n"
    example_good = _RULES.replace("example", "deployed") + "      - record: job:up:sum\n        expr: sum by (job) (up)\n"

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


class Runbooks(Check):
    id = "online/runbook"
    severity = "warning"
    kinds = ("rules",)
    online = True
    summary = "`runbook_url` links answer (HTTP status below 400)."
    why = "A runbook link that 404s at 3 a.m. is worse than none: the responder loses minutes looking for it."
    example_bad = (_RULES + "      - alert: Down\n        expr: up == 0\n        for: 5m\n        annotations:\n"
                   "          runbook_url: http://127.0.0.1:9/missing\n")
    example_good = _RULES + "      - alert: Down\n        expr: up == 0\n        for: 5m\n"

    def check(self, target, project):
        from aetherops.clients.probe import link_status
        from aetherops.errors import ServiceError

        if project.online is None:
            return
        urls: dict[str, list] = {}
        for rule in target.alerts:
            url = rule.annotations.get("runbook_url")
            if isinstance(url, str) and url.startswith(("http://", "https://")) and "{{" not in url:
                urls.setdefault(url, []).append(rule)
        if not urls:
            return
        timeout = float(project.settings.get("runbook_timeout") or 5)

        def probe(url):
            try:
                status = link_status(url, timeout=timeout)
            except ServiceError as exc:
                return url, exc.format_message().removeprefix(f"{url}: ")
            return url, (None if status < 400 else f"HTTP {status}")

        for url, problem in project.online.map(probe, urls):
            if problem:
                for rule in urls[url]:
                    ann = rule.data.get("annotations")
                    line = ann.key_line("runbook_url", rule.line) if hasattr(ann, "key_line") else rule.line
                    yield self.finding(rule.target, f"runbook_url {url} does not answer: {problem}", rule=rule, line=line,
                                       hint="fix the link or write the runbook")


class QueryCost(Check):
    id = "online/cost"
    severity = "info"
    kinds = ("rules",)
    online = True
    summary = "Rules do not touch more series than `lint.max_series` (default 10000) on the server."
    why = "A rule selecting hundreds of thousands of series slows every evaluation of its group and can time out, silently skipping it."
    example_bad = _RULES + "      - record: instance:series:count\n        expr: count by (instance) ({__name__=~\".+\"})\n"
    example_good = _RULES + "      - record: job:up:sum\n        expr: sum by (job) (up)\n"
    example_context = {"__settings__": {"max_series": 50}}

    def check(self, target, project):
        online = project.online
        if online is None:
            return
        limit = int(project.settings.get("max_series") or 10000)
        rules = [r for r in target.rules if r.facts]

        def cost(rule):
            total = 0
            for sel in rule.facts.selectors:
                total += online.count(sel.text())
            return rule, total

        for rule, total in online.map(cost, rules):
            if total > limit:
                yield self.finding(rule.target, f"the expression touches {total} series (limit {limit})", rule=rule,
                                   hint="narrow the selectors with label matchers, or pre-aggregate with a recording rule")


class NoisyAlerts(Check):
    id = "online/noisy"
    severity = "info"
    kinds = ("rules",)
    online = True
    summary = "Alerts that would have fired more than `lint.noisy_threshold` times (default 10) over `lint.noisy_days` (default 7)."
    why = "An alert that fires every day trains people to ignore it; the count comes from replaying its expression over past data."
    example_bad = _RULES + "      - alert: AlwaysUp\n        expr: up > 0\n        for: 0s\n"
    example_good = _RULES + "      - alert: NeverFires\n        expr: up > 100\n        for: 0s\n"
    example_context = {"__settings__": {"noisy_threshold": 0, "noisy_days": 0.01}}

    def check(self, target, project):
        online = project.online
        if online is None:
            return
        days = float(project.settings.get("noisy_days") or 7)
        threshold = int(project.settings.get("noisy_threshold") if project.settings.get("noisy_threshold") is not None else 10)
        end = time.time()
        start = end - days * 86400
        alerts = [r for r in target.alerts if r.facts]

        def replay(rule):
            step = max(project.evaluation_interval, (end - start) / 1000.0, 1.0)
            first = end - int((end - start) // step) * step  # so that `end` itself is evaluated
            try:
                result = online.query_range(rule.expr, first, end, step)
            except Exception:  # noqa: BLE001 - a query the server refuses is reported by online/series instead
                return rule, 0
            need = max(1, int((rule.for_seconds or 0) // step))
            fired = 0
            for series in result:
                times = [float(t) for t, _ in series.get("values") or []]
                run, prev = 0, None
                for ts in times:
                    run = run + 1 if prev is not None and abs(ts - prev - step) < step / 2 else 1
                    if run == need:
                        fired += 1
                    prev = ts
            return rule, fired

        for rule, fired in online.map(replay, alerts):
            if fired > threshold:
                yield self.finding(rule.target, f"would have fired {fired} times in the last {days:g} day(s)", rule=rule,
                                   hint="raise the threshold, lengthen `for`, or add a traffic guard")


class VectorMatching(Check):
    id = "online/vector-matching"
    severity = "warning"
    kinds = ("rules",)
    online = True
    summary = "Both sides of a binary operation between vectors share label sets in the live data (so it can match)."
    why = ("`a / b` only returns series whose labels (or `on(...)` labels) match on both sides: a label one side lacks "
           "(`instance` vs `pod`, `job` renamed) makes the result silently empty, and the alert can never fire.")
    example_bad = _RULES + "      - alert: Mismatch\n        expr: up / on(instance) sum by (job) (up) > 2\n        for: 5m\n"
    example_good = _RULES + "      - alert: Matching\n        expr: up / on(job) group_left sum by (job) (up) > 2\n        for: 5m\n"

    def check(self, target, project):
        import promql_parser as P

        online = project.online
        if online is None:
            return
        work = []
        for rule in target.rules:
            facts = rule.facts
            if not facts or not any(op not in ("or",) for op, _ in facts.binops):
                continue
            try:
                ast = facts.ast
            except ValueError:
                continue
            stack = [ast]
            while stack:
                n = stack.pop()
                t = type(n)
                if t is P.BinaryExpr:
                    stack += [n.lhs, n.rhs]
                    if str(n.op) != "or" and not _scalar(n.lhs) and not _scalar(n.rhs):
                        work.append((rule, n))
                elif t in (P.ParenExpr, P.AggregateExpr, P.UnaryExpr, P.SubqueryExpr):
                    stack.append(n.expr)
                elif t is P.Call:
                    stack += [a for a in n.args if isinstance(a, P.Expr)]

        def probe(item):
            rule, n = item
            try:
                left, right = online.query(str(n.lhs)), online.query(str(n.rhs))
            except Exception:  # noqa: BLE001 - a side the server refuses: online/series reports missing series
                return None
            if not left or not right:
                return None
            mod = n.modifier
            matching = mod.matching if mod else None

            def key(series):
                labels = {k: v for k, v in (series.get("metric") or {}).items() if k != "__name__"}
                if matching is not None and matching.type == P.LabelModifierType.Include:
                    return tuple(labels.get(x, "") for x in sorted(matching.labels))
                drop = set(matching.labels) if matching is not None else set()
                return tuple(sorted((k, v) for k, v in labels.items() if k not in drop))

            lk = {key(s) for s in left}
            rk = {key(s) for s in right}
            if lk & rk:
                return None
            return rule, n, sorted(lk, key=str)[0], sorted(rk, key=str)[0]

        for res in online.map(probe, work):
            if res is None:
                continue
            rule, n, lsample, rsample = res
            op = str(n.op)
            k = rule.expr.find(f" {op} ")
            line, col = rule.expr_position(k + 1) if k >= 0 else (rule.key_line("expr"), None)
            yield self.finding(rule.target, f"the two sides of `{op}` share no label set on the server (left e.g. {_fmt(lsample)}, "
                               f"right e.g. {_fmt(rsample)}): the result is always empty", rule=rule, line=line, column=col,
                               hint="match on labels both sides have: on(...)/ignoring(...), or aggregate both sides by the same labels")


def _scalar(n) -> bool:
    import promql_parser as P

    while type(n) is P.ParenExpr:
        n = n.expr
    t = type(n)
    if t is P.NumberLiteral or t is P.StringLiteral:
        return True
    if t is P.Call and n.func.name in ("time", "scalar", "pi", "vector"):
        return True
    if t is P.UnaryExpr:
        return _scalar(n.expr)
    if t is P.BinaryExpr:
        return _scalar(n.lhs) and _scalar(n.rhs)
    return False


def _fmt(key) -> str:
    if key and isinstance(key[0], tuple):
        return "{" + ", ".join(f'{k}="{v}"' for k, v in key) + "}"
    return "(" + ", ".join(f'"{v}"' for v in key) + ")"


_SPECIAL_DS = {"-- grafana --", "-- mixed --", "-- dashboard --", "default", "grafana", "dashboard", "mixed"}


class Datasources(Check):
    id = "online/datasource"
    severity = "warning"
    kinds = ("dashboard",)
    online = True
    summary = "Dashboard datasource references (uid or name) exist in the profile's Grafana."
    why = "A panel pointing at a data source that does not exist (renamed, another instance's uid) shows an error instead of data."
    example_kind = "dashboard"
    example_bad = ('{"title": "API", "uid": "api", "panels": [{"title": "Up", "datasource": {"type": "prometheus", "uid": "gone"}, '
                   '"targets": [{"expr": "up"}]}]}\n')
    example_good = ('{"title": "API", "uid": "api", "panels": [{"title": "Up", "datasource": {"type": "prometheus", "uid": "${datasource}"}, '
                    '"targets": [{"expr": "up"}]}]}\n')

    def check(self, target, project):
        from aetherops_plugins.lint.checks.crossfile import iter_panels, json_line

        online = project.online
        grafana = online.grafana_service() if online is not None else None
        if grafana is None:
            return
        known = online._cache.get("__datasources__")
        if known is None:
            listed = grafana.datasources()
            known = {str(d.get(k)) for d in listed if isinstance(d, dict) for k in ("uid", "name") if d.get(k)}
            online._cache["__datasources__"] = known
        seen = set()
        for panel in iter_panels(target.data):
            refs = [panel.get("datasource")] + [t.get("datasource") for t in panel.get("targets") or [] if isinstance(t, dict)]
            for ref in refs:
                value = ref.get("uid") if isinstance(ref, dict) else ref
                if not value or not isinstance(value, str) or "$" in value or value.lower() in _SPECIAL_DS:
                    continue
                if value not in known and (panel.get("title"), value) not in seen:
                    seen.add((panel.get("title"), value))
                    yield self.finding(target, f"panel {panel.get('title')!r} uses data source {value!r}, which Grafana does not have",
                                       line=json_line(target, value, "uid") or json_line(target, value, "datasource"),
                                       name=str(panel.get("title") or ""),
                                       hint="use a data source template variable (${datasource}) or an existing uid")


def make_context(ctx, settings: dict) -> OnlineContext:
    """The online context of a command run: the profile's Prometheus (and Grafana, when the profile has one)."""
    grafana = (lambda: ctx.grafana) if ctx.profile.has_service("grafana") else None
    return OnlineContext(lambda: ctx.prometheus, settings, grafana=grafana)


__all__ = ["OnlineContext", "Finding", "make_context"]
