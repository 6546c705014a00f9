"""Who pays the losses beyond the bankrupt accounts' collateral, by hand on small scenarios.

The breakdown (``Outcome.who_pays()``) must account for every unit of a bankrupt position's
loss past its bankruptcy price: the fund's cash, what the fund still holds (at the last mark),
ADL winners' forgone profit, clawbacks, the traders themselves, the venue. The conformance law
``who-pays-adds-up`` checks the identities on generated scenarios for every policy; these
tests check the figures against arithmetic done by hand.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import margincall as mc
from margincall.cli import main
from margincall.outcome import FundPosition, LossBreakdown

D = Decimal


def _long_and_no_short(fund: int = 0) -> mc.Scenario:
    """One 10x isolated long 1 BTC at 60,000 (margin 6,000, bankrupt at 54,000), nobody on
    the other side, no liquidity, and a gap to 50,000."""
    trader = mc.Position("BTCUSDT", "long", 1, 60000, "isolated", leverage=10)
    return mc.Scenario(
        {"trader": mc.Account(0, [trader])},
        [mc.Step("open", {"BTCUSDT": D(60000)}), mc.Step("gap", {"BTCUSDT": D(50000)})],
        mc.NoLiquidity(),
        insurance_fund=fund,
    )


def test_a_fund_left_holding_a_long_shows_its_loss_at_the_mark(binance: mc.Policy) -> None:
    """binance-usdm: the trader is taken over at 54,000 and loses its 6,000 of margin. The
    fund (0) cannot sell (no book) and nobody can be deleveraged (no shorts), so it holds the
    1 BTC bought at 54,000: at the 50,000 mark a loss of 4,000, its cash still 0, its equity
    -4,000. The 4,000 past the trader's collateral sits in the fund's holdings."""
    outcome = binance.simulate(_long_and_no_short())
    assert outcome.fund_path == (D(0), D(0))
    assert outcome.fund_positions == (
        FundPosition("BTCUSDT", "long", D(1), D(54000), D(50000), D(-4000)),
    )
    assert outcome.fund_holdings_value == -4000
    assert outcome.fund_equity == -4000
    assert outcome.who_pays() == LossBreakdown(
        fund_cash=D(0),
        fund_holdings=D(4000),
        adl=D(0),
        clawback=D(0),
        traders=D(0),
        venue=D(0),
        unallocated=D(0),
        total=D(4000),
    )
    story = outcome.explain("insurance-fund")
    assert "It still holds 1 BTCUSDT long, taken over at an average of 54,000" in story
    assert "at the last mark, 50,000, that is a loss of 4,000" in story
    assert "Its equity (cash plus holdings at the marks) is -4,000." in story


def test_the_fund_s_cash_pays_for_selling_below_the_bankruptcy_price(binance: mc.Policy) -> None:
    """owe-money (see test_compare): taken over at 54,000, sold by the fund at 50,898: the
    fund's cash pays 3,102, and that is all of the loss past the trader's 6,000 margin."""
    w = binance.simulate(mc.load_scenario("owe-money")).who_pays()
    assert (w.fund_cash, w.fund_holdings, w.traders, w.total) == (D(3102), 0, 0, D(3102))


def test_under_chasing_the_trader_pays_with_its_cash_and_a_debt() -> None:
    """owe-money under binance-usdm-chasing: sold at 50,898, 9,102 lost against 6,000 of
    margin; the 3,102 past it is the trader's: 1,000 of its wallet and 2,102 owed."""
    policy = mc.load_policy("binance-usdm-chasing")
    w = policy.simulate(mc.load_scenario("owe-money")).who_pays()
    assert (w.traders, w.fund_cash, w.venue, w.total) == (D(3102), 0, 0, D(3102))


def test_adl_winners_pay_the_gap_between_the_bankruptcy_price_and_the_mark(
    binance: mc.Policy,
) -> None:
    """test_engine's first ADL case: bankrupt at 54,000, mark 52,000. The fund (513) sells
    0.25 BTC at 51,948, losing 0.25 × 2,052 = 513; ADL closes 0.5 (B) and 0.25 (A) at 54,000,
    each short giving up (54,000 − 52,000) per BTC against the mark: 1,000 and 500. The loss
    past the trader's margin: 513 + 1,500 = 2,013."""
    trader = mc.Position("BTCUSDT", "long", 1, 60000, "isolated", leverage=10)
    scenario = mc.Scenario(
        {
            "trader": mc.Account(0, [trader]),
            "a": mc.Account(10000, [mc.Position("BTCUSDT", "short", D("0.5"), 61000)]),
            "b": mc.Account(2000, [mc.Position("BTCUSDT", "short", D("0.5"), 60500)]),
        },
        [mc.Step("open", {"BTCUSDT": D(60000)}), mc.Step("gap", {"BTCUSDT": D(52000)})],
        mc.MarkFill(slippage="0.001"),
        insurance_fund=513,
    )
    outcome = binance.simulate(scenario)
    w = outcome.who_pays()
    assert (w.fund_cash, w.adl, w.total) == (D(513), D(1500), D(2013))
    assert "giving up 1,000 against the mark" in outcome.explain("b")
    assert "0.75 went to auto-deleveraging, where the winners gave up 1,500" in outcome.explain(
        "trader"
    )


def test_simulate_and_compare_show_the_fund_holdings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The command line shows the held inventory and who pays (binance-usdm, as above)."""
    path = tmp_path / "long-only.toml"
    path.write_text(
        'name = "long-only"\ninsurance_fund = 0\n[liquidity]\nmodel = "none"\n'
        '[[accounts]]\nid = "trader"\nbalance = 0\n[[accounts.positions]]\nsymbol = "BTCUSDT"\n'
        'side = "long"\nsize = 1\nentry_price = 60000\nmargin_mode = "isolated"\nleverage = 10\n'
        "[[steps]]\nmarks = { BTCUSDT = 60000 }\n[[steps]]\nmarks = { BTCUSDT = 50000 }\n",
        encoding="utf-8",
    )
    assert main(["simulate", str(path), "--policy", "binance-usdm"]) == 0
    out = capsys.readouterr().out
    assert "It still holds 1 BTCUSDT long" in out
    assert "Losses beyond the bankrupt accounts' collateral: 4,000 USDT, paid by:" in out
    assert "the insurance fund's holdings, at the last marks: 4,000" in out
    assert main(["compare", str(path), "--policy", "binance-usdm", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    header, row = out.splitlines()
    record = dict(zip(header.split(","), row.split(","), strict=True))
    assert record["fund_holdings_value"] == "-4000"
    assert record["fund_equity_change"] == "-4000"
    assert record["who_pays_fund_holdings"] == "4000"
    assert record["currency"] == "USDT"
