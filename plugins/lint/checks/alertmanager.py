"""Alertmanager configuration checks: amtool 0.25's validation, and what amtool lets through."""

from __future__ import annotations

import re

from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.loader import parse_duration

_C = {"send_resolved", "http_config"}
NOTIFIERS = {
    "email_configs": _C | {"to", "from", "smarthost", "hello", "auth_username", "auth_password", "auth_password_file", "auth_secret",
                           "auth_identity", "headers", "html", "text", "require_tls", "tls_config"},
    "pagerduty_configs": _C | {"routing_key", "routing_key_file", "service_key", "service_key_file", "url", "client", "client_url",
                               "description", "details", "images", "links", "severity", "class", "component", "group", "source"},
    "pushover_configs": _C | {"user_key", "token", "title", "message", "url", "url_title", "sound",
                              "priority", "retry", "expire", "html"},
    "slack_configs": _C | {"api_url", "api_url_file", "channel", "username", "color", "title", "title_link", "pretext", "text",
                           "fields", "short_fields", "footer", "fallback", "callback_id", "icon_emoji", "icon_url", "image_url",
                           "thumb_url", "link_names", "mrkdwn_in", "actions"},
    "opsgenie_configs": _C | {"api_key", "api_key_file", "api_url", "message", "description", "source", "details", "entity",
                              "responders", "actions", "tags", "note", "priority", "update_alerts"},
    "webhook_configs": _C | {"url", "max_alerts"},
    "victorops_configs": _C | {"api_key", "api_key_file", "api_url", "routing_key", "message_type", "state_message",
                               "entity_display_name", "monitoring_tool", "custom_fields"},
    "wechat_configs": _C | {"api_secret", "api_url", "corp_id", "message", "message_type", "agent_id", "to_user", "to_party", "to_tag"},
    "sns_configs": _C | {"api_url", "sigv4", "topic_arn", "phone_number", "target_arn", "subject", "message", "attributes"},
    "telegram_configs": _C | {"api_url", "bot_token", "chat_id", "message", "disable_notifications", "parse_mode"},
    "webex_configs": _C | {"api_url", "room_id", "message"},
    "discord_configs": _C | {"webhook_url", "title", "message"},
}
TOP = {"global", "route", "inhibit_rules", "receivers", "templates", "time_intervals", "mute_time_intervals"}
GLOBAL = {"resolve_timeout", "http_config", "smtp_from", "smtp_hello", "smtp_smarthost", "smtp_auth_username", "smtp_auth_password",
          "smtp_auth_password_file", "smtp_auth_secret", "smtp_auth_identity", "smtp_require_tls", "slack_api_url", "slack_api_url_file",
          "pagerduty_url", "opsgenie_api_url", "opsgenie_api_key", "opsgenie_api_key_file", "wechat_api_url", "wechat_api_secret",
          "wechat_api_corp_id", "victorops_api_url", "victorops_api_key", "victorops_api_key_file", "telegram_api_url", "webex_api_url"}
HTTP_CONFIG = {"authorization", "basic_auth", "bearer_token", "bearer_token_file", "oauth2", "proxy_url", "proxy_connect_header",
               "tls_config", "follow_redirects", "enable_http2"}
ROUTE = {"receiver", "group_by", "continue", "matchers", "match", "match_re", "group_wait", "group_interval", "repeat_interval",
         "mute_time_intervals", "active_time_intervals", "routes"}
INHIBIT = {"source_match", "source_match_re", "source_matchers", "target_match", "target_match_re", "target_matchers", "equal"}
RECEIVER = {"name"} | set(NOTIFIERS)
#: keys holding a secret that should come from a file or the environment, not the config itself
SECRET_KEYS = {"smtp_auth_password", "smtp_auth_secret", "slack_api_url", "opsgenie_api_key", "wechat_api_secret", "victorops_api_key",
               "auth_password", "auth_secret", "routing_key", "service_key", "user_key", "token", "api_key", "api_secret", "bot_token",
               "api_url", "url", "webhook_url", "password", "bearer_token", "credentials", "client_secret", "secret_key"}
SECRET_WHEN_URL = {"slack_configs": "api_url", "webhook_configs": "url", "discord_configs": "webhook_url"}
_MATCHER = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*|"[^"]+")\s*(=~|!~|!=|=)\s*(".*"|[^"]*?)\s*$')

