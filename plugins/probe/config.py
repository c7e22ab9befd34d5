"""Probe modules: read from a blackbox_exporter config file or a profile's ``probe_modules:``.

Both use blackbox_exporter's own format (``modules: {NAME: {prober, timeout, http|tcp|...}}``).
Like blackbox_exporter, unknown keys, bad values and bad regular expressions are
configuration errors (exit 4) naming the file and line; options that
blackbox_exporter knows but a prober does not implement are reported (a warning
and ``unimplemented_options`` in the results), never silently ignored.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from aetherops.errors import ConfigError

#: Module keys blackbox_exporter 0.23 knows (besides each prober's own section).
MODULE_KEYS = frozenset({"prober", "timeout", "http", "tcp", "icmp", "dns", "grpc"})
#: What blackbox_exporter's example config ships and every blackbox.yml in the wild assumes.
BUILTIN_MODULES: dict[str, dict] = {
    "http_2xx": {"prober": "http"},
    "tcp_connect": {"prober": "tcp"},
}
DEFAULT_MODULE = "http_2xx"  # blackbox_exporter's default when /probe has no module
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d|w)")
_DURATION = re.compile(rf"(?:{_DURATION_PART.pattern})+")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0,
                   "w": 604800.0}

Where = Callable[[tuple], "tuple[Any, int | None]"]


@dataclass
class ProbeModule:
    """One module ready to probe with: its prober, timeout and prepared options."""

    name: str
    prober_name: str
    timeout: float | None
    options: Any
    source: str
    line: int | None = None
    prober: Any = None  #: None when no installed plugin provides ``prober_name``
    unimplemented: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source


def parse_duration(value: Any) -> float:
    """Seconds from a Go duration (``5s``, ``1m30s``, ``0.5s``, ``250ms``; also ``d``/``w``) or a plain number."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, (int, float)):
        if value < 0 or value != value or value == float("inf"):
            raise ValueError(f"not a duration: {value!r}")
        return float(value)
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        if not text or _DURATION.fullmatch(text) is None:
            raise ValueError(f"not a duration: {text[:40]!r} (use e.g. 5s, 1m30s, 250ms)") from None
        return float(sum(float(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART.findall(text)))
    if number < 0 or number != number or number == float("inf"):
        raise ValueError(f"not a duration: {text[:40]!r}")
    return number


def load_blackbox_config(path: Path) -> tuple[dict, Where]:
    """The ``modules`` mapping of a blackbox_exporter config file and a keypath -> (file, line) lookup."""
    import yaml

    from aetherops.profiles import _construct, _Lines  # the profile loader's line-keeping YAML composer

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read blackbox_exporter config: {exc.strerror or exc}", path=path) from None
    except UnicodeDecodeError:
        raise ConfigError("blackbox_exporter config is not valid UTF-8", path=path) from None
    lines = _Lines(Path(path))
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node = yaml.compose(text, Loader=loader)
        data = {} if node is None else _construct(node, (), lines, loader(""))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(f"invalid YAML: {(exc.problem or exc.context or 'invalid YAML').strip()}", path=path,
                          line=mark.line + 1 if mark else None) from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        raise ConfigError(f"invalid YAML: {' '.join(str(exc).split())}", path=path) from None

    def where(keypath: tuple) -> tuple[Any, int | None]:
        return path, lines.line(keypath)

    if not isinstance(data, dict):
        raise ConfigError("a blackbox_exporter config must be a mapping with 'modules:'", path=path, line=1)
    unknown = [k for k in data if k != "modules"]
    if unknown:
        raise ConfigError(f"field {unknown[0]} not found in blackbox_exporter's config (only 'modules')",
                          path=path, line=where((unknown[0],))[1])
    modules = data.get("modules") or {}
    if not isinstance(modules, dict):
        raise ConfigError("'modules' must be a mapping of module name to module", path=path, line=where(("modules",))[1])
    return modules, lambda keypath: where(("modules", *keypath))


def build_modules(raw: Mapping[str, Any], where: Where, probers: Mapping[str, Any], *, source: str,
                  base_dir: Path | None = None) -> dict[str, ProbeModule]:
    """Validate and prepare every module of ``raw`` (``{name: {prober, timeout, ...}}``).

    ``base_dir`` (a config file's folder) makes relative ``*_file`` paths relative to it and
    refuses inline secrets: credentials are read only by reference (``*_file``)."""
    modules: dict[str, ProbeModule] = {}
    for name, spec in raw.items():
        if base_dir is not None:
            _refuse_inline_secrets(spec, (str(name),), where)
        modules[str(name)] = _build_module(str(name), spec, where, probers, source, base_dir)
    return modules


def _build_module(name: str, spec: Any, where: Where, probers: Mapping[str, Any], source: str,
                  base_dir: Path | None) -> ProbeModule:
    def error(message: str, *keypath) -> ConfigError:
        path, line = where((name, *keypath))
        return ConfigError(f"module '{name}': {message}", path=path, line=line)

    if not isinstance(spec, dict):
        raise error("must be a mapping with 'prober:'")
    prober_name = spec.get("prober")
    if not isinstance(prober_name, str) or not prober_name:
        raise error("'prober' is required (http, tcp, or one a plugin adds)")
    for key in spec:
        if key not in MODULE_KEYS and key != prober_name:
            raise error(f"field {key} not found in a module (known: {', '.join(sorted(MODULE_KEYS))})", key)
    timeout = None
    if spec.get("timeout") not in (None, ""):
        try:
            timeout = parse_duration(spec["timeout"])
        except ValueError as exc:
            raise error(f"timeout: {exc}", "timeout") from None
    options = spec.get(prober_name)
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise error(f"'{prober_name}' must be a mapping of options", prober_name)
    path, line = where((name,))
    module = ProbeModule(name=name, prober_name=prober_name, timeout=timeout, options=options,
                         source=str(path), line=line, prober=probers.get(prober_name))
    prober = module.prober
    if prober is None:
        return module  # reported when a probe uses it; a blackbox.yml with an icmp module still loads
    known = getattr(prober, "known_options", None)
    if known is not None:
        for key in options:
            if key not in known:
                raise error(f"field {key} not found in the {prober_name} prober's options", prober_name, key)
    module.unimplemented = [f"{prober_name}.{dotted}" for dotted in sorted(getattr(prober, "unimplemented_options", ()))
                            if _is_set(options, dotted.split("."))]
    options = _resolve_files(options, base_dir)
    prepare = getattr(prober, "prepare", None)
    if prepare is not None:
        from aetherops_plugins.probe.api import ModuleConfigError

        try:
            module.options = prepare(options)
        except ModuleConfigError as exc:
            raise error(str(exc), prober_name, *exc.key) from None
    else:
        module.options = options
    return module


def _refuse_inline_secrets(value: Any, keypath: tuple, where: Where) -> None:
    from aetherops.redact import is_secret_key

    if isinstance(value, dict):
        for key, item in value.items():
            if is_secret_key(str(key)) and isinstance(item, (str, int)) and item not in ("", "<secret>"):
                path, line = where(keypath + (key,))
                raise ConfigError(f"module '{keypath[0]}': inline secret in '{'.'.join(map(str, keypath[1:] + (key,)))}': "
                                  f"aetherops reads credentials only by reference; use '{key}_file: PATH'", path=path, line=line)
            _refuse_inline_secrets(item, keypath + (key,), where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _refuse_inline_secrets(item, keypath + (i,), where)


def _is_set(options: Any, keys: list[str]) -> bool:
    """Whether the nested key (``tls_config.min_version``) is given a value."""
    for key in keys:
        if not isinstance(options, dict) or options.get(key) in (None, "", [], {}, False):
            return False
        options = options[key]
    return True


def _resolve_files(value: Any, base_dir: Path | None) -> Any:
    """``*_file`` paths relative to the config file's folder, as blackbox_exporter resolves them."""
    if base_dir is None:
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(key, str) and key.endswith("_file") and isinstance(item, str) and item and not os.path.isabs(item):
                item = str(base_dir / item)
            out[key] = _resolve_files(item, base_dir)
        return out
    if isinstance(value, list):
        return [_resolve_files(v, base_dir) for v in value]
    return value
