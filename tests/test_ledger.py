"""The double-entry ledger: conservation by construction, explicit refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import margincall as mc
from margincall import ledger as lg

D = Decimal


def test_opening_balances_and_transfers() -> None:
    book = lg.Ledger.opened(
        {lg.account("a"): D(100), lg.INSURANCE_FUND: D(50), lg.account("b"): D(-5)}
    )
    book.transfer(0, lg.account("a"), lg.FEES, D("1.25"), "liquidation fee", "BTCUSDT")
    book.settle(0, lg.MARKET, lg.account("a"), D(-30), "realised PnL", "BTCUSDT")
    assert book.balance(lg.account("a")) == D("68.75")  # 100 − 1.25 − 30
    assert book.balance(lg.MARKET) == 30
    assert book.balance(lg.account("b")) == -5
    assert book.total() == 0
    assert sum(book.balances().values(), D(0)) == D(145)  # what was opened, moved around
    last = book.events[-1]
    assert (last.source, last.destination, last.amount, last.reason) == (
        lg.account("a"),
        lg.MARKET,
        D(30),
        "realised PnL",
    )
    assert [e.reason for e in book.for_participant(lg.FEES)] == ["liquidation fee"]


def test_zero_is_not_recorded_and_bad_transfers_are_refused() -> None:
    book = lg.Ledger()
    book.transfer(0, "x", "y", D(0), "nothing")
    assert book.events == []
    with pytest.raises(mc.InvalidInputError, match="amounts are > 0"):
        book.transfer(0, "x", "y", D(-1), "negative")
    with pytest.raises(mc.InvalidInputError, match="to itself"):
        book.transfer(0, "x", "x", D(1), "loop")


names = st.sampled_from(["account:a", "account:b", lg.INSURANCE_FUND, lg.FEES, lg.VENUE, lg.MARKET])


@given(st.lists(st.tuples(names, names, st.decimals(-(10**9), 10**9, places=8)), max_size=50))
def test_any_sequence_of_settlements_conserves_value_exactly(
    moves: list[tuple[str, str, Decimal]],
) -> None:
    """Whatever moves, the books sum to exactly zero and every participant's balance is the
    sum of what it received minus what it paid."""
    book = lg.Ledger.opened({"account:a": D(1000), lg.INSURANCE_FUND: D(10)})
    for payer, payee, amount in moves:
        if payer != payee:
            book.settle(1, payer, payee, amount, "test", None)
    assert book.total() == 0
    for name, balance in book.balances().items():
        received = sum((e.amount for e in book.events if e.destination == name), D(0))
        paid = sum((e.amount for e in book.events if e.source == name), D(0))
        assert balance == received - paid
