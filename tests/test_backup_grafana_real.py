"""`aetherops backup` / `restore` of Grafana against the double, for what real Grafana does (issue 17) and
for the no-silent-loss and no-secret rules of issue 14: 403 is not "not offered", a 200 that is not a
dashboard is an error for that item, contact points never carry secrets into a backup or a placeholder
into a restore, library panels exist before the dashboards linking them, provenance is a choice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN


@pytest.fixture
def grafana_only(grafana_double, profile_factory, monkeypatch):
    """A profile ``g`` with only the Grafana double (seeded), selected."""
    monkeypatch.setenv("GTOKEN", GRAFANA_TEST_TOKEN)

    def make(**backup):
        data = {"grafana": {"url": grafana_double.url, "timeout": 5, "retries": 1, "auth": {"token_env": "GTOKEN"}}}
        if backup:
            data["backup"] = backup
        profile_factory("g", data)
        monkeypatch.setenv("AETHEROPS_PROFILE", "g")
        return grafana_double

    grafana_double.seed_demo()
    make()
    grafana_double.make_profile = make
    return grafana_double


def backup(cli, tmp_path: Path, *args: str, expect: int = 0) -> dict:
    result = cli("backup", "--dir", str(tmp_path / "b"), "--only", "grafana", *args, "-o", "json")
    assert result.exit_code == expect, result
    assert "Traceback" not in result.stderr
    return result.json()


def restore(cli, path: str, *args: str, expect: int = 0) -> dict:
    result = cli("restore", path, "--only", "grafana", *args, "-o", "json")
    assert result.exit_code == expect, result
    assert "Traceback" not in result.stderr
    return result.json()


def component_file(out: dict, rel: str) -> dict:
    return json.loads((Path(out["path"]) / "grafana" / rel).read_text(encoding="utf-8"))


# ------------------------------------------------------------------ no silent loss
@pytest.mark.parametrize("path, label, file", [("/api/v1/provisioning/alert-rules", "alert rules", "alert-rules.json"),
                                               ("/api/v1/provisioning/contact-points", "contact points", "contact-points.json"),
                                               ("/api/datasources", "datasources", "datasources.json")])
def test_a_403_is_an_incomplete_backup_not_a_missing_feature(grafana_only, aetherops_cli, tmp_path, path, label, file):
    grafana_only.inject_fault(path, status=403, count=None, method="GET")
    out = backup(aetherops_cli, tmp_path, expect=1)
    grafana = out["components"]["grafana"]
    assert out["complete"] is False and grafana["status"] == "incomplete"
    assert any(label in w and "403" in w for w in grafana["warnings"])
    assert not any("does not offer" in n for n in grafana["notes"])
    assert [m["kind"] for m in out["missing"]] == [label]
    files = json.loads((Path(out["path"]) / "MANIFEST.json").read_text(encoding="utf-8"))["files"]
    assert f"grafana/{file}" not in files and grafana["counts"]["dashboards"] == 6  # the rest is there


def test_a_200_that_is_not_a_dashboard_is_an_error_for_that_item(grafana_only, aetherops_cli, tmp_path):
    grafana_only.inject_fault("/api/dashboards/uid/payments-service", status=200, count=None, method="GET")
    out = backup(aetherops_cli, tmp_path, expect=1)
    assert out["complete"] is False
    [missing] = out["missing"]
    assert missing["id"] == "payments-service" and "not an object with 'dashboard'" in missing["error"]
    files = json.loads((Path(out["path"]) / "MANIFEST.json").read_text(encoding="utf-8"))["files"]
    assert not any("payments-service" in f for f in files)  # never an empty file
    assert out["components"]["grafana"]["counts"]["dashboards"] == 5


# ------------------------------------------------------------------ contact point secrets
SECRET_POINTS = [
    {"uid": "hook", "name": "ops-webhook", "type": "webhook",
     "settings": {"url": "https://hooks.example.com/ops", "password": "webhook-pass-123", "httpMethod": "POST"}},
    {"uid": "slack", "name": "ops-slack", "type": "slack",
     "settings": {"url": "https://hooks.slack.com/services/T0/B0/slacksecret", "recipient": "#ops"}},
    {"uid": "pd", "name": "pager", "type": "pagerduty", "settings": {"integrationKey": "[REDACTED]", "severity": "critical"}},
]


def test_contact_point_secrets_are_removed_even_when_the_server_returns_them(grafana_only, aetherops_cli, tmp_path):
    for cp in SECRET_POINTS:
        grafana_only.add_contact_point(cp)
    out = backup(aetherops_cli, tmp_path)
    stored = {c["uid"]: c for c in component_file(out, "contact-points.json")["contact_points"]}
    text = (Path(out["path"]) / "grafana" / "contact-points.json").read_text(encoding="utf-8")
    for secret in ("webhook-pass-123", "slacksecret", "[REDACTED]"):
        assert secret not in text
    assert stored["hook"]["settings"] == {"url": "https://hooks.example.com/ops", "httpMethod": "POST"}  # a webhook url is not secure
    assert stored["hook"]["secure_fields"] == ["password"]
    assert stored["slack"]["secure_fields"] == ["url"] and stored["slack"]["settings"] == {"recipient": "#ops"}
    assert stored["pd"]["secure_fields"] == ["integrationKey"]
    assert stored["oncall-email"]["secure_fields"] == []
    note = next(n for n in out["components"]["grafana"]["notes"] if "contact point secrets" in n)
    assert "ops-webhook" in note and "ops-slack" in note and "pager" in note and "oncall" not in note


def test_restore_never_writes_a_placeholder_secret(grafana_only, aetherops_cli, tmp_path, monkeypatch):
    for cp in SECRET_POINTS:
        grafana_only.add_contact_point(cp)
    out = backup(aetherops_cli, tmp_path)
    grafana_only.reset()
    grafana_only.seed_demo()
    grafana_only._contact_points.clear()  # noqa: SLF001 - the target has no contact points at all
    secret_file = tmp_path / "pd-key"
    secret_file.write_text("pd-real-key-456\n", encoding="utf-8")
    monkeypatch.setenv("HOOK_PASSWORD", "webhook-pass-123")
    grafana_only.make_profile(contact_point_secrets={"ops-webhook": {"password_env": "HOOK_PASSWORD"},
                                                     "pager": {"integrationKey_file": str(secret_file)}})
    result = restore(aetherops_cli, out["path"])
    items = {i["name"]: i for i in result["items"] if i["kind"] == "contact point"}
    assert items["ops-webhook"]["action"] == "create" and items["ops-webhook"]["applied"]
    assert items["pager"]["action"] == "create" and items["pager"]["applied"]
    assert items["ops-slack"]["action"] == "skip" and "url" in items["ops-slack"]["detail"]
    assert "backup.contact_point_secrets.ops-slack" in items["ops-slack"]["detail"]
    assert any("ops-slack" in w and "secret" in w for w in result["warnings"])
    state = {c["uid"]: c for c in grafana_only.state["contact_points"]}
    assert state["hook"]["settings"]["password"] == "webhook-pass-123"
    assert state["pd"]["settings"]["integrationKey"] == "pd-real-key-456"
    assert "slack" not in state  # skipped, never created with a blank or a placeholder
    assert all("[REDACTED]" not in json.dumps(c) for c in state.values())
    shown = json.dumps(result)
    assert "webhook-pass-123" not in shown and "pd-real-key-456" not in shown


# ------------------------------------------------------------------ order and provenance
def test_library_panels_are_created_before_the_dashboards(grafana_only, aetherops_cli, tmp_path):
    grafana_only.add_dashboard({"uid": "uses-lib", "title": "Uses the library panel",
                                "panels": [{"id": 1, "libraryPanel": {"uid": "lib-cpu", "name": "Shared CPU panel"}}]},
                               folder_uid="infra")
    out = backup(aetherops_cli, tmp_path)
    grafana_only.reset()
    restore(aetherops_cli, out["path"])
    writes = [(m, p) for m, p, _status in grafana_only.request_log if m == "POST"]
    library = writes.index(("POST", "/api/library-elements"))
    first_dashboard = writes.index(("POST", "/api/dashboards/db"))
    assert library < first_dashboard
    assert writes.index(("POST", "/api/folders")) < library


def test_a_dashboard_whose_library_panel_exists_nowhere_is_an_error_in_the_plan(grafana_only, aetherops_cli, tmp_path):
    from aetherops.testing.grafana_double import DoubleError

    with pytest.raises(DoubleError, match="connecting library panels"):  # saved anyway, unlinked: as Grafana does
        grafana_only.add_dashboard({"uid": "orphan", "title": "Orphan", "panels": [{"id": 1, "libraryPanel": {"uid": "gone"}}]})
    out = backup(aetherops_cli, tmp_path)
    grafana_only.reset()
    result = restore(aetherops_cli, out["path"], expect=1)
    item = next(i for i in result["items"] if i["kind"] == "dashboard" and i["name"].endswith("/Orphan"))
    assert item["action"] == "error" and "gone" in item["detail"] and item["applied"] is False
    assert grafana_only.get_dashboard("orphan") is None  # never saved half-connected
    assert grafana_only.get_dashboard("payments-service") is not None  # the rest went through


def test_a_dashboard_waits_when_its_library_panel_could_not_be_created(grafana_only, aetherops_cli, tmp_path):
    grafana_only.add_dashboard({"uid": "uses-lib", "title": "Uses the library panel",
                                "panels": [{"id": 1, "libraryPanel": {"uid": "lib-cpu", "name": "Shared CPU panel"}}]},
                               folder_uid="infra")
    out = backup(aetherops_cli, tmp_path)
    grafana_only.reset()
    grafana_only.inject_fault("/api/library-elements", status=500, count=None, method="POST")
    result = restore(aetherops_cli, out["path"], expect=1)
    item = next(i for i in result["items"] if i["kind"] == "dashboard" and i["name"].endswith("/Uses the library panel"))
    assert item["applied"] is False and "lib-cpu" in item["error"]
    assert grafana_only.get_dashboard("uses-lib") is None  # never saved unlinked
    assert grafana_only.get_dashboard("payments-service") is not None


# ------------------------------------------------------------------ crafted backups
def rewrite(path: str, rel: str, data) -> None:
    """Replace a file of a backup and fix its checksum, as someone crafting a backup would."""
    import hashlib

    target = Path(path) / rel
    raw = json.dumps(data).encode("utf-8")
    target.write_bytes(raw)
    manifest_path = Path(path) / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"][rel] = {**manifest["files"][rel], "size": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize("rel, data", [
    ("grafana/dashboards.json", {"dashboards": [{"uid": "x"}]}),
    ("grafana/dashboards.json", {"dashboards": "nope"}),
    ("grafana/dashboards.json", [1, 2]),
    ("grafana/dashboards/general/blackbox-probes.json", {"meta": {}}),
    ("grafana/dashboards/general/blackbox-probes.json", {"schema": "v2", "resource": []}),
    ("grafana/folders.json", {"folders": [{"title": "no uid"}]}),
    ("grafana/contact-points.json", {"contact_points": [None]}),
])
def test_a_crafted_grafana_backup_is_one_line_and_exit_4(grafana_only, aetherops_cli, tmp_path, rel, data):
    out = backup(aetherops_cli, tmp_path)
    rewrite(out["path"], rel, data)
    result = aetherops_cli("restore", out["path"], "--only", "grafana")
    assert result.exit_code == 4, result
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "not what aetherops backup writes" in result.stderr
    assert not [r for r in grafana_only.request_log if r[0] == "POST"]  # nothing was written


def test_a_contact_point_secret_reference_that_cannot_be_read_is_a_config_error(grafana_only, aetherops_cli, tmp_path, monkeypatch):
    grafana_only.add_contact_point(SECRET_POINTS[0])
    out = backup(aetherops_cli, tmp_path)
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    grafana_only.make_profile(contact_point_secrets={"ops-webhook": {"password_env": "NOT_SET_ANYWHERE"}})
    result = aetherops_cli("restore", out["path"], "--only", "grafana", "--dry-run")
    assert result.exit_code == 4, result
    assert "NOT_SET_ANYWHERE" in result.stderr and "backup.contact_point_secrets.ops-webhook.password_env" in result.stderr
    assert "g.yaml" in result.stderr and len(result.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------------ contact point stripping, any shape
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_keys = st.sampled_from(["url", "password", "token", "apiKey", "integrationKey", "recipient", "addresses", "secret",
                         "authorization_credentials", "httpMethod", "sigv4", "title", "bot_token"])
_values = st.sampled_from(["[REDACTED]", "***", "plain-value", "", "https://h/x"]) | st.integers() | st.none() | st.booleans()
_settings = st.recursive(_values, lambda kids: st.dictionaries(_keys, kids, max_size=4), max_leaves=10)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["webhook", "slack", "pagerduty", "email", "sns", "unknown", None]),
       st.dictionaries(_keys, _settings, max_size=6))
def test_stripped_contact_points_keep_no_secret(cp_type, raw):
    from aetherops.redact import is_secret_key
    from aetherops_plugins.backup.components.grafana import CONTACT_POINT_SECRETS, PLACEHOLDERS, strip_contact_point_secrets

    before = json.loads(json.dumps(raw))
    out = strip_contact_point_secrets({"uid": "u", "name": "n", "type": cp_type, "settings": raw})
    assert raw == before  # the server's answer is not modified in place

    def leaves(value, prefix=""):
        if isinstance(value, dict):
            for key, item in value.items():
                yield from leaves(item, f"{prefix}{key}.")
        else:
            yield prefix[:-1], value

    for dotted, value in leaves(out["settings"]):
        assert value not in PLACEHOLDERS or value == "" or not isinstance(value, str)
        if value not in (None, "") and not isinstance(value, dict):
            assert not is_secret_key(dotted.rsplit(".", 1)[-1]), (dotted, value)
            assert dotted not in CONTACT_POINT_SECRETS.get(str(cp_type), ())
    assert out["secure_fields"] == sorted(set(out["secure_fields"]))
