"""Dashboards as code: a folder of dashboard JSON is the source of truth for a Grafana.

read the tree -> fetch the server's state -> plan with :mod:`aetherops.grafana_plan` (the same pure
planner ``aetherops restore`` uses) -> apply the changing items. What was pushed (or pulled) is recorded
per Grafana in the state dir, so the next push tells a repo edit (update) from a UI edit (conflict).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aetherops.errors import ConfigError, ServiceError, UsageError
from aetherops.files import write_atomically
from aetherops.grafana_plan import (
    ServerState,
    WantedDashboard,
    diff_text,
    explain_save_error,
    folder_tree,
    normalize,
    plan_dashboards,
    plan_folders,
    slugify,
)

#: Parallel Grafana requests (fetching and saving dashboards, creating folders of one depth).
WORKERS = 16
#: Keys of Grafana's "export for sharing" form that are not part of the dashboard.
SHARING_KEYS = ("__inputs", "__requires", "__elements")


@dataclass
class LocalDashboard:
    """One dashboard file: where it is, which folder path it goes to ("" = General), its content.

    A Grafana 12 v2 resource file (``apiVersion: dashboard.grafana.app/v2...``, ``kind: Dashboard``,
    ``metadata.name``, ``spec``) has ``schema`` "v2", ``resource`` the file's object and ``dashboard`` its spec."""

    path: Path
    folder: str
    dashboard: dict
    schema: str = "v1"
    resource: dict | None = None

    @property
    def uid(self) -> str:
        if self.resource is not None:
            return str((self.resource.get("metadata") or {}).get("name") or "")
        return str(self.dashboard.get("uid") or "")

    @property
    def title(self) -> str:
        return str(self.dashboard.get("title") or "")


@dataclass
class Report:
    """What a push/diff did: one row per folder and dashboard, plus the exit code it deserves."""

    rows: list[dict] = field(default_factory=list)
    server_errors: int = 0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.rows:
            out[row["action"]] = out.get(row["action"], 0) + 1
        return out


# ---------------------------------------------------------------------------------------- files
def stable_json(dashboard: dict) -> str:
    """The one way dashboards are written: normalised, sorted keys, 2-space indent, trailing newline."""
    return json.dumps(normalize(dashboard), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


#: ``apiVersion`` prefix of a Grafana 12 dashboard resource (``dashboard.grafana.app/v2beta1``).
V2_API_PREFIX = "dashboard.grafana.app/v2"
#: Labels the server assigns (a database id): never written to a file.
V2_SERVER_LABELS = frozenset({"grafana.app/deprecatedInternalID"})


def is_v2_resource(data: Any) -> bool:
    """A Grafana 12 v2 dashboard resource: ``apiVersion`` dashboard.grafana.app/v2..., ``kind`` Dashboard, a ``spec``."""
    return (isinstance(data, dict) and str(data.get("apiVersion") or "").startswith(V2_API_PREFIX)
            and data.get("kind", "Dashboard") == "Dashboard" and isinstance(data.get("spec"), dict))


def v2_file_resource(resource: dict, uid: str) -> dict:
    """What a pulled v2 dashboard's file holds: apiVersion, kind, metadata.name (and the labels people set), the
    normalised spec. Annotations (folder: the directory says it; message, updatedBy, timestamps: per save) and the
    server's bookkeeping (resourceVersion, generation, uid, namespace, status) are left out, so a file changes
    only when the dashboard does."""
    meta = resource.get("metadata") or {}
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k not in V2_SERVER_LABELS}
    return {"apiVersion": resource.get("apiVersion"), "kind": "Dashboard",
            "metadata": {"name": meta.get("name") or uid, **({"labels": labels} if labels else {})},
            "spec": normalize(resource.get("spec") or {})}


def bind_inputs(dashboard: dict, bindings: dict[str, str], path: Path) -> dict:
    """Grafana's "export for sharing" form: replace ``${INPUT}`` by the bound uid; an unbound input is an error."""
    inputs = dashboard.get("__inputs") or []
    if not isinstance(inputs, list) or not all(isinstance(spec, dict) for spec in inputs):
        raise ConfigError("__inputs must be a list of objects", path=path)
    values: dict[str, str] = {}
    for spec in inputs:
        name = str(spec.get("name") or "")
        if spec.get("type") == "constant":
            values[name] = str(spec.get("value", ""))
        elif name in bindings:
            values[name] = bindings[name]
        else:
            raise ConfigError(f"input {name} is not bound: add it to dashboards.datasources in the profile "
                              f"or pass --set-input {name}=UID", path=path)

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            for name, bound in values.items():
                value = value.replace("${" + name + "}", bound)
        return value

    bound = walk(dashboard)
    for key in SHARING_KEYS:
        bound.pop(key, None)
    return bound


