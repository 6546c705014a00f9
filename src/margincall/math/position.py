"""One position's arithmetic: exposure, value and PnL of linear and inverse contracts, the
entry price of a position added to, and the leverage it runs at.

``exposure = size × contract_size`` is base units for a linear contract and quote face value
(USD) for an inverse one. Value and PnL are in the settlement currency (quote for linear,
coin for inverse)::

    linear:  value = exposure × P        PnL = side × exposure × (P − E)
    inverse: value = exposure / P        PnL = side × exposure × (1/E − 1/P)

Source: venues reference §0.3 ("Inverse (coin-margined)": ``UPnL = s·n·C·(1/E − 1/P)``, value
``n·C/P``) and BitMEX's inverse PnL, ``(1/E − 1/P_exit) × contracts`` (BMX-5). Additions and
multiplications are exact; a division (an inverse value, an average) is carried to the
caller's context (margincall's own: 50 digits).

:class:`~margincall.market.Market` methods ``exposure``, ``value`` and ``pnl`` call these.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from margincall.decimals import ZERO
from margincall.math.tiers import Tier, tier_index


def exposure(size: Decimal, contract_size: Decimal) -> Decimal:
    """``size × contract_size``: base units (linear) or quote face value (inverse)."""
    return size * contract_size


def value(exposure: Decimal, price: Decimal, *, inverse: bool) -> Decimal:
    """A position's value at ``price`` in its settlement currency."""
    return exposure / price if inverse else exposure * price


def pnl(sign: int, exposure: Decimal, entry: Decimal, price: Decimal, *, inverse: bool) -> Decimal:
    """PnL of ``exposure`` opened at ``entry`` on side ``sign`` (+1 long, −1 short), at
    ``price``, in the settlement currency."""
    if inverse:
        return sign * exposure * (1 / entry - 1 / price)
    return sign * exposure * (price - entry)


def revalued(value: Decimal, price: Decimal, new_price: Decimal, *, inverse: bool) -> Decimal:
    """A position worth ``value`` at ``price``, valued at ``new_price``: ``value × new_price /
    price`` (linear) or ``value × price / new_price`` (inverse). A position's entry value from
    its notional at the mark, for instance."""
    return value * price / new_price if inverse else value * new_price / price


def weighted_entry(size: Decimal, entry: Decimal, added: Decimal, added_entry: Decimal) -> Decimal:
    """The entry price of ``size`` held at ``entry`` once ``added`` more is opened at
    ``added_entry``: ``(size × entry + added × added_entry) / (size + added)``, the
    size-weighted arithmetic mean.

    For a linear contract it keeps PnL exact: ``(size + added) × (P − mean)`` is the sum of
    the two PnLs. For an inverse contract the entry that does so is the harmonic mean
    (``(size + added) / (size/entry + added/added_entry)``); this arithmetic mean is what the
    engine's insurance fund has always used for its holdings of either kind."""
    return (size * entry + added * added_entry) / (size + added)


def leverage(value: Decimal, margin: Decimal) -> Decimal:
    """``value / margin``: the leverage a position worth ``value`` runs at on ``margin``."""
    return value / margin


def margin_at_leverage(value: Decimal, leverage: Decimal) -> Decimal:
    """``value / leverage``: the margin a position worth ``value`` holds at ``leverage``."""
    return value / leverage


def leverage_cap(tiers: Sequence[Tier], value: Decimal) -> Decimal:
    """The maximum leverage of the tier holding ``value``."""
    return tiers[tier_index(tiers, value)].max_leverage


def liquidation_distance(
    price: Decimal | None, mark: Decimal, liquidatable: bool
) -> Decimal | None:
    """How far the mark may move before liquidation, as a fraction of the mark: ``|price −
    mark| / mark``; 0 when the pool is liquidatable already, None when no price liquidates
    it."""
    if liquidatable:
        return ZERO
    if price is None:
        return None
    return abs(price - mark) / mark
