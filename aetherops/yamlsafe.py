"""Reading YAML and JSON that may be hostile: bounded, fast, and one clear error.

Every YAML file aetherops reads (profiles, lint input, configs a plugin parses) goes through
:func:`compose_all` / :func:`load`; every JSON document that comes from a file or a server and may nest
arbitrarily deep goes through :func:`load_json`. Quick start::

    from aetherops import yamlsafe

    try:
        data = yamlsafe.load(text)            # like yaml.safe_load, bounded
        nodes = yamlsafe.compose_all(text)    # libyaml nodes with marks, bounded (what lint uses)
        obj = yamlsafe.load_json(text)        # like json.loads, bounded
    except yamlsafe.InputError as exc:        # exc.message, exc.line, exc.column (1-based, or None)
        raise ConfigError(exc.message, path=path, line=exc.line) from None

What is bounded, and why:

- **Alias expansion.** YAML aliases share one node: ``a: &a [x, x]``, ``b: &b [*a, *a]``... ten such lines
  describe billions of values ("billion laughs") while the file is a few hundred bytes. Composing them is cheap;
  turning them into Python objects is not. Before anything is constructed the node graph is walked as it would be
  expanded, and a document whose expansion exceeds ``len(text) + MAX_ALIAS_EXPANSION`` nodes is refused. A file
  without aliases always fits (every node takes at least one character of text), so the bound costs real files
  nothing and keeps memory proportional to the input. A recursive alias (``&a [*a]``) is refused the same way.
- **Depth.** Structures nested deeper than :data:`MAX_DEPTH` levels are refused: everything that walks the data
  afterwards (profile merging, lint checks, redaction) may recurse, and must never meet a ``RecursionError``.
  JSON is bounded the same way (``json.loads`` itself raises ``RecursionError`` near 1,000 levels).

The walk is iterative and touches each node once (about 2% of libyaml's compose time on a 4 MB rule file).
Lint does not keep a node graph at all (it builds its positioned data straight from libyaml's events, see
``aetherops_plugins.lint.yamlpos``) and applies the same two bounds, with these constants, as the events arrive.
"""

from __future__ import annotations

from typing import Any

#: deepest nesting of mappings/sequences (YAML) or objects/arrays (JSON) accepted; real configs stay below 20
MAX_DEPTH = 200
#: nodes that aliases may add beyond one node per character of the text
MAX_ALIAS_EXPANSION = 100_000

_LOADER = None


class InputError(ValueError):
    """YAML or JSON that cannot be read: invalid, too deep, or expanding too far. ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


def safe_loader():
    """libyaml's safe loader (``yaml.CSafeLoader``), or PyYAML's pure-Python one when libyaml is missing."""
    global _LOADER
    if _LOADER is None:
        import yaml

        _LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return _LOADER


def syntax_error(exc) -> InputError:
    """A PyYAML error as an :class:`InputError` with libyaml's line and column."""
    import yaml

    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        msg = " ".join(str(x) for x in (exc.context, exc.problem) if x) or "invalid YAML"
        return InputError(msg, mark.line + 1 if mark else None, mark.column + 1 if mark else None)
    return InputError(str(exc) or "invalid YAML")


def compose_all(text: str, loader=None) -> list:
    """Every document of ``text`` as libyaml nodes (``None`` for an empty one), checked by :func:`check_nodes`.

    ``loader``: a loader class (default :func:`safe_loader`; lint passes its own subclass). Raises :class:`InputError`
    for invalid YAML, too deep nesting or too large alias expansion."""
    import yaml

    try:
        nodes = list(yaml.compose_all(text, Loader=loader or safe_loader()))
    except yaml.YAMLError as exc:
        raise syntax_error(exc) from None
    except RecursionError:  # only the pure-Python composer recurses (libyaml stops at 1,000 levels itself)
        raise InputError(f"nested deeper than {MAX_DEPTH} levels") from None
    check_nodes([n for n in nodes if n is not None], len(text))
    return nodes


