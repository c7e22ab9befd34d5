"""Masking a profile's secrets in what a backup copies never corrupts it: only whole values in known
secret fields (and strong secrets, whole values, elsewhere), never substrings of other values, never
short or common values, never index.json or MANIFEST.json; a masked file still parses."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from aetherops_plugins.backup.masking import is_strong, mask_data, mask_text

from .test_backup_kit import make_configs_backup

STRONG = "Str0ng-Scrape-Pa55"

MASK_CASES = [
    # (label, text, secrets, expected text)
    ("password field, whole value", "basic_auth:\n  password: hunter22\n", ["hunter22"], 'basic_auth:\n  password: "***"\n'),
    ("weak secret equal to a job name is left alone", "- job_name: prometheus\n", ["prometheus"], "- job_name: prometheus\n"),
    ("weak secret equal to a duration is left alone", "scrape_interval: 15s\n", ["15s"], "scrape_interval: 15s\n"),
    ("weak secret inside another value is left alone", "url: http://prometheus:9090\n", ["prometheus"],
     "url: http://prometheus:9090\n"),
    ("weak secret in a secret field is masked", "authorization:\n  credentials: prometheus\n", ["prometheus"],
     'authorization:\n  credentials: "***"\n'),
    ("bearer_token", "bearer_token: abc123\njob_name: abc123x\n", ["abc123"], 'bearer_token: "***"\njob_name: abc123x\n'),
    ("receiver url", "receivers:\n- name: r\n  webhook_configs:\n  - url: https://h/T0/abc999\n", ["abc999"],
     'receivers:\n- name: r\n  webhook_configs:\n  - url: "***"\n'),
    ("url outside receivers keeps a weak secret", "remote_write:\n- url: https://h/abc999\n", ["abc999"],
     "remote_write:\n- url: https://h/abc999\n"),
    ("strong secret anywhere: the whole value", f"remote_write:\n- url: https://h/?k={STRONG}\n", [STRONG],
     'remote_write:\n- url: "***"\n'),
    ("strong secret in a comment", f"a: 1  # {STRONG}\n", [STRONG], "a: 1  # ***\n"),
    ("block scalar", f"password: |\n  {STRONG}\nnext: 1\n", [STRONG], 'password: "***"\nnext: 1\n'),
    ("anchor kept", f"password: &p {STRONG}\nother_password: *p\n", [STRONG], 'password: &p "***"\nother_password: *p\n'),
    ("json", f'{{"api_key": "{STRONG}", "name": "prometheus"}}', [STRONG, "prometheus"],
     '{"api_key": "***", "name": "prometheus"}'),
    ("not yaml: strong secret replaced, weak left", f"token={STRONG} :: [ prometheus", [STRONG, "prometheus"],
     "token=*** :: [ prometheus"),
    ("*_password key", "smtp_auth_password: s3cret!\n", ["s3cret!"], 'smtp_auth_password: "***"\n'),
    ("list under a secret key", "credentials:\n- aaa111\n- bbb\n", ["aaa111"], 'credentials:\n- "***"\n- bbb\n'),
]


@pytest.mark.parametrize("label, text, secrets, expected", MASK_CASES, ids=[c[0] for c in MASK_CASES])
def test_mask_text(label, text, secrets, expected):
    masked, _count, _notes = mask_text(text, secrets)
    assert masked == expected
    if not label.startswith("not yaml"):
        yaml.safe_load(masked)  # still parses
    assert STRONG not in masked


@pytest.mark.parametrize("secret, strong", [("prometheus", False), ("15s", False), ("1h30m", False), ("12345678", False),
                                            ("alertmanager", False), ("hunter22", True), (STRONG, True),
                                            ("correcthorsebatterystaple", True), ("Ab1", False)])
def test_is_strong(secret, strong):
    assert is_strong(secret) is strong


def test_mask_data_whole_values_only():
    data = {"datasource": {"type": "prometheus", "uid": "prometheus"}, "secureJsonData": {"password": "prometheus"},
            "url": f"https://x/?token={STRONG}", "title": "prometheus 15s"}
    masked, count = mask_data(data, ["prometheus", "15s", STRONG])
    assert masked == {"datasource": {"type": "prometheus", "uid": "prometheus"}, "secureJsonData": {"password": "***"},
                      "url": "***", "title": "prometheus 15s"}
    assert count == 2


CONFIG = f"""# scraped every 15s
global:
  scrape_interval: 15s
scrape_configs:
- job_name: prometheus
  basic_auth:
    username: ops
    password: {STRONG}
  static_configs:
  - targets: [localhost:9090]
