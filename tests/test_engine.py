"""The engine on hand-computed scenarios under binance-usdm.

Shared set-up: a trader holds an isolated long of 1 BTC at 60,000 with 10x leverage, so its
margin is 6,000 and its bankruptcy price 60,000 − 6,000 / 1 = 54,000. At 60,000 its value is
in bracket 2 (0.5 %, amount 50), so it is liquidated below
(60,000 − 6,000 − 50) / 0.995 = 54,221.11 (Binance's formula, see test_binance_usdm). Its
maintenance rate (0.5 %) is below BTCUSDT's 1.25 % clearance fee, so no partial close can
restore it: Binance takes it over whole at the bankruptcy price. Liquidity fills at the mark
less 0.1 % slippage.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from pathlib import Path

import pytest

import margincall as mc
from margincall import ledger as lg
from margincall.decimals import exact_sums
from margincall.outcome import AdlRecord, Liquidation

D = Decimal
DATA = Path(__file__).parent / "data"
TRADER = mc.Position("BTCUSDT", "long", 1, 60000, "isolated", leverage=10)


def scenario(mark: int, fund: int, **others: mc.Account) -> mc.Scenario:
    return mc.Scenario(
        {"trader": mc.Account(0, [TRADER]), **others},
        [mc.Step("open", {"BTCUSDT": D(60000)}), mc.Step("drop", {"BTCUSDT": D(mark)})],
        mc.MarkFill(slippage="0.001"),
        insurance_fund=fund,
    )


def test_a_fill_better_than_bankruptcy_feeds_the_fund(binance: mc.Policy) -> None:
    """Mark 54,100: margin balance 6,000 − 5,900 = 100 <= MM 54,100 × 0.5 % − 50 = 220.5.
    The trader is closed at 54,000 (loses its 6,000); the fund sells the BTC at
    54,100 × 0.999 = 54,045.9 and keeps the 45.9 above the bankruptcy price."""
    outcome = binance.simulate(scenario(54100, 1000))
    assert outcome.liquidations == (
        Liquidation(1, "trader", "BTCUSDT", "long", D(1), D(54000), "takeover"),
    )
    assert outcome.balance("trader") == 0
    assert outcome.debt("trader") == 0
    assert outcome.insurance_fund == D("1045.9")
    assert outcome.fund_path == (D(1000), D("1045.9"))
    assert outcome.adl == ()
    assert outcome.ledger.total() == 0


def test_a_worse_fill_drains_the_fund_and_adl_takes_the_rest_in_rank_order(
    binance: mc.Policy,
) -> None:
    """Mark 52,000 (a gap below 54,000). The fund sells at 52,000 × 0.999 = 51,948, losing
    2,052 per BTC: its 513 covers exactly 0.25 BTC and leaves it empty, so its capacity
    (100 % of 0) is 0 and ADL closes the other 0.75 at 54,000, no fee, against profitable
    shorts ranked by Binance's Leverage Pnl = max(0, UP)/max(1, WB) × MM/(WB + UP):
      B: short 0.5 @ 60,500, WB 2,000: UP 4,250, MM 26,000 × 0.4 % = 104:
         4,250/2,000 × 104/6,250 = 0.03536;
      A: short 0.5 @ 61,000, WB 10,000: UP 4,500, MM 104: 0.45 × 104/14,500 = 0.00323.
    B goes first and is closed whole (0.5), A gives the last 0.25. B's wallet becomes
    2,000 + 0.5 × (60,500 − 54,000) = 5,250; A's 10,000 + 0.25 × 7,000 = 11,750."""
    outcome = binance.simulate(
        scenario(
            52000,
            513,
            a=mc.Account(10000, [mc.Position("BTCUSDT", "short", D("0.5"), 61000)]),
            b=mc.Account(2000, [mc.Position("BTCUSDT", "short", D("0.5"), 60500)]),
        )
    )
    assert outcome.insurance_fund == 0
    assert outcome.adl == (
        AdlRecord(
            1, "b", "trader", "BTCUSDT", D("0.5"), D(54000), D(52000), cost=D(1000), side="short"
        ),
        AdlRecord(
            1, "a", "trader", "BTCUSDT", D("0.25"), D(54000), D(52000), cost=D(500), side="short"
        ),
    )
    assert outcome.balance("b") == D(5250)
    assert outcome.balance("a") == D(11750)
    assert outcome.open_positions["a"] == (("BTCUSDT", "short", D("0.25")),)
    assert outcome.open_positions["b"] == ()
    assert outcome.balance("trader") == 0 and outcome.debt("trader") == 0
    assert outcome.fund_holdings == {}
    assert outcome.ledger.total() == 0


