"""bitmex against BitMEX's documented rules and worked examples (venues.md §4, BMX-*).

Every expected value is BitMEX's own figure or is computed here, by hand in the docstring,
from the rule BitMEX documents; each test names its source.

Sources:
  [RL]   BitMEX "Risk Limits", c. 2020, copied in
         https://github.com/bradkyle/Qenv/blob/bf999d43d5dc3794ead63314f292a40df1120cfe/logic/bitmex.md
         (also the PnL guide of BMX-5)
  [EG]   https://www.bitmex.com/app/exchangeGuide (undated): "the amount of commission
         applicable to close out all your positions will also be added onto your maintenance
         margin requirement"
  [LIQ]  https://testnet.bitmex.com/app/liquidationExamples and /app/liquidation (undated)
  [ADL]  https://www.bitmex.com/app/autoDeleveraging (undated)
  [API]  GET /api/v1/instrument of 2026-05-21, in ccxt's ts/src/test/static/markets/bitmex.json
         at commit 869d65f0ca0d513db0fbc7c33d6361c2a94d0434: XBTUSD riskLimit 200 XBT,
         riskStep 150 XBT, maintMargin 0.5 %, initMargin 1 %; XBTUSDT riskLimit = riskStep =
         1,000,000 USDT; takerFee 0.05 %
  [SOL]  BitMEX blog "Change in Base Initial Margin and Maintenance Margin for SOLUSDT",
         2025-01-21, reposted at https://the-crypto-news.com/wallets-and-exchanges/
         change-in-base-initial-margin-and-maintenance-margin-for-solusdt: SOLUSDT Base
         Maintenance Margin 0.50 %, Base Initial Margin 1.00 %, under all risk limits
  [POS]  https://github.com/ccxt/ccxt/pull/18089 (2023-06-27): a testnet SOLUSDT position,
         currency USDt, 10,000 contracts = 1 SOL (contracts of 0.0001 SOL)
  [DER]  derived, docs/policies/bitmex.md: SOLUSDT's riskLimit = riskStep = 1,000,000 USDT,
         fees 0.05 %, lot 0.1 SOL, from the [API] rows of every other linear USDT perpetual
  [2020] tests/data/bitmex-2020.toml: the shipped policy with [RL]'s XBTUSD table (200 XBT
         base, 100 XBT step, 0.40 % / 1.00 %) and the 0.075 % taker fee of 2022-10-16
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from pathlib import Path

import pytest

import margincall as mc
from margincall import ledger as lg
from margincall.outcome import AdlRecord, Liquidation
from margincall.waterfall import AdlCandidate, Reduce, Takeover

D = Decimal
DATA = Path(__file__).parent / "data"


def exact(numerator: str, denominator: str) -> Decimal:
    """A quotient at margincall's precision (50 digits)."""
    with localcontext() as ctx:
        ctx.prec = 50
        return D(numerator) / D(denominator)


def close(value: Decimal | None, expected: Decimal) -> bool:
    """Equal to 45 significant digits: an inverse price is solved in 1/P and inverted, two
    divisions at 50 digits, so its last digits may differ from a one-division quotient."""
    assert value is not None
    return abs(value - expected) <= abs(expected) * D("1e-45")


@pytest.fixture(scope="module")
def bitmex() -> mc.Policy:
    return mc.load_policy("bitmex")


@pytest.fixture(scope="module")
def bitmex_2020() -> mc.Policy:
    return mc.load_policy(DATA / "bitmex-2020.toml")


def xbtusd(xbt_value: int, mark: int = 10000) -> tuple[mc.Account, dict[str, Decimal]]:
    """A cross long XBTUSD position worth ``xbt_value`` XBT at ``mark`` (1 USD contracts:
    contracts = value × mark)."""
    account = mc.Account(1000, [mc.Position("XBTUSD", "long", xbt_value * mark, mark)])
    return account, {"XBTUSD": D(mark)}


# --- risk limits: BMX-1, BMX-2 ----------------------------------------------------------------


