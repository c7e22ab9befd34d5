"""CI mode: ``aetherops lint --changed-since REF`` reports only what a change is responsible for (pint's ``ci``).

The whole repository is linted as usual (cross-file checks need every file); then the report keeps only

- findings on rules whose lines changed since ``REF`` (``git diff REF``: committed, staged and unstaged changes,
  plus untracked files), and findings outside rules on changed lines (Alertmanager configs, dashboards...);
- findings on rules anywhere that use a recording rule the change removed or renamed (recorded at ``REF``, recorded
  nowhere now): the change breaks them, so the pull request has to show them.

git is an external tool and is run as one (``subprocess`` with an argument list). A bad ref or a path outside a git
work tree is a usage error (exit 2) naming the ref or path.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.M)


class GitError(Exception):
    """git is missing, the path is not in a work tree, or the ref does not name a commit."""


def _git(args: list[str], cwd: Path) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=str(cwd), capture_output=True, text=True, encoding="utf-8",
                             errors="replace", check=False)
    except FileNotFoundError:
        raise GitError("git is not installed (needed by --changed-since)") from None
    if out.returncode != 0:
        raise GitError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"git {args[0]} failed")
    return out.stdout


@dataclass
class Change:
    """What changed since ``ref`` in the work tree at ``root``: new line numbers per changed file (None: whole file)."""

    ref: str
    root: Path
    lines: dict = field(default_factory=dict)  #: resolved Path -> set of changed line numbers, or None (new file)
    old_records: dict = field(default_factory=dict)  #: recording rule name -> file (display) it was in at ref

    def touches(self, path: Path, first: int | None, last: int | None = None) -> bool:
        changed = self.lines.get(path, False)
        if changed is False:
            return False
        if changed is None or first is None:
            return True
        last = first if last is None else last
        return any(first <= n <= last for n in changed)


def changes_since(ref: str, where: Path) -> Change:
    """The changed files and lines between ``ref`` and the work tree containing ``where``."""
    if not ref or ref.startswith("-") or any(c in ref for c in "\0\n"):
        raise GitError(f"--changed-since {ref!r}: not a git ref")  # never let a ref be read as a git option
    where = where if where.is_dir() else where.parent
    try:
        root = Path(_git(["rev-parse", "--show-toplevel"], where).strip()).resolve()
    except GitError as exc:
        raise GitError(f"{where}: not inside a git work tree ({exc})") from None
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root)
    except GitError:
        raise GitError(f"--changed-since {ref}: not a commit, branch or tag of {root}") from None
    change = Change(ref, root)
    diff = _git(["diff", "--no-color", "--no-ext-diff", "-U0", "-M", ref, "--"], root)
    current: Path | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            name = line[4:]
            current = None if name == "/dev/null" else (root / _strip_prefix(name)).resolve()
            if current is not None:
                change.lines.setdefault(current, set())
        elif current is not None and line.startswith("@@"):
            m = _HUNK.match(line)
            if m:
                start, count = int(m.group(1)), int(m.group(2) or 1)
                lines = change.lines.get(current)
                if lines is not None:
                    lines.update(range(start, start + count))
    for name in _git(["diff", "--name-only", "--diff-filter=A", "-z", ref, "--"], root).split("\0"):
        if name:
            change.lines[(root / name).resolve()] = None  # added: every line is new
    for name in _git(["ls-files", "--others", "--exclude-standard", "-z"], root).split("\0"):
        if name:
            change.lines[(root / name).resolve()] = None
    change.old_records = _records_at(ref, root, diff)
    return change


def _strip_prefix(name: str) -> str:
    if name.startswith('"'):  # git quotes unusual names
        name = name[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1").decode("utf-8")
    return name[2:] if name[:2] in ("a/", "b/") else name


def _records_at(ref: str, root: Path, diff: str) -> dict:
    """Recording rule names defined at ``ref`` in the files the diff changes or deletes (old side)."""
    from aetherops_plugins.lint.loader import LoadResult, load_file

    old_names = {_strip_prefix(line[4:]) for line in diff.splitlines() if line.startswith("--- ") and line[4:] != "/dev/null"}
    records: dict = {}
    with tempfile.TemporaryDirectory(prefix="aetherops-ci-") as tmp:
        for i, name in enumerate(sorted(old_names)):
            try:
                text = _git(["show", f"{ref}:{name}"], root)
            except GitError:
                continue
            copy = Path(tmp) / f"{i}{Path(name).suffix or '.yml'}"
            copy.write_text(text, encoding="utf-8")
            loaded = LoadResult()
            try:
                load_file(copy, loaded, explicit=False)
            except Exception:  # an old file that no longer parses cannot tell us anything
                continue
            for t in loaded.targets:
                for r in t.rules:
                    if r.type == "record" and r.name:
                        records.setdefault(r.name, name)
    return records


def filter_report(report, change: Change) -> dict:
    """Keep in ``report`` only the findings the change is responsible for; return what was kept and why."""
    recorded_now = {r.name for t in report.targets for r in t.rules if r.type == "record"}
    removed = sorted(set(change.old_records) - recorded_now)
    spans: dict[str, list] = {}
    paths: dict[str, Path] = {}
    changed_rules = dependent_rules = 0
    keep_rules: set = set()
    for t in report.targets:
        path = Path(t.path).resolve()
        paths[t.display] = path
        for r in t.rules:
            spans.setdefault(t.display, []).append(r)
            if change.touches(path, r.line, r.end):
                keep_rules.add(id(r))
                changed_rules += 1
            elif removed and _uses(r, removed):
                keep_rules.add(id(r))
                dependent_rules += 1
    kept = []
    for f in report.findings:
        path = paths.get(f.file) or Path(f.file).resolve()
        rule = _rule_at(spans.get(f.file, ()), f.line)
        if rule is not None:
            if id(rule) in keep_rules:
                kept.append(f)
        elif change.touches(path, f.line) or (removed and any(name in f.message for name in removed)):
            kept.append(f)
    report.findings = kept
    return {"ref": change.ref, "changed_rules": changed_rules, "dependent_rules": dependent_rules,
            "removed_recording_rules": removed}


def _rule_at(rules, line):
    if line is None:
        return None
    for r in rules:
        if r.line <= line <= r.end:
            return r
    return None


def _uses(rule, names: list[str]) -> bool:
    expr = rule.expr
    if not expr or not any(n in expr for n in names):
        return False
    facts = rule.facts
    if facts is None:
        return True
    return bool(facts.names & set(names))
