"""Default fees: a rate times the value traded or liquidated."""

from __future__ import annotations

from decimal import Decimal

from margincall.hookspecs import hookimpl
from margincall.market import Market


@hookimpl
def margincall_trading_fee(market: Market, size: Decimal, price: Decimal, maker: bool) -> Decimal:
    rate = market.maker_fee_rate if maker else market.taker_fee_rate
    return market.value(size, price) * rate


@hookimpl
def margincall_liquidation_fee(market: Market, size: Decimal, price: Decimal) -> Decimal:
    return market.value(size, price) * market.liquidation_fee_rate
