"""hyperliquid against Hyperliquid's documented formulas and worked examples.

Every expected value is Hyperliquid's own figure or is computed here, in the test, from the
formula Hyperliquid documents; each test names its source.

Sources:
  [TIERS] "Margin tiers", https://hyperliquid.gitbook.io/hyperliquid-docs/trading/margin-tiers
          (current, undated): mmr = initial margin rate at max leverage / 2; deduction(n) =
          deduction(n−1) + lower_bound(n) × (mmr(n) − mmr(n−1)); BTC 0–150M 40x, >150M 20x.
  [LIQ]   "Liquidations", https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations
          (current, undated): book first, the trader keeps the remaining collateral; backstop
          through the liquidator vault below 2/3 of the maintenance margin, which keeps the
          maintenance margin; liq_price = price − side × margin_available / position_size /
          (1 − l × side), l = 1 / MAINTENANCE_LEVERAGE, margin_available = account value (or
          isolated margin with its PnL) − maintenance margin; "no clearance fees".
  [PART]  Hyperliquid announcement (mirrored at
          https://tginsight.xyz/channel/hyperliquid_announcements/post/307, undated): above
          100k USDC only 20 % of the position is sent; in the 30-second cooldown after it,
          orders are for the entire position.
  [ADL]   "Auto-deleveraging",
          https://hyperliquid.gitbook.io/hyperliquid-docs/trading/auto-deleveraging (current):
          index (mark_price / entry_price) × (notional_position / account_value); a user with
          no open positions never socializes losses.
  [LOT]   "Tick and lot size", https://hyperliquid.gitbook.io/Hyperliquid-docs/for-developers/
          api/tick-and-lot-size (undated): sizes are rounded to szDecimals (BTC 5).
  HL-1, HL-2: the worked examples of the venues reference §7.7, from [TIERS] and [LIQ].
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import margincall as mc
from margincall.outcome import Liquidation
from margincall.tiers import tier_for
from margincall.waterfall import AdlCandidate, Pool, Reduce, Takeover
from margincall_plugins.hyperliquid import chunk

D = Decimal


def exact(numerator: Decimal | int | str, denominator: Decimal | int | str) -> Decimal:
    """A quotient at margincall's precision (50 digits)."""
    with localcontext() as ctx:
        ctx.prec = 50
        return D(numerator) / D(denominator)


def close(value: Decimal | None, expected: Decimal) -> bool:
    """Equal to 40 significant digits: the official formula and margincall's solver divide at
    50 digits in a different order."""
    assert value is not None
    return abs(value - expected) <= abs(expected) * D("1e-40")


def liq_price(
    price: int, side: int, margin_available: int, size: int, maintenance_rate: str
) -> Decimal:
    """[LIQ]'s formula, verbatim, at 50 digits:
    price − side × margin_available / position_size / (1 − l × side)."""
    with localcontext() as ctx:
        ctx.prec = 50
        return price - side * D(margin_available) / size / (1 - D(maintenance_rate) * side)


@pytest.fixture(scope="module")
def hl() -> mc.Policy:
    return mc.load_policy("hyperliquid")


@pytest.fixture(scope="module")
def playable() -> mc.Policy:
    """hyperliquid itself: the engine plays its ADL at the mark (none of the procedure
    scenarios below reaches ADL)."""
    return mc.load_policy("hyperliquid")


def variant(tmp_path: Path, body: str) -> mc.Policy:
    path = tmp_path / "variant.toml"
    path.write_text(f'name = "variant"\nextends = "hyperliquid"\n{body}')
    return mc.load_policy(path)


# --- margin: half the initial margin at max leverage -----------------------------------------


