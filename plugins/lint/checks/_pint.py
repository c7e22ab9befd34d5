"""Helpers of the pint-counterpart checks (promql/fragile, promql/impossible, promql/nan, promql/regexp,
online/offset, online/range-query, online/features, alerts/external-labels, labels/conflict): walking the
expression's AST, the labels a sub-expression can carry, and what the live server says about itself."""

from __future__ import annotations

from typing import Iterator

import promql_parser as P

ARITHMETIC = frozenset({"+", "-", "*", "/", "%", "^", "atan2"})
COMPARISON = frozenset({"==", "!=", ">", "<", ">=", "<="})
#: how long after its last sample a series is still returned by queries (Prometheus' default lookback delta)
LOOKBACK_SECONDS = 300.0


def children(n) -> list:
    t = type(n)
    if t is P.BinaryExpr:
        return [n.lhs, n.rhs]
    if t is P.AggregateExpr:
        return [n.expr] + ([n.param] if isinstance(n.param, P.Expr) else [])
    if t is P.Call:
        return [a for a in n.args if isinstance(a, P.Expr)]
    if t in (P.ParenExpr, P.UnaryExpr, P.SubqueryExpr):
        return [n.expr]
    if t is P.MatrixSelector:
        return [n.vector_selector]
    return []


def walk(n, parents: tuple = ()) -> Iterator[tuple]:
    """Every node under ``n`` (pre-order) with the tuple of its ancestors, outermost first."""
    stack = [(n, parents)]
    while stack:
        node, ps = stack.pop()
        yield node, ps
        kids = children(node)
        for k in reversed(kids):
            stack.append((k, ps + (node,)))


def rule_ast(rule):
    """The rule's parsed expression, or None (no expression, or one syntax/promql reports)."""
    facts = rule.facts
    if facts is None:
        return None
    try:
        return facts.ast
    except Exception:  # the parse error is syntax/promql's finding
        return None


class Nodes:
    """The aggregations and binary operations of one expression, with their ancestors: one walk shared by every check."""

    __slots__ = ("aggs", "binaries")

    def __init__(self, ast):
        self.aggs: list = []
        self.binaries: list = []
        for node, parents in walk(ast):
            t = type(node)
            if t is P.AggregateExpr:
                self.aggs.append((node, parents))
            elif t is P.BinaryExpr:
                self.binaries.append((node, parents))


_NODES: dict = {}


def nodes(rule) -> Nodes | None:
    """The :class:`Nodes` of the rule's expression (cached per expression text for the run), or None."""
    expr = rule.expr
    hit = _NODES.get(expr)
    if hit is None:
        ast = rule_ast(rule)
        if ast is None:
            return None
        if len(_NODES) > 50000:
            _NODES.clear()
        hit = _NODES[expr] = Nodes(ast)
    return hit


def unwrap(n):
    while type(n) is P.ParenExpr:
        n = n.expr
    return n


def labels_of(n) -> tuple:
    """``(known, excluded)`` labels the sub-expression ``n`` can carry (known None: any but ``excluded``),
    from the same walk as the rule's facts."""
    from aetherops_plugins.lint.promql.facts import subexpression

    known, excluded, *_ = subexpression(n)
    return known, excluded


def has_rate(n) -> bool:
    """Whether ``n`` is built from rate()/irate()/increase() (or a recorded rate such as ``job:x:rate5m``)."""
    from aetherops_plugins.lint.promql.facts import subexpression

    return bool(subexpression(n)[3])


def lacks(n, label: str) -> str | None:
    """Why ``n`` cannot carry ``label`` (None: it may; ``__name__`` is never judged: selectors keep it, functions drop it)."""
    if label == "__name__":
        return None
    known, excluded = labels_of(n)
    if known is not None and label not in known:
        return f"it keeps only {', '.join(sorted(known)) or 'no labels'}" if known else "it keeps no labels"
    if label in excluded:
        return f"{label!r} was removed earlier"
    return None


def selector_jobs(n) -> set:
    """The ``job="..."`` values the selectors under ``n`` pin (empty: some selector does not pin one)."""
    jobs = set()
    for node, _ in walk(n):
        if type(node) is P.VectorSelector:
            pinned = [m.value for m in node.matchers.matchers if m.name == "job" and m.op == P.MatchOp.Equal]
            if not pinned:
                return set()
            jobs.update(pinned)
    return jobs


def matching(n) -> tuple:
    """A binary expression's vector matching: (``on``/``ignoring``/None, labels, group labels, cardinality)."""
    mod = n.modifier
    if mod is None or mod.matching is None:
        return None, [], [], None
    kind = "on" if mod.matching.type == P.LabelModifierType.Include else "ignoring"
    return kind, list(mod.matching.labels), list(getattr(mod, "group_labels", None) or []), mod.card


