"""Plan changes to a Grafana: what is wanted + what the server has now -> plan items, one reason each.

Pure functions (no HTTP, no files, no threads), shared by ``aetherops restore`` (the backup plugin's
Grafana component) and ``aetherops dashboards``: both *fetch* the server's state through
:class:`aetherops.clients.grafana.GrafanaClient`, *plan* here, then *apply* the items whose action
changes something. Quick start::

    from aetherops.grafana_plan import ServerState, WantedDashboard, plan_dashboards

    state = ServerState(version="11.2.0", folders={"ops": {"title": "Ops", "parentUid": None}},
                        hits=[{"uid": "other", "title": "Latency", "folderUid": "ops"}])
    wanted = [WantedDashboard(uid="lat", title="Latency", folder_uid="ops", dashboard={"uid": "lat", "title": "Latency"})]
    for item in plan_dashboards(wanted, state):
        print(item.action, item.name, item.reason)   # conflict ops/Latency: a dashboard with the same name ...

Actions: ``create``, ``update``, ``overwrite`` (change something); ``unchanged``; ``conflict`` (the
server has something in the way: someone's edit, a same-named dashboard; ``--force`` or a rename
resolves it); ``skip`` (deliberately left alone: provisioned from files, a secret nobody supplied);
``error`` (the server would refuse it whatever the flags: fix the input).

The save rules follow Grafana's dashboard service and folder service, by version (see docs/backup.md,
"Real Grafana"): before 12, "name exists" compares slugs in the folder and a dashboard titled like any
folder is refused (``name-match``); 12 drops both; a refresh below the server's ``min_refresh_interval`` is
raised to it by the legacy API and refused by 12's ``/apis``; folders nest at most ``max_folder_depth`` deep; a uid is one namespace for
folders and dashboards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

__all__ = [
    "APPLY_ORDER",
    "CHANGING",
    "Item",
    "ServerState",
    "WantedDashboard",
    "dashboard_size",
    "diff_text",
    "explain_save_error",
    "folder_dirs",
    "folder_tree",
    "library_panel_uids",
    "map_datasources",
    "normalize",
    "phases",
    "plan_dashboards",
    "plan_datasources",
    "plan_folders",
    "plan_objects",
    "refresh_seconds",
    "slugify",
    "version_tuple",
    "waiting_on_library_panels",
]

#: Actions that send something to the server.
CHANGING = frozenset({"create", "update", "overwrite"})
#: Grafana's default ``[server] max nested folder depth`` (folder.MaxNestedFolderDepth).
DEFAULT_MAX_FOLDER_DEPTH = 4


@dataclass
class Item:
    """One planned change. ``body`` is what applying it sends; ``reason`` is one line for people."""

    kind: str
    name: str
    uid: str
    action: str
    reason: str
    body: Any = None
    version: int | None = None
    overwrite: bool = False
    before: Any = None  # the server's normalised copy, for a diff (None: nothing there)
    after: Any = None  # the wanted normalised copy, for a diff
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def changes(self) -> bool:
        return self.action in CHANGING


@dataclass
class WantedDashboard:
    """A dashboard someone wants on the server (from a backup or from files)."""

    uid: str
    title: str
    folder_uid: str  # "" = the root (General)
    dashboard: dict
    version: int | None = None  # the version it was read at (backups); None: no version known (files)
    label: str = ""  # how the plan names it (folder path/title); default folder uid/title
    schema: str = "v1"  # "v1": /api/dashboards; "v2": the /apis/dashboard.grafana.app resource
    resource: dict | None = None  # v2: the backed-up resource (apiVersion, kind, metadata); ``dashboard`` is its spec


@dataclass
class ServerState:
    """What the target Grafana has, as fetched before planning.

    - ``version``: Grafana's version ("11.2.0"), drives the version-dependent save rules.
    - ``folders``: uid -> ``{"title", "parentUid"}`` (every folder, nested ones included).
    - ``hits``: every dashboard search hit (``uid``, ``title``, ``folderUid``) for name checks.
    - ``dashboards``: uid -> the server's current ``{"dashboard", "meta"}`` for the wanted uids (absent: none).
    - ``library_panels``: uids of the server's library panels.
    - ``min_refresh_interval``: the server's minimum (frontend settings ``minRefreshInterval``), or None.
    """

    version: str = ""
    folders: dict[str, dict] = field(default_factory=dict)
    hits: list[dict] = field(default_factory=list)
    dashboards: dict[str, dict] = field(default_factory=dict)
    library_panels: set[str] = field(default_factory=set)
    min_refresh_interval: str | None = None
    max_folder_depth: int = DEFAULT_MAX_FOLDER_DEPTH

    @property
    def major(self) -> int:
        return version_tuple(self.version)[0]


# ---------------------------------------------------------------------------------------- helpers
def version_tuple(version: str | None) -> tuple[int, int, int]:
    """``"11.2.0-pre"`` -> (11, 2, 0); unknown -> (0, 0, 0)."""
    parts = [int(p) for p in re.findall(r"\d+", str(version or "").split("-")[0].split("+")[0])[:3]]
    return tuple((parts + [0, 0, 0])[:3])  # type: ignore[return-value]


def slugify(title: str) -> str:
    """Grafana's slug of a title (what "name exists" compares before 12): ``Prod DB`` -> ``prod-db``."""
    return re.sub(r"[^a-z0-9]+", "-", str(title).lower()).strip("-")


