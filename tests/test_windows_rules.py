"""Windows rules checked without Windows (issue 15): file names a backup writes are valid Windows names, the
paths restore extracts to stay under MAX_PATH, the PowerShell steps restore prints work, archive members pass
the ``data`` filter (or its rules in code), ``sandbox down`` only stops the process ``up`` started (creation
time through psutil, as on Windows), and the CLI path calls no POSIX-only function outside a guard."""

from __future__ import annotations

import ast
import ntpath
import re
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aetherops_plugins.backup import archive
from aetherops_plugins.backup.components.grafana import MAX_DASHBOARD_REL, dashboard_files
from aetherops_plugins.backup.paths import MAX_NAME, WINDOWS_RESERVED, portable_name
from aetherops_plugins.sandbox import engine as sandbox

ROOT = Path(__file__).resolve().parent.parent
MAX_PATH = 260
#: a long but real %TEMP%: a 40-character user name (domain accounts, "firstname.lastname.contractor...")
LONG_TEMP = "C:\\Users\\" + "a" * 40 + "\\AppData\\Local\\Temp"


# ---------------------------------------------------------------------------------------- file names
def _valid_windows_name(name: str) -> bool:
    return (bool(name) and not name.endswith((".", " ")) and name.split(".", 1)[0].lower() not in WINDOWS_RESERVED
            and not re.search(r'[<>:"/\\|?*\x00-\x1f]', name))


@pytest.mark.parametrize("uid", ["con", "CON", "nul", "Nul.json", "aux", "prn", "com1", "COM9", "lpt1", "lpt¹", "conin$",
                                 "dash.", "dash. ", " dash", "...", "", "a:b", "a/b", "a\\b", "x" * 300])
def test_reserved_names_trailing_dots_and_long_uids_become_valid_names(uid):
    name = portable_name(uid)
    assert _valid_windows_name(name), name
    assert len(name) <= MAX_NAME


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=120))
def test_any_uid_becomes_a_valid_windows_name(uid):
    name = portable_name(uid)
    assert _valid_windows_name(name) and len(name) <= MAX_NAME
    assert name == portable_name(uid)  # stable: the same uid goes to the same file in every backup


def test_dashboard_and_folder_files_avoid_reserved_names():
    hits = [{"uid": uid, "type": "dash-db", "folderUid": "nul"} for uid in ("con", "com1.", "ok")]
    files = dict((hit["uid"], rel) for hit, rel in dashboard_files(hits, {"nul": "nul"}))
    for rel in files.values():
        assert all(_valid_windows_name(part) for part in rel.split("/")), rel
    assert files["ok"] == "dashboards/_nul/ok.json"


def _nested(depth: int, uid_len: int) -> tuple[list[dict], dict[str, str]]:
    chain = [f"{i:02d}" + "f" * (uid_len - 2) for i in range(depth)]
    dirs = {uid: "/".join(chain[: i + 1]) for i, uid in enumerate(chain)}
    hits = [{"uid": "d" * uid_len, "type": "dash-db", "folderUid": chain[-1]},
            {"uid": "D" * uid_len, "type": "dash-db", "folderUid": chain[-1]}]  # same name on a case-insensitive disk
    return hits, dirs


@pytest.mark.parametrize("depth", [1, 4, 8, 16])
def test_restore_temp_paths_stay_under_max_path_with_long_nested_uids(depth, monkeypatch):
    # Grafana uids are at most 40 characters; folders nest up to 8 levels by default (more when configured)
    hits, dirs = _nested(depth, 40)
    rels = [rel for _, rel in dashboard_files(hits, dirs)]
    assert len({r.lower() for r in rels}) == 2
    # restore extracts an archive to <TEMP>\<prefix>XXXXXXXX\<backup name>\grafana\<rel>
    import tempfile

    workdir = ntpath.join(LONG_TEMP, archive.TEMP_PREFIX + "x" * 8)  # mkdtemp adds 8 random characters
    backup_name = "2026-12-01T10-41-36.123Z-99"
    for rel in rels:
        assert len(rel) <= MAX_DASHBOARD_REL
        full = ntpath.join(workdir, backup_name, "grafana", *rel.split("/"))
        assert len(full) < MAX_PATH, (len(full), full)
    assert tempfile.gettempprefix()  # (the temp dir itself comes from %TEMP%, above)


def test_restore_and_verify_extract_under_the_short_prefix():
    for module in ("plugins/backup/restore.py", "plugins/backup/engine.py"):
        text = (ROOT / module).read_text(encoding="utf-8")
        assert "mkdtemp(prefix=TEMP_PREFIX)" in text or "mkdtemp(prefix=archive.TEMP_PREFIX)" in text, module


