"""The batch API (``Policy.isolated_risk``): every row equals the exact scalar path's result
for the row's float64 inputs, rounded to float64 (issue 12).

The law, per built-in policy, on generated columns: ``isolated_risk(...)`` row ``i`` ==
``float(policy.liquidation_price(Account(0, [Position(..., Decimal(size[i]), ...)])))`` (and
the bankruptcy price and the maintenance margin), NaN where the scalar says None: equality of
floats, not a tolerance. Columns mix ordinary rows with rows built to sit on a tier edge or
at zero, which the kernel must hand to the exact path (``exact_rows``). A policy whose rule has
no vectorised form warns, naming the hook or setting, and still agrees.
"""

from __future__ import annotations

import math
import warnings
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import margincall as mc
from margincall.decimals import exact
from margincall.errors import InvalidInputError
from margincall.testing import strategies as mst

np = pytest.importorskip("numpy")

from margincall.arrays import BatchFallbackWarning  # noqa: E402 (needs numpy)

POLICIES = {name: mc.load_policy(name) for name in mc.available_policies()}


def scalar_row(
    policy: mc.Policy, symbol: str, side: str, size: float, entry: float, margin: float, mark: float
) -> tuple[float, float, float]:
    """(maintenance margin, liquidation price, bankruptcy price) through the exact scalar
    path, for the float64 inputs at their exact values, rounded to float64 (NaN for None)."""
    position = mc.Position(
        symbol, side, Decimal(size), Decimal(entry), "isolated", margin=Decimal(margin)
    )
    account = mc.Account(0, [position])

    def f(value: Decimal | None) -> float:
        return math.nan if value is None else float(value)

    return (
        f(policy.maintenance_margin(account, symbol, marks={symbol: Decimal(mark)})),
        f(policy.liquidation_price(account, symbol)),
        f(policy.bankruptcy_price(account, symbol)),
    )


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@st.composite
def columns(draw: st.DrawFn, policy: mc.Policy) -> tuple[str, list[tuple[object, ...]]]:
    """A market of ``policy`` and 1 to 12 rows (side, size, entry, margin, mark) of floats;
    some rows' margin puts the liquidation value on a tier edge, or leaves no equity."""
    symbol = draw(st.sampled_from(sorted(policy.markets)))
    market = policy.markets[symbol]
    tiers = market.tiers
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        side = draw(st.sampled_from(["long", "short"]))
        size = float(draw(mst.sizes(market, max_lots=10**6)))
        entry = float(draw(mst.prices(market)))
        with exact():
            exposure = Decimal(size) * market.contract_size
            at_entry = exposure / Decimal(entry) if market.inverse else exposure * Decimal(entry)
            kind = draw(st.sampled_from(["fraction", "edge", "all"]))
            sigma = (1 if side == "long" else -1) * (-1 if market.inverse else 1)
            if kind == "edge" and len(tiers) > 1:
                edge = tiers[draw(st.integers(0, len(tiers) - 2))].max_notional
                requirement = mc.tiers.tier_for(tiers, edge).maintenance_margin(edge)
                margin = sigma * (at_entry - edge) + requirement  # f(edge) = 0
                event("margin for a root on an edge")
            elif kind == "all":
                margin = at_entry  # a 1x position: bankruptcy at zero (long) or twice entry
            else:
                margin = at_entry * draw(mst.decimals_between("0.005", "1.2", 4))
        if margin < 0:
            margin = -margin
        mark = float(draw(mst.nearby_prices(market, Decimal(entry))))
        rows.append((side, size, entry, float(margin), mark))
    return symbol, rows


