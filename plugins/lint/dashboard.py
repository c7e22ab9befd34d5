"""Grafana dashboards as the checks see them: panels, their PromQL queries, and the line of a query in the JSON text."""

from __future__ import annotations

import json
import re


# ------------------------------------------------------------------ dashboards
def iter_panels(dashboard):
    """Every panel (rows and nested panels included)."""
    stack = list(dashboard.get("panels") or [])
    for row in dashboard.get("rows") or []:
        if isinstance(row, dict):
            stack.extend(row.get("panels") or [])
    while stack:
        p = stack.pop(0)
        if not isinstance(p, dict):
            continue
        yield p
        stack.extend(p.get("panels") or [])


def panel_queries(dashboard):
    """(panel, target, expr) for every PromQL query of the dashboard."""
    for p in iter_panels(dashboard):
        for t in p.get("targets") or []:
            if isinstance(t, dict) and isinstance(t.get("expr"), str) and t.get("expr").strip():
                ds = t.get("datasource") or p.get("datasource")
                dstype = ds.get("type") if isinstance(ds, dict) else None
                if dstype and dstype not in ("prometheus", "datasource") and "prometheus" not in str(dstype):
                    continue
                yield p, t, t["expr"]


def json_line(target, needle_value: str, key: str = "expr") -> int | None:
    text = target.text
    for candidate in (json.dumps(needle_value, ensure_ascii=False), json.dumps(needle_value)):
        for sep in (": ", ":"):
            k = text.find(f'"{key}"{sep}{candidate}')
            if k != -1:
                return text.count("\n", 0, k) + 1
    return None


_EXPR_KEY = re.compile(r'(?<!\\)"expr"\s*:')


_EXPR_LINES: dict = {}


def _expr_lines(target) -> dict:
    """id(dict holding "expr") -> its line, pairing the n-th ``"expr":`` key of the JSON text with the n-th such dict of
    the document (walked in document order: json keeps key order). Empty when the two counts differ."""
    key = id(target)
    got = _EXPR_LINES.get(key)
    if got is not None and got[0] is target:
        return got[1]
    holders = []
    stack = [target.data]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            if "expr" in n:
                holders.append(n)
            stack.extend(reversed([v for v in n.values() if isinstance(v, (dict, list))]))
        elif isinstance(n, list):
            stack.extend(reversed([v for v in n if isinstance(v, (dict, list))]))
    text = target.text
    offsets = [m.start() for m in _EXPR_KEY.finditer(text)]
    lines: dict = {}
    if len(offsets) == len(holders):
        line, last = 1, 0
        for off, h in zip(offsets, holders):
            line += text.count("\n", last, off)
            last = off
            lines[id(h)] = line
    _EXPR_LINES[key] = (target, lines)
    return lines


def query_line(target, query: dict, expr: str) -> int | None:
    """Line of one panel target's ``expr`` (the right one when two panels share the same query text)."""
    kl = getattr(query, "key_line", None)
    if kl is not None:  # a dashboard read from YAML: positions are known
        return kl("expr", None)
    line = _expr_lines(target).get(id(query))
    return line if line is not None else json_line(target, expr)

