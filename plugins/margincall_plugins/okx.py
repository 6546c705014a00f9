"""OKX (and OKEx before it): what OKX does differently from the default mechanisms.

Shared with the defaults, parameterised in ``policies/okx-swap.toml``: the exact liquidation and
bankruptcy prices (solved on the table this plugin returns), the clearance fee as a rate of the
value liquidated paid to the insurance fund, the ADL queue, and for ``okex-clawback`` the
pro-rata clawback. OKX's own rules, here:

* **Position tiers count contracts, and are step tiers** [official: OKX, "OKX to adjust position
  tiers ...", 2022-06-09, https://www.okxwebsite.com/en/latest-announcements/item/511.html;
  official-copy: OKEx USDT futures guide, 2020, github.com/bradkyle/Qenv logic/okex.md]: each
  tier holds a range of contracts and its maintenance-margin ratio applies to the whole
  position, with no deduction. The policy file writes OKX's tiers with their bounds in
  contracts (``[parameters] tier_unit = "contracts"``, checked here); a position's tier depends
  on its size alone, never on the price, so ``margincall_maintenance_tiers`` returns a one-tier
  table holding that rate at every value.
* **The trigger counts the clearance fee** [official-copy, 2020]: "When the Margin Ratio drops
  below the Maintenance Margin Ratio + Liquidation fee rate" (margin ratio = (margin + UPL) /
  position value), and the liquidation price is the mark "that makes Margin Ratio equal to the
  required Maintenance Margin Ratio + Liquidation Fee Rate". The table's rate is therefore
  MMR + the market's liquidation fee rate; the default trigger (margin balance <= requirement)
  and the default price solver then give OKX's trigger and liquidation price (venues.md §3.3:
  ``LP_long = (E - M/q) / (1 - m)``, ``m = MMR + fee rate``). The current unified account says
  the same in its own words: margin ratio = equity / (maintenance margin + liquidation fee)
  [secondary, §3.2], liquidation at 100 %.
* **Initial margin** = face value × contracts × price / leverage [official-copy, 2020]; without
  a leverage, the tier's maximum leverage, its tier chosen by contracts.
* **Procedure** [official: OKX help centre, "V. Forced Partial or Full Liquidation", undated,
  https://supdljgzdhc.okx.com/hc/en-us/articles/360020411711-V-Forced-Partial-or-Full-Liquidation]:
  a position in tier 3 or higher whose margin ratio breaches its tier's requirement is reduced
  "until it is at Tier 1" (OKX-2); a tier-1 or tier-2 position in breach, or a tier-3+ position
  already below the tier-1 requirement, is "closed at its bankruptcy price ... and taken over
  by the forced liquidation engine". OKX sends the reduction "in a price slightly better than
  market price" without publishing the offset: margincall sends a market order.
* **ADL ranking** [official: OKX, "Introduction to Auto-deleveraging (ADL)", April 2024,
  https://www.okx.com/help/iv-introduction-to-auto-deleveraging-adl; mirror of August 2025]:
  "leverage PnL% = position's PnL% * effective leverage", one formula for every position (the
  default divides a loser's PnL% by its leverage instead).
* **ADL trigger on a fund drop** (OKX-4) [official mirror: "a straight-line decrease of 30% from
  the peak value of the risk reserve within 8 hours"; secondary: ukcamo.com/4352.html, the
  8-hour reference minus max(30 %, 50K)] (``margincall_adl_trigger``): ADL starts, ahead of
  the fund, while the fund is below its peak of the last 8 hours less max(30 % of it, 50,000)
  (:func:`fund_drop_threshold`, :func:`fund_drop_triggers_adl`, :func:`fund_peak`; numbers in
  ``[parameters]``). OKX publishes no condition for ADL to stop: the rule is checked afresh at
  every takeover.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from margincall import hookimpl
from margincall._compat import Traversable
from margincall.account import Position
from margincall.config import Parameter, PolicySpec
from margincall.decimals import ZERO
from margincall.errors import InvalidInputError
from margincall.market import Market
from margincall.math.adl import price_pnl_ratio
from margincall.math.fund import hours_ago, peak_within
from margincall.mechanisms.adl import effective_leverage
from margincall.mechanisms.procedure import largest_requirement, takeover
from margincall.tiers import Tier, tier_for, tier_index
from margincall.waterfall import AdlCandidate, LiquidationAction, Pool, Reduce
from margincall_plugins import policy_files

POLICIES = ("okx-swap.toml", "okex-clawback.toml")

TIER_UNIT = "contracts"
"""The only ``tier_unit`` this plugin reads: OKX's position tiers bound contract counts."""

EVERY_VALUE = Decimal("Infinity")
PARTIAL_FROM_TIER = 2
"""0-based index of the first tier OKX reduces partially ("tier 3 or higher")."""


@hookimpl
def margincall_policy_files() -> Iterable[Traversable]:
    return policy_files(POLICIES)


# --- configuration ------------------------------------------------------------------------


def _where(config: PolicySpec, key: str, symbol: str) -> str:
    """The key path a parameter's value comes from, for a problem line."""
    market = config.markets[symbol]
    return f"markets.{symbol}.parameters.{key}" if key in market.parameters else f"parameters.{key}"


def _number(value: Parameter | None) -> Decimal | None:
    return value if isinstance(value, Decimal) else None


