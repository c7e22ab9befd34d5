"""Contract tests for the Grafana double's write path and its 10 / 11 / 12 differences.

Each test names the section of ``docs/testing/grafana-api.md`` it checks ("Contract: ...").
Client-facing behaviour goes through the real ``grafana-client``; exact status codes,
bodies and raw-socket behaviour through httpx or a socket.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import httpx
import pytest
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaServerError

from aetherops.testing.grafana_double import GrafanaDouble
from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN

TOKEN = GRAFANA_TEST_TOKEN
V10, V11, V12 = "10.4.3", "11.5.2", "12.1.0"


@pytest.fixture
def make_double(grafana_double_factory):
    return grafana_double_factory


def api(double: GrafanaDouble) -> GrafanaApi:
    return GrafanaApi(auth=TOKEN, host="127.0.0.1", port=double.port, protocol="http", timeout=5.0)


def raw(double: GrafanaDouble, method: str, path: str, token: str | None = TOKEN, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers.update(kwargs.pop("headers", {}))
    return httpx.request(method, double.url + path, headers=headers, timeout=10.0, **kwargs)


def dash(title: str, uid: str, **extra) -> dict:
    return {"id": None, "uid": uid, "title": title, "panels": [], "schemaVersion": 39, **extra}


def exchange(double: GrafanaDouble, request: bytes) -> bytes:
    """Send raw bytes, return what the server answers before it closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", double.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(next((line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), b"0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head + b"\r\n\r\n" + rest


# ---------------------------------------------------------------- Routing, auth and bodies


def test_trailing_slash_routes_like_grafanas_router(make_double):
    """Contract: "Routing" (pkg/api/api.go registers ``/search/``; pkg/web matches with or without the slash)."""
    double = make_double()
    double.add_dashboard(dash("Prod", "p1"))
    with_slash = raw(double, "GET", "/api/search/", params={"type": "dash-db", "limit": 10, "page": 1})
    assert with_slash.status_code == 200 and [h["uid"] for h in with_slash.json()] == ["p1"]
    assert raw(double, "GET", "/api/folders/").status_code == 200
    assert raw(double, "GET", "/api/dashboards/uid/p1/").json()["dashboard"]["title"] == "Prod"
    assert raw(double, "GET", "/api/nothing-here/").status_code == 404


