"""Alertmanager matchers: parse ``name="value"`` text into v2 API matcher objects and back.

The syntax is Alertmanager's own (what ``amtool`` and the UI accept): a label
name, one of the operators ``=``, ``!=``, ``=~``, ``!~``, and a value that may
be double-quoted. Inside the value ``\\"`` is a quote, ``\\\\`` a backslash and
``\\n`` a newline; any other backslash is kept as is (so ``job=~"api-\\d+"``
means the regex ``api-\\d+``), exactly like Alertmanager 0.25's parser.

Only the standard library is used here: this module is imported by the
command before any HTTP client exists.
"""

from __future__ import annotations

import re
from typing import Iterable

from aetherops.errors import UsageError

#: operators, longest first so ``=~`` is not read as ``=``
OPERATORS = ("=~", "!~", "!=", "=")
# patterns as text: compiled on first use (and cached by re), so importing this module costs nothing
_LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*\Z"
_CONFIG_LABEL_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z"
#: Go's ``\s`` (ASCII only): the space Alertmanager's parser skips around names, operators and values. Python's ``\s``
#: and ``str.strip()`` also take U+2000, U+00A0, U+001C..U+001F...: a value ending in one would lose it.
_GO_SPACE = " \t\n\f\r"
_SPLIT = r"(?s)[ \t\n\f\r]*([^=!~ \t\n\f\r]*)[ \t\n\f\r]*(=~|!~|!=|=)[ \t\n\f\r]*(.*?)[ \t\n\f\r]*\Z"
#: regex features Python accepts but Alertmanager's Go (RE2) engine refuses
_NOT_RE2 = (("(?=", "lookahead"), ("(?!", "negative lookahead"), ("(?<=", "lookbehind"), ("(?<!", "negative lookbehind"),
            ("(?>", "atomic groups"))
_BACKREF = r"(?<!\\)(?:\\\\)*\\[1-9]"

DEFAULT_MATCHERS = ('alertname=~".+"',)
#: the longest matcher (or braces form) taken, in characters: a longer one is a usage error (exit 2), not a
#: request too long for a URL
MAX_MATCHER_CHARS = 4096
_SHOWN_CHARS = 80


class MatcherError(UsageError):
    """A matcher that Alertmanager would refuse (exit 2, naming the matcher)."""


def shown(text: object) -> str:
    """``text`` quoted for an error message: a long one cut, with its length, so the message stays one short line."""
    if isinstance(text, str) and len(text) > _SHOWN_CHARS:
        return f"{text[:_SHOWN_CHARS]!r}... ({len(text)} characters)"
    return repr(text)


def _check_size(text: str) -> None:
    if len(text) > MAX_MATCHER_CHARS:
        raise MatcherError(f"bad matcher {shown(text)}: longer than {MAX_MATCHER_CHARS} characters")
    if re.search("[\ud800-\udfff]", text):
        raise MatcherError(f"bad matcher {shown(text)}: not valid UTF-8 text")


def op_text(is_regex: bool, is_equal: bool) -> str:
    """The operator text (``=``, ``!=``, ``=~``, ``!~``) of a matcher's ``isRegex`` / ``isEqual``."""
    return ("=~" if is_equal else "!~") if is_regex else ("=" if is_equal else "!=")


def _unescape(raw: str, text: str) -> str:
    quoted = raw.startswith('"')
    if quoted:
        raw = raw[1:]
    out: list[str] = []
    escaped = False
    for i, ch in enumerate(raw):
        if escaped:
            escaped = False
            out.append({"n": "\n", '"': '"', "\\": "\\"}.get(ch, "\\" + ch))
            continue
        if ch == "\\":
            if i < len(raw) - 1:
                escaped = True
            else:
                out.append("\\")
        elif ch == '"':
            if not quoted or i < len(raw) - 1:
                raise MatcherError(f"bad matcher {shown(text)}: unescaped double quote in the value (write \\\" inside quotes)")
            quoted = False
        else:
            out.append(ch)
    if quoted:
        raise MatcherError(f"bad matcher {shown(text)}: the value's opening double quote is never closed")
    return "".join(out)


def parse_matcher(text: str, *, colons: bool = False) -> dict:
    """``'service=~"crm-.*"'`` -> ``{"name": "service", "value": "crm-.*", "isRegex": True, "isEqual": True}``.

    Raises :class:`MatcherError` (exit 2) naming the matcher when it is not valid. ``colons``: label names may
    hold ``:``, as in the ``matchers:`` of an Alertmanager config file (its parser allows them; the API does not).
    """
    if not isinstance(text, str) or not text.strip():
        raise MatcherError(f"bad matcher {shown(text)}: empty (expected NAME=VALUE, NAME!=VALUE, NAME=~REGEX or NAME!~REGEX)")
    _check_size(text)
    body = text.strip(_GO_SPACE)
    if body.startswith("{") and body.endswith("}"):
        items = split_braces(body, text)
        if len(items) != 1:
            raise MatcherError(f"bad matcher {shown(text)}: {len(items)} matchers in braces where one is expected")
        body = items[0]
    match = re.match(_SPLIT, body)
    if not match:
        raise MatcherError(f"bad matcher {shown(text)}: expected NAME=VALUE, NAME!=VALUE, NAME=~REGEX or NAME!~REGEX")
    name, op, raw = match.groups()
    if not name:
        raise MatcherError(f"bad matcher {shown(text)}: missing label name before '{op}'")
    if not re.match(_CONFIG_LABEL_NAME if colons else _LABEL_NAME, name):
        raise MatcherError(f"bad matcher {shown(text)}: invalid label name {name!r} (letters, digits and _; not starting with a digit)")
    value = _unescape(raw, text)
    is_regex = op in ("=~", "!~")
    if is_regex:
        check_regex(value, text)
    return {"name": name, "value": value, "isRegex": is_regex, "isEqual": op in ("=", "=~")}


