"""`alerts/template-labels`: Templates use only labels the alert's expression can produce."""

from __future__ import annotations

import re

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import kl, rules_file

#: one action ``{{ ... }}``: strings (which may hold ``}}``), raw strings and character constants skipped as a whole
_ACTION = re.compile(r"""\{\{(?:[^"`'}]|"(?:[^"\\\n]|\\.)*"|`[^`]*`|'(?:[^'\\]|\\.)*'|\}(?!\}))*\}\}""", re.S)
_TOKEN = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`[^`]*`|\$?[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*|\$(?:\.[A-Za-z_]\w*)*"""
                    r"|\.[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*|\S")
_LABELS = ("$labels", ".Labels", "$.Labels")
#: blocks inside which ``.`` is something else than the alert (a query result, a range element, a template's argument)
_REBINDING = frozenset({"range", "with", "define", "block"})


def alert_label_references(text: str) -> list[tuple[str, str]]:
    """(label, as written) for each label of the *alert* a Go template reads.

    ``$labels.x``, ``.Labels.x``, ``$.Labels.x`` and ``index $labels "x"`` count, except inside ``{{ range ... }}``,
    ``{{ with ... }}``, ``{{ define }}`` and ``{{ block }}``, where ``.Labels`` is the sub-query's (or the element's)
    and ``$labels`` is, by the mixins' convention, read as the same (``$.Labels.x`` always means the alert). The
    pipeline of the ``range``/``with`` action itself is read in the enclosing scope. Text outside actions and inside
    string literals is not a reference.
    """
    if "abels" not in text or "{{" not in text:
        return []
    out: list[tuple[str, str]] = []
    stack: list[str] = []
    for m in _ACTION.finditer(text):
        body = m.group(0)[2:-2]
        if body.startswith("-"):
            body = body[1:]
        if body.endswith("-"):
            body = body[:-1]
        body = body.strip()
        if body.startswith("/*"):
            continue
        tokens = [(t.group(0), t.start()) for t in _TOKEN.finditer(body)]
        if not tokens:
            continue
        first = tokens[0][0]
        scoped = any(b in _REBINDING for b in stack)
        if "abels" in body:
            for i, (tok, start) in enumerate(tokens):
                if tok == "index" and i + 2 < len(tokens) and tokens[i + 1][0] in _LABELS and tokens[i + 2][0][:1] in "\"`":
                    base, label = tokens[i + 1][0], tokens[i + 2][0][1:-1]
                    if label and (base == "$.Labels" or not scoped):
                        out.append((label, f"index {base} {tokens[i + 2][0]}"))
                    continue
                for base in _LABELS:
                    if tok.startswith(base + ".") and (base != ".Labels" or start == 0 or body[start - 1] not in ")]$"):
                        if base == "$.Labels" or not scoped:
                            label = tok[len(base) + 1:].split(".", 1)[0]
                            out.append((label, f"{base}.{label}"))
                        break
        if first in ("if", "range", "with", "define", "block"):
            stack.append(first)
        elif first == "end":
            if stack:
                stack.pop()
        elif first == "else" and len(tokens) > 1 and tokens[1][0] == "with" and stack:
            stack[-1] = "with"
    return out


class TemplateLabels(RuleCheck):
    id = "alerts/template-labels"
    severity = "warning"
    rule_type = "alert"
    summary = "Templates use only labels the alert's expression can produce."
    why = "After `sum by (job)` there is no `instance` label: `{{ $labels.instance }}` renders empty in the page."
    example_bad = rules_file("      - alert: HighErrors\n        expr: sum by (job) (rate(errors_total[5m])) > 1\n        for: 5m\n"
                         "        annotations:\n          summary: 'Errors on {{ $labels.instance }}'\n")
    example_good = rules_file("      - alert: HighErrors\n        expr: sum by (job, instance) (rate(errors_total[5m])) > 1\n        for: 5m\n"
                          "        annotations:\n          summary: 'Errors on {{ $labels.instance }}'\n")

    def check_rule(self, rule, project):
        facts = rule.facts
        if facts is None:
            return
        static = {str(k) for k in rule.labels}
        for section in ("annotations", "labels"):
            values = rule.data.get(section)
            if not isinstance(values, dict):
                continue
            for k, v in values.items():
                if not isinstance(v, str):
                    continue
                refs = alert_label_references(v)
                if not refs:
                    continue
                known, excluded = facts.labels
                for label, written in dict.fromkeys(refs):
                    if label in static:
                        continue
                    if (known is not None and label not in known) or label in excluded:
                        yield self.finding(rule.target, f'{section[:-1]} "{k}" uses {written} but the expression '
                                           f"cannot produce a {label!r} label", rule=rule, line=kl(values, k, rule.line),
                                           hint=f"keep {label!r} in the aggregation (by ({label}, ...)) or drop it from the template")
