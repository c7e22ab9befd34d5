"""The one place that prints results.

Results go to stdout (text tables, or JSON with ``--output json``);
diagnostics (warnings, progress, notes) go to stderr. Colour follows
NO_COLOR / FORCE_COLOR / TERM=dumb / whether the stream is a terminal.
rich is imported only when a table or a progress bar is drawn.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Any, Callable, Iterable, Iterator, Sequence

import click

from aetherops.redact import redact, redact_data

FORMATS = ("text", "json")


def colour_enabled(stream=None) -> bool:
    """Whether to colour ``stream``: NO_COLOR wins, then FORCE_COLOR, then TERM/isatty."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def _json_default(value: Any) -> Any:
    import datetime
    import pathlib

    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, pathlib.PurePath):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


class Output:
    """How a command reports: ``format`` is ``text`` or ``json``."""

    def __init__(self, format: str = "text"):
        self.format = format

    @property
    def json(self) -> bool:
        return self.format == "json"

    # -- results (stdout)
    def result(self, data: Any, text: Callable[[], None] | str | None = None) -> None:
        """Print a command's result: JSON of ``data``, or the text rendering."""
        if self.json:
            click.echo(json.dumps(redact_data(data), indent=2, sort_keys=False, default=_json_default, ensure_ascii=False))
        elif callable(text):
            text()
        elif text is not None:
            self.line(text)

    def line(self, text: str = "", *, fg: str | None = None, bold: bool = False) -> None:
        """One line of text output on stdout (skipped in JSON mode)."""
        if self.json:
            return
        text = redact(str(text))
        if fg or bold:
            text = click.style(text, fg=fg, bold=bold) if colour_enabled() else text
        click.echo(text, color=colour_enabled())

    def table(self, rows: Sequence[dict], columns: Sequence[str | tuple[str, str]], *, title: str | None = None,
              styles: dict[str, Callable[[Any], str | None]] | None = None) -> None:
        """Render ``rows`` (dicts) as a table with the given columns (key or (key, header))."""
        if self.json:
            return
        from rich import box
        from rich.table import Table

        console = self._console(sys.stdout)
        table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
        cols = [(c, c) if isinstance(c, str) else c for c in columns]
        for _, header in cols:
            table.add_column(header, overflow="fold")
        for row in rows:
            cells = []
            for key, _ in cols:
                value = row.get(key)
                cell = "" if value is None else redact(str(value))
                style = (styles or {}).get(key)
                colour = style(value) if style else None
                cells.append(f"[{colour}]{_escape(cell)}[/]" if colour else _escape(cell))
            table.add_row(*cells)
        console.print(table)

    # -- diagnostics (stderr)
    def warn(self, message: str) -> None:
        """A one-line warning on stderr."""
        prefix = click.style("warning:", fg="yellow") if colour_enabled(sys.stderr) else "warning:"
        click.echo(f"aetherops: {prefix} {redact(str(message))}", err=True, color=colour_enabled(sys.stderr))

    def note(self, message: str) -> None:
        """A one-line note on stderr (progress, where things landed)."""
        click.echo(redact(str(message)), err=True)

    @contextlib.contextmanager
    def progress(self, total: int | None, description: str) -> Iterator[Callable[[int], None]]:
        """A progress bar on a terminal (stderr), nothing when piped. Yields ``advance(n=1)``."""
        if not sys.stderr.isatty() or os.environ.get("CI") or self.json and not sys.stderr.isatty():
            yield lambda n=1: None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=self._console(sys.stderr), transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield lambda n=1: bar.advance(task, n)

    @staticmethod
    def _console(stream):
        from rich.console import Console

        width = None if stream.isatty() else 200
        colour = colour_enabled(stream)
        # color_system=None switches off every style (rich's no_color keeps bold), whatever rich reads from the env
        return Console(file=stream, color_system="auto" if colour else None, force_terminal=colour or stream.isatty(),
                       width=width, highlight=False, soft_wrap=False)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def dumps(data: Any) -> str:
    """Stable JSON text (for files the tools write)."""
    return json.dumps(data, indent=2, sort_keys=True, default=_json_default, ensure_ascii=False) + "\n"


def echo_lines(lines: Iterable[str]) -> None:
    for line in lines:
        click.echo(redact(line))
