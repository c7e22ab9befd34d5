"""Hostile cell text in tables (issue 15): line breaks, control and wide characters, rich markup, huge cells.

Whatever a server or a file puts in a cell (an error message, a comment, a dashboard title), a table keeps one
row per line: piped at natural width with every character of the cell kept (line breaks as spaces), on a
terminal within its width; escape sequences never reach the terminal (control characters show as U+FFFD);
-o json/yaml of the same rows round-trips; nothing raises.
"""

from __future__ import annotations

import io
import json
import sys

import yaml
from hypothesis import given
from hypothesis import strategies as st

from aetherops.output import Output

CELL = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
    st.text(max_size=300),
    st.text(alphabet=st.sampled_from(list("ab \n\r\t\x0b\x0c\x1c\x85\u2028\u2029\x00\x07\x1b\x7f\x9b[]/\\*`|─…世界😀\u0301")),
            max_size=120),
    st.sampled_from(["[bold red]x[/]", "[/]", "[link=http://x]y[/link]", "\x1b[31mred\x1b[0m", "a" * 5000]),
)
KEYS = ["a", "b", "c", "d", "e"]
ROWS = st.integers(1, 5).flatmap(
    lambda n: st.lists(st.fixed_dictionaries({k: CELL for k in KEYS[:n]}), max_size=8).map(lambda rows: (n, rows)))


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _render(monkeypatch, stream, rows, n, headers=True):
    monkeypatch.setattr(sys, "stdout", stream)
    Output(headers=headers).table(rows, [(k, k.upper() * 3) for k in KEYS[:n]], styles={"a": lambda v: "red" if v else None})
    return stream.getvalue()


def _flat(value) -> str:
    """What a cell shows: line breaks and tabs as spaces, other control characters as U+FFFD."""
    text = "" if value is None else str(value)
    for ch in "\t\n\x0b\x0c\r\x1c\x1d\x1e\x85\u2028\u2029":
        text = text.replace(ch, " ")
    return "".join("\ufffd" if ord(ch) < 32 or 0x7f <= ord(ch) <= 0x9f else ch for ch in text)


@given(ROWS, st.booleans())
def test_piped_rows_stay_one_line_each(monkeypatch, shaped, headers):
    n, rows = shaped
    monkeypatch.setenv("NO_COLOR", "1")
    out = _render(monkeypatch, io.StringIO(), rows, n, headers)
    lines = out.split("\n")[:-1] if out else []
    assert len(lines) == len(rows) + (1 if headers else 0)
    for line, row in zip(lines[1:] if headers else lines, rows):
        for key in KEYS[:n]:
            assert _flat(row[key]).rstrip() in line  # every character of every cell, nothing folded away


@given(ROWS, st.integers(60, 200))
def test_terminal_rows_fit_the_width(monkeypatch, shaped, width):
    from rich.cells import cell_len

    n, rows = shaped
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", str(width))
    out = _render(monkeypatch, FakeTerminal(), rows, n)
    lines = out.splitlines()
    assert len(lines) == len(rows) + 2  # header, rule, one line per row
    assert all(cell_len(line) <= width for line in lines), (width, lines)


@given(ROWS, st.sampled_from(["json", "yaml"]))
def test_structured_output_round_trips(monkeypatch, capsys, shaped, fmt):
    _, rows = shaped
    Output(fmt).result(rows)
    out = capsys.readouterr().out
    parsed = json.loads(out) if fmt == "json" else yaml.safe_load(out)
    assert parsed == json.loads(json.dumps(rows))
