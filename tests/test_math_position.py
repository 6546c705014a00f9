"""Tests of :mod:`margincall.math.position`: exposure, value and PnL of linear and inverse
contracts, revaluing, the weighted entry, leverage and its cap.

Expected values come from venue worked examples and documented formulas in the venues
reference (/work/shared/reference/venues.md, as stored in 2026):

* BMX-5 (BitMEX PnL guide, official-copy c. 2020): long 1,000 XBTUSD @ 1,000, mark 1,250:
  unrealised 0.20 XBT; selling 500 @ 1,500 realises (1/1,000 − 1/1,500) × 500 XBT.
* BIN-6 (Binance COIN-M liquidation-price FAQ, official, undated): 100 contracts × 100 USD
  at mark 25,000 have a notional of 0.4 BTC.
* OKX-1 / OKX-3 (OKEx USDT futures guide, official-copy 2020): 10,000 contracts of 0.0001 BTC
  long from 10,000 at mark 9,010: UPL −990; at 10x the IM is 1,000 USDT.
* BYB-1 (Bybit "Liquidation Price (USDT Contract)", official, undated): 1 BTC @ 20,000 at 50x:
  IM 400.
* DYDX-6 (dYdX contract-loss mechanism, official-copy, undated): long 500 ABC @ 1, price
  0.801: PnL −99.5.
* BYB-9 (Bybit risk-limit API output, undated): a position value of 4,000,000 is in riskId 2,
  max leverage 57.14.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from margincall.decimals import ONE, exact
from margincall.market import Market
from margincall.math import position as mp
from margincall.math.tiers import Tier

D = Decimal
TINY = D("1e-40")

amounts = st.decimals(min_value=D("0.0001"), max_value=D("1e7"), places=4)
prices = st.decimals(min_value=D("0.01"), max_value=D("1e6"), places=2)
signs = st.sampled_from([1, -1])


def test_inverse_pnl_bmx5() -> None:
    """BMX-5: unrealised 0.20 XBT at the 1,250 mark; 0.10 XBT for half of it."""
    with exact():
        assert mp.pnl(1, D(1000), D(1000), D(1250), inverse=True) == D("0.2")
        assert mp.pnl(1, D(500), D(1000), D(1250), inverse=True) == D("0.1")
        realised = mp.pnl(1, D(500), D(1000), D(1500), inverse=True)
        assert abs(realised - D(1) / D(6)) < TINY  # (1/1,000 − 1/1,500) × 500 = 1/6 ≈ 0.1667


def test_inverse_value_bin6() -> None:
    """BIN-6(a): 100 contracts of 100 USD at 25,000 are worth 0.4 BTC."""
    held = mp.exposure(D(100), D(100))
    assert held == D(10000)
    assert mp.value(held, D(25000), inverse=True) == D("0.4")


def test_linear_pnl_and_margin_okx1_okx3() -> None:
    """OKX-1/OKX-3: 10,000 contracts of 0.0001 BTC are 1 BTC; UPL −990 at 9,010; IM 1,000
    at 10x."""
    held = mp.exposure(D(10000), D("0.0001"))
    assert held == 1
    assert mp.pnl(1, held, D(10000), D(9010), inverse=False) == D(-990)
    entry_value = mp.value(held, D(10000), inverse=False)
    assert mp.margin_at_leverage(entry_value, D(10)) == D(1000)
    assert mp.leverage(entry_value, D(1000)) == D(10)


def test_margin_bybit_byb1() -> None:
    """BYB-1: IM = 20,000 / 50 = 400."""
    assert mp.margin_at_leverage(D(20000), D(50)) == D(400)


def test_linear_pnl_dydx6() -> None:
    """DYDX-6: long 500 @ 1, price 0.801: PnL −99.5; a short gains the same."""
    assert mp.pnl(1, D(500), D(1), D("0.801"), inverse=False) == D("-99.5")
    assert mp.pnl(-1, D(500), D(1), D("0.801"), inverse=False) == D("99.5")


def test_revalued() -> None:
    """A notional at the mark, revalued at entry (BitMEX's "Avg Entry Value"): BMX-5's
    1,000 XBTUSD are 0.8 XBT at 1,250 and 1 XBT at 1,000; OKX-1's 1 BTC is 9,010 USDT at
    the mark and 10,000 at entry."""
    with exact():
        assert mp.revalued(D("0.8"), D(1250), D(1000), inverse=True) == 1
        assert mp.revalued(D(9010), D(9010), D(10000), inverse=False) == D(10000)


def test_weighted_entry() -> None:
    """(1 × 100 + 3 × 200) / 4 = 175: the size-weighted mean of the two entries."""
    assert mp.weighted_entry(D(1), D(100), D(3), D(200)) == D(175)


def test_leverage_cap_byb9() -> None:
    """BYB-9: 4,000,000 is in riskId 2 (a value equal to a cap is in that tier): 57.14x;
    just above it, riskId 3's 40x."""
    tiers = (
        Tier(D(0), D(2000000), D(100), D("0.005")),
        Tier(D(2000000), D(4000000), D("57.14"), D("0.01")),
        Tier(D(4000000), D(6000000), D(40), D("0.015")),
    )
    assert mp.leverage_cap(tiers, D(4000000)) == D("57.14")
    assert mp.leverage_cap(tiers, D("4000000.01")) == D(40)


def test_liquidation_distance() -> None:
    """``|price − mark| / mark``: a liquidation price 10 % under the mark is 0.1 away; 0 when
    already liquidatable; None without a price."""
    assert mp.liquidation_distance(D(9000), D(10000), False) == D("0.1")
    assert mp.liquidation_distance(D(11000), D(10000), False) == D("0.1")
    assert mp.liquidation_distance(D(9000), D(10000), True) == 0
    assert mp.liquidation_distance(None, D(10000), False) is None


def test_market_delegates() -> None:
    """Market's methods are the math layer's: an inverse market with 100 USD contracts."""
    tier = Tier(D(0), D(10**9), D(100), D("0.005"))
    market = Market("BTCUSD", "inverse", D(100), D("0.5"), ONE, "BTC", (tier,), D(0), D(0), D(0))
    assert market.exposure(D(100)) == D(10000)
    assert market.value(D(100), D(25000)) == D("0.4")
    with exact():
        assert market.pnl(1, D(10), D(1000), D(1250)) == D("0.2")


@given(signs, amounts, prices, prices)
def test_linear_pnl_is_antisymmetric(
    sign: int, held: Decimal, entry: Decimal, price: Decimal
) -> None:
    """Linear PnL: the other side gains what one loses, and swapping entry and price
    negates it; at the entry price it is 0."""
    with exact():
        pnl = mp.pnl(sign, held, entry, price, inverse=False)
        assert mp.pnl(-sign, held, entry, price, inverse=False) == -pnl
        assert mp.pnl(sign, held, price, entry, inverse=False) == -pnl
        assert mp.pnl(sign, held, entry, entry, inverse=False) == 0
        assert pnl == sign * (held * price - held * entry)


@given(amounts, prices)
def test_inverse_value_times_price_is_exposure(quotient: Decimal, price: Decimal) -> None:
    """Inverse value × price = exposure, exactly, when the price divides the exposure."""
    with exact():
        held = quotient * price  # exact: a few digits each
        assert mp.value(held, price, inverse=True) * price == held


@given(signs, amounts, prices, prices, prices)
def test_inverse_pnl_is_the_change_of_value(
    sign: int, held: Decimal, entry: Decimal, price: Decimal, later: Decimal
) -> None:
    """Inverse PnL is the change of coin value, opposite to the price: ``sign × (value at
    entry − value at price)``; and PnL is additive over a path entry → price → later."""
    with exact():
        pnl = mp.pnl(sign, held, entry, price, inverse=True)
        change = mp.value(held, entry, inverse=True) - mp.value(held, price, inverse=True)
        assert abs(pnl - sign * change) <= TINY * (1 + abs(change))
        path = pnl + mp.pnl(sign, held, price, later, inverse=True)
        direct = mp.pnl(sign, held, entry, later, inverse=True)
        assert abs(path - direct) <= TINY * (1 + abs(direct))


@given(amounts, prices, amounts, prices, prices)
def test_weighted_entry_keeps_linear_pnl(
    size: Decimal, entry: Decimal, added: Decimal, added_entry: Decimal, price: Decimal
) -> None:
    """Linear: the PnL of the merged position at the weighted entry is the sum of the two
    PnLs (to the 50-digit rounding of the division); the entry lies between the two."""
    with exact():
        mean = mp.weighted_entry(size, entry, added, added_entry)
        merged = mp.pnl(1, size + added, mean, price, inverse=False)
        parts = mp.pnl(1, size, entry, price, inverse=False) + mp.pnl(
            1, added, added_entry, price, inverse=False
        )
        assert abs(merged - parts) <= TINY * (1 + abs(parts) + (size + added) * price)
    assert min(entry, added_entry) <= mean <= max(entry, added_entry)
