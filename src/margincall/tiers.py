"""Tier tables, under the name plugins import them by: see :mod:`margincall.math.tiers`."""

from margincall.math.tiers import Tier, recursive_amounts, tier_for, tier_index

__all__ = ["Tier", "recursive_amounts", "tier_for", "tier_index"]
