"""The Alertmanager 0.25 configuration model the checks share: fields per section, secrets, matchers, routes, time intervals."""

from __future__ import annotations

import re

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


#: URL fields whose value is a secret when it carries a token (:func:`url_has_secret`), per notifier
SECRET_WHEN_URL = {"slack_configs": "api_url", "webhook_configs": "url", "discord_configs": "webhook_url"}


_MATCHER = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*|"[^"]+")\s*(=~|!~|!=|=)\s*(".*"|[^"]*?)\s*$')


BOOL_FIELDS = ("send_resolved", "require_tls", "short_fields", "link_names", "update_alerts", "disable_notifications")


LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def routes(route, depth=0, path=()):
    """Every route (pre-order) with its parent chain."""
    if not isinstance(route, dict):
        return
    yield route, path
    for child in route.get("routes") or []:
        if isinstance(child, dict):
            yield from routes(child, depth + 1, path + (route,))



URL_KEYS = {"proxy_url", "url", "api_url", "slack_api_url", "pagerduty_url", "opsgenie_api_url", "wechat_api_url",
            "victorops_api_url", "telegram_api_url", "webex_api_url", "webhook_url", "client_url"}


def url_error(value: str) -> str | None:
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


def scheme_error(value: str) -> str | None:
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



def regex_ok(value) -> bool:
    if value is None or isinstance(value, (dict, list)):
        return False
    try:
        re.compile(f"^(?:{value})$")
        return True
    except re.error:
        return False



def matcher_ok(text) -> str | None:
    if not isinstance(text, str):
        return f"bad matcher {text!r}"
    m = _MATCHER.match(text)
    if not m:
        return f"bad matcher format: {text}"
    if m.group(2) in ("=~", "!~"):
        value = m.group(3).strip('"')
        if not regex_ok(value):
            return f"invalid regular expression in matcher {text}"
    return None



def parse_matcher(text: str) -> tuple[str, str, str] | None:
    m = _MATCHER.match(text) if isinstance(text, str) else None
    if not m:
        return None
    return m.group(1).strip('"'), m.group(2), m.group(3).strip('"')



def is_catch_all(r) -> bool:
    return not any(r.get(k) for k in ("match", "match_re", "matchers"))



#: query parameter names that hold a secret (``?token=``, ``?api_key=``, ``?sig=``...)
_SECRET_PARAM = re.compile(r"(?:^|[-_.])(?:api)?(?:token|key|secret|password|passwd|pass|pwd|sig|signature|auth|credentials?|code)"
                           r"(?:$|[-_.])", re.I)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def token_like(text: str) -> bool:
    """A generated credential rather than a word: a UUID, or a run of 16+ characters (between ``-_.:~``) mixing letter
    cases or letters and digits (``T0123ABCD``-style ids stay short; ``alertmanager-receiver-2`` is words)."""
    if _UUID.search(text):
        return True
    longest = max(re.split(r"[-_.:~]", text), key=len)
    if len(longest) < 16 or not longest.isalnum():
        return False
    classes = any(c.islower() for c in longest) + any(c.isupper() for c in longest) + any(c.isdigit() for c in longest)
    return classes >= 2


def url_has_secret(url: str) -> bool:
    """A URL carries a secret when it has a password, a query parameter named like one (token, key, secret, sig...) or
    holding a token-like value, or a token-like path segment (Slack/Discord/Teams webhook URLs). A plain endpoint
    (``http://receiver:8080/alerts``, ``?channel=ops``) does not."""
    from urllib.parse import parse_qsl, urlsplit

    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    if parts.password:
        return True
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if (_SECRET_PARAM.search(name) and value) or token_like(value):
            return True
    return any(token_like(seg) for seg in parts.path.split("/") if seg)




# ------------------------------------------------------------------ shapes (what Go's YAML decoder accepts)
def _am_shape():
    from aetherops_plugins.lint.shapes import STR, List, Map

    strings = List(STR, "[]string")
    labels = Map("map[string]string")
    tls = Map()
    http = Map(fields={"basic_auth": Map(), "authorization": Map(), "oauth2": Map(fields={"tls_config": tls, "scopes": strings,
                                                                                         "endpoint_params": labels}),
                       "tls_config": tls, "proxy_connect_header": Map("config.Header")})
    route = Map(fields={"group_by": strings, "matchers": strings, "match": labels, "match_re": Map(),
                        "mute_time_intervals": strings, "active_time_intervals": strings})
    route.fields["routes"] = List(route, "[]*config.Route", null="null entry in routes (amtool 0.25 crashes on it)")
    notifier = Map(fields={"http_config": http, "headers": labels, "details": labels, "custom_fields": labels, "attributes": labels,
                           "tls_config": tls, "sigv4": Map(), "fields": List(Map(), "[]*config.SlackField"),
                           "actions": List(Map(), "[]*config.SlackAction"), "mrkdwn_in": strings,
                           "responders": List(Map(), "[]config.OpsGenieConfigResponder"), "images": List(Map(), "[]config.PagerdutyImage"),
                           "links": List(Map(), "[]config.PagerdutyLink")})
    go = {"email": "Email", "pagerduty": "Pagerduty", "pushover": "Pushover", "slack": "Slack", "opsgenie": "OpsGenie",
          "webhook": "Webhook", "victorops": "VictorOps", "wechat": "Wechat", "sns": "SNS", "telegram": "Telegram",
          "webex": "Webex", "discord": "Discord"}
    receiver = Map(fields={f"{k}_configs": List(notifier, f"[]*config.{v}Config",
                                                null=f"null entry in {k}_configs (amtool 0.25 crashes on it)") for k, v in go.items()})
    inhibit = Map(fields={"source_matchers": strings, "target_matchers": strings, "equal": List(STR, "model.LabelNames"),
                          "source_match": labels, "target_match": labels, "source_match_re": Map(), "target_match_re": Map()})
    entry = Map(fields={"weekdays": List(STR, "[]timeinterval.WeekdayRange"), "days_of_month": List(STR, "[]timeinterval.DayOfMonthRange"),
                        "months": List(STR, "[]timeinterval.MonthRange"), "years": List(STR, "[]timeinterval.YearRange"),
                        "times": List(Map(), "[]timeinterval.TimeRange")})
    interval = Map(fields={"time_intervals": List(entry, "[]timeinterval.TimeInterval")})
    return Map(fields={"global": Map(fields={"http_config": http}), "route": route,
                       "inhibit_rules": List(inhibit, "[]*config.InhibitRule"),
                       "receivers": List(receiver, "[]*config.Receiver", null="null entry in receivers (amtool 0.25 crashes on it)"),
                       "templates": List(STR, "[]string"), "time_intervals": List(interval, "[]config.TimeInterval"),
                       "mute_time_intervals": List(interval, "[]config.MuteTimeInterval")})


