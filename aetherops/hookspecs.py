"""The plugin contract: the hooks the core calls, with what they pass and expect.

Hooks that a plugin offers for other plugins (backup components, lint checks...)
are declared by that plugin, from its ``aetherops_add_hookspecs`` implementation,
in a hookspecs module of its own beside its contract (``api.py``): see
``aetherops_plugins.backup.hookspecs`` and ``aetherops_plugins.lint.hookspecs``.

A plugin is a module (or object) with functions marked ``@aetherops.hookimpl``
and named like the specs below. Register it through the ``aetherops``
entry-point group in your package's ``pyproject.toml``::

    [project.entry-points.aetherops]
    my_plugin = "my_package.aetherops_plugin"

Hook modules should import only ``click`` and ``aetherops`` at module level and
import anything heavy inside command bodies, so ``aetherops --help`` stays fast.
The full reference with examples is docs/plugins/hooks.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:  # pragma: no cover - types only, costs nothing at run time
    import click

    from aetherops.plugins import AetheropsPluginManager
    from aetherops.profiles import ProfileSection

#: Marks a hook specification; plugins use it (``aetherops.hookspec``) for the hooks they declare.
hookspec = pluggy.HookspecMarker("aetherops")


@hookspec(historic=True)
def aetherops_add_hookspecs(pm: AetheropsPluginManager) -> None:
    """Declare the hooks this plugin offers to other plugins (its extension points).

    :param pm: the plugin manager; call ``pm.add_hookspecs(module)`` with a module
        of functions marked ``@aetherops.hookspec`` (their names start with
        ``aetherops_``, their docstrings are the contract).
    :returns: nothing. Called for every plugin as it registers, whenever that
        is (the call is *historic*), so a plugin implementing a hook may load
        before the plugin declaring it; implementations registered earlier are
        validated against the spec when it arrives. Call the hook it declares
        with ``pm.collect(name, validate=...)``, never ``pm.hook.name()``
        directly, so one broken plugin cannot take the command down.

    Like pytest's ``pytest_addhooks``. Added in 0.1.
    """


@hookspec
def aetherops_register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``aetherops`` command line.

    :param cli: the root click group; call ``cli.add_command(...)`` or decorate
        with ``@cli.command()``.
    :returns: nothing. Every plugin's implementation is called.

    Commands receive the shared :class:`aetherops.context.Context` with
    ``@aetherops.pass_context``. Added in 0.1.
    """


@hookspec
def aetherops_profile_sections() -> list[ProfileSection]:
    """Declare the profile sections (top-level YAML keys) this plugin reads.

    :returns: a list of :class:`aetherops.profiles.ProfileSection`, each with
        its fields' types, defaults and descriptions. Profiles are validated
        against them, ``aetherops profiles show`` fills in their defaults and
        docs/profiles.md is generated from them. Results of all plugins are
        combined; two plugins declaring the same section is a warning and the
        second declaration is ignored.

    Added in 0.1.
    """
