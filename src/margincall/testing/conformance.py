"""The conformance suite: laws every policy keeps, built-in or third-party, checked by
Hypothesis over generated accounts, price paths and whole scenarios.

Each :class:`Law` states one property of a clearing system, draws its examples from the
policy's own markets and checks them through margincall's public API. :func:`verify` runs
the laws on a policy and returns a :class:`Verdict` per law, with the shrunk counterexample
when one fails; ``margincall verify POLICY`` prints them and
:func:`margincall.testing.pytest_plugin.conformance_test` turns them into pytest tests.

The laws (``docs/conformance.md`` explains each and what a failure means):

* money is conserved: the ledger of every simulation sums to zero; a clawback allocates
  exactly ``min(deficit, total profit)``, never more than an account's profit;
* longs equal shorts after every step (the engine checks it; a mismatch fails the law);
* a partial liquidation never makes its pool riskier (maintenance margin over margin balance);
* at the liquidation price the pool's margin balance equals its maintenance margin, a hair
  past it the pool is liquidatable and a hair before it is not;
* the bankruptcy price lies beyond the liquidation price;
* more margin, or lower leverage, never liquidates earlier;
* a larger insurance fund never causes more auto-deleveraging;
* ADL closes only opposite-side positions at a profit, never more than was taken over;
* the insurance fund never goes negative;
* under a policy that protects balances nobody ends with negative equity or a debt; under a
  chasing policy only liquidated accounts owe, a debtor holds no cash, the venue pays nothing;
* the same scenario always gives the same ledger.

The module needs ``hypothesis`` (the ``test`` extra).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from margincall import ledger as lg
from margincall.account import Account, Position
from margincall.decimals import ONE, ZERO, exact, exact_sums
from margincall.errors import InvalidInputError, MargincallError
from margincall.liquidity import DepthLadder, LiquidityModel, MarkFill, NoLiquidity
from margincall.outcome import Outcome
from margincall.policy import Policy
from margincall.scenario import Scenario, Step
from margincall.testing import strategies as mst
from margincall.waterfall import Reduce

__all__ = [
    "LAWS",
    "BrokenLawError",
    "Law",
    "PoolCase",
    "Verdict",
    "adl_only_from_winners",
    "balances_as_promised",
    "check_law",
    "describe",
    "fund_never_negative",
    "ledger_sums_to_zero",
    "moves",
    "pool_cases",
    "scenarios",
    "verify",
]

PROFILES: Mapping[str, Mapping[str, Any]] = {
    "ci": {"max_examples": 30, "derandomize": True},
    "nightly": {"max_examples": 1000, "derandomize": False},
}
"""Example counts per law: ``ci`` is bounded and reproducible (the same examples on every
run), ``nightly`` searches deeper with fresh examples each time."""
TOLERANCE = Decimal("1e-20")
"""Relative tolerance of the liquidation-price law (margincall solves prices at 50 digits)."""
HAIR = Decimal("1e-9")
"""A relative step past or before a liquidation price."""
JUMP = Decimal("1e-6")
"""A relative change of the maintenance margin across :data:`HAIR` larger than this is a step
tier's edge, not the requirement moving with the price."""
MIN_TICKS = 10**4
"""Generated prices are at least this many ticks (BTC at a 0.1 tick: 1,000), where a venue's
rounding to its tick is small next to its margins, as venues set their ticks."""


class BrokenLawError(AssertionError):
    """A law does not hold for an example; the message says how."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise BrokenLawError(message)


# --- examples -------------------------------------------------------------------------------


@attrs.frozen
class PoolCase:
    """An account, the marks that price it, and the position whose pool a law looks at."""

    account: Account
    marks: Mapping[str, Decimal]
    position: Position
    extra: Decimal
    """A non-negative amount, for laws that compare the pool with more collateral."""


@attrs.frozen
class ClawbackCase:
    deficit: Decimal
    profits: Mapping[str, Decimal]


@attrs.frozen
class FundCase:
    scenario: Scenario
    extra: Decimal
    """A positive amount added to the scenario's insurance fund."""


def _native(policy: Policy) -> list[str]:
    """The policy's markets under their own names (not their aliases)."""
    return sorted(policy.spec.markets)


