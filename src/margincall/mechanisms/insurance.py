"""Default insurance-fund capacity: an optional cap on the net notional the fund holds, as a
multiple of its balance (Binance: "a maximum net notional position check", by default 100 %
of the fund's size)."""

from __future__ import annotations

from decimal import Decimal

from margincall.config import PolicySpec
from margincall.decimals import ZERO
from margincall.hookspecs import hookimpl

UNBOUNDED = Decimal("Infinity")


@hookimpl
def margincall_takeover_capacity(
    config: PolicySpec, fund_balance: Decimal, net_notional: Decimal
) -> Decimal:
    ratio = config.insurance_fund.max_net_notional_ratio
    if ratio is None:
        return UNBOUNDED
    return max(ZERO, ratio * fund_balance - abs(net_notional))
