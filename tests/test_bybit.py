"""bybit-linear and bybit-inverse against Bybit's documented formulas and worked examples.

Every expected value is Bybit's own figure (the example IDs BYB-n of the venue reference) or
is computed here, in the docstring, from the formula Bybit documents; each test names its
source and date.

Sources:
  [LP]    "Liquidation Price (USDT Contract)",
          https://testnet.bybit.com/en-US/help-center/s/article/Liquidation-Price-USDT-Contract
          (undated; BYB-1, and BYB-2/BYB-3 as copied in a third-party README)
  [LP20]  "Liquidation Price (USDT Contract)", older rate form,
          https://help.bybit.com/hc/en-us/articles/900000181046 (2020; BYB-4)
  [UTA]   "Liquidation Price Calculation under Isolated Mode (Unified Trading Account)",
          https://bybit.nl/nl-NL/help-center/article/Liquidation-Price-Calculation-under-Isolated-Mode-Unified-Trading-Account
          (2024-09-10; inverse form with MM at entry)
  [BP]    "Bankruptcy Price (USDT Contract)", via
          https://mobie.io/faq/what-is-bybits-bankruptcy-price-how-can-i-calculate-it
          (undated, secondary; BYB-5)
  [ADL]   "Auto-Deleveraging", https://help.bybit.com/hc/en-us/articles/900000031623
          (undated; BYB-6, ADL at the bankruptcy price, maker fee, surplus to the fund)
  [ROUND] https://help.bybit.com/hc/en-us/articles/360011431853 (undated; bankruptcy price
          rounded up for a long, down for a short)
  [RISK]  BTCUSDT risk limits, API output in github.com/carpenstar/bybitapi-sdk-derivatives
          src/Derivatives/MarketData/RiskLimit/README.md (undated; BYB-9)
  [ETH23] ETHUSDT risk limits, tiers 1–13: Bybit's GET /v5/market/risk-limit as printed by
          ccxt's fetchMarketLeverageTiers in https://github.com/ccxt/ccxt/pull/17061
          (2023-03-05, official-copy)
  [INV22] BTCUSD risk limits 1–3: Bybit's GET /v2/public/risk-limit/list response quoted in
          https://github.com/ccxt/ccxt/pull/13172 (2022-05-09, official-copy)
  [COST]  "Order Cost (Perpetuals & Futures Trading)",
          https://testnet.bybit.com/en/help-center/article/Order-Cost-USDT-Contract
          (2024-10-30); worked at a 0.055 % taker rate in https://ukcamo.com/14820.html
  [PROC]  "Liquidation Process", https://www.bybit.com/pt-BR/help-center/bybitHC_Article/?id=000001098
          (undated)
  [BMX]   BitMEX "Auto-Deleveraging", https://www.bitmex.com/app/autoDeleveraging (undated)
  [ALERT] "Get ADL Alert", https://bybit-exchange.github.io/docs/v5/market/adl-alert
          (sample of 2025-09-13; BYB-8)
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import margincall as mc
from margincall import ledger as lg
from margincall.outcome import AdlRecord, Liquidation
from margincall.testing.strategies import decimals_between
from margincall.waterfall import AdlCandidate, Reduce, Takeover
from margincall_plugins.bybit import drawdown_adl_active, pnl_drawdown_adl

D = Decimal
DATA = Path(__file__).parent / "data"


def exact(numerator: str, denominator: str) -> Decimal:
    """A quotient at margincall's precision (50 digits), for exact comparison."""
    with localcontext() as ctx:
        ctx.prec = 50
        return D(numerator) / D(denominator)


@pytest.fixture(scope="module")
def linear() -> mc.Policy:
    return mc.load_policy("bybit-linear")


@pytest.fixture(scope="module")
def inverse() -> mc.Policy:
    return mc.load_policy("bybit-inverse")


def isolated(symbol: str, side: str, size: object, entry: object, **margin: object) -> mc.Account:
    return mc.Account(0, [mc.Position(symbol, side, size, entry, "isolated", **margin)])


# --- liquidation price: maintenance margin at entry (BYB-1..BYB-4) -------------------------


def test_byb1_isolated_long(linear: mc.Policy) -> None:
    """BYB-1 [LP]: long 1 BTC @ 20,000 at 50x, MMR 0.5 %, deduction 0, no extra margin:
    IM = 20,000 / 50 = 400, MM = 20,000 × 0.5 % = 100, LP = 20,000 − (400 − 100)/1 = 19,700
    exactly. (The default solver, MM at the LP, would give 19,600/0.995 = 19,698.49.)"""
    account = isolated("BTCUSDT", "long", 1, 20000, leverage=50)
    assert linear.maintenance_margin(account, "BTCUSDT", marks={"BTCUSDT": 20000}) == 100
    assert linear.liquidation_price(account, "BTCUSDT") == D(19700)


def test_byb1_the_mark_reaching_the_liquidation_price_triggers(linear: mc.Policy) -> None:
    """BYB-1 with [LP]'s trigger, liquidation when the mark reaches the LP: MM stays 100 (the
    entry value's) at any mark, so at 19,700 the margin balance 400 − 300 = 100 <= 100 is
    liquidated and a tick above, at 19,700.1 (balance 100.1), it is not."""
    account = isolated("BTCUSDT", "long", 1, 20000, leverage=50)
    assert linear.maintenance_margin(account, "BTCUSDT", marks={"BTCUSDT": 19700}) == 100
    assert linear.is_liquidatable(account, "BTCUSDT", marks={"BTCUSDT": 19700})
    assert not linear.is_liquidatable(account, "BTCUSDT", marks={"BTCUSDT": D("19700.1")})


