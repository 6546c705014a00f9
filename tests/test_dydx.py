"""dydx-v4 against dYdX's documented formulas and worked examples.

Every expected value is dYdX's own figure or is computed here, in the test, from the formula
dYdX documents; each test names its source. dYdX's source code (AGPL) was not read.

Sources:
  [MARGIN] "Margining", github.com/dydxprotocol/v4-documentation
           docs/pages/concepts/trading/margin.mdx (undated)
  [LIQ]    "Liquidations", same repository, docs/pages/concepts/trading/liquidations.mdx
           (undated): liquidation prices, fillable price, 1.5 % penalty
  [CORE]   docs.dydx.community "Trading Core" (undated): mainnet genesis LiquidationsConfig
  [LOSS]   help.dydx.trade/en/articles/166973 "Contract loss mechanisms on dYdX Chain"
           (undated): DYDX-5
  [SIX]    dydx-documentation-six.vercel.app/concepts/trading/contract-loss-mechanism
           (undated, official copy): DYDX-6
  [REF]    venues reference §8 (v4-chain liquidations.go / deleveraging.go read there,
           snapshot 2026-03-04): bankruptcy rounding, deleveraging order, limits' semantics
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import margincall as mc
from margincall.testing.strategies import decimals_between
from margincall.waterfall import AdlCandidate, Reduce, Takeover
from margincall_plugins import dydx

D = Decimal
DATA = Path(__file__).parent / "data"
POLICY_FILE = Path(__file__).parents[1] / "policies" / "dydx-v4.toml"


def exact(numerator: str, denominator: str) -> Decimal:
    """A quotient at margincall's precision (50 digits)."""
    with localcontext() as ctx:
        ctx.prec = 50
        return D(numerator) / D(denominator)


@pytest.fixture(scope="module")
def dydx_v4() -> mc.Policy:
    return mc.load_policy("dydx-v4")


@pytest.fixture(scope="module")
def docs() -> mc.Policy:
    return mc.load_policy(DATA / "dydx-docs-examples.toml")


# --- margin and the trigger ------------------------------------------------------------------


def test_margin_fractions_of_the_large_and_mid_cap_tiers(dydx_v4: mc.Policy) -> None:
    """[MARGIN] MM = abs(S × P × MMF), IM = abs(S × P × IMF); Large-Cap IMF 2 % and MMF
    2 % × 0.6 = 1.2 % (BTC-USD): 2 BTC at 50,000 → MM 1,200, IM 2,000. Mid-Cap SOL-USD:
    IMF 5 %, MMF 3 %: 100 SOL at 150 → MM 450, IM 750."""
    btc = mc.Account(10000, [mc.Position("BTC-USD", "long", 2, 50000)])
    marks = {"BTC-USD": D(50000)}
    assert dydx_v4.maintenance_margin(btc, "BTC-USD", marks=marks) == 1200
    assert dydx_v4.initial_margin(btc, "BTC-USD", marks=marks) == 2000
    sol = mc.Account(10000, [mc.Position("SOL-USD", "short", 100, 150)])
    marks = {"SOL-USD": D(150)}
    assert dydx_v4.maintenance_margin(sol, "SOL-USD", marks=marks) == 450
    assert dydx_v4.initial_margin(sol, "SOL-USD", marks=marks) == 750


def test_scenario_symbols_are_aliases(dydx_v4: mc.Policy) -> None:
    """BTCUSDT, ETHUSDT and SOLUSDT (the bundled scenarios' names) are BTC-USD, ETH-USD and
    SOL-USD: the same margin fractions under another name."""
    for alias, venue in (("BTCUSDT", "BTC-USD"), ("ETHUSDT", "ETH-USD"), ("SOLUSDT", "SOL-USD")):
        assert dydx_v4.market(alias).tiers == dydx_v4.market(venue).tiers
        assert dydx_v4.market(alias).settlement_currency == "USDC"


