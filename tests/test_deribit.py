"""deribit against Deribit's documented rules and worked examples (venues.md §5, DRB-*).

Every expected value is Deribit's own figure or is computed here, by hand in the docstring,
from the rule Deribit documents; each test names its source.

Sources:
  [LIN]  "Linear Perpetual", https://support.deribit.com/hc/en-us/articles/25944738177565
         (undated): BTC_USDC IM 2 % + size × 0.005 %, MM 1 % + size × 0.005 %; SOL_USDC
         IM 4 % + size × 0.0005 %, MM 2 % + size × 0.0005 % (DRB-1)
  [JAN]  "11 January 2022", https://support.deribit.com/hc/en-us/articles/25944826427293
         (2022-01-11): BTC IM 2 % + size × 0.005 %, MM 1 % + size × 0.005 %, liquidation fee
         0.75 % (DRB-2)
  [ETH]  the same "11 January 2022" page: ETH IM 2 % + size in ETH × 0.0004 %, MM 1 % + size
         × 0.0004 %, liquidation fee 0.9 %, maximum leverage 50x; applied to ETH_USDC-PERPETUAL
         [derived: the Linear-Perpetual page gives BTC_USDC BTC's own 2022 formula]
  [FEES] https://support.deribit.com/hc/en-us/articles/25944746248989-Fees (undated): USDC
         Perpetuals maker 0.00 %, taker 0.05 %
  [TICK] https://insights.deribit.com/exchange-updates/tick-size-update-for-altcoin-perpetuals/
         (2026): SOL_USDC tick 0.01 until 28 April 2026
  [AUTO] https://www.deribit.com/docs/auto-liquidation/ (undated): small parts closed in the
         market, at most 200 contracts of 10 USD a step, until MM is below equity again
  [IF]   https://support.deribit.com/hc/en-us/articles/25944777576477-Insurance-Fund
         (undated): the liquidation fee goes to the fund; the fund covers negative equity; when
         it is depleted, losses are "socialized among the winning traders for that day"
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal, localcontext
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import margincall as mc
from margincall import ledger as lg
from margincall.outcome import Liquidation
from margincall.waterfall import Reduce

D = Decimal
BTC = "BTC_USDC-PERPETUAL"
ETH = "ETH_USDC-PERPETUAL"


def exact(numerator: str, denominator: str) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 50
        return D(numerator) / D(denominator)


def close(value: Decimal | None, expected: Decimal) -> bool:
    """Equal to 45 significant digits (an inverse price is solved in 1/P, then inverted)."""
    assert value is not None
    return abs(value - expected) <= abs(expected) * D("1e-45")


@pytest.fixture(scope="module")
def deribit() -> mc.Policy:
    return mc.load_policy("deribit")


def cross(symbol: str, size: object, price: int) -> tuple[mc.Account, dict[str, object]]:
    return mc.Account(10**9, [mc.Position(symbol, "long", size, price)]), {symbol: price}


# --- margin: DRB-1, DRB-2 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "size", "price", "im", "mm"),
    [
        (BTC, 25, 100000, "53125", "28125"),
        (BTC, 350, 100000, "1312500", None),
        ("SOL_USDC-PERPETUAL", 25, 200, "200.625", "100.625"),
        ("SOL_USDC-PERPETUAL", 6000, 200, "84000", None),
    ],
)
def test_drb1_linear_margin(
    deribit: mc.Policy, symbol: str, size: int, price: int, im: str, mm: str | None
) -> None:
    """DRB-1 [LIN], BTC index 100,000, SOL 200:
    BTC_USDC 25: IM 2 % + 25 × 0.005 % = 2.125 % of 2,500,000 = 53,125; MM 1.125 % = 28,125;
    BTC_USDC 350: IM 2 % + 350 × 0.005 % = 3.75 % of 35,000,000 = 1,312,500;
    SOL_USDC 25: IM 4 % + 25 × 0.0005 % = 4.0125 % of 5,000 = 200.625; MM 2.0125 % = 100.625;
    SOL_USDC 6,000: IM 4 % + 6,000 × 0.0005 % = 7 % of 1,200,000 = 84,000."""
    account, marks = cross(symbol, size, price)
    assert deribit.initial_margin(account, symbol, marks=marks) == D(im)
    if mm is not None:
        assert deribit.maintenance_margin(account, symbol, marks=marks) == D(mm)


def test_drb2_btc_inverse_parameters(deribit: mc.Policy) -> None:
    """DRB-2 [JAN]: a 100 BTC position: IM 2 % + 100 × 0.005 % = 2.5 %, MM 1 % + 100 ×
    0.005 % = 1.5 %, liquidation fee 0.75 %. BTC-PERPETUAL at 50,000: 500,000 contracts of
    10 USD = 100 BTC: IM 2.5, MM 1.5, fee on closing it all 0.75 BTC."""
    account, marks = cross("BTC-PERPETUAL", 500_000, 50000)
    assert deribit.initial_margin(account, "BTC-PERPETUAL", marks=marks) == D("2.5")
    assert deribit.maintenance_margin(account, "BTC-PERPETUAL", marks=marks) == D("1.5")
    assert deribit.liquidation_fee("BTC-PERPETUAL", 500_000, 50000) == D("0.75")


def test_the_scenarios_names_are_aliases(deribit: mc.Policy) -> None:
    """BTCUSDT, ETHUSDT and SOLUSDT, the bundled scenarios' names, play as the USDC linear
    perpetuals: the same 25 BTC gives DRB-1's 28,125; 25 ETH at 4,000 the 1,010 of
    test_eth_usdc_margin; SOL_USDC's tick is 0.01 [TICK]."""
    account, marks = cross("BTCUSDT", 25, 100000)
    assert deribit.maintenance_margin(account, "BTCUSDT", marks=marks) == D(28125)
    account, marks = cross("ETHUSDT", 25, 4000)
    assert deribit.maintenance_margin(account, "ETHUSDT", marks=marks) == D(1010)
    assert deribit.market("ETHUSDT").settlement_currency == "USDC"
    assert deribit.market("SOLUSDT").settlement_currency == "USDC"
    assert deribit.market("SOLUSDT").tick_size == D("0.01")