def test_an_alias_of_a_smaller_contract_plays_the_scenarios_base_units(tmp_path: Path) -> None:
    """The previous test under a BTCUSDT whose contract is 0.01 BTC (OKX's size), named BTC
    in the scenario: the scenario's 1 BTC is 100 contracts, its book's depth is in BTC, and
    the outcome reports sizes in the scenario's BTC. The money is the same, to the cent:
    the fund's 513 covers 0.25 BTC, ADL takes 0.5 and 0.25 BTC at 54,000."""
    path = tmp_path / "hundredths.toml"
    path.write_text(
        'name = "hundredths"\nextends = "binance-usdm"\n[markets.BTCUSDT]\n'
        'contract_size = 0.01\naliases = ["BTC"]\n',
        encoding="utf-8",
    )
    policy = mc.load_policy(path)
    assert policy.market("BTC").contract_size == D("0.01")

    def btc(side: mc.Side, size: str, entry: int, **kw: object) -> mc.Position:
        return mc.Position("BTC", side, D(size), entry, **kw)  # type: ignore[arg-type]

    outcome = policy.simulate(
        mc.Scenario(
            {
                "trader": mc.Account(
                    0, [btc("long", "1", 60000, margin_mode="isolated", leverage=10)]
                ),
                "a": mc.Account(10000, [btc("short", "0.5", 61000)]),
                "b": mc.Account(2000, [btc("short", "0.5", 60500)]),
            },
            [mc.Step("open", {"BTC": D(60000)}), mc.Step("drop", {"BTC": D(52000)})],
            mc.MarkFill(slippage="0.001"),
            insurance_fund=513,
        )
    )
    assert outcome.liquidations == (
        Liquidation(1, "trader", "BTC", "long", D(1), D(54000), "takeover"),
    )
    assert outcome.adl == (
        AdlRecord(
            1, "b", "trader", "BTC", D("0.5"), D(54000), D(52000), cost=D(1000), side="short"
        ),
        AdlRecord(
            1, "a", "trader", "BTC", D("0.25"), D(54000), D(52000), cost=D(500), side="short"
        ),
    )
    assert (outcome.balance("a"), outcome.balance("b"), outcome.insurance_fund) == (11750, 5250, 0)
    assert outcome.open_positions["a"] == (("BTC", "short", D("0.25")),)
    assert outcome.ledger.total() == 0


def test_a_size_that_is_no_exact_number_of_contracts_cannot_play(tmp_path: Path) -> None:
    path = tmp_path / "thirds.toml"
    path.write_text(
        'name = "thirds"\nextends = "binance-usdm"\n[markets.BTCUSDT]\n'
        'contract_size = 3\naliases = ["BTC"]\n',
        encoding="utf-8",
    )
    one = mc.Scenario(
        {"x": mc.Account(1000, [mc.Position("BTC", "long", 1, 60000)])},
        [mc.Step("open", {"BTC": D(60000)})],
        mc.NoLiquidity(),
    )
    with pytest.raises(mc.InvalidInputError) as caught:
        mc.load_policy(path).simulate(one)
    assert str(caught.value) == (
        "account x: BTC size 1 is no exact number of thirds's contracts of 3"
    )


def test_under_chasing_the_trader_is_left_with_the_exact_debt() -> None:
    """No fund, no ADL: the position is sold in the market at 52,000 × 0.999 = 51,948, a loss
    of 8,052 against 6,000 of margin: the trader owes 2,052."""
    policy = mc.load_policy(DATA / "binance-usdm-chasing-test.toml")
    outcome = policy.simulate(scenario(52000, 0))
    assert outcome.liquidations == (
        Liquidation(1, "trader", "BTCUSDT", "long", D(1), D(51948), "market"),
    )
    assert outcome.debt("trader") == D(2052)
    assert outcome.balance("trader") == 0
    assert outcome.ledger.balance(lg.debt("trader")) == D(-2052)
    assert "owes 2,052" in outcome.explain("trader")