def test_byb2_isolated_short_with_added_margin(linear: mc.Policy) -> None:
    """BYB-2 [LP copy]: short 1 BTC @ 20,000 at 50x (IM 400, MM 100) with 3,000 extra margin:
    LP = [20,000 + (400 − 100)] + 3,000/1 = 23,300 exactly."""
    account = isolated("BTCUSDT", "short", 1, 20000, margin=400 + 3000)
    assert linear.liquidation_price(account, "BTCUSDT") == D(23300)


def test_byb3_funding_paid_from_position_margin(linear: mc.Policy) -> None:
    """BYB-3 [LP copy]: as BYB-1, with 200 USDT of funding taken from the position margin
    (extra margin −200): LP = 19,700 − (−200/1) = 19,900 exactly."""
    account = isolated("BTCUSDT", "long", 1, 20000, margin=400 - 200)
    assert linear.liquidation_price(account, "BTCUSDT") == D(19900)


def test_byb4_older_rate_form(linear: mc.Policy) -> None:
    """BYB-4 [LP20]: LP_long = entry × (1 − IMR + MMR) = 10,000 × (1 − 2 % + 0.5 %) = 9,850;
    LP_short = entry × (1 + IMR − MMR) = 8,000 × (1 + 2.5 % − 0.5 %) = 8,160 (40x)."""
    long = isolated("BTCUSDT", "long", 1, 10000, leverage=50)
    short = isolated("BTCUSDT", "short", 1, 8000, leverage=40)
    assert linear.liquidation_price(long, "BTCUSDT") == D(9850)
    assert linear.liquidation_price(short, "BTCUSDT") == D(8160)


def test_entry_tier_sets_the_liquidation_price(linear: mc.Policy) -> None:
    """[LP] MM is measured on the position value at entry, in the tier holding it. Long 50 BTC
    @ 50,000 (2,500,000: riskId 2, MMR 1 %, deduction 2,000,000 × 0.5 % = 10,000) at 2x
    (margin 1,250,000): MM = 25,000 − 10,000 = 15,000, LP = 50,000 − (1,250,000 − 15,000)/50
    = 25,300 (value there 1,265,000 is in riskId 1, which Bybit's formula does not use). The
    reported liquidation tier is the entry tier, 2."""
    account = isolated("BTCUSDT", "long", 50, 50000, leverage=2)
    assert linear.liquidation_price(account, "BTCUSDT") == D(25300)
    (row,) = linear.risk(account, marks={"BTCUSDT": D(50000)})
    assert (row.tier, row.liquidation_tier) == (2, 2)


def test_cross_liquidation_price_total_sustainable_loss(linear: mc.Policy) -> None:
    """[LP] cross: the loss a position can absorb is Available Balance + IM − MM ("Total
    Sustainable Loss"), with available balance = wallet − IM when nothing else is open: wallet
    1,000, long 1 BTC @ 20,000 (MM 100): LP = 20,000 − (1,000 − 100)/1 = 19,100."""
    account = mc.Account(1000, [mc.Position("BTCUSDT", "long", 1, 20000, leverage=50)])
    assert linear.liquidation_price(account, "BTCUSDT", marks={"BTCUSDT": 20000}) == D(19100)


def test_inverse_liquidation_price_with_mm_at_entry(inverse: mc.Policy) -> None:
    """[UTA] (2024-09-10) LP_long = quantity / [position value + (IM − MM)], position value =
    quantity / entry. Its example, 60,000 USD long @ 50,000 at 10x, MMR 0.5 %, was cut off in
    the stored copy; carried through: value 1.2 BTC, IM 0.12, MM 0.006,
    LP = 60,000 / (1.2 + 0.12 − 0.006) = 60,000 / 1.314 = 45,662.10 (derived)."""
    account = isolated("BTCUSD", "long", 60000, 50000, leverage=10)
    assert inverse.liquidation_price(account, "BTCUSD") == exact("60000", "1.314")


def test_byb6_liquidation_price_matches_the_page_to_the_tick(inverse: mc.Policy) -> None:
    """BYB-6 [ADL] states LP 7,773.50 for an inverse long of 5,000 contracts @ 7,890.08 at 50x
    without deriving it. With MM at entry: value V = 5,000/7,890.08, IM = V/50, MM = V × 0.5 %,
    LP = 5,000 / (V + V/50 − V × 0.005) = 7,890.08 / 1.015 = 7,773.478, which is 7,773.50 on
    BTCUSD's 0.5 tick. (MM at the LP would give 7,890.08 × 1.005/1.02 = 7,774.05: 7,774.0.)"""
    account = isolated("BTCUSD", "long", 5000, D("7890.08"), leverage=50)
    lp = inverse.liquidation_price(account, "BTCUSD")
    assert lp is not None
    assert abs(lp - exact("7890.08", "1.015")) < D("1e-40") * lp  # two 50-digit divisions
    assert (lp * 2).quantize(D(1), ROUND_HALF_EVEN) / 2 == D("7773.5")


# --- bankruptcy price and its rounding (BYB-5, BYB-6) --------------------------------------


def test_byb5_linear_bankruptcy_price(linear: mc.Policy) -> None:
    """BYB-5 [BP]: long 1 BTC @ 10,000 at 50x: BP = 10,000 × (1 − 2 %) = 9,800."""
    assert (
        linear.bankruptcy_price(isolated("BTCUSDT", "long", 1, 10000, leverage=50), "BTCUSDT")
        == 9800
    )


