"""The Grafana planner (aetherops.grafana_plan): pure, no HTTP. Each save rule of real Grafana, by version,
gets the label and the one-line reason the tool prints."""

from __future__ import annotations

import json

import pytest

from aetherops.grafana_plan import (
    ServerState,
    WantedDashboard,
    explain_save_error,
    folder_tree,
    library_panel_uids,
    map_datasources,
    normalize,
    plan_dashboards,
    plan_datasources,
    plan_folders,
    plan_objects,
    refresh_seconds,
    slugify,
)


def wanted(uid="lat", title="Latency", folder="ops", version=None, **dash):
    return WantedDashboard(uid=uid, title=title, folder_uid=folder, dashboard={"uid": uid, "title": title, **dash}, version=version)


def state(version="11.2.0", **kw):
    kw.setdefault("folders", {"ops": {"title": "Ops", "parentUid": None}})
    return ServerState(version=version, **kw)


def one(items):
    assert len(items) == 1
    return items[0]



# ------------------------------------------------------------------ helpers moved from the backup component
def test_datasource_uids_are_mapped_everywhere_they_are_referenced():
    dash = {"panels": [{"datasource": {"uid": "prod", "type": "prometheus"}, "targets": [{"datasource": {"uid": "prod"}}]},
                       {"datasource": "prod"}, {"datasource": {"uid": "other"}}],
            "templating": {"list": [{"datasource": {"uid": "prod"}}]}}
    mapped = map_datasources(dash, {"prod": "staging"})
    assert json.dumps(mapped).count('"staging"') == 4 and '"prod"' not in json.dumps(mapped)
    assert mapped["panels"][2]["datasource"] == {"uid": "other"}
    assert dash["panels"][0]["datasource"]["uid"] == "prod"  # the input is untouched
    rule = {"data": [{"refId": "A", "datasourceUid": "prod"}]}
    assert map_datasources(rule, {"prod": "s"})["data"][0]["datasourceUid"] == "s"


def test_normalize_ignores_id_and_version_only():
    a = {"id": 1, "uid": "u", "version": 3, "title": "T"}
    assert normalize(a) == normalize({"id": 9, "uid": "u", "version": 1, "title": "T"})
    assert normalize(a) != normalize({"id": 1, "uid": "u", "version": 3, "title": "T2"})


def test_folder_tree_orders_parents_first_and_builds_paths():
    tree = folder_tree([
        {"uid": "c", "title": "Child", "type": "dash-folder", "folderUid": "p"},
        {"uid": "g", "title": "Grandchild", "type": "dash-folder", "folderUid": "c"},
        {"uid": "p", "title": "Parent", "type": "dash-folder"},
        {"uid": "d", "title": "A dashboard", "type": "dash-db"},
    ])
    assert [f["uid"] for f in tree] == ["p", "c", "g"]
    assert tree[2] == {"uid": "g", "title": "Grandchild", "parentUid": "c", "path": "Parent/Child/Grandchild"}



def test_slugs_and_refresh_intervals():
    assert slugify("Prod DB") == slugify("prod-db") == "prod-db"
    assert refresh_seconds("30s") == 30 and refresh_seconds("1m") == 60 and refresh_seconds("") is None
    assert refresh_seconds(False) is None and refresh_seconds("soon") is None


def test_library_panels_are_found_in_rows_too():
    dash = {"panels": [{"libraryPanel": {"uid": "a"}}, {"type": "row", "panels": [{"libraryPanel": {"uid": "b", "name": "B"}}]},
                       {"libraryPanel": "not a dict"}]}
    assert library_panel_uids(dash) == {"a", "b"}
    v2 = {"elements": {"p1": {"kind": "LibraryPanel", "spec": {"libraryPanel": {"uid": "c", "name": "C"}}}}}
    assert library_panel_uids(v2) == {"c"}


# ------------------------------------------------------------------ dashboards
def test_new_dashboard_is_created_without_id_or_version():
    item = one(plan_dashboards([wanted(version=3, id=7)], state(), message="from backup x"))
    assert (item.action, item.reason) == ("create", "uid lat")
    assert item.body == {"dashboard": {"uid": "lat", "title": "Latency", "id": None}, "folderUid": "ops", "overwrite": False,
                         "message": "from backup x"}


