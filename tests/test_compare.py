"""Policies side by side on the bundled scenarios.

owe-money, by hand: 10x long 1 BTC at 60,000 (isolated margin 6,000; bankruptcy price
54,000), 1,000 more in the wallet; BTC gaps to 51,000 and the book fills 0.2 % below the mark,
at 50,898.
* binance-usdm: the trader is taken over at 54,000 and loses its 6,000 of margin, keeps its
  1,000, owes nothing; the fund (10,000) sells at 50,898, losing 3,102.
* binance-usdm-chasing: the trader is sold at 50,898: a loss of 9,102 against 6,000 of margin
  leaves 3,102 owed; its 1,000 pays first, so it owes 2,102.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from decimal import Decimal, localcontext
from pathlib import Path

import attrs
import pytest

import margincall as mc
from margincall.compare import Row, compare
from margincall.scenario import bundled_scenarios, load_scenario

D = Decimal


@pytest.fixture(scope="module")
def owe_money() -> mc.Scenario:
    return load_scenario("owe-money")


def test_bundled_scenarios_load() -> None:
    assert bundled_scenarios() == [
        "crash-2025-10",
        "crash-2025-10-coin",
        "fund-runs-dry",
        "owe-money",
    ]
    crash = load_scenario("crash-2025-10")
    assert len(crash.accounts) == 240
    assert [s.label for s in crash.steps] == ["open", "-5%", "-12%", "low", "rebound"]


def test_do_i_owe_money(owe_money: mc.Scenario) -> None:
    comparison = compare(owe_money, ["binance-usdm", "binance-usdm-chasing"])
    rows = {r.policy: r for r in comparison.rows}
    assert (rows["binance-usdm"].final_balance, rows["binance-usdm"].debt) == (D(1000), 0)
    assert (rows["binance-usdm-chasing"].final_balance, rows["binance-usdm-chasing"].debt) == (
        0,
        D(2102),
    )
    summary = {s.policy: s for s in comparison.summary()}
    assert summary["binance-usdm"].insurance_fund_change == D(-3102)
    assert summary["binance-usdm"].liquidated_notional == D(54000)  # taken over at 54,000
    assert summary["binance-usdm-chasing"].insurance_fund_change == 0
    assert summary["binance-usdm-chasing"].liquidated_notional == D(50898)
    assert summary["binance-usdm-chasing"].debt_owed == D(2102)
    assert all(s.accounts_liquidated == 1 and s.error is None for s in summary.values())


def test_renderings(owe_money: mc.Scenario) -> None:
    comparison = compare(owe_money, ["binance-usdm", "binance-usdm-chasing"])
    data = json.loads(comparison.to_json())
    assert data["scenario"] == "owe-money"
    assert [s["policy"] for s in data["summary"]] == ["binance-usdm", "binance-usdm-chasing"]
    assert D(data["rows"][1]["debt"]) == D(2102)
    rows = list(csv.DictReader(io.StringIO(comparison.to_csv("accounts"))))
    assert [(r["policy"], r["currency"], D(r["debt"])) for r in rows] == [
        ("binance-usdm", "USDT", 0),
        ("binance-usdm-chasing", "USDT", D(2102)),
    ]
    # the summary, by default: the fund's 3,102 loss (sold at 50,898, taken over at 54,000)
    # and the trader's 1,000 of cash and 2,102 of debt are each policy's who-pays total
    summary = list(csv.DictReader(io.StringIO(comparison.to_csv())))
    assert [
        (r["policy"], r["status"], r["who_pays_fund_cash"], r["who_pays_traders"]) for r in summary
    ] == [("binance-usdm", "played", "3102", "0"), ("binance-usdm-chasing", "played", "0", "3102")]
    assert {r["who_pays_total"] for r in summary} == {"3102"}
    markdown = comparison.to_markdown()
    assert "| binance-usdm-chasing | trader | yes |" in markdown
    assert "2,102.00" in markdown
    assert "| debt owed (USDT) |" in markdown
    assert "| trader |" not in comparison.to_markdown(accounts=False)


def test_a_failing_policy_is_reported_and_the_others_still_compare(
    owe_money: mc.Scenario, tmp_path: Path
) -> None:
    """A policy without the scenario's BTCUSDT market cannot play it: its row says why."""
    text = (Path(__file__).parent / "data" / "flat-venue.toml").read_text(encoding="utf-8")
    path = tmp_path / "eth-only.toml"
    path.write_text(
        text.replace('name = "flat-venue"', 'name = "eth-only"')
        .replace('plugins = ["flat"]', "plugins = []")
        .replace("markets.BTCUSDT", "markets.ETHUSDT"),
        encoding="utf-8",
    )
    comparison = compare(owe_money, ["binance-usdm", mc.load_policy(path)])
    failed = next(s for s in comparison.summaries if s.policy == "eth-only")
    assert failed.error is not None and "unknown symbol 'BTCUSDT'" in failed.error
    table = comparison.to_table()
    assert "eth-only cannot play it: unknown symbol 'BTCUSDT'" in table
    assert max(len(line) for line in table.splitlines()[:6]) < 160  # the reason is not a cell
    assert [r.policy for r in comparison.rows] == ["binance-usdm"]


