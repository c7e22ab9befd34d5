"""Run the checks over the files: selection, severities, suppression, baseline."""

from __future__ import annotations

import fnmatch
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from aetherops.errors import AetheropsError
from aetherops_plugins.lint.api import SEVERITY_RANK, Finding, RuleCheck, validate_checks
from aetherops_plugins.lint.loader import LoadResult, Project, Target, collect_files, load_file


@dataclass
class Options:
    paths: list[str]
    disable: set[str] = field(default_factory=set)
    enable: set[str] = field(default_factory=set)
    severity_overrides: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    online: Any = None  # OnlineContext
    baseline: dict | set | None = None  #: fingerprint -> occurrences to hide (None: all), or a set of fingerprints


@dataclass
class Report:
    findings: list[Finding]
    files: list[str]
    targets: list[Target]
    unknown: list[str]
    checks_run: list[str]
    #: (file, reason) of every file passed or found and not linted
    skipped: list = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: what checks said once for the run (``Project.note``)
    notes: list[str] = field(default_factory=list)
    collected: int = 0  #: files read
    suppressed: int = 0
    baselined: int = 0
    seconds: float = 0.0

    @property
    def rules(self) -> int:
        return sum(len(t.rules) for t in self.targets)

    def counts(self) -> dict[str, int]:
        out = {"error": 0, "warning": 0, "info": 0}
        for f in self.findings:
            out[f.severity] = out.get(f.severity, 0) + 1
        return out


def _matches(check_id: str, patterns: Iterable[str]) -> bool:
    for p in patterns:
        if p in ("all", "*") or p == check_id or fnmatch.fnmatchcase(check_id, p) or check_id.startswith(p.rstrip("/") + "/"):
            return True
    return False


def select_checks(checks: list, opts: Options) -> list:
    selected = []
    for c in checks:
        cid = c.id
        enabled = getattr(c, "default_enabled", True)
        if getattr(c, "online", False):
            enabled = opts.online is not None
        if _matches(cid, opts.disable):
            enabled = False
        if opts.enable and _matches(cid, opts.enable) and (not getattr(c, "online", False) or opts.online is not None):
            enabled = True
        if enabled:
            selected.append(c)
    return selected


class _Suppressor:
    """Answers "is this finding disabled by a comment?" (a rule's span: its lines and the comments just above it)."""

    def __init__(self, targets: list[Target]):
        self.by_file: dict[str, list[Target]] = {}
        for t in targets:
            self.by_file.setdefault(t.display, []).append(t)
        self._spans: dict[str, tuple[list, list]] = {}

    def spans(self, display: str):
        got = self._spans.get(display)
        if got is None:
            spans = sorted((r.line, r.end) for t in self.by_file[display] for r in t.rules)
            got = ([s for s, _ in spans], spans)
            self._spans[display] = got
        return got

    def __call__(self, f: Finding) -> bool:
        ts = self.by_file.get(f.file)
        if not ts:
            return False
        t = ts[0]
        file_wide, lines = t.suppressions
        if file_wide and _matches(f.check, file_wide):
            return True
        if not lines or f.line is None:
            return False
        import bisect

        starts, spans = self.spans(f.file)
        k = bisect.bisect_right(starts, f.line) - 1
        span = spans[k] if k >= 0 and spans[k][0] <= f.line <= spans[k][1] else None
        text_lines = t.lines
        for cline, ids in lines:
            if not _matches(f.check, ids):
                continue
            if cline == f.line or (span and span[0] <= cline <= span[1]):
                return True
            j = (span[0] if span else f.line) - 1
            while j >= 1 and text_lines[j - 1].lstrip().startswith("#"):
                if j == cline:
                    return True
                j -= 1
        return False