#: calls whose result is a scalar
SCALAR_CALLS = frozenset({"scalar", "time", "pi"})


def is_vector(n, scalar_calls: frozenset = SCALAR_CALLS) -> bool:
    """Whether ``n`` is an instant vector: not a literal, nor one of ``scalar_calls``, nor built only from those."""
    n = unwrap(n)
    t = type(n)
    if t in (P.NumberLiteral, P.StringLiteral):
        return False
    if t is P.Call and n.func.name in scalar_calls:
        return False
    if t is P.UnaryExpr:
        return is_vector(n.expr, scalar_calls)
    if t is P.BinaryExpr:
        return is_vector(n.lhs, scalar_calls) or is_vector(n.rhs, scalar_calls)
    return True


def server(online) -> dict:
    """What the live server says about itself (cached for the run): ``version`` (tuple or None), ``features`` (set of
    ``--enable-feature`` values), ``retention`` (seconds or None) and ``external_labels`` (dict)."""
    return online.remember("__pint_server__", lambda: _server(online.client))


def _server(client) -> dict:
    import re

    from aetherops_plugins.lint.loader import parse_duration

    info: dict = {"version": None, "features": set(), "retention": None, "external_labels": {}}
    try:
        m = re.match(r"(\d+)\.(\d+)\.(\d+)", str(client.build_info().get("version", "")))
        info["version"] = tuple(int(x) for x in m.groups()) if m else None
    except Exception:  # not every Prometheus-compatible API has buildinfo: leave it unknown
        pass
    try:  # the effective retention ("15d", "10GiB", "15d or 10GiB"): only the time part bounds queries
        rt = str((client.get_json("/api/v1/status/runtimeinfo").get("data") or {}).get("storageRetention", ""))
        for part in rt.split(" or "):
            d = parse_duration(part.strip())
            if d:
                info["retention"] = d
    except Exception:
        pass
    try:
        flags = client.flags()
        info["features"] = {f.strip() for f in str(flags.get("enable-feature", "")).split(",") if f.strip()}
        if info["retention"] is None:
            for key in ("storage.tsdb.retention.time", "storage.tsdb.retention"):
                d = parse_duration(flags.get(key))
                if d:
                    info["retention"] = d
                    break
            else:
                if "storage.tsdb.retention.time" in flags and flags.get("storage.tsdb.retention.size", "0B") in ("0B", "0"):
                    info["retention"] = 15 * 86400.0  # Prometheus' default when no retention flag is set
    except Exception:
        pass
    try:
        import yaml

        cfg = yaml.safe_load(client.running_config() or "") or {}
        labels = (cfg.get("global") or {}).get("external_labels") or {}
        info["external_labels"] = {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
    except Exception:
        pass
    return info


def lookbacks(ast) -> Iterator[tuple]:
    """``(offset seconds, range seconds, text)`` of every selector and subquery that reaches into the past."""
    for node, parents in walk(ast):
        t = type(node)
        if t is P.VectorSelector and node.offset is not None and not (parents and type(parents[-1]) is P.MatrixSelector):
            yield node.offset.total_seconds(), 0.0, f"offset {P.display_duration(node.offset)}"
        elif t is P.MatrixSelector:
            off = node.vector_selector.offset
            yield (off.total_seconds() if off is not None else 0.0), node.range.total_seconds(), \
                f"[{P.display_duration(node.range)}]" + (f" offset {P.display_duration(off)}" if off is not None else "")
        elif t is P.SubqueryExpr:
            off = node.offset
            yield (off.total_seconds() if off is not None else 0.0), node.range.total_seconds(), \
                f"[{P.display_duration(node.range)}:...]" + (f" offset {P.display_duration(off)}" if off is not None else "")


def lookbacks_and_retention(rule, project, token: str) -> tuple[Iterator[tuple], float] | None:
    """The rule's :func:`lookbacks` and the live server's retention in seconds, or None: offline, ``token`` (``offset``,
    ``[``) not in the expression, no parsed expression, or a retention the server does not tell."""
    online = project.online
    ast = rule_ast(rule) if online is not None and token in rule.expr else None
    if ast is None:
        return None
    retention = server(online)["retention"]
    if not retention:
        return None
    return lookbacks(ast), retention


def external_labels(project) -> tuple[dict, str]:
    """External labels (name -> value) from the linted prometheus.yml and, with ``--online``, the server; and where from."""
    out: dict = {}
    where = []
    for t in project.prometheus_configs:
        g = t.data.get("global") or {}
        labels = g.get("external_labels") if isinstance(g, dict) else None
        if isinstance(labels, dict) and labels:
            out.update({str(k): str(v) for k, v in labels.items()})
            where.append(t.display)
    if project.online is not None:
        live = server(project.online)["external_labels"]
        if live:
            out.update(live)
            where.append("the server")
    return out, " and ".join(where)
