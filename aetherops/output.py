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

FORMATS = ("text", "json", "yaml")
#: formats that print the result's data instead of text (``Output.json`` is true for each)
STRUCTURED = ("json", "yaml")
#: characters between two columns of a table on a terminal (rich's SIMPLE_HEAD box without edges)
_TTY_GAP = 3
#: characters between two columns of a piped table
_PIPE_GAP = "  "
_CONTROL = None  # compiled on first use: line breaks, tabs and other control characters inside a cell


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


def is_terminal(stream=None) -> bool:
    """Whether ``stream`` (default stdout) is a terminal: tables then fit its width; piped, they keep their natural width."""
    stream = stream or sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or fake stream
        return False


def terminal_width(stream=None) -> int:
    """Columns of the terminal: ``COLUMNS`` if set, else the size of ``stream``'s terminal, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
        if columns > 0:
            return columns
    except ValueError:
        pass
    stream = stream or sys.stdout
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


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


def to_json(data: Any) -> str:
    """``data`` as the JSON that ``--output json`` prints (redacted, keys in the command's order)."""
    return json.dumps(redact_data(data), indent=2, sort_keys=False, default=_json_default, ensure_ascii=False)


def to_yaml(data: Any) -> str:
    """``data`` as the YAML that ``--output yaml`` prints: the JSON document's data exactly (parsed back, it
    equals what ``--output json`` prints), block style, keys in the command's order."""
    import yaml

    plain = json.loads(json.dumps(redact_data(data), default=_json_default, ensure_ascii=False))
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(plain, Dumper=dumper, sort_keys=False, allow_unicode=True, default_flow_style=False,
                     width=2**31 - 1, explicit_start=False)


def snake_case(name: str) -> str:
    """``endsAt`` -> ``ends_at``, ``HTTPServer`` -> ``http_server``, ``dry-run`` -> ``dry_run``."""
    import re

    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return name.replace("-", "_").lower()


def snake_keys(data: Any, *, keep: Iterable[str] = ()) -> Any:
    """A copy of ``data`` whose mapping keys are snake_case, at every depth; the values of keys named in ``keep``
    are copied as they are (documents in a foreign schema: an HTTP request body, labels, annotations)."""
    keep = frozenset(keep)
    if isinstance(data, dict):
        return {snake_case(k) if isinstance(k, str) else k: (v if k in keep else snake_keys(v, keep=keep))
                for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [snake_keys(v, keep=keep) for v in data]
    return data


class Output:
    """How a command reports: ``format`` is ``text``, ``json`` or ``yaml``; ``headers=False`` (``--no-headers``)
    drops the header row of tables."""

    def __init__(self, format: str = "text", *, headers: bool = True):
        self.format = format
        self.headers = headers

    @property
    def json(self) -> bool:
        """True when the result is printed as data (``json`` or ``yaml``): the command skips its text rendering."""
        return self.format in STRUCTURED

    # -- results (stdout)
    def result(self, data: Any, text: Callable[[], None] | str | None = None) -> None:
        """Print a command's result: ``data`` as JSON or YAML, or the text rendering."""
        if self.format == "json":
            click.echo(to_json(data))
        elif self.format == "yaml":
            click.echo(to_yaml(data), nl=False)
        elif callable(text):
            text()
        elif text is not None:
            self.line(text)

    def line(self, text: str = "", *, fg: str | None = None, bold: bool = False) -> None:
        """One line of text output on stdout (skipped in JSON/YAML mode)."""
        if self.json:
            return
        text = redact(str(text))
        if fg or bold:
            text = click.style(text, fg=fg, bold=bold) if colour_enabled() else text
        click.echo(text, color=colour_enabled())

    def table(self, rows: Sequence[dict], columns: Sequence[str | tuple[str, str]], *, title: str | None = None,
              styles: dict[str, Callable[[Any], str | None]] | None = None) -> None:
        """Render ``rows`` (dicts) as a table with the given columns (key or (key, header)).

        Each row is one line. Piped (stdout not a terminal), columns take their natural width, however wide,
        so ``grep`` and ``awk`` see whole rows; on a terminal, the widest columns are shortened to fit its
        width and their cells end with an ellipsis. ``--no-headers`` drops the header row."""
        if self.json:
            return
        cols = [(c, c) if isinstance(c, str) else (c[0], c[1]) for c in columns]
        cells = [[_cell(row.get(key)) for key, _ in cols] for row in rows]
        colours = [[(styles or {})[key](row.get(key)) if key in (styles or {}) else None for key, _ in cols]
                   for row in rows]
        if is_terminal(sys.stdout):
            self._terminal_table(cols, cells, colours, title)
        else:
            self._piped_table(cols, cells, colours, title)

    def _piped_table(self, cols, cells, colours, title) -> None:
        colour = colour_enabled()
        headers = [header for _, header in cols]
        widths = [max([len(h) if self.headers else 0] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
        lines = []
        if title:
            lines.append(title)
        if self.headers:
            lines.append(_PIPE_GAP.join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
        for row, row_colours in zip(cells, colours):
            parts = [text.ljust(w) for text, w in zip(row, widths)]
            if colour:
                parts = [_click_style(p, c) for p, c in zip(parts, row_colours)]
            lines.append(_PIPE_GAP.join(parts).rstrip())
        if lines:
            click.echo("\n".join(lines), color=colour)

    def _terminal_table(self, cols, cells, colours, title) -> None:
        from rich import box
        from rich.cells import cell_len
        from rich.table import Table

        console = self._console(sys.stdout)
        natural = [max([cell_len(h) if self.headers else 1] + [cell_len(r[i]) for r in cells]) for i, (_, h) in enumerate(cols)]
        floors = [min(n, max(cell_len(h) if self.headers else 0, 4)) for n, (_, h) in zip(natural, cols)]
        widths = fit_widths(natural, floors, console.width - _TTY_GAP * (len(cols) - 1))
        table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold",
                      show_header=self.headers)
        for (_, header), width in zip(cols, widths):
            table.add_column(header, overflow="ellipsis", no_wrap=True, width=width)
        for row, row_colours in zip(cells, colours):
            table.add_row(*(f"[{c}]{_escape(t)}[/]" if c else _escape(t) for t, c in zip(row, row_colours)))
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

        # the bar, the counts and the elapsed time must stay on the line: a long description is cut, not them
        width = terminal_width(sys.stderr)
        bar_width = 40 if width >= 120 else 20
        room = max(10, width - bar_width - 25)
        if len(description) > room:
            description = description[:room - 1] + "…"
        with Progress(TextColumn("{task.description}"), BarColumn(bar_width=bar_width), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=self._console(sys.stderr), transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield lambda n=1: bar.advance(task, n)

    @staticmethod
    def _console(stream):
        from rich.console import Console

        width = terminal_width(stream) if is_terminal(stream) else 200
        colour = colour_enabled(stream)
        # color_system=None switches off every style (rich's no_color keeps bold), whatever rich reads from the env
        return Console(file=stream, color_system="auto" if colour else None, force_terminal=colour or stream.isatty(),
                       width=width, highlight=False, soft_wrap=False)


def fit_widths(natural: Sequence[int], floors: Sequence[int], available: int) -> list[int]:
    """Column widths that fit ``available`` characters: the widest columns are cut down to one common cap (never
    below their floor) while narrow ones keep their natural width. The natural widths when they fit."""
    if sum(natural) <= available:
        return list(natural)
    low, high = 0, max(natural)
    while low < high:  # the largest cap whose widths fit
        cap = (low + high + 1) // 2
        if sum(min(n, max(cap, f)) for n, f in zip(natural, floors)) <= available:
            low = cap
        else:
            high = cap - 1
    return [min(n, max(low, f)) for n, f in zip(natural, floors)]


def _cell(value: Any) -> str:
    """A table cell: one line (line breaks and tabs become spaces), other control characters (an escape sequence
    from a server's error message) shown as U+FFFD instead of reaching the terminal, secrets redacted."""
    global _CONTROL
    if value is None:
        return ""
    if _CONTROL is None:
        import re

        _CONTROL = re.compile(r"([\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029])|[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")
    return _CONTROL.sub(lambda m: " " if m.group(1) else "\ufffd", redact(str(value)))


def _click_style(text: str, style: str | None) -> str:
    """A rich style word list (``green``, ``bold red``, ``dim``) applied with click, for piped tables."""
    if not style:
        return text
    kwargs: dict[str, Any] = {}
    for word in style.split():
        if word in ("bold", "dim", "italic", "underline"):
            kwargs[word] = True
        elif word.isalpha():
            kwargs["fg"] = word
    try:
        return click.style(text, **kwargs)
    except TypeError:  # a colour click does not know
        return text


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def dumps(data: Any) -> str:
    """Stable JSON text (for files the tools write)."""
    return json.dumps(data, indent=2, sort_keys=True, default=_json_default, ensure_ascii=False) + "\n"


def echo_lines(lines: Iterable[str]) -> None:
    for line in lines:
        click.echo(redact(line))
