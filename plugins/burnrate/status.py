"""Live SLO state from the profile's Prometheus, computed from the SLI queries themselves.

It does not need the generated rules to be loaded: each window's error ratio
is one instant query of the same expression the recording rule uses.
"""

from __future__ import annotations

from typing import Any

from aetherops.durations import format_duration
from aetherops_plugins.burnrate.api import SLO
from aetherops_plugins.burnrate.rules import ratio_expr


def _value(result: list[dict]) -> float | None:
    total = None
    for item in result or []:
        try:
            value = float(item["value"][1])
        except (KeyError, IndexError, TypeError, ValueError):
            continue
        if value == value:  # NaN: no traffic in the window
            total = value if total is None else max(total, value)
    return total


def live_status(prometheus, slo: SLO) -> dict[str, Any]:
    ratios = {window: _value(prometheus.query(ratio_expr(slo, window))) for window in sorted(set(slo.windows()) | {slo.period})}
    period_ratio = ratios[slo.period]
    remaining = None if period_ratio is None else 1 - period_ratio / slo.budget
    tiers = []
    for tier in slo.tiers:
        threshold = tier.threshold(slo.objective)
        long_ratio, short_ratio = ratios[tier.long_window], ratios[tier.short_window]
        firing = long_ratio is not None and short_ratio is not None and long_ratio > threshold and short_ratio > threshold
        tiers.append({
            "tier": tier.name, "severity": tier.severity, "threshold_burn_rate": tier.burn_rate,
            "long_window": format_duration(tier.long_window), "short_window": format_duration(tier.short_window),
            "long_burn_rate": None if long_ratio is None else round(long_ratio / slo.budget, 4),
            "short_burn_rate": None if short_ratio is None else round(short_ratio / slo.budget, 4),
            "firing": firing,
        })
    policy = [{"budget_below": step.budget_below, "action": step.action, "gate": step.gate,
               "applies": remaining is not None and remaining < step.budget_below} for step in slo.policy]
    return {
        "slo": slo.name, "objective": slo.objective, "period": format_duration(slo.period), "budget": slo.budget,
        "attainment": None if period_ratio is None else 1 - period_ratio,
        "budget_remaining": remaining,
        "tiers": tiers,
        "firing": [t["tier"] for t in tiers if t["firing"]],
        "policy": policy,
        "deploys_allowed": not any(p["applies"] and p["gate"] for p in policy),
    }