def test_no_liquidation_when_the_mark_stays_above_the_liquidation_price(
    binance: mc.Policy,
) -> None:
    outcome = binance.simulate(scenario(54300, 1000))
    assert outcome.liquidations == ()
    assert outcome.open_positions["trader"] == (("BTCUSDT", "long", D(1)),)
    assert "was not liquidated" in outcome.explain("trader")


def test_simulation_is_deterministic(binance: mc.Policy) -> None:
    build = lambda: scenario(  # noqa: E731
        52000, 513, a=mc.Account(10000, [mc.Position("BTCUSDT", "short", D("0.5"), 61000)])
    )
    assert binance.simulate(build()).ledger.events == binance.simulate(build()).ledger.events


def test_a_chased_debt_is_repaid_from_cash_that_comes_in_later() -> None:
    """No liquidity: liquidated positions close at the mark. Step 0: the cross long 0.001 BTC
    @ 60,060 on a zero wallet is bankrupt at 60,000 (margin balance −0.06 <= MM 0.24); closed
    there, it leaves −0.06: a debt of 0.06. Step 1: the isolated short 0.02 ETH @ 3,000 at 24x
    (margin 60 / 24 = 2.5) loses 0.02 × 114 = 2.28 at 3,114; its MM 62.28 × 0.4 % = 0.24912
    is above its margin balance 0.22, so it is closed at the mark and the 0.22 left returns to
    the wallet, which repays the 0.06 first: cash 0.16, no debt."""
    policy = mc.load_policy(DATA / "binance-usdm-chasing-test.toml")
    account = mc.Account(
        0,
        [
            mc.Position("BTCUSDT", "long", D("0.001"), 60060),
            mc.Position("ETHUSDT", "short", D("0.02"), 3000, "isolated", leverage=24),
        ],
    )
    outcome = policy.simulate(
        mc.Scenario(
            {"trader": account},
            [{"BTCUSDT": 60000, "ETHUSDT": 3000}, {"ETHUSDT": 3114}],
        )
    )
    assert [(x.step, x.symbol, x.price, x.kind) for x in outcome.liquidations] == [
        (0, "BTCUSDT", D(60000), "mark"),
        (1, "ETHUSDT", D(3114), "mark"),
    ]
    assert outcome.debt("trader") == 0
    assert outcome.balance("trader") == D("0.16")
    reasons = [e.reason for e in outcome.ledger.events]
    assert "deficit left as a debt" in reasons and "debt repaid from the wallet" in reasons


def _winners() -> dict[str, mc.Account]:
    """Two shorts of 1 BTC at 61,000: equity 11,000 and 6,000 at 60,000 (unrealised +1,000
    each), so at 51,000 each has made 9,000 in the period."""
    return {
        "a": mc.Account(10000, [mc.Position("BTCUSDT", "short", 1, 61000)]),
        "b": mc.Account(5000, [mc.Position("BTCUSDT", "short", 1, 61000)]),
    }


def test_clawback_takes_the_deficit_pro_rata_to_period_profits(tmp_path: Path) -> None:
    """Waterfall [clawback] only: no backstop, so the trader is sold at 51,000 × 0.998 =
    50,898, losing 9,102 against 6,000 of margin: a 3,102 deficit. The winners made 9,000
    each, so each gives 3,102 × 9,000 / 18,000 = 1,551 (OKEx: rate = deficit / Σ profits),
    after a settlement at 51,000 realises their 10,000 of PnL (entry reset to 51,000): a keeps
    10,000 + 10,000 − 1,551, b 5,000 + 10,000 − 1,551."""
    path = tmp_path / "claw-only.toml"
    path.write_text(
        'name = "claw-only"\nextends = "binance-usdm"\n[deficit]\nwaterfall = ["clawback"]\n'
    )
    outcome = mc.load_policy(path).simulate(
        mc.Scenario(
            {"trader": mc.Account(0, [TRADER]), **_winners()},
            [{"BTCUSDT": 60000}, {"BTCUSDT": 51000}],
            mc.MarkFill(slippage="0.002"),
        )
    )
    assert outcome.clawback_paid("a") == outcome.clawback_paid("b") == D(1551)
    assert outcome.balance("a") == D(18449) and outcome.balance("b") == D(13449)
    assert outcome.open_positions["a"] == (("BTCUSDT", "short", D(1)),)
    assert outcome.balance("trader") == 0 and outcome.debt("trader") == 0
    assert outcome.venue_loss == 0
    assert "1,551 of its profit was clawed back" in outcome.explain("a")


