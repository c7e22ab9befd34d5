"""`aetherops alerts routes` agrees with the real `amtool config routes test` (Alertmanager 0.25) on the same inputs.

Configs: Alertmanager's own examples and amtool's test configs (from /work/shared/corpus, copied into
tests/data/alerts; simple.yml without its `tracing:` section, which 0.25 does not know) and parity.yml, written
to use every routing feature (continue, match/match_re/matchers, nested routes, group_by inheritance, regexes
whose meaning differs between Python's re and RE2).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from aetherops.testing.servers import require_binary

DATA = Path(__file__).parent / "data" / "alerts"

LABEL_SETS = [
    [],
    ["alertname=X"],
    ["service=foo1"],
    ["service=foo1", "severity=critical"],
    ["service=foo2", "severity=warning"],
    ["service=files", "severity=critical"],
    ["service=files"],
    ["service=database", "owner=team-X"],
    ["service=database", "owner=team-Y"],
    ["service=database", "owner=team-Z"],
    ["service=baz", "severity=critical", "owner=team-X"],
    ["test=1"], ["test=2"], ["test=3"], ["test=12"],
    ["team=db", "severity=critical"],
    ["team=db", "env=dev", "severity=critical"],
    ["team=db", "severity=page", "instance=db-12"],
    ["team=db", "instance=db-x"],
    ["team=db", "instance=db-٣"],  # an Arabic-Indic digit: \d is ASCII-only in RE2, not in Python's re
    ["team=db", "instance=web-1", "region=eu-west"],
    ["team=db", "instance=web-1", "region=eu-south"],
    ["team=web", "env=prod", "path=/api/v2/users"],
    ["team=web", "env=prod", "path=/api/v1/users"],
    ["team=web", "env=prod", "path=/home"],
    ["team=web", "env=staging", "path=/api/v2/x"],
    ["service=Ωmega"],
    ["service=abc1"],
    ["empty=x"],
    ['quoted="a \\"b\\" c"'],
    ['quoted=a "b" c'],  # an unescaped quote: amtool refuses the label, so must we
    ["weird=été"],
    ["weird=ÉTÉ"],
    ["weird=X"],
    ["code=404"],
    ["a:b=colon"],
    ["cluster=a", "service=foo1", "severity=critical"],
    ["instance=x", "job=y", "service=database"],
]
CONFIGS = ["parity.yml", "simple.yml", "conf.good.yml", "conf.routing.yml", "conf.routing-reverted.yml", "cli-conf.good.yml",
           "conf.group-by-all.yml", "ha-alertmanager.yml"]


def amtool_receivers(config: Path, labels: list[str]) -> str | None:
    """What amtool prints, or None when it refuses the input."""
    amtool = require_binary("amtool")
    proc = subprocess.run([str(amtool), "config", "routes", "test", f"--config.file={config}", *labels],
                          capture_output=True, text=True, timeout=30)
    return proc.stdout.strip() if proc.returncode == 0 else None


@pytest.mark.parametrize("config", CONFIGS)
def test_routes_agree_with_amtool(config):
    from aetherops_plugins.alerts import routing

    path = DATA / config
    parsed = routing.load_file(path)
    compared = 0
    for labels in LABEL_SETS:
        try:
            ours = ",".join(parsed.receivers_for(routing.parse_labels(labels, colons=True)))
        except routing.m.MatcherError:
            ours = None
        assert ours == amtool_receivers(path, labels), (config, labels)
        compared += ours is not None
    assert compared >= len(LABEL_SETS) - 1


def test_routes_cli_agrees_with_amtool_and_shows_the_path(aetherops_cli, profile_factory):
    profile_factory("offline")
    path = DATA / "parity.yml"
    labels = ["team=db", "severity=critical", "instance=db-7"]
    result = aetherops_cli("-p", "offline", "-o", "json", "alerts", "routes", "--config", path, *[x for lab in labels for x in ("--label", lab)])
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert ",".join(data["receivers"]) == amtool_receivers(path, labels) == "db-pager,db-instances"
    pager, instances = data["routes"]
    assert pager["continue"] is True and pager["group_by"] == ["..."] and pager["group_wait"] == "10s"
    assert [step["route"] for step in instances["path"]] == ["route", "route.routes[1]", "route.routes[1].routes[0]"]
    assert instances["path"][2]["matchers"] == ['instance=~"db-\\\\d+"']
    assert instances["group_by"] == ["alertname"]  # inherited from the root, not from the sibling that set '...'
    text = aetherops_cli("-p", "offline", "alerts", "routes", "--config", path, *[x for lab in labels for x in ("--label", lab)])
    assert text.stdout.splitlines()[0] == "db-pager,db-instances"


def test_verify_receivers_exit_codes(aetherops_cli, profile_factory):
    profile_factory("offline")
    path = DATA / "simple.yml"
    ok = aetherops_cli("-p", "offline", "alerts", "routes", "--config", path, "--label", "service=files",
                       "--verify-receivers", "team-Y-mails")
    assert ok.exit_code == 0, ok.stderr
    bad = aetherops_cli("-p", "offline", "alerts", "routes", "--config", path, "--label", "service=files",
                        "--verify-receivers", "team-X-pager")
    assert bad.exit_code == 1 and "WARNING" in bad.stdout


def test_routes_from_the_profiles_config_file_and_bad_input(aetherops_cli, profile_factory, tmp_path):
    profile_factory("filecfg", alertmanager={"url": "http://127.0.0.1:9", "config_file": str(DATA / "conf.routing.yml")})
    result = aetherops_cli("-p", "filecfg", "-o", "json", "alerts", "routes", "--label", "test=2")
    assert result.exit_code == 0, result.stderr
    assert result.json()["receivers"] == ["test1", "test2"]
    bad = tmp_path / "bad.yml"
    bad.write_text("route:\n  receiver: a\n  routes:\n    - matchers: ['x=~\"(\"']\n      receiver: a\nreceivers: [{name: a}]\n",
                   encoding="utf-8")
    result = aetherops_cli("-p", "filecfg", "alerts", "routes", "--config", bad, "--label", "x=1")
    assert result.exit_code == 4 and f"{bad}:4:" in result.stderr and "Traceback" not in result.stderr
    result = aetherops_cli("-p", "filecfg", "alerts", "routes", "--label", "x=~1")
    assert result.exit_code == 2 and "NAME=VALUE" in result.stderr