def test_byb6_inverse_bankruptcy_price_rounded_up(inverse: mc.Policy) -> None:
    """BYB-6 [ADL], [ROUND]: inverse long 5,000 contracts @ 7,890.08 at 50x:
    BP = 7,890.08 × 50 / 51 = 7,735.372549…, rounded up to the 0.5 step: 7,735.50."""
    account = isolated("BTCUSD", "long", 5000, D("7890.08"), leverage=50)
    assert inverse.bankruptcy_price(account, "BTCUSD") == D("7735.5")


def test_inverse_short_bankruptcy_price_rounded_down(inverse: mc.Policy) -> None:
    """[ADL] BP_short = entry × L/(L − 1) (by symmetry), [ROUND] rounded down: short 5,000 @
    7,890.08 at 50x: 7,890.08 × 50/49 = 8,051.102…, down to the 0.5 step: 8,051.0."""
    account = isolated("BTCUSD", "short", 5000, D("7890.08"), leverage=50)
    assert inverse.bankruptcy_price(account, "BTCUSD") == D("8051.0")


def test_linear_bankruptcy_price_rounded_to_the_tick(linear: mc.Policy) -> None:
    """[BP] with [ROUND] on BTCUSDT's 0.1 tick: long 1 @ 20,000.1 at 50x: 20,000.1 × 0.98 =
    19,600.098, up to 19,600.1; short: 20,000.1 × 1.02 = 20,400.102, down to 20,400.1."""
    long = isolated("BTCUSDT", "long", 1, D("20000.1"), leverage=50)
    short = isolated("BTCUSDT", "short", 1, D("20000.1"), leverage=50)
    assert linear.bankruptcy_price(long, "BTCUSDT") == D("19600.1")
    assert linear.bankruptcy_price(short, "BTCUSDT") == D("20400.1")


# --- tiers, margin, fees -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "tier", "rate", "mm"),
    [
        (D(50), 1, D("0.005"), D(10000)),  # 2,000,000 × 0.5 %, the cap of riskId 1
        (D(100), 2, D("0.01"), D(30000)),  # BYB-9: 4,000,000 × 1 % − 10,000
        (D("100.001"), 3, D("0.015"), D("30000.6")),  # 4,000,040 × 1.5 % − 30,000
    ],
)
def test_byb9_risk_limit_lookup_and_deduction(
    linear: mc.Policy, size: Decimal, tier: int, rate: Decimal, mm: Decimal
) -> None:
    """BYB-9 [RISK]: a BTCUSDT position value of exactly 4,000,000 is in riskId 2 (MMR 1 %,
    IMR 1.75 %, max leverage 57.14). MM = value × MMR − deduction; the deductions, not in
    the reference, are derived by continuity: riskId 2: 2,000,000 × (1 % − 0.5 %) = 10,000,
    riskId 3: 10,000 + 4,000,000 × (1.5 % − 1 %) = 30,000. At 40,000 a BTC."""
    account = mc.Account(10**9, [mc.Position("BTCUSDT", "long", size, 40000)])
    (row,) = linear.risk(account, marks={"BTCUSDT": D(40000)})
    assert (row.tier, row.maintenance_margin_rate, row.maintenance_margin) == (tier, rate, mm)
    assert linear.markets["BTCUSDT"].tiers[1].max_leverage == D("57.14")


ETHUSDT_2023 = [  # [ETH23]: (maxNotional, maintenanceMarginRate, maxLeverage) of tiers 1–13
    (900000, "0.005", "100"),
    (1500000, "0.01", "50"),
    (3000000, "0.015", "36.37"),
    (4500000, "0.02", "28.58"),
    (6000000, "0.025", "23.53"),
    (7500000, "0.03", "20"),
    (9000000, "0.035", "17.4"),
    (10500000, "0.04", "15.39"),
    (16000000, "0.045", "13.8"),
    (18000000, "0.05", "12.5"),
    (20000000, "0.055", "11.43"),
    (22000000, "0.06", "10.53"),
    (24000000, "0.065", "9.76"),
]


def test_ethusdt_tiers_are_bybits_2023_table(linear: mc.Policy) -> None:
    """[ETH23]: ETHUSDT's risk limits are Bybit's own table, not BTCUSDT's ladder: each tier
    starts where the previous one ends, at 0 for the first."""
    tiers = linear.markets["ETHUSDT"].tiers
    assert [(t.max_notional, t.maintenance_margin_rate, t.max_leverage) for t in tiers] == [
        (D(cap), D(rate), D(lev)) for cap, rate, lev in ETHUSDT_2023
    ]
    assert [t.min_notional for t in tiers] == [D(0)] + [D(cap) for cap, _, _ in ETHUSDT_2023[:-1]]


