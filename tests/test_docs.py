"""Docs that cannot drift: every hook documented with its exact signature and tested; generated docs current."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from aetherops import hookspecs
from aetherops.plugins import make_plugin_manager

ROOT = Path(__file__).resolve().parent.parent


def _all_hookspecs() -> dict:
    """Every hook specification, wherever declared: the core's, and those built-in plugins add through
    ``aetherops_add_hookspecs`` (the example plugin and AETHEROPS_PLUGINS stay out: only what ships)."""
    pm = make_plugin_manager(env={}, blocked=["example"])
    return {name: caller.spec.function for name, caller in sorted(vars(pm.hook).items())
            if name.startswith("aetherops_") and getattr(caller, "spec", None) is not None}


SPECS = _all_hookspecs()
HOOKS = sorted(SPECS)


def test_there_are_hooks():
    assert {"aetherops_register_commands", "aetherops_profile_sections", "aetherops_add_hookspecs", "aetherops_backup_components",
            "aetherops_lint_checks", "aetherops_probe_modules", "aetherops_anomaly_detectors"} <= set(HOOKS)


def test_the_core_declares_only_the_hooks_it_calls():
    core = {name for name, fn in vars(hookspecs).items() if name.startswith("aetherops_") and callable(fn)}
    assert "aetherops_backup_components" not in core and "aetherops_lint_checks" not in core
    assert SPECS["aetherops_backup_components"].__module__ == "aetherops_plugins.backup.hookspecs"
    assert SPECS["aetherops_lint_checks"].__module__ == "aetherops_plugins.lint.hookspecs"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_docstring_with_version(hook):
    doc = inspect.getdoc(SPECS[hook]) or ""
    assert "Added in" in doc and ":returns:" in doc, f"{hook}: docstring must say what to return and when it was added"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_with_exact_signature(hook):
    fn = SPECS[hook]
    params = ", ".join(inspect.signature(fn).parameters)
    heading = f"## {hook}({params})"
    text = (ROOT / "docs" / "plugins" / "hooks.md").read_text(encoding="utf-8")
    assert heading in text.splitlines(), f"docs/plugins/hooks.md needs the heading: {heading}"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook):
    pattern = re.compile(rf"^def test_hook_{hook}\(", re.MULTILINE)
    assert any(pattern.search(p.read_text(encoding="utf-8")) for p in (ROOT / "tests").glob("test_*.py")), \
        f"no test named test_hook_{hook}"


def test_generated_docs_are_current():
    from aetherops import docgen

    for rel, fn in docgen.GENERATED.items():
        current = (ROOT / rel).read_text(encoding="utf-8")
        assert current == fn(), f"{rel} is stale: run python -m aetherops.docgen --write"


def test_docs_pages_exist():
    for page in ("getting-started.md", "profiles.md", "exit-codes.md", "architecture.md", "cli.md",
                 "plugins/guide.md", "plugins/hooks.md"):
        assert (ROOT / "docs" / page).is_file(), page
