"""``margincall.frame.risk``: the batch API over a DataFrame of positions (issue 12).

Each output row equals the scalar API's figure for the row's float64 inputs at their exact
values, rounded to float64 (NaN where the scalar says None): equality of floats, not a
tolerance. The input's index, columns and values come back unchanged; bad input is one
InvalidInputError naming the column, the row label and the reason.
"""

from __future__ import annotations

import importlib
import math
import re
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import margincall as mc
from margincall.errors import InvalidInputError, MargincallError
from margincall.testing import strategies as mst

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")

from margincall import frame  # noqa: E402 (imports nothing optional, but tests need both)
from margincall.arrays import BatchFallbackWarning  # noqa: E402 (needs numpy)

POLICIES = {name: mc.load_policy(name) for name in mc.available_policies()}
ADDED = [
    "maintenance_margin",
    "liquidation_price",
    "bankruptcy_price",
    "margin_balance",
    "pool_maintenance_margin",
    "exact",
]


def f(value: Decimal | None) -> float:
    return math.nan if value is None else float(value)


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def scalar_isolated(policy: mc.Policy, row: Any, mark: float | None) -> tuple[float, ...]:
    """(maintenance margin, liquidation price, bankruptcy price) of an isolated row through
    the exact scalar path, its float64 inputs at their exact values."""
    symbol = row["symbol"]  # (row.size would be the Series' length)
    position = mc.Position(
        symbol,
        row["side"],
        Decimal(float(row["size"])),
        Decimal(float(row["entry_price"])),
        "isolated",
        margin=Decimal(float(row["margin"])),
    )
    account = mc.Account(0, [position])
    marks = None if mark is None else {symbol: Decimal(float(mark))}
    return (
        math.nan if marks is None else f(policy.maintenance_margin(account, symbol, marks=marks)),
        f(policy.liquidation_price(account, symbol)),
        f(policy.bankruptcy_price(account, symbol)),
    )


def assert_isolated_rows_agree(
    policy: mc.Policy, given: Any, result: Any, marks: dict[str, float] | None = None
) -> None:
    for label, row in given.iterrows():
        if marks is not None:
            mark: float | None = marks[row["symbol"]]
        elif "mark_price" in given.columns:
            mark = row["mark_price"]
        else:
            mark = None
        expected = scalar_isolated(policy, row, mark)
        got = tuple(result.loc[label, name] for name in ADDED[:3])
        assert all(same(g, e) for g, e in zip(got, expected, strict=True)), (label, got, expected)
        assert math.isnan(result.loc[label, "margin_balance"])
        assert math.isnan(result.loc[label, "pool_maintenance_margin"])


@st.composite
def isolated_frames(draw: st.DrawFn, policy: mc.Policy) -> Any:
    """1 to 10 isolated positions over the policy's markets (several symbols, both sides),
    indexed by strings in an order that is not the rows' order."""
    rows = []
    for _ in range(draw(st.integers(1, 10))):
        symbol = draw(st.sampled_from(sorted(policy.markets)))
        market = policy.markets[symbol]
        size = draw(mst.sizes(market, max_lots=10**5))
        entry = draw(mst.prices(market))
        exposure = size * market.contract_size
        at_entry = exposure / entry if market.inverse else exposure * entry
        margin = at_entry * draw(mst.decimals_between("0.005", "1.2", 4))
        rows.append(
            {
                "symbol": symbol,
                "side": draw(st.sampled_from(["long", "short"])),
                "size": float(size),
                "entry_price": float(entry),
                "margin": float(margin),
                "mark_price": float(draw(mst.nearby_prices(market, entry))),
            }
        )
    labels = [f"pos-{len(rows) - k}" for k in range(len(rows))]
    return pd.DataFrame(rows, index=labels)