def test_liquidatable_only_below_the_maintenance_requirement(dydx_v4: mc.Policy) -> None:
    """[MARGIN] "If the total account value ever falls below the total maintenance margin
    requirement, the account may be liquidated"; [REF] IsLiquidatable = MMR > 0 && MMR > NC.
    Isolated long 1 BTC @ 60,000 with 10,600: at 50,000 the value is 10,600 − 10,000 = 600 and
    the requirement 50,000 × 1.2 % = 600: equal, so not liquidatable (Binance would be). At
    49,999: 599 < 599.988: liquidatable. The liquidation price is (60,000 − 10,600)/0.988 =
    50,000 exactly."""
    account = mc.Account(0, [mc.Position("BTC-USD", "long", 1, 60000, "isolated", margin=10600)])
    assert dydx_v4.liquidation_price(account, "BTC-USD") == 50000
    assert not dydx_v4.is_liquidatable(account, "BTC-USD", marks={"BTC-USD": D(50000)})
    assert dydx_v4.is_liquidatable(account, "BTC-USD", marks={"BTC-USD": D(49999)})


def test_an_account_without_a_requirement_is_never_liquidatable(dydx_v4: mc.Policy) -> None:
    """[REF] IsLiquidatable needs MMR > 0: a flat account with a negative balance has nothing
    to liquidate. Through the hook, on a Health with no requirement."""
    from margincall.health import Health

    health = Health(margin_balance=D(-5), maintenance_margin=D(0), initial_margin=D(0))
    assert dydx.margincall_is_liquidatable(health) is False


# --- liquidation and bankruptcy prices -------------------------------------------------------


def test_isolated_liquidation_price_docs_example(docs: mc.Policy) -> None:
    """[LIQ] "Suppose a trader deposits $1,000 (e = 1000). The trader shorts 3 ETH contracts
    (s = −3) at $3,000 ..., MMF = 0.05": p' = (1000 + 9000)/(0.15 + 3) = 10000/3.15 ≈ 3174.60,
    where "the trader's remaining equity would be ... $476.2" (3 × 3174.6 × 0.05)."""
    account = mc.Account(0, [mc.Position("ETH-USD", "short", 3, 3000, "isolated", margin=1000)])
    lp = docs.liquidation_price(account, "ETH-USD")
    assert lp == exact("10000", "3.15")
    assert lp is not None and lp.quantize(D("0.01")) == D("3174.60")
    mm = docs.maintenance_margin(account, "ETH-USD", marks={"ETH-USD": lp})
    assert mm.quantize(D("0.1")) == D("476.2")


def test_cross_liquidation_price_docs_example(docs: mc.Policy) -> None:
    """[LIQ] cross: deposit $1,000; short 1.5 ETH at $3,000 (MMF 5 %) and 1,000 STRK at $1.75
    (MMF 10 %): MMR_o = 1000 × 1.75 × 0.10 = 175; p' = (1000 + 4500 − 175)/(1.5 × 0.05 + 1.5)
    = 5325/1.575 ≈ 3380.95."""
    account = mc.Account(
        1000,
        [
            mc.Position("ETH-USD", "short", D("1.5"), 3000),
            mc.Position("STRK-USD", "long", 1000, D("1.75")),
        ],
    )
    marks = {"ETH-USD": D(3000), "STRK-USD": D("1.75")}
    lp = docs.liquidation_price(account, "ETH-USD", marks=marks)
    assert lp == exact("5325", "1.575")
    assert lp is not None and lp.quantize(D("0.01")) == D("3380.95")