def test_bmx1_one_step(bitmex_2020: mc.Policy) -> None:
    """BMX-1 [RL]: base 200 XBT, step 100 XBT, base MM 0.40 %, base IM 1.00 %; one step gives
    New MM = 0.40 % + 1 × 0.40 % = 0.80 % and New IM = 1.00 % + 1 × 0.40 % = 1.40 %; MM on a
    300 XBT position = 0.80 % × 300 = 2.4 XBT, IM = 1.40 % × 300 = 4.2 XBT. [EG] adds the
    close-out commission, 300 × 0.075 % = 0.225: the requirement is 2.4 + 0.225 = 2.625."""
    step = bitmex_2020.markets["XBTUSD"].tiers[1]
    assert step.maintenance_margin_rate == D("0.008")
    assert step.maintenance_margin(D(300)) == D("2.4")
    account, marks = xbtusd(300)
    assert bitmex_2020.initial_margin(account, "XBTUSD", marks=marks) == D("4.2")
    assert bitmex_2020.maintenance_margin(account, "XBTUSD", marks=marks) == D("2.625")


def test_bmx1_table_rows(bitmex_2020: mc.Policy) -> None:
    """BMX-1 [RL] table: < 200 XBT 0.40 % / 1.00 %, < 300 0.80 % / 1.40 %, < 400 1.20 % /
    1.80 %, < 500 1.60 % / 2.20 %. IM at 150, 250, 350, 450 XBT: 1.5, 3.5, 6.3, 9.9 XBT."""
    rates = [t.maintenance_margin_rate for t in bitmex_2020.markets["XBTUSD"].tiers]
    assert rates == [D("0.004"), D("0.008"), D("0.012"), D("0.016")]
    for value, im in ((150, "1.5"), (250, "3.5"), (350, "6.3"), (450, "9.9")):
        account, marks = xbtusd(value)
        assert bitmex_2020.initial_margin(account, "XBTUSD", marks=marks) == D(im)


def test_bmx2_an_order_that_crosses_a_step_raises_the_whole_position(
    bitmex_2020: mc.Policy,
) -> None:
    """BMX-2 [RL]: at 180 XBT the MM is 0.40 % = 0.72 XBT; an order taking the position to
    230 XBT is one step: 0.80 % and IM 1.40 % "on the whole position" (not a tax bracket):
    MM 230 × 0.80 % = 1.84, IM 230 × 1.40 % = 3.22. With the close-out commission [EG]:
    0.72 + 180 × 0.075 % = 0.855 and 1.84 + 230 × 0.075 % = 2.0125."""
    tiers = bitmex_2020.markets["XBTUSD"].tiers
    assert tiers[0].maintenance_margin(D(180)) == D("0.72")
    assert tiers[1].maintenance_margin(D(230)) == D("1.84")
    account, marks = xbtusd(180)
    assert bitmex_2020.maintenance_margin(account, "XBTUSD", marks=marks) == D("0.855")
    account, marks = xbtusd(230)
    assert bitmex_2020.maintenance_margin(account, "XBTUSD", marks=marks) == D("2.0125")
    assert bitmex_2020.initial_margin(account, "XBTUSD", marks=marks) == D("3.22")


def test_bmx5_inverse_pnl(bitmex: mc.Policy) -> None:
    """BMX-5 [RL PnL guide]: long 1,000 XBTUSD @ 1,000, mark 1,250: unrealised
    (1/1,000 − 1/1,250) × 1,000 = 0.20 XBT; selling 500 @ 1,500 realises
    (1/1,000 − 1/1,500) × 500 = 1/6 ≈ 0.17 XBT; at the 1,250 mark it would be 0.10."""
    account = mc.Account(1, [mc.Position("XBTUSD", "long", 1000, 1000)])
    (row,) = bitmex.risk(account, marks={"XBTUSD": D(1250)})
    assert row.unrealized_pnl == D("0.2")
    half = mc.Account(1, [mc.Position("XBTUSD", "long", 500, 1000)])
    (sold,) = bitmex.risk(half, marks={"XBTUSD": D(1500)})
    assert close(sold.unrealized_pnl, exact("1", "6"))
    assert round(sold.unrealized_pnl, 2) == D("0.17")
    (held,) = bitmex.risk(half, marks={"XBTUSD": D(1250)})
    assert held.unrealized_pnl == D("0.1")