def test_hl1_maintenance_rate_is_half_the_initial_margin_at_max_leverage(tmp_path: Path) -> None:
    """HL-1 [TIERS]/[LIQ]: max leverage 20x -> 2.5 %, 50x -> 1 %, 3x -> 16.67 % (1/6; the
    doc rounds to 16.7 %). SOL is 20x; 50x and 3x markets are added by a variant."""
    policy = variant(
        tmp_path,
        '[markets.X50]\ncontract_type = "linear"\ncontract_size = 1\ntick_size = 0.1\n'
        'lot_size = 0.1\nsettlement_currency = "USDC"\n[[markets.X50.tiers]]\n'
        "min_notional = 0\nmax_notional = 1000000\nmax_leverage = 50\n"
        "maintenance_margin_rate = 0.01\n"
        '[markets.X3]\ncontract_type = "linear"\ncontract_size = 1\ntick_size = 0.1\n'
        'lot_size = 0.1\nsettlement_currency = "USDC"\n[[markets.X3.tiers]]\n'
        "min_notional = 0\nmax_notional = 1000000\nmax_leverage = 3\n"
        "maintenance_margin_rate = 0.166667\n",
    )
    rate = {
        s: policy.tiers(mc.Position(s, "long", 1, 1))[0].maintenance_margin_rate
        for s in ("SOL", "X50", "X3")
    }
    assert rate["SOL"] == D("0.025")
    assert rate["X50"] == D("0.01")
    assert rate["X3"] == exact(1, 6)
    assert rate["X3"].quantize(D("0.0001"), rounding=ROUND_HALF_EVEN) == D("0.1667")


@pytest.mark.parametrize(
    ("size", "leverage", "rate", "deduction", "mm"),
    [
        # 1,000 BTC at 100,000 = 100M: tier 1, 40x, 1.25 %, no deduction: 1,250,000
        (1_000, 40, D("0.0125"), D(0), D(1_250_000)),
        # 2,000 BTC at 100,000 = 200M: tier 2, 20x, 2.5 %, deduction 150M × (2.5 % − 1.25 %)
        # = 1,875,000: 200M × 2.5 % − 1,875,000 = 3,125,000
        (2_000, 20, D("0.025"), D(1_875_000), D(3_125_000)),
    ],
)
def test_hl2_btc_tiers_and_deduction(
    hl: mc.Policy, size: int, leverage: int, rate: Decimal, deduction: Decimal, mm: Decimal
) -> None:
    """HL-2 [TIERS]: BTC at notional 100M and 200M."""
    account = mc.Account(10**9, [mc.Position("BTC", "long", size, 100_000)])
    marks = {"BTC": 100_000}
    tier = tier_for(hl.tiers(account.positions[0]), D(size) * 100_000)
    assert (tier.max_leverage, tier.maintenance_margin_rate, tier.maintenance_amount) == (
        leverage,
        rate,
        deduction,
    )
    assert hl.maintenance_margin(account, "BTC", marks=marks) == mm


def test_eth_second_tier_uses_the_exact_half_of_one_fifteenth(hl: mc.Policy) -> None:
    """[TIERS] ETH 15x above 100M: mmr = 1/30 exactly (written 3.33 %), deduction
    100M × (1/30 − 1/50). At 150M (50,000 ETH at 3,000): by brackets
    100M × 2 % + 50M / 30 = 2,000,000 + 1,666,666.66... = 11,000,000 / 3."""
    account = mc.Account(10**9, [mc.Position("ETH", "long", 50_000, 3_000)])
    mm = hl.maintenance_margin(account, "ETH", marks={"ETH": 3_000})
    assert abs(mm - exact(11_000_000, 3)) < D("1e-40")


def test_initial_margin_at_max_leverage(hl: mc.Policy) -> None:
    """[TIERS] 1 BTC at 100,000 at 40x: 2,500; maintenance is half: 1,250."""
    account = mc.Account(10**6, [mc.Position("BTC", "long", 1, 100_000)])
    marks = {"BTC": 100_000}
    assert hl.initial_margin(account, "BTC", marks=marks) == 2_500
    assert hl.maintenance_margin(account, "BTC", marks=marks) == 1_250


def test_no_clearance_fee(hl: mc.Policy) -> None:
    """[LIQ] "no clearance fees"; tier-0 taker 0.045 % of 100,000 = 45."""
    assert hl.liquidation_fee("BTC", 1, 100_000) == 0
    assert hl.trading_fee("BTC", 1, 100_000, maker=False) == 45


