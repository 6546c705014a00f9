"""dYdX v4 (dYdX Chain): what dYdX does differently from the default mechanisms.

Read from dYdX's documentation, never from its (AGPL) source code. Shared with the defaults,
parameterised in ``policies/dydx-v4.toml``: one margin fraction per market (a one-tier table:
``maintenance_margin_rate`` = MMF, ``max_leverage`` = 1 / IMF), the liquidation price with the
maintenance margin measured at that price (dYdX's published ``p' = (e − s·p − MMR_o) /
(|s|·MMF − s)``), the liquidation penalty as the liquidation fee, the insurance fund first,
then deleveraging at the bankruptcy price with no fee. dYdX's own rules, here:

* **Trigger** ["Margining", dYdX v4 docs, ``docs/pages/concepts/trading/margin.mdx`` of
  github.com/dydxprotocol/v4-documentation, undated; venues reference §8.1]: an account is
  liquidatable when its total account value falls *below* its total maintenance margin
  requirement (``MMR > 0 and NC < MMR``): at equality it is not.
* **Fillable price** ["Liquidations", same repository, ``liquidations.mdx``, undated; help
  centre "Liquidations on dYdX Chain"]: the liquidation order is an IOC limit order at
  ``P × (1 − s × SMMR × MMF × ABR)`` with ``ABR = clamp(BA × (1 − TNC / TMMR), 0, 1)``
  (the clamp as the venues reference §8.3 reads it), ``SMMR`` =
  ``spread_to_maintenance_margin_ratio`` and ``BA`` = ``bankruptcy_adjustment`` from
  ``[parameters]``. See :func:`fillable_price`.
* **Bankruptcy price rounding** [venues reference §8.3 item 4 and §8.6, from v4-chain
  ``liquidations.go``, snapshot 2026-03-04]: the bankruptcy quote is rounded "towards positive
  infinity so that closing the position at the rounded bankruptcy price does not require any
  insurance fund payment", in quote quantums (``quote_quantum``, 1e-6 USDC).
* **Deleveraging counterparties** [venues reference §8.5, 2026-03; help centre: "randomly
  selected"]: not ranked; chosen from a pseudo-random offset, at most
  ``max_deleveraging_subaccounts_to_iterate`` of them, each giving ``min(remaining, its
  position)``. margincall ranks them by the engine's seeded draw (``AdlCandidate.draw``, from
  the scenario's ``seed``, the step, the bankrupt account and the candidate): random, and
  reproducible for a given seed.

Rules the engine cannot play yet, as tested pure helpers: the per-block liquidation limits
(:func:`position_block_limit`, :func:`subaccount_block_limit`) and the penalty / insurance-fund
split of one liquidation fill (:func:`liquidation_penalty`).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext

from margincall import hookimpl
from margincall._compat import Traversable
from margincall.config import PolicySpec
from margincall.decimals import ONE, ZERO
from margincall.health import Health
from margincall.hookspecs import fills_from_the_top
from margincall.math.rounding import multiples
from margincall.mechanisms import adl as default_adl
from margincall.mechanisms.procedure import largest_requirement, takeover
from margincall.pricing import PriceProblem, PriceSolution, solve
from margincall.waterfall import (
    AdlCandidate,
    AdlFill,
    LiquidationAction,
    Pool,
    PoolPosition,
    Reduce,
)
from margincall_plugins import policy_files

POLICIES = ("dydx-v4.toml",)

# [parameters] the plugin reads: (key, lower bound, lower bound inclusive, upper bound, integer)
_RANGES: tuple[tuple[str, Decimal, bool, Decimal | None, bool], ...] = (
    ("bankruptcy_adjustment", ONE, True, None, False),
    ("spread_to_maintenance_margin_ratio", ZERO, False, None, False),
    ("min_position_notional_liquidated", ZERO, True, None, False),
    ("max_position_portion_liquidated", ZERO, False, ONE, False),
    ("max_notional_liquidated", ZERO, False, None, False),
    ("max_insurance_lost", ZERO, True, None, False),
    ("quote_quantum", ZERO, False, None, False),
    ("max_deleveraging_subaccounts_to_iterate", ONE, True, None, True),
)


def _problem(
    value: object, low: Decimal, inclusive: bool, high: Decimal | None, whole: bool
) -> str:
    if value is None:
        return "required by the dydx plugin"
    if not isinstance(value, Decimal):
        return f"expected a number, got {value!r}"
    if whole and value != value.to_integral_value():
        return f"must be a whole number, got {value}"
    if value < low or (value == low and not inclusive):
        return f"must be {'>=' if inclusive else '>'} {low}, got {value}"
    if high is not None and value > high:
        return f"must be <= {high}, got {value}"
    return ""


@hookimpl
def margincall_policy_files() -> Iterable[Traversable]:
    return policy_files(POLICIES)


@hookimpl
def margincall_check_config(config: PolicySpec) -> list[str]:
    problems = []
    for key, low, inclusive, high, whole in _RANGES:
        reason = _problem(config.parameters.get(key), low, inclusive, high, whole)
        if reason:
            problems.append(f"parameters.{key}: {reason}")
        for symbol, market in config.markets.items():
            if key in market.parameters:
                reason = _problem(market.parameters[key], low, inclusive, high, whole)
                if reason:
                    problems.append(f"markets.{symbol}.parameters.{key}: {reason}")
    for symbol, market in config.markets.items():
        if len(market.tiers) != 1:
            problems.append(
                f"markets.{symbol}.tiers: dYdX has one margin fraction per market (one tier), "
                f"got {len(market.tiers)}"
            )
        if market.contract_type != "linear":
            problems.append(f"markets.{symbol}.contract_type: dYdX markets are linear (USDC)")
    return problems


@hookimpl
def margincall_is_liquidatable(health: Health) -> bool:
    return health.maintenance_margin > ZERO and health.margin_balance < health.maintenance_margin


def bankruptcy_quote_price(
    side: int, exposure: Decimal, entry: Decimal, collateral: Decimal, quantum: Decimal
) -> Decimal:
    """The bankruptcy price of closing a whole position of ``exposure`` base units on ``side``
    (+1 long, −1 short), entered at ``entry``, backed by ``collateral``. The quote it receives
    there, ``side × exposure × entry − collateral`` (a long sells for it; a short's is negative:
    it pays), is rounded toward +∞ in multiples of ``quantum``, so that closing at the rounded
    price never needs an insurance-fund payment; the price is divided out with the rounding
    in the same direction."""
    received = multiples(side * exposure * entry - collateral, quantum, ROUND_CEILING)
    with localcontext() as ctx:  # the division, too, rounds in the fund's favour
        ctx.rounding = ROUND_CEILING if side > 0 else ROUND_FLOOR
        return side * received * quantum / exposure


@hookimpl
def margincall_bankruptcy_price(config: PolicySpec, problem: PriceProblem) -> PriceSolution:
    solution = solve(problem, maintenance=False)
    if solution.price is None or len(problem.legs) != 1 or problem.market.inverse:
        return solution
    (leg,) = problem.legs
    quantum = config.number("quote_quantum", problem.market.symbol)
    price = bankruptcy_quote_price(
        leg.sign, leg.exposure, leg.entry_price, problem.collateral, quantum
    )
    return PriceSolution(price if price > 0 else None, solution.tiers)


def fillable_price(
    side: int,
    oracle: Decimal,
    mmf: Decimal,
    net_collateral: Decimal,
    maintenance: Decimal,
    bankruptcy_adjustment: Decimal,
    spread_ratio: Decimal,
) -> Decimal:
    """dYdX's fillable price, the limit of a liquidation order closing a position on ``side``
    (+1 long: a sell below the oracle; −1 short: a buy above it)::

        ABR = clamp(BA × (1 − TNC / TMMR), 0, 1)
        fillable = P × (1 − side × SMMR × MMF × ABR)

    ``net_collateral`` (TNC) and ``maintenance`` (TMMR, > 0) are the account's."""
    rating = bankruptcy_adjustment * (ONE - net_collateral / maintenance)
    rating = min(ONE, max(ZERO, rating))
    return oracle * (ONE - side * spread_ratio * mmf * rating)


