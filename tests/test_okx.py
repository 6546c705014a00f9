"""okx-swap and okex-clawback against OKX's documented formulas and worked examples.

Every expected value is OKX's own figure (the example IDs of the venue reference, OKX-1 ...
OKX-5) or is computed here, by hand in the docstring, from the rule OKX documents. OKX
documents no rounding of prices or margins, so every figure is compared exactly.

Sources:
  [2020]  OKEx USDT futures guide and Futures Trading User Agreement, 2020, copied in
          https://github.com/bradkyle/Qenv/blob/bf999d43d5dc3794ead63314f292a40df1120cfe/logic/okex.md
  [TIERS] "OKX to adjust position tiers", 2022-06-09,
          https://www.okxwebsite.com/en/latest-announcements/item/511.html
  [ETH21] "OKEx position tiers to be adjusted", ETHUSDT perpetual swap, effective 9:00 UTC
          Jun. 11 (2021: the page names OKEx, renamed OKX in January 2022),
          https://support.okexcn.com/hc/en-us/articles/4402607424781-OKEx-position-tiers-to-be-adjusted
  [SOL22] "OKX adjustment of SOL, GMT, SRM Position Tiers and Discount Rate", 2022-11-08, a copy
          of OKX's announcement: https://news.wikibit.com/th/notice/bdetail/202211086194920001.html
  [PROC]  "V. Forced Partial or Full Liquidation" (undated, OKEx swap era),
          https://supdljgzdhc.okx.com/hc/en-us/articles/360020411711-V-Forced-Partial-or-Full-Liquidation
  [ADL]   "Introduction to Auto-deleveraging (ADL)", April 2024 (mirror of August 2025),
          https://www.okx.com/help/iv-introduction-to-auto-deleveraging-adl
  [DROP]  OKX help mirror (undated): "a straight-line decrease of 30% from the peak value of the
          risk reserve within 8 hours"; https://ukcamo.com/4352.html (undated, secondary):
          threshold = reference − max(30 %, 50K)
  [CLAW]  the [2020] agreement §4.4 ("Societal Clawback Procedure"); allocation
          ratio = (overloss − risk reserve) / Σ net profits, https://amorrr.com/14966.html
          (undated, secondary)
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, localcontext
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import margincall as mc
from margincall import ledger as lg
from margincall.outcome import Liquidation
from margincall.waterfall import AdlCandidate, Reduce, Takeover
from margincall_plugins import okx, policy_folder

D = Decimal
DATA = Path(__file__).parent / "data"
FEE = D("0.00075")  # the clearance-fee rate of OKX-1, okx-swap's [fees] liquidation


def exact(expression: str) -> Decimal:
    """Evaluate a quotient at margincall's precision (50 digits) for exact comparison."""
    with localcontext() as ctx:
        ctx.prec = 50
        numerator, denominator = expression.split("/")
        return D(numerator) / D(denominator)


@pytest.fixture(scope="module")
def swap() -> mc.Policy:
    return mc.load_policy("okx-swap")


@pytest.fixture(scope="module")
def clawback() -> mc.Policy:
    return mc.load_policy("okex-clawback")


@pytest.fixture(scope="module")
def futures_2020() -> mc.Policy:
    return mc.load_policy(DATA / "okex-usdt-futures-2020.toml")


def isolated(size: object, entry: object, margin: object, side: str = "long") -> mc.Account:
    return mc.Account(
        0, [mc.Position("BTC-USDT-SWAP", side, size, entry, "isolated", margin=margin)]
    )  # type: ignore[arg-type]


# --- OKX-1 and OKX-3: margin ratio, trigger, initial margin --------------------------------


def test_okx3_initial_margin(futures_2020: mc.Policy) -> None:
    """OKX-3 [2020]: "a 10x long position of futures contract that is worth 1 BTC, the number
    of contracts opened is 1 BTC/0.0001BTC=10,000. Initial Margin = Face Value x Number of
    Contracts x Average Position Price / Leverage = 0.0001 x 10000 x 10,000 / 10 = 1000"."""
    position = mc.Position("BTC-USDT-SWAP", "long", 10000, 10000, "isolated", leverage=10)
    account = mc.Account(0, [position])
    assert (
        futures_2020.initial_margin(account, "BTC-USDT-SWAP", marks={"BTC-USDT-SWAP": 10000})
        == 1000
    )
    assert futures_2020.isolated_margin(position) == 1000


