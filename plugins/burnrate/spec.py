"""Read SLO specs: aetherops' own ``slos:`` list, Sloth ``prometheus/v1`` and OpenSLO v1 ``SLO``/``SLI``.

Every problem is a :class:`aetherops.errors.ConfigError` naming the file, the
line and the field (exit 4); a spec that still works but has a tier that can
never fire gets a warning instead (``SLO.warnings``).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from aetherops.durations import format_duration, parse_duration
from aetherops.errors import ConfigError
from aetherops_plugins.burnrate.api import DEFAULT_TIERS, REFERENCE_PERIOD, SLO, PolicyStep, Tier

Where = Callable[[tuple], "tuple[Path | None, int | None]"]

NATIVE_KEYS = ("name", "objective", "period", "sli", "labels", "alerting", "tiers", "policy", "description", "service",
               "evaluation_interval")
SLI_KEYS = ("error_query", "total_query", "error_ratio_query")
ALERTING_KEYS = ("name", "labels", "annotations", "page", "ticket", "runbook_url")
TIER_KEYS = ("severity", "burn_rate", "long_window", "short_window", "for")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


# --------------------------------------------------------------------------- entry points


def load_file(path: Path | str) -> list[SLO]:
    """Every SLO in the YAML file ``path`` (several documents allowed, e.g. OpenSLO SLO + SLI)."""
    from aetherops_plugins.lint.yamlpos import YAMLSyntaxError, load_documents

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("no such SLO spec file", path=path) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, not an SLO spec file", path=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read SLO spec: {exc.strerror}", path=path) from None
    except UnicodeDecodeError:
        raise ConfigError("SLO spec is not valid UTF-8", path=path) from None
    try:
        docs = load_documents(text)
    except YAMLSyntaxError as exc:
        raise ConfigError(f"invalid YAML: {exc.message}", path=path, line=exc.line) from None
    except RecursionError:
        raise ConfigError("invalid YAML: nested too deeply", path=path) from None
    if not docs:
        raise ConfigError("empty SLO spec: expected a 'slos:' list, a Sloth prometheus/v1 spec or OpenSLO documents", path=path, line=1)
    slos: list[SLO] = []
    openslo_slos: list[tuple[int, dict, Where]] = []
    openslo_slis: dict[str, dict] = {}
    for index, doc in enumerate(docs):
        lines: dict[tuple, int] = {}
        _record_lines(doc, (), lines)
        where = _file_where(path, lines)
        if not isinstance(doc, dict):
            raise ConfigError("an SLO spec document must be a mapping", path=path, line=getattr(doc, "line", None) or 1)
        if str(doc.get("apiVersion", "")).lower().startswith("openslo/"):
            kind = doc.get("kind")
            if kind == "SLO":
                openslo_slos.append((index, doc, where))
            elif kind == "SLI":
                name = _get(doc, "metadata", "name")
                if isinstance(name, str):
                    openslo_slis[name] = {"doc": doc, "where": where}
            continue  # other OpenSLO kinds (Service, AlertPolicy...) carry nothing we use
        if str(doc.get("version", "")).startswith("prometheus/"):
            slos.extend(_from_sloth(doc, where))
        elif "slos" in doc:
            slos.extend(parse_slos(doc.get("slos"), ("slos",), where))
        else:
            raise ConfigError("not an SLO spec: expected a 'slos:' list, Sloth 'version: prometheus/v1' or OpenSLO "
                              "'apiVersion: openslo/v1'", path=path, line=getattr(doc, "line", None) or 1)
    for _index, doc, where in openslo_slos:
        slos.append(_from_openslo(doc, where, openslo_slis))
    if not slos:
        raise ConfigError("no SLO in this file", path=path, line=1)
    _check_unique(slos)
    return slos


def load_profile(profile) -> list[SLO]:
    """The SLOs of a profile's ``slos:`` section (lines from the profile file, through ``extends``)."""
    data = profile.section("slos") or []
    lines = getattr(profile, "lines", None)

    def where(keypath: tuple):
        if lines is None:
            return profile.path, None
        return lines.where(keypath)

    slos = parse_slos(data, ("slos",), where)
    if not slos:
        raise ConfigError(f"profile '{profile.name}' has no slos: give an SLO spec file, or add a 'slos:' list to the profile",
                          path=profile.path)
    _check_unique(slos)
    return slos


