"""The online pint counterparts against real servers: online/offset and online/range-query (the server's retention),
online/features (its version and --enable-feature), alerts/external-labels and labels/conflict (its external labels)."""

from __future__ import annotations

import json

import pytest

from aetherops_plugins.lint.checks import builtin_checks
from aetherops_plugins.lint.engine import Options, run
from aetherops_plugins.lint.online import OnlineContext

pytestmark = pytest.mark.servers
CHECKS = builtin_checks()


@pytest.fixture(scope="module")
def prom(tmp_path_factory):
    """Prometheus keeping 2 days, with external labels and the experimental-functions flag."""
    from aetherops.testing.servers import require_binary, start_prometheus

    require_binary("prometheus")
    server = start_prometheus(tmp_path_factory.mktemp("pint-prom"),
                              config={"global": {"external_labels": {"cluster": "prod-eu", "region": "eu"}}},
                              extra_args=["--storage.tsdb.retention.time=2d", "--enable-feature=promql-experimental-functions"])
    yield server
    server.stop()


def lint(server_url, tmp_path, rules, only):
    from aetherops.clients.prometheus import PrometheusClient
    from aetherops.profiles import ServiceConfig

    (tmp_path / "rules.yml").write_text(json.dumps({"groups": [{"name": "g", "rules": rules}]}), encoding="utf-8")
    client = PrometheusClient(ServiceConfig(name="prometheus", url=server_url, timeout=5, retries=1))
    try:
        opts = Options(paths=[str(tmp_path)], online=OnlineContext(client, {}))
        opts.disable = {c.id for c in CHECKS if c.id != only}
        return [f for f in run(opts, CHECKS).findings if f.check == only]
    finally:
        client.close()


def rec(name, expr):
    return {"record": name, "expr": expr}


def test_offset_beyond_the_servers_retention(prom, tmp_path):
    found = lint(prom.url, tmp_path, [rec("a:b:c", "sum(up offset 3d)"), rec("a:b:d", "sum(up offset 1d)"),
                                      rec("a:b:e", "rate(prometheus_http_requests_total[5m] offset 7d)")], "online/offset")
    assert [f.name for f in found] == ["a:b:c", "a:b:e"]
    assert "offset 3d reaches past the server's 2d retention" in found[0].message


def test_range_beyond_the_servers_retention(prom, tmp_path):
    found = lint(prom.url, tmp_path, [rec("a:b:c", "avg_over_time(up[3d])"), rec("a:b:d", "avg_over_time(up[1d])"),
                                      rec("a:b:e", "max_over_time(sum(up)[1d:5m] offset 1d12h)")], "online/range-query")
    assert [f.name for f in found] == ["a:b:c", "a:b:e"]
    assert "[3d] looks back 3d, beyond the server's 2d retention: only the last 2d are used" in found[0].message


def test_features_name_the_servers_version(prom, tmp_path):
    found = lint(prom.url, tmp_path, [rec("a:b:c", 'sort_by_label(up, "instance")'), rec("a:b:d", "sort(up)")],
                 "online/features")
    assert [f.name for f in found] == ["a:b:c"]
    assert "needs Prometheus 2.49.0 or newer" in found[0].message and "the server runs 2." in found[0].message


def test_external_labels_and_conflicts_against_the_server(prom, tmp_path):
    rules = [{"alert": "Down", "expr": "up == 0", "for": "5m", "labels": {"cluster": "prod-us", "severity": "critical"},
              "annotations": {"summary": "{{ $labels.instance }} in {{ $externalLabels.cluster }}/{{ $externalLabels.dc }}"}}]
    ext = lint(prom.url, tmp_path, rules, "alerts/external-labels")
    assert len(ext) == 1 and "$externalLabels.dc" in ext[0].message and "from the server" in ext[0].message
    conflict = lint(prom.url, tmp_path, rules, "labels/conflict")
    assert len(conflict) == 1 and "cluster='prod-us'" in conflict[0].message and "'prod-eu'" in conflict[0].message


def test_a_server_without_status_endpoints_is_not_an_error(victoriametrics_server, tmp_path):
    """VictoriaMetrics answers queries but not Prometheus' status API: the checks stay silent, lint does not fail."""
    for check in ("online/offset", "online/range-query", "online/features"):
        assert lint(victoriametrics_server.url, tmp_path, [rec("a:b:c", "avg_over_time(up[300d] offset 200d)")], check) == []
