"""Grafana: folders, dashboards (one file each, in a folder tree; v2-schema ones through /apis), datasources
and contact points without their secrets, library panels, alert rules (with their provenance).

Backup: fetch (search, then one GET per dashboard in a bounded pool) and write. Restore: fetch the target's
state, plan with :mod:`aetherops.grafana_plan` (pure, shared with ``aetherops dashboards``), then apply the
plan in dependency order: folders, datasources, library panels, dashboards, alert rules, contact points.
"""

from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from aetherops.errors import ConfigError, ServiceError
from aetherops.grafana_plan import (
    APPLY_ORDER,
    ServerState,
    WantedDashboard,
    diff_text,
    explain_save_error,
    folder_dirs,
    folder_tree,
    map_datasources,
    phases,
    plan_dashboards,
    plan_datasources,
    plan_folders,
    plan_objects,
    waiting_on_library_panels,
)
from aetherops.redact import is_secret_key, redact_data
from aetherops_plugins.backup.api import BackupJob, RestoreJob
from aetherops_plugins.backup.paths import portable_name

ROOT_DIR = "general"
DATASOURCE_SECRET_KEYS = ("secureJsonData", "password", "basicAuthPassword")
SECURE_NOTE = ("Grafana never returns datasource secrets (secureJsonData, passwords): they are not in this backup. "
               "Re-enter the fields listed under secure_fields after a restore.")
CONTACT_POINT_NOTE = ("Contact point secrets are never in a backup (Grafana returns them redacted, and aetherops removes "
                      "them even when it does not). secure_fields lists them; restore takes them from the profile's "
                      "backup.contact_point_secrets or skips the contact point.")
#: Placeholders Grafana (and others) put where a secret was.
PLACEHOLDERS = frozenset({"[REDACTED]", "***", "<secret>", "<redacted>", "<redacted by aetherops>"})
#: Secure settings per contact point type (Grafana's alerting notifiers, `Secure: true` fields).
CONTACT_POINT_SECRETS: dict[str, tuple[str, ...]] = {
    "alertmanager": ("basicAuthPassword",),
    "prometheus-alertmanager": ("basicAuthPassword",),
    "dingding": ("url",),
    "discord": ("url",),
    "googlechat": ("url",),
    "jira": ("password", "api_token"),
    "kafka": ("password",),
    "line": ("token",),
    "mqtt": ("password",),
    "oncall": ("password", "authorization_credentials"),
    "opsgenie": ("apiKey",),
    "pagerduty": ("integrationKey",),
    "pushover": ("apiToken", "userKey"),
    "sensugo": ("apikey",),
    "slack": ("token", "url"),
    "sns": ("sigv4.access_key", "sigv4.secret_key"),
    "teams": ("url",),
    "telegram": ("bottoken",),
    "threema": ("api_secret",),
    "victorops": ("url",),
    "webex": ("bot_token",),
    "webhook": ("password", "authorization_credentials"),
    "wecom": ("url", "secret"),
}
PROVENANCE_CHOICES = ("keep", "api", "none")
NOT_OFFERED = (404, 405, 501)


def make_client(profile, *, fast_reads: bool = False):
    """The GrafanaClient for the profile; with ``fast_reads`` (backup) its GETs go over keep-alive
    ``http.client`` connections unless a proxy applies (see fastget.py and benchmarks/backup.py)."""
    from aetherops.clients.grafana import GrafanaClient
    from aetherops_plugins.backup.components import fastget

    config = profile.service("grafana")
    if fast_reads and fastget.usable(config):
        getter = fastget.FastGet(config)
        client = GrafanaClient(config, get=getter.get)
        client.on_close = getter.close
        return client
    return GrafanaClient(config)


