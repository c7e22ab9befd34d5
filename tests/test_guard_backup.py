"""Guards for the backup manifest helpers (plugins/backup/manifest.py): names, manifests, verification records,
listing and sizes, on backups made by hand in tmp_path (no server), fast enough for ``nox -s mutants``."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone

import pytest

from aetherops_plugins.backup import manifest as mf
from aetherops_plugins.backup.api import sha256_file

UTC = timezone.utc


def make_backup(root, profile="prod", name="20261124T080000Z", files=None, **extra) -> "os.PathLike":
    """A backup folder with a valid MANIFEST for ``files`` ({relative path: text})."""
    folder = root / profile / name
    folder.mkdir(parents=True)
    entries = {}
    for rel, text in (files or {"a/one.json": "{}"}).items():
        path = folder.joinpath(*rel.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        size, digest = sha256_file(path)
        entries[rel] = {"size": size, "sha256": digest}
    data = {"tool": "aetherops", "format": 1, "profile": profile, "files": entries, **extra}
    (folder / mf.MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    return folder


# ---------------------------------------------------------------- names and stamps
def test_stamps_round_trip():
    when = datetime(2026, 11, 24, 8, 0, 5, tzinfo=UTC)
    assert mf.utc_stamp(when) == "20261124T080005Z"
    assert mf.parse_stamp("20261124T080005Z") == when
    assert mf.parse_stamp("20261124T080005Z-2") == when
    assert mf.parse_stamp("20261124T080005Z.partial") == when
    assert mf.parse_stamp("20261124T080005Z-3.partial") == when
    assert mf.parse_stamp("not-a-stamp") is None and mf.parse_stamp("20261324T080005Z") is None
    now = mf.utc_stamp()
    assert mf.is_backup_name(now) and abs((mf.parse_stamp(now) - datetime.now(UTC)).total_seconds()) < 86400


@pytest.mark.parametrize("name, ok", [
    ("20261124T080005Z", True), ("20261124T080005Z-2", True), ("20261124T080005Z-12", True),
    ("20261124T080005Z.partial", False), ("x20261124T080005Z", False), ("20261124T080005Z-", False),
    ("20261124T080005", False), ("20261124T080005Z-a", False), ("2026112T080005Z", False), ("", False),
])
def test_backup_names(name, ok):
    assert mf.is_backup_name(name) is ok


# ---------------------------------------------------------------- manifest
def test_load_manifest_errors_name_the_file(tmp_path):
    with pytest.raises(ValueError) as info:
        mf.load_manifest(tmp_path)
    assert str(info.value) == f"{tmp_path / mf.MANIFEST} is missing: not a complete aetherops backup"
    (tmp_path / mf.MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"MANIFEST.json cannot be read: "):
        mf.load_manifest(tmp_path)
    for data in ([], {"tool": "other", "files": {}}, {"tool": "aetherops", "files": []}, {"tool": "aetherops"}):
        (tmp_path / mf.MANIFEST).write_text(json.dumps(data), encoding="utf-8")
        with pytest.raises(ValueError) as info:
            mf.load_manifest(tmp_path)
        assert str(info.value) == f"{tmp_path / mf.MANIFEST} is not an aetherops backup manifest"
    (tmp_path / mf.MANIFEST).write_text(json.dumps({"tool": "aetherops", "files": {}, "x": 1}), encoding="utf-8")
    assert mf.load_manifest(tmp_path)["x"] == 1


def test_verify_result_problems_and_dict(tmp_path):
    # trust-backup added ``unsafe`` (paths leaving the folder) before ``error``: pass both by keyword.
    result = mf.VerifyResult(tmp_path, False, 3, 10, ["m"], ["c"], ["e"], unsafe=["../u"], error="broken")
    assert result.problems() == ["broken", "unsafe: ../u", "missing: m", "differs: c", "not in manifest: e"]
    assert result.as_dict() == {"path": str(tmp_path), "ok": False, "files_checked": 3, "bytes": 10, "missing": ["m"],
                                "changed": ["c"], "extra": ["e"], "unsafe": ["../u"], "error": "broken"}
    assert mf.VerifyResult(tmp_path, True).problems() == []


def test_verify_counts_files_and_bytes_and_records_the_result(tmp_path):
    folder = make_backup(tmp_path, files={"a/one.json": "12345", "b.txt": "xy"})
    result = mf.verify_backup(folder)
    assert (result.ok, result.checked, result.bytes, result.missing, result.changed, result.extra) == (True, 2, 7, [], [], [])
    state = mf.read_state(folder.parent)
    assert state[folder.name]["ok"] is True and state[folder.name]["how"] == "verify"
    assert not list(folder.parent.glob("*.tmp"))
    quick = mf.verify_backup(folder, quick=True)
    assert quick.ok and quick.bytes == 7 and quick.checked == 2


def test_quick_verify_sees_a_size_change_only(tmp_path):
    folder = make_backup(tmp_path, files={"a.txt": "aaaa"})
    (folder / "a.txt").write_text("bbbb", encoding="utf-8")  # same size, other content
    assert mf.verify_backup(folder, quick=True).ok
    assert mf.verify_backup(folder).changed == ["a.txt"]
    (folder / "a.txt").write_text("bbbbb", encoding="utf-8")
    assert mf.verify_backup(folder, quick=True).changed == ["a.txt"]


def test_verify_lists_missing_and_extra_sorted(tmp_path):
    folder = make_backup(tmp_path, files={"z.txt": "1", "a.txt": "2"})
    (folder / "z.txt").unlink()
    (folder / "y.txt").write_text("x", encoding="utf-8")
    (folder / "d").mkdir()
    (folder / "d" / "b.txt").write_text("x", encoding="utf-8")
    result = mf.verify_backup(folder)
    assert result.missing == ["z.txt"] and result.extra == ["d/b.txt", "y.txt"] and result.checked == 1 and not result.ok
    assert mf.read_state(folder.parent)[folder.name]["ok"] is False


def test_verify_of_no_manifest_is_an_error_result(tmp_path):
    result = mf.verify_backup(tmp_path)
    assert not result.ok and result.error.endswith("is missing: not a complete aetherops backup")


def test_record_verification_only_for_backups_and_drops_gone_ones(tmp_path):
    folder = make_backup(tmp_path)
    other = tmp_path / "prod" / "not-a-backup"
    other.mkdir()
    mf.record_verification(other, True)
    assert mf.read_state(tmp_path / "prod") == {}
    mf.record_verification(folder, False, how="restore")
    (tmp_path / "prod" / mf.STATE_FILE).write_text(json.dumps({"20200101T000000Z": {"ok": True}, folder.name: {}}), encoding="utf-8")
    mf.record_verification(folder, True, how="restore")
    state = mf.read_state(tmp_path / "prod")
    assert list(state) == [folder.name] and state[folder.name]["how"] == "restore" and state[folder.name]["ok"] is True
    assert datetime.strptime(state[folder.name]["at"], "%Y-%m-%dT%H:%M:%SZ")
    archive = folder.parent / f"{folder.name}.tar.gz"
    archive.write_bytes(b"x")
    mf.record_verification(archive, True, how="archive")
    assert mf.read_state(tmp_path / "prod")[archive.name]["how"] == "archive"


def test_read_state_of_garbage_is_empty(tmp_path):
    assert mf.read_state(tmp_path) == {}
    (tmp_path / mf.STATE_FILE).write_text("[1, 2]", encoding="utf-8")
    assert mf.read_state(tmp_path) == {}
    (tmp_path / mf.STATE_FILE).write_text("{bad", encoding="utf-8")
    assert mf.read_state(tmp_path) == {}


# ---------------------------------------------------------------- listing
def test_list_backups_newest_first_with_state(tmp_path):
    full = {"components": {n: {"counts": {"x": 1}} for n in ("grafana", "prometheus", "alertmanager", "silences", "configs")},
            "complete": True, "totals": {"bytes": 42}}
    old = make_backup(tmp_path, name="20261101T000000Z", **full)
    new = make_backup(tmp_path, name="20261124T080000Z", kind="safety", scope="partial", components={"configs": {}})
    damaged = tmp_path / "prod" / "20261110T000000Z"
    damaged.mkdir()
    (damaged / mf.MARKER).write_text("", encoding="utf-8")  # a backup run wrote its marker, then died
    (tmp_path / "prod" / "20261115T000000Z").mkdir()  # named like one, but no marker nor manifest: not ours
    (tmp_path / "prod" / "20261120T000000Z.partial").mkdir()
    (tmp_path / "prod" / "20261120T000000Z.partial" / mf.MARKER).write_text("", encoding="utf-8")
    (tmp_path / "prod" / "20261121T000000Z.partial").mkdir()  # no marker: never listed as a partial
    (tmp_path / "prod" / "notes").mkdir()
    (tmp_path / "prod" / "20261105T000000Z.tar.gz").write_bytes(b"archive")
    make_backup(tmp_path, profile="staging", name="20261123T000000Z")
    mf.record_verification(old, True)
    mf.record_verification(new, False)
    listed = mf.list_backups(tmp_path, "prod")
    assert [b.name for b in listed] == [new.name, damaged.name, old.name]
    assert [b.verified for b in listed] == ["FAILED", "damaged", "yes"]
    assert [b.kind for b in listed] == ["safety", None, "backup"]
    assert [b.scope for b in listed] == ["partial", None, "full"]
    assert [b.is_full for b in listed] == [False, False, True]
    assert listed[2].size == 42 and listed[0].size == 0 and listed[1].error.endswith("is missing: not a complete aetherops backup")
    row = listed[2].as_dict()
    assert row["created"] == "2026-11-01T00:00:00Z" and row["bytes"] == 42 and row["complete"] is True and row["files"] == 1
    assert row["counts"]["grafana"] == {"x": 1} and row["kind"] == "backup" and row["path"] == str(old) and row["age_s"] > 0
    every = mf.list_backups(tmp_path, "prod", include_partial=True, include_archives=True)
    kinds = {b.name: b.kind for b in every}
    assert kinds["20261120T000000Z.partial"] == "partial" and kinds["20261105T000000Z"] == "archive"
    assert "20261115T000000Z" not in kinds and "20261121T000000Z.partial" not in kinds
    foreign = {b.name: b.foreign for b in mf.list_backups(tmp_path, "prod", include_partial=True, include_foreign=True) if b.foreign}
    assert set(foreign) == {"20261115T000000Z", "20261121T000000Z.partial", "notes"}
    archive = next(b for b in every if b.kind == "archive")
    assert archive.size == len(b"archive") and archive.error == "no .sha256 beside it" and archive.as_dict()["path"].endswith(".tar.gz")
    assert {b.profile for b in mf.list_backups(tmp_path)} == {"prod", "staging"}
    assert mf.list_backups(tmp_path / "nowhere") == [] and mf.list_backups(tmp_path, "nobody") == []


def test_scope_of_an_old_manifest_comes_from_its_components(tmp_path):
    some = mf.BackupInfo(tmp_path, "p", "20261101T000000Z", {"components": {"configs": {}}})
    assert some.scope == "partial" and some.kind == "backup" and not some.is_full
    info = mf.BackupInfo(tmp_path, "p", "x", None)
    assert info.created is None and info.as_dict()["created"] is None and info.as_dict()["age_s"] is None
    assert info.as_dict()["complete"] is False and info.as_dict()["files"] == 0


# ---------------------------------------------------------------- sizes, ages, pruning helpers
@pytest.mark.parametrize("n, text", [
    (0, "0 B"), (1023, "1023 B"), (1024, "1.0 KB"), (1536, "1.5 KB"), (1024 ** 2, "1.0 MB"), (5 * 1024 ** 3, "5.0 GB"),
    (1024 ** 4, "1.0 TB"), (1024 ** 5, "1024.0 TB"),
])
def test_human_size(n, text):
    assert mf.human_size(n) == text


@pytest.mark.parametrize("seconds, text", [
    (None, "?"), (-5, "0s"), (0, "0s"), (59, "59s"), (60, "1m"), (3599, "59m"), (3600, "1h"), (86399, "23h"), (86400, "1d"),
    (200000.9, "2d"),
])
def test_human_age(seconds, text):
    assert mf.human_age(seconds) == text


def test_remove_backup_takes_its_archive_too(tmp_path):
    folder = make_backup(tmp_path)
    for suffix in (".tar.gz", ".tar.gz.sha256"):
        (folder.parent / f"{folder.name}{suffix}").write_text("x", encoding="utf-8")
    keep = folder.parent / "20990101T000000Z.tar.gz"
    keep.write_text("x", encoding="utf-8")
    mf.remove_backup(folder)
    assert sorted(p.name for p in folder.parent.iterdir()) == [keep.name]


def test_stale_partials_are_old_partial_folders_only(tmp_path):
    pdir = tmp_path / "prod"
    old, fresh, other = pdir / "20261101T000000Z.partial", pdir / "20261124T000000Z.partial", pdir / "20261101T000000Z"
    unmarked = pdir / "20261102T000000Z.partial"  # old, but aetherops did not create it (no marker)
    for p in (old, fresh, other, unmarked):
        p.mkdir(parents=True)
    for p in (old, fresh, other):
        (p / mf.MARKER).write_text("", encoding="utf-8")
    (pdir / "file.partial").write_text("x", encoding="utf-8")
    past = time.time() - 7200
    os.utime(old, (past, past))
    os.utime(other, (past, past))
    os.utime(unmarked, (past, past))
    recent = time.time() - 60
    os.utime(fresh, (recent, recent))
    assert mf.stale_partials(tmp_path, "prod") == [old]
    assert mf.stale_partials(tmp_path, "prod", older_than_s=30) == [old, fresh]
    assert mf.stale_partials(tmp_path, "nobody") == []


# ---------------------------------------------------------------- RESTORE.md: the commands a person runs
def _blocks(markdown: str) -> list[tuple[str, list[str]]]:
    """Fenced code blocks as (language, lines); fails on an unclosed fence."""
    blocks, current, language = [], None, None
    for line in markdown.splitlines():
        if line.startswith("```"):
            if current is None:
                language, current = line[3:], []
            else:
                assert line == "```", line
                blocks.append((language, current))
                current = None
        elif current is not None:
            current.append(line)
    assert current is None, "unclosed code fence"
    return blocks


def _headings(markdown: str) -> list[str]:
    """Markdown headings, outside code blocks."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif line.startswith("#") and not fenced:
            out.append(line)
    return out


