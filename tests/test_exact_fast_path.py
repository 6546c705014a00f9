"""The fast exact path gives exactly the general path's figures (issue 12).

Law: for one position on a monotone tier table (continuous at every edge, rates in [0, 1)),
:func:`margincall.math.pricing.one_leg_root` (bisect the ladder, one segment's division) and
the policy's fast scalar path return *the same Decimal* as solving every segment
(:func:`margincall.math.pricing.solve_by_segments`) and as the policy's general path: exact
equality, not a tolerance. Positions are generated, including ones whose liquidation value
lands exactly on a tier edge (where the fast path must hand over to the segment solver).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import margincall as mc
from margincall.decimals import ZERO, exact, exponent, is_bounded_positive, positive
from margincall.math.pricing import (
    UNDECIDED,
    Leg,
    PriceProblem,
    one_leg_root,
    solve,
    solve_by_segments,
    table_of,
)
from margincall.math.tiers import Table, Tier, tier_for
from margincall.testing import strategies as mst

SIDES = {"long": 1, "short": -1}


@st.composite
def one_leg_problems(draw: st.DrawFn) -> PriceProblem:
    """A one-leg problem on a generated market; its collateral either a fraction of the value
    at entry, or set so that the root's value is exactly one of the table's edges (the
    margin equation solved backwards at that edge)."""
    market = draw(mst.markets())
    sign = SIDES[draw(st.sampled_from(["long", "short"]))]
    size = draw(mst.sizes(market))
    entry = draw(mst.prices(market))
    with exact():
        exposure = size * market.contract_size
        at_entry = exposure / entry if market.inverse else exposure * entry
        sigma = -sign if market.inverse else sign
        tiers = market.tiers
        if len(tiers) > 1 and draw(st.booleans()):
            edge = tiers[draw(st.integers(0, len(tiers) - 2))].max_notional
            # f(v) = c - σ·at_entry + σ·v - MM(v) = 0 at v = edge
            collateral = (
                sigma * at_entry - sigma * edge + tier_for(tiers, edge).maintenance_margin(edge)
            )
            event("root on an edge")
        else:
            collateral = at_entry * draw(mst.decimals_between("-0.1", "1.5", 4))
    leg = Leg(sign, exposure, entry, tiers)
    return PriceProblem(market, (leg,), collateral, ZERO, None)


@given(problem=one_leg_problems())
def test_one_leg_solve_equals_every_segment(problem: PriceProblem) -> None:
    """``solve`` (which takes the one-leg path on monotone tables) returns exactly what
    solving every segment returns: the same price, the same tier."""
    with exact():
        assert table_of(problem.legs[0].tiers).monotone  # generated tables are tax-bracket
        assert solve(problem, maintenance=True) == solve_by_segments(problem, maintenance=True)


@given(problem=one_leg_problems())
def test_one_leg_root_decides_or_defers(problem: PriceProblem) -> None:
    """``one_leg_root`` either agrees with the segment solver or says UNDECIDED, and it says
    UNDECIDED only for a root on (or next to) a tier edge."""
    (leg,) = problem.legs
    inverse = problem.market.inverse
    with exact():
        sigma = -leg.sign if inverse else leg.sign
        at_entry = leg.exposure / leg.entry_price if inverse else leg.exposure * leg.entry_price
        root = one_leg_root(Table(leg.tiers), sigma, leg.exposure, at_entry, problem.collateral)
        expected = solve_by_segments(problem, maintenance=True).price
        if root is UNDECIDED:
            assert expected is not None
            u = 1 / expected if inverse else expected
            edges = [t.max_notional for t in leg.tiers[:-1]]
            assert min(abs(leg.exposure * u - e) / e for e in edges) < Decimal("1e-29")
            event("undecided")
        else:
            assert (None if root is None else 1 / root if inverse else root) == expected


def test_step_tables_are_not_monotone() -> None:
    """A step table (BitMEX, OKX: no maintenance amounts) jumps at its edges: the fast path
    must not take it. A continuous one with a rate of 1 or more is not monotone either."""
    one, two = Decimal("0.01"), Decimal("0.02")
    step = (
        Tier(ZERO, Decimal(1000), Decimal(50), one),
        Tier(Decimal(1000), Decimal(10**6), Decimal(25), two),
    )
    assert not Table(step).monotone
    bracket = (step[0], Tier(Decimal(1000), Decimal(10**6), Decimal(25), two, Decimal(10)))
    assert Table(bracket).monotone
    assert not Table((Tier(ZERO, Decimal(1000), Decimal(1), Decimal(1)),)).monotone


POLICIES = {name: mc.load_policy(name) for name in mc.available_policies()}


@st.composite
def lone_isolated(draw: st.DrawFn) -> tuple[mc.Policy, mc.Account, Decimal]:
    """A built-in policy, an account holding one isolated position in one of its markets,
    and a mark near its entry."""
    policy = POLICIES[draw(st.sampled_from(sorted(POLICIES)))]
    market = policy.markets[draw(st.sampled_from(sorted(policy.markets)))]
    position = draw(mst.positions(market, margin_modes=("isolated",)))
    mark = draw(mst.nearby_prices(market, position.entry_price))
    return policy, mc.Account(0, [position]), mark


def general(
    policy: mc.Policy,
    account: mc.Account,
    symbol: str,
    marks: dict[str, Decimal],
    *,
    maintenance: bool,
) -> object:
    """The price through the policy's general path: its resolved hook on the assembled
    problem, as for any account."""
    with exact():
        problem = policy._problem(account, account.positions[0], marks)
        hook = policy._liquidation_price if maintenance else policy._bankruptcy_price
        return hook(policy.spec, problem).price


@given(case=lone_isolated())
def test_policy_fast_path_equals_general_path(
    case: tuple[mc.Policy, mc.Account, Decimal],
) -> None:
    """For every built-in policy, the public scalar figures of a lone isolated position equal
    its general path's exactly (those the fast path takes, and those it leaves)."""
    policy, account, mark = case
    (position,) = account.positions
    symbol = position.symbol
    event(f"{policy.name}: fast path" if symbol in policy._tables else "general path")
    marks = {symbol: mark}
    assert policy.liquidation_price(account, symbol, marks=marks) == general(
        policy, account, symbol, marks, maintenance=True
    )
    assert policy.bankruptcy_price(account, symbol, marks=marks) == general(
        policy, account, symbol, marks, maintenance=False
    )
    assert policy.maintenance_margin(account, symbol, marks=marks) == (
        policy._maintenance_margin(account, symbol, marks, None)
    )


