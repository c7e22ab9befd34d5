"""The hook the probe plugin offers: other plugins contribute probers (declared through ``aetherops_add_hookspecs``).

The contract of a prober is :class:`aetherops_plugins.probe.api.Prober`; this module only declares the hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aetherops import hookspec

if TYPE_CHECKING:  # pragma: no cover - types only, costs nothing at run time
    from aetherops_plugins.probe.api import Prober


@hookspec
def aetherops_probe_modules() -> list[Prober]:
    """Contribute probers (http, tcp, dns, grpc, ...) for ``aetherops probe``.

    :returns: a list of probers (see ``aetherops_plugins.probe.api.Prober``):
        objects with a ``name`` (what a blackbox_exporter module's ``prober:``
        names; also usable as a module by itself) and a
        ``probe(target, options, timeout)`` method, plain or ``async``,
        returning a dict with ``success`` (bool), ``reason`` (words, when it
        failed) and optionally ``status_code``, ``http_version``, ``phases``
        (ms by ``resolve``/``connect``/``tls``/``processing``/``transfer``)
        and ``tls_earliest_cert_expiry`` (unix seconds). ``options`` is what
        the optional ``prepare(options)`` returned for the module's
        ``<name>:`` section (raise ``ModuleConfigError`` there for bad
        options: exit 4 with file and line); ``timeout`` is in seconds.
        Optional ``known_options`` (others are config errors) and
        ``unimplemented_options`` (reported when set). A prober that raises
        or hangs is a failed probe, never a crash. Results of all plugins are
        combined; the first prober of a name wins. The built-in ``http`` and
        ``tcp`` probers come through this hook too.

    Declared by the probe plugin. Added in 0.1.
    """