@pytest.mark.skipif(importlib.util.find_spec("pandas") is not None, reason="pandas installed")
def test_to_pandas_says_what_is_missing(owe_money: mc.Scenario) -> None:
    with pytest.raises(mc.MargincallError, match="pip install pandas"):
        compare(owe_money, ["binance-usdm"]).to_pandas()


def test_to_pandas_has_one_row_per_account_exact() -> None:
    """With pandas installed (the ``pandas`` extra; the ``lowest`` tox environment installs
    its floor): one row per policy and account, every column of Row, the money still exact."""
    pytest.importorskip("pandas")
    comparison = compare(load_scenario("owe-money"), ["binance-usdm", "binance-usdm-chasing"])
    frame = comparison.to_pandas()
    assert list(frame.columns) == [f.name for f in attrs.fields(Row)]
    assert frame.to_dict("records") == [attrs.asdict(r) for r in comparison.rows]
    assert len(frame) == len(comparison.rows) >= 2
    assert all(isinstance(v, Decimal) for v in frame["final_balance"])


def test_the_crash_shows_who_pays_under_each_waterfall() -> None:
    """The same crash: Binance's fund and ADL leave nobody owing; under chasing nobody is
    deleveraged, the fund is untouched, and the liquidated accounts owe."""
    summary = {s.policy: s for s in compare(load_scenario("crash-2025-10")).summary()}
    binance, chasing = summary["binance-usdm"], summary["binance-usdm-chasing"]
    assert binance.accounts_liquidated == chasing.accounts_liquidated > 0
    assert binance.debt_owed == 0 and binance.insurance_fund_change < 0
    assert chasing.adl_notional == 0 and chasing.insurance_fund_change == 0
    assert chasing.debt_owed > 0


def test_inverse_markets_compare(tmp_path: Path) -> None:
    """Inverse contracts (coin-settled, value = contracts × 100 / price) go through the same
    comparison: 1,000 contracts of 100 USD at 30,000, 10x isolated (margin 1/30 × 1/10 BTC),
    bankrupt below 30,000 × 10/11 = 27,272.73; closed at a 27,000 mark with no liquidity:
    notional 1,000 × 100 / 27,000 BTC, an inexact division (50 digits)."""
    path = tmp_path / "inverse.toml"
    path.write_text(
        'name = "inverse-test"\nextends = "binance-usdm-chasing"\n'
        "[markets.BTCUSD]\n"
        'contract_type = "inverse"\ncontract_size = 100\ntick_size = 0.1\nlot_size = 1\n'
        'settlement_currency = "BTC"\n'
        "tiers = [{ min_notional = 0, max_notional = 1000, max_leverage = 100, "
        "maintenance_margin_rate = 0.005 }]\n"
    )
    trader = mc.Position("BTCUSD", "long", 1000, 30000, "isolated", leverage=10)
    scenario = mc.Scenario({"t": mc.Account(0, [trader])}, [{"BTCUSD": 30000}, {"BTCUSD": 27000}])
    (row,) = compare(scenario, [mc.load_policy(path)]).rows
    with localcontext() as ctx:
        ctx.prec = 50
        assert row.liquidated and row.liquidated_notional == D(100000) / D(27000)