def test_dydx6_equity_and_bankruptcy_price(docs: mc.Policy) -> None:
    """DYDX-6 [SIX]: deposit $100, long 500 ABC @ $1, MMF 3 %, price falls to $0.801:
    PnL 500 × (0.801 − 1) = −99.5, equity 0.50, liquidatable. The page's "MMR = 15" is at
    the $1 entry (500 × 1 × 3 %); at the 0.801 oracle it is 500 × 0.801 × 3 % = 12.015, and
    the account is liquidatable either way. Bankruptcy price (derived): 1 − 100/500 = 0.80."""
    account = mc.Account(100, [mc.Position("ABC-USD", "long", 500, 1)])
    marks = {"ABC-USD": D("0.801")}
    health = docs.health(account, "ABC-USD", marks=marks)
    assert health.margin_balance == D("0.5")
    assert health.margin_balance - 100 == D("-99.5")
    assert health.maintenance_margin == D("12.015")
    assert docs.maintenance_margin(account, "ABC-USD", marks={"ABC-USD": D(1)}) == 15
    assert docs.is_liquidatable(account, "ABC-USD", marks=marks)
    assert docs.bankruptcy_price(account, "ABC-USD", marks=marks) == D("0.8")


def test_bankruptcy_price_rounds_toward_the_insurance_fund(dydx_v4: mc.Policy) -> None:
    """[REF] §8.3/§8.6: the bankruptcy quote is rounded "towards positive infinity so that
    closing the position at the rounded bankruptcy price does not require any insurance fund
    payment", in quote quantums of 1e-6 USDC.
    Long 0.3 BTC @ 60,000, margin 1,000.0000001: it sells at bankruptcy for 18,000 −
    1,000.0000001 = 16,999.9999999, rounded up to 17,000.000000: price 17,000 / 0.3.
    Short 0.3 @ 60,000, same margin: it pays 18,000 + 1,000.0000001 = 19,000.0000001, a quote
    of −19,000.0000001 rounded up to −19,000.000000: price 19,000 / 0.3."""
    margin = D("1000.0000001")
    long = mc.Account(
        0, [mc.Position("BTC-USD", "long", D("0.3"), 60000, "isolated", margin=margin)]
    )
    short = mc.Account(
        0, [mc.Position("BTC-USD", "short", D("0.3"), 60000, "isolated", margin=margin)]
    )
    assert dydx_v4.bankruptcy_price(long, "BTC-USD") == exact("17000", "0.3")
    assert dydx_v4.bankruptcy_price(short, "BTC-USD") == exact("19000", "0.3")


def test_bankruptcy_price_rounding_helper() -> None:
    """[REF] the same rule on the helper, with a quantum of 0.01: a long of 3 @ 10 backed by
    1.004 sells for 30 − 1.004 = 28.996 → 29.00 (price 29/3); a short of 3 @ 10 backed by 1.004
    pays 31.004, a quote of −31.004 → −31.00 (price 31/3)."""
    q = D("0.01")  # the helper runs in the caller's decimal context, like the division here
    assert dydx.bankruptcy_quote_price(1, D(3), D(10), D("1.004"), q) == D(29) / 3
    assert dydx.bankruptcy_quote_price(-1, D(3), D(10), D("1.004"), q) == D(31) / 3


# --- the procedure ---------------------------------------------------------------------------


def test_dydx5_maximum_liquidation_spread() -> None:
    """DYDX-5 [LOSS]: market MMR 5 %, spread factor 1.5: the maximum liquidation spread is
    1.5 × 5 % = 7.5 %: with TNC <= 0 the rating clamps to 1 and a long's order is limited at
    100 × (1 − 0.075) = 92.5, a short's at 107.5. "The account can afford a fill 2 % worse
    than the oracle", so the fund covers up to 7.5 % − 2 % = 5.5 % (of 100: 5.5)."""
    long = dydx.fillable_price(1, D(100), D("0.05"), D(0), D(5), D(1), D("1.5"))
    short = dydx.fillable_price(-1, D(100), D("0.05"), D(-3), D(5), D(1), D("1.5"))
    assert (long, short) == (D("92.5"), D("107.5"))
    bankruptcy = D(100) * (1 - D("0.02"))
    assert bankruptcy - long == D("5.5")


