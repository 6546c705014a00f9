"""Tests of :mod:`margincall.math.pricing`: liquidation and bankruptcy prices solved exactly.

Expected values come from the documented closed forms and worked examples (venues reference,
/work/shared/reference/venues.md, as stored in 2026), evaluated here, never from the
solver's output:

* §0.3, linear with MM measured at the liquidation price (Binance, OKX, Hyperliquid, dYdX)
  [derived from Binance's official variables]: ``LP_long = (q·E − M − cum) / (q·(1 − mmr))``,
  ``LP_short = (q·E + M + cum) / (q·(1 + mmr))``, "the tier must be the one that holds the
  notional at the LP. If it is not the tier at entry, recompute" (Binance, "How to Calculate
  Liquidation Price of USDⓈ-M Futures Contracts", official, undated). For BYB-1's inputs
  (long 1 BTC @ 20,000, margin 400, 0.5 %) the reference states 19,698.49.
* §0.3, inverse with MM at the mark: ``LP_long = n·C·(1 + mmr) / (M + cum + n·C/E)``;
  ``BP_long = E·L/(L + 1)`` at leverage L (BYB-6: 7,890.08 × 50 / 51 = 7,735.372549...;
  Bybit, help.bybit.com/hc/en-us/articles/900000031623, official, undated).
* BYB-5 (mobie.io, secondary): a linear long's bankruptcy price at 50x from 10,000 is 9,800
  (``BP = E − s·M/q``).
* Binance: "If the liquidation price is less than 0, the UI display would be '--'": no price.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from margincall.decimals import ONE, ZERO, exact
from margincall.market import Market
from margincall.math.pricing import Leg, PriceProblem, safe_interval, solve
from margincall.math.tiers import Tier

D = Decimal
TOL = D("1e-40")

# Binance BTCUSDT API snapshot (venues reference §1.1), first three brackets and the fourth
TIERS = (
    Tier(D(0), D(50000), D(125), D("0.004"), D(0)),
    Tier(D(50000), D(250000), D(100), D("0.005"), D(50)),
    Tier(D(250000), D(3000000), D(50), D("0.01"), D(1300)),
    Tier(D(3000000), D(20000000), D(20), D("0.025"), D(46300)),
)
ONE_TIER = (Tier(D(0), D(10**12), D(200), D("0.005")),)


def market(kind: str, tiers: tuple[Tier, ...], contract_size: Decimal = ONE) -> Market:
    return Market("X", kind, contract_size, D("0.1"), ONE, "USDT", tiers, *[ZERO] * 3)  # type: ignore[arg-type]


def isolated(
    kind: str,
    sign: int,
    size: Decimal,
    entry: Decimal,
    margin: Decimal,
    tiers: tuple[Tier, ...],
    contract_size: Decimal = ONE,
) -> PriceProblem:
    m = market(kind, tiers, contract_size)
    leg = Leg(sign, size * contract_size, entry, tiers)
    return PriceProblem(m, (leg,), margin, ZERO, None)


def close(a: Decimal | None, b: Decimal) -> bool:
    assert a is not None
    return abs(a - b) <= TOL * b


def test_linear_long_byb1_inputs_mm_at_the_price() -> None:
    """BYB-1's inputs with MM at the price: (20,000 − 400) / 0.995 = 19,698.49..."""
    with exact():
        solution = solve(isolated("linear", 1, ONE, D(20000), D(400), ONE_TIER), maintenance=True)
        expected = (D(20000) - D(400)) / (ONE * (1 - D("0.005")))
        assert close(solution.price, expected)
    assert solution.price is not None and solution.price.quantize(D("0.01")) == D("19698.49")


def test_linear_short() -> None:
    """A short of 1 @ 20,000 with 400 of margin: (20,000 + 400) / 1.005."""
    with exact():
        solution = solve(isolated("linear", -1, ONE, D(20000), D(400), ONE_TIER), maintenance=True)
        assert close(solution.price, (D(20000) + D(400)) / (1 + D("0.005")))


