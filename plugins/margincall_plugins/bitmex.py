"""BitMEX: what BitMEX does differently from the default mechanisms.

Shared with the defaults, parameterised in ``policies/bitmex.toml``: the price solver (the
equation of docs/architecture.md; with step tiers an edge can be the answer), the trigger
(margin balance at or below the maintenance margin), the insurance fund, ADL queue fills at
the bankruptcy price with no fee, the trading fees. BitMEX's own rules, here:

* **Risk limits, a step model** [official-copy: BitMEX "Risk Limits", c. 2020, copied in
  github.com/bradkyle/Qenv ``logic/bitmex.md``]: ``New MM % = Base MM % + Steps × Base MM %``,
  ``New IM % = Base IM % + Steps × Base MM %``, and the whole position takes the new rate (no
  maintenance amount): ``tier_model = "step"`` in the TOML, each row one step;
  :func:`margincall_check_config` checks that the rows follow the rule.
  :func:`margincall_initial_margin` charges ``Base IM % + Steps × Base MM %``
  (``[markets.SYMBOL.parameters] base_initial_margin``) when a position has no leverage.
* **Close-out commission in the maintenance margin** [official: bitmex.com/app/exchangeGuide,
  undated]: "the amount of commission applicable to close out all your positions will also be
  added onto your maintenance margin requirement": :func:`margincall_maintenance_tiers` adds
  the market's taker rate to every step's rate.
* **Procedure** [official: testnet.bitmex.com/app/liquidation and /app/liquidationExamples,
  undated]: on the lowest risk-limit tier the engine takes the position over (a limit order at
  the bankruptcy price); on a higher tier a FillOrKill order "of a size to bring the position
  value below a lower tier Risk Limit" is sent first, and "if either the FillOrKill order is
  not executed, or after a successful execution the position is still in liquidation, then the
  entire position is taken over". Lowering the user's risk limit and cancelling orders, the
  first two steps, are implicit here: margincall always charges the step that holds the
  position's value and models no open orders. The FOK's limit price is not published:
  margincall limits it at the bankruptcy price [derived].
* **ADL ranking** [official: bitmex.com/app/autoDeleveraging, undated]: ``PNL percentage =
  (Mark Value − Avg Entry Value) / abs(Avg Entry Value)``, ``Effective Leverage =
  abs(Mark Value) / (Mark Value − Bankrupt Value)``; rank = PnL% × leverage for a winner, PnL% /
  leverage otherwise. For an inverse contract (values in XBT) PnL% is the PnL over the entry
  value, ``1 − E/P`` for a long, not the linear ``(P − E)/E`` of the default mechanism.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from margincall import hookimpl
from margincall._compat import Traversable
from margincall.account import Position
from margincall.config import PolicySpec
from margincall.market import Market
from margincall.math.adl import leveraged_score
from margincall.math.position import exposure, value
from margincall.math.rounding import lots_up
from margincall.mechanisms.adl import effective_leverage
from margincall.mechanisms.procedure import largest_requirement, takeover
from margincall.tiers import Tier, tier_index
from margincall.waterfall import AdlCandidate, LiquidationAction, Pool, Reduce
from margincall_plugins import policy_files

POLICIES = ("bitmex.toml",)
BASE_IM = "base_initial_margin"


@hookimpl
def margincall_policy_files() -> Iterable[Traversable]:
    return policy_files(POLICIES)


@hookimpl
def margincall_check_config(config: PolicySpec) -> list[str]:
    problems = []
    for symbol, market in config.markets.items():
        key = f"markets.{symbol}"
        if market.tier_model != "step":
            problems.append(
                f"{key}.tier_model: BitMEX risk limits are steps; set tier_model = 'step'"
            )
        base_mm = market.tiers[0].maintenance_margin_rate
        width = (
            market.tiers[1].max_notional - market.tiers[0].max_notional
            if len(market.tiers) > 1
            else None
        )
        for k, tier in enumerate(market.tiers):
            if tier.maintenance_margin_rate != base_mm * (k + 1):
                problems.append(
                    f"{key}.tiers[{k}].maintenance_margin_rate: {tier.maintenance_margin_rate} "
                    f"breaks BitMEX's step rule Base MM × (1 + steps) = {base_mm} × {k + 1}"
                )
            if k >= 1 and tier.max_notional - tier.min_notional != width:
                problems.append(
                    f"{key}.tiers[{k}]: risk steps must be equal; this one is "
                    f"{tier.max_notional - tier.min_notional}, the first is {width}"
                )
        base_im = config.parameter(BASE_IM, symbol)
        where = f"{key}.parameters.{BASE_IM}"
        if base_im is None:
            problems.append(f"{where}: required by the bitmex plugin (the base initial margin)")
        elif not isinstance(base_im, Decimal):
            problems.append(f"{where}: expected a number, got {base_im!r}")
        elif not base_mm < base_im < 1:
            problems.append(
                f"{where}: must be above the base maintenance margin {base_mm} and below 1, "
                f"got {base_im}"
            )
    return problems


@hookimpl
def margincall_maintenance_tiers(market: Market) -> tuple[Tier, ...]:
    """Each risk-limit step with the close-out commission (the taker rate) added."""
    return tuple(
        attrs.evolve(t, maintenance_margin_rate=t.maintenance_margin_rate + market.taker_fee_rate)
        for t in market.tiers
    )


@hookimpl
def margincall_initial_margin(
    config: PolicySpec, market: Market, position: Position, value: Decimal
) -> Decimal | None:
    """``value × (Base IM % + Steps × Base MM %)``; a position with a leverage defers."""
    if position.leverage is not None:
        return None
    base_im = config.parameter(BASE_IM, market.symbol)
    assert isinstance(base_im, Decimal)  # margincall_check_config
    steps = tier_index(market.tiers, value)
    return value * (base_im + steps * market.tiers[0].maintenance_margin_rate)


@hookimpl
def margincall_liquidation_action(pool: Pool, attempt: int) -> LiquidationAction:
    target = largest_requirement(pool)
    step = tier_index(target.tiers, target.value)
    if attempt == 0 and step > 0 and target.bankruptcy_price is not None:
        lower_limit = target.tiers[step - 1].max_notional
        per_contract = target.value / target.size
        size = lots_up((target.value - lower_limit) / per_contract, target.market.lot_size)
        if size < target.size:
            return Reduce(target.symbol, target.side, size, "fok", target.bankruptcy_price)
    return takeover(target)


def entry_value(config: PolicySpec, candidate: AdlCandidate) -> Decimal:
    """``abs(Avg Entry Value)``: the position's value at its entry price, in settlement
    currency (size × contract size × E, or ÷ E for an inverse contract)."""
    market = config.market_spec(candidate.symbol)
    assert market is not None  # candidates come from positions the policy priced
    held = exposure(candidate.size, market.contract_size)
    return value(held, candidate.entry_price, inverse=market.contract_type == "inverse")


@hookimpl
def margincall_adl_score(config: PolicySpec, candidate: AdlCandidate) -> Decimal:
    pnl_pct = candidate.unrealized_pnl / entry_value(config, candidate)
    return leveraged_score(pnl_pct, effective_leverage(candidate))
