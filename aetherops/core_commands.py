"""The core's own commands, registered through the same hook as every plugin:
``aetherops plugins`` and ``aetherops profiles list|show``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

import aetherops
from aetherops import pass_context

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context


@aetherops.hookimpl
def aetherops_register_commands(cli: click.Group) -> None:
    cli.add_command(plugins_command)
    cli.add_command(profiles_group)


@click.command("plugins")
@click.option("--hook", "hook_name", metavar="NAME", help="Only plugins implementing this hook.")
@click.option("--all", "show_all", is_flag=True, help="Include the core itself.")
@click.option("--check", is_flag=True, help="Exit 1 when a listed plugin is in error (for CI gates).")
@pass_context
def plugins_command(ctx: Context, hook_name: str | None, show_all: bool, check: bool):
    """List loaded plugins: name, version, source, status and hooks."""
    infos = [i for i in ctx.pm.infos.values() if show_all or i.source != "core"]
    if hook_name:
        if not hook_name.startswith("aetherops_"):
            hook_name = f"aetherops_{hook_name}"
        if not hasattr(ctx.pm.hook, hook_name):
            raise click.BadParameter(f"no hook named {hook_name}", param_hint="--hook")
        infos = [i for i in infos if hook_name in i.hooks]
    rows = [i.as_dict() for i in sorted(infos, key=lambda i: i.name)]

    def text() -> None:
        ctx.output.table(
            [{**r, "hooks": ", ".join(h.removeprefix("aetherops_") for h in r["hooks"]) or (r["error"] or "")} for r in rows],
            [("name", "NAME"), ("version", "VERSION"), ("source", "SOURCE"), ("status", "STATUS"), ("hooks", "HOOKS / ERROR")],
            styles={"status": lambda s: {"ok": "green", "error": "red", "blocked": "yellow"}.get(s)},
        )

    ctx.output.result(rows, text)
    if check and any(r["status"] == "error" for r in rows):
        from aetherops.errors import Findings

        raise Findings()


@click.group("profiles")
def profiles_group():
    """List and show environment profiles."""


@profiles_group.command("list")
@pass_context
def profiles_list(ctx: Context):
    """Every profile visible, where it comes from, and whether it loads with every secret reference
    resolvable (exit 4 if any does not)."""
    from aetherops.errors import ConfigError, Exit, ExitCode

    store = ctx.profiles
    default = store.default_name()
    rows = []
    from aetherops.profiles import builtin_profiles_dir

    shipped = builtin_profiles_dir().resolve()
    failed = False
    for name, path in sorted(store.available().items()):
        try:
            problems = store.load(name).secret_problems()
            status, error = ("unresolved", _problems_text(problems)) if problems else ("ok", None)
            # a profile shipped with aetherops (local) names files `sandbox up` writes: not this profile dir's fault
            failed = failed or (bool(problems) and path.resolve().parent != shipped)
        except ConfigError as exc:
            status, error, failed = "error", exc.format_message(), True
        rows.append({"name": name, "default": name == default, "path": str(path), "status": status, "error": error})

    def text() -> None:
        # NAME first and no empty cell before FILE, so `--no-headers | awk '{print $1}'` gives the names
        ctx.output.table([{**r, "default": "yes" if r["default"] else "no", "status": r["error"] or r["status"]} for r in rows],
                         [("name", "NAME"), ("default", "DEFAULT"), ("status", "STATUS"), ("path", "FILE")])

    ctx.output.result(rows, text)
    if failed:
        raise Exit(ExitCode.CONFIG)  # so CI can validate a profiles dir with `aetherops profiles list`


def _problems_text(problems: list[dict]) -> str:
    """The first unresolved secret reference (file:line: message), and how many more."""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return problems[0]["text"] + more


_PROBLEM_KEYS = ("key", "reference", "kind", "problem", "path", "line")


@profiles_group.command("show")
@click.argument("name", required=False)
@pass_context
def profiles_show(ctx: Context, name: str | None):
    """Show a profile, merged, with defaults filled in and secrets redacted.

    Every secret reference (token_env, *_file, ${VAR}) that cannot be resolved here is reported
    (JSON: ``unresolved``) and the command exits 4; secret values are never shown."""
    profile = ctx.load_profile(name) if name else ctx.profile
    known = set(ctx.profiles.sections)
    for key in profile.data:
        if key not in known:
            import difflib

            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "its plugin may not be installed"
            ctx.output.warn(f"profile '{profile.name}': no loaded plugin reads section '{key}' ({hint})")
    problems = profile.secret_problems()
    data = {"name": profile.name, "path": str(profile.path) if profile.path else None, "description": profile.description,
            "profile": profile.redacted(), "unresolved": [{k: p[k] for k in _PROBLEM_KEYS} for p in problems]}

    def text() -> None:
        import yaml

        ctx.output.line(f"# profile {profile.name} ({profile.path})")
        if profile.description:
            ctx.output.line(f"# {profile.description}")
        ctx.output.line(yaml.safe_dump(profile.redacted(), sort_keys=False, allow_unicode=True).rstrip())

    ctx.output.result(data, text)
    if problems:
        from aetherops.errors import ConfigError

        for problem in problems[1:]:
            ctx.output.warn(problem["text"])
        first = problems[0]
        more = f" ({len(problems) - 1} more above)" if len(problems) > 1 else ""
        raise ConfigError(f"{first['message']}{more}", path=first["path"], line=first["line"])