@pytest.mark.parametrize("name", sorted(POLICIES))
@settings(max_examples=10, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_each_row_equals_the_scalar_path(name: str, data: st.DataObject) -> None:
    """Mixed symbols and sides, a string index: every figure is the scalar API's, the input
    comes back unchanged, and the output keeps the index."""
    policy = POLICIES[name]
    given = data.draw(isolated_frames(policy), label="frame")
    before = given.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BatchFallbackWarning)
        result = frame.risk(given, policy)
    pd.testing.assert_frame_equal(given, before)  # not modified
    assert list(result.index) == list(given.index)
    assert list(result.columns) == [*given.columns, *ADDED]
    pd.testing.assert_frame_equal(result[list(given.columns)], given)
    assert result["exact"].dtype == bool
    assert_isolated_rows_agree(policy, given, result)


def test_mark_from_a_mapping_or_without_marks() -> None:
    """mark={symbol: price} prices each row by its symbol, as the column would; without
    marks the maintenance margin is NaN and the prices are unchanged."""
    policy = POLICIES["binance-usdm"]
    positions = pd.DataFrame(
        {
            "symbol": ["ETHUSDT", "BTCUSDT", "BTCUSDT", "SOLUSDT"],
            "side": ["short", "long", "short", "long"],
            "size": [4.0, 0.5, 1.25, 30.0],
            "entry_price": [3000.0, 60000.0, 61000.5, 150.0],
            "margin": [600.0, 3000.0, 5000.0, 450.0],
        },
        index=[10, 3, 7, -1],
    )
    marks = {"BTCUSDT": 59000.5, "ETHUSDT": 3100.0, "SOLUSDT": 140.25}
    by_mapping = frame.risk(positions, policy, mark={k: Decimal(str(v)) for k, v in marks.items()})
    assert_isolated_rows_agree(policy, positions, by_mapping, marks)
    by_column = frame.risk(positions.assign(mark_price=positions.symbol.map(marks)), policy)
    pd.testing.assert_frame_equal(by_mapping, by_column.drop(columns="mark_price"))
    unmarked = frame.risk(positions, policy)
    assert unmarked["maintenance_margin"].isna().all()
    pd.testing.assert_frame_equal(unmarked[ADDED[1:]], by_mapping[ADDED[1:]], check_exact=True)
    assert_isolated_rows_agree(policy, positions, unmarked)


def test_margin_mode_column_and_the_exact_column() -> None:
    """An explicit isolated margin_mode is the default's result; a row whose liquidation
    value is exactly a tier's cap (binance-usdm BTCUSDT, tests/test_batch.py) is marked
    exact, an ordinary row is not."""
    policy = POLICIES["binance-usdm"]
    positions = pd.DataFrame(
        {
            "symbol": "BTCUSDT",
            "side": "long",
            "size": [10.0, 10.0],
            "entry_price": 6000.0,
            "margin": [3000.0, 10200.0],
            "mark_price": 6000.0,
        },
        index=["ordinary", "on the edge"],
    )
    result = frame.risk(positions, policy)
    assert result["exact"].tolist() == [False, True]
    assert result.loc["on the edge", "liquidation_price"] == 5000.0
    explicit = frame.risk(positions.assign(margin_mode="isolated"), policy)
    pd.testing.assert_frame_equal(explicit.drop(columns="margin_mode"), result)
    assert_isolated_rows_agree(policy, positions, result)


