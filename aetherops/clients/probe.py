"""One-off checks of URLs that are no profile's service: a readiness endpoint, a runbook link, a test server.

Quick start::

    from aetherops.clients.probe import Prober, is_ready, link_status

    is_ready("http://127.0.0.1:9090/-/ready")              # True / False, never raises
    link_status("https://runbooks.example.com/x")           # final status after redirects, HEAD then GET
    with Prober(timeout=1.0, trust_env=False) as prober:    # many probes over one connection pool
        prober.status("http://127.0.0.1:9093/-/ready")      # int, or None when nothing answers

They send the User-Agent every client sends. There is no profile section behind them, so no credentials and no
retries (a readiness poll is its own retry loop; a link answers or it does not).
"""

from __future__ import annotations

from typing import Any

from aetherops.clients.connect import user_agent
from aetherops.clients.http import httpx  # httpx, imported without its command-line client
from aetherops.errors import ServiceError


class Prober:
    """A short-lived HTTP client for probing URLs. ``trust_env=False`` keeps ``HTTP(S)_PROXY`` away (loopback)."""

    def __init__(self, *, timeout: float = 5.0, follow_redirects: bool = False, trust_env: bool = True):
        self.client = httpx.Client(timeout=timeout, follow_redirects=follow_redirects, trust_env=trust_env,
                                   headers={"User-Agent": user_agent()})

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request; any answer is returned, whatever its status. ServiceError when nothing answers."""
        try:
            return self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceError(f"{url}: cannot connect ({type(exc).__name__})", url=url) from None

    def status(self, url: str, method: str = "GET") -> int | None:
        """The status ``url`` answers with, or None when it cannot be reached."""
        try:
            return self.request(method, url).status_code
        except ServiceError:
            return None

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Prober:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def is_ready(url: str, *, timeout: float = 1.0) -> bool:
    """True when ``GET url`` answers 200; False when it answers anything else or cannot be reached."""
    with Prober(timeout=timeout) as prober:
        return prober.status(url) == 200


def link_status(url: str, *, timeout: float = 5.0) -> int:
    """The final status of ``url`` after redirects: a HEAD, then a GET when the server does not do HEAD.

    Raises :class:`ServiceError` (naming the URL and the kind of failure) when it cannot be reached."""
    with Prober(timeout=timeout, follow_redirects=True) as prober:
        status = prober.request("HEAD", url).status_code
        if status in (405, 501):
            status = prober.request("GET", url).status_code
        return status


__all__ = ["Prober", "is_ready", "link_status"]
