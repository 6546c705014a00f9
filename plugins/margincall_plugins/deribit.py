"""Deribit: what Deribit does differently from the default mechanisms.

Shared with the defaults, parameterised in ``policies/deribit.toml``: the price solver, the
trigger (equity at or below the maintenance margin), the per-market liquidation fee on the
value liquidated (paid to the insurance fund), the fund covering negative equity, and the
pro-rata clawback of the winners' profits when the fund is empty. Deribit's own rules, here:

* **Margin rates that rise linearly with size, no tiers** [official:
  support.deribit.com/hc/en-us/articles/25944738177565-Linear-Perpetual, undated, and
  /25944826427293-11-January-2022]: ``IM = base IM + (size in coin) × increase``, ``MM = base
  MM + (size in coin) × increase``, for example BTC ``2 % + size × 0.005 %`` and ``1 % + size ×
  0.005 %``. :func:`margincall_maintenance_tiers` returns a one-tier table whose rate is the
  base rate of the TOML's single tier plus ``[markets.SYMBOL.parameters]
  margin_rate_increase`` × the position's size in coin; :func:`margincall_initial_margin`
  does the same from ``initial_margin_rate``. The size in coin of an inverse position
  (contracts × 10 USD / price) is taken at its entry price: a tier table cannot depend on the
  mark [derived approximation, see docs/policies/deribit.md].
* **Incremental liquidation** [official: deribit.com/docs/auto-liquidation/, undated]: "a
  small part of the position will be closed in the market at market prices", at most 200
  contracts of 10 USD a step, up to 20 rounds a second, "as soon as maintenance margin is again
  lower than equity, liquidation will stop". :func:`margincall_liquidation_action` returns
  one market ``Reduce`` of the least whole number of such steps (``[parameters]
  liquidation_step_value``, 2,000 USD of face value) after which the pool is compliant at the
  mark, after the liquidation fee: the rounds Deribit runs back to back while the price stands
  still. When the book cannot fill them (a later attempt), the position is taken over by the
  fund at its bankruptcy price [derived: Deribit would keep liquidating over time].
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_CEILING, Decimal

from margincall import hookimpl
from margincall._compat import Traversable
from margincall.account import Position
from margincall.config import MarketSpec, PolicySpec
from margincall.market import Market
from margincall.math.position import exposure, value
from margincall.math.rounding import multiples
from margincall.mechanisms.procedure import largest_requirement, takeover
from margincall.tiers import Tier
from margincall.waterfall import LiquidationAction, Pool, PoolPosition, Reduce
from margincall_plugins import policy_files

POLICIES = ("deribit.toml",)
INCREASE = "margin_rate_increase"
INITIAL = "initial_margin_rate"
STEP = "liquidation_step_value"


@hookimpl
def margincall_policy_files() -> Iterable[Traversable]:
    return policy_files(POLICIES)


@hookimpl
def margincall_check_config(config: PolicySpec) -> list[str]:
    problems = []
    step = config.parameter(STEP)
    if step is None:
        problems.append(f"parameters.{STEP}: required by the deribit plugin (face value per step)")
    elif not isinstance(step, Decimal) or step <= 0:
        problems.append(f"parameters.{STEP}: must be a number > 0, got {step!r}")
    for symbol, market in config.markets.items():
        key = f"markets.{symbol}"
        if len(market.tiers) != 1:
            problems.append(
                f"{key}.tiers: Deribit has no tiers; give one tier holding the base "
                f"maintenance margin rate, got {len(market.tiers)}"
            )
        base_mm = market.tiers[0].maintenance_margin_rate
        fee = (
            config.fees.liquidation if market.fees.liquidation is None else market.fees.liquidation
        )
        if fee >= base_mm:
            problems.append(
                f"{key}.fees.liquidation: {fee} is not below the base maintenance rate {base_mm}; "
                "Deribit keeps the fee below it so that each liquidation step restores margin"
            )
        for name, low in ((INCREASE, Decimal(0)), (INITIAL, base_mm)):
            value = config.parameter(name, symbol)
            where = f"{key}.parameters.{name}"
            if value is None:
                problems.append(f"{where}: required by the deribit plugin")
            elif not isinstance(value, Decimal):
                problems.append(f"{where}: expected a number, got {value!r}")
            elif name == INCREASE and value < 0:
                problems.append(f"{where}: must be >= 0, got {value}")
            elif name == INITIAL and not low < value < 1:
                problems.append(
                    f"{where}: must be above the maintenance rate {base_mm} and below 1, "
                    f"got {value}"
                )
    return problems


def coin_size(market: Market | MarketSpec, size: Decimal, entry_price: Decimal) -> Decimal:
    """The position's size in coin: contracts × contract size (linear), or the face value
    over the entry price (inverse; Deribit values it at the mark, see the module docstring)."""
    held = exposure(size, market.contract_size)
    return value(held, entry_price, inverse=True) if market.contract_type == "inverse" else held


def maintenance_rate(config: PolicySpec, market: Market, size: Decimal, entry: Decimal) -> Decimal:
    """``base MM + size in coin × increase``."""
    increase = config.number(INCREASE, market.symbol)
    return market.tiers[0].maintenance_margin_rate + coin_size(market, size, entry) * increase


@hookimpl
def margincall_maintenance_tiers(
    config: PolicySpec, market: Market, position: Position
) -> tuple[Tier, ...]:
    base = market.tiers[0]
    rate = maintenance_rate(config, market, position.size, position.entry_price)
    return (Tier(base.min_notional, base.max_notional, base.max_leverage, rate),)


@hookimpl
def margincall_initial_margin(
    config: PolicySpec, market: Market, position: Position, value: Decimal
) -> Decimal | None:
    """``value × (base IM + size in coin × increase)``; a position with a leverage defers."""
    if position.leverage is not None:
        return None
    increase = config.number(INCREASE, market.symbol)
    size = coin_size(market, position.size, position.entry_price)
    return value * (config.number(INITIAL, market.symbol) + size * increase)


def step_contracts(config: PolicySpec, target: PoolPosition) -> Decimal:
    """One liquidation step in contracts: ``liquidation_step_value`` of face value (inverse:
    200 contracts of 10 USD) or of notional at the mark (linear), up to whole lots."""
    market = target.market
    face = config.number(STEP)
    per_contract = market.contract_size * (1 if market.inverse else target.mark_price)
    lots = multiples(face / per_contract, market.lot_size, ROUND_CEILING)
    return max(lots, Decimal(1)) * market.lot_size


def _compliant(config: PolicySpec, pool: Pool, target: PoolPosition, closed: Decimal) -> bool:
    """Whether closing ``closed`` contracts of ``target`` at its mark, paying the liquidation
    fee on them, leaves equity above the maintenance margin (the rate falls with the size)."""
    per_contract = target.value / target.size
    fee = target.market.liquidation_fee_rate * closed * per_contract
    left = target.size - closed
    rate = maintenance_rate(config, target.market, left, target.entry_price)
    others = pool.maintenance_margin - target.maintenance_margin
    return pool.margin_balance - fee > others + left * per_contract * rate


def steps_to_compliance(config: PolicySpec, pool: Pool, target: PoolPosition) -> Decimal:
    """The contracts of the least whole number of steps after which the pool is compliant at
    the mark (the whole position when no number is enough). Compliance only improves with
    each step (the requirement falls by at least the fee rate, which is below the
    maintenance rate), so the least number is found by bisection."""
    step = step_contracts(config, target)
    count = multiples(target.size, step, ROUND_CEILING)
    low, high = 1, int(count)
    if not _compliant(config, pool, target, min(high * step, target.size)):
        return target.size
    while low < high:
        middle = (low + high) // 2
        if _compliant(config, pool, target, middle * step):
            high = middle
        else:
            low = middle + 1
    return min(low * step, target.size)


@hookimpl
def margincall_liquidation_action(
    config: PolicySpec, pool: Pool, attempt: int
) -> LiquidationAction:
    target = largest_requirement(pool)
    if attempt > len(pool.positions):  # the book gave nothing: the fund takes the rest
        return takeover(target)
    size = steps_to_compliance(config, pool, target)
    return Reduce(target.symbol, target.side, size, "market", None)
