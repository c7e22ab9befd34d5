"""Output formats of ``aetherops lint``: text, json, github (workflow commands) and sarif (2.1.0)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from aetherops_plugins.lint.engine import Report

JSON_VERSION = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}
_COLOUR = {"error": "red", "warning": "yellow", "info": "cyan"}


def summary(report: Report) -> dict[str, Any]:
    c = report.counts()
    return {"files": len(report.files), "rules": report.rules, "errors": c["error"], "warnings": c["warning"], "info": c["info"],
            "suppressed": report.suppressed, "baselined": report.baselined, "seconds": round(report.seconds, 3)}


def to_json(report: Report) -> dict[str, Any]:
    """The ``--format json`` document (stable; documented in docs/lint.md)."""
    return {"version": JSON_VERSION, "summary": summary(report), "findings": [f.to_dict() for f in report.findings],
            "unrecognised": report.unknown, "not_linted": [{"file": f, "reason": r} for f, r in report.skipped],
            "notes": report.notes, "checks": report.checks_run}


def text_lines(report: Report, colour: bool = False) -> list[tuple[str, str | None]]:
    """(line, colour) pairs of the human output, grouped by file."""
    out: list[tuple[str, str | None]] = []
    current = None
    for f in report.findings:
        if f.file != current:
            if current is not None:
                out.append(("", None))
            out.append((f.file, None))
            current = f.file
        where = f"{f.line or '-'}:{f.column}" if f.column else f"{f.line or '-'}"
        name = f" [{f.name}]" if f.name else ""
        message = f.message if "occurrences" not in f.extra else f.display_message()
        out.append((f"  {where:<8} {f.severity:<8} {f.check:<34} {message}{name}", _COLOUR.get(f.severity)))
        if f.hint:
            out.append((f"  {'':<8} {'':<8} {'':<34} hint: {f.hint}", None))
    s = summary(report)
    tail = f"{s['errors']} error(s), {s['warnings']} warning(s), {s['info']} info in {s['files']} file(s), {s['rules']} rule(s)"
    extra = []
    if report.suppressed:
        extra.append(f"{report.suppressed} suppressed")
    if report.baselined:
        extra.append(f"{report.baselined} in baseline")
    if extra:
        tail += " (" + ", ".join(extra) + ")"
    if report.findings:
        out.append(("", None))
    for note in report.notes:
        out.append((f"note: {note}", None))
    if report.skipped:
        out.append((f"not linted ({len(report.skipped)} file{'s' if len(report.skipped) > 1 else ''}):", None))
        out.extend((f"  {name}: {reason}", None) for name, reason in report.skipped)
    out.append((tail + f" [{report.seconds:.2f}s]", None))
    return out


def _gh_escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_prop(s: str) -> str:
    return _gh_escape_data(s).replace(":", "%3A").replace(",", "%2C")


def github_lines(report: Report) -> list[str]:
    """GitHub Actions workflow commands: ``::error file=F,line=L,col=C,title=T::message``."""
    out = []
    for f in report.findings:
        props = [f"file={_gh_escape_prop(f.file)}"]
        if f.line:
            props.append(f"line={f.line}")
        if f.column:
            props.append(f"col={f.column}")
        props.append(f"title={_gh_escape_prop(f.check + (' ' + f.name if f.name else ''))}")
        msg = f.display_message() + (f"\nhint: {f.hint}" if f.hint else "")
        out.append(f"::{_GITHUB_LEVEL.get(f.severity, 'warning')} {','.join(props)}::{_gh_escape_data(msg)}")
    return out


def _artifact(file: str) -> dict[str, str]:
    """Relative paths stay relative to the checkout (%SRCROOT%); absolute ones become file:// URIs."""
    from pathlib import Path, PurePosixPath, PureWindowsPath
    from urllib.parse import quote

    if PurePosixPath(file).is_absolute() or PureWindowsPath(file).is_absolute():
        try:
            return {"uri": Path(file).as_uri()}
        except ValueError:
            return {"uri": file}
    return {"uri": quote(file), "uriBaseId": "%SRCROOT%"}


def to_sarif(report: Report, checks: list) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run; rules describe every check that ran."""
    from aetherops import __version__

    by_id = {c.id: c for c in checks}
    used = sorted({f.check for f in report.findings} | set(report.checks_run))
    rules = []
    index = {}
    for cid in used:
        c = by_id.get(cid)
        index[cid] = len(rules)
        rule = {"id": cid, "name": cid.replace("/", "_"),
                "shortDescription": {"text": getattr(c, "summary", "") or cid},
                "defaultConfiguration": {"level": _SARIF_LEVEL.get(getattr(c, "severity", "warning"), "warning")},
                "help": {"text": f"See docs/lint.md, section {cid}."}}
        why = getattr(c, "why", "")
        if why:
            rule["fullDescription"] = {"text": why}
        rules.append(rule)
    results = []
    for f in report.findings:
        region: dict[str, Any] = {"startLine": f.line or 1}
        if f.column:
            region["startColumn"] = f.column
        result = {
            "ruleId": f.check,
            "ruleIndex": index.get(f.check, 0),
            "level": _SARIF_LEVEL.get(f.severity, "warning"),
            "message": {"text": f.display_message() + (f" (hint: {f.hint})" if f.hint else "")},
            "locations": [{"physicalLocation": {"artifactLocation": _artifact(f.file), "region": region}}],
            "partialFingerprints": {"aetherops/v1": f.fingerprint()},
        }
        if f.name:
            result["properties"] = {"name": f.name}
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "aetherops-lint", "version": __version__, "rules": rules}},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }
