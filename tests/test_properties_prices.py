"""Property-based tests of maintenance margin, liquidation and bankruptcy prices.

Every test states its law in its docstring. Expected values come from the law and from
independent reference computations written here (the tax-bracket integral, value and PnL
by the documented formulas), never from margincall's output.

Prices are solved at 50 significant digits, so "equals" at a solved price means within
``TOL`` (1e-30) of the magnitude of the pool's numbers; "just past" a price means a relative
step of ``EPS`` (1e-12), far above that rounding and far below any tick.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import assume, event, given, note
from hypothesis import strategies as st

import margincall as mc
from margincall.decimals import ONE, ZERO, exact
from margincall.pricing import Leg, PriceProblem, solve
from margincall.testing import strategies as mst
from margincall.tiers import Tier, tier_index

POLICY = mc.load_policy("binance-usdm")
SYMBOLS = sorted(POLICY.markets)
TOL = Decimal("1e-30")
EPS = Decimal("1e-12")


# --- independent references -----------------------------------------------------------------


def bracket_margin(tiers: Sequence[Tier], value: Decimal) -> Decimal:
    """Maintenance margin as the tax-bracket integral: each tier's rate applies to the part of
    the value inside that tier; the last tier extends without bound. Uses no maintenance
    amount and no tier lookup, so it is independent of both."""
    total = ZERO
    with exact():
        for j, tier in enumerate(tiers):
            top = value if j == len(tiers) - 1 else min(value, tier.max_notional)
            if top > tier.min_notional:
                total += tier.maintenance_margin_rate * (top - tier.min_notional)
    return total


def reference_tier(tiers: Sequence[Tier], value: Decimal) -> int:
    """0-based tier holding ``value`` by the documented rule: tier k holds
    (min_notional, max_notional]; 0 is in the first; beyond the last cap, the last."""
    for k, tier in enumerate(tiers):
        if value <= tier.max_notional:
            return k
    return len(tiers) - 1


def reference_value(market: mc.Market, size: Decimal, price: Decimal) -> Decimal:
    with exact():
        exposure = size * market.contract_size
        return exposure / price if market.contract_type == "inverse" else exposure * price


def reference_pnl(
    market: mc.Market, sign: int, size: Decimal, entry: Decimal, price: Decimal
) -> Decimal:
    with exact():
        exposure = size * market.contract_size
        if market.contract_type == "inverse":
            return sign * exposure * (ONE / entry - ONE / price)
        return sign * exposure * (price - entry)


def pool_members(account: mc.Account, position: mc.Position) -> list[mc.Position]:
    if position.isolated:
        return [position]
    return [p for p in account.positions if not p.isolated]


def pool_scale(
    policy: mc.Policy, account: mc.Account, position: mc.Position, marks: Mapping[str, Decimal]
) -> Decimal:
    """Magnitude of the numbers summed in ``position``'s pool at ``marks``: the rounding of a
    50-digit computation is relative to this, not to the (possibly tiny) result."""
    with exact():
        total = policy.isolated_margin(position) if position.isolated else abs(account.balance)
        for p in pool_members(account, position):
            market = policy.market(p.symbol)
            total += reference_value(market, p.size, marks[p.symbol])
            total += reference_value(market, p.size, p.entry_price)
        return total


def moved(price: Decimal, fraction: Decimal) -> Decimal:
    with exact():
        return price * (ONE + fraction)


def liquidatable_at(
    policy: mc.Policy,
    account: mc.Account,
    position: mc.Position,
    marks: Mapping[str, Decimal],
    price: Decimal,
) -> bool:
    return policy.is_liquidatable(
        account,
        position.symbol,
        marks=mst.marks_with(marks, position.symbol, price),
        side=position.side,
    )


def check_one_way_liquidation_law(
    policy: mc.Policy, account: mc.Account, position: mc.Position, marks: Mapping[str, Decimal]
) -> Decimal | None:
    """Law (b) for the one-way pool holding ``position``; returns the liquidation price."""
    symbol, side = position.symbol, position.side
    lp = policy.liquidation_price(account, symbol, marks=marks, side=side)
    mark = marks[symbol]
    if lp is None:
        # The margin equation is strictly monotone in the price, so without a root the pool
        # is in the same state (liquidatable or not) at every price.
        event("no liquidation price")
        states = {
            liquidatable_at(policy, account, position, marks, p)
            for p in (moved(mark, Decimal("-0.999")), mark, moved(mark, Decimal(999)))
        }
        assert len(states) == 1
        return None
    event(f"liquidation price ({position.margin_mode} {side})")
    assert lp > 0
    at_lp = mst.marks_with(marks, symbol, lp)
    health = policy.health(account, symbol, marks=at_lp, side=side)
    note(f"lp={lp} health at lp={health}")
    assert abs(health.margin_balance - health.maintenance_margin) <= TOL * pool_scale(
        policy, account, position, at_lp
    )
    below, above = moved(lp, -EPS), moved(lp, EPS)
    # A long loses as the price falls, linear or inverse: its unsafe side is below.
    unsafe, safe = (below, above) if side == "long" else (above, below)
    assert liquidatable_at(policy, account, position, marks, unsafe)
    assert not liquidatable_at(policy, account, position, marks, safe)
    if abs(mark - lp) > lp * EPS:
        on_unsafe_side = mark < lp if side == "long" else mark > lp
        assert policy.is_liquidatable(account, symbol, marks=marks, side=side) == on_unsafe_side
    return lp


@st.composite
def account_and_target(
    draw: st.DrawFn,
    policy: mc.Policy,
    *,
    margin_modes: Sequence[str] = ("cross", "isolated"),
    symbols: Sequence[str] | None = None,
) -> tuple[mc.Account, dict[str, Decimal], mc.Position]:
    """A one-way account, its marks, and one position of it (the target) whose margin mode is
    drawn from ``margin_modes``; up to two other positions in other symbols. The cross
    balance is a fraction (-0.1 to 1.5) of the value at entry of all cross positions."""
    names = list(symbols or sorted(policy.markets))
    symbol = draw(st.sampled_from(names))
    market = policy.market(symbol)
    target = draw(mst.positions(market, margin_modes=margin_modes))  # type: ignore[arg-type]
    others_pool = [s for s in names if s != symbol]
    if not target.isolated:  # one cross pool settles in one currency
        currency = market.settlement_currency
        others_pool = [s for s in others_pool if policy.market(s).settlement_currency == currency]
    if others_pool:
        others, marks = draw(
            mst.accounts(policy, symbols=others_pool, min_positions=0, max_positions=2)
        )
        held = list(others.positions)
    else:
        held, marks = [], {}
    held.insert(draw(st.integers(0, len(held))), target)
    fraction = draw(mst.decimals_between("-0.1", "1.5", 4))
    with exact():
        cross_value = sum(
            (mst.value_at_entry(policy.market(p.symbol), p) for p in held if not p.isolated), ZERO
        )
        balance = cross_value * fraction if cross_value else draw(mst.decimals_between(0, 10**5, 2))
    marks[symbol] = draw(mst.nearby_prices(market, target.entry_price))
    return mc.Account(balance, held), marks, target


# --- (a) continuity of maintenance margin ---------------------------------------------------

SHIPPED_CAPS = [
    (symbol, k) for symbol in SYMBOLS for k in range(len(POLICY.market(symbol).tiers) - 1)
]


@pytest.mark.parametrize(("symbol", "k"), SHIPPED_CAPS)
def test_shipped_tables_continuous_at_every_cap(symbol: str, k: int) -> None:
    """At the cap c of tier k (k not last), tier k's formula and tier k+1's formula give the
    same maintenance margin, exactly (tax-bracket tables have no jumps); and c itself is held
    by tier k ((min, max] brackets)."""
    tiers = POLICY.market(symbol).tiers
    cap = tiers[k].max_notional
    assert tiers[k + 1].min_notional == cap
    with exact():
        assert tiers[k].maintenance_margin(cap) == tiers[k + 1].maintenance_margin(cap)
        assert tiers[k].maintenance_margin(cap) == bracket_margin(tiers, cap)
    assert tier_index(tiers, cap) == k


@given(tiers=mst.tier_tables(min_tiers=2, notional_places=(0, 4), rate_places=(1, 6)))
def test_generated_tables_continuous_at_every_cap(tiers: tuple[Tier, ...]) -> None:
    """For any valid tax-bracket table, at every cap c between two tiers the two tiers'
    formulas agree exactly; c belongs to the lower tier and the next representable value
    above c to the upper one."""
    with exact() as context:
        for k in range(len(tiers) - 1):
            cap = tiers[k].max_notional
            assert tiers[k].maintenance_margin(cap) == tiers[k + 1].maintenance_margin(cap)
            assert tier_index(tiers, cap) == k
            assert tier_index(tiers, cap.next_plus(context)) == k + 1


@given(
    tiers=mst.tier_tables(notional_places=(0, 4), rate_places=(1, 6)),
    where=mst.decimals_between(0, 2, 6),
)
def test_generated_tables_margin_is_the_bracket_integral(
    tiers: tuple[Tier, ...], where: Decimal
) -> None:
    """For any value v (0 to twice the last cap), the maintenance margin of the tier holding v
    equals the tax-bracket integral sum_j rate_j * |(floor_j, cap_j] ∩ (0, v]| (last tier
    unbounded). This is the closed form the maintenance-amount recursion stands for."""
    with exact():
        value = tiers[-1].max_notional * where
        assert tiers[tier_index(tiers, value)].maintenance_margin(value) == bracket_margin(
            tiers, value
        )


@given(data=st.data())
def test_policy_maintenance_margin_is_the_bracket_integral_near_caps(data: st.DataObject) -> None:
    """Through the policy, a position worth v just below or above a cap of a shipped table is
    charged the tax-bracket integral of v: the margin grows at tier k's rate up to the cap and
    at tier k+1's rate beyond it, with no jump at the cap."""
    symbol = data.draw(st.sampled_from(SYMBOLS), label="symbol")
    market = POLICY.market(symbol)
    tiers = market.tiers
    k = data.draw(st.integers(0, len(tiers) - 2), label="k")
    cap = tiers[k].max_notional
    # a relative offset: mostly tiny (straddling the cap), up to the neighbouring tiers' extent
    offset = data.draw(
        st.one_of(
            mst.decimals_between("-0.000001", "0.000001", 12),
            mst.decimals_between("-0.5", "0.5", 4),
        ),
        label="offset",
    )
    size = data.draw(mst.sizes(market), label="size")
    side = data.draw(st.sampled_from(["long", "short"]), label="side")
    with exact():
        mark = cap * (ONE + offset) / size
    assume(mark > 0)
    account = mc.Account(10**6, [mc.Position(symbol, side, size, mark, "cross")])
    charged = POLICY.maintenance_margin(account, symbol, marks={symbol: mark})
    value = reference_value(market, size, mark)
    assert abs(charged - bracket_margin(tiers, value)) <= TOL * value