def test_fillable_price_of_a_solvent_account() -> None:
    """[LIQ] P × (1 − (SMMR × MMF) × (BA × (1 − Q))), Q = V / TMMR. The DYDX-5 account that
    can afford 2 % (V = 2 per 100 of notional, TMMR = 5) has Q = 0.4: 100 × (1 − 1.5 × 0.05 ×
    0.6) = 95.5 for a long, 104.5 for a short: the spread is 4.5 %, not the 7.5 % maximum."""
    assert dydx.fillable_price(1, D(100), D("0.05"), D(2), D(5), D(1), D("1.5")) == D("95.5")
    assert dydx.fillable_price(-1, D(100), D("0.05"), D(2), D(5), D(1), D("1.5")) == D("104.5")


def test_liquidation_order_is_an_ioc_at_the_fillable_price(dydx_v4: mc.Policy) -> None:
    """[LIQ] the liquidation order is an IOC limit order at the fillable price; [CORE] BA 1,
    SMMR 1.5. Isolated long 1 BTC @ 60,000 with 10,600, oracle 49,000: value 10,600 − 11,000
    = −400 <= 0, rating 1, limit 49,000 × (1 − 1.5 × 0.012) = 48,118. What the order cannot
    fix goes to the backstop at the bankruptcy price 60,000 − 10,600 = 49,400."""
    account = mc.Account(0, [mc.Position("BTC-USD", "long", 1, 60000, "isolated", margin=10600)])
    (pool,) = dydx_v4.pools(account, marks={"BTC-USD": D(49000)})
    assert dydx_v4.liquidation_action(pool, 0) == Reduce("BTC-USD", "long", D(1), "ioc", D(48118))
    assert dydx_v4.liquidation_action(pool, 1) == Takeover("BTC-USD", "long", D(1), D(49400))


def test_liquidation_order_limit_narrows_with_remaining_value(dydx_v4: mc.Policy) -> None:
    """[LIQ] same position at oracle 49,900: value 500, requirement 49,900 × 1.2 % = 598.8,
    Q = 500/598.8; limit 49,900 × (1 − 1.5 × 0.012 × (1 − 500/598.8))."""
    account = mc.Account(0, [mc.Position("BTC-USD", "long", 1, 60000, "isolated", margin=10600)])
    (pool,) = dydx_v4.pools(account, marks={"BTC-USD": D(49900)})
    action = dydx_v4.liquidation_action(pool, 0)
    with localcontext() as ctx:
        ctx.prec = 50
        expected = D(49900) * (1 - D("0.018") * (1 - D(500) / D("598.8")))
    assert isinstance(action, Reduce) and action.limit_price == expected


def test_penalty_capped_at_1_5_percent_and_at_the_surplus() -> None:
    """[LIQ] "Maximum Liquidation Penalty of 1.5%", the engine "will attempt to leave funds in
    accounts of positive value"; [REF] Δ = quote − bankruptcy quote; Δ > 0: the account pays
    min(1.5 % × |quote|, Δ); Δ <= 0: the fund pays |Δ|. A sale for 1,000:
    bankruptcy quote 990 → penalty min(15, 10) = 10; 980 → 15; 1,010 → the fund pays 10."""
    fee = D("0.015")
    assert dydx.liquidation_penalty(D(1000), D(990), fee) == (D(10), D(0))
    assert dydx.liquidation_penalty(D(1000), D(980), fee) == (D(15), D(0))
    assert dydx.liquidation_penalty(D(1000), D(1010), fee) == (D(0), D(10))


def test_liquidation_fee_is_the_1_5_percent_penalty(dydx_v4: mc.Policy) -> None:
    """[CORE] max_liquidation_fee_ppm 15000: 1.5 % of 0.5 BTC sold at 40,000 = 300."""
    assert dydx_v4.liquidation_fee("BTC-USD", D("0.5"), D(40000)) == 300


