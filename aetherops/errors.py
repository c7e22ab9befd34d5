"""Errors and the exit codes they map to.

Every error the CLI reports is one line on stderr and one of these exit codes;
the table in docs/exit-codes.md is this enum.
"""

from __future__ import annotations

import enum

import click


class ExitCode(enum.IntEnum):
    #: Everything worked and nothing was found.
    OK = 0
    #: The command worked and found problems (lint findings, unhealthy service, failed probe).
    FINDINGS = 1
    #: Bad command line or bad input given on it (click's own usage errors).
    USAGE = 2
    #: A service could not be reached, timed out or answered with an error.
    SERVICE = 3
    #: A profile or configuration file is missing, malformed or invalid.
    CONFIG = 4
    #: An unexpected error: a bug in aetherops or in a plugin (EX_SOFTWARE), never "findings".
    INTERNAL = 70
    #: Interrupted by Ctrl-C.
    INTERRUPTED = 130


class AetheropsError(click.ClickException):
    """Base class: a one-line message and an exit code."""

    exit_code = ExitCode.FINDINGS

    def format_message(self) -> str:
        from aetherops.redact import redact

        return redact(" ".join(str(self.message).split("\n")))

    def show(self, file=None) -> None:  # one line, no "Error:" prefix duplication
        click.echo(f"aetherops: error: {self.format_message()}", err=True)


class ServiceError(AetheropsError):
    """A service was unreachable, timed out, or answered with an error status."""

    exit_code = ExitCode.SERVICE

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None):
        self.url = url
        self.status = status
        super().__init__(message)


class ConfigError(AetheropsError):
    """A profile or config file is wrong; the message names the file and line."""

    exit_code = ExitCode.CONFIG

    def __init__(self, message: str, *, path=None, line: int | None = None):
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line else f"{path}: "
        super().__init__(f"{where}{message}")


class FindingsError(AetheropsError):
    """The command ran and found problems (exit 1); the message sums them up."""

    exit_code = ExitCode.FINDINGS


class Exit(click.exceptions.Exit):
    """End the command with ``code`` once it has printed its result, adding nothing on stderr.

    What a plugin raises instead of ``SystemExit(n)``: ``raise Exit(ExitCode.SERVICE)`` after reporting that
    nothing could be reached, ``raise Exit(child.returncode)`` to pass a wrapped command's code through.
    The context is closed (clients too) as on any other way out. For exit 1 see :class:`Findings`."""

    def __init__(self, code: int = ExitCode.FINDINGS):
        super().__init__(int(code))


class Findings(Exit):
    """The command worked, printed its result, and found problems: exit 1 and nothing more on stderr.

    ``if report.problems: raise Findings()``. (:class:`FindingsError` is the same exit code with a message.)"""

    def __init__(self) -> None:
        super().__init__(ExitCode.FINDINGS)


class UsageError(click.UsageError):
    """Bad input on the command line (exit 2)."""

    exit_code = ExitCode.USAGE