def test_linear_in_the_entry_tier() -> None:
    """Long 10 BTC @ 30,000 (value 300,000: tier 3) at 10x (margin 30,000): tier 3's LP,
    (300,000 − 30,000 − 1,300) / (10 × 0.99) = 27,141.41..., holds 271,414: tier 3 still."""
    with exact():
        problem = isolated("linear", 1, D(10), D(30000), D(30000), TIERS)
        solution = solve(problem, maintenance=True)
        assert close(solution.price, (D(300000) - D(30000) - D(1300)) / (D(10) * D("0.99")))
    assert solution.tiers == (2,)


def test_linear_recomputed_in_the_tier_at_the_price() -> None:
    """The same long at 5x (margin 60,000): tier 3's formula gives (300,000 − 60,000 −
    1,300) / 9.9 = 24,111.1, worth 241,111, which is in tier 2, so Binance's rule recomputes
    with tier 2: (300,000 − 60,000 − 50) / 9.95 = 24,115.58, worth 241,155: in tier 2."""
    with exact():
        solution = solve(isolated("linear", 1, D(10), D(30000), D(60000), TIERS), maintenance=True)
        assert close(solution.price, (D(300000) - D(60000) - D(50)) / (D(10) * D("0.995")))
    assert solution.tiers == (1,)


def test_linear_bankruptcy_byb5() -> None:
    """BYB-5: long 1 @ 10,000 at 50x (margin 200): 9,800 exactly; a short: 10,200."""
    with exact():
        assert solve(
            isolated("linear", 1, ONE, D(10000), D(200), TIERS), maintenance=False
        ).price == D(9800)
        assert solve(
            isolated("linear", -1, ONE, D(10000), D(200), TIERS), maintenance=False
        ).price == D(10200)


def test_inverse_bankruptcy_byb6() -> None:
    """BYB-6: 5,000 contracts of 1 USD long @ 7,890.08 at 50x (margin 5,000 / 7,890.08 / 50
    BTC): BP = 7,890.08 × 50 / 51 = 7,735.372549..."""
    with exact():
        entry = D("7890.08")
        margin = D(5000) / entry / 50
        problem = isolated("inverse", 1, D(5000), entry, margin, ONE_TIER)
        assert close(solve(problem, maintenance=False).price, entry * 50 / 51)


def test_inverse_long_liquidation() -> None:
    """§0.3 inverse long: 60,000 USD @ 50,000 at 10x (margin 0.12 BTC), MMR 0.5 %:
    LP = 60,000 × 1.005 / (0.12 + 60,000 / 50,000) = 45,681.8..."""
    with exact():
        problem = isolated("inverse", 1, D(60000), D(50000), D("0.12"), ONE_TIER)
        expected = D(60000) * (1 + D("0.005")) / (D("0.12") + D(60000) / D(50000))
        assert close(solve(problem, maintenance=True).price, expected)


def test_no_positive_price() -> None:
    """A long whose margin covers its whole value has no bankruptcy price (it would be <= 0,
    shown as "--")."""
    with exact():
        assert (
            solve(isolated("linear", 1, ONE, D(100), D(100), TIERS), maintenance=False).price
            is None
        )
        assert (
            solve(isolated("linear", 1, ONE, D(100), D(150), TIERS), maintenance=True).price is None
        )


def test_safe_interval_bounded_by_the_root_and_the_tier_edge() -> None:
    """The 10x long above at mark 30,000: safe from its LP 27,141.41... up to the price where
    its value leaves tier 3, 3,000,000 / 10 = 300,000."""
    with exact():
        problem = isolated("linear", 1, D(10), D(30000), D(30000), TIERS)
        interval = safe_interval(problem, D(30000))
        assert interval is not None
        low, high = interval
        assert close(low, (D(300000) - D(30000) - D(1300)) / (D(10) * D("0.99")))
        assert high == D(300000)
        assert safe_interval(problem, D(27000)) is None  # past the LP: in liquidation


def test_safe_interval_wants_one_leg() -> None:
    """Two legs (hedge mode) are refused."""
    m = market("linear", TIERS)
    legs = (Leg(1, ONE, D(100), TIERS), Leg(-1, ONE, D(100), TIERS))
    with pytest.raises(Exception, match="one leg"):
        safe_interval(PriceProblem(m, legs, D(10), ZERO, D(100)), D(100))