# --- (b) the liquidation price balances the pool --------------------------------------------


@pytest.mark.parametrize("mode", ["isolated", "cross"])
@given(data=st.data())
def test_margin_balance_equals_maintenance_at_liquidation_price(
    mode: str, data: st.DataObject
) -> None:
    """One-way, long or short, isolated or cross (other symbols held at their marks): at the
    liquidation price the pool's margin balance equals its maintenance margin; a relative
    step EPS past it (long: below, short: above) the pool is liquidatable, a step before it
    is not, and at the mark the pool is liquidatable exactly when the mark is on the unsafe
    side. Without a liquidation price the pool's state is the same at every price."""
    account, marks, target = data.draw(account_and_target(POLICY, margin_modes=(mode,)))
    check_one_way_liquidation_law(POLICY, account, target, marks)


@given(data=st.data())
def test_health_follows_the_documented_formulas(data: st.DataObject) -> None:
    """A pool's margin balance is its collateral (cross: wallet balance; isolated: margin, or
    value at entry / leverage) plus the unrealised PnL of its positions at their marks, and
    its maintenance margin is the sum of each position's tax-bracket margin at its value."""
    account, marks, target = data.draw(account_and_target(POLICY))
    health = POLICY.health(account, target.symbol, marks=marks)
    with exact():
        if target.isolated:
            market = POLICY.market(target.symbol)
            collateral = (
                target.margin
                if target.margin is not None
                else reference_value(market, target.size, target.entry_price) / target.leverage
            )
        else:
            collateral = account.balance
        balance, requirement = collateral, ZERO
        for p in pool_members(account, target):
            market = POLICY.market(p.symbol)
            balance += reference_pnl(market, p.sign, p.size, p.entry_price, marks[p.symbol])
            requirement += bracket_margin(
                market.tiers, reference_value(market, p.size, marks[p.symbol])
            )
    scale = pool_scale(POLICY, account, target, marks)
    assert abs(health.margin_balance - balance) <= TOL * scale
    assert abs(health.maintenance_margin - requirement) <= TOL * scale


