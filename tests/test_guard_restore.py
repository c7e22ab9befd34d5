"""Guards for the restore driver (plugins/backup/restore.py) with stand-in components and context: what is
planned, what takes a safety backup, what counts as applied, and the refusals, fast enough for ``nox -s mutants``.
The real components against real servers are in tests/test_backup.py."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path
from types import SimpleNamespace

import click
import pytest

from aetherops.errors import ConfigError, ExitCode, FindingsError
from aetherops_plugins.backup import restore as rs
from aetherops_plugins.backup.api import sha256_file
from aetherops_plugins.backup.archive import ArchiveError

STAMP = "20261124T080000Z"


def make_backup(root: Path, components: dict, *, profile="prod", name=STAMP, files=None, **extra) -> Path:
    folder = root / profile / name
    folder.mkdir(parents=True)
    entries = {}
    for rel, text in (files or {f"{c}/data.json": "{}" for c in components}).items():
        path = folder.joinpath(*rel.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        size, digest = sha256_file(path)
        entries[rel] = {"size": size, "sha256": digest}
    data = {"tool": "aetherops", "format": 1, "profile": profile, "files": entries, "components": components, **extra}
    (folder / "MANIFEST.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


class Component:
    """A stand-in component: plans ``plan`` items; on the real run, applies those listed in ``applies``."""

    def __init__(self, plan, applies=None, restore_default=True, no_restore=False):
        self.plan_items = plan
        self.applies = set(applies if applies is not None else [n for _, n, _ in plan])
        self.restore_default = restore_default
        self.jobs = []
        if no_restore:
            self.restore = None

    def restore(self, job):
        self.jobs.append(job)
        job.instructions.append(f"{job.name}: reload the server")
        for kind, name, action in self.plan_items:
            item = job.plan(kind, name, action, "why")
            if not job.dry_run and name in self.applies:
                item.applied = True
            if not job.dry_run and name == "broken":
                item.error = "boom"


class Profile(SimpleNamespace):
    def section(self, name):
        return getattr(self, "sections", {}).get(name, {})


class Ctx:
    def __init__(self, profile_name=None, profiles=None):
        self.profile_name = profile_name
        self.profiles = profiles or {}
        self.profile = self.profiles.get(profile_name) or Profile(name="current", sections={})
        self.notes = []
        self.output = SimpleNamespace(note=self.notes.append)

    def load_profile(self, name):
        if name not in self.profiles:
            raise ConfigError(f"unknown profile '{name}'")
        return self.profiles[name]


@pytest.fixture
def world(monkeypatch, tmp_path):
    """Components and safety backups as the test says; returns a namespace to fill."""
    state = SimpleNamespace(components={}, safety_calls=[])

    def run_backup(ctx, *, base_dir, only, profile, kind, components, quiet, concurrency):
        state.safety_calls.append({"base": base_dir, "only": only, "profile": profile.name, "kind": kind})
        state.safety_args = {"ctx": ctx, "components": components, "quiet": quiet, "concurrency": concurrency}
        return {"path": str(Path(base_dir) / "safety")}

    monkeypatch.setattr(rs, "collect_components", lambda ctx: state.components)
    monkeypatch.setattr(rs, "run_backup", run_backup)
    monkeypatch.setattr(rs, "resolve_base_dir", lambda ctx, _, target: tmp_path / "fallback")
    return state


def prod_ctx(**kw):
    return Ctx(profiles={"prod": Profile(name="prod", sections={"backup": {"datasource_uid_map": {"a": "b"}}})}, **kw)


# ---------------------------------------------------------------- --folder-map
def test_parse_folder_map():
    assert rs.parse_folder_map((" a = b ", "c=d=e")) == {"a": "b", "c": "d=e"}
    assert rs.parse_folder_map(()) == {} and rs.parse_folder_map(None) == {}
    for bad in ("a", "=b", "a=", " = "):
        with pytest.raises(click.BadParameter) as info:
            rs.parse_folder_map([bad])
        assert info.value.message == f"{bad!r} is not OLD=NEW (folder uids)" and info.value.param_hint == "--folder-map"


# ---------------------------------------------------------------- plan, safety backup, apply
def test_dry_run_plans_without_a_safety_backup(world, tmp_path):
    world.components = {"grafana": Component([("dashboard", "d1", "create"), ("dashboard", "d2", "unchanged")])}
    folder = make_backup(tmp_path, {"grafana": {}})
    ctx = prod_ctx()
    out = rs.run_restore(ctx, folder, dry_run=True)
    assert out["dry_run"] is True and out["complete"] is False and out["safety_backup"] is None and not world.safety_calls
    assert out["summary"] == {"create": 1, "unchanged": 1} and out["components"] == ["grafana"]
    assert out["backup"] == str(folder) and out["backup_profile"] == "prod" and out["target_profile"] == "prod"
    assert out["not_applied"] == [] and out["errors"] == 0 and out["conflicts"] == 0 and out["force"] is False
    job = world.components["grafana"].jobs[0]
    assert job.dry_run is True and job.options["datasource_uid_map"] == {"a": "b"} and job.options["backup_path"] == str(folder)
    assert job.root == folder / "grafana" and job.manifest["name"] == STAMP


def test_a_real_restore_takes_a_safety_backup_first_then_applies(world, tmp_path):
    world.components = {"grafana": Component([("dashboard", "d1", "update")]), "silences": Component([("silence", "s", "unchanged")])}
    folder = make_backup(tmp_path, {"grafana": {}, "silences": {}})
    ctx = prod_ctx()
    out = rs.run_restore(ctx, folder, concurrency=3, folder_map={"x": "y"})
    assert world.safety_calls == [{"base": tmp_path, "only": ["grafana"], "profile": "prod", "kind": "safety"}]
    assert out["safety_backup"] == str(tmp_path / "safety") and out["complete"] is True
    assert [(i["action"], i["applied"]) for i in out["items"]] == [("update", True), ("unchanged", True)]
    assert ctx.notes == ["taking a safety backup of grafana on profile 'prod' before changing anything...",
                         f"safety backup: {tmp_path / 'safety'}"]
    jobs = world.components["grafana"].jobs
    assert [j.dry_run for j in jobs] == [True, False] and jobs[1].options["concurrency"] == 3 and jobs[1].options["folder_map"] == {"x": "y"}


def test_nothing_to_change_takes_no_safety_backup(world, tmp_path):
    world.components = {"grafana": Component([("dashboard", "d1", "unchanged")])}
    out = rs.run_restore(prod_ctx(), make_backup(tmp_path, {"grafana": {}}))
    assert not world.safety_calls and out["complete"] is True and len(world.components["grafana"].jobs) == 1


def test_an_item_not_applied_makes_it_incomplete(world, tmp_path):
    world.components = {"grafana": Component([("dashboard", "d1", "create"), ("dashboard", "d2", "create")], applies=["d1"])}
    out = rs.run_restore(prod_ctx(), make_backup(tmp_path, {"grafana": {}}))
    assert out["complete"] is False
    assert out["not_applied"] == [{"component": "grafana", "kind": "dashboard", "name": "d2", "action": "create", "detail": "why",
                                   "applied": False, "planned": "create"}]


def test_errors_and_conflicts_make_it_incomplete(world, tmp_path):
    world.components = {"grafana": Component([("dashboard", "broken", "create"), ("dashboard", "c", "conflict")])}
    out = rs.run_restore(prod_ctx(), make_backup(tmp_path, {"grafana": {}}))
    assert out["errors"] == 1 and out["conflicts"] == 1 and out["complete"] is False
    assert out["summary"] == {"conflict": 1, "create": 1}


def test_force_turns_a_conflict_into_a_change(world, tmp_path):
    world.components = {"grafana": Component([("dashboard", "c", "conflict")], applies=[])}
    out = rs.run_restore(prod_ctx(), make_backup(tmp_path, {"grafana": {}}), force=True)
    assert world.safety_calls and out["force"] is True
    assert out["not_applied"][0]["planned"] == "conflict"


def test_configs_to_a_folder_needs_no_safety_backup(world, tmp_path):
    world.components = {"configs": Component([("file", "f", "create")])}
    out = rs.run_restore(prod_ctx(), make_backup(tmp_path, {"configs": {}}), configs_to=tmp_path / "out")
    assert not world.safety_calls and out["complete"] is True


def test_safety_dir_wins_and_an_unnamed_folder_falls_back_to_the_profile(world, tmp_path):
    world.components = {"grafana": Component([("dashboard", "d1", "create")])}
    rs.run_restore(prod_ctx(), make_backup(tmp_path, {"grafana": {}}), safety_dir=str(tmp_path / "here"))
    odd = make_backup(tmp_path / "x", {"grafana": {}}, name="copy-of-backup")
    rs.run_restore(prod_ctx(), odd)
    assert [c["base"] for c in world.safety_calls] == [tmp_path / "here", tmp_path / "fallback"]


# ---------------------------------------------------------------- which components
def test_component_selection_and_warnings(world, tmp_path):
    world.components = {"grafana": Component([("d", "1", "unchanged")]), "extra": Component([("d", "2", "unchanged")], restore_default=False),
                        "manual": Component([], no_restore=True)}
    folder = make_backup(tmp_path, {"grafana": {}, "extra": {}, "manual": {}, "gone": {}, "skipped": {"status": "skipped", "reason": "off"}},
                         missing=[{"id": "grafana/dashboard/x"}])
    out = rs.run_restore(prod_ctx(), folder, dry_run=True)
    assert out["components"] == ["grafana", "manual"]  # extra is not restored by default; gone has no plugin
    assert out["warnings"] == ["this backup is incomplete (made with --keep-going); not in it: grafana/dashboard/x",
                               f"gone: no installed plugin restores this component; its files are in {folder / 'gone'}"]
    manual = [i for i in out["items"] if i["component"] == "manual"]
    assert manual == [{"component": "manual", "kind": "component", "name": "manual", "action": "manual",
                       "detail": f"the component cannot restore itself; its files are in {folder / 'manual'}", "applied": False}]
    chosen = rs.run_restore(prod_ctx(), folder, only=["extra", "skipped", "grafana"], dry_run=True)
    assert chosen["components"] == ["grafana", "extra"] and chosen["warnings"][-1] == "skipped: not in this backup (off)"
    also = rs.run_restore(prod_ctx(), folder, only=["grafana,extra"], dry_run=True)
    assert also["components"] == ["grafana", "extra"]


def test_only_names_a_component_not_in_the_backup(world, tmp_path):
    world.components = {"grafana": Component([]), "silences": Component([])}
    folder = make_backup(tmp_path, {"grafana": {}})
    out = rs.run_restore(prod_ctx(), folder, only=["silences"], dry_run=True)
    assert out["warnings"] == ["silences: not in this backup"] and out["components"] == []
    with pytest.raises(click.BadParameter) as info:
        rs.run_restore(prod_ctx(), folder, only=["nonesuch"], dry_run=True)
    assert info.value.message == "unknown component(s) nonesuch; in this backup: grafana" and info.value.param_hint == "--only"


# ---------------------------------------------------------------- the target profile
def test_target_profile_rules(world, tmp_path):
    staging = Profile(name="staging", sections={})
    prod = Profile(name="prod", sections={})
    assert rs._target_profile(Ctx(profiles={"staging": staging}), "prod", "staging") is staging
    with pytest.raises(click.UsageError) as info:
        rs._target_profile(Ctx("staging", {"staging": staging}), "prod", None)
    assert "this backup is of profile 'prod' but profile 'staging' is selected" in info.value.message
    assert "--to-profile staging (or select -p prod)" in info.value.message
    same = Ctx("prod", {"prod": prod})
    assert rs._target_profile(same, "prod", None) is prod
    unnamed = Ctx(None, {"prod": prod})
    assert rs._target_profile(unnamed, None, None) is unnamed.profile
    assert rs._target_profile(unnamed, "prod", None) is prod
    with pytest.raises(ConfigError) as info:
        rs._target_profile(Ctx(None, {}), "prod", None)
    assert info.value.message == ("this backup is of profile 'prod', which cannot be loaded here (unknown profile 'prod'); "
                                  "give --to-profile NAME")


# ---------------------------------------------------------------- what is refused
def test_a_backup_failing_verification_is_refused_naming_five_problems(world, tmp_path):
    folder = make_backup(tmp_path, {"grafana": {}}, files={f"grafana/{i}.json": "{}" for i in range(7)})
    for i in range(7):
        (folder / "grafana" / f"{i}.json").write_text("changed", encoding="utf-8")
    with pytest.raises(FindingsError) as info:
        rs.run_restore(prod_ctx(), folder, dry_run=True)
    shown = "; ".join(f"differs: grafana/{i}.json" for i in range(5))
    assert info.value.message == f"backup {folder} fails verification ({shown}; and 2 more); refusing to restore"
    (folder / "grafana" / "5.json").write_text("{}", encoding="utf-8")
    (folder / "grafana" / "6.json").write_text("{}", encoding="utf-8")
    with pytest.raises(FindingsError) as info:
        rs.run_restore(prod_ctx(), folder, dry_run=True)
    assert info.value.message.endswith("differs: grafana/4.json); refusing to restore")


def _archive(tmp_path: Path, folder: Path, name=f"{STAMP}.tar.gz") -> Path:
    archive = tmp_path / name
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return archive


def test_an_archive_is_checked_extracted_and_cleaned_up(world, tmp_path):
    world.components = {"grafana": Component([("dashboard", "d1", "unchanged")])}
    archive = _archive(tmp_path, make_backup(tmp_path / "src", {"grafana": {}}))
    (archive.parent / (archive.name + ".sha256")).write_text(f"{hashlib.sha256(archive.read_bytes()).hexdigest()}  x\n", encoding="utf-8")
    out = rs.run_restore(prod_ctx(), archive, dry_run=True)
    assert out["backup"] == str(archive) and out["components"] == ["grafana"]
    root = world.components["grafana"].jobs[0].root
    assert root.name == "grafana" and not root.exists()  # the extracted copy is removed afterwards


def test_an_archive_whose_sha256_differs_is_refused(world, tmp_path):
    archive = _archive(tmp_path, make_backup(tmp_path / "src", {"grafana": {}}))
    (archive.parent / (archive.name + ".sha256")).write_text("0" * 64 + "  x\n", encoding="utf-8")
    # trust-backup: restore and verify share archive.open_archive, which refuses with ArchiveError (exit 1, as verify).
    with pytest.raises(ArchiveError) as info:
        rs.run_restore(prod_ctx(), archive, dry_run=True)
    assert info.value.exit_code == ExitCode.FINDINGS  # like backup verify of it (issue 15)
    assert info.value.format_message() == (f"{archive}: sha256 differs from {archive.name}.sha256; "
                                           "the archive was changed or damaged")
    assert world.safety_calls == []  # refused before any safety backup or restore step


def test_an_archive_without_one_backup_inside_is_refused(world, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "x.txt").write_text("x", encoding="utf-8")
    archive = _archive(tmp_path, empty)
    with pytest.raises(ArchiveError) as info:
        rs.run_restore(prod_ctx(), archive, dry_run=True)
    assert info.value.exit_code == ExitCode.FINDINGS
    assert info.value.format_message() == f"{archive}: not an aetherops backup archive (no empty/MANIFEST.json)"


def test_a_path_that_is_neither_is_a_usage_error(world, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("x", encoding="utf-8")
    for path in (other, tmp_path / "missing"):
        with pytest.raises(click.BadParameter) as info:
            rs.run_restore(prod_ctx(), path, dry_run=True)
        assert info.value.message == f"{path} is neither a backup folder nor a .tar.gz archive" and info.value.param_hint == "PATH"


# ---------------------------------------------------------------- what each component is handed, and what is reported
def test_jobs_safety_backup_and_report_in_detail(world, tmp_path):
    world.components = {"grafana": Component([("dashboard", "d1", "update"), ("folder", "f", "create")]),
                        "alertmanager": Component([("config", "c", "overwrite")]), "manual": Component([], no_restore=True)}
    folder = make_backup(tmp_path, {"grafana": {}, "alertmanager": {}, "manual": {}})
    ctx = Ctx(profiles={"prod": Profile(name="prod", sections={}), "stage": Profile(name="stage", sections={})})
    out = rs.run_restore(ctx, folder, to_profile="stage", diff=True, concurrency=5)
    assert out["target_profile"] == "stage" and out["backup_profile"] == "prod"
    assert world.safety_args == {"ctx": ctx, "components": world.components, "quiet": True, "concurrency": 5}
    assert ctx.notes[0] == "taking a safety backup of grafana, alertmanager on profile 'stage' before changing anything..."
    job = world.components["grafana"].jobs[1]
    assert (job.context, job.profile.name, job.force, job.diff, job.dry_run) == (ctx, "stage", False, True, False)
    assert job.options == {"folder_map": {}, "datasource_uid_map": {}, "configs_to": None, "concurrency": 5, "backup_path": str(folder)}
    assert out["instructions"] == ["grafana: reload the server", "alertmanager: reload the server"]
    assert out["summary"] == {"create": 1, "manual": 1, "overwrite": 1, "update": 1}
    assert [i["name"] for i in out["items"] if i["component"] == "manual"] == ["manual"]  # the plan's item, kept
    assert out["complete"] is True and out["safety_backup"] is not None


def test_configs_to_reaches_the_job_and_force_reaches_it_too(world, tmp_path):
    world.components = {"configs": Component([("file", "f", "create")])}
    out = rs.run_restore(prod_ctx(), make_backup(tmp_path, {"configs": {}}), configs_to=tmp_path / "o", force=True, dry_run=True)
    job = world.components["configs"].jobs[0]
    assert job.options["configs_to"] == tmp_path / "o" and job.force is True and out["components"] == ["configs"]


def test_configs_in_place_gets_a_safety_backup(world, tmp_path):
    world.components = {"configs": Component([("file", "f", "create")])}
    rs.run_restore(prod_ctx(), make_backup(tmp_path, {"configs": {}}))
    assert world.safety_calls[0]["only"] == ["configs"]


def test_unchanged_items_do_not_take_a_safety_backup_even_with_force(world, tmp_path):
    world.components = {"grafana": Component([("dashboard", "d", "unchanged")])}
    rs.run_restore(prod_ctx(), make_backup(tmp_path, {"grafana": {}}), force=True)
    assert not world.safety_calls


def test_an_applied_change_not_planned_as_one_is_still_reported(world, tmp_path):
    class Surprising(Component):
        def restore(self, job):
            self.jobs.append(job)
            job.plan("dashboard", "d", "unchanged" if job.dry_run else "update")  # changed between plan and apply

    world.components = {"grafana": Surprising([]), "other": Component([("x", "y", "create")])}
    out = rs.run_restore(prod_ctx(), make_backup(tmp_path, {"grafana": {}, "other": {}}))
    assert out["not_applied"] == [{"component": "grafana", "kind": "dashboard", "name": "d", "action": "update", "detail": "",
                                   "applied": False, "planned": "update"}]


def test_a_dry_run_is_never_complete_and_lists_nothing_not_applied(world, tmp_path):
    world.components = {"grafana": Component([("dashboard", "d", "create")], applies=[])}
    out = rs.run_restore(prod_ctx(), make_backup(tmp_path, {"grafana": {}}), dry_run=True)
    assert out["complete"] is False and out["not_applied"] == []


def test_many_missing_items_are_cut_at_ten(world, tmp_path):
    missing = [{"id": f"m{i}"} for i in range(12)]
    out = rs.run_restore(prod_ctx(), make_backup(tmp_path, {}, missing=missing), dry_run=True)
    assert out["warnings"] == ["this backup is incomplete (made with --keep-going); not in it: " + ", ".join(f"m{i}" for i in range(10))]


def test_unknown_components_are_all_named(world, tmp_path):
    world.components = {"grafana": Component([])}
    with pytest.raises(click.BadParameter) as info:
        rs.run_restore(prod_ctx(), make_backup(tmp_path, {"grafana": {}, "configs": {}}), only=["x", "y"], dry_run=True)
    assert info.value.message == "unknown component(s) x, y; in this backup: configs, grafana"


def test_skipped_and_pluginless_components_do_not_stop_the_others(world, tmp_path):
    world.components = {"grafana": Component([("d", "1", "unchanged")]), "silences": Component([("s", "2", "unchanged")])}
    folder = make_backup(tmp_path, {"gone": {}, "skipped": {"status": "skipped"}, "grafana": {}, "silences": {}})
    out = rs.run_restore(prod_ctx(), folder, dry_run=True)
    assert out["components"] == ["grafana", "silences"]
    chosen = rs.run_restore(prod_ctx(), folder, only=["skipped", "gone", "grafana"], dry_run=True)
    assert chosen["components"] == ["grafana"]


def test_six_problems_are_five_and_one_more(world, tmp_path):
    folder = make_backup(tmp_path, {"g": {}}, files={f"g/{i}.json": "{}" for i in range(6)})
    for i in range(6):
        (folder / "g" / f"{i}.json").unlink()
    with pytest.raises(FindingsError) as info:
        rs.run_restore(prod_ctx(), folder, dry_run=True)
    assert info.value.message.endswith("missing: g/4.json; and 1 more); refusing to restore")


def test_an_extracted_archive_takes_its_safety_backup_in_the_profile_folder(world, tmp_path):
    world.components = {"grafana": Component([("dashboard", "d1", "create")])}
    archive = _archive(tmp_path, make_backup(tmp_path / "src", {"grafana": {}}))
    seen = []
    world_resolve = rs.resolve_base_dir
    rs.resolve_base_dir = lambda ctx, _, target: seen.append((ctx, target.name)) or world_resolve(ctx, _, target)
    try:
        ctx = prod_ctx()
        rs.run_restore(ctx, archive)
    finally:
        rs.resolve_base_dir = world_resolve
    assert seen == [(ctx, "prod")] and world.safety_calls[0]["base"] == tmp_path / "fallback"


def test_the_sidecar_may_hold_just_the_digest(world, tmp_path):
    world.components = {"grafana": Component([])}
    archive = _archive(tmp_path, make_backup(tmp_path / "src", {"grafana": {}}))
    (archive.parent / (archive.name + ".sha256")).write_text(hashlib.sha256(archive.read_bytes()).hexdigest(), encoding="utf-8")
    assert rs.run_restore(prod_ctx(), archive, dry_run=True)["components"] == ["grafana"]