def test_output_columns_are_replaced_and_fallbacks_warn() -> None:
    """Running risk on its own output replaces the figures (new marks, new margin); a
    policy without a vectorised form of a figure warns, naming the hook."""
    policy = POLICIES["bybit-linear"]
    positions = pd.DataFrame(
        {
            "symbol": ["BTCUSDT", "ETHUSDT"],
            "side": ["long", "short"],
            "size": [0.5, 3.0],
            "entry_price": [60000.0, 3000.0],
            "margin": [3000.0, 900.0],
            "mark_price": [58000.0, 3050.0],
        }
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BatchFallbackWarning)
        first = frame.risk(positions, policy)
    shown = [str(w.message) for w in caught if issubclass(w.category, BatchFallbackWarning)]
    assert any("margincall_bankruptcy_price is overridden by bybit" in m for m in shown), shown
    moved = first.assign(mark_price=[50000.0, 3500.0], margin=[2000.0, 400.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BatchFallbackWarning)
        again = frame.risk(moved, policy)
    assert list(again.columns) == list(first.columns)
    assert_isolated_rows_agree(policy, moved[list(positions.columns)], again)


def test_an_empty_frame() -> None:
    policy = POLICIES["binance-usdm"]
    empty = pd.DataFrame({c: [] for c in ("symbol", "side", "size", "entry_price", "margin")})
    result = frame.risk(empty, policy)
    assert len(result) == 0 and list(result.columns) == [*empty.columns, *ADDED]


def test_pyarrow_backed_columns() -> None:
    """Columns held by Arrow (strings and doubles) give the NumPy-backed frame's figures."""
    pytest.importorskip("pyarrow")
    if not hasattr(pd, "ArrowDtype"):
        pytest.skip("this pandas has no Arrow-backed columns (pandas.ArrowDtype, 1.5+)")
    policy = POLICIES["binance-usdm"]
    plain = pd.DataFrame(
        {
            "symbol": ["BTCUSDT", "ETHUSDT", "BTCUSDT"],
            "side": ["long", "short", "short"],
            "size": [0.5, 4.0, 0.001],
            "entry_price": [60000.0, 3000.0, 61000.0],
            "margin": [3000.0, 600.0, 12.5],
            "mark_price": [59000.0, 3100.0, 60500.0],
        },
        index=["a", "b", "c"],
    )
    arrow = plain.astype(
        {
            "symbol": "string[pyarrow]",
            "side": pd.ArrowDtype(importlib.import_module("pyarrow").string()),
            **dict.fromkeys(("size", "entry_price", "margin", "mark_price"), "double[pyarrow]"),
        }
    )
    assert isinstance(arrow["size"].dtype, pd.ArrowDtype)
    expected = frame.risk(plain, policy)
    result = frame.risk(arrow, policy)
    pd.testing.assert_frame_equal(result[ADDED], expected[ADDED])
    assert_isolated_rows_agree(policy, plain, result)


POSITIONS = {
    "symbol": ["BTCUSDT", "ETHUSDT"],
    "side": ["long", "short"],
    "size": [0.5, 4.0],
    "entry_price": [60000.0, 3000.0],
    "margin": [3000.0, 600.0],
    "mark_price": [59000.0, 3100.0],
}


@pytest.mark.parametrize(
    ("changes", "options", "message"),
    [
        ({"size": None}, {}, r"missing column 'size'; a position needs"),
        ({"side": None, "entry_price": None}, {}, r"missing columns 'side', 'entry_price'"),
        ({"size": [1.0, -2.0]}, {}, r"column 'size', row 'y': must be > 0, got -2"),
        ({"size": [1.0, "x"]}, {}, r"column 'size', row 'y': expected a number, got 'x'"),
        ({"size": [True, False]}, {}, r"column 'size', row 'x': expected numbers, got booleans"),
        ({"entry_price": [math.inf, 1.0]}, {}, r"column 'entry_price', row 'x': must be a finite"),
        ({"mark_price": [1e31, 1.0]}, {}, r"column 'mark_price', row 'x': .* is out of range"),
        ({"margin": [1.0, math.nan]}, {}, r"column 'margin', row 'y': missing .*need their margin"),
        ({"margin": None}, {}, r"column 'margin', row 'x': missing column: isolated rows need"),
        ({"side": ["long", "Long"]}, {}, r"column 'side', row 'y': must be 'long' or 'short'"),
        ({"symbol": ["BTCUSDT", "NOPE"]}, {}, r"column 'symbol', row 'y': unknown symbol 'NOPE'"),
        ({"symbol": ["", "BTCUSDT"]}, {}, r"column 'symbol', row 'x': must be a non-empty string"),
        ({"margin_mode": ["isolated", "hedge"]}, {}, r"'margin_mode', row 'y': must be 'isolated'"),
        ({"margin_mode": ["isolated", None]}, {}, r"'margin_mode', row 'y': .*got None"),
        ({"margin_mode": ["cross", "isolated"]}, {}, r"'margin', row 'x': a cross row takes no"),
        ({}, {"mark": {"BTCUSDT": 1.0}}, r"marks given twice"),
        ({"mark_price": None}, {"mark": {"BTCUSDT": 1.0}}, r"'symbol', row 'y': mark= has no"),
        ({"mark_price": None}, {"mark": {"BTCUSDT": -1, "ETHUSDT": 1}}, r"mark\['BTCUSDT'\]"),
    ],
)
def test_bad_input_names_the_column_and_the_row(
    changes: dict[str, object], options: dict[str, Any], message: str
) -> None:
    policy = POLICIES["binance-usdm"]
    given = pd.DataFrame(POSITIONS, index=["x", "y"])
    for column, value in changes.items():
        if value is None:
            given = given.drop(columns=column)
        else:
            given[column] = value
    with pytest.raises(InvalidInputError, match=message):
        frame.risk(given, policy, **options)


def test_not_a_dataframe() -> None:
    with pytest.raises(InvalidInputError, match="expected a pandas DataFrame, got dict"):
        frame.risk(POSITIONS, POLICIES["binance-usdm"])


def test_without_pandas_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def without_pandas(name: str, *args: Any) -> Any:
        if name == "pandas":
            raise ImportError("No module named 'pandas'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", without_pandas)
    with pytest.raises(MargincallError, match=r"pip install 'margincall\[batch,pandas\]'"):
        frame.risk(pd.DataFrame(POSITIONS), POLICIES["binance-usdm"])


# --- cross rows ---------------------------------------------------------------------------


def mixed_frame() -> Any:
    """Two accounts with cross positions in several symbols, and isolated rows between them;
    the index is strings, not in the rows' order."""
    rows = [
        ("BTCUSDT", "long", 0.5, 60000.0, "cross", math.nan, "alice", 10000.0, 58000.0),
        ("ETHUSDT", "short", 4.0, 3000.0, "cross", math.nan, "alice", 10000.0, 3150.0),
        ("BTCUSDT", "short", 0.25, 61000.0, "isolated", 2000.0, None, math.nan, 58000.0),
        ("SOLUSDT", "long", 100.0, 150.0, "cross", math.nan, "bob", 2500.5, 140.0),
        ("BTCUSDT", "short", 0.1, 59000.0, "cross", math.nan, "bob", 2500.5, 58000.0),
        ("ETHUSDT", "long", 2.0, 3000.0, "isolated", 900.0, "bob", math.nan, 3150.0),
    ]
    columns = [
        "symbol", "side", "size", "entry_price", "margin_mode", "margin", "account", "balance",
        "mark_price",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns, index=[f"r{k}" for k in (5, 3, 1, 0, 2, 4)])


@pytest.mark.parametrize(
    "name",
    [n for n, p in POLICIES.items() if {"BTCUSDT", "ETHUSDT", "SOLUSDT"} <= set(p.markets)],
)
def test_cross_rows_equal_the_scalar_path(name: str) -> None:
    """Each cross row's figures are the scalar API's on the row's account (its cross rows,
    the balance) at the rows' marks; isolated rows as before."""
    policy = POLICIES[name]
    given = mixed_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BatchFallbackWarning)
        result = frame.risk(given, policy)
    assert list(result.index) == list(given.index)
    cross = given[given.margin_mode == "cross"]
    assert_isolated_rows_agree(policy, given[given.margin_mode == "isolated"], result)
    for label, row in cross.iterrows():
        symbol = row["symbol"]
        mine = cross[cross.account == row["account"]]
        account = mc.Account(
            Decimal(float(row["balance"])),
            [
                mc.Position(
                    r.symbol, r.side, Decimal(float(r.size)), Decimal(float(r.entry_price)), "cross"
                )
                for r in mine.itertuples()
            ],
        )
        marks = {r.symbol: Decimal(float(r.mark_price)) for r in mine.itertuples()}
        health = policy.health(account, symbol, marks=marks)
        expected = {
            "maintenance_margin": f(policy.maintenance_margin(account, symbol, marks=marks)),
            "liquidation_price": f(policy.liquidation_price(account, symbol, marks=marks)),
            "bankruptcy_price": f(policy.bankruptcy_price(account, symbol, marks=marks)),
            "margin_balance": f(health.margin_balance),
            "pool_maintenance_margin": f(health.maintenance_margin),
        }
        for column, value in expected.items():
            assert same(result.loc[label, column], value), (label, column, value)