@pytest.mark.parametrize(
    ("size", "tier", "rate", "mm"),
    [
        (D(450), 1, D("0.005"), D(4500)),  # 900,000 × 0.5 %: the cap is in tier 1
        (D("450.01"), 2, D("0.01"), D("4500.2")),  # 900,020 × 1 % − 4,500
        (D(750), 2, D("0.01"), D(10500)),  # 1,500,000 × 1 % − 4,500
        (D(1000), 3, D("0.015"), D(18000)),  # 2,000,000 × 1.5 % − 12,000
        (D(5000), 8, D("0.04"), D(238000)),  # 10,000,000 × 4 % − 162,000
        (D(10000), 11, D("0.055"), D(715500)),  # 20,000,000 × 5.5 % − 384,500
    ],
)
def test_ethusdt_maintenance_margin_by_tier(
    linear: mc.Policy, size: Decimal, tier: int, rate: Decimal, mm: Decimal
) -> None:
    """[ETH23] ETHUSDT at 2,000 a coin: MM = value × MMR − deduction, the deductions derived by
    continuity (cum_k = cum_(k−1) + floor_k × (mmr_k − mmr_(k−1))): tier 2: 900,000 × 0.5 % =
    4,500; 3: 4,500 + 1,500,000 × 0.5 % = 12,000; 4: + 3,000,000 × 0.5 % = 27,000; 5: +
    4,500,000 × 0.5 % = 49,500; 6: + 6,000,000 × 0.5 % = 79,500; 7: + 7,500,000 × 0.5 % =
    117,000; 8: + 9,000,000 × 0.5 % = 162,000; 9: + 10,500,000 × 0.5 % = 214,500; 10: +
    16,000,000 × 0.5 % = 294,500; 11: + 18,000,000 × 0.5 % = 384,500. Both sides of the
    1,500,000 edge give 10,500 (tier 3: 22,500 − 12,000)."""
    account = mc.Account(10**9, [mc.Position("ETHUSDT", "long", size, 2000)])
    (row,) = linear.risk(account, marks={"ETHUSDT": D(2000)})
    assert (row.tier, row.maintenance_margin_rate, row.maintenance_margin) == (tier, rate, mm)


def test_ethusdt_liquidation_price_in_its_own_entry_tier(linear: mc.Policy) -> None:
    """[LP] with [ETH23]: long 500 ETH @ 2,000 (1,000,000: tier 2, MMR 1 %, deduction 4,500)
    with 100,000 of isolated margin: MM at entry = 10,000 − 4,500 = 5,500, LP = 2,000 −
    (100,000 − 5,500)/500 = 1,811. (On BTCUSDT's old ladder, tier 1 at 0.5 %: 5,000 and
    1,810.)"""
    account = isolated("ETHUSDT", "long", 500, 2000, margin=100000)
    assert linear.liquidation_price(account, "ETHUSDT") == D(1811)


@pytest.mark.parametrize(
    ("contracts", "tier", "mm"),
    [
        (9000000, 1, D("0.75")),  # 150 BTC × 0.5 %: the cap is in riskId 1
        (12000000, 2, D("1.25")),  # 200 BTC × 1 % − 0.75
        (24000000, 3, D("3.75")),  # 400 BTC × 1.5 % − 2.25
    ],
)
def test_btcusd_risk_limits_1_to_3(
    inverse: mc.Policy, contracts: int, tier: int, mm: Decimal
) -> None:
    """[INV22] BTCUSD (1 USD contracts) at 60,000: value = contracts / 60,000 BTC. riskId 1–3
    hold up to 150 / 300 / 450 BTC at MMR 0.5 / 1 / 1.5 % (IMR 1 / 1.5 / 2 %, 100 / 66.67 /
    50x); deductions by continuity: 150 × 0.5 % = 0.75, 0.75 + 300 × 0.5 % = 2.25 BTC."""
    account = mc.Account(10**6, [mc.Position("BTCUSD", "long", contracts, 60000)])
    (row,) = inverse.risk(account, marks={"BTCUSD": D(60000)})
    assert (row.tier, row.maintenance_margin) == (tier, mm)
    assert [t.max_leverage for t in inverse.markets["BTCUSD"].tiers] == [
        D(100),
        D("66.67"),
        D(50),
    ]


def test_initial_margin_includes_the_fee_to_close(linear: mc.Policy) -> None:
    """[COST] IM = qty × price / leverage; fee to close (buy) = qty × price × (1 − 1/L) ×
    taker; (sell) × (1 + 1/L). 1 BTC @ 50,000 at 10x, taker 0.055 %: 5,000 + 50,000 × 0.9 ×
    0.00055 = 5,000 + 24.75 = 5,024.75 (ukcamo's worked figure); short: 5,000 + 50,000 × 1.1 ×
    0.00055 = 5,030.25."""
    marks = {"BTCUSDT": D(50000)}
    long = mc.Account(10000, [mc.Position("BTCUSDT", "long", 1, 50000, leverage=10)])
    short = mc.Account(10000, [mc.Position("BTCUSDT", "short", 1, 50000, leverage=10)])
    assert linear.initial_margin(long, "BTCUSDT", marks=marks) == D("5024.75")
    assert linear.initial_margin(short, "BTCUSDT", marks=marks) == D("5030.25")


def test_inverse_initial_margin_includes_the_fee_to_close(inverse: mc.Policy) -> None:
    """[COST] inverse: IM = (qty / price) / L; fee to close (buy) = (qty / price) × (1 + 1/L)
    × taker. 10,000 USD ETHUSD long @ 2,000 at 25x: 5 / 25 = 0.2 ETH, fee 5 × 1.04 × 0.00055
    = 0.00286 ETH, IM 0.20286 ETH (ukcamo's worked figure)."""
    account = mc.Account(1, [mc.Position("ETHUSD", "long", 10000, 2000, leverage=25)])
    assert inverse.initial_margin(account, "ETHUSD", marks={"ETHUSD": 2000}) == D("0.20286")


def test_no_separate_liquidation_fee_and_taker_fee(linear: mc.Policy) -> None:
    """[ADL] Bybit charges no separate liquidation fee (the fee to close is in the margin);
    [COST] taker 0.055 %: opening 1 BTC at 50,000 costs 27.5 USDT."""
    assert linear.liquidation_fee("BTCUSDT", 1, 50000) == 0
    assert linear.trading_fee("BTCUSDT", 1, 50000, maker=False) == D("27.5")


