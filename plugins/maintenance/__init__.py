"""Built-in plugin: ``aetherops maintenance`` silences alerts around planned work.

``aetherops maintenance --minutes 30`` creates (or extends) a silence through
the Alertmanager v2 API; ``list``, ``extend``, ``end`` and ``run`` manage
them. This is the hook module: it imports only click and aetherops; the
engine (matchers, engine, runner) is imported inside the command bodies.
See docs/maintenance.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

import aetherops
from aetherops import pass_context
from aetherops.errors import Exit

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context

DEFAULT_MAX_MINUTES = 1440


@aetherops.hookimpl
def aetherops_register_commands(cli: click.Group) -> None:
    cli.add_command(maintenance)


@aetherops.hookimpl
def aetherops_profile_sections():
    from aetherops.profiles import Field, ProfileSection

    return [
        ProfileSection(
            "maintenance",
            {
                "max_minutes": Field(int, DEFAULT_MAX_MINUTES, "Longest silence `--minutes` may ask for (1..max_minutes).",
                                     min=1),
                "default_matchers": Field(list, [], 'Matchers used when no --match is given (default: alertname=~".+", every alert).'),
                "author": Field(str, None, "createdBy of the silences (default: the OS user name)."),
            },
            "Maintenance silences (aetherops maintenance).",
        )
    ]


# ---------------------------------------------------------------- shared options and helpers
def _silence_options(f):
    """The options that describe a silence: on ``maintenance`` itself and on ``maintenance run``."""
    options = [
        click.option("--minutes", type=int, metavar="N", help="Silence for N minutes from now (1..max_minutes, default max 1440)."),
        click.option("--for", "duration", metavar="DURATION", help="Silence for DURATION with units, like amtool: 30m, 2h, 1h30m, 1d "
                     "(instead of --minutes; at most max_minutes)."),
        click.option("--comment", metavar="TEXT", help='Why (default: "maintenance via aetherops on HOST").'),
        click.option("--author", metavar="NAME", help="createdBy (default: profile maintenance.author, else the OS user)."),
        click.option("--match", "match", multiple=True, metavar="MATCHER",
                     help='Alertmanager matcher, repeatable: severity="critical", service=~"crm-.*", env!="dev". '
                          'Default: profile maintenance.default_matchers, else alertname=~".+" (every alert).'),
        click.option("--dry-run", is_flag=True, help="Show what would be sent to Alertmanager (and, for a new silence of "
                     "`maintenance`, the firing alerts it would silence); send nothing."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _settings(ctx: Context) -> dict[str, Any]:
    return ctx.section("maintenance") or {}


def _check_minutes(ctx: Context, minutes: int | None, *, what: str = "silence") -> int:
    click_ctx = click.get_current_context()
    if minutes is None:
        raise click.UsageError(f"missing --minutes N or --for DURATION: how long to {what} (e.g. --minutes 30, --for 2h)", ctx=click_ctx)
    max_minutes = _max_minutes(ctx)
    if not 1 <= minutes <= max_minutes:
        raise click.BadParameter(f"{minutes} is outside 1..{max_minutes} (maintenance.max_minutes of profile "
                                 f"'{ctx.profile.name}')", ctx=click_ctx, param_hint="'--minutes'")
    return minutes


def _seconds(ctx: Context, minutes: int | None, duration: str | None, *, what: str = "silence",
             required: bool = True) -> float | None:
    """The length asked with ``--minutes N`` or ``--for DURATION`` (one of them), checked against max_minutes."""
    if duration is None:
        return _check_minutes(ctx, minutes, what=what) * 60.0 if (required or minutes is not None) else None
    click_ctx = click.get_current_context()
    if minutes is not None:
        raise click.UsageError("give --minutes N or --for DURATION, not both", ctx=click_ctx)
    from aetherops_plugins.maintenance.schedule import WhenError, parse_duration

    try:
        seconds = parse_duration(duration)
    except WhenError as exc:
        raise click.BadParameter(str(exc), ctx=click_ctx, param_hint="'--for'") from None
    _check_length(ctx, seconds, "'--for'")
    return seconds


def _check_length(ctx: Context, seconds: float, hint: str) -> None:
    max_minutes = _max_minutes(ctx)
    if seconds > max_minutes * 60:
        from aetherops_plugins.maintenance.engine import human_delta

        raise click.BadParameter(f"{human_delta(seconds)} is longer than {max_minutes} minutes (maintenance.max_minutes of "
                                 f"profile '{ctx.profile.name}')", ctx=click.get_current_context(), param_hint=hint)


def _max_minutes(ctx: Context) -> int:
    """The profile's maintenance.max_minutes: declared (default and minimum) and validated by the profile loader."""
    return ctx.section("maintenance").max_minutes