def test_pro_rata_shares_sum_to_the_deficit_exactly(binance: mc.Policy) -> None:
    """Deficit 1 between profits 1 and 10: a0 pays 1/11 (an endless quotient, cut at 50
    digits) and a1 the exact rest, so the shares sum to 1 and not 1 + 1e-51 (found by the
    conformance suite's clawback-exact law)."""
    shares = binance.clawback(1, {"a0": 1, "a1": 10})
    with exact_sums():  # no rounding in the test's own sum
        assert shares["a0"] + shares["a1"] == 1
    with localcontext() as ctx:
        ctx.prec = 60
        assert abs(shares["a0"] - D(1) / D(11)) < D("1e-49")


def test_the_fund_goes_first_then_the_clawback() -> None:
    """Waterfall [insurance-fund, clawback], fund 1,000. Taken over at 54,000, the BTC sells
    at 50,898: 3,102 lost per BTC. The fund can pay for 1,000 / 3,102 = 0.322 BTC in whole
    lots (998.844), its capacity (100 % of the 1.156 left) holds no lot, and there is no ADL:
    the other 0.678 is sold anyway for 0.678 × 3,102 = 2,103.156, leaving the fund at
    −2,102, which the winners pay back: 1,051 each."""
    outcome = mc.load_policy(DATA / "clawback-test.toml").simulate(
        mc.Scenario(
            {"trader": mc.Account(0, [TRADER]), **_winners()},
            [{"BTCUSDT": 60000}, {"BTCUSDT": 51000}],
            mc.MarkFill(slippage="0.002"),
            insurance_fund=1000,
        )
    )
    assert outcome.liquidations == (
        Liquidation(1, "trader", "BTCUSDT", "long", D(1), D(54000), "takeover"),
    )
    assert outcome.clawback_paid("a") == outcome.clawback_paid("b") == D(1051)
    assert outcome.insurance_fund == 0
    assert outcome.fund_holdings == {}
    assert outcome.ledger.total() == 0


# --- ADL at the mark and with a fee ---------------------------------------------------------


def _adl_variant(tmp_path: Path, price: str) -> mc.Policy:
    path = tmp_path / f"adl-{price}.toml"
    path.write_text(
        f'name = "adl-{price}"\nextends = "binance-usdm"\n[adl]\nprice = "{price}"\n'
        'fee = "maker"\n',
        encoding="utf-8",
    )
    return mc.load_policy(path)


def _gap_without_liquidity(fund: int) -> mc.Scenario:
    winner = mc.Account(10000, [mc.Position("BTCUSDT", "short", 2, 60000)])
    return mc.Scenario(
        {"trader": mc.Account(0, [TRADER]), "a": winner},
        [mc.Step("open", {"BTCUSDT": D(60000)}), mc.Step("gap", {"BTCUSDT": D(50000)})],
        mc.NoLiquidity(),
        insurance_fund=fund,
    )


def test_adl_at_the_mark_when_the_fund_can_pay_the_difference(tmp_path: Path) -> None:
    """Mark 50,000, no liquidity. The trader is taken over at 54,000. The fund (5,000) cannot
    sell; it holds what its capacity allows, 100 % × 5,000 = 5,000 of notional = 0.1 BTC at
    50,000. ADL at the mark would cost it (54,000 − 50,000) × 0.9 = 3,600 <= 5,000, so A's
    short closes 0.9 BTC at 50,000: PnL 0.9 × 10,000 = 9,000, maker fee 0.9 × 50,000 ×
    0.02 % = 9; the fund pays 3,600 and keeps 1,400 and the 0.1 BTC."""
    outcome = _adl_variant(tmp_path, "mark").simulate(_gap_without_liquidity(5000))
    assert outcome.adl == (
        AdlRecord(1, "a", "trader", "BTCUSDT", D("0.9"), D(50000), D(50000), side="short"),
    )
    assert outcome.balance("a") == D(10000) + D(9000) - D(9)
    assert outcome.fees_paid("a") == D(9)
    assert outcome.insurance_fund == D(1400)
    assert outcome.fund_holdings == {"BTCUSDT long": D("0.1")}
    assert outcome.realized_pnl("a") == D(9000)
    assert outcome.ledger.total() == 0


