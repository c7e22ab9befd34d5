"""Alertmanager: the running config (receivers' secrets redacted) and, as a separate component,
the active silences so they can be recreated (``aetherops restore --only silences``)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from aetherops_plugins.backup.api import BackupJob, RestoreJob, describe_counts

REDACTED = "<redacted by aetherops>"
# Keys whose values are secrets. In receivers every URL counts (webhook URLs carry tokens); in
# `global:` the *_api_url defaults are public endpoints, except Slack's, which is a secret webhook.
_RECEIVER_SECRET = re.compile(
    r"(^|_)(url|api_url|webhook_url|password|secret|token|api_key|apikey|key|service_key|routing_key|credentials|"
    r"auth_password|auth_secret|auth_identity|bot_token|api_secret|client_secret)$",
    re.IGNORECASE,
)
_GLOBAL_SECRET = re.compile(
    r"(^slack_api_url$|^webex_api_url_secret$|(^|_)(password|secret|token|api_key|apikey|key|credentials|auth_identity|auth_secret)$)",
    re.IGNORECASE,
)
_KEEP = {"send_resolved", "resolve_timeout", "smtp_from", "smtp_smarthost", "smtp_hello", "smtp_require_tls",
         "to", "from", "smarthost", "channel", "username", "title", "text", "message", "priority", "severity", "auth_username"}
_ALREADY_HIDDEN = {"<secret>", REDACTED, ""}


def redact_alertmanager_config(text: str) -> tuple[str, int]:
    """The YAML with every secret-looking value of ``global:`` and ``receivers:`` replaced; and how many."""
    import yaml

    from aetherops import yamlsafe
    from aetherops.errors import ServiceError

    try:
        data = yamlsafe.load(text) or {}  # bounded: the server's answer may be hostile (an alias bomb)
    except yamlsafe.InputError as exc:
        raise ServiceError(f"Alertmanager's running config is not usable YAML: {exc}") from None
    count = 0

    def walk(value: Any, pattern: re.Pattern, key: str = "") -> Any:
        nonlocal count
        if isinstance(value, dict):
            return {k: walk(v, pattern, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, pattern, key) for v in value]
        if isinstance(value, str) and key not in _KEEP and pattern.search(key):
            if value in _ALREADY_HIDDEN:
                return value
            count += 1
            return REDACTED
        return value

    if isinstance(data, dict):
        if "global" in data:
            data["global"] = walk(data["global"], _GLOBAL_SECRET)
        if "receivers" in data:
            data["receivers"] = walk(data["receivers"], _RECEIVER_SECRET)
    header = ("# Running Alertmanager config, saved by aetherops. Secrets (webhook/Slack URLs, keys, passwords) are\n"
              f"# replaced by '{REDACTED}': restore the original file from your configuration repository.\n")
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), count


class AlertmanagerComponent:
    name = "alertmanager"
    description = "Alertmanager running config (receiver secrets redacted)"
    default = True
    restore_default = True

    def describe(self, summary: dict) -> str:
        """``running config (3 secrets redacted)``: the backup's summary line."""
        redacted = (summary.get("meta") or {}).get("redacted_values")
        parts = ["running config" + (f" ({redacted} secrets redacted)" if redacted else "")]
        return ", ".join(parts + describe_counts(summary.get("counts") or {}, leave_out=("configs",)))

    def backup(self, job: BackupJob) -> None:
        if not job.has_service("alertmanager"):
            job.skip("the profile has no alertmanager.url")
        client = job.client("alertmanager")
        status = client.status()
        version = (status.get("versionInfo") or {}).get("version")
        job.record_server(client.base_url, version)
        original = (status.get("config") or {}).get("original") or ""
        text, redacted = redact_alertmanager_config(original)
        job.write_text("alertmanager.yml", text)
        job.write_json("status.json", {k: v for k, v in status.items() if k != "config"})
        job.count("configs")
        job.meta["redacted_values"] = redacted
        if redacted:
            job.note(f"{redacted} secret value(s) of the Alertmanager config were redacted")

    def restore(self, job: RestoreJob) -> None:
        if job.exists("alertmanager.yml"):
            job.plan("config", "alertmanager.yml", "manual", "secrets are redacted in the backup; restore the file from your repository")
            job.instruct(f"Alertmanager config: compare {job.root / 'alertmanager.yml'} with the running one; its secrets are redacted, "
                         "so restore the original from your configuration repository and reload Alertmanager "
                         "(POST /-/reload, or `systemctl reload prometheus-alertmanager`).")


