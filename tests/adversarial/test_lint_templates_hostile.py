"""Hostile Go templates in alert annotations: the template parser (a port of Go's) never crashes, never hangs,
and `aetherops lint` reports each as one finding with a documented exit code."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from aetherops_plugins.lint.templates import TemplateError, check_template, label_references, parse_template

from ._invariant import assert_invariant

#: the pieces templates are made of, so generated text reaches deep into the parser
PIECES = st.sampled_from(["{{", "}}", "{{-", "-}}", " ", "\n", "$labels", ".Labels", ".job", "$x", ":=", "=", "|", "(", ")",
                          '"', "`", "'", "if", "else", "end", "range", "with", "define", "template", "block", "break",
                          "continue", "query", "humanize", "nil", "true", "1", "0x", "e9", "i", "/*", "*/", ",", "@", "\\"])


@given(st.lists(PIECES, max_size=60).map("".join) | st.text(max_size=200))
def test_the_parser_answers_every_text(text):
    """A result or a TemplateError with a line: never another exception."""
    try:
        parse_template(text)
    except TemplateError as e:
        assert e.line >= 1 and e.message
    err = check_template(text)
    assert err is None or isinstance(err, str)
    assert isinstance(label_references(text), list)


@given(st.lists(PIECES, min_size=1, max_size=40).map("".join))
def test_lint_reports_hostile_templates_in_one_line(tmp_path_factory, aetherops_cli, text):
    d = tmp_path_factory.mktemp("tmpl")
    rule = {"alert": "A", "expr": "up == 0", "for": "5m", "annotations": {"summary": text}}
    (d / "r.yml").write_text(json.dumps({"groups": [{"name": "g", "rules": [rule]}]}), encoding="utf-8")
    result = aetherops_cli("lint", str(d / "r.yml"))
    assert_invariant(result)


def test_deeply_nested_blocks_are_refused_quickly():
    text = "{{ if true }}" * 5000 + "{{ end }}" * 5000
    err = check_template(text)
    assert err and "nested too deeply" in err
