"""Fleet fan-out: one command across several profiles at once (``-p A -p B``, ``--all-profiles``).

Imported only when a command line names several profiles. A click command opts in with one attribute::

    @click.command()
    @aetherops.pass_context
    def health(ctx, ...): ...

    health.aetherops_fleet = True

(on a group, its subcommands inherit it; a subcommand may set ``False``). In fleet mode the core
(:func:`aetherops.cli._fleet_callback`) calls the command's callback once per profile, each in its own
thread with its own :class:`~aetherops.context.Context` (its own clients) whose ``output`` is a
:class:`CollectingOutput`: what the command passes to ``ctx.output.result(data, text)``,
``ctx.output.table(rows, columns)`` and ``ctx.output.line(text)`` is kept, not printed. When every
profile is done, :func:`report` prints one result:

- JSON/YAML: a list with one object per profile: ``profile``, ``ok``, ``exit_code``, ``error``, ``result``
  (the data the command passed to ``result``; null if it stopped before);
- text: the tables of all profiles merged, with a PROFILE column first; text lines prefixed with
  ``PROFILE: ``; then one summary row per profile (PROFILE, STATUS ``ok``/``exit N``, ERROR).

Errors end one profile, never the others: :class:`aetherops.errors.Exit` (``Findings``, ``Exit(3)``...) is that
profile's exit code; an :class:`~aetherops.errors.AetheropsError` (or any click error) its code and message;
an unexpected exception exit 70 with its type and message. The overall exit code is the worst (highest) of the
profiles' codes. Warnings and notes go to stderr at once, tagged ``[PROFILE]``. See docs/plugins/fleet.md.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

import click

from aetherops.errors import ConfigError, Exit, ExitCode
from aetherops.output import Output

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context

#: profiles running at the same time (each mostly waits on the network)
MAX_WORKERS = 16
#: what a bare exit code means, for the ERROR cell of a profile that ended without a message
_MEANING = {ExitCode.FINDINGS: "findings", ExitCode.USAGE: "usage error", ExitCode.SERVICE: "a service could not be reached",
            ExitCode.CONFIG: "configuration error", ExitCode.INTERNAL: "internal error", ExitCode.INTERRUPTED: "interrupted"}
_PROFILE_KEY = "\0profile"  # the PROFILE column's key in merged rows: never a command's own key


class CollectingOutput(Output):
    """The ``ctx.output`` of one profile in fleet mode: keeps results, tables and lines instead of printing them.

    ``format`` and ``headers`` are the command line's, so a command takes the same branches as when it runs alone
    (``ctx.output.json`` is true for ``-o json`` and ``-o yaml``). ``result(data, text)`` keeps ``data``
    and, in text mode, calls ``text`` so that the tables and lines it prints are kept too. ``warn``/``note``
    print at once on stderr, tagged with the profile; ``progress`` shows nothing.
    """

    def __init__(self, profile: str, format: str = "text", *, headers: bool = True):
        super().__init__(format, headers=headers)
        self.profile = profile
        self.results: list[Any] = []
        self.tables: list[tuple[list[dict], list[tuple[str, str]], str | None, dict | None]] = []
        self.lines: list[str] = []
        self.last_message: str | None = None

    def result(self, data: Any, text: Callable[[], None] | str | None = None) -> None:
        self.results.append(data)
        if self.json:
            return
        if callable(text):
            text()
        elif text is not None:
            self.line(text)

    def line(self, text: str = "", *, fg: str | None = None, bold: bool = False) -> None:
        if not self.json:
            self.lines.append(str(text))

    def table(self, rows: Sequence[dict], columns: Sequence[str | tuple[str, str]], *, title: str | None = None,
              styles: dict[str, Callable[[Any], str | None]] | None = None) -> None:
        if self.json:
            return
        cols = [(c, c) if isinstance(c, str) else (c[0], c[1]) for c in columns]
        self.tables.append(([dict(r) for r in rows], cols, title, styles))

    def warn(self, message: str) -> None:
        self.last_message = _strip_prefix(str(message))
        super().warn(f"[{self.profile}] {self.last_message}")

    def note(self, message: str) -> None:
        self.last_message = _strip_prefix(str(message))
        super().note(f"aetherops: [{self.profile}] {self.last_message}")

    @contextlib.contextmanager
    def progress(self, total: int | None, description: str) -> Iterator[Callable[[int], None]]:
        yield lambda n=1: None

    @property
    def data(self) -> Any:
        """What the command passed to ``result``: the one value, a list when it was called several times, else None."""
        if not self.results:
            return None
        return self.results[0] if len(self.results) == 1 else list(self.results)


def _strip_prefix(message: str) -> str:
    return message[len("aetherops: "):] if message.startswith("aetherops: ") else message


class ProfileRun:
    """One profile's run: its output, exit code and error message."""

    def __init__(self, profile: str, output: CollectingOutput):
        self.profile = profile
        self.output = output
        self.exit_code = 0
        self.error: str | None = None
        self.usage: click.UsageError | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "ok": self.exit_code == 0, "exit_code": self.exit_code, "error": self.error,
                "result": self.output.data}


