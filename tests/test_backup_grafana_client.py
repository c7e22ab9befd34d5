"""GrafanaClient on a mock transport: what it reads from answers real Grafana gives and the double does not
(soft-deleted search hits, 406 pointers, Kubernetes Status bodies, bodies that are not the expected object)."""

from __future__ import annotations

import json

import httpx
import pytest

from aetherops.clients.grafana import GrafanaClient, GrafanaError, V2Dashboard
from aetherops.profiles import ServiceConfig


def client(handler, **options) -> GrafanaClient:
    config = ServiceConfig(name="grafana", url="http://grafana.test", retries=1, timeout=2, options=options)
    return GrafanaClient(config, transport=httpx.MockTransport(handler))


def answer(status: int, body) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})


def test_search_drops_soft_deleted_hits_and_other_types():
    def handler(request):
        return answer(200, [{"uid": "a", "type": "dash-db"}, {"uid": "b", "type": "dash-db", "isDeleted": True},
                            {"uid": "f", "type": "dash-folder"}, {"uid": "a", "type": "dash-db"}])

    assert [h["uid"] for h in client(handler).search_all("dash-db")] == ["a"]


@pytest.mark.parametrize("message, version, namespace", [
    ("dashboard api version not supported, use /apis/dashboard.grafana.app/v2alpha1/namespaces/stacks-12/dashboards/x instead",
     "v2alpha1", "stacks-12"),
    ("not acceptable", "v2beta1", "org-3"),
])
def test_406_points_at_the_apis_resource(message, version, namespace):
    seen = []

    def handler(request):
        seen.append((request.url.path, request.headers.get("X-Grafana-Org-Id")))
        return answer(406, {"message": message})

    with pytest.raises(V2Dashboard) as info:
        client(handler, org_id=3).dashboard("x")
    assert (info.value.api_version, info.value.namespace, info.value.uid) == (version, namespace, "x")
    assert seen == [("/api/dashboards/uid/x", "3")]


def test_errors_carry_grafanas_reason_from_either_body_shape():
    def handler(request):
        if request.url.path.startswith("/apis/"):
            return answer(409, {"kind": "Status", "status": "Failure", "reason": "Conflict", "message": "the object has been\nmodified"})
        return answer(412, {"status": "name-exists", "message": "A dashboard with the same name in the folder already exists"})

    grafana = client(handler)
    with pytest.raises(GrafanaError) as legacy:
        grafana.save_dashboard({"dashboard": {"title": "x"}})
    assert (legacy.value.status, legacy.value.reason) == (412, "name-exists")
    with pytest.raises(GrafanaError) as k8s:
        grafana.save_dashboard_v2({"apiVersion": "dashboard.grafana.app/v2beta1", "metadata": {"name": "x"}, "spec": {}}, create=False)
    assert (k8s.value.status, k8s.value.reason, k8s.value.server_message) == (409, "Conflict", "the object has been modified")


@pytest.mark.parametrize("body", [{"message": "Dashboard not found"}, [], None, {"dashboard": "text"}])
def test_a_200_that_is_not_a_dashboard_is_an_error(body):
    grafana = client(lambda request: httpx.Response(200, content=b"" if body is None else json.dumps(body).encode()))
    with pytest.raises(GrafanaError, match="answered 200 with .* not an object with 'dashboard'") as info:
        grafana.dashboard("x")
    assert info.value.status == 200 and "\n" not in info.value.format_message()


def test_provenance_header_only_when_asked():
    headers = []

    def handler(request):
        headers.append(request.headers.get("X-Disable-Provenance"))
        return answer(201, {"uid": "r"})

    grafana = client(handler)
    grafana.create_alert_rule({"uid": "r"}, disable_provenance=True)
    grafana.create_contact_point({"uid": "c"}, disable_provenance=False)
    assert headers == ["true", None]