@st.composite
def pool_cases(draw: st.DrawFn, policy: Policy) -> PoolCase:
    """A one-way account of up to three of ``policy``'s markets, its marks, one of its
    positions, and an extra amount of up to half the position's value at entry."""
    account, marks = draw(
        mst.accounts(policy, symbols=_native(policy), max_lots=10**5, min_ticks=MIN_TICKS)
    )
    position = draw(st.sampled_from(list(account.positions)))
    value = mst.value_at_entry(policy.market(position.symbol), position)
    extra = draw(mst.decimals_between(0, "0.5", 4)) * value
    return PoolCase(account, marks, position, extra)


def moves() -> st.SearchStrategy[Decimal]:
    """A step's relative price move: mostly small, sometimes a gap or a crash, sometimes a
    squeeze."""
    return st.one_of(
        mst.decimals_between("-0.05", "0.05", 3),
        mst.decimals_between("-0.6", "-0.15", 3),
        mst.decimals_between("0.15", "1", 3),
    )


def _liquidity(draw: st.DrawFn, policy: Policy, symbols: list[str]) -> LiquidityModel:
    kind = draw(st.sampled_from(["none", "mark", "depth"]))
    if kind == "none":
        return NoLiquidity()
    if kind == "mark":
        return MarkFill(
            slippage=draw(mst.decimals_between(0, "0.01", 4)),
            impact=draw(mst.decimals_between(0, "0.001", 5)),
        )
    ladders: dict[str, list[list[Decimal]]] = {}
    for symbol in symbols:
        market = policy.market(symbol)
        offsets = draw(st.lists(mst.decimals_between("0.0005", "0.05", 4), min_size=1, max_size=3))
        ladders[symbol] = [
            [offset, draw(mst.sizes(market, max_lots=10**4))] for offset in sorted(set(offsets))
        ]
    return DepthLadder(bids=ladders, asks=ladders)


@st.composite
def scenarios(
    draw: st.DrawFn, policy: Policy, *, max_accounts: int = 4, max_steps: int = 4
) -> Scenario:
    """A scenario on one or two of ``policy``'s markets of one settlement currency: accounts
    with cross and isolated positions opened within 5 % of the opening marks, a price path of
    up to ``max_steps`` moves (small moves, gaps, crashes, squeezes) with days passing and
    deposits and withdrawals, a liquidity model (none, fills around the mark, or a depth
    ladder), an insurance fund and a seed."""
    native = _native(policy)
    currency = draw(st.sampled_from(sorted({policy.market(s).settlement_currency for s in native})))
    pool = [s for s in native if policy.market(s).settlement_currency == currency]
    symbols = draw(
        st.lists(st.sampled_from(pool), min_size=1, max_size=min(2, len(pool)), unique=True)
    )
    opening = {s: draw(mst.prices(policy.market(s), min_ticks=MIN_TICKS)) for s in symbols}
    accounts: dict[str, Account] = {}
    scale = ZERO
    for k in range(draw(st.integers(1, max_accounts))):
        held = []
        for symbol in draw(
            st.lists(st.sampled_from(symbols), min_size=1, max_size=len(symbols), unique=True)
        ):
            market = policy.market(symbol)
            entries = mst.nearby_prices(market, opening[symbol], max_move="0.05")
            held.append(draw(mst.positions(market, entry_prices=entries, max_lots=10**5)))
        with exact():
            values = [mst.value_at_entry(policy.market(p.symbol), p) for p in held]
            cross = sum((v for v, p in zip(values, held, strict=True) if not p.isolated), ZERO)
            balance = cross * draw(mst.decimals_between(0, "1.5", 3))
        scale = max(scale, *values)
        accounts[f"a{k}"] = Account(balance, held)
    steps = [Step("open", dict(opening), ZERO)]
    marks, day = dict(opening), ZERO
    amounts = mst.decimals_between("-0.5", "0.5", 3).filter(lambda a: a != 0)
    for n in range(draw(st.integers(1, max_steps))):
        for symbol in symbols:
            tick = policy.market(symbol).tick_size
            moved = mst.on_step(marks[symbol] * (ONE + draw(moves())), tick)
            marks[symbol] = max(moved, tick)
        day += draw(mst.decimals_between(0, 30, 2))
        keys = draw(st.lists(st.sampled_from(sorted(accounts)), max_size=2, unique=True))
        transfers = {key: draw(amounts) * scale for key in keys}
        steps.append(Step(f"move {n + 1}", dict(marks), day, transfers))
    return Scenario(
        accounts,
        steps,
        _liquidity(draw, policy, symbols),
        name="generated",
        insurance_fund=draw(mst.decimals_between(0, 2, 3)) * scale,
        seed=draw(st.integers(0, 2**32)),
    )


