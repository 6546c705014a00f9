"""What a simulation produced: the ledger, the liquidations, the ADL fills, the fund's path,
and each account's story in plain sentences."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Literal, TypeVar

import attrs

from margincall import ledger as lg
from margincall.account import Side
from margincall.decimals import LEDGER_CONTEXT, ZERO, running_in
from margincall.display import amount
from margincall.errors import InvalidInputError
from margincall.ledger import Event, Ledger

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
    """``account``'s ``side`` position closed by auto-deleveraging against ``bankrupt``'s, at
    ``price`` while the mark was ``mark``. ``cost`` is the profit the deleveraged trader gave
    up against closing at the mark (0 when ADL fills at the mark): its share of the bankrupt
    position's loss."""

    step: int
    account: str
    bankrupt: str
    symbol: str
    size: Decimal
    price: Decimal
    mark: Decimal | None = None
    cost: Decimal = ZERO
    side: Side | None = None
    """The deleveraged position's side (the bankrupt one's opposite)."""


@attrs.frozen
class FundPosition:
    """A position the insurance fund took over and still holds at the end: ``size`` (in the
    scenario's units) at an average ``entry_price`` (the bankruptcy prices it took it at),
    valued at the last ``mark_price``; ``unrealized_pnl`` is the fund's gain (a loss < 0)."""

    symbol: str
    side: Side
    size: Decimal
    entry_price: Decimal
    mark_price: Decimal
    unrealized_pnl: Decimal


@attrs.frozen
class LossBreakdown:
    """Who paid the losses beyond the bankrupt accounts' collateral: what their positions lost
    past their bankruptcy prices (at the prices they were closed at, or the last marks for what
    the fund still holds), and the deficits their wallets were left with.

    * ``fund_cash``: the insurance fund's cash spent on it (offload losses, deficits covered,
      ADL at the mark), less what later stages paid back into the fund;
    * ``fund_holdings``: the loss on positions the fund still holds, at the last marks;
    * ``adl``: the profit auto-deleveraged traders gave up (closed at the bankruptcy price
      rather than the mark);
    * ``clawback``: profits clawed back from other accounts;
    * ``traders``: what the bankrupt traders paid beyond the margin of the position: their
      other cash, and the debts left with them (interest not included);
    * ``venue``: the venue's own capital, by its policy (``venue`` stage);
    * ``unallocated``: what no stage of the waterfall took, paid by the venue.

    ``total`` is their sum, exactly. A figure < 0 is a gain (a fund that sold above the
    bankruptcy price)."""

    fund_cash: Decimal
    fund_holdings: Decimal
    adl: Decimal
    clawback: Decimal
    traders: Decimal
    venue: Decimal
    unallocated: Decimal
    total: Decimal


FUND_BACKSTOP_REASONS = frozenset(
    {
        lg.FUND_OFFLOAD,
        lg.FUND_CLOSES_AT_MARK,
        lg.ADL_AT_MARK,
        lg.FUND_COVERS,
        lg.OWN_CASH_COVERS,
        lg.LEFT_AS_DEBT,
        lg.VENUE_ABSORBS,
        lg.CLAWBACK,
        lg.UNALLOCATED,
    }
)
"""Reasons of the fund's cash movements that carry bankrupt positions and deficits (its
other movements are its opening balance and its income, the liquidation fees)."""


@attrs.frozen
class Notice:
    """Something the engine noticed about an account that moved no money: a withdrawal it
    refused, a position opened beyond the policy's leverage cap."""

    step: int
    account: str
    text: str


_ACCOUNT, _MARGIN = "account:", "margin:"
"""The prefixes of an account's wallets' names (:func:`margincall.ledger.belongs_to`)."""