@pytest.mark.parametrize("name", sorted(POLICIES))
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_batch_equals_the_exact_scalar_path(name: str, data: st.DataObject) -> None:
    """Every row of ``isolated_risk`` equals the exact scalar result rounded to float64."""
    policy = POLICIES[name]
    symbol, rows = data.draw(columns(policy), label="columns")
    side, size, entry, margin, mark = (list(c) for c in zip(*rows, strict=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BatchFallbackWarning)
        risk = policy.isolated_risk(
            symbol,
            side=side,
            size=np.array(size),
            entry_price=np.array(entry),
            margin=np.array(margin),
            mark=np.array(mark),
        )
    assert len(risk) == len(rows)
    for i, row in enumerate(rows):
        expected = scalar_row(policy, symbol, *row)  # type: ignore[arg-type]
        got = (risk.maintenance_margin[i], risk.liquidation_price[i], risk.bankruptcy_price[i])
        assert all(same(g, e) for g, e in zip(got, expected, strict=True)), (i, row, got, expected)
    if len(risk.exact_rows):
        event("some rows exact")


def test_rows_on_a_tier_edge_go_through_the_exact_path() -> None:
    """binance-usdm BTCUSDT: a 10 BTC long whose liquidation value is exactly the 50,000 USDT
    cap of tier 1 (margin = at entry − cap + cap × 0.4 %, the documented tier-1 rate): the
    row is listed in ``exact_rows`` and equals the scalar result; an ordinary row is not."""
    policy = POLICIES["binance-usdm"]
    # at entry 10 × 6,000 = 60,000; f(50,000) = m − 60,000 + 50,000 − 200 = 0 → m = 10,200
    risk = policy.isolated_risk(
        "BTCUSDT",
        side=["long", "long"],
        size=[10.0, 10.0],
        entry_price=[6000.0, 6000.0],
        margin=[10200.0, 3000.0],
    )
    assert list(risk.exact_rows) == [0]
    assert risk.liquidation_price[0] == 5000.0  # value 50,000 over 10 BTC
    for i, margin in enumerate((10200.0, 3000.0)):
        expected = scalar_row(policy, "BTCUSDT", "long", 10.0, 6000.0, margin, 6000.0)
        assert same(risk.liquidation_price[i], expected[1])
        assert same(risk.bankruptcy_price[i], expected[2])
    assert np.isnan(risk.maintenance_margin).all()  # no mark given


def test_inverse_market_is_vectorised() -> None:
    """binance-coinm BTCUSD_PERP (inverse, 100 USD a contract): no warning, and the rows
    agree with the scalar path."""
    policy = POLICIES["binance-coinm"]
    sides = ["long", "short", "long", "short"]
    sizes, entries = [1.0, 250.0, 4000.0, 77.0], [60000.0, 61000.5, 30000.0, 90000.0]
    margins = [0.0005, 0.02, 2.5, 0.01]
    with warnings.catch_warnings():
        warnings.simplefilter("error", BatchFallbackWarning)
        risk = policy.isolated_risk(
            "BTCUSD_PERP",
            side=sides,
            size=sizes,
            entry_price=entries,
            margin=margins,
            mark=59000.0,
        )
    for i, row in enumerate(zip(sides, sizes, entries, margins, strict=True)):
        expected = scalar_row(policy, "BTCUSD_PERP", *row, 59000.0)
        got = (risk.maintenance_margin[i], risk.liquidation_price[i], risk.bankruptcy_price[i])
        assert all(same(g, e) for g, e in zip(got, expected, strict=True))


@pytest.mark.parametrize(
    ("name", "symbol", "named"),
    [
        ("bybit-linear", "BTCUSDT", 'maintenance_value = "entry"'),
        ("bybit-linear", "BTCUSDT", "margincall_bankruptcy_price is overridden by bybit"),
        ("dydx-v4", "BTC-USD", "margincall_bankruptcy_price is overridden by dydx"),
        ("okx-swap", "BTC-USDT-SWAP", "margincall_maintenance_tiers of okx reads the position"),
        ("deribit", "BTC-PERPETUAL", "margincall_maintenance_tiers of deribit reads the position"),
        ("bitmex", "XBTUSDT", "not monotone"),
    ],
)
def test_fallbacks_warn_naming_the_rule(name: str, symbol: str, named: str) -> None:
    """A figure without a vectorised form warns, naming the hook or setting, and its rows
    are all exact."""
    policy = POLICIES[name]
    with pytest.warns(BatchFallbackWarning, match=named):
        risk = policy.isolated_risk(
            symbol, side="long", size=[1.0, 2.0], entry_price=50000.0, margin=5000.0, mark=49000.0
        )
    assert list(risk.exact_rows) == [0, 1]


def test_vectorised_policies_do_not_warn() -> None:
    """The policies whose price and tier hooks are the defaults (or per-market tables) take
    the kernel for every figure: no warning."""
    for name in ("binance-usdm", "binance-usdm-chasing", "broker-chasing", "esma-retail"):
        policy = POLICIES[name]
        with warnings.catch_warnings():
            warnings.simplefilter("error", BatchFallbackWarning)
            policy.isolated_risk(
                "BTCUSDT", side="short", size=1.5, entry_price=60000.0, margin=900.0, mark=1.0
            )


def test_inputs_broadcast_and_accept_pandas() -> None:
    """Scalars broadcast against columns; pandas Series and lists are columns; an empty
    column gives empty results; sides may be +1/−1."""
    pd = pytest.importorskip("pandas")
    policy = POLICIES["binance-usdm"]
    frame = pd.DataFrame({"size": [0.5, 1.0, 2.0], "entry": [60000.0, 61000.0, 62000.0]})
    risk = policy.isolated_risk(
        "BTCUSDT", side="long", size=frame["size"], entry_price=frame["entry"], margin=3000.0
    )
    assert len(risk) == 3
    by_sign = policy.isolated_risk(
        "BTCUSDT", side=[1, 1, 1], size=frame["size"], entry_price=frame["entry"], margin=3000.0
    )
    assert np.array_equal(risk.liquidation_price, by_sign.liquidation_price, equal_nan=True)
    empty = policy.isolated_risk("BTCUSDT", side=[], size=[], entry_price=[], margin=[])
    assert len(empty) == 0 and len(empty.exact_rows) == 0
    table = risk.to_pandas()
    assert list(table.columns) == [
        "maintenance_margin",
        "liquidation_price",
        "bankruptcy_price",
        "exact",
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"side": ["long", "up"]}, r"side\[1\]: must be 'long' or 'short'"),
        ({"size": [1.0, -2.0]}, r"size\[1\]: must be > 0, got -2"),
        ({"size": [1.0, float("nan")]}, r"size\[1\]: must be a finite number"),
        ({"entry_price": [1.0, 0.0]}, r"entry_price\[1\]: must be > 0"),
        ({"margin": [1.0, -1.0]}, r"margin\[1\]: must be >= 0"),
        ({"mark": [1.0, 1e31]}, r"mark\[1\]: 9999999999999999635896294965248 is out of range"),
        (
            {"size": [1.0, 2.0, 3.0]},
            r"the columns differ in length \(side 2, size 3, entry_price 2",
        ),
        ({"size": [[1.0], [2.0]]}, r"size: expected a number or one column, got shape"),
        ({"size": ["a", "b"]}, r"size: expected numbers"),
    ],
)
def test_bad_columns_are_refused_naming_the_row(changes: dict[str, object], message: str) -> None:
    """Bad input gets one InvalidInputError naming the column, the row and the reason."""
    policy = POLICIES["binance-usdm"]
    arguments: dict[str, object] = {
        "side": ["long", "short"],
        "size": [1.0, 2.0],
        "entry_price": [60000.0, 60000.0],
        "margin": [1000.0, 1000.0],
        "mark": [60000.0, 60000.0],
    }
    arguments.update(changes)
    with pytest.raises(InvalidInputError, match=message):
        policy.isolated_risk("BTCUSDT", **arguments)  # type: ignore[arg-type]


