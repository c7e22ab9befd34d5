"""The one retry policy every client uses, whatever its HTTP library.

Quick start::

    from aetherops.clients.retry import RetryPolicy

    policy = RetryPolicy.for_service(config)          # ``retries: 3`` = 1 attempt + 3 retries
    response = policy.run(lambda: client.get(url),    # any callable: httpx, requests, http.client...
                          is_transient=lambda outcome: ...,        # a result or an exception
                          retry_after=lambda outcome: outcome.headers.get("Retry-After"))

or, for a requests/niquests session (prometheus-api-client, grafana-client), mounted as its adapter::

    from requests.adapters import HTTPAdapter
    session.mount(url, session_adapter(policy, HTTPAdapter, transient_errors=(requests.ConnectionError, requests.Timeout)))

or, for a hand-written loop (``http.client``)::

    attempts = policy.attempts("GET")
    for attempt in range(1, attempts + 1):
        ...
        if transient and attempt < attempts:
            policy.wait(attempt, retry_after=response.getheader("Retry-After"))

The rules, in one place:

- ``retries`` are *retries*: ``retries: 3`` means one attempt and up to three more; ``0`` means no retry.
- Only transient failures are retried: connect errors, timeouts, dropped connections (the caller's
  ``is_transient`` says which exceptions those are; a TLS certificate error never is) and the statuses in
  :data:`TRANSIENT_STATUS` (429, 502, 503, 504). Any other 4xx/5xx is final.
- Only requests that are safe to repeat: GET, HEAD, OPTIONS, PUT, DELETE. POST/PATCH are sent once unless the
  caller opts in with ``safe=True`` (a read-only POST such as a PromQL query, an idempotent create).
- Between attempts: exponential backoff with full jitter (a random wait between 0 and
  ``min(max_backoff, backoff * 2**(retry-1))``), so clients that failed together do not retry together. A
  ``Retry-After`` header (seconds or an HTTP date) replaces the backoff, up to ``max_retry_after``.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, TypeVar

T = TypeVar("T")

#: Statuses worth retrying: rate limited, bad gateway, unavailable, gateway timeout.
TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
#: Methods that may be repeated without asking (RFC 9110 idempotent methods).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a transient failure. Immutable and thread-safe: share one per service."""

    #: Retries after the first attempt (``0``: try once).
    retries: int = 3
    #: Upper bound of the first retry's random wait, in seconds; it doubles for each further retry.
    backoff: float = 0.2
    #: No backoff wait is longer than this.
    max_backoff: float = 5.0
    #: A server's ``Retry-After`` is honoured up to this many seconds.
    max_retry_after: float = 30.0
    transient_status: frozenset[int] = TRANSIENT_STATUS
    #: How to wait (tests pass a recorder); None: ``time.sleep``.
    sleep: Callable[[float], Any] | None = field(default=None, repr=False, compare=False)
    #: A number in [0, 1) for the jitter; None: ``random.random``.
    random: Callable[[], float] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def for_service(cls, config: Any, **overrides: Any) -> RetryPolicy:
        """The policy of a profile's service section (``ServiceConfig.retries``)."""
        return cls(retries=max(0, int(getattr(config, "retries", cls.retries))), **overrides)

    def but(self, **changes: Any) -> RetryPolicy:
        """A copy with some fields changed (``policy.but(retries=0)``)."""
        return replace(self, **changes)

    # -- decisions
    def may_repeat(self, method: str = "GET", *, safe: bool | None = None) -> bool:
        """Whether a request may be sent again: idempotent methods yes, others only when the caller says ``safe``."""
        return bool(safe) if safe is not None else method.upper() in IDEMPOTENT_METHODS

    def attempts(self, method: str = "GET", *, safe: bool | None = None) -> int:
        """How many times a request with ``method`` may be sent in all (1 + retries, or 1)."""
        return 1 + max(0, self.retries) if self.may_repeat(method, safe=safe) else 1

    def is_transient_status(self, status: int | None) -> bool:
        return status in self.transient_status

    # -- waits
    def backoff_delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1, 2, ...): full jitter in [0, ceiling]."""
        ceiling = min(self.max_backoff, self.backoff * 2 ** max(0, retry - 1))
        draw = random.random if self.random is None else self.random
        return draw() * ceiling

    def retry_after(self, value: Any) -> float | None:
        """A ``Retry-After`` header value in seconds (a number or an HTTP date), capped; None when absent or unreadable."""
        if value is None:
            return None
        text = str(value).strip()
        if not text:
            return None
        try:
            seconds = float(text)
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                when = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
            if when is None:
                return None
            seconds = when.timestamp() - time.time()
        if seconds != seconds:  # NaN
            return None
        return min(max(0.0, seconds), self.max_retry_after)

    def delay(self, retry: int, retry_after: Any = None) -> float:
        """Seconds to wait before retry number ``retry``: the server's ``Retry-After`` if it sent one, else the backoff."""
        wait = self.retry_after(retry_after)
        return wait if wait is not None else self.backoff_delay(retry)

    def wait(self, retry: int, retry_after: Any = None) -> float:
        """Sleep before retry number ``retry``; returns the seconds slept."""
        seconds = self.delay(retry, retry_after)
        if seconds > 0:
            (time.sleep if self.sleep is None else self.sleep)(seconds)
        return seconds

    # -- the loop
    def run(self, call: Callable[[], T], *, is_transient: Callable[[Any], bool], retry_after: Callable[[Any], Any] | None = None,
            method: str = "GET", safe: bool | None = None) -> T:
        """Call ``call()`` until it gives a final outcome, and return it (or raise its exception).

        ``is_transient(outcome)`` receives what ``call`` returned or the exception it raised and says whether
        another attempt may help; ``retry_after(outcome)`` may return the outcome's ``Retry-After`` header.
        When the attempts run out, the last outcome is returned (or raised): the caller turns it into its own
        error, and knows every attempt was used because the outcome is still transient. A returned outcome
        that is dropped for another attempt is closed when it has a ``close()`` (a pooled connection is freed).
        """
        attempts = self.attempts(method, safe=safe)
        attempt = 1
        while True:
            try:
                outcome: Any = call()
            except Exception as exc:  # noqa: BLE001 - classified by the caller
                if attempt >= attempts or not is_transient(exc):
                    raise
                self.wait(attempt)
            else:
                if attempt >= attempts or not is_transient(outcome):
                    return outcome
                header = retry_after(outcome) if retry_after is not None else None
                close = getattr(outcome, "close", None)
                if callable(close):
                    close()
                self.wait(attempt, header)
            attempt += 1


