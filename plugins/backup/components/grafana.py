"""Grafana: folders, dashboards (one file each, in a folder tree), datasources without secrets,
library panels, alert rules and contact points; restore with a per-dashboard plan."""

from __future__ import annotations

import copy
import difflib
import json
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any
from urllib.parse import quote

from aetherops.errors import ServiceError
from aetherops.redact import redact_data
from aetherops_plugins.backup.api import BackupJob, RestoreJob

SEARCH_PAGE = 5000
ROOT_DIR = "general"
DATASOURCE_SECRET_KEYS = ("secureJsonData", "password", "basicAuthPassword")
SECURE_NOTE = ("Grafana never returns datasource secrets (secureJsonData, passwords): they are not in this backup. "
               "Re-enter the fields listed under secure_fields after a restore.")


def make_service(profile, concurrency: int):
    """A GrafanaService whose connection pool matches the worker pool."""
    from aetherops.clients.grafana import GrafanaService

    return GrafanaService(profile.service("grafana"), pool_size=max(10, concurrency))


def close_service(service) -> None:
    api = service.__dict__.get("api")
    if api is not None:
        try:
            api.client.s.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass


def _not_offered(exc: ServiceError) -> bool:
    return exc.status in (404, 405, 501)


def search_all(reader, type_: str) -> list[dict]:
    """Every search hit of ``type_`` (dash-db or dash-folder), paging until a short page."""
    hits: list[dict] = []
    seen: set[str] = set()
    page = 1
    while True:
        batch = reader.get_json("/api/search", params={"type": type_, "limit": SEARCH_PAGE, "page": page}) or []
        fresh = [h for h in batch if h.get("uid") not in seen]
        seen.update(h.get("uid") for h in fresh)
        hits.extend(fresh)
        if len(batch) < SEARCH_PAGE or not fresh:  # a short page, or a server that ignores `page`
            return hits
        page += 1


def folder_tree(reader) -> list[dict]:
    """Every folder (nested ones included) as ``{uid, title, parentUid, path}``, parents first."""
    hits = [h for h in search_all(reader, "dash-folder") if h.get("type", "dash-folder") == "dash-folder"]
    by_uid = {h["uid"]: {"uid": h["uid"], "title": h.get("title", ""), "parentUid": h.get("folderUid") or None} for h in hits}
    out: list[dict] = []
    done: set[str] = set()

    def visit(uid: str, depth: int = 0) -> None:
        if uid in done or depth > 64:
            return
        folder = by_uid[uid]
        parent = folder["parentUid"]
        if parent and parent in by_uid:
            visit(parent, depth + 1)
        path = []
        cur: str | None = uid
        while cur and cur in by_uid and len(path) < 64:
            path.insert(0, by_uid[cur]["title"])
            cur = by_uid[cur]["parentUid"]
        folder["path"] = "/".join(path)
        done.add(uid)
        out.append(folder)

    for uid in sorted(by_uid, key=lambda u: (by_uid[u]["title"].lower(), u)):
        visit(uid)
    return out


def _folder_dirs(folders: list[dict]) -> dict[str, str]:
    """folder uid -> relative dir (``apps/apps-payments``) built from uids, which are filename-safe."""
    by_uid = {f["uid"]: f for f in folders}
    out: dict[str, str] = {}
    for f in folders:
        chain, cur = [], f["uid"]
        while cur and cur in by_uid and len(chain) < 64:
            chain.insert(0, _safe_name(cur))
            cur = by_uid[cur].get("parentUid")
        out[f["uid"]] = "/".join(chain)
    return out


def _safe_name(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))
    return keep.strip(".") or "_"


def normalize(dashboard: dict) -> dict:
    """The dashboard without the fields Grafana changes on every save (id, version)."""
    d = copy.deepcopy(dashboard)
    d.pop("id", None)
    d.pop("version", None)
    return d


