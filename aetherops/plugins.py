"""The plugin manager: which plugins load, in what order, and what happens when one is broken.

Load order (later ones can see earlier ones; a blocked name is never loaded):

1. ``--no-plugin NAME`` (repeatable) blocks a plugin by name;
2. entry points of the ``aetherops`` group, built-ins included, one at a time,
   unless ``AETHEROPS_DISABLE_PLUGIN_AUTOLOAD=1``;
3. ``--plugin MODULE`` (repeatable);
4. ``AETHEROPS_PLUGINS`` (comma-separated modules).

A plugin that offers extension points declares their hookspecs itself from its
``aetherops_add_hookspecs(pm)`` implementation (called as the plugin registers);
the core declares only the hooks it calls. Whether every implemented hook has a
spec is checked once everything is loaded, so load order does not matter.

A plugin that fails to import or declares an unknown ``aetherops_*`` hook is
unregistered, reported in one warning line and listed as ``error`` by
``aetherops plugins``; the CLI keeps working. :meth:`AetheropsPluginManager.collect`
gathers a hook's results the same way: a plugin that raises or answers with
something wrong is a warning naming it, and the command goes on with the rest.
"""

from __future__ import annotations

import importlib
import os
from types import FunctionType, MethodType, ModuleType
from typing import Any, Callable, Iterable

import pluggy

from aetherops import hookspecs
from aetherops.__main__ import cache_path, load_cache, site_key, store_cache

ENTRY_POINT_GROUP = "aetherops"
TRUTHY = {"1", "true", "yes", "on"}
_ABSENT = object()
#: what pluggy can take as a hookimpl (pluggy._manager._static_hook_attr)
_HOOKABLE = (FunctionType, MethodType, staticmethod, classmethod)


class PluginInfo:
    """What ``aetherops plugins`` shows for one plugin.

    (Plain classes rather than dataclasses here: this module is imported on
    every run, and building a dataclass costs a millisecond or two.)
    """

    def __init__(self, name: str, source: str, module: str, version: str | None = None,
                 distribution: str | None = None, status: str = "ok", error: str | None = None):
        self.name = name
        self.source = source  # "core", "entry point", "--plugin", "AETHEROPS_PLUGINS"
        self.module = module
        self.version = version
        self.distribution = distribution
        self.status = status  # ok | error | blocked
        self.error = error
        self.hooks: list[str] = []

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "distribution": self.distribution,
            "source": self.source,
            "module": self.module,
            "status": self.status,
            "error": self.error,
            "hooks": self.hooks,
        }


