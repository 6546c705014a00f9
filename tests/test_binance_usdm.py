"""binance-usdm against Binance's documented formulas and worked examples.

Every expected value is Binance's own figure or is computed here, in the test, from the
formula Binance documents; each test names its source. Binance's examples show prices cut to
two decimals ("difference due to rounding off"), so those are compared after truncation.

Sources:
  [LP]   "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts",
         https://www.binance.com/en/support/faq/b3c689c1f50a44cabb3a84e663b81d93 (2020-08-14)
  [2020] Binance help-centre "Liquidation" article, 2020, copied in
         https://github.com/bradkyle/Qenv/blob/bf999d43d5dc3794ead63314f292a40df1120cfe/logic/binance.md
  [FAQ]  "Why Was My Position Liquidated?",
         https://www.binance.com/en/support/faq/25edcd7fe0e544839d0847b8cbb2e400 (undated)
  [PROT] "Binance Futures Liquidation Protocols",
         https://www.binance.com/en/support/faq/360033525271 (last updated 2024-05-29)
  [FEES] "Binance Futures Fee Structure & Fee Calculations",
         https://www.binance.com/en/support/faq/360033544231
  [API]  GET /fapi/v1/leverageBracket output (undated),
         github.com/boolean404/heikin-ashi-trading-bot
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, localcontext
from pathlib import Path

import pytest

import margincall as mc
from margincall.tiers import recursive_amounts
from margincall.waterfall import AdlCandidate, Reduce, Takeover

D = Decimal
DATA = Path(__file__).parent / "data"
CENT = D("0.01")


def cut(value: Decimal | None) -> Decimal:
    """Binance's display: cut to two decimals."""
    assert value is not None
    return value.quantize(CENT, rounding=ROUND_DOWN)


def exact(expression: str) -> Decimal:
    """Evaluate a quotient at margincall's precision (50 digits) for exact comparison."""
    with localcontext() as ctx:
        ctx.prec = 50
        numerator, denominator = expression.split("/")
        return D(numerator) / D(denominator)


@pytest.fixture(scope="module")
def binance_2020() -> mc.Policy:
    return mc.load_policy(DATA / "binance-2020.toml")


@pytest.fixture(scope="module")
def api_sample() -> mc.Policy:
    return mc.load_policy(DATA / "binance-api-sample.toml")


# --- tiers and maintenance amounts ---------------------------------------------------------


def test_bin3_maintenance_amount_level_3() -> None:
    """BIN-3 [LP]: Level 3 amount = 250,000 × (1 % − 0.5 %) + 50 = 1,300."""
    amounts = recursive_amounts([D(0), D(50000), D(250000)], [D("0.004"), D("0.005"), D("0.01")])
    assert amounts == [D(0), D(50), D(1300)]


def test_bin4_maintenance_amount_level_5_of_2020_table() -> None:
    """BIN-4 [2020]: Level 5 amount = 5,000,000 × (5 % − 2.5 %) + 16,300 = 141,300."""
    floors = [D(0), D(50_000), D(250_000), D(1_000_000), D(5_000_000)]
    rates = [D("0.004"), D("0.005"), D("0.01"), D("0.025"), D("0.05")]
    assert recursive_amounts(floors, rates)[3:] == [D(16_300), D(141_300)]


def test_derived_amounts_equal_binance_api_cum(api_sample: mc.Policy) -> None:
    """[API]: the loader derives each bracket's amount by the recursion; Binance's API returns
    them as ``cum``: 0, 50, 1,300, 46,300, 546,300, 2,546,300, 5,046,300, 8,046,300,
    28,046,300, 103,046,300."""
    cum = [0, 50, 1300, 46300, 546300, 2546300, 5046300, 8046300, 28046300, 103046300]
    tiers = api_sample.markets["BTCUSDT"].tiers
    assert [t.maintenance_amount for t in tiers] == [D(c) for c in cum]