def test_okx1_margin_ratio_breach(futures_2020: mc.Policy) -> None:
    """OKX-1 [2020]: fixed margin 1,000, long 10,000 contracts of 0.0001 BTC at 10,000, "MMR
    1.5 % (tier 3), Liquidation Fee Rate 0.075 %"; at mark 9,010 "the UPL = ... = -990", margin
    ratio = (1,000 − 990) / 9,010 = 0.111 % < 1.575 %: "liquidation will be triggered".
    Tier 3 holds (5,500, 10,500] contracts, so the requirement is 9,010 × 1.575 % = 141.9075."""
    account = isolated(10000, 10000, 1000)
    marks = {"BTC-USDT-SWAP": D(9010)}
    health = futures_2020.health(account, "BTC-USDT-SWAP", marks=marks)
    value = D("0.0001") * 10000 * 9010
    assert health.margin_balance == 1000 - 990
    assert exact(f"{health.margin_balance}/{value}") == exact("10/9010")  # 0.111 %
    assert health.maintenance_margin == value * D("0.01575") == D("141.9075")
    assert futures_2020.is_liquidatable(account, "BTC-USDT-SWAP", marks=marks)
    (row,) = futures_2020.risk(account, marks=marks)
    assert row.maintenance_margin_rate == D("0.015") + FEE


def test_okx1_liquidation_and_bankruptcy_price(futures_2020: mc.Policy) -> None:
    """[2020] the liquidation price is the mark that "makes Margin Ratio equal to the required
    Maintenance Margin Ratio + Liquidation Fee Rate": 1,000 + (P − 10,000) = P × 1.575 %, so
    LP = (E − M/q) / (1 − m) = 9,000 / 0.98425 ≈ 9,144.02 (venues.md §3.3), above OKX-1's mark
    9,010 as "triggered" requires. The bankruptcy price, where "all margins are lost", is
    E − M/q = 9,000."""
    account = isolated(10000, 10000, 1000)
    lp = futures_2020.liquidation_price(account, "BTC-USDT-SWAP")
    assert lp == exact("9000/0.98425")
    assert lp is not None and lp.quantize(D("0.01")) == D("9144.02")
    assert futures_2020.bankruptcy_price(account, "BTC-USDT-SWAP") == 9000


# --- tiers: contract counts, step model ------------------------------------------------------


def test_shipped_btc_tiers_follow_the_2020_rule(swap: mc.Policy) -> None:
    """[2020] BTC-USDT: tier 1 up to 500 contracts at MMR 0.5 % and minimum IMR 1 % (100x),
    5,000 contracts more per tier; [TIERS] +0.5 % MMR per tier. So tier 3 is (5,500, 10,500]
    at 1.5 %; its 33x is margincall's derived IMR = 2 × MMR (1 / 3 % = 33.3)."""
    tiers = swap.markets["BTC-USDT-SWAP"].tiers
    assert (tiers[0].max_notional, tiers[0].maintenance_margin_rate) == (500, D("0.005"))
    assert tiers[0].max_leverage == 100
    third = tiers[2]
    assert (third.min_notional, third.max_notional) == (5500, 10500)
    assert (third.maintenance_margin_rate, third.max_leverage) == (D("0.015"), 33)
    assert all(t.maintenance_amount == 0 for t in tiers)  # step tiers: no deduction


def _leverage(imr: Decimal) -> Decimal:
    """OKX's printed maximum leverage of a tier: 1 / minimum IMR cut to two decimals (66.66 for
    1.5 %, 18.18 for 5.5 % in [ETH21] and [SOL22])."""
    return (1 / imr).quantize(D("0.01"), rounding=ROUND_DOWN)


Row = tuple[Decimal, Decimal, Decimal]  # a tier's (cap in contracts, MMR, maximum leverage)


def _published(first: list[tuple[int, str, str, str]], step: int, count: int) -> list[Row]:
    """A table as OKX publishes it: the listed tiers (cap, MMR, minimum IMR, leverage), then
    "Increase by STEP conts from the previous tier", MMR and IMR +0.5 % each, up to COUNT."""
    rows = [(D(cap), D(mmr), D(lev)) for cap, mmr, _, lev in first]
    cap, mmr, imr = D(first[-1][0]), D(first[-1][1]), D(first[-1][2])
    while len(rows) < count:
        cap, mmr, imr = cap + step, mmr + D("0.005"), imr + D("0.005")
        rows.append((cap, mmr, _leverage(imr)))
    return rows


def _table(swap: mc.Policy, symbol: str) -> list[Row]:
    tiers = swap.markets[symbol].tiers
    assert [t.min_notional for t in tiers] == [0] + [t.max_notional for t in tiers[:-1]]
    assert all(t.maintenance_amount == 0 for t in tiers)  # step tiers: no deduction
    return [(t.max_notional, t.maintenance_margin_rate, t.max_leverage) for t in tiers]


def test_eth_tiers_are_okexs_2021_table(swap: mc.Policy) -> None:
    """[ETH21] ETHUSDT perpetual: tier 1 0–3,000 contracts, MMR 0.40 %, min IMR 0.80 %, 125x;
    tier 2 3,001–6,000, 0.50 %, 1.00 %, 100x; tier 3 6,001–12,000, 1.00 %, 1.50 %, 66.66x;
    then +12,000 contracts and +0.5 % per tier: tier 4 (12,000, 24,000] at 1.5 % (IMR 2 %,
    50x), ..., tier 10 (84,000, 96,000] at 4.5 % (IMR 5 %, 20x)."""
    listed = [(3000, "0.004", "0.008", "125"), (6000, "0.005", "0.01", "100")]
    listed.append((12000, "0.01", "0.015", "66.66"))
    assert _table(swap, "ETH-USDT-SWAP") == _published(listed, 12000, 10)


