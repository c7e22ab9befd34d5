"""Guards: one focused test per promise that a planted bug once slipped past the suite.

Each test names the single fault it catches; it fails when that fault is planted (checked by hand and by
``nox -s mutants``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import httpx
import pytest

from aetherops.errors import ConfigError
from aetherops.profiles import ProfileStore
from aetherops.redact import MASK, known_secrets, redact_data
from aetherops_plugins.maintenance import engine


# ---------------------------------------------------------------- maintenance never moves an end earlier
def test_rerun_with_fewer_minutes_keeps_the_later_end(alertmanager_server, profile_factory, aetherops_cli, monkeypatch):
    """Fault: extending an identical active silence sets the end to now + --minutes even when that is earlier."""
    profile_factory("am", alertmanager={"url": alertmanager_server.url, "timeout": 10, "retries": 1})
    monkeypatch.setenv("AETHEROPS_PROFILE", "am")
    long = aetherops_cli("maintenance", "--minutes", "120", "--match", 'job="db"', "-o", "json")
    assert long.exit_code == 0, long
    short = aetherops_cli("maintenance", "--minutes", "5", "--match", 'job="db"', "-o", "json")
    assert short.exit_code == 0, short
    assert short.json()["action"] == "extended" and short.json()["id"] == long.json()["id"]
    assert "its end is kept" in short.stderr
    (silence,) = httpx.get(f"{alertmanager_server.url}/api/v2/silences", timeout=10).json()
    assert engine.parse_time(silence["endsAt"]) == engine.parse_time(long.json()["ends_at"])
    assert engine.parse_time(short.json()["ends_at"]) == engine.parse_time(long.json()["ends_at"])


# ---------------------------------------------------------------- key-based masking
def test_redact_data_masks_values_under_secret_keys_even_unregistered():
    """Fault: redact_data only hides registered secrets, not a value under a secret-looking key."""
    value = "never-registered-3f9c"
    assert value not in known_secrets()
    data = {"url": "http://prom:9090", "api_key": value, "auth": {"basic_auth_password": value, "username": "ops"},
            "receivers": [{"name": "pager", "routing_key": value, "Authorization": value}], "timeout": 5, "token": None}
    masked = redact_data(data)
    assert value not in json.dumps(masked)
    assert masked["api_key"] == masked["auth"]["basic_auth_password"] == MASK
    assert masked["receivers"][0]["routing_key"] == masked["receivers"][0]["Authorization"] == MASK
    # only those: the other values are kept as they are, and an empty secret stays empty
    assert masked["url"] == "http://prom:9090" and masked["auth"]["username"] == "ops" and masked["timeout"] == 5
    assert masked["receivers"][0]["name"] == "pager" and masked["token"] is None
    assert data["api_key"] == value  # a copy: the input is not changed


# ---------------------------------------------------------------- inline secret inside a list
def test_inline_secret_inside_a_list_is_refused(profile_factory, profiles_dir):
    """Fault: the inline-secret check walks mappings only, so a secret in a list item passes."""
    profile_factory("p", text=textwrap.dedent("""\
        prometheus:
          url: http://127.0.0.1:9090
        notify:
          receivers:
            - name: pager
              url_env: PAGER_URL
            - name: chat
              webhook_url: https://hooks.example/T000/B000/xyzzy-literal
        """))
    with pytest.raises(ConfigError) as info:
        ProfileStore(profiles_dir=profiles_dir).load("p")
    message = info.value.format_message()
    assert "inline secret in 'notify.receivers.1.webhook_url'" in message
    assert "p.yaml:8:" in message and "xyzzy-literal" not in message


# ---------------------------------------------------------------- a broken plugin through an entry point
@pytest.fixture
def broken_distribution(tmp_path):
    """A throwaway installed distribution (a module and its dist-info with an ``aetherops`` entry point) whose
    plugin raises at import; a folder to put on PYTHONPATH."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "aetherops_guard_broken.py").write_text("raise RuntimeError('guard plugin exploded at import')\n", encoding="utf-8")
    info = site / "aetherops_guard_broken-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: aetherops-guard-broken\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[aetherops]\nguardbroken = aetherops_guard_broken\n", encoding="utf-8")
    (info / "RECORD").write_text("", encoding="utf-8")
    return site


def test_broken_entry_point_plugin_is_a_warning_not_an_outage(broken_distribution, aetherops_env, tmp_path):
    """Fault: a plugin that fails to import through its entry point (not ``--plugin``) takes the CLI down."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(broken_distribution), os.environ.get("PYTHONPATH", "")]),
           "AETHEROPS_NO_PLUGIN_CACHE": "1", "NO_COLOR": "1", "AETHEROPS_PROFILES_DIR": str(tmp_path)}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "aetherops", *args], capture_output=True, text=True, env=env,
                              stdin=subprocess.DEVNULL, timeout=120)

    listed = cli("plugins", "--output", "json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["guardbroken"]["source"] == "entry point" and rows["guardbroken"]["status"] == "error"
    assert rows["maintenance"]["status"] == "ok"  # the others still load
    warnings = [line for line in listed.stderr.splitlines() if "guardbroken" in line]
    assert len(warnings) == 1 and "guard plugin exploded at import" in warnings[0], listed.stderr
    assert "Traceback" not in listed.stderr
    (tmp_path / "ops.yaml").write_text("prometheus:\n  url: http://127.0.0.1:9090\n", encoding="utf-8")
    other = cli("profiles", "list", "--output", "json")  # another command still works
    assert other.returncode == 0, other.stderr
    assert "ops" in [row["name"] for row in json.loads(other.stdout)]
