"""Team policies for rules: the profile's ``lint.policies`` (pint's rule/label, rule/reject, rule/for,
promql/aggregate and promql/selector, configured rather than written as a plugin).

Each policy applies to the rules it matches and states what they must (not) have (:data:`EXAMPLE`, also
shown in docs/lint.md).

Parsing and validation are done once per run (:func:`policies_of`); :func:`validate` is also the profile
field's validator, so ``aetherops profiles validate`` names a bad policy before any lint runs.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterator

#: a policy using every key, with what each means (docs/lint.md shows it)
EXAMPLE = """\
lint:
  policies:
    - name: paging alerts                      # named in every finding
      match:                                   # every condition must hold; none = every rule
        path: "rules/prod/**"                  # glob on the file path as shown in findings
        kind: alerting                         # alerting | recording
        name: "Kube.*"                         # regex, anchored like Prometheus', on the rule name
        label: {severity: "critical|page"}     # regex on the rule's static label (absent = "")
      require:                                 # -> rules/label
        labels: {team: "[a-z-]+"}              # present, value matching the regex (null: any value)
        annotations: {runbook_url: "https://runbooks\\\\.example\\\\.com/.+"}
      forbid:                                  # -> rules/reject
        labels: {instance: null}               # absent (or a regex: forbidden when the value matches)
        annotations: {summary: ".*\\\\$value.*"}
      for: {min: 5m, max: 1h}                  # -> rules/for (an alert without for counts as 0s)
      aggregate:                               # -> promql/aggregate: every aggregation
        keep: [job]                            #    keeps these labels (by includes / without leaves them)
        strip: [instance]                      #    removes these (by leaves them out / without lists them)
      selectors:                               # -> promql/selector: every vector selector
        require: [job]                         #    has a matcher on these labels
        forbid: [pod]                          #    has none on these
"""

_MATCH_KEYS = {"path", "kind", "name", "label"}
_TOP_KEYS = {"name", "match", "require", "forbid", "for", "aggregate", "selectors"}


class PolicyError(ValueError):
    """A policy the profile gets wrong: the message names the policy and the key."""


@dataclass(frozen=True)
class Policy:
    name: str
    path: str | None = None
    kind: str | None = None  # "alert" | "record"
    rule_name: Any = None  # compiled regex
    match_labels: tuple = ()  # (label, regex)
    require_labels: tuple = ()  # (label, regex or None)
    require_annotations: tuple = ()
    forbid_labels: tuple = ()
    forbid_annotations: tuple = ()
    for_min: float | None = None
    for_max: float | None = None
    keep: tuple = ()
    strip: tuple = ()
    selector_require: tuple = ()
    selector_forbid: tuple = ()
    raw: dict = field(default_factory=dict, compare=False, hash=False)

    def matches(self, rule) -> bool:
        if self.kind and rule.type != self.kind:
            return False
        if self.path and not _path_matches(rule.target.display, self.path):
            return False
        if self.rule_name is not None and not self.rule_name.fullmatch(rule.name or ""):
            return False
        labels = rule.labels
        for label, rx in self.match_labels:
            if not rx.fullmatch(str(labels.get(label, "")) if isinstance(labels, dict) else ""):
                return False
        return True


def _path_matches(display: str, pattern: str) -> bool:
    display = display.replace("\\", "/")
    pattern = pattern.replace("\\", "/")
    if fnmatch.fnmatchcase(display, pattern) or fnmatch.fnmatchcase(display, pattern.replace("**/", "")):
        return True
    return fnmatch.fnmatchcase(display, "*/" + pattern.lstrip("/"))  # a relative pattern also matches deeper


def _regex(where: str, value) -> Any:
    if value is None:
        return None
    try:
        return re.compile(str(value))
    except re.error as exc:
        raise PolicyError(f"{where}: invalid regex {value!r} ({exc})") from None


def _label_map(where: str, value, *, allow_list: bool) -> tuple:
    if value is None:
        return ()
    if allow_list and isinstance(value, list):
        value = {str(k): None for k in value}
    if not isinstance(value, dict):
        raise PolicyError(f"{where} must be a mapping of name -> regex (or null)" + (" or a list of names" if allow_list else ""))
    return tuple((str(k), _regex(f"{where}.{k}", v)) for k, v in value.items())


def _names(where: str, value) -> tuple:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{where} must be a list of label names")
    return tuple(value)


def _duration(where: str, value) -> float | None:
    from aetherops_plugins.lint.loader import parse_duration

    if value is None:
        return None
    d = parse_duration(str(value))
    if d is None:
        raise PolicyError(f"{where}: {value!r} is not a Prometheus duration (30s, 5m, 1h)")
    return d


def parse(raw) -> list[Policy]:
    """The policies of ``lint.policies`` (PolicyError naming the first mistake)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise PolicyError("lint.policies must be a list of policies")
    out = []
    for i, p in enumerate(raw):
        where = f"lint.policies[{i}]"
        if not isinstance(p, dict):
            raise PolicyError(f"{where} must be a mapping")
        name = str(p.get("name") or f"policy {i + 1}")
        where = f"lint.policies[{i}] ({name})"
        unknown = set(p) - _TOP_KEYS
        if unknown:
            raise PolicyError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))} "
                              f"(known: {', '.join(sorted(_TOP_KEYS))})")
        match = p.get("match") or {}
        if not isinstance(match, dict) or set(match) - _MATCH_KEYS:
            raise PolicyError(f"{where}.match must be a mapping of {', '.join(sorted(_MATCH_KEYS))}")
        kind = match.get("kind")
        if kind not in (None, "alerting", "recording", "alert", "record"):
            raise PolicyError(f"{where}.match.kind must be alerting or recording, not {kind!r}")
        require, forbid = p.get("require") or {}, p.get("forbid") or {}
        for key, section in (("require", require), ("forbid", forbid)):
            if not isinstance(section, dict) or set(section) - {"labels", "annotations"}:
                raise PolicyError(f"{where}.{key} must be a mapping with labels and/or annotations")
        for_ = p.get("for") or {}
        agg = p.get("aggregate") or {}
        sel = p.get("selectors") or {}
        for key, section, allowed in (("for", for_, {"min", "max"}), ("aggregate", agg, {"keep", "strip"}),
                                      ("selectors", sel, {"require", "forbid"})):
            if not isinstance(section, dict) or set(section) - allowed:
                raise PolicyError(f"{where}.{key} must be a mapping of {', '.join(sorted(allowed))}")
        policy = Policy(
            name=name,
            path=str(match["path"]) if match.get("path") else None,
            kind={"alerting": "alert", "recording": "record"}.get(kind, kind),
            rule_name=_regex(f"{where}.match.name", match.get("name")),
            match_labels=tuple((k, rx) for k, rx in _label_map(f"{where}.match.label", match.get("label"), allow_list=False)
                               if rx is not None),
            require_labels=_label_map(f"{where}.require.labels", require.get("labels"), allow_list=True),
            require_annotations=_label_map(f"{where}.require.annotations", require.get("annotations"), allow_list=True),
            forbid_labels=_label_map(f"{where}.forbid.labels", forbid.get("labels"), allow_list=True),
            forbid_annotations=_label_map(f"{where}.forbid.annotations", forbid.get("annotations"), allow_list=True),
            for_min=_duration(f"{where}.for.min", for_.get("min")),
            for_max=_duration(f"{where}.for.max", for_.get("max")),
            keep=_names(f"{where}.aggregate.keep", agg.get("keep")),
            strip=_names(f"{where}.aggregate.strip", agg.get("strip")),
            selector_require=_names(f"{where}.selectors.require", sel.get("require")),
            selector_forbid=_names(f"{where}.selectors.forbid", sel.get("forbid")),
            raw=p,
        )
        out.append(policy)
    return out


