"""Every command's JSON keys are snake_case, and its `-o yaml` is the same data (issue 15).

One test runs every command of the built-in plugins against the real servers of the harness (Prometheus,
Alertmanager, blackbox_exporter) and the Grafana double, with `-o yaml`. In-process, the data each command
hands to `Output.result` is recorded, so for every command:

- the YAML it printed parses to exactly what `-o json` prints for that data (`aetherops.output.to_json`);
- every key of that JSON, at every depth, is snake_case, except inside the maps listed in `OPAQUE`, whose keys
  are data in a foreign schema (documented in docs/json.md);
- the key set is the one docs/json.md documents for the command (its "Keys" line).

A command added to the CLI without an invocation here fails `test_every_command_is_covered`.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click
import pytest
import yaml
from test_sandbox import sandbox_profile  # noqa: F401 - the fixture: a profile "sbx" on free ports

from aetherops.output import Output, to_json

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")

#: keys whose value is a map whose keys are data, not schema (docs/json.md, "Key conventions")
OPAQUE = {
    "labels", "annotations",  # Prometheus/Alertmanager label and annotation names
    "headers",  # HTTP header names of a profile's service
    "body",  # maintenance --dry-run: the exact JSON body sent to Alertmanager's API
    "rules",  # slo rules: Prometheus rule groups (Prometheus' own file format)
}


def leaf_commands() -> dict[str, click.Command]:
    """Every command that does something when invoked: leaves, and groups that run without a subcommand."""
    from aetherops.cli import build_cli
    from aetherops.docgen import _builtin_pm

    found: dict[str, click.Command] = {}

    def walk(command: click.Command, path: list[str]) -> None:
        if isinstance(command, click.Group):
            if command.invoke_without_command and path:
                found[" ".join(path)] = command
            for name, sub in command.commands.items():
                walk(sub, path + [name])
        else:
            found[" ".join(path)] = command

    walk(build_cli(_builtin_pm()), [])
    return found


def snake_violations(data, path: str = "$") -> list[str]:
    """Paths of keys that are not snake_case (not looking inside OPAQUE maps)."""
    bad: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if not SNAKE.match(str(key)):
                bad.append(f"{path}.{key}")
            if key not in OPAQUE:
                bad.extend(snake_violations(value, f"{path}.{key}"))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            bad.extend(snake_violations(value, f"{path}[{i}]"))
    return bad


def top_keys(data) -> set[str]:
    """The keys of the result's objects: of the object itself, or of a list's first object."""
    if isinstance(data, list):
        data = next((d for d in data if isinstance(d, dict)), {})
    return set(data) if isinstance(data, dict) else set()


def documented_keys() -> dict[str, set[str]]:
    """docs/json.md: for each `### \\`aetherops COMMAND\\`` heading, the keys of its "Keys:" line."""
    text = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")
    out: dict[str, set[str]] = {}
    current = None
    for line in text.splitlines():
        heading = re.match(r"^### `aetherops ([^`]+)`", line)
        if heading:
            current = heading.group(1)
        elif current and line.startswith("Keys:"):
            out[current] = set(re.findall(r"`([^`]+)`", line))
    return out


@pytest.fixture
def recorded(monkeypatch):
    """The data each command passed to Output.result (the printing Output, not a fleet collector)."""
    seen: list = []
    original = Output.result

    def result(self, data, text=None):
        if type(self) is Output:
            seen.append(data)
        return original(self, data, text)

    monkeypatch.setattr(Output, "result", result)
    return seen


def write_dashboard(root: Path) -> str:
    root.mkdir(parents=True, exist_ok=True)
    board = {"uid": "json-keys", "title": "JSON keys", "panels": [{"id": 1, "type": "stat", "title": "Up",
                                                                   "gridPos": {"h": 4, "w": 6, "x": 0, "y": 0}}],
             "schemaVersion": 39}
    (root / "json-keys.json").write_text(json.dumps(board), encoding="utf-8")
    return board["uid"]


def test_every_command_is_covered():
    """Each command the CLI has is in COVERED (so the stack test below runs it)."""
    assert set(leaf_commands()) == COVERED, "add the new command to test_every_command_json_* and to docs/json.md"


def test_docs_json_md_names_every_command():
    documented = documented_keys()
    assert set(documented) == COVERED, "docs/json.md needs a '### `aetherops COMMAND`' heading with a 'Keys:' line per command"


COVERED = {
    "alerts list", "alerts routes", "alerts test",
    "anomaly check", "anomaly engines",
    "backup", "backup list", "backup prune", "backup verify", "restore",
    "dashboards diff", "dashboards list", "dashboards open", "dashboards pull", "dashboards push",
    "health", "lint", "maintenance", "maintenance end", "maintenance extend", "maintenance list", "maintenance run",
    "plugins", "probe", "profiles list", "profiles show",
    "sandbox down", "sandbox status", "sandbox up",
    "slo backtest", "slo dashboard", "slo rules", "slo simulate", "slo status",
    "validate", "reload", "query", "query-range", "open",
}


def check(name: str, result, recorded: list, checked: dict, *, foreign: bool = False) -> None:
    """One command's `-o yaml` run: YAML == its JSON, keys snake_case (unless the whole result is a ``foreign``
    document), key set as documented."""
    assert result.exit_code in (0, 1), (name, result)
    assert "Traceback" not in result.stderr, (name, result)
    assert recorded, f"{name}: printed nothing through ctx.output.result"
    expected = json.loads(to_json(recorded[-1]))
    assert yaml.safe_load(result.stdout) == expected, (name, result.stdout[:2000])
    recorded.clear()
    if foreign:
        return
    assert snake_violations(expected) == [], name
    checked.setdefault(name, []).append(expected)


def test_every_command_json_is_snake_case_and_yaml_is_the_same_data(stack_profile, grafana_double, prometheus_server,
                                                                    alertmanager_server, aetherops_cli, recorded,
                                                                    tmp_path):
    checked: dict[str, list] = {}

    def run(name: str, *args: str, foreign: bool = False) -> object:
        result = aetherops_cli("-o", "yaml", *name.split(), *args)
        check(name, result, recorded, checked, foreign=foreign)
        return checked[name][-1] if name in checked else None

    grafana_double.seed_demo()
    run("plugins")
    run("profiles list")
    run("profiles show", "stack")
    run("health")
    run("probe", f"{prometheus_server.url}/-/healthy")
    run("alerts routes", "--config", str(DATA / "alerts" / "parity.yml"), "--label", "alertname=JsonKeys",
        "--label", "severity=critical")
    run("alerts test", "--label", "alertname=JsonKeys", "--label", "severity=critical", "--resolve-after", "0")
    run("alerts list")
    run("lint", str(DATA / "lint" / "stack"))
    run("lint", "--list-checks")
    boards = tmp_path / "boards"
    uid = write_dashboard(boards)
    run("dashboards push", str(boards))
    run("dashboards list")
    run("dashboards diff", str(boards))
    run("dashboards pull", str(tmp_path / "pulled"))
    run("dashboards open", uid, "--print-url")
    run("open", uid, "--print-url")
    run("open", "prometheus", "--print-url")
    run("validate")
    run("reload")
    run("query", "vector(1)")
    run("query-range", "vector(1)", "--since", "5m", "--step", "1m")
    made = run("maintenance", "--minutes", "5", "--match", "team=json", "--comment", "json keys")
    run("maintenance list")
    run("maintenance extend", made["id"], "--minutes", "6")
    run("maintenance end", made["id"])
    run("maintenance run", "--minutes", "1", "--", sys.executable, "-c", "pass")
    backups = tmp_path / "backups"
    run("backup", "--dir", str(backups))
    listed = run("backup list", "--dir", str(backups))
    run("backup verify", "--dir", str(backups))
    run("backup prune", "--dir", str(backups), "--keep", "1", "--dry-run")
    run("restore", str(listed[0]["path"]), "--dry-run")
    spec = str(DATA / "slo" / "api.yaml")
    run("slo rules", spec)
    run("slo dashboard", spec, foreign=True)  # Grafana's dashboard model itself: its keys are Grafana's
    run("slo dashboard", spec, "--out", str(tmp_path / "slo-board.json"))
    run("slo simulate", spec, "--scenario", "outage:ratio=1.0,for=10m", "--resolution", "1m")
    run("slo backtest", spec, "--since", "1h", "--step", "1m")
    run("slo status", spec)
    run("anomaly engines")
    run("anomaly check", "up", "--since", "1h")  # minutes of history on the test server: "not enough data"
    run("anomaly check", "--csv", str(DATA / "anomaly" / "nab" / "data" / "artificialWithAnomaly" / "art_daily_jumpsup.csv"))
    # with --dry-run too: the request body is the one place keys stay as Alertmanager spells them
    dry = run("maintenance", "--minutes", "5", "--match", "team=dry", "--dry-run")
    assert "endsAt" in dry["request"]["body"] and "ends_at" in dry

    documented = documented_keys()
    for name, outputs in checked.items():
        for data in outputs:
            assert top_keys(data) <= documented[name], (name, top_keys(data) - documented[name])


@pytest.mark.skipif(sys.platform == "win32", reason="the sandbox test below uses POSIX process checks")
@pytest.mark.usefixtures("sandbox_profile")
def test_sandbox_json_is_snake_case_and_yaml_is_the_same_data(aetherops_cli, recorded):
    checked: dict[str, list] = {}
    documented = documented_keys()
    try:
        for name in ("sandbox up", "sandbox status"):
            check(name, aetherops_cli("-p", "sbx", *name.split(), "-o", "yaml"), recorded, checked)
    finally:
        check("sandbox down", aetherops_cli("-p", "sbx", "sandbox", "down", "-o", "yaml"), recorded, checked)
    for name, outputs in checked.items():
        for data in outputs:
            assert top_keys(data) <= documented[name], (name, top_keys(data) - documented[name])