# --- procedure -----------------------------------------------------------------------------


def _pool(policy: mc.Policy, account: mc.Account, symbol: str, mark: Decimal) -> object:
    (pool,) = policy.pools(account, marks={symbol: mark})
    assert pool.margin_balance <= pool.maintenance_margin
    return pool


def test_lowest_tier_is_taken_over_at_bankruptcy(linear: mc.Policy) -> None:
    """[PROC] lowest risk-limit tier: "take over and liquidate it directly at its bankruptcy
    price". BYB-1's long at mark 19,650: margin balance 400 − 350 = 50 <= MM 98.25; taken over
    whole at BP = 20,000 × (1 − 2 %) = 19,600."""
    account = isolated("BTCUSDT", "long", 1, 20000, leverage=50)
    pool = _pool(linear, account, "BTCUSDT", D(19650))
    assert linear.liquidation_action(pool, 0) == Takeover("BTCUSDT", "long", D(1), D(19600))


def test_higher_tier_first_fills_or_kills_down_to_a_lower_tier(linear: mc.Policy) -> None:
    """[PROC] higher tiers: "a FillOrKill order of the difference between the current position
    value and the lower margin tier value which satisfies the margin requirement", then
    takeover. The position value is Bybit's, at the entry price (the value its maintenance
    margin is measured on, [LP], [COST]). Long 100 BTC @ 40,000 at 20x (margin 200,000; BP
    40,000 − 2,000 = 38,000), mark 38,200: value 4,000,000 (riskId 2), MM 4,000,000 × 1 % −
    10,000 = 30,000 >= margin balance 200,000 − 180,000 = 20,000. Down to riskId 1's
    2,000,000: 2,000,000 / 40,000 = 50 BTC; the remaining 50 BTC (2,000,000) need MM 10,000
    < 20,000: satisfied. The order is limited at the bankruptcy price [derived]. The next
    step is the takeover."""
    account = isolated("BTCUSDT", "long", 100, 40000, leverage=20)
    pool = _pool(linear, account, "BTCUSDT", D(38200))
    assert linear.liquidation_action(pool, 0) == Reduce("BTCUSDT", "long", D(50), "fok", D(38000))
    assert linear.liquidation_action(pool, 1) == Takeover("BTCUSDT", "long", D(100), D(38000))


def test_higher_tier_without_a_satisfying_lower_tier_is_taken_over(linear: mc.Policy) -> None:
    """[PROC] the same long at mark 38,050: margin balance 200,000 − 195,000 = 5,000; at
    riskId 1's cap the requirement is still 2,000,000 × 0.5 % = 10,000 > 5,000, so no lower
    tier satisfies it: straight to takeover at 38,000."""
    account = isolated("BTCUSDT", "long", 100, 40000, leverage=20)
    pool = _pool(linear, account, "BTCUSDT", D(38050))
    assert linear.liquidation_action(pool, 0) == Takeover("BTCUSDT", "long", D(100), D(38000))


# --- ADL -----------------------------------------------------------------------------------


def _candidate(
    key: str,
    symbol: str,
    side: str,
    size: str,
    entry: str,
    mark: str,
    notional: str,
    pnl: str,
    bankruptcy: str | None,
) -> AdlCandidate:
    return AdlCandidate(
        key=key,
        symbol=symbol,
        side=side,  # type: ignore[arg-type]
        size=D(size),
        entry_price=D(entry),
        mark_price=D(mark),
        notional=D(notional),
        unrealized_pnl=D(pnl),
        wallet_balance=D(5000),
        account_unrealized_pnl=D(pnl),
        maintenance_margin=D(0),
        bankruptcy_price=None if bankruptcy is None else D(bankruptcy),
    )


def test_adl_score_bitmex_classic_linear(linear: mc.Policy) -> None:
    """[ADL] "highest profit and effective leverage", BitMEX's formula [BMX]: PnL% = (mark value
    − entry value)/|entry value|, effective leverage = |mark value|/(mark value − bankrupt
    value). Short 1 BTC @ 60,000, mark 50,000, bankruptcy price 65,000 (margin 5,000):
    PnL% = 10,000/60,000 = 1/6; leverage = 50,000/15,000 = 10/3; score = 10/18 = 5/9."""
    c = _candidate("a", "BTCUSDT", "short", "1", "60000", "50000", "50000", "10000", "65000")
    assert linear.adl_score(c) == exact("5", "9")


def test_adl_score_bitmex_classic_inverse(inverse: mc.Policy) -> None:
    """[BMX] on coin values: inverse long 10,000 BTCUSD @ 40,000, mark 50,000, bankruptcy
    price 20,000: mark value 0.2 BTC, entry value 0.25, PnL% = 0.05/0.25 = 0.2; equity over
    the bankruptcy price 10,000 × (1/20,000 − 1/50,000) = 0.3; leverage 0.2/0.3;
    score = 0.2 × 2/3 = 2/15. (The default's linear PnL% would be 10,000/40,000 = 0.25.)"""
    c = _candidate("a", "BTCUSD", "long", "10000", "40000", "50000", "0.2", "0.05", "20000")
    assert inverse.adl_score(c) == exact("2", "15")


