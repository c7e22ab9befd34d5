"""The `--html` report opened in real headless Chromium, and the `--plot` PNG."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from aetherops.testing.browser import keep_artifact, open_page, require_chromium

DATA = Path(__file__).parent / "data" / "slo"
FACTS = {
    "heatmaps": "document.querySelectorAll('svg.heatmap').length",
    "heat_cells": "document.querySelectorAll('svg.heatmap rect').length",
    "burn_charts": "document.querySelectorAll('svg.burn-chart').length",
    "lines_drawn": "[...document.querySelectorAll('svg.burn-chart polyline')].filter(p => p.getBBox().width > 100).length",
    "thresholds": "document.querySelectorAll('svg.burn-chart line.threshold').length",
    "firing_bands": "document.querySelectorAll('svg.burn-chart rect.firing').length",
    "chart_width": "Math.round(document.querySelector('svg.burn-chart').getBoundingClientRect().width)",
}


def open_report(tmp_path: Path, html: Path, name: str):
    require_chromium()
    screenshot = tmp_path / f"{name}.png"
    page = open_page(html, screenshot=screenshot, evaluate=FACTS)
    assert screenshot.read_bytes().startswith(b"\x89PNG") and screenshot.stat().st_size > 10_000
    keep_artifact(screenshot)  # copied into $AETHEROPS_ARTIFACTS when set (CI uploads it)
    return page


@pytest.mark.servers
def test_simulation_report_renders_heatmaps_and_burn_charts_without_errors(tmp_path, aetherops_cli):
    html = tmp_path / "simulation.html"
    result = aetherops_cli("slo", "simulate", DATA / "api.yaml", "--scenario", "outage:ratio=1.0,for=10m",
                           "--scenario", "degradation:ratio=0.01,for=6h", "--grid", "--resolution", "1m", "--html", html)
    assert result.exit_code == 0, result
    text = html.read_text(encoding="utf-8")
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in text
    assert "<script" not in text
    page = open_report(tmp_path, html, "simulation")
    assert page.console_errors == [] and page.requests == []
    facts = page.values
    assert facts["heatmaps"] == 4 and facts["heat_cells"] >= 4 * 100  # one per tier, a cell per (ratio, duration)
    assert facts["burn_charts"] == 8 and facts["thresholds"] == 8  # 2 scenarios x 4 tiers
    assert facts["lines_drawn"] == 16 and facts["firing_bands"] >= 5  # long and short lines in each; outage fires every tier
    assert facts["chart_width"] == 560


@pytest.mark.servers
def test_backtest_report_renders_in_chromium(tmp_path, aetherops_cli, profile_factory, victoriametrics_server, victoriametrics_import):
    now = int(time.time()) // 60 * 60
    lines = []
    for i in range(0, 6 * 60 + 1):
        ts = now - 6 * 3600 + i * 60
        errors = max(0, min(i, 200) - 180) * 600  # 20 minutes of full outage 2h40m before the end
        lines.append(f'slo_report_requests_total{{job="rep"}} {i * 600} {ts * 1000}\n')
        lines.append(f'slo_report_errors_total{{job="rep"}} {errors} {ts * 1000}\n')
    victoriametrics_import("".join(lines))
    spec = tmp_path / "slo.yaml"
    spec.write_text((DATA / "api.yaml").read_text(encoding="utf-8").replace("http_requests_total{job=\"api\",code=~\"5..\"}",
                    'slo_report_errors_total{job="rep"}').replace('http_requests_total{job="api"}', 'slo_report_requests_total{job="rep"}'),
                    encoding="utf-8")
    profile_factory("rep", prometheus={"url": victoriametrics_server.url, "timeout": 30})
    html = tmp_path / "backtest.html"
    result = aetherops_cli("-p", "rep", "slo", "backtest", spec, "--since", "6h", "--html", html, "--output", "json")
    assert result.exit_code == 0, result
    assert {t["tier"]: t["fires"] for t in result.json()["tiers"]}["page-1h"] is True
    page = open_report(tmp_path, html, "backtest")
    assert page.console_errors == [] and page.requests == []
    assert page.values["burn_charts"] == 4 and page.values["lines_drawn"] == 8 and page.values["firing_bands"] >= 1
    assert "History " in html.read_text(encoding="utf-8")


def test_plot_writes_a_png(tmp_path, aetherops_cli):
    pytest.importorskip("matplotlib")
    png = tmp_path / "burn.png"
    result = aetherops_cli("slo", "simulate", DATA / "api.yaml", "--scenario", "outage", "--resolution", "1m", "--plot", png)
    assert result.exit_code == 0, result
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 5000


def test_plot_without_matplotlib_names_the_extra(tmp_path, aetherops_cli, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    png = tmp_path / "burn.png"
    result = aetherops_cli("slo", "simulate", DATA / "api.yaml", "--scenario", "outage", "--resolution", "1m", "--plot", png)
    assert result.exit_code == 2
    assert "pip install 'aetherops[plot]'" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not png.exists()


def test_report_to_an_unwritable_place_is_a_config_error(tmp_path, aetherops_cli):
    result = aetherops_cli("slo", "simulate", DATA / "api.yaml", "--scenario", "outage", "--html", tmp_path / "missing" / "r.html")
    assert result.exit_code == 4 and "does not exist" in result.stderr
