"""The root ``aetherops`` command: global options, plugin loading, and errors to exit codes.

The CLI is built by :func:`build_cli` from a plugin manager, never at import
time, so tests get a fresh CLI from a fresh manager. Every command comes from
a plugin's ``aetherops_register_commands`` hook (the core's own ``plugins`` and
``profiles`` commands included, through :mod:`aetherops.core_commands`).
"""

from __future__ import annotations

import os
import sys
from typing import Sequence

import click

from aetherops import __version__
from aetherops.errors import ExitCode

FORMATS = ("text", "json", "yaml")  # also aetherops.output.FORMATS; not imported from there to keep --help cheap
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_VALUE_OPTIONS = {"-p", "--profile", "--profiles-dir", "--plugin", "--no-plugin", "-o", "--output"}
#: keys of click's ``Context.meta`` (shared by the whole command line) where the profile options land
META_PROFILES = "aetherops.profiles"
META_ALL_PROFILES = "aetherops.all_profiles"
FLEET_ATTRIBUTE = "aetherops_fleet"


def _complete_profiles(ctx: click.Context, param: click.Parameter, incomplete: str):
    from aetherops.profiles import ProfileStore

    try:
        names = ProfileStore(profiles_dir=ctx.params.get("profiles_dir")).available()
    except Exception:  # noqa: BLE001 - completion must never fail loudly
        return []
    return [n for n in sorted(names) if n.startswith(incomplete)]


