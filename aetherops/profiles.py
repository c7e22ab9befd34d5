"""Environment profiles: where the stack is, how to reach it, and what plugins need.

A profile is one YAML file (``profiles/NAME.yaml``). Loading a profile:

1. finds the file in the search path (``--profiles-dir``, ``AETHEROPS_PROFILES_DIR``,
   ``./profiles``, the user config dir, the profiles shipped with aetherops),
2. merges ``extends: OTHER`` chains (dicts deep-merged, lists replaced),
3. expands ``${ENV}`` / ``${ENV:-default}`` in strings,
4. refuses inline secrets and resolves secret references (``*_env``, ``*_file``),
5. validates every declared section (types, unknown keys) and fills defaults.

Every error is a :class:`ConfigError` naming the file and line (exit code 4).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from aetherops.errors import ConfigError
from aetherops.redact import is_secret_header, is_secret_key, redact_data, register_secret

PROFILE_SUFFIXES = (".yaml", ".yml")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_MISSING = object()


@dataclass(frozen=True)
class Field:
    """One key of a profile section: its type, default, description and what values are valid.

    ``choices``: the allowed values; ``min``/``max``: inclusive bounds of a number; ``validator``: a callable
    that receives the (coerced) value and returns None when it is fine, or a message saying what it must be
    (``"must be greater than 0"``); its docstring's first line is shown in docs/profiles.md. NaN is never a
    valid number. A value that breaks a rule is a ConfigError naming the file and line (exit 4).
    """

    type: Any = str
    default: Any = None
    description: str = ""
    choices: tuple | None = None
    required: bool = False
    min: float | None = None
    max: float | None = None
    validator: Callable[[Any], str | None] | None = None

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` (already coerced to the type), or None."""
        if value is None:
            return None
        if isinstance(value, float) and math.isnan(value):
            return "must be a number, not NaN"
        if self.choices and value not in self.choices:
            return f"must be one of {', '.join(map(str, self.choices))}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.min is not None and value < self.min:
                return f"must be at least {_num(self.min)}"
            if self.max is not None and value > self.max:
                return f"must be at most {_num(self.max)}"
        if self.validator is not None:
            try:
                message = self.validator(value)
            except (TypeError, ValueError) as exc:
                message = str(exc)
            if message:
                return str(message)
        return None

    def rules_text(self) -> str:
        """The constraints in words, for docs/profiles.md."""
        parts = []
        if self.min is not None and self.max is not None:
            parts.append(f"From {_num(self.min)} to {_num(self.max)}.")
        elif self.min is not None:
            parts.append(f"At least {_num(self.min)}.")
        elif self.max is not None:
            parts.append(f"At most {_num(self.max)}.")
        if self.choices:
            parts.append(f"One of: {', '.join(map(str, self.choices))}.")
        if self.validator is not None and (self.validator.__doc__ or "").strip():
            parts.append(self.validator.__doc__.strip().splitlines()[0])
        return " ".join(parts)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def positive(value: float) -> str | None:
    """Greater than 0."""
    return None if value > 0 else "must be greater than 0"


@dataclass(frozen=True)
class ProfileSection:
    """A top-level profile key that a plugin reads, declared through
    ``aetherops_profile_sections``. ``many=True`` means the section is a list
    of mappings (e.g. ``probes:``), each validated against ``fields``."""

    name: str
    fields: Mapping[str, Field]
    description: str = ""
    many: bool = False
    allow_extra: bool = False


_TLS = {
    "verify": Field(bool, True, "Verify the server certificate."),
    "ca_file": Field(str, None, "CA bundle to verify the server with."),
    "cert_file": Field(str, None, "Client certificate (mutual TLS)."),
    "key_file": Field(str, None, "Client certificate key (mutual TLS)."),
}
_AUTH = {
    "token": Field(str, None, "A bearer token, only as a reference: `token: ${VAR}`."),
    "password": Field(str, None, "The basic-auth password, only as a reference: `password: ${VAR}`."),
    "token_env": Field(str, None, "Environment variable holding a bearer token."),
    "token_file": Field(str, None, "File holding a bearer token."),
    "bearer_token_env": Field(str, None, "Alias of token_env."),
    "bearer_token_file": Field(str, None, "Alias of token_file."),
    "username": Field(str, None, "Basic-auth user name."),
    "password_env": Field(str, None, "Environment variable holding the basic-auth password."),
    "password_file": Field(str, None, "File holding the basic-auth password."),
}


def _service_fields(**extra: Field) -> dict[str, Field]:
    fields = {
        "url": Field(str, None, "Base URL of the service (with any path prefix)."),
        "headers": Field(dict, {}, "Extra HTTP headers, e.g. X-Scope-OrgID for Mimir/Cortex/Thanos tenants."),
        "tls": Field(dict, {}, "TLS settings: verify, ca_file, cert_file, key_file."),
        "timeout": Field(float, 10.0, "Seconds before a request times out.", validator=positive),
        "retries": Field(int, 3, "Retries after the first attempt for transient failures (connect errors, timeouts, 429/502/503/504), with jittered backoff and Retry-After honoured; 0: no retry.", min=0),
        "auth": Field(dict, {}, "Secret references: token_env/token_file, or username with password_env/password_file."),
    }
    fields.update(extra)
    return fields