def test_shipped_risk_limits_are_the_api_snapshot(bitmex: mc.Policy) -> None:
    """[API] XBTUSD: riskLimit 200 XBT, riskStep 150 XBT, maintMargin 0.5 %: steps
    (0, 200] 0.5 %, (200, 350] 1.0 %, (350, 500] 1.5 % ...; XBTUSDT (USDT): riskLimit =
    riskStep = 10^12 USDt / 10^6 = 1,000,000 USDT."""
    xbt = bitmex.markets["XBTUSD"].tiers
    assert [(t.max_notional, t.maintenance_margin_rate) for t in xbt[:3]] == [
        (D(200), D("0.005")),
        (D(350), D("0.010")),
        (D(500), D("0.015")),
    ]
    assert all(t.maintenance_amount == 0 for t in xbt)  # a step table
    usdt = bitmex.markets["XBTUSDT"].tiers
    assert (usdt[0].max_notional, usdt[1].max_notional) == (D(1_000_000), D(2_000_000))
    assert bitmex.market("BTCUSDT").tiers == usdt  # the scenarios' name for XBTUSDT


def test_close_out_commission_is_in_the_maintenance_margin(bitmex: mc.Policy) -> None:
    """[EG] + [API]: 1 XBT of XBTUSDT at 60,000 in the first step: 60,000 × (0.5 % + 0.05 %)
    = 330 USDT. No liquidation fee: 0."""
    account = mc.Account(10000, [mc.Position("BTCUSDT", "long", 1, 60000)])
    assert bitmex.maintenance_margin(account, "BTCUSDT", marks={"BTCUSDT": 60000}) == 330
    assert bitmex.liquidation_fee("XBTUSDT", 1, 60000) == 0
    assert bitmex.trading_fee("XBTUSDT", 1, 60000, maker=False) == 30


def test_initial_margin_steps_and_leverage(bitmex: mc.Policy) -> None:
    """[RL] New IM = Base IM + Steps × Base MM; [API] 1 % and 0.5 %. XBTUSDT 30 XBT at 50,000
    = 1,500,000 USDT, one step: 1,500,000 × 1.5 % = 22,500. With leverage 20 the trader's own
    choice: 1,500,000 / 20 = 75,000."""
    marks = {"XBTUSDT": 50000}
    free = mc.Account(0, [mc.Position("XBTUSDT", "long", 30, 50000)])
    assert bitmex.initial_margin(free, "XBTUSDT", marks=marks) == 22500
    chosen = mc.Account(0, [mc.Position("XBTUSDT", "long", 30, 50000, leverage=20)])
    assert bitmex.initial_margin(chosen, "XBTUSDT", marks=marks) == 75000


# --- liquidation and bankruptcy prices --------------------------------------------------------


def test_inverse_isolated_prices(bitmex: mc.Policy) -> None:
    """venues.md §0.3 inverse form with MM including the close commission (§4.3): isolated
    XBTUSD, 10,000 contracts @ 10,000 (1 XBT), margin 0.1 XBT (10x), first step
    mmr = 0.5 % + 0.05 % = 0.55 %:
    LP_long = n·C·(1 + mmr)/(M + n·C/E) = 10,055/1.1; BP_long = 10,000/1.1 = E·L/(L+1);
    LP_short = n·C·(1 − mmr)/(n·C/E − M) = 9,945/0.9 = 11,050; BP_short = 10,000/0.9."""
    long = mc.Account(0, [mc.Position("XBTUSD", "long", 10000, 10000, "isolated", margin="0.1")])
    assert close(bitmex.liquidation_price(long, "XBTUSD"), exact("10055", "1.1"))
    assert close(bitmex.bankruptcy_price(long, "XBTUSD"), exact("10000", "1.1"))
    short = mc.Account(0, [mc.Position("XBTUSD", "short", 10000, 10000, "isolated", margin="0.1")])
    assert close(bitmex.liquidation_price(short, "XBTUSD"), D(11050))
    assert close(bitmex.bankruptcy_price(short, "XBTUSD"), exact("10000", "0.9"))


