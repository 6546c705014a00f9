"""Every hook a margincall plugin can implement, with its contract and units.

Conventions for every hook:

* Money is :class:`~decimal.Decimal` in the market's settlement currency (quote currency for
  linear contracts, coin for inverse ones); rates are fractions (0.004 = 0.4 %); sizes are in
  contracts; prices in the quote currency.
* Hooks marked *first result* stop at the first non-None result. Returning None means "not
  applicable here, ask the next plugin", never zero: return ``Decimal(0)`` for a zero amount.
* Plugins registered later are asked first. A policy's manager registers the default
  mechanisms of :mod:`margincall.mechanisms`, then the plugins its TOML ``plugins`` lists, in
  that order; so a venue plugin overrides a default by implementing the same hook.
* ``config`` is the policy's validated :class:`~margincall.config.PolicySpec`.
* Hooks are pure: they compute and return values; they never change their arguments.
* A :class:`~margincall.policy.Policy` resolves each hook's implementations once, when it is
  built, into plain callables; hook wrappers are therefore not supported on these hooks.

Plugin authors import the marker as ``from margincall import hookimpl``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from margincall._compat import Traversable
    from margincall.account import Position
    from margincall.config import PolicySpec
    from margincall.health import Health
    from margincall.market import Market
    from margincall.math.pricing import PriceProblem, PriceSolution
    from margincall.math.tiers import Tier
    from margincall.waterfall import AdlCandidate, AdlFill, LiquidationAction, Pool

PROJECT = "margincall"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
"""The marker for hook implementations; plugin authors import it as ``margincall.hookimpl``."""


# --- registration -------------------------------------------------------------------------


@hookspec
def margincall_policy_files() -> Iterable[Traversable]:
    """Return the policy TOML files this plugin ships (all results are collected).

    Each file's stem is the policy's name, and its ``name`` key must match it. Read the files
    with :mod:`importlib.resources` so that they are found inside an installed wheel.
    """


@hookspec
def margincall_check_config(config: PolicySpec) -> Iterable[str]:
    """Return the problems of ``config`` that this plugin can see (all results are collected).

    Called once when a policy that lists the plugin is loaded, after the schema's own checks.
    A plugin that reads ``[parameters]`` checks them here, so that a missing or wrong value is
    reported when the file loads, not in the middle of a computation. Each problem is
    ``"KEY PATH: REASON"`` (``"parameters.chunk_fraction: must be > 0 and <= 1, got 0"``);
    the loader prefixes the file and raises one PolicyError with every problem. Return an
    empty iterable when all is well.
    """


@hookspec
def margincall_deficit_stages() -> Iterable[Any] | None:
    """Return the deficit stages this plugin adds (all results are collected): objects with a
    ``name`` (a string) and ``cover(book, deficit) -> Decimal`` (see
    :class:`margincall.engine.DeficitStage`). A policy that lists the plugin may name them in
    its ``[deficit] waterfall``; a name may not be a built-in stage's nor another plugin's.
    """


# --- margin requirements ------------------------------------------------------------------


@hookspec(firstresult=True)
def margincall_maintenance_tiers(
    config: PolicySpec, market: Market, position: Position
) -> tuple[Tier, ...] | None:
    """Return the tier table that sets ``position``'s maintenance margin (first result).

    The maintenance margin of a position of value ``V`` (settlement currency, at mark) is
    ``V * rate - amount`` of the tier holding ``V`` (see :mod:`margincall.tiers`). Returning a
    table, not a number, lets the price solver find where the tier changes. Default: the
    market's tiers as configured (tax-bracket). A venue whose requirement includes a fee to
    close, or depends on size, returns adjusted tiers.
    """


@hookspec(firstresult=True)
def margincall_initial_margin(
    config: PolicySpec, market: Market, position: Position, value: Decimal
) -> Decimal | None:
    """Return the initial margin of ``position`` at position value ``value`` (first result).

    Default: ``value / leverage``, with the position's leverage, or else the maximum leverage
    of the tier holding ``value`` (the least margin the venue accepts).
    """


# --- liquidation trigger and prices -------------------------------------------------------


@hookspec(firstresult=True)
def margincall_is_liquidatable(config: PolicySpec, health: Health) -> bool | None:
    """Return whether a margin pool in this health is liquidated now (first result).

    Default: ``margin_balance <= maintenance_margin`` (margin ratio at or above 100 %).
    """


@hookspec(firstresult=True)
def margincall_liquidation_price(config: PolicySpec, problem: PriceProblem) -> PriceSolution | None:
    """Return the mark price of ``problem``'s symbol at which its pool reaches liquidation,
    other symbols held at their marks (first result).

    Default: the exact root of ``margin balance = maintenance margin`` with maintenance
    margin measured at that price and the tier re-selected there
    (:func:`margincall.pricing.solve`). ``PriceSolution(None)`` when no positive price exists.
    """


@hookspec(firstresult=True)
def margincall_bankruptcy_price(config: PolicySpec, problem: PriceProblem) -> PriceSolution | None:
    """Return the mark price at which the pool's margin balance reaches zero (first result).

    Default: the root of ``margin balance = 0`` with the other symbols' unrealised PnL at mark
    and no maintenance margin.
    """


# --- liquidation procedure ----------------------------------------------------------------


@hookspec(firstresult=True)
def margincall_liquidation_action(
    config: PolicySpec, pool: Pool, attempt: int
) -> LiquidationAction | None:
    """Return the next step of liquidating ``pool``, which is in liquidation (first result).

    ``attempt`` counts the steps already taken in this liquidation event (0 for the first).
    The engine applies the step, re-checks the trigger, and asks again while the pool is
    still liquidatable. Return a :class:`~margincall.waterfall.Reduce` (an order through the
    liquidity model) or a :class:`~margincall.waterfall.Takeover` (close at a price and hand
    the position to the backstop). Default: take over the largest-requirement position whole
    at its bankruptcy price.
    """


# --- fees ---------------------------------------------------------------------------------


@hookspec(firstresult=True)
def margincall_trading_fee(
    config: PolicySpec, market: Market, size: Decimal, price: Decimal, maker: bool
) -> Decimal | None:
    """Return the trading fee on a fill of ``size`` contracts at ``price`` (first result).

    Default: the market's maker or taker rate times the fill's value."""


@hookspec(firstresult=True)
def margincall_liquidation_fee(
    config: PolicySpec, market: Market, size: Decimal, price: Decimal
) -> Decimal | None:
    """Return the liquidation (clearance) fee on a liquidation fill (first result).

    Default: the market's ``liquidation`` rate times the value liquidated (not the whole
    position's value). The engine pays it to the insurance fund when the policy's waterfall
    has one, else to the venue's fee income."""