def _url_fault(url: Any) -> tuple[str, Any] | None:
    """What is wrong with a service URL, if anything: ("invalid", error), ("scheme", None), ("password", parts)
    or ("username", parts). A service URL is http(s)://host[:port][/prefix] and carries no credentials; one check
    for `<service>.url` and `alertmanager.urls`, each wording its own message."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(str(url))
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        return "invalid", exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "scheme", None
    if parts.password is not None:
        return "password", parts
    if parts.username is not None:
        return "username", parts
    return None


def _peer_urls(value: list) -> str | None:
    """Each an http:// or https:// URL with a host and no credentials."""
    for item in value:
        fault = _url_fault(item)
        if fault is None and isinstance(item, str):
            continue
        kind, detail = fault or ("scheme", None)
        if kind == "invalid":
            return f"has an invalid URL {str(item)!r} ({detail})"
        if kind == "scheme" or not isinstance(item, str):
            return f"must list http:// or https:// URLs with a host, not {item!r}"
        return f"has a URL with credentials in it ({detail.hostname}); use auth.username with auth.password_env"
    return None


CORE_SECTIONS: tuple[ProfileSection, ...] = (
    ProfileSection(
        "prometheus",
        _service_fields(
            config_file=Field(str, None, "prometheus.yml the server runs from (on this machine)."),
            rule_files=Field(list, [], "Globs of the rule files the server loads."),
            data_dir=Field(str, None, "The server's --storage.tsdb.path, when on this machine."),
        ),
        "Prometheus or a Prometheus-compatible API (Thanos, Mimir, Cortex, VictoriaMetrics).",
    ),
    ProfileSection(
        "alertmanager",
        _service_fields(config_file=Field(str, None, "alertmanager.yml the server runs from."),
                        urls=Field(list, [], "Every peer of one Alertmanager gossip cluster (HA); reads fail over to the next "
                                   "peer. `url`, when given too, is tried first.", validator=_peer_urls)),
        "Alertmanager (v2 API).",
    ),
    ProfileSection("grafana", _service_fields(org_id=Field(int, None, "Grafana organisation id (X-Grafana-Org-Id).")), "Grafana."),
    ProfileSection("blackbox", _service_fields(config_file=Field(str, None, "blackbox.yml the exporter runs from (its modules).")),
                   "blackbox_exporter, the prober Prometheus scrapes for probe results (optional)."),
)
SERVICES = ("prometheus", "alertmanager", "grafana", "blackbox")
_RESERVED_KEYS = {"extends", "default", "description"}


# ---------------------------------------------------------------- YAML with lines
class _Lines:
    """Line numbers of keys, by path, for error messages."""

    def __init__(self, path: Path):
        self.path = path
        self.by_path: dict[tuple, int] = {}

    def line(self, keypath: Iterable) -> int | None:
        keypath = tuple(keypath)
        while keypath:
            if keypath in self.by_path:
                return self.by_path[keypath]
            keypath = keypath[:-1]
        return None


def _load_yaml(path: Path) -> tuple[Any, _Lines]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read profile: {exc.strerror}", path=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        what = "a binary file, not YAML" if b"\0" in raw[:8192] else f"not valid UTF-8 at byte {exc.start}"
        raise ConfigError(f"profile is {what}", path=path) from None
    lines = _Lines(path)
    cache = _ParseCache(path, raw)
    cached = cache.load()
    if cached is not None:
        data, lines.by_path = cached
        return data, lines
    data, lines = _parse_yaml(path, text, lines)
    cache.save(data, lines)
    return data, lines


class _ParseCache:
    """The parsed form of one profile file (data and key lines), kept in the user cache dir and keyed by the
    file's content (size and CRC-32), so a command that only reads a profile does not import PyYAML at all
    (about 8 ms of the 0.1 s ``aetherops maintenance`` takes). Only files that hold no inline secret are cached:
    they are refused when loaded anyway, and a refused value must never land in a file. The cache holds what
    the file holds, before ``${VAR}`` expansion, so no secret from the environment either.
    ``AETHEROPS_NO_PROFILE_CACHE=1`` turns it off; any problem with it means parsing the YAML, as without it."""

    VERSION = 1

    def __init__(self, path: Path, raw: bytes):
        import zlib

        self.key = [self.VERSION, len(raw), zlib.crc32(raw)]
        self.file = None
        if os.environ.get("AETHEROPS_NO_PROFILE_CACHE", "").lower() not in ("1", "true", "yes"):
            from aetherops.__main__ import cache_dir  # the user cache dir the help and entry-point caches use

            ident = zlib.crc32(os.fsencode(os.path.abspath(path)))
            self.file = os.path.join(cache_dir(), f"profile-{ident:08x}.marshal")

    def load(self) -> tuple[Any, dict] | None:
        if self.file is None:
            return None
        from aetherops.__main__ import load_cache

        cached = load_cache(self.file)
        try:
            if cached is not None and cached["key"] == self.key and isinstance(cached["data"], dict) \
                    and isinstance(cached["lines"], dict):
                return cached["data"], cached["lines"]
        except (KeyError, TypeError):
            pass
        return None

    def save(self, data: Any, lines: _Lines) -> None:
        if self.file is None or not isinstance(data, dict):
            return
        try:
            merged = _MergedLines(lines)
            _refuse_inline_secrets(data, (), merged)
            _refuse_unsafe_urls(data, (), merged)
        except ConfigError:
            return
        from aetherops.__main__ import store_cache

        try:
            store_cache(self.file, {"key": self.key, "data": data, "lines": lines.by_path})
        except ValueError:  # a value marshal does not take (a YAML timestamp): parse this file each time
            pass


