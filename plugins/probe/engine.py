"""``aetherops probe``: plan the probes (targets x modules), run them, judge and render the results.

Planning (which targets, which modules) is finished before the first probe runs;
the probes then run concurrently on one asyncio loop with a bounded pool, each
under its own timeout. A prober that raises or hangs is a failed probe with a
reason, never a traceback.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aetherops.errors import ConfigError, FindingsError, UsageError
from aetherops_plugins.probe.api import PHASES
from aetherops_plugins.probe.config import (
    BUILTIN_MODULES,
    DEFAULT_MODULE,
    ProbeModule,
    build_modules,
    load_blackbox_config,
    parse_duration,
)
from aetherops_plugins.probe.net import time_limit

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context

DEFAULT_CONCURRENCY = 64
DEFAULT_TIMEOUT = 10.0
#: Extra seconds a prober gets past its timeout before the command cancels it.
CANCEL_GRACE = 1.0


@dataclass
class ProbeJob:
    """One target probed with one module."""

    name: str
    target: str
    module: str
    labels: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None


@dataclass
class ProbeOptions:
    targets: tuple[str, ...] = ()
    module: str | None = None
    config: str | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    timeout: float | None = None
    from_prometheus: bool = False
    exporter: bool = False
    min_tls_days: float | None = None
    fmt: str = "text"
    wait: bool = False
    start_period: float = 0.0
    interval: float = 5.0
    retries: int = 3


# ---------------------------------------------------------------------- probers and modules
def collect_probers(ctx: Context) -> dict[str, Any]:
    """Every prober the installed plugins contribute, by name: a broken answer or a second prober of a
    name is a warning naming its plugin (``pm.collect``), never a crash."""
    def valid(prober: Any) -> str | None:
        if not isinstance(getattr(prober, "name", None), str) or not callable(getattr(prober, "probe", None)):
            return "a prober needs a name and probe()"
        return None

    return {prober.name: prober for prober in ctx.pm.collect("aetherops_probe_modules", validate=valid)}


def load_modules(ctx: Context, probers: dict[str, Any], config_path: str | None) -> tuple[dict[str, ProbeModule], str]:
    """Modules by name and a description of where they came from.

    ``--config FILE`` alone, else: the built-in ``http_2xx``/``tcp_connect``, overridden by the
    profile's ``blackbox.config_file``, overridden by the profile's ``probe_modules:``.
    A prober's own name is a module with empty options.
    """
    def builtin_where(keypath):
        return "built-in modules", None

    modules: dict[str, ProbeModule] = {}
    for name in probers:
        try:
            modules.update(build_modules({name: {"prober": name}}, builtin_where, probers, source="prober"))
        except ConfigError:
            pass  # a prober that needs options works only through modules that give them
    modules.update(build_modules(BUILTIN_MODULES, builtin_where, probers, source="built-in"))
    sources = ["built-in"]
    if config_path:
        path = Path(config_path)
        raw, where = load_blackbox_config(path)
        modules.update(build_modules(raw, where, probers, source=str(path), base_dir=path.resolve().parent))
        return modules, str(path)
    profile = ctx.profile
    bb_file = (profile.data.get("blackbox") or {}).get("config_file")
    if bb_file:
        from aetherops.profiles import _resolve_path

        path = _resolve_path(bb_file, profile.path)
        raw, where = load_blackbox_config(path)
        modules.update(build_modules(raw, where, probers, source=str(path), base_dir=path.resolve().parent))
        sources.append(str(path))
    profile_modules = profile.section("probe_modules") or {}
    if profile_modules:
        if profile.lines is not None:
            def where(keypath):
                return profile.lines.where(("probe_modules", *keypath))
        else:
            def where(keypath):
                return profile.path, None
        modules.update(build_modules(profile_modules, where, probers, source=str(profile.path or profile.name)))
        sources.append(f"profile '{profile.name}'")
    return modules, ", ".join(sources)


# ---------------------------------------------------------------------- targets
def plan_jobs(ctx: Context, opts: ProbeOptions, modules: dict[str, ProbeModule], sources: str) -> list[ProbeJob]:
    """The (target, module) pairs to probe, every module checked to exist before anything runs."""
    if opts.targets and opts.from_prometheus:
        raise UsageError("give TARGETs or --from-prometheus, not both")
    if opts.targets:
        _register_url_secrets(opts.targets)
        module = opts.module or DEFAULT_MODULE
        jobs = [ProbeJob(name=t, target=t, module=module) for t in opts.targets]
        if not opts.exporter:
            _check_module(module, modules, sources, None, None)
        return jobs
    if opts.from_prometheus:
        jobs = jobs_from_prometheus(ctx)
        if not jobs:
            raise FindingsError(f"Prometheus at {ctx.profile.service('prometheus').url} has no active target scraping a "
                                "blackbox_exporter /probe path")
    else:
        jobs = []
        for i, probe in enumerate(ctx.section("probes") or []):
            job = ProbeJob(name=probe.get("name") or probe["target"], target=probe["target"],
                           module=probe.get("module") or DEFAULT_MODULE,
                           labels={str(k): str(v) for k, v in (probe.get("labels") or {}).items()})
            if probe.get("timeout") not in (None, ""):
                try:
                    job.timeout = parse_duration(probe["timeout"])
                except ValueError as exc:
                    path, line = _profile_where(ctx, ("probes", i, "timeout"))
                    raise ConfigError(f"probes.{i}.timeout: {exc}", path=path, line=line) from None
            if not opts.exporter:
                path, line = _profile_where(ctx, ("probes", i, "module"))
                _check_module(job.module, modules, sources, path, line)
            jobs.append(job)
        if not jobs:
            raise UsageError(f"nothing to probe: give TARGETs, use --from-prometheus, or list probes: in profile "
                             f"'{ctx.profile.name}'")
    _register_url_secrets(j.target for j in jobs)
    if opts.module:
        jobs = [j for j in jobs if j.module == opts.module]
        if not jobs:
            raise UsageError(f"no probe uses module '{opts.module}'")
    if opts.from_prometheus and not opts.exporter:
        for job in jobs:
            _check_module(job.module, modules, sources, None, None)
    return jobs


def _register_url_secrets(targets) -> None:
    """A password in a target URL (``https://user:pw@host/``) is sent, never shown."""
    from urllib.parse import unquote, urlsplit

    from aetherops.redact import register_secret

    for target in targets:
        try:
            password = urlsplit(target).password
        except ValueError:
            continue
        if password:
            register_secret(password)
            register_secret(unquote(password))


def _profile_where(ctx: Context, keypath: tuple):
    profile = ctx.profile
    return profile.lines.where(keypath) if profile.lines is not None else (profile.path, None)


def _check_module(name: str, modules: dict[str, ProbeModule], sources: str, path, line) -> None:
    if name not in modules:
        known = ", ".join(sorted(modules)) or "none"
        raise ConfigError(f"unknown module '{name}' (modules from {sources}: {known}); define it in probe_modules:, "
                          "point blackbox.config_file or --config at your blackbox.yml, or probe with --exporter",
                          path=path, line=line)


def jobs_from_prometheus(ctx: Context) -> list[ProbeJob]:
    """Targets of Prometheus's jobs that scrape a blackbox_exporter ``/probe`` path, with their ``module`` param."""
    from urllib.parse import parse_qs, urlsplit

    data = ctx.prometheus.targets()
    jobs: list[ProbeJob] = []
    seen: set[tuple[str, str]] = set()
    for target in data.get("activeTargets") or []:
        url = urlsplit(str(target.get("scrapeUrl") or ""))
        if not url.path.rstrip("/").endswith("/probe"):
            continue
        params = parse_qs(url.query)
        probe_target = (params.get("target") or [""])[0]
        if not probe_target:
            continue
        module = (params.get("module") or [DEFAULT_MODULE])[0]
        if (probe_target, module) in seen:
            continue
        seen.add((probe_target, module))
        labels = target.get("labels") or {}
        job = labels.get("job") or target.get("scrapePool") or ""
        jobs.append(ProbeJob(name=labels.get("instance") or probe_target, target=probe_target, module=module,
                             labels={"job": job} if job else {}))
    return sorted(jobs, key=lambda j: (j.labels.get("job", ""), j.target, j.module))  # the API's order is not stable


# ---------------------------------------------------------------------- running
def job_timeout(job: ProbeJob, module: ProbeModule | None, opts: ProbeOptions) -> float:
    """``--timeout``, else the probe's own, else the module's, else 10 s."""
    for value in (opts.timeout, job.timeout, module.timeout if module else None):
        if value:
            return float(value)
    return DEFAULT_TIMEOUT


async def run_local(jobs: list[ProbeJob], modules: dict[str, ProbeModule], opts: ProbeOptions) -> list[dict]:
    """Probe every job from this machine, at most ``opts.concurrency`` at a time."""
    from concurrent.futures import ThreadPoolExecutor

    pool = asyncio.Semaphore(max(1, opts.concurrency))
    # plain (non-async) probers run in threads: as many as probes may run at once (threads start on demand)
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=max(1, opts.concurrency)))

    async def one(job: ProbeJob) -> dict:
        async with pool:
            return await probe_one(job, modules[job.module], job_timeout(job, modules[job.module], opts))

    return list(await asyncio.gather(*(one(job) for job in jobs)))


