"""Baseline files: adopt lint on an existing repository without fixing everything first.

``aetherops lint --write-baseline lint-baseline.json`` records the fingerprint of
every current finding (check, file, rule name and message; not the line, so
edits elsewhere in the file do not invalidate it) with how many times it occurs.
``--baseline FILE`` then reports only findings that are not in it, and the
occurrences beyond the recorded count (a new, identical finding is not hidden).
Version 1 files (no counts) still hide every occurrence.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from aetherops.errors import ConfigError
from aetherops.files import write_atomically
from aetherops.yamlsafe import InputError, load_json

FORMAT = "aetherops-lint-baseline"


def read(path: str | os.PathLike) -> dict[str, int | None]:
    """fingerprint -> occurrences to hide (None: all of them, for version 1 baselines)."""
    p = Path(path)
    try:
        data = load_json(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read baseline: {exc.strerror or exc}", path=p) from None
    except InputError as exc:
        raise ConfigError(f"baseline is not usable JSON: {exc.message}", path=p, line=exc.line) from None
    except ValueError as exc:  # not UTF-8
        raise ConfigError(f"baseline is not JSON: {exc}", path=p) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("findings"), list):
        raise ConfigError(f"not an aetherops lint baseline (expected {{'format': '{FORMAT}', 'findings': [...]}})", path=p)
    out: dict[str, int | None] = {}
    for f in data["findings"]:
        if isinstance(f, dict) and f.get("fingerprint"):
            count = f.get("count")
            out[str(f["fingerprint"])] = count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else None
    return out


def write(path: str | os.PathLike, findings: list) -> int:
    """Write the baseline atomically; returns the number of findings recorded."""
    p = Path(path)
    entries = sorted(({"fingerprint": f.fingerprint(), "check": f.check, "file": f.file, "name": f.name, "message": f.message}
                      for f in findings), key=lambda e: (e["file"], e["check"], e["name"] or "", e["message"]))
    unique: dict[str, dict] = {}
    for e in entries:
        if e["fingerprint"] in unique:
            unique[e["fingerprint"]]["count"] += 1
        else:
            e["count"] = 1
            unique[e["fingerprint"]] = e
    body = json.dumps({"format": FORMAT, "version": 2, "findings": list(unique.values())}, indent=2,
                      ensure_ascii=False) + "\n"
    write_atomically(p, body, make_parents=True)
    return len(findings)