def test_adl_at_the_bankruptcy_price_when_the_fund_cannot(tmp_path: Path) -> None:
    """Same gap, fund 1,000: it holds 1,000 / 50,000 = 0.02 BTC; at the mark the other 0.98
    would cost it 4,000 × 0.98 = 3,920 > 1,000, so ADL fills at the bankruptcy price 54,000:
    A gains 0.98 × 6,000 = 5,880 and pays 0.98 × 54,000 × 0.02 % = 10.584."""
    outcome = _adl_variant(tmp_path, "mark").simulate(_gap_without_liquidity(1000))
    assert outcome.adl == (
        AdlRecord(
            1, "a", "trader", "BTCUSDT", D("0.98"), D(54000), D(50000), cost=D(3920), side="short"
        ),
    )
    assert outcome.balance("a") == D(10000) + D(5880) - D("10.584")
    assert outcome.insurance_fund == D(1000)
    assert outcome.ledger.total() == 0


# --- time, deposits, withdrawals, interest on a chased debt ---------------------------------


def test_a_chased_debt_accrues_interest_and_a_deposit_repays_it_first(tmp_path: Path) -> None:
    """The chasing test scenario leaves a debt of 2,052 at step 1 (day 0). At 36.5 % a year,
    ten days (step 2) add 2,052 × 0.365 × 10 / 365 = 20.52; the deposit of 1,000 then repays
    1,000: 1,072.52 owed, wallet 0. A withdrawal of 1 at step 3 is refused (nothing is left
    to withdraw)."""
    path = tmp_path / "chasing-interest.toml"
    path.write_text(
        'name = "chasing-interest"\nextends = "binance-usdm-chasing"\n'
        "[chasing]\nannual_interest_rate = 0.365\n",
        encoding="utf-8",
    )
    steps = [
        mc.Step("open", {"BTCUSDT": D(60000)}),
        mc.Step("drop", {"BTCUSDT": D(52000)}),
        mc.Step("deposit", {}, day=D(10), transfers={"trader": D(1000)}),
        mc.Step("withdraw", {}, transfers={"trader": D(-1)}),
    ]
    scenario = mc.Scenario({"trader": mc.Account(0, [TRADER])}, steps, mc.MarkFill("0.001"))
    outcome = mc.load_policy(path).simulate(scenario)
    assert outcome.debt("trader") == D("1072.52")
    assert outcome.balance("trader") == 0
    assert outcome.ledger.balance(lg.INTEREST) == D("20.52")
    assert [n.text for n in outcome.notices] == [
        "a withdrawal of 1 was refused: 0 could be withdrawn"
    ]
    story = outcome.explain("trader")
    assert "It owes 1,072.52, including 20.52 of interest" in story
    assert "1,000 of its cash went to repay its debt" in story
    assert outcome.ledger.total() == 0


def test_a_withdrawal_keeps_the_initial_margin_of_open_positions(binance: mc.Policy) -> None:
    """A cross long 1 BTC @ 60,000 at 20x, marked at 61,000, needs 61,000 / 20 = 3,050 of
    initial margin (value at the mark / leverage); with 5,000 in the wallet and 1,000 of
    unrealised profit (not withdrawable) at most min(5,000, 6,000 − 3,050) = 2,950 can go:
    2,951 is refused whole, 2,950 is paid."""
    account = mc.Account(5000, [mc.Position("BTCUSDT", "long", 1, 60000, leverage=20)])
    steps = [
        mc.Step("open", {"BTCUSDT": D(61000)}, transfers={"trader": D(-2951)}),
        mc.Step("again", {}, transfers={"trader": D(-2950)}),
    ]
    outcome = binance.simulate(mc.Scenario({"trader": account}, steps))
    assert [n.text for n in outcome.notices] == [
        "a withdrawal of 2951 was refused: 2950 could be withdrawn"
    ]
    assert outcome.balance("trader") == D(2050)
    assert outcome.ledger.balance(lg.EXTERNAL) == D(2950)


