"""`syntax/alertmanager`: Alertmanager configs pass amtool 0.25's validation: known fields, durations, regexes, notifier settings."""

from __future__ import annotations

import re

from aetherops_plugins.lint import amconfig as am
from aetherops_plugins.lint.amconfig import (
    BOOL_FIELDS,
    ENV_REF,
    GLOBAL,
    HTTP_CONFIG,
    HTTP_URL_KEYS,
    INHIBIT,
    LABEL_NAME_RE,
    NOTIFIERS,
    RECEIVER,
    ROUTE,
    TOP,
    URL_FILE_KEYS,
    URL_KEYS,
    matcher_ok,
    regex_ok,
    routes,
    scheme_error,
    time_interval_errors,
    url_error,
)
from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.checks._common import kl
from aetherops_plugins.lint.loader import parse_duration
from aetherops_plugins.lint.shapes import shape_errors


class AlertmanagerSchema(Check):
    id = "syntax/alertmanager"
    severity = "error"
    kinds = ("alertmanager",)
    summary = "Alertmanager configs pass amtool 0.25's validation: known fields, durations, regexes, notifier settings."
    why = "Alertmanager refuses to start (or to reload, keeping the old config) with an invalid configuration."
    example_kind = "alertmanager"
    example_bad = "route:\n  receiver: default\n  group_wait: 30 s\nreceivers:\n  - name: default\n"
    example_good = "route:\n  receiver: default\n  group_wait: 30s\nreceivers:\n  - name: default\n"

    def check(self, target, project):
        d = target.data
        f = self.finding
        hint_field = "remove the field (or check its spelling and indentation against the Alertmanager 0.25 reference)"
        decode = list(shape_errors(d, am.shape()))
        for line, message in decode:
            yield f(target, message, line=line, hint="write the value as the Alertmanager 0.25 reference shows (a list "
                    "is `- item` lines or `[a, b]`; a mapping is `key: value` lines)")
        if decode:
            return  # amtool stops at the first decoding error: what follows would be read wrongly

        def http_config(h, line, name=None):
            if not isinstance(h, dict):
                return
            yield from unknown(h, HTTP_CONFIG, "http_config", line)
            for section, allowed in am.HTTP_SECTIONS.items():
                sub = h.get(section)
                yield from unknown(sub, allowed, f"http_config {section}", kl(h, section, line))
                if section == "oauth2" and isinstance(sub, dict):
                    yield from unknown(sub.get("tls_config"), am.HTTP_SECTIONS["tls_config"], "oauth2 tls_config",
                                       kl(sub, "tls_config", line))
            err = am.http_config_error(h)
            if err:
                yield f(target, err, line=line, name=name, hint="keep one way of authenticating (and either the secret or "
                        "its _file)")

        def unknown(m, allowed, where, default_line):
            if not isinstance(m, dict):
                return
            for k in m:
                if k not in allowed:
                    yield f(target, f"field {k} not found in {where}", line=kl(m, k, default_line), hint=hint_field)

        def urls(m, default_line, name=None):
            if not isinstance(m, dict):
                return
            for k, v in m.items():
                if k in URL_KEYS and isinstance(v, str) and v and "{{" not in v:
                    err = url_error(v)
                    if err is None and k in HTTP_URL_KEYS:
                        err = scheme_error(v)
                    if err:
                        hint = "write a full URL such as https://host:port/path"
                        if ENV_REF.match(v.strip()):
                            hint = ("Alertmanager does not expand environment variables: render the file before deploying "
                                    f"(envsubst, Helm), or use {k}_file" if k + "_file" in URL_FILE_KEYS else
                                    "Alertmanager does not expand environment variables: render the file before deploying "
                                    "(envsubst, Helm)")
                        yield f(target, f"invalid URL in {k}: {err}", line=kl(m, k, default_line), name=name, hint=hint)

        yield from unknown(d, TOP, "the Alertmanager config", 1)
        g = d.get("global") if isinstance(d.get("global"), dict) else {}
        yield from unknown(g, GLOBAL, "global", 1)
        yield from http_config(g.get("http_config"), kl(g, "http_config", 1))
        if g.get("smtp_smarthost") not in (None, ""):
            err = am.hostport_error(g.get("smtp_smarthost"))
            if err:
                yield f(target, err, line=kl(g, "smtp_smarthost", 1), hint="write host:port, e.g. smtp.example.com:587")
        templates = d.get("templates") or []
        for i, pattern in enumerate(templates):
            err = am.glob_error(str(pattern)) if pattern is not None else None
            if err:
                yield f(target, f"templates entry {pattern!r}: {err}", line=templates.lines[i] if hasattr(templates, "lines") else 1,
                        hint="templates are file globs: close each [...] class and escape a literal [ as \\[")
        yield from urls(g, 1)
        yield from urls(g.get("http_config"), kl(g, "http_config", 1))
        for a, b in (("slack_api_url", "slack_api_url_file"), ("opsgenie_api_key", "opsgenie_api_key_file"),
                     ("victorops_api_key", "victorops_api_key_file"), ("smtp_auth_password", "smtp_auth_password_file")):
            if g.get(a) and g.get(b):
                yield f(target, f"at most one of {a} & {b} must be configured", line=kl(g, b, 1), hint=f"keep only {b}")
        if "smtp_require_tls" in g and not isinstance(g.get("smtp_require_tls"), bool):
            yield f(target, "smtp_require_tls must be true or false", line=kl(g, "smtp_require_tls", 1))
        if "resolve_timeout" in g and parse_duration(g.get("resolve_timeout")) is None:
            yield f(target, f"invalid duration resolve_timeout: {g.get('resolve_timeout')!r}", line=kl(g, "resolve_timeout", 1))

        # receivers
        receivers = d.get("receivers") or []
        names: dict[str, int] = {}
        rlines = getattr(receivers, "lines", [])
        for i, r in enumerate(receivers if isinstance(receivers, list) else []):
            line = rlines[i] if i < len(rlines) else 1
            if not isinstance(r, dict):
                yield f(target, "receiver is not a mapping", line=line)
                continue
            yield from unknown(r, RECEIVER, "receiver", line)
            name = r.get("name")
            if not name:
                yield f(target, "missing name in receiver", line=line, hint="give every receiver a name")
            elif name in names:
                yield f(target, f'notification config name "{name}" is not unique', line=line, name=str(name))
            else:
                names[str(name)] = line
            for kind, allowed in NOTIFIERS.items():
                for j, n in enumerate(r.get(kind) or []):
                    nl = (getattr(r.get(kind), "lines", []) or [line])[min(j, len(getattr(r.get(kind), "lines", []) or [line]) - 1)]
                    yield from unknown(n, allowed, kind, nl)
                    if isinstance(n, dict):
                        yield from http_config(n.get("http_config"), kl(n, "http_config", nl), str(name or ""))
                        if kind == "email_configs" and n.get("smarthost") not in (None, ""):
                            err = am.hostport_error(n.get("smarthost"))
                            if err:
                                yield f(target, err, line=kl(n, "smarthost", nl), name=str(name or ""),
                                        hint="write host:port, e.g. smtp.example.com:587")
                        yield from urls(n, nl, str(name or ""))
                        yield from urls(n.get("http_config"), nl, str(name or ""))
                    if isinstance(n, dict):
                        yield from self.notifier(target, kind, n, g, nl, str(name or ""))

        # routes
        route = d.get("route")
        if route is None:
            if receivers:
                yield f(target, "no routes provided", line=1, hint="add a root `route:` with a default receiver")
        elif isinstance(route, dict):
            if not route.get("receiver"):
                yield f(target, "root route must specify a default receiver", line=route.line if hasattr(route, "line") else 1)
            if any(route.get(k) for k in ("match", "match_re", "matchers")):
                yield f(target, "root route must not have any matchers", line=getattr(route, "line", 1))
            if route.get("continue"):
                yield f(target, "cannot have continue in root route", line=kl(route, "continue", 1))
            intervals = {str(t.get("name")) for key in ("time_intervals", "mute_time_intervals")
                         for t in (d.get(key) or []) if isinstance(t, dict)}
            for r, _parents in routes(route):
                rl = getattr(r, "line", 1)
                yield from unknown(r, ROUTE, "route", rl)
                for k in ("group_wait", "group_interval", "repeat_interval"):
                    if k in r and parse_duration(r.get(k)) is None:
                        yield f(target, f"invalid duration {k}: {r.get(k)!r}", line=kl(r, k, rl),
                                hint="use a Prometheus duration such as 30s, 5m, 4h")
                    elif k in r and k != "group_wait" and parse_duration(r.get(k)) == 0:
                        yield f(target, f"{k} cannot be zero", line=kl(r, k, rl))
                if "continue" in r and not isinstance(r.get("continue"), bool):
                    yield f(target, f"continue must be true or false, not {r.get('continue')!r}", line=kl(r, "continue", rl))
                gb = r.get("group_by")
                if isinstance(gb, list):
                    if "..." in gb and len(gb) > 1:
                        yield f(target, "cannot have wildcard group_by (`...`) and other labels at the same time", line=kl(r, "group_by", rl))
                    if len(set(map(str, gb))) != len(gb):
                        yield f(target, "duplicated label in group_by", line=kl(r, "group_by", rl))
                    for label in gb:
                        if label != "..." and not (isinstance(label, str) and LABEL_NAME_RE.match(label)):
                            yield f(target, f'invalid label name "{label}" in group_by list', line=kl(r, "group_by", rl),
                                    hint="label names are letters, digits and _ (or `...` alone)")
                for k in ("match_re",):
                    mr = r.get(k)
                    if isinstance(mr, dict):
                        for label, value in mr.items():
                            if not regex_ok(value):
                                yield f(target, f'invalid regexp value for "{label}"', line=kl(mr, label, rl))
                for m in r.get("matchers") or []:
                    err = matcher_ok(m)
                    if err:
                        yield f(target, err, line=kl(r, "matchers", rl))
                for k in ("mute_time_intervals", "active_time_intervals"):
                    for name in r.get(k) or []:
                        if str(name) not in intervals:
                            yield f(target, f'undefined time interval "{name}" used in route', line=kl(r, k, rl))
        # time intervals (weekdays, months, days, times as amtool parses them)
        for key in ("time_intervals", "mute_time_intervals"):
            for t in d.get(key) or []:
                if not isinstance(t, dict):
                    continue
                for ti in t.get("time_intervals") or []:
                    for field_name, msg in time_interval_errors(ti):
                        yield f(target, msg, line=kl(ti, field_name, kl(t, "time_intervals", 1)), name=str(t.get("name") or ""),
                                hint="weekdays: sunday..saturday, months: january..december or 1..12, days_of_month: "
                                     "1..31 or -31..-1, times: HH:MM with start before end, ranges as start:end")
        # inhibit rules
        ilines = getattr(d.get("inhibit_rules") or [], "lines", [])
        for i, ir in enumerate(d.get("inhibit_rules") or []):
            line = ilines[i] if i < len(ilines) else 1
            yield from unknown(ir, INHIBIT, "inhibit rule", line)
            if not isinstance(ir, dict):
                continue
            for label in ir.get("equal") or []:
                if not (isinstance(label, str) and LABEL_NAME_RE.match(label)):
                    yield f(target, f'"{label}" is not a valid label name', line=kl(ir, "equal", line))
            for k in ("source_match_re", "target_match_re"):
                mr = ir.get(k)
                if isinstance(mr, dict):
                    for label, value in mr.items():
                        if not regex_ok(value):
                            yield f(target, f'invalid regexp value for "{label}"', line=kl(mr, label, line))
            for k in ("source_matchers", "target_matchers"):
                for m in ir.get(k) or []:
                    err = matcher_ok(m)
                    if err:
                        yield f(target, err, line=kl(ir, k, line))

    def notifier(self, target, kind, n, g, line, receiver):
        f = self.finding

        def both(a, b):
            if n.get(a) and n.get(b):
                return f(target, f"at most one of {a} & {b} must be configured", line=kl(n, b, line), name=receiver)
            return None

        if kind == "webhook_configs" and "max_alerts" in n:
            v = n.get("max_alerts")
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                yield f(target, f"max_alerts must be a non-negative integer (0 = no limit), not {v!r}",
                        line=kl(n, "max_alerts", line), name=receiver, hint="use 0 for no limit, or a positive number")

        pairs = {"slack_configs": [("api_url", "api_url_file")], "opsgenie_configs": [("api_key", "api_key_file")],
                 "victorops_configs": [("api_key", "api_key_file")],
                 "pagerduty_configs": [("routing_key", "routing_key_file"), ("service_key", "service_key_file")],
                 "email_configs": [("auth_password", "auth_password_file")]}
        for a, b in pairs.get(kind, []):
            x = both(a, b)
            if x:
                yield x
        for key in BOOL_FIELDS:
            if key in n and n.get(key) is not None and not isinstance(n.get(key), bool):
                yield f(target, f"{kind[:-1]} {key} must be true or false, not {n.get(key)!r}", line=kl(n, key, line), name=receiver)
        if kind == "opsgenie_configs":
            for resp in n.get("responders") or []:
                if isinstance(resp, dict) and resp.get("type") is not None and not re.fullmatch(
                        r"team|teams|user|escalation|schedule", str(resp.get("type"))) and "{{" not in str(resp.get("type")):
                    yield f(target, f"opsGenieConfig responder type {resp.get('type')!r} does not match valid options "
                            "^(team|teams|user|escalation|schedule)$", line=kl(resp, "type", line), name=receiver)
        missing = None
        if kind == "slack_configs" and not (n.get("api_url") or n.get("api_url_file") or g.get("slack_api_url") or g.get("slack_api_url_file")):
            missing = "no global Slack API URL set either inline or in a file"
        elif kind == "opsgenie_configs" and not (n.get("api_key") or n.get("api_key_file") or g.get("opsgenie_api_key")
                                                 or g.get("opsgenie_api_key_file")):
            missing = "no global OpsGenie API Key set either inline or in a file"
        elif kind == "victorops_configs":
            if not (n.get("api_key") or n.get("api_key_file") or g.get("victorops_api_key") or g.get("victorops_api_key_file")):
                missing = "no global VictorOps API Key set"
            elif not n.get("routing_key"):
                missing = "missing Routing key in VictorOps config"
        elif kind == "wechat_configs":
            if not (n.get("api_secret") or g.get("wechat_api_secret")):
                missing = "no global Wechat ApiSecret set"
            elif not (n.get("corp_id") or g.get("wechat_api_corp_id")):
                missing = "no global Wechat CorpID set"
        elif kind == "email_configs":
            if not n.get("to"):
                missing = "missing to address in email config"
            elif not (n.get("smarthost") or g.get("smtp_smarthost")):
                missing = "no global SMTP smarthost set"
            elif not (n.get("from") or g.get("smtp_from")):
                missing = "no global mail from address set"
        elif kind == "sns_configs" and not (n.get("target_arn") or n.get("topic_arn") or n.get("phone_number")):
            missing = "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config"
        elif kind == "telegram_configs":
            if not n.get("bot_token"):
                missing = "missing bot_token on telegram_config"
            elif not n.get("chat_id"):
                missing = "missing chat_id on telegram_config"
        elif kind == "pagerduty_configs" and not (n.get("routing_key") or n.get("routing_key_file") or n.get("service_key")
                                                  or n.get("service_key_file")):
            missing = "missing service or routing key in PagerDuty config"
        elif kind == "webhook_configs" and not n.get("url"):
            missing = "missing url in webhook config"
        elif kind == "pushover_configs" and not (n.get("user_key") and n.get("token")):
            missing = "missing user key or token in Pushover config"
        elif kind == "webex_configs" and not n.get("room_id"):
            missing = "missing room_id on webex_config"
        elif kind == "webex_configs" and not (isinstance(n.get("http_config"), dict) and n["http_config"].get("authorization")):
            missing = "missing webex_configs.http_config.authorization"
        elif kind == "discord_configs" and not n.get("webhook_url"):
            missing = "one of webhook_url or webhook_url_file must be configured"
        if missing:
            yield f(target, missing, line=line, name=receiver, hint="set it in the notifier or in `global:`")
