"""The hook the lint plugin offers: other plugins contribute checks (declared through ``aetherops_add_hookspecs``).

The contract of a check is :class:`aetherops_plugins.lint.api.LintCheck`; this module only declares the hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aetherops import hookspec

if TYPE_CHECKING:  # pragma: no cover - types only, costs nothing at run time
    from aetherops_plugins.lint.api import LintCheck


@hookspec
def aetherops_lint_checks() -> list[LintCheck]:
    """Contribute checks that ``aetherops lint`` runs.

    :returns: a list of lint checks (:class:`aetherops_plugins.lint.api.LintCheck`:
        an ``id``, a default ``severity``, the file ``kinds`` it applies to and a
        ``check(target, project)`` method yielding findings). Results of all
        plugins are combined; a check with a duplicate id, an unknown severity
        or kind, or no ``check`` method is a warning naming its plugin and is
        left out, and so is every check of a plugin whose implementation raises.

    Declared by the lint plugin. Added in 0.1.
    """
