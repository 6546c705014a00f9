"""kraken-futures against Kraken's documented schedule, procedure and worked example.

Every expected value is Kraken's own figure or is computed here, in the test, from the rule
Kraken documents; each test names its source.

Sources:
  [SCHED] "Multi-Collateral Futures Margin Schedule & Maximum Leverage",
          https://support.kraken.com/hc/tr-tr/articles/360022632452 (undated): Class A levels
          0-1M / 1-2M / 2-5M / 5-10M / 10-20M / 20-60M / 60M+ USD at 50x, 25x, 20x, 10x, 5x,
          3.33x, 2x, MM 1 %, 2 %, 2.5 %, 5 %, 10 %, 15 %, 25 %.
  [EPP]   "Equity Protection Process",
          https://support.kraken.com/hc/en-us/articles/360022835671 (current, undated):
          an IOC order at the bankruptcy price, the client keeps the remaining margin;
          assignment of the rest at the zero-equity price; never a negative balance.
  [KRK-2] "Example assignment", https://support.kraken.com/hc/en-us/articles/360022835231
          (undated): assigned = size − liquidated (1,760,000 − 1,007,379 = 752,621).
  [FEES]  "Fee schedule", https://support.kraken.com/hc/en-us/articles/360048917612
          (undated): lowest tier maker 0.0200 %, taker 0.0500 %.
  [0.3]   venues reference §0.3 [derived]: the linear liquidation price with the maintenance
          margin measured at that price, LP_long = (q·E − M − cum)/(q·(1 − mmr)),
          LP_short = (q·E + M + cum)/(q·(1 + mmr)); BP = E − s·M/q.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import margincall as mc
from margincall import ledger as lg
from margincall.outcome import Liquidation
from margincall.waterfall import Reduce, Takeover

D = Decimal
BTC = "PF_XBTUSD"


def exact(numerator: Decimal | int | str, denominator: Decimal | int | str) -> Decimal:
    """A quotient at margincall's precision (50 digits)."""
    with localcontext() as ctx:
        ctx.prec = 50
        return D(numerator) / D(denominator)


@pytest.fixture(scope="module")
def kraken() -> mc.Policy:
    return mc.load_policy("kraken-futures")


# --- the margin schedule ---------------------------------------------------------------------


@pytest.mark.parametrize("symbol", ["PF_XBTUSD", "PF_ETHUSD", "PF_SOLUSD"])
def test_the_class_a_levels_are_the_schedule(kraken: mc.Policy, symbol: str) -> None:
    """[SCHED] Class A: level bounds in USD, max leverage and maintenance margin per level."""
    tiers = kraken.tiers(mc.Position(symbol, "long", 1, 100))
    assert [(t.min_notional, t.max_leverage, t.maintenance_margin_rate) for t in tiers] == [
        (0, 50, D("0.01")),
        (1_000_000, 25, D("0.02")),
        (2_000_000, 20, D("0.025")),
        (5_000_000, 10, D("0.05")),
        (10_000_000, 5, D("0.1")),
        (20_000_000, D("3.33"), D("0.15")),
        (60_000_000, 2, D("0.25")),
    ]


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        # 10 BTC × 50,000 = 500,000, level I: 500,000 × 1 %
        ("10", D(5_000)),
        # exactly 1,000,000 stays in level I: 1,000,000 × 1 %
        ("20", D(10_000)),
        # 1,500,000 in level II, by brackets: 1,000,000 × 1 % + 500,000 × 2 %
        # = 1,500,000 × 2 % − 10,000 (deduction 1,000,000 × (2 % − 1 %))
        ("30", D(20_000)),
        # 3,000,000 in level III: 1M × 1 % + 1M × 2 % + 1M × 2.5 % = 55,000
        ("60", D(55_000)),
    ],
)
def test_maintenance_margin_by_level(kraken: mc.Policy, size: str, expected: Decimal) -> None:
    """[SCHED] rates; each level's rate on the part of the value inside it [derived]."""
    account = mc.Account(10**7, [mc.Position("BTCUSDT", "long", D(size), 50_000)])
    assert kraken.maintenance_margin(account, "BTCUSDT", marks={"BTCUSDT": 50_000}) == expected


def test_initial_margin_at_the_maximum_leverage(kraken: mc.Policy) -> None:
    """[SCHED] level I allows 50x: IM of 10 BTC at 50,000 = 500,000 / 50 = 10,000 (2 %)."""
    account = mc.Account(10**6, [mc.Position(BTC, "long", 10, 50_000)])
    assert kraken.initial_margin(account, BTC, marks={BTC: 50_000}) == 10_000


def test_the_scenario_names_play_under_kraken_symbols(kraken: mc.Policy) -> None:
    """Aliases: a scenario's BTCUSDT, ETHUSDT and SOLUSDT are PF_XBTUSD, PF_ETHUSD and
    PF_SOLUSD here."""
    for alias, symbol in [("BTCUSDT", BTC), ("ETHUSDT", "PF_ETHUSD"), ("SOLUSDT", "PF_SOLUSD")]:
        assert kraken.market(alias).tiers == kraken.market(symbol).tiers
        assert kraken.market(alias).tick_size == kraken.market(symbol).tick_size