FUND_DROP_CHECKS: tuple[tuple[str, str, Callable[[Decimal], bool]], ...] = (
    ("adl_fund_drop_rate", "a fraction above 0 and below 1", lambda v: ZERO < v < 1),
    ("adl_fund_drop_window_hours", "a number of hours above 0", lambda v: v > 0),
    ("adl_fund_drop_minimum", "an amount >= 0", lambda v: v >= 0),
)
"""The fund-drop ADL trigger's parameters: key, what it must be, and the check."""


@hookimpl
def margincall_check_config(config: PolicySpec) -> list[str]:
    problems = []
    for symbol in config.markets:
        unit = config.parameter("tier_unit", symbol)
        if unit is None:
            problems.append(
                f"parameters.tier_unit: required by the okx plugin (market {symbol}): OKX's "
                f'position tiers count contracts; set tier_unit = "{TIER_UNIT}"'
            )
        elif unit != TIER_UNIT:
            problems.append(
                f"{_where(config, 'tier_unit', symbol)}: the okx plugin reads position tiers "
                f"bounded in contracts; must be {TIER_UNIT!r}, got {unit!r}"
            )
    for key, meaning, valid in FUND_DROP_CHECKS:
        value = config.parameter(key)
        if value is None:
            problems.append(f"parameters.{key}: required by the okx plugin ({meaning})")
            continue
        number = _number(value)
        if number is None or not valid(number):
            shown = value if isinstance(value, Decimal) else repr(value)
            problems.append(f"parameters.{key}: must be {meaning}, got {shown}")
    return list(dict.fromkeys(problems))  # a [parameters] value is reported once, not per market


# --- margin -------------------------------------------------------------------------------


def contract_tier(market: Market, size: Decimal) -> Tier:
    """The tier of ``market``'s configured table holding ``size`` contracts."""
    return tier_for(market.tiers, size)


@hookimpl
def margincall_maintenance_tiers(market: Market, position: Position) -> tuple[Tier, ...]:
    tier = contract_tier(market, position.size)
    rate = tier.maintenance_margin_rate + market.liquidation_fee_rate
    return (Tier(ZERO, EVERY_VALUE, tier.max_leverage, rate),)


@hookimpl
def margincall_initial_margin(market: Market, position: Position, value: Decimal) -> Decimal:
    leverage = position.leverage or contract_tier(market, position.size).max_leverage
    return value / leverage


# --- procedure ----------------------------------------------------------------------------


@hookimpl
def margincall_liquidation_action(pool: Pool, attempt: int) -> LiquidationAction:
    target = largest_requirement(pool)
    market = target.market
    if (
        attempt == 0
        and target.bankruptcy_price is not None
        and tier_index(market.tiers, target.size) >= PARTIAL_FROM_TIER
    ):
        first = market.tiers[0]
        tier1_requirement = target.value * (
            first.maintenance_margin_rate + market.liquidation_fee_rate
        )
        own_balance = pool.margin_balance - (pool.maintenance_margin - target.maintenance_margin)
        if own_balance > tier1_requirement:  # still above tier 1: reduce down to its cap
            return Reduce(
                target.symbol, target.side, target.size - first.max_notional, "market", None
            )
    return takeover(target)


# --- auto-deleveraging --------------------------------------------------------------------


@hookimpl
def margincall_adl_score(candidate: AdlCandidate) -> Decimal:
    sign = 1 if candidate.side == "long" else -1
    pnl_pct = price_pnl_ratio(sign, candidate.entry_price, candidate.mark_price)
    leverage = effective_leverage(candidate)
    return pnl_pct if leverage is None else pnl_pct * leverage


def _fund_drop(config: PolicySpec, key: str) -> Decimal:
    value = _number(config.parameter(key))
    if value is None:  # margincall_check_config refuses such a policy when it loads
        raise InvalidInputError(f"{config.name}: parameters.{key}: not set (an okx parameter)")
    return value


def fund_drop_threshold(config: PolicySpec, reference: Decimal) -> Decimal:
    """The fund balance below which OKX starts ADL: ``reference − max(rate × reference,
    minimum)``, with ``reference`` the fund's peak (OKX mirror) or 8-hour average (ukcamo.com)
    and ``rate``, ``minimum`` = ``[parameters] adl_fund_drop_rate``, ``adl_fund_drop_minimum``.
    OKX-4: 400,000 − max(30 % × 400,000, 50,000) = 280,000."""
    rate = _fund_drop(config, "adl_fund_drop_rate")
    minimum = _fund_drop(config, "adl_fund_drop_minimum")
    return reference - max(rate * reference, minimum)


def fund_drop_triggers_adl(config: PolicySpec, balance: Decimal, reference: Decimal) -> bool:
    """Whether a fund of ``balance`` has dropped "significantly lower" than
    :func:`fund_drop_threshold` (strictly below it). OKX-4: 200,000 < 280,000, triggered."""
    return balance < fund_drop_threshold(config, reference)


def fund_peak(config: PolicySpec, history: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """The fund's peak over the window: the highest balance among ``(hours_ago, balance)``
    points with ``0 <= hours_ago <= [parameters] adl_fund_drop_window_hours``."""
    return peak_within(history, _fund_drop(config, "adl_fund_drop_window_hours"))


@hookimpl
def margincall_adl_trigger(
    config: PolicySpec, fund_history: tuple[tuple[Decimal, Decimal], ...]
) -> bool:
    """OKX-4 on the engine's fund history: the balance now against the threshold below the
    peak of the last ``adl_fund_drop_window_hours`` (hours = days × 24)."""
    balance = fund_history[-1][1]
    return fund_drop_triggers_adl(config, balance, fund_peak(config, hours_ago(fund_history)))
