"""`alertmanager/template`: The notification template files the config's `templates:` globs name parse (Go text/template, Alertmanager's functions)."""

from __future__ import annotations

from aetherops_plugins.lint.api import Check

_CONFIG = "route:\n  receiver: team\nreceivers:\n  - name: team\ntemplates:\n  - '{}'\n"


class NotificationTemplates(Check):
    id = "alertmanager/template"
    severity = "error"
    kinds = ("alertmanager",)
    summary = "The notification template files named by `templates:` parse (Go text/template with Alertmanager's functions), as amtool checks."
    why = ("Alertmanager refuses to load a config whose template files do not parse: a typo in `slack.tmpl` (`{{ if }}`, a "
           "Prometheus-only function such as `humanize`, `$labels` which only rules have) stops every notification.")
    example_bad = _CONFIG.format("slack.tmpl")
    example_good = _CONFIG.format("slack-fixed.tmpl")
    example_kind = "alertmanager"
    example_context = {"slack.tmpl": '{{ define "slack.title" }}{{ .CommonLabels.alertname | humanize }}{{ end }}\n',
                       "slack-fixed.tmpl": '{{ define "slack.title" }}{{ .CommonLabels.alertname | toUpper }}{{ end }}\n'}

    def check(self, target, project):
        from pathlib import Path

        from aetherops_plugins.lint.templates import (
            ALERTMANAGER_FUNCS,
            ALERTMANAGER_NEWER_FUNCS,
            GO_BUILTINS,
            TemplateError,
            parse_template,
        )

        globs = target.data.get("templates") if isinstance(target.data, dict) else None
        if not isinstance(globs, list):
            return
        base = Path(target.path).parent
        for pattern in globs:
            if not isinstance(pattern, str) or not pattern:
                continue
            try:
                files = sorted(base.glob(pattern)) if not Path(pattern).is_absolute() else sorted(
                    Path(Path(pattern).anchor).glob(str(Path(pattern).relative_to(Path(pattern).anchor))))
            except (ValueError, NotImplementedError):  # an invalid pattern is the schema check's finding
                continue
            for f in files:
                if not f.is_file():
                    continue
                try:
                    text = f.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    yield self.finding(target, f"template file {f.name}: cannot read it ({exc})", line=_line(target, pattern))
                    continue
                try:
                    parse_template(text, GO_BUILTINS | ALERTMANAGER_FUNCS, name=f.name)
                except TemplateError as err:
                    newer = next((fn for fn in ALERTMANAGER_NEWER_FUNCS if f'"{fn}"' in err.message), None)
                    yield self.finding(target, f"template: {f.name}:{err.line}: {err.message}", line=_line(target, pattern),
                                       hint=(f"{newer} exists only in Alertmanager releases newer than 0.25" if newer else
                                             "fix the template file; functions: toUpper, toLower, title, join, match, "
                                             "safeHtml, reReplaceAll, stringSlice and Go's own"))


def _line(target, pattern):
    key_line = getattr(target.data, "key_line", None)
    return key_line("templates") if key_line else None
