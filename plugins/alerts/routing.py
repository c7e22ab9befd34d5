"""Alertmanager's routing tree and inhibit rules, evaluated offline exactly as Alertmanager 0.25 does.

What this module reproduces (dispatch/route.go, inhibit/inhibit.go, config/config.go, pkg/labels):

- An alert enters at the root route (which has no matchers). A route matches when all its matchers match
  (``match``: equality, ``match_re``: anchored RE2 regex ``^(?:re)$``, ``matchers``: Alertmanager's matcher
  syntax; a missing label is the empty string). Its children are tried in order; each child that matches
  contributes its own matches, and the first matching child without ``continue: true`` stops the search.
  A route none of whose children matched is itself a match. ``amtool config routes test`` prints the
  receivers of these routes, in order, joined by commas (duplicates kept).
- Options are inherited from the parent when a route does not set them: ``receiver``, ``group_by``
  (``['...']``: group by all labels), ``group_wait`` (default 30s), ``group_interval`` (5m),
  ``repeat_interval`` (4h). ``continue``, matchers and time intervals are not inherited.
- An inhibit rule mutes a *target* alert (matching ``target_match``/``target_match_re``/``target_matchers``)
  while a firing *source* alert (matching the ``source_*`` matchers) has the same values for every label in
  ``equal`` (a label absent from both counts as equal). When the target also matches the source matchers, a
  source that also matches the target matchers does not count (an alert never mutes itself, and two alerts
  matching both sides do not mute each other).

YAML is read like Go's yaml.v2 reads it into strings: a scalar is its text as written (``test: 2`` is ``"2"``,
``x: 0x1F`` is ``"0x1F"``), a null is ``""``. Regexes are checked with Go's parser rules
(:mod:`aetherops_plugins.maintenance.re2`) and run on RE2 itself (google-re2), so ``\\d`` is ASCII-only
and ``\\pL`` works, as in Alertmanager. Config matchers are parsed by the maintenance plugin's parser
(:mod:`aetherops_plugins.maintenance.matchers`), the one ``--label``/``--match`` use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from aetherops.errors import ConfigError
from aetherops_plugins.maintenance import matchers as m

#: Alertmanager's DefaultRouteOpts
DEFAULT_GROUP_WAIT = "30s"
DEFAULT_GROUP_INTERVAL = "5m"
DEFAULT_REPEAT_INTERVAL = "4h"
ROUTE_KEYS = {"receiver", "group_by", "continue", "matchers", "match", "match_re", "group_wait", "group_interval",
              "repeat_interval", "mute_time_intervals", "active_time_intervals", "routes"}
INHIBIT_KEYS = {"source_match", "source_match_re", "source_matchers", "target_match", "target_match_re", "target_matchers",
                "equal"}
_LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*\Z"
_BOOL_TRUE = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}
_BOOL_FALSE = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}


# ---------------------------------------------------------------- YAML, as Go's yaml.v2 reads it into strings
class Text(str):
    """A scalar's text as written, with its YAML ``tag`` and 1-based ``line``."""

    tag: str = ""
    line: int | None = None


class YMap(dict):
    line: int | None = None
    key_lines: dict


class YSeq(list):
    line: int | None = None


def _build(node, source: str):
    import yaml

    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = YMap()
        out.line, out.key_lines = line, {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else repr(key_node)
            if key in out:
                raise ConfigError(f"duplicate key '{key}'", path=source, line=key_node.start_mark.line + 1)
            out[key] = _build(value_node, source)
            out.key_lines[key] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = YSeq(_build(item, source) for item in node.value)
        seq.line = line
        return seq
    if node.tag == "tag:yaml.org,2002:null":
        text = Text("")
    else:
        text = Text(node.value)
    text.tag, text.line = node.tag, line
    return text


def load_text(text: str, source: str) -> YMap:
    """The config's YAML as :class:`YMap`/:class:`YSeq`/:class:`Text`; ConfigError (``source:line``) when invalid."""
    from aetherops import yamlsafe

    try:
        node = yamlsafe.compose(text)
    except yamlsafe.InputError as exc:
        raise ConfigError(f"invalid YAML: {exc.message}", path=source, line=exc.line) from None
    data = _build(node, source) if node is not None else YMap()
    if not isinstance(data, YMap):
        raise ConfigError("an Alertmanager config must be a mapping (route:, receivers:, ...)", path=source, line=1)
    return data


# ---------------------------------------------------------------- matchers
class Matcher:
    """One label matcher (``name``, ``op`` in ``=``, ``!=``, ``=~``, ``!~``, ``value``) with RE2 semantics."""

    __slots__ = ("name", "op", "value", "_regex")

    def __init__(self, name: str, op: str, value: str):
        self.name, self.op, self.value = name, op, value
        self._regex = compile_regex(value) if op in ("=~", "!~") else None

    @classmethod
    def from_api(cls, matcher: Mapping[str, Any]) -> Matcher:
        regex, equal = bool(matcher.get("isRegex")), matcher.get("isEqual", True) is not False
        return cls(str(matcher["name"]), m.op_text(regex, equal), str(matcher["value"]))

    def matches(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.name, "")
        if self._regex is not None:
            hit = self._regex.search(value) is not None
            return hit if self.op == "=~" else not hit
        return (value == self.value) if self.op == "=" else (value != self.value)

    def __str__(self) -> str:
        return f"{self.name}{self.op}{m.quote(self.value)}"

    __repr__ = __str__


def compile_regex(value: str):
    """``^(?:value)$`` on RE2, after Go's parser rules (:mod:`.re2` of maintenance); MatcherError when Go refuses it."""
    m.check_regex(value, value)
    import re2

    options = re2.Options()
    options.max_mem = 64 << 20
    return re2.compile(f"^(?:{value})$", options)


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(x.matches(labels) for x in matchers)


def parse_config_matchers(text: str) -> list[Matcher]:
    """One entry of a ``matchers:`` list, as Alertmanager 0.25's ``labels.ParseMatchers`` reads it: optional
    braces, several matchers separated by commas, quoted or bare values; label names may hold ``:``."""
    body = str(text)  # Go trims the braces, not the space around them
    body = body[1:] if body.startswith("{") else body
    body = body[:-1] if body.endswith("}") else body
    if not body.strip():
        return []
    return [Matcher.from_api(m.parse_matcher(item, colons=True)) for item in m.split_braces("{" + body + "}", str(text))]


def parse_label(text: str, *, colons: bool = False) -> tuple[str, str]:
    """``--label k=v`` (or ``k="v"``), like amtool's label arguments: one equality matcher; UsageError otherwise.
    ``colons``: the name may hold ``:`` (amtool's offline routing test allows it; an alert posted to the API may not)."""
    if isinstance(text, str) and text.lstrip(" \t\n\f\r").startswith("{"):  # amtool: one matcher, no braces form
        raise m.MatcherError(f"bad label {m.shown(text)}: labels are NAME=VALUE pairs, without braces")
    parsed = m.parse_matcher(text, colons=colons)
    if parsed["isRegex"] or not parsed["isEqual"]:
        raise m.MatcherError(f"bad label {m.shown(text)}: labels are NAME=VALUE pairs (not !=, =~ or !~)")
    return parsed["name"], parsed["value"]


def parse_labels(texts: Iterable[str], *, colons: bool = False) -> dict[str, str]:
    labels: dict[str, str] = {}
    for text in texts:
        name, value = parse_label(text, colons=colons)
        labels[name] = value  # amtool: a later value wins
    return labels


# ---------------------------------------------------------------- the config
@dataclass
class Route:
    """One route with its options resolved (inherited from the parent where not set)."""

    path: str
    line: int | None
    receiver: str
    matchers: list[Matcher]
    group_by: list[str]
    group_by_all: bool
    group_wait: str
    group_interval: str
    repeat_interval: str
    continue_: bool = False
    mute_time_intervals: list[str] = field(default_factory=list)
    active_time_intervals: list[str] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    parent: Route | None = field(default=None, repr=False)

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """The routes an alert with ``labels`` ends in (dispatch.Route.Match)."""
        if not matches_all(self.matchers, labels):
            return []
        found: list[Route] = []
        for child in self.routes:
            hits = child.match(labels)
            found.extend(hits)
            if hits and not child.continue_:
                break
        return found or [self]

    def chain(self) -> list[Route]:
        """The routes from the root down to this one."""
        out: list[Route] = []
        node: Route | None = self
        while node is not None:
            out.append(node)
            node = node.parent
        return out[::-1]

    def walk(self) -> Iterable[Route]:
        yield self
        for child in self.routes:
            yield from child.walk()

    def describe(self) -> dict[str, Any]:
        """The JSON of one matched route (docs/alerts.md)."""
        return {
            "receiver": self.receiver,
            "route": self.path,
            "line": self.line,
            "path": [{"route": r.path, "line": r.line, "matchers": [str(x) for x in r.matchers], "receiver": r.receiver,
                      "continue": r.continue_} for r in self.chain()],
            "group_by": ["..."] if self.group_by_all else list(self.group_by),
            "group_wait": self.group_wait,
            "group_interval": self.group_interval,
            "repeat_interval": self.repeat_interval,
            "continue": self.continue_,
            "mute_time_intervals": list(self.mute_time_intervals),
            "active_time_intervals": list(self.active_time_intervals),
        }


@dataclass
class InhibitRule:
    index: int
    line: int | None
    source: list[Matcher]
    target: list[Matcher]
    equal: list[str]

    def mutes(self, source: Mapping[str, str], target: Mapping[str, str]) -> bool:
        """Whether the firing alert ``source`` mutes ``target`` through this rule (inhibit.InhibitRule.hasEqual)."""
        if not matches_all(self.target, target) or not matches_all(self.source, source):
            return False
        if any(source.get(name, "") != target.get(name, "") for name in self.equal):
            return False
        if matches_all(self.source, target) and matches_all(self.target, source):
            return False  # excludeTwoSidedMatch
        return True

    def describe(self) -> dict[str, Any]:
        return {"index": self.index, "line": self.line, "source_matchers": [str(x) for x in self.source],
                "target_matchers": [str(x) for x in self.target], "equal": list(self.equal)}


@dataclass
class AlertmanagerConfig:
    source: str
    route: Route
    inhibit_rules: list[InhibitRule]
    receivers: list[str]

    def routes_for(self, labels: Mapping[str, str]) -> list[Route]:
        return self.route.match(labels)

    def receivers_for(self, labels: Mapping[str, str]) -> list[str]:
        """What ``amtool config routes test`` prints, as a list (in order, duplicates kept)."""
        return [r.receiver for r in self.routes_for(labels)]

    def inhibitors(self, target: Mapping[str, str], candidates: Iterable[tuple[Any, Mapping[str, str]]]) -> list[tuple[Any, InhibitRule]]:
        """``(key, rule)`` for each candidate ``(key, labels)`` that mutes ``target``, first rule that does."""
        out = []
        for key, labels in candidates:
            for rule in self.inhibit_rules:
                if rule.mutes(labels, target):
                    out.append((key, rule))
                    break
        return out


def parse_config(text: str, source: str) -> AlertmanagerConfig:
    """Parse an Alertmanager config's ``route``, ``receivers`` and ``inhibit_rules``; ConfigError naming
    ``source:line`` for what Alertmanager would refuse there (other sections are not checked: see ``aetherops lint``)."""
    data = load_text(text, source)
    receivers = []
    for item in _seq(data.get("receivers"), "receivers", source, data):
        if isinstance(item, YMap) and item.get("name"):
            receivers.append(str(item["name"]))
    root_data = data.get("route")
    if not isinstance(root_data, YMap):
        raise ConfigError("no route: an Alertmanager config needs a root route with a receiver", path=source,
                          line=getattr(root_data, "line", None) or data.line)
    if any(root_data.get(k) for k in ("match", "match_re", "matchers")):
        raise ConfigError("root route must not have any matchers", path=source, line=root_data.line)
    if root_data.get("continue") is not None and _bool(root_data["continue"], source):
        raise ConfigError("cannot have continue in root route", path=source, line=root_data.key_lines.get("continue"))
    if not root_data.get("receiver"):
        raise ConfigError("root route must specify a default receiver", path=source, line=root_data.line)
    root = _route(root_data, None, "route", source, set(receivers))
    rules = [_inhibit_rule(i, item, source) for i, item in enumerate(_seq(data.get("inhibit_rules"), "inhibit_rules", source, data))]
    return AlertmanagerConfig(source, root, rules, receivers)


def _seq(value: Any, key: str, source: str, parent: YMap) -> list:
    if value is None or value == "":
        return []
    if not isinstance(value, YSeq):
        raise ConfigError(f"'{key}' must be a list", path=source, line=parent.key_lines.get(key))
    return value


def _bool(value: Any, source: str) -> bool:
    text = str(value)
    if text in _BOOL_TRUE:
        return True
    if text in _BOOL_FALSE or text == "":
        return False
    raise ConfigError(f"cannot read {text!r} as a boolean", path=source, line=getattr(value, "line", None))


def _strings(value: Any, key: str, source: str, parent: YMap) -> list[str]:
    if value is None or value == "":
        return []
    if not isinstance(value, YSeq) or not all(isinstance(x, Text) for x in value):
        raise ConfigError(f"'{key}' must be a list of strings", path=source, line=parent.key_lines.get(key))
    return [str(x) for x in value]


def _label_name(name: str, source: str, line: int | None) -> str:
    import re

    if not re.match(_LABEL_NAME, name):
        raise ConfigError(f"invalid label name {name!r}", path=source, line=line)
    return name


def _matchers(data: YMap, keys: tuple[str, str, str], source: str) -> list[Matcher]:
    """``match`` / ``match_re`` / ``matchers`` (or their ``source_``/``target_`` forms) as Matcher objects."""
    equal_key, regex_key, matchers_key = keys
    out: list[Matcher] = []
    try:
        for key, op in ((equal_key, "="), (regex_key, "=~")):
            value = data.get(key)
            if value is None or value == "":
                continue
            if not isinstance(value, YMap):
                raise ConfigError(f"'{key}' must be a mapping of label names to values", path=source, line=data.key_lines.get(key))
            for name, item in sorted(value.items()):
                if not isinstance(item, Text):
                    raise ConfigError(f"'{key}.{name}' must be a string", path=source, line=value.key_lines.get(name))
                _label_name(name, source, value.key_lines.get(name))
                out.append(Matcher(name, op, str(item)))
        for entry in _strings(data.get(matchers_key), matchers_key, source, data):
            out.extend(parse_config_matchers(entry))
    except m.MatcherError as exc:
        line = data.key_lines.get(matchers_key) or data.key_lines.get(regex_key) or data.line
        raise ConfigError(exc.message, path=source, line=line) from None
    return out


def _route(data: YMap, parent: Route | None, path: str, source: str, receivers: set[str]) -> Route:
    unknown = sorted(set(data) - ROUTE_KEYS)
    if unknown:
        raise ConfigError(f"field {unknown[0]} not found in a route", path=source, line=data.key_lines.get(unknown[0]))
    receiver = str(data.get("receiver") or "") or (parent.receiver if parent else "")
    if data.get("receiver") and receivers and str(data["receiver"]) not in receivers:
        raise ConfigError(f'undefined receiver "{data["receiver"]}" used in route', path=source, line=data.key_lines.get("receiver"))
    group_by_given = data.get("group_by")
    if group_by_given is not None and group_by_given != "":
        names = _strings(group_by_given, "group_by", source, data)
        group_by_all = "..." in names
        if group_by_all and len(names) > 1:
            raise ConfigError("cannot have wildcard group_by (`...`) and other other labels at the same time", path=source,
                              line=data.key_lines.get("group_by"))
        group_by = [] if group_by_all else names
    else:
        group_by = list(parent.group_by) if parent else []
        group_by_all = parent.group_by_all if parent else False

    def timing(key: str, default: str) -> str:
        value = data.get(key)
        if value:
            return str(value)
        return getattr(parent, key) if parent else default

    route = Route(
        path=path,
        line=data.line,
        receiver=receiver,
        matchers=_matchers(data, ("match", "match_re", "matchers"), source),
        group_by=group_by,
        group_by_all=group_by_all,
        group_wait=timing("group_wait", DEFAULT_GROUP_WAIT),
        group_interval=timing("group_interval", DEFAULT_GROUP_INTERVAL),
        repeat_interval=timing("repeat_interval", DEFAULT_REPEAT_INTERVAL),
        continue_=_bool(data["continue"], source) if data.get("continue") is not None else False,
        mute_time_intervals=_strings(data.get("mute_time_intervals"), "mute_time_intervals", source, data),
        active_time_intervals=_strings(data.get("active_time_intervals"), "active_time_intervals", source, data),
        parent=parent,
    )
    for i, child in enumerate(_seq(data.get("routes"), "routes", source, data)):
        if not isinstance(child, YMap):
            raise ConfigError(f"{path}.routes[{i}] must be a mapping", path=source, line=getattr(child, "line", data.line))
        route.routes.append(_route(child, route, f"{path}.routes[{i}]", source, receivers))
    return route


def _inhibit_rule(index: int, data: Any, source: str) -> InhibitRule:
    if not isinstance(data, YMap):
        raise ConfigError(f"inhibit_rules[{index}] must be a mapping", path=source, line=getattr(data, "line", None))
    unknown = sorted(set(data) - INHIBIT_KEYS)
    if unknown:
        raise ConfigError(f"field {unknown[0]} not found in an inhibit rule", path=source, line=data.key_lines.get(unknown[0]))
    equal = _strings(data.get("equal"), "equal", source, data)
    for name in equal:
        _label_name(name, source, data.key_lines.get("equal"))
    return InhibitRule(index, data.line, _matchers(data, ("source_match", "source_match_re", "source_matchers"), source),
                       _matchers(data, ("target_match", "target_match_re", "target_matchers"), source), equal)


def load_file(path: str | Path) -> AlertmanagerConfig:
    """Read and parse an Alertmanager config file (ConfigError, exit 4, when it cannot be read or parsed)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read Alertmanager config: {exc.strerror or exc}", path=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not valid UTF-8 at byte {exc.start}", path=path) from None
    return parse_config(text, str(path))


__all__ = ["AlertmanagerConfig", "InhibitRule", "Matcher", "Route", "load_file", "parse_config", "parse_label", "parse_labels"]