# --- (c) the bankruptcy price ---------------------------------------------------------------


def check_bankruptcy_law(
    policy: mc.Policy, account: mc.Account, position: mc.Position, marks: Mapping[str, Decimal]
) -> None:
    symbol, side = position.symbol, position.side
    lp = policy.liquidation_price(account, symbol, marks=marks, side=side)
    bp = policy.bankruptcy_price(account, symbol, marks=marks, side=side)
    if lp is None and not policy.is_liquidatable(account, symbol, marks=marks, side=side):
        # equity - maintenance margin has no root and is positive at the mark, so it is
        # positive at every price: equity > maintenance margin >= 0 never reaches 0. (A pool
        # liquidatable at every price, e.g. from other symbols' requirements, may still
        # have a bankruptcy price.)
        assert bp is None
    if bp is None:
        return
    assert bp > 0
    at_bp = mst.marks_with(marks, symbol, bp)
    health = policy.health(account, symbol, marks=at_bp, side=side)
    assert abs(health.margin_balance) <= TOL * pool_scale(policy, account, position, at_bp)
    if lp is not None:
        if side == "long":
            assert bp < lp
        else:
            assert bp > lp


@pytest.mark.parametrize("mode", ["isolated", "cross"])
@given(data=st.data())
def test_bankruptcy_price_lies_beyond_liquidation_price(mode: str, data: st.DataObject) -> None:
    """One-way: where both exist, the bankruptcy price lies past the liquidation price on the
    losing side (long: BP < LP; short: BP > LP), since the maintenance margin is positive;
    the pool's margin balance is 0 at the bankruptcy price; and a pool with no liquidation
    price that is safe at the mark (so at every price) has no bankruptcy price."""
    account, marks, target = data.draw(account_and_target(POLICY, margin_modes=(mode,)))
    check_bankruptcy_law(POLICY, account, target, marks)


