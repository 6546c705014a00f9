"""What a simulation produced: the ledger, the liquidations, the ADL fills, the fund's path,
and each account's story in plain sentences."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

import attrs

from margincall import ledger as lg
from margincall.account import Side
from margincall.decimals import LEDGER_CONTEXT, ZERO, running_in
from margincall.display import amount
from margincall.errors import InvalidInputError
from margincall.ledger import Ledger

FillKind = Literal["order", "takeover", "market", "mark"]

_exact = running_in(LEDGER_CONTEXT)
"""Sums of money never round."""

_SHOWN = 10
"""Accounts an error message lists before it says how many more there are."""


@attrs.frozen
class Liquidation:
    """``size`` of an account's position closed by liquidation at ``price``: through a
    liquidation ``order``, ``takeover`` at the bankruptcy price, a ``market`` close (no
    backstop), or at the ``mark`` (no backstop and no liquidity)."""

    step: int
    account: str
    symbol: str
    side: Side
    size: Decimal
    price: Decimal
    kind: FillKind


@attrs.frozen
class AdlRecord:
    """``account``'s position closed by auto-deleveraging against ``bankrupt``'s."""

    step: int
    account: str
    bankrupt: str
    symbol: str
    size: Decimal
    price: Decimal


@attrs.frozen
class Notice:
    """Something the engine noticed about an account that moved no money: a withdrawal it
    refused, a position opened beyond the policy's leverage cap."""

    step: int
    account: str
    text: str