async def probe_one(job: ProbeJob, module: ProbeModule, timeout: float) -> dict:
    """One probe, never raising: a prober's exception or hang becomes a failed result."""
    started = time.perf_counter()
    raw: dict[str, Any]
    if module.prober is None:
        raw = {"success": False, "reason": f"prober '{module.prober_name}' is not implemented (no installed plugin provides "
                                           f"it; module '{module.name}' from {module.where})"}
    else:
        try:
            if inspect.iscoroutinefunction(module.prober.probe):
                call = module.prober.probe(job.target, module.options, timeout)
            else:
                call = asyncio.to_thread(module.prober.probe, job.target, module.options, timeout)
            async with time_limit(timeout + CANCEL_GRACE):  # same task: no wait_for task per probe
                raw = await call
            if not isinstance(raw, dict) or "success" not in raw:
                raw = {"success": False, "reason": f"prober '{module.prober_name}' returned {type(raw).__name__}, not a result dict"}
        except (asyncio.TimeoutError, TimeoutError):
            raw = {"success": False, "reason": f"timed out after {timeout:g}s"}
        except Exception as exc:  # noqa: BLE001 - the prober's fault: a failed probe, not a crash
            raw = {"success": False, "reason": f"prober '{module.prober_name}' failed: {type(exc).__name__}: {exc}"}
    duration = (time.perf_counter() - started) * 1000.0
    return make_result(job, raw, duration, unimplemented=module.unimplemented)


