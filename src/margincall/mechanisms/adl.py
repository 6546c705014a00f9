"""Default auto-deleveraging: BitMEX's ranking and a queue that closes whole positions in
rank order, the last one partly.

Ranking [official: https://www.bitmex.com/app/autoDeleveraging, undated]::

    PnL%   = side * (mark - entry) / entry            (for linear contracts)
    EffLev = notional / (wallet balance + unrealised PnL)
    score  = PnL% * EffLev   if PnL% > 0   else   PnL% / EffLev
"""

from __future__ import annotations

from decimal import Decimal

from margincall.decimals import ZERO
from margincall.hookspecs import fills_from_the_top, hookimpl
from margincall.waterfall import AdlCandidate, AdlFill


def effective_leverage(candidate: AdlCandidate) -> Decimal | None:
    """``notional / (wallet balance + unrealised PnL)``; None when that equity is <= 0."""
    equity = candidate.wallet_balance + candidate.account_unrealized_pnl
    return None if equity <= 0 else candidate.notional / equity


@hookimpl
def margincall_adl_score(candidate: AdlCandidate) -> Decimal:
    sign = 1 if candidate.side == "long" else -1
    pnl_pct = sign * (candidate.mark_price - candidate.entry_price) / candidate.entry_price
    leverage = effective_leverage(candidate)
    if leverage is None:  # no equity left: ranks by profit alone, behind any leveraged winner
        return pnl_pct
    return pnl_pct * leverage if pnl_pct > 0 else pnl_pct / leverage


@hookimpl
@fills_from_the_top
def margincall_adl_allocate(
    ranked: tuple[AdlCandidate, ...], size: Decimal, price: Decimal
) -> tuple[AdlFill, ...]:
    fills = []
    left = size
    for candidate in ranked:
        if left <= ZERO:
            break
        take = min(left, candidate.size)
        fills.append(AdlFill(candidate, take, price))
        left -= take
    return tuple(fills)
