"""``backup prune`` deletes only backups: folders with an aetherops MANIFEST.json (or the marker every
backup run writes first). Folders named like a timestamp, ``.partial`` folders it did not create and
symlinks are left alone and listed as "not a backup"; symlinks are never followed, chmod-ed or counted;
backups with a future or unparsable timestamp take no kept slot. Plus the retention policy itself, a
pure function."""

from __future__ import annotations

import os
import stat
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from aetherops_plugins.backup.engine import retention_plan
from aetherops_plugins.backup.manifest import MARKER

from .test_backup_kit import make_configs_backup, one_error_line

posix_only = pytest.mark.skipif(os.name != "posix", reason="symlinks need privileges on Windows")


@pytest.fixture
def pdir(aetherops_cli, profile_factory, tmp_path, monkeypatch):
    """tmp_path/b/adv with two real backups; returns the profile folder."""
    monkeypatch.chdir(tmp_path)
    first = make_configs_backup(aetherops_cli, profile_factory, tmp_path)
    second = make_configs_backup(aetherops_cli, profile_factory, tmp_path)
    # name them apart in time (the two runs may share a second)
    first.rename(first.with_name("20250101T000000Z"))
    second.rename(second.with_name("20250201T000000Z"))
    return first.parent


def _prune(cli, pdir: Path, *extra: str):
    result = cli("-p", "adv", "backup", "prune", "--keep", "1", "--dir", str(pdir.parent), "-o", "json", *extra)
    assert result.exit_code == 0, result
    return result.json()


def test_a_folder_named_like_a_backup_without_manifest_is_not_deleted(pdir, aetherops_cli):
    user = pdir / "20200101T000000Z"
    user.mkdir()
    (user / "thesis.tex").write_text("years of work\n", encoding="utf-8")
    data = _prune(aetherops_cli, pdir)
    assert (user / "thesis.tex").read_text(encoding="utf-8") == "years of work\n"
    assert {"path": str(user), "reason": "no aetherops MANIFEST.json or marker"} in data["not_backups"]
    assert str(user) not in data["deleted"] + data["kept"]
    assert data["deleted"] == [str(pdir / "20250101T000000Z")]  # the real old backup still goes
    text = aetherops_cli("-p", "adv", "backup", "prune", "--keep", "1", "--dir", str(pdir.parent), "--dry-run")
    assert f"not a backup (left alone): {user}" in text.stdout


def test_a_damaged_backup_with_the_marker_is_still_a_backup(pdir, aetherops_cli):
    old = pdir / "20250101T000000Z"
    (old / "MANIFEST.json").unlink()  # damaged, but the marker says aetherops made it
    assert (old / MARKER).is_file()
    data = _prune(aetherops_cli, pdir)
    assert data["deleted"] == [str(old)] and not old.exists()


@posix_only
def test_a_symlink_named_like_a_backup_is_never_followed_chmodded_or_counted(pdir, aetherops_cli, tmp_path):
    target = tmp_path / "precious"
    target.mkdir()
    (target / "MANIFEST.json").write_text('{"tool": "aetherops", "files": {}}', encoding="utf-8")  # even looking like one
    (target / "data.txt").write_text("keep me\n", encoding="utf-8")
    os.chmod(target / "data.txt", 0o444)
    os.chmod(target, 0o555)
    link = pdir / "20990101T000000Z"
    link.symlink_to(target, target_is_directory=True)
    old_link = pdir / "20000101T000000Z"
    old_link.symlink_to(target, target_is_directory=True)
    try:
        data = _prune(aetherops_cli, pdir)
        assert stat.S_IMODE(target.stat().st_mode) == 0o555 and stat.S_IMODE((target / "data.txt").stat().st_mode) == 0o444
        assert (target / "data.txt").read_text(encoding="utf-8") == "keep me\n"
        assert link.is_symlink() and old_link.is_symlink()
        reasons = {e["path"]: e["reason"] for e in data["not_backups"]}
        assert "symlink" in reasons[str(link)] and "symlink" in reasons[str(old_link)]
        assert data["kept"] == [str(pdir / "20250201T000000Z")]  # the symlinks took no slot
    finally:
        os.chmod(target, 0o755)


def test_partials_prune_did_not_create_are_left_alone(pdir, aetherops_cli):
    ours = pdir / "20240101T000000Z.partial"
    ours.mkdir()
    (ours / MARKER).write_text("{}", encoding="utf-8")
    theirs = pdir / "20240102T000000Z.partial"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine\n", encoding="utf-8")
    hour_ago = time.time() - 7200
    for p in (ours, theirs):
        os.utime(p, (hour_ago, hour_ago))
    data = _prune(aetherops_cli, pdir)
    assert data["stale_partials"] == [str(ours)] and not ours.exists()
    assert (theirs / "notes.txt").is_file()
    assert any(e["path"] == str(theirs) and "did not create" in e["reason"] for e in data["not_backups"])


