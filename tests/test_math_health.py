"""Tests of :mod:`margincall.math.health`: a pool's margin balance is its collateral plus its
positions' unrealised PnL, its maintenance (initial) margin the sum of their requirements.

Expected values come from venue worked examples in the venues reference
(/work/shared/reference/venues.md, as stored in 2026):

* OKX-1 (OKEx USDT futures guide, official-copy 2020): fixed margin 1,000, UPL −990 at mark
  9,010; threshold MMR + fee = 1.575 % of the 9,010 position value: liquidation triggered.
* DYDX-6 (dYdX contract-loss mechanism, official-copy, undated): deposit 100, PnL −99.5,
  MMR 15: equity 0.50, liquidatable.
* Binance "Liquidation Protocols" (official, 2024-05-29): Margin Ratio = MM / Margin
  Balance, liquidation at 100 %.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

import margincall as mc
from margincall.decimals import exact
from margincall.math.health import pool_health

D = Decimal

money = st.decimals(min_value=D("-1e9"), max_value=D("1e9"), places=6)
requirements = st.decimals(min_value=D(0), max_value=D("1e9"), places=6)


def test_okx1_fixed_margin_breach() -> None:
    """OKX-1: margin balance 1,000 − 990 = 10 against 9,010 × 1.575 % = 141.9075."""
    health = pool_health(D(1000), [(D(-990), D(9010) * D("0.01575"), D(1000))])
    assert health.margin_balance == D(10)
    assert health.maintenance_margin == D("141.9075")
    assert health.initial_margin == D(1000)
    assert health.margin_balance <= health.maintenance_margin  # triggered


def test_dydx6_equity() -> None:
    """DYDX-6: equity 100 − 99.5 = 0.50, below the MMR of 15."""
    health = pool_health(D(100), [(D("-99.5"), D(15), D(0))])
    assert health.margin_balance == D("0.5")
    assert health.margin_balance < health.maintenance_margin
    assert health.margin_ratio == D(30)  # 15 / 0.5: far past Binance's 100 %


def test_cross_pool_sums_every_position() -> None:
    """A cross pool of two positions: balance + both PnLs, both requirements."""
    health = pool_health(D(5000), [(D(300), D(100), D(1000)), (D(-800), D(50), D(500))])
    assert (health.margin_balance, health.maintenance_margin, health.initial_margin) == (
        D(4500),
        D(150),
        D(1500),
    )


def test_no_positions() -> None:
    """A pool with no positions: its collateral, no requirement."""
    health = pool_health(D(7), [])
    assert (health.margin_balance, health.maintenance_margin, health.initial_margin) == (
        D(7),
        D(0),
        D(0),
    )


def test_terms_are_read_lazily_once() -> None:
    """A generator of terms is read once, in order."""
    read: list[int] = []

    def terms() -> Iterator[tuple[Decimal, Decimal, Decimal]]:
        for k in range(3):
            read.append(k)
            yield D(k), D(k), D(k)

    assert pool_health(D(0), terms()).margin_balance == D(3)
    assert read == [0, 1, 2]


def test_agrees_with_the_policy_health() -> None:
    """Binance USDⓈ-M cross pool: the Policy's health is collateral + Σ PnL and Σ of each
    position's maintenance and initial margin, as the policy states them one by one."""
    policy = mc.load_policy("binance-usdm")
    account = mc.Account(
        "20000",
        [
            mc.Position("BTCUSDT", "long", "1", "60000", leverage="10"),
            mc.Position("ETHUSDT", "short", "10", "3000", leverage="10"),
        ],
    )
    marks = {"BTCUSDT": D(58000), "ETHUSDT": D(3100)}
    terms = [
        (
            policy.market(p.symbol).pnl(p.sign, p.size, p.entry_price, marks[p.symbol]),
            policy.maintenance_margin(account, p.symbol, marks=marks),
            policy.initial_margin(account, p.symbol, marks=marks),
        )
        for p in account.positions
    ]
    assert terms[0][0] == D(-2000) and terms[1][0] == D(-1000)
    assert pool_health(account.balance, terms) == policy.health(account, "BTCUSDT", marks=marks)


@given(money, st.lists(st.tuples(money, requirements, requirements), max_size=8))
def test_sums(collateral: Decimal, terms: list[tuple[Decimal, Decimal, Decimal]]) -> None:
    """Margin balance = collateral + Σ PnL; maintenance and initial margin = Σ of each
    (exact sums of 6-place amounts); the ratio is MM / balance when the balance is > 0."""
    with exact():
        health = pool_health(collateral, terms)
    assert health.margin_balance == collateral + sum(t[0] for t in terms)
    assert health.maintenance_margin == sum(t[1] for t in terms)
    assert health.initial_margin == sum(t[2] for t in terms)
    if health.margin_balance > 0:
        assert health.margin_ratio == health.maintenance_margin / health.margin_balance
    else:
        assert health.margin_ratio is None
