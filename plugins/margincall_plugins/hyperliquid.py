"""Hyperliquid perpetuals: what Hyperliquid does differently from the default mechanisms.

Shared with the defaults, parameterised in ``policies/hyperliquid.toml``: the tax-bracket
deduction (``maintenance_deduction(n) = deduction(n-1) + lower_bound(n) × (mmr(n) − mmr(n-1))``),
the liquidation price with the maintenance margin measured at that price, which is what the
official ``liq_price = price − side × margin_available / position_size / (1 − l × side)``
reduces to, and the bankruptcy price ``price − side × account_value / size``. Hyperliquid's own
rules, here, with their parameters read from ``[parameters]``:

* **Maintenance margin is half the initial margin at max leverage** ["Margin tiers" and
  "Liquidations", https://hyperliquid.gitbook.io/hyperliquid-docs/trading/margin-tiers and
  /trading/liquidations, current, undated]: ``mmr(tier) = 1 / (2 × max_leverage(tier))``,
  derived here from each tier's ``max_leverage`` (the API's margin tables give only
  ``lowerBound`` and ``maxLeverage``), exactly: 1/30 for a 15x tier is carried to 50 digits,
  not the 3.33 % written for display. ``margincall_check_config`` checks that the rate the
  policy file writes is within 0.01 % of that value (0.033333 for 1/30).
* **Book liquidation first** [/trading/liquidations]: "positions are first attempted to be
  entirely closed by sending market orders to the book"; the trader keeps any remaining
  collateral. **Partial liquidation** [Hyperliquid announcement, mirrored at
  https://tginsight.xyz/channel/hyperliquid_announcements/post/307, undated]: "For liquidatable
  positions larger than 100k USDC ... only 20% of the position will be sent as a market
  liquidation order"; within the 30-second cooldown that follows "all market liquidation
  orders for that user will be for the entire position". margincall plays one step at one
  instant, so the first order of a liquidation event is the 20 % chunk (``parameters.
  partial_liquidation_threshold`` and ``partial_liquidation_fraction``, rounded down to whole
  lots, at least one lot) and later orders in the same step are for the whole position.
* **Backstop liquidation** [/trading/liquidations]: "If the account equity drops below 2/3 of
  the maintenance margin without successful liquidation through the book, a backstop
  liquidation happens through the liquidator vault"; the vault takes the positions and the
  margin, and "the maintenance margin is not returned to the user". margincall takes the
  position over at its bankruptcy price when equity < ``parameters.backstop_margin_fraction``
  × maintenance margin: the trader ends at zero and the vault (the policy's
  ``insurance-fund`` stage) holds a position worth exactly the remaining equity at the mark.
  The engine has no "wait for the next block" step, so a pool still in liquidation after the
  book has been offered ``2 + number of positions`` orders in one step is backstopped too
  [derived].
* **ADL ranking** ["Auto-deleveraging",
  https://hyperliquid.gitbook.io/hyperliquid-docs/trading/auto-deleveraging, current]: "The
  specific sorting index ... is ``(mark_price / entry_price) * (notional_position /
  account_value)``", applied as written, for longs and shorts alike. A candidate whose account
  value is not positive has no index; it scores 0 (last).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from functools import lru_cache

import attrs

from margincall import hookimpl
from margincall._compat import Traversable
from margincall.config import Parameter, PolicySpec
from margincall.decimals import ONE, ZERO, exact
from margincall.market import Market
from margincall.math.adl import effective_leverage
from margincall.math.rounding import multiples
from margincall.mechanisms.procedure import largest_requirement, takeover
from margincall.tiers import Tier, recursive_amounts
from margincall.waterfall import AdlCandidate, LiquidationAction, Pool, Reduce
from margincall_plugins import policy_files

POLICIES = ("hyperliquid.toml",)

THRESHOLD = "partial_liquidation_threshold"
FRACTION = "partial_liquidation_fraction"
BACKSTOP = "backstop_margin_fraction"
WRITTEN_RATE_TOLERANCE = Decimal("0.0001")
"""How far (relatively) a tier's written rate may be from 1/(2 × max_leverage): the file
writes 1/30 as 0.033333; the plugin computes with the exact value."""


@hookimpl
def margincall_policy_files() -> Iterable[Traversable]:
    return policy_files(POLICIES)


# --- parameters ------------------------------------------------------------------------------


def fraction(value: Decimal | str) -> tuple[Decimal, Decimal]:
    """``(numerator, denominator)`` of a parameter written as a decimal or as ``"N/D"``, so
    that 2/3 is compared exactly (``equity × D < mm × N``). ValueError when it is neither."""
    if isinstance(value, Decimal):
        return value, ONE
    top, slash, bottom = value.partition("/")
    try:
        numerator = Decimal(top.strip())
        denominator = Decimal(bottom.strip()) if slash else ONE
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number or a fraction 'N/D'") from None
    if not (numerator.is_finite() and denominator.is_finite()) or denominator <= 0:
        raise ValueError(f"{value!r} is not a number or a fraction 'N/D' with D > 0")
    return numerator, denominator


def _problem(key: str, value: Parameter | None) -> str | None:
    """What is wrong with ``value`` as the parameter ``key``; None when it is fine."""
    if key == THRESHOLD and not (isinstance(value, Decimal) and value >= 0):
        return "a notional >= 0 (USDC) above which the first liquidation order is partial"
    if key == FRACTION and not (isinstance(value, Decimal) and 0 < value <= 1):
        return "the share of a large position in the first liquidation order, > 0 and <= 1"
    if key == BACKSTOP:
        try:
            numerator, denominator = fraction(value) if value is not None else (ZERO, ONE)
        except ValueError as error:
            return str(error)
        if not 0 < numerator <= denominator:
            return (
                "the share of the maintenance margin below which the liquidator vault takes "
                'over, > 0 and <= 1 (a decimal or "N/D")'
            )
    return None


@hookimpl
def margincall_check_config(config: PolicySpec) -> list[str]:
    problems = []
    for key in (THRESHOLD, FRACTION, BACKSTOP):
        value = config.parameters.get(key)
        reason = _problem(key, value)
        if reason is not None:
            problems.append(
                f"parameters.{key}: required by the hyperliquid plugin, {reason}; got {value!r}"
            )
    for symbol, market in config.markets.items():
        for key, value in market.parameters.items():
            reason = _problem(key, value)
            if reason is not None:
                problems.append(f"markets.{symbol}.parameters.{key}: {reason}; got {value!r}")
        for k, tier in enumerate(market.tiers):
            rate = tier.maintenance_margin_rate
            with exact():
                half = ONE / (2 * tier.max_leverage)
                close = abs(rate - half) <= half * WRITTEN_RATE_TOLERANCE
            if not close:
                problems.append(
                    f"markets.{symbol}.tiers[{k}].maintenance_margin_rate: {rate} is not half "
                    f"the initial margin at max leverage {tier.max_leverage}, 1/(2 × "
                    f"{tier.max_leverage}) = {half.normalize():f} (within 0.01 %)"
                )
    return problems


# --- margin ----------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def half_initial_margin_tiers(tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
    """``tiers`` with ``mmr = 1 / (2 × max_leverage)`` and the deductions by the recursion,
    exactly (divisions at 50 digits, whatever the caller's context)."""
    with exact():
        rates = [ONE / (2 * t.max_leverage) for t in tiers]
        amounts = recursive_amounts([t.min_notional for t in tiers], rates)
    return tuple(
        attrs.evolve(t, maintenance_margin_rate=r, maintenance_amount=a)
        for t, r, a in zip(tiers, rates, amounts, strict=True)
    )


@hookimpl
def margincall_maintenance_tiers(market: Market) -> tuple[Tier, ...]:
    return half_initial_margin_tiers(market.tiers)


# --- procedure -------------------------------------------------------------------------------


def chunk(size: Decimal, share: Decimal, lot: Decimal) -> Decimal:
    """``size × share`` rounded down to whole lots (Hyperliquid rounds sizes to the asset's
    ``szDecimals``), at least one lot and at most ``size``."""
    lots = multiples(size * share, lot, ROUND_DOWN)
    return min(size, max(ONE, lots) * lot)


def below_backstop(pool: Pool, backstop: Decimal | str) -> bool:
    """Equity below ``backstop`` (a fraction, e.g. "2/3") of the maintenance margin."""
    numerator, denominator = fraction(backstop)
    return pool.margin_balance * denominator < pool.maintenance_margin * numerator


@hookimpl
def margincall_liquidation_action(
    config: PolicySpec, pool: Pool, attempt: int
) -> LiquidationAction:
    target = largest_requirement(pool)
    backstop = config.parameter(BACKSTOP, target.symbol)
    assert backstop is not None  # margincall_check_config requires it
    if below_backstop(pool, backstop) or attempt >= 2 + len(pool.positions):
        return takeover(target)
    size = target.size
    threshold = config.parameter(THRESHOLD, target.symbol)
    share = config.parameter(FRACTION, target.symbol)
    assert isinstance(threshold, Decimal) and isinstance(share, Decimal)
    if attempt == 0 and target.value > threshold:
        size = chunk(target.size, share, target.market.lot_size)
    return Reduce(target.symbol, target.side, size, "market", None)


# --- auto-deleveraging ------------------------------------------------------------------------


@hookimpl
def margincall_adl_score(candidate: AdlCandidate) -> Decimal:
    leverage = effective_leverage(
        candidate.notional, candidate.wallet_balance, candidate.account_unrealized_pnl
    )
    if leverage is None:  # account value <= 0
        return ZERO
    return candidate.mark_price / candidate.entry_price * leverage
