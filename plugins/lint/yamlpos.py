"""YAML with positions: libyaml's composer (``yaml.CSafeLoader``), node marks kept.

Every mapping (:class:`YMap`) and sequence (:class:`YSeq`) remembers the
1-based line and column of each key, value and item, so findings point at the
exact place; YAML errors come with libyaml's line and column. Composing goes through the core's bounded loader
(:mod:`aetherops.yamlsafe`): an alias bomb or too deep nesting is a syntax error, never a hang.
"""

from __future__ import annotations

from aetherops.yamlsafe import InputError, safe_loader, syntax_error

#: invalid YAML, too deep or an alias bomb, with a 1-based line and column (the core's bounded loader raises it)
YAMLSyntaxError = InputError


class YMap(dict):
    """A mapping that remembers where it and each of its keys and values are.

    ``line``: line of the mapping's first key. ``position(key)`` = ``(key_line,
    key_col, value_line, value_col, style)`` where the value position is where
    the value's *content* starts (after a quote, or the first line of a block
    scalar) and ``style`` is one of ``''`` (plain), ``'"'``, ``"'"``, ``'|'``,
    ``'>'`` or ``None`` (a nested collection). ``dups`` lists ``(key, line)``
    of repeated keys. ``pos`` holds the positions packed into one int each
    (a tuple when a number does not fit): a third of the memory of tuples.
    """

    __slots__ = ("line", "pos", "dups", "end")

    def __init__(self):
        super().__init__()
        self.line = 0
        self.end = 0
        self.pos: dict = {}
        self.dups: list | tuple = ()  # a list once a key repeats

    def position(self, key) -> tuple[int, int, int, int, str | None] | None:
        p = self.pos.get(key)
        return None if p is None else unpack(p)

    def key_line(self, key, default: int | None = None) -> int | None:
        p = self.pos.get(key)
        return unpack(p)[0] if p is not None else (default if default is not None else self.line)

    def value_pos(self, key) -> tuple[int, int, str | None] | None:
        p = self.pos.get(key)
        if p is None:
            return None
        p = unpack(p)
        return p[2], p[3], p[4]


_STYLES = ("", '"', "'", "|", ">", None)
_STYLE_CODE = {s: i for i, s in enumerate(_STYLES)}
_BITS = 20
_MASK = (1 << _BITS) - 1


def pack(key_line: int, key_col: int, value_line: int, value_col: int, style: str | None):
    """One int for a key's and its value's positions (a tuple when a number does not fit in 20 bits)."""
    delta = value_line - key_line
    if 0 <= delta <= _MASK and key_col <= _MASK and value_col <= _MASK:
        return ((((key_line << _BITS | key_col) << _BITS | delta) << _BITS | value_col) << 3) | _STYLE_CODE[style]
    return (key_line, key_col, value_line, value_col, style)


def unpack(p) -> tuple[int, int, int, int, str | None]:
    if type(p) is tuple:
        return p
    style = _STYLES[p & 7]
    p >>= 3
    value_col = p & _MASK
    p >>= _BITS
    delta = p & _MASK
    p >>= _BITS
    key_line = p >> _BITS
    return key_line, p & _MASK, key_line + delta, value_col, style


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


def load_documents(text: str, aliases: list | None = None) -> list:
    """Every document of ``text``, parsed by libyaml, as YMap/YSeq/scalars with positions.

    Built straight from libyaml's event stream: no node graph is kept (it took 14 bytes of memory per byte of YAML),
    so memory stays proportional to the data. The core's bounds (:mod:`aetherops.yamlsafe`) apply as events
    arrive: aliases may add at most ``len(text) + MAX_ALIAS_EXPANSION`` values, nesting (through aliases too) at most
    ``MAX_DEPTH`` levels, and a recursive alias is refused. Raises :class:`YAMLSyntaxError` (line and column) for
    invalid YAML, a bomb, too deep nesting or a value that cannot be constructed.

    ``aliases``: when given, gets one ``(anchor, first_line, last_line, use_line)`` per alias (``*name``, ``<<: *name``)
    used, so that what is found inside anchored text can be told apart from what is found at each use.
    """
    import yaml

    loader = _loader()(text)
    try:
        builder = _Builder(text, _loader()(""))
        docs = builder.run(loader)
        if aliases is not None:
            aliases.extend(builder.uses)
        return docs
    except yaml.MarkedYAMLError as exc:
        if isinstance(exc, yaml.constructor.ConstructorError):
            mark = exc.problem_mark
            raise YAMLSyntaxError(f"bad value: {exc.problem}", mark.line + 1 if mark else None,
                                  mark.column + 1 if mark else None) from None
        raise syntax_error(exc) from None
    except yaml.YAMLError as exc:
        raise syntax_error(exc) from None
    finally:
        loader.dispose()