def _parse_yaml(path: Path, text: str, lines: _Lines) -> tuple[Any, _Lines]:
    import yaml

    from aetherops import yamlsafe

    try:
        node = yamlsafe.compose(text)
    except yamlsafe.InputError as exc:
        raise ConfigError(f"invalid YAML: {exc.message}", path=path, line=exc.line) from None
    if node is None:
        return {}, lines
    try:
        data = _construct(node, (), lines, yamlsafe.safe_loader()(""))
    except yaml.YAMLError as exc:  # bad scalar such as an invalid timestamp
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"invalid YAML: {getattr(exc, 'problem', None) or exc}", path=path,
                          line=mark.line + 1 if mark else None) from None
    return data, lines


def _construct(node, keypath: tuple, lines: _Lines, constructor):
    import yaml

    lines.by_path.setdefault(keypath, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            key = _construct(key_node, keypath, lines, constructor) if not isinstance(key_node, yaml.ScalarNode) else key_node.value
            lines.by_path[keypath + (key,)] = key_node.start_mark.line + 1
            if key in out:
                raise ConfigError(f"duplicate key '{key}'", path=lines.path, line=key_node.start_mark.line + 1)
            out[key] = _construct(value_node, keypath + (key,), lines, constructor)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, keypath + (i,), lines, constructor) for i, item in enumerate(node.value)]
    if node.tag == "tag:yaml.org,2002:str":
        return node.value
    try:
        return constructor.construct_object(node)
    except (ValueError, TypeError, OverflowError) as exc:  # 2001-13-45 looks like a date and is not one
        raise ConfigError(f"invalid YAML: bad value {node.value!r} ({exc})", path=lines.path,
                          line=node.start_mark.line + 1) from None


# ---------------------------------------------------------------- the profile
class Section(dict):
    """One profile section as a plugin reads it: ``section.concurrency`` (typed, default filled from the declared
    :class:`Field`) and, as before, ``section["concurrency"]`` / ``section.get("concurrency")``.

    Every declared key is present (its default when the profile omits it) and already valid: plugins never
    repeat defaults or re-check values. An undeclared name is an AttributeError naming the section.
    A key named like a dict method (``keys``, ``items``...) is read with ``section["keys"]``."""

    def __init__(self, name: str, data: Mapping | None = None, declared: ProfileSection | None = None):
        super().__init__(data or {})
        self.__dict__["_name"] = name
        self.__dict__["_declared"] = declared

    @property
    def declaration(self) -> ProfileSection | None:
        """The :class:`ProfileSection` the section was validated against (None: no loaded plugin declares it)."""
        return self.__dict__["_declared"]

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            declared = self.__dict__.get("_declared")
            if declared is not None and key in declared.fields:
                return declared.fields[key].default
            known = ", ".join(declared.fields) if declared is not None else ", ".join(map(str, self)) or "none"
            raise AttributeError(f"profile section '{self.__dict__['_name']}' has no key '{key}' (known: {known})") from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("a profile section is read-only; copy it with dict(section)")

    def __reduce__(self):
        return (Section, (self.__dict__["_name"], dict(self), self.__dict__["_declared"]))


@dataclass
class ServiceConfig:
    """How to reach one service: everything a client needs, secrets resolved."""

    name: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    verify: bool | str = True
    cert: tuple[str, str] | str | None = None
    timeout: float = 10.0
    retries: int = 3
    bearer_token: str | None = field(default=None, repr=False)
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)
    options: dict[str, Any] = field(default_factory=dict)

    def auth_headers(self) -> dict[str, str]:
        """Headers carrying the credentials (registered as secrets: never printed)."""
        if self.bearer_token:
            value = f"Bearer {self.bearer_token}"
        elif self.basic_auth:
            import base64

            raw = ":".join(self.basic_auth).encode("utf-8")
            value = "Basic " + base64.b64encode(raw).decode("ascii")
            register_secret(value.split(" ", 1)[1])
        else:
            return {}
        register_secret(value)
        return {"Authorization": value}


