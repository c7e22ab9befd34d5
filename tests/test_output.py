"""Output that pipes (issue 15): natural-width rows when piped, --no-headers, ellipsis on a narrow terminal, -o yaml.

Piped output is what the CLI runner captures (not a terminal). A terminal is simulated two ways: a stream whose
isatty() is true with COLUMNS set (unit level), and a real pseudo-terminal of a given size around a real
`aetherops` process (POSIX only).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from aetherops.output import Output, fit_widths, snake_case, snake_keys
from aetherops.testing.servers import free_port

DATA = Path(__file__).parent / "data"
ROWS = [
    {"service": "prometheus", "url": "http://127.0.0.1:9090", "ok": True, "error": None},
    {"service": "alertmanager", "url": "http://127.0.0.1:9093", "ok": False,
     "error": "alertmanager GET http://127.0.0.1:9093/api/v2/status: cannot connect (Connection refused) after 3 tries"},
]
COLUMNS = [("service", "SERVICE"), ("url", "URL"), ("ok", "OK"), ("error", "ERROR")]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def render(monkeypatch, *, terminal: bool, width: int | None = None, headers: bool = True, rows=ROWS, columns=COLUMNS) -> str:
    stream = FakeTerminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)
    monkeypatch.setenv("NO_COLOR", "1")
    if width is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", str(width))
    Output(headers=headers).table(rows, columns, styles={"ok": lambda ok: "green" if ok else "red"})
    return stream.getvalue()


# ---------------------------------------------------------------- piped
def test_piped_table_keeps_every_row_on_one_line_at_natural_width(monkeypatch):
    long = {**ROWS[1], "error": "refused " + "x" * 300 + "\nsecond line\tand a tab"}
    out = render(monkeypatch, terminal=False, width=40, rows=[ROWS[0], long])  # COLUMNS does not matter when piped
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0].split() == ["SERVICE", "URL", "OK", "ERROR"]
    assert lines[2].endswith("x" * 300 + " second line and a tab")  # the whole cell, on its row's line
    assert lines[1].split() == ["prometheus", "http://127.0.0.1:9090", "True"]
    # columns line up: every cell starts where its header starts
    assert lines[2].index("http://") == lines[1].index("http://") == lines[0].index("URL")
    assert "─" not in out and "…" not in out


def test_no_headers_drops_the_header_row(monkeypatch):
    assert render(monkeypatch, terminal=False, headers=False).splitlines()[0].split()[0] == "prometheus"
    assert "SERVICE" not in render(monkeypatch, terminal=True, width=120, headers=False)


def test_piped_health_error_cell_is_not_split(profile_factory, aetherops_cli):
    """The command-level version of the above: a long error (over 200 characters) stays on its row's line."""
    closed = f"http://127.0.0.1:{free_port()}/" + "p" * 180
    profile_factory("dead", prometheus={"url": closed, "timeout": 1, "retries": 0},
                    alertmanager={"url": closed, "timeout": 1, "retries": 0})
    result = aetherops_cli("-p", "dead", "health")
    assert result.exit_code == 3, result
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and lines[0].split()[0] == "SERVICE"
    for line, service in zip(lines[1:], ("prometheus", "alertmanager")):
        assert line.startswith(service) and line.rstrip().endswith("(Connection refused)") and len(line) > 200
    assert "p" * 180 in lines[1]
    for args in (["--no-headers", "-p", "dead", "health"], ["-p", "dead", "health", "--no-headers"]):
        headerless = aetherops_cli(*args).stdout.splitlines()
        assert [line.split()[0] for line in headerless] == ["prometheus", "alertmanager"], args


# ---------------------------------------------------------------- terminal
def test_narrow_terminal_truncates_with_an_ellipsis_never_wraps(monkeypatch):
    out = render(monkeypatch, terminal=True, width=60)
    lines = out.splitlines()
    assert len(lines) == 4  # header, rule, two rows: nothing wrapped
    assert all(len(line) <= 60 for line in lines), lines
    assert lines[0].split() == ["SERVICE", "URL", "OK", "ERROR"]
    assert lines[2].startswith("prometheus ") and lines[3].startswith("alertmanager ")  # narrow cells whole
    assert lines[3].rstrip().endswith("…") and "cannot connect" not in out  # the long one cut, marked
    assert "http://127.0.0.1" in lines[2]


def test_wide_terminal_shows_everything(monkeypatch):
    out = render(monkeypatch, terminal=True, width=300)
    assert "…" not in out and ROWS[1]["error"] in out