# --- (d) more margin, lower leverage --------------------------------------------------------


@given(data=st.data())
def test_more_isolated_margin_moves_liquidation_price_away(data: st.DataObject) -> None:
    """Two isolated positions identical but for their margin, m1 < m2: the one with more
    margin is liquidated further from entry (long: strictly lower, or never; short: strictly
    higher), and the same holds for the bankruptcy price."""
    symbol = data.draw(st.sampled_from(SYMBOLS), label="symbol")
    market = POLICY.market(symbol)
    side = data.draw(st.sampled_from(["long", "short"]), label="side")
    size = data.draw(mst.sizes(market), label="size")
    entry = data.draw(mst.prices(market), label="entry")
    f1 = data.draw(mst.decimals_between("0", "1.5", 4), label="f1")
    extra = data.draw(mst.decimals_between("0.0001", "1", 4), label="extra")
    with exact():
        value = reference_value(market, size, entry)
        m1, m2 = value * f1, value * (f1 + extra)

    def prices_with(margin: Decimal) -> tuple[Decimal | None, Decimal | None]:
        account = mc.Account(0, [mc.Position(symbol, side, size, entry, "isolated", margin=margin)])
        return POLICY.liquidation_price(account, symbol), POLICY.bankruptcy_price(account, symbol)

    (lp1, bp1), (lp2, bp2) = prices_with(m1), prices_with(m2)
    for p1, p2 in ((lp1, lp2), (bp1, bp2)):
        if side == "long":
            if p1 is None:
                assert p2 is None
            else:
                assert p2 is None or p2 < p1
        else:
            assert p1 is not None and p2 is not None  # a linear short always has both
            assert p2 > p1