def test_the_step_at_the_liquidation_price_sets_the_rate(bitmex: mc.Policy) -> None:
    """[RL] the whole position takes the rate of the step its value is in. Isolated long
    2,000,000 XBTUSD @ 10,000 (200 XBT, the first step's limit), margin 10 XBT. With the
    first step (0.55 %): LP = 2,000,000 × 1.0055/210 = 9,576.19, where the value
    2,000,000/9,576.19 = 208.9 XBT is in the second step. With it (1.0 % + 0.05 %):
    LP = 2,000,000 × 1.0105/210 = 9,623.81, value 207.8 XBT: in the second step."""
    account = mc.Account(
        0, [mc.Position("XBTUSD", "long", 2_000_000, 10000, "isolated", margin=10)]
    )
    assert close(bitmex.liquidation_price(account, "XBTUSD"), exact("2021000", "210"))
    (row,) = bitmex.risk(account, marks={"XBTUSD": D(10000)})
    assert (row.tier, row.liquidation_tier) == (1, 2)


# --- procedure --------------------------------------------------------------------------------


def test_lowest_step_is_taken_over_at_the_bankruptcy_price(bitmex: mc.Policy) -> None:
    """[LIQ] lowest risk-limit tier: "the liquidation engine takes over the position ... with
    a Limit order at the bankruptcy price". The 1 XBT long above, at mark 9,100 (below its
    liquidation price 9,140.91, above its bankruptcy price 10,000/1.1 = 9,090.91)."""
    account = mc.Account(0, [mc.Position("XBTUSD", "long", 10000, 10000, "isolated", margin="0.1")])
    (pool,) = bitmex.pools(account, marks={"XBTUSD": D(9100)})
    assert pool.margin_balance <= pool.maintenance_margin
    action = bitmex.liquidation_action(pool, 0)
    assert isinstance(action, Takeover)
    assert (action.symbol, action.side, action.size) == ("XBTUSD", "long", D(10000))
    assert close(action.price, exact("10000", "1.1"))


def test_higher_step_sends_one_fill_or_kill_to_the_lower_limit(bitmex: mc.Policy) -> None:
    """[LIQ] higher tiers: "a FillOrKill order, of a size to bring the position value below
    a lower tier Risk Limit", then, if still in liquidation, the whole position is taken
    over. Isolated long 30 XBTUSDT @ 50,000, margin 75,000, mark 48,000: value 1,440,000
    (second step, 1.0 % + 0.05 %): MM 15,120 >= margin balance 75,000 − 60,000 = 15,000.
    The lower limit is 1,000,000: close 440,000 / 48,000 = 9.1666… XBT, up to the lot
    0.0001: 9.1667, limited at the bankruptcy price 50,000 − 75,000/30 = 47,500 [derived]."""
    account = mc.Account(0, [mc.Position("XBTUSDT", "long", 30, 50000, "isolated", margin=75000)])
    (pool,) = bitmex.pools(account, marks={"XBTUSDT": D(48000)})
    assert (pool.margin_balance, pool.maintenance_margin) == (D(15000), D(15120))
    assert bitmex.liquidation_action(pool, 0) == Reduce(
        "XBTUSDT", "long", D("9.1667"), "fok", D(47500)
    )
    assert bitmex.liquidation_action(pool, 1) == Takeover("XBTUSDT", "long", D(30), D(47500))


