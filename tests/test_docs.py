"""Docs that cannot drift: every hook documented with its exact signature and tested; generated docs current."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from aetherops import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(name for name, fn in vars(hookspecs).items() if name.startswith("aetherops_") and callable(fn))


def test_there_are_hooks():
    assert {"aetherops_register_commands", "aetherops_profile_sections", "aetherops_backup_components",
            "aetherops_lint_checks", "aetherops_probe_modules", "aetherops_anomaly_detectors"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_docstring_with_version(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert "Added in" in doc and ":returns:" in doc, f"{hook}: docstring must say what to return and when it was added"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_with_exact_signature(hook):
    fn = getattr(hookspecs, hook)
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