def validate(value) -> str | None:
    """A list of rule policies (see docs/lint.md, "Policies")."""
    try:
        parse(value)
    except PolicyError as exc:
        return str(exc)
    return None


@lru_cache(maxsize=16)
def _parsed(key: str) -> list[Policy]:
    return parse(json.loads(key))


def policies_of(project) -> list[Policy]:
    """The project's policies, parsed once per distinct setting (PolicyError when invalid)."""
    raw = (project.settings or {}).get("policies")
    if not raw:
        return []
    return _parsed(json.dumps(raw, sort_keys=True, default=str))


def applicable(project, target) -> Iterator[tuple]:
    """``(policy, rule)`` for every rule of ``target`` a policy matches."""
    policies = policies_of(project)
    if not policies:
        return
    for rule in target.rules:
        if not rule.type:
            continue
        for policy in policies:
            if policy.matches(rule):
                yield policy, rule


def _check_base():
    from aetherops_plugins.lint.api import Check

    class PolicyCheck(Check):
        """A check of one kind of policy requirement: implement :meth:`check_policy` (policy, rule) -> findings."""

        kinds = ("rules",)

        def check(self, target, project):
            try:
                pairs = list(applicable(project, target))
            except PolicyError as exc:
                yield self.finding(target, f"invalid lint.policies: {exc}", line=1, severity="error",
                                   hint="fix the profile's lint.policies (aetherops profiles validate)")
                return
            for policy, rule in pairs:
                yield from self.check_policy(policy, rule, project) or ()

        def check_policy(self, policy: Policy, rule, project):  # pragma: no cover - abstract
            raise NotImplementedError

    return PolicyCheck


def example(policy: dict, rules: str) -> tuple[dict, str]:
    """An example's context (the policy as a profile setting) and its rule file."""
    from aetherops_plugins.lint.checks._common import rules_file

    return {"__settings__": {"policies": [policy]}}, rules_file(rules)


PolicyCheck = _check_base()