# --- SOLUSDT (linear, USDT) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "mm", "im"),
    [
        # 100 SOL @ 200 = 20,000 USDT, first step: MM 20,000 × (0.5 % + 0.05 %) = 110,
        # IM 20,000 × 1 % = 200.
        (100, "110", "200"),
        # 6,000 SOL @ 200 = 1,200,000 USDT, one step above the 1,000,000 limit: MM
        # 1,200,000 × (0.5 % + 1 × 0.5 % + 0.05 %) = 12,600, IM 1,200,000 × (1 % + 1 × 0.5 %)
        # = 18,000, on the whole position.
        (6000, "12600", "18000"),
    ],
)
def test_solusdt_margin_by_step(bitmex: mc.Policy, size: int, mm: str, im: str) -> None:
    """[SOL] base MM 0.50 %, base IM 1.00 %; [RL] New MM = Base MM + Steps × Base MM, New IM
    = Base IM + Steps × Base MM, whole position; [EG] + [DER] close-out commission 0.05 %;
    [DER] step 1,000,000 USDT. Cross long at mark 200 (hand arithmetic in the cases)."""
    account = mc.Account(10**6, [mc.Position("SOLUSDT", "long", size, 200)])
    marks = {"SOLUSDT": 200}
    assert bitmex.maintenance_margin(account, "SOLUSDT", marks=marks) == D(mm)
    assert bitmex.initial_margin(account, "SOLUSDT", marks=marks) == D(im)
    assert bitmex.market("SOLUSDT").settlement_currency == "USDT"  # [POS] currency USDt


def test_solusdt_isolated_prices(bitmex: mc.Policy) -> None:
    """venues.md §0.3 linear forms, MM at the liquidation price with the commission: isolated
    100 SOL @ 200, margin 1,000 (20x), first step mmr = 0.5 % + 0.05 % = 0.55 % [SOL, EG]:
    LP_long = (q·E − M)/(q·(1 − mmr)) = 19,000/99.45 = 191.05; BP_long = E − M/q = 190;
    LP_short = (q·E + M)/(q·(1 + mmr)) = 21,000/100.55 = 208.85; BP_short = 210."""
    long = mc.Account(0, [mc.Position("SOLUSDT", "long", 100, 200, "isolated", margin=1000)])
    assert bitmex.liquidation_price(long, "SOLUSDT") == exact("19000", "99.45")
    assert bitmex.bankruptcy_price(long, "SOLUSDT") == D(190)
    short = mc.Account(0, [mc.Position("SOLUSDT", "short", 100, 200, "isolated", margin=1000)])
    assert bitmex.liquidation_price(short, "SOLUSDT") == exact("21000", "100.55")
    assert bitmex.bankruptcy_price(short, "SOLUSDT") == D(210)


def test_solusdt_fill_or_kill_in_lots_of_a_tenth_of_a_sol(bitmex: mc.Policy) -> None:
    """[LIQ] higher tier: one FillOrKill to below the lower risk limit, then takeover.
    Isolated long 6,000 SOL @ 200, margin 66,000, mark 190: value 1,140,000 (second step,
    1.0 % + 0.05 %): MM 11,970 >= margin balance 66,000 − 6,000 × 10 = 6,000. To the
    1,000,000 limit [DER]: 140,000/190 = 736.84… SOL, up to the 0.1 SOL lot [DER]: 736.9,
    limited at the bankruptcy price 200 − 66,000/6,000 = 189 [derived]."""
    account = mc.Account(0, [mc.Position("SOLUSDT", "long", 6000, 200, "isolated", margin=66000)])
    (pool,) = bitmex.pools(account, marks={"SOLUSDT": D(190)})
    assert (pool.margin_balance, pool.maintenance_margin) == (D(6000), D(11970))
    assert bitmex.liquidation_action(pool, 0) == Reduce(
        "SOLUSDT", "long", D("736.9"), "fok", D(189)
    )
    assert bitmex.liquidation_action(pool, 1) == Takeover("SOLUSDT", "long", D(6000), D(189))


# --- ADL ranking ------------------------------------------------------------------------------


def _candidate(
    symbol: str, side: str, entry: int, mark: int, size: int, **pool: str
) -> AdlCandidate:
    return AdlCandidate(
        key=f"{side}-{symbol}",
        symbol=symbol,
        side=side,  # type: ignore[arg-type]
        size=D(size),
        entry_price=D(entry),
        mark_price=D(mark),
        notional=D(pool["notional"]),
        unrealized_pnl=D(pool["pnl"]),
        wallet_balance=D(pool["wallet"]),
        account_unrealized_pnl=D(pool["pnl"]),
        maintenance_margin=D(0),
        bankruptcy_price=None,
    )


