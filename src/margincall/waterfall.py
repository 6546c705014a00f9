"""Value types of the liquidation procedure and the deficit waterfall.

Hooks return these; the engine applies them. They hold plain numbers, so policies stay pure
functions of (account, marks) and one ledger makes every state change.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import attrs

from margincall.account import Side
from margincall.market import Market
from margincall.math.tiers import Tier

OrderType = Literal["ioc", "fok", "market", "limit"]
DeficitStage = Literal["insurance-fund", "adl", "clawback", "chasing", "venue"]
"""Stages a policy's ``[deficit] waterfall`` may list, in the order they absorb a deficit:
the insurance fund, auto-deleveraging of opposite winners, pro-rata clawback of profits, a
debt the liquidated trader keeps and is chased for, or the venue's own capital."""

DEFICIT_STAGES: tuple[DeficitStage, ...] = ("insurance-fund", "adl", "clawback", "chasing", "venue")


@attrs.frozen
class Reduce:
    """Send a liquidation order that closes ``size`` contracts of one position.

    ``limit_price`` is the worst price the order may fill at (None: any price)."""

    symbol: str
    side: Side
    size: Decimal
    order_type: OrderType
    limit_price: Decimal | None


@attrs.frozen
class Takeover:
    """Close ``size`` contracts of one position at ``price`` and hand them to the backstop
    (insurance fund, liquidator vault, or ADL when the backstop cannot take them)."""

    symbol: str
    side: Side
    size: Decimal
    price: Decimal


LiquidationAction = Reduce | Takeover


@attrs.frozen
class AdlCandidate:
    """A position that may be auto-deleveraged, with the account figures rankings use.

    ``key`` identifies the account to the caller; ``unrealized_pnl`` and ``notional`` are the
    position's at mark; ``wallet_balance``, ``account_unrealized_pnl`` and
    ``maintenance_margin`` are its pool's (the cross account, or the isolated position);
    ``draw`` is the engine's seeded random number (see below)."""

    key: str
    symbol: str
    side: Side
    size: Decimal
    entry_price: Decimal
    mark_price: Decimal
    notional: Decimal
    unrealized_pnl: Decimal
    wallet_balance: Decimal
    account_unrealized_pnl: Decimal
    maintenance_margin: Decimal
    bankruptcy_price: Decimal | None
    draw: Decimal = Decimal(0)
    """A pseudo-random number in [0, 1) for rankings that choose counterparties at random
    (dYdX v4): the engine derives it from the scenario's ``seed``, the step, the bankrupt
    account and this candidate, so the same scenario always draws the same numbers."""


@attrs.frozen
class AdlFill:
    """``size`` contracts of ``candidate`` closed against the bankrupt order at ``price``."""

    candidate: AdlCandidate
    size: Decimal
    price: Decimal


@attrs.frozen
class PoolPosition:
    """A position of a pool being liquidated, valued at its mark.

    ``tiers`` is the table that sets its maintenance margin; ``bankruptcy_price`` is where
    the pool's margin balance reaches zero if only this symbol's price moves."""

    symbol: str
    side: Side
    size: Decimal
    entry_price: Decimal
    mark_price: Decimal
    value: Decimal
    maintenance_margin: Decimal
    market: Market
    tiers: tuple[Tier, ...]
    bankruptcy_price: Decimal | None


@attrs.frozen
class Pool:
    """A margin pool (an account's cross positions, or one isolated position) at its marks."""

    isolated: bool
    margin_balance: Decimal
    maintenance_margin: Decimal
    positions: tuple[PoolPosition, ...]
