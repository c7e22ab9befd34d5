"""Helpers for plugins' shell completion (``shell_complete=`` callbacks of click options and arguments).

While the shell asks for completions click parses the command line but runs no command callback, so the
root group has not built the :class:`~aetherops.context.Context`. :func:`completion_context` builds one from
what was typed so far (``-p``, ``--profiles-dir``, ``--plugin``, ``--no-plugin``); a completion callback
must never raise or print: on any problem it offers nothing (see :func:`quietly`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:  # pragma: no cover
    import click

    from aetherops.context import Context


def completion_context(click_ctx: click.Context) -> Context:
    """The aetherops Context of the command being completed (the real one when a command is running)."""
    from aetherops.context import Context

    root = click_ctx.find_root()
    if isinstance(root.obj, Context):
        return root.obj
    from aetherops.plugins import make_plugin_manager

    params = root.params
    pm = make_plugin_manager(extra=params.get("plugins") or (), blocked=params.get("blocked") or ())
    pm.on_warning = lambda message: None  # never print into the user's command line
    profile = params.get("profile")
    if isinstance(profile, (tuple, list)):  # the global -p repeats (fleet mode); complete for the first one
        profile = profile[0] if profile else None
    return Context(pm, profile_name=profile, profiles_dir=params.get("profiles_dir"))


def quietly(values: Callable[[Context], Iterable[Any]]) -> Callable[[click.Context, click.Parameter, str], list]:
    """A ``shell_complete`` callback offering ``values(context)`` that start with what is typed; each value
    is a string or a ``(value, help)`` pair. Any error (a broken profile, a server down) offers nothing.
    A comma-separated option value (``--only grafana,co``) completes its last part."""

    def complete(click_ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
        from click.shell_completion import CompletionItem

        head, comma, last = incomplete.rpartition(",")
        prefix = head + comma
        try:
            context = completion_context(click_ctx)
            try:
                items = [(v, None) if isinstance(v, str) else (str(v[0]), v[1]) for v in values(context)]
            finally:
                context.close()
        except Exception:  # noqa: BLE001 - completion must never fail loudly
            return []
        done = set(head.split(",")) if comma else set()
        return [CompletionItem(prefix + value, help=help_) for value, help_ in items
                if value.startswith(last) and value not in done]

    return complete
