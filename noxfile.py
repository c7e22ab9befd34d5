"""Developer tasks: `nox -s lint`, `nox -s tests`, `nox -s fuzz`, `nox -s peers`, `nox -s mutants`, `nox -s bench`, `nox -s docs`.

`tests` is the command CI runs (.ci/run) and the README's second quick-start
command: it installs the Debian server packages when they are missing (Linux,
as root), installs aetherops with its test extras and the example
third-party plugin, and runs the whole suite against real servers.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent


def install_project(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.install("-e", "docs/plugins/example")  # a third-party plugin, through its own entry point


def install_servers(session: nox.Session) -> None:
    if sys.platform.startswith("linux"):
        session.run("bash", str(ROOT / ".ci" / "install-servers"), external=True)
    else:
        session.log("not Linux: put prometheus, alertmanager and blackbox_exporter on PATH or set AETHEROPS_*_BIN")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over everything."""
    session.install("ruff")
    session.run("ruff", "check", ".")


@nox.session
def tests(session: nox.Session) -> None:
    """Unit and integration tests against real Prometheus, Alertmanager and blackbox_exporter."""
    install_servers(session)
    install_project(session)
    args = session.posargs or ["-q", "-ra", "-p", "no:cacheprovider"]
    session.run("pytest", *args, env={"PYTHONUTF8": "1"})


#: Third-party Grafana clients run against the double by `nox -s peers`, pinned: name -> (pip spec, executable).
PEERS = {"grafana-backup-tool": ("grafana-backup==1.4.2", "grafana-backup")}


def install_peer(session: nox.Session, name: str) -> Path:
    """A venv of the peer's own (grafana-backup-tool brings ~100 MB of cloud SDKs): returns its executable."""
    spec, executable = PEERS[name]
    venv = Path(session.virtualenv.location).parent / f"peer-{name}"
    bindir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    if not (bindir / executable).exists() and not (bindir / f"{executable}.exe").exists():
        session.run(sys.executable, "-m", "venv", str(venv), external=True)
        session.run(str(bindir / "python"), "-m", "pip", "install", "-q", spec, external=True)
    return bindir / executable


@nox.session
def peers(session: nox.Session) -> None:
    """Run real third-party Grafana clients against the Grafana double (tests/peers/): their save and
    restore must succeed, and what they save must match what `aetherops backup` saves."""
    install_project(session)
    tool = install_peer(session, "grafana-backup-tool")
    args = session.posargs or ["-q", "-ra", "-p", "no:cacheprovider", "tests/peers"]
    session.run("pytest", *args, env={"PYTHONUTF8": "1", "GRAFANA_BACKUP_TOOL": str(tool)})


@nox.session
def fuzz(session: nox.Session) -> None:
    """The adversarial suite (tests/adversarial) with the long hypothesis profile: many more generated profiles,
    rule files, dashboards and matchers than the quick run inside `nox -s tests` (docs/security.md)."""
    install_project(session)
    args = session.posargs or ["-q", "-ra", "-p", "no:cacheprovider", "tests/adversarial"]
    session.run("pytest", *args, env={"PYTHONUTF8": "1", "HYPOTHESIS_PROFILE": "fuzz"})


@nox.session
def bench(session: nox.Session) -> None:
    """Run every benchmarks/*.py; each prints its own figures.

    aetherops is installed as users get it (a regular, not an editable, install): setuptools'
    editable finder alone adds ~20 ms to every Python start and would be measured as ours."""
    install_servers(session)
    session.install("--force-reinstall", "--no-deps", ".")
    session.install(".[dev]")
    scripts = sorted(ROOT.glob("benchmarks/*.py")) if not session.posargs else [Path(p) for p in session.posargs]
    for script in scripts:
        if script.name.startswith("_"):
            continue
        session.log(f"== {script.name}")
        session.run("python", str(script), env={"PYTHONUTF8": "1"})


@nox.session
def docs(session: nox.Session) -> None:
    """Regenerate the generated docs (profiles reference, CLI reference, lint checks) and fail if they were stale."""
    install_project(session)
    session.run("python", "-m", "aetherops.docgen", "--check" if "--write" not in session.posargs else "--write",
                env={"AETHEROPS_DISABLE_PLUGIN_AUTOLOAD": os.environ.get("AETHEROPS_DISABLE_PLUGIN_AUTOLOAD", "")})
