"""Tests of :mod:`margincall.math.tiers`: tier lookup and the maintenance-amount recursion.

Expected values come from venue worked examples and tables (venues reference,
/work/shared/reference/venues.md, as stored in 2026):

* BIN-3 (binance.com/en-NG/support/faq/b3c689c1f50a44cabb3a84e663b81d93, official,
  undated): floor₃ 250,000, 1 % against 0.5 %, cum₂ 50: cum₃ = 1,300.
* BIN-4 (2020 Binance article, official-copy): Level 5 of the 2020 table, floor 5,000,000,
  5 % against 2.5 %, cum₄ 16,300: cum₅ = 141,300.
* Binance BTCUSDT ``GET /fapi/v1/leverageBracket`` snapshot (undated API output, venues
  reference §1.1): every ``cum`` of the ten brackets, 0 to 103,046,300.
* BIN-5 (same page as BIN-3): notional 264,000 and 500,000 are in tier 3: 1 %, 1,300.
* BIN-6(a) (Binance COIN-M FAQ, official, undated): 0.4 BTC at 0.4 %: MM 0.0016 BTC.
* BYB-9 (Bybit risk-limit API output, undated): a value equal to a limit, 4,000,000, is in
  that tier (riskId 2).
* BMX-1/BMX-2 (BitMEX "Risk Limits", official-copy c. 2020): step tiers, MM 0.72 XBT at
  180 XBT (0.40 %), 2.4 XBT on 300 XBT (0.80 %).
* HL-2 (hyperliquid.gitbook.io margin tiers, official, current): BTC tiers from 0 at 40x
  and from 150M at 20x, MMR 1/(2 × leverage): deduction 150M × (2.5 % − 1.25 %) = 1,875,000.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from margincall.decimals import ZERO, exact
from margincall.math.tiers import Tier, recursive_amounts, tier_for, tier_index

D = Decimal

API_FLOORS = [D(0), D(50000), D(250000), D(3000000), D(20000000), D(40000000)]
API_FLOORS += [D(100000000), D(120000000), D(200000000), D(300000000)]
API_RATES = [D("0.004"), D("0.005"), D("0.01"), D("0.025"), D("0.05"), D("0.10")]
API_RATES += [D("0.125"), D("0.15"), D("0.25"), D("0.50")]
API_CUMS = [D(0), D(50), D(1300), D(46300), D(546300), D(2546300), D(5046300)]
API_CUMS += [D(8046300), D(28046300), D(103046300)]
API_CAPS = [*API_FLOORS[1:], D(500000000)]
API_LEVERAGE = [D(x) for x in ["125", "100", "50", "20", "10", "5", "4", "3", "2", "1"]]


def binance_table() -> tuple[Tier, ...]:
    return tuple(
        Tier(floor, cap, lev, rate, cum)
        for floor, cap, lev, rate, cum in zip(
            API_FLOORS, API_CAPS, API_LEVERAGE, API_RATES, API_CUMS, strict=True
        )
    )


def test_bin3_level3_amount() -> None:
    """BIN-3: cum₃ = 50 + 250,000 × (1 % − 0.5 %) = 1,300."""
    assert recursive_amounts(API_FLOORS[:3], API_RATES[:3]) == [0, 50, 1300]


def test_bin4_level5_amount_2020_table() -> None:
    """BIN-4: the 2020 table's amounts up to Level 5: 0, 50, 1,300, 16,300, 141,300."""
    floors = [D(0), D(50000), D(250000), D(1000000), D(5000000)]
    rates = [D("0.004"), D("0.005"), D("0.01"), D("0.025"), D("0.05")]
    assert recursive_amounts(floors, rates) == [0, 50, 1300, 16300, 141300]


def test_the_api_snapshot_amounts() -> None:
    """Every ``cum`` of Binance's BTCUSDT bracket snapshot follows the recursion."""
    assert recursive_amounts(API_FLOORS, API_RATES) == API_CUMS


def test_hl2_deduction() -> None:
    """HL-2: MMR 1/(2 × 40) = 1.25 % and 1/(2 × 20) = 2.5 %; deduction 1,875,000."""
    with exact():
        rates = [1 / (2 * D(40)), 1 / (2 * D(20))]
    assert rates == [D("0.0125"), D("0.025")]
    assert recursive_amounts([D(0), D(150000000)], rates) == [0, 1875000]