class AetheropsPluginManager(pluggy.PluginManager):
    """A pluggy PluginManager that remembers where each plugin came from."""

    def __init__(self) -> None:
        super().__init__(ENTRY_POINT_GROUP)
        self.infos: dict[str, PluginInfo] = {}
        self.warnings: list[str] = []
        self.add_hookspecs(hookspecs)
        # historic: each plugin's aetherops_add_hookspecs runs the moment it registers, whenever that is
        self.hook.aetherops_add_hookspecs.call_historic(kwargs={"pm": self})

    def parse_hookimpl_opts(self, plugin, name: str):
        """pluggy's, with a shortcut: a module's attribute that is no function (an import, a click command, a
        constant; most of a hook module's ``dir()``) is no hookimpl, answered without pluggy's
        ``inspect.getattr_static``, a third of the time registering the plugins takes on every start."""
        if type(plugin) is ModuleType:
            value = plugin.__dict__.get(name, _ABSENT)
            if value is not _ABSENT and not isinstance(value, _HOOKABLE):
                return None
        return super().parse_hookimpl_opts(plugin, name)

    def add_hookspecs(self, module_or_class) -> None:
        """Declare the hooks ``module_or_class`` specifies (pluggy's, plus one safeguard).

        Implementations registered before their spec are validated now, as pluggy does; one whose arguments
        the spec does not have is refused with a warning naming its plugin, instead of failing the plugin
        that declares the spec."""
        import inspect

        for name in dir(module_or_class):
            if self.parse_hookspec_opts(module_or_class, name) is None:
                continue
            caller = getattr(self.hook, name, None)
            if caller is None or caller.spec is not None:
                continue
            known = set(inspect.signature(getattr(module_or_class, name)).parameters)
            for impl in list(caller.get_hookimpls()):
                extra = [a for a in impl.argnames if a not in known]
                if extra:
                    self.refuse(impl.plugin_name, f"{name} takes {', '.join(extra)}, which the hook does not pass "
                                                  f"(it passes: {', '.join(sorted(known)) or 'nothing'})")
        super().add_hookspecs(module_or_class)

    def refuse(self, name: str, error: str) -> None:
        """Unregister a plugin that cannot work (recorded as ``error``, one warning)."""
        plugin = self.get_plugin(name)
        if plugin is not None:
            self.unregister(plugin)
        info = self.infos.get(name) or PluginInfo(name, "?", name)
        self._record_failure(info, error)

    def _record_failure(self, info: PluginInfo, error: str) -> None:
        info.status = "error"
        info.error = error
        self.infos[info.name] = info
        self.warnings.append(f"plugin '{info.name}' ({info.module}) failed to load: {error}")

    def call_each(self, hook_name: str, **kwargs) -> list[tuple[str, object]]:
        """Call every implementation of ``hook_name`` on its own, in registration order.

        A plugin whose implementation raises is reported (one warning, ``error`` in
        ``aetherops plugins``) and skipped; the others' results are returned as
        ``(plugin_name, result)``. Used for the hooks the CLI cannot run without.
        """
        caller = getattr(self.hook, hook_name, None)
        if caller is None or caller.spec is None:  # the plugin that declares the hook is not loaded
            return []
        results = []
        self.trace_call(hook_name, kwargs, caller.get_hookimpls())
        for impl in caller.get_hookimpls():  # registration order: core, built-ins, entry points, --plugin
            try:
                result = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            except Exception as exc:  # noqa: BLE001 - the plugin's fault, never the CLI's
                self.fail_plugin(impl.plugin_name, f"{hook_name} raised {_one_line(exc)}")
                continue
            results.append((impl.plugin_name, result))
        return results

    def collect(self, hook_name: str, *, validate: type | tuple | Callable[[Any], str | None] | None = None,
                key: str | Callable[[Any], Any] | None = "name", **kwargs: Any) -> list:
        """Call every implementation of a list-returning hook and combine the items they return.

        - a plugin that raises is marked ``error`` with one warning naming it; the others' items still count;
        - an answer that is not a list (or tuple), or an item ``validate`` refuses, is a warning naming the
          plugin and the item is left out. ``validate`` is a type (or tuple of types) the item must be an
          instance of, or a callable returning a problem (``str``) or None;
        - an item whose ``key`` (an attribute name, or a callable; default ``name``) is already taken by an
          earlier plugin is a warning naming both plugins; the first one keeps it.

        A hook whose declaring plugin is not loaded gives ``[]``. See :meth:`collect_from` for the owner of each item.
        """
        return [item for _, item in self.collect_from(hook_name, validate=validate, key=key, **kwargs)]

    def collect_from(self, hook_name: str, *, validate: type | tuple | Callable[[Any], str | None] | None = None,
                     key: str | Callable[[Any], Any] | None = "name", **kwargs: Any) -> list[tuple[str, Any]]:
        """Like :meth:`collect`, as ``(plugin_name, item)`` pairs."""
        check = _validator(validate)
        get_key = (lambda item: getattr(item, key, None)) if isinstance(key, str) else key
        owners: dict[Any, str] = {}
        collected: list[tuple[str, Any]] = []
        for plugin, result in self.call_each(hook_name, **kwargs):
            if result is None:
                continue
            if not isinstance(result, (list, tuple)):
                self.warn(f"plugin '{plugin}': {hook_name} returned {type(result).__name__}, not a list; ignored")
                continue
            for item in result:
                try:
                    problem = check(item)
                    name = get_key(item) if get_key is not None else None
                except Exception as exc:  # noqa: BLE001 - a broken item is the plugin's fault
                    problem, name = f"raised {_one_line(exc)}", None
                if problem:
                    self.warn(f"plugin '{plugin}': {hook_name} returned {_describe(item)}: {problem}; ignored")
                    continue
                if name is not None:
                    if name in owners:
                        self.warn(f"plugin '{plugin}': {hook_name} returned a second {name!r} "
                                  f"(plugin '{owners[name]}' has it already); ignored")
                        continue
                    owners[name] = plugin
                collected.append((plugin, item))
        return collected

    def fail_plugin(self, name: str, error: str) -> None:
        """Mark a loaded plugin as broken (status ``error``) and warn once."""
        info = self.infos.get(name) or PluginInfo(name, "?", name)
        info.status = "error"
        info.error = error
        self.infos[name] = info
        self.warn(f"plugin '{name}': {error}")

    def warn(self, message: str) -> None:
        """Record a warning found after start-up and pass it to ``on_warning``."""
        self.warnings.append(message)
        self.on_warning(message)

    def on_warning(self, message: str) -> None:
        """Where warnings found after start-up go (the CLI prints them on stderr)."""

    tracing = False

    def trace_call(self, hook_name: str, kwargs: dict, impls) -> None:
        """With AETHEROPS_TRACE_PLUGINS=1: one stderr line per hook call and who answers it."""
        if self.tracing:
            import click

            names = ", ".join(impl.plugin_name for impl in impls)
            click.echo(f"[aetherops trace] {hook_name}({', '.join(kwargs)}) -> {names}", err=True)

    def register_checked(self, plugin: object, info: PluginInfo) -> bool:
        """Register ``plugin``; refuse it (recorded as an error) if it names an unknown hook."""
        if info.name in self.infos and self.infos[info.name].status == "ok":
            return False
        try:
            self.register(plugin, name=info.name)
        except ValueError as exc:  # already registered under another name
            self._record_failure(info, str(exc))
            return False
        except pluggy.PluginValidationError as exc:
            self._record_failure(info, str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - its aetherops_add_hookspecs raised
            if self.get_plugin(info.name) is not None:
                self.unregister(name=info.name)
            self._record_failure(info, f"aetherops_add_hookspecs raised {_one_line(exc)}")
            return False
        info.hooks = sorted({caller.name for caller in self.get_hookcallers(plugin) or []})
        self.infos[info.name] = info
        return True

    def refuse_unknown_hooks(self) -> None:
        """Once every plugin is loaded (and has declared its hookspecs): refuse each plugin implementing a hook
        nobody declares (a typo, or a hook of a plugin that is not loaded), then ``check_pending``."""
        for name, plugin in list(self.list_name_plugin()):
            unknown = sorted({caller.name for caller in self.get_hookcallers(plugin) or [] if caller.spec is None})
            if unknown:
                self.refuse(name, f"unknown hook {', '.join(unknown)} (misspelled, or the plugin that declares it is not "
                                  "loaded? `aetherops plugins` lists the hooks; docs/plugins/hooks.md describes them)")
        self.check_pending()

    def load_module(self, module_name: str, source: str) -> None:
        name = module_name.rsplit(":", 1)[0]
        if self.is_blocked(name):
            self.infos[name] = PluginInfo(name, source, module_name, status="blocked")
            return
        info = PluginInfo(name, source, module_name)
        try:
            plugin = _import_object(module_name)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - any import failure is the plugin's, not ours
            self._record_failure(info, _one_line(exc))
            return
        self.register_checked(plugin, info)

    def load_entry_points(self) -> None:
        for ep in discover_entry_points():
            info = PluginInfo(ep.name, "entry point", ep.value, version=ep.version, distribution=ep.distribution)
            if self.is_blocked(ep.name):
                info.status = "blocked"
                self.infos[ep.name] = info
                continue
            first = self.infos.get(ep.name)
            if first is not None and first.status == "ok":
                if first.distribution != ep.distribution:
                    self.warnings.append(f"plugin name '{ep.name}' is taken by {first.distribution} "
                                         f"{first.version}; the one of {ep.distribution} {ep.version} is ignored")
                continue  # same name twice: the built-in (or the first found) wins
            try:
                plugin = _import_object(ep.value)
            except (Exception, SystemExit) as exc:  # noqa: BLE001
                self._record_failure(info, _one_line(exc))
                continue
            self.register_checked(plugin, info)


class EntryPoint(tuple):
    """An entry point of the ``aetherops`` group: (name, value, distribution, version)."""

    __slots__ = ()

    def __new__(cls, name: str, value: str, distribution: str | None, version: str | None):
        return tuple.__new__(cls, (name, value, distribution, version))

    name = property(lambda self: self[0])
    value = property(lambda self: self[1])
    distribution = property(lambda self: self[2])
    version = property(lambda self: self[3])


def discover_entry_points() -> list[EntryPoint]:
    """Entry points of the ``aetherops`` group, sorted by name.

    Scanning every installed distribution's metadata costs tens of milliseconds
    in a big environment, more than the rest of ``aetherops --help``; the result
    is cached in the user cache dir, keyed by the sys.path folders' mtimes, and
    rescanned whenever a package is installed or removed.
    ``AETHEROPS_NO_PLUGIN_CACHE=1`` turns the cache off. The cache is a marshal
    file and its path is built with os.path: json and pathlib are not otherwise
    imported by ``aetherops --help`` and would cost more than the rest of this.
    """
    cache = None
    if os.environ.get("AETHEROPS_NO_PLUGIN_CACHE", "").lower() not in TRUTHY:
        cache = cache_path("entry-points")
        key = site_key()
        cached = load_cache(cache)
        try:
            if cached is not None and cached.get("key") == key:
                return [EntryPoint(*row) for row in cached["entry_points"]]
        except (KeyError, TypeError):
            pass
    from importlib.metadata import entry_points

    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        found.append(EntryPoint(ep.name, ep.value, getattr(dist, "name", None), getattr(dist, "version", None)))
    found.sort(key=lambda e: (e.name, e.distribution != "aetherops"))  # a built-in wins a name clash
    if cache is not None:
        store_cache(cache, {"key": key, "entry_points": [list(e) for e in found]})
    return found


def _version() -> str:
    from aetherops import __version__

    return __version__


def _import_object(spec: str):
    module_name, _, attr = spec.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr) if attr else module