def test_sol_tiers_are_okxs_2022_table(swap: mc.Policy) -> None:
    """[SOL22] SOLUSDT perpetual after 8 Nov 2022: caps 500 / 1,000 / 4,000 / 8,000 contracts,
    MMR 1 / 1.5 / 2 / 2.5 %, min IMR 1.3 / 2 / 5 / 5.5 %, 75 / 50 / 20 / 18.18x; then +4,000
    contracts and +0.5 % per tier: tier 5 (8,000, 12,000] at 3 % (IMR 6 %, 16.66x), ...,
    tier 10 (28,000, 32,000] at 5.5 % (IMR 8.5 %, 11.76x)."""
    listed = [(500, "0.01", "0.013", "75"), (1000, "0.015", "0.02", "50")]
    listed += [(4000, "0.02", "0.05", "20"), (8000, "0.025", "0.055", "18.18")]
    assert _table(swap, "SOL-USDT-SWAP") == _published(listed, 4000, 10)


@pytest.mark.parametrize(
    ("symbol", "contracts", "price", "mm"),
    [
        ("ETH-USDT-SWAP", D(3000), 2000, D(2850)),  # 600,000 × (0.4 % + 0.075 %)
        ("ETH-USDT-SWAP", D("3000.1"), 2000, D("3450.115")),  # 600,020 × 0.575 %
        ("ETH-USDT-SWAP", D(12000), 2000, D(25800)),  # 2,400,000 × 1.075 %
        ("ETH-USDT-SWAP", D(12001), 2000, D("37803.15")),  # 2,400,200 × 1.575 %
        ("SOL-USDT-SWAP", D(500), 150, D("806.25")),  # 75,000 × (1 % + 0.075 %)
        ("SOL-USDT-SWAP", D(501), 150, D("1183.6125")),  # 75,150 × 1.575 %
        ("SOL-USDT-SWAP", D(4001), 150, D("15453.8625")),  # 600,150 × 2.575 %
        ("SOL-USDT-SWAP", D(8001), 150, D("36904.6125")),  # 1,200,150 × 3.075 %
    ],
)
def test_eth_and_sol_requirements_jump_at_the_published_edges(
    swap: mc.Policy, symbol: str, contracts: Decimal, price: int, mm: Decimal
) -> None:
    """[ETH21], [SOL22] with [2020]'s trigger rate MMR + 0.075 %: the whole position takes the
    rate of the tier its contract count is in (0.1 ETH or 1 SOL a contract); value =
    contracts × face value × price."""
    account = mc.Account(10**9, [mc.Position(symbol, "long", contracts, price)])
    assert swap.maintenance_margin(account, symbol, marks={symbol: D(price)}) == mm


def test_eth_initial_margin_at_the_tier_leverage(swap: mc.Policy) -> None:
    """[2020] IM = face value × contracts × price / leverage, with [ETH21]'s tier leverage when
    the position names none: 100 contracts (10 ETH) at 2,000 in tier 1 (125x): 20,000 / 125 =
    160; 6,001 contracts (600.1 ETH, tier 3, 66.66x): 1,200,200 / 66.66."""
    for contracts, im in ((100, D(160)), (6001, exact("1200200/66.66"))):
        account = mc.Account(10**9, [mc.Position("ETH-USDT-SWAP", "long", contracts, 2000)])
        marks = {"ETH-USDT-SWAP": D(2000)}
        assert swap.initial_margin(account, "ETH-USDT-SWAP", marks=marks) == im


def test_eth_partial_liquidation_down_to_its_tier_1_cap(swap: mc.Policy) -> None:
    """[PROC] with [ETH21]: isolated long 13,000 contracts (1,300 ETH, tier 4: 1.5 % + 0.075 %)
    at 2,000 with 100,000; mark 1,950: value 2,535,000, margin balance 100,000 − 1,300 × 50 =
    35,000, below tier 4's 2,535,000 × 1.575 % = 39,926.25 but above tier 1's 2,535,000 ×
    0.475 % = 12,041.25: reduced "until it is at Tier 1", 13,000 − 3,000 = 10,000."""
    position = mc.Position("ETH-USDT-SWAP", "long", 13000, 2000, "isolated", margin=100000)
    (pool,) = swap.pools(mc.Account(0, [position]), marks={"ETH-USDT-SWAP": D(1950)})
    assert (pool.margin_balance, pool.maintenance_margin) == (35000, D("39926.25"))
    action = swap.liquidation_action(pool, 0)
    assert action == Reduce("ETH-USDT-SWAP", "long", D(10000), "market", None)