_SHAPE = None


def shape():
    """The declared shape of an Alertmanager 0.25 config (see :mod:`aetherops_plugins.lint.shapes`)."""
    global _SHAPE
    if _SHAPE is None:
        _SHAPE = _am_shape()
    return _SHAPE


#: fields of the sections of an http_config, as prometheus/common (Alertmanager 0.25) decodes them
HTTP_SECTIONS = {"basic_auth": {"username", "password", "password_file"},
                 "authorization": {"type", "credentials", "credentials_file"},
                 "oauth2": {"client_id", "client_secret", "client_secret_file", "scopes", "token_url", "endpoint_params",
                            "tls_config", "proxy_url"},
                 "tls_config": {"ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify", "min_version"}}


def http_config_error(h) -> str | None:
    """The first error prometheus/common's ``HTTPClientConfig.Validate`` reports (mutually exclusive settings), or None."""
    if not isinstance(h, dict):
        return None

    def has(d, k):
        return isinstance(d, dict) and d.get(k) not in (None, "")

    basic, authz, oauth = h.get("basic_auth"), h.get("authorization"), h.get("oauth2")
    bearer = has(h, "bearer_token") or has(h, "bearer_token_file")
    if has(h, "bearer_token") and has(h, "bearer_token_file"):
        return "at most one of bearer_token & bearer_token_file must be configured"
    if (basic is not None or oauth is not None) and bearer:
        return "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"
    if has(basic, "password") and has(basic, "password_file"):
        return "at most one of basic_auth password & password_file must be configured"
    if authz is not None:
        if bearer:
            return "authorization is not compatible with bearer_token & bearer_token_file"
        if has(authz, "credentials") and has(authz, "credentials_file"):
            return "at most one of authorization credentials & credentials_file must be configured"
        if isinstance(authz, dict) and str(authz.get("type") or "").strip().lower() == "basic":
            return 'authorization type cannot be set to "basic", use "basic_auth" instead'
        if basic is not None or oauth is not None:
            return "at most one of basic_auth, oauth2 & authorization must be configured"
    if oauth is not None:
        if basic is not None:
            return "at most one of basic_auth, oauth2 & authorization must be configured"
        if not has(oauth, "client_id"):
            return "oauth2 client_id must be configured"
        if not (has(oauth, "client_secret") or has(oauth, "client_secret_file")):
            return "either oauth2 client_secret or client_secret_file must be configured"
        if not has(oauth, "token_url"):
            return "oauth2 token_url must be configured"
        if has(oauth, "client_secret") and has(oauth, "client_secret_file"):
            return "at most one of oauth2 client_secret & client_secret_file must be configured"
    return None


def glob_error(pattern: str) -> str | None:
    """Why Go's ``filepath.Glob`` refuses ``pattern`` (``syntax error in pattern``), or None. A port of the error paths
    of ``filepath.Match`` on Unix: an unclosed ``[``, an empty class ``[]``, a range missing an end, a trailing ``\\``."""
    p, n, i = pattern, len(pattern), 0

    def esc(i: int) -> int:
        if i >= n or p[i] in "-]":
            return -1
        if p[i] == "\\":
            i += 1
            if i >= n:
                return -1
        i += 1
        return i if i < n else -1  # the class must still be closed after it

    while i < n:
        c = p[i]
        if c == "\\":
            if i + 1 >= n:
                return "syntax error in pattern"
            i += 2
        elif c == "[":
            i += 1
            if i < n and p[i] == "^":
                i += 1
            ranges = 0
            while True:
                if i < n and p[i] == "]" and ranges:
                    i += 1
                    break
                i = esc(i)
                if i < 0:
                    return "syntax error in pattern"
                if p[i] == "-":
                    i = esc(i + 1)
                    if i < 0:
                        return "syntax error in pattern"
                ranges += 1
        else:
            i += 1
    return None


def hostport_error(value: str) -> str | None:
    """Why Go's ``net.SplitHostPort`` refuses ``value`` (``address X: missing port in address``), or None."""
    text = str(value)
    if text.startswith("["):
        end = text.find("]")
        if end == -1:
            return f"address {text}: missing ']' in address"
        rest = text[end + 1:]
        if not rest:
            return f"address {text}: missing port in address"
        if not rest.startswith(":") or ":" in rest[1:]:
            return f"address {text}: {'too many colons' if ':' in rest[1:] else 'missing port'} in address"
        port = rest[1:]
    elif ":" not in text:
        return f"address {text}: missing port in address"
    elif text.count(":") > 1:
        return f"address {text}: too many colons in address"
    else:
        port = text.rsplit(":", 1)[1]
    return f'address "{text}": port cannot be empty' if port == "" else None
