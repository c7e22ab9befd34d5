"""What the stack looks like on disk and what the servers run: shared by ``validate`` and ``reload``.

Rule files on disk (the profile's ``prometheus.rule_files`` globs, else the ``rule_files`` of
``prometheus.config_file``) against the rule groups Prometheus has loaded (``/api/v1/rules``); the
Alertmanager config file against the ``alertmanager_config_hash`` the server exports (an MD5 of the exact
bytes it loaded, so the comparison is exact); and the reload metrics both servers export on ``/metrics``.
"""

from __future__ import annotations

import glob
import hashlib
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aetherops.errors import ServiceError


def lint_loaded(pm) -> bool:
    """Whether the lint plugin is loaded (its hook declared: another plugin's implementation alone does not count)."""
    caller = getattr(pm.hook, "aetherops_lint_checks", None)
    return caller is not None and getattr(caller, "spec", None) is not None


def resolve(value: str, base: Path | None = None) -> Path:
    """``value`` with ``~`` expanded; a relative path is relative to ``base`` (default: the current directory)."""
    path = Path(os.path.expanduser(str(value)))
    return path if path.is_absolute() else (base or Path.cwd()) / path


def expand_globs(patterns: list[str], base: Path | None = None) -> list[Path]:
    """The files the globs name (a pattern without wildcards is kept even when missing, so it can be reported)."""
    out: list[Path] = []
    for pattern in patterns:
        full = resolve(str(pattern), base)
        if glob.has_magic(str(full)):
            out.extend(Path(p) for p in sorted(glob.glob(str(full), recursive=True)) if Path(p).is_file())
        else:
            out.append(full)
    seen: set[Path] = set()
    return [p for p in out if not (p in seen or seen.add(p))]


def load_yaml_file(path: Path) -> Any:
    """Parse one YAML file (bounded, libyaml); ValueError with ``line N: message`` when it cannot be read or parsed."""
    from aetherops import yamlsafe

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError("no such file") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ValueError(f"cannot read: {exc.strerror}") from None
    except ValueError:  # a NUL byte in the name
        raise ValueError("not a usable file name") from None
    try:
        return yamlsafe.load(text)
    except yamlsafe.InputError as exc:
        raise ValueError(str(exc)) from None


def rule_files(ctx) -> list[Path]:
    """The rule files of the profile's Prometheus: ``prometheus.rule_files`` globs, else those of its config file."""
    section = ctx.section("prometheus")
    if section.rule_files:
        return expand_globs([str(p) for p in section.rule_files])
    if section.config_file:
        config_path = resolve(section.config_file)
        try:
            config = load_yaml_file(config_path)
        except ValueError:
            return []  # the file row reports it
        patterns = config.get("rule_files") if isinstance(config, dict) else None
        if isinstance(patterns, list):
            return expand_globs([str(p) for p in patterns if isinstance(p, str)], config_path.parent)
    return []


@dataclass
class DiskRules:
    """Rule groups read from files: group name -> rule names in order; files that could not be read."""

    groups: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)


def rule_names(rules: Any) -> list[str]:
    return [str(r.get("alert") or r.get("record") or "?") for r in (rules if isinstance(rules, list) else []) if isinstance(r, dict)]


def read_rule_groups(paths: list[Path]) -> DiskRules:
    out = DiskRules()
    for path in paths:
        try:
            data = load_yaml_file(path)
        except ValueError as exc:
            out.errors[str(path)] = str(exc)
            continue
        groups = data.get("groups") if isinstance(data, dict) else None
        if data is not None and not isinstance(groups, list):
            out.errors[str(path)] = "no 'groups:' list (not a Prometheus rule file)"
            continue
        for group in groups or []:
            if not isinstance(group, dict) or not isinstance(group.get("name"), str):
                out.errors[str(path)] = "a group without a name"
                continue
            if group["name"] in out.groups:
                out.duplicates.append(group["name"])
            out.groups[group["name"]] = rule_names(group.get("rules"))
    return out


def loaded_rule_groups(prometheus) -> dict[str, list[str]]:
    """Group name -> rule names of what Prometheus has loaded (ServiceError when it cannot say)."""
    return {str(g.get("name")): [str(r.get("name")) for r in g.get("rules") or []] for g in prometheus.rules()}