_VOLATILE = frozenset({"id", "version", "iteration"})


def normalize(dashboard: dict) -> dict:
    """The dashboard without the fields Grafana changes on every save (id, version) or on every UI load (iteration).

    A new top-level dict; nested values are shared with ``dashboard`` (a deep copy per comparison was most of a
    no-op push's CPU): treat the result as read-only, or copy what you change."""
    return {k: v for k, v in dashboard.items() if k not in _VOLATILE}


def dashboard_size(dashboard: dict) -> int:
    import json

    return len(json.dumps(dashboard, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


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


def library_panel_uids(dashboard: dict) -> set[str]:
    """The library panels a dashboard links to: every ``libraryPanel.uid`` in it (panels, rows' panels,
    and v2 ``LibraryPanel`` elements alike)."""
    found: set[str] = set()
    level: list[Any] = [dashboard] if isinstance(dashboard, (dict, list)) else []
    while level:  # one nesting level at a time, containers only (strings and numbers are never visited)
        deeper: list[Any] = []
        for value in level:
            if isinstance(value, dict):
                lib = value.get("libraryPanel")
                if isinstance(lib, dict) and lib.get("uid"):
                    found.add(str(lib["uid"]))
                deeper.extend([v for v in value.values() if isinstance(v, (dict, list))])
            else:
                deeper.extend([v for v in value if isinstance(v, (dict, list))])
        level = deeper
    return found


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def refresh_seconds(value: Any) -> float | None:
    """``"30s"`` -> 30.0, ``"1m"`` -> 60.0; no refresh (``""``, False, None) or unparsable -> None."""
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|y)\s*", value)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else None


def folder_tree(hits: Iterable[dict]) -> list[dict]:
    """Folder search hits -> ``[{uid, title, parentUid, path}]``, parents before children, ordered by title."""
    by_uid = {h["uid"]: {"uid": h["uid"], "title": h.get("title", ""), "parentUid": h.get("folderUid") or None}
              for h in hits if h.get("type", "dash-folder") == "dash-folder" and h.get("uid")}
    out: list[dict] = []
    done: set[str] = set()

    def path_of(uid: str) -> str:
        parts: list[str] = []
        cur: str | None = uid
        while cur and cur in by_uid and len(parts) < 64:
            parts.insert(0, by_uid[cur]["title"])
            cur = by_uid[cur]["parentUid"]
        return "/".join(parts)

    def visit(uid: str, depth: int = 0) -> None:
        if uid in done or depth > 64:
            return
        parent = by_uid[uid]["parentUid"]
        if parent and parent in by_uid:
            visit(parent, depth + 1)
        if uid in done:  # a cycle brought us back
            return
        by_uid[uid]["path"] = path_of(uid)
        done.add(uid)
        out.append(by_uid[uid])

    for uid in sorted(by_uid, key=lambda u: (by_uid[u]["title"].lower(), u)):
        visit(uid)
    return out


def _safe_name(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))
    return keep.strip(".") or "_"


def folder_dirs(folders: list[dict]) -> dict[str, str]:
    """folder uid -> relative dir (``apps/apps-payments``) built from uids, which are filename-safe."""
    by_uid = {f["uid"]: f for f in folders}
    out: dict[str, str] = {}
    for f in folders:
        chain: list[str] = []
        cur = f["uid"]
        while cur and cur in by_uid and len(chain) < 64:
            chain.insert(0, _safe_name(cur))
            cur = by_uid[cur].get("parentUid")
        out[f["uid"]] = "/".join(chain)
    return out


