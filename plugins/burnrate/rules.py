"""Prometheus rules for SLOs: error ratios per window, budget and burn rate, one alert per tier.

Every window's error ratio is computed from the summed counters over that
window (``sum(rate(errors[W])) / sum(rate(total[W]))``), so it is weighted by
traffic: a quiet hour counts less than a busy one, unlike an average of
5-minute ratios. Each SLO gets one rule group evaluated at its
``evaluation_interval``; recording rules come before the alerts in it, so an
alert reads the ratios of the same evaluation.
"""

from __future__ import annotations

from typing import Any

from aetherops.durations import format_duration
from aetherops_plugins.burnrate.api import SLO, Tier

RATIO = "slo:sli_error:ratio_rate{window}"
REQUESTS = "slo:sli_requests:rate{window}"
BURN = "slo:error_budget:burn_rate{window}"
REMAINING = "slo:error_budget:remaining"
OBJECTIVE = "slo:objective:ratio"


def window_query(query: str, window: int) -> str:
    """The SLI query with ``{{.window}}`` replaced by a Prometheus duration."""
    return query.replace("{{ .window }}", "{{.window}}").replace("{{.window}}", format_duration(window))


def selector(slo: SLO) -> str:
    return f'{{slo="{_escape(slo.name)}"}}'


def ratio_expr(slo: SLO, window: int) -> str:
    if slo.error_ratio_query is not None:
        return window_query(slo.error_ratio_query, window)
    return f"({window_query(slo.error_query or '', window)}) / ({window_query(slo.total_query or '', window)})"


def alert_expr(slo: SLO, tier: Tier) -> str:
    sel = selector(slo)
    threshold = format(tier.threshold(slo.objective), ".12g")
    long_ratio = RATIO.format(window=format_duration(tier.long_window)) + sel
    short_ratio = RATIO.format(window=format_duration(tier.short_window)) + sel
    expr = f"{long_ratio} > {threshold} and {short_ratio} > {threshold}"
    if slo.total_query is not None:  # traffic guard: no alert while nothing is served
        expr += f" and {REQUESTS.format(window=format_duration(tier.short_window))}{sel} > 0"
    return expr


def rule_groups(slos: list[SLO]) -> dict[str, Any]:
    """The rule file (a dict to dump as YAML) for ``slos``."""
    return {"groups": [_group(slo) for slo in slos]}


def _group(slo: SLO) -> dict[str, Any]:
    labels = {**slo.labels, "slo": slo.name}
    rules: list[dict[str, Any]] = []
    windows = sorted(set(slo.windows()) | {slo.period})
    for window in windows:
        w = format_duration(window)
        rules.append({"record": RATIO.format(window=w), "expr": ratio_expr(slo, window), "labels": dict(labels)})
    if slo.total_query is not None:
        for window in sorted({t.short_window for t in slo.tiers}):
            w = format_duration(window)
            rules.append({"record": REQUESTS.format(window=w), "expr": window_query(slo.total_query, window), "labels": dict(labels)})
    sel = selector(slo)
    for window in windows:
        w = format_duration(window)
        rules.append({"record": BURN.format(window=w), "expr": f"{RATIO.format(window=w)}{sel} / {format(slo.budget, '.12g')}",
                      "labels": dict(labels)})
    period = format_duration(slo.period)
    rules.append({"record": REMAINING, "expr": f"1 - {RATIO.format(window=period)}{sel} / {format(slo.budget, '.12g')}",
                  "labels": dict(labels)})
    rules.append({"record": OBJECTIVE, "expr": f"vector({format(slo.objective / 100, '.12g')})", "labels": dict(labels)})
    for tier in slo.tiers:
        rules.append(_alert(slo, tier, labels))
    return {"name": f"slo-{slo.name}", "interval": format_duration(slo.evaluation_interval), "rules": rules}


def _alert(slo: SLO, tier: Tier, labels: dict[str, str]) -> dict[str, Any]:
    long_w, short_w = format_duration(tier.long_window), format_duration(tier.short_window)
    severity_labels = slo.page_labels if tier.severity == "page" else slo.ticket_labels
    threshold = tier.threshold(slo.objective)
    share = tier.burn_rate * tier.long_window / slo.period
    annotations = {
        "summary": f"SLO {slo.name} is burning its error budget {tier.burn_rate:g}x too fast ({tier.severity}, {long_w} and {short_w} windows).",
        "description": (f"The error ratio of {{{{ $labels.slo }}}} over {long_w} is {{{{ $value | humanizePercentage }}}} and over {short_w} "
                        f"also above {threshold:.4%} ({tier.burn_rate:g}x the {slo.budget:.4%} budget of a {slo.objective:g}% objective): "
                        f"{share:.0%} of the {format_duration(slo.period)} budget goes in {long_w} at this rate."),
        "runbook_url": slo.runbook_url or f"https://runbooks.example.com/slo/{slo.name}",
        **slo.alert_annotations,
    }
    return {
        "alert": slo.alert_name,
        "expr": alert_expr(slo, tier),
        "for": format_duration(slo.tier_for(tier)),
        "labels": {**labels, **slo.alert_labels, **severity_labels, "slo": slo.name, "window": long_w, "tier": tier.name},
        "annotations": annotations,
    }


def render(slos: list[SLO]) -> str:
    """The rule file as YAML text."""
    import yaml

    header = "# Generated by `aetherops slo rules`: multiwindow, multi-burn-rate alerts (docs/slo.md). Do not edit by hand.\n"
    return header + yaml.safe_dump(rule_groups(slos), sort_keys=False, width=1000, allow_unicode=True)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
