"""broker-chasing and esma-retail: regimes played by the default mechanisms from TOML alone.

Sources (in the policies' [[sources]]): INTL FCStone's 10-K (2018) and demand letters ("1%
plus The Wall Street Journal Prime Rate", tlylaw.com, 2018-11) with the prime rate of 5.25 %
(FRED DPRIME, 2018-11-16); ESMA Decision (EU) 2018/796 (2018-05-22) and its renewal summary
(regulationtomorrow.com, 2019-03-27): leverage limits, close-out at 50 % of the initial
margin, negative-balance protection.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

import margincall as mc

D = Decimal


@pytest.fixture(scope="module")
def broker() -> mc.Policy:
    return mc.load_policy("broker-chasing")


@pytest.fixture(scope="module")
def esma() -> mc.Policy:
    return mc.load_policy("esma-retail")


# --- broker-chasing -------------------------------------------------------------------------


def test_broker_chasing_terms(broker: mc.Policy) -> None:
    """No venue plugin, no fund, no ADL: the deficit is chased at 1 % + 5.25 % prime."""
    assert broker.plugins[-1] == "chasing"  # only the default mechanisms
    assert broker.spec.deficit.waterfall == ("chasing",)
    assert broker.spec.chasing.annual_interest_rate == D("0.0625")
    assert broker.liquidation_fee("BTCUSDT", 1, 60000) == 0
    # simple interest on a 365-day year: 2,102 × 6.25 % × 73 / 365 = 26.275
    assert broker.debt_interest(2102, 73) == D("26.275")


def test_the_customer_owes_the_deficit_with_interest_until_it_is_paid(broker: mc.Policy) -> None:
    """owe-money: the isolated long 1 BTC @ 60,000 (margin 6,000) is closed in the market at
    51,000 × 0.998 = 50,898, a loss of 9,102: the margin leaves −3,102; the 1,000 in the
    wallet pays first, so the customer owes 2,102. 73 days later the debt has grown by
    2,102 × 0.0625 × 73 / 365 = 26.275 to 2,128.275, and a deposit of 500 repays 500 of it:
    1,628.275 is owed, and the broker holds that receivable (it bears it only if it is never
    collected)."""
    owe = mc.load_scenario("owe-money")
    later = mc.Step("a deposit, 73 days later", {}, D(73), {"trader": D(500)})
    outcome = broker.simulate(
        mc.Scenario(
            owe.accounts,
            [*owe.steps, later],
            owe.liquidity,
            name=owe.name,
            insurance_fund=owe.insurance_fund,
        )
    )
    (closed,) = outcome.liquidations
    assert (closed.kind, closed.price) == ("market", D(50898))
    assert outcome.debt("trader") == D("1628.275")
    assert outcome.balance("trader") == 0
    assert outcome.venue_loss == 0
    assert outcome.insurance_fund == 10000  # the scenario's fund is never touched
    assert "It owes 1,628.275, including 26.275 of interest" in outcome.explain("trader")
    assert outcome.ledger.total() == 0


# --- esma-retail ----------------------------------------------------------------------------


def test_crypto_cfds_close_out_at_half_the_initial_margin(esma: mc.Policy) -> None:
    """2:1 for cryptocurrencies: initial margin 50 % of the notional, close-out at 50 % of
    it, 25 %. A long 1 BTC @ 60,000 with 30,000 (exactly 2:1): equity 30,000 + (P − 60,000)
    = 0.25 P at P = 40,000 (= 2/3 × 60,000); equity 0 at 30,000."""
    account = mc.Account(30000, [mc.Position("BTCUSDT", "long", 1, 60000)])
    marks = {"BTCUSDT": 60000}
    assert esma.initial_margin(account, "BTCUSDT", marks=marks) == 30000
    assert esma.liquidation_price(account, "BTCUSDT", marks=marks) == 40000
    assert esma.bankruptcy_price(account, "BTCUSDT", marks=marks) == 30000


def test_a_major_index_is_capped_at_20_to_1(esma: mc.Policy) -> None:
    """20:1: initial margin 5 %, close-out at 2.5 %. Long 10 US500 @ 3,900 with 1,950
    (exactly 20:1): 1,950 + 10 (P − 3,900) = 0.025 × 10 P at P = 37,050 / 9.75 = 3,800."""
    account = mc.Account(1950, [mc.Position("US500", "long", 10, 3900)])
    marks = {"US500": 3900}
    assert esma.initial_margin(account, "US500", marks=marks) == 1950
    assert esma.liquidation_price(account, "US500", marks=marks) == 3800


@pytest.mark.parametrize(
    ("mark", "slippage", "balance", "venue_loss"),
    [
        # 39,000: equity 9,000 <= 9,750; sold at 38,961: 30,000 − 21,039 = 8,961 is kept
        (39000, "0.001", D(8961), D(0)),
        # a gap to 29,000: sold there, 30,000 − 31,000 = −1,000, which the provider pays
        (29000, "0", D(0), D(1000)),
    ],
)
def test_the_provider_absorbs_a_negative_balance(
    esma: mc.Policy, mark: int, slippage: str, balance: Decimal, venue_loss: Decimal
) -> None:
    account = mc.Account(30000, [mc.Position("BTCUSDT", "long", 1, 60000)])
    scenario = mc.Scenario(
        {"client": account},
        [{"BTCUSDT": D(60000)}, {"BTCUSDT": D(mark)}],
        mc.MarkFill(slippage=slippage),
    )
    outcome = esma.simulate(scenario)
    (closed,) = outcome.liquidations
    assert closed.kind == "market"
    assert outcome.balance("client") == balance
    assert outcome.debt("client") == 0
    assert outcome.venue_loss == venue_loss
    assert outcome.notices == ()  # 2:1 exactly is allowed


def test_a_position_beyond_2_to_1_is_noted(esma: mc.Policy) -> None:
    account = mc.Account(0, [mc.Position("BTCUSDT", "long", 1, 60000, "isolated", leverage=3)])
    outcome = esma.simulate(mc.Scenario({"c": account}, [{"BTCUSDT": D(60000)}]))
    (notice,) = outcome.notices
    assert "opens at 3x, above esma-retail's maximum leverage of 2x" in notice.text
