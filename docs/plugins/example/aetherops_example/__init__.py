"""An example aetherops plugin: a command, a profile section, one of each extension, and an extension point of its own.

Only ``click`` and ``aetherops`` are imported here; anything heavy would be
imported inside the command body.
"""

from __future__ import annotations

import click

import aetherops
from aetherops import pass_context


@aetherops.hookimpl
def aetherops_register_commands(cli):
    @cli.command()
    @click.option("--name", default=None, help="Who to greet (default: the profile's example.greeting_name).")
    @pass_context
    def hello(ctx, name):
        """Say hello with the selected profile's name (an example plugin command)."""
        name = name or ctx.section("example").greeting_name  # typed, default filled from the Field below
        data = {"greeting": f"hello {name}", "profile": ctx.profile.name}
        ctx.output.result(data, lambda: ctx.output.line(f"{data['greeting']} from profile {data['profile']}"))

    @cli.command()
    @pass_context
    def goodbye(ctx):
        """Print every plugin's farewell (the example plugin's own extension point)."""
        farewells = ctx.pm.collect("aetherops_example_farewells", validate=str, key=None)
        ctx.output.result({"farewells": farewells}, "\n".join(farewells))


class ExampleHooks:
    """The hook this plugin offers other plugins (declared through ``aetherops_add_hookspecs``)."""

    @staticmethod
    @aetherops.hookspec
    def aetherops_example_farewells():
        """Contribute farewells that ``aetherops goodbye`` prints.

        :returns: a list of strings. Results of all plugins are combined.

        Declared by the example plugin. Added in 0.1.
        """


@aetherops.hookimpl
def aetherops_add_hookspecs(pm):
    pm.add_hookspecs(ExampleHooks)


@aetherops.hookimpl
def aetherops_example_farewells():
    return ["goodbye from aetherops-example"]


@aetherops.hookimpl
def aetherops_profile_sections():
    from aetherops.profiles import Field, ProfileSection

    return [ProfileSection("example", {"greeting_name": Field(str, "world", "Who `aetherops hello` greets.")},
                           "Settings of the example plugin.")]


class EchoProbe:
    """A probe module that succeeds when the target is a non-empty string."""

    name = "example_echo"

    def probe(self, target, options, timeout):
        return {"success": bool(target), "duration_ms": 0.0}


class ThresholdDetector:
    """An anomaly detector: every value above ``options['threshold']`` is anomalous."""

    name = "example_threshold"

    def detect(self, timestamps, values, options):
        limit = options.get("threshold", 0)
        return [{"timestamp": t, "value": v, "score": v - limit, "expected": limit}
                for t, v in zip(timestamps, values) if v > limit]


class NotesComponent:
    """A backup component that saves one file of notes."""

    name = "example_notes"
    description = "A notes file written by the example plugin"

    def backup(self, job):
        job.write_text("notes.txt", "backed up by aetherops-example\n")  # paths are relative to the component folder
        return {"files": 1}

    def restore(self, job):
        return {"restored": 0}


class NoTodoCheck:
    """A lint check: alert names must not contain TODO."""

    id = "example/no-todo"
    severity = "warning"
    kinds = ("rules",)
    description = "Alert names must not contain TODO."

    def check(self, target, project):
        for rule in getattr(target, "rules", []):
            name = getattr(rule, "name", "") or ""
            if "TODO" in name:
                yield {"message": f"alert {name} still says TODO", "rule": name, "line": getattr(rule, "line", None)}


@aetherops.hookimpl
def aetherops_probe_modules():
    return [EchoProbe()]


@aetherops.hookimpl
def aetherops_anomaly_detectors():
    return [ThresholdDetector()]


@aetherops.hookimpl
def aetherops_backup_components(context):
    return [NotesComponent()]


@aetherops.hookimpl
def aetherops_lint_checks():
    return [NoTodoCheck()]