def test_adl1_ordering(linear: mc.Policy) -> None:
    """ADL-1 [BMX]: higher PnL% and higher leverage ranks strictly higher; every winner above
    every loser. b: short @ 60,000, mark 50,000, BP 55,000 (PnL% 1/6, leverage 10);
    a: BP 65,000 (leverage 10/3); loser: short @ 45,000 (PnL% −1/9, BP 65,000)."""
    a = _candidate("a", "BTCUSDT", "short", "1", "60000", "50000", "50000", "10000", "65000")
    b = _candidate("b", "BTCUSDT", "short", "1", "60000", "50000", "50000", "10000", "55000")
    loser = _candidate("l", "BTCUSDT", "short", "1", "45000", "50000", "50000", "-5000", "65000")
    assert [c.key for c in linear.adl_rank((loser, a, b))] == ["b", "a", "l"]
    assert linear.adl_score(loser) < 0 < linear.adl_score(a)


def test_adl_settings(linear: mc.Policy, inverse: mc.Policy) -> None:
    """[ADL] the counterparty is closed "at the bankruptcy price of the liquidated order";
    "Maker fee will be charged to the positions of selected traders"; the fund first."""
    for policy in (linear, inverse):
        assert policy.spec.adl.price == "bankruptcy" and policy.spec.adl.fee == "maker"
        assert policy.spec.deficit.waterfall == ("insurance-fund", "adl")
        assert policy.spec.insurance_fund.surplus_to == "insurance-fund"


# --- the 2025 grouped-pool PnL-drawdown trigger (BYB-8) ------------------------------------


def test_byb8_pnl_drawdown_adl(linear: mc.Policy) -> None:
    """BYB-8 [ALERT]: A, B, C share a pool whose 8-hour maximum balance is 1,000,000 USDT; A's
    positions lose 350,000: pnlRatio = −350,000/1,000,000 = −0.35 < −0.3 with the balance
    (1,000,000) above the threshold (1 in the example, 10,000 in the 2025-09-13 sample both
    pass), so ADL is triggered; counterparties absorb 350,000 − 0.3 × 1,000,000 = 50,000.
    The stop ratio −0.25 is not reached."""
    check = pnl_drawdown_adl(
        linear.spec, "BTCUSDT", balance=1_000_000, max_balance=1_000_000, pnl=-350_000, max_pnl=0
    )
    assert check.pnl_ratio == D("-0.35")
    assert check.triggered and not check.stopped
    assert check.adl_loss == D(50000)


def test_drawdown_adl_threshold_and_stop(linear: mc.Policy) -> None:
    """[ALERT] the drawdown trigger needs balance > adlTriggerThreshold (10,000): a pool of
    5,000 with the same −0.35 drawdown is not triggered; a balance <= 0 triggers pool-equity
    ADL whatever the ratio; a ratio of −0.2 > −0.25 stops ADL and leaves no loss for it."""
    spec = linear.spec
    low = pnl_drawdown_adl(spec, "BTCUSDT", balance=5000, max_balance=10**6, pnl=-350000, max_pnl=0)
    assert not low.triggered
    empty = pnl_drawdown_adl(spec, "BTCUSDT", balance=0, max_balance=10**6, pnl=0, max_pnl=0)
    assert empty.triggered
    recovered = pnl_drawdown_adl(
        spec, "BTCUSDT", balance=10**6, max_balance=10**6, pnl=-200000, max_pnl=0
    )
    assert recovered.stopped and not recovered.triggered and recovered.adl_loss == 0


def test_drawdown_adl_rejects_bad_input(linear: mc.Policy) -> None:
    with pytest.raises(mc.InvalidInputError, match="max_balance: must be > 0"):
        pnl_drawdown_adl(linear.spec, "BTCUSDT", balance=1, max_balance=0, pnl=0, max_pnl=0)
    with pytest.raises(mc.InvalidInputError, match="unknown symbol 'XRPUSDT'"):
        pnl_drawdown_adl(linear.spec, "XRPUSDT", balance=1, max_balance=1, pnl=0, max_pnl=0)


# --- bad parameters ------------------------------------------------------------------------


def _variant(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "variant.toml"
    path.write_text(f'name = "bybit-variant"\nextends = "bybit-linear"\n{body}', encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "[parameters]\nadl_insurance_pnl_ratio = 0.3\n",
            "parameters.adl_insurance_pnl_ratio: must be a drawdown ratio between -1 and 0, "
            "got 0.3",
        ),
        (
            "[parameters]\nadl_stop_ratio = -0.5\n",
            "parameters.adl_stop_ratio: must lie between adl_insurance_pnl_ratio (-0.3) and 0, "
            "got -0.5; ADL stops once the drawdown has recovered past its trigger",
        ),
        (
            '[parameters]\nadl_trigger_threshold = "lots"\n',
            "parameters.adl_trigger_threshold: expected a number, got the string 'lots'",
        ),
        (
            "[markets.BTCUSDT.parameters]\nadl_trigger_threshold = -1\n",
            "markets.BTCUSDT.parameters.adl_trigger_threshold: must be >= 0, got -1",
        ),
    ],
)
def test_bad_parameters_are_reported_when_the_policy_loads(
    tmp_path: Path, body: str, problem: str
) -> None:
    path = _variant(tmp_path, body)
    with pytest.raises(mc.PolicyError) as error:
        mc.load_policy(path)
    assert error.value.problems == [f"{path.resolve()}: {problem}"]


def test_a_missing_parameter_is_reported(tmp_path: Path) -> None:
    shipped = Path(__file__).parents[1] / "policies" / "bybit-linear.toml"
    text = shipped.read_text(encoding="utf-8").replace("adl_trigger_threshold = 10000\n", "")
    path = tmp_path / "missing.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(mc.PolicyError) as error:
        mc.load_policy(path)
    assert error.value.problems == [
        f"{path.resolve()}: parameters.adl_trigger_threshold: required by the bybit plugin"
    ]