@pytest.mark.parametrize("notional", [D(264_000), D(500_000)])
def test_bin5_bracket_lookup(api_sample: mc.Policy, notional: Decimal) -> None:
    """BIN-5 [LP]: a BTCUSDT position of 264,000 (or 500,000) USDT is in the bracket with
    maintenance rate 1 % and amount 1,300; MM = notional × 1 % − 1,300."""
    account = mc.Account(0, [mc.Position("BTCUSDT", "long", notional / 1000, 1000)])
    marks = {"BTCUSDT": D(1000)}
    rows = api_sample.risk(account, marks=marks)
    assert rows[0].tier == 3
    assert rows[0].maintenance_margin_rate == D("0.01")
    assert api_sample.maintenance_margin(account, "BTCUSDT", marks=marks) == notional * D(
        "0.01"
    ) - D(1300)


def test_snapshot_tiers_are_binance_october_2024(binance: mc.Policy) -> None:
    """The policy's BTCUSDT brackets are the Binance API snapshot of 2024-10-24 (freqtrade's
    binance_leverage_tiers.json): bracket 3 is (600,000, 3,000,000], 75x, 0.65 %, cum 950."""
    tier = binance.markets["BTCUSDT"].tiers[2]
    assert (tier.min_notional, tier.max_notional, tier.max_leverage) == (
        D(600_000),
        D(3_000_000),
        D(75),
    )
    assert (tier.maintenance_margin_rate, tier.maintenance_amount) == (D("0.0065"), D(950))


# --- liquidation price: Binance's worked examples -------------------------------------------


def test_2020_cross_example_btcusdt_short(binance_2020: mc.Policy) -> None:
    """[2020] cross, one-way: WB 10.72; BTCUSDT short 0.005 @ 9,451.53, MMR 0.4 %; the other
    contract (ETHUSDT long 1 @ 199.53, mark 200) has TMM1 = 200 × 1 × 0.65 % = 1.3 and
    UPNL1 = 0.47. LP = [10.72 − 1.3 + 0.47 + 0 − (−1 × 0.005 × 9,451.53)]
    / [0.005 × 0.004 − (−1 × 0.005)] = 11,383.99."""
    account = mc.Account(
        D("10.72"),
        [
            mc.Position("BTCUSDT", "short", D("0.005"), D("9451.53")),
            mc.Position("ETHUSDT", "long", D(1), D("199.53")),
        ],
    )
    marks = {"BTCUSDT": D("9462.81"), "ETHUSDT": D(200)}
    assert binance_2020.maintenance_margin(account, "ETHUSDT", marks=marks) == D("1.3")
    lp = binance_2020.liquidation_price(account, "BTCUSDT", marks=marks)
    assert lp == exact("57.14765/0.00502")
    assert cut(lp) == D("11383.99")


def test_2020_cross_example_ethusdt_long(binance_2020: mc.Policy) -> None:
    """[2020] the same account seen from ETHUSDT: TMM1 = 9,462.81 × 0.005 × 0.4 % (≈ 0.19),
    UPNL1 = −0.005 × (9,462.81 − 9,451.53) (≈ −0.06). LP = [10.72 − 0.19 − 0.06 + 0 −
    (1 × 1 × 199.53)] / [1 × 0.0065 − 1 × 1] = 190.29 (Binance rounds the inputs; exact
    inputs give 190.2925…, which also shows as 190.29)."""
    account = mc.Account(
        D("10.72"),
        [
            mc.Position("BTCUSDT", "short", D("0.005"), D("9451.53")),
            mc.Position("ETHUSDT", "long", D(1), D("199.53")),
        ],
    )
    marks = {"BTCUSDT": D("9462.81"), "ETHUSDT": D(200)}
    assert binance_2020.maintenance_margin(account, "BTCUSDT", marks=marks) == D("0.1892562")
    lp = binance_2020.liquidation_price(account, "ETHUSDT", marks=marks)
    # numerator 10.72 − 0.1892562 − 0.0564 − 199.53 = −189.0556562; denominator −0.9935
    assert lp == exact("189.0556562/0.9935")
    assert cut(lp) == D("190.29")