def _validator(validate) -> Callable[[Any], str | None]:
    if validate is None:
        return lambda item: None
    if isinstance(validate, (type, tuple)):
        names = " or ".join(t.__name__ for t in (validate if isinstance(validate, tuple) else (validate,)))
        return lambda item: None if isinstance(item, validate) else f"not a {names}"
    return validate


def _describe(item: Any) -> str:
    name = getattr(item, "name", None) or getattr(item, "id", None)
    return f"{type(item).__name__} {name!r}" if isinstance(name, str) else f"a {type(item).__name__}"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _trace(pm: AetheropsPluginManager) -> None:
    def before(hook_name, hook_impls, kwargs):
        pm.trace_call(hook_name, kwargs, hook_impls)

    def after(outcome, hook_name, hook_impls, kwargs):
        return None

    pm.tracing = True
    pm.add_hookcall_monitoring(before, after)


def make_plugin_manager(extra: Iterable[str] = (), blocked: Iterable[str] = (), *, autoload: bool | None = None,
                        env: dict | None = None) -> AetheropsPluginManager:
    """Build a plugin manager the way the CLI does (see the module docstring for the order)."""
    env = os.environ if env is None else env
    pm = AetheropsPluginManager()
    from aetherops import core_commands

    pm.register_checked(core_commands, PluginInfo("core", "core", core_commands.__name__, version=_version()))
    for name in blocked:
        if name == "core":
            pm.warnings.append("the core cannot be blocked (--no-plugin core ignored)")
            continue
        pm.set_blocked(name)
    if autoload is None:
        autoload = env.get("AETHEROPS_DISABLE_PLUGIN_AUTOLOAD", "").lower() not in TRUTHY
    if autoload:
        pm.load_entry_points()
    for module in extra:
        pm.load_module(module, "--plugin")
    for module in filter(None, (m.strip() for m in env.get("AETHEROPS_PLUGINS", "").split(","))):
        pm.load_module(module, "AETHEROPS_PLUGINS")
    for name in blocked:
        if name != "core" and name not in pm.infos:
            pm.warnings.append(f"--no-plugin {name}: no plugin of that name (see `aetherops plugins`)")
    pm.refuse_unknown_hooks()  # every registered hookimpl has a spec now, wherever it was declared
    if env.get("AETHEROPS_TRACE_PLUGINS", "").lower() in TRUTHY:
        _trace(pm)
    return pm