@given(data=st.data())
def test_lower_leverage_never_liquidates_earlier(data: st.DataObject) -> None:
    """Two isolated positions identical but for their leverage (margin = value at entry /
    leverage), L_low < L_high: the L_low one is liquidated no earlier: its liquidation price
    is further from entry (long: lower or none; short: higher), and at any mark where it is
    liquidatable, the L_high one is too."""
    symbol = data.draw(st.sampled_from(SYMBOLS), label="symbol")
    market = POLICY.market(symbol)
    side = data.draw(st.sampled_from(["long", "short"]), label="side")
    size = data.draw(mst.sizes(market), label="size")
    entry = data.draw(mst.prices(market), label="entry")
    low = data.draw(mst.decimals_between(1, 124, (0, 2)), label="low")
    high = data.draw(mst.decimals_between(low + Decimal("0.01"), 125, (0, 2)), label="high")
    marks = data.draw(
        st.lists(mst.nearby_prices(market, entry, max_move="0.9"), min_size=1, max_size=5)
    )
    cautious = mc.Account(0, [mc.Position(symbol, side, size, entry, "isolated", leverage=low)])
    bold = mc.Account(0, [mc.Position(symbol, side, size, entry, "isolated", leverage=high)])
    lp_cautious = POLICY.liquidation_price(cautious, symbol)
    lp_bold = POLICY.liquidation_price(bold, symbol)
    if side == "long":
        assert lp_bold is not None  # leverage above 1 leaves margin below value at entry
        assert lp_cautious is None or lp_cautious < lp_bold
    else:
        assert lp_cautious is not None and lp_bold is not None
        assert lp_cautious > lp_bold
    for mark in marks:
        if POLICY.is_liquidatable(cautious, symbol, marks={symbol: mark}):
            assert POLICY.is_liquidatable(bold, symbol, marks={symbol: mark})


# --- (e) isolated positions stand alone -----------------------------------------------------


@given(data=st.data())
def test_isolated_prices_ignore_other_positions(data: st.DataObject) -> None:
    """An isolated position's liquidation and bankruptcy prices and its pool's health do not
    depend on anything else in the account: the same position alone (any wallet balance) or
    next to other cross and isolated positions (one-way), or next to an isolated leg on the
    other side of its own symbol (hedge), gives the same figures."""
    symbol = data.draw(st.sampled_from(SYMBOLS), label="symbol")
    market = POLICY.market(symbol)
    target = data.draw(mst.positions(market, margin_modes=("isolated",)), label="target")
    others, marks = data.draw(
        mst.accounts(POLICY, symbols=[s for s in SYMBOLS if s != symbol], min_positions=1),
        label="others",
    )
    opposite = data.draw(
        mst.positions(
            market,
            sides=("short" if target.side == "long" else "long",),
            margin_modes=("isolated",),
        ),
        label="opposite",
    )
    marks[symbol] = data.draw(mst.nearby_prices(market, target.entry_price), label="mark")
    alone = mc.Account(data.draw(mst.decimals_between(0, 10**6, 2), label="balance"), [target])
    crowds = [
        mc.Account(others.balance, [*others.positions, target]),
        mc.Account(others.balance, [target, opposite, *others.positions], "hedge"),
    ]
    expected = (
        POLICY.liquidation_price(alone, symbol, side=target.side),
        POLICY.bankruptcy_price(alone, symbol, side=target.side),
        POLICY.health(alone, symbol, marks={symbol: marks[symbol]}, side=target.side),
    )
    for crowd in crowds:
        assert (
            POLICY.liquidation_price(crowd, symbol, marks=marks, side=target.side),
            POLICY.bankruptcy_price(crowd, symbol, marks=marks, side=target.side),
            POLICY.health(crowd, symbol, marks=marks, side=target.side),
        ) == expected


# --- (f) the tier at the liquidation price --------------------------------------------------


@given(
    drawn=st.one_of(
        mst.accounts(POLICY),
        mst.accounts(POLICY, position_mode="hedge", margin_modes=("cross",), hedged=True),
    )
)
def test_liquidation_tier_is_the_tier_at_the_liquidation_price(
    drawn: tuple[mc.Account, dict[str, Decimal]],
) -> None:
    """Binance's rule (tier re-selected at the liquidation price): for every position, the
    1-based ``liquidation_tier`` that ``risk`` reports is the tier holding the position's value
    at its liquidation price, and that tier's formula gives the position's maintenance margin
    there. ``risk`` agrees with ``liquidation_price`` and ``bankruptcy_price``, and its
    ``tier`` is the tier holding the value at the mark."""
    account, marks = drawn
    for row, position in zip(POLICY.risk(account, marks=marks), account.positions, strict=True):
        market = POLICY.market(position.symbol)
        tiers = market.tiers
        assert (
            row.tier
            == reference_tier(tiers, reference_value(market, position.size, marks[position.symbol]))
            + 1
        )
        lp = POLICY.liquidation_price(account, position.symbol, marks=marks, side=position.side)
        assert row.liquidation_price == lp
        assert row.bankruptcy_price == POLICY.bankruptcy_price(
            account, position.symbol, marks=marks, side=position.side
        )
        if lp is None:
            assert row.liquidation_tier is None
            continue
        value = reference_value(market, position.size, lp)
        expected = reference_tier(tiers, value)
        if expected + 1 != row.tier:
            event("tier at the liquidation price differs from the tier at the mark")
        assert row.liquidation_tier == expected + 1
        with exact():
            charged = tiers[row.liquidation_tier - 1].maintenance_margin(value)
        assert abs(charged - bracket_margin(tiers, value)) <= TOL * value


