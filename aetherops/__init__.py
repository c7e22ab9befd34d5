"""aetherops: operate a Prometheus + Alertmanager + Grafana stack from one plugin-based CLI.

Plugin authors need only these names::

    import aetherops

    @aetherops.hookimpl
    def aetherops_register_commands(cli): ...

and ``aetherops.pass_context`` to receive the :class:`aetherops.context.Context`.
"""

from __future__ import annotations

import functools

__version__ = "0.1.0"


def pass_context(f):
    """Decorator for click commands: pass the :class:`aetherops.context.Context` as first argument.

    Like ``click.make_pass_decorator(Context)``, but the context module is imported
    only when the command runs, so hook modules cost nothing to import.
    """

    @functools.wraps(f)
    def new_func(*args, **kwargs):
        import click

        from aetherops.context import Context

        ctx = click.get_current_context()
        obj = ctx.find_object(Context)
        if obj is None:
            raise RuntimeError("aetherops.pass_context used outside an aetherops command")
        return ctx.invoke(f, obj, *args, **kwargs)

    return new_func


def __getattr__(name: str):
    # Lazy so that ``import aetherops`` stays cheap: `aetherops --help` answered from the help cache
    # (aetherops.__main__) imports this package but neither pluggy nor the context module.
    if name in ("hookimpl", "hookspec"):
        import pluggy

        # ``hookimpl`` marks implementations; ``hookspec`` is for plugins that declare hooks of their own
        # (see the ``aetherops_add_hookspecs`` hook). Created once, then plain module attributes.
        globals()["hookimpl"] = pluggy.HookimplMarker("aetherops")
        globals()["hookspec"] = pluggy.HookspecMarker("aetherops")
        return globals()[name]
    if name == "Context":
        from aetherops.context import Context

        return Context
    raise AttributeError(name)


__all__ = ["__version__", "hookimpl", "hookspec", "pass_context", "Context"]