def compose(text: str, loader=None):
    """The single document of ``text`` (``None`` when empty), checked; more than one document is an error."""
    nodes = compose_all(text, loader)
    if len(nodes) > 1:
        second = nodes[1]
        line = second.start_mark.line + 1 if second is not None else None
        raise InputError("expected a single YAML document, found more than one", line)
    return nodes[0] if nodes else None


def check_nodes(roots: list, text_length: int) -> None:
    """Refuse node graphs that expand past ``text_length + MAX_ALIAS_EXPANSION`` nodes or nest deeper than MAX_DEPTH.

    The graph is walked as construction would expand it, so the walk itself stops after at most that many steps."""
    import yaml

    mapping, sequence = yaml.MappingNode, yaml.SequenceNode
    budget = text_length + MAX_ALIAS_EXPANSION
    seen = 0
    stack = [(node, 1) for node in reversed(roots)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        seen += 1
        cls = type(node)
        if cls is mapping or cls is sequence:
            if depth > MAX_DEPTH:
                mark = node.start_mark
                raise InputError(f"nested deeper than {MAX_DEPTH} levels", mark.line + 1, mark.column + 1)
            if seen > budget:
                mark = node.start_mark
                raise InputError(f"aliases expand to more than {budget:,} values (a YAML 'billion laughs' bomb?); "
                                 "refused", mark.line + 1, mark.column + 1)
            depth += 1
            if cls is mapping:
                for key, value in node.value:
                    push((key, depth))
                    push((value, depth))
            else:
                for item in node.value:
                    push((item, depth))


def load(text: str) -> Any:
    """``yaml.safe_load`` with the bounds of :func:`compose`: the single document's data (None when empty)."""
    import yaml

    node = compose(text)
    if node is None:
        return None
    try:
        return _constructor()("").construct_document(node)
    except yaml.YAMLError as exc:  # a scalar of an unknown tag
        raise syntax_error(exc) from None


_CONSTRUCTOR = None


def _constructor():
    """The safe loader, with values that look like a type and are not (``2001-13-45``) as an InputError at their line."""
    global _CONSTRUCTOR
    if _CONSTRUCTOR is None:
        base = safe_loader()

        class _Constructor(base):  # type: ignore[misc,valid-type]
            def construct_object(self, node, deep=False):
                try:
                    return super().construct_object(node, deep)
                except InputError:
                    raise
                except (ValueError, TypeError, OverflowError) as exc:
                    mark = node.start_mark
                    raise InputError(f"bad value {node.value!r}: {exc}" if isinstance(node.value, str) else f"bad value: {exc}",
                                     mark.line + 1, mark.column + 1) from None

        _CONSTRUCTOR = _Constructor
    return _CONSTRUCTOR


def load_json(text: str | bytes) -> Any:
    """``json.loads`` that turns invalid, too deep or recursion-blowing input into :class:`InputError`."""
    import json

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise InputError(f"invalid JSON: nested deeper than {MAX_DEPTH} levels") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"invalid JSON: {exc}") from None
    # every nesting level is an opening bracket in the text: with at most MAX_DEPTH of them (brackets in strings
    # counted too, so an upper bound) the data cannot be too deep, and the walk is skipped (small documents)
    if isinstance(text, (str, bytes, bytearray)) and _brackets(text) <= MAX_DEPTH:
        return data
    check_depth(data)
    return data


def _brackets(text: str | bytes | bytearray) -> int:
    if isinstance(text, str):
        return text.count("{") + text.count("[")
    return text.count(b"{") + text.count(b"[")


def check_depth(data: Any) -> None:
    """Refuse plain data (dicts/lists, e.g. parsed JSON) nested deeper than MAX_DEPTH; iterative, one level at a
    time (a list comprehension per container: no Python-level push/pop per child)."""
    level = [data] if isinstance(data, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            raise InputError(f"nested deeper than {MAX_DEPTH} levels")
        deeper: list = []
        for value in level:
            deeper.extend([child for child in (value.values() if isinstance(value, dict) else value)
                           if isinstance(child, (dict, list))])
        level = deeper
