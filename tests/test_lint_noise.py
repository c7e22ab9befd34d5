"""Issue 13, "Noise": each default warning an SRE would dismiss on a well-run project is silent on a realistic rule,
and the case the check exists for is still flagged."""

from __future__ import annotations

from pathlib import Path

from aetherops_plugins.lint.checks import builtin_checks
from aetherops_plugins.lint.engine import Options, run

CHECKS = builtin_checks()
PROM = "global:\n  scrape_interval: 30s\n  evaluation_interval: 1m\nscrape_configs:\n  - job_name: api\n"


def lint(tmp_path: Path, files: dict[str, str], **settings):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return run(Options(paths=[str(tmp_path)], settings=settings), CHECKS)


def of(report, check: str) -> list:
    return [f for f in report.findings if f.check == check]


def rules(body: str, interval: str = "") -> str:
    return "groups:\n  - name: app\n" + (f"    interval: {interval}\n" if interval else "") + "    rules:\n" + body


# ------------------------------------------------------------------ alerts/template-labels
# kube-prometheus style: the description lists the top pods of the namespace with a sub-query
QUOTA = rules("""\
      - alert: KubeQuotaAlmostFull
        expr: |
          sum by (namespace) (kube_resourcequota{type="used"})
            / sum by (namespace) (kube_resourcequota{type="hard"} > 0) > 0.9
        for: 15m
        labels:
          severity: warning
        annotations:
          summary: Namespace quota is going to be full.
          description: |
            Namespace {{ $labels.namespace }} is using {{ $value | humanizePercentage }} of its quota. Top pods:
            {{ range query (printf "topk(3, sum by (pod) (container_memory_working_set_bytes{namespace='%s'}))" $labels.namespace) }}
              {{ .Labels.pod }}: {{ .Value | humanize1024 }}B {{ $labels.pod }}
            {{ end }}
            {{ with query "sum by (node) (kube_node_info)" }}{{ . | first | label "node" }}{{ end }}
          runbook_url: https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubequotaalmostfull
""")


def test_template_labels_inside_range_and_with_query_blocks_are_silent(tmp_path):
    assert of(lint(tmp_path, {"r.yml": QUOTA}), "alerts/template-labels") == []


def test_template_labels_outside_blocks_still_flagged_and_quoted_as_written(tmp_path):
    text = QUOTA.replace("Top pods:", "Top pods of {{ .Labels.pod }} / {{ index $labels \"container\" }}:")
    got = [f.message for f in of(lint(tmp_path, {"r.yml": text}), "alerts/template-labels")]
    assert got == ['annotation "description" uses .Labels.pod but the expression cannot produce a \'pod\' label',
                   'annotation "description" uses index $labels "container" but the expression cannot produce a '
                   "'container' label"]


def test_template_labels_in_the_pipeline_of_a_with_block_are_the_alerts(tmp_path):
    text = QUOTA.replace('{{ with query "sum by (node) (kube_node_info)" }}',
                         '{{ with query (printf "kube_node_info{node=\'%s\'}" $labels.node) }}')
    got = [f.message for f in of(lint(tmp_path, {"r.yml": text}), "alerts/template-labels")]
    assert got == ['annotation "description" uses $labels.node but the expression cannot produce a \'node\' label']


# ------------------------------------------------------------------ alerts/for
def test_for_shorter_than_the_evaluation_interval_is_not_reported(tmp_path):
    text = rules("""\
      - alert: TargetDown
        expr: up{job="api"} == 0
        for: 30s
        labels: {severity: critical}
""", interval="1m")
    assert of(lint(tmp_path, {"r.yml": text, "prometheus.yml": PROM}), "alerts/for") == []


def test_missing_for_is_info_unless_the_expression_is_a_short_window_rate(tmp_path):
    text = rules("""\
      - alert: BackupFailed
        expr: backup_last_success_timestamp_seconds < time() - 86400
      - alert: ErrorBurst
        expr: sum by (job) (irate(http_errors_total[5m])) > 50
      - alert: ErrorSpike
        expr: sum by (job) (rate(http_errors_total[1m])) > 50
""")
    got = {f.name: (f.severity, f.message) for f in of(lint(tmp_path, {"r.yml": text}), "alerts/for")}
    assert got["BackupFailed"] == ("info", "alert has no `for`: it fires on the first evaluation that matches")
    assert got["ErrorBurst"][0] == "warning" and "irate(http_errors_total[5m])" in got["ErrorBurst"][1]
    assert got["ErrorSpike"][0] == "warning" and "rate(http_errors_total[1m])" in got["ErrorSpike"][1]


