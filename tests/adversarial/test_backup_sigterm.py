"""SIGTERM (what systemd, Kubernetes and `kill` send), like Ctrl-C, removes the `.partial` folder of a
backup in progress: a real subprocess, killed while a component is writing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name == "nt", reason="POSIX signals")

SLOW = '''
    import time
    from pathlib import Path

    import aetherops

    class Slow:
        name = "slow"
        default = False

        def backup(self, job):
            job.write_text("first.txt", "written before the signal")
            Path(job.root, "started").write_text("1")  # tells the test the .partial folder is there
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                time.sleep(0.05)
            job.write_text("never.txt", "the signal came first")

    @aetherops.hookimpl
    def aetherops_backup_components(context):
        return [Slow()]
'''


def _wait_for(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_signal_removes_the_partial_folder(tmp_path, profile_factory, aetherops_env, sig):
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / "slow_backup_plugin.py").write_text(textwrap.dedent(SLOW), encoding="utf-8")
    profile_factory("sig")
    base = tmp_path / "b"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(mods), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "aetherops", "--plugin", "slow_backup_plugin", "-p", "sig", "backup",
                             "--dir", str(base), "--only", "slow"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        started = _wait_for(lambda: any(base.glob("sig/*.partial/slow/started")))
        assert started, proc.communicate(timeout=5) if proc.poll() is not None else "the backup never started"
        partial = next(base.glob("sig/*.partial"))
        proc.send_signal(getattr(signal, sig))
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert not partial.exists() and list((base / "sig").iterdir()) == []
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == ["aetherops: interrupted"], err
    assert Path(partial.parent).is_dir()
