"""The double-entry ledger: every money movement of a simulation, with its reason.

Participants hold cash in the settlement currency. Their names:

* ``account:<id>``: a trader's cross wallet; ``margin:<id>:<symbol>:<side>``: the margin
  locked in one of its isolated positions;
* ``insurance-fund``; ``fees`` (the venue's fee income); ``venue`` (the venue's own capital,
  which absorbs what nobody else pays); ``market``: everyone outside the scenario (the order
  book and the counterparties of the scenario's positions);
* ``debt:<id>``: what a trader owes under a debt-chasing policy (a negative wallet moved
  here, so that the wallet reads zero and the debt is explicit); ``interest``: the interest
  those debts accrued (the creditor's, collected or not);
* ``external``: the traders' money outside the venue, where deposits come from and
  withdrawals go.

A transfer moves a positive amount from one participant to another, so the sum of all cash
never changes: conservation holds by construction and :meth:`Ledger.total` checks it. Balances
are added in a context wide enough that no sum ever rounds (a rounding would raise). Realised
PnL is a transfer between the trader and whoever took the other side (the market, the fund,
or a deleveraged trader), so unrealised PnL never needs to enter the books.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

import attrs

from margincall.decimals import ZERO, exact_sums
from margincall.errors import InvalidInputError

INSURANCE_FUND = "insurance-fund"
FEES = "fees"
VENUE = "venue"
MARKET = "market"
INTEREST = "interest"
EXTERNAL = "external"

# Reasons the engine records and the outcome reads back (one spelling for both).
LIQUIDATION_FEE = "liquidation fee"
ADL_FEE = "ADL fee"
FUND_OFFLOAD = "insurance fund offload"
FUND_CLOSES_AT_MARK = "insurance fund closes at the mark"
ADL_AT_MARK = "ADL at the mark: the fund bears the difference from the bankruptcy price"
FUND_COVERS = "insurance fund covers the deficit"
OWN_CASH_COVERS = "deficit paid from the wallet"
LEFT_AS_DEBT = "deficit left as a debt"
VENUE_ABSORBS = "venue absorbs the deficit"
CLAWBACK = "clawback"
UNALLOCATED = "unallocated deficit, paid by the venue"
OPENING_BALANCE = "opening balance"
REALISED_AT_BANKRUPTCY = "taken over at the bankruptcy price"
AUTO_DELEVERAGED = "auto-deleveraged"
SETTLED_AT_MARK = "settled at the mark"
MARGIN_RELEASED = "isolated margin released"
DEBT_REPAID = "debt repaid from the wallet"
DEBT_INTEREST = "interest on the debt"
DEPOSIT = "deposit"
WITHDRAWAL = "withdrawal"
LIQUIDATION_CLOSED_AT_MARK = "liquidation closed at the mark"
LIQUIDATION_MARKET_FILL = "liquidation market fill"


def liquidation_fill(order_type: str) -> str:
    """The reason of a liquidation order's fill: ``"liquidation ioc fill"``, ..."""
    return f"liquidation {order_type} fill"


def account(key: str) -> str:
    return f"account:{key}"


def debt(key: str) -> str:
    return f"debt:{key}"


def isolated_margin(key: str, symbol: str, side: str) -> str:
    return f"margin:{key}:{symbol}:{side}"


def belongs_to(key: str, participant: str) -> bool:
    """Whether ``participant`` is one of account ``key``'s wallets (cross or isolated)."""
    return participant == account(key) or participant.startswith(f"margin:{key}:")


def owner(participant: str) -> str | None:
    """The account whose wallet (cross or isolated) ``participant`` is; None for the others
    (debts included: a debt is not equity)."""
    if participant.startswith("account:"):
        return participant[len("account:") :]
    if participant.startswith("margin:"):
        return participant[len("margin:") :].rsplit(":", 2)[0]
    return None


@attrs.frozen
class Event:
    """``amount`` (> 0) moved from ``source`` to ``destination`` at ``step`` because of
    ``reason`` (a short phrase: "liquidation fee", "realised PnL", "ADL", ...)."""

    step: int
    source: str
    destination: str
    amount: Decimal
    reason: str
    symbol: str | None = None