def _commands(markdown: str, language: str) -> list[str]:
    return [line for lang, lines in _blocks(markdown) if lang == language for line in lines]


def test_restore_md_commands_for_a_minimal_backup():
    text = mf.restore_markdown({"profile": "prod", "started": "2026-11-24T08:00:00Z", "tool_version": "0.1.0", "components": {}})
    assert text.startswith("# Restoring this backup (2026-11-24T08:00:00Z, profile `prod`)\n")
    assert "Made by aetherops 0.1.0 from profile `prod`." in text
    assert _headings(text) == [
        "# Restoring this backup (2026-11-24T08:00:00Z, profile `prod`)", "## 1. Check the backup",
        "## 2. See what a restore would change (changes nothing)", "## 3. Restore", "## Not in this backup"]
    assert _commands(text, "bash") == [
        "cd path/to/this/backup      # the folder of this RESTORE.md",
        "aetherops -p prod backup verify .",
        "aetherops -p prod restore . --dry-run --diff",
        "aetherops -p prod restore .",
        "# into another stack, e.g. staging: aetherops restore . --to-profile staging"]
    assert _commands(text, "powershell") == [
        "Set-Location path\\to\\this\\backup   # the folder of this RESTORE.md",
        "aetherops -p prod backup verify .",
        "aetherops -p prod restore . --dry-run --diff",
        "aetherops -p prod restore .",
        "# into another stack, e.g. staging: aetherops restore . --to-profile staging"]
    assert "--force" in text and "--safety-dir DIR" in text and "secureJsonData" in text
    assert "Skipped" not in text and "snapshot" not in text.lower()
    assert mf.restore_markdown({}).startswith("# Restoring this backup (, profile `PROFILE`)")