def map_datasources(value: Any, mapping: dict[str, str]) -> Any:
    """Replace datasource uids (in ``datasource`` references and alert-rule ``datasourceUid``) by ``mapping``."""
    if not mapping:
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "datasource" and isinstance(item, dict) and item.get("uid") in mapping:
                item = {**item, "uid": mapping[item["uid"]]}
            elif key == "datasource" and isinstance(item, str) and item in mapping:
                item = mapping[item]
            elif key == "datasourceUid" and isinstance(item, str) and item in mapping:
                item = mapping[item]
            out[key] = map_datasources(item, mapping)
        return out
    if isinstance(value, list):
        return [map_datasources(v, mapping) for v in value]
    return value


class GrafanaComponent:
    name = "grafana"
    description = "Grafana folders, dashboards, datasources (no secrets), library panels, alert rules, contact points"
    default = True
    restore_default = True

    # ------------------------------------------------------------------ backup
    def backup(self, job: BackupJob) -> None:
        if not job.has_service("grafana"):
            job.skip("the profile has no grafana.url")
        from aetherops_plugins.backup.components.fastget import ClientReader, FastGet, usable

        config = job.profile.service("grafana")
        reader = FastGet(config) if usable(config) else ClientReader(make_service(job.profile, job.concurrency))
        try:
            self._backup(job, reader)
        finally:
            reader.close()

    def _backup(self, job: BackupJob, reader) -> None:
        # health first and alone: a server that is down fails here with one clear error (exit 3)
        health = reader.get_json("/api/health") or {}
        job.record_server(reader.url, health.get("version"))
        with ThreadPoolExecutor(max_workers=job.concurrency) as pool:
            try:
                self._backup_pooled(job, reader, pool)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise

    def _backup_pooled(self, job: BackupJob, reader, pool: ThreadPoolExecutor) -> None:
        f_folders = pool.submit(folder_tree, reader)
        f_hits = pool.submit(search_all, reader, "dash-db")
        # datasources and the extras depend on nothing: fetched beside the dashboards, in the same bounded pool
        side = [pool.submit(self._backup_datasources, job, reader), pool.submit(self._backup_extras, job, reader)]
        folders = f_folders.result()
        job.write_json("folders.json", {"folders": folders})
        job.count("folders", len(folders))
        dirs = _folder_dirs(folders)

        hits = [h for h in f_hits.result() if h.get("type", "dash-db") == "dash-db"]
        used_names: set[str] = set()
        plan: list[tuple[dict, str]] = []
        for hit in sorted(hits, key=lambda h: h["uid"]):
            folder_dir = dirs.get(hit.get("folderUid") or "", ROOT_DIR) if hit.get("folderUid") else ROOT_DIR
            base = f"dashboards/{folder_dir}/{_safe_name(hit['uid'])}"
            rel = f"{base}.json"
            if rel.lower() in used_names:  # case-insensitive filesystems (Windows, macOS)
                import hashlib

                rel = f"{base}~{hashlib.sha256(hit['uid'].encode()).hexdigest()[:8]}.json"
            used_names.add(rel.lower())
            plan.append((hit, rel))

        index: list[dict] = []
        index_lock = threading.Lock()

        def fetch(hit: dict, rel: str) -> None:
            # one dashboard at a time per worker: fetched, written, hashed, dropped (memory stays bounded)
            uid = hit["uid"]
            try:
                doc = reader.get_json(f"/api/dashboards/uid/{quote(uid, safe='')}")
            except ServiceError as exc:
                if exc.status == 404:  # listed by search, gone now: deleted while the backup ran
                    job.warn(f"dashboard {uid} ({hit.get('title')}) was deleted during the backup (404 after search); "
                             "not in this backup")
                    job.count("dashboards_deleted_meanwhile")
                    return
                if job.keep_going:
                    job.add_missing("dashboard", uid, exc.format_message(), title=hit.get("title"))
                    return
                raise
            meta = doc.get("meta") or {}
            dashboard = doc.get("dashboard") or {}
            record = {
                "dashboard": dashboard,
                "meta": {k: meta.get(k) for k in ("folderUid", "folderTitle", "version", "created", "updated", "createdBy",
                                                   "updatedBy", "slug", "url", "provisioned", "provisionedExternalId") if k in meta},
            }
            record["meta"].setdefault("folderUid", hit.get("folderUid") or "")
            record["meta"].setdefault("version", dashboard.get("version"))
            job.write_json(rel, record, compact=True)  # one line: the C encoder keeps 1,000 dashboards fast
            with index_lock:
                index.append({"uid": uid, "title": dashboard.get("title", hit.get("title")), "folderUid": meta.get("folderUid") or "",
                              "folderTitle": meta.get("folderTitle") or "General", "version": dashboard.get("version", meta.get("version")),
                              "file": rel})

        futures = [pool.submit(fetch, hit, rel) for hit, rel in plan]
        with job.progress(len(futures), "grafana dashboards") as advance:
            for future in as_completed(futures):
                future.result()
                advance(1)
        for future in side:
            future.result()
        index.sort(key=lambda e: e["uid"])
        job.write_json("dashboards.json", {"dashboards": index})
        job.count("dashboards", len(index))

    def _backup_datasources(self, job: BackupJob, reader) -> None:
        try:
            listed = reader.get_json("/api/datasources") or []
        except ServiceError as exc:
            if exc.status != 403:
                raise
            job.warn("datasources not backed up: the token may not read them (HTTP 403); use an Admin service account")
            return
        out: list[dict] = []
        lock = threading.Lock()

        def fetch(item: dict) -> None:
            full = item
            if item.get("uid"):
                try:
                    full = reader.get_json(f"/api/datasources/uid/{quote(item['uid'], safe='')}")
                except ServiceError as exc:
                    if exc.status not in (403, 404):
                        raise
            ds = {k: v for k, v in full.items() if k not in DATASOURCE_SECRET_KEYS and k != "secureJsonFields"}
            secure = sorted(k for k, v in (full.get("secureJsonFields") or {}).items() if v)
            ds["secure_fields"] = secure
            ds = redact_data(ds)
            with lock:
                out.append(ds)

        for item in listed:
            fetch(item)
        out.sort(key=lambda d: (d.get("name") or "", d.get("uid") or ""))
        needing = [d["name"] for d in out if d.get("secure_fields")]
        job.write_json("datasources.json", {"note": SECURE_NOTE, "datasources": out})
        job.count("datasources", len(out))
        if needing:
            job.note(f"datasource secrets are not backed up; re-enter them after a restore for: {', '.join(needing)}")

    def _backup_extras(self, job: BackupJob, reader) -> None:
        def library_panels() -> list[dict]:
            elements: list[dict] = []
            page = 1
            while True:
                body = reader.get_json("/api/library-elements", params={"perPage": 100, "page": page}) or {}
                result = body.get("result") or {}
                batch = result.get("elements") or []
                elements.extend(batch)
                if len(batch) < 100 or len(elements) >= int(result.get("totalCount") or 0):
                    return elements
                page += 1

        extras = [
            ("library_panels", "library-panels.json", "library panels", library_panels),
            ("alert_rules", "alert-rules.json", "alert rules", lambda: reader.get_json("/api/v1/provisioning/alert-rules") or []),
            ("contact_points", "contact-points.json", "contact points",
             lambda: reader.get_json("/api/v1/provisioning/contact-points") or []),
        ]
        for key, filename, label, fetch in extras:
            try:
                items = fetch()
            except ServiceError as exc:
                if _not_offered(exc) or exc.status == 403:
                    job.note(f"{label} skipped: the server does not offer them (HTTP {exc.status})")
                    job.meta.setdefault("not_offered", []).append(key)
                    continue
                raise
            if key == "contact_points":
                items = redact_data(items)
                if items:
                    job.note("contact point secrets come back from Grafana redacted; re-enter them after a restore")
            job.write_json(filename, {key: items})
            job.count(key, len(items))

    # ------------------------------------------------------------------ restore
    def restore(self, job: RestoreJob) -> None:
        if not job.has_service("grafana"):
            job.plan("service", "grafana", "skip", "the target profile has no grafana.url")
            return
        svc = make_service(job.profile, job.options["concurrency"])
        try:
            self._restore(job, svc)
        finally:
            close_service(svc)

    def _restore(self, job: RestoreJob, svc) -> None:
        folder_map: dict[str, str] = dict(job.options.get("folder_map") or {})
        ds_map: dict[str, str] = dict(job.options.get("datasource_uid_map") or {})
        api = svc.api
        svc.call("GET /api/health", api.health.check)

        # folders, parents first
        folders = job.read_json("folders.json").get("folders", []) if job.exists("folders.json") else []
        from aetherops_plugins.backup.components.fastget import ClientReader

        existing = {f["uid"] for f in folder_tree(ClientReader(svc))}
        for folder in folders:
            uid = folder_map.get(folder["uid"], folder["uid"])
            parent = folder_map.get(folder.get("parentUid") or "", folder.get("parentUid") or "") or None
            if uid in existing:
                job.plan("folder", folder.get("path") or folder["title"], "unchanged", f"uid {uid}")
                continue
            item = job.plan("folder", folder.get("path") or folder["title"], "create", f"uid {uid}" + (f" in {parent}" if parent else ""))
            if not job.dry_run:
                try:
                    svc.call(f"POST /api/folders {uid}", api.folder.create_folder, folder["title"], uid=uid, parent_uid=parent)
                    item.applied = True
                    existing.add(uid)
                except ServiceError as exc:
                    item.error = exc.format_message()
        # mapped folders that are not in the backup's tree but are targets of the map must exist too
        for old, new in folder_map.items():
            if new not in existing and old not in {f["uid"] for f in folders}:
                job.warn(f"--folder-map {old}={new}: folder {new} does not exist on the target and {old} is not in the backup")

        self._restore_datasources(job, svc, ds_map)
        self._restore_dashboards(job, svc, folder_map, ds_map, existing)
        self._restore_extras(job, svc, folder_map, ds_map)

    def _restore_dashboards(self, job: RestoreJob, svc, folder_map, ds_map, existing_folders) -> None:
        if not job.exists("dashboards.json"):
            return
        index = job.read_json("dashboards.json").get("dashboards", [])
        api = svc.api
        backup_name = job.manifest.get("name") or job.manifest.get("started", "")

        def one(entry: dict) -> None:
            doc = job.read_json(entry["file"])
            dash = map_datasources(doc["dashboard"], ds_map)
            uid = dash.get("uid") or entry["uid"]
            title = dash.get("title") or entry.get("title") or uid
            backed_version = doc.get("meta", {}).get("version", dash.get("version"))
            folder_uid = doc.get("meta", {}).get("folderUid") or ""
            folder_uid = folder_map.get(folder_uid, folder_uid)
            label = f"{entry.get('folderTitle') or 'General'}/{title}"
            try:
                current = svc.call(f"GET /api/dashboards/uid/{uid}", api.dashboard.get_dashboard, uid)
            except ServiceError as exc:
                if exc.status != 404:
                    raise
                current = None
            diff = None
            if current is None:
                action, detail, version, overwrite = "create", f"uid {uid}", None, False
            else:
                cur = current.get("dashboard") or {}
                cur_folder = (current.get("meta") or {}).get("folderUid") or ""
                cur_version = cur.get("version", (current.get("meta") or {}).get("version"))
                same = normalize(cur) == normalize(dash) and cur_folder == folder_uid
                if job.diff and not same:
                    diff = "".join(difflib.unified_diff(
                        _pretty({"folderUid": cur_folder, **normalize(cur)}), _pretty({"folderUid": folder_uid, **normalize(dash)}),
                        fromfile=f"server/{uid}.json", tofile=f"backup/{uid}.json"))
                if same:
                    action, detail, version, overwrite = "unchanged", f"uid {uid} v{cur_version}", None, False
                elif (current.get("meta") or {}).get("provisioned"):
                    action, detail, version, overwrite = ("skip", f"uid {uid}: provisioned from files on the server "
                                                          "(change it there)", None, False)
                elif cur_version == backed_version:
                    action, detail, version, overwrite = "update", f"uid {uid} v{cur_version}", cur_version, False
                elif job.force:
                    action, detail, version, overwrite = ("overwrite", f"uid {uid}: server v{cur_version} changed since backup "
                                                          f"v{backed_version}; --force", cur_version, True)
                else:
                    action, detail, version, overwrite = ("conflict", f"uid {uid}: changed on the server since the backup "
                                                          f"(server v{cur_version}, backup v{backed_version}); skipped, use --force", None, False)
            item = job.plan("dashboard", label, action, detail, diff=diff)
            if job.dry_run or action not in ("create", "update", "overwrite"):
                return
            if folder_uid and folder_uid not in existing_folders:
                item.error = f"folder {folder_uid} does not exist on the target"
                return
            body_dash = {**dash, "id": None, "uid": uid}
            if version is None:
                body_dash.pop("version", None)
            else:
                body_dash["version"] = version
            body = {"dashboard": body_dash, "folderUid": folder_uid, "overwrite": overwrite,
                    "message": f"restored by aetherops from backup {backup_name}"[:500]}
            try:
                svc.call(f"POST /api/dashboards/db {uid}", api.dashboard.update_dashboard, body)
                item.applied = True
            except ServiceError as exc:
                if exc.status == 412:
                    reason = exc.format_message().split(": ")[-1]
                    item.action = "conflict"
                    if "same name" in reason:
                        item.detail = f"uid {uid}: {reason} (another uid); skipped: rename or move one of them"
                    else:
                        item.detail = f"uid {uid}: {reason} (saved on the server meanwhile); skipped, use --force"
                else:
                    item.error = exc.format_message()

        workers = job.options["concurrency"]
        output = getattr(job.context, "output", None)
        progress = output.progress(len(index), "planning dashboards" if job.dry_run else "restoring dashboards") if output else None
        import contextlib

        with progress or contextlib.nullcontext(lambda n=1: None) as advance, ThreadPoolExecutor(max_workers=workers) as pool:
            for future in as_completed([pool.submit(one, e) for e in index]):
                future.result()
                advance(1)
        job.items.sort(key=lambda i: (i.component, i.kind != "folder", i.kind, i.name))

    def _restore_datasources(self, job: RestoreJob, svc, ds_map) -> None:
        if not job.exists("datasources.json"):
            return
        api = svc.api
        backed = job.read_json("datasources.json").get("datasources", [])
        current = svc.call("GET /api/datasources", api.datasource.list_datasources) or []
        by_uid = {d.get("uid"): d for d in current}
        by_name = {d.get("name"): d for d in current}
        # uids this restore creates (not mapped, not there, no name clash): a map may point at one of them
        created = {ds.get("uid") for ds in backed if ds.get("uid") not in ds_map and ds.get("uid") not in by_uid
                   and ds.get("name") not in by_name}
        for ds in backed:
            uid, name = ds.get("uid"), ds.get("name")
            if uid in ds_map:
                mapped = ds_map[uid]
                if mapped not in by_uid and mapped not in created:
                    message = (f"backup.datasource_uid_map maps {uid} to {mapped}, which the target Grafana does not have "
                               "(and this restore does not create it): dashboards and alert rules would point at nothing")
                    job.warn(message)
                    job.plan("datasource", name, "conflict", message)
                    continue
                job.plan("datasource", name, "unchanged", f"uid {uid} mapped to the target's {mapped}")
                continue
            if uid in by_uid:
                job.plan("datasource", name, "unchanged", f"uid {uid} exists")
                continue
            if name in by_name:
                job.plan("datasource", name, "conflict", f"a datasource named {name!r} exists with another uid "
                         f"({by_name[name].get('uid')}); map it with backup.datasource_uid_map")
                continue
            secure = ds.get("secure_fields") or []
            detail = f"uid {uid}" + (f"; re-enter secrets: {', '.join(secure)}" if secure else "")
            item = job.plan("datasource", name, "create", detail)
            if secure:
                job.warn(f"datasource {name}: re-enter {', '.join(secure)} in Grafana (secrets are never backed up)")
            if job.dry_run:
                continue
            body = {k: ds[k] for k in ("name", "type", "url", "access", "uid", "user", "database", "basicAuth", "basicAuthUser",
                                       "withCredentials", "isDefault", "jsonData", "readOnly") if k in ds}
            try:
                svc.call(f"POST /api/datasources {name}", api.datasource.create_datasource, body)
                item.applied = True
            except ServiceError as exc:
                item.error = exc.format_message()

    def _restore_extras(self, job: RestoreJob, svc, folder_map, ds_map) -> None:
        api = svc.api
        specs = [
            ("library_panels", "library-panels.json", "library panel", "GET /api/library-elements",
             lambda: [e for e in ((svc.call("GET /api/library-elements", api.libraryelement.list_library_elements, per_page=5000)
                                   or {}).get("result") or {}).get("elements") or []],
             lambda e: ("POST", "/library-elements", {"uid": e["uid"], "name": e["name"], "kind": e.get("kind", 1),
                                                      "model": e.get("model") or {},
                                                      "folderUid": folder_map.get(e.get("folderUid") or "", e.get("folderUid") or "")}),
             "name"),
            ("alert_rules", "alert-rules.json", "alert rule", "GET /api/v1/provisioning/alert-rules",
             lambda: svc.call("GET /api/v1/provisioning/alert-rules", api.alertingprovisioning.get_alertrules_all) or [],
             lambda r: ("POST", "/v1/provisioning/alert-rules",
                        map_datasources({**{k: v for k, v in r.items() if k not in ("id", "updated", "provenance")},
                                         "folderUID": folder_map.get(r.get("folderUID") or "", r.get("folderUID") or "")}, ds_map)),
             "title"),
            ("contact_points", "contact-points.json", "contact point", "GET /api/v1/provisioning/contact-points",
             lambda: svc.call("GET /api/v1/provisioning/contact-points", api.alertingprovisioning.get_contactpoints) or [],
             lambda c: ("POST", "/v1/provisioning/contact-points", {k: v for k, v in c.items()}),
             "name"),
        ]
        for key, filename, label, _what, list_fn, body_fn, title_key in specs:
            if not job.exists(filename):
                continue
            backed = job.read_json(filename).get(key, [])
            if not backed:
                continue
            try:
                current = {x.get("uid") for x in list_fn()}
            except ServiceError as exc:
                if _not_offered(exc) or exc.status == 403:
                    job.plan(label, f"{len(backed)} item(s)", "skip", f"the target does not offer {label}s (HTTP {exc.status})")
                    continue
                raise
            for obj in backed:
                name = obj.get(title_key) or obj.get("uid")
                if obj.get("uid") in current:
                    job.plan(label, name, "unchanged", f"uid {obj.get('uid')}")
                    continue
                item = job.plan(label, name, "create", f"uid {obj.get('uid')}")
                if key == "contact_points" and _has_masked(obj.get("settings")):
                    job.warn(f"contact point {name}: its secrets were redacted by Grafana; re-enter them after the restore")
                if job.dry_run:
                    continue
                method, path, body = body_fn(obj)
                try:
                    svc.call(f"{method} /api{path}", getattr(api.client, method), path, json=body)
                    item.applied = True
                except ServiceError as exc:
                    if _not_offered(exc):
                        item.action = "skip"
                        item.detail = f"the target does not accept new {label}s over HTTP ({exc.status}); recreate it by hand"
                        job.warn(f"{label} {name}: {item.detail}")
                    else:
                        item.error = exc.format_message()


def _has_masked(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_masked(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_masked(v) for v in value)
    return value in ("***", "[REDACTED]", "<secret>")


def _pretty(data: Any) -> list[str]:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").splitlines(keepends=True)