def test_aliases_name_the_swaps(swap: mc.Policy) -> None:
    """The bundled scenarios' BTCUSDT, ETHUSDT and SOLUSDT are the three swaps: contracts of
    0.01 BTC ([2020] specification table; OKX's ctVal), 0.1 ETH and 1 SOL. A scenario's sizes
    are base units, which the engine plays as contracts (docs/policy-schema.md, aliases)."""
    for alias, swap_symbol, size in (
        ("BTCUSDT", "BTC-USDT-SWAP", "0.01"),
        ("ETHUSDT", "ETH-USDT-SWAP", "0.1"),
        ("SOLUSDT", "SOL-USDT-SWAP", "1"),
    ):
        assert swap.market(alias).contract_size == D(size)
        assert swap.market(alias).tiers == swap.market(swap_symbol).tiers


def _mm(policy: mc.Policy, size: int, price: int) -> Decimal:
    account = mc.Account(10**9, [mc.Position("1INCH-USDT-SWAP", "long", size, price)])
    return policy.maintenance_margin(account, "1INCH-USDT-SWAP", marks={"1INCH-USDT-SWAP": price})


def test_step_tiers_by_contract_count_1inch_2022() -> None:
    """[TIERS] 1INCH-USDT perpetual, 2022: 0–1,000 contracts MMR 1 %, 1,001–2,500 1.5 %,
    2,501–65,000 2 %, then +0.5 %. The whole position takes its tier's rate (plus the 0.075 %
    clearance fee), so the requirement jumps at an edge: at price 1 (one contract = 1),
    1,000 → 1,000 × 1.075 % = 10.75; 1,001 → 1,001 × 1.575 % = 15.76575; 2,501 →
    2,501 × 2.075 % = 51.89575; 65,001 → 65,001 × 2.575 % = 1,673.77575. The tier counts
    contracts, not value: 1,000 contracts at price 100 (value 100,000) stay in tier 1."""
    policy = mc.load_policy(DATA / "okx-1inch-2022.toml")
    assert _mm(policy, 1000, 1) == D("10.75")
    assert _mm(policy, 1001, 1) == D("15.76575")
    assert _mm(policy, 2501, 1) == D("51.89575")
    assert _mm(policy, 65001, 1) == D("1673.77575")
    assert _mm(policy, 1000, 100) == D("1075")


# --- liquidation prices in the §0.3 form with m = MMR + fee ----------------------------------


def test_cross_long_liquidation_price(swap: mc.Policy) -> None:
    """Cross, one position: wallet 2,000, long 100 contracts (1 BTC) at 60,000, tier 1
    (0.5 % + 0.075 %): 2,000 + (P − 60,000) = P × 0.575 %, LP = 58,000 / 0.99425;
    BP = 60,000 − 2,000 = 58,000."""
    account = mc.Account(2000, [mc.Position("BTC-USDT-SWAP", "long", 100, 60000)])
    marks = {"BTC-USDT-SWAP": D(60000)}
    assert swap.liquidation_price(account, "BTC-USDT-SWAP", marks=marks) == exact("58000/0.99425")
    assert swap.bankruptcy_price(account, "BTC-USDT-SWAP", marks=marks) == 58000


def test_isolated_short_liquidation_price(swap: mc.Policy) -> None:
    """[SOL22] Isolated short 1,000 SOL contracts (1 SOL each) at 200 with 20,000 margin: tier 2
    ((500, 1,000] contracts, 1.5 % + 0.075 %): LP_short = (E + M/q) / (1 + m) = 220 / 1.01575;
    BP = E + M/q = 220."""
    account = mc.Account(0, [mc.Position("SOLUSDT", "short", 1000, 200, "isolated", margin=20000)])
    assert swap.liquidation_price(account, "SOLUSDT") == exact("220/1.01575")
    assert swap.bankruptcy_price(account, "SOLUSDT") == 220


def test_trigger_at_mmr_plus_fee(swap: mc.Policy) -> None:
    """[2020] liquidation when the margin ratio "drops below the MMR + Liquidation fee rate".
    Isolated long 1 BTC (100 contracts) at 60,000 with 1,000: 1,000 + (P − 60,000) =
    P × 0.575 % at P = 59,000 / 0.99425 (≈ 59,341.21): there the requirement equals the
    margin balance (to 50 digits), one tick (0.1) below the pool is liquidated, one above not."""
    account = isolated(100, 60000, 1000)
    lp = exact("59000/0.99425")
    assert swap.liquidation_price(account, "BTC-USDT-SWAP") == lp
    ratio = swap.margin_ratio(account, "BTC-USDT-SWAP", marks={"BTC-USDT-SWAP": lp})
    assert ratio is not None and abs(ratio - 1) < D("1e-40")
    assert swap.is_liquidatable(account, "BTC-USDT-SWAP", marks={"BTC-USDT-SWAP": lp - D("0.1")})
    assert not swap.is_liquidatable(
        account, "BTC-USDT-SWAP", marks={"BTC-USDT-SWAP": lp + D("0.1")}
    )


# --- procedure -------------------------------------------------------------------------------


def _pool(policy: mc.Policy, account: mc.Account, mark: int) -> mc.waterfall.Pool:
    (pool,) = policy.pools(account, marks={"BTC-USDT-SWAP": D(mark)})
    assert pool.margin_balance <= pool.maintenance_margin  # in liquidation
    return pool


