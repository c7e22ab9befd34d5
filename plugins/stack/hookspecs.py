"""The hook the stack plugin offers: other plugins name config files ``aetherops validate`` checks.

The contract of an entry is :class:`aetherops_plugins.stack.api.ConfigFile`; this module only declares the hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aetherops import hookspec

if TYPE_CHECKING:  # pragma: no cover - types only, costs nothing at run time
    from aetherops_plugins.stack.api import ConfigFile


@hookspec
def aetherops_config_files(context: Any) -> list[ConfigFile]:
    """Name the config files of the stack that ``aetherops validate`` must find and parse before a deploy.

    :param context: the command's :class:`aetherops.context.Context` (read the profile with
        ``context.section(...)``; do not make requests here).
    :returns: a list of :class:`aetherops_plugins.stack.api.ConfigFile`: a ``name`` (the row's label, e.g.
        ``loki.rules_file``, unique), a ``path`` and a ``kind`` (``yaml``, ``json``, ``rules``, ``alertmanager``
        or ``prometheus``). Every file must exist and parse; ``rules`` and ``alertmanager`` files are also
        linted (the lint plugin) and checked by ``promtool check rules`` / ``amtool check-config`` when those
        are on PATH. An entry that is not a ConfigFile, or whose name another plugin's entry has, is a
        warning naming the plugin and is left out. The stack plugin itself contributes the profile's
        ``prometheus.config_file``, ``prometheus.rule_files`` (or the config file's ``rule_files``),
        ``alertmanager.config_file`` and ``blackbox.config_file``.

    Declared by the stack plugin. Added in 0.1.
    """