@attrs.frozen
class Outcome:
    policy: str
    scenario: str
    ledger: Ledger
    liquidations: tuple[Liquidation, ...]
    adl: tuple[AdlRecord, ...]
    fund_path: tuple[Decimal, ...]
    open_positions: Mapping[str, tuple[tuple[str, Side, Decimal], ...]]
    fund_holdings: Mapping[str, Decimal]
    accounts: tuple[str, ...]
    notices: tuple[Notice, ...] = ()
    equity: Mapping[str, Decimal] = attrs.field(factory=dict)
    """Each account's equity at the last step's marks: its cash (cross wallet and isolated
    margins) plus the unrealised PnL of the positions it still holds."""

    @_exact
    def balance(self, account: str) -> Decimal:
        """The account's cash at the end: cross wallet plus isolated margins."""
        return sum(
            (b for n, b in self.ledger.balances().items() if lg.belongs_to(account, n)), ZERO
        )

    @_exact
    def debt(self, account: str) -> Decimal:
        """What the account owes after liquidation (0 unless the policy chases deficits)."""
        return -self.ledger.balance(lg.debt(account))

    @_exact
    def realized_pnl(self, account: str) -> Decimal:
        """The PnL the account realised: every close of its positions (liquidation fills,
        takeovers, ADL, settlements at the mark) is a settlement with the market."""
        total = ZERO
        for e in self.ledger.events:
            if e.source == lg.MARKET and lg.belongs_to(account, e.destination):
                total += e.amount
            elif e.destination == lg.MARKET and lg.belongs_to(account, e.source):
                total -= e.amount
        return total

    def fees_paid(self, account: str) -> Decimal:
        """Liquidation fees, and the fees charged on its ADL fills where the policy has them."""
        return self._paid(account, "liquidation fee") + self._paid(account, "ADL fee")

    def clawback_paid(self, account: str) -> Decimal:
        """What the account gave up to a clawback of profits."""
        return self._paid(account, "clawback")

    @_exact
    def _paid(self, account: str, reason: str) -> Decimal:
        """What the account's wallets paid out for ``reason``."""
        events = self.ledger.events
        return sum(
            (e.amount for e in events if e.reason == reason and lg.belongs_to(account, e.source)),
            ZERO,
        )

    def _received(self, account: str, reasons: tuple[str, ...], step: int | None = None) -> Decimal:
        """What the account's wallets received for ``reasons`` (at ``step``, if given)."""
        return sum(
            (
                e.amount
                for e in self.ledger.events
                if e.reason in reasons
                and lg.belongs_to(account, e.destination)
                and (step is None or e.step == step)
            ),
            ZERO,
        )

    @property
    def insurance_fund(self) -> Decimal:
        return self.ledger.balance(lg.INSURANCE_FUND)

    @property
    @_exact
    def venue_loss(self) -> Decimal:
        """What the venue's own capital paid (absorbed deficits)."""
        return -self.ledger.balance(lg.VENUE)

    @_exact
    def explain(self, account: str) -> str:
        """The account's story: was it liquidated, what did it lose, does it owe money.
        Figures are rounded for reading (:func:`margincall.display.amount`); the ledger and
        the methods above are exact."""
        if account not in self.accounts:
            shown = ", ".join(self.accounts[:_SHOWN])
            more = len(self.accounts) - _SHOWN
            if more > 0:
                shown += f" and {more} more"
            raise InvalidInputError(
                f"explain: no account {account!r} in scenario {self.scenario}; "
                f"its accounts are {shown}"
            )
        lines = [f"At step {n.step}: {n.text}." for n in self.notices if n.account == account]
        opening = self._received(account, ("opening balance",), step=-1)
        liquidated = [x for x in self.liquidations if x.account == account]
        if not liquidated:
            lines.append(f"{account} was not liquidated under {self.policy}.")
        how = {
            "order": "by a liquidation order",
            "takeover": "at its bankruptcy price, taken over by the backstop",
            "market": "in the market",
            "mark": "at the mark price (no liquidity)",
        }
        for x in liquidated:
            lines.append(
                f"At step {x.step}, {amount(x.size)} {x.symbol} of its {x.side} position was "
                f"closed {how[x.kind]}, at {amount(x.price)}."
            )
        for a in (r for r in self.adl if r.account == account):
            lines.append(
                f"At step {a.step}, {amount(a.size)} {a.symbol} of its position was "
                f"auto-deleveraged at {amount(a.price)} against {a.bankrupt}'s bankrupt position."
            )
        fees = self.fees_paid(account)
        if fees:
            lines.append(f"It paid {amount(fees)} in liquidation and ADL fees.")
        clawed = self.clawback_paid(account)
        if clawed:
            lines.append(
                f"{amount(clawed)} of its profit was clawed back to cover others' deficits under "
                f"{self.policy}."
            )
        deposited = self._received(account, ("deposit",))
        withdrawn = self._paid(account, "withdrawal")
        if deposited or withdrawn:
            lines.append(f"It deposited {amount(deposited)} and withdrew {amount(withdrawn)}.")
        lines.append(
            f"It started with {amount(opening)}, realised {amount(self.realized_pnl(account))} "
            f"of PnL, and ends with {amount(self.balance(account))}."
        )
        owed = self.debt(account)
        repaid = self._paid(account, "debt repaid from the wallet")
        interest = self._interest(account)
        if repaid:
            lines.append(f"{amount(repaid)} of its cash went to repay its debt.")
        if owed > 0:
            accrued = f", including {amount(interest)} of interest" if interest else ""
            lines.append(
                f"It owes {amount(owed)}{accrued}: {self.policy} leaves the deficit with the "
                "trader."
            )
        else:
            covered = self._covered(account)
            if covered:
                lines.append(
                    f"It owes nothing: a deficit of {amount(covered)} was covered by the "
                    "insurance fund or the venue."
                )
            elif liquidated:
                lines.append("It owes nothing.")
        return "\n".join(lines)

    @_exact
    def _interest(self, account: str) -> Decimal:
        return sum(
            (
                e.amount
                for e in self.ledger.events
                if e.reason == "interest on the debt" and e.source == lg.debt(account)
            ),
            ZERO,
        )

    @_exact
    def _covered(self, account: str) -> Decimal:
        return self._received(
            account,
            (
                "insurance fund covers the deficit",
                "venue absorbs the deficit",
                "unallocated deficit, paid by the venue",
            ),
        )