def test_auth_is_checked_before_the_body_is_read(make_double):
    """Contract: "Auth before body": a 401 comes back while the announced body was never sent."""
    double = make_double()
    answer = exchange(double, b"POST /api/dashboards/db HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              b"Content-Length: 1000000\r\n\r\n{\"dash")
    assert answer.startswith(b"HTTP/1.1 401")
    assert b"connection: close" in answer.lower()
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["messageId"] == "auth.unauthorized"
    assert double.state["dashboards"] == []


def test_body_size_is_capped_with_413(make_double):
    """Contract: "Body size cap": past ``max_body_bytes`` the answer is 413 and the body is not read."""
    double = make_double(max_body_bytes=2048)
    big = {"dashboard": dash("Big", "big", description="x" * 4096)}
    resp = raw(double, "POST", "/api/dashboards/db", json=big)
    assert resp.status_code == 413 and "too large" in resp.json()["message"]
    assert resp.headers.get("connection", "").lower() == "close"
    assert raw(double, "POST", "/api/dashboards/db", json={"dashboard": dash("Small", "small")}).status_code == 200
    assert [d["uid"] for d in double.state["dashboards"]] == ["small"]


def test_unread_small_bodies_keep_the_connection_alive(make_double):
    """Contract: "Body size cap": a 401 on a small body drains it, so keep-alive connections go on."""
    double = make_double()
    with httpx.Client(base_url=double.url, timeout=10.0) as client:
        assert client.post("/api/folders", json={"title": "A"}).status_code == 401
        ok = client.post("/api/folders", json={"title": "A", "uid": "a"}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200 and ok.json()["uid"] == "a"


# ---------------------------------------------------------------- Search and meta on 12


@pytest.mark.parametrize("version, on_12", [(V10, False), (V11, False), (V12, True)])
def test_search_is_deleted_and_meta_api_version_on_12(make_double, version, on_12):
    """Contract: "Version differences" (``isDeleted`` in hits, ``meta.apiVersion`` on 12)."""
    double = make_double(grafana_version=version)
    double.add_folder("Team", uid="team")
    double.add_dashboard(dash("Prod", "p1"), folder_uid="team")
    hits = api(double).search.search_dashboards()
    assert [("isDeleted" in h) for h in hits] == [on_12, on_12]
    if on_12:
        assert all(h["isDeleted"] is False for h in hits)
    meta = api(double).dashboard.get_dashboard("p1")["meta"]
    assert meta.get("apiVersion") == ("v1beta1" if on_12 else None)


# ---------------------------------------------------------------- Library panels


def test_library_elements_crud_through_grafana_client(make_double):
    """Contract: "Library panels" (CRUD, version check on PATCH, delete refused while connected)."""
    double = make_double()
    g = api(double)
    created = g.libraryelement.create_library_element({"type": "stat", "title": "CPU"}, name="CPU", uid="lib1")["result"]
    assert created["uid"] == "lib1" and created["version"] == 1
    updated = g.libraryelement.update_library_element("lib1", {"type": "gauge", "title": "CPU"}, name="CPU %", version=1)["result"]
    assert updated["name"] == "CPU %" and updated["model"]["type"] == "gauge" and updated["version"] == 2
    with pytest.raises(GrafanaClientError) as stale:
        g.libraryelement.update_library_element("lib1", {"type": "gauge"}, name="CPU", version=1)
    assert stale.value.status_code == 412
    double.add_dashboard(dash("Uses lib", "d1", panels=[{"id": 1, "libraryPanel": {"uid": "lib1", "name": "CPU %"}}]))
    assert [c["connectionUid"] for c in g.libraryelement.get_library_element_connections("lib1")["result"]] == ["d1"]
    assert g.libraryelement.get_library_element("lib1")["result"]["meta"]["connectedDashboards"] == 1
    with pytest.raises(GrafanaClientError) as connected:
        g.libraryelement.delete_library_element("lib1")
    assert connected.value.status_code == 403
    g.dashboard.delete_dashboard("d1")
    g.libraryelement.delete_library_element("lib1")
    assert double.state["library_panels"] == []


def test_missing_library_panel_is_500_after_the_dashboard_is_saved(make_double):
    """Contract: "Library panels" (postDashboard connects library panels after the save)."""
    double = make_double()
    g = api(double)
    body = dash("Needs lib", "d1", panels=[{"id": 1, "libraryPanel": {"uid": "later", "name": "Later"}},
                                            {"type": "row", "panels": [{"id": 2, "libraryPanel": {"uid": "later"}}]}])
    with pytest.raises(GrafanaServerError) as excinfo:
        g.dashboard.update_dashboard({"dashboard": body, "overwrite": False})
    assert excinfo.value.status_code == 500
    assert excinfo.value.response["message"] == "Error while connecting library panels"
    stored = g.dashboard.get_dashboard("d1")  # saved although the call failed
    assert stored["meta"]["version"] == 1 and double.library_connections("later") == []
    # creating the panel later does not connect it: only a new save of the dashboard does
    g.libraryelement.create_library_element({"type": "stat"}, name="Later", uid="later")
    assert double.library_connections("later") == []
    g.dashboard.update_dashboard({"dashboard": stored["dashboard"], "overwrite": False})
    assert double.library_connections("later") == ["d1"]


# ---------------------------------------------------------------- Contact points and provenance


def test_contact_point_secrets_are_redacted_unless_decrypted(make_double):
    """Contract: "Contact points" (``RedactedValue``, export with ``decrypt=true``)."""
    double = make_double()
    double.add_contact_point({"uid": "hook", "name": "hook", "type": "webhook",
                              "settings": {"url": "https://hooks.example/x", "password": "s3cret"}})
    listed = api(double).alertingprovisioning.get_contactpoints()
    assert listed[0]["settings"] == {"url": "https://hooks.example/x", "password": "[REDACTED]"}
    assert "s3cret" not in raw(double, "GET", "/api/v1/provisioning/contact-points").text
    plain = raw(double, "GET", "/api/v1/provisioning/contact-points/export", params={"format": "json"}).json()
    assert plain["contactPoints"][0]["receivers"][0]["settings"]["password"] == "[REDACTED]"
    secret = raw(double, "GET", "/api/v1/provisioning/contact-points/export", params={"decrypt": "true"}).json()
    assert secret["contactPoints"][0]["receivers"][0]["settings"]["password"] == "s3cret"


def test_creating_with_a_placeholder_stores_the_placeholder(make_double):
    """Contract: "Contact points" (create keeps ``[REDACTED]`` literally; update swaps it back)."""
    double = make_double()
    g = api(double)
    g.alertingprovisioning.create_contactpoint({"uid": "slack", "name": "slack", "type": "slack",
                                                "settings": {"url": "[REDACTED]", "recipient": "#ops"}})
    assert double.get_contact_point("slack")["settings"]["url"] == "[REDACTED]"
    g.alertingprovisioning.update_contactpoint("slack", {"name": "slack", "type": "slack",
                                                         "settings": {"url": "https://hooks.slack.example/T1", "recipient": "#ops"}})
    g.alertingprovisioning.update_contactpoint("slack", {"name": "slack", "type": "slack",
                                                         "settings": {"url": "[REDACTED]", "recipient": "#oncall"}})
    assert double.get_contact_point("slack")["settings"] == {"url": "https://hooks.slack.example/T1", "recipient": "#oncall"}


def test_provenance_is_api_unless_disabled(make_double):
    """Contract: "Provenance" (``determineProvenance``: ``X-Disable-Provenance`` opts out)."""
    double = make_double()
    double.add_folder("Rules", uid="rules")
    g = api(double).alertingprovisioning
    rule = {"title": "R", "folderUID": "rules", "ruleGroup": "g", "condition": "A", "data": []}
    g.create_alertrule({**rule, "uid": "locked"})
    g.create_alertrule({**rule, "uid": "free", "title": "R2"}, disable_provenance=True)
    assert {r["uid"]: r["provenance"] for r in g.get_alertrules_all()} == {"locked": "api", "free": ""}
    g.create_contactpoint({"uid": "cp-locked", "name": "a", "type": "email", "settings": {"addresses": "a@x"}})
    g.create_contactpoint({"uid": "cp-free", "name": "b", "type": "email", "settings": {"addresses": "b@x"}}, disable_provenance=True)
    assert {c["uid"]: c.get("provenance", "") for c in g.get_contactpoints()} == {"cp-locked": "api", "cp-free": ""}
    updated = g.update_alertrule("locked", {**rule, "title": "R renamed"}, disable_provenance=True)
    assert updated["title"] == "R renamed" and updated["provenance"] == ""
    g.delete_alertrule("free")
    g.delete_contactpoint("cp-free")
    assert [r["uid"] for r in g.get_alertrules_all()] == ["locked"] and [c["uid"] for c in g.get_contactpoints()] == ["cp-locked"]
    assert raw(double, "DELETE", "/api/v1/provisioning/alert-rules/free").status_code == 404


# ---------------------------------------------------------------- v2 dashboards and /apis (12)


def test_v2_dashboards_answer_406_on_the_legacy_api(make_double):
    """Contract: "Grafana 12 v2 dashboards" (GetDashboard: 406 with the /apis pointer)."""
    double = make_double(grafana_version=V12)
    double.add_folder("Team", uid="team")
    double.add_dashboard(dash("Classic", "v1dash"), folder_uid="team")
    double.add_dashboard(dash("Modern", "v2dash", panels=[{"id": 3, "type": "stat", "gridPos": {"x": 0, "y": 0, "w": 6, "h": 4}}]),
                         folder_uid="team")
    double.store_as_v2("v2dash")
    with pytest.raises(GrafanaClientError) as excinfo:
        api(double).dashboard.get_dashboard("v2dash")
    assert excinfo.value.status_code == 406
    assert excinfo.value.response["message"] == ("dashboard api version not supported, use "
                                                 "/apis/dashboard.grafana.app/v2beta1/namespaces/default/dashboards/v2dash instead")
    assert api(double).dashboard.get_dashboard("v1dash")["dashboard"]["title"] == "Classic"
    assert {h["uid"] for h in api(double).search.search_dashboards(type_="dash-db")} == {"v1dash", "v2dash"}
    double.store_as_v2("later")  # stored as v2 when first saved; its library panels are connected all the same
    double.add_library_panel("Shared", uid="shared")
    double.add_dashboard(dash("Later", "later", panels=[{"id": 1, "libraryPanel": {"uid": "shared", "name": "Shared"}}]))
    assert double.get_dashboard_v2("later")["elements"]["panel-1"]["spec"]["libraryPanel"]["uid"] == "shared"
    assert double.library_connections("shared") == ["later"]
    with pytest.raises(ValueError):
        make_double(grafana_version=V11).store_as_v2("x")


def test_apis_routes_get_list_create_update(make_double):
    """Contract: "Grafana 12 v2 dashboards" (dashboard.grafana.app GET list/one, POST, PUT)."""
    double = make_double(grafana_version=V12)
    double.add_folder("Team", uid="team")
    double.add_dashboard(dash("Modern", "v2dash", tags=["a"], panels=[{"id": 3, "type": "stat"}]), folder_uid="team")
    double.store_as_v2("v2dash")
    base = "/apis/dashboard.grafana.app/v2beta1/namespaces/default/dashboards"
    one = raw(double, "GET", f"{base}/v2dash").json()
    assert one["apiVersion"] == "dashboard.grafana.app/v2beta1" and one["kind"] == "Dashboard"
    assert one["metadata"]["name"] == "v2dash" and one["metadata"]["annotations"]["grafana.app/folder"] == "team"
    assert one["spec"]["title"] == "Modern" and one["spec"]["elements"]["panel-3"]["kind"] == "Panel"
    listed = raw(double, "GET", base, params={"limit": 1}).json()
    assert listed["kind"] == "DashboardList" and [i["metadata"]["name"] for i in listed["items"]] == ["v2dash"]

    new = {"metadata": {"name": "fresh", "annotations": {"grafana.app/folder": "team"}},
           "spec": {"title": "Fresh", "elements": {}, "layout": {"kind": "GridLayout", "spec": {"items": []}}}}
    created = raw(double, "POST", base, json=new)
    assert created.status_code == 201 and created.json()["metadata"]["resourceVersion"] == "1"
    again = raw(double, "POST", base, json=new)
    assert again.status_code == 409 and again.json()["reason"] == "AlreadyExists"
    update = {**new, "metadata": {**new["metadata"], "resourceVersion": "1"}, "spec": {**new["spec"], "title": "Fresh 2"}}
    assert raw(double, "PUT", f"{base}/fresh", json=update).json()["metadata"]["resourceVersion"] == "2"
    stale = raw(double, "PUT", f"{base}/fresh", json=update)
    assert stale.status_code == 409 and stale.json()["reason"] == "Conflict"
    assert double.get_dashboard_v2("fresh")["title"] == "Fresh 2"
    assert raw(double, "GET", "/api/dashboards/uid/fresh").status_code == 406
    v1 = raw(double, "POST", "/apis/dashboard.grafana.app/v1beta1/namespaces/default/dashboards",
             json={"metadata": {"name": "classic"}, "spec": {"title": "Classic", "panels": []}})
    assert v1.status_code == 201 and api(double).dashboard.get_dashboard("classic")["dashboard"]["title"] == "Classic"
    assert raw(double, "GET", f"{base}/nope").json()["reason"] == "NotFound"


def test_apis_routes_do_not_exist_before_12(make_double):
    """Contract: "Grafana 12 v2 dashboards" (no unified-storage routes on 10 and 11)."""
    double = make_double(grafana_version=V11)
    assert raw(double, "GET", "/apis/dashboard.grafana.app/v1beta1/namespaces/default/dashboards").status_code == 404


# ---------------------------------------------------------------- Save rules by version


def test_overwrite_saves_plugin_dashboards(make_double):
    """Contract: "Save rules by version" (plugin dashboards: 412 without overwrite, saved with it)."""
    double = make_double()
    double.add_dashboard(dash("Plugin", "plug"), plugin_id="some-app")
    body = {"dashboard": {**dash("Plugin", "plug"), "version": 1}}
    refused = raw(double, "POST", "/api/dashboards/db", json=body)
    assert refused.status_code == 412 and refused.json()["status"] == "plugin-dashboard"
    saved = api(double).dashboard.update_dashboard({**body, "overwrite": True})
    assert saved["version"] == 2


@pytest.mark.parametrize("version, status", [(V10, 412), (V11, 412), (V12, 200)])
def test_name_exists_compares_slugs_before_12(make_double, version, status):
    """Contract: "Save rules by version" (``slug=?`` in getExistingDashboardByTitleAndFolder)."""
    double = make_double(grafana_version=version)
    double.add_dashboard(dash("Prod DB", "a"))
    resp = raw(double, "POST", "/api/dashboards/db", json={"dashboard": dash("prod-db", "b")})
    assert resp.status_code == status
    if status == 412:
        assert resp.json()["status"] == "name-exists"


@pytest.mark.parametrize("version, status", [(V10, 400), (V11, 400), (V12, 200)])
def test_dashboard_named_like_a_folder_is_refused_before_12(make_double, version, status):
    """Contract: "Save rules by version" (ErrDashboardWithSameNameAsFolder, even with overwrite)."""
    double = make_double(grafana_version=version)
    double.add_folder("Team A", uid="team-a")
    resp = raw(double, "POST", "/api/dashboards/db", json={"dashboard": dash("Team A", "d"), "folderUid": "team-a", "overwrite": True})
    assert resp.status_code == status
    if status == 400:
        assert resp.json() == {"message": "Dashboard name cannot be the same as folder", "status": "name-match"}


@pytest.mark.parametrize("version, status", [(V11, 200), (V12, 413)])
def test_oversized_dashboards_are_413_on_12(make_double, version, status):
    """Contract: "Save rules by version" (unified storage refuses large dashboards, grafana#101590)."""
    double = make_double(grafana_version=version, max_dashboard_bytes=5000)
    resp = raw(double, "POST", "/api/dashboards/db", json={"dashboard": dash("Huge", "huge", description="x" * 6000)})
    assert resp.status_code == status
    assert (double.get_dashboard("huge") is None) == (status == 413)


def test_refresh_below_the_minimum(make_double):
    """Contract: "Save rules by version" (legacy save raises refresh to the minimum; /apis on 12 refuses it)."""
    for version in (V10, V12):
        double = make_double(grafana_version=version, min_refresh_interval="10s")
        api(double).dashboard.update_dashboard({"dashboard": dash("Fast", "fast", refresh="1s")})
        assert double.get_dashboard("fast")["refresh"] == "10s"
    resp = raw(double, "POST", "/apis/dashboard.grafana.app/v1beta1/namespaces/default/dashboards",
               json={"metadata": {"name": "faster"}, "spec": {"title": "Faster", "refresh": "2s"}})
    assert resp.status_code == 400 and resp.json()["message"] == "Dashboard refresh interval is too low"


@pytest.mark.parametrize("version, status", [(V10, 409), (V11, 409), (V12, 412)])
def test_duplicate_folder_uid_status_by_version(make_double, version, status):
    """Contract: "Save rules by version" (duplicate folder uid)."""
    double = make_double(grafana_version=version)
    g = api(double)
    g.folder.create_folder("A", uid="dup")
    with pytest.raises(GrafanaClientError) as excinfo:
        g.folder.create_folder("B", uid="dup")
    assert excinfo.value.status_code == status


def test_folders_deeper_than_the_limit_are_refused(make_double):
    """Contract: "Save rules by version" (``folder.maximum-depth-reached``, default max depth 4)."""
    double = make_double()
    g = api(double)
    parent = None
    for level in range(1, 5):
        parent = g.folder.create_folder(f"L{level}", uid=f"l{level}", parent_uid=parent)["uid"]
    with pytest.raises(GrafanaClientError) as excinfo:
        g.folder.create_folder("L5", uid="l5", parent_uid=parent)
    assert excinfo.value.status_code == 400
    assert excinfo.value.response["messageId"] == "folder.maximum-depth-reached"
    g.folder.create_folder("Side", uid="side")
    g.folder.create_folder("Side child", uid="side-child", parent_uid="side")
    moved = raw(double, "POST", "/api/folders/side/move", json={"parentUid": "l3"})
    assert moved.status_code == 400 and moved.json()["messageId"] == "folder.maximum-depth-reached"
    assert "l5" not in {f["uid"] for f in double.state["folders"]}


def test_folder_permissions_read_and_write(make_double):
    """Contract: "Folders" (``/api/folders/:uid/permissions``: Grafana's defaults; updates accepted)."""
    double = make_double()
    double.add_folder("Team", uid="team")
    perms = raw(double, "GET", "/api/folders/team/permissions").json()
    assert [(p["role"], p["permission"]) for p in perms] == [("Editor", 2), ("Viewer", 1)] and perms[0]["uid"] == "team"
    assert raw(double, "POST", "/api/folders/team/permissions", json={"items": []}).json() == {"message": "Folder permissions updated"}
    assert raw(double, "GET", "/api/folders/nope/permissions").status_code == 404


def test_team_http_headers_in_datasource_json_data_are_403(make_double):
    """Contract: "Save rules by version" (AddDataSource/UpdateDataSource refuse ``teamHttpHeaders``)."""
    double = make_double()
    g = api(double)
    lbac = {"name": "Loki", "type": "loki", "url": "http://loki", "access": "proxy",
            "jsonData": {"teamHttpHeaders": {"headers": {"1": [{"header": "X-Prom-Label-Policy", "value": "a"}]}}}}
    with pytest.raises(GrafanaClientError) as excinfo:
        g.datasource.create_datasource(lbac)
    assert excinfo.value.status_code == 403
    created = g.datasource.create_datasource({**lbac, "jsonData": {}})["datasource"]
    with pytest.raises(GrafanaClientError) as update:
        g.datasource.update_datasource_by_uid(created["uid"], lbac)
    assert update.value.status_code == 403


def test_every_contract_test_names_a_section_of_the_contract():
    """The "Contract: <section>" in each double test names a heading of docs/testing/grafana-api.md."""
    root = Path(__file__).resolve().parent.parent
    headings = {line.lstrip("#").strip() for line in (root / "docs/testing/grafana-api.md").read_text(encoding="utf-8").splitlines()
                if line.startswith("#")}
    named = []
    for path in sorted((root / "tests").glob("test_grafana_double_*.py")):
        text = path.read_text(encoding="utf-8")
        tests = re.findall(r"^def (test_\w+)\(", text, flags=re.M)
        sections = re.findall(r'Contract: "([A-Z][^"]+)"', text)
        named.extend(sections)
        assert len(sections) >= len(tests) - 1, f"{path.name}: a test without a Contract: section"
    assert named and not set(named) - headings, sorted(set(named) - headings)


def test_module_options_for_the_new_settings(tmp_path):
    """Contract: "Grafana 12 v2 dashboards" (``python -m aetherops.testing.grafana_double --v2-uids ...``)."""
    import subprocess
    import sys

    from aetherops.testing.grafana_double.cli import main

    with pytest.raises(SystemExit) as refused:  # there is no v2 before 12
        main(["--grafana-version", "11.2.0", "--v2-uids", "node-exporter"])
    assert refused.value.code == 2
    proc = subprocess.Popen([sys.executable, "-m", "aetherops.testing.grafana_double", "--port", "0", "--token", TOKEN,
                             "--grafana-version", "12.1.0", "--v2-uids", "node-exporter", "--seed-demo", "--max-folder-depth", "2",
                             "--max-body-bytes", "100000"], stderr=subprocess.PIPE, text=True)
    try:
        url = re.search(r"(http://127\.0\.0\.1:\d+)", proc.stderr.readline()).group(1)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.get(f"{url}/api/dashboards/uid/node-exporter", headers=headers, timeout=10).status_code == 406
        assert httpx.get(f"{url}/api/dashboards/uid/blackbox-probes", headers=headers, timeout=10).status_code == 200
        deep = httpx.post(f"{url}/api/folders", json={"title": "Too deep", "parentUid": "apps-payments"}, headers=headers, timeout=10)
        assert deep.status_code == 400 and deep.json()["messageId"] == "folder.maximum-depth-reached"
        big = httpx.post(f"{url}/api/folders", content=b"x" * 200_000, headers=headers, timeout=10)
        assert big.status_code == 413
    finally:
        proc.terminate()
        proc.wait(timeout=10)
