"""The probe plugin's public API: what a prober is made of.

Quick start: a third-party prober (say DNS) is an object with a ``name`` and a
``probe`` method, contributed through the ``aetherops_probe_modules`` hook::

    import aetherops

    @aetherops.hookimpl
    def aetherops_probe_modules():
        from my_package.dns_prober import DNSProber
        return [DNSProber()]

and the prober itself (async or plain; a plain one runs in a worker thread)::

    from aetherops_plugins.probe.api import ModuleConfigError, failure, success

    class DNSProber:
        name = "dns"                        # blackbox.yml's ``prober: dns``
        known_options = frozenset({"query_name", "query_type", "transport_protocol"})
        unimplemented_options = frozenset({"transport_protocol"})   # reported, never silently ignored

        def prepare(self, options):         # once per module, at load time
            if not options.get("query_name"):
                raise ModuleConfigError("query_name is required", key=("query_name",))
            return options

        async def probe(self, target, options, timeout):
            ...
            return success(phases={"resolve": 1.2})   # or failure("NXDOMAIN for example.com")

A module in a profile's ``probe_modules:`` or a blackbox.yml then uses it::

    probe_modules:
      dns_example:
        prober: dns
        timeout: 5s
        dns: {query_name: example.com}

A prober's ``name`` also works as a module by itself, with empty options
(``aetherops probe --module dns 1.1.1.1:53``).

The contract in full (:class:`Prober`):

- ``name``: what ``prober:`` names; unique across plugins.
- ``probe(target, options, timeout) -> dict`` (or a coroutine): ``options`` is
  what ``prepare`` returned (else the module's ``<name>:`` section, a dict);
  ``timeout`` is in seconds and the prober should give up by then (the
  command cancels it a little later anyway). Return :func:`success` or
  :func:`failure`, i.e. a dict with ``success`` (bool), ``reason`` (words,
  when it failed) and any of ``status_code``, ``http_version``, ``phases``
  (``{"resolve"|"connect"|"tls"|"processing"|"transfer": ms}``) and
  ``tls_earliest_cert_expiry`` (unix seconds). Raising is allowed: the
  exception becomes a failed probe with its message as the reason.
- optional ``prepare(options) -> Any``: validate and compile the options
  once; raise :class:`ModuleConfigError` (with the key path inside the
  section) for bad values: the command exits 4 naming the file and line.
- optional ``known_options``: every key the section may hold (others are a
  configuration error, like blackbox_exporter's strict YAML); ``None`` or
  absent accepts anything.
- optional ``summary`` (one line) and ``example`` (a module in blackbox_exporter's
  format using this prober): a test loads every prober's example.
- optional ``unimplemented_options``: keys that are valid for
  blackbox_exporter but that this prober does not implement; a module that
  sets one gets a warning and ``unimplemented_options`` in its results.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

#: The phases of a probe, in order (blackbox_exporter's ``probe_http_duration_seconds{phase}``).
PHASES = ("resolve", "connect", "tls", "processing", "transfer")


class ModuleConfigError(Exception):
    """A module's options are invalid. ``key`` is the path inside the prober's section (for the line number)."""

    def __init__(self, message: str, key: tuple = ()):
        super().__init__(message)
        self.key = tuple(key)


@runtime_checkable
class Prober(Protocol):
    """What ``aetherops_probe_modules`` returns a list of (see the module docstring)."""

    name: str

    def probe(self, target: str, options: Any, timeout: float) -> Any:  # dict, or an awaitable of one
        ...


def success(**fields: Any) -> dict[str, Any]:
    """A successful probe result, with any extra fields (``status_code``, ``phases``...)."""
    return {"success": True, "reason": None, **fields}


def failure(reason: str, **fields: Any) -> dict[str, Any]:
    """A failed probe result: ``reason`` says why in words."""
    return {"success": False, "reason": reason, **fields}
