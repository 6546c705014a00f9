"""Pool health arithmetic: a margin pool's margin balance and requirements from its
collateral and its positions' figures.

A pool is an account's cross positions with its cross wallet balance, or one isolated
position with its own margin (:mod:`margincall.health`)::

    margin balance     = collateral + Σ unrealised PnL at mark
    maintenance margin = Σ maintenance requirements
    initial margin     = Σ initial requirements

Binance: "Collateral = Initial Collateral + Realized PnL + Unrealized PnL", liquidation when it
is below the maintenance margin, "Margin Ratio = MM / Margin Balance" [official: binance.com/
en-NZ/support/faq/binance-futures-liquidation-protocols-360033525271, 2024-05-29; venues
reference §1.5].
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from margincall.decimals import ZERO
from margincall.health import Health


def pool_health(collateral: Decimal, terms: Iterable[tuple[Decimal, Decimal, Decimal]]) -> Health:
    """The :class:`~margincall.health.Health` of a pool holding ``collateral``, whose positions
    have ``(unrealised PnL, maintenance margin, initial margin)`` ``terms``, summed in order
    (``terms`` is read once, lazily: a generator computes each position's figures as the sum
    reaches it)."""
    balance, mm, im = collateral, ZERO, ZERO
    for pnl, maintenance, initial in terms:
        balance += pnl
        mm += maintenance
        im += initial
    return Health(balance, mm, im)