@st.composite
def _clawback_cases(draw: st.DrawFn, policy: Policy) -> ClawbackCase:
    profits = draw(
        st.dictionaries(
            st.sampled_from([f"a{k}" for k in range(6)]),
            mst.decimals_between(-1000, 1000, (0, 4)),
            min_size=1,
        )
    )
    return ClawbackCase(draw(mst.decimals_between(0, 2000, (0, 4))), profits)


@st.composite
def _fund_cases(draw: st.DrawFn, policy: Policy) -> FundCase:
    scenario = draw(scenarios(policy))
    return FundCase(scenario, draw(mst.decimals_between("0.01", 10**6, 2)))


# --- the laws -------------------------------------------------------------------------------


@attrs.frozen
class Law:
    """One property every policy keeps: ``name`` (a CLI/pytest id), ``statement`` (one
    sentence), the ``examples`` it draws for a policy, and the ``check`` that raises
    :class:`BrokenLawError` when an example breaks it."""

    name: str
    statement: str
    examples: Callable[[Policy], st.SearchStrategy[Any]]
    check: Callable[[Policy, Any], None]


def _simulate(policy: Policy, scenario: Scenario) -> Outcome:
    try:
        return policy.simulate(scenario)
    except MargincallError as error:  # the engine's own checks (longs = shorts, plugins)
        raise BrokenLawError(f"the simulation stopped: {error}") from error


def ledger_sums_to_zero(policy: Policy, scenario: Scenario) -> None:
    outcome = _simulate(policy, scenario)
    total = outcome.ledger.total()
    _require(total == 0, f"the ledger sums to {total}, not 0: money was created or lost")


def _clawback_is_exact(policy: Policy, case: ClawbackCase) -> None:
    shares = policy.clawback(case.deficit, case.profits)
    with exact_sums():
        profit = sum((p for p in case.profits.values() if p > 0), ZERO)
        paid = sum(shares.values(), ZERO)
    owed = min(case.deficit, profit)
    _require(paid == owed, f"the clawback collects {paid}, not min(deficit, profit) = {owed}")
    for key, share in shares.items():
        mine = case.profits.get(key, ZERO)
        _require(
            ZERO <= share <= max(mine, ZERO),
            f"account {key} pays {share} from a profit of {mine}",
        )


def _longs_equal_shorts(policy: Policy, scenario: Scenario) -> None:
    _simulate(policy, scenario)  # the engine stops when the books disagree


def _reduced(policy: Policy, case: PoolCase, action: Reduce) -> Account:
    """The account after ``action`` filled at the mark and paid its liquidation fee."""
    symbol, side = action.symbol, action.side
    target = next(p for p in case.account.positions if (p.symbol, p.side) == (symbol, side))
    size = min(action.size, target.size)
    mark = case.marks[symbol]
    with exact():
        pnl = policy.market(symbol).pnl(target.sign, size, target.entry_price, mark)
        fee = policy.liquidation_fee(symbol, size, mark)
    left = target.size - size
    balance = case.account.balance
    positions = [p for p in case.account.positions if p is not target]
    if target.isolated:
        margin = policy.isolated_margin(target) + pnl - fee
        if left > 0:
            positions.append(
                Position._unchecked(
                    symbol, side, left, target.entry_price, "isolated", margin, target.leverage
                )
            )
        else:
            balance += margin
    else:
        balance += pnl - fee
        if left > 0:
            positions.append(
                Position._unchecked(
                    symbol, side, left, target.entry_price, "cross", None, target.leverage
                )
            )
    return Account(balance, positions, case.account.position_mode)


