"""Helpers the built-in checks share: example files, key lines, positions inside an expression, an alert's labels."""

from __future__ import annotations

#: the head of every rules example: one group whose rules follow
RULES = "groups:\n  - name: example\n    rules:\n"
#: the prometheus.yml linted beside the examples of the external-label checks (``cluster: prod-eu``)
PROM_EXTERNAL_LABELS = "global:\n  scrape_interval: 30s\n  external_labels:\n    cluster: prod-eu\nscrape_configs: []\n"


def rules_file(body: str) -> str:
    """An example rule file: :data:`RULES` followed by ``body`` (rules indented by 6 spaces)."""
    return RULES + body


def kl(mapping, key, default=None):
    """Line of ``key`` in ``mapping`` (a YMap), else ``default`` (dicts from JSON have no positions)."""
    key_line = getattr(mapping, "key_line", None)
    return key_line(key, default) if key_line else default


def pos_of(rule, needle: str, start: int = 0):
    """File (line, column) of the first ``needle`` in the rule's expression (the ``expr:`` line when absent)."""
    k = rule.expr.find(needle, start)
    if k == -1:
        return rule.key_line("expr"), None
    return rule.expr_position(k)


def alert_labels(rule):
    """(known, excluded) labels an alert carries: its expression's output, its static labels, alertname."""
    static = frozenset(str(k) for k in rule.labels) | {"alertname"}
    facts = rule.facts
    if facts is None:
        return None, frozenset()
    known, excluded = facts.labels
    if known is None:
        return None, excluded - static
    return known | static, frozenset()


def carries(rule, label: str, project=None) -> bool:
    """Whether the alert reaches Alertmanager with ``label`` (its expression, static labels, or external labels)."""
    if project is not None and label in project.external_labels:
        return True
    known, excluded = alert_labels(rule)
    if known is None:
        return label not in excluded
    return label in known
