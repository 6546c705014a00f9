"""Shared test set-up: Hypothesis profiles and the built-in policy.

Profiles: ``dev`` (default, 100 examples), ``ci`` (200 examples, no deadline, derandomized so a
CI run is reproducible) and ``nightly`` (2,000 examples). Choose with HYPOTHESIS_PROFILE.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import margincall as mc

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("nightly", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session")
def binance() -> mc.Policy:
    return mc.load_policy("binance-usdm")


# tests/sample_plugin and tests/broken_plugins are outside packages; tests/test_sample_plugin.py
# and tests/test_broken_plugins.py install them (the first runs its own tests there), so this run
# does not collect them.
collect_ignore = ["sample_plugin", "broken_plugins"]
