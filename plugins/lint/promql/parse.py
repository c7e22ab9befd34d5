"""PromQL text as the parser sees it: nesting limits, parsing, the analysis cache.

:func:`analyze` parses an expression once (``promql-parser``) and returns its :class:`~.facts.Facts`;
errors come back as :class:`PromQLError` with an offset found by :mod:`.positions` (the parser gives none).
"""

from __future__ import annotations

import re

import promql_parser as P

from aetherops_plugins.lint.promql.facts import Facts, collect
from aetherops_plugins.lint.promql.positions import describe_at, error_offset

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


def parse(expr: str):
    """The AST of ``expr`` (a ValueError from the parser when it does not parse); deep expressions in a big-stack thread."""
    return _parse_big_stack(expr) if nesting(expr) > _THREAD_NESTING else P.parse(expr)


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
            msg = f"{msg}: {describe_at(expr, offset)}"
        return PromQLError(msg, offset)
    except BaseException as exc:  # noqa: BLE001 - a panic in the parser must not kill lint
        return PromQLError(f"cannot parse: {exc}", 0)
    try:
        return collect(expr, ast)
    except RecursionError:
        return TooComplex("expression nests deeper than the parser's limit (Python recursion limit)", 0)


def analyze(expr: str) -> Facts:
    """Parse and extract facts (cached by text). Raises :class:`PromQLError`."""
    hit = _cache.get(expr)
    if hit is None:
        hit = _cache[expr] = _analyze_uncached(expr)
    if isinstance(hit, PromQLError):
        raise hit
    return hit