# --------------------------------------------------------------------------- native format


def parse_slos(items: Any, keypath: tuple, where: Where) -> list[SLO]:
    if not isinstance(items, list):
        _fail(where, keypath, "'slos' must be a list of SLOs")
    return [parse_slo(item, keypath + (i,), where) for i, item in enumerate(items)]


def parse_slo(item: Any, kp: tuple, where: Where) -> SLO:
    if not isinstance(item, dict):
        _fail(where, kp, "an SLO must be a mapping with name, objective and sli")
    _known(item, NATIVE_KEYS, kp, where)
    name = _name(item.get("name"), kp + ("name",), where)
    objective = _objective(item.get("objective"), kp + ("objective",), where)
    period = _duration(item.get("period", "30d"), kp + ("period",), where, "period")
    interval = _duration(item.get("evaluation_interval", "1m"), kp + ("evaluation_interval",), where, "evaluation_interval")
    sli = item.get("sli")
    if not isinstance(sli, dict):
        _fail(where, kp + ("sli",), f"SLO {name!r}: 'sli' must be a mapping with error_query and total_query, or error_ratio_query")
    _known(sli, SLI_KEYS, kp + ("sli",), where)
    queries = {k: _query(sli.get(k), kp + ("sli", k), where) for k in SLI_KEYS if sli.get(k) is not None}
    alerting = item.get("alerting") or {}
    if not isinstance(alerting, dict):
        _fail(where, kp + ("alerting",), "'alerting' must be a mapping")
    _known(alerting, ALERTING_KEYS, kp + ("alerting",), where)
    slo = SLO(name=name, objective=objective, period=period, labels=_labels(item.get("labels"), kp + ("labels",), where),
              description=_text(item.get("description"), kp + ("description",), where),
              service=_text(item.get("service"), kp + ("service",), where), evaluation_interval=interval,
              source=where(kp)[0], line=where(kp)[1], **queries)
    _alerting(slo, alerting, kp + ("alerting",), where)
    if item.get("tiers") is not None:
        slo.tiers = _tiers(item.get("tiers"), kp + ("tiers",), where)
    else:
        slo.tiers = scale_tiers(DEFAULT_TIERS, period)
    if item.get("policy") is not None:
        slo.policy = _policy(item.get("policy"), kp + ("policy",), where)
    return validate(slo, kp, where)


def scale_tiers(tiers: tuple[Tier, ...], period: int) -> tuple[Tier, ...]:
    """The Workbook's windows scaled from 30 days to ``period`` (same burn rates, same budget shares)."""
    if period == REFERENCE_PERIOD:
        return tuple(tiers)
    factor = period / REFERENCE_PERIOD
    return tuple(replace(t, long_window=max(1, round(t.long_window * factor)), short_window=max(1, round(t.short_window * factor)))
                 for t in tiers)


def validate(slo: SLO, kp: tuple, where: Where) -> SLO:
    """Checks that span fields: the SLI is complete, windows fit the period, tiers can fire."""
    if slo.error_ratio_query is None and not (slo.error_query and slo.total_query):
        missing = "total_query" if slo.error_query else "error_query"
        _fail(where, kp + ("sli",), f"SLO {slo.name!r}: sli needs error_query and total_query, or error_ratio_query ({missing} is missing)")
    if slo.error_ratio_query is not None and (slo.error_query or slo.total_query):
        _fail(where, kp + ("sli",), f"SLO {slo.name!r}: give error_query/total_query or error_ratio_query, not both")
    for i, tier in enumerate(slo.tiers):
        for attr, label in (("long_window", "long_window"), ("short_window", "short_window")):
            window = getattr(tier, attr)
            if window > slo.period:
                _fail(where, kp + ("tiers", i, label) if _has(where, kp + ("tiers", i, label)) else kp + ("period",),
                      f"SLO {slo.name!r}: tier {tier.name} {label} {format_duration(window)} is longer than the period "
                      f"{format_duration(slo.period)}")
        if tier.short_window > tier.long_window:
            _fail(where, kp + ("tiers", i, "short_window"), f"SLO {slo.name!r}: tier {tier.name} short_window is longer than its long_window")
        threshold = tier.threshold(slo.objective)
        if threshold >= 1:
            path, line = where(kp + ("tiers", i) if _has(where, kp + ("tiers", i)) else kp + ("objective",))
            location = f"{path}:{line}: " if line else (f"{path}: " if path else "")
            slo.warnings.append(f"{location}objective: SLO {slo.name!r}: tier {tier.name} ({tier.burn_rate:g}x) can never fire at a "
                                f"{slo.objective:g}% objective (it needs an error ratio above {threshold:.0%})")
    if slo.evaluation_interval <= 0:
        _fail(where, kp + ("evaluation_interval",), "evaluation_interval must be more than 0s")
    return slo