def make_result(job: ProbeJob, raw: dict, duration_ms: float, *, unimplemented=(), via: str = "local") -> dict:
    """The result record of one probe (the JSON shape, documented in docs/probe.md)."""
    expiry = raw.get("tls_earliest_cert_expiry")
    phases = raw.get("phases") or {}
    return {
        "name": job.name,
        "target": job.target,
        "module": job.module,
        "success": bool(raw.get("success")),
        "status_code": raw.get("status_code"),
        "http_version": raw.get("http_version"),
        "duration_ms": round(float(raw.get("duration_ms") or duration_ms), 3),
        "phases_ms": {p: round(float(phases.get(p) or 0.0), 3) for p in PHASES},
        "tls_earliest_cert_expiry": expiry,
        "tls_expiry_days": round((expiry - time.time()) / 86400.0, 2) if expiry else None,
        "reason": None if raw.get("success") else (raw.get("reason") or "failed (no reason given)"),
        "labels": dict(job.labels),
        "unimplemented_options": list(unimplemented),
        "via": via,
    }


def apply_min_tls_days(results: list[dict], min_days: float | None) -> None:
    """A certificate expiring within ``min_days`` turns its probe into a failure."""
    if min_days is None:
        return
    for result in results:
        days = result["tls_expiry_days"]
        if result["success"] and days is not None and days < min_days:
            result["success"] = False
            result["reason"] = f"TLS certificate expires in {days:.1f} days (--min-tls-days {min_days:g})"


