"""One process-wide set of secret values, and the function that hides them.

Profiles register every secret they resolve (tokens, passwords read from env
vars or files). Everything the core prints, logs or raises goes through
``redact`` so a secret never reaches a terminal, a log or a file.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
_SECRETS: set[str] = set()
_SECRET_KEY = re.compile(
    r"(^|[_-])(token|password|passwd|secret|api[_-]?key|apikey|credentials?|webhook[_-]?url|auth[_-]key|service[_-]key"
    r"|routing[_-]key|bot[_-]token|authorization|cookie)$",
    re.IGNORECASE,
)
_SECRET_HEADER = re.compile(r"auth|key|token|secret|cookie|password|credential|signature", re.IGNORECASE)


def register_secret(value: str | None) -> None:
    """Remember a secret value so that ``redact`` hides it from now on."""
    if value and len(value) >= 3:
        _SECRETS.add(value)


def known_secrets() -> frozenset[str]:
    """Every secret registered so far (for tests that scan written files)."""
    return frozenset(_SECRETS)


def is_secret_key(key: str) -> bool:
    """True for keys that hold a secret value (``token``, ``basic_auth_password``...)."""
    return bool(_SECRET_KEY.search(str(key)))


def is_secret_header(name: str) -> bool:
    """True for HTTP headers that carry credentials (Authorization, X-Api-Key, Cookie...)."""
    return bool(_SECRET_HEADER.search(str(name)))


def redact(text: str) -> str:
    """Replace every registered secret in ``text`` with ``***``."""
    if not _SECRETS or not text:
        return text
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_data(data: Any) -> Any:
    """A copy of ``data`` with secret-looking keys masked and secret values hidden."""
    if isinstance(data, dict):
        return {
            k: (MASK if is_secret_key(k) and v not in (None, "", {}, []) and not isinstance(v, (dict, list)) else redact_data(v))
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [redact_data(v) for v in data]
    if isinstance(data, str):
        return redact(data)
    return data
