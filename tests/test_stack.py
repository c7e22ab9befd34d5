"""The stack plugin: open (and its dashboard lookup shared with `dashboards open`), version pins, fleet opt-in."""

from __future__ import annotations

import pytest

from aetherops_plugins.stack.versions import parse_pin, satisfies


@pytest.fixture
def urls(profile_factory, monkeypatch):
    monkeypatch.setenv("AETHEROPS_PROFILE", "o")
    profile_factory("o", prometheus={"url": "http://prom.example:9090/"}, alertmanager={"url": "http://am.example:9093"},
                    grafana={"url": "http://grafana.example:3000"})


@pytest.mark.parametrize("service, url", [("prometheus", "http://prom.example:9090"), ("alertmanager", "http://am.example:9093"),
                                          ("grafana", "http://grafana.example:3000")])
def test_open_print_url_of_a_service(urls, aetherops_cli, monkeypatch, service, url):
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda u: opened.append(u) or True)
    result = aetherops_cli("open", service, "--print-url")
    assert result.exit_code == 0, result
    assert result.stdout.strip() == url and opened == []
    assert aetherops_cli("open", service, "--print-url", "-o", "json").json() == {"target": service, "url": url}
    assert aetherops_cli("open", service).exit_code == 0 and opened == [url]


def test_open_defaults_to_grafana_and_says_when_no_browser_starts(urls, aetherops_cli, monkeypatch):
    monkeypatch.setattr("webbrowser.open", lambda u: False)
    result = aetherops_cli("open")
    assert result.exit_code == 0 and result.stdout.strip() == "http://grafana.example:3000"
    assert "no browser could be started" in result.stderr


def test_open_an_alertmanager_cluster_opens_its_first_peer(profile_factory, aetherops_cli):
    profile_factory("ha", alertmanager={"urls": ["http://am-1.example:9093", "http://am-2.example:9093"]})
    assert aetherops_cli("-p", "ha", "open", "alertmanager", "--print-url").stdout.strip() == "http://am-1.example:9093"


def test_open_a_service_the_profile_lacks_is_a_config_error(profile_factory, aetherops_cli):
    profile_factory("p", prometheus={"url": "http://prom.example:9090"})
    result = aetherops_cli("-p", "p", "open", "alertmanager", "--print-url")
    assert result.exit_code == 4 and "has no alertmanager.url" in result.stderr


def test_open_a_dashboard_uses_the_dashboards_lookup(grafana_double, profile_factory, aetherops_cli, monkeypatch):
    from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN

    grafana_double.seed_demo()
    monkeypatch.setenv("GTOKEN", GRAFANA_TEST_TOKEN)
    profile_factory("g", grafana={"url": grafana_double.url, "auth": {"token_env": "GTOKEN"}})
    by_title = aetherops_cli("-p", "g", "open", "payments service", "--print-url", "-o", "json")
    assert by_title.exit_code == 0, by_title
    data = by_title.json()
    assert data["target"] == "dashboard" and data["uid"] == "payments-service" and data["url"].startswith(grafana_double.url)
    # the same answer as `dashboards open`, from the same function
    same = aetherops_cli("-p", "g", "dashboards", "open", "payments-service", "--print-url")
    assert same.stdout.strip() == data["url"]
    missing = aetherops_cli("-p", "g", "open", "no such dashboard", "--print-url")
    assert missing.exit_code == 2 and "0 dashboards match" in missing.stderr


def test_the_lookup_is_one_function():
    import inspect

    from aetherops_plugins import dashboards, stack

    assert "engine.find_one(" in inspect.getsource(dashboards.open_command.callback)
    assert "find_one" in inspect.getsource(stack.open_command.callback)
    assert "len(matches)" not in inspect.getsource(stack)


@pytest.mark.parametrize("version, pin, ok", [
    ("2.42.0", "2.42.0", True), ("2.42.0+ds", "2.42.0", True), ("v2.42.0", "2.42", True), ("2.42.1", "2.42", True),
    ("2.43.0", "2.42", False), ("2.4.0", "2.42", False), ("2.42", "2.42.0", True), ("2.42.0", "2.42.1", False),
    ("0.25.0", ">=0.25", True), ("0.24.9", ">=0.25", False), ("0.26.0", "<0.26", False), ("3.0.0", "!=2.42", True),
    ("2.42.3", "!=2.42", False), ("10.4.1", ">9", True), ("nightly", "2.42", False), ("", ">=1", False),
])
def test_version_pins(version, pin, ok):
    assert satisfies(version, pin) is ok


def test_bad_pins_are_refused_in_the_profile(profile_factory, aetherops_cli):
    assert parse_pin("= 2.42") == ("==", (2, 42))
    for bad in ("latest", "2.x", ">=", "2.42.0.1.5"):
        with pytest.raises(ValueError):
            parse_pin(bad)
    profile_factory("p", text="prometheus: {url: 'http://x'}\nversions:\n  prometheus: latest\n")
    result = aetherops_cli("-p", "p", "validate")
    assert result.exit_code == 4 and "p.yaml:3" in result.stderr and "not a version pin" in result.stderr


def test_fleet_opt_in():
    from aetherops_plugins import stack

    assert stack.validate_command.aetherops_fleet is True and stack.query_command.aetherops_fleet is True
    assert not getattr(stack.reload_command, "aetherops_fleet", False)


def test_lint_files_is_safe_from_threads(profile_factory, tmp_path):
    """Fleet fan-out runs validate for several profiles in threads: lint_files (the lint plugin's public function
    validate uses) must give each caller the findings of its own files."""
    import threading

    from aetherops.context import Context
    from aetherops.plugins import make_plugin_manager
    from aetherops_plugins.lint.api import lint_files

    profile_factory("p", {"description": "lint only"})
    ctx = Context(make_plugin_manager(env={}), profile_name="p")
    files = []
    for i in range(6):
        path = tmp_path / f"r{i}.yml"
        path.write_text(f"groups:\n- name: g{i}\n  rules:\n  - record: job:x{i}:sum\n    expr: sum(x{i}\n", encoding="utf-8")
        files.append(path)
    results: dict[int, list] = {}

    def work(i: int) -> None:
        for _ in range(5):
            results.setdefault(i, []).append({f.file for f in lint_files(ctx, [files[i]]).findings})

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(files))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, seen in results.items():
        assert len(seen) == 5 and all(s == {str(files[i])} for s in seen), (i, seen)


def test_odd_rule_files_are_read_without_crashing(tmp_path):
    from aetherops_plugins.stack.state import compare_groups, read_rule_groups

    odd = {"a.yml": "groups: [{name: g, rules: 7}]\n", "b.yml": "groups: [{name: [x]}]\n", "c.yml": "- 1\n",
           "d.yml": "groups:\n- name: h\n  rules: [1, {alert: A}, {record: r}]\n", "e.yml": "", "f.yml": "groups: [{name: g}]\n"}
    for name, text in odd.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    disk = read_rule_groups([tmp_path / n for n in sorted(odd)] + [tmp_path / "missing.yml"])
    assert disk.groups == {"g": [], "h": ["A", "r"]} and disk.duplicates == ["g"]
    assert set(disk.errors) == {str(tmp_path / n) for n in ("b.yml", "c.yml", "missing.yml")}
    assert compare_groups(disk.groups, {"h": ["A"], "z": []}) == [
        "group 'g' is on disk, not loaded", "group 'z' is loaded, not on disk", "group 'h': 2 rule(s) on disk, 1 loaded"]