def test_unknown_symbol_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="unknown symbol 'NOPE'"):
        POLICIES["binance-usdm"].isolated_risk(
            "NOPE", side="long", size=1.0, entry_price=1.0, margin=1.0
        )


# --- cross accounts -----------------------------------------------------------------------


@st.composite
def cross_books(draw: st.DrawFn, policy: mc.Policy) -> list[tuple[object, ...]]:
    """1 to 4 accounts, each with 1 to 3 cross positions in distinct symbols of one
    settlement currency, its balance on each row: rows (account, symbol, side, size, entry,
    mark, balance) of floats."""
    by_currency: dict[str, list[str]] = {}
    for symbol, market in sorted(policy.markets.items()):
        by_currency.setdefault(market.settlement_currency, []).append(symbol)
    rows = []
    for account in range(draw(st.integers(1, 4))):
        currency = draw(st.sampled_from(sorted(by_currency)))
        symbols = draw(
            st.lists(st.sampled_from(by_currency[currency]), min_size=1, max_size=3, unique=True)
        )
        balance = float(draw(mst.decimals_between(0, 10**6, 2)))
        for symbol in symbols:
            market = policy.markets[symbol]
            entry = draw(mst.prices(market))
            rows.append(
                (
                    f"a{account}",
                    symbol,
                    draw(st.sampled_from(["long", "short"])),
                    float(draw(mst.sizes(market, max_lots=10**5))),
                    float(entry),
                    float(draw(mst.nearby_prices(market, entry))),
                    balance,
                )
            )
    return rows


