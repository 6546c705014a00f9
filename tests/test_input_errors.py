"""Bad API values: one InvalidInputError (a ValueError) naming the field/symbol and the value.

Positions and accounts validate at construction; policy calls validate symbols, marks and
sides before computing. No other exception type (TypeError, KeyError, decimal errors) leaks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

import margincall as mc

D = Decimal
KNOWN = ["BNBUSDT", "BTCUSDT", "DOGEUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"]


def invalid(call: Callable[[], Any]) -> str:
    """Run ``call`` expecting an InvalidInputError; return its message."""
    with pytest.raises(mc.InvalidInputError) as info:
        call()
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert message
    return message


def btc(size: object = "0.1", entry: object = "50000", **kwargs: Any) -> mc.Position:
    return mc.Position("BTCUSDT", "long", size, entry, **kwargs)


# --- Position -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        ("-1", "-1"),
        (D("-0.5"), "-0.5"),
        (0, "0"),
        ("0", "0"),
    ],
    ids=["neg-str", "neg-decimal", "zero-int", "zero-str"],
)
def test_position_size_not_positive(size: object, shown: str) -> None:
    message = invalid(lambda: btc(size))
    assert "BTCUSDT" in message
    assert "size" in message
    assert shown in message
    assert "> 0" in message


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        ("NaN", "NaN"),
        ("nan", "nan"),
        (D("NaN"), "NaN"),
        (D("sNaN"), "sNaN"),
        ("Infinity", "Infinity"),
        ("-inf", "-inf"),
        (D("Infinity"), "Infinity"),
    ],
    ids=[
        "nan-str",
        "nan-lower",
        "nan-decimal",
        "snan-decimal",
        "inf-str",
        "neg-inf-str",
        "inf-decimal",
    ],
)
def test_position_size_not_finite(size: object, shown: str) -> None:
    message = invalid(lambda: btc(size))
    assert "BTCUSDT size" in message
    assert shown in message
    assert "finite" in message


def test_position_size_float_suggests_decimal_or_string() -> None:
    message = invalid(lambda: btc(0.1))
    assert "BTCUSDT size" in message
    assert "0.1" in message
    assert "float" in message
    assert "Decimal('0.1')" in message
    assert "string" in message


@pytest.mark.parametrize("flag", [True, False])
def test_position_size_bool(flag: bool) -> None:
    message = invalid(lambda: btc(flag))
    assert "BTCUSDT size" in message
    assert str(flag) in message


@pytest.mark.parametrize("text", ["abc", "", "1,5", "0x10"])
def test_position_size_non_numeric_string(text: str) -> None:
    message = invalid(lambda: btc(text))
    assert "BTCUSDT size" in message
    assert repr(text) in message


@pytest.mark.parametrize("value", [None, [1], object()], ids=["none", "list", "object"])
def test_position_size_other_types(value: object) -> None:
    message = invalid(lambda: btc(value))
    assert "BTCUSDT size" in message
    assert type(value).__name__ in message


@pytest.mark.parametrize(
    ("entry", "needle"),
    [(0, "0"), ("-50000", "-50000"), ("NaN", "NaN"), (50000.5, "50000.5")],
    ids=["zero", "negative", "nan", "float"],
)
def test_position_entry_price(entry: object, needle: str) -> None:
    message = invalid(lambda: btc(entry=entry))
    assert "BTCUSDT entry_price" in message
    assert needle in message


@pytest.mark.parametrize("leverage", [0, "0", "-5", D("-0.1")])
def test_position_leverage_not_positive(leverage: object) -> None:
    message = invalid(lambda: btc(margin_mode="isolated", leverage=leverage))
    assert "BTCUSDT leverage" in message
    assert str(leverage) in message
    assert "> 0" in message


def test_position_leverage_float() -> None:
    message = invalid(lambda: btc(margin_mode="isolated", leverage=10.0))
    assert "BTCUSDT leverage" in message
    assert "float" in message


def test_position_negative_margin() -> None:
    message = invalid(lambda: btc(margin_mode="isolated", margin="-5"))
    assert "BTCUSDT margin" in message
    assert "-5" in message
    assert ">= 0" in message


def test_position_margin_on_a_cross_position() -> None:
    message = invalid(lambda: btc(margin_mode="cross", margin="100"))
    assert "BTCUSDT" in message
    assert "margin=100" in message
    assert "isolated" in message


def test_position_isolated_needs_margin_or_leverage() -> None:
    message = invalid(lambda: btc(margin_mode="isolated"))
    assert "BTCUSDT" in message
    assert "margin" in message
    assert "leverage" in message


@pytest.mark.parametrize("side", ["buy", "LONG", "", None, ["long"]])
def test_position_invalid_side(side: object) -> None:
    message = invalid(lambda: mc.Position("BTCUSDT", side, "1", "50000"))  # type: ignore[arg-type]
    assert "BTCUSDT side" in message
    assert repr(side) in message
    assert "long" in message
    assert "short" in message


@pytest.mark.parametrize("mode", ["portfolio", "Cross", None])
def test_position_invalid_margin_mode(mode: object) -> None:
    message = invalid(lambda: btc(margin_mode=mode))
    assert "BTCUSDT margin_mode" in message
    assert repr(mode) in message
    assert "isolated" in message
    assert "cross" in message


@pytest.mark.parametrize("symbol", ["", None, 5])
def test_position_empty_or_non_string_symbol(symbol: object) -> None:
    message = invalid(lambda: mc.Position(symbol, "long", "1", "50000"))  # type: ignore[arg-type]
    assert "symbol" in message
    assert repr(symbol) in message


# --- Account ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["two-way", "Hedge", None])
def test_account_invalid_position_mode(mode: object) -> None:
    message = invalid(lambda: mc.Account("1000", [], mode))  # type: ignore[arg-type]
    assert "position_mode" in message
    assert repr(mode) in message
    assert "one-way" in message
    assert "hedge" in message


def test_account_two_positions_on_one_symbol_in_one_way_mode() -> None:
    long = btc()
    short = mc.Position("BTCUSDT", "short", "0.1", "50000")
    message = invalid(lambda: mc.Account("1000", [long, short]))
    assert "BTCUSDT" in message
    assert "one-way" in message
    assert "hedge" in message


def test_account_two_longs_in_hedge_mode() -> None:
    message = invalid(lambda: mc.Account("1000", [btc(), btc("0.2")], "hedge"))
    assert "BTCUSDT" in message
    assert "long" in message
    assert "hedge" in message


def test_account_hedge_legs_with_different_margin_modes() -> None:
    long = btc()
    short = mc.Position("BTCUSDT", "short", "0.1", "50000", "isolated", margin="100")
    message = invalid(lambda: mc.Account("1000", [long, short], "hedge"))
    assert "BTCUSDT" in message
    assert "cross" in message
    assert "isolated" in message


@pytest.mark.parametrize(
    "item",
    [("BTCUSDT", "long", "1", "50000"), {"symbol": "BTCUSDT"}, "BTCUSDT", None],
    ids=["tuple", "dict", "str", "none"],
)
def test_account_non_position_items(item: object) -> None:
    message = invalid(lambda: mc.Account("1000", [btc(), item]))  # type: ignore[list-item]
    assert "positions" in message
    assert type(item).__name__ in message


@pytest.mark.parametrize(
    "positions",
    [None, 5, btc()],
    ids=["none", "int", "single-position-not-in-a-list"],
)
def test_account_positions_not_iterable(positions: object) -> None:
    message = invalid(lambda: mc.Account("1000", positions))  # type: ignore[arg-type]
    assert "positions" in message


@pytest.mark.parametrize(
    ("balance", "needle"),
    [(1000.5, "1000.5"), ("NaN", "NaN"), (True, "True"), ("lots", "'lots'"), (None, "None")],
    ids=["float", "nan", "bool", "text", "none"],
)
def test_account_bad_balance(balance: object, needle: str) -> None:
    message = invalid(lambda: mc.Account(balance))  # type: ignore[arg-type]
    assert "balance" in message
    assert needle in message


def test_account_float_balance_suggests_decimal() -> None:
    message = invalid(lambda: mc.Account(1000.5))  # type: ignore[arg-type]
    assert "Decimal('1000.5')" in message


def test_account_negative_balance_is_allowed() -> None:
    """A negative balance is legitimate: a debt left after a liquidation."""
    assert mc.Account("-10").balance == D("-10")


# --- policy calls -------------------------------------------------------------------------

MARKS = {"BTCUSDT": D("50000"), "ETHUSDT": D("3000")}


@pytest.fixture
def one_btc() -> mc.Account:
    return mc.Account("1000", [btc()])


@pytest.fixture
def btc_eth() -> mc.Account:
    return mc.Account("1000", [btc(), mc.Position("ETHUSDT", "short", "1", "3000")])


@pytest.fixture
def hedged() -> mc.Account:
    return mc.Account("1000", [btc(), mc.Position("BTCUSDT", "short", "0.1", "50000")], "hedge")


CALLS = [
    "maintenance_margin",
    "initial_margin",
    "health",
    "margin_ratio",
    "is_liquidatable",
    "liquidation_price",
    "bankruptcy_price",
]


@pytest.mark.parametrize("method", CALLS)
def test_unknown_symbol_in_the_call_lists_known_symbols(
    binance: mc.Policy, one_btc: mc.Account, method: str
) -> None:
    message = invalid(lambda: getattr(binance, method)(one_btc, "FOOUSDT", marks=MARKS))
    assert "'FOOUSDT'" in message
    assert "unknown symbol" in message
    for symbol in KNOWN:
        assert symbol in message


def test_known_symbol_not_held(binance: mc.Policy, one_btc: mc.Account) -> None:
    message = invalid(lambda: binance.maintenance_margin(one_btc, "ETHUSDT", marks=MARKS))
    assert "ETHUSDT" in message
    assert "no" in message


def test_unknown_symbol_in_an_account_position(binance: mc.Policy) -> None:
    account = mc.Account("1000", [btc(), mc.Position("FOOUSDT", "long", "1", "10")])
    message = invalid(
        lambda: binance.maintenance_margin(account, "BTCUSDT", marks={**MARKS, "FOOUSDT": 10})
    )
    assert "'FOOUSDT'" in message
    for symbol in KNOWN:
        assert symbol in message


@pytest.mark.parametrize("method", ["maintenance_margin", "liquidation_price", "risk"])
def test_unknown_symbol_in_marks(binance: mc.Policy, one_btc: mc.Account, method: str) -> None:
    marks = {**MARKS, "FOOUSDT": D("1")}
    if method == "risk":
        message = invalid(lambda: binance.risk(one_btc, marks=marks))
    else:
        message = invalid(lambda: getattr(binance, method)(one_btc, "BTCUSDT", marks=marks))
    assert "'FOOUSDT'" in message
    assert "BTCUSDT" in message  # lists known symbols


@pytest.mark.parametrize(
    "method", ["maintenance_margin", "initial_margin", "health", "is_liquidatable"]
)
def test_missing_mark_for_the_symbol(binance: mc.Policy, one_btc: mc.Account, method: str) -> None:
    message = invalid(lambda: getattr(binance, method)(one_btc, "BTCUSDT", marks={}))
    assert "marks" in message
    assert "BTCUSDT" in message


def test_missing_mark_for_another_cross_symbol(binance: mc.Policy, btc_eth: mc.Account) -> None:
    message = invalid(
        lambda: binance.liquidation_price(btc_eth, "BTCUSDT", marks={"BTCUSDT": D("50000")})
    )
    assert "marks" in message
    assert "ETHUSDT" in message


def test_missing_marks_entirely_for_a_cross_account(
    binance: mc.Policy, btc_eth: mc.Account
) -> None:
    message = invalid(lambda: binance.liquidation_price(btc_eth, "BTCUSDT"))
    assert "ETHUSDT" in message


def test_risk_needs_every_mark(binance: mc.Policy, btc_eth: mc.Account) -> None:
    message = invalid(lambda: binance.risk(btc_eth, marks={"BTCUSDT": D("50000")}))
    assert "ETHUSDT" in message


@pytest.mark.parametrize(
    ("mark", "needle"),
    [
        (D("-1"), "-1"),
        (0, "0"),
        ("0", "0"),
        (50000.5, "50000.5"),
        ("NaN", "NaN"),
        ("abc", "'abc'"),
        (None, "None"),
        (True, "True"),
    ],
    ids=["negative", "zero-int", "zero-str", "float", "nan", "text", "none", "bool"],
)
def test_bad_mark_values(
    binance: mc.Policy, one_btc: mc.Account, mark: object, needle: str
) -> None:
    message = invalid(
        lambda: binance.maintenance_margin(one_btc, "BTCUSDT", marks={"BTCUSDT": mark})
    )
    assert "mark" in message
    assert "BTCUSDT" in message
    assert needle in message


def test_float_mark_suggests_decimal(binance: mc.Policy, one_btc: mc.Account) -> None:
    message = invalid(
        lambda: binance.liquidation_price(one_btc, "BTCUSDT", marks={"BTCUSDT": 50000.5})
    )
    assert "Decimal('50000.5')" in message


@pytest.mark.parametrize(
    "marks", [[("BTCUSDT", 50000)], 50000, "BTCUSDT=50000"], ids=["list", "number", "string"]
)
def test_marks_not_a_mapping(binance: mc.Policy, one_btc: mc.Account, marks: object) -> None:
    message = invalid(lambda: binance.maintenance_margin(one_btc, "BTCUSDT", marks=marks))  # type: ignore[arg-type]
    assert "marks" in message
    assert "mapping" in message
    assert repr(marks) in message


@pytest.mark.parametrize("side", ["buy", "LONG", 1])
def test_invalid_side_in_a_call(binance: mc.Policy, one_btc: mc.Account, side: object) -> None:
    message = invalid(
        lambda: binance.maintenance_margin(one_btc, "BTCUSDT", marks=MARKS, side=side)  # type: ignore[arg-type]
    )
    assert "side" in message
    assert repr(side) in message


@pytest.mark.parametrize("method", ["maintenance_margin", "liquidation_price", "health"])
def test_side_missing_with_both_hedge_legs(
    binance: mc.Policy, hedged: mc.Account, method: str
) -> None:
    message = invalid(lambda: getattr(binance, method)(hedged, "BTCUSDT", marks=MARKS))
    assert "BTCUSDT" in message
    assert "side='long'" in message
    assert "side='short'" in message


def test_side_given_that_is_not_held(binance: mc.Policy, one_btc: mc.Account) -> None:
    message = invalid(
        lambda: binance.maintenance_margin(one_btc, "BTCUSDT", marks=MARKS, side="short")
    )
    assert "short" in message
    assert "BTCUSDT" in message


def test_not_an_account(binance: mc.Policy) -> None:
    message = invalid(
        lambda: binance.maintenance_margin([btc()], "BTCUSDT", marks=MARKS)  # type: ignore[arg-type]
    )
    assert "Account" in message
    assert "list" in message


# --- settlement currencies ----------------------------------------------------------------

INVERSE = """extends = "binance-usdm"
name = "binance-with-inverse"

