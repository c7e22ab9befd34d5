"""Baseline files: adopt lint on an existing repository without fixing everything first.

``aetherops lint --write-baseline lint-baseline.json`` records the fingerprint of
every current finding (check, file, rule name and message; not the line, so
edits elsewhere in the file do not invalidate it). ``--baseline FILE`` then
reports only findings that are not in it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from aetherops.errors import ConfigError

FORMAT = "aetherops-lint-baseline"


def read(path: str | os.PathLike) -> set[str]:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read baseline: {exc.strerror or exc}", path=p) from None
    except ValueError as exc:
        raise ConfigError(f"baseline is not JSON: {exc}", path=p) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("findings"), list):
        raise ConfigError(f"not an aetherops lint baseline (expected {{'format': '{FORMAT}', 'findings': [...]}})", path=p)
    return {str(f.get("fingerprint")) for f in data["findings"] if isinstance(f, dict) and f.get("fingerprint")}


def write(path: str | os.PathLike, findings: list) -> int:
    """Write the baseline atomically; returns the number of findings recorded."""
    p = Path(path)
    entries = sorted(({"fingerprint": f.fingerprint(), "check": f.check, "file": f.file, "name": f.name, "message": f.message}
                      for f in findings), key=lambda e: (e["file"], e["check"], e["name"] or "", e["message"]))
    unique = list({e["fingerprint"]: e for e in entries}.values())
    body = json.dumps({"format": FORMAT, "version": 1, "findings": unique}, indent=2, ensure_ascii=False) + "\n"
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".baseline-", dir=str(p.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(body)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(unique)
