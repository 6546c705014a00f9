"""Tests of :mod:`margincall.math.rounding`: sizes to whole lots, prices to whole ticks.

Expected values come from documented rules (venues reference,
/work/shared/reference/venues.md, as stored in 2026):

* BYB-6 (Bybit, help.bybit.com/hc/en-us/articles/900000031623 and 360011431853, official,
  undated): an inverse long's bankruptcy price 7,890.08 × 50 / 51 = 7,735.372549... is
  "rounded up to the nearest 0.5": 7,735.50; a short's is rounded down.
* dYdX v4 (venues reference §8.3 and §8.6, from v4-chain ``liquidations.go``, 2026-03-04): the
  bankruptcy quote rounds "towards positive infinity" in quote quantums of 1e-6 USDC.
* Hyperliquid rounds order sizes down to the asset's ``szDecimals`` (the plugin's partial
  liquidation chunk; hyperliquid.gitbook.io, trading/liquidations, undated).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, localcontext

from hypothesis import given
from hypothesis import strategies as st

from margincall.decimals import exact
from margincall.math import rounding as mr

D = Decimal

sizes = st.decimals(min_value=D("0.00000001"), max_value=D("1e6"), places=8)
steps = st.decimals(min_value=D("0.0001"), max_value=D(1000), places=4)


def test_bybit_bankruptcy_tick_byb6() -> None:
    """BYB-6: 7,735.372549... rounds up to 7,735.5 for a long, down to 7,735.0 for a short."""
    with exact():
        bankruptcy = D("7890.08") * 50 / 51
    assert mr.ticks_up(bankruptcy, D("0.5")) == D("7735.5")
    assert mr.ticks_down(bankruptcy, D("0.5")) == D("7735.0")
    assert mr.ticks_up(D("7735.5"), D("0.5")) == D("7735.5")  # on the tick: unchanged


def test_dydx_quote_rounds_toward_plus_infinity() -> None:
    """dYdX: a quote of −1.5 quantums (a short pays) rounds to −1 quantum, +1.5 to +2."""
    quantum = D("0.000001")
    assert mr.multiples(D("-0.0000015"), quantum, ROUND_CEILING) == -1
    assert mr.multiples(D("0.0000015"), quantum, ROUND_CEILING) == 2


def test_hyperliquid_size_down_to_sz_decimals() -> None:
    """Three size decimals: 0.123456 is sent as 0.123."""
    assert mr.lots_down(D("0.123456"), D("0.001")) == D("0.123")
    assert mr.lots_up(D("0.123456"), D("0.001")) == D("0.124")


def test_the_rounding_mode_is_the_one_named() -> None:
    """``multiples`` applies the mode it is given, not the context's: toward zero and toward
    −∞ differ on a negative amount, and a half-even context does not leak in."""
    assert mr.multiples(D("-2.5"), D(1), ROUND_DOWN) == -2
    assert mr.multiples(D("-2.5"), D(1), ROUND_FLOOR) == -3
    with localcontext() as context:
        context.rounding = ROUND_HALF_EVEN
        assert mr.lots_up(D("2.1"), D(1)) == 3
        assert mr.lots_down(D("2.9"), D(1)) == 2
        assert mr.to_step(D("2.5"), D(1), ROUND_CEILING) == 3


@given(sizes, steps)
def test_lots_are_whole_and_within_one_lot(size: Decimal, lot: Decimal) -> None:
    """Up: a multiple of the lot in ``[size, size + lot)``; down: in ``(size − lot, size]``;
    equal when the size is whole lots already."""
    with exact():
        up, down = mr.lots_up(size, lot), mr.lots_down(size, lot)
        assert up % lot == 0 and down % lot == 0
        assert size <= up < size + lot
        assert size - lot < down <= size
        assert (up == down) == (size % lot == 0)
        assert mr.multiples(size, lot, ROUND_CEILING) * lot == up


@given(sizes, steps)
def test_ticks_are_whole_and_within_one_tick(price: Decimal, tick: Decimal) -> None:
    """Prices likewise: up in ``[price, price + tick)``, down in ``(price − tick, price]``."""
    with exact():
        up, down = mr.ticks_up(price, tick), mr.ticks_down(price, tick)
        assert up % tick == 0 and down % tick == 0
        assert price <= up < price + tick
        assert price - tick < down <= price
