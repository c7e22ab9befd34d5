"""The lint plugin's public API: what a third-party check is made of.

A check is any object with these attributes and a ``check`` method (the
:class:`LintCheck` protocol); subclassing :class:`Check` gives the helpers.
Contribute checks from your plugin with the ``aetherops_lint_checks`` hook::

    import aetherops

    @aetherops.hookimpl
    def aetherops_lint_checks():
        from my_package.checks import TeamLabel
        return [TeamLabel()]

and write the check::

    from aetherops_plugins.lint.api import Check

    class TeamLabel(Check):
        id = "acme/team-label"
        severity = "warning"
        kinds = ("rules",)
        summary = "Every alert has a team label."
        why = "Routing sends alerts without a team to nobody."
        example_bad = "..."
        example_good = "..."

        def check(self, target, project):
            for rule in target.alerts:
                if "team" not in rule.labels:
                    yield self.finding(target, "alert has no team label", rule=rule, hint="add labels: {team: ...}")

``target`` is one linted document (:class:`aetherops_plugins.lint.loader.Target`:
``path``, ``kind``, ``data``, ``groups``, ``rules``, ``alerts``...) or, for
``kinds = ("project",)``, the :class:`aetherops_plugins.lint.loader.Project`
itself (every target, recorded names, scrape jobs...), for cross-file checks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    from aetherops_plugins.lint.loader import Project, Rule, Target

SEVERITIES = ("info", "warning", "error")
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}
#: File kinds a check can apply to. ``project`` = called once with the Project (cross-file checks).
KINDS = ("rules", "alertmanager", "prometheus", "dashboard", "project")


@dataclass
class Finding:
    """One problem: where, what, and how to fix it. ``to_dict`` is the JSON shape (stable)."""

    check: str
    severity: str
    file: str
    message: str
    line: int | None = None
    column: int | None = None
    name: str | None = None  #: rule, alert, group, receiver or panel name
    hint: str | None = None
    group: str | None = None
    extra: dict = field(default_factory=dict)

    def fingerprint(self) -> str:
        """Stable across line moves: check, file, name and message (what the baseline stores)."""
        raw = "\x1f".join((self.check, self.file, self.name or "", self.message))
        return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:16]

    @property
    def occurrences(self) -> int:
        """How many times this finding was made: more than 1 when it is inside YAML text used again through aliases
        (``*name``, ``<<: *name``): it is reported once, at the anchored text, with the count."""
        return self.extra.get("occurrences", 1)

    def display_message(self) -> str:
        """The message as shown: with the count and the alias when it was found at several uses of anchored text."""
        n = self.occurrences
        if n == 1:
            return self.message
        uses = self.extra.get("alias_uses") or []
        return (f"{self.message} (x{n}: shared through YAML alias *{self.extra.get('alias')}, used at line"
                f"{'s' if len(uses) > 1 else ''} {', '.join(map(str, uses))})")

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "name": self.name,
            "group": self.group,
            "message": self.message,
            "hint": self.hint,
            "occurrences": self.occurrences,
            "fingerprint": self.fingerprint(),
        }

    def sort_key(self):
        return (self.file, self.line or 0, self.column or 0, self.check, self.message)


@runtime_checkable
class LintCheck(Protocol):
    """What ``aetherops lint`` needs from a check (contributed through ``aetherops_lint_checks``)."""

    #: unique id, ``area/name`` (e.g. ``alerts/for``); what ``--disable`` and suppression comments name
    id: str
    #: default severity: ``error``, ``warning`` or ``info`` (profiles may override)
    severity: str
    #: file kinds it looks at: ``rules``, ``alertmanager``, ``prometheus``, ``dashboard``, or ``project``
    kinds: tuple

    def check(self, target: Any, project: Any) -> Iterable[Finding]:  # pragma: no cover - protocol
        ...


class Check:
    """Convenient base class for checks: documentation fields and :meth:`finding`."""

    id: str = ""
    severity: str = "warning"
    kinds: tuple = ("rules",)
    #: one line: what the check looks for
    summary: str = ""
    #: why it matters (docs)
    why: str = ""
    #: a small file that triggers the check, and the same file fixed (docs and tests use both)
    example_bad: str = ""
    example_good: str = ""
    #: the kind of the example files (rules, alertmanager, prometheus, dashboard); extra files linted alongside
    example_kind: str = "rules"
    example_context: dict = {}
    #: checks that need ``--online`` (a live Prometheus-compatible API)
    online: bool = False
    #: off unless ``--enable``d or listed in the profile's ``lint.enable``
    default_enabled: bool = True

    def check(self, target, project) -> Iterable[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError

    def finding(self, target, message: str, *, rule: Rule | None = None, line: int | None = None, column: int | None = None,
                name: str | None = None, hint: str | None = None, severity: str | None = None, group: str | None = None) -> Finding:
        """Make a finding for ``target`` (a Target, or a Rule's target), located at ``rule`` or ``line``."""
        if rule is not None:
            line = line if line is not None else rule.line
            name = name if name is not None else rule.name
            group = group if group is not None else rule.group.name
            target = rule.target
        return Finding(check=self.id, severity=severity or self.severity, file=target.display, message=message, line=line,
                       column=column, name=name, hint=hint, group=group)


class RuleCheck(Check):
    """A check that looks at one rule at a time: implement :meth:`check_rule`, which yields findings or returns an
    iterable of them (the built-in checks return a list: cheaper than a generator for the many rules without
    findings). On big inputs the engine runs it over shards of the rules in worker processes."""

    kinds = ("rules",)
    #: "alert", "record" or None (both)
    rule_type: str | None = None

    def check(self, target: Target, project: Project) -> Iterable[Finding]:
        yield from self.check_target(target, project) or ()
        rtype = self.rule_type
        for rule in target.rules:
            if rtype is None or rule.type == rtype:
                yield from self.check_rule(rule, project) or ()

    def check_target(self, target: Target, project: Project) -> Iterable[Finding]:
        """Optional: what concerns the file as a whole (its groups, its top level), once per file. The engine runs it
        in the main process and :meth:`check_rule` over the rules, in shards on big inputs."""
        return ()

    def check_rule(self, rule: Rule, project: Project) -> Iterable[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError


def check_problem(c: Any) -> str | None:
    """What is wrong with a contributed check (None: nothing): used to leave a broken check out with a warning."""
    cid = getattr(c, "id", None)
    if not cid or not isinstance(cid, str):
        return "it has no id"
    if getattr(c, "severity", None) not in SEVERITIES:
        return f"severity must be one of {', '.join(SEVERITIES)}"
    kinds = getattr(c, "kinds", ())
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        return f"unknown kinds {bad or kinds}"
    if not callable(getattr(c, "check", None)):
        return "it has no check(target, project) method"
    return None


def lint_files(context: Any, paths: Iterable[Any]) -> Any:
    """Lint ``paths`` as ``aetherops lint PATHS`` does, for other plugins (``aetherops validate``): every plugin's
    checks, the profile's ``lint`` settings (disabled and enabled checks, severity overrides), offline checks only.

    :returns: the :class:`aetherops_plugins.lint.engine.Report` (``findings``: :class:`Finding` objects,
        ``warnings``, ``unknown`` files). Raises :class:`aetherops.errors.ConfigError` (exit 4) when a path
        cannot be read."""
    from aetherops.errors import ConfigError
    from aetherops_plugins.lint.cli import collect_checks, make_options
    from aetherops_plugins.lint.engine import run
    from aetherops_plugins.lint.loader import ReadError

    settings = dict(context.section("lint") or {})
    try:  # safe from threads (fleet fan-out): each call gets its own check instances, Project and Report; what
        # lives at module level are caches keyed by expression text, and the engine forks no workers while threads run
        return run(make_options(settings, list(paths)), collect_checks(context))
    except ReadError as exc:
        raise ConfigError(str(exc)) from None


def validate_checks(checks: Iterable[Any]) -> list[Any]:
    """Checks validated: ids unique, severities and kinds known (ValueError otherwise)."""
    seen: dict[str, Any] = {}
    for c in checks:
        problem = check_problem(c)
        if problem:
            raise ValueError(f"lint check {getattr(c, 'id', None) or c!r}: {problem}")
        if c.id in seen:
            raise ValueError(f"lint check id {c.id!r} is contributed twice ({type(seen[c.id]).__module__} and {type(c).__module__})")
        seen[c.id] = c
    return list(seen.values())