# ---------------------------------------------------------------------------------------- folders
def _depth(uid: str | None, parents: dict[str, str | None]) -> int:
    """How many folders deep ``uid`` sits (a root folder is 1)."""
    depth, cur, seen = 0, uid, set()
    while cur and cur not in seen:
        seen.add(cur)
        depth += 1
        cur = parents.get(cur)
    return depth


def plan_folders(wanted: list[dict], state: ServerState, folder_map: dict[str, str] | None = None) -> list[Item]:
    """Folders (``{uid, title, parentUid, path}``, parents first) -> items: create / unchanged / conflict / error."""
    folder_map = folder_map or {}
    dashboard_uids = {h.get("uid") for h in state.hits}
    parents: dict[str, str | None] = {uid: f.get("parentUid") or None for uid, f in state.folders.items()}
    planned: set[str] = set()
    items: list[Item] = []
    for folder in wanted:
        uid = folder_map.get(folder["uid"], folder["uid"])
        raw_parent = folder.get("parentUid") or ""
        parent = folder_map.get(raw_parent, raw_parent) or None
        name = folder.get("path") or folder.get("title") or uid
        if uid in state.folders:
            items.append(Item("folder", name, uid, "unchanged", f"uid {uid} exists"))
            continue
        if uid in dashboard_uids:
            items.append(Item("folder", name, uid, "conflict", f"uid {uid} is taken by a dashboard on the server (folders and "
                              "dashboards share uids; Grafana answers 409, 412 on 12): map it with --folder-map"))
            continue
        if parent and parent not in state.folders and parent not in planned:
            items.append(Item("folder", name, uid, "error", f"its parent folder {parent} is neither on the server nor created by this plan"))
            continue
        depth = _depth(parent, parents) + 1
        if depth > state.max_folder_depth:
            items.append(Item("folder", name, uid, "error", f"{depth} folders deep; the server allows {state.max_folder_depth} "
                              "(folder.maximum-depth-reached): map it higher with --folder-map"))
            continue
        parents[uid] = parent
        planned.add(uid)
        body = {"uid": uid, "title": folder.get("title") or uid, **({"parentUid": parent} if parent else {})}
        items.append(Item("folder", name, uid, "create", f"uid {uid}" + (f" in {parent}" if parent else ""), body=body))
    return items


# ---------------------------------------------------------------------------------------- dashboards
def plan_dashboards(wanted: list[WantedDashboard], state: ServerState, *, force: bool = False,
                    planned_folders: Iterable[str] = (), planned_library_panels: Iterable[str] = (),
                    message: str = "") -> list[Item]:
    """Dashboards -> items, in the order given. ``planned_*``: uids that the plan creates before the dashboards.

    ``create`` / ``update`` (the server still has the version the backup was read at) / ``overwrite``
    (changed on the server, ``force``) / ``unchanged`` / ``conflict`` / ``skip`` (provisioned) / ``error``.
    """
    folders = set(state.folders) | set(planned_folders)
    library = set(state.library_panels) | set(planned_library_panels)
    before12 = state.major < 12  # an unknown version (hide_version) gets the stricter rules
    min_refresh = refresh_seconds(state.min_refresh_interval)
    # slugs of dashboards per folder and of all folders, for the checks Grafana < 12 makes
    taken: dict[tuple[str, str], list[str]] = {}
    for hit in state.hits:
        taken.setdefault((hit.get("folderUid") or "", slugify(hit.get("title", ""))), []).append(hit.get("uid"))
    folder_slugs = {slugify(f.get("title", "")) for f in state.folders.values()}
    items = []
    for w in wanted:
        items.append(_plan_dashboard(w, state, force, folders, library, before12, min_refresh, taken, folder_slugs, message))
    return items


