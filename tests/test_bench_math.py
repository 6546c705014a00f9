"""benchmarks/bench_math.py runs, and its references compute the rules margincall computes.

The script's ratios mean something only if its bare-Decimal references and its NumPy kernels
implement the same rule as margincall: here each is checked against margincall's exact scalar
path on Hypothesis-generated isolated positions of every built-in policy (to 20 significant
digits for the references; to float64 accuracy for the kernels). The smoke run is in-process,
so that the script cannot rot. No timing is asserted.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import margincall as mc

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "bench_math.py"

pytestmark = pytest.mark.skipif(
    not SCRIPT.is_file(), reason="benchmarks/bench_math.py is not in this tree"
)


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_math", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_math"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def table(report: str, heading: str) -> list[list[str]]:
    """The body rows of the table under the heading that starts with ``heading``."""
    section = report.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")][1:]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


def test_the_smoke_run_reports_every_part(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("numpy")
    assert bench.main(["--smoke"]) == 0
    report = capsys.readouterr().out
    assert "sizes: smoke" in report
    a = table(report, "(a)")
    assert {row[0] for row in a} == set(mc.available_policies())
    assert len(a) == 3 * len(bench.scalar_cases())
    assert all(re.fullmatch(r"\d+\.\d\d", cell) for row in a for cell in row[4:7])
    b = table(report, "(b)")
    assert [row[0] for row in b] == list(bench.MARKETS)
    assert all(re.fullmatch(r"\d+\.\d{4}", row[4]) for row in b)
    assert "isolated_risk failed" not in report
    if hasattr(mc.Policy, "isolated_risk"):
        assert all(re.fullmatch(r"\d+\.\d\d", row[5]) for row in b)
        (c,) = table(report, "(c)")
        assert c[:3] == ["binance-usdm", "BTCUSDT", "50"]
    else:
        assert "isolated_risk: skipped: margincall.Policy has no isolated_risk" in report
        assert "skipped: margincall.Policy has no isolated_risk yet: nothing to check" in report


def test_one_policy_and_one_part(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--smoke", "--parts", "a", "--policy", "hyperliquid"]) == 0
    report = capsys.readouterr().out
    assert {row[0] for row in table(report, "(a)")} == {"hyperliquid"}
    assert "## (b)" not in report and "## (c)" not in report


def test_bad_options(bench: ModuleType) -> None:
    with pytest.raises(SystemExit) as exit_:
        bench.main(["--parts", "d"])
    assert exit_.value.code == 2
    with pytest.raises(SystemExit):
        bench.main(["--policy", "nowhere"])


def test_agree_counts_significant_digits(bench: ModuleType) -> None:
    one = Decimal(1)
    assert bench.agree(one + Decimal("1e-19"), one)  # the 20th digit differs by 1
    assert not bench.agree(one + Decimal("2e-19"), one)
    assert bench.agree(Decimal("123456.78") * (1 + Decimal("5e-20")), Decimal("123456.78"))
    assert bench.agree(None, None) and not bench.agree(None, one) and not bench.agree(one, None)


def test_a_reference_that_disagrees_stops_the_run(bench: ModuleType) -> None:
    case = bench.scalar_cases()[0]
    with pytest.raises(bench.ReferenceMismatch, match="fix the reference"):
        bench.check_reference(case, "liquidation_price", Decimal(1), Decimal(2))


def test_binance_tier_one_long_by_binance_formula(bench: ModuleType) -> None:
    """Binance's isolated one-way formula, LP = (WB + cum − side·q·E) / (q·MMR − side·q),
    for a tier-1 BTCUSDT long (MMR 0.4 %, cum 0) of 0.5 BTC at 68,000 with 1,700 margin."""
    rule = bench.rule_of(mc.load_policy("binance-usdm"))
    q, entry, margin = Decimal("0.5"), Decimal(68000), Decimal(1700)
    expected = (margin + 0 - q * entry) / (q * Decimal("0.004") - q)
    assert bench.reference_liquidation_price(rule, 1, q, entry, margin) == expected
    assert bench.reference_bankruptcy_price(rule, 1, q, entry, margin) == entry - margin / q


# --- the references against margincall, on generated positions -----------------------------


@st.composite
def isolated_positions(draw: st.DrawFn, rule: Any) -> dict[str, Any]:
    """A position in a drawn tier of ``rule``'s market: value (or contracts, OKX) a drawn
    fraction into the tier, entry 20,000 to 100,000, leverage 2 to the tier's maximum (a 1x
    long has a bankruptcy price of about 0, whose digits are all rounding), a mark within 5 %."""
    k = draw(st.integers(0, len(rule.tiers) - 1))
    floor, cap, _, _ = rule.tiers[k]
    top = Decimal(200) if rule.inverse else Decimal(10_000_000)
    if cap is None or cap > 1000 * top:
        cap = 2 * floor if floor > 0 else top
    fraction = Decimal(draw(st.integers(1, 1000))) / 1000
    amount = floor + (cap - floor) * fraction
    entry = Decimal(draw(st.integers(20_000, 100_000)))
    cs = rule.contract_size
    if rule.kind == "contracts":
        size = amount.quantize(Decimal("0.01"))
    elif rule.inverse:
        size = (amount * entry / cs).quantize(Decimal(1))
    else:
        size = (amount / entry / cs).quantize(Decimal("0.0001"))
    assume(size > 0)
    q = size * cs
    value = q / entry if rule.inverse else q * entry
    leverage = draw(st.integers(2, max(2, int(rule.max_leverage[k]))))
    margin = (value / leverage).quantize(Decimal("1e-8") if rule.inverse else Decimal("0.01"))
    assume(margin > 0)
    side = draw(st.sampled_from(["long", "short"]))
    mark = entry * (1 + Decimal(draw(st.integers(-50, 50))) / 1000)
    return {"side": side, "size": size, "entry": entry, "margin": margin, "mark": mark}


def exact_figures(policy: mc.Policy, symbol: str, p: dict[str, Any]) -> list[Decimal | None]:
    """margincall's liquidation price (the root nearest the mark), bankruptcy price and
    maintenance margin at the mark.
    """
    account = mc.Account(
        0, [mc.Position(symbol, p["side"], p["size"], p["entry"], "isolated", margin=p["margin"])]
    )
    marks = {symbol: p["mark"]}
    liquidation = policy.liquidation_price(account, symbol, marks=marks)
    return [
        liquidation,
        policy.bankruptcy_price(account, symbol),
        policy.maintenance_margin(account, symbol, marks=marks),
    ]


def test_the_fast_path_picks_the_root_nearest_the_mark() -> None:
    """A BitMEX XBTUSD short of 7,033,000 USD at 20,000 (351.65 XBT: step 3, MM 1.5 % + the
    0.05 % taker rate) with 7.033 XBT: its equation has a root in step 3, at value 350.04 XBT,
    and one in step 2, at 348.27 XBT. The price rising from the mark 20,000 reaches the first
    one first: that is where it is liquidated."""
    policy = mc.load_policy("bitmex")
    size, entry, margin = Decimal(7_033_000), Decimal(20000), Decimal("7.033")
    account = mc.Account(
        0, [mc.Position("XBTUSD", "short", size, entry, "isolated", margin=margin)]
    )
    # short inverse, u = 1/P: margin + size·(u − 1/E) = size·u·rate  =>  u = (size/E − margin)
    # / (size·(1 − rate)), the step-3 root if its value size·u is above the 350 XBT edge
    rate = Decimal("0.015") + Decimal("0.0005")
    u = (size / entry - margin) / (size * (1 - rate))
    assert 350 < size * u < 500
    nearest = 1 / u
    marks = {"XBTUSD": entry}
    assert policy.risk(account, marks=marks)[0].liquidation_price == pytest.approx(nearest)
    assert policy.liquidation_price(account, "XBTUSD", marks=marks) == pytest.approx(nearest)


POLICIES = mc.available_policies()
CHECKS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("name", POLICIES)
def test_the_bare_decimal_reference_is_margincalls_rule(bench: ModuleType, name: str) -> None:
    policy = mc.load_policy(name)
    rule = bench.rule_of(policy)

    @CHECKS
    @given(isolated_positions(rule))
    def check(p: dict[str, Any]) -> None:
        sign = 1 if p["side"] == "long" else -1
        size, entry, margin, mark = p["size"], p["entry"], p["margin"], p["mark"]
        ours = [
            bench.reference_liquidation_price(rule, sign, size, entry, margin, mark),
            bench.reference_bankruptcy_price(rule, sign, size, entry, margin),
            bench.reference_maintenance_margin(rule, size, entry, mark),
        ]
        theirs = exact_figures(policy, rule.symbol, p)
        for figure, got, want in zip(bench.COLUMNS, ours, theirs, strict=True):
            assert bench.agree(got, want), (figure, p, got, want)

    check()


def test_a_bankruptcy_price_on_a_tick_stays_on_it() -> None:
    """A Bybit inverse short of 738,945 USD at 49,263 (15 BTC) with 7.5 BTC, leverage 2: its
    bankruptcy price is E × L / (L − 1) = 98,526 [Bybit's inverse isolated formula], a whole
    number of 0.5 ticks, which rounding down to the tick must leave alone."""
    policy = mc.load_policy("bybit-inverse")
    entry, leverage = Decimal(49263), Decimal(2)
    account = mc.Account(
        0, [mc.Position("BTCUSD", "short", 738_945, entry, "isolated", margin=Decimal("7.5"))]
    )
    assert policy.bankruptcy_price(account, "BTCUSD") == entry * leverage / (leverage - 1)


def close(got: float, want: Decimal | None, slack: float) -> bool:
    """``got`` (float64) is ``want`` to float accuracy, or both are "no price" (NaN, None);
    ``slack`` is an absolute allowance for a rounding to a tick or quantum."""
    if want is None:
        return got != got
    return abs(got - float(want)) <= 1e-9 * abs(float(want)) + slack


def on_an_edge(rule: Any, p: dict[str, Any]) -> bool:
    """Whether the position's value at the mark is within float64 rounding of a step
    table's edge, where a float kernel cannot tell the two steps apart (a tax-bracket table
    gives the same margin on both sides of an edge)."""
    if not rule.step:
        return False
    q = p["size"] * rule.contract_size
    value = q / p["mark"] if rule.inverse else q * p["mark"]
    return any(
        cap is not None and abs(value - cap) <= cap * Decimal("1e-12")
        for _, cap, _, _ in rule.tiers
    )


@pytest.mark.parametrize("name", POLICIES)
def test_the_numpy_kernel_is_margincalls_rule(bench: ModuleType, name: str) -> None:
    np = pytest.importorskip("numpy")
    policy = mc.load_policy(name)
    rule = bench.rule_of(policy)

    @CHECKS
    @given(isolated_positions(rule))
    def check(p: dict[str, Any]) -> None:
        risk = bench.numpy_risk(
            rule,
            np.array([p["side"]]),
            np.array([float(p["size"])]),
            np.array([float(p["entry"])]),
            np.array([float(p["margin"])]),
            np.array([float(p["mark"])]),
        )
        liquidation, bankruptcy, maintenance = exact_figures(policy, rule.symbol, p)
        q = float(p["size"] * rule.contract_size)
        # one tick (Bybit) or quote quantum over the size (dYdX) of float rounding before
        # the venue's directed rounding
        step = float(rule.tick) if rule.tick else float(rule.quantum) / q if rule.quantum else 0
        assert close(risk.liquidation_price[0], liquidation, 0), (p, risk, liquidation)
        assert close(risk.bankruptcy_price[0], bankruptcy, step), (p, risk, bankruptcy)
        if not on_an_edge(rule, p):
            assert close(risk.maintenance_margin[0], maintenance, 0), (p, risk, maintenance)

    check()


def test_the_kernel_without_a_mark_has_no_maintenance_margin(bench: ModuleType) -> None:
    np = pytest.importorskip("numpy")
    rule = bench.rule_of(mc.load_policy("binance-usdm"))
    risk = bench.numpy_risk(rule, "long", [1.0, 2.0], [60000.0, 60000.0], [6000.0, 12000.0])
    assert np.isnan(risk.maintenance_margin).all()
    assert not np.isnan(risk.liquidation_price).any()


# --- the equality check's harness ------------------------------------------------------------


def test_check_rows_counts_each_mismatching_column(bench: ModuleType) -> None:
    np = pytest.importorskip("numpy")
    policy = mc.load_policy("binance-usdm")
    rule = bench.rule_of(policy)
    data = bench.positions(rule, 200, seed=3)
    exact = np.array([bench.scalar_row(policy, "BTCUSDT", data, i) for i in range(200)])
    assert np.isnan(exact[:, 0]).any()  # longs at 1x: no liquidation price
    batch = bench.Risk(exact[:, 0].copy(), exact[:, 1].copy(), exact[:, 2].copy())
    assert bench.check_rows(policy, "BTCUSDT", data, batch) == (dict.fromkeys(bench.COLUMNS, 0), [])
    batch.bankruptcy_price[7] = np.nextafter(batch.bankruptcy_price[7], np.inf)  # one ulp off
    nan_row = int(np.flatnonzero(np.isnan(exact[:, 0]))[0])
    batch.liquidation_price[nan_row] = 1.0
    counts, examples = bench.check_rows(policy, "BTCUSDT", data, batch)
    assert counts == {"liquidation_price": 1, "bankruptcy_price": 1, "maintenance_margin": 0}
    assert len(examples) == 2 and examples[0].startswith(f"row {min(7, nan_row)} ")


def test_positions_span_every_tier_both_sides(bench: ModuleType) -> None:
    np = pytest.importorskip("numpy")
    for name in ("binance-usdm", "okx-swap", "bitmex"):
        rule = bench.rule_of(mc.load_policy(name))
        data = bench.positions(rule, 5000, seed=1)
        t = bench.float_tables(rule)
        cs = float(rule.contract_size)
        if rule.kind == "contracts":
            amount = data["size"]
        elif rule.inverse:
            amount = data["size"] * cs / data["entry_price"]
        else:
            amount = data["size"] * cs * data["entry_price"]
        tiers = np.searchsorted(t["cap"], amount, side="left")
        assert set(tiers.tolist()) == set(range(len(rule.tiers))), name
        assert set(data["side"].tolist()) == {"long", "short"}
        assert (data["margin"] > 0).all() and (data["size"] > 0).all()
