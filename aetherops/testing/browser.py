"""Open a local HTML page in headless Chromium: screenshot, console errors, DOM facts.

For tests of report pages a person looks at::

    from aetherops.testing.browser import require_chromium, open_page

    require_chromium()                       # skip (or fail under CI=true) without chromium
    page = open_page(tmp_path / "report.html", screenshot=tmp_path / "report.png",
                     evaluate={"charts": "document.querySelectorAll('svg').length"})
    assert page.console_errors == [] and page.values["charts"] >= 2

Chromium (Debian package ``chromium``; ``AETHEROPS_CHROMIUM_BIN`` overrides)
runs with its own throw-away profile and without any of the background
traffic a browser makes by itself (updates, sync, QUIC, first-run), so a
page that fetches something from the network shows up in
:attr:`PageResult.requests`. On Linux and macOS the page is driven through
the DevTools protocol over a pipe (``--remote-debugging-pipe``): console
messages come with their level, uncaught exceptions and failed loads are
errors. On Windows (no fd passing) it falls back to ``--screenshot`` and
the console lines of ``--enable-logging=stderr``, where ``Uncaught`` lines
count as errors and ``evaluate`` is not available.

Standard library only, like :mod:`aetherops.testing.servers`.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from aetherops.testing.servers import find_binary, require_binary

__all__ = ["PageResult", "BrowserError", "find_chromium", "require_chromium", "open_page", "keep_artifact"]

#: Flags for a quiet, isolated, headless run (the user data dir is added per run).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # root in containers; the page is our own local file
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
)

_CONSOLE_LINE = re.compile(r':CONSOLE(?::\d+)?\]?\S*\s+"(?P<message>.*)", source: (?P<source>\S*) \((?P<line>\d+)\)')


class BrowserError(Exception):
    """Chromium did not start, crashed or did not answer in time."""


@dataclass
class PageResult:
    """What happened when the page was opened."""

    url: str
    #: console.error/assert messages, uncaught exceptions and failed loads, one string each
    console_errors: list[str] = field(default_factory=list)
    #: every console message as (level, text)
    console: list[tuple[str, str]] = field(default_factory=list)
    #: URLs the page asked for besides itself (data: URLs excluded)
    requests: list[str] = field(default_factory=list)
    #: name -> result of each JavaScript expression in ``evaluate``
    values: dict[str, Any] = field(default_factory=dict)
    screenshot: Path | None = None


def find_chromium() -> Path:
    """Where Chromium is (``AETHEROPS_CHROMIUM_BIN``, PATH, /usr/bin); raises ``MissingBinary``."""
    return find_binary("chromium")


def require_chromium() -> Path:
    """:func:`find_chromium` for tests: a missing Chromium skips the test, or fails it when ``CI=true``."""
    return require_binary("chromium")


def keep_artifact(path: Path | str) -> Path | None:
    """Copy ``path`` into ``$AETHEROPS_ARTIFACTS`` (created when missing), if that variable is set; returns the copy."""
    target_dir = os.environ.get("AETHEROPS_ARTIFACTS", "").strip()
    if not target_dir:
        return None
    target = Path(target_dir)
    target.mkdir(parents=True, exist_ok=True)
    copy = target / Path(path).name
    shutil.copyfile(path, copy)
    return copy


def open_page(path: Path | str, *, screenshot: Path | str | None = None, window_size: tuple[int, int] = (1280, 1000),
              evaluate: Mapping[str, str] | None = None, settle: float = 0.3, timeout: float = 90) -> PageResult:
    """Load the local file ``path`` in headless Chromium and report what it did.

    ``screenshot``: write a PNG of the page there. ``evaluate``: name ->
    JavaScript expression, evaluated after the load event and ``settle``
    seconds (results by value in :attr:`PageResult.values`). ``timeout``
    bounds the whole run. Raises :class:`BrowserError` when Chromium fails.
    """
    binary = find_chromium()
    url = Path(path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="aetherops-chromium-") as profile:
        args = [str(binary), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={window_size[0]},{window_size[1]}"]
        if sys.platform == "win32":
            return _open_with_logging(args, url, screenshot, timeout)
        return _DevTools(args, timeout).open(url, screenshot, evaluate or {}, settle)


# --------------------------------------------------------------------------- DevTools over a pipe


class _DevTools:
    """The DevTools protocol over ``--remote-debugging-pipe`` (fd 3: commands in, fd 4: messages out, NUL-separated)."""

    def __init__(self, args: list[str], timeout: float):
        import fcntl

        self.deadline = time.monotonic() + timeout
        self.timeout = timeout
        commands_r, self._to_child = os.pipe()
        self._from_child, messages_w = os.pipe()
        # the child must find them at fds 3 and 4: move the child's ends above both first, so dup2 cannot clobber one
        high_r = fcntl.fcntl(commands_r, fcntl.F_DUPFD_CLOEXEC, 10)
        high_w = fcntl.fcntl(messages_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(commands_r)
        os.close(messages_w)
        self.log = tempfile.TemporaryFile()
        devnull = os.open(os.devnull, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        argv = [*args, "--remote-debugging-pipe", "about:blank"]
        try:
            self.pid = os.posix_spawn(argv[0], argv, dict(os.environ), file_actions=[
                (os.POSIX_SPAWN_DUP2, devnull, 0),
                (os.POSIX_SPAWN_DUP2, self.log.fileno(), 1),
                (os.POSIX_SPAWN_DUP2, self.log.fileno(), 2),
                (os.POSIX_SPAWN_DUP2, high_r, 3),
                (os.POSIX_SPAWN_DUP2, high_w, 4),
            ])
        except OSError as exc:
            raise BrowserError(f"cannot start {argv[0]}: {exc.strerror}") from None
        finally:
            for fd in (high_r, high_w, devnull):
                os.close(fd)
        self.returncode: int | None = None
        self._next_id = 0
        self._buffer = b""
        self.events: list[dict] = []

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    # -- wire
    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode("utf-8") + b"\0")
        return self._next_id

    def _read_message(self) -> dict:
        import select

        while b"\0" not in self._buffer:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"chromium did not answer within {self.timeout:g}s{self._log_tail()}")
            ready, _, _ = select.select([self._from_child], [], [], min(left, 0.5))
            if not ready:
                if self.poll() is not None:
                    raise BrowserError(f"chromium exited with code {self.returncode}{self._log_tail()}")
                continue
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise BrowserError(f"chromium closed the DevTools pipe{self._log_tail()}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw.decode("utf-8"))

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        wanted = self._send(method, params, session)
        while True:
            message = self._read_message()
            if message.get("id") == wanted:
                if "error" in message:
                    raise BrowserError(f"chromium {method}: {message['error'].get('message')}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_event(self, method: str) -> dict:
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        while True:
            message = self._read_message()
            if message.get("method") == method:
                return message
            if "method" in message:
                self.events.append(message)

    def _log_tail(self) -> str:
        try:
            self.log.seek(0)
            lines = [line for line in self.log.read().decode("utf-8", "replace").splitlines() if "dbus" not in line]
        except (OSError, ValueError):
            return ""
        return ("; last log lines: " + " | ".join(lines[-5:])) if lines else ""

    # -- the visit
    def open(self, url: str, screenshot, evaluate: Mapping[str, str], settle: float) -> PageResult:
        try:
            target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.call(f"{domain}.enable", session=session)
            self.call("Page.navigate", {"url": url}, session=session)
            self.wait_event("Page.loadEventFired")
            time.sleep(settle)
            result = PageResult(url=url)
            for name, expression in evaluate.items():
                answer = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)
                if "exceptionDetails" in answer:
                    result.console_errors.append(f"evaluate {name}: {answer['exceptionDetails'].get('text')}")
                result.values[name] = answer.get("result", {}).get("value")
            if screenshot is not None:
                metrics = self.call("Page.getLayoutMetrics", session=session)
                size = metrics.get("cssContentSize") or metrics.get("contentSize") or {}
                params: dict[str, Any] = {"format": "png", "captureBeyondViewport": True}
                if size.get("width") and size.get("height"):
                    params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 8000), "scale": 1}
                data = self.call("Page.captureScreenshot", params, session=session)["data"]
                screenshot = Path(screenshot)
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot.write_bytes(base64.b64decode(data))
                result.screenshot = screenshot
            self._collect(result, url)
            try:
                self.call("Browser.close")
            except BrowserError:
                pass
            return result
        finally:
            self._close()

    def _collect(self, result: PageResult, url: str) -> None:
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled":
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                level = params.get("type", "log")
                result.console.append((level, text))
                if level in ("error", "assert"):
                    result.console_errors.append(text)
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                text = details.get("exception", {}).get("description") or details.get("text", "exception")
                result.console_errors.append(f"uncaught: {text.splitlines()[0]}")
            elif method == "Log.entryAdded":
                entry = params.get("entry", {})
                result.console.append((entry.get("level", "info"), entry.get("text", "")))
                if entry.get("level") == "error":
                    result.console_errors.append(f"{entry.get('source', 'log')}: {entry.get('text', '')} {entry.get('url', '')}".strip())
            elif method == "Network.requestWillBeSent":
                requested = params.get("request", {}).get("url", "")
                if requested and requested != url and not requested.startswith("data:"):
                    result.requests.append(requested)

    def _close(self) -> None:
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        deadline = time.monotonic() + 10
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.poll() is None:
            import signal

            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.returncode = -9
        self.log.close()


# --------------------------------------------------------------------------- Windows fallback


def _open_with_logging(args: list[str], url: str, screenshot, timeout: float) -> PageResult:
    out = Path(screenshot) if screenshot is not None else Path(tempfile.mkdtemp()) / "page.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run([*args, "--enable-logging=stderr", "--v=0", f"--screenshot={out}", url], capture_output=True,
                              text=True, encoding="utf-8", errors="replace", timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise BrowserError(f"chromium did not finish within {timeout:g}s") from None
    result = PageResult(url=url, screenshot=out if screenshot is not None and out.exists() else None)
    for line in done.stderr.splitlines():
        match = _CONSOLE_LINE.search(line)
        if match:
            text = match.group("message")
            result.console.append(("log", text))
            if text.startswith("Uncaught") or "error" in text.lower():
                result.console_errors.append(text)
    if done.returncode != 0:
        raise BrowserError(f"chromium exited with code {done.returncode}")
    return result