@pytest.mark.parametrize(
    ("size", "im", "mm"),
    [
        # 25 ETH @ 4,000 = 100,000 USDC: IM 2 % + 25 × 0.0004 % = 2.01 % = 2,010;
        # MM 1 % + 25 × 0.0004 % = 1.01 % = 1,010.
        (25, "2010", "1010"),
        # 1,000 ETH @ 4,000 = 4,000,000 USDC: IM 2 % + 1,000 × 0.0004 % = 2.4 % = 96,000;
        # MM 1.4 % = 56,000.
        (1000, "96000", "56000"),
    ],
)
def test_eth_usdc_margin(deribit: mc.Policy, size: int, im: str, mm: str) -> None:
    """[ETH] ETH's 2022 constants on ETH_USDC-PERPETUAL (hand arithmetic in the cases)."""
    account, marks = cross(ETH, size, 4000)
    assert deribit.initial_margin(account, ETH, marks=marks) == D(im)
    assert deribit.maintenance_margin(account, ETH, marks=marks) == D(mm)


def test_eth_usdc_fees(deribit: mc.Policy) -> None:
    """[ETH] liquidation fee 0.9 %; [FEES] USDC perpetuals taker 0.05 %, maker 0. 10 ETH at
    4,000 = 40,000 USDC: liquidation fee 360, taker fee 20, maker fee 0."""
    assert deribit.liquidation_fee(ETH, 10, 4000) == D(360)
    assert deribit.trading_fee(ETH, 10, 4000, maker=False) == D(20)
    assert deribit.trading_fee(ETH, 10, 4000, maker=True) == 0


# --- prices -----------------------------------------------------------------------------------