def test_okx2_partial_liquidation_down_to_tier_1() -> None:
    """OKX-2 [PROC]: 15,000 swaps, tier >= 3 in breach, tier-1 cap 2,000: close 13,000.
    Long 15,000 contracts (150 BTC) at 60,000 with 300,000; mark 59,000: value 8,850,000,
    margin balance 300,000 − 150,000 = 150,000, below tier 4's 8,850,000 × 2.075 % =
    183,637.5 but above tier 1's 8,850,000 × 0.575 % = 50,887.5 ([2020]: "higher than the
    MMR of the first tier plus the liquidation fee rate"): a partial reduction to 2,000."""
    policy = mc.load_policy(DATA / "okx-2-tiers.toml")
    pool = _pool(policy, isolated(15000, 60000, 300000), 59000)
    assert pool.maintenance_margin == D("183637.5")
    assert policy.liquidation_action(pool, 0) == Reduce(
        "BTC-USDT-SWAP", "long", D(13000), "market", None
    )


def test_below_tier_1_requirement_is_taken_over_whole() -> None:
    """[PROC] "Full liquidation applies to ... a tier-3+ position below the tier-1 MMR": the
    same position at 58,100 has 300,000 − 285,000 = 15,000 left, below tier 1's
    8,715,000 × 0.575 % = 50,111.25. It is closed at its bankruptcy price
    60,000 − 300,000 / 150 = 58,000 and taken over."""
    policy = mc.load_policy(DATA / "okx-2-tiers.toml")
    pool = _pool(policy, isolated(15000, 60000, 300000), 58100)
    assert policy.liquidation_action(pool, 0) == Takeover(
        "BTC-USDT-SWAP", "long", D(15000), D(58000)
    )


def test_tier_2_position_is_taken_over_whole(swap: mc.Policy) -> None:
    """[PROC] "Partial liquidation applies to positions in tier 3 or higher"; a tier-2
    position in breach is fully liquidated. Long 1,000 contracts (10 BTC, tier 2) at 60,000
    with 30,000; mark 57,100 leaves 1,000 < 571,000 × 1.075 %: taken over whole at
    60,000 − 30,000 / 10 = 57,000."""
    pool = _pool(swap, isolated(1000, 60000, 30000), 57100)
    assert swap.liquidation_action(pool, 0) == Takeover("BTC-USDT-SWAP", "long", D(1000), D(57000))


def test_reduction_is_tried_once_then_takeover() -> None:
    """[PROC] after the reduction, a position still in breach "will start over again"; within
    one step margincall takes it over (attempt 1) rather than reduce again."""
    policy = mc.load_policy(DATA / "okx-2-tiers.toml")
    pool = _pool(policy, isolated(15000, 60000, 300000), 59000)
    assert policy.liquidation_action(pool, 1) == Takeover(
        "BTC-USDT-SWAP", "long", D(15000), D(58000)
    )


def test_clearance_fee_on_the_amount_liquidated(swap: mc.Policy) -> None:
    """[2020] liquidation fee rate 0.075 %, on what is liquidated: 13,000 contracts of 0.01 BTC
    at 59,000 = 7,670,000; fee 5,752.5."""
    assert swap.liquidation_fee("BTC-USDT-SWAP", D(13000), D(59000)) == D("5752.5")


# --- ADL ----------------------------------------------------------------------------------


def _candidate(key: str, side: str, mark: str, wallet: str, upnl: str) -> AdlCandidate:
    return AdlCandidate(
        key=key,
        symbol="BTC-USDT-SWAP",
        side=side,  # type: ignore[arg-type]
        size=D(100),
        entry_price=D(60000),
        mark_price=D(mark),
        notional=D(mark),  # 100 contracts of 0.01 BTC
        unrealized_pnl=D(upnl),
        wallet_balance=D(wallet),
        account_unrealized_pnl=D(upnl),
        maintenance_margin=D(0),
        bankruptcy_price=None,
    )


def test_adl_rank_is_pnl_percent_times_effective_leverage(swap: mc.Policy) -> None:
    """[ADL] "leverage PnL% = position's PnL% * effective leverage", for every position.
    Short 1 BTC at 60,000, mark 54,000, wallet 10,000: PnL% 10 %, leverage 54,000 / 16,000
    = 3.375: 0.3375. Wallet 40,000: 54,000 / 46,000: 0.1 × 54,000 / 46,000. Long at 60,000,
    mark 54,000, wallet 10,000: PnL% −10 %, leverage 54,000 / 4,000 = 13.5: −1.35 (the
    default would divide: −0.1 / 13.5)."""
    hot = _candidate("hot", "short", "54000", "10000", "6000")
    cool = _candidate("cool", "short", "54000", "40000", "6000")
    loser = _candidate("loser", "long", "54000", "10000", "-6000")
    assert swap.adl_score(hot) == D("0.3375")
    assert swap.adl_score(cool) == exact("5400/46000")
    assert swap.adl_score(loser) == D("-1.35")
    assert [c.key for c in swap.adl_rank((loser, cool, hot))] == ["hot", "cool", "loser"]


