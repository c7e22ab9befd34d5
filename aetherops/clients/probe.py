"""One-off checks of a URL that is not a profile's service: a readiness endpoint, a runbook link.

They share the User-Agent of every client; there is no profile section behind them, so no credentials and
no retries (a readiness poll is its own retry loop, and a link either answers or it does not).
"""

from __future__ import annotations

from aetherops.clients.connect import user_agent
from aetherops.clients.http import httpx  # httpx, imported without its command-line client
from aetherops.errors import ServiceError


def is_ready(url: str, *, timeout: float = 1.0) -> bool:
    """True when ``GET url`` answers 200; False when it answers anything else or cannot be reached."""
    try:
        with httpx.Client(timeout=timeout, headers={"User-Agent": user_agent()}) as client:
            return client.get(url).status_code == 200
    except httpx.HTTPError:
        return False


def link_status(url: str, *, timeout: float = 5.0) -> int:
    """The final status of ``url`` after redirects: a HEAD, then a GET when the server does not do HEAD.

    Raises :class:`ServiceError` (naming the URL and the kind of failure) when it cannot be reached."""
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True, headers={"User-Agent": user_agent()}) as client:
            response = client.head(url)
            if response.status_code in (405, 501):
                response = client.get(url)
            return response.status_code
    except httpx.HTTPError as exc:
        raise ServiceError(f"{url}: cannot connect ({type(exc).__name__})", url=url) from None


__all__ = ["is_ready", "link_status"]