def session_adapter(policy: RetryPolicy, adapter_class: type, *, transient_errors: tuple[type[BaseException], ...],
                    safe_paths: tuple[str, ...] = (), **adapter_kwargs: Any):
    """An instance of ``adapter_class`` (requests' or niquests' ``HTTPAdapter``) that sends through ``policy``.

    Replaces urllib3's ``Retry`` (the adapter's own retries are turned off): transient statuses and
    ``transient_errors`` (minus TLS errors) are retried with the policy's backoff and ``Retry-After``;
    POSTs to a path ending with one of ``safe_paths`` (read-only endpoints) count as safe to repeat."""
    from aetherops.clients.connect import is_tls_error

    class PolicyAdapter(adapter_class):  # type: ignore[misc, valid-type]
        def send(self, request, *args: Any, **kwargs: Any):
            def transient(outcome: Any) -> bool:
                if isinstance(outcome, BaseException):
                    return isinstance(outcome, transient_errors) and not is_tls_error(outcome)
                return policy.is_transient_status(getattr(outcome, "status_code", None))

            path = (getattr(request, "path_url", "") or "").split("?", 1)[0]
            safe = True if safe_paths and path.endswith(safe_paths) else None
            return policy.run(lambda: adapter_class.send(self, request, *args, **kwargs), is_transient=transient,
                              retry_after=lambda r: r.headers.get("Retry-After"), method=request.method or "GET", safe=safe)

    PolicyAdapter.__name__ = PolicyAdapter.__qualname__ = f"Policy{adapter_class.__name__}"
    return PolicyAdapter(max_retries=0, **adapter_kwargs)


__all__ = ["IDEMPOTENT_METHODS", "TRANSIENT_STATUS", "RetryPolicy", "session_adapter"]