def test_okx4_fund_drop_threshold(swap: mc.Policy) -> None:
    """OKX-4 [DROP]: reserve 200K, 8-hour reference 400K: threshold = 400K − max(30 % × 400K,
    50K) = 280,000; 200K < 280K, so ADL is triggered. At 280K exactly it is not ("drops
    significantly lower than" the threshold). The 50K floor rules below 166,666.67:
    reference 100K gives 100K − 50K = 50K."""
    spec = swap.spec
    assert okx.fund_drop_threshold(spec, D(400000)) == 280000
    assert okx.fund_drop_triggers_adl(spec, D(200000), D(400000))
    assert not okx.fund_drop_triggers_adl(spec, D(280000), D(400000))
    assert okx.fund_drop_threshold(spec, D(100000)) == 50000


def test_fund_peak_within_eight_hours(swap: mc.Policy) -> None:
    """[DROP] the reference is "the peak value of the risk reserve within 8 hours": of
    balances 1 h, 7 h and 9 h ago (300K, 400K, 900K), the peak within 8 hours is 400K; with
    none inside the window the rule has no reference."""
    history = [(D(1), D(300000)), (D(7), D(400000)), (D(9), D(900000))]
    assert okx.fund_peak(swap.spec, history) == 400000
    with pytest.raises(mc.InvalidInputError, match="within the last 8 hours"):
        okx.fund_peak(swap.spec, [(D(9), D(900000))])


def test_policies_carry_their_provenance(swap: mc.Policy, clawback: mc.Policy) -> None:
    """[ADL] fund first, then ADL at the mark, no fee, no socialisation after ADL; [CLAW] OKEx:
    fund first, then the clawback."""
    assert swap.venue == "OKX" and swap.parameters_date == "2020"
    assert swap.sources and all(s.url.startswith("https://") for s in swap.sources)
    assert swap.spec.deficit.waterfall == ("insurance-fund", "adl")
    assert (swap.spec.adl.price, swap.spec.adl.fee) == ("mark", "none")
    assert clawback.spec.deficit.waterfall == ("insurance-fund", "clawback")
    assert clawback.plugins[-1] == "okx"


# --- engine scenarios (okex-clawback: the engine plays ADL only at the bankruptcy price) ----


def _okx5_scenario(fund: int) -> mc.Scenario:
    trader = mc.Position("BTC-USDT-SWAP", "long", 100, 60000, "isolated", leverage=10)
    return mc.Scenario(
        {
            "a": mc.Account(10000, [mc.Position("BTC-USDT-SWAP", "short", 100, 61000)]),
            "b": mc.Account(5000, [mc.Position("BTC-USDT-SWAP", "short", 50, 61000)]),
            "trader": mc.Account(0, [trader]),
        },
        [{"BTC-USDT-SWAP": 60000}, {"BTC-USDT-SWAP": 51000}],
        mc.MarkFill(slippage="0.002"),
        insurance_fund=fund,
    )


def test_okx5_clawback_rate_is_deficit_beyond_the_fund_over_net_profits(
    clawback: mc.Policy,
) -> None:
    """OKX-5 [CLAW]: rate = (deficit − IF) / Σ net profits. The trader's 10x long of 100
    contracts (1 BTC) at 60,000 has 6,000 of margin; at 51,000 it is bankrupt, and a tier-1
    position is taken over whole at 54,000. The liquidation engine sells at
    51,000 × 0.998 = 50,898, 31.02 per contract below 54,000: a deficit of 3,102. The fund
    (1,002) pays for 32.30 contracts in whole lots (1,001.946); it holds nothing
    (max_net_notional_ratio = 0), so the other 67.70 are sold anyway (2,100.054) and the fund
    ends at −2,100 = 3,102 − 1,002. Net profits in the period: a, short 1 BTC from 60,000:
    9,000 (11,000 → 20,000); b, short 0.5 BTC: 4,500. Rate 2,100 / 13,500; a pays
    9,000 × rate = 1,400, b 700. Both are first settled at 51,000 (a: 10,000 + 10,000 − 1,400,
    b: 5,000 + 5,000 − 700)."""
    outcome = clawback.simulate(_okx5_scenario(1002))
    assert outcome.liquidations == (
        Liquidation(1, "trader", "BTC-USDT-SWAP", "long", D(100), D(54000), "takeover"),
    )
    assert outcome.clawback_paid("a") == 1400 and outcome.clawback_paid("b") == 700
    rate = exact("2100/13500")
    with localcontext() as ctx:
        ctx.prec = 50
        assert outcome.clawback_paid("a") / 9000 == outcome.clawback_paid("b") / 4500 == rate
    assert outcome.balance("a") == 18600 and outcome.balance("b") == 9300
    assert outcome.balance("trader") == 0 and outcome.debt("trader") == 0
    assert outcome.insurance_fund == 0 and outcome.fund_holdings == {}
    assert outcome.venue_loss == 0
    assert outcome.ledger.total() == 0