# --------------------------------------------------------------------------- Sloth prometheus/v1


def _from_sloth(doc: dict, where: Where) -> list[SLO]:
    service = _text(doc.get("service"), ("service",), where)
    common_labels = _labels(doc.get("labels"), ("labels",), where)
    items = doc.get("slos")
    if not isinstance(items, list) or not items:
        _fail(where, ("slos",), "Sloth spec: 'slos' must be a non-empty list")
    out = []
    for i, item in enumerate(items):
        kp = ("slos", i)
        if not isinstance(item, dict):
            _fail(where, kp, "Sloth spec: each SLO must be a mapping")
        name = _name(item.get("name"), kp + ("name",), where)
        objective = _objective(item.get("objective"), kp + ("objective",), where)
        sli = item.get("sli")
        if not isinstance(sli, dict):
            _fail(where, kp + ("sli",), f"SLO {name!r}: 'sli' must be a mapping (events or raw)")
        queries: dict[str, str] = {}
        if isinstance(sli.get("events"), dict):
            events = sli["events"]
            queries["error_query"] = _query(events.get("error_query"), kp + ("sli", "events", "error_query"), where)
            queries["total_query"] = _query(events.get("total_query"), kp + ("sli", "events", "total_query"), where)
        elif isinstance(sli.get("raw"), dict):
            queries["error_ratio_query"] = _query(sli["raw"].get("error_ratio_query"), kp + ("sli", "raw", "error_ratio_query"), where)
        elif sli.get("plugin") is not None:
            _fail(where, kp + ("sli", "plugin"), f"SLO {name!r}: Sloth SLI plugins are not supported; use events or raw")
        else:
            _fail(where, kp + ("sli",), f"SLO {name!r}: sli needs 'events' (error_query, total_query) or 'raw' (error_ratio_query)")
        period = _duration(doc.get("period", item.get("period", "30d")), ("period",), where, "period")
        slo = SLO(name=name, objective=objective, period=period, service=service,
                  labels={**common_labels, **_labels(item.get("labels"), kp + ("labels",), where)},
                  description=_text(item.get("description"), kp + ("description",), where), source=where(kp)[0], line=where(kp)[1],
                  tiers=scale_tiers(DEFAULT_TIERS, period), **queries)
        alerting = item.get("alerting") or {}
        if isinstance(alerting, dict):
            if alerting.get("name"):
                slo.alert_name = _name(alerting["name"], kp + ("alerting", "name"), where)
            slo.alert_labels = _labels(alerting.get("labels"), kp + ("alerting", "labels"), where)
            slo.alert_annotations = {str(k): str(v) for k, v in (alerting.get("annotations") or {}).items()}
            for key, attr in (("page_alert", "page_labels"), ("ticket_alert", "ticket_labels")):
                sub = alerting.get(key) or {}
                if isinstance(sub, dict) and sub.get("labels"):
                    setattr(slo, attr, {**getattr(slo, attr), **_labels(sub["labels"], kp + ("alerting", key, "labels"), where)})
            slo.runbook_url = str(slo.alert_annotations.pop("runbook_url", "") or slo.alert_annotations.pop("runbook", "") or "")
        out.append(validate(slo, kp, where))
    return out


# --------------------------------------------------------------------------- OpenSLO v1


