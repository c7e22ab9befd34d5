"""Fleet fan-out in the core (issue 12): `-p A -p B CMD` / `--all-profiles CMD` on real servers.

Three profiles, one of them a dead stack (its services on a closed port): `health` reports two ok profiles and one
exit-3 profile, overall exit 3, in text, JSON and YAML. `maintenance` makes one silence on each profile's real
Alertmanager. A command without `aetherops_fleet` refuses several profiles (exit 2). A third-party command
(a `--plugin` module) shows the contract: its output is collected per profile, the profiles run at the same
time, and one profile's crash or exit code never stops the others.
"""

from __future__ import annotations

import textwrap

import httpx
import pytest
import yaml
from test_json_keys import snake_violations

from aetherops.testing.servers import free_port, start_alertmanager


@pytest.fixture
def second_alertmanager(tmp_path_factory):
    server = start_alertmanager(tmp_path_factory.mktemp("alertmanager-us"))
    yield server
    server.stop()


@pytest.fixture
def fleet(profile_factory, prometheus_server, alertmanager_server, second_alertmanager):
    """Profiles eu and us on real servers (an Alertmanager each), dead on a closed port, and base, which eu extends."""
    closed = f"http://127.0.0.1:{free_port()}"
    quick = {"timeout": 2, "retries": 0}
    profile_factory("base", maintenance={"author": "fleet-test"})
    profile_factory("eu", extends="base", prometheus={"url": prometheus_server.url, **quick},
                    alertmanager={"url": alertmanager_server.url, **quick})
    profile_factory("us", maintenance={"author": "fleet-test"}, prometheus={"url": prometheus_server.url, **quick},
                    alertmanager={"url": second_alertmanager.url, **quick})
    profile_factory("dead", prometheus={"url": closed, **quick}, alertmanager={"url": closed, **quick})
    return {"eu": alertmanager_server, "us": second_alertmanager}


def by_profile(result) -> dict[str, dict]:
    data = result.json()
    assert isinstance(data, list), result
    return {entry["profile"]: entry for entry in data}


def test_health_across_three_profiles_one_dead_json(fleet, aetherops_cli):
    result = aetherops_cli("-p", "eu", "-p", "us", "-p", "dead", "health", "-o", "json")
    assert result.exit_code == 3, result
    runs = by_profile(result)
    assert list(runs) == ["eu", "us", "dead"]  # the order of -p
    for name in ("eu", "us"):
        assert (runs[name]["ok"], runs[name]["exit_code"], runs[name]["error"]) == (True, 0, None)
        assert {r["service"]: r["ok"] for r in runs[name]["result"]} == {"prometheus": True, "alertmanager": True}
    dead = runs["dead"]
    assert (dead["ok"], dead["exit_code"], dead["error"]) == (False, 3, "no service could be reached")
    assert [r["reachable"] for r in dead["result"]] == [False, False]
    assert all("cannot connect" in r["error"] for r in dead["result"])
    assert "[dead] no service could be reached" in result.stderr and "Traceback" not in result.stderr
    assert snake_violations(result.json()) == []


def test_health_across_three_profiles_one_dead_text(fleet, aetherops_cli):
    result = aetherops_cli("health", "-p", "eu", "-p", "us", "-p", "dead")  # -p after the command works too
    assert result.exit_code == 3, result
    lines = result.stdout.splitlines()
    header = lines[0].split()
    assert header[:3] == ["PROFILE", "SERVICE", "URL"]
    service_rows = [line.split() for line in lines[1:7]]
    assert [(r[0], r[1]) for r in service_rows] == [(p, s) for p in ("eu", "us", "dead") for s in ("prometheus", "alertmanager")]
    assert [r[3] for r in service_rows] == ["True"] * 4 + ["False"] * 2
    summary = lines[lines.index(next(x for x in lines if x.split()[:2] == ["PROFILE", "STATUS"])) + 1:]
    assert [s.split(None, 2) for s in summary] == [["eu", "ok"], ["us", "ok"], ["dead", "exit", "3  no service could be reached"]]