def test_fees(kraken: mc.Policy) -> None:
    """[FEES] 1 BTC at 50,000: taker 0.05 % = 25, maker 0.02 % = 10. No liquidation fee is
    documented before 2026-03-26 [EPP]."""
    assert kraken.trading_fee(BTC, 1, 50_000, maker=False) == 25
    assert kraken.trading_fee(BTC, 1, 50_000, maker=True) == 10
    assert kraken.liquidation_fee(BTC, 1, 50_000) == 0


# --- liquidation and bankruptcy prices -------------------------------------------------------


def test_isolated_long_prices(kraken: mc.Policy) -> None:
    """[0.3] 1 BTC long at 50,000 with 10x: M = 5,000. LP = (50,000 − 5,000)/(1 × 0.99)
    = 45,454.5454...; BP = 50,000 − 5,000 = 45,000 (the zero-equity price of [EPP])."""
    account = mc.Account(0, [mc.Position(BTC, "long", 1, 50_000, "isolated", leverage=10)])
    marks = {BTC: 50_000}
    assert kraken.liquidation_price(account, BTC, marks=marks) == exact(45_000, "0.99")
    assert kraken.bankruptcy_price(account, BTC, marks=marks) == 45_000


def test_isolated_short_prices(kraken: mc.Policy) -> None:
    """[0.3] 2 ETH short at 3,000 with 5x: M = 1,200. LP = (6,000 + 1,200)/(2 × 1.01)
    = 3,564.356...; BP = 3,000 + 1,200/2 = 3,600."""
    account = mc.Account(0, [mc.Position("PF_ETHUSD", "short", 2, 3_000, "isolated", leverage=5)])
    marks = {"PF_ETHUSD": 3_000}
    assert kraken.liquidation_price(account, "PF_ETHUSD", marks=marks) == exact(7_200, "2.02")
    assert kraken.bankruptcy_price(account, "PF_ETHUSD", marks=marks) == 3_600


def test_cross_long_liquidation_price(kraken: mc.Policy) -> None:
    """[0.3] cross: wallet 2,000, 0.5 BTC long at 60,000: LP = (30,000 − 2,000)/(0.5 × 0.99)
    = 56,565.65...; BP = 60,000 − 2,000/0.5 = 56,000."""
    account = mc.Account(2_000, [mc.Position(BTC, "long", D("0.5"), 60_000)])
    marks = {BTC: 60_000}
    assert kraken.liquidation_price(account, BTC, marks=marks) == exact(28_000, "0.495")
    assert kraken.bankruptcy_price(account, BTC, marks=marks) == 56_000


# --- the Equity Protection Process, step by step ---------------------------------------------

TRADER = mc.Position(BTC, "long", 1, 50_000, "isolated", leverage=10)  # M 5,000, BP 45,000


def test_step_one_is_an_ioc_for_the_whole_position_at_the_bankruptcy_price(
    kraken: mc.Policy,
) -> None:
    """[EPP] at mark 45,200 (below the LP 45,454.54) Kraken "submits an IOC order at the
    bankruptcy price": the whole 1 BTC, limited at 45,000."""
    (pool,) = kraken.pools(mc.Account(0, [TRADER]), marks={BTC: 45_200})
    assert kraken.liquidation_action(pool, 0) == Reduce(BTC, "long", D(1), "ioc", D(45_000))


def test_step_two_assigns_the_rest_at_the_zero_equity_price(kraken: mc.Policy) -> None:
    """[EPP] what the IOC did not fill is assigned "at the 0-equity imputed price": a
    takeover of what is left at its bankruptcy price."""
    (pool,) = kraken.pools(mc.Account(0, [TRADER]), marks={BTC: 45_200})
    assert kraken.liquidation_action(pool, 1) == Takeover(BTC, "long", D(1), D(45_000))


def epp(mark: int, liquidity: object, fund: int = 0) -> mc.Scenario:
    return mc.Scenario(
        {
            "trader": mc.Account(
                0, [mc.Position("BTCUSDT", "long", D("1.76"), 50_000, "isolated", leverage=10)]
            )
        },
        [mc.Step("open", {"BTCUSDT": D(50_000)}), mc.Step("drop", {"BTCUSDT": D(mark)})],
        liquidity,  # type: ignore[arg-type]
        insurance_fund=fund,
    )