def _liquidation_never_adds_risk(policy: Policy, case: PoolCase) -> None:
    symbol, side = case.position.symbol, case.position.side
    if not policy.is_liquidatable(case.account, symbol, marks=case.marks, side=side):
        return
    pool = next(
        p
        for p in policy.pools(case.account, marks=case.marks)
        if any((q.symbol, q.side) == (symbol, side) for q in p.positions)
    )
    action = policy.liquidation_action(pool, 0)
    if not isinstance(action, Reduce):
        return
    before = policy.margin_ratio(case.account, action.symbol, marks=case.marks, side=action.side)
    after_account = _reduced(policy, case, action)
    held = [
        p for p in after_account.positions if (p.symbol, p.side) == (action.symbol, action.side)
    ]
    if not held or before is None:
        return
    after = policy.margin_ratio(after_account, action.symbol, marks=case.marks, side=action.side)
    _require(
        after is not None and after <= before,
        f"reducing {action.size} {action.symbol} at the mark raised the pool's margin ratio "
        f"from {before} to {after}",
    )


def _moved(price: Decimal, by: Decimal) -> Decimal:
    with exact():
        return price * (ONE + by)


def _liquidatable_at(policy: Policy, case: PoolCase, price: Decimal) -> bool:
    symbol, side = case.position.symbol, case.position.side
    marks = mst.marks_with(case.marks, symbol, price)
    return policy.is_liquidatable(case.account, symbol, marks=marks, side=side)


def _equity_at_liquidation_price(policy: Policy, case: PoolCase) -> None:
    symbol, side = case.position.symbol, case.position.side
    lp = policy.liquidation_price(case.account, symbol, marks=case.marks, side=side)
    if lp is None:
        return
    _require(lp > 0, f"the liquidation price {lp} is not positive")
    health = policy.health(
        case.account, symbol, marks=mst.marks_with(case.marks, symbol, lp), side=side
    )
    unsafe, safe = (-HAIR, HAIR) if side == "long" else (HAIR, -HAIR)
    balance, requirement = health.margin_balance, health.maintenance_margin
    with exact():
        exact_root = abs(balance - requirement) <= TOLERANCE * (abs(requirement) + abs(balance) + 1)
    if not exact_root:
        # Step tiers (BitMEX, OKX) make the requirement jump at a tier's edge: no price has the
        # balance equal to it, and the liquidation price is the edge, where the balance lies
        # between the requirements on either side of the jump.
        low, high = sorted(
            policy.health(
                case.account,
                symbol,
                marks=mst.marks_with(case.marks, symbol, _moved(lp, by)),
                side=side,
            ).maintenance_margin
            for by in (unsafe, safe)
        )
        with exact():
            jump = high - low > JUMP * high
        _require(
            jump and low <= balance <= high,
            f"at the liquidation price {lp} the margin balance is {balance}, the maintenance "
            f"margin {requirement}",
        )
    _require(
        _liquidatable_at(policy, case, _moved(lp, unsafe)),
        f"a hair past the liquidation price {lp} the pool is not liquidatable",
    )
    _require(
        not _liquidatable_at(policy, case, _moved(lp, safe)),
        f"a hair before the liquidation price {lp} the pool is already liquidatable",
    )


def _bankruptcy_beyond_liquidation(policy: Policy, case: PoolCase) -> None:
    symbol, side = case.position.symbol, case.position.side
    lp = policy.liquidation_price(case.account, symbol, marks=case.marks, side=side)
    bp = policy.bankruptcy_price(case.account, symbol, marks=case.marks, side=side)
    if lp is None or bp is None:
        return
    beyond = bp <= lp if side == "long" else bp >= lp
    _require(beyond, f"the bankruptcy price {bp} is not beyond the liquidation price {lp}")