@dataclass
class Profile:
    """A loaded, merged, expanded and validated profile."""

    name: str
    path: Path | None
    data: dict[str, Any]
    lines: _MergedLines | None = field(default=None, repr=False)
    description: str = ""
    #: declared sections the file lacks although they have required keys: an error when a plugin asks for them
    missing: dict[str, list[str]] = field(default_factory=dict, repr=False)
    #: the declarations the profile was validated against, by section name
    declared: dict[str, ProfileSection] = field(default_factory=dict, repr=False)
    #: ``${VAR}`` references in secret positions whose variable is unset (the value is None in ``data``):
    #: reported by :meth:`secret_problems`, an error when a client for that service is built
    unresolved: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def section(self, name: str) -> Any:
        """The section as a :class:`Section` (attributes and dict access, defaults filled in, values valid);
        a ``many=True`` section is a list of them (``[]`` when absent).

        A declared section with required keys that the profile lacks is a ConfigError here,
        when a command needs it, not when any command loads the profile."""
        if name in self.missing:
            keys = ", ".join(f"{name}.{k}" for k in self.missing[name])
            raise ConfigError(f"profile '{self.name}' has no '{name}' section ({keys} required)", path=self.path)
        declared = self.declared.get(name)
        value = self.data.get(name)
        if declared is not None and declared.many or isinstance(value, list):
            return [Section(name, item, declared) if isinstance(item, dict) else item for item in value or []]
        if value is None and declared is not None:
            value = _defaults(declared)
        return Section(name, value if isinstance(value, dict) else {}, declared)

    def has_service(self, name: str) -> bool:
        section = self.data.get(name, {})
        return bool(section.get("url") or section.get("urls"))

    def service(self, name: str) -> ServiceConfig:
        """Resolve a service section (prometheus/alertmanager/grafana) for a client."""
        section = self.data.get(name) or {}
        url = section.get("url") or next(iter(section.get("urls") or []), None)  # alertmanager.urls: an HA cluster
        if not url:
            raise ConfigError(f"profile '{self.name}' has no {name}.url", path=self.path)
        for problem in self.unresolved:
            if problem["keypath"][0] == name:
                raise ConfigError(problem["message"], path=problem["path"], line=problem["line"])
        tls = section.get("tls") or {}
        verify: bool | str = tls.get("verify", True)

        def tls_file(key: str) -> str:
            resolved = _resolve_path(tls[key], self.path)
            if not resolved.is_file():
                tls_path, tls_line = self._where((name, "tls", key))
                raise ConfigError(f"{name}.tls.{key}: no such file {resolved}", path=tls_path, line=tls_line)
            return str(resolved)

        if verify and tls.get("ca_file"):
            verify = tls_file("ca_file")
        cert = None
        if tls.get("cert_file"):
            cert = (tls_file("cert_file"), tls_file("key_file")) if tls.get("key_file") else tls_file("cert_file")
        auth = section.get("auth") or {}
        where = self._where((name, "auth"))
        token = auth.get("token") or _secret(auth, "token", where, self.path) or _secret(auth, "bearer_token", where, self.path)
        basic = None
        if auth.get("username"):
            password = auth.get("password") or _secret(auth, "password", where, self.path)
            if password is None:
                raise ConfigError(f"{name}.auth.username needs password_env or password_file", path=where[0], line=where[1])
            basic = (str(auth["username"]), password)
        headers = {str(k): str(v) for k, v in (section.get("headers") or {}).items()}
        for key, value in headers.items():
            if is_secret_header(key):
                register_secret(value)
        options = {k: v for k, v in section.items() if k not in {"url", "headers", "tls", "timeout", "auth", "retries"}}
        return ServiceConfig(
            name=name,
            url=str(url).rstrip("/"),
            headers=headers,
            verify=verify,
            cert=cert,
            timeout=float(section.get("timeout", 10.0)),
            retries=int(section.get("retries", 3)),
            bearer_token=token,
            basic_auth=basic,
            options=options,
        )

    def _where(self, keypath) -> tuple[Path | None, int | None]:
        if self.lines is None:
            return self.path, None
        return self.lines.where(keypath)

    def secret(self, keypath: tuple, base: str) -> str | None:
        """The secret that a ``<base>_env`` / ``<base>_file`` reference in the mapping at ``keypath`` names
        (registered for redaction); None when neither is given; ConfigError (file:line) when it cannot be read."""
        mapping: Any = self.data
        for key in keypath:
            mapping = mapping.get(key) if isinstance(mapping, Mapping) else None
        if not isinstance(mapping, Mapping):
            return None
        return _secret(mapping, base, self._where(tuple(keypath)), self.path, label=".".join(map(str, keypath)))

    def redacted(self) -> dict[str, Any]:
        """The profile data with every secret hidden (for ``profiles show``)."""
        return redact_data(self.data)

    def secret_problems(self) -> list[dict[str, Any]]:
        """Every secret reference that cannot be resolved here, reported the same way whatever its form
        (``<name>_env: VAR``, ``<name>_file: PATH``, ``<name>: ${VAR}``): ``{key, reference, kind, problem,
        path, line, message}``; ``message`` is one line (no secret value: only names and paths).
        Nothing is raised: ``profiles show`` / ``profiles list`` report them and exit 4."""
        found = [dict(p) for p in self.unresolved]
        for keypath, key, ref in _secret_references(self.data, ()):
            kind = "env" if key.endswith("_env") else "file"
            if kind == "env":
                if os.environ.get(str(ref)) is not None:
                    continue
                problem = f"environment variable {ref} is not set"
            else:
                secret_path = _resolve_path(ref, self.path)
                try:
                    with secret_path.open("rb"):
                        pass
                    continue
                except OSError as exc:
                    problem = f"cannot read secret file {secret_path}: {exc.strerror or exc}"
            path, line = self._where(keypath + (key,))
            found.append(_unresolved(keypath + (key,), str(ref), kind, problem, path, line))
        return sorted(found, key=lambda p: p["key"])