def test_for_redundant_zero_and_too_short_absent(tmp_path):
    text = rules("""\
      - alert: Watchdog
        expr: vector(1)
        for: 0s
        labels: {severity: none}
      - alert: ExporterGone
        expr: absent(up{job="api"})
        for: 1m
      - alert: ExporterGoneLong
        expr: absent(up{job="api"})
        for: 10m
""")
    got = {f.name: (f.severity, f.message) for f in of(lint(tmp_path, {"r.yml": text, "prometheus.yml": PROM}), "alerts/for")}
    assert got["Watchdog"] == ("info", "`for: 0s` is the default: the line is redundant")
    assert got["ExporterGone"][0] == "warning" and "needs at least two intervals (2m" in got["ExporterGone"][1]
    assert "ExporterGoneLong" not in got


# ------------------------------------------------------------------ promql/rate-range
RATIO = rules("""\
      - record: job:http_errors:ratio_rate1m
        expr: sum by (job) (rate(http_errors_total[1m])) / sum by (job) (rate(http_requests_total[1m]))
      - record: job:http_errors:ratio_rate5m
        expr: sum by (job) (rate(http_errors_total[5m])) / sum by (job) (rate(http_requests_total[5m]))
""")


def test_rate_range_is_one_finding_per_rule_listing_the_calls(tmp_path):
    got = of(lint(tmp_path, {"r.yml": RATIO, "prometheus.yml": PROM}), "promql/rate-range")
    assert [(f.name, f.message) for f in got] == [
        ("job:http_errors:ratio_rate1m", "rate(http_errors_total[1m]), rate(http_requests_total[1m]): ranges shorter than 4x "
                                         "the scrape interval (30s)")]


def test_rate_range_without_a_known_scrape_interval_says_so_once(tmp_path):
    report = lint(tmp_path, {"r.yml": RATIO, "s.yml": RATIO.replace("name: app", "name: other")})
    assert of(report, "promql/rate-range") == []
    assert [n for n in report.notes if "rate-range" in n] == [
        "promql/rate-range: no scrape interval known (no prometheus.yml linted alongside, no lint.scrape_interval in the "
        "profile), so rate() windows were not checked"]
    # the profile setting is enough
    report = lint(tmp_path, {}, scrape_interval="30s")
    assert len(of(report, "promql/rate-range")) == 2 and not report.notes


def test_rate_range_note_comes_back_from_worker_processes(tmp_path, monkeypatch):
    from aetherops_plugins.lint import engine

    monkeypatch.setattr(engine, "PARALLEL_MIN_RULES", 10)
    body = "".join(f"      - record: job:m{i}:rate5m\n        expr: sum by (job) (rate(m{i}_total[5m]))\n" for i in range(60))
    report = lint(tmp_path, {"r.yml": rules(body)})
    assert len([n for n in report.notes if "rate-range" in n]) == 1


# ------------------------------------------------------------------ alerts/annotations
NODE = rules("""\
      - alert: NodeFilesystemAlmostFull
        expr: node_filesystem_avail_bytes{fstype!=""} / node_filesystem_size_bytes < 0.05
        for: 30m
        labels: {severity: warning}
        annotations:
          summary: Filesystem has less than 5% space left.
          description: Filesystem on {{ $labels.device }} at {{ $labels.instance }} has {{ $value | humanizePercentage }} left.
          playbook: https://wiki.example.com/playbooks/disk-full
""")


def test_a_playbook_link_satisfies_the_runbook_requirement(tmp_path):
    assert of(lint(tmp_path, {"r.yml": NODE}), "alerts/annotations") == []


def test_required_annotations_and_aliases_are_profile_settings(tmp_path):
    got = of(lint(tmp_path, {"r.yml": NODE}, annotation_aliases={"runbook_url": ["documentation"]}), "alerts/annotations")
    assert [f.message for f in got] == ["missing annotation: runbook_url"] and "documentation" in got[0].hint
    assert of(lint(tmp_path, {}, required_annotations=["summary"], annotation_aliases={}), "alerts/annotations") == []
    got = of(lint(tmp_path, {}, required_annotations=["summary", "dashboard_url"]), "alerts/annotations")
    assert [f.message for f in got] == ["missing annotation: dashboard_url"]


