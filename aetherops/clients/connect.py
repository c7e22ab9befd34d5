"""How to reach a service: the TLS context and the request headers, built once from a profile section.

Every client (httpx, prometheus-api-client's requests session, grafana-client, ``http.client``) takes its
TLS settings and headers from here, so ``tls.verify``, ``tls.ca_file``, ``tls.cert_file``/``key_file``,
``headers`` and ``auth`` mean the same thing for every service.
"""

from __future__ import annotations

import os
import ssl
from typing import Any


def user_agent() -> str:
    """``aetherops/<version>``, sent by every client."""
    from aetherops import __version__

    return f"aetherops/{__version__}"


def request_headers(config: Any, **extra: str) -> dict[str, str]:
    """User-Agent, the profile's ``headers``, then the credentials (``Authorization``), then ``extra``."""
    return {"User-Agent": user_agent(), **config.headers, **config.auth_headers(), **extra}


def is_https(config: Any) -> bool:
    return str(config.url).lower().startswith("https:")


def ssl_context(config: Any) -> ssl.SSLContext | None:
    """The TLS context for the service, or None for a plain ``http://`` URL (no CA bundle to load).

    ``verify: false`` gives a context that checks nothing; ``ca_file`` (``config.verify`` is then its path)
    is the only trust anchor; otherwise ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when set, else certifi's bundle (what
    httpx and requests trust by default, on every OS). ``cert_file``/``key_file`` are the client certificate.
    """
    if not is_https(config):
        return None
    verify = config.verify
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str):
        context = ssl.create_default_context(cafile=verify)
    elif os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        context = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE") or None,
                                             capath=os.environ.get("SSL_CERT_DIR") or None)
    else:
        import certifi

        context = ssl.create_default_context(cafile=certifi.where())
    if config.cert:
        cert, key = config.cert if isinstance(config.cert, tuple) else (config.cert, None)
        context.load_cert_chain(cert, key)
    return context


def is_tls_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a TLS failure: a certificate problem does not fix itself, never retry it."""
    seen: BaseException | None = exc
    for _ in range(10):  # a chain of causes, not a cycle
        if seen is None:
            break
        if isinstance(seen, ssl.SSLError) or "SSLError" in type(seen).__name__:
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


__all__ = ["is_https", "is_tls_error", "request_headers", "ssl_context", "user_agent"]