def _with_more_margin(policy: Policy, case: PoolCase) -> Account:
    target = case.position
    if not target.isolated:
        with exact_sums():
            balance = case.account.balance + case.extra
        return Account(balance, case.account.positions, case.account.position_mode)
    with exact_sums():  # the margin of a leverage is a 50-digit quotient: add it exactly
        margin = policy.isolated_margin(target) + case.extra
    positions = [
        Position(p.symbol, p.side, p.size, p.entry_price, "isolated", margin=margin)
        if p is target
        else p
        for p in case.account.positions
    ]
    return Account(case.account.balance, positions, case.account.position_mode)


def _not_earlier(side: str, before: Decimal | None, after: Decimal | None) -> bool:
    """Whether a liquidation price ``after`` is no nearer than ``before`` (None: never), up
    to the relative :data:`TOLERANCE` of prices solved at 50 digits."""
    if after is None:
        return True
    if before is None:  # it could not be liquidated before; with more collateral it can
        return False
    with exact():
        slack = before * TOLERANCE
        return after <= before + slack if side == "long" else after >= before - slack


def _more_margin_never_earlier(policy: Policy, case: PoolCase) -> None:
    symbol, side = case.position.symbol, case.position.side
    before = policy.liquidation_price(case.account, symbol, marks=case.marks, side=side)
    richer = _with_more_margin(policy, case)
    after = policy.liquidation_price(richer, symbol, marks=case.marks, side=side)
    _require(
        _not_earlier(side, before, after),
        f"{case.extra} more margin moved the liquidation price from {before} to {after}",
    )


def _lower_leverage_never_earlier(policy: Policy, case: PoolCase) -> None:
    target = case.position
    if not target.isolated or target.leverage is None or target.leverage <= 1:
        return
    symbol, side = case.position.symbol, case.position.side
    lower = max(ONE, target.leverage - target.leverage * case.extra / (case.extra + ONE))
    positions = [
        Position(p.symbol, p.side, p.size, p.entry_price, "isolated", leverage=lower)
        if p is target
        else p
        for p in case.account.positions
    ]
    safer = Account(case.account.balance, positions, case.account.position_mode)
    before = policy.liquidation_price(case.account, symbol, marks=case.marks, side=side)
    after = policy.liquidation_price(safer, symbol, marks=case.marks, side=side)
    _require(
        _not_earlier(side, before, after),
        f"leverage {lower} instead of {target.leverage} moved the liquidation price from "
        f"{before} to {after}",
    )


def _adl_sizes(outcome: Outcome) -> dict[str, Decimal]:
    """Size deleveraged per symbol (the price may differ: ADL at the mark while the fund can
    pay the difference from the bankruptcy price, OKX)."""
    sizes: dict[str, Decimal] = defaultdict(Decimal)
    with exact_sums():
        for a in outcome.adl:
            sizes[a.symbol] += a.size
    return sizes


def _takeovers(outcome: Outcome) -> set[tuple[int, str, str, str]]:
    return {
        (x.step, x.account, x.symbol, x.side) for x in outcome.liquidations if x.kind == "takeover"
    }


def _larger_fund_no_more_adl(policy: Policy, case: FundCase) -> None:
    """One bankruptcy at a time: after a first one, the two funds hold different inventory
    and balances, and a larger fund that closed more inventory at a loss may have less left
    for the next (``docs/conformance.md``), so the law is checked where one position is
    handed to the backstop."""
    scenario = case.scenario
    fund = scenario.insurance_fund if scenario.insurance_fund is not None else ZERO
    richer = attrs.evolve(scenario, insurance_fund=fund + case.extra)
    small, large = _simulate(policy, scenario), _simulate(policy, richer)
    if len(_takeovers(small)) != 1 or _takeovers(large) != _takeovers(small):
        return
    smaller, larger = _adl_sizes(small), _adl_sizes(large)
    for symbol, size in larger.items():
        _require(
            size <= smaller.get(symbol, ZERO),
            f"a fund larger by {case.extra} deleveraged {size} {symbol} instead of "
            f"{smaller.get(symbol, ZERO)}",
        )