def test_linear_prices_with_the_size_rate(deribit: mc.Policy) -> None:
    """venues.md §5.2: for a fixed size the rate is a constant, mmr = 1 % + 10 × 0.005 % =
    1.05 %, and §0.3 applies. Isolated long 10 BTC_USDC @ 100,000, margin 20,000:
    LP = (q·E − M)/(q·(1 − mmr)) = 980,000/9.895; BP = E − M/q = 98,000."""
    account = mc.Account(0, [mc.Position(BTC, "long", 10, 100000, "isolated", margin=20000)])
    assert deribit.liquidation_price(account, BTC) == exact("980000", "9.895")
    assert deribit.bankruptcy_price(account, BTC) == D(98000)


def test_inverse_prices_with_the_size_at_entry(deribit: mc.Policy) -> None:
    """§0.3 inverse, size in BTC at entry [derived]: 10,000 BTC-PERPETUAL (100,000 USD) @
    50,000 = 2 BTC, mmr 1 % + 2 × 0.005 % = 1.01 %, margin 0.2 BTC:
    LP = n·C·(1 + mmr)/(M + n·C/E) = 101,010/2.2; BP = n·C/(M + n·C/E) = 100,000/2.2."""
    account = mc.Account(
        0, [mc.Position("BTC-PERPETUAL", "long", 10000, 50000, "isolated", margin="0.2")]
    )
    assert close(deribit.liquidation_price(account, "BTC-PERPETUAL"), exact("101010", "2.2"))
    assert close(deribit.bankruptcy_price(account, "BTC-PERPETUAL"), exact("100000", "2.2"))


# --- procedure: incremental liquidation ------------------------------------------------------


def test_linear_steps_until_compliant(deribit: mc.Policy) -> None:
    """[AUTO] + [JAN] fee 0.75 %. Isolated long 10 BTC_USDC @ 100,000, margin 20,000, mark
    99,000: equity 10,000 <= MM 990,000 × 1.05 % = 10,395. A step is 2,000 USD [derived for
    linear: 200 × 10 USD]: 2,000/99,000 = 0.0202 BTC, 0.021 in lots of 0.001. Closing x at
    the mark leaves r = 10 − x and equity 10,000 − 742.5·x; compliant when
    10,000 − 742.5·(10 − r) > 99,000·r·(1 % + 0.005 %·r), i.e. r² + 50·r − 520.2 < 0,
    r < (−50 + √4,580.8)/2 = 8.8408: x > 1.1592, 55.2 steps, so 56 steps = 1.176 BTC (55
    steps, 1.155, leave r = 8.845: not enough). One market order, no limit."""
    account = mc.Account(0, [mc.Position(BTC, "long", 10, 100000, "isolated", margin=20000)])
    (pool,) = deribit.pools(account, marks={BTC: D(99000)})
    assert (pool.margin_balance, pool.maintenance_margin) == (D(10000), D(10395))
    assert deribit.liquidation_action(pool, 0) == Reduce(BTC, "long", D("1.176"), "market", None)


def test_inverse_steps_of_200_contracts(deribit: mc.Policy) -> None:
    """[AUTO] steps of 200 contracts of 10 USD. The 10,000-contract long above at mark 45,900
    (below its LP 45,913.64): in units of 10/45,900 BTC per contract, equity × 4,590 =
    (0.2 + 2 − 100,000/45,900) × 4,590 = 98, and after closing x contracts, r = 10,000 − x
    left, it is compliant when 98 − 0.0075·x > r·(1 % + 0.005 % × 10·r/50,000), i.e.
    r² + 250,000·r − 2.3·10⁹ < 0, r < 8,884.28: x > 1,115.72, six steps, 1,200 contracts."""
    account = mc.Account(
        0, [mc.Position("BTC-PERPETUAL", "long", 10000, 50000, "isolated", margin="0.2")]
    )
    (pool,) = deribit.pools(account, marks={"BTC-PERPETUAL": D(45900)})
    assert pool.margin_balance <= pool.maintenance_margin
    action = deribit.liquidation_action(pool, 0)
    assert action == Reduce("BTC-PERPETUAL", "long", D(1200), "market", None)