def cross_scalar(policy: mc.Policy, rows: list[tuple[object, ...]], i: int) -> list[float]:
    """Row ``i``'s five figures through the exact scalar path: its account built from every
    row of that account, the floats at their exact values."""
    mine = [r for r in rows if r[0] == rows[i][0]]
    account = mc.Account(
        Decimal(mine[0][6]),  # type: ignore[arg-type]
        [mc.Position(r[1], r[2], Decimal(r[3]), Decimal(r[4])) for r in mine],  # type: ignore[arg-type]
    )
    marks = {r[1]: Decimal(r[5]) for r in mine}  # type: ignore[arg-type]
    symbol = rows[i][1]
    health = policy.health(account, symbol, marks=marks)  # type: ignore[arg-type]
    figures = [
        policy.maintenance_margin(account, symbol, marks=marks),  # type: ignore[arg-type]
        policy.liquidation_price(account, symbol, marks=marks),  # type: ignore[arg-type]
        policy.bankruptcy_price(account, symbol, marks=marks),  # type: ignore[arg-type]
        health.margin_balance,
        health.maintenance_margin,
    ]
    return [math.nan if f is None else float(f) for f in figures]


@pytest.mark.parametrize("name", sorted(POLICIES))
@settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_cross_batch_equals_the_exact_scalar_path(name: str, data: st.DataObject) -> None:
    """Every row of ``cross_risk`` equals the exact scalar result rounded to float64: the
    position's maintenance margin, its symbol's liquidation and bankruptcy prices with the
    account's other symbols at their marks, the account's margin balance and maintenance."""
    policy = POLICIES[name]
    rows = data.draw(cross_books(policy), label="rows")
    account, symbol, side, size, entry, mark, balance = (list(c) for c in zip(*rows, strict=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BatchFallbackWarning)
        risk = policy.cross_risk(
            account=account,
            symbol=symbol,
            side=side,
            size=size,
            entry_price=entry,
            mark=mark,
            balance=balance,
        )
    for i in range(len(rows)):
        got = [
            risk.maintenance_margin[i],
            risk.liquidation_price[i],
            risk.bankruptcy_price[i],
            risk.margin_balance[i],
            risk.pool_maintenance_margin[i],
        ]
        expected = cross_scalar(policy, rows, i)
        assert all(same(g, e) for g, e in zip(got, expected, strict=True)), (i, rows, got)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"symbol": ["BTCUSDT", "BTCUSDT"]}, r"account 'a' holds BTCUSDT in rows 0 and 1"),
        ({"balance": [100.0, 200.0]}, r"account 'a': balance\[0\] is 100\.0 but balance\[1\]"),
        ({"symbol": ["BTCUSDT", "NOPE"]}, r"symbol\[1\]: unknown symbol 'NOPE'"),
        ({"mark": [60000.0, -1.0]}, r"mark\[1\]: must be > 0"),
        ({"account": [["a"], ["a"]]}, r"account: expected one column"),
    ],
)
def test_bad_cross_columns_are_refused(changes: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "account": ["a", "a"],
        "symbol": ["BTCUSDT", "ETHUSDT"],
        "side": ["long", "short"],
        "size": [1.0, 2.0],
        "entry_price": [60000.0, 3000.0],
        "mark": [60000.0, 3000.0],
        "balance": [100.0, 100.0],
    }
    arguments.update(changes)
    with pytest.raises(InvalidInputError, match=message):
        POLICIES["binance-usdm"].cross_risk(**arguments)  # type: ignore[arg-type]