def adl_only_from_winners(policy: Policy, scenario: Scenario) -> None:
    outcome = _simulate(policy, scenario)
    taken: dict[tuple[int, str, str], Decimal] = defaultdict(Decimal)
    sides: dict[tuple[int, str, str], str] = {}
    for x in outcome.liquidations:
        if x.kind == "takeover":
            taken[(x.step, x.account, x.symbol)] += x.size
            sides[(x.step, x.account, x.symbol)] = x.side
    deleveraged: dict[tuple[int, str, str], Decimal] = defaultdict(Decimal)
    for a in outcome.adl:
        key = (a.step, a.bankrupt, a.symbol)
        _require(a.account != a.bankrupt, f"account {a.account} was deleveraged against itself")
        _require(
            key in sides, f"ADL at step {a.step} against {a.bankrupt}, which was not taken over"
        )
        opposite = "short" if sides[key] == "long" else "long"
        held = {(p.symbol, p.side) for p in scenario.accounts[a.account].positions}
        _require(
            (a.symbol, opposite) in held,
            f"account {a.account} was deleveraged in {a.symbol} without a {opposite} position",
        )
        deleveraged[key] += a.size
    for key, size in deleveraged.items():
        _require(
            size <= taken[key],
            f"ADL closed {size} {key[2]} against {key[1]} at step {key[0]}, more than the "
            f"{taken[key]} taken over",
        )
    for e in outcome.ledger.events:
        if e.reason == lg.AUTO_DELEVERAGED:
            gain = e.amount if e.source == lg.MARKET else -e.amount
            _require(gain > 0, f"ADL at step {e.step} realised {gain} for a deleveraged trader")


def fund_never_negative(policy: Policy, scenario: Scenario) -> None:
    outcome = _simulate(policy, scenario)
    low = min(outcome.fund_path, default=ZERO)
    _require(low >= 0, f"the insurance fund went down to {low}")


def _chases(policy: Policy) -> bool:
    return "chasing" in policy.spec.deficit.waterfall


def balances_as_promised(policy: Policy, scenario: Scenario) -> None:
    outcome = _simulate(policy, scenario)
    liquidated = {x.account for x in outcome.liquidations}
    for key in scenario.accounts:
        debt, equity = outcome.debt(key), outcome.equity[key]
        _require(debt >= 0, f"account {key} has a debt of {debt}")
        _require(equity >= 0, f"account {key} ends with equity {equity}")
        if not _chases(policy):
            _require(debt == 0, f"account {key} owes {debt} under a policy that protects balances")
        elif debt > 0:
            _require(key in liquidated, f"account {key} owes {debt} but was never liquidated")
            cash = outcome.balance(key)
            flat = not outcome.open_positions[key]
            _require(not flat or cash <= 0, f"account {key} owes {debt} while holding {cash}")
    if _chases(policy) and policy.spec.deficit.waterfall[0] == "chasing":
        _require(
            outcome.venue_loss == 0, f"the venue paid {outcome.venue_loss} of a trader's deficit"
        )


def who_pays_adds_up(policy: Policy, scenario: Scenario) -> None:
    """The loss breakdown's parts, each recomputed from what it stands for, sum to its total;
    every cash movement of the fund is its income (liquidation fees) or one of the parts."""
    outcome = _simulate(policy, scenario)
    w = outcome.who_pays()
    with exact_sums():
        parts = (w.fund_cash, w.fund_holdings, w.adl, w.clawback, w.traders, w.venue)
        total = sum(parts, w.unallocated)
        _require(total == w.total, f"the parts of who pays sum to {total}, not {w.total}")
        fees = outcome.fund_income
        change = outcome.insurance_fund - outcome.fund_opening
        _require(
            change == fees - w.fund_cash,
            f"the fund's cash changed by {change}, not its fees {fees} less what it paid for "
            f"bankruptcies {w.fund_cash}: a movement of the fund is in no part",
        )
        clawed = sum((outcome.clawback_paid(k) for k in scenario.accounts), ZERO)
        _require(w.clawback == clawed, f"clawback part {w.clawback}, the accounts paid {clawed}")
        venue = w.venue + w.unallocated
        _require(
            venue == outcome.venue_loss, f"venue parts {venue}, venue loss {outcome.venue_loss}"
        )
        if not _chases(policy):
            _require(w.traders == 0, f"traders paid {w.traders} under a protecting policy")
    with exact():  # the held positions and ADL fills, revalued here from their records
        held = [
            policy.scenario_market(p.symbol).pnl(
                1 if p.side == "long" else -1, p.size, p.entry_price, p.mark_price
            )
            for p in outcome.fund_positions
        ]
        adl = []
        for a in outcome.adl:
            market, sign = policy.scenario_market(a.symbol), 1 if a.side == "long" else -1
            mark = a.mark if a.mark is not None else a.price
            adl.append(market.pnl(sign, a.size, a.price, mark))
    with exact_sums():
        holdings, forgone = -sum(held, ZERO), sum(adl, ZERO)
    tolerance = abs(w.total) * Decimal("1e-40")  # the fund's average entry has 50 digits
    _require(
        abs(holdings - w.fund_holdings) <= tolerance,
        f"fund holdings part {w.fund_holdings}, its positions at the marks {holdings}",
    )
    _require(abs(forgone - w.adl) <= tolerance, f"ADL part {w.adl}, the fills forwent {forgone}")