def test_okx5_a_larger_fund_lowers_the_clawback_rate(clawback: mc.Policy) -> None:
    """OKX-5: OKEx's 2,500 BTC injection lowered the 2018 rate (17 % instead of ~40 %). Same
    scenario with 1,050 more in the fund (2,052): it pays for 66.15 contracts (2,051.973), the
    rest costs 1,050.027, so 3,102 − 2,052 = 1,050 is clawed back: rate 1,050 / 13,500,
    a 700, b 350."""
    outcome = clawback.simulate(_okx5_scenario(2052))
    assert outcome.clawback_paid("a") == 700 and outcome.clawback_paid("b") == 350
    assert outcome.insurance_fund == 0
    assert outcome.ledger.total() == 0


def test_engine_reduces_to_tier_1_and_the_fee_feeds_the_fund(clawback: mc.Policy) -> None:
    """[PROC] and [2020] in the engine. Isolated long 6,000 contracts (60 BTC, tier 3:
    1.5 % + 0.075 %) at 60,000, 20x: margin 180,000. At 57,800: margin balance
    180,000 − 132,000 = 48,000 <= 3,468,000 × 1.575 % = 54,621, but above tier 1's
    3,468,000 × 0.575 % = 19,941: 5,500 contracts are sold, at 57,800 × 0.999 = 57,742.2.
    Realised 55 × (57,742.2 − 60,000) = −124,179; clearance fee 55 × 57,742.2 × 0.075 % =
    2,381.86575, to the fund (1,000 → 3,381.86575). Margin left 53,439.13425; the 500
    contracts (tier 1) need 289,000 × 0.575 % = 1,661.75 against 53,439.13425 − 11,000: done."""
    trader = mc.Position("BTC-USDT-SWAP", "long", 6000, 60000, "isolated", leverage=20)
    outcome = clawback.simulate(
        mc.Scenario(
            {"trader": mc.Account(0, [trader])},
            [{"BTC-USDT-SWAP": 60000}, {"BTC-USDT-SWAP": 57800}],
            mc.MarkFill(slippage="0.001"),
            insurance_fund=1000,
        )
    )
    assert outcome.liquidations == (
        Liquidation(1, "trader", "BTC-USDT-SWAP", "long", D(5500), D("57742.2"), "order"),
    )
    assert outcome.open_positions["trader"] == (("BTC-USDT-SWAP", "long", D(500)),)
    assert outcome.insurance_fund == D("3381.86575")
    margin = outcome.ledger.balance(lg.isolated_margin("trader", "BTC-USDT-SWAP", "long"))
    assert margin == D("53439.13425")
    assert outcome.ledger.total() == 0


# --- properties ----------------------------------------------------------------------------

contracts = st.integers(min_value=1, max_value=60000)


def _rate(size: int) -> Decimal:
    """Tier rate by the 2020 rule, computed independently: 0.5 % up to 500 contracts, then
    +0.5 % per 5,000 contracts, capped at the table's tenth tier; plus the clearance fee."""
    tier = 0 if size <= 500 else min(9, (size - 501) // 5000 + 1)
    return D("0.005") * (tier + 1) + FEE


@given(st.integers(min_value=5501, max_value=60000), st.integers(min_value=1, max_value=999))
def test_partial_liquidation_leaves_exactly_the_tier_1_cap(size: int, permille: int) -> None:
    """Any tier-3+ position whose balance lies between the tier-1 and its own requirement is
    reduced to 500 contracts, the tier-1 cap."""
    swap = mc.load_policy("okx-swap")
    mark = D(50000)
    value = D(size) * D("0.01") * mark
    low, high = value * _rate(1), value * _rate(size)
    balance = low + (high - low) * permille / 1000
    # margin chosen so that the margin balance at the mark is `balance`, entry 60,000
    margin = balance + D(size) * D("0.01") * (60000 - mark)
    pool = _pool(swap, isolated(size, 60000, margin), 50000)
    action = swap.liquidation_action(pool, 0)
    assert action == Reduce("BTC-USDT-SWAP", "long", D(size - 500), "market", None)


# --- bad parameters --------------------------------------------------------------------------


def _load_variant(tmp_path: Path, text: str) -> mc.Policy:
    path = tmp_path / "variant.toml"
    path.write_text(text)
    return mc.load_policy(path)


def _shipped_text() -> str:
    return (policy_folder() / "okx-swap.toml").read_text()


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (
            '[parameters]\ntier_unit = "notional"\n',
            "parameters.tier_unit: the okx plugin reads position tiers bounded in contracts; "
            "must be 'contracts', got 'notional'",
        ),
        (
            '[markets.SOL-USDT-SWAP.parameters]\ntier_unit = "usd"\n',
            "markets.SOL-USDT-SWAP.parameters.tier_unit: the okx plugin reads position tiers "
            "bounded in contracts; must be 'contracts', got 'usd'",
        ),
        (
            "[parameters]\nadl_fund_drop_rate = 1.5\n",
            "parameters.adl_fund_drop_rate: must be a fraction above 0 and below 1, got 1.5",
        ),
        (
            '[parameters]\nadl_fund_drop_rate = "thirty"\n',
            "parameters.adl_fund_drop_rate: must be a fraction above 0 and below 1, got 'thirty'",
        ),
        (
            "[parameters]\nadl_fund_drop_window_hours = 0\n",
            "parameters.adl_fund_drop_window_hours: must be a number of hours above 0, got 0",
        ),
        (
            "[parameters]\nadl_fund_drop_minimum = -1\n",
            "parameters.adl_fund_drop_minimum: must be an amount >= 0, got -1",
        ),
    ],
)
def test_bad_parameters_are_named(tmp_path: Path, table: str, problem: str) -> None:
    text = f'name = "variant"\nextends = "okx-swap"\n{table}'
    with pytest.raises(mc.PolicyError) as error:
        _load_variant(tmp_path, text)
    assert error.value.problems == [f"{tmp_path / 'variant.toml'}: {problem}"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            'tier_unit = "contracts"',
            "parameters.tier_unit: required by the okx plugin (market BTC-USDT-SWAP): OKX's "
            'position tiers count contracts; set tier_unit = "contracts"',
        ),
        (
            "adl_fund_drop_rate = 0.3",
            "parameters.adl_fund_drop_rate: required by the okx plugin "
            "(a fraction above 0 and below 1)",
        ),
    ],
)
def test_missing_parameters_are_named(tmp_path: Path, line: str, problem: str) -> None:
    text = _shipped_text()
    assert line in text
    with pytest.raises(mc.PolicyError) as error:
        _load_variant(tmp_path, text.replace(line, ""))
    assert f"{tmp_path / 'variant.toml'}: {problem}" in error.value.problems