def _from_openslo(doc: dict, where: Where, slis: dict[str, dict]) -> SLO:
    name = _name(_get(doc, "metadata", "name"), ("metadata", "name"), where)
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        _fail(where, ("spec",), f"OpenSLO SLO {name!r}: 'spec' must be a mapping")
    objectives = spec.get("objectives")
    if not isinstance(objectives, list) or not objectives or not isinstance(objectives[0], dict):
        _fail(where, ("spec", "objectives"), f"OpenSLO SLO {name!r}: 'objectives' must be a non-empty list")
    first = objectives[0]
    if first.get("target") is not None:
        target = first.get("target")
        if isinstance(target, bool) or not isinstance(target, (int, float)):
            _fail(where, ("spec", "objectives", 0, "target"), f"OpenSLO SLO {name!r}: target must be a number between 0 and 1")
        objective = _objective(float(target) * 100, ("spec", "objectives", 0, "target"), where)
    else:
        objective = _objective(first.get("targetPercent"), ("spec", "objectives", 0, "targetPercent"), where)
    period = 30 * 86400
    windows = spec.get("timeWindow")
    if isinstance(windows, list) and windows and isinstance(windows[0], dict) and windows[0].get("duration") is not None:
        period = _duration(windows[0]["duration"], ("spec", "timeWindow", 0, "duration"), where, "timeWindow.duration")
    if spec.get("indicator") is not None:
        indicator, sli_where, sli_kp = spec.get("indicator"), where, ("spec", "indicator")
    elif spec.get("indicatorRef") is not None:
        ref = spec.get("indicatorRef")
        if not isinstance(ref, str) or ref not in slis:
            _fail(where, ("spec", "indicatorRef"), f"OpenSLO SLO {name!r}: indicatorRef {ref!r} names no SLI document in this file")
        indicator, sli_where, sli_kp = slis[ref]["doc"], slis[ref]["where"], ()
    else:
        _fail(where, ("spec",), f"OpenSLO SLO {name!r}: needs 'indicator' or 'indicatorRef'")
    ratio = _get(indicator, "spec", "ratioMetric")
    rkp = sli_kp + ("spec", "ratioMetric")
    if not isinstance(ratio, dict):
        _fail(sli_where, sli_kp + ("spec",), f"OpenSLO SLO {name!r}: only ratioMetric SLIs with a Prometheus source are supported")
    counter = ratio.get("counter", True) is not False

    def source(part: str) -> str | None:
        metric = ratio.get(part)
        if metric is None:
            return None
        kp = rkp + (part, "metricSource")
        src = _get(metric, "metricSource")
        if not isinstance(src, dict):
            _fail(sli_where, rkp + (part,), f"OpenSLO SLO {name!r}: {part} needs a metricSource")
        kind = str(src.get("type", "")).lower()
        if kind not in ("prometheus", "victoriametrics", "thanos", "mimir", "cortex"):
            _fail(sli_where, kp + ("type",), f"OpenSLO SLO {name!r}: metricSource type {src.get('type')!r} is not Prometheus")
        query = _get(src, "spec", "query") or _get(src, "spec", "promql")
        query = _query(query, kp + ("spec", "query"), sli_where, window=False)
        if "{{.window}}" in query or "{{ .window }}" in query:
            return query
        return f"sum(rate({query}[{{{{.window}}}}]))" if counter else f"sum({query})"

    good, bad, total = source("good"), source("bad"), source("total")
    if total is None or (good is None and bad is None):
        _fail(sli_where, rkp, f"OpenSLO SLO {name!r}: ratioMetric needs total and good or bad")
    error_query = bad if bad is not None else f"({total}) - ({good})"
    slo = SLO(name=name, objective=objective, period=period, error_query=error_query, total_query=total,
              description=_text(spec.get("description"), ("spec", "description"), where),
              service=_text(spec.get("service"), ("spec", "service"), where), source=where(())[0], line=where(())[1],
              tiers=scale_tiers(DEFAULT_TIERS, period))
    return validate(slo, ("spec",), where)


# --------------------------------------------------------------------------- fields


