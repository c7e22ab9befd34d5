"""Hostile YAML and JSON: alias bombs, recursive aliases, deep nesting, binary files (issue 14, "Hostile input").

Every case must end in one clear line naming the file (and line), never a hang, a RecursionError or a traceback.
Cases that hung or exhausted memory before the fix run the CLI in a subprocess with a generous timeout, so a
regression fails the test instead of taking the machine down."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from aetherops import yamlsafe

from ._invariant import assert_invariant


def bomb(levels: int = 10, width: int = 9, key: str = "groups") -> str:
    """A 'billion laughs': width**levels values from a few hundred bytes."""
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    lines.append(f"{key}: *a{levels - 1}")
    return "\n".join(lines) + "\n"


def deep_block(depth: int) -> str:
    return "".join(" " * i + "a:\n" for i in range(depth)) + " " * depth + "b: 1\n"


HOSTILE_YAML = {
    "billion_laughs": bomb(),
    "wide_bomb": bomb(levels=4, width=200),
    "recursive_alias": "groups: &a [*a]\n",
    "recursive_mapping_alias": "x: &m {k: *m}\ngroups: []\n",
    "deep_block": deep_block(400),
    "deep_flow": "groups: " + "[" * 900 + "]" * 900 + "\n",
    "bad_date": "groups:\n  - name: 2001-13-45\n    rules: []\n",
    "alias_into_deep": "a: &a " + "[" * 150 + "]" * 150 + "\ngroups: " + "[" * 100 + "*a" + "]" * 100 + "\n",
}


# ------------------------------------------------------------------ the loader itself
@pytest.mark.parametrize("name", sorted(HOSTILE_YAML))
def test_safe_loader_refuses_hostile_yaml_with_a_line(name):
    with pytest.raises(yamlsafe.InputError) as info:
        yamlsafe.load(HOSTILE_YAML[name])
    assert info.value.line and info.value.line >= 1
    assert any(word in info.value.message for word in ("billion laughs", "nested deeper", "bad value")), info.value


def test_safe_loader_keeps_ordinary_aliases_and_merge_keys():
    text = "base: &base {team: a, severity: warning}\nrules:\n" + "".join(
        f"  - {{<<: *base, alert: A{i}}}\n" for i in range(2000))
    data = yamlsafe.load(text)
    assert len(data["rules"]) == 2000 and data["rules"][1999] == {"team": "a", "severity": "warning", "alert": "A1999"}


def test_depth_limit_is_exact():
    ok = "x: " + "[" * yamlsafe.MAX_DEPTH + "]" * yamlsafe.MAX_DEPTH + "\n"  # the mapping is level 1
    assert yamlsafe.load(ok.replace("x: ", "", 1)) == eval("[" * (yamlsafe.MAX_DEPTH - 1) + "[]" + "]" * (yamlsafe.MAX_DEPTH - 1))
    with pytest.raises(yamlsafe.InputError, match=f"deeper than {yamlsafe.MAX_DEPTH}"):
        yamlsafe.load(ok)


@pytest.mark.parametrize("depth", [yamlsafe.MAX_DEPTH + 1, 5_000, 200_000])
def test_deep_json_is_an_input_error_not_a_recursion_error(depth):
    with pytest.raises(yamlsafe.InputError, match="nested deeper"):
        yamlsafe.load_json("[" * depth + "]" * depth)


def test_json_within_the_limit_loads():
    assert yamlsafe.load_json('{"a": ' + "[" * 50 + "1" + "]" * 50 + "}")["a"]


# ------------------------------------------------------------------ lint
def _run(args, cwd, timeout=120):
    proc = subprocess.run([sys.executable, "-m", "aetherops", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, encoding="utf-8", errors="replace")
    return proc


@pytest.mark.parametrize("name", sorted(HOSTILE_YAML))
def test_lint_reports_hostile_yaml_as_a_syntax_error_of_that_file(tmp_path, name):
    (tmp_path / "hostile.yml").write_text(HOSTILE_YAML[name], encoding="utf-8")
    (tmp_path / "good.yml").write_text("groups:\n  - name: g\n    rules:\n      - record: a:b:c\n        expr: sum(up)\n",
                                       encoding="utf-8")
    proc = _run(["lint", "hostile.yml", "good.yml", "--format", "json"], tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    (bad,) = [f for f in findings if f["file"] == "hostile.yml"]
    assert bad["check"] == "syntax/file" and bad["line"] >= 1, bad
    assert json.loads(proc.stdout)["summary"]["rules"] == 1  # the good file was linted too


def test_lint_reports_deep_json_dashboard(tmp_path):
    (tmp_path / "dash.json").write_text('{"panels": ' + "[" * 50_000 + "]" * 50_000 + "}", encoding="utf-8")
    proc = _run(["lint", "dash.json", "--format", "json"], tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    (f,) = json.loads(proc.stdout)["findings"]
    assert f["check"] == "syntax/file" and "nested deeper" in f["message"]


def test_lint_baseline_nested_too_deep_is_a_config_error(tmp_path, aetherops_cli):
    (tmp_path / "r.yml").write_text("groups: []\n", encoding="utf-8")
    (tmp_path / "b.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    result = aetherops_cli("lint", str(tmp_path / "r.yml"), "--baseline", str(tmp_path / "b.json"))
    assert result.exit_code == 4 and "b.json" in result.stderr and "nested deeper" in result.stderr, result
    assert_invariant(result)


# ------------------------------------------------------------------ profiles
HOSTILE_PROFILES = {
    "bomb": ("prometheus:\n  url: http://127.0.0.1:9090\n" + bomb(key="extra_section")).encode(),
    "cycle": b"prometheus: &p {url: 'http://127.0.0.1:9090', headers: *p}\n",
    "deep": ("prometheus:\n  url: http://127.0.0.1:9090\nx:\n" + deep_block(300).replace("\n", "\n  ")).encode(),
    "binary": b"\x00\x01\x02\xff\xfe\x00" * 64,
    "latin1": "prometheus:\n  url: http://h\u00e9:9090\n".encode("latin-1"),
    "bad_date": b"prometheus:\n  url: http://127.0.0.1:9090\ndescription: 2001-13-45\n",
}


def _profiles_dir(tmp_path, names):
    d = tmp_path / "profiles"
    d.mkdir()
    (d / "good.yaml").write_text("prometheus:\n  url: http://127.0.0.1:9090\n", encoding="utf-8")
    for name in names:
        (d / f"{name}.yaml").write_bytes(HOSTILE_PROFILES[name])
    return d


def test_profiles_list_names_every_bad_file_and_goes_on(tmp_path):
    d = _profiles_dir(tmp_path, HOSTILE_PROFILES)
    proc = _run(["--profiles-dir", str(d), "--output", "json", "profiles", "list"], tmp_path)
    assert proc.returncode == 4, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)}
    assert rows["good"]["status"] == "ok"
    for name in HOSTILE_PROFILES:
        assert rows[name]["status"] == "error" and f"{name}.yaml" in rows[name]["error"], rows[name]
    assert "billion laughs" in rows["bomb"]["error"] and ".yaml:" in rows["bomb"]["error"]  # file:line
    assert "binary" in rows["binary"]["error"] and "UTF-8" in rows["latin1"]["error"]


@pytest.mark.parametrize("name", sorted(HOSTILE_PROFILES))
def test_profiles_show_of_a_hostile_profile_is_one_line_exit_4(tmp_path, name):
    d = _profiles_dir(tmp_path, [name])
    proc = _run(["--profiles-dir", str(d), "profiles", "show", name], tmp_path)
    assert proc.returncode == 4, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("aetherops: error: ") and f"{name}.yaml" in line, line


def test_a_hostile_profile_elsewhere_does_not_stop_another_profile(tmp_path):
    d = _profiles_dir(tmp_path, HOSTILE_PROFILES)
    proc = _run(["--profiles-dir", str(d), "-p", "good", "profiles", "show"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "127.0.0.1:9090" in proc.stdout