# ---------------------------------------------------------------------------------------- secrets
def _get_path(settings: dict, dotted: str) -> Any:
    cur: Any = settings
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _set_path(settings: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    cur = settings
    for part in parts[:-1]:
        cur = cur.setdefault(part, {})
    cur[parts[-1]] = value


def strip_contact_point_secrets(cp: dict) -> dict:
    """The contact point without its secret settings (known secure fields of its type, keys that look secret,
    redaction placeholders), and ``secure_fields`` listing the dotted names removed."""
    settings = json.loads(json.dumps(cp.get("settings") or {}))
    removed: set[str] = set()
    for name in CONTACT_POINT_SECRETS.get(str(cp.get("type") or ""), ()):
        if _get_path(settings, name) not in (None, ""):
            removed.add(name)

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                dotted = f"{prefix}{key}"
                if isinstance(item, (dict, list)):
                    walk(item, f"{dotted}.")
                elif item not in (None, "") and (is_secret_key(key) or (isinstance(item, str) and item in PLACEHOLDERS)):
                    removed.add(dotted)

    walk(settings, "")
    for dotted in removed:
        parts = dotted.split(".")
        parent = _get_path(settings, ".".join(parts[:-1])) if len(parts) > 1 else settings
        if isinstance(parent, dict):
            parent.pop(parts[-1], None)
    out = {k: v for k, v in cp.items() if k not in ("settings", "secureFields")}
    out["settings"] = settings
    out["secure_fields"] = sorted(removed | {k for k, v in (cp.get("secureFields") or {}).items() if v})
    return redact_data(out)


def contact_point_secrets(profile, cp: dict) -> tuple[dict[str, str], list[str]]:
    """(secret field -> value, fields nobody supplied) from ``backup.contact_point_secrets.<name or uid>``."""
    wanted = list(cp.get("secure_fields") or [])
    if not wanted:
        return {}, []
    refs = (profile.section("backup") or {}).get("contact_point_secrets") or {}
    key = cp.get("name") if cp.get("name") in refs else cp.get("uid")
    found: dict[str, str] = {}
    for field in wanted:
        value = profile.secret(("backup", "contact_point_secrets", key), field) if key in refs else None
        if value is not None:
            found[field] = value
    return found, [f for f in wanted if f not in found]


# ---------------------------------------------------------------------------------------- backup
class GrafanaComponent:
    name = "grafana"
    description = "Grafana folders, dashboards, datasources and contact points (no secrets), library panels, alert rules"
    default = True
    restore_default = True

    def backup(self, job: BackupJob) -> None:
        if not job.has_service("grafana"):
            job.skip("the profile has no grafana.url")
        client = make_client(job.profile, fast_reads=True)
        try:
            self._backup(job, client)
        finally:
            client.close()

    def _backup(self, job: BackupJob, client) -> None:
        # health first and alone: a server that is down fails here with one clear error (exit 3)
        health = client.health()
        job.record_server(client.url, health.get("version"))
        with ThreadPoolExecutor(max_workers=job.concurrency) as pool:
            try:
                self._backup_pooled(job, client, pool)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise

    def _backup_pooled(self, job: BackupJob, client, pool: ThreadPoolExecutor) -> None:
        f_folders = pool.submit(client.search_all, "dash-folder")
        f_hits = pool.submit(client.search_all, "dash-db")
        # datasources and the extras depend on nothing: fetched beside the dashboards, in the same bounded pool
        side = [pool.submit(self._backup_datasources, job, client), pool.submit(self._backup_extras, job, client)]
        folders = folder_tree(f_folders.result())
        job.write_json("folders.json", {"folders": folders})
        job.count("folders", len(folders))
        layout = dashboard_files(f_hits.result(), folder_dirs(folders))

        index: list[dict] = []
        index_lock = threading.Lock()

        def fetch(hit: dict, rel: str) -> None:
            # one dashboard at a time per worker: fetched, written, hashed, dropped (memory stays bounded)
            record = self._fetch_dashboard(job, client, hit)
            if record is None:
                return
            job.write_json(rel, record)  # indented, sorted keys: backups diff well in git
            entry = index_entry(hit, record, rel)
            with index_lock:
                index.append(entry)

        futures = [pool.submit(fetch, hit, rel) for hit, rel in layout]
        with job.progress(len(futures), "grafana dashboards") as advance:
            for future in as_completed(futures):
                future.result()
                advance(1)
        for future in side:
            future.result()
        index.sort(key=lambda e: e["uid"])
        job.write_json("dashboards.json", {"dashboards": index})
        job.count("dashboards", len(index))
        v2 = sum(1 for e in index if e.get("schema") == "v2")
        if v2:
            job.count("dashboards_v2", v2)
            job.note(f"{v2} dashboard(s) stored in Grafana 12's v2 schema were read through /apis/dashboard.grafana.app")

    def _fetch_dashboard(self, job: BackupJob, client, hit: dict) -> dict | None:
        from aetherops.clients.grafana import V2Dashboard

        uid, title = hit["uid"], hit.get("title")
        try:
            try:
                doc = client.dashboard(uid)
            except V2Dashboard as v2:
                try:
                    resource = client.dashboard_v2(uid, api_version=v2.api_version, namespace=v2.namespace)
                except ServiceError as exc:  # named, and the rest of the backup finishes (exit 1)
                    job.add_missing("dashboard", uid, exc.format_message(), title=title, schema="v2")
                    job.warn(f"dashboard {uid} ({title}) is stored in Grafana 12's v2 schema and could not be read through "
                             f"/apis: {exc.format_message()}")
                    return None
                return v2_record(resource, hit)
        except ServiceError as exc:
            if exc.status == 404:  # listed by search, gone now: deleted while the backup ran
                job.warn(f"dashboard {uid} ({title}) was deleted during the backup (404 after search); not in this backup")
                job.count("dashboards_deleted_meanwhile")
                return None
            if job.keep_going or exc.status == 200:
                # a 200 whose body is not a dashboard is an error for that item, never an empty file
                job.add_missing("dashboard", uid, exc.format_message(), title=title)
                job.warn(f"dashboard {uid} ({title}) not backed up: {exc.format_message()}")
                return None
            raise
        meta = doc.get("meta") or {}
        dashboard = doc["dashboard"]
        record = {
            "dashboard": dashboard,
            "meta": {k: meta.get(k) for k in ("folderUid", "folderTitle", "version", "created", "updated", "createdBy",
                                               "updatedBy", "slug", "url", "provisioned", "provisionedExternalId") if k in meta},
        }
        record["meta"].setdefault("folderUid", hit.get("folderUid") or "")
        record["meta"].setdefault("version", dashboard.get("version"))
        return record

    def _backup_datasources(self, job: BackupJob, client) -> None:
        try:
            listed = client.datasources()
        except ServiceError as exc:
            if exc.status in NOT_OFFERED or exc.status != 403:
                raise
            _forbidden(job, "datasources", exc)
            return
        out: list[dict] = []
        for item in listed:
            full = item
            if isinstance(item, dict) and item.get("uid"):
                try:
                    full = client.datasource(item["uid"])
                except ServiceError as exc:
                    if exc.status not in (403, 404):
                        raise
            ds = {k: v for k, v in full.items() if k not in DATASOURCE_SECRET_KEYS and k != "secureJsonFields"}
            ds["secure_fields"] = sorted(k for k, v in (full.get("secureJsonFields") or {}).items() if v)
            out.append(redact_data(ds))
        out.sort(key=lambda d: (d.get("name") or "", d.get("uid") or ""))
        needing = [d["name"] for d in out if d.get("secure_fields")]
        job.write_json("datasources.json", {"note": SECURE_NOTE, "datasources": out})
        job.count("datasources", len(out))
        if needing:
            job.note(f"datasource secrets are not backed up; re-enter them after a restore for: {', '.join(needing)}")

    def _backup_extras(self, job: BackupJob, client) -> None:
        extras = [
            ("library_panels", "library-panels.json", "library panels", client.library_elements),
            ("alert_rules", "alert-rules.json", "alert rules", client.alert_rules),
            ("contact_points", "contact-points.json", "contact points", client.contact_points),
        ]
        for key, filename, label, fetch in extras:
            try:
                items = fetch()
            except ServiceError as exc:
                if exc.status in NOT_OFFERED:  # only "not there" means not offered
                    job.note(f"{label} skipped: the server does not offer them (HTTP {exc.status})")
                    job.meta.setdefault("not_offered", []).append(key)
                    continue
                if exc.status == 403:
                    _forbidden(job, label, exc)
                    continue
                raise
            data: dict[str, Any] = {key: items}
            if key == "contact_points":
                items = [strip_contact_point_secrets(cp) for cp in items]
                data = {"note": CONTACT_POINT_NOTE, key: items}
                needing = [cp.get("name") or cp.get("uid") for cp in items if cp.get("secure_fields")]
                if needing:
                    job.note("contact point secrets are not backed up; supply them under backup.contact_point_secrets "
                             f"to restore: {', '.join(needing)}")
            job.write_json(filename, data)
            job.count(key, len(items))

    # ------------------------------------------------------------------------------------ restore
    def restore(self, job: RestoreJob) -> None:
        if not job.has_service("grafana"):
            job.plan("service", "grafana", "skip", "the target profile has no grafana.url")
            return
        client = make_client(job.profile)
        try:
            self._restore(job, client)
        finally:
            client.close()

    def _restore(self, job: RestoreJob, client) -> None:
        workers = job.options["concurrency"]
        backup = read_backup(job)
        if job.options.get("dashboard_uids") or job.options.get("folder_uids"):
            backup = select_backup(backup, job.options.get("dashboard_uids") or (), job.options.get("folder_uids") or ())
        state, current = fetch_target(client, backup, workers)
        items = plan_restore(job, backup, state, current)
        apply_plan(job, client, items, workers)
        job.items.sort(key=lambda i: (i.component, _ORDER.get(i.kind, 9), i.kind, i.name))


_ORDER = {kind: n for n, kind in enumerate(APPLY_ORDER)}


def _forbidden(job: BackupJob, label: str, exc: ServiceError) -> None:
    """A 403: the token may not read them. Not "not offered": a warning and an incomplete backup (exit 1)."""
    job.warn(f"{label} not backed up: the token may not read them (HTTP 403); use an Admin service account")
    job.add_missing(label, label, exc.format_message())


#: longest relative path of a dashboard file in a backup (``dashboards/...json``): with the backup's own name and an
#: archive's temp folder under a long %TEMP% the full path stays below Windows' 260 characters (MAX_PATH)
MAX_DASHBOARD_REL = 110


def dashboard_files(hits: list[dict], dirs: dict[str, str]) -> list[tuple[dict, str]]:
    """Each dashboard hit with the file it goes to: ``dashboards/<folder dirs>/<uid>.json``, every component a
    :func:`~aetherops_plugins.backup.paths.portable_name` (no Windows reserved name, no trailing dot), unique even
    on case-insensitive filesystems. Folders nested so deep that the path would pass ``MAX_DASHBOARD_REL``
    characters go to ``dashboards/_deep/<hash of the folder path>/`` (the index keeps the real folder)."""
    used: set[str] = set()
    out: list[tuple[dict, str]] = []
    for hit in sorted((h for h in hits if h.get("type", "dash-db") == "dash-db"), key=lambda h: h["uid"]):
        folder_dir = dirs.get(hit.get("folderUid") or "", ROOT_DIR) if hit.get("folderUid") else ROOT_DIR
        folder_dir = "/".join(portable_name(part) for part in folder_dir.split("/"))
        name = portable_name(hit["uid"])
        base = f"dashboards/{folder_dir}/{name}"
        if len(base) + len("~12345678.json") > MAX_DASHBOARD_REL:
            base = f"dashboards/_deep/{hashlib.sha256(folder_dir.encode()).hexdigest()[:12]}/{name}"
        rel = f"{base}.json"
        if rel.lower() in used:  # Windows, macOS
            rel = f"{base}~{hashlib.sha256(hit['uid'].encode()).hexdigest()[:8]}.json"
        used.add(rel.lower())
        out.append((hit, rel))
    return out


#: Labels the server assigns (a database id): never carried from one server to another.
_V2_SERVER_LABELS = frozenset({"grafana.app/deprecatedInternalID"})


def v2_record(resource: dict, hit: dict) -> dict:
    """A v2-schema dashboard as stored in a backup: the resource without server-assigned metadata."""
    meta = resource.get("metadata") or {}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                   if k in ("grafana.app/folder", "grafana.app/message")}
    kept = {"apiVersion": resource.get("apiVersion"), "kind": resource.get("kind", "Dashboard"),
            "metadata": {"name": meta.get("name") or hit["uid"], **({"annotations": annotations} if annotations else {}),
                         **({"labels": meta["labels"]} if meta.get("labels") else {})},
            "spec": resource.get("spec") or {}}
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k not in _V2_SERVER_LABELS}
    if labels:
        kept["metadata"]["labels"] = labels
    else:
        kept["metadata"].pop("labels", None)
    folder = annotations.get("grafana.app/folder") or hit.get("folderUid") or ""
    return {"schema": "v2", "resource": kept,
            "meta": {"folderUid": folder, "folderTitle": hit.get("folderTitle") or "General",
                     "version": meta.get("generation"), "updated": (meta.get("annotations") or {}).get("grafana.app/updatedTimestamp")}}