def test_faq_cross_long_wallet_500(binance: mc.Policy) -> None:
    """[FAQ] "a wallet balance of 500 USDT. You entered a long BTCUSDT position worth 1,000 USDT
    with 20x leverage at $50,000 ... your liquidation price will be $25,100.40."
    Size 1,000 / 50,000 = 0.02 BTC; LP = (500 − 0.02 × 50,000) / (0.02 × 0.004 − 0.02)."""
    account = mc.Account(500, [mc.Position("BTCUSDT", "long", D("0.02"), 50000, leverage=20)])
    lp = binance.liquidation_price(account, "BTCUSDT", marks={"BTCUSDT": D(50000)})
    assert lp == exact("500/0.01992")
    assert cut(lp) == D("25100.40")


# --- liquidation price: the documented formula in cases Binance describes in words ---------


def test_isolated_short_one_way_formula(binance: mc.Policy) -> None:
    """[LP] isolated one-way: WB = isolated wallet balance, TMM1 = UPNL1 = 0, so
    LP = (IWB + cum − s·q·E) / (q·MMR − s·q). Short 10 ETH @ 2,500 with 2,500 margin: value
    at LP ≈ 27,390 is in bracket 1 (0.4 %, cum 0): LP = (2,500 + 25,000) / (0.04 + 10).
    The cross wallet and other positions play no part."""
    account = mc.Account(
        123456,
        [
            mc.Position("ETHUSDT", "short", 10, 2500, "isolated", margin=2500),
            mc.Position("BTCUSDT", "long", 3, 60000),
        ],
    )
    assert binance.liquidation_price(account, "ETHUSDT") == exact("27500/10.04")
    assert binance.bankruptcy_price(account, "ETHUSDT") == D(2750)  # E + IWB / q


def test_tier_reselected_at_liquidation_price_long(binance: mc.Policy) -> None:
    """[LP] "If your position (calculated at the liquidation price) and the current position
    (calculated at the opening price) are of different levels, then you must substitute ...
    the maintenance margin rate and the maintenance margin amount of the position level, to
    recalculate." Isolated long 10 BTC @ 70,000 (700,000: bracket 3, 0.65 %, cum 950), margin
    140,000. With bracket 3: LP = (700,000 − 140,000 − 950) / (10 × 0.9935) = 56,270.76,
    value 562,707 — bracket 2. With bracket 2 (0.5 %, cum 50):
    LP = (700,000 − 140,000 − 50) / (10 × 0.995) = 56,276.38, value 562,764 — bracket 2."""
    account = mc.Account(0, [mc.Position("BTCUSDT", "long", 10, 70000, "isolated", margin=140000)])
    lp = binance.liquidation_price(account, "BTCUSDT")
    assert lp == exact("559950/9.95")
    row = binance.risk(account, marks={"BTCUSDT": D(70000)})[0]
    assert (row.tier, row.liquidation_tier) == (3, 2)


def test_tier_reselected_at_liquidation_price_short(binance: mc.Policy) -> None:
    """[LP] the same rule upwards. Isolated short 8 BTC @ 70,000 (560,000: bracket 2), margin
    56,000. Bracket 2: LP = (56,000 + 50 + 560,000) / (8 × 1.005) = 76,623.13, value 612,985
    — above 600,000, bracket 3. Bracket 3 (0.65 %, cum 950):
    LP = (56,000 + 950 + 560,000) / (8 × 1.0065) = 76,620.72, value 612,966 — bracket 3."""
    account = mc.Account(0, [mc.Position("BTCUSDT", "short", 8, 70000, "isolated", margin=56000)])
    assert binance.liquidation_price(account, "BTCUSDT") == exact("616950/8.052")
    row = binance.risk(account, marks={"BTCUSDT": D(70000)})[0]
    assert (row.tier, row.liquidation_tier) == (2, 3)