def _plan_dashboard(w: WantedDashboard, state, force, folders, library, before12, min_refresh, taken, folder_slugs, message) -> Item:
    name = w.label or f"{w.folder_uid or 'General'}/{w.title}"
    uid = w.uid
    notes: list[str] = []

    def item(action: str, reason: str, **kw: Any) -> Item:
        if notes and action in CHANGING:
            reason = "; ".join([reason, *notes])
        out = Item("dashboard", name, uid, action, reason, **kw)
        out.extra["schema"] = w.schema
        if out.before is not None:
            out.after = {"folderUid": w.folder_uid, **normalize(w.dashboard)}
        return out

    raw_refresh = (w.dashboard.get("timeSettings") or {}).get("autoRefresh") if w.schema == "v2" else w.dashboard.get("refresh")
    refresh = refresh_seconds(raw_refresh)
    if min_refresh and refresh is not None and refresh < min_refresh:
        if w.schema == "v2" and state.major >= 12:
            return item("error", f"refresh {raw_refresh} is below the server's min_refresh_interval {state.min_refresh_interval} "
                                 "(Grafana 12's /apis refuses it): raise it in the dashboard")
        notes.append(f"the server raises its refresh {raw_refresh} to its min_refresh_interval {state.min_refresh_interval}")
    if w.schema == "v2" and 0 < state.major < 12:
        return item("error", f"uid {uid}: stored in Grafana 12's v2 schema; this Grafana ({state.version}) has no "
                             "/apis/dashboard.grafana.app to restore it through")
    missing = sorted(library_panel_uids(w.dashboard) - library)
    if missing:
        return item("error", f"library panel(s) {', '.join(missing)} neither on the server nor in this plan: Grafana would "
                             "save the dashboard and fail to connect them (500)")
    if w.folder_uid and w.folder_uid not in folders:
        return item("error", f"folder {w.folder_uid} does not exist on the target")
    current = state.dashboards.get(uid)
    if current is not None:
        cur = current.get("dashboard") or {}
        meta = current.get("meta") or {}
        cur_folder = meta.get("folderUid") or ""
        cur_version = cur.get("version", meta.get("version"))
        before = {"folderUid": cur_folder, **normalize(cur)}
        if normalize(cur) == normalize(w.dashboard) and cur_folder == w.folder_uid:
            return item("unchanged", f"uid {uid} v{cur_version}")
        if meta.get("v2") and w.schema == "v1":
            return item("skip", f"uid {uid}: stored in the v2 schema on the server now; the legacy API cannot replace it safely",
                        before=before)
        if meta.get("provisioned"):
            return item("skip", f"uid {uid}: provisioned from files on the server (change it there)", before=before)
    if before12 and w.schema == "v1":
        # Grafana < 12 looks for the slug among the folder's dashboards and among all folders
        # (getExistingDashboardByTitleAndFolder: slug=? AND (is_folder OR folder_id=?)); with overwrite it
        # would replace the other dashboard: never planned, whatever --force says
        slug = slugify(w.title)
        others = [u for u in taken.get((w.folder_uid, slug), []) if u != uid]
        if others:
            return item("conflict", f"uid {uid}: a dashboard with the same name (slug {slug!r}) exists in that folder "
                                    f"(uid {others[0]}); Grafana < 12 refuses it: rename or move one of them")
        if slug in folder_slugs:
            return item("error", f"uid {uid}: titled like a folder (slug {slug!r}); Grafana < 12 refuses it (name-match): "
                                 "rename the dashboard")
    if current is None:
        return item("create", f"uid {uid}", body=_save_body(w, None, False, message))
    if w.version is not None and cur_version == w.version:
        return item("update", f"uid {uid} v{cur_version}", body=_save_body(w, cur_version, False, message, meta),
                    version=cur_version, before=before)
    if force:
        why = (f"server v{cur_version} changed since backup v{w.version}" if w.version is not None
               else f"server v{cur_version} differs")
        return item("overwrite", f"uid {uid}: {why}; --force", body=_save_body(w, cur_version, True, message, meta),
                    version=cur_version, overwrite=True, before=before)
    if w.version is None:
        return item("conflict", f"uid {uid}: differs from the server's v{cur_version}; skipped, use --force", before=before)
    return item("conflict", f"uid {uid}: changed on the server since the backup (server v{cur_version}, backup v{w.version}); "
                            "skipped, use --force", before=before)