def _alerting(slo: SLO, alerting: dict, kp: tuple, where: Where) -> None:
    if alerting.get("name") is not None:
        slo.alert_name = _name(alerting["name"], kp + ("name",), where, alert=True)
    slo.alert_labels = _labels(alerting.get("labels"), kp + ("labels",), where)
    annotations = alerting.get("annotations") or {}
    if not isinstance(annotations, dict):
        _fail(where, kp + ("annotations",), "'alerting.annotations' must be a mapping")
    slo.alert_annotations = {str(k): str(v) for k, v in annotations.items()}
    slo.runbook_url = _text(alerting.get("runbook_url"), kp + ("runbook_url",), where)
    for key, attr in (("page", "page_labels"), ("ticket", "ticket_labels")):
        sub = alerting.get(key)
        if sub is None:
            continue
        if not isinstance(sub, dict):
            _fail(where, kp + (key,), f"'alerting.{key}' must be a mapping with labels")
        _known(sub, ("labels",), kp + (key,), where)
        setattr(slo, attr, {**getattr(slo, attr), **_labels(sub.get("labels"), kp + (key, "labels"), where)})


def _tiers(items: Any, kp: tuple, where: Where) -> tuple[Tier, ...]:
    if not isinstance(items, list) or not items:
        _fail(where, kp, "'tiers' must be a non-empty list of {severity, burn_rate, long_window, short_window}")
    tiers = []
    for i, item in enumerate(items):
        ikp = kp + (i,)
        if not isinstance(item, dict):
            _fail(where, ikp, "a tier must be a mapping with severity, burn_rate, long_window and short_window")
        _known(item, TIER_KEYS, ikp, where)
        severity = item.get("severity")
        if severity not in ("page", "ticket"):
            _fail(where, ikp + ("severity",), f"tier severity must be page or ticket, not {severity!r}")
        rate = item.get("burn_rate")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < 1e6:
            _fail(where, ikp + ("burn_rate",), f"tier burn_rate must be a number above 0, not {rate!r}")
        long_w = _duration(item.get("long_window"), ikp + ("long_window",), where, "long_window", positive=True)
        short_w = _duration(item.get("short_window"), ikp + ("short_window",), where, "short_window", positive=True)
        for_s = None if item.get("for") is None else _duration(item.get("for"), ikp + ("for",), where, "for")
        tiers.append(Tier(severity, float(rate), long_w, short_w, for_s))
    return tuple(tiers)


def _policy(items: Any, kp: tuple, where: Where) -> list[PolicyStep]:
    if not isinstance(items, list):
        _fail(where, kp, "'policy' must be a list of {budget_below, action}")
    steps = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "budget_below" not in item or not item.get("action"):
            _fail(where, kp + (i,), "a policy step needs budget_below (e.g. 25%) and action")
        _known(item, ("budget_below", "action", "gate"), kp + (i,), where)
        raw = item["budget_below"]
        share = _percent(raw)
        if share is None:
            _fail(where, kp + (i, "budget_below"), f"budget_below must be a percentage such as 25%, not {raw!r}")
        gate = item.get("gate", True)
        if not isinstance(gate, bool):
            _fail(where, kp + (i, "gate"), "gate must be true or false")
        steps.append(PolicyStep(share, str(item["action"]), gate))
    return sorted(steps, key=lambda s: -s.budget_below)


