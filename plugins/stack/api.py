"""The stack plugin's public API: the config files ``aetherops validate`` checks.

Name a file of your own from your plugin with the ``aetherops_config_files`` hook::

    import aetherops

    @aetherops.hookimpl
    def aetherops_config_files(context):
        from aetherops_plugins.stack.api import ConfigFile

        path = context.section("loki").get("rules_file")
        return [ConfigFile("loki.rules_file", path, kind="rules")] if path else []

``aetherops validate`` then adds a ``file`` row for it (exists and parses) and, for the ``rules`` and
``alertmanager`` kinds, ``lint`` rows (and ``promtool``/``amtool`` rows when those are on PATH).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: what a config file can be: the parser (and the extra checks) ``validate`` applies
KINDS = ("yaml", "json", "rules", "alertmanager", "prometheus")


@dataclass(frozen=True)
class ConfigFile:
    """One config file of the stack, as a plugin names it (see the module docstring)."""

    #: the row's label, unique across plugins (``prometheus.config_file``, ``loki.rules_file``)
    name: str
    #: where it is (relative paths: to the current directory, like every path given to aetherops)
    path: str | Path
    #: ``yaml``, ``json``, ``rules`` (Prometheus rule file), ``alertmanager`` or ``prometheus`` (prometheus.yml)
    kind: str = "yaml"


def config_file_problem(item: Any) -> str | None:
    """What is wrong with a contributed entry (None: nothing): a broken entry is left out with a warning."""
    if not isinstance(item, ConfigFile):
        return f"not an aetherops_plugins.stack.api.ConfigFile ({type(item).__name__})"
    if not isinstance(item.name, str) or not item.name:
        return "it has no name"
    if item.kind not in KINDS:
        return f"kind must be one of {', '.join(KINDS)}, not {item.kind!r}"
    if not isinstance(item.path, (str, Path)) or not str(item.path):
        return "it has no path"
    return None


__all__ = ["KINDS", "ConfigFile", "config_file_problem"]
