"""Contract tests for the Grafana double, driven through the real ``grafana-client``.

Each test starts its own double on a free port. Exact status codes and bodies are
checked with raw httpx; client-facing behaviour (which exception, which fields)
through ``grafana_client.GrafanaApi``, the library aetherops itself uses.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time

import httpx
import niquests
import pytest
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaBadInputError, GrafanaClientError, GrafanaServerError, GrafanaUnauthorizedError

from aetherops.testing.grafana_double import DoubleError, GrafanaDouble

TOKEN = "glsa_contract_test_token"
JSON_UTF8 = "application/json; charset=UTF-8"
META_KEYS = {
    "type", "canSave", "canEdit", "canAdmin", "canStar", "canDelete", "slug", "url", "expires", "created", "updated",
    "createdBy", "updatedBy", "version", "hasAcl", "isFolder", "folderId", "folderTitle", "folderUrl", "provisioned",
    "provisionedExternalId",
}


@pytest.fixture
def make_double():
    started: list[GrafanaDouble] = []

    def make(**kwargs) -> GrafanaDouble:
        kwargs.setdefault("token", TOKEN)
        double = GrafanaDouble(**kwargs).start()
        started.append(double)
        return double

    yield make
    for double in started:
        double.stop()


@pytest.fixture
def double(make_double) -> GrafanaDouble:
    return make_double()


def api(double: GrafanaDouble, auth=TOKEN) -> GrafanaApi:
    return GrafanaApi(auth=auth, host="127.0.0.1", port=double.port, protocol="http", timeout=5.0)


def raw(double: GrafanaDouble, method: str, path: str, token: str | None = TOKEN, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, double.url + path, headers=headers, timeout=5.0, **kwargs)


def dash(title: str, uid: str | None = None, version: int | None = None, **extra) -> dict:
    body = {"id": None, "title": title, "panels": [], "schemaVersion": 39, **extra}
    if uid is not None:
        body["uid"] = uid
    if version is not None:
        body["version"] = version
    return body


# ---------------------------------------------------------------- health, version, routing


def test_health_is_pretty_unauthenticated_and_reports_version(make_double):
    double = make_double(grafana_version="11.3.1")
    resp = raw(double, "GET", "/api/health", token=None)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == JSON_UTF8
    assert resp.text.startswith("{\n  ")
    assert resp.json() == {"commit": double.commit, "database": "ok", "version": "11.3.1"}
    # grafana-client asks /api/frontend/settings, which needs auth
    assert api(double).version == "11.3.1"
    with pytest.raises(GrafanaUnauthorizedError):
        api(double, auth=None).connect()


def test_health_hide_version_and_failing_database(make_double):
    double = make_double(hide_version=True)
    assert raw(double, "GET", "/api/health", token=None).json() == {"database": "ok"}
    double.database_failing = True
    resp = raw(double, "GET", "/api/health", token=None)
    assert resp.status_code == 503
    assert resp.json() == {"database": "failing"}


def test_unknown_route_is_json_404(double):
    for path in ("/api/nope", "/", "/api/dashboards/uid"):
        resp = raw(double, "GET", path)
        assert resp.status_code == 404
        assert resp.headers["content-type"] == JSON_UTF8
        assert resp.json() == {"message": "Not found"}


# ---------------------------------------------------------------- auth


def test_401_bodies_without_and_with_bad_token(double):
    resp = raw(double, "GET", "/api/search", token=None)
    assert resp.status_code == 401
    assert resp.headers["content-type"] == JSON_UTF8
    assert resp.json() == {"extra": None, "message": "Unauthorized", "messageId": "auth.unauthorized", "statusCode": 401, "traceID": ""}
    resp = raw(double, "GET", "/api/search", token="glsa_wrong")
    assert resp.status_code == 401
    assert resp.json()["messageId"] == "api-key.invalid"
    assert resp.json()["message"] == "Invalid API key"

    with pytest.raises(GrafanaUnauthorizedError) as excinfo:
        api(double, auth=None).search.search_dashboards()
    assert excinfo.value.status_code == 401
    assert excinfo.value.response["messageId"] == "auth.unauthorized"
    with pytest.raises(GrafanaUnauthorizedError) as excinfo:
        api(double, auth="glsa_wrong").search.search_dashboards()
    assert excinfo.value.response["messageId"] == "api-key.invalid"
    assert api(double).search.search_dashboards() == []


def test_basic_auth_and_grafana_9_bodies(make_double):
    double = make_double(token=None, basic_auth=("admin", "pw"), grafana_version="9.5.0")
    assert api(double, auth=("admin", "pw")).search.search_dashboards() == []
    with pytest.raises(GrafanaUnauthorizedError) as excinfo:
        api(double, auth=("admin", "wrong")).search.search_dashboards()
    assert excinfo.value.response == {"message": "invalid username or password"}
    assert raw(double, "GET", "/api/search", token="x").json() == {"message": "invalid API key"}


def test_no_credentials_configured_means_open(make_double):
    double = make_double(token=None)
    assert api(double, auth=None).search.search_dashboards() == []


# ---------------------------------------------------------------- dashboards


def test_create_get_update_increments_version(double):
    g = api(double)
    folder = g.folder.create_folder("Team A", uid="fA")
    created = g.dashboard.update_dashboard({"dashboard": dash("Prod"), "folderUid": "fA", "message": "first"})
    assert created["status"] == "success"
    assert created["version"] == 1
    assert created["slug"] == "prod"
    assert created["folderUid"] == "fA"
    assert re.fullmatch(r"[A-Za-z0-9]{9}", created["uid"])
    assert created["url"] == f"/d/{created['uid']}/prod"

    got = g.dashboard.get_dashboard(created["uid"])
    assert got["dashboard"]["version"] == 1
    assert got["dashboard"]["id"] == created["id"]
    assert got["dashboard"]["uid"] == created["uid"]
    meta = got["meta"]
    assert META_KEYS | {"folderUid"} == set(meta)
    assert meta["expires"] == "0001-01-01T00:00:00Z"
    assert (meta["folderId"], meta["folderUid"], meta["folderTitle"]) == (folder["id"], "fA", "Team A")
    assert meta["folderUrl"] == "/dashboards/f/fA/team-a"

    # grafana-client copies folderUid from meta, so posting the GET result back keeps the folder
    got["dashboard"]["title"] = "Prod v2"
    updated = g.dashboard.update_dashboard({**got, "overwrite": False})
    assert updated["version"] == 2
    again = g.dashboard.get_dashboard(created["uid"])
    assert again["dashboard"]["title"] == "Prod v2"
    assert again["meta"]["version"] == 2
    assert again["meta"]["folderUid"] == "fA"


def test_root_dashboard_meta_and_update_without_folder_moves_to_root(double):
    g = api(double)
    g.folder.create_folder("Team A", uid="fA")
    g.dashboard.update_dashboard({"dashboard": dash("Moves", uid="mv"), "folderUid": "fA"})
    stored = g.dashboard.get_dashboard("mv")["dashboard"]
    g.dashboard.update_dashboard({"dashboard": stored})  # no folder given
    meta = g.dashboard.get_dashboard("mv")["meta"]
    assert META_KEYS == set(meta)  # no folderUid at the root
    assert (meta["folderId"], meta["folderTitle"], meta["folderUrl"]) == (0, "General", "")
    assert meta["version"] == 2


def test_version_mismatch_412_and_overwrite_adopts_stored_version(double):
    g = api(double)
    g.dashboard.update_dashboard({"dashboard": dash("Prod", uid="u1")})
    g.dashboard.update_dashboard({"dashboard": dash("Prod", uid="u1", version=1)})  # now version 2
    with pytest.raises(GrafanaClientError) as excinfo:
        g.dashboard.update_dashboard({"dashboard": dash("Prod edited", uid="u1", version=1), "overwrite": False})
    assert not isinstance(excinfo.value, GrafanaBadInputError)
    assert excinfo.value.status_code == 412
    assert excinfo.value.response == {"message": "The dashboard has been changed by someone else", "status": "version-mismatch"}
    assert double.get_dashboard("u1")["title"] == "Prod"

    result = g.dashboard.update_dashboard({"dashboard": dash("Prod edited", uid="u1", version=1), "overwrite": True})
    assert result["version"] == 3
    assert double.get_dashboard("u1")["title"] == "Prod edited"


@pytest.mark.parametrize(("grafana_version", "rejects"), [("11.2.0", True), ("12.0.0", False)])
def test_name_exists_depends_on_version(make_double, grafana_version, rejects):
    double = make_double(grafana_version=grafana_version)
    g = api(double)
    g.dashboard.update_dashboard({"dashboard": dash("Same", uid="a")})
    if rejects:
        with pytest.raises(GrafanaClientError) as excinfo:
            g.dashboard.update_dashboard({"dashboard": dash("Same", uid="b")})
        assert excinfo.value.status_code == 412
        assert excinfo.value.response["status"] == "name-exists"
        # overwrite replaces the same-named dashboard, as Grafana does
        result = g.dashboard.update_dashboard({"dashboard": dash("Same", uid="b"), "overwrite": True})
        assert (result["uid"], result["version"]) == ("a", 2)
        assert [h["uid"] for h in g.search.search_dashboards(type_="dash-db")] == ["a"]
    else:
        assert g.dashboard.update_dashboard({"dashboard": dash("Same", uid="b")})["version"] == 1
        assert sorted(h["uid"] for h in g.search.search_dashboards(query="same")) == ["a", "b"]


def test_save_rejections_exact_bodies(double):
    double.add_dashboard(dash("Existing", uid="ex"))
    double.add_dashboard(dash("Other", uid="other"))
    double.add_dashboard(dash("Prov", uid="prov"), provisioned=True)
    double.add_dashboard(dash("Plug", uid="plug"), plugin_id="grafana-k8s-app")
    existing_id = double.get_dashboard("ex")["id"]

    def post(body):
        resp = raw(double, "POST", "/api/dashboards/db", json=body)
        assert resp.headers["content-type"] == JSON_UTF8
        return resp.status_code, resp.json()

    assert post({"dashboard": {"id": 9999, "title": "x"}}) == (404, {"message": "Dashboard not found", "status": "not-found"})
    assert post({"dashboard": {"id": existing_id, "uid": "other", "title": "x", "version": 1}}) == (
        400, {"message": "A dashboard with the same uid already exists"})
    # step 3 comes before the title check
    assert post({"dashboard": {"uid": "ex", "title": "", "version": 7}})[1]["status"] == "version-mismatch"
    assert post({"dashboard": {"title": "  "}}) == (400, {"message": "Dashboard title cannot be empty", "status": "empty-name"})
    assert post({"dashboard": {"uid": "bad uid!", "title": "x"}}) == (400, {"message": "uid contains illegal characters"})
    assert post({"dashboard": {"uid": "a" * 41, "title": "x"}}) == (400, {"message": "uid too long, max 40 characters"})
    assert post({"dashboard": {"title": "x"}, "message": "m" * 501})[0] == 400
    assert post({"dashboard": {"title": "x"}, "folderUid": "nope"}) == (404, {"message": "Folder not found"})
    assert post({"dashboard": {"uid": "prov", "title": "Prov", "version": 1}}) == (400, {"message": "Cannot save provisioned dashboard"})
    status, body = post({"dashboard": {"uid": "plug", "title": "Plug", "version": 1}})
    assert (status, body["status"]) == (412, "plugin-dashboard")
    resp = raw(double, "POST", "/api/dashboards/db", content=b"{not json")
    assert resp.status_code == 400
    assert resp.json() == {"message": "bad request data"}
    # nothing was created by the rejected requests
    assert len(double.state["dashboards"]) == 4
    with pytest.raises(DoubleError) as excinfo:
        double.add_dashboard(dash("Existing", uid="ex2"))
    assert excinfo.value.status == 412


def test_delete_dashboard(double):
    g = api(double)
    result = g.dashboard.update_dashboard({"dashboard": dash("Prod", uid="u1")})
    assert g.dashboard.delete_dashboard("u1") == {"title": "Prod", "message": "Dashboard Prod deleted", "id": result["id"]}
    with pytest.raises(GrafanaClientError) as excinfo:
        g.dashboard.get_dashboard("u1")
    assert excinfo.value.status_code == 404
    assert excinfo.value.response == {"message": "Dashboard not found"}
    double.add_dashboard(dash("Prov", uid="prov"), provisioned=True)
    assert raw(double, "DELETE", "/api/dashboards/uid/prov").status_code == 400
    assert raw(double, "DELETE", "/api/dashboards/uid/u1").status_code == 404


@pytest.mark.parametrize(("grafana_version", "status"), [("11.2.0", 200), ("12.0.0", 404)])
def test_folder_uid_on_dashboard_endpoint(make_double, grafana_version, status):
    double = make_double(grafana_version=grafana_version)
    double.add_folder("Team A", uid="fA")
    resp = raw(double, "GET", "/api/dashboards/uid/fA")
    assert resp.status_code == status
    if status == 200:
        assert resp.json()["meta"]["isFolder"] is True


# ---------------------------------------------------------------- search


def test_search_paging_type_folders_and_query(double):
    g = api(double)
    g.folder.create_folder("Team A", uid="fA")
    g.folder.create_folder("Team B", uid="fB")
    titles = ["delta", "Alpha", "charlie", "Bravo", "echo"]
    for i, title in enumerate(titles):
        g.dashboard.update_dashboard({"dashboard": dash(title, uid=f"d{i}", tags=["t1"] if i % 2 else []), "folderUid": "fA" if i < 2 else None})

    everything = g.search.search_dashboards()
    assert [h["type"] for h in everything] == ["dash-folder"] * 2 + ["dash-db"] * 5  # folders first
    assert [h["title"] for h in everything[2:]] == ["Alpha", "Bravo", "charlie", "delta", "echo"]  # case-insensitive

    pages = [g.search.search_dashboards(type_="dash-db", limit=2, page=p) for p in (1, 2, 3, 4)]
    assert [[h["title"] for h in page] for page in pages] == [["Alpha", "Bravo"], ["charlie", "delta"], ["echo"], []]

    folders = g.search.search_dashboards(type_="dash-folder")
    assert [(h["uid"], h["url"]) for h in folders] == [("fA", "/dashboards/f/fA/team-a"), ("fB", "/dashboards/f/fB/team-b")]

    in_a = g.search.search_dashboards(type_="dash-db", folder_uids=["fA"])
    assert [h["uid"] for h in in_a] == ["d1", "d0"]
    assert in_a[0]["folderUid"] == "fA" and in_a[0]["folderTitle"] == "Team A" and in_a[0]["folderUrl"] == "/dashboards/f/fA/team-a"
    at_root = g.search.search_dashboards(dashboard_uids=["d2"])
    assert at_root[0]["url"] == "/d/d2/charlie" and at_root[0]["uri"] == "db/charlie" and at_root[0]["slug"] == ""
    assert not {"folderId", "folderUid", "folderTitle", "folderUrl"} & set(at_root[0])

    assert [h["uid"] for h in g.search.search_dashboards(query="ALP")] == ["d1"]
    assert [h["uid"] for h in g.search.search_dashboards(tag="t1")] == ["d1", "d3"]
    assert [h["uid"] for h in g.search.search_dashboards(dashboard_uids=["d0", "d4"])] == ["d0", "d4"]
    double.star("d4")
    starred = g.search.search_dashboards(starred=True)
    assert [(h["uid"], h["isStarred"]) for h in starred] == [("d4", True)]

    too_many = raw(double, "GET", "/api/search", params={"limit": 5001})
    assert too_many.status_code == 422


def test_search_default_limit_is_1000(double):
    for i in range(1003):
        double.add_dashboard({"title": f"dash {i:04d}", "uid": f"u{i}"})
    assert len(api(double).search.search_dashboards(type_="dash-db")) == 1000
    assert len(api(double).search.search_dashboards(type_="dash-db", page=2)) == 3


# ---------------------------------------------------------------- folders


def test_folders_crud_conflicts_and_nesting(double):
    g = api(double)
    team = g.folder.create_folder("Team A", uid="fA")
    assert team["version"] == 1 and team["url"] == "/dashboards/f/fA/team-a"
    child = g.folder.create_folder("Child", uid="fA-child", parent_uid="fA")
    grandchild = g.folder.create_folder("Grandchild", parent_uid="fA-child")
    assert child["parentUid"] == "fA"

    with pytest.raises(GrafanaClientError) as excinfo:
        g.folder.create_folder("Again", uid="fA")
    assert excinfo.value.status_code == 409
    assert excinfo.value.response == {"message": "a folder/dashboard with the same uid already exists"}
    with pytest.raises(GrafanaBadInputError):
        g.folder.create_folder("")

    got = g.folder.get_folder(grandchild["uid"])
    assert [p["uid"] for p in got["parents"]] == ["fA", "fA-child"]
    assert got["parentUid"] == "fA-child"
    assert {"id", "uid", "title", "url", "hasAcl", "canSave", "canEdit", "canAdmin", "canDelete", "createdBy", "created",
            "updatedBy", "updated", "version"} <= set(got)

    assert [f["uid"] for f in g.folder.get_all_folders()] == ["fA"]  # direct children of the root only
    assert [f["uid"] for f in g.folder.get_all_folders(parent_uid="fA")] == ["fA-child"]
    assert raw(double, "GET", "/api/folders", params={"limit": 1, "page": 2}).json() == []

    with pytest.raises(GrafanaClientError) as excinfo:
        g.folder.update_folder("fA", title="Renamed", version=7)
    assert excinfo.value.status_code == 412
    assert excinfo.value.response == {"status": "version-mismatch", "message": "the folder has been changed by someone else"}
    assert g.folder.update_folder("fA", title="Renamed", version=1)["version"] == 2
    assert g.folder.update_folder("fA", title="Forced", overwrite=True)["version"] == 3

    missing = raw(double, "GET", "/api/folders/nope")
    assert (missing.status_code, missing.json()) == (404, {"status": "not-found", "message": "folder not found"})


def test_folder_delete_cascades_to_dashboards_and_subfolders(double):
    g = api(double)
    g.folder.create_folder("Team A", uid="fA")
    g.folder.create_folder("Sub", uid="sub", parent_uid="fA")
    g.folder.create_folder("Keep", uid="keep")
    g.dashboard.update_dashboard({"dashboard": dash("In A", uid="inA"), "folderUid": "fA"})
    g.dashboard.update_dashboard({"dashboard": dash("In Sub", uid="inSub"), "folderUid": "sub"})
    g.dashboard.update_dashboard({"dashboard": dash("Kept", uid="kept"), "folderUid": "keep"})

    result = g.folder.delete_folder("fA")
    assert result["message"] == "Folder deleted" and result["title"] == "Team A"
    for uid in ("inA", "inSub"):
        with pytest.raises(GrafanaClientError):
            g.dashboard.get_dashboard(uid)
    with pytest.raises(GrafanaClientError):
        g.folder.get_folder("sub")
    assert [h["uid"] for h in g.search.search_dashboards()] == ["keep", "kept"]

    # alert rules block the delete unless forceDeleteRules=true
    double.add_alert_rule({"uid": "r1", "title": "High", "folderUID": "keep"})
    with pytest.raises(GrafanaBadInputError) as excinfo:
        g.folder.delete_folder("keep")
    assert excinfo.value.response == {"message": "folder cannot be deleted: folder contains alert rules"}
    g.folder.delete_folder("keep", force_delete_rules="true")
    assert g.search.search_dashboards() == []
    assert g.alertingprovisioning.get_alertrules_all() == []


# ---------------------------------------------------------------- data sources


def test_datasources_never_return_secrets(double):
    g = api(double)
    secret = "s3cr3t-password-value"
    created = g.datasource.create_datasource({
        "name": "Prom", "type": "prometheus", "url": "http://prom:9090", "access": "proxy", "uid": "prom",
        "basicAuth": True, "basicAuthUser": "u", "jsonData": {"httpMethod": "POST"}, "secureJsonData": {"basicAuthPassword": secret},
    })
    assert created["message"] == "Datasource added" and created["name"] == "Prom" and created["id"] == created["datasource"]["id"]
    by_uid = g.datasource.get_datasource_by_uid("prom")
    assert by_uid["secureJsonFields"] == {"basicAuthPassword": True}
    assert by_uid["version"] == 1 and by_uid["basicAuthUser"] == "u" and by_uid["withCredentials"] is False
    assert g.datasource.get_datasource_by_name("Prom")["uid"] == "prom"
    assert g.datasource.get_datasource_by_id(created["id"])["uid"] == "prom"
    listed = g.datasource.list_datasources()
    assert listed[0]["typeName"] == "Prometheus" and "secureJsonFields" not in listed[0]

    with pytest.raises(GrafanaClientError) as excinfo:
        g.datasource.create_datasource({"name": "Prom", "type": "prometheus", "url": "http://other"})
    assert excinfo.value.status_code == 409
    assert excinfo.value.response == {"message": "data source with the same name already exists"}

    updated = g.datasource.update_datasource_by_uid("prom", {"name": "Prom", "type": "prometheus", "url": "http://prom:9091", "basicAuth": True})
    assert updated["message"] == "Datasource updated" and updated["datasource"]["version"] == 2
    assert updated["datasource"]["secureJsonFields"] == {"basicAuthPassword": True}  # kept when not resent
    assert double.get_datasource_secrets("prom") == {"basicAuthPassword": secret}

    for path in ("/api/datasources", "/api/datasources/uid/prom", "/api/datasources/name/Prom", f"/api/datasources/{created['id']}"):
        assert secret not in raw(double, "GET", path).text
    assert raw(double, "DELETE", "/api/datasources/uid/prom").json()["message"] == "Data source deleted"
    assert raw(double, "GET", "/api/datasources/uid/prom").status_code == 404


# ---------------------------------------------------------------- dashboard versions


@pytest.mark.parametrize("grafana_version", ["11.2.0", "11.5.9", "11.6.0", "12.0.0"])
def test_versions_shape_by_grafana_version(make_double, grafana_version):
    double = make_double(grafana_version=grafana_version)
    g = api(double)
    for version in range(3):
        g.dashboard.update_dashboard({"dashboard": dash("Prod", uid="u1", version=version or None), "message": f"save {version}"})
    versions = g.dashboard_versions.get_dashboard_versions_by_uid("u1")
    if grafana_version < "11.6":
        assert isinstance(versions, list)
        rows = versions
    else:
        assert set(versions) == {"continueToken", "versions"}
        assert versions["continueToken"] == ""
        rows = versions["versions"]
    assert [r["version"] for r in rows] == [3, 2, 1]
    assert set(rows[0]) == {"id", "dashboardId", "uid", "parentVersion", "restoredFrom", "version", "created", "createdBy", "message"}
    assert (rows[0]["parentVersion"], rows[0]["message"]) == (2, "save 2")


def test_versions_paging_get_and_restore(make_double):
    double = make_double(grafana_version="12.0.0")
    g = api(double)
    for version in range(25):
        g.dashboard.update_dashboard({"dashboard": dash(f"Prod {version}", uid="u1", version=version or None)})
    first = raw(double, "GET", "/api/dashboards/uid/u1/versions", params={"limit": 15}).json()
    assert first["continueToken"]
    second = raw(double, "GET", "/api/dashboards/uid/u1/versions", params={"limit": 15, "continueToken": first["continueToken"]}).json()
    assert second["continueToken"] == ""
    numbers = [r["version"] for r in first["versions"] + second["versions"]]
    assert numbers == list(range(25, 5, -1))  # 20 rows kept

    v10 = g.dashboard_versions.get_dashboard_version_by_uid("u1", 10)
    assert v10["version"] == 10 and v10["data"]["title"] == "Prod 9"
    restored = g.dashboard_versions.restore_dashboard_by_uid("u1", 10)
    assert restored["status"] == "success" and restored["version"] == 26
    assert double.get_dashboard("u1")["title"] == "Prod 9"
    latest = raw(double, "GET", "/api/dashboards/uid/u1/versions/26").json()
    assert latest["restoredFrom"] == 10
    assert raw(double, "GET", "/api/dashboards/uid/u1/versions/2").status_code == 404  # pruned


# ---------------------------------------------------------------- optional features


def test_library_panels_and_alerting_can_be_turned_off(make_double):
    on = make_double()
    on.add_folder("Team A", uid="fA")
    on.add_library_panel("CPU", folder_uid="fA", uid="lib1")
    on.add_alert_rule({"uid": "r1", "title": "High", "folderUID": "fA", "ruleGroup": "g"})
    on.add_contact_point({"name": "oncall", "type": "email", "settings": {"addresses": "a@example.com"}})
    g = api(on)
    result = g.libraryelement.list_library_elements()["result"]
    assert (result["totalCount"], result["page"], result["perPage"]) == (1, 1, 100)
    assert result["elements"][0]["uid"] == "lib1"
    assert [r["uid"] for r in g.alertingprovisioning.get_alertrules_all()] == ["r1"]
    assert [c["name"] for c in g.alertingprovisioning.get_contactpoints()] == ["oncall"]

    off = make_double(features=set())
    for path in ("/api/library-elements", "/api/v1/provisioning/alert-rules", "/api/v1/provisioning/contact-points"):
        resp = raw(off, "GET", path)
        assert (resp.status_code, resp.json()) == (404, {"message": "Not found"})


def test_create_library_element(double):
    double.add_folder("Team A", uid="fA")
    body = {"name": "CPU", "kind": 1, "folderUid": "fA", "uid": "lib1", "model": {"type": "stat", "title": "CPU"}}
    resp = raw(double, "POST", "/api/library-elements", json=body)
    assert resp.status_code == 200, resp.text
    elem = resp.json()["result"]
    assert (elem["uid"], elem["name"], elem["folderUid"], elem["kind"], elem["type"], elem["version"]) == ("lib1", "CPU", "fA", 1, "stat", 1)
    assert elem["model"] == {"type": "stat", "title": "CPU"}
    assert raw(double, "GET", "/api/library-elements/lib1").json()["result"]["name"] == "CPU"
    # the same name in the same folder is refused, in another folder it is fine; a generated uid otherwise
    dup = raw(double, "POST", "/api/library-elements", json={**body, "uid": "lib2"})
    assert (dup.status_code, dup.json()) == (400, {"message": "library element with that name already exists"})
    assert dup.headers["content-type"] == JSON_UTF8
    other = raw(double, "POST", "/api/library-elements", json={"name": "CPU", "kind": 1, "model": {"type": "stat"}})
    assert other.status_code == 200 and other.json()["result"]["folderUid"] == "" and other.json()["result"]["uid"]
    same_uid = raw(double, "POST", "/api/library-elements", json={"name": "Mem", "kind": 1, "uid": "lib1", "model": {}})
    assert same_uid.status_code == 400
    assert raw(double, "POST", "/api/library-elements", json={"kind": 1}).status_code == 400
    assert raw(double, "POST", "/api/library-elements", token=None, json=body).status_code == 401
    assert double.state["library_panels"][0]["uid"] == "lib1" and len(double.state["library_panels"]) == 2


def test_create_alert_rule(double):
    double.add_folder("Team A", uid="fA")
    rule = {"uid": "r1", "title": "High CPU", "folderUID": "fA", "ruleGroup": "cpu", "condition": "B", "for": "1m",
            "data": [{"refId": "A", "datasourceUid": "prometheus", "model": {"expr": "up"}}], "labels": {"team": "a"}}
    resp = raw(double, "POST", "/api/v1/provisioning/alert-rules", json=rule)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert {k: created[k] for k in rule} == rule and created["id"] and created["orgID"] == 1
    assert [r["uid"] for r in api(double).alertingprovisioning.get_alertrules_all()] == ["r1"]
    dup = raw(double, "POST", "/api/v1/provisioning/alert-rules", json=rule)
    assert dup.status_code == 409 and "already exists" in dup.json()["message"]
    generated = raw(double, "POST", "/api/v1/provisioning/alert-rules", json={**rule, "uid": None, "title": "Other"})
    assert generated.status_code == 201 and generated.json()["uid"] not in ("", None, "r1")
    assert raw(double, "POST", "/api/v1/provisioning/alert-rules", json={"title": "x"}).status_code == 400
    assert raw(double, "POST", "/api/v1/provisioning/alert-rules", json={**rule, "uid": "r9", "folderUID": "nope"}).status_code == 400
    assert len(double.state["alert_rules"]) == 2


def test_create_contact_point(double):
    cp = {"uid": "cp1", "name": "oncall", "type": "email", "settings": {"addresses": "a@example.com"}}
    resp = raw(double, "POST", "/api/v1/provisioning/contact-points", json=cp)
    assert resp.status_code == 202, resp.text
    assert resp.json() == {**cp, "disableResolveMessage": False}
    assert [c["uid"] for c in api(double).alertingprovisioning.get_contactpoints()] == ["cp1"]
    assert raw(double, "POST", "/api/v1/provisioning/contact-points", json=cp).status_code == 400
    other = raw(double, "POST", "/api/v1/provisioning/contact-points", json={"name": "pager", "type": "webhook", "settings": {}})
    assert other.status_code == 202 and other.json()["uid"] and other.json()["uid"] != "cp1"
    assert raw(double, "POST", "/api/v1/provisioning/contact-points", json={"name": "x"}).status_code == 400
    off = GrafanaDouble(token=TOKEN, features=set()).start()
    try:
        assert raw(off, "POST", "/api/v1/provisioning/contact-points", json=cp).status_code == 404
        assert raw(off, "POST", "/api/library-elements", json={"name": "x", "kind": 1}).status_code == 404
    finally:
        off.stop()


def test_seed_demo_has_prometheus_dashboards_and_a_hidden_secret(double):
    summary = double.seed_demo()
    assert summary["dashboards"] >= 6 and summary["datasources"] == 2
    g = api(double)
    uids = [h["uid"] for h in g.search.search_dashboards(type_="dash-db")]
    exprs = [t["expr"] for uid in uids for p in g.dashboard.get_dashboard(uid)["dashboard"]["panels"] for t in p["targets"]]
    assert any("rate(" in e for e in exprs) and all(e for e in exprs)
    secured = [d for d in (g.datasource.get_datasource_by_uid(x["uid"]) for x in g.datasource.list_datasources()) if d["secureJsonFields"]]
    assert len(secured) == 1
    assert "demo-alertmanager-secret" not in raw(double, "GET", f"/api/datasources/uid/{secured[0]['uid']}").text


# ---------------------------------------------------------------- faults, latency, process


def test_fault_injection_status_then_success(double):
    g = api(double)
    double.inject_fault("/api/search", status=503, count=1)
    with pytest.raises(GrafanaServerError) as excinfo:
        g.search.search_dashboards()
    assert excinfo.value.status_code == 503
    assert g.search.search_dashboards() == []

    double.inject_fault("/api/folders", status=500, count=2, method="POST")
    assert g.folder.get_all_folders() == []  # GET is not matched
    for _ in range(2):
        with pytest.raises(GrafanaServerError):
            g.folder.create_folder("X", uid="x")
    assert g.folder.create_folder("X", uid="x")["uid"] == "x"
    assert [s for m, p, s in double.request_log if p == "/api/folders"] == [200, 500, 500, 200]


def test_fault_injection_connection_reset(double):
    g = api(double)
    double.inject_fault("/api/search", reset=True)
    with pytest.raises(niquests.exceptions.ConnectionError):
        g.search.search_dashboards()
    assert g.search.search_dashboards() == []
    assert double.request_log[-2:] == [("GET", "/api/search", 0), ("GET", "/api/search", 200)]


def test_latency_does_not_serialise_requests(make_double):
    latency = 0.1
    double = make_double(latency_ms=latency * 1000)
    barrier = threading.Barrier(10)
    spans: list[tuple[float, float]] = []

    def worker():
        with httpx.Client(base_url=double.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5) as client:
            barrier.wait()
            start = time.perf_counter()
            assert client.get("/api/search").status_code == 200
            spans.append((start, time.perf_counter()))

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(spans) == 10
    assert all(end - start >= latency * 0.9 for start, end in spans)  # each request really waited
    assert max(s for s, _ in spans) < min(e for _, e in spans)  # all ten were in flight at once (no wall-clock bound)


def test_runs_as_a_module_until_terminated(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "aetherops.testing.grafana_double", "--port", "0", "--token", TOKEN, "--seed-demo"],
        stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stderr.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        assert match, line
        url = match.group(1)
        resp = httpx.get(f"{url}/api/search", params={"type": "dash-db"}, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
        assert resp.status_code == 200 and len(resp.json()) >= 6
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/api/health", timeout=2)


def test_reset_and_request_log(double):
    double.seed_demo()
    raw(double, "GET", "/api/search")
    assert double.request_count == 1 and double.request_log == [("GET", "/api/search", 200)]
    double.reset()
    assert double.request_count == 0
    assert api(double).search.search_dashboards() == []


def test_stop_closes_keep_alive_connections(make_double):
    double = make_double()
    g = api(double)
    assert g.search.search_dashboards() == []
    double.stop()
    with pytest.raises(niquests.exceptions.ConnectionError):
        g.search.search_dashboards()
