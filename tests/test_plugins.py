"""The plugin contract: loading, blocking, broken plugins, listing, and every hook from outside the package."""

from __future__ import annotations

import textwrap

import pytest

from aetherops.plugins import discover_entry_points, make_plugin_manager


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    """A folder on sys.path where tests write throwaway plugin modules."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(name: str, source: str) -> str:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        return name

    return write


GOOD_PLUGIN = """
    import click
    import aetherops

    @aetherops.hookimpl
    def aetherops_register_commands(cli):
        @cli.command()
        @aetherops.pass_context
        def ping(ctx):
            '''Answer pong.'''
            ctx.output.result({"pong": True}, "pong")
"""


def test_builtin_plugins_come_from_entry_points(aetherops_cli):
    result = aetherops_cli("plugins", "--output", "json")
    assert result.exit_code == 0, result
    rows = {r["name"]: r for r in result.json()}
    for name in ("health", "sandbox", "backup", "maintenance", "lint"):
        assert rows[name]["source"] == "entry point"
        assert rows[name]["distribution"] == "aetherops"
        assert rows[name]["status"] == "ok", rows[name]
        assert rows[name]["module"] == f"aetherops_plugins.{name}"


def test_plugin_option_adds_a_command(plugin_dir, aetherops_cli):
    plugin_dir("ping_plugin", GOOD_PLUGIN)
    result = aetherops_cli("--plugin", "ping_plugin", "ping", "--output", "json")
    assert result.exit_code == 0, result
    assert result.json() == {"pong": True}
    listed = aetherops_cli("--plugin", "ping_plugin", "-o", "json", "plugins").json()
    assert {"name": "ping_plugin", "source": "--plugin", "status": "ok"}.items() <= {
        k: v for r in listed if r["name"] == "ping_plugin" for k, v in r.items()}.items()


def test_env_var_plugins_are_loaded(plugin_dir, aetherops_cli):
    plugin_dir("ping_plugin", GOOD_PLUGIN)
    result = aetherops_cli("ping", env={"AETHEROPS_PLUGINS": "ping_plugin"})
    assert result.exit_code == 0 and result.stdout.strip() == "pong"


def test_broken_plugin_is_a_warning_not_an_outage(plugin_dir, aetherops_cli):
    plugin_dir("broken_plugin", "raise RuntimeError('boom at import')\n")
    result = aetherops_cli("--plugin", "broken_plugin", "plugins", "--output", "json")
    assert result.exit_code == 0, result
    warnings = [line for line in result.stderr.splitlines() if "broken_plugin" in line]
    assert len(warnings) == 1 and "boom at import" in warnings[0] and "Traceback" not in result.stderr
    row = next(r for r in result.json() if r["name"] == "broken_plugin")
    assert row["status"] == "error" and "RuntimeError: boom at import" in row["error"]
    # the rest of the CLI still works
    assert aetherops_cli("--plugin", "broken_plugin", "profiles", "list").exit_code == 0
    # and CI can gate on it: --check exits 1 while a plugin is in error, 0 when none is
    assert aetherops_cli("--plugin", "broken_plugin", "plugins", "--check").exit_code == 1
    assert aetherops_cli("plugins", "--check").exit_code == 0


def test_missing_plugin_module_is_reported(aetherops_cli):
    result = aetherops_cli("--plugin", "no_such_module_xyz", "plugins")
    assert result.exit_code == 0
    assert "no_such_module_xyz" in result.stderr and "ModuleNotFoundError" in result.stderr


def test_misspelled_hook_is_refused_naming_plugin_and_hook(plugin_dir, aetherops_cli):
    plugin_dir("typo_plugin", """
        import aetherops

        @aetherops.hookimpl
        def aetherops_register_comands(cli):
            pass
    """)
    pm = make_plugin_manager(extra=["typo_plugin"])
    info = pm.infos["typo_plugin"]
    assert info.status == "error" and "aetherops_register_comands" in info.error
    assert pm.get_plugin("typo_plugin") is None
    pm.check_pending()  # nothing unknown left registered
    result = aetherops_cli("--plugin", "typo_plugin", "plugins")
    assert "typo_plugin" in result.stderr and "unknown hook aetherops_register_comands" in result.stderr


def test_no_plugin_blocks_a_builtin(aetherops_cli):
    result = aetherops_cli("--no-plugin", "health", "health")
    assert result.exit_code == 2 and "No such command 'health'" in result.stderr
    rows = aetherops_cli("--no-plugin", "health", "plugins", "-o", "json").json()
    assert next(r for r in rows if r["name"] == "health")["status"] == "blocked"


def test_autoload_can_be_disabled(aetherops_cli):
    result = aetherops_cli("plugins", "--output", "json", env={"AETHEROPS_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert result.exit_code == 0
    assert result.json() == []
    assert aetherops_cli("health", env={"AETHEROPS_DISABLE_PLUGIN_AUTOLOAD": "1"}).exit_code == 2


def test_plugins_filter_by_hook(aetherops_cli):
    rows = aetherops_cli("plugins", "--hook", "profile_sections", "-o", "json").json()
    assert rows and all("aetherops_profile_sections" in r["hooks"] for r in rows)
    assert "health" not in {r["name"] for r in rows}
    assert aetherops_cli("plugins", "--hook", "nonsense").exit_code == 2


def test_entry_point_cache_matches_a_fresh_scan(aetherops_env, monkeypatch):
    cached_first = discover_entry_points()
    cached_again = discover_entry_points()
    monkeypatch.setenv("AETHEROPS_NO_PLUGIN_CACHE", "1")
    fresh = discover_entry_points()
    assert cached_first == cached_again == fresh
    assert {"health", "backup"} <= {e.name for e in fresh}


def test_trace_plugins_prints_hook_calls(aetherops_cli):
    result = aetherops_cli("plugins", env={"AETHEROPS_TRACE_PLUGINS": "1"})
    assert "[aetherops trace] aetherops_profile_sections" not in result.stderr  # plugins needs no profile
    result = aetherops_cli("profiles", "list", env={"AETHEROPS_TRACE_PLUGINS": "1"})
    assert "[aetherops trace] aetherops_profile_sections" in result.stderr


# ---- every hook, implemented by a package outside aetherops (docs/plugins/example, installed
# ---- into the test environment through its own entry point)
@pytest.fixture
def example_pm(aetherops_env):
    pm = make_plugin_manager()
    info = pm.infos.get("example")
    if info is None:
        pytest.fail("the example plugin (docs/plugins/example) is not installed: pip install -e docs/plugins/example")
    assert info.source == "entry point" and info.distribution == "aetherops-example" and info.status == "ok"
    return pm


def test_hook_aetherops_register_commands(example_pm, aetherops_cli, profile_factory):
    profile_factory("p", example={"greeting_name": "on-call"})
    result = aetherops_cli("-p", "p", "hello", "--output", "json")
    assert result.exit_code == 0, result
    assert result.json() == {"greeting": "hello on-call", "profile": "p"}


def test_hook_aetherops_profile_sections(example_pm, profile_factory, aetherops_cli):
    profile_factory("p", text="example:\n  greeting_nam: x\n")
    result = aetherops_cli("-p", "p", "hello")
    assert result.exit_code == 4 and "did you mean 'greeting_name'" in result.stderr and "p.yaml:2" in result.stderr
    profile_factory("q", text="prometheus: {url: 'http://x'}\n")
    assert aetherops_cli("-p", "q", "hello").stdout.strip() == "hello world from profile q"


def test_hook_aetherops_backup_components(example_pm, aetherops_cli, profile_factory, tmp_path):
    components = [c for result in example_pm.hook.aetherops_backup_components(context=None) for c in result]
    assert "example_notes" in {c.name for c in components}
    # and the backup command really calls it: its file is written, hashed and listed in the manifest
    profile_factory("p", backup={"dir": str(tmp_path / "b")})
    result = aetherops_cli("-p", "p", "backup", "--only", "example_notes", "--output", "json")
    assert result.exit_code == 0, result
    backups = [d for d in (tmp_path / "b" / "p").iterdir() if d.is_dir()]
    assert len(backups) == 1
    assert (backups[0] / "example_notes" / "notes.txt").read_text(encoding="utf-8") == "backed up by aetherops-example\n"
    manifest = (backups[0] / "MANIFEST.json").read_text(encoding="utf-8")
    assert "example_notes/notes.txt" in manifest


def test_hook_aetherops_lint_checks(example_pm):
    checks = [c for result in example_pm.hook.aetherops_lint_checks() for c in result]
    assert "example/no-todo" in {c.id for c in checks}


def test_hook_aetherops_probe_modules(example_pm):
    modules = {m.name: m for result in example_pm.hook.aetherops_probe_modules() for m in result}
    assert modules["example_echo"].probe("x", {}, 1.0)["success"] is True
    assert modules["example_echo"].probe("", {}, 1.0)["success"] is False


def test_hook_aetherops_anomaly_detectors(example_pm):
    detectors = {d.name: d for result in example_pm.hook.aetherops_anomaly_detectors() for d in result}
    found = detectors["example_threshold"].detect([1, 2, 3], [1.0, 9.0, 2.0], {"threshold": 5})
    assert [p["timestamp"] for p in found] == [2]


# ---- a plugin that fails inside a hook is reported and skipped, never fatal
def test_register_commands_raising_is_a_warning(plugin_dir, aetherops_cli):
    plugin_dir("raising_plugin", """
        import aetherops

        @aetherops.hookimpl
        def aetherops_register_commands(cli):
            raise RuntimeError("no commands today")
    """)
    result = aetherops_cli("--plugin", "raising_plugin", "plugins", "-o", "json")
    assert result.exit_code == 0, result
    assert "raising_plugin" in result.stderr and "no commands today" in result.stderr and "Traceback" not in result.stderr
    row = next(r for r in result.json() if r["name"] == "raising_plugin")
    assert row["status"] == "error" and "aetherops_register_commands raised RuntimeError" in row["error"]
    assert aetherops_cli("--plugin", "raising_plugin", "--help").exit_code == 0


def test_profile_sections_raising_or_clashing_is_a_warning(plugin_dir, aetherops_cli, profile_factory):
    plugin_dir("sections_plugin", """
        import aetherops
        from aetherops.profiles import Field, ProfileSection

        @aetherops.hookimpl
        def aetherops_profile_sections():
            return [ProfileSection("prometheus", {"x": Field(str)})]
    """)
    plugin_dir("boom_sections", """
        import aetherops

        @aetherops.hookimpl
        def aetherops_profile_sections():
            raise ValueError("sections boom")
    """)
    profile_factory("p", prometheus={"url": "http://127.0.0.1:9"})
    result = aetherops_cli("--plugin", "sections_plugin", "--plugin", "boom_sections", "-p", "p", "profiles", "show")
    assert result.exit_code == 0, result
    assert "plugin 'sections_plugin': declares profile section 'prometheus', which 'core' already declares" in result.stderr
    assert "plugin 'boom_sections': aetherops_profile_sections raised ValueError: sections boom" in result.stderr


def test_system_exit_at_import_is_a_load_failure(plugin_dir, aetherops_cli):
    plugin_dir("exiting_plugin", "import sys\nsys.exit(3)\n")
    result = aetherops_cli("--plugin", "exiting_plugin", "plugins", "-o", "json")
    assert result.exit_code == 0 and "exiting_plugin" in result.stderr
    assert next(r for r in result.json() if r["name"] == "exiting_plugin")["status"] == "error"


def test_command_name_clash_keeps_the_first(plugin_dir, aetherops_cli):
    plugin_dir("clash_plugin", """
        import click
        import aetherops

        @aetherops.hookimpl
        def aetherops_register_commands(cli):
            @cli.command("plugins")
            def impostor():
                click.echo("impostor")
    """)
    result = aetherops_cli("--plugin", "clash_plugin", "plugins", "-o", "json")
    assert result.exit_code == 0 and "impostor" not in result.stdout
    assert "plugin 'clash_plugin' adds a command 'plugins' that plugin 'core' already has; ignored" in result.stderr


def test_core_cannot_be_blocked_and_unknown_names_warn(aetherops_cli):
    result = aetherops_cli("--no-plugin", "core", "--no-plugin", "nosuchplugin", "plugins")
    assert result.exit_code == 0
    assert "the core cannot be blocked" in result.stderr
    assert "--no-plugin nosuchplugin: no plugin of that name" in result.stderr


# ---- plugins own their hooks: aetherops_add_hookspecs, and pm.collect around every collecting hook
DECLARER = """
    import aetherops

    class Specs:
        @staticmethod
        @aetherops.hookspec
        def aetherops_colours(theme):
            '''Contribute colours. :returns: a list of objects with a name. Added in 0.1.'''

    @aetherops.hookimpl
    def aetherops_add_hookspecs(pm):
        pm.add_hookspecs(Specs)