def test_an_ioc_filled_above_bankruptcy_leaves_the_surplus_with_the_trader(
    kraken: mc.Policy,
) -> None:
    """[EPP] "the client keeps whatever remaining [margin]". 1.76 BTC long at 50,000, 10x:
    M = 8,800, BP = 50,000 − 8,800/1.76 = 45,000, LP = 79,200/(1.76 × 0.99) = 45,454.54.
    At mark 45,200 the IOC sells all 1.76 at 45,200 × (1 − 0.1 %) = 45,154.8 >= 45,000:
    the margin becomes 8,800 − 1.76 × 4,845.2 = 272.448, returned to the wallet. The
    backstop (fund) is untouched: no fee, no surplus to it."""
    outcome = kraken.simulate(epp(45_200, mc.MarkFill(slippage="0.001"), fund=1_000))
    assert outcome.liquidations == (
        Liquidation(1, "trader", "BTCUSDT", "long", D("1.76"), D("45154.8"), "order"),
    )
    assert outcome.balance("trader") == D("272.448")
    assert outcome.insurance_fund == 1_000
    assert outcome.ledger.total() == 0


def test_krk2_the_unfilled_rest_is_assigned(kraken: mc.Policy) -> None:
    """[KRK-2] assigned = size − liquidated, with KRK-2's digits in BTC: the book holds
    1.007379 BTC at mark × (1 − 0.1 %) = 45,154.8 and the next bid, 45,200 × 0.98 = 44,296,
    is below the bankruptcy price 45,000, so the IOC stops there: liquidated 1.007379,
    assigned 1.76 − 1.007379 = 0.752621. The trader never goes negative [EPP]."""
    book = mc.DepthLadder(bids={"BTCUSDT": [["0.001", "1.007379"], ["0.02", "10"]]})
    outcome = kraken.simulate(epp(45_200, book, fund=10_000))
    (ioc, assigned) = outcome.liquidations
    assert (ioc.kind, ioc.size, ioc.price) == ("order", D("1.007379"), D("45154.8"))
    assert (assigned.kind, assigned.size) == ("takeover", D("0.752621"))
    assert outcome.open_positions["trader"] == ()
    assert outcome.balance("trader") >= 0 and outcome.debt("trader") == 0
    assert outcome.ledger.total() == 0


def test_a_gap_below_bankruptcy_is_assigned_and_the_trader_ends_at_zero(
    kraken: mc.Policy,
) -> None:
    """[EPP] "you will never be allowed to have a negative balance". The mark gaps to 44,000,
    below BP 45,000: the IOC limited at 45,000 meets bids at 44,000 × 0.999 = 43,956 and fills
    nothing; the 1.76 BTC are assigned at 45,000, so the trader ends at exactly zero; the
    backstop sells at 43,956 and bears 1.76 × (45,000 − 43,956) = 1,837.44 of the 10,000."""
    outcome = kraken.simulate(epp(44_000, mc.MarkFill(slippage="0.001"), fund=10_000))
    assert outcome.liquidations == (
        Liquidation(1, "trader", "BTCUSDT", "long", D("1.76"), D(45_000), "takeover"),
    )
    assert outcome.balance("trader") == 0 and outcome.debt("trader") == 0
    assert outcome.insurance_fund == D("8162.56")
    assert outcome.venue_loss == 0
    assert outcome.ledger.total() == 0


def test_the_policy_encodes_the_equity_protection_waterfall(kraken: mc.Policy) -> None:
    """[EPP]: trader keeps the surplus; assignment (backstop), then unwind (ADL), then the
    venue: no stage leaves a debt with the trader."""
    assert kraken.spec.insurance_fund.surplus_to == "trader"
    assert kraken.spec.deficit.waterfall == ("insurance-fund", "adl", "venue")
    assert "chasing" not in kraken.spec.deficit.waterfall


# --- laws ------------------------------------------------------------------------------------


@settings(max_examples=25)
@given(
    drop=st.decimals("0.70", "0.99", places=2),
    leverage=st.integers(5, 50),
    slippage=st.decimals("0", "0.05", places=3),
)
def test_no_balance_ever_goes_negative_and_a_flat_account_pays_nothing(
    kraken: mc.Policy, drop: Decimal, leverage: int, slippage: Decimal
) -> None:
    """[EPP] "never ... a negative balance": after any drop, the liquidated trader's wallet is
    >= 0 and owes nothing; a flat account and a winning short keep what they had (no
    clawback stage)."""
    scenario = mc.Scenario(
        {
            "trader": mc.Account(
                0, [mc.Position("BTCUSDT", "long", 2, 50_000, "isolated", leverage=leverage)]
            ),
            "flat": mc.Account(1_000, []),
        },
        [mc.Step("open", {"BTCUSDT": D(50_000)}), mc.Step("drop", {"BTCUSDT": 50_000 * drop})],
        mc.MarkFill(slippage=slippage),
        insurance_fund=0,
    )
    outcome = kraken.simulate(scenario)
    assert outcome.balance("trader") >= 0 and outcome.debt("trader") == 0
    assert outcome.balance("flat") == 1_000
    assert outcome.ledger.balance(lg.account("flat")) == 1_000
    assert outcome.ledger.total() == 0