def _matcher_key(silence: dict) -> tuple:
    return tuple(sorted((m.get("name"), m.get("value"), bool(m.get("isRegex")), m.get("isEqual", True)) for m in silence.get("matchers", [])))


class SilencesComponent:
    name = "silences"
    description = "Alertmanager active and pending silences (recreated with restore --only silences)"
    default = True
    restore_default = False

    def backup(self, job: BackupJob) -> None:
        if not job.has_service("alertmanager"):
            job.skip("the profile has no alertmanager.url")
        client = job.client("alertmanager")
        silences = [s for s in client.silences() if (s.get("status") or {}).get("state") in ("active", "pending")]
        silences.sort(key=lambda s: (s.get("startsAt", ""), s.get("id", "")))
        job.record_server(client.base_url)
        job.write_json("silences.json", {"silences": silences})
        job.count("silences", len(silences))

    def restore(self, job: RestoreJob) -> None:
        if not job.has_service("alertmanager"):
            job.plan("service", "alertmanager", "skip", "the target profile has no alertmanager.url")
            return
        client = job.client("alertmanager")
        backed = job.read_json("silences.json").get("silences", []) if job.exists("silences.json") else []
        now = datetime.now(timezone.utc)
        current = [s for s in client.silences() if (s.get("status") or {}).get("state") in ("active", "pending")]
        existing = {(_matcher_key(s), s.get("comment"), s.get("endsAt")) for s in current}
        existing_ids = {s.get("id") for s in current}
        for silence in backed:
            label = ", ".join(f"{m.get('name')}{'=~' if m.get('isRegex') else '='}{m.get('value')}" for m in silence.get("matchers", []))
            ends = _parse(silence.get("endsAt"))
            if ends is not None and ends <= now:
                job.plan("silence", label, "skip", f"expired at {silence.get('endsAt')}")
                continue
            if silence.get("id") in existing_ids or (_matcher_key(silence), silence.get("comment"), silence.get("endsAt")) in existing:
                job.plan("silence", label, "unchanged", "an identical silence is active")
                continue
            item = job.plan("silence", label, "create", f"until {silence.get('endsAt')} ({silence.get('comment', '')})")
            if job.dry_run:
                continue
            starts = _parse(silence.get("startsAt"))
            body = {
                "matchers": silence.get("matchers", []),
                "startsAt": silence.get("startsAt") if starts and starts > now else now.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "endsAt": silence.get("endsAt"),
                "createdBy": silence.get("createdBy") or "aetherops",
                "comment": silence.get("comment") or "restored by aetherops",
            }
            try:
                client.create_silence(body)
                item.applied = True
            except Exception as exc:  # noqa: BLE001 - reported per item
                fmt = getattr(exc, "format_message", None)
                item.error = fmt() if fmt else str(exc)


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        text = value.replace("Z", "+00:00")
        if "." in text:  # Alertmanager sends nanoseconds; fromisoformat takes at most microseconds
            head, _, rest = text.partition(".")
            frac, sign, tz = re.match(r"(\d+)([+-]?)(.*)", rest).groups()
            text = f"{head}.{frac[:6]}{sign}{tz}"
        dt = datetime.fromisoformat(text)
        return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    except (ValueError, AttributeError):
        return None