@attrs.define
class Ledger:
    """Balances and the events that made them. Opening balances are events of step -1 from
    ``opening`` (a participant that only ever pays out, so that the books start balanced)."""

    events: list[Event] = attrs.Factory(list)
    _balances: defaultdict[str, Decimal] = attrs.Factory(lambda: defaultdict(Decimal))
    _owners: dict[str, str | None] = attrs.field(factory=dict, eq=False, repr=False)
    _wallets: defaultdict[str, list[str]] = attrs.field(
        factory=lambda: defaultdict(list), eq=False, repr=False
    )
    _debtors: dict[str, None] = attrs.field(factory=dict, eq=False, repr=False)
    touched: set[str] = attrs.field(factory=set, eq=False, repr=False)
    """Accounts a transfer moved money into or out of since the engine last read this set:
    their pools' health may have changed."""

    OPENING = "opening"

    @classmethod
    def opened(
        cls, balances: Mapping[str, Decimal], owners: Mapping[str, str] | None = None
    ) -> Ledger:
        """A ledger whose participants start with ``balances`` (negative ones allowed: a
        wallet already in debt). ``owners`` names the account of each wallet (else it is read
        from the wallet's name, :func:`owner`, which an account id or a symbol holding a
        colon makes ambiguous)."""
        ledger = cls()
        for name, key in (owners or {}).items():
            ledger._owners[name] = key
            ledger._wallets[key].append(name)
        for name, amount in balances.items():
            if amount > 0:
                ledger.transfer(-1, cls.OPENING, name, amount, OPENING_BALANCE)
            elif amount < 0:
                ledger.transfer(-1, name, cls.OPENING, -amount, OPENING_BALANCE)
        return ledger

    def transfer(
        self,
        step: int,
        source: str,
        destination: str,
        amount: Decimal,
        reason: str,
        symbol: str | None = None,
    ) -> None:
        """Move ``amount`` from ``source`` to ``destination``. A zero amount records nothing;
        a negative one is refused (record the transfer the other way)."""
        if amount < 0:
            raise InvalidInputError(
                f"ledger: transfer of {amount} from {source} to {destination}: amounts are > 0"
            )
        if amount == 0:
            return
        if source == destination:
            raise InvalidInputError(f"ledger: transfer from {source} to itself")
        with exact_sums():
            self._balances[source] -= amount
            self._balances[destination] += amount
        for name in (source, destination):
            key = self._owners.get(name, name)
            if key is name:  # a participant not seen before: index it by its owner
                key = self._owners[name] = owner(name)
                if key is not None:
                    self._wallets[key].append(name)
                elif name.startswith("debt:"):
                    self._debtors[name[len("debt:") :]] = None
            if key is not None:
                self.touched.add(key)
        self.events.append(Event(step, source, destination, amount, reason, symbol))

    def settle(
        self, step: int, payer: str, payee: str, amount: Decimal, reason: str, symbol: str | None
    ) -> None:
        """Move a signed ``amount`` from ``payer`` to ``payee`` (a negative one flows back)."""
        if amount >= 0:
            self.transfer(step, payer, payee, amount, reason, symbol)
        else:
            self.transfer(step, payee, payer, -amount, reason, symbol)

    def balance(self, name: str) -> Decimal:
        return self._balances.get(name, ZERO)

    def wallets(self, key: str) -> tuple[str, ...]:
        """Every wallet of account ``key`` that ever held money (cross and isolated), in the
        order they first did: O(1) to find, so an account's equity costs O(its wallets)."""
        return tuple(self._wallets.get(key, ()))

    def debtors(self) -> tuple[str, ...]:
        """Every account that ever had a debt (``debt:<id>``), in the order it first did."""
        return tuple(self._debtors)

    def balances(self) -> dict[str, Decimal]:
        """Every participant's balance, the opening source excluded."""
        return {n: b for n, b in self._balances.items() if n != self.OPENING}

    def total(self) -> Decimal:
        """Sum of all balances, the opening source included: always exactly 0."""
        with exact_sums():
            return sum(self._balances.values(), ZERO)

    def for_participant(self, name: str) -> Iterable[Event]:
        return (e for e in self.events if name in (e.source, e.destination))
