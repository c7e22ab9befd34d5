"""Write the template corpus and record what promtool says of each entry (run by hand; needs promtool on PATH).

    python tests/data/lint/templates/record.py

Each entry is ``NNN-slug.tmpl`` (the template, byte for byte) and a row of ``verdicts.tsv``:
file, verdict (ok or error) and promtool's message (``template: __alert_T<NNN>:<line>: ...``), tab-separated, unquoted.
The templates go into one rule file, each as the ``summary`` annotation of alert ``T<NNN>``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: (slug, template): valid and invalid, realistic and adversarial
ENTRIES = [
    # valid, as found in real alert rules
    ("instance-down", "{{ $labels.instance }} of job {{ $labels.job }} has been down for more than 5 minutes."),
    ("value-humanize", "Disk usage is {{ $value | humanize }}% on {{ $labels.device }}"),
    ("humanize-percentage", "{{ printf \"%.2f\" $value }} ({{ $value | humanizePercentage }}) of requests fail"),
    ("query-first-value", '{{ with query "up" }}{{ . | first | value | humanize }}{{ end }}'),
    ("range-query-labels", '{{ range query "up == 0" }}{{ .Labels.instance }} {{ end }}'),
    ("range-query-sort", '{{ range query "up" | sortByLabel "instance" }}{{ .Labels.instance }}={{ .Value }} {{ end }}'),
    ("if-else-if", "{{ if gt $value 0.9 }}critical{{ else if gt $value 0.5 }}warning{{ else }}ok{{ end }}"),
    ("trim-markers", "{{- $labels.job -}} / {{- $labels.instance -}}"),
    ("comment", "{{/* why: the SLO is 99.9% */}}Error budget burning on {{ $labels.service }}"),
    ("trimmed-comment", "a {{- /* gone */ -}} b"),
    ("multiline-action", "{{ printf \"%s/%s\"\n   $labels.namespace\n   $labels.pod }}"),
    ("index-labels", '{{ index $labels "job" }} {{ index $externalLabels "cluster" }}'),
    ("external-url", "{{ $externalURL }}/alerts?search={{ $labels.alertname }}"),
    ("declare-and-reuse", "{{ $j := $labels.job }}{{ if $j }}{{ $j | toUpper }}{{ end }}"),
    ("assign", "{{ $x := 1 }}{{ $x = 2 }}{{ $x }}"),
    ("range-break-continue", "{{ range $i, $e := args 1 2 3 }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ $e }}{{ break }}{{ end }}"),
    ("string-with-braces", '{{ "}}" }} and {{ "{{" }}'),
    ("raw-string-with-braces", "{{ `}} is a closing brace` }}"),
    ("reReplaceAll", '{{ reReplaceAll ":[0-9]+$" "" $labels.instance }}'),
    ("humanizeDuration", "{{ $value | humanizeDuration }} since last success"),
    ("template-define-use", '{{ define "x" }}X{{ end }}{{ template "x" . }}'),
    ("block", '{{ block "b" . }}default{{ end }}'),
    ("numbers", "{{ printf \"%v %v %v %v %v\" 1 -2.5 0x1F 1e3 'a' }}"),
    ("complex-number", "{{ 1+2i }}"),
    ("underscore-number", "{{ 1_000_000 }}"),
    ("nil-and-bool", "{{ if and true (not false) }}{{ nil }}{{ end }}"),
    ("chain-on-parens", '{{ (query "up" | first).Labels.job }}'),
    ("no-action", "Plain text with a lone }} and no action"),
    ("unicode-text", "Ünïcödé {{ $labels.job }} ✓"),
    ("graphlink", "{{ graphLink \"up\" }} {{ tableLink \"up\" }}"),
    # invalid: the parity gaps named in issue 13
    ("if-without-pipeline", "{{ if }}x{{ end }}"),
    ("range-without-pipeline", "{{ range }}x{{ end }}"),
    ("with-without-pipeline", "{{ with }}x{{ end }}"),
    ("template-without-name", "{{ template }}"),
    ("template-name-not-string", "{{ template x }}"),
    ("unclosed-paren", "{{ printf \"%s\" (index $labels \"job\" }}"),
    ("extra-right-paren", "{{ $labels.job) }}"),
    ("declare-without-value", "{{ $x := }}"),
    ("break-outside-range", "{{ if true }}{{ break }}{{ end }}"),
    ("continue-outside-range", "{{ continue }}"),
    ("break-in-range-else", "{{ range $labels }}{{ else }}{{ break }}{{ end }}"),
    ("break-with-argument", "{{ range $labels }}{{ break 1 }}{{ end }}"),
    # invalid: variables, functions, structure
    ("undefined-variable", "{{ $label.instance }} is down"),
    ("variable-out-of-scope", "{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}"),
    ("labels-inside-define", '{{ define "x" }}{{ $labels.job }}{{ end }}'),
    ("unknown-function", "{{ $value | humanise }}"),
    ("newer-prometheus-function", "{{ $value | toDuration }}"),
    ("alertmanager-function", '{{ join "," (args 1 2) }}'),
    ("unclosed-action", "{{ $labels.job }"),
    ("unclosed-action-multiline", "{{ $labels.job\n"),
    ("unclosed-if", "{{ if $labels.job }}x"),
    ("stray-end", "x {{ end }}"),
    ("stray-else", "{{ else }}"),
    ("else-with", "{{ with $labels.job }}a{{ else with $labels.x }}b{{ end }}"),
    ("else-if-in-range", "{{ range $labels }}{{ else if true }}{{ end }}"),
    ("two-else", "{{ if true }}a{{ else }}b{{ else }}c{{ end }}"),
    ("too-many-range-decls", "{{ range $a, $b, $c := $labels }}{{ end }}"),
    ("too-many-with-decls", "{{ with $a, $b := $labels }}{{ end }}"),
    ("non-executable-stage", '{{ $value | "text" }}'),
    ("empty-action", "{{ }}"),
    ("pipe-only", "{{ | }}"),
    ("comma", "{{ , }}"),
    ("bad-character", "{{ $labels.job-name }}"),
    ("unrecognized-character", "{{ @ }}"),
    ("expected-colon-equals", "{{ $x : 1 }}"),
    ("unterminated-string", '{{ "abc }}'),
    ("unterminated-raw-string", "{{ `abc }}"),
    ("invalid-escape", '{{ "\\z" }}'),
    ("malformed-char", "{{ 'ab' }}"),
    ("integer-overflow", "{{ 99999999999999999999 }}"),
    ("octal-with-9", "{{ 089 }}"),
    ("bad-number", "{{ 1x }}"),
    ("dot-after-literal", '{{ "a".b }}'),
    ("unclosed-comment", "{{/* not closed"),
    ("comment-before-delim", "{{/* c */ x }}"),
    ("define-inside-if", '{{ if true }}{{ define "x" }}{{ end }}{{ end }}'),
    ("define-twice", '{{ define "a" }}x{{ end }}{{ define "a" }}y{{ end }}'),
    ("define-without-end", '{{ define "a" }}x'),
    ("empty-parens", "{{ ( ) }}"),
    ("range-bad-decl", "{{ range $i, 1 := $labels }}{{ end }}"),
]


def render(entries) -> str:
    rules = [{"alert": f"T{i:03d}", "expr": "up == 0", "annotations": {"summary": text}} for i, (_, text) in enumerate(entries, 1)]
    return json.dumps({"groups": [{"name": "templates", "rules": rules}]}, ensure_ascii=False, indent=1)


def promtool_verdicts(promtool: str, texts: list[str]) -> dict[int, str]:
    """{entry number: promtool's message} for every entry promtool refuses (one promtool run for all)."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "templates.yml"
        path.write_text(render([("", t) for t in texts]), encoding="utf-8")
        out = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    found = {}
    for m in re.finditer(r'rule (\d+), "T\d+": annotation "summary": (template: .*)', out.stdout + out.stderr):
        found[int(m.group(1))] = m.group(2).strip()
    if out.returncode not in (0, 1) or (out.returncode == 1) != bool(found):
        raise RuntimeError(f"unexpected promtool output: {out.stdout}{out.stderr}")
    return found


def main() -> int:
    promtool = shutil.which("promtool")
    if not promtool:
        print("promtool is not on PATH", file=sys.stderr)
        return 2
    for old in HERE.glob("*.tmpl"):
        old.unlink()
    verdicts = promtool_verdicts(promtool, [t for _, t in ENTRIES])
    rows = ["file\tverdict\tpromtool"]
    for i, (slug, text) in enumerate(ENTRIES, 1):
        name = f"{i:03d}-{slug}.tmpl"
        (HERE / name).write_bytes(text.encode("utf-8"))
        msg = verdicts.get(i, "")
        rows.append(f"{name}\t{'error' if msg else 'ok'}\t{msg}")
    (HERE / "verdicts.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8", newline="\n")
    print(f"{len(ENTRIES)} templates, {len(verdicts)} refused by {subprocess.run([promtool, '--version'], capture_output=True, text=True).stdout.splitlines()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