# --- (g) inverse contracts ------------------------------------------------------------------

INVERSE_TOML = """\
name = "inverse-test"
extends = "binance-usdm"
description = "binance-usdm plus coin-margined inverse markets (test fixture, made-up tiers)"

[markets.BTCUSD]
contract_type = "inverse"
contract_size = 100
tick_size = 0.1
lot_size = 1
settlement_currency = "BTC"
tiers = [
{ min_notional = 0, max_notional = 5, max_leverage = 125, maintenance_margin_rate = 0.004 },
{ min_notional = 5, max_notional = 10, max_leverage = 100, maintenance_margin_rate = 0.005 },
{ min_notional = 10, max_notional = 20, max_leverage = 50, maintenance_margin_rate = 0.01 },
{ min_notional = 20, max_notional = 50, max_leverage = 20, maintenance_margin_rate = 0.025 },
{ min_notional = 50, max_notional = 100, max_leverage = 10, maintenance_margin_rate = 0.05 },
{ min_notional = 100, max_notional = 200, max_leverage = 5, maintenance_margin_rate = 0.1 },
{ min_notional = 200, max_notional = 400, max_leverage = 4, maintenance_margin_rate = 0.125 },
{ min_notional = 400, max_notional = 1000, max_leverage = 2, maintenance_margin_rate = 0.25 },
{ min_notional = 1000, max_notional = 1500, max_leverage = 1, maintenance_margin_rate = 0.5 },
]

[markets.BTCUSD_250627]
contract_type = "inverse"
contract_size = 100
tick_size = 0.1
lot_size = 1
settlement_currency = "BTC"
tiers = [
{ min_notional = 0, max_notional = 25.5, max_leverage = 100, maintenance_margin_rate = 0.005 },
{ min_notional = 25.5, max_notional = 300, max_leverage = 20, maintenance_margin_rate = 0.025 },
{ min_notional = 300, max_notional = 2000, max_leverage = 2, maintenance_margin_rate = 0.25 },
]

[markets.ETHUSD]
contract_type = "inverse"
contract_size = 10
tick_size = 0.01
lot_size = 1
settlement_currency = "ETH"
tiers = [
{ min_notional = 0, max_notional = 50, max_leverage = 75, maintenance_margin_rate = 0.005 },
{ min_notional = 50, max_notional = 250, max_leverage = 50, maintenance_margin_rate = 0.01 },
{ min_notional = 250, max_notional = 1000, max_leverage = 25, maintenance_margin_rate = 0.02 },
{ min_notional = 1000, max_notional = 5000, max_leverage = 10, maintenance_margin_rate = 0.05 },
{ min_notional = 5000, max_notional = 20000, max_leverage = 4, maintenance_margin_rate = 0.125 },
{ min_notional = 20000, max_notional = 100000, max_leverage = 1, maintenance_margin_rate = 0.5 },
]
"""
INVERSE_SYMBOLS = ["BTCUSD", "BTCUSD_250627", "ETHUSD"]


@pytest.fixture(scope="module")
def inverse_policy(tmp_path_factory: pytest.TempPathFactory) -> mc.Policy:
    path: Path = tmp_path_factory.mktemp("policies") / "inverse-test.toml"
    path.write_text(INVERSE_TOML, encoding="utf-8")
    policy = mc.load_policy(path)
    assert all(policy.market(s).inverse for s in INVERSE_SYMBOLS)
    return policy


@pytest.mark.parametrize("mode", ["isolated", "cross"])
@given(data=st.data())
def test_inverse_margin_balance_equals_maintenance_at_liquidation_price(
    inverse_policy: mc.Policy, mode: str, data: st.DataObject
) -> None:
    """Law (b) for inverse contracts (value = size * contract_size / P, PnL and margin in
    coin): at the liquidation price the pool's margin balance equals its maintenance margin,
    the pool is liquidatable a step past it and not a step before it; and law (c): the
    bankruptcy price lies beyond it, with margin balance 0 there."""
    account, marks, target = data.draw(
        account_and_target(inverse_policy, margin_modes=(mode,), symbols=INVERSE_SYMBOLS)
    )
    check_one_way_liquidation_law(inverse_policy, account, target, marks)
    check_bankruptcy_law(inverse_policy, account, target, marks)


