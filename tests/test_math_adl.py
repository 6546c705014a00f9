"""Tests of :mod:`margincall.math.adl`: the terms of ADL rankings, and ADL's close price.

Expected values come from documented rankings and worked examples (venues reference,
/work/shared/reference/venues.md, as stored in 2026):

* ADL-1 (bitmex.com/app/autoDeleveraging, official, undated): rank = PnL% × effective leverage
  for a winner, PnL% / leverage otherwise; ``Effective Leverage = abs(Mark Value) / (Mark
  Value − Bankrupt Value)``. No numeric example: the acceptance test is the ordering (a
  position with higher PnL% and higher leverage ranks strictly higher; every winner above
  every loser; among losers, more leverage ranks higher).
* BMX-5 (BitMEX PnL guide, official-copy c. 2020): long 1,000 XBTUSD @ 1,000, mark 1,250:
  PnL 0.2 XBT on an entry value of 1 XBT.
* OKX-1 (OKEx guide, official-copy 2020): long 1 BTC @ 10,000, 10x (margin 1,000), mark
  9,010: UPL −990; BYB-5 (mobie.io, secondary): a linear long's bankruptcy price at 10x is
  entry × (1 − 1/10).
* Binance's 2020 ranking (official-copy 2020, venues reference §1.8): ``max(0, UP) /
  max(1, WB) × MM / (WB + UP)``, 0 when WB + UP <= 0.
* OKX ADL price (okx.com/help/iv-introduction-to-auto-deleveraging-adl, official, April
  2024): the mark, or the bankruptcy price when the fund "is nearly depleted".
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from margincall.decimals import ONE, exact
from margincall.market import Market
from margincall.math import adl
from margincall.math.tiers import Tier

D = Decimal
TINY = D("1e-40")

ratios = st.decimals(min_value=D("-10"), max_value=D(10), places=4)
leverages = st.decimals(min_value=D("0.01"), max_value=D(200), places=2)


def test_effective_leverage() -> None:
    """``notional / (wallet + UPnL)``; none without equity."""
    assert adl.effective_leverage(D(50000), D(4000), D(1000)) == D(10)
    assert adl.effective_leverage(D(50000), D(4000), D(-4000)) is None
    assert adl.effective_leverage(D(50000), D(4000), D(-5000)) is None
    assert adl.equity(D(4000), D(-5000)) == D(-1000)


def test_price_pnl_ratio() -> None:
    """A long from 1,000 at 1,250 is up 25 %; a short there is down 25 %."""
    assert adl.price_pnl_ratio(1, D(1000), D(1250)) == D("0.25")
    assert adl.price_pnl_ratio(-1, D(1000), D(1250)) == D("-0.25")


def test_inverse_bitmex_terms_bmx5() -> None:
    """BMX-5 at 10x: PnL% = 0.2 / 1 XBT; the bankruptcy price E·L/(L+1) = 10,000/11; mark
    value 0.8 XBT less bankrupt value 1.1 XBT (signed for a long) is 0.3 XBT, the margin
    0.1 plus the PnL 0.2; the rank is 0.2 × 0.8 / 0.3."""
    with exact():
        bankruptcy = D(1000) * 10 / 11
        mark_value = D(1000) / D(1250)
        to_bankruptcy = adl.equity_to_bankruptcy(1, mark_value, D(1250), bankruptcy, inverse=True)
        assert abs(to_bankruptcy - D("0.3")) < TINY
        score = adl.leveraged_score(D("0.2"), mark_value / to_bankruptcy)
        assert abs(score - D("0.16") / D("0.3")) < TINY


def test_linear_bitmex_terms_okx1() -> None:
    """OKX-1's long at 10x: bankruptcy 10,000 × (1 − 1/10) = 9,000; at mark 9,010 the mark
    value less the bankrupt value is 10, the margin 1,000 less the 990 loss; a short of the
    same at bankruptcy 11,000 and mark 10,990 likewise has 10."""
    assert adl.equity_to_bankruptcy(1, D(9010), D(9010), D(9000), inverse=False) == D(10)
    assert adl.equity_to_bankruptcy(-1, D(10990), D(10990), D(11000), inverse=False) == D(10)


def test_leveraged_score() -> None:
    """Winners multiply by leverage, losers divide; no leverage: the ratio alone."""
    assert adl.leveraged_score(D("0.2"), D(5)) == D(1)
    assert adl.leveraged_score(D("-0.2"), D(5)) == D("-0.04")
    assert adl.leveraged_score(D("0.2"), None) == D("0.2")


def test_binance_2020_score() -> None:
    """UP 500 on WB 1,000 (account UP 500) with MM 150: 0.5 × 150 / 1,500 = 0.05; the
    wallet counts as at least 1; a loser scores 0; no equity scores 0."""
    assert adl.profit_margin_ratio_score(D(500), D(1000), D(500), D(150)) == D("0.05")
    assert adl.profit_margin_ratio_score(D(1), D("0.5"), D(1), D(3)) == D(2)  # 1/1 × 3/1.5
    assert adl.profit_margin_ratio_score(D(-100), D(1000), D(-100), D(150)) == 0
    assert adl.profit_margin_ratio_score(D(100), D(1000), D(-1000), D(150)) == 0


def test_close_price_mark_while_the_fund_can_pay() -> None:
    """A bankrupt long of 1 BTC at 9,000, mark 8,900: closing at the mark costs the fund
    100. A fund of 100 pays it (the mark); one of 99.99 cannot (the bankruptcy price)."""
    tier = Tier(D(0), D(10**9), D(100), D("0.005"))
    market = Market("BTCUSDT", "linear", ONE, D("0.1"), D("0.001"), "USDT", (tier,), *[D(0)] * 3)
    assert adl.close_price(market, 1, ONE, D(9000), D(8900), D(100)) == D(8900)
    assert adl.close_price(market, 1, ONE, D(9000), D(8900), D("99.99")) == D(9000)
    # a mark better than the bankruptcy price costs nothing: always the mark
    assert adl.close_price(market, 1, ONE, D(9000), D(9100), D(0)) == D(9100)


@given(ratios, ratios, leverages, leverages)
def test_adl1_ordering(p1: Decimal, p2: Decimal, l1: Decimal, l2: Decimal) -> None:
    """ADL-1: higher PnL% and higher leverage rank strictly higher; every winner ranks above
    every loser; among losers, more leverage ranks higher (toward zero)."""
    with exact():
        s1, s2 = adl.leveraged_score(p1, l1), adl.leveraged_score(p2, l2)
        if p1 > 0 >= p2:
            assert s1 > s2
        if p1 > p2 and l1 >= l2 and p1 > 0:
            assert s1 > s2
        if p1 == p2 < 0 and l1 > l2:
            assert s1 > s2
        if p1 > p2 and l1 > l2:
            assert s1 > s2