def _match_list(match: tuple[str, ...]) -> list[dict] | None:
    """``--match`` values of list/end as matchers (a braces form counts as several); None when none given."""
    if not match:
        return None
    from aetherops_plugins.maintenance import matchers as m

    return [m.parse_matcher(x) for x in m.expand(match)]


def _matchers(ctx: Context, match: tuple[str, ...]) -> list[dict]:
    from aetherops_plugins.maintenance import matchers as m

    if match:
        return m.parse_matchers(match)
    configured = _settings(ctx).get("default_matchers") or []
    if configured:
        from aetherops.errors import ConfigError

        try:
            return m.parse_matchers(str(x) for x in configured)
        except m.MatcherError as exc:
            raise ConfigError(f"maintenance.default_matchers: {exc.message}", path=ctx.profile.path) from None
    return m.parse_matchers(m.DEFAULT_MATCHERS)


def _author(ctx: Context, author: str | None) -> str:
    if author:
        return author
    configured = _settings(ctx).get("author")
    if configured:
        return str(configured)
    import getpass

    try:
        return getpass.getuser() or "aetherops"
    except Exception:  # noqa: BLE001 - no user name in this environment (containers, services)
        return "aetherops"


def _default_comment(extra: str = "") -> str:
    import socket

    return f"maintenance via aetherops on {socket.gethostname()}{extra}"


def _data(data: Any) -> Any:
    """A result as JSON/YAML prints it: snake_case keys (Alertmanager's ``endsAt`` is ``ends_at``, docs/json.md);
    a dry run's request ``body`` (what is sent, verbatim) and alert ``labels``/``annotations`` are kept as they are."""
    from aetherops.output import snake_keys

    return snake_keys(data, keep=("body", "labels", "annotations"))


def _show(ctx: Context, outcome, *, quiet: bool = False, would_silence: list[dict] | None = None) -> None:
    """Print a create/extend/expire outcome (JSON: the keys of docs/maintenance.md); a dry run of a new silence
    also lists the firing alerts it would silence (``would_silence``)."""
    from aetherops_plugins.maintenance import engine
    from aetherops_plugins.maintenance.matchers import format_matchers

    data = outcome.as_dict()
    if would_silence is not None:
        data["would_silence"] = would_silence
    for note in outcome.notes:
        ctx.output.note(f"aetherops: {note}")
    for warning in outcome.warnings:
        ctx.output.warn(warning)

    def text() -> None:
        if quiet:
            ctx.output.line(data["id"] or "")
            return
        if outcome.dry_run:
            request = outcome.request or {}
            ctx.output.line(f"dry run: would {outcome.action} silence{' ' + data['id'] if data['id'] else ''} (nothing sent)")
            ctx.output.line(f"{request.get('method')} {request.get('url')}")
            if "body" in request:
                import json

                ctx.output.line(json.dumps(request["body"], indent=2, ensure_ascii=False))
            if would_silence is not None:
                _show_would_silence(ctx, would_silence)
            return
        ctx.output.line(f"{outcome.action} silence {data['id']}")
        if data.get("previousId"):
            ctx.output.line(f"  replaces: {data['previousId']} (Alertmanager gave the updated silence a new id)")
        ends = engine.parse_time(data["endsAt"])
        left = (ends - engine.now()).total_seconds()
        ctx.output.line(f"  matchers: {format_matchers(data['matchers'])}")
        ctx.output.line(f"  starts:   {_when(data['startsAt'])}")
        ctx.output.line(f"  ends:     {_when(data['endsAt'])}" + (f" (in {engine.human_delta(left)})" if left > 0 else ""))
        ctx.output.line(f"  by:       {data['createdBy']}: {data['comment']}")

    ctx.output.result(_data(data), text)