"""


def test_hook_aetherops_add_hookspecs(example_pm, plugin_dir, aetherops_cli):
    # from outside: the example package declares aetherops_example_farewells and implements it
    assert example_pm.hook.aetherops_example_farewells.spec is not None
    assert "aetherops_add_hookspecs" in example_pm.infos["example"].hooks
    assert aetherops_cli("goodbye", "-o", "json").json() == {"farewells": ["goodbye from aetherops-example"]}
    plugin_dir("farewell_plugin", """
        import aetherops

        @aetherops.hookimpl
        def aetherops_example_farewells():
            return ["see you", 42]
    """)
    result = aetherops_cli("--plugin", "farewell_plugin", "goodbye", "-o", "json")
    assert result.exit_code == 0, result
    assert result.json() == {"farewells": ["goodbye from aetherops-example", "see you"]}
    assert "plugin 'farewell_plugin': aetherops_example_farewells returned a int: not a str; ignored" in result.stderr
    # without the declaring plugin, an implementation of its hook is an unknown hook
    result = aetherops_cli("--no-plugin", "example", "--plugin", "farewell_plugin", "plugins", "-o", "json")
    row = next(r for r in result.json() if r["name"] == "farewell_plugin")
    assert row["status"] == "error" and "unknown hook aetherops_example_farewells" in row["error"]


def test_hookspecs_may_arrive_after_their_implementations(plugin_dir):
    plugin_dir("colour_declarer", DECLARER)
    plugin_dir("colour_early", """
        import aetherops

        class Red:
            name = "red"

        @aetherops.hookimpl
        def aetherops_colours(theme):
            return [Red()]
    """)
    plugin_dir("colour_wrong_args", """
        import aetherops

        @aetherops.hookimpl
        def aetherops_colours(palette):
            return []
    """)
    pm = make_plugin_manager(extra=["colour_early", "colour_wrong_args", "colour_declarer"], autoload=False, env={})
    assert pm.infos["colour_early"].status == "ok" and pm.infos["colour_declarer"].status == "ok"
    wrong = pm.infos["colour_wrong_args"]
    assert wrong.status == "error" and "aetherops_colours takes palette, which the hook does not pass (it passes: theme)" in wrong.error
    assert pm.get_plugin("colour_wrong_args") is None
    assert [c.name for c in pm.collect("aetherops_colours", theme="dark")] == ["red"]
    pm.check_pending()  # nothing without a spec is left registered


def test_add_hookspecs_raising_is_a_load_failure(plugin_dir, aetherops_cli):
    plugin_dir("bad_declarer", """
        import aetherops

        @aetherops.hookimpl
        def aetherops_add_hookspecs(pm):
            raise RuntimeError("no specs today")
    """)
    result = aetherops_cli("--plugin", "bad_declarer", "plugins", "-o", "json")
    assert result.exit_code == 0 and "no specs today" in result.stderr and "Traceback" not in result.stderr
    row = next(r for r in result.json() if r["name"] == "bad_declarer")
    assert row["status"] == "error" and "aetherops_add_hookspecs raised RuntimeError" in row["error"]


def test_collect_warns_about_raising_wrong_and_duplicate_answers(plugin_dir):
    plugin_dir("colour_declarer", DECLARER)
    plugin_dir("colours_a", """
        import aetherops

        class Colour:
            def __init__(self, name):
                self.name = name

        @aetherops.hookimpl
        def aetherops_colours(theme):
            return [Colour("red"), Colour("blue"), "green"]
    """)
    plugin_dir("colours_b", """
        import aetherops

        class Colour:
            name = "red"

        @aetherops.hookimpl
        def aetherops_colours(theme):
            return [Colour()]
    """)
    plugin_dir("colours_dict", "import aetherops\n\n@aetherops.hookimpl\ndef aetherops_colours(theme):\n    return {'red': 1}\n")
    plugin_dir("colours_boom", "import aetherops\n\n@aetherops.hookimpl\ndef aetherops_colours(theme):\n    raise KeyError('boom')\n")
    pm = make_plugin_manager(extra=["colour_declarer", "colours_a", "colours_b", "colours_dict", "colours_boom"],
                             autoload=False, env={})
    warnings = []
    pm.on_warning = warnings.append
    got = pm.collect_from("aetherops_colours", validate=lambda c: None if hasattr(c, "name") else "it has no name", theme="x")
    assert [(plugin, c.name) for plugin, c in got] == [("colours_a", "red"), ("colours_a", "blue")]
    assert warnings == [
        "plugin 'colours_boom': aetherops_colours raised KeyError: 'boom'",
        "plugin 'colours_a': aetherops_colours returned a str: it has no name; ignored",
        "plugin 'colours_b': aetherops_colours returned a second 'red' (plugin 'colours_a' has it already); ignored",
        "plugin 'colours_dict': aetherops_colours returned dict, not a list; ignored",
    ]
    assert pm.infos["colours_boom"].status == "error" and pm.infos["colours_a"].status == "ok"
    assert pm.collect("aetherops_no_such_hook") == []


RAISING_IN = """
    import aetherops

    @aetherops.hookimpl
    def {hook}({args}):
        raise RuntimeError("broken {hook}")