# ---------------------------------------------------------------------------------------- PowerShell steps
def _powershell_blocks(text: str) -> list[str]:
    return re.findall(r"```powershell\n(.*?)```", text, flags=re.S)


def test_restore_powershell_steps_use_move_item_not_rename_item_with_a_path():
    from aetherops_plugins.backup.manifest import restore_markdown

    manifest = {"profile": "ops", "components": {"prometheus": {"status": "ok", "meta": {
        "snapshot": "20261201T000000Z-abc", "snapshot_copied": True, "data_dir": "C:\\prometheus\\data"}}}}
    text = restore_markdown(manifest)
    steps = "".join(_powershell_blocks(text))
    assert "Move-Item -LiteralPath 'C:\\prometheus\\data' -Destination 'C:\\prometheus\\data.before-restore'" in steps
    for line in steps.splitlines():
        if line.startswith("Rename-Item"):
            new_name = re.findall(r"'([^']*)'", line)[-1]
            assert "\\" not in new_name and "/" not in new_name, line  # Rename-Item only takes a bare name


def test_prometheus_restore_instructions_use_move_item():
    source = (ROOT / "plugins/backup/components/prometheus.py").read_text(encoding="utf-8")
    assert "Rename-Item '{data_dir}' '{data_dir}" not in source
    assert "Move-Item -LiteralPath '{data_dir}' -Destination '{data_dir}.before-restore'" in source


# ---------------------------------------------------------------------------------------- archive filter
HOSTILE = {
    "absolute": lambda: _member("/etc/passwd"),
    "dot-dot": lambda: _member("top/../../escaped"),
    "symlink": lambda: _member("top/link", tarfile.SYMTYPE, linkname="/etc/passwd"),
    "hard link": lambda: _member("top/hard", tarfile.LNKTYPE, linkname="top/x"),
    "device": lambda: _member("top/null", tarfile.CHRTYPE),
    "fifo": lambda: _member("top/fifo", tarfile.FIFOTYPE),
}


def _member(name: str, kind: bytes = tarfile.REGTYPE, *, linkname: str = "", mode: int = 0o644) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, linkname, mode
    return info


@pytest.fixture(params=["data_filter", "rules in code"])
def filter_mode(request, monkeypatch):
    if request.param == "rules in code":
        monkeypatch.delattr(tarfile, "data_filter", raising=False)  # a Python before 3.10.12 / 3.11.4
    elif not hasattr(tarfile, "data_filter"):
        pytest.skip("this Python has no tarfile.data_filter")
    return request.param


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_members_never_pass_the_filter(case, filter_mode, tmp_path):
    with pytest.raises(archive.ArchiveError) as info:
        archive.safe_member(HOSTILE[case](), tmp_path)
    assert info.value.exit_code == 1
    assert "\n" not in info.value.format_message()


def test_regular_members_lose_setuid_and_group_write(filter_mode, tmp_path):
    safe = archive.safe_member(_member("top/file", mode=0o6777), tmp_path)
    assert safe.mode & 0o7022 == 0 and safe.mode & 0o600 == 0o600
    assert archive.safe_member(_member("top/dir", tarfile.DIRTYPE), tmp_path).name == "top/dir"


def test_open_archive_extracts_through_the_filter_without_data_filter(monkeypatch, tmp_path):
    import io

    monkeypatch.delattr(tarfile, "data_filter", raising=False)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in (("20261201T000000Z/MANIFEST.json", b"{}"), ("20261201T000000Z/a/b.txt", b"x")):
            info = _member(name, mode=0o4755)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path = tmp_path / "20261201T000000Z.tar.gz"
    path.write_bytes(buf.getvalue())
    (tmp_path / "work").mkdir()
    folder = archive.open_archive(path, tmp_path / "work")
    assert (folder / "a" / "b.txt").read_bytes() == b"x"


# ---------------------------------------------------------------------------------------- sandbox pids
@pytest.fixture
def sleeper(tmp_path):
    log = tmp_path / "sleeper.log"
    proc = sandbox._spawn([sys.executable, "-c", "import time; time.sleep(60)"], log, cwd=tmp_path)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


def _record(proc: subprocess.Popen, create_time: float | None) -> dict:
    return {"pid": proc.pid, "command": [sys.executable, "-c", "..."], "create_time": create_time}


