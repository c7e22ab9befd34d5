"""Where in an expression a parse error is: ``promql-parser`` reports none, promtool reports one.

:func:`error_offset` places the error where promtool does, from the message (the token it names) and the text
(bracket balance, the shortest prefix no completion can save).
"""

from __future__ import annotations

import re

import promql_parser as P

_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"")


_TRAILING_OP = re.compile(r"(?:[-+*/%^<>]|==|!=|>=|<=|\b(?:and|or|unless|bool|offset|by|without|on|ignoring|group_left|"
                          r"group_right))\s*$|@\s*$")
_EOF_LIKE = ("end of input", "unclosed", "unexpected end")


def error_offset(expr: str, message: str) -> int:
    """0-based offset in ``expr`` of the error, placed where promtool places it (the parser gives no position)."""
    low = message.lower()
    if any(x in low for x in _EOF_LIKE):
        return _prefix_offset(expr, len(expr)) if "unclosed" in low else len(expr)
    if low.startswith(("set operator", "binary expression")):
        return len(expr) - len(expr.lstrip())
    m = re.search(r"expected type \w+ in call to function '([^']+)'", message)
    if m:
        k = re.search(rf"\b{re.escape(m.group(1))}\s*\(\s*", expr)
        if k:
            return k.end()
    if "in aggregation" in low:
        k = re.search(r"\b(?:topk|bottomk|quantile|count_values|limitk|limit_ratio)\b[^(]*\(\s*", expr)
        if k:
            return k.end()
    m = re.search(r"function (?:with name )?'([^']+)'|call to '([^']+)'|function \"([^\"]+)\"", message)
    if m:
        name = m.group(1) or m.group(2) or m.group(3)
        k = re.search(rf"\b{re.escape(name)}\s*\(", expr)
        if k:
            return k.start()
    m = re.search(r"illegal regex for (.*)$", message)
    if m:
        k = re.search(r"([a-zA-Z_]\w*)\s*[=!]~\s*[\"'`]" + re.escape(m.group(1)), expr)
        if k:
            return k.start()
    m = re.search(r"syntax: (\S+)$", message)
    if m and m.group(1) in expr:
        return expr.find(m.group(1))
    if "inside brackets" in low or "inside braces" in low or "inside parenthes" in low:
        # the parser names the character it stumbled on, which may appear earlier too: find the first place no
        # completion can save (what promtool reports), instead of the token's first occurrence
        k = _prefix_offset(expr, -1)
        if k >= 0:
            return k
    for m in _QUOTED.finditer(message):
        token = m.group(1) or m.group(2)
        if "right parenthesis" not in low and len(expr) <= 1500 and _count_outside_strings(expr, token) > 1:
            k = _prefix_offset(expr, -1)
            if k >= 0 and expr.startswith(token, k):
                return k
        if token == ")" and "right parenthesis" in low:  # promtool points just after a stray ')' (and at a stray ']')
            return min(_scan_offset(expr) + 1, len(expr))
        if token in ("]", "}") or (len(token) == 1 and token in "([{"):
            return _scan_offset(expr)
        k = _find_outside_strings(expr, token)
        if k != -1:
            return k
    if _TRAILING_OP.search(expr):
        return len(expr)
    return _prefix_offset(expr)


_TOKEN = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*|\d[\w.]*|==|!=|>=|<=|=~|!~|\"(?:[^\"\\\\]|\\\\.)*\"?|'[^']*'?|\S")


def describe_at(expr: str, offset: int) -> str:
    """promtool-like words for what is at ``offset``: unexpected end of input / identifier "x" / "}"."""
    rest = expr[offset:].lstrip()
    if not rest:
        return "unexpected end of input"
    tok = _TOKEN.match(rest).group(0)  # type: ignore[union-attr]
    if tok[0].isalpha() or tok[0] in "_:":
        return f'unexpected identifier "{tok}"'
    if tok[0].isdigit():
        return f'unexpected number "{tok}"'
    if tok[0] in "\"'":
        return f"unexpected string {tok}"
    return f'unexpected "{tok}"'