def test_eth_usdc_steps_until_compliant(deribit: mc.Policy) -> None:
    """[AUTO] + [ETH] fee 0.9 %, increase 0.0004 %. Isolated long 10 ETH_USDC @ 4,000, margin
    800, mark 3,958: equity 800 − 420 = 380 <= MM 39,580 × (1 % + 10 × 0.0004 %) = 397.3832.
    A step is 2,000 USD [derived]: 2,000/3,958 = 0.5053 ETH, 0.506 in lots of 0.001 [derived].
    Closing x at the mark leaves r = 10 − x and equity 380 − 0.9 % × 3,958·x = 380 − 35.622·x;
    compliant when 380 − 35.622·(10 − r) > 3,958·r·(1 % + 0.0004 %·r), i.e.
    0.015832·r² + 3.958·r − 23.78 < 0, r < 5.8702: x > 4.1298 = 8.16 steps, so 9 steps =
    4.554 ETH (8 steps, 4.048, leave equity 235.80 <= MM 236.14)."""
    account = mc.Account(0, [mc.Position(ETH, "long", 10, 4000, "isolated", margin=800)])
    (pool,) = deribit.pools(account, marks={ETH: D(3958)})
    assert (pool.margin_balance, pool.maintenance_margin) == (D(380), D("397.3832"))
    assert deribit.liquidation_action(pool, 0) == Reduce(ETH, "long", D("4.554"), "market", None)


def test_a_bankrupt_position_is_closed_whole_in_the_market(deribit: mc.Policy) -> None:
    """[AUTO] + [IF]: equity below zero, no number of steps restores it: the whole position
    is sold in the market and the fund covers what is left. Long 1 BTC_USDC @ 100,000 with
    5,000, mark 90,000: equity −5,000."""
    account = mc.Account(0, [mc.Position(BTC, "long", 1, 100000, "isolated", margin=5000)])
    (pool,) = deribit.pools(account, marks={BTC: D(90000)})
    assert deribit.liquidation_action(pool, 0) == Reduce(BTC, "long", D(1), "market", None)


# --- the engine -------------------------------------------------------------------------------


def test_engine_liquidation_stops_once_compliant_and_the_fee_feeds_the_fund(
    deribit: mc.Policy,
) -> None:
    """[AUTO] + [IF]: the 10 BTC long above, marks 100,000 then 99,000, fills at the mark.
    1.176 BTC sell at 99,000: the fee 1.176 × 99,000 × 0.75 % = 873.18 goes to the fund, the
    loss 1,176 is realised: margin 20,000 − 873.18 − 1,176 = 17,950.82. The 8.824 BTC left:
    equity 17,950.82 − 8,824 = 9,126.82 > MM 873,576 × (1 % + 8.824 × 0.005 %) = 9,121.18:
    liquidation stops."""
    scenario = mc.Scenario(
        {"trader": mc.Account(0, [mc.Position(BTC, "long", 10, 100000, "isolated", margin=20000)])},
        [mc.Step("open", {BTC: D(100000)}), mc.Step("dip", {BTC: D(99000)})],
        mc.MarkFill(),
    )
    outcome = deribit.simulate(scenario)
    assert outcome.liquidations == (
        Liquidation(1, "trader", BTC, "long", D("1.176"), D(99000), "order"),
    )
    assert outcome.insurance_fund == D("873.18")
    assert outcome.open_positions["trader"] == ((BTC, "long", D("8.824")),)
    margin = outcome.ledger.balance(lg.isolated_margin("trader", BTC, "long"))
    assert margin == D("17950.82")
    assert outcome.ledger.total() == 0


