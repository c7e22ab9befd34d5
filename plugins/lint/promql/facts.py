"""What the checks need to know about one expression, gathered in one walk over its AST (:class:`Facts`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import promql_parser as P

from aetherops_plugins.lint.promql.text import escape

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


@dataclass(slots=True)
class Selector:
    """One vector selector: ``name{matchers}[range]`` and the function it is an argument of."""

    name: str | None
    matchers: tuple  # (label, op, value), op one of = != =~ !~
    range: float | None  # seconds, for a range vector
    func: str | None  # the innermost function it is passed to

    def text(self) -> str:
        inner = ",".join(f'{n}{o}"{escape(v)}"' for n, o, v in self.matchers)
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
            from aetherops_plugins.lint.promql.parse import parse

            self._ast = parse(self.expr)
        return self._ast

    @property
    def names(self) -> set[str]:
        return {s.name for s in self.selectors if s.name}


def collect(expr: str, ast) -> Facts:
    """The facts of ``expr`` from its parsed ``ast`` (RecursionError when it nests deeper than Python allows)."""
    facts = Facts(expr, ast)
    known, excluded, filters, _rate, _scalar = _walk(ast, facts, None)
    facts.labels = (known, excluded)
    facts.filters = filters
    return facts


def subexpression(n) -> tuple:
    """``(known, excluded, filters, has_rate, scalar)`` of the sub-expression node ``n``, from the same walk as
    :func:`collect`: the labels it can carry (known None: any but ``excluded``), whether it is built from a rate."""
    return _walk(n, Facts(""), None)


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


# ------------------------------------------------------------------ the common simple case, without the parser
#: words the PromQL lexer reads as keywords (or numbers): never a metric or label name in the fast path
_KEYWORDS = frozenset("""and or unless atan2 by without on ignoring group_left group_right bool offset start end sum avg count
min max group stddev stdvar topk bottomk count_values quantile limitk limit_ratio inf nan""".split())
_SIMPLE = re.compile(r'\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{([^{}"\\]*(?:"[^"\\\n]*"[^{}"\\]*)*)\})?\s*'
                     r"(?:(==|!=|>=|<=|>|<)\s*(bool\s+)?[-+]?(?:\d{1,15}(?:\.\d{0,15})?|\.\d{1,15})(?:[eE][-+]?\d{1,2})?\s*)?")
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(!=|=)\s*"([^"\\\n]*)"\s*')


def simple_facts(expr: str) -> Facts | None:
    """The facts of ``name{l="v", ...}`` optionally compared to a number (``job:errors:ratio_rate5m > 0.05``), the
    most common alert expression, read without the parser (about 13 µs saved each); None for anything else (regex
    matchers, escapes, keywords, functions...), which goes to the parser. ``ast`` is parsed if a check asks for it."""
    m = _SIMPLE.fullmatch(expr)
    if m is None:
        return None
    name, inside, op, rb = m.groups()
    if name.lower() in _KEYWORDS:
        return None
    matchers = []
    if inside is not None and inside.strip():
        for part in inside.split(","):
            mm = _MATCHER.fullmatch(part)
            if mm is None or mm.group(1) in _KEYWORDS or mm.group(1) == "__name__":
                return None
            matchers.append((mm.group(1), mm.group(2), mm.group(3)))
    facts = Facts(expr)
    facts.selectors.append(Selector(name, tuple(matchers), None, None))
    facts.labels = (None, _NAME_ONLY)
    if op:
        facts.binops.append((op, bool(rb)))
        facts.filters = not rb
    return facts
