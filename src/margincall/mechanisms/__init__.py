"""The generic mechanisms venues share, each a plugin registered first in every policy.

A venue plugin overrides one by implementing the same hook; a policy chooses among the
deficit-recovery stages in its TOML (``[deficit] waterfall``), without code.
"""

from __future__ import annotations

from types import ModuleType

from margincall.mechanisms import adl, chasing, clawback, fees, insurance, margin, prices, procedure

DEFAULT_PLUGINS: dict[str, ModuleType] = {
    "margin": margin,
    "prices": prices,
    "procedure": procedure,
    "fees": fees,
    "insurance-fund": insurance,
    "adl-queue": adl,
    "clawback": clawback,
    "chasing": chasing,
}
"""Default mechanism plugins by name, in registration order."""
