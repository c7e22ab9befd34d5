"""The hook the backup plugin offers: other plugins contribute components (declared through ``aetherops_add_hookspecs``).

The contract of a component is :class:`aetherops_plugins.backup.api.BackupComponent`; this module only declares the hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aetherops import hookspec

if TYPE_CHECKING:  # pragma: no cover - types only, costs nothing at run time
    from aetherops.context import Context
    from aetherops_plugins.backup.api import BackupComponent


@hookspec
def aetherops_backup_components(context: Context) -> list[BackupComponent]:
    """Contribute things that ``aetherops backup`` saves and ``aetherops restore`` restores.

    :param context: the command's context (profile, clients, output).
    :returns: a list of :class:`aetherops_plugins.backup.api.BackupComponent`
        (a ``name``, a ``backup(job)`` method that writes files through the
        job, optionally ``restore(job)`` and ``describe(summary)``). Results of
        all plugins are combined; a component without a name or ``backup``
        method, or with a name already taken, is a warning naming its plugin
        and is left out, and so is every component of a plugin whose
        implementation raises.

    Declared by the backup plugin. Added in 0.1.
    """
