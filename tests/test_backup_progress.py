"""Issue 15: a Prometheus snapshot copied into a backup without hard links (another filesystem) shows its
progress (ctx.output.progress, in MiB); a hard-linked one needs none."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from aetherops_plugins.backup.api import MIB, BackupJob


def _snapshot(root: Path) -> Path:
    snap = root / "data" / "snapshots" / "20261201T000000Z-abc"
    for block in ("01A", "01B"):
        (snap / block / "chunks").mkdir(parents=True)
        (snap / block / "chunks" / "000001").write_bytes(b"\x01" * (MIB + 123))
        (snap / block / "index").write_bytes(b"\x02" * 4096)
        (snap / block / "meta.json").write_text('{"ulid": "%s"}' % block, encoding="utf-8")
    return snap


def _job(tmp_path: Path, calls: list) -> BackupJob:
    @contextmanager
    def progress(total, description):
        advanced: list[float] = []
        calls.append({"total": total, "description": description, "advanced": advanced})
        yield lambda n=1: advanced.append(n)

    return BackupJob("prometheus", tmp_path / "backup" / "prometheus", context=None, profile=None, progress=progress)


def test_a_copied_snapshot_shows_progress_in_mib(tmp_path, monkeypatch):
    snap = _snapshot(tmp_path)

    def no_link(src, dst, *args, **kwargs):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_link)
    calls: list = []
    job = _job(tmp_path, calls)
    assert job.copy_tree(snap, "snapshot/s", link=True) == 6
    [bar] = calls
    assert "no hard link" in bar["description"] and bar["total"] >= 2
    copied = sum(p.stat().st_size for p in snap.rglob("*") if p.is_file())
    first = copied - sum(bar["advanced"]) * MIB  # the first file is copied before the bar starts (to see if it links)
    assert round(first) in {p.stat().st_size for p in snap.rglob("*") if p.is_file()}
    assert len(job.files) == 6 and all(not os.path.samefile(snap / "01A/index", p)
                                       for p in [tmp_path / "backup/prometheus/snapshot/s/01A/index"])


def test_a_hard_linked_snapshot_shows_none(tmp_path):
    snap = _snapshot(tmp_path)
    calls: list = []
    job = _job(tmp_path, calls)
    assert job.copy_tree(snap, "snapshot/s", link=True) == 6
    assert calls == []
    assert os.path.samefile(snap / "01B/chunks/000001", tmp_path / "backup/prometheus/snapshot/s/01B/chunks/000001")
