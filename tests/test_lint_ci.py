"""CI mode (`aetherops lint --changed-since REF`) on real git repositories: only the change's own findings, plus
rules elsewhere that use a recording rule the change removed or renamed; github and sarif formats."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

RECORDS = """\
groups:
  - name: records
    rules:
      - record: job:requests:rate5m
        expr: sum by (job) (rate(requests_total[5m]))
      - record: job:errors:rate5m
        expr: sum by (job) (rate(errors_total[5m]))
"""
# an alert with findings already on main (no `for`, no annotations): must stay silent in CI mode
OLD_ALERTS = """\
groups:
  - name: old
    rules:
      - alert: OldNoisy
        expr: up == 0
"""
USES_RECORD = """\
groups:
  - name: slo
    rules:
      - alert: ErrorRatio
        expr: job:errors:rate5m / job:requests:rate5m > 0.05
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: Error ratio above 5%
          description: '{{ $labels.job }} fails {{ $value | humanizePercentage }} of requests'
          runbook_url: https://runbooks.example.com/ErrorRatio
"""


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(repo), "GIT_CONFIG_NOSYSTEM": "1", "PATH": _path()}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def _path() -> str:
    import os

    return os.environ.get("PATH", "")


@pytest.fixture
def repo(tmp_path) -> Path:
    r = tmp_path / "repo"
    (r / "rules").mkdir(parents=True)
    git(r, "init", "-q", "-b", "main")
    (r / "rules" / "records.yml").write_text(RECORDS, encoding="utf-8")
    (r / "rules" / "old.yml").write_text(OLD_ALERTS, encoding="utf-8")
    (r / "rules" / "slo.yml").write_text(USES_RECORD, encoding="utf-8")
    git(r, "add", "-A")
    git(r, "commit", "-q", "-m", "base")
    git(r, "checkout", "-q", "-b", "feature")
    return r


def lint(cli, repo: Path, *extra: str):
    return cli("lint", str(repo / "rules"), "--severity-threshold", "info", *extra)


def test_only_the_changed_rule_is_reported(repo, aetherops_cli):
    text = OLD_ALERTS + "      - alert: NewAlert\n        expr: rate(x_total[5m]) > 1\n"
    (repo / "rules" / "old.yml").write_text(text, encoding="utf-8")
    git(repo, "commit", "-qam", "add an alert")
    full = lint(aetherops_cli, repo, "-o", "json").json()
    assert {f["name"] for f in full["findings"]} >= {"OldNoisy", "NewAlert"}
    result = lint(aetherops_cli, repo, "-o", "json", "--changed-since", "main")
    assert result.exit_code == 1, result
    names = {f["name"] for f in result.json()["findings"]}
    assert names == {"NewAlert"}, result.json()["findings"]
    assert "1 rule(s) changed" in result.stderr


def test_uncommitted_and_untracked_changes_count(repo, aetherops_cli):
    (repo / "rules" / "new.yml").write_text("groups:\n- name: n\n  rules:\n  - alert: Untracked\n    expr: up == 0\n",
                                           encoding="utf-8")
    findings = lint(aetherops_cli, repo, "-o", "json", "--changed-since", "HEAD").json()["findings"]
    assert {f["name"] for f in findings} == {"Untracked"}


def test_no_change_no_findings(repo, aetherops_cli):
    result = lint(aetherops_cli, repo, "-o", "json", "--changed-since", "main")
    assert result.exit_code == 0 and result.json()["findings"] == [], result


def test_a_removed_recording_rule_reports_the_rules_that_use_it(repo, aetherops_cli):
    """Renaming job:errors:rate5m breaks slo.yml, which the change did not touch: CI mode shows it."""
    (repo / "rules" / "records.yml").write_text(RECORDS.replace("job:errors:rate5m", "job:failures:rate5m"), encoding="utf-8")
    git(repo, "commit", "-qam", "rename a recording rule")
    result = lint(aetherops_cli, repo, "-o", "json", "--changed-since", "main")
    findings = result.json()["findings"]
    assert result.exit_code == 1
    slo = [f for f in findings if f["file"].endswith("slo.yml")]
    assert slo and all(f["name"] == "ErrorRatio" for f in slo)
    assert any("job:errors:rate5m" in f["message"] for f in slo), slo
    assert not [f for f in findings if f["name"] == "OldNoisy"]
    assert "use removed recording rule(s) job:errors:rate5m" in result.stderr


def test_a_dashboard_using_a_removed_recording_rule_is_reported(repo, aetherops_cli):
    dash = {"title": "Errors", "uid": "errors", "panels": [{"title": "ratio", "targets": [{"expr": "job:errors:rate5m"}]}]}
    (repo / "rules" / "errors.json").write_text(json.dumps(dash), encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a dashboard")
    git(repo, "branch", "-f", "base")
    (repo / "rules" / "records.yml").write_text(RECORDS.replace("job:errors:rate5m", "job:failures:rate5m"), encoding="utf-8")
    findings = lint(aetherops_cli, repo, "-o", "json", "--changed-since", "base").json()["findings"]
    assert any(f["file"].endswith("errors.json") and "job:errors:rate5m" in f["message"] for f in findings), findings


def test_github_and_sarif_formats(repo, aetherops_cli):
    text = OLD_ALERTS + "      - alert: NewAlert\n        expr: rate(x_total[5m]) > 1\n"
    (repo / "rules" / "old.yml").write_text(text, encoding="utf-8")
    gh = lint(aetherops_cli, repo, "--format", "github", "--changed-since", "main")
    lines = [line for line in gh.stdout.splitlines() if line.startswith("::")]
    assert lines and all("NewAlert" in line for line in lines), gh.stdout
    assert all("line=6" in line or "line=7" in line for line in lines), lines
    sarif = json.loads(lint(aetherops_cli, repo, "--format", "sarif", "--changed-since", "main").stdout)
    results = sarif["runs"][0]["results"]
    assert results and {r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results} <= {6, 7}


def test_bad_ref_and_no_repository_are_usage_errors(repo, tmp_path, aetherops_cli):
    result = lint(aetherops_cli, repo, "--changed-since", "no-such-branch")
    assert result.exit_code == 2 and "no-such-branch" in result.stderr and "Traceback" not in result.stderr
    outside = tmp_path / "plain"
    outside.mkdir()
    (outside / "r.yml").write_text(OLD_ALERTS, encoding="utf-8")
    result = aetherops_cli("lint", str(outside), "--changed-since", "main")
    assert result.exit_code == 2 and "not inside a git work tree" in result.stderr


def test_a_ref_is_never_a_git_option(repo, aetherops_cli):
    target = repo / "written-by-git.txt"
    result = lint(aetherops_cli, repo, "--changed-since", f"--output={target}")
    assert result.exit_code == 2 and "not a git ref" in result.stderr and not target.exists()


def test_changed_lines_are_mapped_to_whole_rules(repo):
    """The unit: a one-line change in a rule's annotations makes the whole rule (its expr line too) changed."""
    from aetherops_plugins.lint.ci import changes_since

    (repo / "rules" / "slo.yml").write_text(USES_RECORD.replace("Error ratio above 5%", "Error ratio above 5 percent"),
                                            encoding="utf-8")
    change = changes_since("main", repo / "rules")
    path = (repo / "rules" / "slo.yml").resolve()
    assert change.lines[path] == {10}
    assert change.touches(path, 4, 12) and not change.touches(path, 1, 3)
    assert change.old_records == {}
