"""A Grafana dashboard for SLOs, built on the series `slo rules` records.

Per SLO: objective attainment and budget remaining (stats), one burn-rate
panel per tier (long and short window against the tier's threshold), the
burn-rate alerts firing now, probe success (blackbox_exporter) and how fresh
the recording rules are. The datasource is a dashboard variable, so the JSON
provisions into any Grafana (``aetherops dashboards push``, or the
provisioning directory).
"""

from __future__ import annotations

import hashlib
from typing import Any

from aetherops.durations import format_duration
from aetherops_plugins.burnrate.api import SLO
from aetherops_plugins.burnrate.rules import BURN, OBJECTIVE, RATIO, REMAINING, selector

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def _target(expr: str, legend: str, ref: str = "A") -> dict[str, Any]:
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref}


def _stat(panel_id: int, title: str, expr: str, unit: str, steps: list[dict], grid: dict, description: str) -> dict[str, Any]:
    return {"id": panel_id, "type": "stat", "title": title, "description": description, "datasource": DATASOURCE, "gridPos": grid,
            "targets": [_target(expr, title)],
            "fieldConfig": {"defaults": {"unit": unit, "decimals": 3, "thresholds": {"mode": "absolute", "steps": steps}}, "overrides": []},
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "background"}}


def _timeseries(panel_id: int, title: str, targets: list[dict], grid: dict, unit: str, description: str,
                threshold: float | None = None) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": unit, "custom": {"lineWidth": 1, "fillOpacity": 0}}
    if threshold is not None:
        defaults["thresholds"] = {"mode": "absolute", "steps": [{"color": "green", "value": None}, {"color": "red", "value": threshold}]}
        defaults["custom"]["thresholdsStyle"] = {"mode": "line+area"}
    return {"id": panel_id, "type": "timeseries", "title": title, "description": description, "datasource": DATASOURCE, "gridPos": grid,
            "targets": targets, "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}}}


def build_dashboard(slos: list[SLO]) -> dict[str, Any]:
    names = ",".join(s.name for s in slos)
    uid = "slo-" + hashlib.sha256(names.encode("utf-8")).hexdigest()[:16]
    panels: list[dict[str, Any]] = []
    next_id = 1
    y = 0
    for slo in slos:
        sel = selector(slo)
        period = format_duration(slo.period)
        panels.append({"id": next_id, "type": "row", "title": f"SLO {slo.name}: {slo.objective:g}% over {period}", "collapsed": False,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        next_id += 1
        y += 1
        panels.append(_stat(next_id, f"{slo.name}: attainment over {period}", f"1 - {RATIO.format(window=period)}{sel}", "percentunit",
                            [{"color": "red", "value": None}, {"color": "green", "value": slo.objective / 100}],
                            {"h": 5, "w": 6, "x": 0, "y": y}, f"Share of good events over the last {period}; green at or above the objective."))
        panels.append(_stat(next_id + 1, f"{slo.name}: error budget remaining", f"{REMAINING}{sel}", "percentunit",
                            [{"color": "red", "value": None}, {"color": "orange", "value": 0}, {"color": "green", "value": 0.25}],
                            {"h": 5, "w": 6, "x": 6, "y": y}, "1 - (errors / budget) over the period; below 0 the SLO is missed."))
        panels.append(_stat(next_id + 2, f"{slo.name}: objective", f"{OBJECTIVE}{sel}", "percentunit",
                            [{"color": "blue", "value": None}], {"h": 5, "w": 4, "x": 12, "y": y}, "The objective the rules were generated for."))
        panels.append(_timeseries(next_id + 3, f"{slo.name}: recording-rule freshness",
                                  [_target(f"time() - timestamp({RATIO.format(window=format_duration(min(slo.windows())))}{sel})", "age")],
                                  {"h": 5, "w": 8, "x": 16, "y": y}, "s",
                                  "Seconds since the SLO's recording rules were last evaluated; more than a few intervals means the rules "
                                  "are not loaded or Prometheus is behind.", threshold=5 * slo.evaluation_interval))
        next_id += 4
        y += 5
        for i, tier in enumerate(slo.tiers):
            long_w, short_w = format_duration(tier.long_window), format_duration(tier.short_window)
            panels.append(_timeseries(
                next_id, f"{slo.name}: burn rate {tier.name} ({tier.burn_rate:g}x)",
                [_target(f"{BURN.format(window=long_w)}{sel}", f"{long_w} window", "A"),
                 _target(f"{BURN.format(window=short_w)}{sel}", f"{short_w} window", "B")],
                {"h": 7, "w": 12, "x": 12 * (i % 2), "y": y + 7 * (i // 2)}, "none",
                f"The {tier.severity} tier fires while both windows are above {tier.burn_rate:g}x (the red line).",
                threshold=tier.burn_rate))
            next_id += 1
        y += 7 * ((len(slo.tiers) + 1) // 2)
        panels.append({"id": next_id, "type": "table", "title": f"{slo.name}: burn-rate alerts firing", "datasource": DATASOURCE,
                       "description": "Every tier of this SLO that fires now.",
                       "gridPos": {"h": 6, "w": 12, "x": 0, "y": y},
                       "targets": [{**_target(f'ALERTS{{alertname="{slo.alert_name}",alertstate="firing",slo="{slo.name}"}}', "{{tier}}"),
                                    "format": "table", "instant": True}],
                       "fieldConfig": {"defaults": {}, "overrides": []}, "options": {"showHeader": True}})
        panels.append(_timeseries(next_id + 1, f"{slo.name}: probe success", [_target("avg by (instance) (probe_success)", "{{instance}}")],
                                  {"h": 6, "w": 12, "x": 12, "y": y}, "percentunit",
                                  "blackbox_exporter probes of the service (1 = up), the outside view next to the SLI."))
        next_id += 2
        y += 6
    return {
        "uid": uid,
        "title": "SLOs: " + ", ".join(s.name for s in slos) if len(names) < 80 else f"SLOs ({len(slos)})",
        "tags": ["slo", "aetherops"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "1m",
        "time": {"from": "now-7d", "to": "now"},
        "templating": {"list": [{"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
                                 "current": {}, "hide": 0}]},
        "annotations": {"list": []},
        "panels": panels,
    }
