"""Tier tables: maintenance-margin brackets keyed by position value.

A tier table is a tuple of :class:`Tier` ordered by value. Tier ``k`` holds position values in
``(min_notional, max_notional]``; a value of 0 belongs to the first tier, and values above the
last cap stay in the last tier (a position can grow past the table through price moves alone,
and the venue still charges the top rate). Values are in the market's settlement currency:
quote currency for linear contracts, coin for inverse ones.

Maintenance margin follows the tax-bracket rule (Binance, current Bybit, Hyperliquid)::

    MM = value * maintenance_margin_rate[k] - maintenance_amount[k]
    maintenance_amount[1] = 0
    maintenance_amount[k] = maintenance_amount[k-1]
                            + min_notional[k] * (rate[k] - rate[k-1])

Source: Binance, "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts",
https://www.binance.com/en/support/faq/b3c689c1f50a44cabb3a84e663b81d93 (undated; the
recursion and the worked Level 3 / Level 5 figures). A step table (BitMEX, OKX) is the same
shape with every amount 0.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from decimal import Decimal

import attrs

from margincall.decimals import ZERO


@attrs.frozen
class Tier:
    """One bracket of a tier table. Rates are fractions (0.004 = 0.4 %)."""

    min_notional: Decimal
    max_notional: Decimal
    max_leverage: Decimal
    maintenance_margin_rate: Decimal
    maintenance_amount: Decimal = ZERO

    def maintenance_margin(self, value: Decimal) -> Decimal:
        """``value * rate - amount``: this tier's maintenance margin for a position value."""
        return value * self.maintenance_margin_rate - self.maintenance_amount


def recursive_amounts(floors: Sequence[Decimal], rates: Sequence[Decimal]) -> list[Decimal]:
    """Maintenance amounts by Binance's recursion (see the module docstring); exact."""
    amounts: list[Decimal] = []
    for k, (floor, rate) in enumerate(zip(floors, rates, strict=True)):
        amounts.append(ZERO if k == 0 else amounts[-1] + floor * (rate - rates[k - 1]))
    return amounts


def _cap(tier: Tier) -> Decimal:
    return tier.max_notional


def tier_index(tiers: Sequence[Tier], value: Decimal) -> int:
    """Index of the tier holding ``value``: the first whose cap is >= value, else the last."""
    index = bisect_left(tiers, value, key=_cap)
    return min(index, len(tiers) - 1)


def tier_for(tiers: Sequence[Tier], value: Decimal) -> Tier:
    """The tier holding ``value``."""
    return tiers[tier_index(tiers, value)]


EDGE_GUARD = Decimal("1e-30")
"""A one-leg root closer than this (relatively) to a tier edge is left to the segment-by-
segment solver (:func:`margincall.math.pricing.solve`), whose two neighbouring segments both
find it: far above the 50-digit rounding, far below any tick."""


class Table:
    """A tier table resolved once for solving: its edges, rates and amounts as tuples, and
    the two monotone ladders a one-leg price solver bisects.

    In value space (``v``, the position's value at the price), a one-leg pool's margin
    balance minus its maintenance margin is ``c + σ·v − MM(v)``, with ``MM(v) = v·rate − amount``
    of the tier holding ``v``. It is zero where ``v − MM(v) = −c`` (``σ = +1``) or
    ``v + MM(v) = c`` (``σ = −1``). Both left sides are increasing when the table is
    ``monotone``: continuous at every edge (tax-bracket amounts: Binance's recursion) with
    every rate in ``[0, 1)``. :attr:`long_ladder` and :attr:`short_ladder` hold them at each
    edge, so the root's tier is one bisection away: O(log tiers), one division.
    Built in margincall's exact context (:func:`~margincall.decimals.exact`).
    """

    __slots__ = (
        "amounts",
        "edges",
        "inner_high",
        "inner_low",
        "long_ladder",
        "monotone",
        "rates",
        "short_ladder",
        "tiers",
    )

    def __init__(self, tiers: Sequence[Tier]) -> None:
        self.tiers = tuple(tiers)
        self.edges = tuple(t.max_notional for t in self.tiers[:-1])
        """The caps between tiers: the last tier has none (it holds every larger value)."""
        self.rates = tuple(t.maintenance_margin_rate for t in self.tiers)
        self.amounts = tuple(t.maintenance_amount for t in self.tiers)
        at_edges = [t.maintenance_margin(t.max_notional) for t in self.tiers[:-1]]
        self.monotone = all(ZERO <= rate < 1 for rate in self.rates) and all(
            upper.maintenance_margin(edge) == requirement
            for upper, edge, requirement in zip(self.tiers[1:], self.edges, at_edges, strict=True)
        )
        self.long_ladder = tuple(e - m for e, m in zip(self.edges, at_edges, strict=True))
        self.short_ladder = tuple(e + m for e, m in zip(self.edges, at_edges, strict=True))
        self.inner_low = (ZERO, *(e * (1 + EDGE_GUARD) for e in self.edges))
        """Per tier, the lowest value at least :data:`EDGE_GUARD` (relatively) above its
        lower edge (0 for the first tier)..."""
        self.inner_high = (*(e * (1 - EDGE_GUARD) for e in self.edges), None)
        """...and the highest one as far below its cap (None for the last tier)."""