def test_unchanged_update_overwrite_conflict_by_version():
    current = {"lat": {"dashboard": {"uid": "lat", "title": "Latency", "version": 4, "id": 1}, "meta": {"folderUid": "ops"}}}
    same = one(plan_dashboards([wanted(version=2)], state(dashboards=current)))
    assert same.action == "unchanged" and same.body is None
    changed = wanted(version=4, panels=[{"id": 1}])
    update = one(plan_dashboards([changed], state(dashboards=current)))
    assert update.action == "update" and update.body["dashboard"]["version"] == 4 and update.body["overwrite"] is False
    stale = wanted(version=2, panels=[{"id": 1}])
    conflict = one(plan_dashboards([stale], state(dashboards=current)))
    assert conflict.action == "conflict" and "server v4, backup v2" in conflict.reason and "--force" in conflict.reason
    assert conflict.body is None and conflict.before["title"] == "Latency" and conflict.after["panels"] == [{"id": 1}]
    forced = one(plan_dashboards([stale], state(dashboards=current), force=True))
    assert forced.action == "overwrite" and forced.body["overwrite"] is True and forced.body["dashboard"]["version"] == 4


def test_a_move_to_another_folder_is_an_update():
    current = {"lat": {"dashboard": {"uid": "lat", "title": "Latency", "version": 1}, "meta": {"folderUid": ""}}}
    item = one(plan_dashboards([wanted(version=1)], state(dashboards=current)))
    assert item.action == "update" and item.body["folderUid"] == "ops"


def test_provisioned_dashboards_are_skipped():
    current = {"lat": {"dashboard": {"uid": "lat", "title": "Other", "version": 1}, "meta": {"folderUid": "ops", "provisioned": True}}}
    item = one(plan_dashboards([wanted(version=1)], state(dashboards=current), force=True))
    assert item.action == "skip" and "provisioned" in item.reason


@pytest.mark.parametrize("version, action", [("10.4.3", "conflict"), ("11.6.0", "conflict"), ("12.0.0", "create")])
def test_name_exists_compares_slugs_before_12(version, action):
    hits = [{"uid": "someone-else", "title": "prod-db", "folderUid": "ops"}]
    item = one(plan_dashboards([wanted(uid="pdb", title="Prod DB")], state(version, hits=hits)))
    assert item.action == action
    if action == "conflict":
        assert "same name" in item.reason and "someone-else" in item.reason and "'prod-db'" in item.reason
    other_folder = one(plan_dashboards([wanted(uid="pdb", title="Prod DB", folder="")], state(version, hits=hits)))
    assert other_folder.action == "create"  # only the same folder clashes


@pytest.mark.parametrize("version, action", [("11.2.0", "error"), ("12.1.0", "create")])
def test_dashboard_titled_like_any_folder(version, action):
    folders = {"ops": {"title": "Ops", "parentUid": None}, "team": {"title": "Team", "parentUid": "ops"}}
    item = one(plan_dashboards([wanted(uid="t", title="team", folder="ops")], state(version, folders=folders)))
    assert item.action == action
    if action == "error":
        assert "name-match" in item.reason


def test_an_unknown_version_gets_the_stricter_name_rules():
    hits = [{"uid": "someone-else", "title": "Prod DB", "folderUid": "ops"}]
    assert one(plan_dashboards([wanted(uid="pdb", title="Prod DB")], state("", hits=hits))).action == "conflict"


def test_name_rules_hold_for_updates_and_force_too():
    hits = [{"uid": "other", "title": "New title", "folderUid": "ops"}]
    current = {"lat": {"dashboard": {"uid": "lat", "title": "Latency", "version": 1}, "meta": {"folderUid": "ops"}}}
    renamed = wanted(title="New title", version=1)
    item = one(plan_dashboards([renamed], state(hits=hits, dashboards=current), force=True))
    assert item.action == "conflict" and "other" in item.reason  # overwrite would replace the other dashboard