"""


def test_lint_checks_raising_or_broken_is_a_warning(plugin_dir, aetherops_cli, tmp_path):
    plugin_dir("lint_boom", RAISING_IN.format(hook="aetherops_lint_checks", args=""))
    plugin_dir("lint_dupe", """
        import aetherops
        from aetherops_plugins.lint.api import Check

        class Dupe(Check):
            id = "alerts/for"

        class NoSeverity(Check):
            id = "acme/odd"
            severity = "loud"

        @aetherops.hookimpl
        def aetherops_lint_checks():
            return [Dupe(), NoSeverity()]
    """)
    rules = tmp_path / "rules.yml"
    rules.write_text("groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 5m\n", encoding="utf-8")
    result = aetherops_cli("--plugin", "lint_boom", "--plugin", "lint_dupe", "lint", str(rules), "-o", "json")
    assert result.exit_code in (0, 1), result
    assert "Traceback" not in result.stderr
    assert "plugin 'lint_boom': aetherops_lint_checks raised RuntimeError: broken aetherops_lint_checks" in result.stderr
    assert "plugin 'lint_dupe': aetherops_lint_checks returned a second 'alerts/for' (plugin 'lint' has it already)" in result.stderr
    assert "plugin 'lint_dupe': aetherops_lint_checks returned Dupe" not in result.stderr
    assert "returned NoSeverity 'acme/odd': severity must be one of" in result.stderr
    listed = aetherops_cli("--plugin", "lint_boom", "lint", "--list-checks", "-o", "json")
    assert listed.exit_code == 0 and "alerts/for" in listed.stdout  # the built-in checks still run


def test_backup_components_raising_or_broken_is_a_warning(example_pm, plugin_dir, aetherops_cli, profile_factory, tmp_path):
    plugin_dir("backup_boom", RAISING_IN.format(hook="aetherops_backup_components", args="context"))
    plugin_dir("backup_odd", """
        import aetherops

        class Nameless:
            def backup(self, job):
                pass

        @aetherops.hookimpl
        def aetherops_backup_components(context):
            return [Nameless()]
    """)
    profile_factory("p", backup={"dir": str(tmp_path / "b")})
    result = aetherops_cli("--plugin", "backup_boom", "--plugin", "backup_odd", "-p", "p", "backup", "--only", "example_notes",
                           "-o", "json")
    assert result.exit_code == 0, result
    assert "plugin 'backup_boom': aetherops_backup_components raised RuntimeError" in result.stderr
    assert "plugin 'backup_odd': aetherops_backup_components returned a Nameless: no name or no backup(job) method" in result.stderr
    assert "Traceback" not in result.stderr
    assert list((tmp_path / "b" / "p").glob("*/example_notes/notes.txt"))


def test_plugins_never_raise_a_bare_system_exit():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "plugins"
    offenders = [f"{path.relative_to(root)}:{n}" for path in sorted(root.rglob("*.py"))
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "SystemExit(" in line]
    assert not offenders, f"raise aetherops.errors classes (Exit, Findings, ServiceError...) instead of SystemExit: {offenders}"


def test_backup_components_describe_their_own_summary_line(stack_profile, plugin_dir, aetherops_cli, tmp_path):
    plugin_dir("described_component", """
        import aetherops

        class Loki:
            name = "loki_rules"

            def backup(self, job):
                job.write_text("rules.yaml", "groups: []\\n")
                job.count("rule_groups", 7)

            def describe(self, summary):
                return f"{summary['counts']['rule_groups']} Loki rule groups, said the plugin"

        @aetherops.hookimpl
        def aetherops_backup_components(context):
            return [Loki()]
    """)
    result = aetherops_cli("--plugin", "described_component", "backup", "--dir", str(tmp_path), "--only",
                           "loki_rules,prometheus,alertmanager")
    assert result.exit_code == 0, result
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("  ") and line.split()}
    assert lines["loki_rules"].endswith("7 Loki rule groups, said the plugin")
    assert "snapshot " in lines["prometheus"] and "running config" in lines["prometheus"]  # the built-ins describe themselves
    assert "running config" in lines["alertmanager"]
