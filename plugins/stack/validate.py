"""``aetherops validate``: the pre-deploy gate, as a checklist of rows.

Every row is ``{check, target, status, detail}`` with status ``ok``, ``fail``, ``warn`` or ``skip``. The rows,
in order: each config file exists and parses (``file``); rule files and Alertmanager configs pass the lint
plugin's checks (``lint``) and, when on PATH, ``promtool check config/rules`` / ``amtool check-config``; the
Alertmanager's receivers send somewhere (``receivers``); every service is healthy (``health``, the health
plugin's checks); the rule groups Prometheus has loaded match the files (``rules_loaded``); the Alertmanager runs its config file (``alertmanager_config``); every secret reference
resolves (``secret``: env var set, file readable; never the value); the version pins hold (``version``).
A row that cannot be decided because something it needs failed is ``skip``, naming what.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

from aetherops.errors import ConfigError, ServiceError
from aetherops_plugins.stack import state
from aetherops_plugins.stack.api import ConfigFile, config_file_problem

STATUSES = ("ok", "warn", "fail", "skip")
#: keys under a profile's service sections, and in prometheus.yml / alertmanager.yml, that name a secret file
_SECRET_FILE_BASES = {"password", "bearer_token", "credentials", "api_key", "api_url", "auth_token", "token", "key",
                      "client_secret", "routing_key", "service_key", "user_key", "bot_token", "webhook_url"}
TOOL_TIMEOUT = 60.0


def _row(check: str, target: str, status: str, detail: str = "") -> dict[str, str]:
    return {"check": check, "target": target, "status": status, "detail": detail}


def profile_config_files(ctx) -> list[ConfigFile]:
    """The stack plugin's own entries of ``aetherops_config_files``: what the profile's core sections name."""
    out = []
    prom = ctx.section("prometheus")
    if prom.config_file:
        out.append(ConfigFile("prometheus.config_file", prom.config_file, "prometheus"))
    for i, path in enumerate(state.rule_files(ctx)):
        out.append(ConfigFile(f"prometheus.rule_files[{i}]", path, "rules"))
    if ctx.section("alertmanager").config_file:
        out.append(ConfigFile("alertmanager.config_file", ctx.section("alertmanager").config_file, "alertmanager"))
    if ctx.section("blackbox").config_file:
        out.append(ConfigFile("blackbox.config_file", ctx.section("blackbox").config_file, "yaml"))
    return out


class Validation:
    """One run of the gate over the selected profile."""

    def __init__(self, ctx, *, strict: bool = False):
        self.ctx = ctx
        self.strict = strict
        self.rows: list[dict[str, str]] = []
        self.parsed: dict[str, Any] = {}  # config file name -> parsed data (files that parsed)
        self.files: list[ConfigFile] = []
        self.health: dict[str, dict] = {}

    def add(self, *args: str) -> None:
        self.rows.append(_row(*args))

    # ------------------------------------------------------------------ the rows
    def run(self) -> list[dict[str, str]]:
        for name in ("prometheus", "alertmanager", "blackbox", "versions"):  # a profile error is exit 4 here, not a
            self.ctx.section(name)                                           # plugin failing inside the hook below
        self.check_files()
        self.check_lint()
        self.check_tools()
        self.check_receivers()
        self.check_health()
        self.check_rules_loaded()
        self.check_alertmanager_config()
        self.check_secrets()
        self.check_versions()
        return self.rows

    def check_files(self) -> None:
        self.files = self.ctx.pm.collect("aetherops_config_files", validate=config_file_problem, context=self.ctx)
        if not self.files:
            self.add("file", "-", "skip", "the profile names no config file (prometheus.config_file, rule_files, "
                                          "alertmanager.config_file)")
        for item in self.files:
            path = state.resolve(str(item.path))
            try:
                data = _parse(path, item.kind)
            except ValueError as exc:
                self.add("file", item.name, "fail", f"{path}: {exc}")
                continue
            self.parsed[item.name] = data
            self.add("file", item.name, "ok", str(path))

    def _paths(self, *kinds: str) -> list[Path]:
        return [state.resolve(str(f.path)) for f in self.files if f.kind in kinds and f.name in self.parsed]

    def check_lint(self) -> None:
        paths = self._paths("rules", "alertmanager")
        if not paths:
            return
        if not state.lint_loaded(self.ctx.pm):
            self.add("lint", "-", "skip", "the lint plugin is not loaded")
            return
        from aetherops_plugins.lint.api import lint_files

        report = lint_files(self.ctx, paths)
        by_file: dict[str, list] = {}
        for finding in report.findings:
            by_file.setdefault(str(Path(finding.file).resolve()), []).append(finding)
        for path in paths:
            findings = by_file.pop(str(path.resolve()), [])
            self.add("lint", str(path), *_lint_status(findings))
        for file, findings in sorted(by_file.items()):  # cross-file findings on a file we did not name
            self.add("lint", file, *_lint_status(findings))

    def check_tools(self) -> None:
        """promtool/amtool on the files, concurrently (each is a process start: most of validate's time otherwise)."""
        jobs = [("promtool", ["check", "config", "--syntax-only", str(p)], str(p)) for p in self._paths("prometheus")]
        rules = self._paths("rules")
        if rules:
            jobs.append(("promtool", ["check", "rules", *map(str, rules)], "rule files"))
        jobs += [("amtool", ["check-config", str(p)], str(p)) for p in self._paths("alertmanager")]
        results: dict[int, tuple] = {}
        # daemon threads, like health's: Ctrl-C ends the command now, not after the tools
        threads = [threading.Thread(target=lambda i=i, job=job: results.__setitem__(i, _tool(*job)), daemon=True)
                   for i, job in enumerate(jobs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.1)
        for i in range(len(jobs)):
            self.add(*results[i])

    def check_receivers(self) -> None:
        """Receivers configured: each one's integrations; the catch-all route's receiver must send somewhere."""
        for item in self.files:
            data = self.parsed.get(item.name)
            if item.kind != "alertmanager" or data is None:
                continue
            raw = data.get("receivers")
            receivers = {str(r.get("name")): sorted(str(k)[:-len("_configs")] for k, v in r.items() if str(k).endswith("_configs") and v)
                         for r in (raw if isinstance(raw, list) else []) if isinstance(r, dict)}
            listing = ", ".join(f"{name} ({'+'.join(kinds) or 'no integration'})" for name, kinds in receivers.items())
            root = str(data["route"].get("receiver"))
            if not receivers:
                self.add("receivers", item.name, "fail", "no receivers")
            elif root in receivers and not receivers[root]:
                self.add("receivers", item.name, "warn",
                         f"the catch-all route's receiver '{root}' has no integration: unmatched alerts go nowhere; {listing}")
            else:
                self.add("receivers", item.name, "ok", listing)

    def check_health(self) -> None:
        from aetherops_plugins.health.checks import SERVICES, check_services

        usable = []
        for service in SERVICES:
            if not self.ctx.profile.has_service(service):
                continue
            try:
                self.ctx.client(service)
            except ConfigError as exc:
                self.add("health", service, "fail", f"not checked: {exc.format_message()}")
                continue
            usable.append(service)
        if not usable and not any(r["check"] == "health" for r in self.rows):
            self.add("health", "-", "skip", "the profile names no service url")
        for result in check_services(self.ctx, usable):
            self.health[result["service"]] = result
            detail = f"{result['version'] or 'version unknown'}, {result['latency_ms']} ms" if result["ok"] else result["error"]
            self.add("health", result["service"], "ok" if result["ok"] else "fail", detail or "")

    def _healthy(self, service: str) -> bool:
        return bool(self.health.get(service, {}).get("ok"))

    def check_rules_loaded(self) -> None:
        rule_files = [f for f in self.files if f.kind == "rules"]
        if not rule_files:
            return
        if not self._healthy("prometheus"):
            self.add("rules_loaded", "prometheus", "skip", "prometheus is not healthy")
            return
        unreadable = [f.name for f in rule_files if f.name not in self.parsed]
        if unreadable:
            self.add("rules_loaded", "prometheus", "skip", f"{', '.join(unreadable)} did not parse")
            return
        disk = state.read_rule_groups([state.resolve(str(f.path)) for f in rule_files])
        try:
            loaded = state.loaded_rule_groups(self.ctx.prometheus)
        except ServiceError as exc:
            self.add("rules_loaded", "prometheus", "fail", exc.format_message())
            return
        problems = state.compare_groups(disk.groups, loaded) + [f"group '{g}' is in two files" for g in disk.duplicates]
        if problems:
            self.add("rules_loaded", "prometheus", "fail", "; ".join(problems) + " (reload prometheus?)")
        else:
            total = sum(len(r) for r in loaded.values())
            self.add("rules_loaded", "prometheus", "ok", f"{len(loaded)} group(s), {total} rule(s) as on disk")

    def check_alertmanager_config(self) -> None:
        entry = next((f for f in self.files if f.name == "alertmanager.config_file"), None)
        if entry is None:
            return
        if not self._healthy("alertmanager"):
            self.add("alertmanager_config", "alertmanager", "skip", "alertmanager is not healthy")
            return
        if entry.name not in self.parsed:
            self.add("alertmanager_config", "alertmanager", "skip", "alertmanager.config_file did not parse")
            return
        client = self.ctx.alertmanager
        peers = client.peers if getattr(client, "is_cluster", False) else [client]
        for peer in peers:  # every peer of a cluster runs its own copy of the file
            same, detail = state.alertmanager_matches_file(peer, state.resolve(str(entry.path)))
            target = peer.base_url if len(peers) > 1 else "alertmanager"
            self.add("alertmanager_config", target, {True: "ok", False: "fail", None: "warn"}[same], detail)

    def check_secrets(self) -> None:
        profile = self.ctx.profile
        for problem in profile.unresolved:  # ${VAR} written in the profile and unset: a row like token_env's
            self.add("secret", problem["key"], "fail", problem["text"])
        for label, keypath, base in _profile_secret_refs(profile.data):
            if base is None:  # a TLS file: it must be readable
                self.add("secret", label, *_readable(state.resolve(str(_get(profile.data, keypath)))))
                continue
            try:  # the core resolves it as a client would (registered for redaction, never shown)
                found = profile.secret(keypath, base)
            except ConfigError as exc:
                self.add("secret", label, "fail", exc.format_message())
                continue
            except ValueError:  # a NUL byte in a file name
                self.add("secret", label, "fail", "not a usable file name")
                continue
            if found is None:  # inside a list (probes: [...]), which Profile.secret does not walk
                self.add("secret", label, *_listed_ref(_get(profile.data, keypath), base))
            else:
                self.add("secret", label, "ok", "resolves")
        for item in self.files:
            data = self.parsed.get(item.name)
            if item.kind in ("prometheus", "alertmanager") and data is not None:
                base_dir = state.resolve(str(item.path)).parent
                for label, value in _config_secret_files(data):
                    self.add("secret", f"{item.name}: {label}", *_readable(state.resolve(value, base_dir)))

    def check_versions(self) -> None:
        from aetherops_plugins.stack.versions import satisfies

        pins = {k: v for k, v in dict(self.ctx.section("versions")).items() if v not in (None, "")}
        for service, pin in pins.items():
            result = self.health.get(service)
            if result is None or not result["ok"]:
                self.add("version", service, "skip", f"pinned {pin}; {service} is not healthy" if self.ctx.profile.has_service(service)
                         else f"pinned {pin}; the profile has no {service}.url")
            elif not result.get("version"):
                self.add("version", service, "warn", f"pinned {pin}; {service} does not report its version")
            elif satisfies(result["version"], str(pin)):
                self.add("version", service, "ok", f"{result['version']} (pinned {pin})")
            else:
                self.add("version", service, "fail", f"{result['version']} does not match the pin {pin}")

    # ------------------------------------------------------------------ the verdict
    def failed(self) -> list[dict[str, str]]:
        bad = ("fail", "warn") if self.strict else ("fail",)
        return [r for r in self.rows if r["status"] in bad]

    def summary(self) -> dict[str, int]:
        return {s: sum(1 for r in self.rows if r["status"] == s) for s in STATUSES}


# ---------------------------------------------------------------------- helpers
def _parse(path: Path, kind: str) -> Any:
    if kind == "json":
        from aetherops import yamlsafe

        try:
            return yamlsafe.load_json(path.read_bytes())
        except FileNotFoundError:
            raise ValueError("no such file") from None
        except OSError as exc:
            raise ValueError(f"cannot read: {exc.strerror}") from None
        except yamlsafe.InputError as exc:
            raise ValueError(str(exc)) from None
        except ValueError:
            raise ValueError("not a usable file name") from None
    data = state.load_yaml_file(path)
    if kind in ("prometheus", "alertmanager", "rules") and not isinstance(data, dict):
        raise ValueError(f"not a {'rule file' if kind == 'rules' else kind + ' config'}: the top level must be a mapping")
    if kind == "rules" and not isinstance(data.get("groups"), list):
        raise ValueError("not a rule file: no 'groups:' list")
    if kind == "alertmanager" and not isinstance(data.get("route"), dict):
        raise ValueError("not an Alertmanager config: no 'route:' mapping")
    return data


def _lint_status(findings: list) -> tuple[str, str]:
    errors = [f for f in findings if f.severity == "error"]
    warnings = [f for f in findings if f.severity == "warning"]
    if not errors and not warnings:
        return "ok", "no findings" if not findings else f"{len(findings)} info"
    first = (errors or warnings)[0]
    where = f"line {first.line}: " if first.line else ""
    return ("fail" if errors else "warn",
            f"{len(errors)} error(s), {len(warnings)} warning(s); {where}{first.check}: {first.message}")


def _tool(name: str, args: list[str], target: str) -> tuple[str, str, str, str]:
    """Run ``name args`` (when on PATH): the row it gives."""
    binary = shutil.which(name)
    if binary is None:
        return name, target, "skip", f"{name} is not on PATH"
    try:
        done = subprocess.run([binary, *args], capture_output=True, text=True, encoding="utf-8", errors="replace",
                              timeout=TOOL_TIMEOUT, check=False)
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        return name, target, "fail", f"{name} did not run: {exc}"
    if done.returncode == 0:
        return name, target, "ok", _last_line(done.stdout) or "SUCCESS"
    return name, target, "fail", _first_problem(done.stderr or done.stdout) or f"exit {done.returncode}"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _first_problem(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("Checking")]
    return " ".join(lines[:2])[:300]


def _readable(path: Path) -> tuple[str, str]:
    import os

    try:
        if not path.is_file():
            return "fail", f"no such file {path}"
        if not os.access(path, os.R_OK):
            return "fail", f"{path} is not readable"
    except (OSError, ValueError):  # a NUL byte, a name too long
        return "fail", f"{str(path)[:200]!r} is not a usable file name"
    return "ok", f"{path} is readable"


def _profile_secret_refs(data: Any, keypath: tuple = ()):
    """``(label, keypath, base)`` for every secret reference of a profile: ``<base>_env`` / ``<base>_file`` keys whose
    base names a secret (``token_env``, ``password_file``...), once per base; TLS files with ``base`` None."""
    if isinstance(data, dict):
        seen = set()
        for key, value in data.items():
            key = str(key)
            if isinstance(value, (dict, list)):
                yield from _profile_secret_refs(value, keypath + (key,))
                continue
            if not isinstance(value, str) or not value:
                continue
            base, _, suffix = key.rpartition("_")
            if suffix in ("env", "file") and _secret_base(base) and base not in seen:
                seen.add(base)
                yield ".".join(map(str, keypath + (key,))), keypath, base
            elif suffix == "file" and "tls" in keypath:
                yield ".".join(map(str, keypath + (key,))), keypath + (key,), None
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _profile_secret_refs(value, keypath + (i,))


def _listed_ref(mapping: dict, base: str) -> tuple[str, str]:
    import os

    env = mapping.get(f"{base}_env")
    if env:
        ok = os.environ.get(str(env)) is not None
        return ("ok", "resolves") if ok else ("fail", f"environment variable {env} is not set")
    return _readable(state.resolve(str(mapping.get(f"{base}_file"))))


def _get(data: Any, keypath: tuple) -> Any:
    for key in keypath:
        data = data[key]
    return data


def _secret_base(base: str) -> bool:
    from aetherops.redact import is_secret_key

    return is_secret_key(base) or base in _SECRET_FILE_BASES


def _config_secret_files(data: Any, keypath: tuple = ()):
    """``(label, path)`` of the secret files a prometheus.yml / alertmanager.yml reads (``password_file``,
    ``credentials_file``, ``api_url_file``...)."""
    if isinstance(data, dict):
        for key, value in data.items():
            key = str(key)
            if isinstance(value, (dict, list)):
                yield from _config_secret_files(value, keypath + (key,))
            elif key.endswith("_file") and isinstance(value, str) and value and _secret_base(key[:-5]):
                yield ".".join(map(str, keypath + (key,))), value
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _config_secret_files(value, keypath + (str(i),))
