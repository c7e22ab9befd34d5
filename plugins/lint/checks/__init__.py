"""The built-in checks: one module per check, found by listing this package.

A check ``area/name`` lives in ``checks/area_name.py`` (``alerts/for`` in ``alerts_for.py``, as pint keeps
``internal/checks/``) and defines exactly one :class:`~aetherops_plugins.lint.api.Check` subclass. Nothing else
registers it: :func:`builtin_checks` imports every module here whose name does not start with ``_`` and
instantiates the check class it defines. Shared helpers live in ``_common.py`` (examples, positions, alert labels)
and in the models beside this package (``amconfig.py``, ``dashboard.py``, ``promql/``). See
``/docs/lint.md`` for the user's view and ``api.py`` for what a check is made of.
"""

from __future__ import annotations

#: the order checks are listed and documented in: by area, then by id
AREAS = ("syntax", "rules", "group", "alerts", "promql", "labels", "alertmanager", "prometheus", "crossfile", "dashboard", "online")


def check_modules() -> list[str]:
    """Names of the check modules (``alerts_for``...), sorted."""
    import pkgutil

    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def builtin_checks() -> list:
    """One instance of each built-in check, ordered by area then id (contributed through ``aetherops_lint_checks``)."""
    import importlib

    from aetherops_plugins.lint.api import Check

    found = []
    for name in check_modules():
        module = importlib.import_module(f"{__name__}.{name}")
        classes = [obj for obj in vars(module).values()
                   if isinstance(obj, type) and issubclass(obj, Check) and obj.__module__ == module.__name__ and obj.id]
        if len(classes) != 1:
            raise RuntimeError(f"lint check module {module.__name__} must define exactly one check, not {len(classes)}")
        found.append(classes[0]())

    def order(c):
        area = c.id.split("/", 1)[0]
        return (AREAS.index(area) if area in AREAS else len(AREAS), c.id)

    return sorted(found, key=order)
