"""`crossfile/up-job`: `up{job=\"x\"}` (and other `job=` selectors in alerts) name a scrape job of the linted Prometheus config."""

from __future__ import annotations

from aetherops_plugins.lint.api import RuleCheck
from aetherops_plugins.lint.checks._common import RULES


class UpJob(RuleCheck):
    id = "crossfile/up-job"
    severity = "warning"
    rule_type = "alert"
    summary = "`up{job=\"x\"}` (and other `job=` selectors in alerts) name a scrape job of the linted Prometheus config."
    why = "`crm-api` vs `crm_api`: an alert on a job that is not scraped never fires, and `absent()` on it always does."
    example_bad = RULES + "      - alert: CrmDown\n        expr: up{job=\"crm-api\"} == 0\n        for: 5m\n"
    example_good = RULES + "      - alert: CrmDown\n        expr: up{job=\"crm_api\"} == 0\n        for: 5m\n"
    example_context = {"prometheus.yml": "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: crm_api\n"
                       "    static_configs:\n      - targets: ['crm:8080']\n"}

    def check_rule(self, rule, project):
        import difflib

        jobs = project.scrape_jobs
        facts = rule.facts
        if jobs is None or not facts:
            return
        for sel in facts.selectors:
            job = sel.equal("job")
            if job is None or job in jobs or (sel.name and ":" in sel.name):
                continue
            if sel.name != "up" and sel.name is not None:
                continue
            close = difflib.get_close_matches(job, sorted(jobs), n=1)
            k = rule.expr.find(job)
            line, col = rule.expr_position(k) if k >= 0 else (rule.line, None)
            yield self.finding(rule.target, f"job {job!r} is not a scrape job of the linted Prometheus config", rule=rule,
                               line=line, column=col, hint=f"did you mean {close[0]!r}?" if close else
                               f"scrape jobs: {', '.join(sorted(jobs)[:8])}")