class _Builder:
    """YMap/YSeq trees from libyaml events, with the core's bounds on alias expansion and depth."""

    def __init__(self, text: str, constructor):
        from aetherops.yamlsafe import MAX_ALIAS_EXPANSION

        self.text = text
        self.constructor = constructor
        self.budget = len(text) + MAX_ALIAS_EXPANSION
        self.total = 0
        #: one object per distinct short string, line number and position: a big rule file repeats its keys, label
        #: values and annotation templates thousands of times, and this keeps memory near the file's size
        self.shared: dict = {}
        #: (anchor, first line, last line, line of the alias) for each alias used
        self.uses: list = []
        self.spans: dict = {}

    def run(self, loader) -> list:
        import yaml

        from aetherops.yamlsafe import MAX_DEPTH

        ev = yaml.events
        scalar_event, alias_event = ev.ScalarEvent, ev.AliasEvent
        map_start, seq_start = ev.MappingStartEvent, ev.SequenceStartEvent
        map_end, seq_end = ev.MappingEndEvent, ev.SequenceEndEvent
        doc_end = ev.DocumentEndEvent
        merge_tag = "tag:yaml.org,2002:merge"
        anchors: dict = {}  # name -> (value, size, height, (line, col, vline, vcol, style)) once complete, None while open
        docs: list = []
        # a frame: [container, is_map, size, height, anchor, start(line, col), pending_key, key_pos, merged]
        stack: list = []
        root = _NOTHING = object()
        get_event = loader.get_event
        while True:
            event = get_event()
            if event is None:
                break
            cls = type(event)
            if cls is scalar_event:
                value, tag = self.scalar(event)
                m = event.start_mark
                style = event.style or ""
                where = self.content_pos(m, style)
                size, height = 1, 0
                if event.anchor is not None:
                    anchors[event.anchor] = (value, 1, 0, where, tag)
                    self.spans[event.anchor] = (where[0], m.line + 1 + value.count("\n") if isinstance(value, str) else where[0])
                is_merge_key = tag == merge_tag
            elif cls is map_start or cls is seq_start:
                if len(stack) >= MAX_DEPTH:
                    m = event.start_mark
                    raise InputError(f"nested deeper than {MAX_DEPTH} levels", m.line + 1, m.column + 1)
                m = event.start_mark
                container = YMap() if cls is map_start else YSeq()
                container.line = m.line + 1
                if event.anchor is not None:
                    anchors[event.anchor] = None  # open: an alias to it now would be recursive
                stack.append([container, cls is map_start, 1, 1, event.anchor, (m.line + 1, m.column + 1), _NOTHING, None, None])
                continue
            elif cls is map_end or cls is seq_end:
                frame = stack.pop()
                value, size, height = frame[0], frame[2], frame[3]
                value.end = event.end_mark.line
                if frame[1] and frame[8]:
                    self.merge(value, frame[8])
                line, col = frame[5]
                where = (line, col, None)
                if frame[4] is not None:
                    anchors[frame[4]] = (value, size, height, where, None)
                    self.spans[frame[4]] = (line, max(line, value.end))
                m = None
                is_merge_key = False
            elif cls is alias_event:
                anchored = anchors.get(event.anchor)
                m = event.start_mark
                if anchored is None:
                    what = "recursive alias" if event.anchor in anchors else "undefined alias"
                    raise InputError(f"{what} '*{event.anchor}'", m.line + 1, m.column + 1)
                value, size, height, where, _tag = anchored
                span = self.spans.get(event.anchor)
                if span is not None:
                    self.uses.append((event.anchor, span[0], span[1], m.line + 1))
                self.total += size - 1
                if self.total > self.budget:
                    raise InputError(f"aliases expand to more than {self.budget:,} values (a YAML 'billion laughs' bomb?); "
                                     "refused", m.line + 1, m.column + 1)
                if len(stack) + height > MAX_DEPTH:
                    raise InputError(f"nested deeper than {MAX_DEPTH} levels (through alias '*{event.anchor}')",
                                     m.line + 1, m.column + 1)
                is_merge_key = _tag == merge_tag
                m = None
            elif cls is doc_end:
                docs.append(None if root is _NOTHING else root)
                root = _NOTHING
                continue
            else:  # stream and document start
                continue
            self.total += 1
            if not stack:
                root = value
                continue
            frame = stack[-1]
            frame[2] += size
            if height + 1 > frame[3]:
                frame[3] = height + 1
            container = frame[0]
            if not frame[1]:
                container.append(value)
                container.lines.append(where[0] if m is None else m.line + 1)
                continue
            if frame[6] is _NOTHING:  # a key
                if is_merge_key:
                    frame[6] = _MERGE
                    continue
                key = value
                if isinstance(key, (list, dict)):
                    key = str(key)
                frame[6] = key
                frame[7] = (where[0], where[1]) if m is None else (m.line + 1, m.column + 1)
                continue
            key, frame[6] = frame[6], _NOTHING
            if key is _MERGE:
                merged = frame[8] if frame[8] is not None else []
                merged.extend(value if isinstance(value, YSeq) else [value])
                frame[8] = merged
                continue
            if key in container:
                if not container.dups:
                    container.dups = []
                container.dups.append((key, frame[7][0]))
            container[key] = value
            container.pos[key] = pack(frame[7][0], frame[7][1], where[0], where[1], where[2])
        return docs

    def scalar(self, event):
        """The scalar's value (strings as they are; other tags constructed) and its resolved tag."""
        import yaml

        tag = event.tag
        if tag is None or tag == "!":
            tag = self.constructor.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == "tag:yaml.org,2002:str":
            value = event.value
            if len(value) <= 200:
                value = self.shared.setdefault(value, value)
            return value, tag
        if tag == "tag:yaml.org,2002:merge":
            return event.value, tag
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        constructors = self.constructor.yaml_constructors
        construct = constructors.get(tag) or constructors[None]
        try:
            return construct(self.constructor, node), tag
        except (ValueError, TypeError, OverflowError) as exc:  # 2001-13-45 looks like a date and is not one
            m = event.start_mark
            raise InputError(f"bad value {event.value!r}: {exc}", m.line + 1, m.column + 1) from None

    def content_pos(self, m, style: str) -> tuple[int, int, str]:
        """Where a scalar's content starts: after a quote, or on the first non-blank line of a block scalar."""
        if style in ("|", ">"):
            text = self.text
            pos = text.find("\n", m.index)
            j = m.line + 1
            while pos != -1:
                start = pos + 1
                pos = text.find("\n", start)
                line = text[start:] if pos == -1 else text[start:pos]
                if line.rstrip("\r").strip():
                    return j + 1, len(line) - len(line.lstrip(" ")) + 1, style
                j += 1
            return m.line + 2, 1, style
        if style in ('"', "'"):
            return m.line + 1, m.column + 2, style
        return m.line + 1, m.column + 1, ""

    @staticmethod
    def merge(out: YMap, merged: list) -> None:
        for src in merged:
            if isinstance(src, YMap):
                for key, value in src.items():
                    if key not in out:
                        out[key] = value
                        out.pos[key] = src.pos.get(key, pack(out.line, 1, out.line, 1, ""))


_MERGE = object()
