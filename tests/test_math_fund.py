"""Tests of :mod:`margincall.math.fund`: the insurance fund's takeover capacity, whole lots
within a budget, and its history in hours.

Expected values come from documented rules (venues reference,
/work/shared/reference/venues.md, as stored in 2026):

* Binance "Insurance Fund" (binance.com/lv/support/articles/360033525371, official,
  2019-09-09): "a maximum net notional position check", by default 100 % of the fund's size.
* OKX-4 (OKX help mirror and ukcamo.com/4352.html, secondary): the window is the last
  8 hours, the reference the fund's peak within it. Bybit's drawdown rule uses the pool's
  "8h max balance" (bybit-exchange.github.io/docs/v5/market/adl-alert, official, 2025-09-13).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from margincall.decimals import exact
from margincall.errors import InvalidInputError
from margincall.math import fund as mf

D = Decimal

money = st.decimals(min_value=D(0), max_value=D("1e9"), places=2)
signed_money = st.decimals(min_value=D("-1e9"), max_value=D("1e9"), places=2)
ratios = st.decimals(min_value=D(0), max_value=D(5), places=2)


def test_capacity_at_100_percent_of_the_fund() -> None:
    """A fund of 1,000,000 with the default 100 % cap, holding 300,000 of net notional (long
    or short), may take 700,000 more; holding 1,200,000, nothing."""
    assert mf.takeover_capacity(D(1), D(1000000), D(300000)) == D(700000)
    assert mf.takeover_capacity(D(1), D(1000000), D(-300000)) == D(700000)
    assert mf.takeover_capacity(D(1), D(1000000), D(1200000)) == 0
    assert mf.takeover_capacity(D("0.5"), D(1000000), D(0)) == D(500000)


def test_no_cap_is_unbounded() -> None:
    """Without a ratio the fund takes everything: Infinity."""
    capacity = mf.takeover_capacity(None, D(0), D(10**9))
    assert capacity == mf.UNBOUNDED and capacity.is_infinite() and capacity > 0


def test_lots_within_a_budget() -> None:
    """1,000 buys 3.33... contracts at 300: 3 whole contracts, 3.0 in lots of 0.5, 3.3 in
    lots of 0.1."""
    with exact():
        assert mf.lots_within(D(1000), D(300), D(1)) == 3
        assert mf.lots_within(D(1000), D(300), D("0.5")) == D("3.0")
        assert mf.lots_within(D(1000), D(300), D("0.1")) == D("3.3")
        assert mf.lots_within(D(0), D(300), D(1)) == 0


def test_hours_ago() -> None:
    """Days 0, 0.25 and 0.5 (now) are 12, 6 and 0 hours before now."""
    history = ((D(0), D(500)), (D("0.25"), D(400)), (D("0.5"), D(200)))
    assert mf.hours_ago(history) == ((D(12), D(500)), (D(6), D(400)), (D(0), D(200)))


def test_peak_within_eight_hours() -> None:
    """The peak of the last 8 hours leaves out a higher balance 12 hours ago; the window's
    edge counts; a window with no point is an error."""
    points = ((D(12), D(500000)), (D(8), D(450000)), (D(6), D(400000)), (D(0), D(200000)))
    assert mf.peak_within(points, D(8)) == D(450000)
    assert mf.peak_within(points, D(7)) == D(400000)
    with pytest.raises(InvalidInputError, match="within the last 1 hours"):
        mf.peak_within(((D(2), D(1)),), D(1))


@given(ratios, money, signed_money, signed_money)
def test_capacity_properties(ratio: Decimal, balance: Decimal, net: Decimal, more: Decimal) -> None:
    """Capacity is >= 0, the same for a long or short net position, at most the cap, never
    larger for a larger net position, and the cap less the net position while that is >= 0."""
    capacity = mf.takeover_capacity(ratio, balance, net)
    assert capacity >= 0
    assert capacity == mf.takeover_capacity(ratio, balance, -net)
    assert capacity <= ratio * balance
    if abs(more) >= abs(net):
        assert mf.takeover_capacity(ratio, balance, more) <= capacity
    if ratio * balance >= abs(net):
        assert capacity + abs(net) == ratio * balance


@given(
    money,
    st.decimals(min_value=D("0.01"), max_value=D("1e6"), places=2),
    st.sampled_from([D(1), D("0.1"), D("0.001"), D(5)]),
)
def test_lots_within_stay_within(budget: Decimal, per_contract: Decimal, lot: Decimal) -> None:
    """Whole lots whose cost fits the budget, and one more lot would not."""
    with exact():
        size = mf.lots_within(budget, per_contract, lot)
        assert size % lot == 0 and size >= 0
        assert size * per_contract <= budget < (size + lot) * per_contract