def test_future_and_unparsable_timestamps_take_no_kept_slot(pdir, aetherops_cli):
    future = pdir / "20990101T000000Z"
    (pdir / "20250201T000000Z").rename(future)  # a real backup, but dated in the future
    bad = pdir / "20251399T999999Z"  # named like one, no such date
    newest = make_configs_backup(aetherops_cli, lambda *a, **k: None, pdir.parent.parent)
    (pdir / "20250101T000000Z").rename(bad)
    data = _prune(aetherops_cli, pdir)
    assert data["kept"] == [str(newest)]
    assert sorted(data["undated"]) == sorted([str(future), str(bad)])
    assert future.exists() and bad.exists() and data["deleted"] == []


def test_prune_refusing_nothing_still_exits_cleanly_with_one_line_for_usage(pdir, aetherops_cli):
    result = aetherops_cli("-p", "adv", "backup", "prune", "--dir", str(pdir.parent))
    assert result.exit_code == 2 and "backup.keep" in one_error_line(result.stderr)


# ----------------------------------------------------------------------------- the policy, pure
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def B(name: str, days_ago: float | None, *, kind: str = "backup", full: bool = True, ok: bool = True):
    created = None if days_ago is None else NOW - timedelta(days=days_ago)
    return SimpleNamespace(name=name, created=created, kind=kind, is_full=full and kind == "backup", ok=ok)


def names(items) -> list[str]:
    return [i.name for i in items]


POLICY_CASES = [
    # (backups, keep, include_safety) -> (kept, deleted, protected, safety_kept, undated)
    ("newest N kept", [B("a", 3), B("b", 2), B("c", 1)], 2, False, (["c", "b"], ["a"], "c", [], [])),
    ("newest verified full kept beyond N", [B("a", 3), B("b", 2, ok=False), B("c", 1, ok=False)], 1, False,
     (["c", "a"], ["b"], "a", [], [])),
    ("partial stands in when no full verifies", [B("a", 3, full=False), B("b", 2, ok=False), B("c", 1, ok=False)], 1, False,
     (["c", "a"], ["b"], "a", [], [])),
    ("nothing verifies", [B("a", 2, ok=False), B("b", 1, ok=False)], 1, False, (["b"], ["a"], None, [], [])),
    ("safety never counted", [B("s1", 5, kind="safety"), B("a", 3), B("s2", 0.5, kind="safety"), B("b", 1)], 1, False,
     (["b"], ["a"], "b", ["s2", "s1"], [])),
    ("safety pruned by its own count", [B("s1", 5, kind="safety"), B("s2", 4, kind="safety"), B("a", 1)], 1, True,
     (["a"], [], "a", ["s2"], [])),
    ("future takes no slot", [B("f", -30), B("a", 2), B("b", 1)], 1, False, (["b"], ["a"], "b", [], ["f"])),
    ("unparsable takes no slot", [B("u", None), B("a", 2), B("b", 1)], 1, False, (["b"], ["a"], "b", [], ["u"])),
    ("clock skew of a minute is not the future", [B("a", 2), B("b", -0.0005)], 1, False, (["b"], ["a"], "b", [], [])),
    ("order of the input does not matter", [B("b", 1), B("c", 0), B("a", 2)], 2, False, (["c", "b"], ["a"], "c", [], [])),
]


@pytest.mark.parametrize("label, backups, keep, include_safety, expected", POLICY_CASES, ids=[c[0] for c in POLICY_CASES])
def test_retention_plan(label, backups, keep, include_safety, expected):
    plan = retention_plan(backups, keep, now=NOW, include_safety=include_safety, verifies=lambda b: b.ok)
    kept, deleted, protected, safety_kept, undated = expected
    assert names(plan.kept) == kept and names(plan.deleted) == deleted
    assert (plan.protected.name if plan.protected else None) == protected
    assert names(plan.safety_kept) == safety_kept and names(plan.undated) == undated
    if include_safety:
        assert set(names(plan.safety_deleted)) == {b.name for b in backups if b.kind == "safety"} - set(safety_kept)


def test_retention_plan_verifies_newest_first_and_stops_at_the_first_good_one():
    calls = []
    backups = [B("a", 3), B("b", 2), B("c", 1, ok=False)]
    retention_plan(backups, 1, now=NOW, verifies=lambda b: calls.append(b.name) or b.ok)
    assert calls == ["c", "b"]


def test_retention_plan_refuses_keep_below_one():
    with pytest.raises(ValueError):
        retention_plan([], 0, now=NOW, verifies=lambda b: True)
