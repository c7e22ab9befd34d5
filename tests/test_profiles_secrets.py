"""Issue 15: an unresolved secret reference is reported the same way whatever its form (``token_env``,
``*_file``, ``${VAR}``) by ``profiles show`` and ``profiles list`` (exit 4, no secret value shown), and
``health`` reports the service whose secret is missing as its own failed row."""

from __future__ import annotations

import json

import pytest

SECRET = "s3cr3t-value-never-shown-9f8e"

FORMS = {
    "token_env": "grafana:\n  url: http://127.0.0.1:9\n  auth:\n    token_env: POLISH_UNSET_TOKEN\n",
    "token_file": "grafana:\n  url: http://127.0.0.1:9\n  auth:\n    token_file: {missing}\n",
    "${VAR}": "grafana:\n  url: http://127.0.0.1:9\n  auth:\n    token: ${{POLISH_UNSET_TOKEN}}\n",
}


@pytest.fixture(autouse=True)
def _unset(monkeypatch):
    monkeypatch.delenv("POLISH_UNSET_TOKEN", raising=False)


@pytest.mark.parametrize("form", sorted(FORMS))
def test_profiles_show_reports_each_form_the_same_way_and_exits_4(form, profile_factory, aetherops_cli, tmp_path):
    profile_factory("p", text=FORMS[form].format(missing=tmp_path / "no-such-token"))
    result = aetherops_cli("-o", "json", "profiles", "show", "p")
    assert result.exit_code == 4, result
    data = json.loads(result.stdout)
    [problem] = data["unresolved"]
    assert problem["key"].startswith("grafana.auth.token")
    assert problem["kind"] == {"token_env": "env", "token_file": "file", "${VAR}": "${VAR}"}[form]
    assert problem["line"] == 4 and problem["path"].endswith("p.yaml")
    # one line on stderr, same shape for every form: file:line: secret reference KEY (REF): PROBLEM
    [line] = result.stderr.strip().splitlines()
    assert "p.yaml:4: secret reference grafana.auth.token" in line and "Traceback" not in line
    text = aetherops_cli("profiles", "show", "p")
    assert text.exit_code == 4 and "# profile p" in text.stdout


@pytest.mark.parametrize("form", sorted(FORMS))
def test_profiles_list_marks_the_profile_in_error(form, profile_factory, aetherops_cli, tmp_path):
    profile_factory("good", text="prometheus:\n  url: http://127.0.0.1:9\n")
    profile_factory("p", text=FORMS[form].format(missing=tmp_path / "no-such-token"))
    result = aetherops_cli("-o", "json", "profiles", "list")
    assert result.exit_code == 4, result
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["good"]["status"] == "ok"
    assert rows["p"]["status"] == "unresolved" and "secret reference grafana.auth.token" in rows["p"]["error"]
    assert rows["good"]["error"] is None


def test_profiles_list_does_not_fail_on_the_shipped_local_profile_before_sandbox_up(aetherops_cli):
    # local's grafana token file is written by `aetherops sandbox up`: shown as unresolved, exit 0
    result = aetherops_cli("-o", "json", "profiles", "list")
    assert result.exit_code == 0, result
    local = next(r for r in result.json() if r["name"] == "local")
    assert local["status"] == "unresolved" and "grafana-token" in local["error"]
    assert aetherops_cli("profiles", "show", "local").exit_code == 4


def test_resolved_references_exit_0_and_never_print_the_value(profile_factory, aetherops_cli, tmp_path, monkeypatch):
    token = tmp_path / "token"
    token.write_text(SECRET + "\n", encoding="utf-8")
    monkeypatch.setenv("POLISH_SET_TOKEN", SECRET)
    profile_factory("p", text=f"grafana:\n  url: http://127.0.0.1:9\n  auth:\n    token_file: {token}\n"
                              "alertmanager:\n  url: http://127.0.0.1:9\n  auth:\n    token: ${POLISH_SET_TOKEN}\n"
                              "prometheus:\n  url: http://127.0.0.1:9\n  auth:\n    token_env: POLISH_SET_TOKEN\n")
    for args in (("profiles", "show", "p"), ("-o", "json", "profiles", "show", "p"), ("-p", "p", "profiles", "list")):
        result = aetherops_cli(*args)
        assert result.exit_code == 0, result
        assert SECRET not in result.stdout + result.stderr


