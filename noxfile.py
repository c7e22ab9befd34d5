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
    session.install(".[dev,prophet]")  # prophet: the anomaly benchmark compares against it in the same run
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


#: module (as in this repo) -> the fast test files whose verdict counts for its mutants
MUTATION_TARGETS = {
    "aetherops/redact.py": ["tests/test_guard_redact.py"],
    "aetherops/profiles.py": ["tests/test_profiles.py", "tests/test_guard_profiles.py"],
    "plugins/backup/manifest.py": ["tests/test_backup_unit.py", "tests/test_guard_backup.py"],
    "plugins/backup/restore.py": ["tests/test_backup_unit.py", "tests/test_guard_restore.py"],
    "plugins/maintenance/engine.py": ["tests/test_guard_maintenance_engine.py"],
}


#: line patterns of code run at import time, not mutated (see the mutants session)
IMPORT_TIME_LINES = [r"^\s+\"\w+\": Field\(", r"^    fields = \{$", r"^    fields\.update\(extra\)$", r"^    return fields$"]


@nox.session
def mutants(session: nox.Session) -> None:
    """Mutation testing (mutmut 3) of the modules that keep the promises; prints the kill rate per module.

    mutmut imports mutated code by its file path, but ``plugins/`` ships as ``aetherops_plugins``: the sources are
    staged under their import names in .nox/mutants-stage/MODULE, then mutated one module at a time (this machine is
    shared: one module's mutants, only its focused test files). ``nox -s mutants -- plugins/maintenance/engine.py``
    runs one module. Exits non-zero when a module is under 90%.
    """
    import json
    import shutil

    install_project(session)
    session.install("mutmut>=3.8,<4")
    targets = {k: v for k, v in MUTATION_TARGETS.items() if not session.posargs or k in session.posargs}
    rates = {}
    for module, test_files in targets.items():
        stage = ROOT / ".nox" / "mutants-stage" / module.replace("/", "_").removesuffix(".py")  # kept: `mutmut show` there
        if stage.exists():
            shutil.rmtree(stage)
        stage.mkdir(parents=True)
        shutil.copytree(ROOT / "aetherops", stage / "aetherops", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "plugins", stage / "aetherops_plugins", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "profiles", stage / "profiles")
        shutil.copytree(ROOT / "tests", stage / "tests", ignore=shutil.ignore_patterns("__pycache__"))
        test_files = [f for f in test_files if (ROOT / f).exists()]
        staged = module.replace("plugins/", "aetherops_plugins/", 1)
        config = (ROOT / "pyproject.toml").read_text(encoding="utf-8") + "\n[tool.mutmut]\n" + "\n".join([
            'source_paths = ["aetherops", "aetherops_plugins"]',
            'also_copy = ["profiles"]',  # the shipped profiles, found next to the package
            # declarations evaluated at import (profile section fields): mutmut switches a mutant on after the
            # import, so mutants there are never active and would count as survivors whatever the tests do
            f"do_not_mutate_patterns = {json.dumps(IMPORT_TIME_LINES)}",
            f"only_mutate = [{json.dumps(staged)}]",
            f"pytest_add_cli_args_test_selection = {json.dumps(test_files)}",
            'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]',
            "use_git_change_detection = false",
        ]) + "\n"
        (stage / "pyproject.toml").write_text(config, encoding="utf-8")
        session.chdir(stage)
        session.run("mutmut", "run", "--max-children", "1", success_codes=[0, 1], env={"PYTHONUTF8": "1"})
        session.run("mutmut", "export-cicd-stats", env={"PYTHONUTF8": "1"})
        stats = json.loads((stage / "mutants" / "mutmut-cicd-stats.json").read_text(encoding="utf-8"))
        total = stats.get("total", 0) - stats.get("skipped", 0)  # as mutmut's own score: no_tests count as survivors
        rates[module] = (stats.get("killed", 0) + stats.get("timeout", 0), total, stats)
        session.run("mutmut", "results", success_codes=[0, 1])  # the survivors, to read
        session.chdir(ROOT)
    session.log("mutation kill rate per module (killed / mutants checked):")
    low = []
    for module, (killed, total, stats) in rates.items():
        rate = killed / total if total else 0.0
        session.log(f"  {module:32} {killed:4}/{total:<4} {rate:6.1%}   {stats}")
        if rate < 0.9:
            low.append(module)
    if low:
        session.error(f"under 90%: {', '.join(low)}")
