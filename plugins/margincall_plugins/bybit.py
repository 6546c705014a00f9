"""Bybit USDT linear and inverse perpetuals: the deviations from the default mechanisms.

margincall encodes the rules Bybit publishes for its classic contract account and the
isolated mode of its Unified Trading Account (UTA); the two agree on every rule below. The
policies are ``bybit-linear`` (BTCUSDT, ETHUSDT, SOLUSDT) and ``bybit-inverse`` (BTCUSD,
ETHUSD, 1 USD contracts settled in the coin). Their numbers are in ``policies/bybit-*.toml``.

Rules and their public sources (each also cited in the policy files' ``[[sources]]``):

* **Maintenance margin at entry** (``[margin] maintenance_value = "entry"`` in the policy
  files, a core option: no hook).
  Bybit's published isolated formula, ``LP = entry ∓ (IM − MM)/size ∓ extra margin/size``,
  measures MM on the position value *at the entry price*: ``MM = size × entry × MMR −
  deduction`` in the tier holding that value [official: testnet.bybit.com/en-US/help-center/
  s/article/Liquidation-Price-USDT-Contract, undated; help.bybit.com/hc/en-us/articles/
  900000181046, 2020; inverse: bybit.nl/.../Liquidation-Price-Calculation-under-Isolated-Mode-
  Unified-Trading-Account, 2024-09-10]. Liquidation is triggered when the mark reaches that
  price, so the trigger measures MM at entry too (the conformance suite's
  equity-at-liquidation-price law found a trigger at the mark's value disagreeing with it).
  Cross pools are solved the same way: the classic cross page's "Total Sustainable Loss =
  Available Balance + IM − MM" is the same equation.
* **Fee to close in the initial margin** (``margincall_initial_margin``): ``IM = value /
  leverage + fee to close``, the fee to close being the taker fee on the position's value at
  the bankruptcy price implied by the leverage: ``value × (1 ∓ 1/leverage) × taker`` for a
  linear long/short, ``value × (1 ± 1/leverage) × taker`` for an inverse long/short
  [official: testnet.bybit.com/en/help-center/article/Order-Cost-USDT-Contract, 2024-10-30;
  kbybit.com/.../Liquidation-Price-Calculation-under-Isolated-Mode-Unified-Trading-Account,
  2026-05-27]. UTA adds the same fee to the maintenance margin, where it cancels in
  ``IM − MM``; margincall's isolated ``margin`` is the position margin net of that reserve,
  so it is left out of both the margin and the maintenance margin.
* **Bankruptcy price rounded to the tick** (``margincall_bankruptcy_price``): the default
  price at zero margin balance (``entry × (1 ∓ 1/leverage)`` linear, ``entry × L/(L ± 1)``
  inverse), rounded *up* for a long and *down* for a short to the market's ``tick_size``
  [official: help.bybit.com/hc/en-us/articles/360011431853 and 900000031623, undated]. This
  is the only rounding the plugin does.
* **Procedure** (``margincall_liquidation_action``): in the lowest risk-limit tier, take over
  at the bankruptcy price; in a higher tier, first one FillOrKill order of the difference
  between the position value and the cap of the highest lower tier whose requirement the
  margin balance then satisfies, limited at the bankruptcy price, then take over what is still
  in liquidation [official: bybit.com/pt-BR/help-center/bybitHC_Article/?id=000001098,
  undated]. Lowering the risk limit and cancelling orders are not modelled: margincall has no
  open orders and always applies the tier that holds the value.
* **ADL ranking** (``margincall_adl_score``): BitMEX's classic score, which Bybit's classic
  page uses ("highest profit and effective leverage"): PnL% = unrealised PnL / entry value;
  effective leverage = |mark value| / (mark value − bankrupt value); score = PnL% × leverage
  for a winner, PnL% / leverage otherwise [official: bitmex.com/app/autoDeleveraging;
  help.bybit.com/hc/en-us/articles/900000031623; undated]. Needs the candidate's bankruptcy
  price; without one it defers to the default (the same formula with the pool's equity).
* **Contract PnL-drawdown ADL** of the 2025 grouped insurance pools
  (:func:`pnl_drawdown_adl`, parameters in ``[parameters]``) [official:
  bybit-exchange.github.io/docs/v5/market/adl-alert, 2025-09-13], played by the engine through
  ``margincall_adl_trigger`` (:func:`drawdown_adl_active`): ADL comes ahead of the fund once
  the drawdown from the fund's 8-hour peak, over that peak, falls below
  ``adl_insurance_pnl_ratio`` with the fund above ``adl_trigger_threshold``, until it recovers
  above ``adl_stop_ratio``; and whenever the fund is at or below 0 (pool-equity ADL). The
  engine has one fund and no per-symbol PnL, so the fund's own drawdown stands in for the
  symbol's PnL drawdown.

Everything else is the default mechanisms with Bybit's numbers: tax-bracket tiers with the MM
deduction, no separate liquidation fee, the insurance fund takes the surplus and covers the
loss gap, then ADL at the bankruptcy price with the maker fee (``[adl]``).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from margincall import hookimpl
from margincall._compat import Traversable
from margincall.account import Position
from margincall.config import PolicySpec
from margincall.decimals import CONTEXT, ONE, ZERO, running_in, to_decimal
from margincall.errors import InvalidInputError
from margincall.market import Market
from margincall.math.adl import equity_to_bankruptcy, leveraged_score
from margincall.math.fund import hours_ago, peak_within
from margincall.math.position import revalued
from margincall.math.rounding import lots_up, ticks_down, ticks_up
from margincall.mechanisms.procedure import largest_requirement, takeover
from margincall.pricing import PriceProblem, PriceSolution, solve
from margincall.tiers import tier_for, tier_index
from margincall.waterfall import AdlCandidate, LiquidationAction, Pool, PoolPosition, Reduce
from margincall_plugins import policy_files

POLICIES = ("bybit-linear.toml", "bybit-inverse.toml")

ADL_RATIO = "adl_insurance_pnl_ratio"
ADL_THRESHOLD = "adl_trigger_threshold"
ADL_STOP = "adl_stop_ratio"
DRAWDOWN_WINDOW_HOURS = Decimal(8)
"""The drawdown rule's window: pnlRatio = (symbol's current PnL − its 8h max PnL) / the pool's
8h max balance ("the maximum balance of the grouped insurance pool in the last 8 hours")
[official: bybit-exchange.github.io/docs/v5/market/adl-alert, 2025-09-13]. Part of the
formula, not one of the parameters the API reports (i_pr, adl_tt, adl_sr)."""


@hookimpl
def margincall_policy_files() -> Iterable[Traversable]:
    return policy_files(POLICIES)


# --- parameters ---------------------------------------------------------------------------


@hookimpl
def margincall_check_config(config: PolicySpec) -> list[str]:
    problems: dict[str, str] = {}
    places = [(None, "parameters")] + [
        (symbol, f"markets.{symbol}.parameters") for symbol in config.markets
    ]
    for symbol, where in places:
        own = config.parameters if symbol is None else config.markets[symbol].parameters
        values: dict[str, Decimal] = {}
        for key in (ADL_RATIO, ADL_THRESHOLD, ADL_STOP):
            path = f"{where if key in own else 'parameters'}.{key}"
            value = config.parameter(key, symbol)
            if value is None:
                problems[path] = f"{path}: required by the bybit plugin"
            elif not isinstance(value, Decimal):
                problems[path] = f"{path}: expected a number, got the string {value!r}"
            else:
                values[key] = value
        ratio, stop = values.get(ADL_RATIO), values.get(ADL_STOP)
        threshold = values.get(ADL_THRESHOLD)
        if ratio is not None and not -ONE < ratio < 0:
            path = f"{where if ADL_RATIO in own else 'parameters'}.{ADL_RATIO}"
            problems[path] = f"{path}: must be a drawdown ratio between -1 and 0, got {ratio}"
        elif ratio is not None and stop is not None and not ratio <= stop <= 0:
            path = f"{where if ADL_STOP in own else 'parameters'}.{ADL_STOP}"
            problems[path] = (
                f"{path}: must lie between {ADL_RATIO} ({ratio}) and 0, got {stop}; "
                "ADL stops once the drawdown has recovered past its trigger"
            )
        if threshold is not None and threshold < 0:
            path = f"{where if ADL_THRESHOLD in own else 'parameters'}.{ADL_THRESHOLD}"
            problems[path] = f"{path}: must be >= 0, got {threshold}"
    return list(problems.values())


# --- margin -------------------------------------------------------------------------------


@hookimpl
def margincall_initial_margin(market: Market, position: Position, value: Decimal) -> Decimal:
    """``value / leverage`` plus the taker fee to close at the bankruptcy price."""
    leverage = position.leverage or tier_for(market.tiers, value).max_leverage
    # value at the bankruptcy price: linear long E(1 - 1/L), short E(1 + 1/L); an inverse
    # long's value n/BP with BP = E·L/(L + 1) is value × (1 + 1/L), a short's value × (1 − 1/L)
    direction = -position.sign if not market.inverse else position.sign
    fee_to_close = value * (ONE + direction / leverage) * market.taker_fee_rate
    return value / leverage + fee_to_close


# --- prices -------------------------------------------------------------------------------


@hookimpl
def margincall_bankruptcy_price(problem: PriceProblem) -> PriceSolution:
    """The zero-margin price, rounded to the tick: up for a long, down for a short."""
    solution = solve(problem, maintenance=False)
    if solution.price is None:
        return solution
    net = sum((leg.sign * leg.exposure for leg in problem.legs), ZERO)
    tick = problem.market.tick_size
    price = ticks_up(solution.price, tick) if net > 0 else ticks_down(solution.price, tick)
    return attrs.evolve(solution, price=price)


# --- procedure ----------------------------------------------------------------------------


def reduction_to_lower_tier(pool: Pool, target: PoolPosition) -> Decimal | None:
    """The FillOrKill size, in whole lots, that brings ``target``'s value at entry (the value
    Bybit's maintenance margin and risk limit are measured on) down to the cap of the highest
    lower risk-limit tier after which ``pool`` meets its maintenance margin, the part closed
    at the mark; None in the lowest tier, or when no lower tier satisfies the requirement."""
    tiers, market = target.tiers, target.market
    value = market.value(target.size, target.entry_price)
    per_contract = value / target.size
    others = pool.maintenance_margin - target.maintenance_margin
    for lower in reversed(tiers[: tier_index(tiers, value)]):
        size = lots_up((value - lower.max_notional) / per_contract, market.lot_size)
        if size >= target.size:
            return None
        left = value - size * per_contract
        if pool.margin_balance > others + tier_for(tiers, left).maintenance_margin(left):
            return size
    return None


@hookimpl
def margincall_liquidation_action(pool: Pool, attempt: int) -> LiquidationAction:
    target = largest_requirement(pool)
    if attempt == 0 and target.bankruptcy_price is not None:
        size = reduction_to_lower_tier(pool, target)
        if size is not None:
            return Reduce(target.symbol, target.side, size, "fok", target.bankruptcy_price)
    return takeover(target)


# --- deficit recovery ---------------------------------------------------------------------


@hookimpl
def margincall_adl_score(config: PolicySpec, candidate: AdlCandidate) -> Decimal | None:
    """BitMEX's classic score on values: PnL% = unrealised PnL / entry value; effective
    leverage = mark value / (mark value − bankrupt value)."""
    bankrupt = candidate.bankruptcy_price
    market = config.market_spec(candidate.symbol)
    if bankrupt is None or market is None:
        return None  # the default ranks by the same formula with the pool's equity
    mark, entry = candidate.mark_price, candidate.entry_price
    sign = 1 if candidate.side == "long" else -1
    inverse = market.contract_type == "inverse"
    entry_value = revalued(candidate.notional, mark, entry, inverse=inverse)
    equity = equity_to_bankruptcy(sign, candidate.notional, mark, bankrupt, inverse=inverse)
    pnl_pct = candidate.unrealized_pnl / entry_value
    return leveraged_score(pnl_pct, None if equity <= 0 else candidate.notional / equity)


@attrs.frozen
class DrawdownAdl:
    """The contract PnL-drawdown check of one symbol in a grouped insurance pool.

    ``pnl_ratio`` = (symbol's PnL − its 8-hour maximum PnL) / the pool's 8-hour maximum
    balance; ``triggered`` when the pool's balance exceeds the trigger threshold and the ratio
    is below the threshold ratio, or when the balance is <= 0 (pool-equity ADL); ``stopped``
    when the ratio is above the stop ratio; ``adl_loss`` is the symbol's loss beyond the cap
    (threshold ratio × maximum balance), which ADL counterparties absorb."""

    pnl_ratio: Decimal
    triggered: bool
    stopped: bool
    adl_loss: Decimal


@running_in(CONTEXT)
def pnl_drawdown_adl(
    config: PolicySpec,
    symbol: str,
    *,
    balance: object,
    max_balance: object,
    pnl: object,
    max_pnl: object,
) -> DrawdownAdl:
    """Bybit's 2025 grouped-pool ADL trigger for ``symbol`` (BYB-8), with the policy's
    ``adl_insurance_pnl_ratio``, ``adl_trigger_threshold`` and ``adl_stop_ratio``.

    ``balance`` and ``max_balance`` are the pool's balance now and its maximum over the last
    8 hours; ``pnl`` and ``max_pnl`` the symbol's PnL now and its 8-hour maximum, all in the
    pool's coin. Source: bybit-exchange.github.io/docs/v5/market/adl-alert (2025-09-13).
    """
    if config.market_spec(symbol) is None:
        raise InvalidInputError(f"symbol: unknown symbol {symbol!r} for policy {config.name}")
    now = to_decimal(balance, "balance")
    peak = to_decimal(max_balance, "max_balance")
    if peak <= 0:
        raise InvalidInputError(f"max_balance: must be > 0, got {peak}")
    drawdown = to_decimal(pnl, "pnl") - to_decimal(max_pnl, "max_pnl")
    ratio = config.number(ADL_RATIO, symbol)
    pnl_ratio = drawdown / peak
    triggered = now <= 0 or (now > config.number(ADL_THRESHOLD, symbol) and pnl_ratio < ratio)
    return DrawdownAdl(
        pnl_ratio=pnl_ratio,
        triggered=triggered,
        stopped=pnl_ratio > config.number(ADL_STOP, symbol),
        adl_loss=max(ZERO, ratio * peak - drawdown),
    )


def drawdown_adl_active(
    config: PolicySpec, symbol: str, fund_history: tuple[tuple[Decimal, Decimal], ...]
) -> bool:
    """Whether Bybit's ADL is on now for ``symbol``, played over the fund's ``(day, balance)``
    history (oldest first, the last one now).

    At each point, :func:`pnl_drawdown_adl` with the fund's balance as the PnL and its peak of
    the last 8 hours as both the 8h max PnL and the 8h max balance: drawdown ADL starts when
    it triggers and stays on until it stops (pnlRatio > ``adl_stop_ratio``). Pool-equity ADL
    is on while the balance is <= 0. Approximation: Bybit measures the symbol's own PnL; the
    engine's fund moves only with liquidations, so its drawdown is the sum of every symbol's
    (exact when one symbol moves it)."""
    drawdown = False
    for k in range(len(fund_history)):
        points = hours_ago(fund_history[: k + 1])
        balance = points[-1][1]
        peak = peak_within(points, DRAWDOWN_WINDOW_HOURS)
        if peak <= 0:  # empty for 8 hours: no ratio, pool-equity ADL only
            continue
        check = pnl_drawdown_adl(
            config, symbol, balance=balance, max_balance=peak, pnl=balance, max_pnl=peak
        )
        fired = check.triggered and balance > 0  # `triggered` includes pool-equity ADL
        drawdown = fired or (drawdown and not check.stopped)
    return fund_history[-1][1] <= 0 or drawdown


@hookimpl
def margincall_adl_trigger(
    config: PolicySpec, market: Market, fund_history: tuple[tuple[Decimal, Decimal], ...]
) -> bool:
    return drawdown_adl_active(config, market.symbol, fund_history)