def test_per_block_limits() -> None:
    """[CORE] min_position_notional_liquidated 1,000 USDC, max_position_portion_liquidated
    10 %, max_notional_liquidated 100,000 USDC per account per block; [REF] the maximum portion
    is "overridden by the minimum notional", which is "overridden by the maximum size of the
    position". Position of 50,000: 10 % = 5,000; of 5,000: 500 → 1,000; of 800: 800.
    An account with 150,000 to liquidate: 100,000 in a block; 40,000 after 60,000; 0 after
    120,000."""
    portion, floor = D("0.1"), D(1000)
    assert dydx.position_block_limit(D(50000), floor, portion) == 5000
    assert dydx.position_block_limit(D(5000), floor, portion) == 1000
    assert dydx.position_block_limit(D(800), floor, portion) == 800
    cap = D(100000)
    assert dydx.subaccount_block_limit(D(150000), D(0), cap) == 100000
    assert dydx.subaccount_block_limit(D(150000), D(60000), cap) == 40000
    assert dydx.subaccount_block_limit(D(150000), D(120000), cap) == 0


# --- deleveraging ----------------------------------------------------------------------------


def _candidate(key: str, pnl: int, notional: int = 10000, draw: str = "0") -> AdlCandidate:
    return AdlCandidate(
        key=key,
        symbol="BTC-USD",
        side="short",
        size=D(1),
        entry_price=D(60000),
        mark_price=D(50000),
        notional=D(notional),
        unrealized_pnl=D(pnl),
        wallet_balance=D(1000),
        account_unrealized_pnl=D(pnl),
        maintenance_margin=D(120),
        bankruptcy_price=None,
        draw=D(draw),
    )


def test_deleveraging_order_ignores_profit_and_leverage(dydx_v4: mc.Policy) -> None:
    """[REF] §8.5 "Counterparty choice is random, not ranked": the order follows the engine's
    seeded draw alone, not profit or leverage (BitMEX-style scores would put the
    10,000-profit, 9x account k5 first; its draw 0.1 puts it last)."""
    draws = {"k0": "0.9", "k1": "0.35", "k5": "0.1", "k7": "0.6"}
    candidates = tuple(
        _candidate(k, 10000 if k == "k5" else 1, 90000 if k == "k5" else 10000, d)
        for k, d in draws.items()
    )
    assert [c.key for c in dydx_v4.adl_rank(candidates)] == ["k0", "k7", "k1", "k5"]


def test_at_most_the_configured_number_of_counterparties(tmp_path: Path) -> None:
    """[REF] at most MaxDeleveragingSubaccountsToIterate counterparties each take
    min(remaining, their position): with the limit at 2, three accounts of 1 BTC cover only
    2 of a 3 BTC deficit position, each at the price given."""
    variant = tmp_path / "two.toml"
    variant.write_text(
        'name = "two"\nextends = "dydx-v4"\ndescription = "two counterparties"\n'
        "[parameters]\nmax_deleveraging_subaccounts_to_iterate = 2\n"
    )
    policy = mc.load_policy(variant)
    ranked = tuple(_candidate(k, 1) for k in ("a", "b", "c"))
    fills = policy.adl_allocate(ranked, D(3), D(49400))
    assert [(f.candidate.key, f.size, f.price) for f in fills] == [
        ("a", D(1), D(49400)),
        ("b", D(1), D(49400)),
    ]


# --- engine scenarios ------------------------------------------------------------------------