# --- insurance fund -----------------------------------------------------------------------


@hookspec(firstresult=True)
def margincall_takeover_capacity(
    config: PolicySpec, fund_balance: Decimal, net_notional: Decimal
) -> Decimal | None:
    """Return the further notional the insurance fund may take over (first result).

    ``net_notional`` is the absolute net notional the fund already holds. Positions beyond
    the capacity go to deficit recovery. ``Decimal("Infinity")`` means unbounded. Default:
    ``max_net_notional_ratio * fund_balance - net_notional`` (at least 0) when the policy sets
    that ratio, else unbounded."""


@hookspec(firstresult=True)
def margincall_adl_trigger(
    config: PolicySpec, market: Market, fund_history: tuple[tuple[Decimal, Decimal], ...]
) -> bool | None:
    """Return whether ADL starts now for a takeover in ``market``, before the insurance fund
    absorbs it, although the fund still holds money (first result).

    ``fund_history`` is the fund's balance over time as ``(day, balance)`` pairs, oldest
    first: ``day`` counts days since the scenario began (it may be fractional; hours are
    ``day * 24``) and never decreases; ``balance`` is >= 0 in the settlement currency; the
    last pair is the balance now. The engine passes the opening balance, the balance at the
    end of every step played so far, and the balance now. While this returns True, a
    takeover goes to ADL first and the fund takes only what ADL leaves. Default: False (ADL
    starts only when the fund cannot absorb a takeover)."""


# --- deficit recovery ---------------------------------------------------------------------


@hookspec(firstresult=True)
def margincall_adl_score(config: PolicySpec, candidate: AdlCandidate) -> Decimal | None:
    """Return ``candidate``'s auto-deleveraging priority: higher is deleveraged first
    (first result). Only opposite-side positions are offered. Ties are broken by the engine,
    deterministically. Default: BitMEX's ``PnL% × effective leverage`` for winners and
    ``PnL% / effective leverage`` for losers."""


@hookspec(firstresult=True)
def margincall_adl_allocate(
    config: PolicySpec, ranked: tuple[AdlCandidate, ...], size: Decimal, price: Decimal
) -> tuple[AdlFill, ...] | None:
    """Return the fills that close ``size`` contracts against ``ranked`` (best first) at
    ``price`` (first result). Default: a queue; whole positions in rank order, the last one
    partly. The fills never exceed ``size`` nor any candidate's size.

    An implementation that fills from the top of the ranking (its fills from ``ranked`` are
    the same as from any prefix of it whose sizes add up to ``size``) says so with
    :func:`fills_from_the_top`: the engine then passes only such a prefix, instead of every
    winner of the symbol (O(prefix) per takeover instead of O(winners))."""


def fills_from_the_top(function: F) -> F:
    """Mark a ``margincall_adl_allocate`` implementation as filling from the top of the
    ranking (see that hook)."""
    function.margincall_fills_from_the_top = True  # type: ignore[attr-defined]
    return function


@hookspec(firstresult=True)
def margincall_clawback(
    config: PolicySpec, deficit: Decimal, profits: Mapping[str, Decimal]
) -> Mapping[str, Decimal] | None:
    """Return how much of ``deficit`` each profitable account pays (first result).

    ``profits`` maps account keys to their profit in the period (only positive entries may
    pay). The amounts sum to ``min(deficit, total profit)`` and none exceeds its profit.
    Default: pro rata to profit (OKEx's societal clawback)."""


@hookspec(firstresult=True)
def margincall_debt_interest(config: PolicySpec, debt: Decimal, days: Decimal) -> Decimal | None:
    """Return the interest a chased debt of ``debt`` accrues over ``days`` (first result).

    Default: simple interest at the policy's ``[chasing] annual_interest_rate`` over a
    365-day year."""
