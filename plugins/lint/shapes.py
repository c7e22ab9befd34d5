"""The shape of a config file as Go's YAML decoder sees it: which fields are lists, which are mappings, which list
entries may not be null.

promtool and amtool decode into Go structs first: a string where a list is expected (``routes: "x"``) is
``cannot unmarshal !!str `x` into []*config.Route`` before any validation, and a null list entry is refused (or, in
some places, crashes them). :func:`shape_errors` walks a parsed file against a declared :class:`Map`/:class:`List`
tree and reports the same, with the line of the offending value. Fields not declared are not looked at (unknown
fields are the schema checks' business).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator


@dataclass
class Map:
    """A mapping (a Go struct or map): ``go`` names it in messages; ``fields`` the declared children.

    A key ending in ``*`` (``"*_sd_configs"``) declares every key with that suffix."""

    go: str = "config.plain"
    fields: dict = field(default_factory=dict)


@dataclass
class List:
    """A sequence of ``item``; ``null``: the message for a null entry (None: null entries are accepted)."""

    item: Any
    go: str
    null: str | None = None


#: a scalar (Go string, number, bool): only a mapping or a list is wrong there
STR = "string"


def yaml_type(value) -> str:
    """How Go's YAML decoder names a value's type in its unmarshal errors (never a Python class name)."""
    if isinstance(value, dict):
        return "!!map"
    if isinstance(value, list):
        return "!!seq"
    if isinstance(value, bool):
        return f"!!bool `{str(value).lower()}`"
    if isinstance(value, int):
        return f"!!int `{value}`"
    if isinstance(value, float):
        return f"!!float `{value}`"
    if value is None:
        return "!!null"
    return f"!!str `{value}`"


def _line(container, key, default: int) -> int:
    if isinstance(container, list):
        lines = getattr(container, "lines", None)
        return lines[key] if lines and key < len(lines) else default
    key_line = getattr(container, "key_line", None)
    return key_line(key, default) if key_line else default


def _field(fields: dict, key) -> Any:
    got = fields.get(key)
    if got is None and isinstance(key, str):
        for name, shape in fields.items():
            if name.startswith("*") and key.endswith(name[1:]):
                return shape
    return got


def shape_errors(value, shape, line: int = 1) -> Iterator[tuple[int, str]]:
    """(line, message) for each place ``value`` does not have ``shape`` (document order)."""
    if shape is STR:
        if isinstance(value, (dict, list)):
            yield line, f"cannot unmarshal {yaml_type(value)} into string"
        return
    if isinstance(shape, List):
        if value is None:
            return
        if not isinstance(value, list):
            yield line, f"cannot unmarshal {yaml_type(value)} into {shape.go}"
            return
        for i, item in enumerate(value):
            at = _line(value, i, line)
            if item is None:
                if shape.null:
                    yield at, shape.null
                continue
            yield from shape_errors(item, shape.item, at)
        return
    if value is None:
        return
    if not isinstance(value, dict):
        yield line, f"cannot unmarshal {yaml_type(value)} into {shape.go}"
        return
    for key, child in value.items():
        sub = _field(shape.fields, key)
        if sub is None:
            continue
        if isinstance(sub, List) and sub.null and "{key}" in sub.null:
            sub = List(sub.item, sub.go, sub.null.format(key=key))
        yield from shape_errors(child, sub, _line(value, key, line))