def _deterministic(policy: Policy, scenario: Scenario) -> None:
    first = _simulate(policy, scenario).ledger.events
    _require(
        _simulate(policy, scenario).ledger.events == first, "the same scenario gave another ledger"
    )


LAWS: tuple[Law, ...] = (
    Law(
        "conservation",
        "every simulation's ledger sums to zero: money is neither created nor lost",
        scenarios,
        ledger_sums_to_zero,
    ),
    Law(
        "clawback-exact",
        "a clawback collects exactly min(deficit, total profit), never more than an "
        "account's profit",
        _clawback_cases,
        _clawback_is_exact,
    ),
    Law(
        "longs-equal-shorts",
        "after every step, open longs equal open shorts (the engine's check)",
        scenarios,
        _longs_equal_shorts,
    ),
    Law(
        "liquidation-reduces-risk",
        "a partial liquidation never raises its pool's margin ratio",
        pool_cases,
        _liquidation_never_adds_risk,
    ),
    Law(
        "equity-at-liquidation-price",
        "at the liquidation price the margin balance equals the maintenance margin; past it "
        "the pool is liquidatable, before it not",
        pool_cases,
        _equity_at_liquidation_price,
    ),
    Law(
        "bankruptcy-beyond-liquidation",
        "the bankruptcy price lies beyond the liquidation price",
        pool_cases,
        _bankruptcy_beyond_liquidation,
    ),
    Law(
        "more-margin-never-earlier",
        "more margin never brings the liquidation price nearer",
        pool_cases,
        _more_margin_never_earlier,
    ),
    Law(
        "lower-leverage-never-earlier",
        "lower leverage never brings the liquidation price nearer",
        pool_cases,
        _lower_leverage_never_earlier,
    ),
    Law(
        "larger-fund-less-adl",
        "for one bankrupt position, a larger insurance fund never causes more auto-deleveraging",
        _fund_cases,
        _larger_fund_no_more_adl,
    ),
    Law(
        "adl-only-winners",
        "ADL closes only opposite-side positions, at a profit, never more than was taken over",
        scenarios,
        adl_only_from_winners,
    ),
    Law(
        "fund-never-negative",
        "the insurance fund never goes negative",
        scenarios,
        fund_never_negative,
    ),
    Law(
        "balances-as-promised",
        "protected accounts never end negative or owing; under chasing only liquidated "
        "accounts owe, and a debtor holds no cash",
        scenarios,
        balances_as_promised,
    ),
    Law(
        "who-pays-adds-up",
        "the losses beyond the bankrupt accounts' collateral split exactly into fund cash, fund "
        "holdings at mark, ADL, clawback, traders, venue and unallocated",
        scenarios,
        who_pays_adds_up,
    ),
    Law("determinism", "the same scenario always gives the same ledger", scenarios, _deterministic),
)


# --- running --------------------------------------------------------------------------------


@attrs.frozen
class Verdict:
    """A law's result on a policy: ``counterexample`` (the shrunk example, described) and
    ``failure`` (what broke) are set when it failed."""

    law: Law
    passed: bool
    counterexample: str | None = None
    failure: str | None = None


