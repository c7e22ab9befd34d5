"""aetherops.testing.browser against the real headless Chromium (skipped without it, failed under CI=true)."""

from __future__ import annotations

import pytest

from aetherops.testing.browser import keep_artifact, open_page, require_chromium

pytestmark = pytest.mark.servers

CLEAN = """<!doctype html><html><head><meta charset="utf-8"><title>t</title></head><body>
<svg id="chart" width="300" height="120"><rect width="200" height="80" fill="#36c"/></svg>
<script>console.log("drawn"); document.body.dataset.drawn = "yes";</script></body></html>"""

BROKEN = """<!doctype html><html><body><img src="http://192.0.2.1/pixel.png">
<script>console.error("chart data missing"); notDefinedAnywhere();</script></body></html>"""


def test_a_clean_page_renders_with_no_console_errors_and_a_screenshot(tmp_path, monkeypatch):
    require_chromium()
    page = tmp_path / "clean.html"
    page.write_text(CLEAN, encoding="utf-8")
    result = open_page(page, screenshot=tmp_path / "clean.png",
                       evaluate={"svgs": "document.querySelectorAll('svg').length", "drawn": "document.body.dataset.drawn",
                                 "width": "document.getElementById('chart').getBoundingClientRect().width"})
    assert result.console_errors == [] and result.requests == []
    assert result.values == {"svgs": 1, "drawn": "yes", "width": 300}
    assert ("log", "drawn") in result.console
    png = (tmp_path / "clean.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 500
    monkeypatch.setenv("AETHEROPS_ARTIFACTS", str(tmp_path / "artifacts"))
    assert keep_artifact(tmp_path / "clean.png").read_bytes() == png


def test_console_errors_uncaught_exceptions_and_network_fetches_are_reported(tmp_path, monkeypatch):
    require_chromium()
    monkeypatch.delenv("AETHEROPS_ARTIFACTS", raising=False)
    page = tmp_path / "broken.html"
    page.write_text(BROKEN, encoding="utf-8")
    result = open_page(page)
    assert "chart data missing" in result.console_errors
    assert any("notDefinedAnywhere" in e for e in result.console_errors)
    assert "http://192.0.2.1/pixel.png" in result.requests
    assert result.screenshot is None and keep_artifact(page) is None