def _resolve_path(value: str, profile_path: Path | None) -> Path:
    path = Path(os.path.expanduser(str(value)))
    if not path.is_absolute() and profile_path is not None:
        # relative paths are relative to the current directory, like every CLI
        path = Path.cwd() / path
    return path


#: mappings whose ``<x>_env`` / ``<x>_file`` keys are secret references whatever ``<x>`` is
_SECRET_MAPPINGS = ("auth", "contact_point_secrets")


def _secret_references(value: Any, keypath: tuple) -> Iterable[tuple[tuple, str, Any]]:
    """(keypath of the mapping, key, value) of every ``<secret>_env`` / ``<secret>_file`` reference."""
    if isinstance(value, dict):
        in_secrets = any(str(k) in _SECRET_MAPPINGS for k in keypath)
        for key, item in value.items():
            key = str(key)
            base, sep, suffix = key.rpartition("_")
            if sep and suffix in ("env", "file") and item not in (None, "") and isinstance(item, (str, int)) \
                    and (in_secrets or is_secret_key(base)):
                yield keypath, key, item
            else:
                yield from _secret_references(item, keypath + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _secret_references(item, keypath + (i,))


def _unresolved(keypath: tuple, reference: str, kind: str, problem: str, path, line) -> dict[str, Any]:
    dotted = ".".join(map(str, keypath))
    shown = reference if kind != "${VAR}" else "${" + reference + "}"
    message = f"secret reference {dotted} ({shown}): {problem}"
    where = f"{path}:{line}: " if path and line else (f"{path}: " if path else "")
    return {"key": dotted, "reference": shown, "kind": kind, "problem": problem, "path": str(path) if path else None,
            "line": line, "message": message, "text": where + message, "keypath": keypath}


def _secret(auth: Mapping, base: str, where, profile_path, label: str = "auth") -> str | None:
    env_name = auth.get(f"{base}_env")
    if env_name:
        value = os.environ.get(str(env_name))
        if value is None:
            raise ConfigError(
                f"environment variable {env_name} (named by {label}.{base}_env) is not set", path=where[0], line=where[1]
            )
        value = value.strip()
        register_secret(value)
        return value
    file_name = auth.get(f"{base}_file")
    if file_name:
        secret_path = _resolve_path(file_name, profile_path)
        try:
            value = secret_path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read secret file {secret_path} ({label}.{base}_file): {exc.strerror}", path=where[0], line=where[1]
            ) from None
        register_secret(value)
        return value
    return None