def split_braces(body: str, text: str) -> list[str]:
    """``{a="b", c=~"d"}`` -> ``['a="b"', 'c=~"d"']``: Alertmanager's (and amtool's) braces form, split at the
    commas outside double quotes (Alertmanager 0.25's ``ParseMatchers`` tokenizer: a backslash escapes the next
    quote anywhere; the last item alone is trimmed of any Unicode space); a trailing comma is allowed."""
    inner = body.strip()[1:-1]
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in inner:
        if ch == "," and not quoted:
            items.append("".join(current))
            current = []
            continue
        if ch == '"':
            if escaped:
                escaped = False
            else:
                quoted = not quoted
        elif ch == "\\":
            escaped = not escaped
        elif ch != ",":
            escaped = False
        current.append(ch)
    last = "".join(current).strip()
    if last or not items:
        items.append(last)
    if not items or any(not item.strip() for item in items):
        raise MatcherError(f"bad matcher {shown(text)}: empty matcher in braces (expected {{NAME=VALUE, ...}})")
    return items


def expand(texts: Iterable[str]) -> list[str]:
    """Each text as one matcher, a braces form ``{a="b", c=~"d"}`` as several."""
    out: list[str] = []
    for text in texts:
        body = text.strip() if isinstance(text, str) else text
        if isinstance(body, str) and body.startswith("{") and body.endswith("}"):
            _check_size(text)
            out.extend(split_braces(body, text))
        else:
            out.append(text)
    return out


def check_regex(value: str, text: str) -> None:
    """Refuse a regex that Alertmanager's Go (RE2) engine refuses, with Go's own message (see :mod:`.re2`)."""
    from aetherops_plugins.maintenance import re2

    try:
        re2.check(value)
    except re2.RE2Error as exc:
        hint = next((f" (Alertmanager regexes (RE2) have no {what})" for token, what in _NOT_RE2 if token in value), "")
        if not hint and re.search(_BACKREF, value):
            hint = " (Alertmanager regexes (RE2) have no back-references)"
        where = exc.expr if len(exc.expr) <= _SHOWN_CHARS else exc.expr[:_SHOWN_CHARS] + "..."
        raise MatcherError(f"bad matcher {shown(text)}: invalid regular expression: {exc.code}: `{where}`{hint}") from None


def parse_matchers(texts: Iterable[str]) -> list[dict]:
    """Parse several matchers (a braces form ``{a="b", c="d"}`` counts as several), drop exact duplicates,
    and check the set as Alertmanager will.

    A silence needs at least one matcher, and at least one that does not
    match the empty string (``env!="dev"`` alone would silence every alert
    without an ``env`` label, so Alertmanager refuses it).
    """
    out: list[dict] = []
    for text in expand(texts):
        matcher = parse_matcher(text)
        if matcher not in out:
            out.append(matcher)
    if not out:
        raise MatcherError("no matcher given")
    if all(matches_empty(m) for m in out):
        shown = ", ".join(format_matcher(m) for m in out)
        raise MatcherError(
            f"bad matcher set {shown}: every matcher also matches alerts without that label; "
            "add one that needs a value (e.g. alertname=~\".+\")"
        )
    return out


def matches_empty(matcher: dict) -> bool:
    """Whether the matcher matches the empty string (an absent label)."""
    value = matcher.get("value", "")
    if matcher.get("isRegex"):
        from aetherops_plugins.maintenance import re2

        try:
            hit = re2.check(value)
        except re2.RE2Error:
            hit = False
    else:
        hit = value == ""
    return hit if matcher.get("isEqual", True) else not hit


def quote(value: str) -> str:
    """A matcher value in double quotes, escaped the way Alertmanager's parser unescapes it."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def format_matcher(matcher: dict) -> str:
    """``{"name": "env", "value": "dev", "isRegex": False, "isEqual": False}`` -> ``env!="dev"``."""
    return f"{matcher.get('name', '')}{op_text(bool(matcher.get('isRegex')), matcher.get('isEqual', True) is not False)}{quote(matcher.get('value', ''))}"


def format_matchers(matchers: Iterable[dict]) -> str:
    return ", ".join(format_matcher(m) for m in matchers)


def normalize(matchers: Iterable[dict]) -> frozenset:
    """A comparable form of a matcher set: order and duplicates do not matter;
    a missing ``isEqual`` (silences from before Alertmanager 0.22) means ``true``."""
    return frozenset(
        (str(m.get("name", "")), str(m.get("value", "")), bool(m.get("isRegex", False)), m.get("isEqual", True) is not False)
        for m in matchers
    )