def test_hedge_cross_legs_share_one_liquidation_price(binance: mc.Policy) -> None:
    """[LP] "both long and short position share the same liquidation price" in cross hedge
    mode: LP = (WB + cumL + cumS − qL·EL + qS·ES) / (qL·MMR_L + qS·MMR_S − qL + qS).
    WB 1,000; long 0.3 @ 60,000; short 0.1 @ 62,000; both in bracket 1 at LP:
    LP = (1,000 − 18,000 + 6,200) / (0.0012 + 0.0004 − 0.3 + 0.1)."""
    account = mc.Account(
        1000,
        [
            mc.Position("BTCUSDT", "long", D("0.3"), 60000),
            mc.Position("BTCUSDT", "short", D("0.1"), 62000),
        ],
        position_mode="hedge",
    )
    marks = {"BTCUSDT": D(61000)}
    long = binance.liquidation_price(account, "BTCUSDT", marks=marks, side="long")
    short = binance.liquidation_price(account, "BTCUSDT", marks=marks, side="short")
    assert long == short == exact("10800/0.1984")


def test_hedge_isolated_legs_have_their_own_prices(binance: mc.Policy) -> None:
    """[2020] "If both long and short positions of the same contract are in isolated mode, the
    positions will have two different liquidation prices depending on the margin allocated."
    Each leg is one-way isolated, LP = (IWB + cum − s·q·E) / (q·MMR − s·q), in bracket 2
    (0.5 %, cum 50) where its value at LP lies: long 1 @ 60,000 with 6,000:
    (60,000 − 6,000 − 50) / 0.995; short 1 @ 60,000 with 3,000: (60,000 + 3,000 + 50) / 1.005."""
    account = mc.Account(
        0,
        [
            mc.Position("BTCUSDT", "long", 1, 60000, "isolated", margin=6000),
            mc.Position("BTCUSDT", "short", 1, 60000, "isolated", margin=3000),
        ],
        position_mode="hedge",
    )
    assert binance.liquidation_price(account, "BTCUSDT", side="long") == exact("53950/0.995")
    assert binance.liquidation_price(account, "BTCUSDT", side="short") == exact("63050/1.005")


def test_no_liquidation_price_when_negative(binance: mc.Policy) -> None:
    """[LP] "If the liquidation price is less than 0, the UI display would be '--'": a long
    whose margin exceeds its value has no liquidation (nor bankruptcy) price: None."""
    account = mc.Account(
        0, [mc.Position("BTCUSDT", "long", D("0.1"), 60000, "isolated", margin=7000)]
    )
    assert binance.liquidation_price(account, "BTCUSDT") is None
    assert binance.bankruptcy_price(account, "BTCUSDT") is None


def test_cross_bankruptcy_price(binance: mc.Policy) -> None:
    """Bankruptcy price, cross: the [LP] formula with TMM1, every MMR and cum at 0 (venues.md
    §1.4). WB 500, long 0.02 @ 50,000: BP = (500 − 1,000) / (−0.02) = 25,000."""
    account = mc.Account(500, [mc.Position("BTCUSDT", "long", D("0.02"), 50000)])
    assert binance.bankruptcy_price(account, "BTCUSDT", marks={"BTCUSDT": D(50000)}) == D(25000)