def compare_groups(disk: dict[str, list[str]], loaded: dict[str, list[str]]) -> list[str]:
    """Differences between the groups on disk and the loaded ones, one phrase each (empty: they match)."""
    problems = []
    for name in sorted(set(disk) - set(loaded)):
        problems.append(f"group '{name}' is on disk, not loaded")
    for name in sorted(set(loaded) - set(disk)):
        problems.append(f"group '{name}' is loaded, not on disk")
    for name in sorted(set(disk) & set(loaded)):
        want, have = disk[name], loaded[name]
        if want == have:
            continue
        if len(want) != len(have):
            problems.append(f"group '{name}': {len(want)} rule(s) on disk, {len(have)} loaded")
        else:
            changed = [f"{a}->{b}" for a, b in zip(have, want) if a != b]
            problems.append(f"group '{name}': rules differ ({', '.join(changed[:3])})")
    return problems


def scrape_metrics(client, names: tuple[str, ...]) -> dict[str, float]:
    """Values of unlabelled metrics ``names`` from the server's own ``/metrics`` (missing ones are left out)."""
    text = client.request("GET", "/metrics").text
    wanted = set(names)
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        name, _, rest = line.partition(" ")
        if name in wanted:
            try:
                out[name] = float(rest.split()[0])
            except (ValueError, IndexError):
                continue
    return out


def config_hash(data: bytes) -> float:
    """Alertmanager's ``alertmanager_config_hash`` of a config file's bytes: the first 48 bits of its MD5,
    little-endian, as a float (what Alertmanager computes from the file it loaded)."""
    return float(struct.unpack("<Q", hashlib.md5(data).digest()[:6] + b"\0\0")[0])


AM_METRICS = ("alertmanager_config_hash", "alertmanager_config_last_reload_successful",
              "alertmanager_config_last_reload_success_timestamp_seconds")
PROM_METRICS = ("prometheus_config_last_reload_successful", "prometheus_config_last_reload_success_timestamp_seconds")


def alertmanager_matches_file(client, path: Path) -> tuple[bool | None, str]:
    """Whether the Alertmanager runs ``path`` byte for byte: (True/False, detail), or (None, why it cannot say)."""
    try:
        data = path.read_bytes()
    except (OSError, ValueError) as exc:
        return None, f"cannot read {str(path)[:200]!r}: {getattr(exc, 'strerror', None) or exc}"
    try:
        metrics = scrape_metrics(client, AM_METRICS)
    except ServiceError as exc:
        return None, exc.format_message()
    running = metrics.get("alertmanager_config_hash")
    if running is None:
        return None, "the server exports no alertmanager_config_hash"
    if metrics.get("alertmanager_config_last_reload_successful") == 0:
        return False, "its last reload failed: it still runs an older config (see its log, or aetherops reload alertmanager)"
    if running != config_hash(data):
        return False, f"the running config is not {path.name} as on disk (changed since the last reload?){_receiver_diff(client, data)}"
    return True, f"runs {path.name} as on disk"


def _receivers(text: str | bytes) -> set[str] | None:
    from aetherops import yamlsafe

    try:
        data = yamlsafe.load(text.decode("utf-8", "replace") if isinstance(text, bytes) else text)
    except yamlsafe.InputError:
        return None
    if not isinstance(data, dict):
        return None
    raw = data.get("receivers")
    return {str(r.get("name")) for r in (raw if isinstance(raw, list) else []) if isinstance(r, dict)}


def _receiver_diff(client, data: bytes) -> str:
    """What differs in the receivers, to say more than "the hash differs" (empty when they are the same)."""
    try:
        running = _receivers(str(((client.get_json("/api/v2/status") or {}).get("config") or {}).get("original") or ""))
    except ServiceError:
        return ""
    on_disk = _receivers(data)
    if running is None or on_disk is None or running == on_disk:
        return ""
    parts = []
    if on_disk - running:
        parts.append(f"receivers only in the file: {', '.join(sorted(on_disk - running))}")
    if running - on_disk:
        parts.append(f"receivers only in the running config: {', '.join(sorted(running - on_disk))}")
    return "; " + "; ".join(parts)