def test_sandbox_records_the_creation_time_and_stops_only_that_process(sleeper):
    created = sandbox._create_time(sleeper.pid)
    assert created is not None and abs(created - time.time()) < 120
    # the same pid with another creation time: a process that reused the pid (after a reboot) is left alone
    stranger = _record(sleeper, created - 3600)
    assert not sandbox._running(stranger)
    assert sandbox._stop(stranger) is False
    assert sleeper.poll() is None
    # the process up started
    assert sandbox._running(_record(sleeper, created))
    assert sandbox._stop(_record(sleeper, created), timeout=10) is True
    assert sleeper.wait(10) is not None
    assert not sandbox._running(_record(sleeper, created))


def test_a_record_without_creation_time_falls_back_to_the_program_name(sleeper):
    record = _record(sleeper, None)
    assert sandbox._running(record)
    assert not sandbox._running({**record, "command": ["/usr/bin/some-other-program"]})


def test_up_stores_the_creation_time():
    source = (ROOT / "plugins/sandbox/engine.py").read_text(encoding="utf-8")
    assert '"create_time": _create_time(process.pid)' in source


# ---------------------------------------------------------------------------------------- POSIX-only calls
POSIX_ATTRS = {("os", n) for n in (
    "kill", "killpg", "fork", "forkpty", "setsid", "setpgid", "getpgid", "getuid", "geteuid", "getgid", "getegid", "chown",
    "lchown", "mkfifo", "mknod", "waitpid", "WNOHANG", "wait", "getppid", "sync", "nice", "openpty", "sched_getaffinity",
    "getloadavg", "statvfs", "pipe2", "setuid", "setgid", "initgroups", "getgroups")}
POSIX_ATTRS |= {("signal", n) for n in ("SIGKILL", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGCHLD", "SIGPIPE",
                                        "SIGSTOP", "SIGCONT", "alarm", "setitimer", "pause")}
POSIX_MODULES = {"fcntl", "pwd", "grp", "termios", "tty", "pty", "resource", "posix", "syslog", "crypt", "spwd"}
#: test harness only, never imported by the CLI (it drives Chromium for the browser tests)
NOT_CLI = {"aetherops/testing/browser.py"}
_GUARDS = ("sys.platform", "os.name", "hasattr(", "getattr(", "platform.system")


def _posix_only_calls(source: str) -> list[tuple[int, str]]:
    """POSIX-only attributes and modules used outside a guard (an ``if`` on sys.platform / os.name / hasattr,
    or a ``try`` that handles ImportError / AttributeError / OSError)."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, guarded: bool) -> None:
        if isinstance(node, (ast.If, ast.IfExp)) and any(g in ast.unparse(node.test) for g in _GUARDS):
            guarded = True
        if isinstance(node, ast.Try) and any(h.type is not None and re.search(r"ImportError|AttributeError|OSError",
                                                                                ast.unparse(h.type)) for h in node.handlers):
            for child in node.body:
                visit(child, True)
            for child in (*node.handlers, *node.orelse, *node.finalbody):
                visit(child, guarded)
            return
        if not guarded:
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and (node.value.id, node.attr) in POSIX_ATTRS:
                found.append((node.lineno, f"{node.value.id}.{node.attr}"))
            elif isinstance(node, ast.Import):
                found.extend((node.lineno, f"import {a.name}") for a in node.names if a.name.split(".")[0] in POSIX_MODULES)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] in POSIX_MODULES:
                found.append((node.lineno, f"from {node.module} import"))
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(ast.parse(source), False)
    return found


def test_the_scanner_finds_unguarded_calls_and_accepts_guarded_ones():
    bad = "import os, signal\nos.kill(1, signal.SIGKILL)\nimport fcntl\n"
    assert [w for _, w in _posix_only_calls(bad)] == ["os.kill", "signal.SIGKILL", "import fcntl"]
    good = ("import os, sys\nif sys.platform != 'win32':\n    os.kill(1, 9)\n"
            "try:\n    import fcntl\nexcept ImportError:\n    fcntl = None\n"
            "x = os.getuid() if hasattr(os, 'getuid') else 0\n")
    assert _posix_only_calls(good) == []


def test_no_posix_only_call_outside_a_guard_on_the_cli_path():
    problems = []
    for base in ("aetherops", "plugins"):
        for path in sorted((ROOT / base).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in NOT_CLI:
                continue
            problems += [f"{rel}:{line}: {what}" for line, what in _posix_only_calls(path.read_text(encoding="utf-8"))]
    assert problems == []


def test_the_cli_never_imports_the_browser_harness():
    for base in ("aetherops", "plugins"):
        for path in (ROOT / base).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("aetherops/testing/"):
                continue
            assert "testing.browser" not in path.read_text(encoding="utf-8"), rel