def test_unresolved_values_are_never_printed_even_partly(profile_factory, aetherops_cli, monkeypatch, tmp_path):
    # two problems at once: both reported, the value of the one that resolves stays hidden
    monkeypatch.setenv("POLISH_SET_TOKEN", SECRET)
    profile_factory("p", text="grafana:\n  url: http://127.0.0.1:9\n  auth:\n    token_env: POLISH_UNSET_TOKEN\n"
                              "prometheus:\n  url: http://127.0.0.1:9\n  headers:\n    X-Api-Key: ${POLISH_UNSET_TOKEN}\n"
                              "alertmanager:\n  url: http://127.0.0.1:9\n  auth:\n    token_env: POLISH_SET_TOKEN\n")
    result = aetherops_cli("-o", "json", "profiles", "show", "p")
    assert result.exit_code == 4
    keys = [p["key"] for p in json.loads(result.stdout)["unresolved"]]
    assert keys == ["grafana.auth.token_env", "prometheus.headers.X-Api-Key"]
    assert SECRET not in result.stdout + result.stderr
    assert "1 more above" in result.stderr


def test_a_plain_unset_variable_still_stops_loading(profile_factory, aetherops_cli):
    # not a secret: the profile is wrong for every command (file:line, exit 4), as before
    profile_factory("p", text="prometheus:\n  url: http://${POLISH_UNSET_TOKEN}:9090\n")
    result = aetherops_cli("profiles", "show", "p")
    assert result.exit_code == 4 and "p.yaml:2:" in result.stderr


def test_a_client_for_an_unresolved_var_is_a_config_error(profile_factory, aetherops_cli):
    profile_factory("p", text=FORMS["${VAR}"].format())
    result = aetherops_cli("-p", "p", "health")
    assert result.exit_code == 4, result
    [line] = result.stderr.strip().splitlines()
    assert "p.yaml:4: secret reference grafana.auth.token (${POLISH_UNSET_TOKEN})" in line


@pytest.mark.servers
@pytest.mark.parametrize("form", sorted(FORMS))
def test_health_reports_the_service_with_a_missing_secret_as_its_failed_row(form, alertmanager_server, profile_factory,
                                                                            aetherops_cli, tmp_path):
    profile_factory("p", text=FORMS[form].format(missing=tmp_path / "no-such-token")
                    + f"alertmanager:\n  url: {alertmanager_server.url}\n")
    result = aetherops_cli("-p", "p", "-o", "json", "health")
    assert result.exit_code == 1, result  # one unhealthy service: findings, the other one still checked
    rows = {r["service"]: r for r in json.loads(result.stdout)}
    assert rows["alertmanager"]["ok"] is True
    assert rows["grafana"]["ok"] is False and rows["grafana"]["reachable"] is False
    error = rows["grafana"]["error"]
    assert "p.yaml:" in error and ("POLISH_UNSET_TOKEN" in error or "no-such-token" in error)


def test_the_parse_cache_skips_yaml_and_never_holds_a_refused_secret(profile_factory, aetherops_env, tmp_path):
    import marshal
    import subprocess
    import sys
    from pathlib import Path

    profile_factory("c", text="alertmanager:\n  url: http://127.0.0.1:9\n  timeout: 3\n")
    profile_factory("bad", text="grafana:\n  url: http://127.0.0.1:9\n  auth:\n    token: inline-secret-value-77\n")
    code = ("import sys, json; from aetherops.profiles import ProfileStore; s = ProfileStore();"
            "p = s.load('c'); print(json.dumps([p.data['alertmanager']['timeout'], 'yaml' in sys.modules]));"
            "import contextlib\nwith contextlib.suppress(Exception): s.load('bad')")
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert first.stdout.splitlines()[0] == "[3.0, true]"  # parsed with PyYAML, then cached
    assert second.stdout.splitlines()[0] == "[3.0, false]"  # from the cache: no PyYAML import
    cache_dir = Path(aetherops_env["AETHEROPS_CACHE_DIR"])
    blobs = [f.read_bytes() for f in cache_dir.glob("profile-*.marshal")]
    assert len(blobs) == 1 and b"inline-secret-value-77" not in b"".join(blobs)
    assert marshal.loads(blobs[0])["data"]["alertmanager"]["url"] == "http://127.0.0.1:9"
    # an edit is seen at once (the key is the content), and a line number still comes from the right line
    profile_factory("c", text="# moved\nalertmanager:\n  url: http://127.0.0.1:9\n  timeout: [\n")
    broken = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert broken.returncode != 0 and "c.yaml:" in broken.stderr
