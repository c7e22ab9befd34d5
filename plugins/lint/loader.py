"""Files in, targets out: find files, detect their kind, read them with positions.

Kinds: ``rules`` (a Prometheus rule file, a Kubernetes ``PrometheusRule`` or a
multi-document Helm output of them), ``alertmanager``, ``prometheus`` (a
``prometheus.yml``) and ``dashboard`` (Grafana JSON, bare or wrapped as
``{"dashboard": ...}``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from aetherops.yamlsafe import InputError, load_json
from aetherops_plugins.lint.yamlpos import YAMLSyntaxError, YMap, YSeq, load_documents

YAML_SUFFIXES = (".yml", ".yaml")
JSON_SUFFIXES = (".json",)
_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_DURATION_UNITS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)
_JSON_START = re.compile(r"\s*\{")
_SUPPRESS = re.compile(r"#\s*aetherops:\s*(file/)?disable\s*=?\s*([A-Za-z0-9_/*.,\- ]+)")


class ReadError(Exception):
    """A path that cannot be read (exit 4)."""


def parse_duration(value: Any) -> float | None:
    """Prometheus duration (``1h30m``, ``0``) in seconds; None when invalid."""
    if isinstance(value, bool) or value is None:
        return None
    text = str(value)
    if text == "0":
        return 0.0
    m = _DURATION.match(text)
    if not m or not text:
        return None
    return float(sum(int(g) * u for g, u in zip(m.groups(), _DURATION_UNITS) if g))


@lru_cache(maxsize=256)
def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds and seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds and seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


# ------------------------------------------------------------------ model
@dataclass(eq=False)
class Group:
    name: str
    line: int
    data: YMap
    target: Target
    interval: float | None = None
    rules: list = field(default_factory=list)
    index: int = 0


@dataclass(eq=False)
class Rule:
    """One recording or alerting rule, with positions of its fields."""

    type: str  # "alert" | "record" | "" (neither: a schema error)
    name: str
    data: YMap
    group: Group
    target: Target
    line: int  # the rule's first line
    end: int  # its last line
    index: int  # 1-based within the group (promtool's "rule N")

    @property
    def expr(self) -> str:
        e = self.data.get("expr")
        return e if isinstance(e, str) else ("" if e is None else str(e))

    @property
    def labels(self) -> dict:
        v = self.data.get("labels")
        return v if isinstance(v, dict) else {}

    @property
    def annotations(self) -> dict:
        v = self.data.get("annotations")
        return v if isinstance(v, dict) else {}

    @property
    def for_seconds(self) -> float | None:
        return parse_duration(self.data.get("for")) if "for" in self.data else None

    def key_line(self, key: str) -> int:
        return self.data.key_line(key, self.line)

    @cached_property
    def facts(self):
        """PromQL facts of ``expr`` (None when it does not parse; ``promql/syntax`` reports that)."""
        from aetherops_plugins.lint.promql import PromQLError, analyze

        expr = self.expr
        if not expr.strip():
            return None
        try:
            return analyze(expr)
        except PromQLError:
            return None

    def expr_position(self, offset: int) -> tuple[int, int]:
        """File line/column of character ``offset`` of ``expr``."""
        return value_position(self.data, "expr", self.expr, offset, self.line, self.target.lines)


def value_position(data: YMap, key: str, text: str, offset: int, default_line: int,
                   lines: list[str] | None = None) -> tuple[int, int]:
    """File line/column of character ``offset`` of the string value ``text`` of ``data[key]``.

    Literal blocks (``|``) keep the source's lines; plain, folded (``>``) and quoted scalars fold line breaks into
    spaces and may hold escapes, so their characters are aligned with the source text. When the alignment fails the
    value's first position is returned (never a line after the scalar).
    """
    pos = data.value_pos(key) if isinstance(data, YMap) else None
    if not pos:
        return default_line, 1
    vline, vcol, style = pos
    offset = max(0, min(offset, len(text)))
    before = text[:offset]
    nl = before.count("\n")
    if style == "|":
        if nl == 0:
            return vline, vcol + offset
        return vline + nl, vcol + (offset - before.rfind("\n") - 1)
    if lines is None or not 0 < vline <= len(lines):
        return (vline, vcol + offset) if nl == 0 else (vline, vcol)
    first = lines[vline - 1]
    if first[vcol - 1:vcol - 1 + offset] == before:  # on the value's first line, no escapes before it
        return vline, vcol + offset
    got = _align(lines, vline - 1, vcol - 1, text, offset, style)
    return got if got else (vline, vcol)


def _align(lines: list[str], li: int, ci: int, text: str, offset: int, style) -> tuple[int, int] | None:
    """Walk the value and its source together (whitespace and line breaks fold, escapes unfold)."""
    n = len(lines)
    last = (li + 1, ci + 1)
    for i in range(min(offset + 1, len(text))):
        c = text[i]
        if c in " \t\n" and i < offset:
            continue
        while True:
            if li >= n:
                return None
            line = lines[li]
            if ci >= len(line):
                li, ci = li + 1, 0
                continue
            s = line[ci]
            if i == offset and c in " \t\n":
                return li + 1, ci + 1
            if s == c and not (style == '"' and s == "\\"):
                if i == offset:
                    return li + 1, ci + 1
                ci += 1
                if style == "'" and c == "'" and ci < len(line) and line[ci] == "'":
                    ci += 1
                break
            if s in " \t":
                ci += 1
                continue
            if style == '"' and s == "\\":
                nxt = line[ci + 1] if ci + 1 < len(line) else ""
                if nxt == "":  # a line continuation
                    li, ci = li + 1, 0
                    continue
                if nxt in "nrt" and c not in "nrt":  # an escaped line break or tab: whitespace in the value
                    ci += 2
                    continue
                if i == offset:
                    return li + 1, ci + 1
                if nxt == c or (c == "\\" and nxt == "\\"):
                    ci += 2
                    break
                ci += 2  # another escape (\x41, \u00e9...): give up on exactness
                return None
            return None
        last = (li + 1, ci + 1)
    return last


@dataclass(eq=False)
class Target:
    """One linted document of one file."""

    path: Path
    display: str  # path as shown in findings (relative, forward slashes)
    kind: str
    data: Any
    text: str
    doc_index: int = 0
    groups: list = field(default_factory=list)
    rules: list = field(default_factory=list)
    #: base of rule groups (``spec`` for a PrometheusRule)
    groups_key_path: tuple = ("groups",)
    #: (anchor, first line, last line, use line) of each YAML alias used in the file (see yamlpos.load_documents)
    aliases: list = field(default_factory=list)

    @property
    def alerts(self) -> list[Rule]:
        return [r for r in self.rules if r.type == "alert"]

    @property
    def recordings(self) -> list[Rule]:
        return [r for r in self.rules if r.type == "record"]

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @cached_property
    def suppressions(self) -> tuple[set, list]:
        """(file-wide disabled ids, [(line, ids)] of line comments)."""
        file_wide: set[str] = set()
        lines: list = []
        if "aetherops:" not in self.text:
            return file_wide, lines
        for i, line in enumerate(self.lines, 1):
            if "aetherops:" not in line:
                continue
            m = _SUPPRESS.search(line)
            if not m:
                continue
            ids = {x.strip() for x in re.split(r"[,\s]+", m.group(2)) if x.strip()}
            if m.group(1):
                file_wide |= ids
            else:
                lines.append((i, ids))
        return file_wide, lines


@dataclass(eq=False)
class Project:
    """Everything linted together, plus settings, for cross-file checks."""

    targets: list
    settings: dict = field(default_factory=dict)
    online: Any = None  # an OnlineContext when --online
    #: what checks said once for the whole run (:meth:`note`), shown after the findings
    notes: list = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Target]:
        return [t for t in self.targets if t.kind == kind]

    @cached_property
    def rules(self) -> list[Rule]:
        return [r for t in self.targets if t.kind == "rules" for r in t.rules]

    @cached_property
    def alerts(self) -> list[Rule]:
        return [r for r in self.rules if r.type == "alert"]

    @cached_property
    def recorded(self) -> set[str]:
        """Names of every recording rule linted."""
        return {r.name for r in self.rules if r.type == "record"}

    @cached_property
    def alert_names(self) -> set[str]:
        return {r.name for r in self.alerts}

    @cached_property
    def prometheus_configs(self) -> list[Target]:
        return self.of_kind("prometheus")

    @cached_property
    def scrape_jobs(self) -> set[str] | None:
        """Job names of every scrape config linted (None when no Prometheus config was linted)."""
        if not self.prometheus_configs:
            return None
        jobs = set()
        for t in self.prometheus_configs:
            for sc in t.data.get("scrape_configs") or []:
                if isinstance(sc, dict) and sc.get("job_name"):
                    jobs.add(str(sc["job_name"]))
        return jobs

    @cached_property
    def external_labels(self) -> set[str]:
        """Labels every alert gets from the linted prometheus.yml's ``global.external_labels``."""
        out: set[str] = set()
        for t in self.prometheus_configs:
            g = t.data.get("global") or {}
            if isinstance(g, dict) and isinstance(g.get("external_labels"), dict):
                out |= {str(k) for k in g["external_labels"]}
        return out

    @cached_property
    def scrape_interval(self) -> float | None:
        """The scrape interval: profile ``lint.scrape_interval``, else the linted prometheus.yml's ``global.scrape_interval``
        (Prometheus' default 1m when it has none); None when neither is known (checks must not guess)."""
        configured = parse_duration(self.settings.get("scrape_interval")) if self.settings.get("scrape_interval") else None
        if configured:
            return configured
        for t in self.prometheus_configs:
            g = t.data.get("global") or {}
            if isinstance(g, dict):
                d = parse_duration(g.get("scrape_interval"))
                if d:
                    return d
        return 60.0 if self.prometheus_configs else None

    def note(self, message: str) -> None:
        """Say ``message`` once at the end of the run (e.g. a check that could not run for lack of a setting)."""
        if message not in self.notes:
            self.notes.append(message)

    @cached_property
    def evaluation_interval(self) -> float:
        for t in self.prometheus_configs:
            g = t.data.get("global") or {}
            if isinstance(g, dict):
                d = parse_duration(g.get("evaluation_interval"))
                if d:
                    return d
        d = parse_duration(self.settings.get("evaluation_interval") or "1m")
        return d or 60.0


