"""Default insurance-fund mechanisms: an optional cap on the net notional the fund holds, as a
multiple of its balance (Binance: "a maximum net notional position check", by default 100 %
of the fund's size), and no ADL trigger while the fund can pay. Plus the two helpers a venue's
ADL trigger on a fund drop needs: the fund's history in hours before now, and its peak within
a window, which live in :mod:`margincall.math.fund` (re-exported here for plugins)."""

from __future__ import annotations

from decimal import Decimal

from margincall.config import PolicySpec
from margincall.hookspecs import hookimpl
from margincall.math import fund
from margincall.math.fund import UNBOUNDED, hours_ago, peak_within

__all__ = [
    "UNBOUNDED",
    "hours_ago",
    "margincall_adl_trigger",
    "margincall_takeover_capacity",
    "peak_within",
]


@hookimpl
def margincall_takeover_capacity(
    config: PolicySpec, fund_balance: Decimal, net_notional: Decimal
) -> Decimal:
    return fund.takeover_capacity(
        config.insurance_fund.max_net_notional_ratio, fund_balance, net_notional
    )


@hookimpl
def margincall_adl_trigger() -> bool:
    """Never: ADL starts only for what the fund cannot absorb."""
    return False
