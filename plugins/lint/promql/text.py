"""PromQL text without parsing it: string escapes, Grafana variables, quoted label names (newer syntax)."""

from __future__ import annotations

import re


def escape(value: str) -> str:
    """``value`` as the inside of a double-quoted PromQL string."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


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