def _save_body(w: WantedDashboard, version: int | None, overwrite: bool, message: str, current_meta: dict | None = None) -> dict:
    if w.schema != "v1":  # a /apis resource: folder in an annotation, optimistic locking by resourceVersion
        resource = w.resource or {}
        annotations = {**((resource.get("metadata") or {}).get("annotations") or {})}
        annotations.pop("grafana.app/folder", None)
        if w.folder_uid:
            annotations["grafana.app/folder"] = w.folder_uid
        if message:
            annotations["grafana.app/message"] = message[:500]
        metadata: dict[str, Any] = {"name": w.uid, "annotations": annotations}
        if (resource.get("metadata") or {}).get("labels"):
            metadata["labels"] = resource["metadata"]["labels"]
        if current_meta and current_meta.get("resourceVersion") and not overwrite:
            metadata["resourceVersion"] = current_meta["resourceVersion"]
        return {"apiVersion": resource.get("apiVersion") or "dashboard.grafana.app/v2beta1", "kind": "Dashboard",
                "metadata": metadata, "spec": w.dashboard}
    dash = {**w.dashboard, "uid": w.uid}
    dash["id"] = None
    if version is None:
        dash.pop("version", None)
    else:
        dash["version"] = version
    body = {"dashboard": dash, "folderUid": w.folder_uid, "overwrite": overwrite}
    if message:
        body["message"] = message[:500]
    return body


# ---------------------------------------------------------------------------------------- datasources
_DATASOURCE_FIELDS = ("name", "type", "url", "access", "uid", "user", "database", "basicAuth", "basicAuthUser",
                      "withCredentials", "isDefault", "jsonData", "readOnly")


def plan_datasources(wanted: list[dict], current: list[dict], uid_map: dict[str, str] | None = None) -> list[Item]:
    """Datasources (from a backup, secrets absent) -> items. A uid in ``uid_map`` means "use the target's one":
    ``unchanged`` when that exists (or this plan creates it), ``conflict`` otherwise; a name taken by another
    uid is a ``conflict`` (map it); the rest is ``create`` (``extra["secure_fields"]``: secrets to re-enter)."""
    uid_map = uid_map or {}
    by_uid = {d.get("uid"): d for d in current}
    by_name = {d.get("name"): d for d in current}
    created = {ds.get("uid") for ds in wanted if ds.get("uid") not in uid_map and ds.get("uid") not in by_uid
               and ds.get("name") not in by_name}
    items = []
    for ds in wanted:
        uid, name = str(ds.get("uid") or ""), str(ds.get("name") or ds.get("uid") or "")
        if uid in uid_map:
            mapped = uid_map[uid]
            if mapped not in by_uid and mapped not in created:
                items.append(Item("datasource", name, uid, "conflict",
                                  f"backup.datasource_uid_map maps {uid} to {mapped}, which the target Grafana does not have "
                                  "(and this restore does not create it): dashboards and alert rules would point at nothing"))
            else:
                items.append(Item("datasource", name, uid, "unchanged", f"uid {uid} mapped to the target's {mapped}"))
            continue
        if uid in by_uid:
            items.append(Item("datasource", name, uid, "unchanged", f"uid {uid} exists"))
            continue
        if name in by_name:
            items.append(Item("datasource", name, uid, "conflict", f"a datasource named {name!r} exists with another uid "
                              f"({by_name[name].get('uid')}); map it with backup.datasource_uid_map"))
            continue
        if isinstance(ds.get("jsonData"), dict) and ds["jsonData"].get("teamHttpHeaders"):
            # pkg/api/datasources.go refuses them on create (403): they are LBAC rules, set through their own API;
            # creating the datasource without them would open team-restricted data to everyone
            items.append(Item("datasource", name, uid, "error", "its jsonData.teamHttpHeaders (LBAC rules) are refused on "
                              "create (403: Grafana takes them only through the LBAC rules API): create it by hand with its rules"))
            continue
        secure = list(ds.get("secure_fields") or [])
        body = {k: ds[k] for k in _DATASOURCE_FIELDS if k in ds}
        item = Item("datasource", name, uid, "create", f"uid {uid}" + (f"; re-enter secrets: {', '.join(secure)}" if secure else ""),
                    body=body)
        item.extra["secure_fields"] = secure
        items.append(item)
    return items