def test_fit_widths_cuts_the_widest_columns_first():
    assert fit_widths([10, 50, 5, 80], [7, 4, 2, 5], 200) == [10, 50, 5, 80]
    widths = fit_widths([10, 50, 5, 80], [7, 4, 2, 5], 60)
    assert sum(widths) <= 60 and widths[0] == 10 and widths[2] == 5 and widths[1] == widths[3]
    assert fit_widths([10, 50], [10, 40], 20) == [10, 40]  # floors win when nothing fits


@pytest.mark.skipif(os.name == "nt", reason="a pseudo-terminal needs POSIX pty")
def test_real_terminal_of_70_columns(profile_factory, aetherops_env, profiles_dir):
    """`aetherops health` in a real 70-column pseudo-terminal: rows fit and long cells end with an ellipsis."""
    import fcntl
    import pty
    import struct
    import termios

    closed = f"http://127.0.0.1:{free_port()}"
    profile_factory("dead", prometheus={"url": closed, "timeout": 1, "retries": 0},
                    alertmanager={"url": closed, "timeout": 1, "retries": 0})
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 70, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(AETHEROPS_PROFILES_DIR=str(profiles_dir), NO_COLOR="1", TERM="xterm")
    try:
        proc = subprocess.run([sys.executable, "-m", "aetherops", "-p", "dead", "health"], stdin=subprocess.DEVNULL,
                              stdout=slave, stderr=subprocess.PIPE, env=env, timeout=60)
        os.close(slave)
        slave = None
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    out = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
    assert proc.returncode == 3, (out, proc.stderr)
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 4, out
    assert all(len(line.rstrip()) <= 70 for line in lines), out
    # six columns in 70: every column wider than the common cap is cut, the URLs and errors most
    assert lines[0].split()[:3] == ["SERVICE", "URL", "OK"] and lines[2].startswith("prometheus")
    assert lines[3].startswith("alertmanag")
    assert lines[2].rstrip().endswith("…") and lines[3].rstrip().endswith("…"), out
    assert lines[2].split()[1].startswith("http://") and lines[2].split()[1].endswith("…")


# ---------------------------------------------------------------- yaml
@pytest.mark.parametrize("args", [
    ["plugins"],
    ["profiles", "list"],
    ["lint", str(DATA / "lint" / "stack")],
    ["lint", "--list-checks"],
    ["slo", "rules", str(DATA / "slo" / "api.yaml")],
    ["slo", "simulate", str(DATA / "slo" / "api.yaml"), "--scenario", "outage:ratio=1.0,for=10m", "--resolution", "1m"],
])
def test_yaml_is_the_json_data(aetherops_cli, args):
    as_json = aetherops_cli(*args, "-o", "json")
    as_yaml = aetherops_cli(*args, "-o", "yaml")
    assert as_json.exit_code == as_yaml.exit_code and as_json.exit_code in (0, 1), as_yaml
    data = yaml.safe_load(as_yaml.stdout)
    expected = as_json.json()
    if args[0] == "lint" and isinstance(expected, dict):
        expected["summary"]["seconds"] = data["summary"]["seconds"] = 0  # how long it took
    assert data == expected
    assert not as_yaml.stdout.lstrip().startswith(("{", "["))  # block style, not JSON-in-YAML


def test_lint_explicit_format_json_wins_over_output_yaml(aetherops_cli):
    result = aetherops_cli("lint", str(DATA / "lint" / "stack"), "--format", "json", "-o", "yaml")
    assert json.loads(result.stdout)["version"] == 1


def test_yaml_quotes_what_yaml_would_read_as_another_type(monkeypatch, capsys):
    tricky = {"a": ["yes", "no", "on", "off", "null", "~", "1e3", "0x10", "2026-01-01", "12:30", "", " x ", "- y",
                    "# z", "a: b", "NaN", "\u2028", "ünïcode"], "n": [1, 1.5, None, True]}
    Output("yaml").result(tricky)
    assert yaml.safe_load(capsys.readouterr().out) == tricky


def test_snake_case_keys():
    assert [snake_case(k) for k in ("endsAt", "createdBy", "dryRun", "previousId", "exitCode", "HTTPServer", "ok", "dry-run")] == [
        "ends_at", "created_by", "dry_run", "previous_id", "exit_code", "http_server", "ok", "dry_run"]
    data = {"endsAt": 1, "matchers": [{"isRegex": True}], "request": {"body": {"createdBy": "x"}},
            "labels": {"alertName": "A"}}
    assert snake_keys(data, keep=("body", "labels")) == {"ends_at": 1, "matchers": [{"is_regex": True}],
                                                          "request": {"body": {"createdBy": "x"}},
                                                          "labels": {"alertName": "A"}}
