"""Go text/template, parsed the way Prometheus and Alertmanager parse it.

A port of the lexer and parser of Go's ``text/template/parse`` package (the Go 1.19 release that
promtool 2.42 and amtool 0.25 are built with), so a template is accepted or refused with the same
message and line as the real parser gives. Nothing is executed: the port checks syntax, variable
scopes and function names, and builds a small tree the checks walk (label references, ``$value``).

Public API (used by the lint checks):

- :func:`check_template` -- the first error Prometheus would report for an alert's label or
  annotation template, or ``None``;
- :func:`parse_template` -- the parse tree (or :class:`TemplateError`), for any function set;
- :func:`label_references` -- label names a template reads from the alert's labels;
- :func:`uses_value` -- whether a template reads ``$value``;
- :func:`variable_fields` -- the fields of a variable a template reads (``$externalLabels.cluster``);
- :data:`PROMETHEUS_FUNCS`, :data:`ALERTMANAGER_FUNCS`, :data:`GO_BUILTINS`, :data:`PROMETHEUS_NEWER_FUNCS`,
  :data:`ALERTMANAGER_NEWER_FUNCS`.

How Prometheus checks a rule's template (``rulefmt.testTemplateParsing``): it prepends
``{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}``
to the text and parses the whole as the template ``__alert_<name>`` with its function map; the
prefix has no newline, so line numbers are the text's own.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache

#: text/template's own functions (Go 1.19)
GO_BUILTINS = frozenset({"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println",
                         "urlquery", "eq", "ge", "gt", "le", "lt", "ne"})
#: Prometheus 2.42's template functions (template/template.go)
PROMETHEUS_FUNCS = frozenset({
    "query", "first", "label", "value", "strvalue", "args", "reReplaceAll", "safeHtml", "match", "title", "toUpper",
    "toLower", "graphLink", "tableLink", "sortByLabel", "stripPort", "stripDomain", "humanize", "humanize1024",
    "humanizeDuration", "humanizePercentage", "humanizeTimestamp", "toTime", "pathPrefix", "externalURL", "parseDuration",
})
#: template functions later Prometheus releases added: refused by 2.42 (named in the hint)
PROMETHEUS_NEWER_FUNCS = frozenset({"toDuration", "now", "urlQueryEscape", "hasPrefix", "hasSuffix", "contains",
                                    "toLowerCase", "toUpperCase"})
#: Alertmanager 0.25's notification template functions (template/template.go DefaultFuncs)
ALERTMANAGER_FUNCS = frozenset({"toUpper", "toLower", "title", "join", "match", "safeHtml", "reReplaceAll", "stringSlice"})
#: functions later Alertmanager releases added: refused by amtool 0.25 (named in the hint)
ALERTMANAGER_NEWER_FUNCS = frozenset({"trimSpace", "date", "tz", "since", "humanizeDuration", "safeUrl", "urlUnescape", "toJson"})
#: the prefix Prometheus puts before every alert label/annotation template
PROMETHEUS_PREFIX = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

# ------------------------------------------------------------------------------------------- lexer
# item types, in the order of lex.go (keywords after KEYWORD)
(ERROR, BOOL, CHAR, CHAR_CONSTANT, COMMENT, COMPLEX, ASSIGN, DECLARE, EOF, FIELD, IDENTIFIER, LEFT_DELIM, LEFT_PAREN,
 NUMBER, PIPE, RAW_STRING, RIGHT_DELIM, RIGHT_PAREN, SPACE, STRING, TEXT, VARIABLE,
 KEYWORD, BLOCK, BREAK, CONTINUE, DOT, DEFINE, ELSE, END, IF, NIL, RANGE, TEMPLATE, WITH) = range(35)
KEYWORDS = {".": DOT, "block": BLOCK, "break": BREAK, "continue": CONTINUE, "define": DEFINE, "else": ELSE, "end": END,
            "if": IF, "range": RANGE, "nil": NIL, "template": TEMPLATE, "with": WITH}
_SPACE_CHARS = " \t\r\n"
_LEFT, _RIGHT, _LEFT_COMMENT, _RIGHT_COMMENT = "{{", "}}", "/*", "*/"


@dataclass(slots=True)
class Item:
    typ: int
    pos: int
    val: str
    line: int

    def __str__(self) -> str:  # item.String() in lex.go
        if self.typ == EOF:
            return "EOF"
        if self.typ == ERROR:
            return self.val
        if self.typ > KEYWORD:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)


def go_quote(s: str) -> str:
    """Go's ``%q`` (strconv.Quote) of a string."""
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in _ESCAPES_OUT:
            out.append(_ESCAPES_OUT[ch])
        elif ch == " " or (ch.isprintable() and not ch.isspace()):
            out.append(ch)
        else:
            o = ord(ch)
            out.append(f"\\x{o:02x}" if o < 0x80 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")
    out.append('"')
    return "".join(out)


_ESCAPES_OUT = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _go_rune(ch: str) -> str:
    """Go's ``%#U``: ``U+0041 'A'``."""
    if not ch:
        return "U+FFFFFFFFFFFFFFFF"  # Go prints eof (-1) this way
    s = f"U+{ord(ch):04X}"
    return s + f" '{ch}'" if ch.isprintable() else s


def _is_space(ch: str) -> bool:
    return ch != "" and ch in _SPACE_CHARS


def _is_alnum(ch: str) -> bool:
    if ch == "":
        return False
    if ch == "_" or ch.isalpha():
        return True
    return unicodedata.category(ch) == "Nd"


def _has_left_trim(s: str, i: int) -> bool:
    return len(s) >= i + 2 and s[i] == "-" and s[i + 1] in _SPACE_CHARS


def _has_right_trim(s: str, i: int) -> bool:
    return len(s) >= i + 2 and s[i] in _SPACE_CHARS and s[i + 1] == "-"


class _Lexer:
    """lex.go's state machine, run to the end (or the first error) in one go: the parser never changes it."""

    def __init__(self, text: str, break_ok: bool = True, continue_ok: bool = True):
        self.input = text
        self.pos = 0
        self.start = 0
        self.paren_depth = 0
        self.items: list[Item] = []
        self.break_ok = break_ok
        self.continue_ok = continue_ok
        self._newlines = [i for i, ch in enumerate(text) if ch == "\n"] if "\n" in text else []

    # helpers (next/peek/backup work on code points; positions are str indexes)
    def next(self) -> str:
        if self.pos >= len(self.input):
            self._width = 0
            return ""
        ch = self.input[self.pos]
        self._width = 1
        self.pos += 1
        return ch

    def backup(self) -> None:
        self.pos -= self._width

    def peek(self) -> str:
        return self.input[self.pos] if self.pos < len(self.input) else ""

    def _line_at(self, pos: int) -> int:
        return 1 + bisect_left(self._newlines, pos) if self._newlines else 1

    def emit(self, typ: int) -> None:
        self.items.append(Item(typ, self.start, self.input[self.start:self.pos], self._line_at(self.start)))
        self.start = self.pos

    def ignore(self) -> None:
        self.start = self.pos

    def error(self, msg: str) -> None:
        self.items.append(Item(ERROR, self.start, msg, self._line_at(self.start)))
        self._state = None

    def at_terminator(self) -> bool:
        r = self.peek()
        return r == "" or _is_space(r) or r in ".,|:)(" or r == _RIGHT[0]

    def at_right_delim(self) -> tuple[bool, bool]:
        s, p = self.input, self.pos
        if _has_right_trim(s, p) and s.startswith(_RIGHT, p + 2):
            return True, True
        if s.startswith(_RIGHT, p):
            return True, False
        return False, False

    def run(self) -> list[Item]:
        self._state = self.lex_text
        self._width = 0
        while self._state is not None:
            self._state = self._state()
        return self.items

    # states
    def lex_text(self):
        s = self.input
        x = s.find(_LEFT, self.pos)
        if x >= 0:
            self.pos = x
            trim = 0
            if _has_left_trim(s, x + len(_LEFT)):
                chunk = s[self.start:x]
                trim = len(chunk) - len(chunk.rstrip(_SPACE_CHARS))
            self.pos -= trim
            if self.pos > self.start:
                self.emit(TEXT)
            self.pos += trim
            self.ignore()
            return self.lex_left_delim
        self.pos = len(s)
        if self.pos > self.start:
            self.emit(TEXT)
        self.emit(EOF)
        return None

    def lex_left_delim(self):
        s = self.input
        self.pos += len(_LEFT)
        after = 2 if _has_left_trim(s, self.pos) else 0
        if s.startswith(_LEFT_COMMENT, self.pos + after):
            self.pos += after
            self.ignore()
            return self.lex_comment
        self.emit(LEFT_DELIM)
        self.pos += after
        self.ignore()
        self.paren_depth = 0
        return self.lex_inside_action

    def lex_comment(self):
        s = self.input
        self.pos += len(_LEFT_COMMENT)
        i = s.find(_RIGHT_COMMENT, self.pos)
        if i < 0:
            return self.error("unclosed comment")
        self.pos = i + len(_RIGHT_COMMENT)
        delim, trim = self.at_right_delim()
        if not delim:
            return self.error("comment ends before closing delimiter")
        if trim:
            self.pos += 2
        self.pos += len(_RIGHT)
        if trim:
            rest = s[self.pos:]
            self.pos += len(rest) - len(rest.lstrip(_SPACE_CHARS))
        self.ignore()
        return self.lex_text

    def lex_right_delim(self):
        s = self.input
        trim = _has_right_trim(s, self.pos)
        if trim:
            self.pos += 2
            self.ignore()
        self.pos += len(_RIGHT)
        self.emit(RIGHT_DELIM)
        if trim:
            rest = s[self.pos:]
            self.pos += len(rest) - len(rest.lstrip(_SPACE_CHARS))
            self.ignore()
        return self.lex_text

    def lex_inside_action(self):
        delim, _ = self.at_right_delim()
        if delim:
            if self.paren_depth == 0:
                return self.lex_right_delim
            return self.error("unclosed left paren")
        r = self.next()
        if r == "":
            return self.error("unclosed action")
        if _is_space(r):
            self.backup()  # the space may start " -}}"
            return self.lex_space
        if r == "=":
            self.emit(ASSIGN)
        elif r == ":":
            if self.next() != "=":
                return self.error("expected :=")
            self.emit(DECLARE)
        elif r == "|":
            self.emit(PIPE)
        elif r == '"':
            return self.lex_quote
        elif r == "`":
            return self.lex_raw_quote
        elif r == "$":
            return self.lex_variable
        elif r == "'":
            return self.lex_char
        elif r == "." and not (self.pos < len(self.input) and "0" <= self.input[self.pos] <= "9"):
            return self.lex_field
        elif r in "+-." or "0" <= r <= "9":
            self.backup()
            return self.lex_number
        elif _is_alnum(r):
            self.backup()
            return self.lex_identifier
        elif r == "(":
            self.emit(LEFT_PAREN)
            self.paren_depth += 1
        elif r == ")":
            self.emit(RIGHT_PAREN)
            self.paren_depth -= 1
            if self.paren_depth < 0:
                return self.error(f"unexpected right paren {_go_rune(r)}")
        elif ord(r) < 0x80 and r.isprintable():
            self.emit(CHAR)
        else:
            return self.error(f"unrecognized character in action: {_go_rune(r)}")
        return self.lex_inside_action

    def lex_space(self):
        s = self.input
        n = 0
        while _is_space(self.peek()):
            self.next()
            n += 1
        # a trim-marked right delimiter starts with a space: leave it for lex_right_delim
        if _has_right_trim(s, self.pos - 1) and s.startswith(_RIGHT, self.pos - 1 + 2):
            self.pos -= 1
            if n == 1:
                return self.lex_right_delim
        self.emit(SPACE)
        return self.lex_inside_action

    def lex_identifier(self):
        while True:
            r = self.next()
            if not _is_alnum(r):
                self.backup()
                word = self.input[self.start:self.pos]
                if not self.at_terminator():
                    return self.error(f"bad character {_go_rune(r)}")
                kw = KEYWORDS.get(word, 0)
                if kw > KEYWORD:
                    if (kw == BREAK and not self.break_ok) or (kw == CONTINUE and not self.continue_ok):
                        self.emit(IDENTIFIER)
                    else:
                        self.emit(kw)
                elif word[0] == ".":
                    self.emit(FIELD)
                elif word in ("true", "false"):
                    self.emit(BOOL)
                else:
                    self.emit(IDENTIFIER)
                return self.lex_inside_action

    def lex_field(self):
        return self._field_or_variable(FIELD)

    def lex_variable(self):
        if self.at_terminator():
            self.emit(VARIABLE)
            return self.lex_inside_action
        return self._field_or_variable(VARIABLE)

    def _field_or_variable(self, typ: int):
        if self.at_terminator():
            self.emit(VARIABLE if typ == VARIABLE else DOT)
            return self.lex_inside_action
        while True:
            r = self.next()
            if not _is_alnum(r):
                self.backup()
                break
        if not self.at_terminator():
            return self.error(f"bad character {_go_rune(self.peek())}")
        self.emit(typ)
        return self.lex_inside_action

    def lex_char(self):
        return self._lex_escaped("'", CHAR_CONSTANT, "unterminated character constant")

    def _accept(self, valid: str) -> bool:
        r = self.next()
        if r != "" and r in valid:
            return True
        self.backup()
        return False

    def _accept_run(self, valid: str) -> None:
        while True:
            r = self.next()
            if r == "" or r not in valid:
                self.backup()
                return

    def _scan_number(self) -> bool:
        self._accept("+-")
        digits = "0123456789_"
        if self._accept("0"):
            if self._accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self._accept("oO"):
                digits = "01234567_"
            elif self._accept("bB"):
                digits = "01_"
        self._accept_run(digits)
        if self._accept("."):
            self._accept_run(digits)
        if len(digits) == 11 and self._accept("eE"):
            self._accept("+-")
            self._accept_run("0123456789_")
        if len(digits) == 23 and self._accept("pP"):
            self._accept("+-")
            self._accept_run("0123456789_")
        self._accept("i")
        if _is_alnum(self.peek()):
            self.next()
            return False
        return True

    def lex_number(self):
        if not self._scan_number():
            return self.error(f"bad number syntax: {go_quote(self.input[self.start:self.pos])}")
        if self.peek() in ("+", "-"):
            if not self._scan_number() or self.input[self.pos - 1] != "i":
                return self.error(f"bad number syntax: {go_quote(self.input[self.start:self.pos])}")
            self.emit(COMPLEX)
        else:
            self.emit(NUMBER)
        return self.lex_inside_action

    def lex_quote(self):
        return self._lex_escaped('"', STRING, "unterminated quoted string")

    def _lex_escaped(self, quote: str, typ: int, unterminated: str):
        """A character constant or quoted string (the opening quote is scanned); the parser unquotes it."""
        while True:
            r = self.next()
            if r == "\\":
                r = self.next()
                if r not in ("", "\n"):
                    continue
                return self.error(unterminated)
            if r in ("", "\n"):
                return self.error(unterminated)
            if r == quote:
                break
        self.emit(typ)
        return self.lex_inside_action

    def lex_raw_quote(self):
        while True:
            r = self.next()
            if r == "":
                return self.error("unterminated raw quoted string")
            if r == "`":
                break
        self.emit(RAW_STRING)
        return self.lex_inside_action


def lex(text: str) -> list[Item]:
    """The items of ``text`` (the last is EOF or ERROR)."""
    return _Lexer(text).run()


# ------------------------------------------------------------------------------------------ values
class _GoSyntaxError(Exception):
    """strconv's ErrSyntax or ErrRange, or a message of node.go."""


_SIMPLE_ESC = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def _unquote_char(s: str, i: int, quote: str) -> tuple[str, int]:
    """strconv.UnquoteChar on s[i:]: (the character, the index after it)."""
    if i >= len(s):
        raise _GoSyntaxError("invalid syntax")
    c = s[i]
    if c == quote and quote in "'\"":
        raise _GoSyntaxError("invalid syntax")
    if c != "\\":
        return c, i + 1
    if i + 1 >= len(s):
        raise _GoSyntaxError("invalid syntax")
    c = s[i + 1]
    i += 2
    if c in _SIMPLE_ESC:
        return _SIMPLE_ESC[c], i
    if c in "xuU":
        n = {"x": 2, "u": 4, "U": 8}[c]
        h = s[i:i + n]
        if len(h) < n or not all(ch in "0123456789abcdefABCDEF" for ch in h):
            raise _GoSyntaxError("invalid syntax")
        v = int(h, 16)
        if c != "x" and (v > 0x10FFFF or 0xD800 <= v < 0xE000):
            raise _GoSyntaxError("invalid syntax")
        return chr(v), i + n
    if "0" <= c <= "7":
        o = s[i - 1:i + 2]
        if len(o) < 3 or not all("0" <= ch <= "7" for ch in o) or int(o, 8) > 255:
            raise _GoSyntaxError("invalid syntax")
        return chr(int(o, 8)), i + 2
    if c in "'\"":
        if c != quote:
            raise _GoSyntaxError("invalid syntax")
        return c, i
    raise _GoSyntaxError("invalid syntax")


def go_unquote(s: str) -> str:
    """strconv.Unquote of a "double-quoted" or `raw` string (ValueError-like _GoSyntaxError when invalid)."""
    if len(s) < 2 or s[0] != s[-1]:
        raise _GoSyntaxError("invalid syntax")
    q, body = s[0], s[1:-1]
    if q == "`":
        if "`" in body:
            raise _GoSyntaxError("invalid syntax")
        return body.replace("\r", "")
    if q not in "\"'" or "\n" in body:
        raise _GoSyntaxError("invalid syntax")
    out, i = [], 0
    while i < len(body):
        ch, i = _unquote_char(body, i, q)
        out.append(ch)
    if q == "'" and len(out) != 1:
        raise _GoSyntaxError("invalid syntax")
    return "".join(out)


_UNDERSCORE_OK = re.compile(r"[+-]?(0[xXoObB]_?)?[0-9a-fA-F]+(_[0-9a-fA-F]+)*([.pPeE].*)?$")


def _parse_int(text: str, unsigned: bool) -> int | None:
    """strconv.ParseInt/ParseUint(text, 0, 64), None on error."""
    s = text
    neg = False
    if s[:1] in "+-":
        if unsigned:
            return None
        neg, s = s[0] == "-", s[1:]
    if not s:
        return None
    base, body = 10, s
    if len(s) >= 2 and s[0] == "0" and s[1] in "xXoObB":
        base, body = {"x": 16, "o": 8, "b": 2}[s[1].lower()], s[2:]
    elif len(s) > 1 and s[0] == "0":
        base, body = 8, s[1:]
    if "_" in body:
        if not _UNDERSCORE_OK.match(s):
            return None
        body = body.replace("_", "")
        if not body:
            return None
    try:
        v = int(body, base)
    except ValueError:
        return None
    v = -v if neg else v
    if unsigned:
        return v if 0 <= v < 1 << 64 else None
    return v if -(1 << 63) <= v < 1 << 63 else None


def _parse_float(text: str) -> float | None:
    """strconv.ParseFloat(text, 64) for what the lexer can produce, None on error."""
    s = text
    if "_" in s:
        if not _UNDERSCORE_OK.match(s):
            return None
        s = s.replace("_", "")
    try:
        body = s.lstrip("+-")
        if body[:2].lower() == "0x":
            if "p" not in body.lower():
                return None  # a hex float needs its exponent
            v = float.fromhex(s)
        else:
            if body[:2].lower() in ("0o", "0b"):
                return None
            v = float(s)
    except (ValueError, OverflowError):
        return None
    if v in (float("inf"), float("-inf")) or v != v:
        return None
    return v


def _check_number(text: str, typ: int) -> None:
    """node.go's newNumber: raise _GoSyntaxError with its message when the constant is invalid."""
    if typ == CHAR_CONSTANT:
        _, end = _unquote_char(text, 1, text[0])
        if text[end:] != "'":
            raise _GoSyntaxError(f"malformed character constant: {text}")
        return
    if typ == COMPLEX:
        m = re.fullmatch(r"([+-]?[^+-]+(?:[eEpP][+-][^+-]*)?)([+-].+)i", text)
        if not m or _parse_float(m.group(1)) is None or _parse_float(m.group(2)) is None:
            raise _GoSyntaxError("expected integer")
        return
    if text.endswith("i") and _parse_float(text[:-1]) is not None:
        return
    if _parse_int(text, True) is not None or _parse_int(text, False) is not None:
        return
    if _parse_float(text) is not None:
        if not any(c in text for c in ".eEpP"):
            raise _GoSyntaxError(f"integer overflow: {go_quote(text)}")
        return
    raise _GoSyntaxError(f"illegal number syntax: {go_quote(text)}")


# ------------------------------------------------------------------------------------------- nodes
@dataclass
class Node:
    """A node of the parse tree: ``kind`` is one of text, action, if, range, with, template, break, continue,
    pipe, command, identifier, variable, field, chain, dot, nil, bool, number, string, list, end, else."""

    kind: str
    pos: int
    value: str = ""  #: identifier/variable/field text (``$labels.job``, ``.Labels.job``), string contents, template name
    children: list = field(default_factory=list)  #: list: nodes; command: args; pipe: commands; chain: [term]
    pipe: Node | None = None  #: action, if, range, with, template
    body: Node | None = None  #: if, range, with: the list
    else_body: Node | None = None
    decl: list = field(default_factory=list)  #: pipe: the declared variables

    def __str__(self) -> str:
        if self.kind == "end":
            return "{{end}}"
        if self.kind == "else":
            return "{{else}}"
        return self.value


class TemplateError(Exception):
    """A template the Go parser refuses: ``line`` (1-based, in the template's text) and ``message`` (Go's words)."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message

    def __str__(self) -> str:
        return self.message


class _Stop(Exception):
    pass


class _Tree:
    """parse.go's Tree: the parser state for one (top-level or defined) template."""

    def __init__(self, name: str, parse_name: str, funcs: frozenset):
        self.name = name
        self.parse_name = parse_name
        self.funcs = funcs
        self.root: Node | None = None

    def start(self, items: list[Item], state: dict, tree_set: dict) -> None:
        self.items = items
        self.state = state  # {"i": index of the next item from the lexer}
        self.token: list[Item | None] = [None, None, None]
        self.peek_count = 0
        self.vars = ["$"]
        self.tree_set = tree_set
        self.action_line = 0
        self.range_depth = 0

    # token stream
    def _lex_next(self) -> Item:
        i = self.state["i"]
        it = self.items[i] if i < len(self.items) else self.items[-1]
        self.state["i"] = i + 1
        return it

    def next(self) -> Item:
        if self.peek_count > 0:
            self.peek_count -= 1
        else:
            self.token[0] = self._lex_next()
        return self.token[self.peek_count]

    def backup(self) -> None:
        self.peek_count += 1

    def backup2(self, t1: Item) -> None:
        self.token[1] = t1
        self.peek_count = 2

    def backup3(self, t2: Item, t1: Item) -> None:
        self.token[1] = t1
        self.token[2] = t2
        self.peek_count = 3

    def peek(self) -> Item:
        if self.peek_count > 0:
            return self.token[self.peek_count - 1]
        self.peek_count = 1
        self.token[0] = self._lex_next()
        return self.token[0]

    def next_non_space(self) -> Item:
        while True:
            tok = self.next()
            if tok.typ != SPACE:
                return tok

    def peek_non_space(self) -> Item:
        tok = self.next_non_space()
        self.backup()
        return tok

    # errors
    def errorf(self, msg: str):
        raise TemplateError(self.token[0].line, msg)

    def expect(self, expected: int, context: str) -> Item:
        tok = self.next_non_space()
        if tok.typ != expected:
            self.unexpected(tok, context)
        return tok

    def expect_one_of(self, e1: int, e2: int, context: str) -> Item:
        tok = self.next_non_space()
        if tok.typ not in (e1, e2):
            self.unexpected(tok, context)
        return tok

    def unexpected(self, tok: Item, context: str):
        if tok.typ == ERROR:
            extra = ""
            if self.action_line != 0 and self.action_line != tok.line:
                extra = f" in action started at {self.parse_name}:{self.action_line}"
                if tok.val.endswith(" action"):
                    extra = extra[len(" in action"):]
            self.errorf(f"{tok}{extra}")
        self.errorf(f"unexpected {tok} in {context}")

    # trees
    def add(self) -> None:
        old = self.tree_set.get(self.name)
        if old is None or _is_empty(old.root):
            self.tree_set[self.name] = self
            return
        if not _is_empty(self.root):
            self.errorf(f"template: multiple definition of template {go_quote(self.name)}")

    def parse(self) -> None:
        self.root = Node("list", self.peek().pos)
        while self.peek().typ != EOF:
            if self.peek().typ == LEFT_DELIM:
                delim = self.next()
                if self.next_non_space().typ == DEFINE:
                    sub = _Tree("definition", self.parse_name, self.funcs)
                    sub.start(self.items, self.state, self.tree_set)
                    sub.parse_definition()
                    continue
                self.backup2(delim)
            n = self.text_or_action()
            if n.kind in ("end", "else"):
                self.errorf(f"unexpected {n}")
            self.root.children.append(n)

    def parse_definition(self) -> None:
        context = "define clause"
        name = self.expect_one_of(STRING, RAW_STRING, context)
        try:
            self.name = go_unquote(name.val)
        except _GoSyntaxError as e:
            self.errorf(str(e))
        self.expect(RIGHT_DELIM, context)
        self.root, end = self.item_list()
        if end.kind != "end":
            self.errorf(f"unexpected {end} in {context}")
        self.add()

    def item_list(self) -> tuple[Node, Node]:
        lst = Node("list", self.peek_non_space().pos)
        while self.peek_non_space().typ != EOF:
            n = self.text_or_action()
            if n.kind in ("end", "else"):
                return lst, n
            lst.children.append(n)
        self.errorf("unexpected EOF")

    def text_or_action(self) -> Node:
        tok = self.next_non_space()
        if tok.typ == TEXT:
            return Node("text", tok.pos, tok.val)
        if tok.typ == LEFT_DELIM:
            self.action_line = tok.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        self.unexpected(tok, "input")

    def action(self) -> Node:
        tok = self.next_non_space()
        t = tok.typ
        if t == BLOCK:
            return self.block_control()
        if t in (BREAK, CONTINUE):
            word = "break" if t == BREAK else "continue"
            nxt = self.next_non_space()
            if nxt.typ != RIGHT_DELIM:
                self.unexpected(nxt, "{{" + word + "}}")
            if self.range_depth == 0:
                self.errorf("{{" + word + "}} outside {{range}}")
            return Node(word, tok.pos)
        if t == ELSE:
            return self.else_control()
        if t == END:
            return Node("end", self.expect(RIGHT_DELIM, "end").pos)
        if t in (IF, RANGE, WITH):
            return self.parse_control({IF: "if", RANGE: "range", WITH: "with"}[t])
        if t == TEMPLATE:
            return self.template_control()
        self.backup()
        tok = self.peek()
        return Node("action", tok.pos, pipe=self.pipeline("command", RIGHT_DELIM))

    def pipeline(self, context: str, end: int) -> Node:
        tok = self.peek_non_space()
        pipe = Node("pipe", tok.pos)
        while True:  # declarations (the goto in parse.go)
            v = self.peek_non_space()
            if v.typ != VARIABLE:
                break
            self.next()
            after = self.peek()
            nxt = self.peek_non_space()
            if nxt.typ in (ASSIGN, DECLARE):
                self.next_non_space()
                pipe.decl.append(v.val)
                self.vars.append(v.val)
            elif nxt.typ == CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(v.val)
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (VARIABLE, RIGHT_DELIM, RIGHT_PAREN):
                        continue  # a second variable
                    self.errorf("range can only initialize variables")
                self.errorf(f"too many declarations in {context}")
            elif after.typ == SPACE:
                self.backup3(v, after)
            else:
                self.backup2(v)
            break
        while True:
            tok = self.next_non_space()
            if tok.typ == end:
                self.check_pipeline(pipe, context)
                return pipe
            if tok.typ in (BOOL, CHAR_CONSTANT, COMPLEX, DOT, FIELD, IDENTIFIER, NUMBER, NIL, RAW_STRING, STRING, VARIABLE,
                           LEFT_PAREN):
                self.backup()
                pipe.children.append(self.command())
            else:
                self.unexpected(tok, context)

    def check_pipeline(self, pipe: Node, context: str) -> None:
        if not pipe.children:
            self.errorf(f"missing value for {context}")
        for i, c in enumerate(pipe.children[1:]):
            if c.children[0].kind in ("bool", "dot", "nil", "number", "string"):
                self.errorf(f"non executable command in pipeline stage {i + 2}")

    def parse_control(self, context: str) -> Node:
        depth = len(self.vars)
        try:
            pipe = self.pipeline(context, RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            body, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_body = None
            if nxt.kind == "else":
                # "{{else if ...}}" is "{{else}}{{if ...}}...{{end}}{{end}}" with the inner end shared (Go 1.19: if only)
                if context == "if" and self.peek().typ == IF:
                    self.next()
                    else_body = Node("list", nxt.pos, children=[self.parse_control("if")])
                else:
                    else_body, nxt = self.item_list()
                    if nxt.kind != "end":
                        self.errorf(f"expected end; found {nxt}")
            return Node(context, pipe.pos, pipe=pipe, body=body, else_body=else_body)
        finally:
            del self.vars[depth:]

    def else_control(self) -> Node:
        peek = self.peek_non_space()
        if peek.typ == IF:
            return Node("else", peek.pos)
        tok = self.expect(RIGHT_DELIM, "else")
        return Node("else", tok.pos)

    def block_control(self) -> Node:
        context = "block clause"
        tok = self.next_non_space()
        name = self.parse_template_name(tok, context)
        pipe = self.pipeline(context, RIGHT_DELIM)
        block = _Tree(name, self.parse_name, self.funcs)
        block.start(self.items, self.state, self.tree_set)
        block.root, end = block.item_list()
        if end.kind != "end":
            self.errorf(f"unexpected {end} in {context}")
        block.add()
        return Node("template", tok.pos, name, pipe=pipe)

    def template_control(self) -> Node:
        context = "template clause"
        tok = self.next_non_space()
        name = self.parse_template_name(tok, context)
        pipe = None
        if self.next_non_space().typ != RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline(context, RIGHT_DELIM)
        return Node("template", tok.pos, name, pipe=pipe)

    def parse_template_name(self, tok: Item, context: str) -> str:
        if tok.typ in (STRING, RAW_STRING):
            try:
                return go_unquote(tok.val)
            except _GoSyntaxError as e:
                self.errorf(str(e))
        self.unexpected(tok, context)

    def command(self) -> Node:
        cmd = Node("command", self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.children.append(operand)
            tok = self.next()
            if tok.typ == SPACE:
                continue
            if tok.typ in (RIGHT_DELIM, RIGHT_PAREN):
                self.backup()
            elif tok.typ != PIPE:
                self.unexpected(tok, "operand")
            break
        if not cmd.children:
            self.errorf("empty command")
        return cmd

    def operand(self) -> Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == FIELD:
            fields = []
            while self.peek().typ == FIELD:
                fields.append(self.next().val)
            if node.kind in ("field", "variable"):
                node = Node(node.kind, node.pos, node.value + "".join(fields))
            elif node.kind in ("bool", "string", "number", "nil", "dot"):
                self.errorf(f"unexpected . after term {go_quote(node.value)}")
            else:
                node = Node("chain", node.pos, "".join(fields), children=[node])
        return node

    def term(self) -> Node | None:
        tok = self.next_non_space()
        t = tok.typ
        if t == IDENTIFIER:
            if tok.val not in self.funcs:
                self.errorf(f"function {go_quote(tok.val)} not defined")
            return Node("identifier", tok.pos, tok.val)
        if t == DOT:
            return Node("dot", tok.pos, ".")
        if t == NIL:
            return Node("nil", tok.pos, "nil")
        if t == VARIABLE:
            name = tok.val.split(".", 1)[0]
            if name not in self.vars:
                self.errorf(f"undefined variable {go_quote(name)}")
            return Node("variable", tok.pos, tok.val)
        if t == FIELD:
            return Node("field", tok.pos, tok.val)
        if t == BOOL:
            return Node("bool", tok.pos, tok.val)
        if t in (CHAR_CONSTANT, COMPLEX, NUMBER):
            try:
                _check_number(tok.val, t)
            except _GoSyntaxError as e:
                self.errorf(str(e))
            return Node("number", tok.pos, tok.val)
        if t == LEFT_PAREN:
            return self.pipeline("parenthesized pipeline", RIGHT_PAREN)
        if t in (STRING, RAW_STRING):
            try:
                text = go_unquote(tok.val)
            except _GoSyntaxError as e:
                self.errorf(str(e))
            n = Node("string", tok.pos, tok.val)
            n.decl = [text]
            return n
        self.backup()
        return None


def _is_empty(n: Node | None) -> bool:
    """IsEmptyTree: nothing but space (and comments)."""
    if n is None:
        return True
    if n.kind == "list":
        return all(_is_empty(c) for c in n.children)
    if n.kind == "text":
        return not n.value.strip(" \t\r\n\v\f\x85\xa0")
    return False


@dataclass
class Parsed:
    """A parsed template: ``root`` of the main template, ``defined`` the names of ``{{define}}``/``{{block}}`` templates."""

    root: Node
    defined: list


def parse_template(text: str, funcs: frozenset | set = GO_BUILTINS | PROMETHEUS_FUNCS, name: str = "template",
                   prefix: str = "") -> Parsed:
    """Parse ``text`` (after ``prefix``, whose variables are then defined) as Go's text/template would.

    Raises :class:`TemplateError` (line relative to ``prefix + text``) on the first error."""
    funcs = frozenset(funcs) | GO_BUILTINS
    full = prefix + text
    lexer = _Lexer(full, break_ok="break" not in funcs, continue_ok="continue" not in funcs)
    items = lexer.run()
    tree_set: dict = {}
    t = _Tree(name, name, funcs)
    t.start(items, {"i": 0}, tree_set)
    try:
        t.parse()
        t.add()
    except RecursionError:  # Go's stack is larger than Python's: say so instead of guessing
        raise TemplateError(t.token[0].line if t.token[0] else 1,
                            "nested too deeply for aetherops to check (over a few hundred levels)") from None
    return Parsed(t.root, [k for k in tree_set if k != name])


_NAME = "\x00name\x00"  # the template's name in cached messages, replaced by the alert's


@lru_cache(maxsize=8192)
def _prometheus_error(text: str) -> TemplateError | None:
    try:
        parse_template(text, GO_BUILTINS | PROMETHEUS_FUNCS, name=_NAME, prefix=PROMETHEUS_PREFIX)
    except TemplateError as e:
        return e
    return None


def template_error(text: str) -> TemplateError | None:
    """The error Prometheus (2.42) reports for an alert's label or annotation template, or None."""
    if "{{" not in text:
        return None
    return _prometheus_error(text)


def check_template(text: str, name: str | None = None) -> str | None:
    """The first error Prometheus' template parser would report, or None.

    With ``name`` (the alert's name) the message is promtool's exactly (``__alert_<name>:<line>: <message>``);
    without, ``<message>`` alone, prefixed with ``line N:`` when the template spans lines."""
    err = template_error(text)
    if err is None:
        return None
    if name is not None:
        return f"__alert_{name}:{err.line}: " + err.message.replace(_NAME, f"__alert_{name}")
    msg = err.message.replace(f"{_NAME}:", "line ")
    return msg if "\n" not in text else f"line {err.line}: {msg}"


# ------------------------------------------------------------------------------------ tree queries
_LABEL_REF = re.compile(r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)|\.Labels\.([A-Za-z_][A-Za-z0-9_]*)|index\s+\$labels\s+\"([^\"]+)\"")


def _walk(node: Node | None, in_query: bool, rebound: bool, out: list) -> None:
    """Collect the alert label references under ``node``: (label, as written)."""
    if node is None:
        return
    k = node.kind
    if k in ("list",):
        for c in node.children:
            _walk(c, in_query, rebound, out)
        return
    if k in ("action", "template"):
        _walk(node.pipe, in_query, rebound, out)
        return
    if k in ("if", "range", "with"):
        _walk(node.pipe, in_query, rebound, out)
        query = in_query or _calls(node.pipe, "query")
        _walk(node.body, query if k != "if" else in_query, rebound or k != "if", out)
        _walk(node.else_body, in_query, rebound, out)
        return
    if k == "pipe":
        for c in node.children:
            _walk(c, in_query, rebound, out)
        return
    if k == "command":
        args = node.children
        if len(args) >= 3 and args[0].kind == "identifier" and args[0].value == "index" and args[1].kind == "variable" \
                and args[1].value == "$labels" and args[2].kind == "string" and not in_query:
            out.append((args[2].decl[0], f"index $labels {args[2].value}"))
        for a in args:
            _walk(a, in_query, rebound, out)
        return
    if k == "variable" and node.value.startswith("$labels.") and not in_query:
        out.append((node.value.split(".")[1], node.value))
    elif k == "field" and node.value.startswith(".Labels.") and not rebound:
        out.append((node.value.split(".")[2], node.value))
    elif k == "chain":
        _walk(node.children[0], in_query, rebound, out)


def _calls(node: Node | None, fn: str) -> bool:
    if node is None:
        return False
    if node.kind == "identifier":
        return node.value == fn
    return any(_calls(c, fn) for c in node.children) or _calls(node.pipe, fn)


@lru_cache(maxsize=8192)
def label_references_as_written(text: str) -> tuple:
    """``(label, as written)`` for each reference to the alert's labels, in order.

    References inside ``{{ range query ... }}`` / ``{{ with query ... }}`` (and ``.Labels`` under any
    ``range``/``with``, where ``.`` is no longer the alert) are the sub-query's, not the alert's: left out."""
    if "abels" not in text:
        return ()
    try:
        parsed = parse_template(text, GO_BUILTINS | PROMETHEUS_FUNCS | PROMETHEUS_NEWER_FUNCS, prefix=PROMETHEUS_PREFIX)
    except TemplateError:  # syntax/template reports it; read what the text plainly says
        return tuple((m.group(1) or m.group(2) or m.group(3), m.group(0)) for m in _LABEL_REF.finditer(text))
    out: list = []
    _walk(parsed.root, False, False, out)
    return tuple(out)


def label_references(text: str) -> list[str]:
    """Label names a template reads from the alert's labels (``$labels.x``, ``.Labels.x``, ``index $labels "x"``)."""
    return [label for label, _ in label_references_as_written(text)]


@lru_cache(maxsize=4096)
def variable_fields(text: str, variable: str) -> tuple:
    """``(field, as written)`` for each ``$variable.field`` and ``index $variable "field"`` in the template (e.g. the
    external labels it reads: ``variable_fields(text, "$externalLabels")``); () when it does not parse."""
    if variable not in text:
        return ()
    try:
        parsed = parse_template(text, GO_BUILTINS | PROMETHEUS_FUNCS | PROMETHEUS_NEWER_FUNCS, prefix=PROMETHEUS_PREFIX)
    except TemplateError:
        return ()
    out: list = []
    stack = [parsed.root]
    while stack:
        n = stack.pop()
        if n is None:
            continue
        if n.kind == "variable" and n.value.startswith(variable + "."):
            out.append((n.value.split(".")[1], n.value))
        elif n.kind == "command" and len(n.children) >= 3 and n.children[0].value == "index" \
                and n.children[1].kind == "variable" and n.children[1].value == variable and n.children[2].kind == "string":
            out.append((n.children[2].decl[0], f"index {variable} {n.children[2].value}"))
        stack.extend(reversed([n.pipe, n.body, n.else_body, *n.children]))
    return tuple(out)


def uses_value(text: str) -> bool:
    """Whether the template reads the alert's value (``$value`` or ``.Value``)."""
    return "{{" in text and ("$value" in text or ".Value" in text)