- job_name: node
  authorization:
    credentials: prometheus
  static_configs:
  - targets: [localhost:9100]
"""


def test_secret_equal_to_a_job_name_or_a_duration_leaves_the_config_valid_and_restorable(
        aetherops_cli, profile_factory, tmp_path, monkeypatch):
    from aetherops import redact

    monkeypatch.setattr(redact, "_SECRETS", set())
    monkeypatch.setenv("GTOKEN", "prometheus")  # the grafana token is a job name
    monkeypatch.setenv("AM_PASSWORD", "15s")  # the alertmanager password is a duration
    monkeypatch.setenv("SCRAPE_PASSWORD", STRONG)
    monkeypatch.chdir(tmp_path)
    folder = make_configs_backup(
        aetherops_cli, profile_factory, tmp_path, files={"prometheus.yml": CONFIG},
        extra_sections={"grafana": {"url": "http://127.0.0.1:9", "auth": {"token_env": "GTOKEN"}},
                        "alertmanager": {"url": "http://127.0.0.1:9", "auth": {"username": "u", "password_env": "AM_PASSWORD"}},
                        "prometheus": {"url": "http://127.0.0.1:9", "auth": {"username": "ops", "password_env": "SCRAPE_PASSWORD"}}})
    copy = (folder / "configs/files/mon/prometheus.yml").read_text(encoding="utf-8")
    expected = CONFIG.replace(STRONG, '"***"').replace("credentials: prometheus", 'credentials: "***"')
    assert copy == expected  # job names, durations and the comment untouched; secret fields masked whole
    parsed = yaml.safe_load(copy)
    assert [j["job_name"] for j in parsed["scrape_configs"]] == ["prometheus", "node"]
    assert parsed["global"]["scrape_interval"] == "15s"
    if shutil.which("promtool"):
        checked = subprocess.run(["promtool", "check", "config", "--syntax-only", str(folder / "configs/files/mon/prometheus.yml")],
                                 capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    # index.json and MANIFEST.json are never masked: the paths (".../prometheus.yml") stay exact
    index = json.loads((folder / "configs/index.json").read_text(encoding="utf-8"))
    assert index["files"][0]["original"] == str((tmp_path / "mon/prometheus.yml").resolve())
    assert "configs/files/mon/prometheus.yml" in json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))["files"]
    assert aetherops_cli("backup", "verify", str(folder)).exit_code == 0
    done = aetherops_cli("-p", "adv", "restore", str(folder), "--only", "configs", "--configs-to", str(tmp_path / "out"))
    assert done.exit_code == 0, done
    assert (tmp_path / "out/mon/prometheus.yml").read_text(encoding="utf-8") == expected


def test_weak_secret_left_in_a_copy_is_a_warning(aetherops_cli, profile_factory, tmp_path, monkeypatch):
    from aetherops import redact

    monkeypatch.setattr(redact, "_SECRETS", set())
    monkeypatch.setenv("GTOKEN", "prometheus")
    monkeypatch.chdir(tmp_path)
    profile_factory("weak", grafana={"url": "http://127.0.0.1:9", "auth": {"token_env": "GTOKEN"}}, backup={"configs": ["mon/*.yml"]})
    (tmp_path / "mon").mkdir()
    (tmp_path / "mon/p.yml").write_text("- job_name: prometheus\n", encoding="utf-8")
    out = aetherops_cli("-p", "weak", "backup", "--dir", str(tmp_path / "b"), "--only", "configs")
    assert out.exit_code == 0, out
    assert "short or common value" in out.stderr and "not masked" in out.stderr


def test_write_json_masks_whole_values_and_a_strong_secret_even_in_a_key(tmp_path, monkeypatch):
    from aetherops import redact
    from aetherops_plugins.backup.api import BackupJob

    monkeypatch.setattr(redact, "_SECRETS", {STRONG, "prometheus"})
    job = BackupJob("x", tmp_path / "x", context=None, profile=None)
    job.write_json("d.json", {"type": "prometheus", "password": "prometheus", STRONG: 1, "url": f"https://h/?t={STRONG}"})
    data = json.loads((tmp_path / "x/d.json").read_text(encoding="utf-8"))
    assert data == {"type": "prometheus", "password": "***", "***": 1, "url": "***"}
    job.write_json("index.json", {"original": "/etc/prometheus/prometheus.yml"}, mask=False)  # exact paths
    assert json.loads((tmp_path / "x/index.json").read_text(encoding="utf-8"))["original"] == "/etc/prometheus/prometheus.yml"
