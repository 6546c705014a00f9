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
from margincall.math import adl
from margincall.waterfall import AdlCandidate, AdlFill


def effective_leverage(candidate: AdlCandidate) -> Decimal | None:
    """``notional / (wallet balance + unrealised PnL)``; None when that equity is <= 0
    (:func:`margincall.math.adl.effective_leverage` of the candidate's figures)."""
    return adl.effective_leverage(
        candidate.notional, candidate.wallet_balance, candidate.account_unrealized_pnl
    )


@hookimpl
def margincall_adl_score(candidate: AdlCandidate) -> Decimal:
    sign = 1 if candidate.side == "long" else -1
    pnl_pct = adl.price_pnl_ratio(sign, candidate.entry_price, candidate.mark_price)
    return adl.leveraged_score(pnl_pct, effective_leverage(candidate))


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