def test_a_cross_account_settles_in_one_currency() -> None:
    """binance-coinm: BTCUSD_PERP settles in BTC, ETHUSD_PERP in ETH; one account cannot
    hold both in one cross pool (as the scalar API refuses)."""
    with pytest.raises(InvalidInputError, match=r"settle in BTC .* and ETH"):
        POLICIES["binance-coinm"].cross_risk(
            account=["a", "a"],
            symbol=["BTCUSD_PERP", "ETHUSD_PERP"],
            side="long",
            size=1.0,
            entry_price=[60000.0, 3000.0],
            mark=[60000.0, 3000.0],
            balance=1.0,
        )


def test_two_liquidation_prices_are_chosen_by_the_mark() -> None:
    """BitMEX XBTUSD (a step table): a short of 7,033,000 USD at 20,000 with 7.033 XBT meets
    its requirement at two prices (tests/test_exact_fast_path.py). With the mark the batch
    row is the scalar price nearer it; without one the row is refused, naming it, as the
    scalar API refuses to choose."""
    policy = POLICIES["bitmex"]
    columns = {"side": "short", "size": [7033000.0], "entry_price": [20000.0]}
    margin = 7.033  # the batch takes the float at its exact value, as Decimal(margin) does
    with pytest.warns(BatchFallbackWarning):
        risk = policy.isolated_risk("XBTUSD", **columns, margin=[margin], mark=[20000.0])
    short = mc.Position("XBTUSD", "short", 7033000, 20000, "isolated", margin=Decimal(margin))
    expected = policy.liquidation_price(
        mc.Account(0, [short]), "XBTUSD", marks={"XBTUSD": Decimal(20000)}
    )
    assert expected is not None
    assert risk.liquidation_price[0] == float(expected)
    with (
        pytest.warns(BatchFallbackWarning),
        pytest.raises(InvalidInputError, match=r"row 0: .*pass the symbol's mark price"),
    ):
        policy.isolated_risk("XBTUSD", **columns, margin=[margin])


def test_cross_account_labels_keep_their_types() -> None:
    """A list's 1 and "1" are two accounts (NumPy alone would make both the text "1"), each
    with its own balance; integer and text columns group the same as lists of objects; an
    empty book gives empty results."""
    policy = POLICIES["binance-usdm"]
    common = {"symbol": "BTCUSDT", "side": "long", "size": 1.0, "entry_price": 60000.0}
    risk = policy.cross_risk(account=[1, "1"], mark=60000.0, balance=[5.0, 7.0], **common)
    low, high = risk.liquidation_price  # more balance: liquidated lower
    assert high < low
    as_text = policy.cross_risk(
        account=np.array(["a", "a", "b"]),
        symbol=["BTCUSDT", "ETHUSDT", "BTCUSDT"],
        side="long",
        size=1.0,
        entry_price=[60000.0, 3000.0, 60000.0],
        mark=[60000.0, 3000.0, 61000.0],
        balance=[5.0, 5.0, 5.0],
    )
    as_ints = policy.cross_risk(
        account=np.array([7, 7, 8]),
        symbol=["BTCUSDT", "ETHUSDT", "BTCUSDT"],
        side="long",
        size=1.0,
        entry_price=[60000.0, 3000.0, 60000.0],
        mark=[60000.0, 3000.0, 61000.0],
        balance=[5.0, 5.0, 5.0],
    )
    assert np.array_equal(as_text.liquidation_price, as_ints.liquidation_price)
    assert list(as_text.margin_balance) == [5.0, 5.0, 1005.0]  # b's long gained 1,000
    empty = policy.cross_risk(
        account=[], symbol=[], side=[], size=[], entry_price=[], mark=[], balance=[]
    )
    assert len(empty) == 0
