"""Markets: the contract a position is in, and how its value and PnL are measured."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import attrs

from margincall.math import position
from margincall.math.tiers import Tier

ContractType = Literal["linear", "inverse"]


@attrs.frozen
class Market:
    """A perpetual or futures contract as one policy sees it.

    ``contract_size`` converts a position's ``size`` (contracts) into its exposure: base units
    for linear contracts (Binance USDⓈ-M quotes sizes in base units, so 1), quote units (USD
    face value) for inverse ones. Position value and PnL are in ``settlement_currency``:

    * linear:  value = size * contract_size * price;
      PnL = side * size * contract_size * (P - E)
    * inverse: value = size * contract_size / price;
      PnL = side * size * contract_size * (1/E - 1/P)

    ``tick_size`` is the price step and ``lot_size`` the size step (contracts) of orders.
    """

    symbol: str
    contract_type: ContractType
    contract_size: Decimal
    tick_size: Decimal
    lot_size: Decimal
    settlement_currency: str
    tiers: tuple[Tier, ...]
    liquidation_fee_rate: Decimal
    maker_fee_rate: Decimal
    taker_fee_rate: Decimal

    @property
    def inverse(self) -> bool:
        return self.contract_type == "inverse"

    def exposure(self, size: Decimal) -> Decimal:
        """``size * contract_size``: base units (linear) or quote face value (inverse)."""
        return position.exposure(size, self.contract_size)

    def value(self, size: Decimal, price: Decimal) -> Decimal:
        """Position value in the settlement currency at ``price``
        (:func:`margincall.math.position.value`)."""
        return position.value(size * self.contract_size, price, inverse=self.inverse)

    def pnl(self, sign: int, size: Decimal, entry: Decimal, price: Decimal) -> Decimal:
        """PnL, in settlement currency, of ``size`` contracts opened at ``entry``, at ``price``
        (:func:`margincall.math.position.pnl`)."""
        return position.pnl(sign, size * self.contract_size, entry, price, inverse=self.inverse)