def _set_output(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Callback of the per-command ``--output``: overrides the global one."""
    if value is None:
        return
    from aetherops.context import Context

    obj = ctx.find_object(Context)
    if obj is not None:
        obj.output.format = value


def _set_profile(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> None:
    """Callback of the per-command ``-p/--profile``: ``aetherops health -p prod`` works like ``aetherops -p prod health``;
    given more than once, it replaces the global ones (fleet fan-out)."""
    if not value:
        return
    from aetherops.context import Context

    ctx.meta[META_PROFILES] = tuple(value)
    obj = ctx.find_object(Context)
    if obj is not None:
        obj.profile_name = value[0]


def _set_all_profiles(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[META_ALL_PROFILES] = True


def _set_no_headers(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value:
        return
    from aetherops.context import Context

    obj = ctx.find_object(Context)
    if obj is not None:
        obj.output.headers = False


def _output_option() -> click.Option:
    return click.Option(["-o", "--output"], type=click.Choice(FORMATS), default=None, expose_value=False,
                        callback=_set_output, is_eager=True, help="Result format: text (default), json or yaml.")


def _add_common_options(command: click.Command, fleet: bool = False) -> None:
    """Give every command (groups and their subcommands too) ``-o/--output``, ``--no-headers`` and ``-p/--profile``
    (and fleet commands ``--all-profiles``; ``fleet``: the group above is one), unless the plugin already uses
    those names; make each callback fleet-aware (:func:`_fleet_callback`)."""
    names = {opt for param in command.params for opt in getattr(param, "opts", []) + getattr(param, "secondary_opts", [])}
    if "--output" not in names:
        command.params.append(_output_option())
    if "--no-headers" not in names:
        command.params.append(click.Option(["--no-headers"], is_flag=True, default=False, expose_value=False,
                                           callback=_set_no_headers, is_eager=True,
                                           help="Print tables without their header row."))
    if not names & {"-p", "--profile"}:
        command.params.append(click.Option(["-p", "--profile"], metavar="NAME", multiple=True, expose_value=False,
                                           callback=_set_profile, is_eager=True, shell_complete=_complete_profiles,
                                           help="Profile to use (same as the global -p)."))
    own = getattr(command, FLEET_ATTRIBUTE, None)
    fleet = fleet if own is None else bool(own)
    if fleet and "--all-profiles" not in names:
        command.params.append(click.Option(["--all-profiles"], is_flag=True, default=False, expose_value=False,
                                           callback=_set_all_profiles, is_eager=True,
                                           help="Run across every profile (same as the global --all-profiles)."))
    _fleet_callback(command)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _add_common_options(sub, fleet)


def _fleet_capable(command: click.Command, click_ctx: click.Context | None) -> bool:
    """A command runs across profiles when it (or the nearest group above it that says) has ``aetherops_fleet = True``."""
    flag = getattr(command, FLEET_ATTRIBUTE, None)
    while flag is None and click_ctx is not None and click_ctx.parent is not None:
        flag = getattr(click_ctx.command, FLEET_ATTRIBUTE, None)
        click_ctx = click_ctx.parent
    return bool(flag)


def _fleet_requested(click_ctx: click.Context) -> bool:
    """Whether the command line asks for a fan-out: ``-p`` with two or more names, or ``--all-profiles``."""
    meta = click_ctx.meta
    if meta.get(META_ALL_PROFILES):
        if meta.get(META_PROFILES):
            raise click.UsageError("give -p NAME or --all-profiles, not both", ctx=click_ctx)
        return True
    return len(set(meta.get(META_PROFILES) or ())) > 1


def _fleet_profiles(click_ctx: click.Context) -> tuple[str, ...]:
    """The profiles to fan out over: the ``-p`` names in their order, or every profile (``--all-profiles``)."""
    if click_ctx.meta.get(META_ALL_PROFILES):
        from aetherops.context import Context
        from aetherops.fleet import all_profile_names

        return tuple(all_profile_names(click_ctx.find_object(Context)))
    return tuple(dict.fromkeys(click_ctx.meta.get(META_PROFILES) or ()))


def _not_fleet(click_ctx: click.Context, path: str) -> click.UsageError:
    root = click_ctx.find_root().command
    fleet = sorted(name for name, cmd in getattr(root, "commands", {}).items() if getattr(cmd, FLEET_ATTRIBUTE, False))
    return click.UsageError(f"'{path}' runs on one profile at a time: give one -p NAME (commands that run across "
                            f"profiles: {', '.join(fleet) or 'none'})", ctx=click_ctx)


def _fleet_callback(command: click.Command) -> None:
    """Wrap ``command``'s callback: with several profiles (``-p A -p B``, ``--all-profiles``) a fleet command runs
    once per profile (:func:`aetherops.fleet.fan_out`), any other command is a usage error; with one profile,
    the callback runs as it is."""
    original = command.callback
    if original is None or getattr(original, "_aetherops_fleet_wrapper", False):
        return
    import functools

    @functools.wraps(original)
    def callback(*args, **kwargs):
        click_ctx = click.get_current_context()
        if not _fleet_requested(click_ctx):
            return original(*args, **kwargs)
        if isinstance(command, click.Group) and click_ctx.invoked_subcommand is not None:
            sub = command.get_command(click_ctx, click_ctx.invoked_subcommand)
            if sub is not None and not _fleet_capable(sub, click_ctx):
                raise _not_fleet(click_ctx, f"{click_ctx.command_path} {click_ctx.invoked_subcommand}")
            return original(*args, **kwargs)  # the group's own part, once; its subcommand fans out
        if not _fleet_capable(command, click_ctx):
            raise _not_fleet(click_ctx, click_ctx.command_path)
        from aetherops.fleet import fan_out

        return fan_out(click_ctx, original, args, kwargs, _fleet_profiles(click_ctx))

    callback._aetherops_fleet_wrapper = True  # type: ignore[attr-defined]
    command.callback = callback


def build_cli(pm) -> click.Group:
    """Build the root click group and let every plugin add its commands."""

    @click.group(context_settings=CONTEXT_SETTINGS, help=__doc__.split("\n\n")[0].strip())
    @click.option("-p", "--profile", "profile", metavar="NAME", multiple=True, shell_complete=_complete_profiles,
                  help="Environment profile to use [env: AETHEROPS_PROFILE]; repeat it to run a fleet command "
                       "across several profiles.")
    @click.option("--all-profiles", is_flag=True, help="Run a fleet command across every profile.")
    @click.option("--profiles-dir", type=click.Path(file_okay=False), envvar="AETHEROPS_PROFILES_DIR",
                  help="Look for profiles here first [env: AETHEROPS_PROFILES_DIR].")
    @click.option("--plugin", "plugins", multiple=True, metavar="MODULE",
                  help="Load an extra plugin module (repeatable) [env: AETHEROPS_PLUGINS].")
    @click.option("--no-plugin", "blocked", multiple=True, metavar="NAME", help="Do not load this plugin (repeatable).")
    @click.option("-o", "--output", type=click.Choice(FORMATS), default="text", show_default=True,
                  help="Result format, also accepted after any command.")
    @click.option("--no-headers", is_flag=True, help="Print tables without their header row (also after any command).")
    @click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
    @click.version_option(__version__, "-V", "--version", prog_name="aetherops")
    @click.pass_context
    def cli(ctx: click.Context, profile, all_profiles, profiles_dir, plugins, blocked, output, no_headers, debug):
        """aetherops: operate a Prometheus + Alertmanager + Grafana stack."""
        from aetherops.context import Context

        # only -p counts for a fan-out, so --all-profiles works with AETHEROPS_PROFILE set in the shell; without -p,
        # AETHEROPS_PROFILE (one name, never split on spaces) is the selected profile, as an explicit choice
        ctx.meta[META_PROFILES] = tuple(profile)
        ctx.meta[META_ALL_PROFILES] = all_profiles
        selected = profile[0] if profile else (os.environ.get("AETHEROPS_PROFILE") or None)
        context = Context(pm, profile_name=selected, profiles_dir=profiles_dir, output_format=output, debug=debug)
        context.output.headers = not no_headers
        ctx.obj = context
        ctx.call_on_close(context.close)

    cli.help = ("Operate a Prometheus + Alertmanager + Grafana stack. Every command comes from a plugin; see `aetherops plugins`."
                "\n\nResults: -o text|json|yaml (JSON keys are snake_case; docs/json.md). Piped, tables print one row per "
                "line at their natural width; --no-headers drops the header row. Fleet: `-p A -p B CMD` or "
                "`--all-profiles CMD` runs a fleet command on each profile at once, adding a PROFILE column "
                "(a `profile` key in JSON); the exit code is the worst of the profiles'.")
    _register_commands(pm, cli)
    for command in cli.commands.values():
        _add_common_options(command)
    return cli


def _register_commands(pm, cli: click.Group) -> None:
    """Let each plugin add its commands; a plugin that raises, or takes a name another plugin
    already has, is reported and skipped instead of taking the CLI down."""
    owners: dict[str, str] = {}
    pm.trace_call("aetherops_register_commands", {"cli": cli}, pm.hook.aetherops_register_commands.get_hookimpls())
    for impl in pm.hook.aetherops_register_commands.get_hookimpls():  # registration order: the first owner of a name keeps it
        before = dict(cli.commands)
        try:
            impl.function(cli=cli)
        except Exception as exc:  # noqa: BLE001 - the plugin's fault, never the CLI's
            cli.commands.clear()
            cli.commands.update(before)
            pm.fail_plugin(impl.plugin_name, f"aetherops_register_commands raised {type(exc).__name__}: "
                                             f"{' '.join(str(exc).split())}")
            continue
        for name, command in list(cli.commands.items()):
            if name in before and before[name] is not command:
                cli.commands[name] = before[name]
                pm.warn(f"plugin '{impl.plugin_name}' adds a command '{name}' that plugin "
                        f"'{owners.get(name, '?')}' already has; ignored")
            elif name not in before:
                owners[name] = impl.plugin_name


def _prescan(argv: Sequence[str]) -> tuple[list[str], list[str], bool]:
    """Find ``--plugin``/``--no-plugin``/``--debug`` before the command name, since plugins
    must be loaded before the CLI (and its commands) can be built."""
    extra: list[str] = []
    blocked: list[str] = []
    debug = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            break
        name, eq, value = arg.partition("=")
        if name in ("--plugin", "--no-plugin"):
            if not eq:
                i += 1
                value = argv[i] if i < len(argv) else ""
            (extra if name == "--plugin" else blocked).append(value)
        elif arg == "--debug":
            debug = True
        elif arg in _VALUE_OPTIONS:
            i += 1
        elif not arg.startswith("-"):
            break
        i += 1
    return extra, blocked, debug


def main(argv: Sequence[str] | None = None, prog_name: str = "aetherops", help_cache: list | None = None) -> None:
    """Load plugins, build the CLI, map errors to exit codes (the console script, :func:`aetherops.__main__.main`,
    comes here unless its help cache answers; ``help_cache``: that cache's key for this command line, to store
    the help it renders)."""
    from aetherops.plugins import make_plugin_manager

    _utf8_streams()
    args = list(sys.argv[1:] if argv is None else argv)
    extra, blocked, debug = _prescan(args)
    debug = debug or os.environ.get("AETHEROPS_DEBUG", "").lower() in ("1", "true", "yes")
    completing = any(k.startswith("_AETHEROPS_COMPLETE") for k in os.environ)
    pm = make_plugin_manager(extra=extra, blocked=blocked)

    def warn(message: str) -> None:
        if not completing:  # never print into the user's command line while they press TAB
            click.echo(f"aetherops: warning: {message}", err=True)

    for warning in pm.warnings:
        warn(warning)
    pm.on_warning = warn
    cli = build_cli(pm)
    if help_cache is not None and not pm.warnings and not pm.tracing:
        _store_help(cli, prog_name, help_cache)
    try:
        rv = cli.main(args=args, prog_name=prog_name, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aetherops: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except KeyboardInterrupt:
        click.echo("aetherops: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        # one line, like every other error; the usage itself is one --help away
        from aetherops.redact import redact

        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        message = " ".join(exc.format_message().split())
        click.echo(f"aetherops: error: {redact(message)}{hint}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        if debug:
            _print_traceback()
        exc.show()
        sys.exit(exc.exit_code)  # --debug adds the traceback, never changes the exit code
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(ExitCode.OK)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, unless --debug
        from aetherops.redact import redact

        if debug:
            _print_traceback()
        owner = _owning_plugin(pm, exc)
        where = f" in plugin '{owner}'" if owner else ""
        click.echo(f"aetherops: internal error{where}: {type(exc).__name__}: {redact(' '.join(str(exc).split()))}"
                   + ("" if debug else " (run with --debug for a traceback)"), err=True)
        sys.exit(ExitCode.INTERNAL)
    sys.exit(rv if isinstance(rv, int) else ExitCode.OK)


def _store_help(cli: click.Group, prog_name: str, key: list) -> None:
    """Keep this `--help` text for :mod:`aetherops.__main__`'s help cache: what click's help option prints."""
    from aetherops.__main__ import store_help

    text = click.Context(cli, info_name=prog_name, **cli.context_settings).get_help() + "\n"
    if text.isascii():  # printed as it is by any console encoding
        store_help(key, text)


def _owning_plugin(pm, exc: BaseException) -> str | None:
    """The plugin whose code raised ``exc``: the innermost traceback frame inside a registered plugin's module
    (or package), so a crash names who to report it to. None for the core's own code."""
    modules = {}
    for name, plugin in pm.list_name_plugin():
        module = getattr(plugin, "__name__", None)
        if isinstance(module, str) and not module.startswith("aetherops.") and module != "aetherops":
            modules[module] = name
    owner = None
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        for prefix, name in modules.items():
            if module == prefix or module.startswith(prefix + "."):
                owner = name
        tb = tb.tb_next
    return owner


def _print_traceback() -> None:
    import traceback

    from aetherops.redact import redact

    click.echo(redact(traceback.format_exc()).rstrip(), err=True)


def _utf8_streams() -> None:
    """Never crash on a character the console encoding cannot show (Windows cp1252 consoles)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and (stream.encoding or "").lower() not in ("utf-8", "utf8"):
            try:
                reconfigure(errors="replace")
            except (ValueError, OSError):
                pass