def _show_would_silence(ctx: Context, alerts: list[dict]) -> None:
    if not alerts:
        ctx.output.line("would silence no firing alert (none matches now)")
        return
    ctx.output.line(f"would silence {len(alerts)} firing alert(s):")
    for alert in alerts:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(alert["labels"].items()) if k != "alertname")
        state = f" [{alert['state']}]" if alert.get("state") not in (None, "active") else ""
        ctx.output.line(f"  {alert['alertname']}{{{labels}}}{state}")


def _when(text: str | None) -> str:
    from aetherops_plugins.maintenance import engine

    if not text:
        return ""
    return engine.parse_time(text).strftime("%Y-%m-%d %H:%M:%S UTC")


# ---------------------------------------------------------------- commands
@click.group(invoke_without_command=True)
@_silence_options
@click.option("--start", metavar="TIME", help="Schedule the silence to start later: 2026-12-01T22:00:00Z, '2026-12-01 22:00' "
              "(local time), +2h. With --for, --minutes or --end.")
@click.option("--end", metavar="TIME", help="When the silence ends (same forms as --start), instead of --for/--minutes.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the silence id.")
@click.pass_context
def maintenance(click_ctx: click.Context, minutes, duration, comment, author, match, dry_run, start, end, quiet):
    """Silence alerts around planned work (Alertmanager silences).

    \b
    aetherops maintenance --minutes 30 [--comment TEXT] [--match MATCHER ...]
        create a silence, or extend your active one with the same matchers
    aetherops maintenance --for 2h --start 2026-12-01T22:00:00Z
        schedule a silence for later (also --end TIME)
    aetherops maintenance list [--all]          silences (also amtool's and the UI's)
    aetherops maintenance extend ID --minutes N
    aetherops maintenance end ID | end --mine
    aetherops maintenance run --minutes 30 -- COMMAND [ARGS...]

    Without --minutes or a subcommand this is a usage error (exit 2).
    """
    given = (minutes is not None or duration is not None or start is not None or end is not None or comment is not None
             or author is not None or match or dry_run or quiet)
    if click_ctx.invoked_subcommand is not None:
        if given:
            raise click.UsageError(f"put the options after the subcommand: aetherops maintenance {click_ctx.invoked_subcommand} ...")
        return
    if not given:
        raise click.UsageError(
            "give --minutes N to silence every alert for N minutes (aetherops maintenance --minutes 30), "
            "or a subcommand: list, extend, end, run", ctx=click_ctx)
    _create(minutes=minutes, duration=duration, start=start, end=end, comment=comment, author=author, match=match,
            dry_run=dry_run, quiet=quiet)


@pass_context
def _create(ctx: Context, minutes, duration, start, end, comment, author, match, dry_run, quiet):
    scheduled = start is not None or end is not None
    seconds = _seconds(ctx, minutes, duration, required=not scheduled)
    begins = None
    if scheduled:
        from aetherops_plugins.maintenance import engine, schedule

        now = engine.now()
        try:
            begins, ends = schedule.window(now, seconds=seconds, start=start, end=end)
        except schedule.WhenError as exc:
            raise click.BadParameter(str(exc), param_hint="'--start' / '--end'") from None
        _check_length(ctx, (ends - max(begins, now)).total_seconds(), "'--start' / '--end'")
        seconds = (ends - now).total_seconds()
    matchers = _matchers(ctx, match)
    author = _author(ctx, author)
    from aetherops_plugins.maintenance import engine

    am = ctx.alertmanager
    if begins is not None and begins > engine.now():
        from aetherops_plugins.maintenance.schedule import create_scheduled

        outcome = create_scheduled(am, matchers, start=begins, end=ends, author=author, comment=comment or _default_comment(),
                                   dry_run=dry_run)
    else:
        outcome = engine.create_or_extend(am, matchers, seconds=seconds, author=author, comment=comment,
                                          default_comment=_default_comment(), dry_run=dry_run)
    would = None
    if dry_run and outcome.action == "create":
        from aetherops_plugins.maintenance.schedule import would_silence

        would = would_silence(am, matchers)
    _show(ctx, outcome, quiet=quiet, would_silence=would)