def check_law(
    policy: Policy,
    law: Law,
    *,
    profile: str = "ci",
    max_examples: int | None = None,
) -> Verdict:
    """Run ``law`` on ``policy`` with the :data:`PROFILES` entry ``profile``
    (``max_examples`` overrides its count); the shrunk counterexample when it fails."""
    if profile not in PROFILES:
        raise InvalidInputError(f"profile: {profile!r} is not one of {', '.join(PROFILES)}")
    if max_examples is not None and (isinstance(max_examples, bool) or max_examples < 1):
        raise InvalidInputError(f"examples: must be a positive integer, got {max_examples!r}")
    failed: list[tuple[Any, Exception]] = []  # the latest failure: Hypothesis replays the
    # shrunk example last, so its error and the example reported belong together

    def run(example: Any) -> None:
        try:
            law.check(policy, example)
        except Exception as error:
            failed[:] = [(example, error)]
            raise

    options: dict[str, Any] = {
        **PROFILES[profile],
        "deadline": None,
        "database": None,
        "suppress_health_check": list(HealthCheck),
    }
    if max_examples is not None:
        options["max_examples"] = max_examples
    test = hypothesis_settings(**options)(given(law.examples(policy))(run))
    try:
        test()
    except Exception as error:  # a broken law, or an exception the policy raised
        if not failed:  # Hypothesis itself refused to run (an error in the strategy)
            return Verdict(law, False, None, _failure(error))
        example, cause = failed[-1]
        return Verdict(law, False, describe(example), _failure(cause))
    return Verdict(law, True)


def _failure(error: BaseException) -> str:
    """What broke: the law's message, or the exception the policy raised."""
    if isinstance(error, BrokenLawError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def verify(
    policy: Policy,
    *,
    laws: Iterable[Law] = LAWS,
    profile: str = "ci",
    max_examples: int | None = None,
) -> tuple[Verdict, ...]:
    """Every law of ``laws`` on ``policy`` (see :func:`check_law`)."""
    return tuple(check_law(policy, law, profile=profile, max_examples=max_examples) for law in laws)


# --- describing examples --------------------------------------------------------------------


def _n(value: Decimal | None) -> str:
    """A number as a reader writes it: no exponent, no trailing zeros."""
    return "none" if value is None else format(value.normalize(), "f")


def _position(p: Position) -> str:
    text = f"{p.side} {_n(p.size)} {p.symbol} @ {_n(p.entry_price)} {p.margin_mode}"
    if p.margin is not None:
        text += f" margin {_n(p.margin)}"
    if p.leverage is not None:
        text += f" leverage {_n(p.leverage)}"
    return text


def _account(a: Account) -> str:
    return f"balance {_n(a.balance)}: " + "; ".join(_position(p) for p in a.positions)


def _scenario(s: Scenario) -> list[str]:
    lines = [f"insurance fund {_n(s.insurance_fund)}, seed {s.seed}, liquidity {s.liquidity!r}"]
    lines += [f"  {key}: {_account(a)}" for key, a in s.accounts.items()]
    for step in s.steps:
        moved = ", ".join(f"{k} {_n(v)}" for k, v in step.marks.items())
        extra = f" day {_n(step.day)}" if step.day is not None else ""
        if step.transfers:
            extra += " transfers " + ", ".join(f"{k} {_n(v)}" for k, v in step.transfers.items())
        lines.append(f"  step {step.label!r}: {moved}{extra}")
    return lines


def describe(example: Any) -> str:
    """A counterexample in a few readable lines."""
    if isinstance(example, PoolCase):
        marks = ", ".join(f"{k} {_n(v)}" for k, v in example.marks.items())
        return "\n".join(
            [
                f"account {_account(example.account)}",
                f"marks {marks}",
                f"position {_position(example.position)}; extra {_n(example.extra)}",
            ]
        )
    if isinstance(example, FundCase):
        return "\n".join([*_scenario(example.scenario), f"fund larger by {_n(example.extra)}"])
    if isinstance(example, Scenario):
        return "\n".join(_scenario(example))
    if isinstance(example, ClawbackCase):
        profits = ", ".join(f"{k} {_n(v)}" for k, v in example.profits.items())
        return f"deficit {_n(example.deficit)}, profits {profits}"
    return repr(example)
