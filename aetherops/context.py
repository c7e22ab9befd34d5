"""The object every command receives: the profile, the output, and lazily built clients."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from aetherops.output import Output

if TYPE_CHECKING:  # pragma: no cover
    import pluggy

    from aetherops.clients.alertmanager import AlertmanagerClient
    from aetherops.clients.grafana import GrafanaClient
    from aetherops.clients.prometheus import PrometheusClient
    from aetherops.profiles import Profile, ProfileStore


class Context:
    """Shared state of one ``aetherops`` invocation.

    Plugins never read environment variables or profile files themselves:
    they ask the context (``ctx.profile``, ``ctx.section("backup")``,
    ``ctx.prometheus``...). Clients are created on first use and closed when
    the command ends.
    """

    def __init__(self, pm: pluggy.PluginManager, *, profile_name: str | None = None, profiles_dir: str | None = None,
                 output_format: str = "text", debug: bool = False):
        self.pm = pm
        self.profile_name = profile_name
        self.profiles_dir = profiles_dir
        self.output = Output(output_format)
        self.debug = debug
        self._clients: dict[tuple[str, str], Any] = {}

    @property
    def hook(self):
        """The plugin manager's hook relay. To gather a list-returning hook's results, prefer
        ``ctx.pm.collect("aetherops_backup_components", validate=..., context=ctx)``: a broken plugin is then a warning."""
        return self.pm.hook

    @cached_property
    def profiles(self) -> ProfileStore:
        """Every profile visible from here, validated against every declared section."""
        from aetherops.profiles import CORE_SECTIONS, ProfileSection, ProfileStore

        core = {s.name for s in CORE_SECTIONS}
        sections = []
        for plugin, section in self.pm.collect_from("aetherops_profile_sections", validate=ProfileSection):
            if section.name in core:
                self.pm.fail_plugin(plugin, f"declares profile section '{section.name}', which 'core' already declares; ignored")
                continue
            sections.append(section)
        return ProfileStore(sections, profiles_dir=self.profiles_dir)

    @cached_property
    def profile(self) -> Profile:
        """The selected profile (``-p``, ``AETHEROPS_PROFILE``, the default one, or ``local``)."""
        return self.profiles.load(self.profile_name)

    def load_profile(self, name: str) -> Profile:
        """Another profile by name (e.g. ``restore --to-profile``)."""
        return self.profiles.load(name)

    def section(self, name: str) -> Any:
        """A section of the selected profile: a :class:`~aetherops.profiles.Section` whose declared keys are
        attributes (``ctx.section("backup").concurrency``), defaults filled in and values validated against the
        declared :class:`~aetherops.profiles.Field` (dict access still works); a list of them for ``many=True``."""
        return self.profile.section(name)

    # -- clients
    def client(self, service: str, profile: Profile | None = None):
        """The client for ``service`` (prometheus, alertmanager, grafana, blackbox) of ``profile`` (default: the selected one)."""
        profile = profile or self.profile
        key = (profile.name, service)
        if key not in self._clients:
            config = profile.service(service)
            if service == "prometheus":
                from aetherops.clients.prometheus import PrometheusClient

                self._clients[key] = PrometheusClient(config)
            elif service == "alertmanager":
                from aetherops.clients.alertmanager import AlertmanagerClient

                self._clients[key] = AlertmanagerClient(config)
            elif service == "grafana":
                from aetherops.clients.grafana import GrafanaClient

                self._clients[key] = GrafanaClient(config)
            elif service == "blackbox":
                from aetherops.clients.http import HTTPService

                self._clients[key] = HTTPService(config)
            else:
                raise ValueError(f"unknown service {service!r}")
        return self._clients[key]

    @property
    def prometheus(self) -> PrometheusClient:
        return self.client("prometheus")

    @property
    def alertmanager(self) -> AlertmanagerClient:
        return self.client("alertmanager")

    @property
    def grafana(self) -> GrafanaClient:
        return self.client("grafana")

    def close(self) -> None:
        for client in self._clients.values():
            close = getattr(client, "close", None)
            if close:
                close()
        self._clients.clear()