# ---------------------------------------------------------------------------------------- other objects
def plan_objects(kind: str, wanted: list[dict], current_uids: set[str], *, name_key: str = "name",
                 blocked: dict[str, tuple[str, str]] | None = None) -> list[Item]:
    """Objects created by uid and never updated (library panels, alert rules, contact points):
    ``unchanged`` when the uid exists, else ``create``; ``blocked`` uid -> (action, reason) overrides."""
    blocked = blocked or {}
    items = []
    for obj in wanted:
        uid = str(obj.get("uid") or "")
        name = str(obj.get(name_key) or uid)
        if uid and uid in current_uids:
            items.append(Item(kind, name, uid, "unchanged", f"uid {uid}"))
        elif uid in blocked:
            action, reason = blocked[uid]
            items.append(Item(kind, name, uid, action, reason))
        else:
            items.append(Item(kind, name, uid, "create", f"uid {uid}", body=obj))
    return items


# ---------------------------------------------------------------------------------------- applying
#: The order changes go to the server: what a later kind refers to exists first (library panels before the
#: dashboards linking them: Grafana saves a dashboard, then connects its library panels, and a missing one
#: leaves it saved but unlinked for good).
APPLY_ORDER = ("folder", "datasource", "library panel", "dashboard", "alert rule", "contact point")


def phases(items: list[Item]) -> list[tuple[str, list[Item]]]:
    """The changing items grouped by kind, in :data:`APPLY_ORDER` (unknown kinds last)."""
    kinds = sorted({i.kind for i in items if i.changes}, key=lambda k: (APPLY_ORDER.index(k) if k in APPLY_ORDER else 99, k))
    return [(kind, [i for i in items if i.kind == kind and i.changes]) for kind in kinds]


def waiting_on_library_panels(dashboards: list[Item], failed: set[str]) -> dict[str, str]:
    """Dashboard uid -> the one-line reason it must not be saved, for dashboards linking a library panel in
    ``failed`` (planned, but not created)."""
    out = {}
    for item in dashboards:
        missing = library_panel_uids(item.body or {}) & failed
        if missing:
            out[item.uid] = (f"not saved: its library panel(s) {', '.join(sorted(missing))} could not be created, and Grafana "
                             "would save it without connecting them; fix those and run again")
    return out


# ---------------------------------------------------------------------------------------- diffs
def diff_text(before: Any, after: Any, fromfile: str, tofile: str) -> str:
    """A unified diff of two JSON values, pretty-printed with sorted keys (so key order never shows)."""
    import difflib
    import json

    def pretty(data: Any) -> list[str]:
        return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").splitlines(keepends=True)

    return "".join(difflib.unified_diff(pretty(before), pretty(after), fromfile=fromfile, tofile=tofile))


# ---------------------------------------------------------------------------------------- after the fact
def explain_save_error(kind: str, uid: str, status: int | None, reason: str, message: str) -> tuple[str, str]:
    """A save the server refused -> (action, one-line reason). ``reason`` is Grafana's ``status`` /
    ``messageId`` field ("name-exists", "version-mismatch", ...), ``message`` its message."""
    text = f"{reason} {message}".lower()
    if status == 412 and ("name-exists" in text or "same name" in text):
        return "conflict", f"uid {uid}: {message} (another uid); skipped: rename or move one of them"
    if status == 412 and "plugin" in text:
        return "conflict", f"uid {uid}: installed by a plugin on the server; skipped, use --force to replace it"
    if status == 412 and kind == "dashboard":
        return "conflict", f"uid {uid}: {message} (saved on the server meanwhile); skipped, use --force"
    if status == 409 and kind == "dashboard":  # /apis: AlreadyExists, or a resourceVersion that moved on
        return "conflict", f"uid {uid}: {message}; skipped, use --force"
    if status in (409, 412) and kind == "folder":
        return "conflict", f"uid {uid}: {message}; map it with --folder-map"
    if status == 400 and "name-match" in text:
        return "error", f"uid {uid}: titled like a folder beside it; Grafana refuses it (name-match): rename the dashboard"
    if "maximum-depth" in text or "maximum depth" in text:
        return "error", f"uid {uid}: nested deeper than the server allows ({message}): map it higher with --folder-map"
    if status == 413:
        return "error", f"uid {uid}: too large for the server (HTTP 413: {message})"
    if status == 400 and "refresh" in text:
        return "error", f"uid {uid}: {message}: raise the dashboard's refresh"
    if status == 500 and "library panel" in text:
        return "error", (f"uid {uid}: saved, but Grafana could not connect its library panels ({message}); restore the "
                         "library panels, then run again")
    if status == 403:
        return "error", f"uid {uid}: permission denied (HTTP 403: {message})"
    return "error", f"uid {uid}: HTTP {status}: {message}" if status else f"uid {uid}: {message}"
