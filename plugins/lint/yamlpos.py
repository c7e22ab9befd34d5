"""YAML with positions: libyaml's composer (``yaml.CSafeLoader``), node marks kept.

Every mapping (:class:`YMap`) and sequence (:class:`YSeq`) remembers the
1-based line and column of each key, value and item, so findings point at the
exact place; YAML errors come with libyaml's line and column. Composing goes through the core's bounded loader
(:mod:`aetherops.yamlsafe`): an alias bomb or too deep nesting is a syntax error, never a hang.
"""

from __future__ import annotations

from aetherops.yamlsafe import InputError, compose_all, safe_loader

#: invalid YAML, too deep or an alias bomb, with a 1-based line and column (the core's bounded loader raises it)
YAMLSyntaxError = InputError


class YMap(dict):
    """A mapping that remembers where it and each of its keys and values are.

    ``line``: line of the mapping's first key. ``pos[key]`` = ``(key_line,
    key_col, value_line, value_col, style)`` where the value position is where
    the value's *content* starts (after a quote, or the first line of a block
    scalar) and ``style`` is one of ``''`` (plain), ``'"'``, ``"'"``, ``'|'``,
    ``'>'`` or ``None`` (a nested collection). ``dups`` lists ``(key, line)``
    of repeated keys.
    """

    __slots__ = ("line", "pos", "dups", "end")

    def __init__(self):
        super().__init__()
        self.line = 0
        self.end = 0
        self.pos: dict = {}
        self.dups: list = []

    def key_line(self, key, default: int | None = None) -> int | None:
        p = self.pos.get(key)
        return p[0] if p else (default if default is not None else self.line)

    def value_pos(self, key) -> tuple[int, int, str | None] | None:
        p = self.pos.get(key)
        return (p[2], p[3], p[4]) if p else None


class YSeq(list):
    """A sequence that remembers the line (and column) of each item."""

    __slots__ = ("line", "lines", "end")

    def __init__(self):
        super().__init__()
        self.line = 0
        self.end = 0
        self.lines: list[int] = []


_LOADER = None


def _loader():
    """libyaml's loader (``yaml.CSafeLoader``) with a fast path in tag resolution.

    libyaml calls the Python resolver for every plain scalar; most rule-file values (names, PromQL, label values)
    start with a character no implicit type (int, float, bool, null, timestamp...) can start with, so they are strings
    without trying the resolver's regexes.
    """
    global _LOADER
    if _LOADER is None:
        import yaml

        base = safe_loader()
        first = frozenset(k for k in base.yaml_implicit_resolvers if k)
        scalar, str_tag = yaml.ScalarNode, "tag:yaml.org,2002:str"
        base_resolve = base.resolve

        class _Loader(base):  # type: ignore[misc,valid-type]
            def resolve(self, kind, value, implicit):
                if kind is scalar and implicit[0] and value and value[0] not in first and not self.yaml_path_resolvers:
                    return str_tag
                return base_resolve(self, kind, value, implicit)

        _LOADER = _Loader
    return _LOADER


def load_documents(text: str) -> list:
    """Every non-empty document of ``text``, composed by libyaml, as YMap/YSeq/scalars with positions.

    Raises :class:`YAMLSyntaxError` (with line and column) for invalid YAML.
    """
    import yaml

    nodes = compose_all(text, _loader())  # bounded: alias bombs and deep nesting are a YAMLSyntaxError
    lines = text.splitlines()
    constructor = _loader()("")  # one constructor for every scalar of the file
    out = []
    for node in nodes:
        if node is None:
            continue
        try:
            out.append(_convert(node, lines, constructor))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise YAMLSyntaxError(f"bad value: {getattr(exc, 'problem', exc)}", mark.line + 1 if mark else None,
                                  mark.column + 1 if mark else None) from None
    return out


def _content_pos(node, lines) -> tuple[int, int, str | None]:
    import yaml

    m = node.start_mark
    if isinstance(node, yaml.ScalarNode):
        style = node.style or ""
        if style in ("|", ">"):
            j = m.line + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines):
                ln = lines[j]
                return j + 1, len(ln) - len(ln.lstrip(" ")) + 1, style
            return m.line + 2, 1, style
        if style in ('"', "'"):
            return m.line + 1, m.column + 2, style
        return m.line + 1, m.column + 1, ""
    return m.line + 1, m.column + 1, None


def _convert(node, lines, constructor):
    import yaml

    if isinstance(node, yaml.MappingNode):
        out = YMap()
        out.line = node.start_mark.line + 1
        out.end = node.end_mark.line
        merged: list = []
        for k, v in node.value:
            if k.tag == "tag:yaml.org,2002:merge":
                merged.extend(v.value if isinstance(v, yaml.SequenceNode) else [v])
                continue
            if isinstance(k, yaml.ScalarNode):
                key = _scalar(k, constructor)
                if isinstance(key, (list, dict)):
                    key = str(key)
            else:
                key = str(_convert(k, lines, constructor))
            if key in out:
                out.dups.append((key, k.start_mark.line + 1))
            out[key] = _convert(v, lines, constructor)
            vl, vc, st = _content_pos(v, lines)
            out.pos[key] = (k.start_mark.line + 1, k.start_mark.column + 1, vl, vc, st)
        for m in merged:
            src = _convert(m, lines, constructor)
            if isinstance(src, YMap):
                for key, value in src.items():
                    if key not in out:
                        out[key] = value
                        out.pos[key] = src.pos.get(key, (out.line, 1, out.line, 1, ""))
        return out
    if isinstance(node, yaml.SequenceNode):
        out = YSeq()
        out.line = node.start_mark.line + 1
        out.end = node.end_mark.line
        for item in node.value:
            out.append(_convert(item, lines, constructor))
            line = item.start_mark.line + 1
            # the item's "- " is on the line of its first content (or the line before for a nested block)
            out.lines.append(line)
        return out
    return _scalar(node, constructor)


def _scalar(node, constructor):
    if node.tag == "tag:yaml.org,2002:str":
        return node.value
    return constructor.construct_object(node, deep=True)
