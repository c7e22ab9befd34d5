"""`rules/duplicate`: No two rules with the same name and the same labels, in one group or across files."""

from __future__ import annotations

import re

from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.checks._common import rules_file


class Duplicates(Check):
    id = "rules/duplicate"
    severity = "warning"
    kinds = ("project",)
    summary = "No two rules with the same name and the same labels, in one group or across files."
    why = ("Two recording rules writing the same series overwrite each other's samples; two identical alerts page twice. "
           "(Rules with the same name but different labels are allowed.)")
    example_bad = rules_file("      - record: job:up:sum\n        expr: sum by (job) (up)\n"
                         "      - record: job:up:sum\n        expr: sum by (job) (up{env=\"prod\"})\n")
    example_good = rules_file("      - record: job:up:sum\n        expr: sum by (job) (up)\n"
                          "      - record: job:up:sum\n        expr: sum by (job) (up{env=\"prod\"})\n        labels:\n          env: prod\n")

    def check(self, target, project):
        seen: dict = {}
        for rule in project.rules:
            if not rule.type or not rule.name:
                continue
            labels = rule.labels
            key = (rule.type, rule.name, tuple(sorted((str(k), str(v)) for k, v in labels.items())) if labels else ())
            others = seen.get(key)
            if others is None:
                seen[key] = [rule]
                continue
            first = next((o for o in others if not _disjoint(o, rule)), None)
            if first is None:  # same name and labels, but the expressions select different series (code=~"2.." vs "5..")
                others.append(rule)
                where = f"line {others[0].line}" if others[0].target.path == rule.target.path else \
                    f"{others[0].target.display}:{others[0].line}"
                yield self.finding(rule.target, f"{'recording rule' if rule.type == 'record' else 'alert'} {rule.name!r} is "
                                   f"also defined at {where} with the same labels, but the expressions select different "
                                   "series (promtool --lint reports it as a duplicate)", rule=rule, severity="info",
                                   hint="fine when the series never overlap; a label telling them apart makes it explicit")
                continue
            where = f"line {first.line}" if first.target.path == rule.target.path else f"{first.target.display}:{first.line}"
            yield self.finding(rule.target, f"duplicate {'recording rule' if rule.type == 'record' else 'alert'} "
                               f"{rule.name!r} with the same labels (first at {where})", rule=rule,
                               hint="remove one, or tell them apart with a label")


def _positive_matchers(rule) -> dict:
    """label -> [(op, value)] of the = and =~ matchers of every selector of the rule's expression."""
    facts = rule.facts
    out: dict = {}
    if facts is None:
        return out
    for sel in facts.selectors:
        for label, op, value in sel.matchers:
            if op in ("=", "=~") and label != "__name__":
                out.setdefault(label, []).append((op, value))
    return out


def _literal_prefix(op: str, value: str) -> str:
    if op == "=":
        return value
    m = re.match(r"[A-Za-z0-9_\-/ ]*", value)
    prefix = m.group(0) if m else ""
    rest = value[len(prefix):]
    if rest[:1] in ("*", "?", "{") and prefix:  # `ab*`: only `a` is certain
        prefix = prefix[:-1]
    if "|" in value:
        return ""
    return prefix


def _values_disjoint(a: tuple, b: tuple) -> bool:
    (oa, va), (ob, vb) = a, b
    if oa == "=" and ob == "=":
        return va != vb
    if oa == "=" or ob == "=":
        lit, (rop, rx) = (va, b) if oa == "=" else (vb, a)
        try:
            return re.fullmatch(rx, lit) is None
        except re.error:
            return False
    pa, pb = _literal_prefix(oa, va), _literal_prefix(ob, vb)
    n = min(len(pa), len(pb))
    return n > 0 and pa[:n] != pb[:n]


def _disjoint(r1, r2) -> bool:
    """The two rules' expressions select different series: one label matched to values no series can have in both."""
    m1, m2 = _positive_matchers(r1), _positive_matchers(r2)
    for label in m1.keys() & m2.keys():
        if all(_values_disjoint(a, b) for a in m1[label] for b in m2[label]):
            return True
    return False