def _fillable(config: PolicySpec, pool: Pool, target: PoolPosition) -> Decimal:
    symbol = target.symbol
    return fillable_price(
        1 if target.side == "long" else -1,
        target.mark_price,
        target.tiers[0].maintenance_margin_rate,
        pool.margin_balance,
        pool.maintenance_margin,
        config.number("bankruptcy_adjustment", symbol),
        config.number("spread_to_maintenance_margin_ratio", symbol),
    )


@hookimpl
def margincall_liquidation_action(
    config: PolicySpec, pool: Pool, attempt: int
) -> LiquidationAction:
    """One IOC order at the fillable price for the position with the largest requirement;
    what it cannot fix goes to the backstop at the bankruptcy price (the insurance fund, then
    deleveraging). An engine step spans many blocks: the per-block limits are not applied."""
    target = largest_requirement(pool)
    if attempt == 0:
        return Reduce(
            target.symbol, target.side, target.size, "ioc", _fillable(config, pool, target)
        )
    return takeover(target)


def position_block_limit(notional: Decimal, min_notional: Decimal, max_portion: Decimal) -> Decimal:
    """The most notional of one position that may be liquidated in one block: the larger of
    ``max_portion`` of its notional and ``min_notional``, never more than the whole position
    ("overridden by min_position_notional_liquidated", which is "overridden by the maximum size
    of the position")."""
    return min(notional, max(max_portion * notional, min_notional))


def subaccount_block_limit(
    notional: Decimal, liquidated_in_block: Decimal, max_notional: Decimal
) -> Decimal:
    """What of ``notional`` an account may still have liquidated in this block, having had
    ``liquidated_in_block`` liquidated already, under ``max_notional_liquidated``."""
    return max(ZERO, min(notional, max_notional - liquidated_in_block))


def liquidation_penalty(
    quote_received: Decimal, bankruptcy_quote: Decimal, max_fee: Decimal
) -> tuple[Decimal, Decimal]:
    """``(penalty, fund payment)`` of one liquidation fill: ``Δ = quote received − bankruptcy
    quote``; when ``Δ <= 0`` the insurance fund pays ``−Δ`` and there is no penalty, otherwise
    the account pays ``min(max_fee × |quote received|, Δ)`` to the fund."""
    delta = quote_received - bankruptcy_quote
    if delta <= 0:
        return ZERO, -delta
    return min(max_fee * abs(quote_received), delta), ZERO


@hookimpl
def margincall_adl_score(candidate: AdlCandidate) -> Decimal:
    return candidate.draw


@hookimpl
@fills_from_the_top  # the first ``limit`` of the ranking, filled from the top
def margincall_adl_allocate(
    config: PolicySpec, ranked: tuple[AdlCandidate, ...], size: Decimal, price: Decimal
) -> tuple[AdlFill, ...]:
    symbol = ranked[0].symbol if ranked else None
    limit = int(config.number("max_deleveraging_subaccounts_to_iterate", symbol))
    return default_adl.margincall_adl_allocate(ranked[:limit], size, price)


__all__ = [
    "bankruptcy_quote_price",
    "fillable_price",
    "liquidation_penalty",
    "position_block_limit",
    "subaccount_block_limit",
]