def test_an_opening_position_beyond_the_leverage_cap_is_noted(binance: mc.Policy) -> None:
    """BTCUSDT's bracket holding 1,200,000 (20 BTC at 60,000; bracket 600,000-3,000,000)
    allows 75x (Oct 2024 brackets); an isolated position opened at 100x is noted, and played
    as given."""
    account = mc.Account(0, [mc.Position("BTCUSDT", "long", 20, 60000, "isolated", leverage=100)])
    outcome = binance.simulate(mc.Scenario({"t": account}, [{"BTCUSDT": D(60000)}]))
    (notice,) = outcome.notices
    assert notice.text.startswith("its BTCUSDT long position opens at 100x, above binance-usdm's")
    assert "maximum leverage of 75x" in notice.text


def test_longs_equal_shorts_is_checked_after_every_step(
    binance: mc.Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A planted bug: fills into the book no longer give the market its side. The trader's
    liquidation order (fund-runs-dry fills in the book) then leaves longs and shorts apart,
    and the step's check stops the run."""
    from margincall import engine

    def forgetful(self: engine._Simulation, symbol: str, side: str, size: D) -> None:
        self.consumed[(symbol, side)] = self.consumed.get((symbol, side), D(0)) + size

    binance.simulate(mc.load_scenario("fund-runs-dry"))  # sound engine: no complaint
    monkeypatch.setattr(engine._Simulation, "_took", forgetful)
    with pytest.raises(mc.MargincallError, match="longs and shorts differ"):
        binance.simulate(mc.load_scenario("fund-runs-dry"))


# --- ADL triggered while the insurance fund still holds money (margincall_adl_trigger) ------


def _fund_drop(crash_day: str) -> mc.Scenario:
    """A 400,000 fund, drawn down to 200,000 on day 0, then a second takeover ``crash_day``
    days later (scenario sizes in BTC; okx-swap plays them as 0.01 BTC contracts).

    Step 1 (day 0, mark 50,000): "big", an isolated long 50 BTC @ 60,000 at 10x (margin
    300,000, 5,000 contracts: OKX tier 2, so taken over whole), is bankrupt at
    60,000 − 300,000 / 50 = 54,000. The fund sells the 50 BTC at the mark (no slippage):
    50 × (50,000 − 54,000) = −200,000, leaving 200,000.
    Step 2 (mark 40,000): "small", an isolated long 1 BTC @ 45,000 at 10x (margin 4,500), has
    4,500 − 5,000 = −500 of margin balance and is taken over at 45,000 − 4,500 = 40,500.
    "w" is short 2 BTC @ 60,000 with 10,000 of cash: a winner."""
    return mc.Scenario(
        {
            "big": mc.Account(
                0, [mc.Position("BTCUSDT", "long", 50, 60000, "isolated", leverage=10)]
            ),
            "small": mc.Account(
                0, [mc.Position("BTCUSDT", "long", 1, 45000, "isolated", leverage=10)]
            ),
            "w": mc.Account(10000, [mc.Position("BTCUSDT", "short", 2, 60000)]),
        },
        [
            mc.Step("open", {"BTCUSDT": D(60000)}),
            mc.Step("gap", {"BTCUSDT": D(50000)}),
            mc.Step("crash", {"BTCUSDT": D(40000)}, day=D(crash_day)),
        ],
        mc.MarkFill(),
        insurance_fund=400000,
    )


def test_a_fund_drop_sends_the_takeover_to_adl_while_the_fund_still_pays() -> None:
    """okx-swap, OKX-4's figures [DROP: OKX help mirror, "a straight-line decrease of 30% from
    the peak value of the risk reserve within 8 hours"; ukcamo.com/4352.html, undated: the
    reference minus max(30 %, 50K)]. At step 1 the fund's history is 400,000 throughout: its
    peak 400,000 gives a threshold of 400,000 − max(120,000, 50,000) = 280,000, and 400,000
    is not below it, so the fund takes "big" over as usual and ends at 200,000.
    Step 2 is 6 hours later (day 0.25): the points 400,000, 400,000, 200,000 are 6 hours old,
    the peak within 8 hours is 400,000, the threshold 280,000, and 200,000 < 280,000: ADL
    comes first. At the mark ([adl] price = "mark"; the fund can pay the gap
    1 × (40,500 − 40,000) = 500): w's short closes 1 BTC at 40,000, realising
    1 × (60,000 − 40,000) = 20,000 (cash 30,000, no ADL fee); the fund pays the 500 and ends
    at 199,500. The book takes nothing from the fund."""
    outcome = mc.load_policy("okx-swap").simulate(_fund_drop("0.25"))
    assert outcome.liquidations == (
        Liquidation(1, "big", "BTCUSDT", "long", D(50), D(54000), "takeover"),
        Liquidation(2, "small", "BTCUSDT", "long", D(1), D(40500), "takeover"),
    )
    assert outcome.fund_path == (D(400000), D(200000), D(199500))
    assert outcome.adl == (
        AdlRecord(2, "w", "small", "BTCUSDT", D(1), D(40000), D(40000), side="short"),
    )
    assert outcome.balance("w") == D(30000)
    assert outcome.open_positions["w"] == (("BTCUSDT", "short", D(1)),)
    assert outcome.balance("small") == 0 and outcome.debt("small") == 0
    assert [(n.step, n.account) for n in outcome.notices] == [(2, "small")]
    assert "ADL trigger held with the insurance fund at 200,000" in outcome.explain("small")
    assert outcome.ledger.total() == 0


def test_no_adl_first_once_the_peak_is_outside_the_window() -> None:
    """The same takeover 12 hours after the drop (day 0.5): the 400,000 and the 200,000 of
    day 0 are 12 hours old, outside the 8-hour window, so the reference is the balance now,
    200,000, and the threshold 200,000 − max(60,000, 50,000) = 140,000: not triggered. The
    fund sells the BTC in the book at 40,000, losing 500 (the same 199,500 as under ADL at
    the mark), and w keeps its whole short and its 10,000."""
    outcome = mc.load_policy("okx-swap").simulate(_fund_drop("0.5"))
    assert outcome.fund_path == (D(400000), D(200000), D(199500))
    assert outcome.adl == ()
    assert outcome.balance("w") == D(10000)
    assert outcome.open_positions["w"] == (("BTCUSDT", "short", D(2)),)
    assert outcome.notices == ()
    assert outcome.ledger.total() == 0


def test_the_default_trigger_never_fires(binance: mc.Policy) -> None:
    """Binance publishes no trigger ahead of the fund: the default answers False, even for an
    empty fund (the engine then deleverages what the fund cannot absorb, as before)."""
    assert binance.adl_trigger("BTCUSDT", [(0, 400000), (D("0.25"), 0)]) is False


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ([], "fund_history: at least one (day, balance) point is needed: the last one is now"),
        ([(0, 1), (D("0.5"), 1), (D("0.25"), 1)], "fund_history[2] day: 0.25 is before the"),
        ([(0, -1)], "fund_history[0] balance: must be >= 0, got -1"),
        ([(0.5, 1)], "fund_history[0] day: got the float 0.5; floats are inexact"),
        ([(0, 1, 2)], "fund_history[0]: expected a (day, balance) pair, got (0, 1, 2)"),
    ],
)
def test_a_bad_fund_history_is_refused(
    binance: mc.Policy, history: list[tuple[object, ...]], message: str
) -> None:
    with pytest.raises(mc.InvalidInputError) as caught:
        binance.adl_trigger("BTCUSDT", history)  # type: ignore[arg-type]
    assert str(caught.value).startswith(message)