def test_adl_ranking_of_an_inverse_position(bitmex: mc.Policy) -> None:
    """[ADL] PNL percentage = (Mark Value − Avg Entry Value)/abs(Avg Entry Value); Effective
    Leverage = abs(Mark Value)/(Mark Value − Bankrupt Value), the equity above bankruptcy.
    BMX-5's long 1,000 XBTUSD @ 1,000, mark 1,250: values 1 XBT at entry, 0.8 at the mark,
    PnL 0.2 XBT: PnL% = 0.2 / 1 = 20 % (not the linear (1,250 − 1,000)/1,000 = 25 %); with
    a wallet of 1 XBT the equity is 1.2, leverage 0.8/1.2, rank 0.2 × 0.8/1.2 = 0.4/3.
    The opposite short loses 0.2: PnL% −20 %, equity 0.8, leverage 1: rank −0.2."""
    winner = _candidate("XBTUSD", "long", 1000, 1250, 1000, notional="0.8", pnl="0.2", wallet="1")
    assert bitmex.adl_score(winner) == exact("0.4", "3")
    loser = _candidate("XBTUSD", "short", 1000, 1250, 1000, notional="0.8", pnl="-0.2", wallet="1")
    assert bitmex.adl_score(loser) == D("-0.2")


def test_adl_ranking_of_a_linear_position(bitmex: mc.Policy) -> None:
    """[ADL] long 1 XBTUSDT @ 50,000, mark 55,000: PnL% 5,000/50,000 = 10 %; wallet 10,000,
    equity 15,000, leverage 55,000/15,000: rank 0.1 × 55,000/15,000 = 5.5/15."""
    c = _candidate("XBTUSDT", "long", 50000, 55000, 1, notional="55000", pnl="5000", wallet="10000")
    assert bitmex.adl_score(c) == exact("5.5", "15")


# --- the engine -------------------------------------------------------------------------------


def test_fund_aggresses_then_adl_takes_the_rest_at_the_bankruptcy_price(bitmex: mc.Policy) -> None:
    """[LIQ] + [ADL] + no negative balances (BitMEX blog, 2020-03-23). Isolated long 1 XBT
    XBTUSDT @ 60,000 at 10x (margin 6,000, bankruptcy 54,000, first step) and a gap to
    52,000 (margin balance −2,000): taken over at 54,000, the trader loses its 6,000 and owes
    nothing. The fund aggresses at 52,000 × 0.999 = 51,948, losing 2,052 per XBT: its 513
    pays for 0.25 XBT and it is empty; it holds nothing (max_net_notional_ratio 0), so ADL
    closes 0.75 at 54,000, no fee, ranked by PnL% × effective leverage at the mark:
      A short 0.5 @ 61,000, wallet 10,000: PnL 4,500, PnL% 4,500/30,500 = 0.1475,
        leverage 26,000/14,500 = 1.793: 0.2646;
      B short 0.5 @ 60,500, wallet 2,000: PnL 4,250, PnL% 4,250/30,250 = 0.1405,
        leverage 26,000/6,250 = 4.16: 0.5845.
    B first, whole (0.5): 2,000 + 0.5 × 6,500 = 5,250; then 0.25 of A:
    10,000 + 0.25 × 7,000 = 11,750."""
    scenario = mc.Scenario(
        {
            "trader": mc.Account(
                0, [mc.Position("BTCUSDT", "long", 1, 60000, "isolated", leverage=10)]
            ),
            "a": mc.Account(10000, [mc.Position("BTCUSDT", "short", D("0.5"), 61000)]),
            "b": mc.Account(2000, [mc.Position("BTCUSDT", "short", D("0.5"), 60500)]),
        },
        [mc.Step("open", {"BTCUSDT": D(60000)}), mc.Step("gap", {"BTCUSDT": D(52000)})],
        mc.MarkFill(slippage="0.001"),
        insurance_fund=513,
    )
    outcome = bitmex.simulate(scenario)
    assert outcome.liquidations == (
        Liquidation(1, "trader", "BTCUSDT", "long", D(1), D(54000), "takeover"),
    )
    assert outcome.adl == (
        AdlRecord(
            1, "b", "trader", "BTCUSDT", D("0.5"), D(54000), D(52000), cost=D(1000), side="short"
        ),
        AdlRecord(
            1, "a", "trader", "BTCUSDT", D("0.25"), D(54000), D(52000), cost=D(500), side="short"
        ),
    )
    assert outcome.fund_path == (D(513), D(0))
    assert outcome.fund_holdings == {}
    assert (outcome.balance("b"), outcome.balance("a")) == (D(5250), D(11750))
    assert outcome.balance("trader") == 0 and outcome.debt("trader") == 0
    assert outcome.ledger.balance(lg.VENUE) == 0
    assert outcome.ledger.total() == 0