# ------------------------------------------------------------------ finding files
def collect_files(paths: list[str], warnings: list[str] | None = None, skipped: list | None = None) -> list[Path]:
    """Files named, and lintable files under directories named (sorted, hidden dirs skipped).

    Non-regular files (FIFOs, devices) and broken symlinks are skipped with a warning in ``warnings`` (reading a FIFO
    would hang; one dangling link in a repository must not stop the run). A named path that does not exist is a
    :class:`ReadError`. ``skipped`` gets ``(path, reason)`` for each of those.
    """
    out: list[Path] = []
    seen: set = set()
    warns = warnings if warnings is not None else []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ("node_modules", "__pycache__"))
                for f in sorted(files):
                    if f.endswith(YAML_SUFFIXES + JSON_SUFFIXES) and not f.startswith("."):
                        fp = Path(root) / f
                        if fp in seen:
                            continue
                        if not fp.is_file():
                            what = "a broken symbolic link" if fp.is_symlink() and not fp.exists() else "not a regular file"
                            warns.append(f"{fp.as_posix()}: {what}; skipped")
                            if skipped is not None:
                                skipped.append((fp.as_posix(), what))
                            continue
                        seen.add(fp)
                        out.append(fp)
        elif p.exists():
            if not p.is_file():
                warns.append(f"{display_path(p)}: not a regular file (a FIFO or device); skipped")
                if skipped is not None:
                    skipped.append((display_path(p), "not a regular file (a FIFO or device)"))
                continue
            if p not in seen:
                seen.add(p)
                out.append(p)
        else:
            raise ReadError(f"{raw}: no such file or directory")
    return out