@maintenance.command("list")
@click.option("--all", "include_all", is_flag=True, help="Also pending and expired silences.")
@click.option("--match", "match", multiple=True, metavar="MATCHER", help="Only silences having this matcher (repeatable).")
@click.option("--mine", is_flag=True, help="Only silences created by you (--author, profile maintenance.author or the OS user).")
@click.option("--author", metavar="NAME", help="Only silences created by NAME.")
@pass_context
def list_cmd(ctx: Context, include_all, match, mine, author):
    """Silences on the Alertmanager, whoever made them (amtool, the UI, aetherops).

    Active ones by default (soonest end first); --all adds pending and expired.
    """
    from aetherops_plugins.maintenance import engine

    matchers = _match_list(match)
    who = _author(ctx, author) if (mine or author) else None
    rows = engine.list_silences(ctx.alertmanager, include_all=include_all, matchers=matchers, author=who)

    def text() -> None:
        if not rows:
            ctx.output.line("no silences" if include_all else "no active silences")
            return
        ctx.output.table(rows, [("id", "ID"), ("state", "STATE"), ("matchersText", "MATCHERS"), ("endsIn", "ENDS IN"),
                                ("createdBy", "AUTHOR"), ("comment", "COMMENT")],
                         styles={"state": lambda s: {"active": "yellow", "pending": "cyan", "expired": "dim"}.get(s)})

    ctx.output.result(_data(rows), text)


def _complete_silence_ids(click_ctx, param, incomplete):
    """Shell completion of silence IDs: the active and pending silences on the Alertmanager (one quick GET;
    nothing when it cannot be reached)."""
    from aetherops.completion import quietly
    from aetherops_plugins.maintenance.schedule import completion_silences

    return quietly(completion_silences)(click_ctx, param, incomplete)


@maintenance.command("extend")
@click.argument("silence_id", metavar="ID", shell_complete=_complete_silence_ids)
@click.option("--minutes", type=int, metavar="N", help="The silence ends N minutes from now (1..max_minutes).")
@click.option("--for", "duration", metavar="DURATION", help="The silence ends DURATION from now: 30m, 2h, 1h30m (instead of --minutes).")
@click.option("--comment", metavar="TEXT", help="Replace the comment.")
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send nothing.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the (possibly new) silence id.")
@pass_context
def extend_cmd(ctx: Context, silence_id, minutes, duration, comment, dry_run, quiet):
    """Make silence ID end N minutes from now (ID may be a unique prefix of 4+ characters).

    Alertmanager keeps the id of an active silence; an expired one comes back
    under a new id, which is printed (JSON: id, previousId).
    """
    seconds = _seconds(ctx, minutes, duration, what="extend the silence")
    from aetherops_plugins.maintenance import engine

    _show(ctx, engine.extend(ctx.alertmanager, silence_id, seconds=seconds, comment=comment, dry_run=dry_run), quiet=quiet)


@maintenance.command("end")
@click.argument("silence_ids", metavar="[ID]...", nargs=-1, shell_complete=_complete_silence_ids)
@click.option("--mine", is_flag=True, help="End every active or pending silence created by you.")
@click.option("--author", metavar="NAME", help="With --mine: who 'you' are (default: profile maintenance.author, else the OS user).")
@click.option("--match", "match", multiple=True, metavar="MATCHER", help="With --mine: only silences having this matcher.")
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send nothing.")
@pass_context
def end_cmd(ctx: Context, silence_ids, mine, author, match, dry_run):
    """Expire silences now: by ID (or unique prefix), or --mine.

    Every ID is looked up before anything is expired, so a wrong ID (exit 3)
    ends nothing. JSON: a list, one object per silence.
    """
    from aetherops_plugins.maintenance import engine

    if bool(silence_ids) == bool(mine):
        raise click.UsageError("give silence IDs or --mine (not both)", ctx=click.get_current_context())
    if (author or match) and not mine:
        raise click.UsageError("--author and --match go with --mine", ctx=click.get_current_context())
    am = ctx.alertmanager
    if mine:
        who = _author(ctx, author)
        targets = engine.mine(am, who, _match_list(match))
        if not targets:
            ctx.output.note(f"aetherops: no active or pending silences by {who}")
    else:
        targets = [engine.resolve_id(am, x) for x in silence_ids]
    outcomes = [engine.expire(am, s, dry_run=dry_run) for s in targets]
    for outcome in outcomes:
        for note in outcome.notes:
            ctx.output.note(f"aetherops: {note}")
        for warning in outcome.warnings:
            ctx.output.warn(warning)

    def text() -> None:
        for outcome in outcomes:
            s = outcome.silence
            from aetherops_plugins.maintenance.matchers import format_matchers

            verb = "dry run: would expire" if dry_run else "expired"
            ctx.output.line(f"{verb} silence {s['id']}  {format_matchers(s.get('matchers', []))}  ({s.get('createdBy')}: {s.get('comment')})")
            if dry_run and outcome.request:
                ctx.output.line(f"  {outcome.request['method']} {outcome.request['url']}")

    ctx.output.result(_data([o.as_dict() for o in outcomes]), text)