@pytest.mark.parametrize("version, refresh, raised", [("12.0.0", "1s", True), ("12.0.0", "10s", False),
                                                      ("11.2.0", "1s", True), ("12.0.0", "", False)])
def test_refresh_below_the_server_minimum_is_raised_by_the_legacy_api(version, refresh, raised):
    item = one(plan_dashboards([wanted(refresh=refresh)], state(version, min_refresh_interval="5s")))
    assert item.action == "create" and ("raises its refresh" in item.reason) == raised


@pytest.mark.parametrize("version, action", [("12.0.0", "error"), ("12.3.0", "error")])
def test_refresh_below_the_server_minimum_is_refused_through_apis_on_12(version, action):
    w = WantedDashboard(uid="v", title="V", folder_uid="", dashboard={"title": "V", "timeSettings": {"autoRefresh": "1s"}},
                        schema="v2", resource={})
    item = one(plan_dashboards([w], state(version, min_refresh_interval="5s")))
    assert item.action == action and "min_refresh_interval 5s" in item.reason


def test_missing_library_panels_are_an_error_unless_planned():
    dash = wanted(panels=[{"libraryPanel": {"uid": "lib1"}}])
    item = one(plan_dashboards([dash], state()))
    assert item.action == "error" and "lib1" in item.reason and "500" in item.reason
    assert one(plan_dashboards([dash], state(library_panels={"lib1"}))).action == "create"
    assert one(plan_dashboards([dash], state(), planned_library_panels={"lib1"})).action == "create"


def test_missing_folder_is_an_error_unless_planned():
    item = one(plan_dashboards([wanted(folder="nope")], state()))
    assert item.action == "error" and "folder nope does not exist" in item.reason
    assert one(plan_dashboards([wanted(folder="nope")], state(), planned_folders={"nope"})).action == "create"


def test_v2_dashboards_are_saved_as_resources():
    w = WantedDashboard(uid="v2d", title="V2", folder_uid="ops", dashboard={"title": "V2", "elements": {}}, version=2,
                        schema="v2", resource={"apiVersion": "dashboard.grafana.app/v2beta1", "kind": "Dashboard",
                                               "metadata": {"name": "v2d", "annotations": {"grafana.app/folder": "old"}}})
    create = one(plan_dashboards([w], state("12.0.0")))
    assert create.action == "create" and create.body["metadata"] == {"name": "v2d", "annotations": {"grafana.app/folder": "ops"}}
    assert create.body["spec"] == {"title": "V2", "elements": {}} and create.extra["schema"] == "v2"
    current = {"v2d": {"dashboard": {"title": "V2 old"}, "meta": {"folderUid": "ops", "version": 2, "resourceVersion": "77"}}}
    update = one(plan_dashboards([w], state("12.0.0", dashboards=current)))
    assert update.action == "update" and update.body["metadata"]["resourceVersion"] == "77"


# ------------------------------------------------------------------ folders
def test_folders_create_unchanged_conflict_depth():
    server = state(folders={"a": {"title": "A", "parentUid": None}, "b": {"title": "B", "parentUid": "a"},
                            "c": {"title": "C", "parentUid": "b"}, "d": {"title": "D", "parentUid": "c"}},
                   hits=[{"uid": "taken", "title": "Dash", "folderUid": ""}])
    items = plan_folders([{"uid": "a", "title": "A"}, {"uid": "new", "title": "New", "parentUid": "a"},
                          {"uid": "kid", "title": "Kid", "parentUid": "new"}, {"uid": "taken", "title": "T"},
                          {"uid": "deep", "title": "Deep", "parentUid": "d"}, {"uid": "orphan", "title": "O", "parentUid": "gone"}],
                         server)
    got = {i.uid: i for i in items}
    assert got["a"].action == "unchanged"
    assert got["new"].action == "create" and got["new"].body == {"uid": "new", "title": "New", "parentUid": "a"}
    assert got["kid"].action == "create"  # its parent is created first by the same plan
    assert got["taken"].action == "conflict" and "taken by a dashboard" in got["taken"].reason
    assert got["deep"].action == "error" and "maximum-depth" in got["deep"].reason and "5 folders deep" in got["deep"].reason
    assert got["orphan"].action == "error" and "parent folder gone" in got["orphan"].reason