def _run_check(c, kinds, by_kind, project) -> list[Finding]:
    out: list[Finding] = []
    for kind in kinds:
        targets = [project] if kind == "project" else by_kind.get(kind, [])
        for t in targets:
            try:
                for item in c.check(t, project) or ():
                    out.append(item if isinstance(item, Finding) else _coerce(c, t, item))
            except AetheropsError:
                raise  # a service that cannot be reached is exit 3, not a finding
            except Exception as exc:  # noqa: BLE001 - one broken (third-party) check must not stop lint
                out.append(Finding(check=c.id, severity="error", file=getattr(t, "display", "-"),
                                   message=f"check crashed: {type(exc).__name__}: {exc}", hint="report this to the check's author"))
    return out


def _per_rule(c) -> bool:
    """A RuleCheck that looks at one rule at a time (not online, ``check`` not overridden)."""
    return isinstance(c, RuleCheck) and not getattr(c, "online", False) and type(c).check is RuleCheck.check


def _coerce(check, target, item) -> Finding:
    """A finding given as a dict (``message`` plus optional ``line``, ``column``, ``rule``/``name``, ``hint``, ``severity``, ``file``)."""
    if not isinstance(item, dict) or "message" not in item:
        raise TypeError(f"findings must be Finding objects or dicts with a 'message', not {type(item).__name__}")
    severity = item.get("severity") or check.severity
    return Finding(check=check.id, severity=severity if severity in SEVERITY_RANK else check.severity,
                   file=str(item.get("file") or getattr(target, "display", "-")), message=str(item["message"]),
                   line=item.get("line"), column=item.get("column"), name=item.get("rule") or item.get("name"),
                   hint=item.get("hint"), group=item.get("group"))


#: rules above which per-rule checks are spread over forked worker processes (see parallel.split_run)
PARALLEL_MIN_RULES = 3000