# --- check_config -----------------------------------------------------------------------------


def test_the_bundled_crash_plays_with_solusdt(bitmex: mc.Policy) -> None:
    """crash-2025-10 trades BTCUSDT, ETHUSDT and SOLUSDT, all linear in base units; with
    SOLUSDT it plays. Its largest position is 200,108.50 USDT (SOLUSDT), inside the first
    1,000,000 USDT step, so [LIQ]'s lowest-tier rule applies to every liquidation: a
    takeover at the bankruptcy price, never a FillOrKill. Losers never owe (BitMEX blog,
    2020-03-23); the ledger balances."""
    scenario = mc.load_scenario("crash-2025-10")
    outcome = bitmex.simulate(scenario)
    assert "SOLUSDT" in {liq.symbol for liq in outcome.liquidations}
    assert {liq.kind for liq in outcome.liquidations} == {"takeover"}
    assert all(outcome.debt(account) == 0 for account in outcome.accounts)
    assert outcome.ledger.total() == 0


def _variant(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "variant.toml"
    path.write_text(f'name = "variant"\nextends = "bitmex"\n{body}', encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "[markets.XBTUSDT]\nparameters.base_initial_margin = 0.002\n",
            "markets.XBTUSDT.parameters.base_initial_margin: must be above the base "
            "maintenance margin 0.005 and below 1, got 0.002",
        ),
        (
            '[markets.XBTUSDT]\nparameters.base_initial_margin = "one"\n',
            "markets.XBTUSDT.parameters.base_initial_margin: expected a number, got 'one'",
        ),
        (
            '[markets.ETHUSDT]\ntier_model = "tax-bracket"\n',
            "markets.ETHUSDT.tier_model: BitMEX risk limits are steps; set tier_model = 'step'",
        ),
        (
            "[markets.XBTUSD]\n"
            "[[markets.XBTUSD.tiers]]\nmin_notional = 0\nmax_notional = 200\n"
            "max_leverage = 100\nmaintenance_margin_rate = 0.005\n"
            "[[markets.XBTUSD.tiers]]\nmin_notional = 200\nmax_notional = 300\n"
            "max_leverage = 50\nmaintenance_margin_rate = 0.012\n",
            "markets.XBTUSD.tiers[1].maintenance_margin_rate: 0.012 breaks BitMEX's step rule "
            "Base MM × (1 + steps) = 0.005 × 2",
        ),
    ],
)
def test_bad_parameters_are_reported(tmp_path: Path, body: str, problem: str) -> None:
    with pytest.raises(mc.PolicyError) as error:
        mc.load_policy(_variant(tmp_path, body))
    assert any(line.endswith(problem) for line in error.value.problems), error.value.problems


def test_a_missing_base_initial_margin_is_reported(tmp_path: Path) -> None:
    text = (DATA.parent.parent / "policies" / "bitmex.toml").read_text(encoding="utf-8")
    text = text.replace('name = "bitmex"', 'name = "copy"').replace(
        "parameters.base_initial_margin = 0.01\n", "", 1
    )
    path = tmp_path / "copy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(mc.PolicyError) as error:
        mc.load_policy(path)
    assert error.value.problems == [
        f"{path.resolve()}: markets.XBTUSD.parameters.base_initial_margin: required by the "
        "bitmex plugin (the base initial margin)"
    ]
