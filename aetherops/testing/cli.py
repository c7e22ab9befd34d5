"""Run the ``aetherops`` CLI in-process, the way ``main()`` does, and inspect the result."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence


@dataclass
class CliResult:
    """What one CLI run produced."""

    exit_code: int
    stdout: str
    stderr: str
    args: tuple[str, ...] = ()

    def json(self) -> Any:
        """stdout parsed as JSON (fails the test with the output if it is not)."""
        try:
            return json.loads(self.stdout)
        except ValueError as exc:
            raise AssertionError(f"stdout is not JSON ({exc}):\n{self.stdout}\n--- stderr:\n{self.stderr}") from None

    def __repr__(self) -> str:
        return f"<CliResult exit={self.exit_code} args={self.args!r}\n--- stdout:\n{self.stdout}\n--- stderr:\n{self.stderr}>"


def run_cli(args: Sequence[str], *, env: Mapping[str, str | None] | None = None, input: str | None = None) -> CliResult:
    """Run ``aetherops ARGS`` in this process with a fresh plugin manager and CLI.

    ``env`` entries are set (or removed when None) for the duration of the run.
    stdout and stderr are captured separately; the exit code is what
    ``aetherops`` would exit with.
    """
    from click.testing import CliRunner

    from aetherops.cli import main

    runner = CliRunner()
    code = 0
    with runner.isolation(input=input, env=dict(env or {}), color=False) as (out, err, _):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        stdout = out.getvalue().decode("utf-8", "replace")
        stderr = err.getvalue().decode("utf-8", "replace") if err is not None else ""
    return CliResult(code, stdout.replace(os.linesep, "\n"), stderr.replace(os.linesep, "\n"), tuple(args))