def test_trigger_at_margin_ratio_100_percent(binance: mc.Policy) -> None:
    """[PROT] liquidation when Margin Ratio = MM / Margin Balance reaches 100 %. Isolated long
    1 BTC @ 60,000 with 1,000 margin: MM at mark P is P × 0.5 % − 50 (bracket 2), margin
    balance 1,000 + (P − 60,000); equal at P = 58,950 / 0.995. One tick above: not yet."""
    account = mc.Account(0, [mc.Position("BTCUSDT", "long", 1, 60000, "isolated", margin=1000)])
    lp = exact("58950/0.995")
    assert binance.liquidation_price(account, "BTCUSDT") == lp
    at = {"BTCUSDT": lp}
    above = {"BTCUSDT": lp + D("0.1")}
    assert binance.is_liquidatable(account, "BTCUSDT", marks=at)
    assert not binance.is_liquidatable(account, "BTCUSDT", marks=above)
    ratio = binance.margin_ratio(account, "BTCUSDT", marks=at)
    assert ratio is not None and abs(ratio - 1) < D("1e-40")


# --- procedure, fees, insurance fund, ADL ---------------------------------------------------


def _in_liquidation(policy: mc.Policy, account: mc.Account, mark: Decimal) -> object:
    (pool,) = policy.pools(account, marks={"BTCUSDT": mark})
    assert pool.margin_balance <= pool.maintenance_margin
    return pool


def test_small_position_is_taken_over_whole(binance: mc.Policy) -> None:
    """[2020] small positions "will almost always be fully liquidated": their maintenance rate
    (0.4 %) is below the liquidation fee rate (1.25 %), so no partial close restores margin.
    [PROT] the position is closed at the bankruptcy price: 60,000 − 500 / 0.1 = 55,000."""
    account = mc.Account(
        0, [mc.Position("BTCUSDT", "long", D("0.1"), 60000, "isolated", margin=500)]
    )
    pool = _in_liquidation(binance, account, D(55200))
    assert binance.liquidation_action(pool, 0) == Takeover("BTCUSDT", "long", D("0.1"), D(55000))


def test_large_position_first_gets_one_ioc_reduction(binance: mc.Policy) -> None:
    """[PROT] one large IOC order reduces the position; the order is limited at the bankruptcy
    price ([2020] "All orders will be issued at the bankruptcy price"). Its size is not
    published; margincall closes the least whole lots (0.001 BTC) that restore compliance at
    the mark after the 1.25 % fee [derived]:
    isolated long 300 BTC @ 60,000, margin 1,100,000, mark 57,000: value 17,100,000 (bracket 5:
    2 %, cum 131,450), MM 210,550, margin balance 200,000. Closing value x keeps bracket 5 and
    leaves 200,000 − 0.0125·x − (0.02·(17,100,000 − x) − 131,450) = 0.0075·x − 10,550, which is
    > 0 for x > 1,406,666.67, i.e. 24.6784 BTC: 24.679 BTC in whole lots.
    Bankruptcy price 60,000 − 1,100,000 / 300. A second step takes over the rest."""
    account = mc.Account(
        0, [mc.Position("BTCUSDT", "long", 300, 60000, "isolated", margin=1100000)]
    )
    pool = _in_liquidation(binance, account, D(57000))
    action = binance.liquidation_action(pool, 0)
    assert isinstance(action, Reduce)
    assert (action.size, action.order_type) == (D("24.679"), "ioc")
    assert action.limit_price == exact("16900000/300")
    later = binance.liquidation_action(pool, 1)
    assert isinstance(later, Takeover) and later.size == 300


def test_fees_from_binance_fee_example(binance: mc.Policy) -> None:
    """[FEES] "buy 1 BTC ... at 10,104 ... 10,104 × 0.05 % = 5.052 USDT" (taker) and "sell ...
    at 11,104 ... 11,104 × 0.02 % = 2.2208 USDT" (maker)."""
    assert binance.trading_fee("BTCUSDT", D(1), D(10104), maker=False) == D("5.052")
    assert binance.trading_fee("BTCUSDT", D(1), D(11104), maker=True) == D("2.2208")