def run_round(ctx: Context, jobs: list[ProbeJob], modules: dict[str, ProbeModule], opts: ProbeOptions) -> list[dict]:
    if opts.exporter:
        from aetherops_plugins.probe.exporter import run_via_exporter

        results = run_via_exporter(ctx, jobs, opts, lambda job: job_timeout(job, modules.get(job.module), opts))
    else:
        results = asyncio.run(run_local(jobs, modules, opts))
    apply_min_tls_days(results, opts.min_tls_days)
    return results


# ---------------------------------------------------------------------- the command
def run_probe_command(ctx: Context, opts: ProbeOptions) -> None:
    """Everything ``aetherops probe`` does: plan, (wait and) probe, render, exit 1 when any failed."""
    probers = collect_probers(ctx)
    modules, sources = load_modules(ctx, probers, opts.config)
    jobs = plan_jobs(ctx, opts, modules, sources)
    if not opts.exporter:
        for name in sorted({j.module for j in jobs}):
            if modules[name].unimplemented:
                ctx.output.warn(f"module '{name}' ({modules[name].where}): not implemented by aetherops probe, probed without: "
                                f"{', '.join(modules[name].unimplemented)}")
    if opts.wait:
        results, verdict = wait_until_healthy(ctx, jobs, modules, opts)
    else:
        results, verdict = run_round(ctx, jobs, modules, opts), None
    render(ctx, results, opts)
    failed = [r for r in results if not r["success"]]
    if failed:
        first = failed[0]
        summary = f"{len(failed)} of {len(results)} probes failed (first: {first['name']}: {first['reason']})"
        raise FindingsError(f"{verdict}: {summary}" if verdict else summary)


def wait_until_healthy(ctx: Context, jobs, modules, opts: ProbeOptions) -> tuple[list[dict], str | None]:
    """Docker HEALTHCHECK semantics: probe every ``interval``; failures during ``start_period`` do not count;
    healthy at the first round where every probe succeeds; unhealthy after ``retries`` counted failures in a row."""
    started = time.monotonic()
    counted = 0
    attempt = 0
    tty = sys.stderr.isatty()
    while True:
        attempt += 1
        round_started = time.monotonic()
        results = run_round(ctx, jobs, modules, opts)
        failed = [r for r in results if not r["success"]]
        elapsed = time.monotonic() - started
        if not failed:
            if tty:
                ctx.output.note(f"probe: healthy after {attempt} attempt(s), {elapsed:.1f}s")
            return results, None
        in_start = elapsed < opts.start_period
        if not in_start:
            counted += 1
        if tty:
            state = "in start period, not counted" if in_start else f"failure {counted} of {opts.retries}"
            ctx.output.note(f"probe: attempt {attempt} at {elapsed:.1f}s: {len(failed)} of {len(results)} failing "
                            f"({failed[0]['name']}: {failed[0]['reason']}); {state}")
        if counted >= opts.retries:
            return results, f"unhealthy after {counted} consecutive failures ({attempt} attempts, {elapsed:.1f}s)"
        time.sleep(max(0.0, opts.interval - (time.monotonic() - round_started)))