def index_entry(hit: dict, record: dict, rel: str) -> dict:
    meta = record.get("meta") or {}
    if record.get("schema") == "v2":
        spec = record["resource"].get("spec") or {}
        return {"uid": hit["uid"], "title": spec.get("title", hit.get("title")), "folderUid": meta.get("folderUid") or "",
                "folderTitle": meta.get("folderTitle") or "General", "version": meta.get("version"), "file": rel, "schema": "v2"}
    dashboard = record["dashboard"]
    return {"uid": hit["uid"], "title": dashboard.get("title", hit.get("title")), "folderUid": meta.get("folderUid") or "",
            "folderTitle": meta.get("folderTitle") or "General", "version": dashboard.get("version", meta.get("version")),
            "file": rel}


# ---------------------------------------------------------------------------------------- restore: selection
def select_backup(backup: dict[str, Any], uids: tuple[str, ...] | list[str], folders: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Only some dashboards of the backup (``restore --uid``, ``--folder``): the dashboards named, every dashboard
    in the folders named (by uid or title, subfolders included), the folders on their path (so each lands where
    it was) and the library panels they use; no datasources, alert rules or contact points. A uid or folder the
    backup does not hold is a usage error (exit 2) naming what it holds."""
    import click

    by_uid = {f["uid"]: f for f in backup["folders"]}
    chosen_folders: set[str] = set()
    for wanted in folders:
        matches = [wanted] if wanted in by_uid else [f["uid"] for f in backup["folders"]
                                                      if wanted in (f.get("title"), f.get("path"))]
        if len(matches) != 1:
            known = ", ".join(f"{f['uid']} ({f.get('path') or f.get('title')})" for f in backup["folders"][:20]) or "none"
            what = "names several folders; give its uid" if matches else "is not a folder of this backup"
            raise click.BadParameter(f"{wanted!r} {what}; folders: {known}", param_hint="--folder")
        chosen_folders.add(matches[0])
    children: dict[str, list[str]] = {}
    for f in backup["folders"]:
        children.setdefault(f.get("parentUid") or "", []).append(f["uid"])
    todo = list(chosen_folders)
    while todo:  # subfolders too
        for child in children.get(todo.pop(), []):
            if child not in chosen_folders:
                chosen_folders.add(child)
                todo.append(child)
    backed = {entry["uid"] for entry, _ in backup["dashboards"]}
    unknown = [u for u in uids if u not in backed]
    if unknown:
        raise click.BadParameter(f"dashboard(s) {', '.join(map(repr, unknown))} not in this backup "
                                 f"({len(backed)} dashboard(s) in it: aetherops backup list, or grafana/dashboards.json)",
                                 param_hint="--uid")
    dashboards = [(e, d) for e, d in backup["dashboards"] if e["uid"] in uids or (e.get("folderUid") or "") in chosen_folders]
    needed: set[str] = set()
    for entry, _ in dashboards:
        cur, depth = entry.get("folderUid") or "", 0
        while cur and cur in by_uid and cur not in needed and depth < 64:
            needed.add(cur)
            cur, depth = by_uid[cur].get("parentUid") or "", depth + 1
    needed |= {u for u in chosen_folders}
    panels = set()
    for _, doc in dashboards:
        panels |= _library_panel_uids(doc)
    return {**backup, "folders": [f for f in backup["folders"] if f["uid"] in needed], "dashboards": dashboards,
            "datasources": [], "alert_rules": [], "contact_points": [],
            "library_panels": [p for p in backup["library_panels"] if p["uid"] in panels],
            "has": {**backup["has"], "datasources": False, "alert_rules": False, "contact_points": False,
                    "library_panels": bool(panels) and backup["has"].get("library_panels", False)}}


def _library_panel_uids(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        ref = value.get("libraryPanel")
        if isinstance(ref, dict) and isinstance(ref.get("uid"), str):
            found.add(ref["uid"])
        for item in value.values():
            found |= _library_panel_uids(item)
    elif isinstance(value, list):
        for item in value:
            found |= _library_panel_uids(item)
    return found


# ---------------------------------------------------------------------------------------- restore: fetch
_REQUIRED = {"folders": ("uid",), "datasources": ("uid", "name"), "library_panels": ("uid",), "alert_rules": ("uid",),
             "contact_points": ("uid",), "dashboards": ("uid", "file")}


def read_backup(job: RestoreJob) -> dict[str, Any]:
    """The component's files, shape-checked: anything that is not what a backup writes is one ConfigError
    naming the file (exit 4), never a traceback halfway through a restore."""

    def bad(filename: str, what: str) -> ConfigError:
        return ConfigError(f"{what}: not what aetherops backup writes; refusing to restore", path=job.root / filename)

    def read(filename: str, key: str) -> list[dict]:
        if not job.exists(filename):
            return []
        try:
            data = job.read_json(filename)
        except ValueError as exc:
            raise bad(filename, f"not JSON ({exc})") from None
        items = data.get(key, []) if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise bad(filename, f"'{key}' is not a list")
        for n, obj in enumerate(items):
            if not isinstance(obj, dict) or not all(isinstance(obj.get(k), str) and obj.get(k) for k in _REQUIRED[key]):
                raise bad(filename, f"'{key}' item {n} lacks {' / '.join(_REQUIRED[key])}")
        return items

    def record(entry: dict) -> dict:
        try:
            doc = job.read_json(entry["file"])
        except (ValueError, OSError) as exc:
            raise bad(entry["file"], f"cannot read it ({exc})") from None
        if isinstance(doc, dict) and doc.get("schema") == "v2":
            ok = isinstance(doc.get("resource"), dict) and isinstance(doc["resource"].get("spec"), dict)
        else:
            ok = isinstance(doc, dict) and isinstance(doc.get("dashboard"), dict)
        if not ok or not isinstance(doc.get("meta", {}), dict):
            raise bad(entry["file"], "not a dashboard record")
        return doc

    return {
        "folders": read("folders.json", "folders"),
        "datasources": read("datasources.json", "datasources"),
        "library_panels": read("library-panels.json", "library_panels"),
        "alert_rules": read("alert-rules.json", "alert_rules"),
        "contact_points": read("contact-points.json", "contact_points"),
        "dashboards": [(entry, record(entry)) for entry in read("dashboards.json", "dashboards")],
        "has": {k: job.exists(f) for k, f in (("datasources", "datasources.json"), ("library_panels", "library-panels.json"),
                                              ("alert_rules", "alert-rules.json"), ("contact_points", "contact-points.json"))},
    }


def fetch_target(client, backup: dict, workers: int) -> tuple[ServerState, dict[str, Any]]:
    """The target's state, read before anything is planned. ``current`` holds lists of the other objects
    (None where the server does not offer them, with the status)."""
    health = client.health()
    min_refresh, version = None, health.get("version")
    try:
        settings = client.frontend_settings()
        min_refresh = settings.get("minRefreshInterval")
        version = version or (settings.get("buildInfo") or {}).get("version")  # /api/health hides it with hide_version
    except ServiceError:
        pass  # anonymous or an old server: no pre-flight refresh check, the save answers for itself
    folder_hits = client.search_all("dash-folder")
    state = ServerState(version=str(version or ""), min_refresh_interval=min_refresh,
                        folders={f["uid"]: {"title": f.get("title", ""), "parentUid": f.get("parentUid")} for f in folder_tree(folder_hits)},
                        hits=client.search_all("dash-db"))
    current: dict[str, Any] = {}

    def listing(key: str, fn) -> None:
        if not backup["has"].get(key):
            return
        try:
            current[key] = fn()
        except ServiceError as exc:
            if exc.status not in NOT_OFFERED and exc.status != 403:
                raise
            current[key] = None
            current[f"{key}_status"] = exc.status

    listing("datasources", client.datasources)
    listing("library_panels", client.library_elements)
    listing("alert_rules", client.alert_rules)
    listing("contact_points", client.contact_points)
    state.library_panels = {str(e.get("uid")) for e in current.get("library_panels") or []}

    def one(entry: dict, doc: dict) -> tuple[str, dict | None]:
        uid = (doc.get("resource") or {}).get("metadata", {}).get("name") if doc.get("schema") == "v2" else None
        uid = uid or (doc.get("dashboard") or {}).get("uid") or entry["uid"]
        try:
            # a v2 backup is read at its /apis version; a v1 one through the legacy API, or /apis when the
            # server stores it in v2 now (the plan then skips it: the legacy API cannot replace it safely)
            api_version = (str(doc["resource"].get("apiVersion") or "").rpartition("/")[2] or None) if doc.get("schema") == "v2" else None
            return uid, client.dashboard_or_v2(uid, api_version=api_version)
        except ServiceError as exc:
            if exc.status != 404:
                raise
            return uid, None

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for uid, doc in pool.map(lambda pair: one(*pair), backup["dashboards"]):
            if doc is not None:
                state.dashboards[uid] = doc
    return state, current


# ---------------------------------------------------------------------------------------- restore: plan
def provenance_mode(job: RestoreJob) -> str:
    """``--grafana-provenance``, else the profile's ``backup.grafana_provenance`` (both validated), else keep."""
    mode = str(job.options.get("grafana_provenance") or (job.profile.section("backup") or {}).get("grafana_provenance") or "keep")
    return mode if mode in PROVENANCE_CHOICES else "keep"


def plan_restore(job: RestoreJob, backup: dict, state: ServerState, current: dict) -> list:
    """Every plan item of this restore, in the order it is applied."""
    folder_map: dict[str, str] = dict(job.options.get("folder_map") or {})
    ds_map: dict[str, str] = dict(job.options.get("datasource_uid_map") or {})
    items: list = []
    folders = plan_folders(backup["folders"], state, folder_map)
    items += folders
    backed_uids = {f["uid"] for f in backup["folders"]}
    for old, new in folder_map.items():
        if new not in state.folders and old not in backed_uids:
            job.warn(f"--folder-map {old}={new}: folder {new} does not exist on the target and {old} is not in the backup")

    if current.get("datasources") is not None:
        items += plan_datasources(backup["datasources"], current["datasources"], ds_map)
    elif backup["datasources"]:
        items.append(_not_offered_item("datasource", backup["datasources"], current.get("datasources_status")))

    def fmap(uid: str | None) -> str:
        return folder_map.get(uid or "", uid or "")

    library = [{"uid": e["uid"], "name": e.get("name"), "kind": e.get("kind", 1), "model": e.get("model") or {},
                "folderUid": fmap(e.get("folderUid"))} for e in backup["library_panels"]]
    library_items = _objects("library panel", "library_panels", library, current, name_key="name")
    items += library_items

    planned_folders = {i.uid for i in folders if i.changes}
    planned_library = {i.uid for i in library_items if i.changes}
    backup_name = job.manifest.get("name") or job.manifest.get("started", "")
    wanted = [_wanted(entry, doc, ds_map, fmap) for entry, doc in backup["dashboards"]]
    items += plan_dashboards(wanted, state, force=job.force, planned_folders=planned_folders,
                             planned_library_panels=planned_library, message=f"restored by aetherops from backup {backup_name}")

    mode = provenance_mode(job)
    rules, rule_blocks = [], {}
    for rule in backup["alert_rules"]:
        body = map_datasources({**{k: v for k, v in rule.items() if k not in ("id", "updated")},
                                "folderUID": fmap(rule.get("folderUID"))}, ds_map)
        if rule.get("provenance") == "file":
            rule_blocks[str(rule.get("uid"))] = ("skip", "provisioned from files on the source server: put its file in the "
                                                 "target's provisioning directory")
        rules.append(body)
    items += _objects("alert rule", "alert_rules", rules, current, name_key="title", blocked=rule_blocks)

    points, point_blocks = [], {}
    for cp in backup["contact_points"]:
        body = {k: v for k, v in cp.items() if k != "secure_fields"}
        found, missing = contact_point_secrets(job.profile, cp)
        if cp.get("provenance") == "file":
            point_blocks[str(cp.get("uid"))] = ("skip", "provisioned from files on the source server: put its file in the "
                                                "target's provisioning directory")
        elif missing:
            prefix = f"backup.contact_point_secrets.{cp.get('name')}"
            refs = ", ".join(f"{prefix}.{f}_env (or _file)" for f in missing)
            point_blocks[str(cp.get("uid"))] = (
                "skip", f"its secret(s) {', '.join(missing)} are not in the backup: set {refs} to restore it")
        body["settings"] = json.loads(json.dumps(cp.get("settings") or {}))
        for field, value in found.items():
            _set_path(body["settings"], field, value)
        points.append(body)
    items += _objects("contact point", "contact_points", points, current, name_key="name", blocked=point_blocks)
    for item in items:
        if item.kind in ("alert rule", "contact point") and item.changes:
            item.extra["disable_provenance"] = _disable_provenance(mode, item.body.get("provenance"))
            item.body = {k: v for k, v in item.body.items() if k != "provenance"}
    return items


def _disable_provenance(mode: str, recorded: Any) -> bool:
    """keep: what the backup recorded ("" -> editable in the UI, "api" -> locked); api: all locked; none: all editable."""
    if mode == "api":
        return False
    if mode == "none":
        return True
    return recorded in (None, "", "none")


def _not_offered_item(kind: str, backed: list, status: int | None):
    from aetherops.grafana_plan import Item

    if status == 403:
        return Item(kind, f"{len(backed)} item(s)", "", "error", f"the token may not read {kind}s on the target (HTTP 403)")
    return Item(kind, f"{len(backed)} item(s)", "", "skip", f"the target does not offer {kind}s (HTTP {status})")


def _objects(kind: str, key: str, wanted: list[dict], current: dict, *, name_key: str, blocked: dict | None = None) -> list:
    if not wanted:
        return []
    if current.get(key) is None:
        return [_not_offered_item(kind, wanted, current.get(f"{key}_status"))]
    return plan_objects(kind, wanted, {str(x.get("uid")) for x in current[key]}, name_key=name_key, blocked=blocked)


def _wanted(entry: dict, doc: dict, ds_map: dict, fmap) -> WantedDashboard:
    meta = doc.get("meta") or {}
    folder_uid = fmap(meta.get("folderUid") or "")
    label_folder = entry.get("folderTitle") or "General"
    if doc.get("schema") == "v2":
        resource = doc["resource"]
        spec = map_datasources(resource.get("spec") or {}, ds_map)
        uid = (resource.get("metadata") or {}).get("name") or entry["uid"]
        title = spec.get("title") or entry.get("title") or uid
        return WantedDashboard(uid=uid, title=title, folder_uid=folder_uid, dashboard=spec, version=meta.get("version"),
                               label=f"{label_folder}/{title}", schema="v2", resource=resource)
    dash = map_datasources(doc["dashboard"], ds_map)
    uid = dash.get("uid") or entry["uid"]
    title = dash.get("title") or entry.get("title") or uid
    return WantedDashboard(uid=uid, title=title, folder_uid=folder_uid, dashboard=dash,
                           version=meta.get("version", dash.get("version")), label=f"{label_folder}/{title}")


# ---------------------------------------------------------------------------------------- restore: apply
def apply_plan(job: RestoreJob, client, items: list, workers: int) -> None:
    """Report every item; unless dry-running, send the changing ones, in order (dashboards in parallel)."""
    reported = {}
    for item in items:
        diff = _diff(item) if job.diff and item.before is not None and item.kind == "dashboard" else None
        reported[id(item)] = job.plan(item.kind, item.name, item.action, item.reason, diff=diff)
        if item.action == "error":
            reported[id(item)].error = item.reason
        if item.kind == "contact point" and item.action == "skip" and "secret" in item.reason:
            job.warn(f"contact point {item.name}: {item.reason}")
    for item in items:
        if item.kind == "datasource" and item.extra.get("secure_fields"):
            job.warn(f"datasource {item.name}: re-enter {', '.join(item.extra['secure_fields'])} in Grafana "
                     "(secrets are never backed up)")
    if job.dry_run:
        return
    for kind, todo in phases(items):  # folders, datasources, library panels, dashboards, alert rules, contact points
        if kind == "dashboard":
            failed = {i.uid for i in items if i.kind == "library panel" and i.changes and not reported[id(i)].applied}
            waiting = waiting_on_library_panels(todo, failed)
            for item in todo:
                if item.uid in waiting:
                    reported[id(item)].error = waiting[item.uid]
            _apply_dashboards(job, client, [i for i in todo if i.uid not in waiting], reported, workers)
            continue
        for item in todo:
            _apply_one(client, item, reported[id(item)], job)


def _apply_dashboards(job, client, dashboards, reported, workers) -> None:
    output = getattr(job.context, "output", None)
    progress = output.progress(len(dashboards), "restoring dashboards") if output else None
    import contextlib

    with progress or contextlib.nullcontext(lambda n=1: None) as advance, ThreadPoolExecutor(max_workers=workers) as pool:
        for future in as_completed([pool.submit(_apply_one, client, i, reported[id(i)], job) for i in dashboards]):
            future.result()
            advance(1)


def _apply_one(client, item, reported, job) -> None:
    try:
        client.apply(item)
        reported.applied = True
    except ServiceError as exc:
        if item.kind in ("library panel", "alert rule", "contact point") and exc.status in NOT_OFFERED:
            reported.action = "skip"
            reported.detail = f"the target does not accept new {item.kind}s over HTTP ({exc.status}); recreate it by hand"
            job.warn(f"{item.kind} {item.name}: {reported.detail}")
            return
        if item.kind in ("dashboard", "folder"):
            action, reason = explain_save_error(item.kind, item.uid, exc.status, getattr(exc, "reason", ""),
                                                getattr(exc, "server_message", "") or exc.format_message())
            reported.action, reported.detail = action, reason
            if action == "error":
                reported.error = reason
            return
        reported.error = exc.format_message()


def _diff(item) -> str:
    return diff_text(item.before, item.after, f"server/{item.uid}.json", f"backup/{item.uid}.json")