# --- liquidation and bankruptcy prices against the official formula --------------------------


def test_isolated_long_against_the_official_formula(hl: mc.Policy) -> None:
    """[LIQ] 1 BTC long at 100,000, 20x: isolated margin 5,000. At the mark 98,000 the margin
    with PnL is 5,000 − 2,000 = 3,000, MM = 98,000 × 1.25 % = 1,225, margin_available =
    1,775, l = 1/80: liq = 98,000 − 1,775 / 1 / (1 − 0.0125) = 96,202.53...
    (= (100,000 − 5,000)/0.9875). Bankruptcy: 100,000 − 5,000 = 95,000."""
    account = mc.Account(0, [mc.Position("BTC", "long", 1, 100_000, "isolated", leverage=20)])
    marks = {"BTC": 98_000}
    official = liq_price(98_000, 1, 1_775, 1, "0.0125")
    assert close(hl.liquidation_price(account, "BTC", marks=marks), official)
    assert hl.bankruptcy_price(account, "BTC", marks=marks) == 95_000


def test_cross_short_against_the_official_formula(hl: mc.Policy) -> None:
    """[LIQ] cross: 1,000 USDC, 2 ETH short at 3,000, mark 3,100: account value 1,000 − 200
    = 800, MM = 6,200 × 2 % = 124, margin_available 676, l = 1/50, side −1:
    liq = 3,100 + 676 / 2 / 1.02 = 3,431.37...; bankruptcy 3,000 + 1,000 / 2 = 3,500."""
    account = mc.Account(1_000, [mc.Position("ETH", "short", 2, 3_000)])
    marks = {"ETH": 3_100}
    official = liq_price(3_100, -1, 676, 2, "0.02")
    assert close(hl.liquidation_price(account, "ETH", marks=marks), official)
    assert hl.bankruptcy_price(account, "ETH", marks=marks) == 3_500


# --- the procedure ---------------------------------------------------------------------------


def pool(hl: mc.Policy, size: str, margin: str, mark: int = 100_000) -> Pool:
    position = mc.Position("BTC", "long", D(size), 100_000, "isolated", margin=D(margin))
    (only,) = hl.pools(mc.Account(0, [position]), marks={"BTC": mark})
    return only


def test_a_small_position_is_sent_to_the_book_whole(hl: mc.Policy) -> None:
    """[LIQ] 0.9 BTC at 100,000 = 90,000 <= 100k: one market order for the full size.
    MM 1,125; margin 800 is between 2/3 × 1,125 = 750 and 1,125: the book, not the vault."""
    assert hl.liquidation_action(pool(hl, "0.9", "800"), 0) == Reduce(
        "BTC", "long", D("0.9"), "market", None
    )


def test_a_large_position_sends_twenty_percent_rounded_down_to_the_lot(hl: mc.Policy) -> None:
    """[PART] 1.23457 BTC at 100,000 = 123,457 > 100k: 20 % = 0.246914, rounded down to
    BTC's szDecimals 5 [LOT]: 0.24691. MM = 1,543.2125; margin 1,200 is above 2/3 of it
    (1,028.81). The next order in the cooldown is for the entire position."""
    large = pool(hl, "1.23457", "1200")
    assert hl.liquidation_action(large, 0) == Reduce("BTC", "long", D("0.24691"), "market", None)
    assert hl.liquidation_action(large, 1) == Reduce("BTC", "long", D("1.23457"), "market", None)


def test_below_two_thirds_of_maintenance_the_vault_takes_over(hl: mc.Policy) -> None:
    """[LIQ] 1.2 BTC at 100,000: MM = 1,500, 2/3 of it = 1,000. Equity 1,000 is not below:
    the book (20 % = 0.24). Equity 999.99 is: takeover at the bankruptcy price
    100,000 − 999.99 / 1.2 = 99,166.675."""
    assert hl.liquidation_action(pool(hl, "1.2", "1000"), 0) == Reduce(
        "BTC", "long", D("0.24"), "market", None
    )
    assert hl.liquidation_action(pool(hl, "1.2", "999.99"), 0) == Takeover(
        "BTC", "long", D("1.2"), D("99166.675")
    )