def test_restore_md_sections_follow_the_components():
    comps = {"configs": {"status": "ok"}, "silences": {"status": "ok"}, "grafana": {"status": "skipped", "reason": "no url"},
             "alertmanager": {"status": "skipped", "reason": "down"},
             "prometheus": {"status": "ok", "meta": {"snapshot": "snap1", "data_dir": "/var/lib/prom", "snapshot_copied": True}}}
    text = mf.restore_markdown({"profile": "ops", "components": comps})
    headings = _headings(text)
    assert headings[4:] == ["### Config files", "### Alertmanager silences", "### Prometheus TSDB snapshot", "## Not in this backup",
                            "## Skipped components"]
    bash = _commands(text, "bash")
    assert "aetherops -p ops restore . --only configs --configs-to ../restored-configs" in bash
    assert "aetherops -p ops restore . --only silences" in bash
    assert bash[-4:] == ["sudo systemctl stop prometheus", "mv '/var/lib/prom' '/var/lib/prom.before-restore'",
                         "cp -a 'prometheus/snapshot/snap1' '/var/lib/prom'", "sudo systemctl start prometheus"]
    ps = _commands(text, "powershell")
    assert "aetherops -p ops restore . --only configs --configs-to ..\\restored-configs" in ps
    assert ps[-4:] == ["Stop-Service prometheus", "Move-Item -LiteralPath '/var/lib/prom' -Destination '/var/lib/prom.before-restore'",
                       "Copy-Item -Recurse 'prometheus\\snapshot\\snap1' '/var/lib/prom'", "Start-Service prometheus"]
    assert "Snapshot `snap1` is inside this backup." in text
    assert text.endswith("## Skipped components\n\n- `grafana`: no url\n- `alertmanager`: down\n")


