"""An outcome answers per-account queries from an index of its records built once, so that
summarising N accounts reads the ledger a fixed number of times, not N times; and the
answers are those of the definitions (every ledger event or balance of the account's
wallets, as :func:`margincall.ledger.belongs_to` says which are its)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import margincall as mc
from margincall import ledger as lg
from margincall.compare import _summarise
from margincall.decimals import ZERO, exact_sums
from margincall.ledger import Event, Ledger
from margincall.outcome import Outcome, owners
from margincall.scenario import load_scenario

D = Decimal

# ids, and wallet names, made of few characters, colons among them, so that prefixes meet
names = st.text(alphabet="ab:", max_size=6)


@given(key=names, name=names, prefix=st.sampled_from(["account:", "margin:", "debt:", ""]))
def test_owners_are_exactly_the_keys_a_wallet_belongs_to(key: str, name: str, prefix: str) -> None:
    participant = prefix + name
    assert (key in owners(participant)) == lg.belongs_to(key, participant)


def test_an_isolated_margin_belongs_to_its_account() -> None:
    # and to "trader:BTCUSDT", which an account could be named: belongs_to reads a prefix
    assert owners("margin:trader:BTCUSDT:long") == ("trader", "trader:BTCUSDT")
    assert owners("account:trader") == ("trader",)
    assert owners(lg.INSURANCE_FUND) == owners(lg.debt("trader")) == ()


def colons(*marks: int) -> mc.Scenario:
    """Accounts whose ids are prefixes of each other up to a colon, each with an isolated
    10x long of 1 BTC at 60,000 (margin 6,000): ``margin:a:b:BTCUSDT:long`` is, to
    ``belongs_to``, a wallet of both."""
    position = mc.Position("BTCUSDT", "long", 1, 60000, "isolated", leverage=10)
    return mc.Scenario(
        {"a": mc.Account(100, [position]), "a:b": mc.Account(200, [position])},
        [mc.Step(str(k), {"BTCUSDT": D(mark)}) for k, mark in enumerate(marks)],
        mc.MarkFill(slippage="0.001"),
        insurance_fund=1000,
    )


def outcomes() -> Iterator[tuple[str, Outcome]]:
    for scenario in ("fund-runs-dry", "owe-money", "crash-2025-10"):
        for policy in ("binance-usdm", "binance-usdm-chasing", "okex-clawback", "hyperliquid"):
            yield f"{scenario} {policy}", mc.load_policy(policy).simulate(load_scenario(scenario))
    yield "colons", mc.load_policy("binance-usdm").simulate(colons(60000, 53000))


def _balance(outcome: Outcome, key: str) -> Decimal:
    with exact_sums():
        owned = (b for n, b in outcome.ledger.balances().items() if lg.belongs_to(key, n))
        return sum(owned, ZERO)


def _paid(outcome: Outcome, key: str, reasons: tuple[str, ...]) -> Decimal:
    with exact_sums():
        paid = (
            e.amount
            for e in outcome.ledger.events
            if e.reason in reasons and lg.belongs_to(key, e.source)
        )
        return sum(paid, ZERO)


def _realized(outcome: Outcome, key: str) -> Decimal:
    with exact_sums():
        gains = (
            e.amount
            for e in outcome.ledger.events
            if e.source == lg.MARKET and lg.belongs_to(key, e.destination)
        )
        losses = (
            e.amount
            for e in outcome.ledger.events
            if e.destination == lg.MARKET and lg.belongs_to(key, e.source)
        )
        return sum(gains, ZERO) - sum(losses, ZERO)


@pytest.mark.parametrize(("label", "outcome"), list(outcomes()), ids=lambda v: str(v)[:40])
def test_each_account_query_is_its_definition(label: str, outcome: Outcome) -> None:
    fees = (lg.LIQUIDATION_FEE, lg.ADL_FEE)
    for key in outcome.accounts:
        assert outcome.balance(key) == _balance(outcome, key), (label, key)
        assert outcome.fees_paid(key) == _paid(outcome, key, fees), (label, key)
        assert outcome.clawback_paid(key) == _paid(outcome, key, (lg.CLAWBACK,)), (label, key)
        assert outcome.realized_pnl(key) == _realized(outcome, key), (label, key)
        assert outcome.liquidations_of(key) == tuple(
            x for x in outcome.liquidations if x.account == key
        )
        assert outcome.adl_of(key) == tuple(a for a in outcome.adl if a.account == key)
        assert outcome.events_of(key) == tuple(
            e
            for e in outcome.ledger.events
            if lg.belongs_to(key, e.source) or lg.belongs_to(key, e.destination)
        )


def test_prefixed_ids_keep_belongs_to_s_reading() -> None:
    """Nothing is liquidated at 60,000: ``a:b`` has its 200 and its 6,000 of margin; ``a``
    its 100 and 6,000, and, as ``belongs_to`` reads the wallet names, ``a:b``'s 6,000 too
    (the index keeps that reading; ids with colons are rare)."""
    outcome = mc.load_policy("binance-usdm").simulate(colons(60000))
    assert outcome.liquidations == ()
    assert outcome.balance("a:b") == D(6200)
    assert outcome.balance("a") == D(12100)


class _Events(list[Event]):
    """A ledger's events that count how often they are read through."""

    reads = 0

    def __iter__(self) -> Iterator[Event]:
        self.reads += 1
        return super().__iter__()


class _Ledger(Ledger):
    """A ledger that counts the calls of :meth:`balances`."""

    calls = 0

    def balances(self) -> dict[str, Decimal]:
        self.calls += 1
        return super().balances()


def test_summarising_reads_the_ledger_a_fixed_number_of_times() -> None:
    """240 accounts, the ledger read through a handful of times (the index, who pays, the
    fund's opening): not once or more per account."""
    scenario = load_scenario("crash-2025-10")
    policy = mc.load_policy("binance-usdm")
    simulated = policy.simulate(scenario)
    events = _Events(simulated.ledger.events)
    ledger = _Ledger(events, simulated.ledger._balances)
    outcome = attrs.evolve(simulated, ledger=ledger)
    summary, rows = _summarise(policy, scenario, outcome)
    assert len(rows) == len(scenario.accounts) == 240
    assert events.reads <= 3
    assert ledger.calls <= 1
    assert (summary, rows) == _summarise(policy, scenario, simulated)


def test_the_index_follows_a_ledger_that_grew() -> None:
    """A ledger grown after the outcome was read (as a test might) is indexed again."""
    outcome = mc.load_policy("binance-usdm").simulate(load_scenario("owe-money"))
    key = outcome.accounts[0]
    before = outcome.balance(key)
    outcome.ledger.transfer(99, lg.EXTERNAL, lg.account(key), D(7), "deposit")
    assert outcome.balance(key) == before + 7
    assert outcome.events_of(key)[-1] == Event(99, lg.EXTERNAL, lg.account(key), D(7), "deposit")


def test_the_index_is_not_part_of_equality() -> None:
    policy, scenario = mc.load_policy("binance-usdm"), load_scenario("owe-money")
    read, unread = policy.simulate(scenario), policy.simulate(scenario)
    read.balance(read.accounts[0])
    assert read == unread