def test_the_book_gets_two_plus_n_orders_in_a_step_then_the_vault(hl: mc.Policy) -> None:
    """[derived] the engine cannot wait for the next block: after 2 + 1 orders for one
    position in one step, the pool still in liquidation goes to the vault."""
    stuck = pool(hl, "1.2", "1200")
    assert isinstance(hl.liquidation_action(stuck, 2), Reduce)
    assert hl.liquidation_action(stuck, 3) == Takeover("BTC", "long", D("1.2"), D(99_000))


@pytest.mark.parametrize(
    ("size", "share", "lot", "expected"),
    [
        ("1.23457", "0.2", "0.00001", "0.24691"),  # 0.246914 down to 5 decimals
        ("0.00003", "0.2", "0.00001", "0.00001"),  # 0.000006 -> at least one lot
        ("0.00001", "0.2", "0.00001", "0.00001"),  # never more than the position
        ("10", "1", "0.01", "10"),
    ],
)
def test_chunk_rounding(size: str, share: str, lot: str, expected: str) -> None:
    """[LOT] sizes are rounded to the asset's szDecimals (down, so the order never exceeds
    the share); at least one lot."""
    assert chunk(D(size), D(share), D(lot)) == D(expected)


# --- the procedure played by the engine ------------------------------------------------------


def drop(mark: int, *, size: str = "1", fund: int = 0, **others: mc.Account) -> mc.Scenario:
    trader = mc.Position("BTCUSDT", "long", D(size), 100_000, "isolated", leverage=20)
    return mc.Scenario(
        {"trader": mc.Account(0, [trader]), **others},
        [mc.Step("open", {"BTCUSDT": D(100_000)}), mc.Step("drop", {"BTCUSDT": D(mark)})],
        mc.MarkFill(slippage="0.001"),
        insurance_fund=fund,
    )


def test_book_liquidation_leaves_the_remaining_collateral_with_the_trader(
    playable: mc.Policy,
) -> None:
    """[LIQ] 1 BTC long at 100,000, 20x: margin 5,000, LP 96,202.53. At 96,000 equity is
    1,000, MM 1,200, 2/3 × 1,200 = 800: the book. 96,000 <= 100k, so the whole position
    sells at 96,000 × 0.999 = 95,904; the trader keeps 5,000 − 4,096 = 904. The vault gets
    nothing."""
    outcome = playable.simulate(drop(96_000, fund=500))
    assert outcome.liquidations == (
        Liquidation(1, "trader", "BTCUSDT", "long", D(1), D(95_904), "order"),
    )
    assert outcome.balance("trader") == 904
    assert outcome.insurance_fund == 500
    assert outcome.ledger.total() == 0


def test_a_twenty_percent_chunk_can_restore_compliance(playable: mc.Policy) -> None:
    """[PART] 2 BTC long at 100,000, 20x: margin 10,000. At 96,000 (192,000 > 100k) equity
    2,000, MM 2,400, 2/3 = 1,600: the book gets 20 % = 0.4 BTC, sold at 95,904: the margin
    becomes 10,000 − 0.4 × 4,096 = 8,361.6. The 1.6 BTC left have equity
    8,361.6 − 1.6 × 4,000 = 1,961.6 > MM 1.6 × 96,000 × 1.25 % = 1,920: liquidation stops
    and the trader keeps 1.6 BTC."""
    outcome = playable.simulate(drop(96_000, size="2"))
    assert outcome.liquidations == (
        Liquidation(1, "trader", "BTCUSDT", "long", D("0.4"), D(95_904), "order"),
    )
    assert outcome.open_positions["trader"] == (("BTCUSDT", "long", D("1.6")),)
    assert outcome.ledger.balance("margin:trader:BTCUSDT:long") == D("8361.6")


