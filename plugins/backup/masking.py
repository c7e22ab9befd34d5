"""Masking the profile's secrets in what a backup writes, without ever corrupting it.

The rules (docs/backup.md, "Secrets in copied files"):

- In a **known secret field** (``password``, ``*_password``, ``bearer_token``, ``credentials``,
  ``api_key``, ``*_token``, ``authorization``..., and ``url`` / ``api_url`` / ``webhook_url`` under
  Alertmanager ``receivers``), a value that holds a secret of the profile is replaced **whole** by
  ``"***"`` (quoted, so the file still parses as YAML and JSON).
- Anywhere else, only a **strong** secret (at least 8 characters, not a common word, a number or a
  duration) is masked, and again the whole value that holds it, never a substring of it; in a comment
  or a file that is not YAML/JSON the secret itself is replaced.
- A short or common secret (``prometheus``, ``15s``) is never masked outside secret fields: replacing
  every ``prometheus`` in a config would break it. The copy keeps it and a warning says so.
- A masked file must still parse; when it would not, :class:`MaskingError` fails the backup naming
  the file (nothing half-masked is ever written).

YAML is read as a node graph (``yaml.compose``) with positions and values are replaced in the
original text, so comments, order and formatting are kept.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

MASK = "***"
QUOTED_MASK = '"***"'

_SECRET_FIELD = re.compile(
    r"(^|[_-])(token|password|passwd|secret|api[_-]?key|apikey|credentials?|webhook[_-]?url|auth[_-]key|service[_-]key"
    r"|routing[_-]key|bot[_-]token|authorization|cookie|bearer[_-]token|client[_-]secret|auth[_-]secret|auth[_-]identity"
    r"|api[_-]secret|secret[_-]key|access[_-]key|private[_-]key|slack_api_url|webex_api_url_secret)$",
    re.IGNORECASE,
)
# In Alertmanager receivers every URL may carry a token (Slack, webhook, Teams...).
_RECEIVER_URL = re.compile(r"^(url|api_url|webhook_url)$", re.IGNORECASE)
_NUMBER_OR_DURATION = re.compile(r"^[+-]?\d+(\.\d+)?((ms|s|m|h|d|w|y)(\d+(ms|s|m|h|d|w|y))*)?$", re.IGNORECASE)
COMMON = frozenset({
    "prometheus", "alertmanager", "grafana", "blackbox", "localhost", "password", "passwords", "secret", "secrets",
    "changeme", "default", "monitoring", "example", "examples", "admin", "administrator", "username", "kubernetes",
    "node_exporter", "node-exporter", "pushgateway", "metrics", "scrape_configs", "static_configs", "job_name",
    "true", "false", "null", "none", "enabled", "disabled", "http", "https", "production", "staging",
})


class MaskingError(ValueError):
    """The secret cannot be masked without breaking the file."""


def is_strong(secret: str) -> bool:
    """Long and unusual enough that any occurrence of it is the secret (safe to mask anywhere)."""
    if len(secret) < 8 or secret.lower() in COMMON or _NUMBER_OR_DURATION.match(secret):
        return False
    classes = sum(bool(re.search(p, secret)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]"))
    return classes >= 2 or len(secret) >= 16


def is_secret_field(key: Any, path: tuple[str, ...] = ()) -> bool:
    """Whether the value of ``key`` (found under ``path``) is a secret in a Prometheus/Alertmanager/Grafana config."""
    key = str(key)
    if _SECRET_FIELD.search(key):
        return True
    return "receivers" in path and bool(_RECEIVER_URL.match(key))


def _holds(value: str, secrets: Iterable[str]) -> bool:
    return any(s and s in value for s in secrets)


# ---------------------------------------------------------------------- structured data (write_json)
def mask_data(data: Any, secrets: Iterable[str]) -> tuple[Any, int]:
    """A copy of JSON-like ``data`` with secret values replaced whole by ``***``; and how many."""
    secrets = [s for s in secrets if s]
    strong = [s for s in secrets if is_strong(s)]
    count = 0

    def walk(value: Any, key: str | None, path: tuple[str, ...], in_secret: bool) -> Any:
        nonlocal count
        if isinstance(value, dict):
            return {k: walk(v, str(k), (*path, str(k)), in_secret or is_secret_field(k, path)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key, path, in_secret) for v in value]
        if isinstance(value, str) and (_holds(value, secrets) if in_secret else _holds(value, strong)):
            count += 1
            return MASK
        return value

    return walk(data, None, (), False), count


# ---------------------------------------------------------------------- text (YAML, JSON, anything)
def mask_text(text: str, secrets: Iterable[str]) -> tuple[str, int, list[str]]:
    """``text`` with the secrets masked by the rules above; (masked text, values masked, warnings)."""
    secrets = sorted({s for s in secrets if s and s in text}, key=len, reverse=True)
    if not secrets:
        return text, 0, []
    strong = [s for s in secrets if is_strong(s)]
    weak = [s for s in secrets if s not in strong]
    documents = _compose(text)
    notes: list[str] = []
    if documents is None:  # not YAML (nor JSON): plain text, strong secrets only
        masked = text
        for secret in strong:
            masked = masked.replace(secret, MASK)
        count = sum(text.count(s) for s in strong)
    else:
        spans = _secret_spans(documents, secrets, strong)
        masked = text
        for start, end in sorted(spans, reverse=True):
            masked = masked[:start] + _replacement(masked[start:end]) + masked[end:]
        count = len(spans)
        leftover = [s for s in strong if s in masked]
        if leftover:  # in a comment or a key: replace the secret itself, then make sure it still parses
            for secret in leftover:
                count += masked.count(secret)
                masked = masked.replace(secret, MASK)
            if _compose(masked) is None:
                raise MaskingError("a secret of the profile is in a place where masking it would break the file")
        if _compose(masked) is None:
            raise MaskingError("masking a secret of the profile would break the file")
    if any(s in masked for s in weak):
        notes.append("a secret of the profile equals a short or common value (a name, a number, a duration); "
                     "it is not masked outside secret fields, so the copy still holds it")
    return masked, count, notes


def _compose(text: str) -> list | None:
    import yaml

    try:
        return list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except (yaml.YAMLError, ValueError, RecursionError):
        return None


def _secret_spans(documents: list, secrets: list[str], strong: list[str]) -> set[tuple[int, int]]:
    import yaml

    spans: set[tuple[int, int]] = set()
    seen: set[int] = set()

    def walk(node: Any, path: tuple[str, ...], in_secret: bool) -> None:
        if node is None or id(node) in seen:  # aliases share nodes: visit each once
            return
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else ""
                walk(value_node, (*path, str(key)), in_secret or is_secret_field(key, path))
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                walk(item, path, in_secret)
        elif isinstance(node, yaml.ScalarNode) and isinstance(node.value, str):
            if _holds(node.value, secrets) if in_secret else _holds(node.value, strong):
                spans.add((node.start_mark.index, node.end_mark.index))

    for document in documents:
        walk(document, (), False)
    return spans


_PROPERTIES = re.compile(r"^((?:[&!][^\s]*\s+)*)")


def _replacement(span: str) -> str:
    """``"***"`` for the scalar ``span``, keeping its anchor/tag and the line breaks a block scalar ends with."""
    prefix = _PROPERTIES.match(span).group(1)
    body = span[len(prefix):]
    trailing = body[len(body.rstrip()):]
    return prefix + QUOTED_MASK + ("\n" if "\n" in trailing else "")
