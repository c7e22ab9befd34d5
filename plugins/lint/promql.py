"""PromQL analysis shared by every check: parse each expression once, cache the facts.

``analyze(expr)`` returns :class:`Facts` (the AST plus what most checks need:
selectors, function calls, aggregations, binary operations), computed in one
pass over the AST. The parser (``promql-parser``) reports errors without a
position; :func:`error_offset` recovers one from the message and the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import promql_parser as P

try:  # functions Prometheus 2.x knows that promql-parser dropped
    P.register_extra_functions([P.Function("holt_winters", [P.ValueType.Matrix, P.ValueType.Scalar, P.ValueType.Scalar],
                                           P.ValueType.Vector)])
except ValueError:  # already registered (or built in)
    pass

#: the PromQL functions and aggregations of Prometheus 2.42 (the parser knows newer ones: they are reported as unknown)
PROMETHEUS_VERSION = "2.42"
FUNCTIONS_2_42 = frozenset("""abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes clamp
clamp_max clamp_min cos cosh count_over_time days_in_month day_of_month day_of_week day_of_year deg delta deriv exp floor
histogram_count histogram_sum histogram_fraction histogram_quantile holt_winters hour idelta increase irate label_replace
label_join last_over_time ln log10 log2 max_over_time min_over_time minute month pi predict_linear present_over_time
quantile_over_time rad rate resets round scalar sgn sin sinh sort sort_desc sqrt stddev_over_time stdvar_over_time
sum_over_time tan tanh time timestamp vector year""".split())
AGGREGATIONS_2_42 = frozenset("sum min max avg group stddev stdvar count count_values bottomk topk quantile".split())

_VS, _MS, _CALL, _AGG, _BIN = P.VectorSelector, P.MatrixSelector, P.Call, P.AggregateExpr, P.BinaryExpr
_PAREN, _UNARY, _SUB, _NUM, _STR = P.ParenExpr, P.UnaryExpr, P.SubqueryExpr, P.NumberLiteral, P.StringLiteral

COMPARISONS = frozenset({"==", "!=", ">", "<", ">=", "<="})
SET_OPS = frozenset({"and", "or", "unless"})
COUNTER_FUNCS = frozenset({"rate", "irate", "increase", "resets"})
RATE_FUNCS = frozenset({"rate", "irate", "increase"})
TIME_FUNCS = frozenset({"hour", "minute", "day_of_week", "day_of_month", "day_of_year", "days_in_month", "month", "year"})
_ME, _MNE, _MRE = P.MatchOp.Equal, P.MatchOp.NotEqual, P.MatchOp.Re
_BY = P.AggModifierType.By
_INCLUDE = P.LabelModifierType.Include
_ONE_TO_ONE, _MANY_TO_ONE, _ONE_TO_MANY = (P.VectorMatchCardinality.OneToOne, P.VectorMatchCardinality.ManyToOne,
                                           P.VectorMatchCardinality.OneToMany)


def _op(op) -> str:
    if op == _ME:
        return "="
    if op == _MNE:
        return "!="
    if op == _MRE:
        return "=~"
    return "!~"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass(slots=True)
class Selector:
    """One vector selector: ``name{matchers}[range]`` and the function it is an argument of."""

    name: str | None
    matchers: tuple  # (label, op, value), op one of = != =~ !~
    range: float | None  # seconds, for a range vector
    func: str | None  # the innermost function it is passed to

    def text(self) -> str:
        inner = ",".join(f'{n}{o}"{_escape(v)}"' for n, o, v in self.matchers)
        return f"{self.name or ''}{{{inner}}}" if inner or not self.name else self.name

    def equal(self, label: str) -> str | None:
        for n, o, v in self.matchers:
            if n == label and o == "=":
                return v
        return None


class Facts:
    """What checks need to know about one expression, computed in one pass over its AST.

    ``labels`` is ``(known, excluded)``: the labels the result can carry (``known`` None: any
    label except ``excluded``). ``filters``: the expression can drop series (a comparison,
    ``and``/``unless``, ``absent()``), which an alert needs. ``divides_by_rate``: a ``/`` whose
    denominator is built from rate/increase; ``guarded``: an ``and``/``unless`` or a
    ``clamp_min`` denominator protects it. ``ast`` is parsed again on demand (facts may come
    from a worker process, where the AST cannot be sent from).
    """

    __slots__ = ("expr", "selectors", "calls", "binops", "aggs", "experimental", "labels", "filters", "divides_by_rate",
                 "guarded", "_ast")

    def __init__(self, expr: str, ast=None):
        self.expr = expr
        self._ast = ast
        self.selectors: list[Selector] = []
        self.calls: list[str] = []
        self.binops: list[tuple[str, bool]] = []
        self.aggs: list[str] = []
        self.experimental: list[str] = []
        self.labels: tuple = (None, frozenset())
        self.filters = False
        self.divides_by_rate = False
        self.guarded = False

    def __getstate__(self):
        return {k: getattr(self, k) for k in self.__slots__ if k != "_ast"}

    def __setstate__(self, state):
        for k, v in state.items():
            setattr(self, k, v)
        self._ast = None

    @property
    def ast(self):
        if self._ast is None:
            self._ast = _parse_big_stack(self.expr) if nesting(self.expr) > _THREAD_NESTING else P.parse(self.expr)
        return self._ast

    @property
    def names(self) -> set[str]:
        return {s.name for s in self.selectors if s.name}


_cache: dict[str, object] = {}


class PromQLError(Exception):
    def __init__(self, message: str, offset: int = 0):
        super().__init__(message, offset)
        self.message = message
        self.offset = offset


class TooComplex(PromQLError):
    """The expression nests deeper than the parser can take safely: an error at the position where the limit is crossed."""


#: nesting (binary operators + bracket depth) above which an expression is not parsed: promql-parser recurses on the
#: C stack and overflows it (a segfault, not an exception) at about 4,190 chained binary operators with Linux's 8 MB main
#: stack (bisected in a subprocess; ``(((...)))`` 6,000 deep still parses). Windows' main stack is 1 MB, and the AST
#: walks here recurse in Python too: 500 keeps a wide margin everywhere. Real rules stay far below (kube-prometheus: < 40).
#: Deeper expressions are an error (``syntax/promql``) at the position where this limit is crossed: an expression that
#: cannot be checked is never passed with a warning.
MAX_NESTING = 500
#: above this, parse in a thread with a big stack (a parser panic/overflow there still cannot happen below MAX_NESTING)
_THREAD_NESTING = 120
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_OPERATORS = re.compile(r"==|!=|>=|<=|[-+*/%^<>]|\b(?:and|or|unless|atan2)\b")


def _blank_strings(expr: str) -> str:
    """``expr`` with the contents of string literals blanked (same length, so offsets stay valid)."""
    return _STRINGS.sub(lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 2) + m.group(0)[-1], expr)


def nesting(expr: str) -> int:
    """A cheap upper bound of the AST depth: binary/unary operators plus the deepest bracket nesting."""
    if len(expr) < 400:
        return 0
    bare = _blank_strings(expr)
    depth = deepest = 0
    for c in bare:
        if c in "([{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif c in ")]}":
            depth -= 1
    return len(_OPERATORS.findall(bare)) + deepest


def nesting_offset(expr: str, limit: int = MAX_NESTING) -> int:
    """The offset at which :func:`nesting` first exceeds ``limit`` (operators so far + deepest bracket so far)."""
    bare = _blank_strings(expr)
    ops = [m.start() for m in _OPERATORS.finditer(bare)]
    depth = deepest = seen = 0
    for i, c in enumerate(bare):
        while seen < len(ops) and ops[seen] <= i:
            seen += 1
        if c in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in ")]}":
            depth -= 1
        if seen + deepest > limit:
            return i
    return 0


def _parse_big_stack(expr: str):
    import threading

    box: list = []

    def work():
        try:
            box.append(P.parse(expr))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box.append(exc)

    old = threading.stack_size()
    try:
        threading.stack_size(64 * 1024 * 1024)
        t = threading.Thread(target=work, name="promql-parse")
        t.start()
    finally:
        threading.stack_size(old)
    t.join()
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


def _analyze_uncached(expr: str):
    depth = nesting(expr)
    if depth > MAX_NESTING:
        return TooComplex(f"expression nests deeper than the parser's limit ({depth} operators and nesting levels, "
                          f"limit {MAX_NESTING})", nesting_offset(expr))
    try:
        ast = _parse_big_stack(expr) if depth > _THREAD_NESTING else P.parse(expr)
    except ValueError as exc:
        msg = str(exc)
        offset = error_offset(expr, msg)
        if msg.strip() == "invalid promql query":  # the parser says no more: name what is at the position
            msg = f"{msg}: {_describe_at(expr, offset)}"
        return PromQLError(msg, offset)
    except BaseException as exc:  # noqa: BLE001 - a panic in the parser must not kill lint
        return PromQLError(f"cannot parse: {exc}", 0)
    facts = Facts(expr, ast)
    try:
        known, excluded, filters, _rate, _scalar = _walk(ast, facts, None)
    except RecursionError:
        return TooComplex("expression nests deeper than the parser's limit (Python recursion limit)", 0)
    facts.labels = (known, excluded)
    facts.filters = filters
    return facts


def analyze(expr: str) -> Facts:
    """Parse and extract facts (cached by text). Raises :class:`PromQLError`."""
    hit = _cache.get(expr)
    if hit is None:
        hit = _cache[expr] = _analyze_uncached(expr)
    if isinstance(hit, PromQLError):
        raise hit
    return hit


def _batch(exprs: list[str]) -> list:
    out = []
    for e in exprs:
        r = _analyze_uncached(e)
        out.append(("big" if isinstance(r, TooComplex) else "err", r.message, r.offset) if isinstance(r, PromQLError) else r)
    return out


def analyze_many(exprs, *, parallel_min: int = 3000) -> None:
    """Fill the cache for many expressions; on big inputs, in worker processes too (fork only)."""
    todo = [e for e in dict.fromkeys(exprs) if isinstance(e, str) and e.strip() and e not in _cache]
    if not todo:
        return
    import multiprocessing
    import os

    workers = min(4, os.cpu_count() or 1)
    if len(todo) < parallel_min or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for e in todo:
            _cache[e] = _analyze_uncached(e)
        return
    ctx = multiprocessing.get_context("fork")
    # the main process takes the first share itself while the workers do the rest
    share = len(todo) // workers + 1
    chunks = [todo[i:i + share] for i in range(share, len(todo), share)]
    with ctx.Pool(len(chunks)) as pool:
        pending = pool.map_async(_batch, chunks)
        for e in todo[:share]:
            _cache[e] = _analyze_uncached(e)
        for chunk, results in zip(chunks, pending.get()):
            for e, r in zip(chunk, results):
                _cache[e] = (TooComplex if r[0] == "big" else PromQLError)(r[1], r[2]) if isinstance(r, tuple) else r


_RECORDED_RATE = re.compile(r":[^:]*(?:^|_|:)(?:i?rate|increase)\d*[smhdwy]?(?:_|$)|:(?:i?rate|increase)\d")
_EMPTY = frozenset()
_NAME_ONLY = frozenset({"__name__"})


def _walk(n, f: Facts, func):
    """One pass: record selectors/calls/ops in ``f``; return (known, excluded, filters, has_rate, scalar)."""
    t = type(n)
    if t is _VS:
        name = n.name
        f.selectors.append(Selector(name, tuple((m.name, _op(m.op), m.value) for m in n.matchers.matchers), None, func))
        # a recorded rate (job:errors:rate5m, ...:increase1h) counts as a rate
        return None, _NAME_ONLY, False, bool(name and ":" in name and _RECORDED_RATE.search(name)), False
    if t is _MS:
        v = n.vector_selector
        f.selectors.append(Selector(v.name, tuple((m.name, _op(m.op), m.value) for m in v.matchers.matchers),
                                    n.range.total_seconds(), func))
        return None, _NAME_ONLY, False, False, False
    if t is _NUM:
        return _EMPTY, _EMPTY, False, False, True
    if t is _STR:
        return _EMPTY, _EMPTY, False, False, False
    if t is _PAREN:
        return _walk(n.expr, f, func)
    if t is _CALL:
        fn = n.func
        name = fn.name
        f.calls.append(name)
        if fn.experimental:
            f.experimental.append(name)
        results = []
        args = n.args
        first_sel = len(f.selectors)
        for a in args:
            results.append(_walk(a, f, name) if isinstance(a, P.Expr) else (_EMPTY, _EMPTY, False, False, True))
        filters = name in ("absent", "absent_over_time") or any(r[2] for r in results)
        rate = name in RATE_FUNCS or any(r[3] for r in results)
        if name in ("time", "scalar", "pi") or (name in TIME_FUNCS and not args):
            return _EMPTY, _EMPTY, filters, rate, True
        if name == "vector":
            return _EMPTY, _EMPTY, filters, rate, False
        if name in ("absent", "absent_over_time"):
            labels = set()
            for sel in f.selectors[first_sel:]:
                labels |= {m[0] for m in sel.matchers if m[1] == "=" and m[0] != "__name__"}
            return frozenset(labels), _EMPTY, True, rate, False
        vec = [r for a, r in zip(args, results) if type(a) not in (_NUM, _STR) and not r[4]]
        if not vec:
            return _EMPTY, _EMPTY, filters, rate, False
        known, excl = vec[0][0], vec[0][1]
        if name in ("label_replace", "label_join") and len(args) > 1:
            dst = getattr(args[1], "val", None)
            if dst:
                known = None if known is None else known | {dst}
                excl = excl - {dst}
        elif name in ("histogram_quantile", "histogram_fraction"):
            known = None if known is None else known - {"le"}
            excl = excl | {"le"}
        return known, excl, filters, rate, False
    if t is _AGG:
        op = str(n.op)
        f.aggs.append(op)
        known, excl, filters, rate, _ = _walk(n.expr, f, func)
        param = n.param
        if isinstance(param, P.Expr) and type(param) not in (_NUM, _STR):
            _walk(param, f, func)
        if op in ("topk", "bottomk", "limitk", "limit_ratio"):
            return known, excl, filters, rate, False
        extra = _EMPTY
        if op == "count_values" and param is not None:
            extra = frozenset({str(getattr(param, "val", param)).strip('"')})
        mod = n.modifier
        if mod is None:
            return extra, _EMPTY, filters, rate, False
        labels = frozenset(mod.labels)
        if mod.type == _BY:
            return (labels if known is None else labels & known) | extra, _EMPTY, filters, rate, False
        if known is not None:
            return (known - labels) | extra, _EMPTY, filters, rate, False
        return None, excl | labels, filters, rate, False
    if t is _BIN:
        op = str(n.op)
        mod = n.modifier
        rb = bool(mod and mod.return_bool)
        f.binops.append((op, rb))
        lk, le, lf, lr, ls = _walk(n.lhs, f, func)
        rhs = n.rhs
        rk, re_, rf, rr, rs = _walk(rhs, f, func)
        rate = lr or rr
        if op in COMPARISONS:
            filters = (not rb) or lf or rf
        elif op in ("and", "unless"):
            filters = True
            f.guarded = True
        elif op == "or":
            filters = lf and rf
        else:
            filters = lf or rf
        if op == "/":
            if rr:
                f.divides_by_rate = True
            if rf:  # a filtering denominator: `/ (sum(rate(r[5m])) > 0)` drops the no-traffic series itself
                f.guarded = True
            r0 = rhs
            while type(r0) is _PAREN:
                r0 = r0.expr
            if type(r0) is _CALL and r0.func.name in ("clamp_min", "clamp"):
                f.guarded = True
        if ls and rs:
            return _EMPTY, _EMPTY, filters, rate, True
        if ls:
            return rk, re_, filters, rate, False
        if rs:
            return lk, le, filters, rate, False
        matching = mod.matching if mod else None
        card = mod.card if mod is not None and mod.card is not None else _ONE_TO_ONE
        if op == "or":
            if lk is None or rk is None:
                return None, le & re_, filters, rate, False
            return lk | rk, _EMPTY, filters, rate, False
        if op in ("and", "unless"):
            return lk, le, filters, rate, False
        if card == _ONE_TO_ONE and matching is not None:
            ml = frozenset(matching.labels)
            if matching.type == _INCLUDE:
                return (ml if lk is None else lk & ml), _EMPTY, filters, rate, False
            return ((None, le | ml) if lk is None else (lk - ml, _EMPTY)) + (filters, rate, False)
        if card == _MANY_TO_ONE:
            extra = frozenset(mod.group_labels or ())
            return ((None, le - extra) if lk is None else (lk | extra, _EMPTY)) + (filters, rate, False)
        if card == _ONE_TO_MANY:
            extra = frozenset(mod.group_labels or ())
            return ((None, re_ - extra) if rk is None else (rk | extra, _EMPTY)) + (filters, rate, False)
        return lk, le, filters, rate, False
    if t is _UNARY:
        return _walk(n.expr, f, func)
    if t is _SUB:
        known, excl, filters, rate, _ = _walk(n.expr, f, func)
        return known, excl, filters, rate, False
    return None, _EMPTY, False, False, False


# ------------------------------------------------------------------ error positions
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


def _describe_at(expr: str, offset: int) -> str:
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


# ------------------------------------------------------------------ Grafana variables
_GRAFANA_RANGE_VAR = re.compile(r"\[\s*(\$\{?[A-Za-z_][A-Za-z0-9_]*(?::[a-z]+)?\}?|\[\[[A-Za-z0-9_]+\]\])\s*(:[^\]]*)?\]")
_GRAFANA_VAR = re.compile(r"\$\{[^}]+\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[A-Za-z0-9_:]+\]\]")


def substitute_grafana(expr: str) -> list[str]:
    """Candidate texts with Grafana variables replaced so the result parses as PromQL."""
    if "$" not in expr and "[[" not in expr:
        return [expr]
    ranged = _GRAFANA_RANGE_VAR.sub(lambda m: "[5m" + (m.group(2) or "") + "]", expr)
    ranged = re.sub(r"(\[\s*[0-9a-z]+\s*:\s*)(\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)", r"\g<1>1m", ranged)
    ranged = re.sub(r"(offset\s+)-?(\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)", r"\g<1>5m", ranged)

    def outside(repl):
        out = []
        in_str = None
        last = 0
        for m in _GRAFANA_VAR.finditer(ranged):
            seg = ranged[last:m.start()]
            for c in seg:
                if in_str:
                    if c == in_str:
                        in_str = None
                elif c in "\"'`":
                    in_str = c
            out.append(seg)
            out.append(m.group(0) if in_str else repl)
            last = m.end()
        out.append(ranged[last:])
        return "".join(out)

    return [outside("grafana_var"), outside("1")]


_MAYBE_QUOTED_NAME = re.compile(r"[{,]\s*[\"'`]")


def quoted_label_names(expr: str) -> list[int]:
    """Offsets of quoted label names inside ``{...}`` (``{"job"="a"}``, ``{"up"}``): newer syntax than 2.42."""
    out: list[int] = []
    if not _MAYBE_QUOTED_NAME.search(expr):
        return out
    depth = 0
    i, n = 0, len(expr)
    expect_name = False
    while i < n:
        c = expr[i]
        if c in "\"'`":
            j = i + 1
            while j < n and expr[j] != c:
                j += 2 if expr[j] == "\\" and c != "`" else 1
            if depth and expect_name:
                out.append(i)
            expect_name = False
            i = j + 1
            continue
        if c == "{":
            depth += 1
            expect_name = True
        elif c == "}":
            depth = max(0, depth - 1)
            expect_name = False
        elif c == "," and depth:
            expect_name = True
        elif not c.isspace():
            expect_name = False
        i += 1
    return out