def test_the_vault_takes_the_position_with_exactly_the_remaining_margin(
    playable: mc.Policy,
) -> None:
    """[LIQ] at 95,600 equity is 600 < 2/3 × MM 1,195 = 796.67: backstop. The trader is
    closed at the bankruptcy price 95,000 and ends at zero ("the maintenance margin is not
    returned"); the vault holds 1 BTC bought at 95,000 and worth 95,600 at the mark: exactly
    the trader's 600. Selling it at 95,600 × 0.999 = 95,504.4 it gains 504.4."""
    outcome = playable.simulate(drop(95_600, fund=1_000))
    assert outcome.liquidations == (
        Liquidation(1, "trader", "BTCUSDT", "long", D(1), D(95_000), "takeover"),
    )
    assert D(95_600) - D(95_000) == 600  # the remaining margin the vault is handed
    assert outcome.balance("trader") == 0
    assert outcome.insurance_fund == D("1504.4")
    assert outcome.ledger.total() == 0


def test_a_gap_is_the_vaults_loss_and_a_flat_account_pays_nothing(playable: mc.Policy) -> None:
    """[LIQ], [ADL] a gap to 90,000 (below the bankruptcy price 95,000): the vault takes the
    position at 95,000 and sells at 89,910, losing 5,090 of its 20,000. The trader ends at
    zero, never negative; a flat account's 1,000 is untouched."""
    outcome = playable.simulate(drop(90_000, fund=20_000, flat=mc.Account(1_000, [])))
    assert outcome.balance("trader") == 0 and outcome.debt("trader") == 0
    assert outcome.insurance_fund == 14_910
    assert outcome.balance("flat") == 1_000
    assert outcome.ledger.total() == 0


# --- ADL ranking -----------------------------------------------------------------------------


def candidate(key: str, side: str, size: str, entry: int, mark: int, wallet: int) -> AdlCandidate:
    notional = D(size) * mark
    pnl = (1 if side == "long" else -1) * D(size) * (mark - entry)
    return AdlCandidate(
        key,
        "BTC",
        side,
        D(size),
        D(entry),
        D(mark),
        notional,
        pnl,  # type: ignore[arg-type]
        D(wallet),
        pnl,
        D(0),
        None,
    )


def test_adl_index(hl: mc.Policy) -> None:
    """[ADL] (mark / entry) × (notional / account value):
    short 1 BTC, entry 100,000, mark 90,000, wallet 10,000 (+10,000 PnL): 0.9 × 90,000/20,000
    = 4.05; long 2 BTC, entry 50,000, mark 60,000, wallet 30,000 (+20,000): 1.2 × 120,000 /
    50,000 = 2.88; an account value <= 0 has no index and ranks last (0)."""
    short = candidate("s", "short", "1", 100_000, 90_000, 10_000)
    long = candidate("l", "long", "2", 50_000, 60_000, 30_000)
    broke = candidate("b", "long", "1", 50_000, 60_000, -20_000)
    assert hl.adl_score(short) == D("4.05")
    assert hl.adl_score(long) == D("2.88")
    assert hl.adl_score(broke) == 0
    assert hl.adl_rank((broke, long, short)) == (short, long, broke)