def owners(participant: str) -> tuple[str, ...]:
    """Every account key that ``participant`` belongs to (:func:`margincall.ledger.belongs_to`):
    ``key`` is among them exactly when ``belongs_to(key, participant)``.

    A cross wallet ``account:KEY`` belongs to KEY; an isolated margin ``margin:REST`` to each
    key that REST starts with followed by a colon (its account's, and, as ``belongs_to``
    reads it, that of any account whose id is a prefix of it ending at a colon)."""
    if participant.startswith(_ACCOUNT):
        return (participant[len(_ACCOUNT) :],)
    if participant.startswith(_MARGIN):
        rest = participant[len(_MARGIN) :]
        return tuple(rest[:i] for i, c in enumerate(rest) if c == ":")
    return ()


_T = TypeVar("_T")


def _grouped(items: tuple[_T, ...], key: str) -> dict[str, tuple[_T, ...]]:
    """``items`` by their attribute ``key``, in their order."""
    groups: dict[str, list[_T]] = {}
    for item in items:
        groups.setdefault(getattr(item, key), []).append(item)
    return {k: tuple(v) for k, v in groups.items()}


@attrs.frozen
class _Index:
    """An outcome's records grouped by account and by participant, built in one pass over
    each, so that a query about one account reads that account's records only. Each group
    keeps the records' order, so sums over a group add the same amounts in the same order
    as sums over every record that test the same condition."""

    events_seen: int
    """How many ledger events there were when it was built (more since: it is stale)."""
    events: Mapping[str, tuple[Event, ...]]
    """Each account's events: those paid from or to one of its wallets (:func:`owners`)."""
    participant_events: Mapping[str, tuple[Event, ...]]
    """Each participant's events: those paid from or to it."""
    balances: Mapping[str, tuple[Decimal, ...]]
    """Each account's wallets' balances, in the ledger's order."""
    liquidations: Mapping[str, tuple[Liquidation, ...]]
    adl: Mapping[str, tuple[AdlRecord, ...]]
    """Each account's ADL records: its positions deleveraged."""
    adl_against: Mapping[str, tuple[AdlRecord, ...]]
    """ADL records by the bankrupt account their fills took over."""
    notices: Mapping[str, tuple[Notice, ...]]

    @classmethod
    def build(cls, outcome: Outcome) -> _Index:
        events: dict[str, list[Event]] = {}
        by_participant: dict[str, list[Event]] = {}
        for e in outcome.ledger.events:
            keys = dict.fromkeys((*owners(e.source), *owners(e.destination)))
            for key in keys:  # once each, though both sides be its wallets
                events.setdefault(key, []).append(e)
            by_participant.setdefault(e.source, []).append(e)
            by_participant.setdefault(e.destination, []).append(e)
        balances: dict[str, list[Decimal]] = {}
        for name, balance in outcome.ledger.balances().items():
            for key in owners(name):
                balances.setdefault(key, []).append(balance)
        return cls(
            events_seen=len(outcome.ledger.events),
            events={k: tuple(v) for k, v in events.items()},
            participant_events={k: tuple(v) for k, v in by_participant.items()},
            balances={k: tuple(v) for k, v in balances.items()},
            liquidations=_grouped(outcome.liquidations, "account"),
            adl=_grouped(outcome.adl, "account"),
            adl_against=_grouped(outcome.adl, "bankrupt"),
            notices=_grouped(outcome.notices, "account"),
        )


