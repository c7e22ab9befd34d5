"""The contract of an anomaly engine (what ``aetherops_anomaly_detectors`` returns).

Quick start::

    import aetherops

    class Threshold:
        name = "threshold"
        description = "Every value above options['threshold'] is anomalous."

        def detect(self, timestamps, values, options):
            limit = options.get("threshold", 0)
            start = options.get("score_from", float("-inf"))
            return [{"timestamp": t, "value": v, "score": v - limit, "expected": limit}
                    for t, v in zip(timestamps, values) if t >= start and v > limit]

    @aetherops.hookimpl
    def aetherops_anomaly_detectors():
        return [Threshold()]

An engine is an object with:

- ``name``: what ``--engine`` and the profile's ``engine:`` select; the first engine of a name wins.
- ``detect(timestamps, values, options) -> list[dict]``: ``timestamps`` are unix seconds in ascending order,
  ``values`` floats (NaN where a sample is missing). Points before ``options["score_from"]`` are the history
  to learn from; return one dict per point at or after it judged anomalous: ``timestamp``, ``value``,
  ``score`` (how far outside; > 1 when outside the band, negative below it), ``expected``, and optionally
  ``lower`` and ``upper`` (the band). Raise :class:`NotEnoughData` when the history is too short to judge.
- optional ``forecast(timestamps, values, options) -> dict`` with ``expected``, ``lower`` and ``upper``
  (sequences as long as ``timestamps``): what ``--plot`` draws. Without it the plot shows the series and the flags.
- optional ``description`` (one line, shown by ``aetherops anomaly engines``) and ``available()`` returning
  None when the engine can run, or a message saying what to install.

``options`` always holds ``score_from``, ``interval_width`` (0..1) and ``step`` (seconds between samples);
the built-in engines also read ``daily_order``, ``weekly_order`` and ``changepoints``. Persistence
(``--min-consecutive``) and the direction (``--direction``) are applied by the command to every engine's flags.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence


class NotEnoughData(Exception):
    """The history is too short for this engine to judge the scored points; the message says what it needs."""


class EngineUnavailable(Exception):
    """The engine cannot run here (a package is missing); the message says what to install."""


class Detector(Protocol):
    name: str

    def detect(self, timestamps: Sequence[float], values: Sequence[float], options: dict[str, Any]) -> list[dict[str, Any]]:
        ...  # pragma: no cover - a protocol