def test_annotation_aliases_setting_is_validated(tmp_path):
    from aetherops_plugins.lint import aetherops_profile_sections

    field = aetherops_profile_sections()[0].fields["annotation_aliases"]
    assert field.validator({"runbook_url": ["playbook"]}) is None
    assert "must map" in field.validator({"runbook_url": [1]})


# ------------------------------------------------------------------ rules/record-name
def test_record_name_is_info_by_default(tmp_path):
    text = rules("      - record: instance_cpu_usage\n        expr: sum by (instance) (rate(node_cpu_seconds_total{mode!=\"idle\"}[5m]))\n")
    got = of(lint(tmp_path, {"r.yml": text}), "rules/record-name")
    assert [f.severity for f in got] == ["info"]


# ------------------------------------------------------------------ alertmanager/inline-secret
AM = """\
route:
  receiver: ops
receivers:
  - name: ops
    webhook_configs:
      - url: http://alert-receiver.monitoring.svc:8080/alerts
      - url: https://events.example.com/hooks/prometheus?channel=ops
"""


def test_webhook_url_without_a_token_is_not_a_secret(tmp_path):
    assert of(lint(tmp_path, {"alertmanager.yml": AM}), "alertmanager/inline-secret") == []


def test_urls_carrying_tokens_keys_or_passwords_are_still_flagged(tmp_path):
    text = AM + """\
      - url: https://events.example.com/hooks/prometheus?api_key=s3cr3t
      - url: https://user:hunter2@events.example.com/hooks
    slack_configs:
      - api_url: https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdEFGHijklMNOPqrstUVWX
        channel: '#ops'
"""
    got = [f.message for f in of(lint(tmp_path, {"alertmanager.yml": text}), "alertmanager/inline-secret")]
    assert got == ["webhook_config url of receiver 'ops' carries a token inline"] * 2 + [
        "slack_config api_url of receiver 'ops' carries a token inline"]


# ------------------------------------------------------------------ promql/counter
def test_bare_counter_comparison_is_flagged_and_its_rate_is_not(tmp_path):
    text = rules("""\
      - alert: TooManyRequests
        expr: http_requests_total{job="api"} > 100
        for: 5m
      - alert: TooManyRequestsByJob
        expr: sum by (job) (http_requests_total) / 1000 > 5
        for: 5m
      - alert: RequestRateHigh
        expr: sum by (job) (rate(http_requests_total[5m])) > 100
        for: 5m
      - alert: RestartedOften
        expr: increase(process_restarts_total[1h]) > 3
        for: 5m
""")
    got = {f.name: f for f in of(lint(tmp_path, {"r.yml": text}), "promql/counter")}
    assert sorted(got) == ["TooManyRequests", "TooManyRequestsByJob"]
    f = got["TooManyRequests"]
    assert "'http_requests_total' is compared by its raw value (`>`)" in f.message and (f.line, f.column) == (5, 15)


# ------------------------------------------------------------------ YAML aliases
def test_findings_under_a_yaml_alias_are_reported_once_with_the_count(tmp_path):
    text = """\
groups:
  - name: app
    rules:
      - alert: ApiDown
        expr: up{job="api"} == 0
        for: 5m
        labels: &page
          severity: page
          team: api
      - alert: WorkerDown
        expr: up{job="worker"} == 0
        for: 5m
        labels: *page
      - alert: CronDown
        expr: up{job="cron"} == 0
        for: 5m
        labels: *page
"""
    report = lint(tmp_path, {"r.yml": text})
    got = of(report, "alerts/severity")
    assert len(got) == 1 and got[0].line == 8 and got[0].occurrences == 3
    assert got[0].display_message() == ("severity 'page' is not one of critical, warning, info (x3: shared through YAML alias "
                                         "*page, used at lines 13, 17)")
    assert got[0].to_dict()["occurrences"] == 3
    # findings at each use (the rule's own lines) stay one per rule
    assert sorted(f.name for f in of(report, "alerts/annotations")) == ["ApiDown", "CronDown", "WorkerDown"]
