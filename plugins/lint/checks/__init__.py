"""The built-in checks (contributed through the ``aetherops_lint_checks`` hook like any plugin's)."""

from __future__ import annotations


def builtin_checks() -> list:
    from aetherops_plugins.lint import online
    from aetherops_plugins.lint.checks import alertmanager, crossfile, prometheus, rules, syntax

    return [
        syntax.FileSyntax(), syntax.RuleSchema(), syntax.Durations(), syntax.PromQLSyntax(), syntax.Templates(),
        alertmanager.AlertmanagerSchema(), prometheus.PrometheusSchema(),
        rules.Duplicates(), rules.RecordName(), rules.AlertFor(), rules.Severity(), rules.Annotations(), rules.TemplateLabels(),
        rules.RateRange(), rules.CounterGauge(), rules.Comparison(), rules.TrafficGuard(), rules.AbsentFor(), rules.RegexLiteral(),
        rules.TimeOfDay(), rules.VolatileLabels(), rules.AlertName(),
        alertmanager.UndefinedReceiver(), alertmanager.UnusedReceiver(), alertmanager.UnreachableRoute(), alertmanager.Intervals(),
        alertmanager.InlineSecret(),
        crossfile.InhibitAlerts(), crossfile.GroupBy(), crossfile.MissingRecordingRule(), crossfile.UpJob(),
        crossfile.DashboardRecordingRule(), prometheus.RuleFiles(), crossfile.DashboardPromQL(), crossfile.DashboardUid(), crossfile.DashboardTitle(),
        online.SeriesExist(), online.LoadedRules(), online.Runbooks(), online.QueryCost(), online.NoisyAlerts(),
        online.VectorMatching(), online.Datasources(),
    ]