def test_engine_socialises_what_the_fund_cannot_cover_among_the_winners(
    deribit: mc.Policy,
) -> None:
    """[IF] the fund covers negative equity; once depleted, bankruptcies are "socialized among
    the winning traders for that day", pro rata to their profit [derived reading]. Long 1
    BTC_USDC @ 100,000 with 5,000 (isolated), gap to 90,000, fills at the mark: the fee
    90,000 × 0.75 % = 675 is paid from the margin first (fund 1,000 → 1,675), the sale loses
    10,000: margin −5,675. The fund pays 1,675 and is empty; 4,000 is left. The day's winners
    W1 (short 1 @ 100,000: +10,000) and W2 (short 3: +30,000) pay 10 % of their profit:
    1,000 and 3,000, out of their settled profit: W1 10,000 + 10,000 − 1,000 = 19,000,
    W2 50,000 + 30,000 − 3,000 = 77,000. The trader ends at 0 and owes nothing."""
    scenario = mc.Scenario(
        {
            "trader": mc.Account(0, [mc.Position(BTC, "long", 1, 100000, "isolated", margin=5000)]),
            "w1": mc.Account(10000, [mc.Position(BTC, "short", 1, 100000)]),
            "w2": mc.Account(50000, [mc.Position(BTC, "short", 3, 100000)]),
        },
        [mc.Step("open", {BTC: D(100000)}), mc.Step("gap", {BTC: D(90000)})],
        mc.MarkFill(),
        insurance_fund=1000,
    )
    outcome = deribit.simulate(scenario)
    assert outcome.liquidations == (Liquidation(1, "trader", BTC, "long", D(1), D(90000), "order"),)
    assert outcome.fund_path == (D(1000), D(0))
    assert (outcome.balance("w1"), outcome.balance("w2")) == (D(19000), D(77000))
    assert outcome.balance("trader") == 0 and outcome.debt("trader") == 0
    assert outcome.ledger.balance(lg.VENUE) == 0
    assert outcome.ledger.total() == 0


def test_the_bundled_crash_plays_with_ethusdt(deribit: mc.Policy) -> None:
    """crash-2025-10 trades BTCUSDT, ETHUSDT and SOLUSDT; with ETH_USDC-PERPETUAL aliased
    ETHUSDT it plays. [AUTO] liquidations are market orders (ETHUSDT among them); Deribit has
    no ADL stage ([IF]: the fund, then the day's winners), so no position is deleveraged and
    nobody is left owing; the ledger balances."""
    outcome = deribit.simulate(mc.load_scenario("crash-2025-10"))
    assert ("ETHUSDT", "order") in {(liq.symbol, liq.kind) for liq in outcome.liquidations}
    assert outcome.adl == ()
    assert all(outcome.debt(account) == 0 for account in outcome.accounts)
    assert outcome.ledger.total() == 0


# --- check_config -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "[parameters]\nliquidation_step_value = 0\n",
            "parameters.liquidation_step_value: must be a number > 0, got Decimal('0')",
        ),
        (
            '["markets.BTC-PERPETUAL"]\nparameters.margin_rate_increase = -0.00005\n',
            "markets.BTC-PERPETUAL.parameters.margin_rate_increase: must be >= 0, got -0.00005",
        ),
        (
            '["markets.BTC_USDC-PERPETUAL"]\nparameters.initial_margin_rate = 0.005\n',
            "markets.BTC_USDC-PERPETUAL.parameters.initial_margin_rate: must be above the "
            "maintenance rate 0.01 and below 1, got 0.005",
        ),
        (
            '["markets.SOL_USDC-PERPETUAL"]\nfees.liquidation = 0.03\n',
            "markets.SOL_USDC-PERPETUAL.fees.liquidation: 0.03 is not below the base "
            "maintenance rate 0.02; Deribit keeps the fee below it so that each liquidation "
            "step restores margin",
        ),
    ],
)
def test_bad_parameters_are_reported(tmp_path: Path, body: str, problem: str) -> None:
    body = body.replace('["markets.', "[markets.").replace('"]\n', "]\n")
    path = tmp_path / "variant.toml"
    path.write_text(f'name = "variant"\nextends = "deribit"\n{body}', encoding="utf-8")
    with pytest.raises(mc.PolicyError) as error:
        mc.load_policy(path)
    assert any(line.endswith(problem) for line in error.value.problems), error.value.problems


