"""The help cache (aetherops/__main__.py): `aetherops --help` answered from its last rendering imports neither click,
pluggy nor any plugin, prints exactly what the full CLI prints, and is rendered again whenever what it was built from
changes (a plugin's source, an installed plugin, the environment) or the CLI warned about a plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

PROBE = """
import json, sys
from aetherops.__main__ import main
try:
    main({args!r})
except SystemExit as exc:
    sys.__stderr__.write("EXIT:" + str(exc.code) + "\\n")
sys.__stderr__.write("MODULES:" + json.dumps(sorted(sys.modules)) + "\\n")
"""

#: imported by every full run of `aetherops --help`, by none answered from the cache
FULL_RUN_ONLY = ("click", "pluggy", "aetherops.cli", "aetherops.plugins", "aetherops_plugins")

PLUGIN = """
    import click
    import aetherops

    @aetherops.hookimpl
    def aetherops_register_commands(cli):
        @cli.command("greet-xyz")
        def greet():
            '''{text}'''
"""


class Run:
    def __init__(self, done: subprocess.CompletedProcess):
        self.stdout = done.stdout
        self.stderr = "\n".join(x for x in done.stderr.splitlines() if not x.startswith(("MODULES:", "EXIT:")))
        line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES:"))
        self.modules = set(json.loads(line.removeprefix("MODULES:")))
        self.exit = next((x.removeprefix("EXIT:") for x in done.stderr.splitlines() if x.startswith("EXIT:")), None)

    @property
    def cached(self) -> bool:
        return not any(m.split(".")[0] in FULL_RUN_ONLY or m in FULL_RUN_ONLY for m in self.modules)


@pytest.fixture
def run_help(aetherops_env):
    def run(args=("--help",), **env) -> Run:
        full_env = {**os.environ, **env}
        for key, value in env.items():
            if value is None:
                del full_env[key]
        done = subprocess.run([sys.executable, "-c", PROBE.format(args=list(args))], capture_output=True, text=True,
                              timeout=60, env=full_env)
        return Run(done)

    return run


@pytest.mark.parametrize("args", [("--help",), ("-h",)])
def test_second_help_comes_from_the_cache_and_is_identical(run_help, args):
    first = run_help(args)
    assert not first.cached, "the first run has no cache to read: it must build the CLI"
    second = run_help(args)
    assert second.cached, f"second `aetherops {args[0]}` imported {sorted(m for m in second.modules if m.startswith(FULL_RUN_ONLY))}"
    uncached = run_help(args, AETHEROPS_NO_PLUGIN_CACHE="1")
    assert not uncached.cached
    assert "Commands:" in first.stdout and "maintenance" in first.stdout
    assert second.stdout == first.stdout == uncached.stdout
    assert second.exit == first.exit == "0"
    assert second.stderr == first.stderr == ""


def test_other_command_lines_never_use_the_cache(run_help):
    run_help()
    for args in (["plugins", "--help"], ["--help", "--debug"], ["-o", "json", "--help"]):
        assert not run_help(args).cached, args


def test_an_edited_plugin_is_rendered_again(run_help, tmp_path):
    (tmp_path / "helloplug.py").write_text(textwrap.dedent(PLUGIN.format(text="Say hi.")), encoding="utf-8")
    env = {"PYTHONPATH": str(tmp_path), "AETHEROPS_PLUGINS": "helloplug"}
    first = run_help(**env)
    assert "greet-xyz" in first.stdout and "Say hi." in first.stdout
    assert run_help(**env).cached
    source = tmp_path / "helloplug.py"
    source.write_text(textwrap.dedent(PLUGIN.format(text="Say goodbye.")), encoding="utf-8")
    later = time.time() + 5
    os.utime(source, (later, later))
    edited = run_help(**env)
    assert not edited.cached
    assert "Say goodbye." in edited.stdout and "Say hi." not in edited.stdout


def test_an_installed_plugin_shows_up(run_help, tmp_path):
    """pip installing a plugin changes a sys.path folder: its entry point's command appears at once."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "helloplug.py").write_text(textwrap.dedent(PLUGIN.format(text="Installed hello.")), encoding="utf-8")
    env = {"PYTHONPATH": str(site)}
    assert "greet-xyz" not in run_help(**env).stdout
    assert run_help(**env).cached
    dist = site / "helloplug-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: helloplug\nVersion: 1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[aetherops]\nhelloplug = helloplug\n", encoding="utf-8")
    later = time.time() + 5
    os.utime(site, (later, later))
    installed = run_help(**env)
    assert not installed.cached
    assert "greet-xyz" in installed.stdout and "Installed hello." in installed.stdout


def test_a_plugin_warning_is_never_cached(run_help):
    env = {"AETHEROPS_PLUGINS": "no_such_plugin_module_xyz"}
    for _ in range(2):
        run = run_help(**env)
        assert not run.cached
        assert "no_such_plugin_module_xyz" in run.stderr


def test_the_environment_is_part_of_the_key(run_help):
    run_help()
    assert run_help().cached
    assert not run_help(COLUMNS="60").cached
    assert not run_help(AETHEROPS_DISABLE_PLUGIN_AUTOLOAD="1").cached


def test_no_variable_value_lands_in_the_cache_file(run_help, aetherops_env):
    """A profile's token_env may well be an AETHEROPS_* variable: the cache keeps a digest, never the value."""
    secret = "s3cr3t-token-value-0123456789"
    run_help(AETHEROPS_GRAFANA_TOKEN=secret)
    assert run_help(AETHEROPS_GRAFANA_TOKEN=secret).cached
    assert not run_help(AETHEROPS_GRAFANA_TOKEN=secret + "x").cached
    files = [p for p in (Path(aetherops_env["AETHEROPS_CACHE_DIR"])).rglob("help-*")]
    assert files
    for path in files:
        assert secret.encode() not in path.read_bytes()


@pytest.mark.parametrize(("args", "code"), [(["plugins", "-o", "json"], 0), (["--no-such-option"], 2), (["no-such-command"], 2)])
def test_the_console_entry_keeps_exit_codes_and_output(aetherops_env, args, code):
    """`python -m aetherops` (and the console script) go through aetherops.__main__.main, which freezes the GC on the
    way out: the exit code and the output are the CLI's own."""
    done = subprocess.run([sys.executable, "-m", "aetherops", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == code, done
    if code == 0:
        assert {p["name"] for p in json.loads(done.stdout)} >= {"maintenance", "lint", "health"}
    else:
        assert done.stderr.startswith("aetherops: error:") and "Traceback" not in done.stderr