def run_rule_checks(checks: list, targets: list[Target], project: Project) -> list[Finding]:
    """Per-rule checks over every rule of ``targets``: rules are independent, so big inputs are cut into shards."""
    from aetherops_plugins.lint.parallel import split_run

    for name in ("rules", "alerts", "recorded", "alert_names", "scrape_jobs", "scrape_interval", "evaluation_interval"):
        getattr(project, name)  # computed once, before any fork
    rules = [r for t in targets for r in t.rules]

    def shard(k: int, n: int) -> list[tuple[list[Finding], list[str]]]:
        part = rules[len(rules) * k // n:len(rules) * (k + 1) // n]
        before = len(project.notes)
        out: list[Finding] = []
        for c in checks:
            out.extend(_check_rules(c, part, project))
        return [(out, project.notes[before:])]  # notes said in a child process come back with its findings

    findings: list[Finding] = []
    for part, notes in split_run(shard, len(rules), min_size=PARALLEL_MIN_RULES):
        findings.extend(part)
        for message in notes:
            project.note(message)
    return findings


def _check_rules(c: RuleCheck, rules: list, project: Project) -> list[Finding]:
    """``c`` over ``rules`` (a crash is a finding, as in :func:`_run_check`)."""
    out: list[Finding] = []
    rtype = c.rule_type
    check_rule = c.check_rule
    for rule in rules:
        if rtype is not None and rule.type != rtype:
            continue
        try:
            for item in check_rule(rule, project) or ():
                out.append(item if isinstance(item, Finding) else _coerce(c, rule.target, item))
        except AetheropsError:
            raise
        except Exception as exc:  # noqa: BLE001 - one broken (third-party) check must not stop lint
            out.append(Finding(check=c.id, severity="error", file=rule.target.display, line=rule.line, name=rule.name,
                               message=f"check crashed: {type(exc).__name__}: {exc}", hint="report this to the check's author"))
            break  # once is enough: the same crash on every rule would bury the other findings
    return out


def run(opts: Options, checks: list) -> Report:
    import gc

    enabled = gc.isenabled()
    gc.disable()  # lint allocates many small, long-lived objects: collecting them mid-run only costs time
    try:
        return _run(opts, checks)
    finally:
        if enabled:
            gc.enable()


def _run(opts: Options, checks: list) -> Report:
    started = time.perf_counter()
    loaded = LoadResult()
    files = collect_files(opts.paths, loaded.warnings, loaded.skipped)
    explicit = {Path(raw) for raw in opts.paths}
    for p in files:
        load_file(p, loaded, explicit=p in explicit)
    project = Project(targets=loaded.targets, settings=opts.settings, online=opts.online)
    project.load_errors = loaded.syntax  # type: ignore[attr-defined]
    checks = validate_checks(checks)
    selected = select_checks(checks, opts)
    by_kind: dict[str, list[Target]] = {}
    for t in loaded.targets:
        by_kind.setdefault(t.kind, []).append(t)
    # per-rule checks are independent: on big inputs they run in shards, in forked workers too
    per_rule = [c for c in selected if _per_rule(c)]
    others = [c for c in selected if c not in per_rule]
    findings: list[Finding] = run_rule_checks(per_rule, by_kind.get("rules", []), project)
    for c in others:
        findings.extend(_run_check(c, c.kinds, by_kind, project))
    # severities, suppression, baseline
    overrides = opts.severity_overrides
    is_suppressed = _Suppressor(loaded.targets)
    kept: list[Finding] = []
    suppressed = baselined = 0
    # fingerprint -> occurrences still hidden (None: all); a set (old API) hides every occurrence
    raw_baseline = opts.baseline or {}
    baseline = dict(raw_baseline) if isinstance(raw_baseline, dict) else dict.fromkeys(raw_baseline)
    if baseline:
        findings.sort(key=Finding.sort_key)  # the first occurrences are the baselined ones, deterministically
    seen: dict = {}
    aliased = _alias_spans(loaded.targets)
    for f in findings:
        key = (f.check, f.file, f.line, f.column, f.message)
        first = seen.get(key)
        if first is not None:  # the same finding again: text shared through a YAML alias, checked at each use
            if first is not _DROPPED and f.line is not None and f.file in aliased:
                _count_alias_use(first, aliased[f.file], f.line)
            continue
        seen[key] = _DROPPED
        if f.check in overrides:
            f.severity = overrides[f.check]
        if f.severity == "off":
            continue
        if is_suppressed(f):
            suppressed += 1
            continue
        if baseline:
            fp = f.fingerprint()
            if fp in baseline:
                left = baseline[fp]
                if left is None or left > 0:
                    if left is not None:
                        baseline[fp] = left - 1
                    baselined += 1
                    continue
        seen[key] = f
        kept.append(f)
    kept.sort(key=Finding.sort_key)
    return Report(findings=kept, files=sorted({t.display for t in loaded.targets} | {f.file for f in kept}),
                  targets=loaded.targets, unknown=loaded.unknown, warnings=loaded.warnings, notes=project.notes, skipped=loaded.skipped, collected=len(files), checks_run=[c.id for c in selected], suppressed=suppressed,
                  baselined=baselined, seconds=time.perf_counter() - started)


_DROPPED = object()


def _alias_spans(targets: list[Target]) -> dict[str, list]:
    """file -> [(anchor, first line, last line, [use lines])] for files whose YAML uses aliases."""
    out: dict[str, list] = {}
    for t in targets:
        if t.aliases and t.display not in out:
            spans: dict = {}
            for anchor, start, end, use in t.aliases:
                spans.setdefault((anchor, start, end), []).append(use)
            out[t.display] = [(a, s, e, uses) for (a, s, e), uses in spans.items()]
    return out


def _count_alias_use(f: Finding, spans: list, line: int) -> None:
    """Record on ``f`` that it was found once more through the anchored text around ``line`` (innermost anchor)."""
    inside = [(e - s, a, uses) for a, s, e, uses in spans if s <= line <= e]
    if not inside:
        return
    _, anchor, uses = min(inside)
    f.extra["occurrences"] = f.extra.get("occurrences", 1) + 1
    f.extra["alias"] = anchor
    f.extra["alias_uses"] = uses


def reaches(findings: list[Finding], threshold: str) -> bool:
    rank = SEVERITY_RANK[threshold]
    return any(SEVERITY_RANK.get(f.severity, 0) >= rank for f in findings)