@given(data=st.data())
def test_inverse_short_covered_by_its_margin_is_never_liquidated(
    inverse_policy: mc.Policy, data: st.DataObject
) -> None:
    """An isolated inverse short whose margin is at least its value at entry (leverage <= 1,
    or margin = value * f with f >= 1) can lose at most that value (its PnL in coin tends to
    -value at entry as the price rises without bound), while its maintenance margin stays
    positive: equity - maintenance margin = k*u*(1 - rate) + (margin - value) > 0 at every
    u = 1/P > 0. So it has no liquidation and no bankruptcy price."""
    symbol = data.draw(st.sampled_from(INVERSE_SYMBOLS), label="symbol")
    market = inverse_policy.market(symbol)
    size = data.draw(mst.sizes(market), label="size")
    entry = data.draw(mst.prices(market), label="entry")
    if data.draw(st.booleans(), label="by leverage"):
        leverage = data.draw(mst.decimals_between("0.5", 1, (0, 2)), label="leverage")
        position = mc.Position(symbol, "short", size, entry, "isolated", leverage=leverage)
    else:
        fraction = data.draw(mst.decimals_between(1, 2, 4), label="fraction")
        with exact():
            margin = reference_value(market, size, entry) * fraction
        position = mc.Position(symbol, "short", size, entry, "isolated", margin=margin)
    account = mc.Account(0, [position])
    assert inverse_policy.liquidation_price(account, symbol) is None
    assert inverse_policy.bankruptcy_price(account, symbol) is None


# --- (h) hedge mode -------------------------------------------------------------------------


@given(drawn=mst.accounts(POLICY, position_mode="hedge", margin_modes=("cross",), hedged=True))
def test_hedge_pool_liquidation_price(drawn: tuple[mc.Account, dict[str, Decimal]]) -> None:
    """Hedge mode, cross, a long and a short of one symbol: both legs report the same
    liquidation price (they share one pool); at it the pool's margin balance equals its
    maintenance margin; and when the pool is safe at the mark, it is the nearest price at
    which the pool is liquidated: safe everywhere strictly between the mark and it, and at
    every price closer to the mark on the other side, liquidatable a step beyond it."""
    account, marks = drawn
    symbol = next(s for s in marks if len(account.legs(s)) == 2)
    long_leg = next(p for p in account.legs(symbol) if p.side == "long")
    lp = POLICY.liquidation_price(account, symbol, marks=marks, side="long")
    assert POLICY.liquidation_price(account, symbol, marks=marks, side="short") == lp
    mark = marks[symbol]
    if lp is None:
        # equity - maintenance margin is concave in the price; without a root it keeps a sign
        states = {
            liquidatable_at(POLICY, account, long_leg, marks, p)
            for p in (moved(mark, Decimal("-0.999")), mark, moved(mark, Decimal(999)))
        }
        assert len(states) == 1
        return
    at_lp = mst.marks_with(marks, symbol, lp)
    health = POLICY.health(account, symbol, marks=at_lp, side="long")
    assert abs(health.margin_balance - health.maintenance_margin) <= TOL * pool_scale(
        POLICY, account, long_leg, at_lp
    )
    if (
        POLICY.is_liquidatable(account, symbol, marks=marks, side="long")
        or abs(mark - lp) <= lp * EPS
    ):
        return
    event("hedge pool safe at the mark")
    with exact():
        distance = lp - mark
        away = ONE if distance > 0 else -ONE
        beyond = lp * (ONE + away * EPS)
        between = [
            mark + distance * t for t in (Decimal("0.001"), Decimal("0.5"), Decimal("0.999"))
        ]
        mirror = mark - distance * (ONE - Decimal("1e-6"))
    assert liquidatable_at(POLICY, account, long_leg, marks, beyond)
    for price in between:
        assert not liquidatable_at(POLICY, account, long_leg, marks, price)
    if mirror > 0:
        assert not liquidatable_at(POLICY, account, long_leg, marks, mirror)


# --- the solver on generated tables and on tier caps ----------------------------------------