def test_restore_md_snapshot_left_on_the_server_or_empty():
    remote = mf.restore_markdown({"profile": "p", "components": {"prometheus": {"meta": {"snapshot": "s2"}}}})
    assert "Snapshot `s2` stays on the Prometheus host in `<prometheus --storage.tsdb.path>/snapshots/`." in remote
    assert "cp -a '<prometheus --storage.tsdb.path>/snapshots/s2' '<prometheus --storage.tsdb.path>'" in _commands(remote, "bash")
    assert "Copy-Item -Recurse '<prometheus --storage.tsdb.path>\\snapshots\\s2' '<prometheus --storage.tsdb.path>'" in _commands(remote, "powershell")
    empty = mf.restore_markdown({"profile": "p", "components": {"prometheus": {"meta": {"snapshot": "s3", "snapshot_empty": True}}}})
    assert "Snapshot `s3` is empty (Prometheus had no samples yet): nothing to restore." in empty
    assert "systemctl" not in empty
    not_ok = mf.restore_markdown({"profile": "p", "components": {"configs": {"status": "failed"}, "silences": {}}})
    assert "### Config files" not in not_ok and "### Alertmanager silences" not in not_ok


def test_every_restore_md_command_parses(aetherops_cli):
    comps = {"configs": {"status": "ok"}, "silences": {"status": "ok"}}
    text = mf.restore_markdown({"profile": "ops", "components": comps})
    commands = {line.split("#")[-1].split(": ", 1)[-1].strip() for line in _commands(text, "bash") if "aetherops" in line}
    assert len(commands) == 6
    for command in commands:
        args = command.split()[1:]
        result = aetherops_cli(*args, "--help")  # every option and subcommand named exists
        assert result.exit_code == 0, (command, result.stderr)


