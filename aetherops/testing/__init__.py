"""Test helpers for aetherops and for plugin authors (``pip install aetherops[testing]``).

- :mod:`aetherops.testing.pytest_plugin`: pytest fixtures, registered under ``pytest11``:
  real Prometheus/Alertmanager/blackbox_exporter/VictoriaMetrics servers, the
  Grafana double, a profile factory and a CLI runner.
- :mod:`aetherops.testing.servers`: start and stop the real servers; write
  history into VictoriaMetrics or (backfilled) into a Prometheus TSDB.
- :mod:`aetherops.testing.browser`: open a report page in headless Chromium
  (screenshot, console errors, network requests, DOM facts).
- :mod:`aetherops.testing.grafana_double`: a contract-faithful Grafana API double.
- :mod:`aetherops.testing.cli`: run the CLI in-process and inspect the result.
"""