@given(
    market=mst.markets(tiers=mst.tier_tables(notional_places=(0, 3), rate_places=(1, 5))),
    data=st.data(),
)
def test_solver_root_satisfies_the_margin_equation_for_generated_tables(
    market: mc.Market, data: st.DataObject
) -> None:
    """For any valid table (linear or inverse) and one isolated leg, ``solve`` returns a price
    where collateral + PnL equals the tax-bracket margin of the value (computed here from the
    integral, not the amounts), with equity below it a step past and above it a step before
    (long: past is below); and with no price the equation keeps one sign."""
    side = data.draw(st.sampled_from([1, -1]), label="sign")
    size = data.draw(mst.sizes(market), label="size")
    entry = data.draw(mst.prices(market), label="entry")
    fraction = data.draw(mst.decimals_between(0, "1.5", 4), label="fraction")
    with exact():
        exposure = size * market.contract_size
        collateral = reference_value(market, size, entry) * fraction
    problem = PriceProblem(
        market, (Leg(side, exposure, entry, market.tiers),), collateral, ZERO, entry
    )

    def excess(price: Decimal) -> Decimal:
        with exact():
            return (
                collateral
                + reference_pnl(market, side, size, entry, price)
                - bracket_margin(market.tiers, reference_value(market, size, price))
            )

    with exact():  # solve is a low-level function: Policy runs it in margincall's context
        price = solve(problem, maintenance=True).price
    if price is None:
        assert (
            len(
                {
                    excess(p) > 0
                    for p in (moved(entry, Decimal("-0.999")), entry, moved(entry, Decimal(999)))
                }
            )
            == 1
        )
        return
    scale = collateral + reference_value(market, size, price) + reference_value(market, size, entry)
    assert abs(excess(price)) <= TOL * scale
    below, above = moved(price, -EPS), moved(price, EPS)
    past, before = (below, above) if side == 1 else (above, below)
    assert excess(past) < 0 < excess(before)


def _policies(inverse_policy: mc.Policy, which: str) -> tuple[mc.Policy, list[str]]:
    return (POLICY, SYMBOLS) if which == "linear" else (inverse_policy, INVERSE_SYMBOLS)


@pytest.mark.parametrize("which", ["linear", "inverse"])
@given(data=st.data())
def test_liquidation_price_on_a_tier_cap(
    inverse_policy: mc.Policy, which: str, data: st.DataObject
) -> None:
    """An isolated position whose margin is set so that equity equals maintenance margin
    exactly where its value reaches a tier cap c (price P* = c / exposure, or exposure / c for
    inverse) has its liquidation price at P*: the price is found, with or without marks (a
    one-way position has a single root, and an isolated one needs no marks), and equals P*
    to within rounding. Each example tries every cap of the table, long and short."""
    policy, symbols = _policies(inverse_policy, which)
    symbol = data.draw(st.sampled_from(symbols), label="symbol")
    market = policy.market(symbol)
    tiers = market.tiers
    size = data.draw(mst.sizes(market), label="size")
    move = data.draw(mst.decimals_between("0.001", "0.5", 4), label="move")
    tried = 0
    for side, k in itertools.product(("long", "short"), range(len(tiers) - 1)):
        sign = 1 if side == "long" else -1
        cap = tiers[k].max_notional
        with exact():
            exposure = size * market.contract_size
            target = exposure / cap if market.inverse else cap / exposure
            # a long loses as the price falls (linear and inverse): it was opened above P*
            opened = target * (ONE + move) if side == "long" else target * (ONE - move)
            entry = mst.on_step(opened, market.tick_size)
            margin = bracket_margin(tiers, cap) - reference_pnl(market, sign, size, entry, target)
        if margin < 0:
            continue
        tried += 1
        where = f"{side}, cap {cap} (tier {k + 1}): P*={target} entry={entry} margin={margin}"
        account = mc.Account(0, [mc.Position(symbol, side, size, entry, "isolated", margin=margin)])
        with_mark = policy.liquidation_price(account, symbol, marks={symbol: entry})
        assert with_mark is not None, where
        assert abs(with_mark - target) <= TOL * target, where
        try:
            without_marks = policy.liquidation_price(account, symbol)
        except mc.InvalidInputError as error:
            raise AssertionError(f"{where}: {error}") from error
        assert without_marks is not None, where
        assert abs(without_marks - target) <= TOL * target, where
    assume(tried > 0)
