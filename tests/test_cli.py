"""The root command: global options, --output anywhere, exit codes, one-line errors, python -m."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from aetherops.errors import ExitCode


@pytest.fixture
def plugin_module(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "faulty_plugin.py").write_text(textwrap.dedent("""
        import click
        import aetherops

        @aetherops.hookimpl
        def aetherops_register_commands(cli):
            @cli.command()
            @click.argument("what")
            @aetherops.pass_context
            def fail(ctx, what):
                '''Fail in the way asked.'''
                if what == "interrupt":
                    raise KeyboardInterrupt
                if what == "bug":
                    raise ValueError("unexpected thing")
                if what == "findings":
                    raise SystemExit(1)
                ctx.output.result({"unicode": "naïve ✓ 監視"}, lambda: ctx.output.line("naïve ✓ 監視"))
    """), encoding="utf-8")
    return "faulty_plugin"


def test_exit_codes_are_the_documented_ones():
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 70, 130]


def test_output_json_globally_and_after_the_command(aetherops_cli):
    before = aetherops_cli("-o", "json", "plugins")
    after = aetherops_cli("plugins", "--output", "json")
    assert before.exit_code == after.exit_code == 0
    assert before.json() == after.json()
    # after a nested command too
    assert isinstance(aetherops_cli("profiles", "list", "-o", "json").json(), list)


def test_usage_error_is_exit_2_in_one_line(aetherops_cli):
    result = aetherops_cli("no-such-command")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["aetherops: error: No such command 'no-such-command'. (see 'aetherops --help')"]
    bad_option = aetherops_cli("health", "--service", "nope")
    assert bad_option.exit_code == 2 and len(bad_option.stderr.splitlines()) == 1
    assert "'aetherops health --help'" in bad_option.stderr
    assert aetherops_cli("-o", "xml", "plugins").exit_code == 2


def test_ctrl_c_is_exit_130(aetherops_cli, plugin_module):
    result = aetherops_cli("--plugin", plugin_module, "fail", "interrupt")
    assert result.exit_code == 130 and "interrupted" in result.stderr


def test_unexpected_error_is_one_line_unless_debug(aetherops_cli, plugin_module):
    result = aetherops_cli("--plugin", plugin_module, "fail", "bug")
    assert result.exit_code == 70  # EX_SOFTWARE: a crash must never read as "findings" to a script
    assert result.stderr.strip().splitlines() == [
        f"aetherops: internal error in plugin '{plugin_module}': ValueError: unexpected thing (run with --debug for a traceback)"]
    debug = aetherops_cli("--debug", "--plugin", plugin_module, "fail", "bug")
    assert debug.exit_code == 70  # --debug adds the traceback, never changes the exit code
    assert "Traceback (most recent call last)" in debug.stderr and "ValueError: unexpected thing" in debug.stderr


def test_findings_exit_code_passes_through(aetherops_cli, plugin_module):
    assert aetherops_cli("--plugin", plugin_module, "fail", "findings").exit_code == 1


def test_utf8_output(aetherops_cli, plugin_module):
    result = aetherops_cli("--plugin", plugin_module, "fail", "text")
    assert result.exit_code == 0 and result.stdout.strip() == "naïve ✓ 監視"
    assert aetherops_cli("--plugin", plugin_module, "fail", "text", "-o", "json").json() == {"unicode": "naïve ✓ 監視"}


def test_python_dash_m_works(aetherops_env):
    result = subprocess.run([sys.executable, "-m", "aetherops", "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "aetherops, version" in result.stdout


def test_non_utf8_console_does_not_crash(aetherops_env, tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "uni.yaml").write_text("description: Überwachung ✓\nprometheus: {url: 'http://x'}\n", encoding="utf-8")
    env = {**__import__("os").environ, "PYTHONIOENCODING": "ascii", "AETHEROPS_PROFILES_DIR": str(tmp_path / "profiles")}
    result = subprocess.run([sys.executable, "-m", "aetherops", "profiles", "show", "uni"], capture_output=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert b"berwachung" in result.stdout  # written as UTF-8 (click) or replaced, never a UnicodeEncodeError


def test_powershell_completion_script(aetherops_env):
    env = {**__import__("os").environ, "_AETHEROPS_COMPLETE": "powershell_source"}
    result = subprocess.run([sys.executable, "-m", "aetherops"], capture_output=True, text=True, env=env, timeout=60)
    assert "Register-ArgumentCompleter" in result.stdout


def test_colour_follows_no_color_and_force_color(aetherops_cli):
    forced = aetherops_cli("plugins", env={"NO_COLOR": None, "FORCE_COLOR": "1"})
    assert forced.exit_code == 0 and "\x1b[" in forced.stdout
    plain = aetherops_cli("plugins", env={"NO_COLOR": "1", "FORCE_COLOR": "1"})  # NO_COLOR wins
    assert "\x1b[" not in plain.stdout
    piped = aetherops_cli("plugins", env={"NO_COLOR": None, "FORCE_COLOR": None})  # not a terminal
    assert "\x1b[" not in piped.stdout


def test_profile_option_after_the_command(aetherops_cli, profile_factory):
    profile_factory("after", prometheus={"url": "http://127.0.0.1:9"})
    result = aetherops_cli("profiles", "show", "-o", "json", "-p", "after")
    assert result.exit_code == 0 and result.json()["name"] == "after"
    assert aetherops_cli("health", "-p", "nosuch").exit_code == 4


def test_debug_keeps_the_exit_code(aetherops_cli):
    result = aetherops_cli("--debug", "-p", "nosuch", "health")
    assert result.exit_code == 4 and "Traceback" in result.stderr and "unknown profile 'nosuch'" in result.stderr


def test_group_without_subcommand_prints_its_help(aetherops_cli):
    result = aetherops_cli("profiles")
    assert result.exit_code == 2
    assert "Usage:" in result.stdout and "list" in result.stdout and "show" in result.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_ctrl_c_during_health_ends_at_once(aetherops_env, tmp_path):
    import os
    import signal
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections, never answers
    port = listener.getsockname()[1]
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "slow.yaml").write_text(
        f"prometheus: {{url: 'http://127.0.0.1:{port}', timeout: 300, retries: 3}}\n", encoding="utf-8")
    env = {**os.environ, "AETHEROPS_PROFILES_DIR": str(tmp_path / "profiles")}
    proc = subprocess.Popen([sys.executable, "-m", "aetherops", "-p", "slow", "health"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        listener.settimeout(60)
        connection, _ = listener.accept()  # health is waiting for an answer that would take 300 s to time out
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)  # far less than the 300 s (x3 retries) it would wait without the Ctrl-C
        assert proc.returncode == 130
        connection.close()
    finally:
        proc.kill()
        listener.close()
