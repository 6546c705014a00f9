"""Default margin requirements and trigger: tax-bracket tiers, leverage-based initial margin,
liquidation when the margin balance is at or below the maintenance margin."""

from __future__ import annotations

from decimal import Decimal

from margincall.account import Position
from margincall.config import PolicySpec
from margincall.health import Health
from margincall.hookspecs import hookimpl
from margincall.market import Market
from margincall.math.tiers import Tier, tier_for


@hookimpl
def margincall_maintenance_tiers(market: Market) -> tuple[Tier, ...]:
    return market.tiers


@hookimpl
def margincall_initial_margin(market: Market, position: Position, value: Decimal) -> Decimal:
    leverage = position.leverage or tier_for(market.tiers, value).max_leverage
    return value / leverage


@hookimpl
def margincall_is_liquidatable(config: PolicySpec, health: Health) -> bool:
    return health.margin_balance <= health.maintenance_margin
