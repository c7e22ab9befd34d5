"""``aetherops reload``: ``POST /-/reload``, then prove what the server runs now.

Both servers answer a reload only once it is done (200), or with the reason it was refused (500: the previous
config keeps running). Prometheus answers 403 when started without ``--web.enable-lifecycle``. After a 200
the new state is confirmed from the server itself: the reload-success metric and its timestamp, the rule
groups Prometheus has loaded (and whether they match the files on disk), the ``alertmanager_config_hash``
(equal to the file's when the file is on this machine).
"""

from __future__ import annotations

from pathlib import Path

from aetherops.errors import ExitCode, ServiceError
from aetherops_plugins.stack import state

SERVICES = ("prometheus", "alertmanager")


def _row(service: str, status: str, detail: str, code: int, changed: bool | None = None) -> dict:
    return {"service": service, "status": status, "changed": changed, "detail": detail, "exit_code": int(code)}


def reload(ctx, service: str) -> list[dict]:
    """Reload one service, or every peer of an Alertmanager cluster (each runs its own copy of the config):
    one row each, with its ``url``. Never raises for a service fault: the row says it (``exit_code``: how bad)."""
    client = ctx.client(service)
    peers = getattr(client, "peers", None) or [client]
    rows = []
    for peer in peers:
        row = _reload(ctx, service, peer)
        rows.append({"service": row.pop("service"), "url": peer.base_url, **row})
    return rows


def _reload(ctx, service: str, client) -> dict:
    try:
        before = _snapshot(ctx, service, client)
    except ServiceError as exc:
        return _row(service, "error", exc.format_message(), ExitCode.SERVICE)
    try:
        client.request("POST", "/-/reload", retry=True)
    except ServiceError as exc:
        reason = exc.format_message().split(f": HTTP {exc.status}: ", 1)[-1]
        if exc.status == 403 and service == "prometheus":
            return _row(service, "disabled", "the lifecycle API is disabled: start Prometheus with --web.enable-lifecycle "
                                             f"to reload it over HTTP (or send it SIGHUP) ({reason})", ExitCode.SERVICE)
        if exc.status == 500:
            return _rejected(ctx, service, client, before, reason)
        return _row(service, "error", exc.format_message(), ExitCode.SERVICE)
    try:
        after = _snapshot(ctx, service, client)
    except ServiceError as exc:
        return _row(service, "error", f"reloaded, but cannot confirm: {exc.format_message()}", ExitCode.SERVICE)
    return _confirm(ctx, service, before, after)


def _snapshot(ctx, service: str, client) -> dict:
    if service == "prometheus":
        return {"metrics": _metrics(client, state.PROM_METRICS), "groups": state.loaded_rule_groups(client),
                "config": client.running_config()}
    return {"metrics": _metrics(client, state.AM_METRICS)}


def _metrics(client, names: tuple[str, ...]) -> dict[str, float]:
    """The reload metrics; none when /metrics is not exposed (behind a proxy): the API state still tells."""
    try:
        return state.scrape_metrics(client, names)
    except ServiceError as exc:
        if exc.status is None:  # unreachable: the reload itself would fail the same way
            raise
        return {}


def _rejected(ctx, service: str, client, before: dict, reason: str) -> dict:
    try:
        after = _snapshot(ctx, service, client)
        kept = after.get("groups") == before.get("groups") and after.get("config") == before.get("config")
        if service == "alertmanager":
            kept = after["metrics"].get("alertmanager_config_hash") == before["metrics"].get("alertmanager_config_hash")
        still = "the previous config keeps running" if kept else "the server's state changed anyway: check it"
    except ServiceError as exc:
        still = f"cannot tell what runs now ({exc.format_message()})"
    cause = _likely_cause(ctx) if service == "prometheus" else ""
    return _row(service, "rejected", f"{reason}{cause}; {still}", ExitCode.FINDINGS, changed=False)


def _likely_cause(ctx) -> str:
    """Prometheus says only "one or more errors occurred" for a bad rule file: name the first problem found here."""
    files = state.rule_files(ctx)
    disk = state.read_rule_groups(files)
    if disk.errors:
        path, problem = next(iter(disk.errors.items()))
        return f" (likely cause: {path}: {problem})"
    if not files or not state.lint_loaded(ctx.pm):
        return ""
    from aetherops_plugins.lint.api import lint_files

    errors = [f for f in lint_files(ctx, files).findings if f.severity == "error"]
    if errors:
        f = errors[0]
        return f" (likely cause: {f.file}:{f.line or '?'}: {f.message})"
    return ""


def _confirm(ctx, service: str, before: dict, after: dict) -> dict:
    metrics = after["metrics"]
    prefix = "prometheus" if service == "prometheus" else "alertmanager"
    if metrics.get(f"{prefix}_config_last_reload_successful") == 0:
        return _row(service, "rejected", "the server reports its last reload failed; the previous config keeps running",
                    ExitCode.FINDINGS, changed=False)
    if service == "prometheus":
        added = sorted(set(after["groups"]) - set(before["groups"]))
        removed = sorted(set(before["groups"]) - set(after["groups"]))
        changed_groups = sorted(g for g in set(after["groups"]) & set(before["groups"]) if after["groups"][g] != before["groups"][g])
        parts = [f"+{g}" for g in added] + [f"-{g}" for g in removed] + [f"~{g}" for g in changed_groups]
        changed = bool(parts) or after["config"] != before["config"]
        total = sum(len(r) for r in after["groups"].values())
        detail = f"{len(after['groups'])} group(s), {total} rule(s) loaded; " + (
            f"rule groups changed: {' '.join(parts)}" if parts else "config changed" if changed else "nothing changed")
        files = state.rule_files(ctx)
        if files:
            problems = state.compare_groups(state.read_rule_groups(files).groups, after["groups"])
            if problems:
                return _row(service, "mismatch", f"reloaded, but the loaded rules differ from the files: {'; '.join(problems)}",
                            ExitCode.FINDINGS, changed=changed)
            detail += "; matches the rule files"
        return _row(service, "reloaded", detail, ExitCode.OK, changed=changed)
    old, new = before["metrics"].get("alertmanager_config_hash"), metrics.get("alertmanager_config_hash")
    changed = old != new
    detail = "config changed" if changed else "nothing changed"
    config_file = ctx.section("alertmanager").config_file
    if config_file:
        path = state.resolve(config_file)
        try:
            on_disk = state.config_hash(Path(path).read_bytes())
        except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
            detail += f"; cannot read {str(path)[:200]!r}: {getattr(exc, 'strerror', None) or exc}"
        else:
            if on_disk != new:
                return _row(service, "mismatch", f"reloaded, but it does not run {path} as on disk (another file?)",
                            ExitCode.FINDINGS, changed=changed)
            detail += f"; runs {path.name} as on disk"
    return _row(service, "reloaded", detail, ExitCode.OK, changed=changed)