def test_folder_map_renames_uids_and_parents():
    items = plan_folders([{"uid": "p", "title": "P"}, {"uid": "c", "title": "C", "parentUid": "p"}], state(), {"p": "ops2"})
    assert [(i.uid, i.action, (i.body or {}).get("parentUid")) for i in items] == [("ops2", "create", None), ("c", "create", "ops2")]


# ------------------------------------------------------------------ datasources, other objects
def test_datasources_mapping_and_name_clash():
    backed = [{"uid": "prom", "name": "Prometheus", "type": "prometheus", "secure_fields": ["basicAuthPassword"]},
              {"uid": "loki", "name": "Loki", "type": "loki"}, {"uid": "old", "name": "Old", "type": "loki"},
              {"uid": "tempo", "name": "Tempo", "type": "tempo"}]
    current = [{"uid": "other-loki", "name": "Loki"}, {"uid": "tempo", "name": "Tempo"}]
    got = {i.uid: i for i in plan_datasources(backed, current, {"old": "missing"})}
    assert got["prom"].action == "create" and got["prom"].extra["secure_fields"] == ["basicAuthPassword"]
    assert "secure_fields" not in got["prom"].body and "re-enter secrets: basicAuthPassword" in got["prom"].reason
    assert got["loki"].action == "conflict" and "other-loki" in got["loki"].reason
    assert got["old"].action == "conflict" and "missing" in got["old"].reason
    assert got["tempo"].action == "unchanged"
    lbac = one(plan_datasources([{"uid": "l", "name": "L", "jsonData": {"teamHttpHeaders": {"headers": {"1": []}}}}], []))
    assert lbac.action == "error" and "teamHttpHeaders" in lbac.reason and lbac.body is None
    mapped = {i.uid: i for i in plan_datasources(backed[:1], [{"uid": "p2", "name": "P2"}], {"prom": "p2"})}
    assert mapped["prom"].action == "unchanged"


def test_objects_by_uid_and_blocked():
    items = plan_objects("contact point", [{"uid": "a", "name": "A"}, {"uid": "b", "name": "B"}, {"uid": "c", "name": "C"}],
                         {"a"}, blocked={"c": ("skip", "needs its secret url")})
    assert [(i.name, i.action) for i in items] == [("A", "unchanged"), ("B", "create"), ("C", "skip")]
    assert items[2].reason == "needs its secret url" and items[1].body == {"uid": "b", "name": "B"}


# ------------------------------------------------------------------ after the fact
@pytest.mark.parametrize("kind, status, reason, message, action, words", [
    ("dashboard", 412, "name-exists", "A dashboard with the same name in the folder already exists", "conflict", "rename"),
    ("dashboard", 412, "version-mismatch", "The dashboard has been changed by someone else", "conflict", "--force"),
    ("dashboard", 412, "plugin-dashboard", "A plugin dashboard", "conflict", "plugin"),
    ("dashboard", 409, "Conflict", "the object has been modified", "conflict", "--force"),
    ("dashboard", 400, "name-match", "Dashboard name cannot be the same as folder", "error", "name-match"),
    ("dashboard", 413, "", "request entity too large", "error", "too large"),
    ("dashboard", 400, "", "Dashboard refresh interval is too low", "error", "refresh"),
    ("dashboard", 500, "", "Error while connecting library panels", "error", "library panels"),
    ("folder", 409, "", "a folder/dashboard with the same uid already exists", "conflict", "--folder-map"),
    ("folder", 412, "", "a folder with the same uid already exists", "conflict", "--folder-map"),
    ("folder", 400, "folder.maximum-depth-reached", "Maximum nested folder depth reached", "error", "deeper"),
    ("datasource", 403, "", "Access denied to team HTTP headers", "error", "permission denied"),
])
def test_refusals_are_labelled_with_one_line(kind, status, reason, message, action, words):
    got_action, got_reason = explain_save_error(kind, "u1", status, reason, message)
    assert got_action == action and words in got_reason and "\n" not in got_reason and got_reason.startswith("uid u1")