def test_missing_parameters_and_extra_tiers_are_reported(tmp_path: Path) -> None:
    text = (Path(__file__).parents[1] / "policies" / "deribit.toml").read_text(encoding="utf-8")
    text = text.replace('name = "deribit"', 'name = "copy"')
    text = text.replace("liquidation_step_value = 2000", "other = 1")
    text = text.replace("parameters.margin_rate_increase = 0.000005\n", "")
    text += (
        "\n[[markets.SOL_USDC-PERPETUAL.tiers]]\nmin_notional = 1000000000\n"
        "max_notional = 2000000000\nmax_leverage = 25\nmaintenance_margin_rate = 0.02\n"
    )
    path = tmp_path / "copy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(mc.PolicyError) as error:
        mc.load_policy(path)
    origin = path.resolve()
    assert error.value.problems == [
        f"{origin}: parameters.liquidation_step_value: required by the deribit plugin "
        "(face value per step)",
        f"{origin}: markets.SOL_USDC-PERPETUAL.tiers: Deribit has no tiers; give one tier "
        "holding the base maintenance margin rate, got 2",
        f"{origin}: markets.SOL_USDC-PERPETUAL.parameters.margin_rate_increase: required by "
        "the deribit plugin",
    ]


# --- properties -------------------------------------------------------------------------------

sizes = st.decimals(min_value="0.01", max_value="50", places=3)
entries = st.decimals(min_value="20000", max_value="120000", places=0)
leverages = st.integers(min_value=2, max_value=40)
sides = st.sampled_from(["long", "short"])


def _isolated(side: str, size: Decimal, entry: Decimal, margin: Decimal) -> mc.Account:
    return mc.Account(0, [mc.Position(BTC, side, size, entry, "isolated", margin=margin)])  # type: ignore[arg-type]


@given(size=sizes, entry=entries, leverage=leverages, side=sides, dip=st.integers(1, 300))
def test_the_reduction_is_the_least_number_of_steps(
    deribit: mc.Policy, size: Decimal, entry: Decimal, leverage: int, side: str, dip: int
) -> None:
    """[AUTO]: liquidation stops as soon as MM is below equity. At a mark a little past the
    liquidation price, closing the ordered size at the mark (fee 0.75 %) leaves equity above
    MM(rest) = rest × mark × (1 % + rest × 0.005 %), and one step (2,000 USDC of notional in
    0.001 lots) less would not, unless the whole position had to go."""
    margin = size * entry / leverage
    account = _isolated(side, size, entry, margin)
    lp = deribit.liquidation_price(account, BTC)
    assert lp is not None
    sign = 1 if side == "long" else -1
    mark = (lp * (1 - sign * D(dip) / 100000)).quantize(D(1))
    (pool,) = deribit.pools(account, marks={BTC: mark})
    assume(pool.margin_balance <= pool.maintenance_margin)
    action = deribit.liquidation_action(pool, 0)
    assert isinstance(action, Reduce) and action.order_type == "market"
    equity = margin + sign * size * (mark - entry)

    def compliant(closed: Decimal) -> bool:
        rest = size - closed
        fee = closed * mark * D("0.0075")
        return equity - fee > rest * mark * (D("0.01") + rest * D("0.00005"))

    step = (D(2000) / mark / D("0.001")).to_integral_value(ROUND_CEILING) * D("0.001")
    steps = (action.size / step).to_integral_value(ROUND_CEILING)  # the steps ordered
    fewer = (steps - 1) * step  # one step less
    if action.size < size:
        assert compliant(action.size)
    if fewer > 0:
        assert not compliant(fewer)
