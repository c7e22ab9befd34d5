"""PromQL analysis shared by every check: parse each expression once, keep the facts.

- :mod:`.parse`: parsing (``promql-parser``), the nesting limit, the cache; :func:`analyze` is the entry point.
- :mod:`.facts`: :class:`Facts`, what one walk over the AST finds (selectors, calls, labels the result can carry...).
- :mod:`.positions`: where a parse error is inside the expression (the parser gives no position).
- :mod:`.text`: text-level helpers (escapes, Grafana variables, quoted label names).
"""

from __future__ import annotations

from aetherops_plugins.lint.promql.facts import COMPARISONS, COUNTER_FUNCS, RATE_FUNCS, SET_OPS, TIME_FUNCS, Facts, Selector
from aetherops_plugins.lint.promql.parse import (
                                                 AGGREGATIONS_2_42,
                                                 FUNCTIONS_2_42,
                                                 MAX_NESTING,
                                                 PROMETHEUS_VERSION,
                                                 PromQLError,
                                                 TooComplex,
                                                 analyze,
                                                 nesting,
                                                 nesting_offset,
                                                 parse,
)
from aetherops_plugins.lint.promql.positions import error_offset
from aetherops_plugins.lint.promql.text import escape, quoted_label_names, substitute_grafana

__all__ = ["AGGREGATIONS_2_42", "COMPARISONS", "COUNTER_FUNCS", "FUNCTIONS_2_42", "MAX_NESTING", "PROMETHEUS_VERSION", "RATE_FUNCS",
           "SET_OPS", "TIME_FUNCS", "Facts", "PromQLError", "Selector", "TooComplex", "analyze", "error_offset", "escape", "nesting",
           "nesting_offset", "parse", "quoted_label_names", "substitute_grafana"]