_BOOL_FIELDS = ("send_resolved", "require_tls", "short_fields", "link_names", "update_alerts", "disable_notifications")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _kl(d, key, default=None):
    kl = getattr(d, "key_line", None)
    return kl(key, default) if kl else default


def _routes(route, depth=0, path=()):
    """Every route (pre-order) with its parent chain."""
    if not isinstance(route, dict):
        return
    yield route, path
    for child in route.get("routes") or []:
        if isinstance(child, dict):
            yield from _routes(child, depth + 1, path + (route,))


URL_KEYS = {"proxy_url", "url", "api_url", "slack_api_url", "pagerduty_url", "opsgenie_api_url", "wechat_api_url",
            "victorops_api_url", "telegram_api_url", "webex_api_url", "webhook_url", "client_url"}


def _url_error(value: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return str(exc)
    del parts
    return None


#: URL fields amtool 0.25 parses as http(s) URLs (config.URL / SecretURL): any other scheme is refused
HTTP_URL_KEYS = {"url", "api_url", "slack_api_url", "pagerduty_url", "opsgenie_api_url", "wechat_api_url", "victorops_api_url",
                 "telegram_api_url", "webex_api_url", "webhook_url"}
URL_FILE_KEYS = {"url_file", "api_url_file", "slack_api_url_file", "webhook_url_file"}
#: ``${VAR}`` / ``$VAR``: a reference rendered by a deploy tool, not an inline secret (Alertmanager itself does not expand it)
ENV_REF = re.compile(r"^\$(?:\{[A-Za-z_][A-Za-z0-9_]*(?::?[-=?+][^}]*)?\}|[A-Za-z_][A-Za-z0-9_]*)$")


def _scheme_error(value: str) -> str | None:
    from urllib.parse import urlsplit

    scheme = urlsplit(value.strip()).scheme.lower()
    if scheme not in ("http", "https"):
        return f'unsupported scheme "{scheme}" for URL'
    return None


_WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
           "december")
_HHMM = re.compile(r"^(\d\d):(\d\d)$")


def _range_parts(item) -> tuple[str, str]:
    text = str(item).strip().lower()
    if ":" in text and not text.startswith("-") or text.count(":") == 1:
        a, _, b = text.partition(":")
        return a.strip(), b.strip()
    return text, text


def time_interval_errors(ti) -> list[tuple[str, str]]:
    """(field, message) for each value amtool 0.25 refuses in one ``time_intervals`` entry."""
    out: list[tuple[str, str]] = []
    if not isinstance(ti, dict):
        return out
    for item in ti.get("weekdays") or []:
        a, b = _range_parts(item)
        bad = [x for x in (a, b) if x not in _WEEKDAYS]
        if bad:
            out.append(("weekdays", f"{bad[0]} is not a valid weekday"))
        elif _WEEKDAYS.index(a) > _WEEKDAYS.index(b):
            out.append(("weekdays", "start day cannot be before end day"))
    for item in ti.get("months") or []:
        a, b = _range_parts(item)
        for x in (a, b):
            if not (x in _MONTHS or x.isdigit()):
                out.append(("months", f"{x} is not a valid month"))
                break
    for item in ti.get("days_of_month") or []:
        text = str(item).strip()
        a, sep, b = text.partition(":") if not text.startswith("-") or text.count(":") else (text, "", text)
        if not sep:
            b = a
        for x in (a, b):
            try:
                v = int(x)
            except ValueError:
                out.append(("days_of_month", f"{x} is not a valid day of the month"))
                break
            if v == 0 or not -31 <= v <= 31:
                out.append(("days_of_month", f"{x} is not a valid day of the month: out of range"))
                break
    for item in ti.get("years") or []:
        a, b = _range_parts(item)
        try:
            ya, yb = int(a), int(b)
        except ValueError:
            out.append(("years", f'invalid year "{item}"'))
            continue
        if yb < ya:
            out.append(("years", f"end year {yb} is before start year {ya}"))
    for t in ti.get("times") or []:
        if not isinstance(t, dict):
            out.append(("times", f"bad time range {t!r}"))
            continue
        mins = []
        for k in ("start_time", "end_time"):
            m = _HHMM.match(str(t.get(k, "")))
            if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59 or (int(m.group(1)) == 24 and int(m.group(2))):
                out.append(("times", f"couldn't parse timestamp {t.get(k)}, invalid format"))
                break
            mins.append(int(m.group(1)) * 60 + int(m.group(2)))
        else:
            if mins[0] >= mins[1]:
                out.append(("times", "start time cannot be equal or greater than end time"))
    loc = ti.get("location")
    if isinstance(loc, str) and loc not in ("", "UTC", "Local"):
        try:
            import zoneinfo

            zoneinfo.ZoneInfo(loc)
        except (ValueError, OSError):
            out.append(("location", f"unknown time zone {loc}"))
        except Exception:  # noqa: BLE001 - no tz database on this system: cannot tell
            pass
    return out


