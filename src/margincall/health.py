"""Health of a margin pool: the one value every liquidation check compares.

A pool is either an account's cross positions with its cross wallet balance, or one isolated
position with its own margin. ``margin_balance`` is collateral plus unrealised PnL at mark
(Binance: "Margin Balance"); ``maintenance_margin`` the sum of its positions' requirements.
"""

from __future__ import annotations

from decimal import Decimal

import attrs


@attrs.frozen
class Health:
    """Margin balance and requirements of one pool, in the settlement currency."""

    margin_balance: Decimal
    maintenance_margin: Decimal
    initial_margin: Decimal

    @property
    def margin_ratio(self) -> Decimal | None:
        """``maintenance_margin / margin_balance`` (Binance's "Margin Ratio"; liquidation at
        100 %). None when the margin balance is <= 0: the ratio is unbounded."""
        if self.margin_balance <= 0:
            return None
        return self.maintenance_margin / self.margin_balance
