"""``aetherops maintenance run``: silence, run a command, expire the silence when it ends.

The silence belongs to this run alone (it is always a new silence, never an
existing one extended, so ending it cannot cut short a window someone else
opened). While the command runs, a background thread extends the silence
whenever less than a third of its length remains. When the command ends, by
success, failure, Ctrl-C or SIGTERM, the silence is expired in a ``finally``.

Signals (POSIX): when we are the foreground job of a terminal, the command
runs in our process group, so the terminal's Ctrl-C (and Ctrl-Z) reaches the
whole command tree and the command can still read the terminal; if it is
still running a moment after a Ctrl-C, the SIGINT is forwarded to it.
Otherwise (CI, a service, a background job) the command gets its own process
group and every signal we forward goes to that group, so the command's own
children are stopped too. A SIGINT/SIGTERM/SIGHUP to aetherops is forwarded;
a second Ctrl-C sends SIGTERM, a third SIGKILL. Windows: the command gets its
own process group (CREATE_NEW_PROCESS_GROUP) and Ctrl-C is forwarded as
CTRL_BREAK_EVENT.

The run exits with the command's own exit status, also after a Ctrl-C (a
command that handles it and exits 5 gives 5; one killed by SIGINT gives 130);
130 / 128+N only when the signal came before the command was started.

A POST that fails without a clear refusal (timed out, connection lost after
sending) may still have created the silence: it is looked up and expired (the
command is not started), see engine.post_new_silence.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

from aetherops.errors import ServiceError
from aetherops_plugins.maintenance import engine
from aetherops_plugins.maintenance.matchers import format_matchers

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.clients.alertmanager import AlertmanagerClient

#: how long a terminal's own Ctrl-C gets to stop the command before we forward one
TERMINAL_GRACE_SECONDS = 2.0


class _Signalled(BaseException):
    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@dataclass
class RunReport:
    command: list[str]
    silence: dict[str, Any] | None
    exit_code: int = 0
    extensions: int = 0
    previous_ids: list[str] = field(default_factory=list)
    expired: bool = False
    expire_error: str | None = None
    interrupted: bool = False
    started: bool = False

    def as_dict(self) -> dict[str, Any]:
        s = self.silence or {}
        return {
            "action": "run",
            "id": s.get("id"),
            "startsAt": s.get("startsAt"),
            "endsAt": s.get("endsAt"),
            "matchers": s.get("matchers", []),
            "createdBy": s.get("createdBy"),
            "comment": s.get("comment"),
            "command": self.command,
            "exitCode": self.exit_code,
            "extensions": self.extensions,
            "previousIds": self.previous_ids,
            "expired": self.expired,
            "interrupted": self.interrupted,
            "started": self.started,
            "dryRun": False,
        }


class Keeper(threading.Thread):
    """Extends the silence while the command runs (when less than a third of ``seconds`` remains)."""

    def __init__(self, am: AlertmanagerClient, silence: dict[str, Any], seconds: float, warn: Callable[[str], None],
                 interval: float | None = None):
        super().__init__(name="aetherops-silence-keeper", daemon=True)
        self.am = am
        self.silence = dict(silence)
        self.seconds = seconds
        self.interval = interval if interval is not None else max(0.05, min(30.0, seconds / 10))
        self.warn = warn
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.extensions = 0
        self.previous_ids: list[str] = []

    def stop(self) -> None:
        self.stopped.set()
        if self.is_alive():
            self.join(timeout=self.am.config.timeout * 2 + 1)

    @property
    def current(self) -> dict[str, Any]:
        with self.lock:
            return dict(self.silence)

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            current = self.current
            remaining = (engine.parse_time(current["endsAt"]) - engine.now()).total_seconds()
            if remaining > self.seconds / 3:
                continue
            try:
                if not self.extend_once(current):
                    return
            except ServiceError as exc:
                self.warn(f"could not extend silence {current['id']}: {exc.message}; will retry")

    def extend_once(self, current: dict[str, Any]) -> bool:
        """Push the end ``seconds`` from now; False when someone else ended the silence (then we stop)."""
        live = engine.resolve_id(self.am, current["id"])
        if (live.get("status") or {}).get("state") == "expired":
            self.warn(f"silence {current['id']} was ended by someone else while the command runs; not extending it")
            return False
        if self.stopped.is_set():
            return False
        end = engine.now() + dt.timedelta(seconds=self.seconds)
        body = engine.silence_body(live.get("matchers", current["matchers"]), live["startsAt"], end,
                                   live.get("createdBy") or current["createdBy"], live.get("comment", current["comment"]), current["id"])
        new_id = engine.post_silence(self.am, body)
        with self.lock:
            if new_id != current["id"]:
                self.previous_ids.append(current["id"])
            self.silence = {**body, "id": new_id}
            self.extensions += 1
        return True


def _in_terminal_foreground() -> bool:
    """Whether a Ctrl-C typed on our terminal also reached the command (same foreground process group)."""
    if os.name != "posix":
        return True  # Windows: a console Ctrl-C goes to every process attached to the console
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, AttributeError, ValueError):
        return False


def _own_group() -> bool:
    """Whether the command gets its own process group, so signals we forward reach everything it started.

    Always on Windows (CREATE_NEW_PROCESS_GROUP; Ctrl-C is then forwarded as CTRL_BREAK_EVENT). On POSIX, unless
    we are the foreground job of a terminal: there the command stays in our group, so the terminal's own Ctrl-C
    and Ctrl-Z reach the whole command tree and the command can still read the terminal (a background process
    group reading it would be stopped by SIGTTIN: a password or "continue? [y/N]" prompt would hang the run).
    """
    return os.name == "nt" or not _in_terminal_foreground()


def _group_kwargs(own_group: bool) -> dict[str, Any]:
    if not own_group:
        return {}
    if os.name == "nt":  # pragma: no cover - Windows only
        return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200)}
    if sys.version_info >= (3, 11):
        return {"process_group": 0}
    return {"preexec_fn": os.setpgrp}  # pragma: no cover - Python 3.10


def _signal(proc: subprocess.Popen, signum: int, own_group: bool) -> None:
    """Send ``signum`` to the command: to its whole process group when it has its own."""
    if proc.poll() is not None:
        return
    try:
        if os.name == "posix":
            if own_group:
                os.killpg(proc.pid, signum)
            else:
                proc.send_signal(signum)
        elif signum == signal.SIGINT:  # pragma: no cover - Windows only
            if own_group:  # a new process group ignores the console's Ctrl-C: Ctrl-Break reaches the group
                proc.send_signal(getattr(signal, "CTRL_BREAK_EVENT", signal.SIGTERM))
            # else the console already delivered CTRL_C_EVENT to the command
        else:  # pragma: no cover - Windows only
            proc.terminate()
    except (OSError, ValueError):
        pass


def _forward(proc: subprocess.Popen, signum: int, own_group: bool = False) -> None:
    _signal(proc, signum, own_group)


def _wait_interrupted(proc: subprocess.Popen, signum: int, own_group: bool = False) -> int:
    """After our Ctrl-C/SIGTERM: let the command stop (forwarding the signal), escalating on more Ctrl-Cs.
    Returns the command's exit status (negative: killed by that signal)."""
    kill = getattr(signal, "SIGKILL", signal.SIGTERM)
    escalation = [lambda: None, lambda: _signal(proc, signal.SIGTERM, own_group), lambda: _signal(proc, kill, own_group)]
    step = 0
    # only a command in our own terminal process group got the terminal's Ctrl-C itself
    grace = TERMINAL_GRACE_SECONDS if signum == signal.SIGINT and not own_group and _in_terminal_foreground() else 0.0
    first = True
    while True:
        try:
            if first:
                first = False
                try:
                    return proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    _forward(proc, signum, own_group)
            return proc.wait()
        except (KeyboardInterrupt, _Signalled):
            step = min(step + 1, len(escalation) - 1)
            escalation[step]()


