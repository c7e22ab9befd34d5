"""Prometheus: a TSDB snapshot through the admin API (copied in, hard-linked, when the data dir is on
this machine), the running config and the rule files the server reports loaded."""

from __future__ import annotations

import os
import re
from pathlib import Path

from aetherops.errors import ServiceError
from aetherops_plugins.backup.api import BackupJob, RestoreJob, describe_counts


class PrometheusComponent:
    name = "prometheus"
    description = "Prometheus TSDB snapshot, running config and loaded rule files"
    default = True
    restore_default = True

    def describe(self, summary: dict) -> str:
        """``snapshot NAME (copied in), running config, 2 rule files``: the backup's summary line."""
        meta = summary.get("meta") or {}
        snapshot = meta.get("snapshot")
        if snapshot:
            parts = [f"snapshot {snapshot}" + (" (copied in)" if meta.get("snapshot_copied") else " (left on the server)")]
        else:
            parts = ["no snapshot"]
        parts.append("running config")
        return ", ".join(parts + describe_counts(summary.get("counts") or {}, leave_out=("snapshots", "snapshot_files", "configs")))

    def backup(self, job: BackupJob) -> None:
        if not job.has_service("prometheus"):
            job.skip("the profile has no prometheus.url")
        client = job.client("prometheus")
        info = client.build_info()  # a configured server that is down fails the backup here (exit 3)
        job.record_server(client.base_url, info.get("version"))
        section = job.section("prometheus") or {}

        # 1. TSDB snapshot
        snapshot = None
        try:
            snapshot = client.snapshot()
        except ServiceError as exc:
            text = exc.format_message()
            if "admin APIs disabled" in text or exc.status in (403, 404, 405):
                job.warn(f"no TSDB snapshot: {text.split(': ', 1)[-1]} (start Prometheus with --web.enable-admin-api)")
            else:
                raise
        data_dir = section.get("data_dir")
        job.meta.update({"snapshot": snapshot, "data_dir": data_dir, "snapshot_copied": False, "server": client.base_url})
        if snapshot:
            job.count("snapshots")
            source = Path(data_dir) / "snapshots" / snapshot if data_dir else None
            remove = bool((job.section("backup") or {}).get("remove_server_snapshot", True))
            if source is not None and source.is_dir():
                try:
                    n = job.copy_tree(source, f"snapshot/{snapshot}", link=True)
                except BaseException:
                    # the backup fails (disk full...): the snapshot taken for it must not stay behind on the server
                    if remove:
                        import shutil

                        shutil.rmtree(source, ignore_errors=True)
                    raise
                job.meta["snapshot_copied"] = True
                job.count("snapshot_files", n)
                if n == 0:
                    job.meta["snapshot_empty"] = True
                    job.note(f"snapshot {snapshot} is empty: Prometheus had no samples to persist yet")
                if remove:
                    # Prometheus never prunes snapshots; the backup holds this one now (hard links share the data)
                    import shutil

                    try:
                        shutil.rmtree(source)
                        job.meta["removed_from_server"] = True
                    except OSError as exc:
                        job.warn(f"could not remove {source} after copying it: {exc.strerror or exc}")
            elif data_dir:
                job.warn(f"snapshot {snapshot} not found under {data_dir}/snapshots on this machine; it stays on the server")
            else:
                job.note(f"snapshot {snapshot} stays on the Prometheus host in <data dir>/snapshots/ "
                         "(set prometheus.data_dir in the profile to copy it into the backup)")
            job.write_json("snapshot.json", {"name": snapshot, "server": client.base_url, "version": info.get("version"),
                                             "data_dir": data_dir, "copied": job.meta["snapshot_copied"],
                                             "removed_from_server": bool(job.meta.get("removed_from_server")),
                                             "path_on_server": f"{data_dir or '<data dir>'}/snapshots/{snapshot}"})

        # 2. running config (Prometheus shows secrets as <secret>)
        job.write_text("prometheus.yml", client.running_config())
        job.count("configs")

        # 3. rule files the server reports loaded
        groups = client.rules()
        files: dict[str, list[dict]] = {}
        for group in groups:
            files.setdefault(group.get("file") or "unknown.yml", []).append(group)
        stored: list[dict] = []
        used: set[str] = set()
        for original, file_groups in sorted(files.items()):
            name = _unique(Path(original).name or "rules.yml", used)
            path = Path(original)
            if path.is_file():
                job.copy_file(path, f"rules/{name}")
                how = "copied"
            else:
                job.write_text(f"rules/{name}", _rules_yaml(file_groups))
                how = "rebuilt from /api/v1/rules"
            stored.append({"file": f"rules/{name}", "original": original, "groups": len(file_groups), "how": how})
        job.write_json("rules.json", {"rule_files": stored})
        job.count("rule_files", len(stored))

    def restore(self, job: RestoreJob) -> None:
        meta = job.entry.get("meta") or {}
        snap = meta.get("snapshot")
        unsafe = _unsafe_for_commands(snap, meta.get("data_dir"))
        if snap and unsafe:
            job.plan("snapshot", repr(snap)[:80], "skip", f"the manifest's {unsafe} is not a plain name or path; "
                     "no commands are printed for it")
        elif snap and meta.get("snapshot_empty"):
            job.plan("snapshot", snap, "skip", "the snapshot is empty (Prometheus had no samples when it was taken)")
        elif snap:
            data_dir = (job.profile.section("prometheus") or {}).get("data_dir") or meta.get("data_dir") or "<prometheus data dir>"
            src = (job.root / "snapshot" / snap) if meta.get("snapshot_copied") else Path(str(meta.get("data_dir") or "<data dir>")) / "snapshots" / snap
            job.plan("snapshot", snap, "manual", "a running Prometheus cannot load a snapshot; see the instructions below")
            job.instruct(
                "Prometheus TSDB snapshot: stop Prometheus, replace its data directory with the snapshot, start it.\n"
                f"  bash:\n    sudo systemctl stop prometheus\n    mv '{data_dir}' '{data_dir}.before-restore'\n"
                f"    cp -a '{src.as_posix()}' '{data_dir}'\n    sudo systemctl start prometheus\n"
                f"  PowerShell:\n    Stop-Service prometheus\n    Move-Item -LiteralPath '{data_dir}' -Destination '{data_dir}.before-restore'\n"
                f"    Copy-Item -Recurse '{src}' '{data_dir}'\n    Start-Service prometheus"
            )
        rules = job.read_json("rules.json").get("rule_files", []) if job.exists("rules.json") else []
        if rules or job.exists("prometheus.yml"):
            job.plan("config", "prometheus.yml + rule files", "manual",
                     f"{len(rules)} rule file(s) in {job.root / 'rules'}; restore them with --only configs or by hand, then reload")


_SNAPSHOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$")
_SHELL_SPECIAL = re.compile(r"['\"`$\n\r\x00;&|<>]")


def _unsafe_for_commands(snapshot, data_dir) -> str | None:
    """Which value read from the manifest cannot go into the shell commands restore prints (a crafted
    backup must not make an operator paste ``'; rm -rf ~``), or None."""
    if not isinstance(snapshot, str) or not _SNAPSHOT_NAME.match(snapshot):
        return "snapshot name"
    if data_dir is not None and (not isinstance(data_dir, str) or _SHELL_SPECIAL.search(data_dir)):
        return "data_dir"
    return None


def _unique(name: str, used: set[str]) -> str:
    base, ext = os.path.splitext(name)
    candidate, i = name, 1
    while candidate.lower() in used:
        i += 1
        candidate = f"{base}-{i}{ext}"
    used.add(candidate.lower())
    return candidate


def _rules_yaml(groups: list[dict]) -> str:
    """A rule file rebuilt from the rules API (when the file is not on this machine)."""
    import yaml

    out = []
    for group in groups:
        g: dict = {"name": group.get("name")}
        interval = group.get("interval")
        if interval:
            g["interval"] = f"{interval:g}s" if isinstance(interval, (int, float)) else interval
        rules = []
        for rule in group.get("rules", []):
            if rule.get("type") == "recording":
                r = {"record": rule.get("name"), "expr": rule.get("query")}
            else:
                r = {"alert": rule.get("name"), "expr": rule.get("query")}
                duration = rule.get("duration")
                if duration:
                    r["for"] = f"{int(duration)}s" if float(duration).is_integer() else f"{duration}s"
            if rule.get("labels"):
                r["labels"] = rule["labels"]
            if rule.get("annotations"):
                r["annotations"] = rule["annotations"]
            rules.append(r)
        g["rules"] = rules
        out.append(g)
    header = "# Rebuilt by aetherops from Prometheus /api/v1/rules (the file was not readable on this machine).\n"
    return header + yaml.safe_dump({"groups": out}, sort_keys=False, allow_unicode=True)