def test_step_table_with_two_roots_takes_the_general_path() -> None:
    """BitMEX XBTUSD (a step table: the rate jumps at each 150 XBT step, no amounts): a
    short of 7,033,000 USD at 20,000 with 7.033 XBT meets its requirement at two prices, as
    the value crosses an edge. The public call gives the one nearer the mark, as the segment
    solver does, and without a mark refuses to choose. (Found by the benchmark's reference,
    which solves each segment.)"""
    policy = POLICIES["bitmex"]
    assert not policy._tables["XBTUSD"].monotone
    short = mc.Position("XBTUSD", "short", 7033000, 20000, "isolated", margin="7.033")
    account = mc.Account(0, [short])
    marks = {"XBTUSD": Decimal(20000)}
    with exact():
        alone = policy._problem(account, short, {})
        with pytest.raises(mc.InvalidInputError, match="pass the symbol's mark price"):
            solve_by_segments(alone, maintenance=True)  # two roots
        nearer = solve_by_segments(policy._problem(account, short, marks), maintenance=True)
    assert policy.liquidation_price(account, "XBTUSD", marks=marks) == nearer.price
    with pytest.raises(mc.InvalidInputError, match="pass the symbol's mark price"):
        policy.liquidation_price(account, "XBTUSD")


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_overridden_hooks_are_the_plugins_own(name: str) -> None:
    """``overridden_hooks`` names exactly the computation hooks that the modules of the
    policy's plugins mark with ``@hookimpl`` (read from the modules, not the manager), each
    with the plugins implementing it; the file hooks are left out."""
    import importlib

    policy = POLICIES[name]
    expected: dict[str, list[str]] = {}
    for plugin in policy.spec.plugins:
        module = importlib.import_module(f"margincall_plugins.{plugin}")
        for attribute, value in vars(module).items():
            marked = attribute.startswith("margincall_") and hasattr(value, "margincall_impl")
            if marked and attribute not in ("margincall_policy_files", "margincall_check_config"):
                expected.setdefault(attribute, []).append(plugin)
    got = {hook: list(plugins) for hook, plugins in policy.overridden_hooks.items()}
    assert got == expected


@given(value=st.decimals(allow_nan=False, allow_infinity=False))
def test_exponent_is_the_tuples(value: Decimal) -> None:
    """``decimals.exponent`` reads from the string what ``as_tuple()`` holds, for every
    finite Decimal (plain and scientific notation, signs, zeros, trailing zeros)."""
    assert exponent(value) == value.as_tuple().exponent


@given(
    value=st.one_of(
        st.decimals(allow_nan=True, allow_infinity=True),
        st.integers(),
        st.decimals(min_value=Decimal("1e-31"), max_value=Decimal("1e31"), places=110),
    )
)
def test_bounded_positive_accepts_what_positive_returns_as_is(value: object) -> None:
    """``is_bounded_positive`` accepts only what ``positive(..., bounded=True)`` accepts and
    returns unchanged, and all of it but Decimals written with more than 100 places of
    which the last are zeros (those take ``positive`` itself)."""
    try:
        accepted = positive(value, "x", bounded=True) is value
    except mc.InvalidInputError:
        accepted = False
    quick = is_bounded_positive(value)
    assert not quick or accepted
    if accepted and type(value) is Decimal and exponent(value) >= -100:
        assert quick