# --- laws ----------------------------------------------------------------------------------

sides = st.sampled_from(["long", "short"])


@given(size=decimals_between(51, 150, 3), drop=decimals_between("0.01", "0.2", 3))
def test_the_fill_or_kill_leaves_a_compliant_pool_in_a_lower_tier(
    linear: mc.Policy, size: Decimal, drop: Decimal
) -> None:
    """[PROC]: when a FillOrKill is sent, closing it at the mark leaves the pool with a margin
    balance above its maintenance margin, in a lower tier than before, and never closes the
    whole position. Long SIZE BTC @ 40,000 at 20x (riskId 2 or 3), mark 40,000 × (1 − drop)."""
    mark = 40000 * (1 - drop)
    account = isolated("BTCUSDT", "long", size, 40000, leverage=20)
    (pool,) = linear.pools(account, marks={"BTCUSDT": mark})
    assume(pool.margin_balance <= pool.maintenance_margin)
    action = linear.liquidation_action(pool, 0)
    if isinstance(action, Reduce):
        assert action.order_type == "fok" and 0 < action.size < size
        left = size - action.size
        realised = action.size * (mark - 40000)
        after = isolated("BTCUSDT", "long", left, 40000, margin=2000 * size + realised)
        (rest,) = linear.pools(after, marks={"BTCUSDT": mark})
        assert rest.margin_balance > rest.maintenance_margin
        tiers = linear.risk(account, marks={"BTCUSDT": mark})[0].tier
        assert linear.risk(after, marks={"BTCUSDT": mark})[0].tier < tiers
    else:
        assert action == Takeover("BTCUSDT", "long", size, 40000 - 2000)


# --- the engine ----------------------------------------------------------------------------


def test_engine_fill_or_kill_then_takeover_with_surplus_and_loss_to_the_fund() -> None:
    """The procedure and the fund played by the engine (no ADL happens here).

    Trader: isolated long 100 BTC @ 40,000 at 20x (margin 200,000); the book fills at the mark
    less 0.1 %; the fund holds 100,000.
    Step 1, mark 38,200 (see test_higher_tier_first_fills_or_kills_down_to_a_lower_tier): a
    FillOrKill of 50 BTC fills at 38,200 × 0.999 = 38,161.8 (above its 38,000 limit);
    realised 50 × (38,161.8 − 40,000) = −91,910; margin 108,090. The rest, 50 BTC worth
    2,000,000 at entry (riskId 1, MM 10,000), has margin balance 108,090 − 50 × 1,800 =
    18,090 > MM: the liquidation stops.
    Step 2, mark 37,500: margin balance 108,090 − 50 × 2,500 < 0; lowest tier: takeover at
    the bankruptcy price 40,000 − 108,090 / 50 = 37,838.2 (on the tick). The trader realises
    50 × (−2,161.8) = −108,090 and keeps 0. The fund sells at 37,500 × 0.999 = 37,462.5,
    losing 50 × 375.7 = 18,785: 100,000 → 81,215. No separate liquidation fee is charged."""
    policy = mc.load_policy("bybit-linear")
    trader = mc.Position("BTCUSDT", "long", 100, 40000, "isolated", leverage=20)
    outcome = policy.simulate(
        mc.Scenario(
            {"trader": mc.Account(0, [trader])},
            [
                mc.Step("open", {"BTCUSDT": D(40000)}),
                mc.Step("drop", {"BTCUSDT": D(38200)}),
                mc.Step("gap", {"BTCUSDT": D(37500)}),
            ],
            mc.MarkFill(slippage="0.001"),
            insurance_fund=100000,
        )
    )
    assert outcome.liquidations == (
        Liquidation(1, "trader", "BTCUSDT", "long", D(50), D("38161.8"), "order"),
        Liquidation(2, "trader", "BTCUSDT", "long", D(50), D("37838.2"), "takeover"),
    )
    assert outcome.fund_path == (D(100000), D(100000), D(81215))
    assert outcome.balance("trader") == 0
    assert outcome.debt("trader") == 0 and outcome.adl == ()
    assert outcome.ledger.balance(lg.FEES) == 0
    assert outcome.ledger.total() == 0


def test_policies_carry_their_provenance(linear: mc.Policy, inverse: mc.Policy) -> None:
    """Every policy names its venue, the date of its parameters and its sources; the inverse
    markets are 1 USD contracts settled in the coin."""
    for policy in (linear, inverse):
        assert policy.venue == "Bybit" and policy.parameters_date == "2025-09-13"
        assert policy.sources and all(s.url.startswith("https://") for s in policy.sources)
    btcusd = inverse.markets["BTCUSD"]
    assert (btcusd.contract_type, btcusd.contract_size, btcusd.settlement_currency) == (
        "inverse",
        1,
        "BTC",
    )
    assert sorted(linear.markets) == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]


# --- the drawdown trigger played by the engine (margincall_adl_trigger) --------------------


def _history(*points: tuple[str, int]) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((D(day), D(balance)) for day, balance in points)