def test_bin5_lookup() -> None:
    """BIN-5: 264,000 and 500,000 are in tier 3 (index 2): 1 %, amount 1,300."""
    tiers = binance_table()
    for value in (D(264000), D(500000)):
        assert tier_index(tiers, value) == 2
        assert tier_for(tiers, value).maintenance_margin_rate == D("0.01")
        assert tier_for(tiers, value).maintenance_amount == D(1300)


def test_lookup_at_the_edges() -> None:
    """0 is in the first tier; a cap is in its own tier (BYB-9: 4,000,000 in riskId 2), the
    next value up in the next; above the last cap the last tier applies."""
    tiers = binance_table()
    assert tier_index(tiers, ZERO) == 0
    assert tier_index(tiers, D(50000)) == 0
    assert tier_index(tiers, D("50000.000001")) == 1
    assert tier_index(tiers, D(3000000)) == 2
    assert tier_index(tiers, D(500000000)) == 9
    assert tier_index(tiers, D(10) ** 12) == 9
    bybit = (
        Tier(D(0), D(2000000), D(100), D("0.005")),
        Tier(D(2000000), D(4000000), D("57.14"), D("0.01")),
        Tier(D(4000000), D(6000000), D(40), D("0.015")),
    )
    assert tier_for(bybit, D(4000000)).maintenance_margin_rate == D("0.01")


def test_maintenance_margin_of_a_tier() -> None:
    """BIN-6(a): 0.4 BTC × 0.4 % = 0.0016 BTC; BIN-5: 264,000 × 1 % − 1,300 = 1,340;
    BMX-1/2 step tiers (no amount): 180 × 0.40 % = 0.72, 300 × 0.80 % = 2.4."""
    assert Tier(D(0), D(5), D(125), D("0.004")).maintenance_margin(D("0.4")) == D("0.0016")
    assert tier_for(binance_table(), D(264000)).maintenance_margin(D(264000)) == D(1340)
    steps = (Tier(D(0), D(200), D(100), D("0.004")), Tier(D(200), D(300), D(100), D("0.008")))
    assert tier_for(steps, D(180)).maintenance_margin(D(180)) == D("0.72")
    assert tier_for(steps, D(300)).maintenance_margin(D(300)) == D("2.4")


tables = st.lists(
    st.tuples(
        st.decimals(min_value=D(1), max_value=D(10**6), places=0),
        st.decimals(min_value=D("0.0001"), max_value=D("0.05"), places=4),
    ),
    min_size=1,
    max_size=8,
)


def _table(widths_rates: list[tuple[Decimal, Decimal]]) -> tuple[Tier, ...]:
    """A tax-bracket table from tier widths and rate increments (rates rise)."""
    floors, rates, caps = [], [], []
    floor, rate = ZERO, ZERO
    for width, step in widths_rates:
        rate += step
        floors.append(floor)
        rates.append(rate)
        floor += width
        caps.append(floor)
    amounts = recursive_amounts(floors, rates)
    return tuple(
        Tier(f, c, D(1), r, a) for f, c, r, a in zip(floors, caps, rates, amounts, strict=True)
    )


@given(tables)
def test_tax_bracket_margin_is_continuous_at_every_edge(
    spec: list[tuple[Decimal, Decimal]],
) -> None:
    """With the recursion's amounts, the two tiers meeting at an edge charge the same
    maintenance margin there (the tax-bracket rule: the amount keeps MM continuous)."""
    tiers = _table(spec)
    for below, above in itertools.pairwise(tiers):
        edge = below.max_notional
        assert below.maintenance_margin(edge) == above.maintenance_margin(edge)


@given(tables, st.lists(st.decimals(min_value=D(0), max_value=D(10**7), places=2), min_size=2))
def test_lookup_is_monotone_and_holds_the_value(
    spec: list[tuple[Decimal, Decimal]], values: list[Decimal]
) -> None:
    """A larger value is never in a lower tier; the tier found holds the value in
    ``(min, max]`` (0 in the first tier, beyond the last cap in the last)."""
    tiers = _table(spec)
    indices = [tier_index(tiers, v) for v in sorted(values)]
    assert indices == sorted(indices)
    for value in values:
        k = tier_index(tiers, value)
        tier = tiers[k]
        if k < len(tiers) - 1:
            assert value <= tier.max_notional
        if k > 0:
            assert value > tier.min_notional
