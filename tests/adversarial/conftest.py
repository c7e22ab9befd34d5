"""The standing adversarial suite: hostile input for every command, one invariant (see docs/security.md).

Hypothesis profiles: ``default`` (few examples, part of every test run) and ``fuzz`` (many; ``nox -s fuzz`` sets
``HYPOTHESIS_PROFILE=fuzz``)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("default", max_examples=15, **_COMMON)
settings.register_profile("fuzz", max_examples=1500, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
