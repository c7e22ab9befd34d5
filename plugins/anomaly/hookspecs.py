"""The hook the anomaly plugin offers: other plugins contribute engines (declared through ``aetherops_add_hookspecs``).

The contract of an engine is :mod:`aetherops_plugins.anomaly.api`; this module only declares the hook.
"""

from __future__ import annotations

from typing import Any

from aetherops import hookspec


@hookspec
def aetherops_anomaly_detectors() -> list[Any]:
    """Contribute anomaly detection engines for ``aetherops anomaly check --engine NAME``.

    :returns: a list of engines (see ``aetherops_plugins.anomaly.api``):
        objects with a ``name`` and a ``detect(timestamps, values, options)``
        method returning one dict per point judged anomalous (``timestamp``,
        ``value``, ``score``, ``expected``, optionally ``lower`` and
        ``upper``). Points before ``options["score_from"]`` are history to
        learn from; only the points after it are judged. Optional:
        ``forecast(timestamps, values, options)`` (expected value and band
        for ``--plot``), ``description``, ``available()``. Raise
        ``NotEnoughData`` for a history too short to judge. Results of all
        plugins are combined; the first engine of a name wins. The built-in
        ``prophet-style`` and ``prophet`` engines come through this hook too.

    Declared by the anomaly plugin. Added in 0.1.
    """