# ---------------------------------------------------------------- exact listings and verification details
def test_listing_rows_in_full(tmp_path):
    folder = make_backup(tmp_path, name="20261101T000000Z", kind="backup", scope="full", complete=True,
                         components={"grafana": {"counts": {"dashboards": 2}}, "configs": {}}, totals={"bytes": 9})
    row = mf.list_backups(tmp_path, "prod")[0].as_dict()
    assert row.pop("age_s") > 0
    assert row == {"path": str(folder), "profile": "prod", "name": "20261101T000000Z", "kind": "backup", "scope": "full",
                   "created": "2026-11-01T00:00:00Z", "bytes": 9, "files": 1, "complete": True,
                   "counts": {"grafana": {"dashboards": 2}, "configs": {}}, "verified": "no", "error": None}
    (tmp_path / "prod" / "20261102T000000Z.partial").mkdir()
    assert not any(b.partial for b in mf.list_backups(tmp_path, "prod", include_partial=True))  # no marker yet
    (tmp_path / "prod" / "20261102T000000Z.partial" / mf.MARKER).write_text("", encoding="utf-8")
    partial = next(b for b in mf.list_backups(tmp_path, "prod", include_partial=True) if b.partial)
    assert (partial.path, partial.profile, partial.error, partial.verified, partial.kind) == (
        tmp_path / "prod" / "20261102T000000Z.partial", "prod", "incomplete (.partial)", "no", "partial")