@attrs.frozen
class Outcome:
    policy: str
    scenario: str
    ledger: Ledger
    liquidations: tuple[Liquidation, ...]
    adl: tuple[AdlRecord, ...]
    fund_path: tuple[Decimal, ...]
    open_positions: Mapping[str, tuple[tuple[str, Side, Decimal], ...]]
    accounts: tuple[str, ...]
    notices: tuple[Notice, ...] = ()
    equity: Mapping[str, Decimal] = attrs.field(factory=dict)
    """Each account's equity at the last step's marks: its cash (cross wallet and isolated
    margins) plus the unrealised PnL of the positions it still holds."""
    fund_positions: tuple[FundPosition, ...] = ()
    """What the insurance fund still holds at the end, valued at the last marks."""
    marks: Mapping[str, Decimal] = attrs.field(factory=dict)
    """The last step's marks."""
    currency: str = ""
    """The settlement currency the money is in (several joined by "/")."""
    _cache: _Index | None = attrs.field(init=False, default=None, eq=False, repr=False)
    """The records grouped by account (:meth:`_index`), built on the first query."""

    def _index(self) -> _Index:
        """The outcome's records grouped by account, built once (and again only if the
        ledger has grown since: the engine hands over a finished one)."""
        index = self._cache
        if index is None or index.events_seen != len(self.ledger.events):
            index = _Index.build(self)
            object.__setattr__(self, "_cache", index)  # frozen: a cache, not a field's value
        return index

    def __getstate__(self) -> dict[str, object]:
        """Pickled without the index, which the copy builds again when it is first asked."""
        return {f.name: getattr(self, f.name) for f in attrs.fields(Outcome) if f.init}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_cache", None)

    def events_of(self, account: str) -> tuple[Event, ...]:
        """The ledger events paid from or to one of ``account``'s wallets (its cross wallet
        and its isolated margins), in the ledger's order."""
        return self._index().events.get(account, ())

    def liquidations_of(self, account: str) -> tuple[Liquidation, ...]:
        """``account``'s liquidations, in order."""
        return self._index().liquidations.get(account, ())

    def adl_of(self, account: str) -> tuple[AdlRecord, ...]:
        """The ADL records of ``account``'s positions deleveraged, in order."""
        return self._index().adl.get(account, ())

    @property
    def fund_holdings(self) -> dict[str, Decimal]:
        """The fund's held sizes by ``"SYMBOL side"`` (:attr:`fund_positions`, in short)."""
        return {f"{p.symbol} {p.side}": p.size for p in self.fund_positions}

    @property
    def fund_opening(self) -> Decimal:
        """The insurance fund's opening balance."""
        return self._received_by(lg.INSURANCE_FUND, (lg.OPENING_BALANCE,))

    @property
    def fund_income(self) -> Decimal:
        """What the insurance fund received in liquidation fees."""
        return self._received_by(lg.INSURANCE_FUND, (lg.LIQUIDATION_FEE,))

    @property
    @_exact
    def fund_holdings_value(self) -> Decimal:
        """The unrealised PnL of what the fund still holds, at the last marks (a loss < 0)."""
        return sum((p.unrealized_pnl for p in self.fund_positions), ZERO)

    @property
    @_exact
    def fund_equity(self) -> Decimal:
        """The fund's cash plus its holdings at the last marks."""
        return self.insurance_fund + self.fund_holdings_value

    @_exact
    def who_pays(self) -> LossBreakdown:
        """Who paid the losses beyond the bankrupt accounts' collateral (:class:`LossBreakdown`)."""
        fund_cash = clawback = traders = venue = unallocated = ZERO
        for e in self.ledger.events:
            if e.destination == lg.INSURANCE_FUND and e.reason in FUND_BACKSTOP_REASONS:
                fund_cash -= e.amount
            elif e.source == lg.INSURANCE_FUND and e.reason in FUND_BACKSTOP_REASONS:
                fund_cash += e.amount
            if e.reason == lg.CLAWBACK:
                clawback += e.amount
            elif e.reason in (lg.OWN_CASH_COVERS, lg.LEFT_AS_DEBT):
                traders += e.amount
            elif e.reason == lg.VENUE_ABSORBS:
                venue += e.amount
            elif e.reason == lg.UNALLOCATED:
                unallocated += e.amount
        holdings = -self.fund_holdings_value
        adl = sum((a.cost for a in self.adl), ZERO)
        return LossBreakdown(
            fund_cash=fund_cash,
            fund_holdings=holdings,
            adl=adl,
            clawback=clawback,
            traders=traders,
            venue=venue,
            unallocated=unallocated,
            total=fund_cash + holdings + adl + clawback + traders + venue + unallocated,
        )

    @_exact
    def balance(self, account: str) -> Decimal:
        """The account's cash at the end: cross wallet plus isolated margins."""
        return sum(self._index().balances.get(account, ()), ZERO)

    @_exact
    def debt(self, account: str) -> Decimal:
        """What the account owes after liquidation (0 unless the policy chases deficits)."""
        return -self.ledger.balance(lg.debt(account))

    @_exact
    def realized_pnl(self, account: str) -> Decimal:
        """The PnL the account realised: every close of its positions (liquidation fills,
        takeovers, ADL, settlements at the mark) is a settlement with the market."""
        total = ZERO
        for e in self.events_of(account):
            if e.source == lg.MARKET and lg.belongs_to(account, e.destination):
                total += e.amount
            elif e.destination == lg.MARKET and lg.belongs_to(account, e.source):
                total -= e.amount
        return total

    def fees_paid(self, account: str) -> Decimal:
        """Liquidation fees, and the fees charged on its ADL fills where the policy has them."""
        return self._paid(account, lg.LIQUIDATION_FEE) + self._paid(account, lg.ADL_FEE)

    def clawback_paid(self, account: str) -> Decimal:
        """What the account gave up to a clawback of profits."""
        return self._paid(account, "clawback")

    @_exact
    def _paid(self, account: str, reason: str) -> Decimal:
        """What the account's wallets paid out for ``reason``."""
        events = self.events_of(account)
        return sum(
            (e.amount for e in events if e.reason == reason and lg.belongs_to(account, e.source)),
            ZERO,
        )

    def _received(self, account: str, reasons: tuple[str, ...], step: int | None = None) -> Decimal:
        """What the account's wallets received for ``reasons`` (at ``step``, if given)."""
        return sum(
            (
                e.amount
                for e in self.events_of(account)
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
        """The account's story: was it liquidated, what did it lose, does it owe money; with
        ``"insurance-fund"``, the fund's (its cash, what it still holds and what that is
        worth at the last marks). Figures are rounded for reading
        (:func:`margincall.display.amount`); the ledger and the methods above are exact."""
        if account == lg.INSURANCE_FUND:
            return self._explain_fund()
        if account not in self.accounts:
            shown = ", ".join(self.accounts[:_SHOWN])
            more = len(self.accounts) - _SHOWN
            if more > 0:
                shown += f" and {more} more"
            raise InvalidInputError(
                f"explain: no account {account!r} in scenario {self.scenario}; "
                f'its accounts are {shown} (and "insurance-fund" for the fund)'
            )
        index = self._index()
        lines = [f"At step {n.step}: {n.text}." for n in index.notices.get(account, ())]
        opening = self._received(account, (lg.OPENING_BALANCE,), step=-1)
        liquidated = list(index.liquidations.get(account, ()))
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
        for a in index.adl.get(account, ()):
            forgone = (
                f", {'giving up' if a.cost > 0 else 'gaining'} {amount(abs(a.cost))} against "
                "the mark"
                if a.cost
                else ""
            )
            lines.append(
                f"At step {a.step}, {amount(a.size)} {a.symbol} of its position was "
                f"auto-deleveraged at {amount(a.price)} against {a.bankrupt}'s bankrupt "
                f"position{forgone}."
            )
        lines += self._handed_over(account, liquidated)
        fees = self.fees_paid(account)
        if fees:
            lines.append(f"It paid {amount(fees)} in liquidation and ADL fees.")
        clawed = self.clawback_paid(account)
        if clawed:
            lines.append(
                f"{amount(clawed)} of its profit was clawed back to cover others' deficits under "
                f"{self.policy}."
            )
        deposited = self._received(account, (lg.DEPOSIT,))
        withdrawn = self._paid(account, lg.WITHDRAWAL)
        if deposited or withdrawn:
            lines.append(f"It deposited {amount(deposited)} and withdrew {amount(withdrawn)}.")
        lines.append(
            f"It started with {amount(opening)}, realised {amount(self.realized_pnl(account))} "
            f"of PnL, and ends with {amount(self.balance(account))}."
        )
        owed = self.debt(account)
        repaid = self._paid(account, lg.DEBT_REPAID)
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

    def _handed_over(self, account: str, liquidated: list[Liquidation]) -> list[str]:
        """Where the positions taken over from ``account`` went: ADL, or the fund."""
        lines = []
        for symbol in sorted({x.symbol for x in liquidated if x.kind == "takeover"}):
            taken = sum(
                (x.size for x in liquidated if x.kind == "takeover" and x.symbol == symbol), ZERO
            )
            against = self._index().adl_against.get(account, ())
            adl = [a for a in against if a.symbol == symbol]
            deleveraged = sum((a.size for a in adl), ZERO)
            parts = []
            if deleveraged:
                cost = sum((a.cost for a in adl), ZERO)
                gave = "gave up" if cost >= 0 else "gained"
                parts.append(
                    f"{amount(deleveraged)} went to auto-deleveraging, where the winners {gave} "
                    f"{amount(abs(cost))} against the mark"
                )
            if taken > deleveraged:
                parts.append(f"{amount(taken - deleveraged)} went to the insurance fund")
            if deleveraged:  # (all of it going to the fund is what "taken over" says)
                lines.append(
                    f"Of the {amount(taken)} {symbol} taken over from it, {' and '.join(parts)}."
                )
        return lines

    @_exact
    def _explain_fund(self) -> str:
        """The insurance fund's story (``explain("insurance-fund")``)."""
        path = self.fund_path
        opening, income = self.fund_opening, self.fund_income
        who = self.who_pays()
        lines = [
            f"The insurance fund started with {amount(opening)} and ends with "
            f"{amount(path[-1] if path else opening)} in cash."
        ]
        if income:
            lines.append(f"It received {amount(income)} in liquidation fees.")
        if who.fund_cash > 0:
            lines.append(f"It spent {amount(who.fund_cash)} on bankrupt positions and deficits.")
        elif who.fund_cash < 0:
            lines.append(f"It gained {amount(-who.fund_cash)} closing positions it took over.")
        for p in self.fund_positions:
            lines.append(
                f"It still holds {amount(p.size)} {p.symbol} {p.side}, taken over at an average "
                f"of {amount(p.entry_price)}; at the last mark, {amount(p.mark_price)}, that "
                f"is {'a gain' if p.unrealized_pnl >= 0 else 'a loss'} of "
                f"{amount(abs(p.unrealized_pnl))}."
            )
        if self.fund_positions:
            lines.append(
                f"Its equity (cash plus holdings at the marks) is {amount(self.fund_equity)}."
            )
        else:
            lines.append("It holds no positions.")
        return "\n".join(lines)

    @_exact
    def who_pays_text(self) -> str:
        """:meth:`who_pays` in sentences, for a reader."""
        w = self.who_pays()
        unit = f" {self.currency}" if self.currency else ""
        parts = [
            ("the insurance fund's cash", w.fund_cash),
            ("the insurance fund's holdings, at the last marks", w.fund_holdings),
            ("auto-deleveraged traders, in profit given up", w.adl),
            ("a clawback of profits", w.clawback),
            ("the bankrupt traders themselves (other cash and debts)", w.traders),
            ("the venue", w.venue),
            ("the venue, unallocated", w.unallocated),
        ]
        lines = [
            f"Losses beyond the bankrupt accounts' collateral: {amount(w.total)}{unit}, paid by:"
        ]
        lines += [f"  {name}: {amount(value)}" for name, value in parts if value]
        if not any(value for _, value in parts):
            lines.append("  nobody: no account lost more than its collateral.")
        return "\n".join(lines)

    @_exact
    def _received_by(self, participant: str, reasons: tuple[str, ...]) -> Decimal:
        return sum(
            (
                e.amount
                for e in self._index().participant_events.get(participant, ())
                if e.destination == participant and e.reason in reasons
            ),
            ZERO,
        )

    @_exact
    def _interest(self, account: str) -> Decimal:
        return sum(
            (
                e.amount
                for e in self._index().participant_events.get(lg.debt(account), ())
                if e.reason == lg.DEBT_INTEREST and e.source == lg.debt(account)
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