# --- the fund-drop trigger played by the engine (margincall_adl_trigger) -------------------


def test_okx4_through_the_adl_trigger_hook(swap: mc.Policy) -> None:
    """OKX-4 [DROP] on a fund history of (day, balance) points: 400,000 at day 0, 200,000 six
    hours later (day 0.25): the peak within 8 hours is 400,000, the threshold 400,000 −
    max(30 % × 400,000, 50,000) = 280,000, and 200,000 < 280,000 triggers ADL, under the
    swap's own name and under its alias. At 280,000 it does not (strictly below). Twelve hours
    later (day 0.5) the 400,000 is outside the window: the reference is 200,000, the threshold
    200,000 − max(60,000, 50,000) = 140,000, not triggered."""
    six_hours = [(D(0), D(400000)), (D("0.25"), D(200000))]
    assert swap.adl_trigger("BTC-USDT-SWAP", six_hours)
    assert swap.adl_trigger("BTCUSDT", six_hours)
    assert not swap.adl_trigger("BTCUSDT", [(D(0), D(400000)), (D("0.25"), D(280000))])
    assert not swap.adl_trigger("BTCUSDT", [(D(0), D(400000)), (D("0.5"), D(200000))])


def test_the_50k_floor_keeps_a_small_fund_from_triggering(swap: mc.Policy) -> None:
    """[DROP] the drop must be max(30 %, 50,000): a fund of 100,000 that falls to 60,000
    (−40 %) within the hour stays above 100,000 − 50,000 = 50,000: not triggered; at 49,999
    it is."""
    assert not swap.adl_trigger("BTCUSDT", [(D(0), D(100000)), (D("0.04"), D(60000))])
    assert swap.adl_trigger("BTCUSDT", [(D(0), D(100000)), (D("0.04"), D(49999))])


def test_okex_clawback_never_deleverages_ahead_of_its_fund(clawback: mc.Policy) -> None:
    """okex-clawback inherits the trigger's parameters, but its waterfall (fund, then
    clawback) has no ADL stage, so the engine never asks: a takeover is the fund's first.
    The _fund_drop scenario of test_engine.py: big's takeover costs the fund 200,000; six hours
    later small is taken over at 40,500 and the fund sells at 40,000 for −500: nobody is
    deleveraged."""
    trader = mc.Position("BTCUSDT", "long", 50, 60000, "isolated", leverage=10)
    small = mc.Position("BTCUSDT", "long", 1, 45000, "isolated", leverage=10)
    scenario = mc.Scenario(
        {
            "big": mc.Account(0, [trader]),
            "small": mc.Account(0, [small]),
            "w": mc.Account(10000, [mc.Position("BTCUSDT", "short", 2, 60000)]),
        },
        [
            mc.Step("open", {"BTCUSDT": D(60000)}),
            mc.Step("gap", {"BTCUSDT": D(50000)}),
            mc.Step("crash", {"BTCUSDT": D(40000)}, day=D("0.25")),
        ],
        mc.MarkFill(),
        insurance_fund=400000,
    )
    outcome = clawback.simulate(scenario)
    assert outcome.adl == () and outcome.notices == ()
    assert outcome.fund_path == (D(400000), D(200000), D(199500))
    assert outcome.ledger.total() == 0