def test_archives_alone_are_listed_with_their_state(tmp_path):
    pdir = tmp_path / "prod"
    pdir.mkdir()
    for stem in ("20261101T000000Z", "20261102T000000Z", "20261103T000000Z"):
        (pdir / f"{stem}.tar.gz").write_bytes(b"a")
    (pdir / "20261101T000000Z.tar.gz.sha256").write_text("x", encoding="utf-8")
    (pdir / "notes.tar.gz").write_bytes(b"a")  # not a backup name
    make_backup(tmp_path, name="20261104T000000Z")
    (pdir / "20261104T000000Z.tar.gz").write_bytes(b"a")  # its folder is there: listed once, as the folder
    (pdir / mf.STATE_FILE).write_text(json.dumps({"20261101T000000Z.tar.gz": {"ok": True}, "20261102T000000Z.tar.gz": {"ok": False}}),
                                      encoding="utf-8")
    listed = mf.list_backups(tmp_path, "prod", include_archives=True)
    assert [(b.name, b.kind, b.verified, b.error) for b in listed] == [
        ("20261104T000000Z", "backup", "no", None),
        ("20261103T000000Z", "archive", "no", "no .sha256 beside it"),
        ("20261102T000000Z", "archive", "FAILED", "no .sha256 beside it"),
        ("20261101T000000Z", "archive", "yes", None)]
    archive = listed[-1]
    assert archive.path == pdir / "20261101T000000Z" and archive.profile == "prod" and archive.archive == pdir / "20261101T000000Z.tar.gz"
    assert [b.name for b in mf.list_backups(tmp_path, "prod")] == ["20261104T000000Z"]


def test_verify_checks_every_file_after_a_missing_one(tmp_path):
    folder = make_backup(tmp_path, files={"a/1.txt": "1", "b/2.txt": "2", "c/3.txt": "3"})
    (folder / "a" / "1.txt").unlink()
    (folder / "c" / "3.txt").write_text("changed", encoding="utf-8")
    result = mf.verify_backup(folder)
    assert result.path == folder and result.missing == ["a/1.txt"] and result.changed == ["c/3.txt"] and result.checked == 2


@pytest.mark.parametrize("damage", ["changed", "extra"])
def test_one_kind_of_damage_alone_fails(tmp_path, damage):
    folder = make_backup(tmp_path, files={"x.txt": "1"})
    if damage == "changed":
        (folder / "x.txt").write_text("2", encoding="utf-8")
    else:
        (folder / "y.txt").write_text("2", encoding="utf-8")
    result = mf.verify_backup(folder)
    assert result.ok is False and result.path == folder
    assert mf.verify_backup(tmp_path / "nothing").path == tmp_path / "nothing"


def test_the_state_file_is_stable_json(tmp_path):
    folder = make_backup(tmp_path)
    mf.record_verification(folder, True)
    text = (folder.parent / mf.STATE_FILE).read_text(encoding="utf-8")
    state = json.loads(text)
    assert text == json.dumps(state, indent=2, sort_keys=True) + "\n"
    assert list(state[folder.name]) == ["at", "how", "ok"]


def test_restore_md_says_where_to_run_what_is_refused_and_what_is_missing():
    text = mf.restore_markdown({"profile": "prod", "tool_version": "9.9", "components": {}})
    for sentence in (
        "MANIFEST.json with its size and sha256; `aetherops restore` refuses a backup that fails them.",
        "**Run every command below from inside this backup folder** (the folder that holds this RESTORE.md;",
        "for an archive, extract it first and `cd` into the extracted folder). Paths are relative to it, so",
        "they stay right wherever the backup is moved.",
        "Dashboards changed on the server since this backup are reported as conflicts and skipped;",
        "add `--force` to overwrite them. A safety backup of what will be overwritten is taken first",
        "(in the backups root this folder belongs to, or in `--safety-dir DIR`).",
        "- Datasource secrets (passwords, tokens, `secureJsonData`): Grafana never returns them. Re-enter them",
        "  after a restore for the datasources listed in `grafana/datasources.json` under `secure_fields`.",
        "- Alertmanager receiver secrets (webhook/Slack URLs, keys) are redacted in `alertmanager/alertmanager.yml`;",
        "  restore the original file from your configuration repository.",
        "- Grafana users, teams, permissions and API tokens.",
    ):
        assert sentence in text.splitlines(), sentence
    comps = {"configs": {"status": "ok"}, "silences": {"status": "ok"},
             "prometheus": {"meta": {"snapshot": "s", "data_dir": "/d", "snapshot_copied": True}}}
    lines = mf.restore_markdown({"profile": "prod", "components": comps}).splitlines()
    for sentence in ("Restored into a directory of your choice (never over the originals unless `--force`):",
                     "Recreated only when asked (those not yet expired):",
                     "A running Prometheus cannot load a snapshot: stop it, replace its data directory, start it."):
        assert sentence in lines, sentence