# --- bad parameters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "[parameters]\npartial_liquidation_fraction = 1.5\n",
            "parameters.partial_liquidation_fraction: required by the hyperliquid plugin, the "
            "share of a large position in the first liquidation order, > 0 and <= 1; got "
            "Decimal('1.5')",
        ),
        (
            "[parameters]\npartial_liquidation_threshold = -1\n",
            "parameters.partial_liquidation_threshold: required by the hyperliquid plugin, a "
            "notional >= 0 (USDC) above which the first liquidation order is partial; got "
            "Decimal('-1')",
        ),
        (
            '[parameters]\nbackstop_margin_fraction = "3/2"\n',
            "parameters.backstop_margin_fraction: required by the hyperliquid plugin, the share "
            "of the maintenance margin below which the liquidator vault takes over, > 0 and <= 1 "
            "(a decimal or \"N/D\"); got '3/2'",
        ),
        (
            '[parameters]\nbackstop_margin_fraction = "two thirds"\n',
            "parameters.backstop_margin_fraction: required by the hyperliquid plugin, 'two "
            "thirds' is not a number or a fraction 'N/D'; got 'two thirds'",
        ),
        (
            '[parameters]\nbackstop_margin_fraction = "2/0"\n',
            "parameters.backstop_margin_fraction: required by the hyperliquid plugin, '2/0' is "
            "not a number or a fraction 'N/D' with D > 0; got '2/0'",
        ),
        (
            '[markets.BTC.parameters]\npartial_liquidation_fraction = "a fifth"\n',
            "markets.BTC.parameters.partial_liquidation_fraction: the share of a large position "
            "in the first liquidation order, > 0 and <= 1; got 'a fifth'",
        ),
        (
            "[[markets.SOL.tiers]]\nmin_notional = 0\nmax_notional = 1000000\nmax_leverage = 20\n"
            "maintenance_margin_rate = 0.02\n",
            "markets.SOL.tiers[0].maintenance_margin_rate: 0.02 is not half the initial margin "
            "at max leverage 20, 1/(2 × 20) = 0.025 (within 0.01 %)",
        ),
    ],
)
def test_bad_parameters_are_named(tmp_path: Path, body: str, problem: str) -> None:
    with pytest.raises(mc.PolicyError) as error:
        variant(tmp_path, body)
    assert error.value.problems == [f"{tmp_path / 'variant.toml'}: {problem}"]


def test_a_missing_parameter_is_named(tmp_path: Path) -> None:
    """A policy that lists the plugin without its parameters does not load."""
    text = (Path(__file__).parents[1] / "policies" / "hyperliquid.toml").read_text()
    head, _, tail = text.partition("[parameters]")
    path = tmp_path / "bare.toml"
    path.write_text(
        head.replace('name = "hyperliquid"', 'name = "bare"')
        + "[markets.BTC]"
        + tail.partition("[markets.BTC]")[2]
    )
    with pytest.raises(mc.PolicyError) as error:
        mc.load_policy(path)
    assert [p.split(": ", 2)[1] for p in error.value.problems] == [
        "parameters.partial_liquidation_threshold",
        "parameters.partial_liquidation_fraction",
        "parameters.backstop_margin_fraction",
    ]


# --- laws ------------------------------------------------------------------------------------

sizes = st.decimals("0.001", "2000", places=3)
entries = st.decimals("1000", "150000", places=1)
leverages = st.integers(2, 40)


@settings(max_examples=60)
@given(size=sizes, entry=entries, leverage=leverages, side=st.sampled_from(["long", "short"]))
def test_bankruptcy_beyond_liquidation_and_the_backstop_between(
    hl: mc.Policy, size: Decimal, entry: Decimal, leverage: int, side: str
) -> None:
    """BP lies beyond LP; at LP the book is tried, at BP the vault takes over."""
    account = mc.Account(0, [mc.Position("BTC", side, size, entry, "isolated", leverage=leverage)])  # type: ignore[arg-type]
    marks = {"BTC": entry}
    lp = hl.liquidation_price(account, "BTC", marks=marks)
    bp = hl.bankruptcy_price(account, "BTC", marks=marks)
    assert lp is not None and bp is not None
    assert (bp < lp) if side == "long" else (bp > lp)
    (at_lp,) = hl.pools(account, marks={"BTC": lp})
    (at_bp,) = hl.pools(account, marks={"BTC": bp})
    assert isinstance(hl.liquidation_action(at_lp, 0), Reduce)
    assert isinstance(hl.liquidation_action(at_bp, 0), Takeover)


@given(
    size=st.decimals("0.00001", "1000", places=5),
    share=st.decimals("0.01", "1", places=2),
)
def test_a_chunk_is_whole_lots_within_the_position(size: Decimal, share: Decimal) -> None:
    """[LOT] a chunk is a whole number of lots, at least one, at most the position, and
    never more than one lot above the share asked."""
    lot = D("0.00001")
    got = chunk(size, share, lot)
    assert got % lot == 0 and lot <= got <= size
    assert got <= max(lot, size * share)