def test_liquidation_fee_on_amount_liquidated(binance: mc.Policy) -> None:
    """[2020] the liquidation fee is charged "on the amount liquidated only (not the notional
    value of the position)", at BTCUSDT's liquidationFee 0.0125 (exchangeInfo): closing
    24.679 BTC at 57,000 costs 24.679 × 57,000 × 1.25 % = 17,583.7875."""
    assert binance.liquidation_fee("BTCUSDT", D("24.679"), D(57000)) == D("17583.7875")


def test_fund_net_notional_cap(binance: mc.Policy) -> None:
    """[2020] "The fund will have a maximum net notional position check ... by default, this
    is 100% the size of the insurance fund": with 1,000,000 in the fund and 400,000 of net
    notional held, 600,000 more may be taken over; holding 1,200,000, none."""
    assert binance.takeover_capacity(D(1_000_000), D(400_000)) == D(600_000)
    assert binance.takeover_capacity(D(1_000_000), D(-1_200_000)) == 0


def _candidate(key: str, pnl: str, wallet: str, account_pnl: str, mm: str) -> AdlCandidate:
    return AdlCandidate(
        key=key,
        symbol="BTCUSDT",
        side="short",
        size=D(1),
        entry_price=D(60000),
        mark_price=D(60000) - D(pnl),
        notional=D(60000) - D(pnl),
        unrealized_pnl=D(pnl),
        wallet_balance=D(wallet),
        account_unrealized_pnl=D(account_pnl),
        maintenance_margin=D(mm),
        bankruptcy_price=None,
    )


def test_adl_leverage_pnl_2020_formula(binance: mc.Policy) -> None:
    """[2020] Pnl Percent = max(0, UP) / max(1, WB); Margin Ratio = MM / (WB + UP), 0 if
    WB + UP <= 0; Leverage Pnl = Pnl Percent × Margin Ratio.
    UP 500, WB 2,000, MM 100: 500 / 2,000 × 100 / 2,500 = 0.01. A loser scores 0. WB 0.5 is
    floored at 1: 500 / 1 × 100 / 500.5. WB + UP <= 0: 0."""
    assert binance.adl_score(_candidate("a", "500", "2000", "500", "100")) == D("0.01")
    assert binance.adl_score(_candidate("b", "-100", "2000", "-100", "100")) == 0
    assert binance.adl_score(_candidate("c", "500", "0.5", "500", "100")) == exact("50000/500.5")
    assert binance.adl_score(_candidate("d", "500", "-600", "100", "100")) == 0


def test_adl_queue_takes_highest_first_and_stops_at_the_size(binance: mc.Policy) -> None:
    """[2020] "More profitable and higher leveraged traders will be liquidated first"; the
    deleveraged positions close "at bankruptcy price of the initial liquidated order".
    Scores: c 500/2,000 × 200/2,500 = 0.02, a 0.01, the loser 0; so c, a, loser. Closing
    1.5 contracts takes c whole, then 0.5 of a, all at the given price."""
    a = _candidate("a", "500", "2000", "500", "100")  # score 0.01
    c = _candidate("c", "500", "2000", "500", "200")  # score 0.02
    loser = _candidate("l", "-100", "2000", "-100", "100")
    ranked = binance.adl_rank((a, loser, c))
    assert [x.key for x in ranked] == ["c", "a", "l"]
    fills = binance.adl_allocate(ranked, D("1.5"), D(61000))
    assert [(f.candidate.key, f.size, f.price) for f in fills] == [
        ("c", D(1), D(61000)),
        ("a", D("0.5"), D(61000)),
    ]


def test_policy_carries_its_provenance(binance: mc.Policy) -> None:
    """Every policy names its venue, the date of its parameters and its public sources."""
    assert binance.venue == "Binance"
    assert binance.parameters_date == "2024-10-24"
    assert binance.sources and all(s.url.startswith("https://") for s in binance.sources)
    assert binance.spec.deficit.waterfall == ("insurance-fund", "adl")
    assert binance.spec.adl.price == "bankruptcy" and binance.spec.adl.fee == "none"