def test_cross_rows_need_accounts_and_one_balance_each() -> None:
    """Cross rows' own inputs are checked before any cross figure: an account on each, one
    balance per account, one position per account and symbol, a mark."""
    policy = POLICIES["binance-usdm"]
    given = mixed_frame()
    cases = [
        (given.drop(columns="account"), r"column 'account', row 'r5': missing column"),
        (given.drop(columns="balance"), r"column 'balance', row 'r5': missing column"),
        (
            given.assign(balance=given.balance.where(given.index != "r3", 9000.0)),
            r"column 'balance', row 'r3': account 'alice' has balance 10000.0 on row 'r5'",
        ),
        (
            given.assign(symbol=given.symbol.where(given.index != "r3", "BTCUSDT")),
            r"column 'symbol', row 'r3': account 'alice' holds 'BTCUSDT' twice",
        ),
        (
            given.assign(account=given.account.where(given.index != "r0", None)),
            r"column 'account', row 'r0': missing",
        ),
        (given.drop(columns="mark_price"), r"column 'mark_price', row 'r5': missing column"),
    ]
    for bad, message in cases:
        with pytest.raises(InvalidInputError, match=message):
            frame.risk(bad, policy)


def test_a_cross_account_has_one_settlement_currency() -> None:
    """bitmex: XBTUSD settles in XBT, XBTUSDT in USDT; one cross account cannot hold both."""
    given = pd.DataFrame(
        {
            "symbol": ["XBTUSD", "XBTUSDT"],
            "side": ["long", "short"],
            "size": [1000.0, 0.5],
            "entry_price": [60000.0, 60000.0],
            "margin_mode": "cross",
            "account": "carol",
            "balance": 1.0,
            "mark_price": 60000.0,
        },
        index=["first", "second"],
    )
    message = r"column 'symbol', row 'second': account 'carol' holds 'XBTUSD' \(row 'first'\)"
    with pytest.raises(InvalidInputError, match=message):
        frame.risk(given, POLICIES["bitmex"])
    result = frame.risk(given.assign(account=["carol", "dave"]), POLICIES["bitmex"])
    assert result["liquidation_price"].notna().all()


def test_the_fallback_table_of_docs_batch_is_true() -> None:
    """docs/batch.md's table names, per built-in policy, the isolated figures computed row by
    row: exactly those warn, over every market of the policy."""
    text = (Path(__file__).parents[1] / "docs" / "batch.md").read_text(encoding="utf-8")
    documented: dict[str, set[str]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`") and cells[0] != "`column`":
            names = re.findall(r"`([\w-]+)`", cells[0])
            every = {"maintenance_margin", "liquidation_price", "bankruptcy_price"}
            figures = every if cells[1] == "every figure" else set(re.findall(r"`(\w+)`", cells[1]))
            documented |= dict.fromkeys(names, figures)
    assert set(documented) == set(POLICIES)
    for name, policy in POLICIES.items():
        warned = set()
        for symbol in policy.markets:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", BatchFallbackWarning)
                policy.isolated_risk(
                    symbol, side="long", size=1.0, entry_price=100.0, margin=10.0, mark=100.0
                )
            warned |= {
                str(w.message).split(": ")[1].split()[0]
                for w in caught
                if issubclass(w.category, BatchFallbackWarning)
            }
        assert warned == documented[name], (name, warned, documented[name])
