"""A small Go text/template reader: enough to find what Prometheus would reject in annotations and labels."""

from __future__ import annotations

import re

GO_FUNCS = {"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println", "urlquery",
            "eq", "ge", "gt", "le", "lt", "ne"}
PROM_FUNCS = {"query", "first", "label", "value", "strvalue", "args", "reReplaceAll", "safeHtml", "match", "title", "toUpper",
              "toLower", "graphLink", "tableLink", "sortByLabel", "stripPort", "stripDomain", "humanize", "humanize1024",
              "humanizeDuration", "humanizePercentage", "humanizeTimestamp", "toTime", "toDuration", "pathPrefix",
              "externalURL", "parseDuration", "now", "urlQueryEscape", "hasPrefix", "hasSuffix", "contains"}
KEYWORDS = {"if", "else", "end", "range", "with", "define", "template", "block", "nil", "true", "false", "break", "continue"}
PREDEFINED = {"$labels", "$value", "$externalLabels", "$externalURL", "$"}

_ACTION = re.compile(r"\{\{(.*?)\}\}", re.S)
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`|\'(?:[^\'\\]|\\.)*\'|/\*.*?\*/|(\$[A-Za-z0-9_]*)|(\.[A-Za-z0-9_.]*)|([A-Za-z_][A-Za-z0-9_]*)|(:=|=)|(\|)|\S',
                    re.S)
_LABEL_REF = re.compile(r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)|\.Labels\.([A-Za-z_][A-Za-z0-9_]*)|index\s+\$labels\s+\"([^\"]+)\"")


class TemplateError(Exception):
    pass


def check_template(text: str) -> str | None:
    """The first error Prometheus' template parser would report, or None."""
    if "{{" not in text and "}}" not in text:
        return None
    opens = text.count("{{")
    closes = len(_ACTION.findall(text))
    if opens != closes:
        return "unclosed action (a '{{' without '}}')"
    defined = set(PREDEFINED)
    stack: list[str] = []
    for m in _ACTION.finditer(text):
        body = m.group(1)
        if body.startswith("-"):
            body = body[1:]
        if body.endswith("-"):
            body = body[:-1]
        body = body.strip()
        if body.startswith("/*"):
            continue
        tokens = list(_TOKEN.finditer(body))
        if not tokens:
            return "missing value for command"
        first = tokens[0].group(0)
        if first in ("if", "range", "with", "define", "block"):
            stack.append(first)
        elif first == "end":
            if not stack:
                return "unexpected {{end}}"
            stack.pop()
        elif first == "else" and not stack:
            return "unexpected {{else}}"
        # declarations: $x := ..., range $i, $e := ...
        decl = [t.group(1) for t in tokens if t.group(1)]
        if any(t.group(4) == ":=" for t in tokens):
            for t in tokens:
                if t.group(4):
                    break
                if t.group(1):
                    defined.add(t.group(1))
        for prev, t in zip([None] + tokens[:-1], tokens):
            var = t.group(1)
            if var and var not in defined:
                return f'undefined variable "{var}"'
            ident = t.group(3)
            if ident and ident not in KEYWORDS and ident not in GO_FUNCS and ident not in PROM_FUNCS:
                if prev is not None and prev.group(0).endswith("."):
                    continue
                return f'function "{ident}" not defined'
        del decl
    if stack:
        return f"unexpected EOF: {{{{{stack[-1]}}}}} has no {{{{end}}}}"
    return None


def label_references(text: str) -> list[str]:
    """Label names a template reads from ``$labels`` (``$labels.x``, ``.Labels.x``, ``index $labels "x"``)."""
    if "abels" not in text:
        return []
    out = []
    for m in _LABEL_REF.finditer(text):
        out.append(m.group(1) or m.group(2) or m.group(3))
    return out


def uses_value(text: str) -> bool:
    return "{{" in text and ("$value" in text or ".Value" in text)
