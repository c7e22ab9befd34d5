"""Issue 15: shell completion of backup component names, lint check ids and silence ids (from the Alertmanager,
offering nothing when it cannot be reached), run the way a shell runs it: ``_AETHEROPS_COMPLETE`` in a real
process, where click builds no Context (the completion helper does)."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys

import httpx
import pytest


def complete(line: str, env: dict | None = None) -> tuple[list[str], subprocess.CompletedProcess]:
    """The values bash would offer for the last word of ``line`` (ending with a space: a new word)."""
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    full = {**os.environ, **(env or {}), "_AETHEROPS_COMPLETE": "bash_complete", "COMP_WORDS": line, "COMP_CWORD": str(cword)}
    done = subprocess.run([sys.executable, "-m", "aetherops"], capture_output=True, text=True, env=full, timeout=60)
    values = [row.split(",", 1)[1] for row in done.stdout.splitlines() if "," in row]
    return values, done


@pytest.mark.parametrize("line, expected", [
    ("aetherops backup --only gr", ["grafana"]),
    ("aetherops backup --only ", ["alertmanager", "configs", "grafana", "prometheus", "silences"]),
    ("aetherops backup --exclude pro", ["prometheus"]),
    ("aetherops backup --only grafana,co", ["grafana,configs"]),
    ("aetherops restore x --only s", ["silences"]),
])
def test_component_names(aetherops_env, line, expected):
    values, done = complete(line)
    assert done.returncode == 0 and done.stderr == ""
    assert set(expected) <= set(values)  # (plus the components of other installed plugins, e.g. the docs' example)
    last = line.split()[-1] if not line.endswith(" ") else ""
    assert all(v.startswith(last) for v in values) and len(set(values)) == len(values)


def test_lint_check_ids(aetherops_env):
    values, done = complete("aetherops lint --disable syntax/")
    assert done.returncode == 0 and done.stderr == ""
    assert "syntax/file" in values and all(v.startswith("syntax/") for v in values)
    everything, _ = complete("aetherops lint --enable ")
    assert len(everything) > 20 and len(set(everything)) == len(everything)


@pytest.mark.servers
def test_silence_ids_come_from_the_alertmanager(alertmanager_server, profile_factory):
    profile_factory("am", alertmanager={"url": alertmanager_server.url})
    now = dt.datetime.now(dt.timezone.utc)
    body = {"matchers": [{"name": "completion", "value": "test", "isRegex": False}], "startsAt": now.isoformat(),
            "endsAt": (now + dt.timedelta(hours=1)).isoformat(), "createdBy": "pytest", "comment": "completion"}
    silence_id = httpx.post(f"{alertmanager_server.url}/api/v2/silences", json=body, timeout=5).json()["silenceID"]
    for line in ("aetherops -p am maintenance end ", "aetherops -p am maintenance extend ",
                 f"aetherops -p am maintenance end {silence_id[:6]}"):
        values, done = complete(line)
        assert done.returncode == 0 and done.stderr == "", done
        assert silence_id in values, line
    expired = httpx.delete(f"{alertmanager_server.url}/api/v2/silence/{silence_id}", timeout=5)
    assert expired.status_code == 200
    values, _ = complete("aetherops -p am maintenance end ")
    assert silence_id not in values  # only active and pending silences are offered


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("profile", ["down", "broken"])
def test_completion_fails_silently(profile_factory, profile):
    if profile == "down":
        profile_factory("p", alertmanager={"url": f"http://127.0.0.1:{_closed_port()}", "retries": 5})
    else:
        profile_factory("p", text="alertmanager: [\n")
    values, done = complete("aetherops -p p maintenance end ")
    assert done.returncode == 0 and values == [] and done.stderr == "" and "Traceback" not in done.stdout