# ------------------------------------------------------------------ hostile server answers and backups (hypothesis)
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_uids = st.sampled_from(["a", "b", "c", "d", "", "x/y", "ü"])
_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                     lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3), max_leaves=12)
_hits = st.lists(st.fixed_dictionaries({"uid": _uids, "title": st.text(max_size=6)},
                                       optional={"folderUid": _uids, "type": st.sampled_from(["dash-folder", "dash-db", "x"])}),
                 max_size=8)
ACTIONS = {"create", "update", "overwrite", "unchanged", "conflict", "skip", "error"}


@settings(max_examples=200, deadline=None)
@given(_hits)
def test_folder_tree_survives_any_hits(hits):
    tree = folder_tree(hits)
    uids = [f["uid"] for f in tree]
    assert len(uids) == len(set(uids))
    position = {u: i for i, u in enumerate(uids)}
    for folder in tree:  # a parent that is there comes first, unless a cycle makes that impossible
        parent = folder["parentUid"]
        if parent in position and parent != folder["uid"] and position[parent] > position[folder["uid"]]:
            chain, cur = set(), parent
            while cur in position and cur not in chain:
                chain.add(cur)
                cur = next(f["parentUid"] for f in tree if f["uid"] == cur)
            assert cur in chain  # a cycle


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_uids, st.text(max_size=6), _uids, _json, st.none() | st.integers(0, 3)), max_size=5),
       st.dictionaries(_uids, st.fixed_dictionaries({"dashboard": _json, "meta": _json}), max_size=3),
       _hits, st.sampled_from(["", "10.4.0", "11.6.1", "12.2.0", "garbage"]), st.none() | st.text(max_size=4), st.booleans())
def test_the_planner_labels_anything_with_one_line(dashes, current, hits, version, min_refresh, force):
    wanted_list = [WantedDashboard(uid=u or "u", title=t, folder_uid=f, dashboard=d if isinstance(d, dict) else {"x": d}, version=v)
                   for u, t, f, d, v in dashes]
    cur = {k: {"dashboard": v["dashboard"] if isinstance(v["dashboard"], dict) else {},
               "meta": v["meta"] if isinstance(v["meta"], dict) else {}} for k, v in current.items()}
    folders = {h["uid"]: {"title": h["title"], "parentUid": h.get("folderUid")} for h in hits}
    items = plan_dashboards(wanted_list, ServerState(version=version, folders=folders, hits=hits, dashboards=cur,
                                                     min_refresh_interval=min_refresh), force=force)
    assert len(items) == len(wanted_list)
    for item in items:
        assert item.action in ACTIONS and "\n" not in item.reason and item.reason
        assert (item.body is not None) == item.changes
    for item in plan_folders([{"uid": h["uid"] or "u", "title": h["title"], "parentUid": h.get("folderUid")} for h in hits],
                             ServerState(version=version, folders=folders, hits=hits)):
        assert item.action in ACTIONS and "\n" not in item.reason


@given(st.text(max_size=12) | st.integers() | st.none())
def test_refresh_parsing_never_raises(value):
    result = refresh_seconds(value)
    assert result is None or result >= 0


def test_phases_put_library_panels_before_dashboards_and_hold_back_unlinked_ones():
    from aetherops.grafana_plan import Item, phases, waiting_on_library_panels

    items = [Item("contact point", "cp", "cp", "create", "", body={}), Item("dashboard", "d", "d", "create", "",
                                                                            body={"dashboard": {"panels": [{"libraryPanel": {"uid": "l"}}]}}),
             Item("dashboard", "e", "e", "unchanged", ""), Item("library panel", "l", "l", "create", "", body={}),
             Item("folder", "f", "f", "create", "", body={})]
    assert [(kind, [i.uid for i in todo]) for kind, todo in phases(items)] == [
        ("folder", ["f"]), ("library panel", ["l"]), ("dashboard", ["d"]), ("contact point", ["cp"])]
    dashboards = phases(items)[2][1]
    assert waiting_on_library_panels(dashboards, set()) == {}
    assert "library panel(s) l could not be created" in waiting_on_library_panels(dashboards, {"l"})["d"]