def read_tree(root: Path, *, folder: str | None = None, bindings: dict[str, str] | None = None,
              write_uids: bool = False, bad: list[ConfigError] | None = None) -> list[LocalDashboard]:
    """Every ``*.json`` under ``root`` (sorted), its sub-directory as folder path (``folder`` overrides it).
    A dashboard without a uid gets one derived from its path (``write_uids``: written back into the file).
    Invalid JSON, a missing title, a duplicate uid: a :class:`ConfigError` naming the file (and line), raised,
    or, when a ``bad`` list is given, appended to it and the file left out (the others are still read)."""
    from aetherops.yamlsafe import InputError, load_json

    if not root.is_dir():
        raise ConfigError("no such directory of dashboards", path=root)
    found: list[LocalDashboard] = []
    seen: dict[str, Path] = {}
    pending: list[tuple[Path, str]] = []  # uids to write back, once every file has been read
    for path in sorted(root.rglob("*.json")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        try:
            try:
                data = load_json(path.read_bytes())
            except InputError as exc:
                raise ConfigError(exc.message, path=path, line=exc.line) from None
            if isinstance(data, dict) and isinstance(data.get("dashboard"), dict):
                data = data["dashboard"]  # the {"dashboard", "meta"} envelope
            if not isinstance(data, dict):
                raise ConfigError("not a dashboard (a JSON object is expected)", path=path)
            if "__inputs" in data:
                data = bind_inputs(data, bindings or {}, path)
            resource = None
            if is_v2_resource(data):  # Grafana 12's v2 schema: the uid is metadata.name, the dashboard is the spec
                resource = data
                if not isinstance(resource.get("metadata") or {}, dict):
                    raise ConfigError("the v2 dashboard's metadata must be an object", path=path)
                resource["metadata"] = meta = dict(resource.get("metadata") or {})
                for part in ("annotations", "labels"):
                    if not isinstance(meta.get(part) or {}, dict):
                        raise ConfigError(f"the v2 dashboard's metadata.{part} must be an object", path=path)
                data = resource["spec"]
                key, uid = "metadata.name", meta.get("name")
            else:
                key, uid = "uid", data.get("uid")
            if not isinstance(data.get("title"), str) or not data["title"].strip():
                raise ConfigError("the dashboard has no title", path=path)
            derived = uid in (None, "")
            if derived:
                uid = uid_for_path(rel.with_suffix("").as_posix())
                (meta if resource is not None else data)[key.rpartition(".")[2]] = uid
            if not isinstance(uid, str):
                raise ConfigError(f"the dashboard's {key} must be a string", path=path)
            if uid in seen:
                raise ConfigError(f"duplicate uid {uid} (also in {seen[uid]})", path=path)
            seen[uid] = path
            if derived and write_uids:  # only a file that was read whole gets its uid written back
                pending.append((path, uid))
            found.append(LocalDashboard(path, folder if folder is not None else "/".join(rel.parts[:-1]), data,
                                        schema="v2" if resource is not None else "v1", resource=resource))
        except ConfigError as exc:
            if bad is None:
                raise
            bad.append(exc)
    for path, uid in pending:
        _write_uid(path, uid)
    return found


def _write_uid(path: Path, uid: str) -> None:
    """Put ``uid`` into the file (first key of the dashboard, inside an envelope if there is one), rest kept."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if is_v2_resource(data):
        data["metadata"] = {"name": uid, **{k: v for k, v in (data.get("metadata") or {}).items() if k != "name"}}
        write_atomically(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", make_parents=True)
        return
    target = data["dashboard"] if isinstance(data.get("dashboard"), dict) else data
    updated = {"uid": uid, **{k: v for k, v in target.items() if k != "uid"}}
    if target is data:
        data = updated
    else:
        data["dashboard"] = updated
    write_atomically(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", make_parents=True)


# ---------------------------------------------------------------------------------------- pushed record
def fingerprint(dashboard: dict) -> str:
    """sha256 of the normalised dashboard, compact (the C encoder: no indent), key order ignored."""
    text = json.dumps(normalize(dashboard), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Record:
    """uid -> fingerprint of what was last pushed to (or pulled from) one Grafana, in the state dir."""

    def __init__(self, url: str):
        from aetherops.profiles import state_dir

        self.path = state_dir() / "dashboards" / (hashlib.sha256(url.encode("utf-8")).hexdigest()[:16] + ".json")
        self.url = url
        try:
            self.pushed: dict[str, str] = json.loads(self.path.read_text(encoding="utf-8")).get("pushed", {})
        except (OSError, ValueError, AttributeError):
            self.pushed = {}

    def save(self) -> None:
        write_atomically(self.path, json.dumps({"url": self.url, "pushed": self.pushed}, indent=2, sort_keys=True) + "\n", make_parents=True)


# ---------------------------------------------------------------------------------------- server
def uid_for_path(path: str) -> str:
    """A stable uid from a relative path, for folders and uid-less dashboards (Grafana uids are at most 40 characters)."""
    slug = slugify(path.replace("/", "-")) or "folder"
    return slug if len(slug) <= 40 else slug[:27] + "-" + hashlib.sha256(path.encode("utf-8")).hexdigest()[:12]


def fetch_state(client, uids: list[str]) -> ServerState:
    """Version, folders (with their title paths in ``extra_paths``), search hits and the wanted uids' dashboards."""
    with ThreadPoolExecutor(max_workers=3) as pool:  # three independent reads: one round trip, not three
        health, folder_hits, hits = (f.result() for f in [pool.submit(client.health), pool.submit(client.search_all, "dash-folder"),
                                                          pool.submit(client.search_all, "dash-db")])
    state = ServerState(version=str(health.get("version") or ""))
    for f in folder_tree(folder_hits):
        state.folders[f["uid"]] = {"title": f["title"], "parentUid": f["parentUid"], "path": f["path"]}
    state.hits = hits
    on_server = {h.get("uid") for h in state.hits}

    def one(uid: str) -> tuple[str, dict | None]:
        try:
            return uid, client.dashboard_or_v2(uid)  # Grafana 12 v2 ones through /apis: spec, generation, resourceVersion
        except ServiceError as exc:
            if exc.status == 404:
                return uid, None
            raise

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for uid, doc in pool.map(one, [u for u in uids if u in on_server]):
            if doc is not None:
                state.dashboards[uid] = doc
    return state


_UNSAFE = set('<>:"\\|?*')


def dir_path(folder_path: str) -> str:
    """A folder's title path as directory names that every OS accepts (``Team: A/x`` -> ``Team_ A/x``)."""
    return "/".join("".join("_" if c in _UNSAFE or ord(c) < 32 else c for c in part).rstrip(" .") or "_"
                    for part in folder_path.split("/") if part)


#: Tag in the version message of every dashboard push saves: its fingerprint, so another machine (a CI runner
#: without this one's record) can tell that the server's copy is still what was pushed.
MARK = "aetherops:"


def _tag(message: str, fp: str) -> str:
    tag = f"{MARK}{fp[:20]}"
    return f"{message[:500 - len(tag) - 3]} ({tag})" if message else tag


def recover_record(client, local: list[LocalDashboard], state: ServerState, record: Record) -> None:
    """For a dashboard that differs from the server's and that this machine's record does not know: if the
    server's latest version was saved by a push (its message carries the fingerprint of what the server has
    now), record it, so a repo edit is an update. One ``GET .../versions?limit=1`` per such dashboard."""
    for d in local:
        current = (state.dashboards.get(d.uid) or {}).get("dashboard")
        if current is None or normalize(current) == normalize(d.dashboard):
            continue
        fp = fingerprint(current)
        if record.pushed.get(d.uid) == fp:
            continue
        try:
            data = client.request("GET", f"/api/dashboards/uid/{quote(d.uid, safe='')}/versions", params={"limit": 1})
        except ServiceError:
            continue  # no history readable: the dashboard stays a conflict unless --force
        rows = data.get("versions") if isinstance(data, dict) else data
        if isinstance(rows, list) and rows and isinstance(rows[0], dict) and f"{MARK}{fp[:20]}" in str(rows[0].get("message") or ""):
            record.pushed[d.uid] = fp


def _folder_plan(local: list[LocalDashboard], state: ServerState) -> tuple[list[dict], dict[str, str]]:
    """Wanted folders (parents first) and folder path -> uid: an existing folder with that title path keeps its uid."""
    by_path = {dir_path(f["path"]): uid for uid, f in state.folders.items()}
    by_path.update({f["path"]: uid for uid, f in state.folders.items()})
    paths: set[str] = set()
    for d in local:
        parts = [p for p in d.folder.split("/") if p]
        for i in range(1, len(parts) + 1):
            paths.add("/".join(parts[:i]))
    wanted, uids = [], {"": ""}
    for path in sorted(paths, key=lambda p: (p.count("/"), p)):
        parent_path, _, title = path.rpartition("/")
        uid = by_path.get(path) or uid_for_path(path)
        uids[path] = uid
        wanted.append({"uid": uid, "title": title, "parentUid": uids.get(parent_path) or None, "path": path})
    return wanted, uids


def plan_prune(local: list[LocalDashboard], state: ServerState, folder_uids: dict[str, str], keep: set[str] = frozenset()) -> list:
    """``delete`` items for dashboards in the managed folders (those DIR maps to, never General) not in DIR
    (``keep``: more uids that are in DIR, such as files held back by lint)."""
    from aetherops.grafana_plan import Item

    managed = {uid for path, uid in folder_uids.items() if path}
    keep = {d.uid for d in local} | set(keep)
    paths = {uid: f.get("path") or f.get("title") for uid, f in state.folders.items()}
    return [Item("dashboard", f"{paths.get(h.get('folderUid'), h.get('folderUid'))}/{h.get('title')}", str(h.get("uid")),
                 "delete", f"uid {h.get('uid')}: in a managed folder, not in the dashboards folder")
            for h in state.hits if h.get("folderUid") in managed and h.get("uid") not in keep]


def plan_push(local: list[LocalDashboard], state: ServerState, record: Record, *, force: bool,
              prune: bool = False, message: str = "", keep: set[str] = frozenset()) -> list:
    """Folder and dashboard items. A dashboard the server still has as it was last pushed gets its version
    (an update); one edited on the server since (or never pushed from here) is a conflict unless ``force``."""
    folders, uids = _folder_plan(local, state)
    folder_items = plan_folders(folders, state)
    wanted = []
    for d in local:
        current = state.dashboards.get(d.uid)
        version = None
        pushed = record.pushed.get(d.uid)
        if current is not None and pushed is not None:
            cur, meta = current.get("dashboard") or {}, current.get("meta") or {}
            # the same content in the same folder is unchanged whatever its version: no fingerprint to compute
            same = (meta.get("folderUid") or "") == uids[d.folder] and normalize(cur) == normalize(d.dashboard)
            if same or pushed == fingerprint(cur):
                version = cur.get("version", meta.get("version"))
        wanted.append(WantedDashboard(uid=d.uid, title=d.title, folder_uid=uids[d.folder], dashboard=normalize(d.dashboard),
                                      version=version, label=f"{d.folder or 'General'}/{d.title}", schema=d.schema,
                                      resource=d.resource))
    created = [i.uid for i in folder_items if i.action == "create"]
    items = folder_items + plan_dashboards(wanted, state, force=force, planned_folders=created, message=message)
    return items + (plan_prune(local, state, uids, keep) if prune else [])


def _row(item, show_diff: bool) -> dict:
    row = {"kind": item.kind, "name": item.name, "uid": item.uid, "action": item.action, "reason": item.reason}
    if show_diff and item.before is not None and item.after is not None:
        row["diff"] = diff_text(item.before, item.after, f"grafana/{item.uid}.json", f"files/{item.uid}.json")
    return row


def _action_name(action: str) -> str:
    return {"create": "created", "update": "updated", "overwrite": "updated", "delete": "deleted"}.get(action, action)


def lint_errors(checks: list, root: Path) -> dict[Path, str]:
    """The lint plugin's dashboard checks over ``root``: file -> its first error finding (warnings pass)."""
    from aetherops_plugins.lint.engine import Options, run

    dashboard_checks = [c for c in checks if "dashboard" in (getattr(c, "kinds", ()) or ())]
    report = run(Options(paths=[str(root)], enable={c.id for c in dashboard_checks}), dashboard_checks)
    out: dict[Path, str] = {}
    for f in report.findings:
        if f.severity == "error":
            where = f"line {f.line}: " if f.line else ""
            out.setdefault(Path(f.file).resolve(), f"lint {f.check}: {where}{f.message} (--no-lint pushes it anyway)")
    return out


def push(client, root: Path, *, folder: str | None, bindings: dict[str, str], dry_run: bool, diff: bool,
         force: bool, url: str, prune: bool = False, message: str = "", write_uids: bool = False,
         progress=None, lint_checks: list | None = None) -> Report:
    """Plan, then (unless ``dry_run``) send folders, then dashboards; record what landed.
    ``progress(total, description)``: a context manager yielding ``advance(n)`` (``Output.progress``).
    ``lint_checks``: the lint plugin's checks; a file with an error finding is reported and not pushed."""
    bad: list[ConfigError] = []
    local = read_tree(root, folder=folder, bindings=bindings, write_uids=write_uids and not dry_run, bad=bad)
    bad_rows = [{"kind": "dashboard", "name": _rel_name(exc.path, root), "uid": None, "action": "error",
                 "reason": exc.format_message()} for exc in bad]
    if bad and prune:  # an unreadable file's dashboard is still meant to be there, but its uid is unknown
        prune = False
        bad_rows.append({"kind": "prune", "name": "prune", "uid": None, "action": "skipped",
                         "reason": f"dashboards missing from the folder are neither deleted nor reported: {len(bad)} "
                                   "file(s) could not be read and may hold them"})
    refused = lint_errors(lint_checks, root) if lint_checks else {}
    # Path.resolve costs a few stat calls per file: only when lint refused something
    held = [(d, refused[d.path.resolve()]) for d in local if d.path.resolve() in refused] if refused else []
    lint_rows = [{"kind": "dashboard", "name": f"{d.folder or 'General'}/{d.title}", "uid": d.uid, "action": "error",
                  "reason": reason} for d, reason in held]
    held_back = {d.uid for d, _ in held}  # in DIR all the same: never pruned
    local = [d for d in local if d.uid not in held_back]
    record = Record(url)
    state = fetch_state(client, [d.uid for d in local])
    recover_record(client, local, state, record)
    items = plan_push(local, state, record, force=force, prune=prune, message=message, keep=held_back)
    fps = {d.uid: fingerprint(d.dashboard) for d in local}
    for item in items:
        if item.kind == "dashboard" and item.changes and isinstance(item.body, dict):
            if item.extra.get("schema") == "v2":  # /apis keeps the version message in an annotation
                item.body["metadata"].setdefault("annotations", {})["grafana.app/message"] = _tag(message, fps[item.uid])
            else:
                item.body["message"] = _tag(message, fps[item.uid])
    report = Report(rows=bad_rows + lint_rows)
    rows = {id(i): _row(i, diff) for i in items}
    if not dry_run:
        failed_folders: set[str] = set()
        folders = [i for i in items if i.changes and i.kind == "folder"]
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for depth in sorted({i.name.count("/") for i in folders}):  # parents before children, siblings together
                level = [i for i in folders if i.name.count("/") == depth and (i.body or {}).get("parentUid") not in failed_folders]
                for item, ok in pool.map(lambda i: (i, _apply(client, i, rows[id(i)], report)), level):
                    if not ok:
                        failed_folders.add(item.uid)
        todo = [i for i in items if i.changes and i.kind == "dashboard"]
        for item in todo:
            if (item.body or {}).get("folderUid") in failed_folders:
                rows[id(item)].update(action="error", reason=f"uid {item.uid}: its folder could not be created")
        todo = [i for i in todo if rows[id(i)]["action"] != "error"]

        bar = progress(len(todo), "pushing dashboards") if progress and todo else contextlib.nullcontext(lambda n=1: None)
        with bar as advance, ThreadPoolExecutor(max_workers=WORKERS) as pool:
            landed = []
            for pair in pool.map(lambda i: (i, _apply(client, i, rows[id(i)], report)), todo):
                landed.append(pair)
                advance(1)
        for item in [i for i in items if i.action == "delete"]:
            if _delete(client, item, rows[id(item)], report):
                record.pushed.pop(item.uid, None)
        for item, ok in landed:
            if ok:
                record.pushed[item.uid] = fps[item.uid]
        for item in items:  # an unchanged dashboard is as good as pushed: a later repo edit is an update
            if item.kind == "dashboard" and item.action == "unchanged":
                record.pushed[item.uid] = fps[item.uid]
        record.save()
    for item in items:
        row = rows[id(item)]
        if not dry_run and (item.changes or item.action == "delete") and row["action"] == item.action:
            row["action"] = _action_name(item.action)
        report.rows.append(row)
    return report


def _rel_name(path, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except (TypeError, ValueError):
        return str(path)


def _apply(client, item, row: dict, report: Report) -> bool:
    try:
        client.apply(item)
        return True
    except ServiceError as exc:
        action, reason = explain_save_error(item.kind, item.uid, exc.status, getattr(exc, "reason", ""),
                                            getattr(exc, "server_message", "") or exc.format_message())
        if action == "error":
            report.server_errors += 1
        row.update(action=action, reason=reason)
        return False


def _delete(client, item, row: dict, report: Report) -> bool:
    try:
        client.request("DELETE", f"/api/dashboards/uid/{quote(item.uid, safe='')}")
        return True
    except ServiceError as exc:
        report.server_errors += 1
        row.update(action="error", reason=f"uid {item.uid}: not deleted: {exc.format_message()}")
        return False


# ---------------------------------------------------------------------------------------- pull / list
def list_dashboards(client, folder: str | None = None) -> list[dict]:
    paths = {f["uid"]: f["path"] for f in folder_tree(client.search_all("dash-folder"))}
    rows = [{"uid": h.get("uid"), "title": h.get("title"), "folder": paths.get(h.get("folderUid") or "", "")}
            for h in client.search_all("dash-db")]
    if folder is not None:
        rows = [r for r in rows if r["folder"] == folder]
    return sorted(rows, key=lambda r: (r["folder"], str(r["title"]).lower(), str(r["uid"])))


def find(client, wanted: str) -> list[dict]:
    """Dashboards whose uid is ``wanted``, else whose title is (case-insensitive): ``{uid, title, folder, url}``."""
    hits = client.search_all("dash-db")
    chosen = [h for h in hits if h.get("uid") == wanted] or [h for h in hits if str(h.get("title", "")).lower() == wanted.lower()]
    base = client.url.rstrip("/")
    return [{"uid": h.get("uid"), "title": h.get("title"), "folder": h.get("folderTitle") or "General",
             "url": base + str(h.get("url") or f"/d/{h.get('uid')}")} for h in chosen]


def find_one(client, wanted: str) -> dict:
    """The one dashboard whose uid, else title, is ``wanted`` (``{uid, title, folder, url}``); UsageError (exit 2)
    listing the candidates when none or several match. Shared by ``dashboards open`` and ``aetherops open``."""
    matches = find(client, wanted)
    if len(matches) != 1:
        listing = "; ".join(f"{m['folder']}/{m['title']} (uid {m['uid']})" for m in matches)
        raise UsageError(f"{len(matches)} dashboards match {wanted!r}" + (f": {listing}; give the uid" if matches else ""))
    return matches[0]


def _file_name(title: str, uid: str) -> str:
    return (slugify(title) or slugify(uid) or "dashboard") + ".json"


def pull(client, root: Path, *, folder: str | None, uids: tuple[str, ...], url: str) -> list[dict]:
    """Write every (chosen) dashboard as stable JSON in the layout push reads; a file already holding a uid keeps
    its name. Returns one row per file: written or unchanged."""
    existing: dict[str, Path] = {}
    if root.is_dir():
        try:
            existing = {d.uid: d.path for d in read_tree(root)}
        except ConfigError:
            existing = {}
    listing = list_dashboards(client, folder)
    if uids:
        listing = [r for r in listing if r["uid"] in set(uids)]
    record = Record(url)
    rows = []
    taken: set[Path] = set()
    for entry in listing:
        doc = client.dashboard_or_v2(entry["uid"])
        dashboard = doc.get("dashboard") or {}
        if "resource" in doc:  # stored in Grafana 12's v2 schema: the file is the resource, as push reads it back
            text = json.dumps(v2_file_resource(doc["resource"], entry["uid"]), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        else:
            text = stable_json(dashboard)
        path = existing.get(entry["uid"])
        if path is None:
            sub = Path(*dir_path(entry["folder"]).split("/")) if entry["folder"] else Path()
            path = root / sub / _file_name(entry["title"], entry["uid"])
            if path in taken or (path.exists() and path not in existing.values()):
                path = path.with_name(f"{path.stem}-{slugify(entry['uid'])}.json")
        taken.add(path)
        try:
            same = path.read_text(encoding="utf-8") == text
        except OSError:
            same = False
        if not same:
            write_atomically(path, text, make_parents=True)
        record.pushed[entry["uid"]] = fingerprint(dashboard)
        rows.append({"uid": entry["uid"], "title": entry["title"], "path": str(path), "action": "unchanged" if same else "written"})
    record.save()
    return rows


def parse_inputs(pairs: tuple[str, ...], profile_map: dict[str, str]) -> dict[str, str]:
    bindings = {str(k): str(v) for k, v in (profile_map or {}).items()}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--set-input {pair!r}: expected NAME=UID")
        bindings[name] = value
    return bindings