[markets.BTCUSD]
contract_type = "inverse"
contract_size = 100
tick_size = 0.1
lot_size = 1
settlement_currency = "BTC"

[[markets.BTCUSD.tiers]]
min_notional = 0
max_notional = 5
max_leverage = 125
maintenance_margin_rate = 0.004
"""


@pytest.fixture(scope="module")
def with_inverse(tmp_path_factory: pytest.TempPathFactory) -> mc.Policy:
    path = tmp_path_factory.mktemp("inverse") / "with-inverse.toml"
    path.write_text(INVERSE, encoding="utf-8")
    return mc.load_policy(path)


@pytest.mark.parametrize("method", ["maintenance_margin", "liquidation_price", "health"])
def test_cross_account_mixing_settlement_currencies(with_inverse: mc.Policy, method: str) -> None:
    account = mc.Account("1000", [btc(), mc.Position("BTCUSD", "short", "1", "50000")])
    marks = {"BTCUSDT": D("50000"), "BTCUSD": D("50000")}
    message = invalid(lambda: getattr(with_inverse, method)(account, "BTCUSDT", marks=marks))
    assert "BTC" in message
    assert "USDT" in message
    assert "cross" in message
    # Which positions: the message should name the symbols whose currencies clash.
    assert re.search(r"\bBTCUSD\b", message)
    assert "BTCUSDT" in message


def test_isolated_position_in_another_currency_is_allowed(with_inverse: mc.Policy) -> None:
    account = mc.Account(
        "1000",
        [btc(), mc.Position("BTCUSD", "short", "1", "50000", "isolated", margin="0.01")],
    )
    result = with_inverse.maintenance_margin(account, "BTCUSD", marks={"BTCUSD": D("50000")})
    assert result == D("0.000008")


# --- engine-level calls take exact amounts too --------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda p: p.trading_fee("BTCUSDT", 0.1, D("50000"), maker=True),
        lambda p: p.trading_fee("BTCUSDT", D("0.1"), 50000.0, maker=False),
        lambda p: p.liquidation_fee("BTCUSDT", 0.1, D("50000")),
        lambda p: p.debt_interest(100.0, D("1")),
    ],
    ids=["trading_fee-size", "trading_fee-price", "liquidation_fee-size", "debt_interest"],
)
def test_engine_calls_reject_floats(binance: mc.Policy, call: Callable[[mc.Policy], Any]) -> None:
    message = invalid(lambda: call(binance))
    assert "float" in message


def test_engine_call_unknown_symbol(binance: mc.Policy) -> None:
    message = invalid(lambda: binance.trading_fee("FOOUSDT", D("1"), D("1"), maker=True))
    assert "'FOOUSDT'" in message
    assert "BTCUSDT" in message


def test_inputs_are_rejected_before_anything_is_computed(binance: mc.Policy) -> None:
    """A failed call leaves the policy usable and its answers unchanged."""
    account = mc.Account("500", [mc.Position("BTCUSDT", "long", "0.02", "50000")])
    marks = {"BTCUSDT": D("50000")}
    before = binance.liquidation_price(account, "BTCUSDT", marks=marks)
    invalid(lambda: binance.liquidation_price(account, "BTCUSDT", marks={"BTCUSDT": -1}))
    invalid(lambda: binance.liquidation_price(account, "FOOUSDT", marks=marks))
    assert binance.liquidation_price(account, "BTCUSDT", marks=marks) == before
    assert round(before, 2) == D("25100.40")