def test_a_cross_pool_drained_by_an_isolated_deficit_is_liquidated_in_the_same_step() -> None:
    """binance-usdm-chasing (found by the stateful conformance test). The account holds an
    isolated short 0.01 BNB @ 100 on 0.0051 of margin and a cross long 0.001 BTC @ 1,000.1,
    with 0.0050005 in its wallet. At BNB 115 (no liquidity) the short closes at the mark,
    losing 0.01 × 15 = 0.15: 0.1449 past its margin. Chasing takes the wallet's 0.0050005
    first and leaves 0.1398995 owed, which leaves the cross long (0.001 × (1,000 − 1,000.1)
    = −0.0001 at the 1,000 mark) with no cash: it is liquidated in the same step, at the
    mark, and its 0.0001 loss is owed too: 0.1399995 in all, and no negative equity left."""
    policy = mc.load_policy("binance-usdm-chasing")
    scenario = mc.Scenario(
        {
            "a0": mc.Account(
                D("0.0050005"),
                [
                    mc.Position("BNBUSDT", "short", D("0.01"), 100, "isolated", margin=D("0.0051")),
                    mc.Position("BTCUSDT", "long", D("0.001"), D("1000.1"), "cross"),
                ],
            )
        },
        [
            mc.Step("open", {"BNBUSDT": D(100), "BTCUSDT": D(1000)}),
            mc.Step("move", {"BNBUSDT": D(115), "BTCUSDT": D(1000)}),
        ],
        mc.NoLiquidity(),
        insurance_fund=0,
    )
    outcome = policy.simulate(scenario)
    assert [(x.symbol, x.size, x.price, x.kind) for x in outcome.liquidations] == [
        ("BNBUSDT", D("0.01"), D(115), "mark"),
        ("BTCUSDT", D("0.001"), D(1000), "mark"),
    ]
    assert outcome.debt("a0") == D("0.1399995")
    assert outcome.equity["a0"] == 0 and outcome.balance("a0") == 0


