"""The burnrate plugin's contract: what an SLO and an alert tier are.

Quick start: write an SLO (in a profile's ``slos:`` list or a file with the same list)::

    slos:
      - name: api-availability
        objective: 99.9            # percent, in (0, 100)
        period: 30d                # the SLO window (default 30d)
        sli:
          error_query: sum(rate(http_requests_total{job="api",code=~"5.."}[{{.window}}]))
          total_query: sum(rate(http_requests_total{job="api"}[{{.window}}]))
        alerting:
          runbook_url: https://runbooks.example.com/api-availability
        policy:
          - {budget_below: 25%, action: freeze-features}
          - {budget_below: 0%, action: freeze-all}

then ``aetherops slo rules slos.yaml -o slo-rules.yml`` and
``aetherops slo simulate slos.yaml --scenario outage:ratio=1,for=10m``.

A :class:`Tier` is one multiwindow burn-rate alert: it fires while the error
ratio over BOTH its long and its short window exceeds ``burn_rate`` times the
error budget (``1 - objective``). Like lint checks, every default tier carries
``summary`` and ``why``, and docs/slo.md shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aetherops.durations import format_duration

#: The period the Workbook's windows are written for; other periods scale the windows.
REFERENCE_PERIOD = 30 * 86400


@dataclass(frozen=True)
class Tier:
    """One alert tier: ``severity`` is ``page`` or ``ticket``; windows in seconds."""

    severity: str
    burn_rate: float
    long_window: int
    short_window: int
    for_seconds: int | None = None  #: None: the SLO's evaluation interval
    summary: str = ""
    why: str = ""

    @property
    def budget_share(self) -> float:
        """The share of a 30-day budget spent in ``long_window`` at exactly ``burn_rate``."""
        return self.burn_rate * self.long_window / REFERENCE_PERIOD

    def threshold(self, objective: float) -> float:
        """The error ratio above which the tier fires, for an objective in percent (the number written into the rule)."""
        return float(format(self.burn_rate * budget_of(objective), ".12g"))

    @property
    def name(self) -> str:
        """``page-1h`` style: severity and long window."""
        return f"{self.severity}-{format_duration(self.long_window)}"


#: The Google SRE Workbook's multiwindow, multi-burn-rate table, for a 30-day period.
DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier("page", 14.4, 3600, 300, summary="2% of the budget gone in 1 hour.",
         why="A fast burn: at this rate the whole budget is gone in about 2 days; someone must look now. The 5m window "
             "makes the alert stop within minutes of recovery."),
    Tier("page", 6.0, 6 * 3600, 1800, summary="5% of the budget gone in 6 hours.",
         why="A slower but still urgent burn (budget gone in 5 days) that the 1h tier misses: 1% errors against a 99.9% "
             "objective."),
    Tier("ticket", 3.0, 86400, 7200, summary="10% of the budget gone in 1 day.",
         why="Worth fixing this week, not worth waking anyone: a ticket."),
    Tier("ticket", 1.0, 3 * 86400, 6 * 3600, summary="10% of the budget gone in 3 days.",
         why="The budget runs out exactly at the end of the period at this rate: a slow leak to plan work for."),
)


@dataclass
class PolicyStep:
    """One rule of the error budget policy: below ``budget_below`` (a share, 0.25 = 25%) do ``action``."""

    budget_below: float
    action: str
    gate: bool = True  #: stop deploys (``slo status --gate`` exits 1) while it applies


@dataclass
class SLO:
    """One SLO, whatever format it was written in."""

    name: str
    objective: float  #: percent
    period: int  #: seconds
    error_query: str | None = None
    total_query: str | None = None
    error_ratio_query: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    description: str = ""
    service: str = ""
    alert_name: str = "ErrorBudgetBurn"
    alert_labels: dict[str, str] = field(default_factory=dict)
    alert_annotations: dict[str, str] = field(default_factory=dict)
    page_labels: dict[str, str] = field(default_factory=lambda: {"severity": "critical"})
    ticket_labels: dict[str, str] = field(default_factory=lambda: {"severity": "warning"})
    runbook_url: str = ""
    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    policy: list[PolicyStep] = field(default_factory=list)
    evaluation_interval: int = 60
    source: Path | None = None
    line: int | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def budget(self) -> float:
        """The error budget as a ratio (0.001 for 99.9%)."""
        return budget_of(self.objective)

    def tier_for(self, tier: Tier) -> int:
        return self.evaluation_interval if tier.for_seconds is None else tier.for_seconds

    def windows(self) -> list[int]:
        """Every window a tier uses, shortest first."""
        return sorted({w for t in self.tiers for w in (t.long_window, t.short_window)})

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "objective": self.objective, "period": format_duration(self.period), "budget": self.budget,
            "tiers": [{"tier": t.name, "severity": t.severity, "burn_rate": t.burn_rate, "long_window": format_duration(t.long_window),
                       "short_window": format_duration(t.short_window), "threshold": t.threshold(self.objective)} for t in self.tiers],
        }


def budget_of(objective: float) -> float:
    """1 - objective (in percent) as a ratio, rounded so that 99.9 gives exactly 0.001."""
    return float(format(1 - objective / 100, ".12g"))