def _regex_ok(value) -> bool:
    if value is None or isinstance(value, (dict, list)):
        return False
    try:
        re.compile(f"^(?:{value})$")
        return True
    except re.error:
        return False


def _matcher_ok(text) -> str | None:
    if not isinstance(text, str):
        return f"bad matcher {text!r}"
    m = _MATCHER.match(text)
    if not m:
        return f"bad matcher format: {text}"
    if m.group(2) in ("=~", "!~"):
        value = m.group(3).strip('"')
        if not _regex_ok(value):
            return f"invalid regular expression in matcher {text}"
    return None


def parse_matcher(text: str) -> tuple[str, str, str] | None:
    m = _MATCHER.match(text) if isinstance(text, str) else None
    if not m:
        return None
    return m.group(1).strip('"'), m.group(2), m.group(3).strip('"')


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

        def unknown(m, allowed, where, default_line):
            if not isinstance(m, dict):
                return
            for k in m:
                if k not in allowed:
                    yield f(target, f"field {k} not found in {where}", line=_kl(m, k, default_line), hint=hint_field)

        def urls(m, default_line, name=None):
            if not isinstance(m, dict):
                return
            for k, v in m.items():
                if k in URL_KEYS and isinstance(v, str) and v and "{{" not in v:
                    err = _url_error(v)
                    if err is None and k in HTTP_URL_KEYS:
                        err = _scheme_error(v)
                    if err:
                        hint = "write a full URL such as https://host:port/path"
                        if ENV_REF.match(v.strip()):
                            hint = ("Alertmanager does not expand environment variables: render the file before deploying "
                                    f"(envsubst, Helm), or use {k}_file" if k + "_file" in URL_FILE_KEYS else
                                    "Alertmanager does not expand environment variables: render the file before deploying "
                                    "(envsubst, Helm)")
                        yield f(target, f"invalid URL in {k}: {err}", line=_kl(m, k, default_line), name=name, hint=hint)

        yield from unknown(d, TOP, "the Alertmanager config", 1)
        g = d.get("global") if isinstance(d.get("global"), dict) else {}
        yield from unknown(g, GLOBAL, "global", 1)
        yield from unknown(g.get("http_config"), HTTP_CONFIG, "http_config", _kl(g, "http_config", 1))
        yield from urls(g, 1)
        yield from urls(g.get("http_config"), _kl(g, "http_config", 1))
        for a, b in (("slack_api_url", "slack_api_url_file"), ("opsgenie_api_key", "opsgenie_api_key_file"),
                     ("victorops_api_key", "victorops_api_key_file"), ("smtp_auth_password", "smtp_auth_password_file")):
            if g.get(a) and g.get(b):
                yield f(target, f"at most one of {a} & {b} must be configured", line=_kl(g, b, 1), hint=f"keep only {b}")
        if "smtp_require_tls" in g and not isinstance(g.get("smtp_require_tls"), bool):
            yield f(target, "smtp_require_tls must be true or false", line=_kl(g, "smtp_require_tls", 1))
        if "resolve_timeout" in g and parse_duration(g.get("resolve_timeout")) is None:
            yield f(target, f"invalid duration resolve_timeout: {g.get('resolve_timeout')!r}", line=_kl(g, "resolve_timeout", 1))

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
                        yield from unknown(n.get("http_config"), HTTP_CONFIG, "http_config", _kl(n, "http_config", nl))
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
                yield f(target, "cannot have continue in root route", line=_kl(route, "continue", 1))
            intervals = {str(t.get("name")) for key in ("time_intervals", "mute_time_intervals")
                         for t in (d.get(key) or []) if isinstance(t, dict)}
            for r, _parents in _routes(route):
                rl = getattr(r, "line", 1)
                yield from unknown(r, ROUTE, "route", rl)
                for k in ("group_wait", "group_interval", "repeat_interval"):
                    if k in r and parse_duration(r.get(k)) is None:
                        yield f(target, f"invalid duration {k}: {r.get(k)!r}", line=_kl(r, k, rl),
                                hint="use a Prometheus duration such as 30s, 5m, 4h")
                    elif k in r and k != "group_wait" and parse_duration(r.get(k)) == 0:
                        yield f(target, f"{k} cannot be zero", line=_kl(r, k, rl))
                if "continue" in r and not isinstance(r.get("continue"), bool):
                    yield f(target, f"continue must be true or false, not {r.get('continue')!r}", line=_kl(r, "continue", rl))
                gb = r.get("group_by")
                if isinstance(gb, list):
                    if "..." in gb and len(gb) > 1:
                        yield f(target, "cannot have wildcard group_by (`...`) and other labels at the same time", line=_kl(r, "group_by", rl))
                    if len(set(map(str, gb))) != len(gb):
                        yield f(target, "duplicated label in group_by", line=_kl(r, "group_by", rl))
                    for label in gb:
                        if label != "..." and not (isinstance(label, str) and _LABEL.match(label)):
                            yield f(target, f'invalid label name "{label}" in group_by list', line=_kl(r, "group_by", rl),
                                    hint="label names are letters, digits and _ (or `...` alone)")
                for k in ("match_re",):
                    mr = r.get(k)
                    if isinstance(mr, dict):
                        for label, value in mr.items():
                            if not _regex_ok(value):
                                yield f(target, f'invalid regexp value for "{label}"', line=_kl(mr, label, rl))
                for m in r.get("matchers") or []:
                    err = _matcher_ok(m)
                    if err:
                        yield f(target, err, line=_kl(r, "matchers", rl))
                for k in ("mute_time_intervals", "active_time_intervals"):
                    for name in r.get(k) or []:
                        if str(name) not in intervals:
                            yield f(target, f'undefined time interval "{name}" used in route', line=_kl(r, k, rl))
        # time intervals (weekdays, months, days, times as amtool parses them)
        for key in ("time_intervals", "mute_time_intervals"):
            for t in d.get(key) or []:
                if not isinstance(t, dict):
                    continue
                for ti in t.get("time_intervals") or []:
                    for field_name, msg in time_interval_errors(ti):
                        yield f(target, msg, line=_kl(ti, field_name, _kl(t, "time_intervals", 1)), name=str(t.get("name") or ""),
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
                if not (isinstance(label, str) and _LABEL.match(label)):
                    yield f(target, f'"{label}" is not a valid label name', line=_kl(ir, "equal", line))
            for k in ("source_match_re", "target_match_re"):
                mr = ir.get(k)
                if isinstance(mr, dict):
                    for label, value in mr.items():
                        if not _regex_ok(value):
                            yield f(target, f'invalid regexp value for "{label}"', line=_kl(mr, label, line))
            for k in ("source_matchers", "target_matchers"):
                for m in ir.get(k) or []:
                    err = _matcher_ok(m)
                    if err:
                        yield f(target, err, line=_kl(ir, k, line))

    def notifier(self, target, kind, n, g, line, receiver):
        f = self.finding

        def both(a, b):
            if n.get(a) and n.get(b):
                return f(target, f"at most one of {a} & {b} must be configured", line=_kl(n, b, line), name=receiver)
            return None

        if kind == "webhook_configs" and "max_alerts" in n:
            v = n.get("max_alerts")
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                yield f(target, f"max_alerts must be a non-negative integer (0 = no limit), not {v!r}",
                        line=_kl(n, "max_alerts", line), name=receiver, hint="use 0 for no limit, or a positive number")

        pairs = {"slack_configs": [("api_url", "api_url_file")], "opsgenie_configs": [("api_key", "api_key_file")],
                 "victorops_configs": [("api_key", "api_key_file")],
                 "pagerduty_configs": [("routing_key", "routing_key_file"), ("service_key", "service_key_file")],
                 "email_configs": [("auth_password", "auth_password_file")]}
        for a, b in pairs.get(kind, []):
            x = both(a, b)
            if x:
                yield x
        for key in _BOOL_FIELDS:
            if key in n and n.get(key) is not None and not isinstance(n.get(key), bool):
                yield f(target, f"{kind[:-1]} {key} must be true or false, not {n.get(key)!r}", line=_kl(n, key, line), name=receiver)
        if kind == "opsgenie_configs":
            for resp in n.get("responders") or []:
                if isinstance(resp, dict) and resp.get("type") is not None and not re.fullmatch(
                        r"team|teams|user|escalation|schedule", str(resp.get("type"))) and "{{" not in str(resp.get("type")):
                    yield f(target, f"opsGenieConfig responder type {resp.get('type')!r} does not match valid options "
                            "^(team|teams|user|escalation|schedule)$", line=_kl(resp, "type", line), name=receiver)
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


class UndefinedReceiver(Check):
    id = "alertmanager/undefined-receiver"
    severity = "error"
    kinds = ("alertmanager",)
    summary = "Every receiver a route names is defined."
    why = "Alertmanager refuses the config: the alerts that route would have sent go nowhere while the old config stays loaded."
    example_kind = "alertmanager"
    example_bad = "route:\n  receiver: default\n  routes:\n    - receiver: pager\n      matchers: ['severity=\"critical\"']\nreceivers:\n  - name: default\n"
    example_good = ("route:\n  receiver: default\n  routes:\n    - receiver: pager\n      matchers: ['severity=\"critical\"']\nreceivers:\n"
                    "  - name: default\n  - name: pager\n")

    def check(self, target, project):
        d = target.data
        defined = {str(r.get("name")) for r in d.get("receivers") or [] if isinstance(r, dict)}
        for r, _ in _routes(d.get("route")):
            name = r.get("receiver")
            if name and str(name) not in defined:
                yield self.finding(target, f'undefined receiver "{name}" used in route', line=_kl(r, "receiver", getattr(r, "line", 1)),
                                   name=str(name), hint=f"define a receiver named {name!r}, or fix the name")


class UnusedReceiver(Check):
    id = "alertmanager/unused-receiver"
    severity = "warning"
    kinds = ("alertmanager",)
    summary = "Every receiver is used by some route."
    why = "An unused receiver usually means a route was deleted or misspelt: the team it was for gets no alerts."
    example_kind = "alertmanager"
    example_bad = "route:\n  receiver: default\nreceivers:\n  - name: default\n  - name: db-team\n"
    example_good = ("route:\n  receiver: default\n  routes:\n    - receiver: db-team\n      matchers: ['team=\"db\"']\nreceivers:\n"
                    "  - name: default\n  - name: db-team\n")

    def check(self, target, project):
        d = target.data
        used = {str(r.get("receiver")) for r, _ in _routes(d.get("route")) if r.get("receiver")}
        receivers = d.get("receivers") or []
        lines = getattr(receivers, "lines", [])
        for i, r in enumerate(receivers):
            if isinstance(r, dict) and r.get("name") and str(r["name"]) not in used:
                yield self.finding(target, f'receiver "{r["name"]}" is not used by any route', line=lines[i] if i < len(lines) else None,
                                   name=str(r["name"]), hint="route some alerts to it, or delete it")


def _is_catch_all(r) -> bool:
    return not any(r.get(k) for k in ("match", "match_re", "matchers"))


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
        for r, _ in _routes(target.data.get("route")):
            children = [c for c in (r.get("routes") or []) if isinstance(c, dict)]
            lines = getattr(r.get("routes"), "lines", [])
            for i, c in enumerate(children):
                if _is_catch_all(c) and not c.get("continue") and i + 1 < len(children):
                    for j in range(i + 1, len(children)):
                        yield self.finding(target, f"route {j + 1} can never match: route {i + 1} (line {lines[i] if i < len(lines) else '?'}) "
                                           "matches every alert and has no `continue: true`",
                                           line=lines[j] if j < len(lines) else None, name=str(children[j].get("receiver") or ""),
                                           hint="move the catch-all route last, give it matchers, or set continue: true")
                    break


class Intervals(Check):
    id = "alertmanager/intervals"
    severity = "warning"
    kinds = ("alertmanager",)
    summary = "`repeat_interval` is not shorter than `group_interval`."
    why = "Notifications are only sent at group_interval ticks: a shorter repeat_interval does nothing but mislead the reader."
    example_kind = "alertmanager"
    example_bad = "route:\n  receiver: default\n  group_interval: 5m\n  repeat_interval: 1m\nreceivers:\n  - name: default\n"
    example_good = "route:\n  receiver: default\n  group_interval: 5m\n  repeat_interval: 4h\nreceivers:\n  - name: default\n"

    def check(self, target, project):
        def walk(r, gi, ri):
            if not isinstance(r, dict):
                return
            gi = parse_duration(r.get("group_interval")) if "group_interval" in r else gi
            ri = parse_duration(r.get("repeat_interval")) if "repeat_interval" in r else ri
            if gi and ri and ri < gi and ("group_interval" in r or "repeat_interval" in r):
                yield self.finding(target, f"repeat_interval ({ri:g}s) is shorter than group_interval ({gi:g}s)",
                                   line=_kl(r, "repeat_interval", getattr(r, "line", 1)), hint="make repeat_interval a multiple of group_interval")
            for c in r.get("routes") or []:
                yield from walk(c, gi, ri)

        yield from walk(target.data.get("route"), 300.0, 14400.0)


def _url_has_secret(url: str) -> bool:
    """A webhook URL carries a secret when it has credentials, a query string, or a long token-like path segment."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.username or parts.password or parts.query:
        return True
    return any(len(seg) >= 20 and re.fullmatch(r"[A-Za-z0-9_\-]+", seg) and re.search(r"\d", seg) for seg in parts.path.split("/"))


class InlineSecret(Check):
    id = "alertmanager/inline-secret"
    severity = "warning"
    kinds = ("alertmanager",)
    summary = "Secrets (passwords, API keys, tokens, webhook URLs with tokens) come from `*_file`, not inline."
    why = "An inline secret ends up in git, in backups and in `/api/v2/status` for anyone who can read Alertmanager."
    example_kind = "alertmanager"
    example_bad = ("route:\n  receiver: pager\nreceivers:\n  - name: pager\n    pagerduty_configs:\n"
                   "      - routing_key: 0123456789abcdef0123456789abcdef\n")
    example_good = ("route:\n  receiver: pager\nreceivers:\n  - name: pager\n    pagerduty_configs:\n"
                    "      - routing_key_file: /etc/alertmanager/secrets/pagerduty\n")

    def check(self, target, project):
        d = target.data
        g = d.get("global") if isinstance(d.get("global"), dict) else {}
        for k in ("smtp_auth_password", "smtp_auth_secret", "slack_api_url", "opsgenie_api_key", "wechat_api_secret", "victorops_api_key"):
            if g.get(k) and not ENV_REF.match(str(g.get(k)).strip()):
                yield self.finding(target, f"global.{k} is inline", line=_kl(g, k, 1), hint=f"use {k}_file (or a templated secret mount)")
        for r in d.get("receivers") or []:
            if not isinstance(r, dict):
                continue
            for kind in NOTIFIERS:
                for n in r.get(kind) or []:
                    if not isinstance(n, dict):
                        continue
                    for k, v in n.items():
                        if not v or isinstance(v, (dict, list, bool, int, float)) or ENV_REF.match(str(v).strip()):
                            continue  # ${VAR}/$VAR: a reference the deploy tooling fills in, not an inline secret
                        secret = k in ("auth_password", "auth_secret", "routing_key", "service_key", "user_key", "token", "api_key",
                                       "api_secret", "bot_token") or SECRET_WHEN_URL.get(kind) == k
                        if kind == "victorops_configs" and k == "routing_key":
                            secret = False
                        if kind == "webhook_configs" and k == "url":
                            secret = _url_has_secret(str(v))
                        if secret:
                            yield self.finding(target, f"{kind[:-1]} {k} of receiver {r.get('name')!r} is inline", line=_kl(n, k, None),
                                               name=str(r.get("name") or ""), hint=f"use {k}_file" if k + "_file" in NOTIFIERS[kind]
                                               else "keep it out of the file: render it at deploy time from a secret store "
                                               "(Alertmanager itself does not expand environment variables)")
                    http = n.get("http_config")
                    if isinstance(http, dict):
                        for key in ("bearer_token", "password"):
                            sub = http if key == "bearer_token" else (http.get("basic_auth") or {})
                            if isinstance(sub, dict) and sub.get(key):
                                yield self.finding(target, f"http_config {key} of receiver {r.get('name')!r} is inline",
                                                   line=_kl(sub, key, None), name=str(r.get("name") or ""), hint=f"use {key}_file")
