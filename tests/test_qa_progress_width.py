"""QA (issue 15, progress of a copied Prometheus snapshot): on an 80-column terminal the bar's description
("prometheus: copying snapshot/<long snapshot name> (MiB, no hard link)", about 85 characters) took the whole
line, so the bar, the MiB done/total and the elapsed time were cut off: the progress showed no progress.
The description is now shortened with an ellipsis so the counts stay on the line."""

from __future__ import annotations

import io
import re

from aetherops.output import Output


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_counts_stay_visible_on_an_80_column_terminal(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("NO_COLOR", "1")
    stderr = _Tty()
    monkeypatch.setattr("sys.stderr", stderr)
    description = "prometheus: copying snapshot/20261201T115701Z-03b02bb23cb56544 (MiB, no hard link)"
    with Output("text").progress(7, description) as advance:
        advance(3)
    frames = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "\n", stderr.getvalue())
    lines = [line for line in frames.splitlines() if "prometheus: copying" in line]
    assert lines, frames
    assert all(len(line.rstrip()) <= 80 for line in lines)
    assert any(re.search(r"\b[0-3]/7\b", line) for line in lines), lines