def test_dydx6_played_the_fund_pays_the_deficit(docs: mc.Policy) -> None:
    """DYDX-6 [SIX] played: deposit 100, long 500 ABC @ 1 (cross), oracle 0.801. The
    liquidation order is an IOC at the fillable price: TNC 0.5, TMMR 12.015, rating
    1 − 0.5/12.015, limit 0.801 × (1 − 1.5 × 0.03 × 11.515/12.015) ≈ 0.7665. The book bids
    3.87 % below the oracle, 0.801 × 0.9613 = 0.7700013 (the page's $0.77): it fills all 500.
    The trader realises 500 × (0.7700013 − 1) = −114.99935 and is charged the 1.5 % penalty
    on 500 × 0.7700013 = 385.00065, i.e. 5.77500975; its wallet, 100 − 5.77500975 −
    114.99935 = −20.7743598, is reset to 0 by the fund. The fund gains the penalty and pays
    the deficit: net 5.77500975 − 20.7743598 = −14.99935, the page's deficit of 15 at $0.77
    against the 0.80 bankruptcy price (500 × (0.8 − 0.7700013) = 14.99935)."""
    scenario = mc.Scenario(
        {"trader": mc.Account(100, [mc.Position("ABC-USD", "long", 500, 1)])},
        [mc.Step("open", {"ABC-USD": D(1)}), mc.Step("drop", {"ABC-USD": D("0.801")})],
        mc.DepthLadder(bids={"ABC-USD": [["0.0387", 1000]]}),
        insurance_fund=1000,
    )
    outcome = docs.simulate(scenario)
    (liquidation,) = outcome.liquidations
    assert (liquidation.size, liquidation.price, liquidation.kind) == (
        D(500),
        D("0.7700013"),
        "order",
    )
    assert outcome.balance("trader") == 0
    assert outcome.debt("trader") == 0
    assert outcome.insurance_fund == 1000 - D("14.99935")
    assert outcome.adl == ()
    assert outcome.ledger.total() == 0


def test_no_book_deleverages_at_the_bankruptcy_price(dydx_v4: mc.Policy) -> None:
    """[REF] §8.5: with no liquidity the order fills nothing; the account (value −400 at
    49,000, see above) is deleveraged at its bankruptcy price 49,400 against opposite-side
    accounts in the pseudo-random order, each taking min(remaining, its position): 0.6 + 0.4
    BTC. The empty fund holds nothing ([insurance_fund] max_net_notional_ratio 0). Each short
    gains (60,000 − 49,400) per BTC taken; the trader ends at 0 and owes nothing."""
    shorts = {
        "s1": mc.Account(5000, [mc.Position("BTC-USD", "short", D("0.6"), 60000)]),
        "s2": mc.Account(5000, [mc.Position("BTC-USD", "short", D("0.6"), 60000)]),
    }
    trader = mc.Account(0, [mc.Position("BTC-USD", "long", 1, 60000, "isolated", margin=10600)])
    scenario = mc.Scenario(
        {"trader": trader, **shorts},
        [mc.Step("open", {"BTC-USD": D(60000)}), mc.Step("gap", {"BTC-USD": D(49000)})],
        mc.NoLiquidity(),
        insurance_fund=0,
    )
    outcome = dydx_v4.simulate(scenario)
    fills = [(r.account, r.size, r.price) for r in outcome.adl]
    first, second = (fills[0][0], fills[1][0]) if len(fills) == 2 else ("", "")
    assert {first, second} == set(shorts)  # in the order of the engine's seeded draw
    assert fills == [(first, D("0.6"), D(49400)), (second, D("0.4"), D(49400))]
    assert outcome.balance(first) == 5000 + D("0.6") * 10600
    assert outcome.balance(second) == 5000 + D("0.4") * 10600
    assert outcome.balance("trader") == 0
    assert outcome.debt("trader") == 0
    assert outcome.insurance_fund == 0
    assert outcome.ledger.total() == 0


# --- bad parameters --------------------------------------------------------------------------