def test_all_profiles_skips_templates_and_shipped_examples(fleet, aetherops_cli):
    result = aetherops_cli("--all-profiles", "health", "-o", "yaml")
    assert result.exit_code == 3, result
    runs = yaml.safe_load(result.stdout)
    # base is extended by eu (a template); local and example-prod ship with aetherops
    assert [(r["profile"], r["exit_code"]) for r in runs] == [("dead", 3), ("eu", 0), ("us", 0)]
    # AETHEROPS_PROFILE in the shell selects the default profile; it does not conflict with --all-profiles
    per_command = aetherops_cli("health", "--all-profiles", "-o", "json", env={"AETHEROPS_PROFILE": "eu"})
    assert [r["profile"] for r in per_command.json()] == ["dead", "eu", "us"]
    assert [r["exit_code"] for r in per_command.json()] == [3, 0, 0]


def test_maintenance_silences_every_profiles_alertmanager(fleet, aetherops_cli):
    made = aetherops_cli("-p", "eu", "-p", "us", "maintenance", "--minutes", "5", "--match", "team=fleet", "-o", "json")
    assert made.exit_code == 0, made
    runs = by_profile(made)
    for name, server in fleet.items():
        silences = [s for s in httpx.get(f"{server.url}/api/v2/silences", timeout=5).json() if s["status"]["state"] == "active"]
        assert [s["id"] for s in silences] == [runs[name]["result"]["id"]]
        assert runs[name]["result"]["created_by"] == "fleet-test"  # each profile's own settings (eu's from base)
    listed = aetherops_cli("-p", "eu", "-p", "us", "maintenance", "list")
    assert listed.exit_code == 0, listed
    rows = [line.split()[:2] for line in listed.stdout.splitlines()[1:3]]
    assert rows == [["eu", runs["eu"]["result"]["id"]], ["us", runs["us"]["result"]["id"]]]
    everywhere = aetherops_cli("maintenance", "list", "--all-profiles", "-o", "json")  # a subcommand of a fleet group
    assert [(r["profile"], len(r["result"] or [])) for r in everywhere.json()] == [("dead", 0), ("eu", 1), ("us", 1)]
    assert everywhere.exit_code == 3  # dead's Alertmanager cannot be reached
    # text lines (not tables) are prefixed with the profile, so they stay attributable when grepped
    ended = aetherops_cli("-p", "eu", "-p", "us", "maintenance", "end", "--mine")
    assert ended.exit_code == 0, ended
    assert [line.split()[:3] for line in ended.stdout.splitlines()[:2]] == [
        ["eu:", "expired", "silence"], ["us:", "expired", "silence"]]


def test_non_fleet_commands_refuse_several_profiles(fleet, aetherops_cli):
    for args, path in ((["-p", "eu", "-p", "us", "profiles", "list"], "aetherops profiles list"),
                       (["--all-profiles", "backup", "list"], "aetherops backup list"),
                       (["-p", "eu", "-p", "us", "maintenance", "extend", "abcd1234", "--minutes", "5"],
                        "aetherops maintenance extend"),
                       (["lint", "-p", "eu", "-p", "us", "."], "aetherops lint")):
        result = aetherops_cli(*args)
        assert result.exit_code == 2, result
        assert f"'{path}' runs on one profile at a time" in result.stderr and "health, maintenance" in result.stderr
        assert len(result.stderr.splitlines()) == 1 and result.stdout == ""
    both = aetherops_cli("-p", "eu", "--all-profiles", "health")
    assert both.exit_code == 2 and "not both" in both.stderr
    same_twice = aetherops_cli("-p", "eu", "-p", "eu", "health", "-o", "json")  # one profile: the plain result
    assert same_twice.exit_code == 0 and {r["service"] for r in same_twice.json()} == {"prometheus", "alertmanager"}


def test_an_unknown_profile_is_its_own_exit_4_row(fleet, aetherops_cli):
    result = aetherops_cli("-p", "eu", "-p", "nope", "health", "-o", "json")
    assert result.exit_code == 4, result
    runs = by_profile(result)
    assert runs["eu"]["exit_code"] == 0 and runs["nope"]["exit_code"] == 4
    assert "unknown profile 'nope'" in runs["nope"]["error"] and runs["nope"]["result"] is None