# ---------------------------------------------------------------------- output
def render(ctx: Context, results: list[dict], opts: ProbeOptions) -> None:
    if opts.fmt == "prometheus":
        from aetherops.output import echo_lines

        echo_lines(exposition(results).splitlines())
        return
    failed = sum(1 for r in results if not r["success"])
    data = {"total": len(results), "failed": failed, "probes": results}

    def text() -> None:
        rows = []
        for r in results:
            phases = r["phases_ms"]
            rows.append({**r, "ok": "yes" if r["success"] else "NO", **{f"{p}_ms": _ms(phases[p]) for p in PHASES},
                         "total_ms": _ms(r["duration_ms"]),
                         "tls_days": "" if r["tls_expiry_days"] is None else f"{r['tls_expiry_days']:.0f}"})
        named = [("name", "NAME")] if any(r["name"] != r["target"] for r in results) else []
        ctx.output.table(rows, [*named, ("target", "TARGET"), ("module", "MODULE"), ("ok", "OK"),
                                ("status_code", "STATUS"), ("total_ms", "TOTAL ms"), ("resolve_ms", "RESOLVE"),
                                ("connect_ms", "CONNECT"), ("tls_ms", "TLS"), ("processing_ms", "PROCESSING"),
                                ("transfer_ms", "TRANSFER"), ("tls_days", "CERT DAYS"), ("reason", "REASON")],
                         styles={"ok": lambda ok: "green" if ok == "yes" else "red"})
        ctx.output.line(f"{len(results) - failed} of {len(results)} probes succeeded")

    ctx.output.result(data, text)


def _ms(value: float) -> str:
    return f"{value:.1f}"


_HELP = {
    "probe_success": "Displays whether or not the probe was a success",
    "probe_duration_seconds": "Returns how long the probe took to complete in seconds",
    "probe_http_status_code": "Response HTTP status code",
    "probe_ssl_earliest_cert_expiry": "Returns last SSL chain expiry in unixtime",
    "probe_http_duration_seconds": "Duration of http request by phase, summed over all redirects",
    "probe_http_version": "Returns the version of HTTP of the probe response",
}


def exposition(results: list[dict]) -> str:
    """Prometheus text exposition with blackbox_exporter's metric names; each series labelled with
    ``instance`` (the target), ``module`` and the probe's own labels (for node_exporter's textfile collector)."""
    series: dict[str, list[str]] = {name: [] for name in _HELP}
    for r in results:
        labels = {"instance": r["target"], "module": r["module"], **{k: v for k, v in r["labels"].items()
                                                                     if k not in ("instance", "module")}}
        base = ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels.items())
        series["probe_success"].append(f"probe_success{{{base}}} {1 if r['success'] else 0}")
        series["probe_duration_seconds"].append(f"probe_duration_seconds{{{base}}} {_num(r['duration_ms'] / 1000.0)}")
        if r["status_code"] is not None or r["http_version"] is not None:
            series["probe_http_status_code"].append(f"probe_http_status_code{{{base}}} {r['status_code'] or 0}")
            if r["http_version"]:  # "HTTP/2.0" -> 2, "HTTP/1.1" -> 1.1, like the exporter
                series["probe_http_version"].append(f"probe_http_version{{{base}}} {_num(float(r['http_version'].split('/')[-1]))}")
            for phase in PHASES:
                series["probe_http_duration_seconds"].append(
                    f'probe_http_duration_seconds{{{base},phase="{phase}"}} {_num(r["phases_ms"][phase] / 1000.0)}')
        if r["tls_earliest_cert_expiry"]:
            series["probe_ssl_earliest_cert_expiry"].append(
                f"probe_ssl_earliest_cert_expiry{{{base}}} {_num(float(r['tls_earliest_cert_expiry']))}")
    lines: list[str] = []
    for name, samples in series.items():
        if samples:
            lines += [f"# HELP {name} {_HELP[name]}", f"# TYPE {name} gauge", *samples]
    return "\n".join(lines) + "\n"


def _escape_label(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return "NaN"
    return repr(round(value, 6)) if value != int(value) else str(int(value))
