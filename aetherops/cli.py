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

FORMATS = ("text", "json")  # also aetherops.output.FORMATS; not imported from there to keep --help cheap
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_VALUE_OPTIONS = {"-p", "--profile", "--profiles-dir", "--plugin", "--no-plugin", "-o", "--output"}


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


def _set_profile(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Callback of the per-command ``-p/--profile``: ``aetherops health -p prod`` works like ``aetherops -p prod health``."""
    if value is None:
        return
    from aetherops.context import Context

    obj = ctx.find_object(Context)
    if obj is not None:
        obj.profile_name = value


def _output_option() -> click.Option:
    return click.Option(["-o", "--output"], type=click.Choice(FORMATS), default=None, expose_value=False,
                        callback=_set_output, is_eager=True, help="Result format: text (default) or json.")


def _add_common_options(command: click.Command) -> None:
    """Give every command (groups and their subcommands too) ``-o/--output`` and ``-p/--profile``,
    unless the plugin already uses those names."""
    names = {opt for param in command.params for opt in getattr(param, "opts", []) + getattr(param, "secondary_opts", [])}
    if "--output" not in names:
        command.params.append(_output_option())
    if not names & {"-p", "--profile"}:
        command.params.append(click.Option(["-p", "--profile"], metavar="NAME", default=None, expose_value=False,
                                           callback=_set_profile, is_eager=True, shell_complete=_complete_profiles,
                                           help="Profile to use (same as the global -p)."))
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _add_common_options(sub)


def build_cli(pm) -> click.Group:
    """Build the root click group and let every plugin add its commands."""

    @click.group(context_settings=CONTEXT_SETTINGS, help=__doc__.split("\n\n")[0].strip())
    @click.option("-p", "--profile", "profile", metavar="NAME", envvar="AETHEROPS_PROFILE",
                  shell_complete=_complete_profiles, help="Environment profile to use [env: AETHEROPS_PROFILE].")
    @click.option("--profiles-dir", type=click.Path(file_okay=False), envvar="AETHEROPS_PROFILES_DIR",
                  help="Look for profiles here first [env: AETHEROPS_PROFILES_DIR].")
    @click.option("--plugin", "plugins", multiple=True, metavar="MODULE",
                  help="Load an extra plugin module (repeatable) [env: AETHEROPS_PLUGINS].")
    @click.option("--no-plugin", "blocked", multiple=True, metavar="NAME", help="Do not load this plugin (repeatable).")
    @click.option("-o", "--output", type=click.Choice(FORMATS), default="text", show_default=True,
                  help="Result format, also accepted after any command.")
    @click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
    @click.version_option(__version__, "-V", "--version", prog_name="aetherops")
    @click.pass_context
    def cli(ctx: click.Context, profile, profiles_dir, plugins, blocked, output, debug):
        """aetherops: operate a Prometheus + Alertmanager + Grafana stack."""
        from aetherops.context import Context

        context = Context(pm, profile_name=profile, profiles_dir=profiles_dir, output_format=output, debug=debug)
        ctx.obj = context
        ctx.call_on_close(context.close)

    cli.help = "Operate a Prometheus + Alertmanager + Grafana stack. Every command comes from a plugin; see `aetherops plugins`."
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


def main(argv: Sequence[str] | None = None, prog_name: str = "aetherops") -> None:
    """Console-script entry point: load plugins, build the CLI, map errors to exit codes."""
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