def _percent(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return float(raw) / 100
    text = str(raw).strip()
    if text.endswith("%"):
        try:
            return float(text[:-1]) / 100
        except ValueError:
            return None
    return None


def _objective(raw: Any, kp: tuple, where: Where) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw != raw:
        _fail(where, kp, f"objective must be a percentage between 0 and 100 (e.g. 99.9), not {raw!r}")
    if not 0 < raw < 100:
        _fail(where, kp, f"objective {raw:g} is outside (0, 100): write it as a percentage, e.g. 99.9")
    return float(raw)


def _duration(raw: Any, kp: tuple, where: Where, field: str, positive: bool = True) -> int:
    seconds = parse_duration(raw) if not isinstance(raw, (int, float)) or isinstance(raw, bool) else None
    if seconds is None:
        _fail(where, kp, f"{field} must be a duration such as 30d, 1h or 5m, not {raw!r}")
    if positive and seconds <= 0:
        _fail(where, kp, f"{field} must be longer than 0s")
    if seconds > 10 * 365 * 86400:
        _fail(where, kp, f"{field} {raw} is longer than ten years")
    return seconds


def _name(raw: Any, kp: tuple, where: Where, alert: bool = False) -> str:
    if not isinstance(raw, str) or not raw.strip():
        _fail(where, kp, f"{kp[-1]} must be a non-empty string")
    if alert and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", raw):
        _fail(where, kp, f"alert name {raw!r} must be letters, digits and underscores")
    if not alert and not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", raw):
        _fail(where, kp, f"SLO name {raw!r} may hold only letters, digits, '-', '_' and '.'")
    return raw.strip()


def _query(raw: Any, kp: tuple, where: Where, window: bool = True) -> str:
    if not isinstance(raw, str) or not raw.strip():
        _fail(where, kp, f"{kp[-1]} must be a PromQL query")
    text = " ".join(raw.split())
    if window and "{{.window}}" not in text.replace("{{ .window }}", "{{.window}}"):
        _fail(where, kp, f"{kp[-1]} must use the {{{{.window}}}} placeholder for its range, e.g. rate(x[{{{{.window}}}}])")
    probe = text.replace("{{ .window }}", "5m").replace("{{.window}}", "5m")
    try:
        import promql_parser

        promql_parser.parse(probe)
    except ValueError as exc:
        _fail(where, kp, f"{kp[-1]} is not valid PromQL: {' '.join(str(exc).split())[:200]}")
    except Exception:  # the parser may panic on hostile input; promtool will judge the generated rules
        pass
    return text


def _labels(raw: Any, kp: tuple, where: Where) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        _fail(where, kp, "labels must be a mapping of label name to value")
    out = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not _LABEL_NAME.match(key) or key.startswith("__"):
            _fail(where, kp + (key,), f"{key!r} is not a valid label name")
        if isinstance(value, (dict, list)) or value is None:
            _fail(where, kp + (key,), f"label {key!r} must have a scalar value")
        out[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def _text(raw: Any, kp: tuple, where: Where) -> str:
    if raw is None:
        return ""
    if isinstance(raw, (dict, list)):
        _fail(where, kp, f"{kp[-1]} must be text")
    return str(raw)


def _known(mapping: dict, keys: tuple, kp: tuple, where: Where) -> None:
    for key in mapping:
        if key not in keys:
            close = difflib.get_close_matches(str(key), keys, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(keys)}"
            _fail(where, kp + (key,), f"unknown key {key!r}{hint}")


def _check_unique(slos: list[SLO]) -> None:
    seen: set[str] = set()
    for slo in slos:
        if slo.name in seen:
            raise ConfigError(f"SLO name {slo.name!r} is used twice", path=slo.source, line=slo.line)
        seen.add(slo.name)


def _get(mapping: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    return mapping


def _fail(where: Where, kp: tuple, message: str):
    path, line = where(kp)
    field = ".".join(str(k) for k in kp)
    raise ConfigError(f"{field}: {message}" if field else message, path=path, line=line)


def _has(where: Where, kp: tuple) -> bool:
    return getattr(where, "lines", None) is None or kp in where.lines  # type: ignore[attr-defined]


def _file_where(path: Path, lines: dict[tuple, int]) -> Where:
    def where(keypath: tuple):
        keypath = tuple(keypath)
        while keypath and keypath not in lines:
            keypath = keypath[:-1]
        return path, lines.get(keypath) or lines.get(()) or 1

    where.lines = lines  # type: ignore[attr-defined]
    return where


def _record_lines(node: Any, kp: tuple, out: dict[tuple, int]) -> None:
    if hasattr(node, "pos") and isinstance(node, dict):
        out.setdefault(kp, node.line)
        for key, value in node.items():
            out[kp + (key,)] = node.key_line(key)
            _record_lines(value, kp + (key,), out)
    elif hasattr(node, "lines") and isinstance(node, list):
        out.setdefault(kp, node.line)
        for i, value in enumerate(node):
            if i < len(node.lines):
                out[kp + (i,)] = node.lines[i]
            _record_lines(value, kp + (i,), out)
