"""QA (issue 12, `alerts test --wait`): the documented way to end the wait early is Ctrl-C ("Ctrl-C resolves it
now"). It did resolve the alert, but printed nothing at all: the receivers, route and silence state, the very
thing the on-call engineer ran the test for, were lost, only "aetherops: interrupted". Now the result is printed
(the alert resolved at Ctrl-C) and the exit code stays 130. Real Alertmanager, real SIGINT (POSIX only)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")


def test_ctrl_c_during_wait_prints_the_result_and_resolves(alertmanager_server, profile_factory, aetherops_env):
    profile_factory("w", alertmanager={"url": alertmanager_server.url, "timeout": 5, "retries": 0})
    env = {**os.environ, **aetherops_env}
    process = subprocess.Popen([sys.executable, "-m", "aetherops", "-p", "w", "alerts", "test", "--label",
                                "alertname=QaWait", "--resolve-after", "10m", "--wait"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until the alert is posted and read back
        listed = subprocess.run([sys.executable, "-m", "aetherops", "-p", "w", "-o", "json", "alerts", "list"],
                                capture_output=True, text=True, env=env)
        if "QaWait" in listed.stdout:
            break
        time.sleep(0.2)
    time.sleep(1.0)  # past the read-back, into the wait
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)

    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert 'posted {alertname="QaWait"}' in out
    assert "receivers: null" in out
    assert "Ctrl-C" in out
    listed = subprocess.run([sys.executable, "-m", "aetherops", "-p", "w", "-o", "json", "alerts", "list"],
                            capture_output=True, text=True, env=env)
    assert "QaWait" not in listed.stdout  # resolved