# ---------------------------------------------------------------- search path
def builtin_profiles_dir() -> Path:
    """The profiles shipped with aetherops (``profiles/`` of the source tree)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_profiles", here.parent / "profiles"):
        if candidate.is_dir():
            return candidate
    return here / "_profiles"


def user_config_dir() -> Path:
    """``AETHEROPS_CONFIG_DIR``, else ~/.config/aetherops or %APPDATA%\\aetherops."""
    override = os.environ.get("AETHEROPS_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return platformdirs.user_config_path("aetherops", appauthor=False, roaming=True)


def state_dir() -> Path:
    """Where aetherops keeps state (the sandbox's data): ``AETHEROPS_STATE_DIR`` or the platform's user state dir.
    Profiles may use ``${AETHEROPS_STATE_DIR}`` even when the variable is not set."""
    override = os.environ.get("AETHEROPS_STATE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return platformdirs.user_state_path("aetherops", appauthor=False)


def search_dirs(profiles_dir: str | os.PathLike | None = None) -> list[Path]:
    """Where profiles are looked up, first match wins."""
    dirs: list[Path] = []
    if profiles_dir:
        dirs.append(Path(profiles_dir))
    env_dir = os.environ.get("AETHEROPS_PROFILES_DIR")
    if env_dir:
        dirs.extend(Path(p) for p in env_dir.split(os.pathsep) if p)
    dirs.append(Path.cwd() / "profiles")
    dirs.append(user_config_dir() / "profiles")
    dirs.append(builtin_profiles_dir())
    unique: list[Path] = []
    for d in dirs:
        if d.resolve() not in [u.resolve() for u in unique]:
            unique.append(d)
    return unique


class ProfileStore:
    """Finds, lists and loads profiles; validates them against declared sections."""

    def __init__(self, sections: Iterable[ProfileSection] = (), profiles_dir=None):
        if profiles_dir and not Path(profiles_dir).is_dir():
            raise ConfigError(f"profiles dir {profiles_dir} does not exist (--profiles-dir / AETHEROPS_PROFILES_DIR)")
        self.dirs = search_dirs(profiles_dir)
        self.sections: dict[str, ProfileSection] = {}
        for section in (*CORE_SECTIONS, *sections):
            if section.name in self.sections:
                raise ConfigError(f"profile section '{section.name}' is declared twice (two plugins claim it)")
            self.sections[section.name] = section

    def find(self, name: str) -> Path | None:
        for d in self.dirs:
            for suffix in PROFILE_SUFFIXES:
                candidate = d / f"{name}{suffix}"
                try:
                    if candidate.is_file():
                        return candidate
                except (OSError, ValueError):  # a name too long for the file system, or with a NUL: no such profile
                    continue
        return None

    def available(self) -> dict[str, Path]:
        """Every profile name visible, mapped to the file that wins."""
        found: dict[str, Path] = {}
        for d in self.dirs:
            if not d.is_dir():
                continue
            for path in sorted(d.iterdir()):
                if path.suffix in PROFILE_SUFFIXES and path.is_file():
                    found.setdefault(path.stem, path)
        return found

    def default_name(self) -> str:
        """``AETHEROPS_PROFILE``, else the first profile marked ``default: true``, else ``local``."""
        env = os.environ.get("AETHEROPS_PROFILE")
        if env:
            return env
        for d in self.dirs:
            if not d.is_dir():
                continue
            for path in sorted(d.iterdir()):
                if path.suffix in PROFILE_SUFFIXES and path.is_file() and _marked_default(path):
                    return path.stem
        return "local"

    def load(self, name: str | None = None) -> Profile:
        name = name or self.default_name()
        raw, lines = self._load_merged(name, chain=())
        path = self.find(name)
        _refuse_inline_secrets(raw, (), lines)
        unresolved: list[dict[str, Any]] = []
        raw = _expand_env(raw, (), lines, unresolved)
        _refuse_unsafe_urls(raw, (), lines)
        data = self._validate(raw, lines)
        return Profile(name=name, path=path, data=data, lines=lines, description=str(raw.get("description") or ""),
                       missing=self.missing_required(raw), declared=dict(self.sections), unresolved=unresolved)

    def _load_merged(self, name: str, chain: tuple[str, ...]):
        if name in chain:
            raise ConfigError(f"profile 'extends' cycle: {' -> '.join(chain + (name,))}", path=self.find(chain[-1]))
        path = self.find(name)
        if path is None:
            known = ", ".join(sorted(self.available())) or "none"
            where = f" (extended by '{chain[-1]}')" if chain else ""
            raise ConfigError(f"unknown profile '{name}'{where}; known profiles: {known}; searched {', '.join(str(d) for d in self.dirs)}")
        data, lines = _load_yaml(path)
        if not isinstance(data, dict):
            raise ConfigError("a profile must be a YAML mapping", path=path, line=1)
        merged_lines = _MergedLines(lines)
        parent = data.get("extends")
        if parent:
            if not isinstance(parent, str):
                raise ConfigError("'extends' must be a profile name", path=path, line=lines.line(("extends",)))
            if parent in chain + (name,):
                raise ConfigError(f"profile 'extends' cycle: {' -> '.join(chain + (name, parent))}", path=path,
                                  line=lines.line(("extends",)))
            if self.find(parent) is None:
                known = ", ".join(sorted(self.available())) or "none"
                raise ConfigError(f"extends unknown profile '{parent}'; known profiles: {known}", path=path,
                                  line=lines.line(("extends",)))
            base, base_lines = self._load_merged(parent, chain + (name,))
            data = _deep_merge(base, {k: v for k, v in data.items() if k not in ("extends", "default")})
            merged_lines = _MergedLines(lines, base_lines)
        return data, merged_lines

    def _validate(self, raw: dict, lines) -> dict:
        data: dict[str, Any] = {}
        for key, value in raw.items():
            if key in _RESERVED_KEYS:
                continue
            section = self.sections.get(key)
            if section is None:
                data[key] = value  # sections of plugins that are not installed are kept, not validated
                continue
            data[key] = _validate_section(section, value, lines)
        for name, section in self.sections.items():
            if name not in data:
                data[name] = [] if section.many else _defaults(section)
        return data

    def missing_required(self, raw: dict) -> dict[str, list[str]]:
        """Declared sections absent from the profile although they have required keys."""
        return {name: [k for k, f in section.fields.items() if f.required]
                for name, section in self.sections.items()
                if name not in raw and not section.many and any(f.required for f in section.fields.values())}


def _marked_default(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:  # a binary file is reported by load(), not here
            return any(line.strip() in ("default: true", "default: yes") for line in fh)
    except OSError:
        return False


class _MergedLines:
    """Line lookups through an ``extends`` chain: the child's lines win."""

    def __init__(self, lines: _Lines, base: "_MergedLines | None" = None):
        self.lines = lines
        self.base = base

    @property
    def path(self) -> Path:
        return self.lines.path

    def has(self, keypath: tuple) -> bool:
        return keypath in self.lines.by_path or (self.base is not None and self.base.has(keypath))

    def where(self, keypath) -> tuple[Path, int | None]:
        """The file and line a merged value came from: the nearest profile of the chain that sets it."""
        keypath = tuple(keypath)
        if keypath in self.lines.by_path or self.base is None or not self.base.has(keypath):
            return self.lines.path, self.lines.line(keypath)
        return self.base.where(keypath)


def _deep_merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = _deep_merge(base[key], value) if key in base else value
        return out
    return override


def _secret_position(keypath: tuple) -> bool:
    """A value that holds a secret: a secret-looking key, or a credential header."""
    if not keypath:
        return False
    last = str(keypath[-1])
    return is_secret_key(last) or (len(keypath) >= 2 and keypath[-2] == "headers" and is_secret_header(last))


def _expand_env(value: Any, keypath: tuple, lines: _MergedLines, unresolved: list | None = None) -> Any:
    """Expand ``${VAR}``. An unset variable is a ConfigError, except in a secret position when ``unresolved``
    is given: there it is recorded and the value becomes None, so a profile with a missing secret still loads
    (``profiles show`` reports it, ``health`` fails only that service)."""
    if isinstance(value, dict):
        return {k: _expand_env(v, keypath + (k,), lines, unresolved) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, keypath + (i,), lines, unresolved) for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        missing: list[str] = []

        def replace(match: re.Match) -> str:
            name, default = match.group(1), match.group(2)
            if name in os.environ:
                result = os.environ[name]
            elif name == "AETHEROPS_STATE_DIR":
                result = str(state_dir()).replace("\\", "/")
            elif default is not None:
                result = default
            elif unresolved is not None and _secret_position(keypath):
                missing.append(name)
                return ""
            else:
                path, line = lines.where(keypath)
                raise ConfigError(f"environment variable {name} is not set (used in {'.'.join(map(str, keypath))})", path=path, line=line)
            if keypath and is_secret_key(str(keypath[-1])):
                register_secret(result)
            return result

        expanded = _ENV_REF.sub(replace, value)
        if missing:
            path, line = lines.where(keypath)
            unresolved.append(_unresolved(keypath, missing[0], "${VAR}", f"environment variable {missing[0]} is not set",
                                          path, line))
            return None
        return expanded
    return value


def _refuse_inline_secrets(value: Any, keypath: tuple, lines: _MergedLines) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            is_reference = isinstance(item, str) and _ENV_REF.fullmatch(item.strip()) is not None
            if is_secret_key(str(key)) and isinstance(item, (str, int)) and item not in ("", None) and not is_reference:
                path, line = lines.where(keypath + (key,))
                dotted = ".".join(map(str, keypath + (key,)))
                raise ConfigError(
                    f"inline secret in '{dotted}': profiles hold only references; use '{key}_env: VAR' "
                    f"or '{key}_file: PATH' (or '${{VAR}}')",
                    path=path,
                    line=line,
                )
            _refuse_inline_secrets(item, keypath + (key,), lines)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _refuse_inline_secrets(item, keypath + (i,), lines)


#: query parameters that carry a credential: refused in any URL of a profile, like a password in the user-info part
_SECRET_QUERY_KEYS = {"sig", "pass", "pwd", "passwd", "auth", "jwt", "sessionid"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_secret_query_key(key: str) -> bool:
    """True for URL query parameters that look like credentials (api_key, token, access_token, signature...)."""
    key = str(key).strip()
    return is_secret_key(key) or is_secret_header(key) or key.lower() in _SECRET_QUERY_KEYS


def _refuse_unsafe_urls(value: Any, keypath: tuple, lines: _MergedLines) -> None:
    """Every URL of the profile (after ``${VAR}`` expansion): no line breaks or control characters (they would
    inject headers or break a request), and no credential in the query string (it would be shown in URLs
    everywhere: output, errors, logs, backup manifests). The value itself is never echoed."""
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_unsafe_urls(item, keypath + (key,), lines)
        if len(keypath) == 1 or (len(keypath) == 2 and isinstance(keypath[1], int)):
            headers = value.get("headers")
            if isinstance(headers, dict):
                for name, item in headers.items():
                    if _CONTROL.search(str(name)) or (isinstance(item, str) and _CONTROL.search(item.replace("\t", " "))):
                        path, line = lines.where(keypath + ("headers", name))
                        dotted = ".".join(map(str, keypath + ("headers",)))
                        raise ConfigError(f"'{dotted}' header {_printable(name)!r} contains a line break or control "
                                          "character (header injection); remove it", path=path, line=line)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _refuse_unsafe_urls(item, keypath + (i,), lines)
    elif isinstance(value, str) and "://" in value:
        from urllib.parse import parse_qsl, urlsplit

        dotted = ".".join(map(str, keypath))
        if _CONTROL.search(value):
            path, line = lines.where(keypath)
            raise ConfigError(f"'{dotted}' contains a line break or control character; a URL must be one line",
                              path=path, line=line)
        try:
            query = urlsplit(value.strip()).query
        except ValueError:
            return  # not a URL after all; service URLs are checked in full by _check_service_url
        for key, _ in parse_qsl(query, keep_blank_values=True):
            if is_secret_query_key(key):
                path, line = lines.where(keypath)
                raise ConfigError(f"inline secret in '{dotted}': the query parameter '{_printable(key)}' carries a "
                                  "credential, and a URL is shown in output, errors and backups; use auth.token_env / "
                                  "auth.password_env, or a header (headers: {X-Api-Key: '${VAR}'})", path=path, line=line)


def _printable(text: Any) -> str:
    return _CONTROL.sub("?", str(text))[:60]


def _type_name(t: Any) -> str:
    if isinstance(t, tuple):
        return " or ".join(_type_name(x) for x in t)
    return {str: "a string", int: "an integer", float: "a number", bool: "true/false", list: "a list", dict: "a mapping"}.get(
        t, getattr(t, "__name__", str(t))
    )


def _coerce(field_: Field, value: Any) -> Any:
    expected = field_.type
    if value is None:
        return None
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is bool and isinstance(value, str) and value.lower() in ("true", "false", "yes", "no"):
        return value.lower() in ("true", "yes")
    if expected is int and isinstance(value, str) and value.isdigit():
        return int(value)
    if expected is float and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return _MISSING
    types = expected if isinstance(expected, tuple) else (expected,)
    if bool in types or not isinstance(value, bool):
        if isinstance(value, types):
            return value
    return _MISSING


def _defaults(section: ProfileSection) -> dict:
    import copy

    return {k: copy.deepcopy(f.default) for k, f in section.fields.items()}


def _validate_section(section: ProfileSection, value: Any, lines: _MergedLines) -> Any:
    if section.many:
        if not isinstance(value, list):
            path, line = lines.where((section.name,))
            raise ConfigError(f"'{section.name}' must be a list", path=path, line=line)
        return [_validate_mapping(section, item, (section.name, i), lines) for i, item in enumerate(value)]
    return _validate_mapping(section, value, (section.name,), lines)


def _validate_mapping(section: ProfileSection, value: Any, keypath: tuple, lines: _MergedLines) -> dict:
    dotted = ".".join(map(str, keypath))
    if value is None:
        value = {}
    if not isinstance(value, dict):
        path, line = lines.where(keypath)
        raise ConfigError(f"'{dotted}' must be a mapping", path=path, line=line)
    out = _defaults(section)
    for key, item in value.items():
        field_ = section.fields.get(key)
        if field_ is None:
            if section.allow_extra:
                out[key] = item
                continue
            import difflib

            path, line = lines.where(keypath + (key,))
            close = difflib.get_close_matches(str(key), list(section.fields), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(section.fields)}"
            raise ConfigError(f"unknown key '{key}' in '{dotted}'{hint}", path=path, line=line)
        coerced = _coerce(field_, item)
        if coerced is _MISSING:
            path, line = lines.where(keypath + (key,))
            raise ConfigError(
                f"'{dotted}.{key}' must be {_type_name(field_.type)}, not {type(item).__name__} ({item!r})", path=path, line=line
            )
        problem = field_.problem(coerced)
        if problem:
            path, line = lines.where(keypath + (key,))
            shown = "" if ", not " in problem else f", not {item!r}"
            raise ConfigError(f"{dotted}.{key} {problem}{shown}", path=path, line=line)
        if coerced is None and field_.default is not None:
            continue  # `key:` with no value means the declared default
        out[key] = coerced
    for key, field_ in section.fields.items():
        if field_.required and out.get(key) in (None, "", [], {}):
            path, line = lines.where(keypath)
            raise ConfigError(f"'{dotted}.{key}' is required", path=path, line=line)
    if section.name in SERVICES and len(keypath) == 1:
        _check_service_url(out.get("url"), keypath, lines)
        for sub, sub_fields in (("tls", _TLS), ("auth", _AUTH)):
            sub_section = ProfileSection(f"{section.name}.{sub}", sub_fields)
            given = out.get(sub) or {}
            if given:
                checked = _validate_mapping(sub_section, given, keypath + (sub,), lines)
                out[sub] = {k: v for k, v in checked.items() if k in given}
    return out


def _check_service_url(url: Any, keypath: tuple, lines: _MergedLines) -> None:
    """A service URL is http(s)://host[:port][/prefix] and carries no password."""
    if not url:
        return
    fault = _url_fault(url)
    if fault is None:
        return
    kind, detail = fault
    if kind == "username" and not detail.username:
        return  # an empty user name ("http://@host") was always let through here
    dotted = ".".join(map(str, keypath + ("url",)))
    path, line = lines.where(keypath + ("url",))
    if kind == "invalid":
        raise ConfigError(f"'{dotted}' is not a valid URL ({detail})", path=path, line=line) from None
    if kind == "scheme":
        raise ConfigError(f"'{dotted}' must be an http:// or https:// URL with a host, not {str(url)!r}", path=path, line=line)
    if kind == "password":
        raise ConfigError(f"inline secret in '{dotted}': a password in the URL; use auth.username with "
                          "auth.password_env or auth.password_file", path=path, line=line)
    raise ConfigError(f"'{dotted}' carries a user name; use auth.username", path=path, line=line)