def _ident(c: str) -> bool:
    return c.isalnum() or c == "_" or c == ":"


_FILLS = ("", "x", " x", "1", " 1", "[5m]", "x[5m]", "5m", "m", "a", ' a="b"', '="b"', '"b"', "b\"", "(x)", " (x)", "(a) (x)", " by (a) (x)",
          "x, 1", "1, x", "1, x[5m]", "x[5m], 1, 1", ' x, "a", "b", "c", "d"', ', "a", "b", "c", "d"', "a)", "a) (x)")
_CLOSER = {"(": ")", "[": "]", "{": "}"}


def _unclosed(text: str) -> str:
    stack: list[str] = []
    quote = None
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\" and quote != "`":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'`":
            quote = c
        elif c in "([{":
            stack.append(c)
        elif c in ")]}" and stack:
            stack.pop()
        i += 1
    return ("\"" if quote == '"' else "'" if quote == "'" else "`" if quote == "`" else "") + "".join(
        _CLOSER[o] for o in reversed(stack))


def _completable(prefix: str) -> bool:
    for fill in _FILLS:
        text = prefix + fill
        close = _unclosed(text)
        for candidate in (text + close, text + close.replace("}", "}[5m]", 1) if "}" in close else None):
            if candidate is None:
                continue
            try:
                P.parse(candidate)
                return True
            except Exception:  # noqa: BLE001 - ValueError, or a parser panic
                continue
    return False


def _prefix_offset(expr: str, default: int | None = None) -> int:
    """Where the shortest prefix that no completion can turn into valid PromQL ends, at the start of its last token."""
    n = len(expr)
    start = n - len(expr.lstrip())
    if n > 1500:
        return start if default is None else default
    for k in range(start + 1, n + 1):
        if (k < n and ((_ident(expr[k - 1]) and _ident(expr[k])) or (expr[k - 1] in _OPCHARS and expr[k] in _OPCHARS))
                or expr[k - 1].isspace()):
            continue
        if _completable(expr[:k]):
            continue
        j = k - 1
        if _ident(expr[j]):
            while j > start and _ident(expr[j - 1]):
                j -= 1
        elif expr[j] in _OPCHARS:
            while j > start and expr[j - 1] in _OPCHARS:
                j -= 1
        return j
    return start if default is None else default


_OPCHARS = frozenset("=!<>~")


def _count_outside_strings(expr: str, token: str) -> int:
    n = 0
    k = _find_outside_strings(expr, token)
    while k != -1:
        n += 1
        nxt = _find_outside_strings(expr[k + len(token):], token, exact=True)
        k = -1 if nxt == -1 else k + len(token) + nxt
    return n


def _find_outside_strings(expr: str, token: str, exact: bool = False) -> int:
    in_str = None
    i = 0
    n = len(expr)
    while i < n:
        c = expr[i]
        if in_str:
            if c == "\\":
                i += 2
                continue
            if c == in_str:
                in_str = None
        elif c in "\"'`":
            if expr.startswith(token, i) and token[0] == c:
                return i
            in_str = c
        elif expr.startswith(token, i):
            return i
        i += 1
    return -1 if exact else expr.find(token)


def _scan_offset(expr: str) -> int:
    """Bracket balance: an unmatched closer, else the first non-space character."""
    depth = []
    in_str = None
    for i, c in enumerate(expr):
        if in_str:
            if c == in_str:
                in_str = None
            continue
        if c in "\"'`":
            in_str = c
        elif c in "([{":
            depth.append(i)
        elif c in ")]}":
            if not depth or expr[depth[-1]] != {")": "(", "]": "[", "}": "{"}[c]:
                return i
            depth.pop()
    if depth:
        return depth[-1]
    return len(expr) - len(expr.lstrip())
