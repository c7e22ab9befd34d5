"""`online/runbook`: `runbook_url` links answer (HTTP status below 400)."""

from __future__ import annotations

from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.checks._common import RULES


class Runbooks(Check):
    id = "online/runbook"
    severity = "warning"
    kinds = ("rules",)
    online = True
    summary = "`runbook_url` links answer (HTTP status below 400)."
    why = "A runbook link that 404s at 3 a.m. is worse than none: the responder loses minutes looking for it."
    example_bad = (RULES + "      - alert: Down\n        expr: up == 0\n        for: 5m\n        annotations:\n"
                   "          runbook_url: http://127.0.0.1:9/missing\n")
    example_good = RULES + "      - alert: Down\n        expr: up == 0\n        for: 5m\n"

    def check(self, target, project):
        from aetherops.clients.probe import link_status
        from aetherops.errors import ServiceError

        if project.online is None:
            return
        urls: dict[str, list] = {}
        for rule in target.alerts:
            url = rule.annotations.get("runbook_url")
            if isinstance(url, str) and url.startswith(("http://", "https://")) and "{{" not in url:
                urls.setdefault(url, []).append(rule)
        if not urls:
            return
        timeout = float(project.settings.get("runbook_timeout") or 5)

        def probe(url):
            try:
                status = link_status(url, timeout=timeout)
            except ServiceError as exc:
                return url, exc.format_message().removeprefix(f"{url}: ")
            return url, (None if status < 400 else f"HTTP {status}")

        for url, problem in project.online.map(probe, urls):
            if problem:
                for rule in urls[url]:
                    ann = rule.data.get("annotations")
                    line = ann.key_line("runbook_url", rule.line) if hasattr(ann, "key_line") else rule.line
                    yield self.finding(rule.target, f"runbook_url {url} does not answer: {problem}", rule=rule, line=line,
                                       hint="fix the link or write the runbook")