def display_path(path: Path) -> str:
    try:
        rel = path.resolve().relative_to(Path.cwd().resolve())
        return rel.as_posix()
    except ValueError:
        return path.as_posix()


# ------------------------------------------------------------------ kinds
def detect_kind(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    if "groups" in data and isinstance(data.get("groups"), (list, type(None))):
        return "rules"
    if "groups" in data and not any(k in data for k in ("route", "receivers", "scrape_configs", "global", "panels")):
        return "rules"  # `groups: foo`: a broken rule file (promtool: cannot unmarshal), not an unknown file
    if data.get("kind") == "PrometheusRule" and "spec" in data:
        return "rules"
    if any(k in data for k in ("route", "receivers", "inhibit_rules")):
        return "alertmanager"
    if any(k in data for k in ("scrape_configs", "rule_files", "alerting", "remote_write", "remote_read", "scrape_config_files")):
        return "prometheus"
    if "global" in data and isinstance(data["global"], dict):
        g = data["global"]
        if any(k in g for k in ("scrape_interval", "evaluation_interval", "external_labels")):
            return "prometheus"
        if any(k.endswith(("_api_url", "_api_key", "_url", "resolve_timeout", "smtp_from", "smtp_smarthost")) for k in g):
            return "alertmanager"
    return None


def is_dashboard(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    if isinstance(data.get("dashboard"), dict):
        return True
    return "panels" in data or "rows" in data or ("schemaVersion" in data and "title" in data)


#: why a YAML/JSON file that was found was not linted
NOT_RECOGNISED = "not recognised as a rule file, Alertmanager/Prometheus config or dashboard"


class LoadResult:
    def __init__(self):
        self.targets: list[Target] = []
        self.syntax: list = []  # (display, line, col, message, kind)
        self.unknown: list[str] = []
        self.warnings: list[str] = []
        #: (display, reason) of every file passed or found and not linted
        self.skipped: list[tuple[str, str]] = []

    def not_linted(self, display: str, reason: str = NOT_RECOGNISED) -> None:
        if reason == NOT_RECOGNISED:
            self.unknown.append(display)
        self.skipped.append((display, reason))


def load_file(path: Path, result: LoadResult, *, explicit: bool = False) -> None:
    display = display_path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ReadError(f"{display}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        binary = b"\0" in raw[:8192]
        result.syntax.append((display, None, None, "a binary file, not YAML or JSON" if binary else
                              f"not valid UTF-8 at byte {exc.start} (save the file as UTF-8)", "encoding"))
        return
    del raw  # the text is what is kept: not the file twice while it is parsed
    if text.startswith("\ufeff"):
        text = text[1:]
    if path.suffix.lower() in JSON_SUFFIXES or (_JSON_START.match(text) and path.suffix.lower() not in YAML_SUFFIXES):
        _load_json(path, display, text, result)
        return
    aliases: list = []
    try:
        docs = load_documents(text, aliases)
    except YAMLSyntaxError as exc:
        result.syntax.append((display, exc.line, exc.column, f"YAML: {exc.message}", "yaml"))
        return
    if not docs:
        if explicit:
            result.syntax.append((display, 1, None, "empty file: no YAML document in it", "empty"))
        else:
            result.not_linted(display, "empty (no YAML document in it)")
        return
    found = False
    for index, doc in enumerate(docs):
        kind = detect_kind(doc)
        if kind is None:
            if isinstance(doc, dict) and is_dashboard(doc):
                kind = "dashboard"
            elif looks_like_rules(doc):
                kind = "rules"
            elif not isinstance(doc, dict):
                line = getattr(doc, "line", 1) or 1
                result.syntax.append((display, line, 1, f"the document is {_kind_of_value(doc)}, not a mapping: not a rule file, "
                                      "Alertmanager, Prometheus config or dashboard", "yaml"))
                found = True
                continue
            else:
                continue
        found = True
        target = Target(path=path, display=display, kind=kind, data=doc, text=text, doc_index=index, aliases=aliases)
        if kind == "rules":
            _build_rules(target)
        elif kind == "dashboard" and isinstance(doc.get("dashboard"), dict):
            target.data = doc["dashboard"]
        result.targets.append(target)
    if not found:
        result.not_linted(display)


def looks_like_rules(data: Any) -> bool:
    """A rule file whose top-level key is misspelt (``group:``, ``Groups:``, ``grups:``): promtool rejects it, so it is
    linted as a rule file (``syntax/rules-schema`` reports the key) instead of being skipped as an unknown file."""
    if not isinstance(data, dict) or not data:
        return False
    import difflib

    for k, v in data.items():
        if isinstance(k, str) and k != "groups" and difflib.SequenceMatcher(None, k.lower(), "groups").ratio() >= 0.8:
            return True
        if isinstance(v, list) and v and all(isinstance(g, dict) and isinstance(g.get("rules"), list) for g in v):
            return True  # groups under another key: [{name: ..., rules: [...]}]
    return False


def _kind_of_value(value) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "not a mapping"


def _load_json(path: Path, display: str, text: str, result: LoadResult) -> None:
    try:
        data = load_json(text)  # bounded: too deep nesting is an error here, not a RecursionError later
    except InputError as exc:
        result.syntax.append((display, exc.line, exc.column, exc.message, "dashboard"))
        return
    if isinstance(data, dict) and is_dashboard(data):
        if isinstance(data.get("dashboard"), dict):
            data = data["dashboard"]
        result.targets.append(Target(path=path, display=display, kind="dashboard", data=data, text=text))
    elif isinstance(data, dict) and (detect_kind(data) or looks_like_rules(data)):
        kind = detect_kind(data) or "rules"
        target = Target(path=path, display=display, kind=kind, data=data, text=text)
        if kind == "rules":
            _build_rules(target)
        result.targets.append(target)
    else:
        result.not_linted(display)


def _build_rules(target: Target) -> None:
    data = target.data
    if data.get("kind") == "PrometheusRule":
        spec = data.get("spec")
        target.groups_key_path = ("spec", "groups")
        data = spec if isinstance(spec, dict) else {}
    groups = data.get("groups") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        return
    glines = groups.lines if isinstance(groups, YSeq) else [getattr(g, "line", 1) for g in groups]
    for gi, g in enumerate(groups):
        if not isinstance(g, dict):
            continue
        gline = glines[gi] if gi < len(glines) else getattr(g, "line", 1)
        name = g.get("name")
        group = Group(name=str(name) if name is not None else "", line=gline, data=g, target=target, index=gi + 1)
        if "interval" in g:
            group.interval = parse_duration(g.get("interval"))
        rules = g.get("rules")
        target.groups.append(group)
        if not isinstance(rules, list):
            continue
        rlines = rules.lines if isinstance(rules, YSeq) else [getattr(r, "line", gline) for r in rules]
        ends = rlines[1:] + [None]
        for ri, r in enumerate(rules):
            if not isinstance(r, dict):
                continue
            if not isinstance(r, YMap):
                m = YMap()
                m.update(r)
                m.line = gline
                r = m
            if "record" in r:
                rtype, rname = "record", r.get("record")
            elif "alert" in r:
                rtype, rname = "alert", r.get("alert")
            else:
                rtype, rname = "", ""
            start = rlines[ri] if ri < len(rlines) else r.line
            nxt = ends[ri]
            end = (nxt - 1) if nxt else max(r.end or start, start)
            rule = Rule(type=rtype, name="" if rname is None else str(rname), data=r, group=group, target=target,
                        line=start, end=end, index=ri + 1)
            group.rules.append(rule)
            target.rules.append(rule)


def load_paths(paths: list[str]) -> LoadResult:
    result = LoadResult()
    for p in collect_files(paths):
        load_file(p, result)
    return result