def all_profile_names(ctx: Context) -> list[str]:
    """The profiles ``--all-profiles`` runs on: every profile ``aetherops profiles list`` shows, except the examples
    shipped with aetherops and the profiles another profile ``extends`` (templates), sorted by name."""
    from aetherops import yamlsafe
    from aetherops.profiles import builtin_profiles_dir

    store = ctx.profiles
    shipped = builtin_profiles_dir().resolve()
    found: dict[str, Any] = {}
    for name, path in store.available().items():
        if path.resolve().parent == shipped:
            continue
        found[name] = path
    bases = set()
    for path in found.values():
        try:
            data = yamlsafe.load(path.read_text(encoding="utf-8"))
        except Exception:  # noqa: BLE001 - a broken profile is reported by its own run, not here
            continue
        if isinstance(data, dict) and isinstance(data.get("extends"), str):
            bases.add(data["extends"])
    names = sorted(n for n in found if n not in bases)
    if not names:
        raise ConfigError(f"--all-profiles: no profiles found; searched {', '.join(str(d) for d in store.dirs)}")
    return names


def fan_out(click_ctx: click.Context, callback: Callable[..., Any], args: tuple, kwargs: dict,
            names: Sequence[str]) -> None:
    """Run ``callback`` (a command's own callback) once per profile in ``names``, concurrently, then print one
    result (:func:`report`) and end with the worst exit code."""
    from aetherops.context import Context

    base = click_ctx.find_object(Context)
    store = base.profiles  # built (and its plugins' sections collected) once, in this thread
    runs = [ProfileRun(name, CollectingOutput(name, base.output.format, headers=base.output.headers)) for name in names]
    slots = threading.BoundedSemaphore(MAX_WORKERS)

    def work(run: ProfileRun) -> None:
        with slots:
            _run_one(run, click_ctx, callback, args, kwargs, base, store)

    # daemon threads, not a pool: Ctrl-C ends the command now instead of after every profile's timeouts
    threads = [threading.Thread(target=work, args=(run,), name=f"aetherops-fleet-{run.profile}", daemon=True)
               for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.1)
    usage = [run.usage for run in runs]
    if all(usage) and len({str(u.format_message()) for u in usage}) == 1:
        raise usage[0]  # the command line itself is wrong: one usage error, not one per profile
    report(base.output, runs)


def _run_one(run: ProfileRun, click_ctx: click.Context, callback, args, kwargs, base: Context, store) -> None:
    from aetherops.context import Context

    ctx = Context(base.pm, profile_name=run.profile, profiles_dir=base.profiles_dir, output_format=base.output.format,
                  debug=base.debug)
    ctx.output = run.output
    ctx.__dict__["profiles"] = store  # Context.profiles is a cached_property: share the one store
    sub = click.Context(click_ctx.command, parent=click_ctx.parent, info_name=click_ctx.info_name, obj=ctx)
    sub.params = dict(click_ctx.params)
    try:
        sub.invoke(callback, *args, **kwargs)
    except click.exceptions.Exit as exc:
        run.exit_code = int(exc.exit_code)
    except click.UsageError as exc:
        run.exit_code, run.error, run.usage = int(exc.exit_code), " ".join(exc.format_message().split()), exc
    except click.ClickException as exc:
        run.exit_code, run.error = int(exc.exit_code), " ".join(exc.format_message().split())
    except (click.exceptions.Abort, KeyboardInterrupt):
        run.exit_code, run.error = int(ExitCode.INTERRUPTED), "interrupted"
    except Exception as exc:  # noqa: BLE001 - a bug ends this profile's run, reported as exit 70, never the others
        from aetherops.redact import redact

        if base.debug:
            import traceback

            click.echo(redact(f"[{run.profile}] " + traceback.format_exc()).rstrip(), err=True)
        run.exit_code = int(ExitCode.INTERNAL)
        run.error = f"internal error: {type(exc).__name__}: {redact(' '.join(str(exc).split()))}"
    finally:
        ctx.close()
    if run.exit_code and not run.error:
        run.error = run.output.last_message or _MEANING.get(run.exit_code, f"exit {run.exit_code}")


def report(output: Output, runs: Sequence[ProfileRun]) -> None:
    """Print the fleet's result on ``output`` and raise :class:`Exit` with the worst exit code (if not 0)."""
    summary = [run.as_dict() for run in runs]
    output.result(summary, lambda: _text(output, runs))
    worst = max((run.exit_code for run in runs), default=0)
    if worst:
        raise Exit(worst)


def _text(output: Output, runs: Sequence[ProfileRun]) -> None:
    groups: dict[tuple, tuple[list[tuple[str, str]], dict | None, str | None, list[dict]]] = {}
    for run in runs:
        for rows, cols, title, styles in run.output.tables:
            _, _, _, merged = groups.setdefault((title, tuple(cols)), (cols, styles, title, []))
            merged.extend({**row, _PROFILE_KEY: run.profile} for row in rows)
    blocks = 0
    for cols, styles, title, rows in groups.values():
        if blocks:
            output.line("")
        output.table(rows, [(_PROFILE_KEY, "PROFILE"), *cols], title=title, styles=styles)
        blocks += 1
    lines = [f"{run.profile}: {line}" for run in runs for line in run.output.lines]
    if lines:
        if blocks:
            output.line("")
        for line in lines:
            output.line(line)
        blocks += 1
    if blocks:
        output.line("")
    rows = [{"profile": run.profile, "status": "ok" if run.exit_code == 0 else f"exit {run.exit_code}",
             "error": run.error} for run in runs]
    output.table(rows, [("profile", "PROFILE"), ("status", "STATUS"), ("error", "ERROR")],
                 styles={"status": lambda s: "green" if s == "ok" else "red"})