@pytest.mark.parametrize(
    ("points", "on"),
    [
        # BYB-8: peak 1,000,000, now 650,000: pnlRatio −0.35 < −0.3, balance > 10,000
        ((("0", 1000000), ("0", 650000)), True),
        # −0.27 never passed −0.3: not started
        ((("0", 1000000), ("0", 730000)), False),
        # started at −0.35, now −0.27: not above the stop ratio −0.25, so still on
        ((("0", 1000000), ("0", 650000), ("0", 730000)), True),
        # started, now −0.24 > −0.25: stopped
        ((("0", 1000000), ("0", 650000), ("0", 760000)), False),
        # −0.3571 (14,000 → 9,000) but the balance is not above adlTriggerThreshold 10,000
        ((("0", 14000), ("0", 9000)), False),
        # pool-equity ADL: balance <= 0, whatever the ratio
        ((("0", 1000000), ("0", 0)), True),
        # the 1,000,000 is 12 hours old, outside the 8-hour window: the peak is 650,000
        ((("0", 1000000), ("0.5", 650000)), False),
        # six hours old, inside it
        ((("0", 1000000), ("0.25", 650000)), True),
    ],
)
def test_drawdown_adl_over_a_fund_history(
    linear: mc.Policy, points: tuple[tuple[str, int], ...], on: bool
) -> None:
    """[ALERT] pnlRatio = (current PnL − 8h max PnL) / the pool's 8h max balance; triggered
    when the balance > adlTriggerThreshold (10,000) and pnlRatio < insurancePnlRatio (−0.3);
    stopped when pnlRatio > adlStopRatio (−0.25); pool-equity ADL at balance <= 0. The fund's
    balance stands in for the symbol's PnL, so pnlRatio = (balance − 8h peak) / 8h peak:
    650,000 → −350,000 / 1,000,000 = −0.35; 730,000 → −0.27; 760,000 → −0.24;
    9,000 after 14,000 → −5,000 / 14,000 = −0.357."""
    history = _history(*points)
    assert drawdown_adl_active(linear.spec, "BTCUSDT", history) is on
    assert linear.adl_trigger("BTCUSDT", history) is on


def _drawdown(crash_day: str) -> mc.Scenario:
    """A 400,000 fund. Step 1 (day 0, mark 49,000): "big", an isolated long 30 BTC @ 60,000 at
    10x (margin 180,000; value 1,470,000 in the lowest risk limit, so taken over whole), is
    bankrupt at 60,000 − 180,000 / 30 = 54,000 (on the 0.1 tick). The fund sells the 30 BTC
    at the mark (no slippage): 30 × (49,000 − 54,000) = −150,000, leaving 250,000.
    Step 2 (mark 40,000): "small", an isolated long 1 BTC @ 45,000 at 10x (margin 4,500), is
    taken over at 40,500. "w" is short 2 BTC @ 60,000 with 10,000 of cash."""
    return mc.Scenario(
        {
            "big": mc.Account(
                0, [mc.Position("BTCUSDT", "long", 30, 60000, "isolated", leverage=10)]
            ),
            "small": mc.Account(
                0, [mc.Position("BTCUSDT", "long", 1, 45000, "isolated", leverage=10)]
            ),
            "w": mc.Account(10000, [mc.Position("BTCUSDT", "short", 2, 60000)]),
        },
        [
            mc.Step("open", {"BTCUSDT": D(60000)}),
            mc.Step("gap", {"BTCUSDT": D(49000)}),
            mc.Step("crash", {"BTCUSDT": D(40000)}, day=D(crash_day)),
        ],
        mc.MarkFill(),
        insurance_fund=400000,
    )


def test_the_engine_deleverages_ahead_of_the_fund_after_a_drawdown(linear: mc.Policy) -> None:
    """[ALERT] six hours after the drop (day 0.25), the fund's 8-hour peak is 400,000 and its
    balance 250,000: pnlRatio −150,000 / 400,000 = −0.375 < −0.3 with 250,000 > 10,000, so
    ADL comes first. [ADL] at the bankruptcy price of the liquidated order: w's short closes
    1 BTC at 40,500, realising 1 × (60,000 − 40,500) = 19,500 and paying the maker fee
    40,500 × 0.02 % = 8.1: cash 10,000 + 19,500 − 8.1 = 29,491.9. The fund pays nothing: it
    stays at 250,000 (selling the BTC at 40,000 would have cost it 500)."""
    outcome = linear.simulate(_drawdown("0.25"))
    assert outcome.liquidations == (
        Liquidation(1, "big", "BTCUSDT", "long", D(30), D(54000), "takeover"),
        Liquidation(2, "small", "BTCUSDT", "long", D(1), D(40500), "takeover"),
    )
    assert outcome.adl == (
        AdlRecord(2, "w", "small", "BTCUSDT", D(1), D(40500), D(40000), cost=D(500), side="short"),
    )
    assert outcome.balance("w") == D("29491.9")
    assert outcome.fees_paid("w") == D("8.1")
    assert outcome.fund_path == (D(400000), D(250000), D(250000))
    assert outcome.ledger.total() == 0


def test_no_drawdown_adl_once_the_peak_is_eight_hours_old(linear: mc.Policy) -> None:
    """The same takeover twelve hours after the drop (day 0.5): the 400,000 peak is outside
    the window, the 8-hour peak is the 250,000 now, pnlRatio 0 (> −0.25: stopped). The fund
    takes small's BTC over and sells it at 40,000: 250,000 − 500 = 249,500; w keeps its
    short."""
    outcome = linear.simulate(_drawdown("0.5"))
    assert outcome.adl == ()
    assert outcome.fund_path == (D(400000), D(250000), D(249500))
    assert outcome.open_positions["w"] == (("BTCUSDT", "short", D(2)),)
    assert outcome.ledger.total() == 0
