"""Auto-deleveraging arithmetic: the terms venues rank ADL candidates by, and the price the
engine's ADL closes at.

BitMEX's ranking [official: bitmex.com/app/autoDeleveraging, undated; venues reference §4.7,
ADL-1], which classic Bybit and the default mechanism use::

    PnL%               = (Mark Value − Avg Entry Value) / abs(Avg Entry Value)
    Effective Leverage = abs(Mark Value) / (Mark Value − Bankrupt Value)
    score              = PnL% × Effective Leverage   if PnL% > 0
                       = PnL% / Effective Leverage   otherwise

Binance's 2020 ranking [official-copy, 2020; venues reference §1.8]::

    Pnl Percent  = max(0, Unrealized Profit) / max(1, Wallet Balance)
    Margin Ratio = 0 if WB + UP <= 0, else Maintenance Margin / (WB + UP)
    score        = Pnl Percent × Margin Ratio

The functions take numbers, not candidates: a venue plugin reads its candidate's fields and
composes them.
"""

from __future__ import annotations

from decimal import Decimal

from margincall.decimals import ONE, ZERO
from margincall.market import Market


def equity(wallet_balance: Decimal, unrealized_pnl: Decimal) -> Decimal:
    """``wallet balance + unrealised PnL``: a pool's equity (margin balance)."""
    return wallet_balance + unrealized_pnl


def effective_leverage(
    notional: Decimal, wallet_balance: Decimal, unrealized_pnl: Decimal
) -> Decimal | None:
    """``notional / (wallet balance + unrealised PnL)``; None when that equity is <= 0."""
    pool_equity = equity(wallet_balance, unrealized_pnl)
    return None if pool_equity <= 0 else notional / pool_equity


def price_pnl_ratio(sign: int, entry: Decimal, mark: Decimal) -> Decimal:
    """``sign × (mark − entry) / entry``: a linear position's PnL over its entry value (the
    price move, signed by side)."""
    return sign * (mark - entry) / entry


def leveraged_score(pnl_ratio: Decimal, leverage: Decimal | None) -> Decimal:
    """BitMEX's rank: ``pnl_ratio × leverage`` for a winner, ``pnl_ratio / leverage``
    otherwise; ``pnl_ratio`` alone when there is no leverage (no equity left: profit alone,
    behind any leveraged winner)."""
    if leverage is None:
        return pnl_ratio
    return pnl_ratio * leverage if pnl_ratio > 0 else pnl_ratio / leverage


def equity_to_bankruptcy(
    sign: int, notional: Decimal, mark: Decimal, bankruptcy: Decimal, *, inverse: bool
) -> Decimal:
    """BitMEX's ``Mark Value − Bankrupt Value`` of a position worth ``notional`` at ``mark``,
    signed by side: ``sign × notional × (mark / bankruptcy − 1)`` (inverse: the value in coin
    is ``exposure / price``) or ``sign × notional × (mark − bankruptcy) / mark`` (linear)."""
    if inverse:
        return sign * notional * (mark / bankruptcy - 1)
    return sign * notional * (mark - bankruptcy) / mark


def profit_margin_ratio_score(
    unrealized_pnl: Decimal,
    wallet_balance: Decimal,
    account_unrealized_pnl: Decimal,
    maintenance_margin: Decimal,
) -> Decimal:
    """Binance's 2020 "Leverage Pnl": ``max(0, UP) / max(1, WB) × MM / (WB + UP_account)``,
    the margin ratio 0 when that equity is <= 0."""
    pnl_percent = max(ZERO, unrealized_pnl) / max(ONE, wallet_balance)
    pool_equity = equity(wallet_balance, account_unrealized_pnl)
    margin_ratio = ZERO if pool_equity <= 0 else maintenance_margin / pool_equity
    return pnl_percent * margin_ratio


def close_price(
    market: Market,
    sign: int,
    size: Decimal,
    bankruptcy: Decimal,
    mark: Decimal,
    fund_balance: Decimal,
) -> Decimal:
    """The price ADL closes ``size`` of a bankrupt position on side ``sign`` at, under ``[adl]
    price = "mark"`` with an insurance fund: the mark while the fund can pay the difference
    from the bankruptcy price (``−PnL`` of the position from ``bankruptcy`` to ``mark``, the
    fund's cost of closing at the mark), else the bankruptcy price (OKX: the mark "at the time
    of matching"; the bankruptcy price when the fund "is nearly depleted", venues reference
    §3.7)."""
    shortfall = -market.pnl(sign, size, bankruptcy, mark)
    return mark if shortfall <= fund_balance else bankruptcy