def _variant(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(f'name = "bad"\nextends = "dydx-v4"\ndescription = "bad"\n{body}')
    return path


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "[parameters]\nmax_position_portion_liquidated = 1.5\n",
            "parameters.max_position_portion_liquidated: must be <= 1, got 1.5",
        ),
        (
            "[parameters]\nbankruptcy_adjustment = 0.5\n",
            "parameters.bankruptcy_adjustment: must be >= 1, got 0.5",
        ),
        (
            '[parameters]\nquote_quantum = "tiny"\n',
            "parameters.quote_quantum: expected a number, got 'tiny'",
        ),
        (
            "[markets.BTC-USD.parameters]\nspread_to_maintenance_margin_ratio = 0\n",
            "markets.BTC-USD.parameters.spread_to_maintenance_margin_ratio: must be > 0, got 0",
        ),
        (
            "[[markets.SOL-USD.tiers]]\nmin_notional = 0\nmax_notional = 10\nmax_leverage = 20\n"
            "maintenance_margin_rate = 0.03\n[[markets.SOL-USD.tiers]]\nmin_notional = 10\n"
            "max_notional = 20\nmax_leverage = 10\nmaintenance_margin_rate = 0.05\n",
            "markets.SOL-USD.tiers: dYdX has one margin fraction per market (one tier), got 2",
        ),
    ],
)
def test_bad_parameters_are_named(tmp_path: Path, body: str, problem: str) -> None:
    with pytest.raises(mc.PolicyError) as error:
        mc.load_policy(_variant(tmp_path, body))
    assert error.value.problems == [f"{tmp_path / 'bad.toml'}: {problem}"]


def test_a_missing_parameter_is_named(tmp_path: Path) -> None:
    """The shipped file without its quote_quantum line."""
    text = POLICY_FILE.read_text()
    lines = [line for line in text.splitlines() if not line.startswith("quote_quantum")]
    path = tmp_path / "missing.toml"
    path.write_text("\n".join(lines))
    with pytest.raises(mc.PolicyError) as error:
        mc.load_policy(path)
    assert error.value.problems == [
        f"{path}: parameters.quote_quantum: required by the dydx plugin"
    ]


# --- properties ------------------------------------------------------------------------------

entries = decimals_between(1000, 100000, 1)
margins = decimals_between(50, 50000, 2)
sizes = decimals_between("0.001", 20, 3)
sides = st.sampled_from(["long", "short"])


@given(entries, margins, sizes, sides)
def test_bankruptcy_beyond_liquidation_and_closing_there_needs_no_fund(
    entry: Decimal, margin: Decimal, size: Decimal, side: str
) -> None:
    """The bankruptcy price lies beyond the liquidation price; closing the whole position at
    the rounded bankruptcy price leaves the account between 0 and one quote quantum."""
    policy = mc.load_policy("dydx-v4")
    account = mc.Account(0, [mc.Position("BTC-USD", side, size, entry, "isolated", margin=margin)])  # type: ignore[arg-type]
    lp = policy.liquidation_price(account, "BTC-USD")
    bp = policy.bankruptcy_price(account, "BTC-USD")
    if bp is None:
        return
    assert lp is not None
    assert (bp < lp) if side == "long" else (bp > lp)
    sign = 1 if side == "long" else -1
    with localcontext() as ctx:
        ctx.prec = 200  # exact: the product of two 50-digit decimals
        left = margin + sign * size * (bp - entry)
    assert D(0) <= left < D("0.000001") + D("1e-40") * size * bp


@given(
    decimals_between(1, 100000, 2),
    decimals_between("0.001", "0.2", 3),
    decimals_between(-1000, 1000, 2),
    decimals_between("0.01", 1000, 2),
    sides,
)
def test_fillable_price_stays_within_the_maximum_spread(
    oracle: Decimal, mmf: Decimal, tnc: Decimal, tmmr: Decimal, side: str
) -> None:
    """The fillable price is never better than the oracle for the liquidity taker's
    counterparty nor beyond SMMR × MMF from it (1.5 × MMF at genesis)."""
    sign = 1 if side == "long" else -1
    price = dydx.fillable_price(sign, oracle, mmf, tnc, tmmr, D(1), D("1.5"))
    spread = sign * (oracle - price) / oracle
    assert D(0) <= spread <= D("1.5") * mmf + D("1e-40")


def test_policy_carries_its_provenance(dydx_v4: mc.Policy) -> None:
    assert dydx_v4.venue == "dYdX v4 (dYdX Chain)"
    assert dydx_v4.parameters_date == "2024-10-02"
    assert all(s.url.startswith("https://") for s in dydx_v4.sources)