@maintenance.command("run", context_settings={"allow_interspersed_args": False})
@_silence_options
@click.option("--run-anyway", is_flag=True, help="Run the command even if the silence cannot be created.")
@click.option("--duration-seconds", type=float, hidden=True,
              help="Testing only: the silence lasts this many seconds instead of --minutes.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="-- COMMAND [ARGS]...")
@pass_context
def run_cmd(ctx: Context, minutes, duration, comment, author, match, dry_run, run_anyway, duration_seconds, command):
    """Silence, run COMMAND, and expire the silence when it ends (success, failure or Ctrl-C).

    Exits with the command's own exit code, also after Ctrl-C (a command
    killed by the signal: 130). While the command runs, the silence is
    extended before it ends. If the silence cannot be created the command is
    not started (exit 3) unless --run-anyway. Options go before the command;
    everything after it is the command's.
    """
    import datetime as dt

    from aetherops_plugins.maintenance import engine, runner

    if duration_seconds is not None:
        if duration_seconds <= 0:
            raise click.BadParameter("must be positive", param_hint="'--duration-seconds'")
        seconds = float(duration_seconds)
    else:
        seconds = _seconds(ctx, minutes, duration)
    matchers = _matchers(ctx, match)
    author = _author(ctx, author)
    import os
    import shlex

    shown = shlex.join(command)
    comment = comment or _default_comment(f": {os.path.basename(command[0])}" if command else "")
    start = engine.now()
    body = engine.new_silence_body(matchers, start, start + dt.timedelta(seconds=seconds), author, comment)
    am = ctx.alertmanager
    if dry_run:
        data = {"action": "run", "id": None, "startsAt": engine.fmt_time(start),
                **{k: body[k] for k in ("endsAt", "matchers", "createdBy", "comment")},
                "command": list(command), "dryRun": True,
                "request": {"method": "POST", "url": am.url("/api/v2/silences"), "body": body}}

        def text() -> None:
            import json

            ctx.output.line("dry run: would create a silence, run the command, then expire the silence (nothing sent, nothing run)")
            ctx.output.line(f"POST {am.url('/api/v2/silences')}")
            ctx.output.line(json.dumps(body, indent=2, ensure_ascii=False))
            ctx.output.line(f"then run: {shown}")

        ctx.output.result(_data(data), text)
        return
    report = runner.run(am, body, command, seconds=seconds, warn=ctx.output.warn, note=ctx.output.note, run_anyway=run_anyway)
    if report.silence is not None and report.expired:
        how = f"the command exited {report.exit_code}" if report.started else "the command was not started"
        ctx.output.note(f"aetherops: silence {report.silence['id']} expired; {how}"
                        + (f" (extended {report.extensions}x)" if report.extensions else ""))
    if report.interrupted:
        ctx.output.note("aetherops: interrupted")
    ctx.output.result(_data(report.as_dict()), None)
    code = report.exit_code
    if report.expire_error and code == 0:
        code = 3
    if code:
        raise Exit(code)


# fleet fan-out (docs/plugins/fleet.md): `aetherops -p a -p b maintenance --minutes 30`, `list` and `end --mine` run on
# every profile at once; `extend ID` does not (an id belongs to one Alertmanager), nor `run` (one command, run once)
maintenance.aetherops_fleet = True
extend_cmd.aetherops_fleet = False
run_cmd.aetherops_fleet = False