def test_a_winner_deleveraged_below_the_mark_is_checked_again_in_the_same_step(
    binance: mc.Policy,
) -> None:
    """binance-usdm, ADL at the bankruptcy price (found by the stateful conformance test on
    dydx-v4). "a" (checked first) holds 1,000 of cash, a cross long 1 BTC @ 60,000 and a cross
    long 10 ETH @ 3,000. "b" is short 1 BTC @ 60,000 at 10x isolated (margin 6,000, bankrupt
    at 66,000). BTC gaps to 70,000 and ETH falls to 2,000, with no book and an empty fund.
    a's equity is 1,000 + 10,000 − 10,000 = 1,000, above its maintenance margin (BTC:
    70,000 × 0.5 % − 50 = 300, ETH: 20,000 × 0.4 % = 80), so a is not liquidated; then b is
    taken over at 66,000 and ADL closes a's BTC there: a realises 6,000, not the 10,000 at the
    mark, and its cash 7,000 against the ETH's −10,000 leaves equity −3,000. a is checked
    again at the same marks: its ETH is taken over at its bankruptcy price 3,000 − 7,000 / 10
    = 2,300 and held by the fund, and a ends at 0, not under water."""
    scenario = mc.Scenario(
        {
            "a": mc.Account(
                1000,
                [
                    mc.Position("BTCUSDT", "long", 1, 60000),
                    mc.Position("ETHUSDT", "long", 10, 3000),
                ],
            ),
            "b": mc.Account(
                0, [mc.Position("BTCUSDT", "short", 1, 60000, "isolated", leverage=10)]
            ),
        },
        [
            mc.Step("open", {"BTCUSDT": D(60000), "ETHUSDT": D(3000)}),
            mc.Step("gap", {"BTCUSDT": D(70000), "ETHUSDT": D(2000)}),
        ],
        mc.NoLiquidity(),
        insurance_fund=0,
    )
    outcome = binance.simulate(scenario)
    assert [(a.account, a.size, a.price, a.cost) for a in outcome.adl] == [
        ("a", D(1), D(66000), D(4000))
    ]
    assert [(x.account, x.symbol, x.size, x.price, x.kind) for x in outcome.liquidations] == [
        ("b", "BTCUSDT", D(1), D(66000), "takeover"),
        ("a", "ETHUSDT", D(10), D(2300), "takeover"),
    ]
    assert outcome.equity["a"] == 0 and outcome.balance("a") == 0
    assert outcome.fund_holdings == {"ETHUSDT long": D(10)}


def test_an_account_id_that_prefixes_another_owns_only_its_own_wallets(
    binance: mc.Policy,
) -> None:
    """Wallets are owned by the account that opened them, not read back from their names:
    "a"'s equity holds its 1,000 of cash and its 6,000 of isolated margin (1 BTC at 60,000,
    10x), not "a:b"'s 3,000 (0.5 BTC, 10x), whose wallet is named margin:a:b:BTCUSDT:long."""
    accounts = {
        "a": mc.Account(1000, [mc.Position("BTCUSDT", "long", 1, 60000, "isolated", leverage=10)]),
        "a:b": mc.Account(
            500, [mc.Position("BTCUSDT", "long", D("0.5"), 60000, "isolated", leverage=10)]
        ),
    }
    outcome = binance.simulate(mc.Scenario(accounts, [{"BTCUSDT": D(60000)}]))
    assert outcome.equity == {"a": D(7000), "a:b": D(3500)}