PLUGIN = """
    import threading

    import click

    import aetherops
    from aetherops.errors import Exit, ServiceError

    BARRIER = threading.Barrier({parties}, timeout=20)

    @aetherops.hookimpl
    def aetherops_register_commands(cli):
        @cli.command("{name}")
        @click.option("--wait", is_flag=True)
        @aetherops.pass_context
        def command(ctx, wait):
            name = ctx.profile.name
            if wait:
                BARRIER.wait()  # returns only if every profile runs at the same time
            ctx.output.note(f"checking {{name}}")
            rows = [{{"item": f"{{name}}-1", "value": 1}}, {{"item": f"{{name}}-2", "value": 2}}]
            ctx.output.result({{"rows": rows}}, lambda: ctx.output.table(rows, [("item", "ITEM"), ("value", "VALUE")]))
            if name == "boom":
                raise RuntimeError("bug in the plugin")
            if name == "down":
                raise ServiceError("the service is down", url="http://x")
            if name == "findings":
                raise Exit(1)

        command.aetherops_fleet = True
"""


@pytest.fixture
def fleet_plugin(tmp_path, monkeypatch, profile_factory):
    monkeypatch.syspath_prepend(str(tmp_path))

    def make(name: str, parties: int) -> str:
        module = f"fleetplugin_{name.replace('-', '_')}"
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(PLUGIN.format(name=name, parties=parties)), encoding="utf-8")
        return module

    for profile in ("ok", "boom", "down", "findings"):
        profile_factory(profile, description=profile)
    return make


def test_a_plugin_fleet_command_collects_output_and_keeps_going(fleet_plugin, aetherops_cli):
    module = fleet_plugin("fleet-demo", 4)
    args = ["--plugin", module, "-p", "ok", "-p", "boom", "-p", "down", "-p", "findings", "fleet-demo", "--wait"]
    result = aetherops_cli(*args, "-o", "json")
    assert result.exit_code == 70, result  # the worst: a bug in one profile
    runs = by_profile(result)
    assert {n: r["exit_code"] for n, r in runs.items()} == {"ok": 0, "boom": 70, "down": 3, "findings": 1}
    assert runs["boom"]["error"] == "internal error: RuntimeError: bug in the plugin"
    assert runs["down"]["error"] == "the service is down"
    assert runs["findings"]["error"] == "checking findings"  # a bare Exit: the last note it printed
    assert runs["ok"]["result"] == {"rows": [{"item": "ok-1", "value": 1}, {"item": "ok-2", "value": 2}]}
    assert all(r["result"]["rows"][0]["item"] == f"{n}-1" for n, r in runs.items())  # collected before each error
    assert "Traceback" not in result.stderr and "aetherops: [ok] checking ok" in result.stderr

    text = aetherops_cli(*args)
    assert text.exit_code == 70, text
    table = [line.split() for line in text.stdout.splitlines()[1:9]]
    assert table == [[p, f"{p}-{i}", str(i)] for p in ("ok", "boom", "down", "findings") for i in (1, 2)]
    headerless = aetherops_cli(*args, "--no-headers")
    assert [line.split()[0] for line in headerless.stdout.splitlines()[:8]] == [
        p for p in ("ok", "boom", "down", "findings") for _ in (1, 2)]
    assert "PROFILE" not in headerless.stdout


def test_fleet_mode_with_yaml_is_the_json_data(fleet, aetherops_cli):
    as_json = aetherops_cli("-p", "dead", "-p", "nope", "health", "-o", "json")
    as_yaml = aetherops_cli("-p", "dead", "-p", "nope", "health", "-o", "yaml")
    assert as_json.exit_code == as_yaml.exit_code == 4
    strip = [{**r, "result": [{**x, "latency_ms": None} for x in r["result"] or []]} for r in as_json.json()]
    again = [{**r, "result": [{**x, "latency_ms": None} for x in r["result"] or []]} for r in yaml.safe_load(as_yaml.stdout)]
    assert strip == again