def _expire_orphan(am: AlertmanagerClient, exc: Any) -> str:
    """The silence a failed POST created anyway is expired (the command is not started): the message saying so."""
    silence = exc.silence
    try:
        engine.expire(am, {**silence, "status": {"state": "active"}})
    except ServiceError as failure:
        return (f"{exc.cause}; Alertmanager created silence {silence['id']} anyway and it could not be expired "
                f"({failure.message}): it ends by itself at {silence.get('endsAt')}")
    return f"{exc.cause}; Alertmanager created silence {silence['id']} anyway: it has been expired"


def run(am: AlertmanagerClient, body: dict[str, Any], command: Sequence[str], *, seconds: float,
        warn: Callable[[str], None], note: Callable[[str], None], run_anyway: bool = False,
        interval: float | None = None) -> RunReport:
    """Create the silence ``body``, run ``command`` under it, expire it when the command ends.

    A Ctrl-C or SIGTERM while the silence is being created is held until Alertmanager has answered: the new
    silence is then expired at once and the command is not started (exit 130 / 128+N), so no silence is left
    behind. If the silence cannot be created, ServiceError is raised (the command not started) unless
    ``run_anyway``, which warns and runs the command without a silence.
    """
    report = RunReport(list(command), None)
    originals: dict[int, Any] = {}  # each signal's handler before this run, restored at the very end
    main_thread = threading.current_thread() is threading.main_thread()
    term_signals = [signal.SIGTERM, signal.SIGHUP] if os.name == "posix" else []

    def set_handler(sig: int, handler: Any) -> None:
        previous = signal.signal(sig, handler)
        originals.setdefault(sig, previous)

    def restore() -> None:
        for sig, handler in originals.items():
            if handler is not None:
                signal.signal(sig, handler)

    # 1. create the silence, holding signals until Alertmanager has answered
    held: list[int] = []
    if main_thread:
        for sig in [signal.SIGINT, *term_signals]:
            set_handler(sig, lambda signum, frame: held.append(signum))
    try:
        try:
            try:
                silence: dict[str, Any] | None = {**body, "id": engine.post_new_silence(am, body)}
            except engine.CreatedDespiteError as exc:
                if not run_anyway:
                    raise ServiceError(_expire_orphan(am, exc), url=exc.url, status=exc.status) from None
                warn(f"{exc.cause}; but Alertmanager created silence {exc.silence['id']} anyway: running under it")
                silence = {**body, "id": exc.silence["id"], "endsAt": exc.silence.get("endsAt", body["endsAt"])}
            silence["startsAt"] = engine.fmt_time(engine.parse_time(body["startsAt"]) + engine.START_MARGIN)
        except ServiceError as exc:
            if not run_anyway:
                restore()
                hint = "" if "Alertmanager created silence" in exc.message else " (--run-anyway runs it without a silence)"
                raise ServiceError(f"{exc.message}; the command was not started{hint}",
                                   url=exc.url, status=exc.status) from None
            warn(f"{exc.message}; running the command without a silence (--run-anyway)")
            silence = None
        report.silence = silence
        if silence is not None and not held:  # an HA cluster: the command starts once every reachable peer has it
            for row in engine.wait_on_peers(am, silence["id"], silence.get("endsAt")):
                if row["state"] == "lagging":
                    warn(f"silence {silence['id']} is not visible on peer {row['url']} yet (gossip lags); running the command anyway")
                elif row["state"] == "unreachable":
                    note(f"aetherops: peer {row['url']} is unreachable; the silence reaches it by gossip when it is back")
        if held:
            report.interrupted = True
            report.exit_code = 130 if held[0] == signal.SIGINT else 128 + held[0]
            if silence is not None:
                _expire_at_end(am, report, warn)
            restore()
            return report
    except BaseException:
        restore()
        raise
    # 2. run the command; 3. expire the silence, whatever happened
    keeper: Keeper | None = None
    try:
        if main_thread:
            def on_term(signum, frame):
                raise _Signalled(signum)

            for sig in term_signals:
                set_handler(sig, on_term)
            signal.signal(signal.SIGINT, originals.get(signal.SIGINT) or signal.default_int_handler)
            if held:  # arrived between the check above and here
                raise KeyboardInterrupt
        if silence is not None:
            note(f"aetherops: silence {silence['id']} ({format_matchers(silence['matchers'])}) until "
                 f"{silence['endsAt']}, extended while the command runs")
            keeper = Keeper(am, silence, seconds, warn, interval)
        note(f"aetherops: running: {shlex.join(command)}")
        own_group = _own_group()
        try:
            proc = subprocess.Popen(list(command), **_group_kwargs(own_group))
        except FileNotFoundError:
            warn(f"command not found: {command[0]}")
            report.exit_code = 127
            return report
        except PermissionError:
            warn(f"command not executable: {command[0]}")
            report.exit_code = 126
            return report
        except OSError as exc:
            warn(f"cannot start {command[0]}: {exc.strerror or exc}")
            report.exit_code = 126
            return report
        report.started = True
        try:
            if keeper is not None:
                keeper.start()
            code = proc.wait()
        except KeyboardInterrupt:
            report.interrupted = True
            code = _wait_interrupted(proc, signal.SIGINT, own_group)
        except _Signalled as sig:
            report.interrupted = True
            code = _wait_interrupted(proc, sig.signum, own_group)
        # the command's own exit status, also after Ctrl-C (a command killed by signal N: 128 + N)
        report.exit_code = 128 + abs(code) if code < 0 else code
    finally:
        # The cleanup must not be cut short by another Ctrl-C or SIGTERM: it is bounded by the client's timeouts.
        if main_thread:
            for sig in [signal.SIGINT, *term_signals]:
                set_handler(sig, signal.SIG_IGN)
        try:
            if keeper is not None:
                keeper.stop()
                report.silence = keeper.current
                report.extensions = keeper.extensions
                report.previous_ids = keeper.previous_ids
            if report.silence is not None and report.silence.get("id"):
                _expire_at_end(am, report, warn)
        finally:
            restore()
    return report


def _expire_at_end(am: AlertmanagerClient, report: RunReport, warn: Callable[[str], None]) -> None:
    silence = report.silence or {}
    try:
        engine.expire(am, {**silence, "status": {"state": "active"}})
        report.expired = True
        silence["endsAt"] = engine.fmt_time(engine.now())
    except ServiceError as exc:
        report.expire_error = exc.message
        warn(f"could not expire silence {silence.get('id')}: {exc.message}; it ends by itself at {silence.get('endsAt')}")
