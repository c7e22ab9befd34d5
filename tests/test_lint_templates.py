"""Go templates: the port of text/template's parser agrees with promtool on every entry of the corpus
(tests/data/lint/templates, verdicts recorded from promtool 2.42), and the checks built on it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aetherops_plugins.lint.checks import builtin_checks
from aetherops_plugins.lint.engine import Options, run
from aetherops_plugins.lint.templates import (
    ALERTMANAGER_FUNCS,
    GO_BUILTINS,
    TemplateError,
    check_template,
    label_references,
    label_references_as_written,
    parse_template,
)

CORPUS = Path(__file__).resolve().parent / "data" / "lint" / "templates"


def _rows() -> list[dict]:
    lines = (CORPUS / "verdicts.tsv").read_text(encoding="utf-8").splitlines()
    head = lines[0].split("\t")
    return [dict(zip(head, line.split("\t"))) for line in lines[1:]]


ROWS = _rows()


def _text(row) -> str:
    return (CORPUS / row["file"]).read_bytes().decode("utf-8")


def _alert(row) -> str:
    return "T" + row["file"][:3]


def test_corpus_is_large_and_mixed():
    assert len(ROWS) >= 50
    verdicts = [r["verdict"] for r in ROWS]
    assert verdicts.count("ok") >= 20 and verdicts.count("error") >= 30
    assert sorted(p.name for p in CORPUS.glob("*.tmpl")) == sorted(r["file"] for r in ROWS)
    # every parity gap the issue names has an entry promtool refuses
    for slug in ("if-without-pipeline", "range-without-pipeline", "template-without-name", "unclosed-paren",
                 "declare-without-value", "break-outside-range", "continue-outside-range"):
        assert any(r["file"].endswith(f"-{slug}.tmpl") and r["verdict"] == "error" for r in ROWS), slug
    for slug in ("string-with-braces", "raw-string-with-braces"):
        assert any(r["file"].endswith(f"-{slug}.tmpl") and r["verdict"] == "ok" for r in ROWS), slug


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["file"])
def test_aetherops_agrees_with_promtool_on_the_corpus(row):
    """Same verdict, same message, same line as promtool (recorded in verdicts.tsv)."""
    ours = check_template(_text(row), _alert(row))
    assert ("error" if ours else "ok") == row["verdict"], (ours, row)
    if ours:
        assert "template: " + ours == row["promtool"]


def test_recorded_verdicts_are_promtools():
    """Re-run promtool on the whole corpus (one rule file): the recorded verdicts are still what it says."""
    from aetherops.testing.servers import require_binary

    promtool = str(require_binary("promtool"))  # a skip locally without it, a failure under CI=true
    import importlib.util

    spec = importlib.util.spec_from_file_location("record_templates", CORPUS / "record.py")
    record = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(record)
    now = record.promtool_verdicts(promtool, [_text(r) for r in ROWS])
    for i, row in enumerate(ROWS, 1):
        assert now.get(i, "").replace(f"__alert_T{i:03d}", _alert(row)) == row["promtool"].replace(f"__alert_T{i:03d}", _alert(row)), row


def test_the_lint_check_reports_promtools_message(tmp_path):
    text = ("groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 5m\n    annotations:\n"
            "      summary: '{{ if }}down{{ end }}'\n      description: '{{ \"}}\" }} is fine'\n")
    (tmp_path / "r.yml").write_text(text, encoding="utf-8")
    report = run(Options(paths=[str(tmp_path / "r.yml")]), builtin_checks())
    found = [f for f in report.findings if f.check == "syntax/template"]
    assert len(found) == 1 and found[0].line == 8
    assert found[0].message.endswith("missing value for if")


def test_error_lines_count_the_templates_own_lines():
    err = check_template("first line\n{{ $labels.job }}\n{{ humanise 1 }}", "A")
    assert err == '__alert_A:3: function "humanise" not defined'
    assert check_template("{{ $labels.job\n") == "line 2: unclosed action started at line 1"


def test_function_sets_are_the_callers():
    assert check_template('{{ join "," . }}') == 'function "join" not defined'
    tree = parse_template('{{ join "," .Alerts | toUpper }}{{ .CommonLabels.alertname | title }}', GO_BUILTINS | ALERTMANAGER_FUNCS)
    assert tree.root.children
    with pytest.raises(TemplateError, match='function "query" not defined'):
        parse_template('{{ query "up" }}', ALERTMANAGER_FUNCS)
    # no $labels outside Prometheus: it is an ordinary undefined variable
    with pytest.raises(TemplateError, match='undefined variable "\\$labels"'):
        parse_template("{{ $labels.job }}", ALERTMANAGER_FUNCS)


def test_label_references_skip_sub_query_results():
    text = ('{{ range query "up == 0" }}{{ .Labels.instance }} {{ $labels.pod }}{{ end }}'
            '{{ with query "x" }}{{ . | first | label "node" }}{{ .Labels.zone }}{{ end }}'
            ' {{ $labels.job }} {{ .Labels.env }} {{ index $labels "team" }} {{ with $labels.cluster }}{{ .Labels.no }}{{ end }}')
    assert label_references_as_written(text) == (
        ("job", "$labels.job"), ("env", ".Labels.env"), ("team", 'index $labels "team"'), ("cluster", "$labels.cluster"))
    # a template that does not parse: what it plainly says
    assert label_references("{{ $labels.job }") == ["job"]
    assert label_references("no labels here") == []


def test_deep_nesting_is_an_error_not_a_crash():
    deep = "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}"
    err = check_template(deep)
    assert err and "nested too deeply" in err
    assert check_template("{{ " + "(" * 20 + "1" + ")" * 20 + " }}") is None


def test_templates_are_parsed_not_matched():
    """What a regular expression gets wrong: braces inside strings, trim markers, comments, newlines in actions."""
    assert check_template('{{ "}}" }}') is None
    assert check_template("{{ `{{ }}` }}") is None
    assert check_template("{{- /* {{ */ -}}") is None
    assert check_template("{{ printf \"%s\"\n $labels.job }}") is None
    assert re.search("unexpected", check_template("{{ $labels.job }") or "")


AM_TEMPLATES = [
    '{{ define "slack.title" }}[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}{{ end }}',
    '{{ define "x" }}{{ join ", " .GroupLabels.Values }} {{ reReplaceAll ":.*" "" .CommonLabels.instance }}{{ end }}',
    '{{ define "x" }}{{ range .Alerts }}{{ .Labels.instance }}{{ if .Annotations.runbook_url }}{{ break }}{{ end }}{{ end }}{{ end }}',
    '{{ define "slack.default.title" }}override of a default template{{ end }}',
    '{{ define "x" }}{{ query "up" }}{{ end }}',  # a Prometheus function
    '{{ define "x" }}{{ .CommonLabels.alertname | humanize }}{{ end }}',
    '{{ define "x" }}{{ trimSpace .CommonAnnotations.summary }}{{ end }}',  # Alertmanager 0.26+
    '{{ define "x" }}{{ $labels.job }}{{ end }}',  # only rules have $labels
    '{{ define "x" }}{{ if }}{{ end }}{{ end }}',
    '{{ define "x" }}\n{{ range .Alerts }}\n{{ .Labels.job }\n{{ end }}{{ end }}',
]


@pytest.mark.parametrize("text", AM_TEMPLATES)
def test_alertmanager_template_files_agree_with_amtool(tmp_path, text):
    import subprocess

    from aetherops.testing.servers import require_binary

    amtool = str(require_binary("amtool"))
    (tmp_path / "notify.tmpl").write_text(text, encoding="utf-8")
    config = tmp_path / "alertmanager.yml"
    config.write_text("route:\n  receiver: team\nreceivers:\n  - name: team\ntemplates:\n  - '*.tmpl'\n", encoding="utf-8")
    out = subprocess.run([amtool, "check-config", str(config)], capture_output=True, text=True, cwd=tmp_path)
    m = re.search(r"FAILED: (template: .*)", out.stdout + out.stderr)
    found = [f for f in run(Options(paths=[str(config)]), builtin_checks()).findings if f.check == "alertmanager/template"]
    assert bool(found) == (out.returncode != 0), (out.stdout, out.stderr, [f.message for f in found])
    if found:
        assert m and found[0].message == m.group(1).strip()
