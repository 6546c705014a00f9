"""The run: steps in order, each moving time and money, then checking every pool that may
be in liquidation (see :mod:`margincall.engine.procedure`), then longs against shorts.

Costs per step: O(symbols) for the marks, O(debtors) for interest, O(transfers) for the
step's deposits and withdrawals, O(held symbols) for the fund's offers to the book, and the
procedure's cost for the pools past their trigger. The outcome is built once, O(accounts).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from margincall import ledger as lg
from margincall.decimals import ZERO, exact_sums
from margincall.engine.book import currency
from margincall.engine.procedure import Procedure
from margincall.outcome import FundPosition, Notice, Outcome

Progress = Callable[[int, int], None]
"""Called after each step with (steps played, steps in the scenario)."""


class Simulation(Procedure):
    """One policy played over one scenario."""

    def run(self, progress: Progress | None = None) -> Outcome:
        day = ZERO
        total = len(self.scenario.steps)
        for index, step in enumerate(self.scenario.steps):
            if index:
                marks = dict(self.marks)
                marks.update(step.marks)
                self.marks = marks
                self.new_marks()
            self.consumed = {}
            today = day if step.day is None else step.day
            if today > day:
                self.accrue(index, today - day)
            day = self.day = today
            for key, moved in step.transfers.items():
                self.transfer(index, key, moved)
            self.offload_holdings(index)
            self.reindex()
            pending = self.triggers.crossed(self.marks)
            growing = True  # the first pass visits what a liquidation brings past its trigger
            while pending:  # until no account was weakened after its pools were checked
                self.weakened = set()
                self.visit(index, pending, grow=growing)
                pending, growing = set(self.weakened), False
            self.check_open_interest(index)
            self.fund_path.append(self.ledger.balance(lg.INSURANCE_FUND))
            self.fund_history.append((today, self.fund_path[-1]))
            if progress is not None:
                progress(index + 1, total)
        self.check_open_interest(total - 1, recount=True)
        return self.outcome()

    def outcome(self) -> Outcome:
        return Outcome(
            policy=self.policy.name,
            scenario=self.scenario.name,
            ledger=self.ledger,
            liquidations=tuple(self.liquidations),
            adl=tuple(self.adl),
            fund_path=tuple(self.fund_path),
            open_positions={
                k: tuple((o.symbol, o.side, self.in_units(o.symbol, o.size)) for o in v)
                for k, v in self.positions.items()
            },
            fund_positions=tuple(
                FundPosition(
                    s,
                    side,
                    self.in_units(s, h.size),
                    h.entry,
                    self.marks[s],
                    self.policy.market(s).pnl(
                        1 if side == "long" else -1, h.size, h.entry, self.marks[s]
                    ),
                )
                for (s, side), h in sorted(self.holdings.items())
            ),
            marks=dict(self.marks),
            currency=currency(self.policy, self.scenario),
            accounts=tuple(self.scenario.accounts),
            notices=tuple(self.notices),
            equity={key: self.equity(key) for key in self.scenario.accounts},
        )

    # --- time and money moving in and out ----------------------------------------------

    def accrue(self, step: int, days: Decimal) -> None:
        """Interest on every chased debt over ``days`` (the policy's ``debt_interest``): the
        debt grows, and the creditor's accrued interest with it."""
        for key in sorted(self.ledger.debtors(), key=self.order.__getitem__):
            with exact_sums():
                owed = -self.ledger.balance(lg.debt(key))
            if owed > 0:
                interest = self.policy.debt_interest(owed, days)
                self.ledger.transfer(step, lg.debt(key), lg.INTEREST, interest, lg.DEBT_INTEREST)

    def transfer(self, step: int, key: str, amount: Decimal) -> None:
        """A deposit (repaying any debt first) or a withdrawal. A withdrawal beyond what the
        account may withdraw is refused whole and noted, as a venue refuses it."""
        if amount > 0:
            self.ledger.transfer(step, lg.EXTERNAL, lg.account(key), amount, lg.DEPOSIT)
            self.collect(step, key)
            return
        available = self.withdrawable(key)
        if -amount > available:
            self.notices.append(
                Notice(
                    step,
                    key,
                    f"a withdrawal of {-amount} was refused: {available} could be withdrawn",
                )
            )
            return
        self.ledger.transfer(step, lg.account(key), lg.EXTERNAL, -amount, lg.WITHDRAWAL)

    def withdrawable(self, key: str) -> Decimal:
        """Cross-wallet cash, less what the cross positions need: the least of the cash and
        the cross margin balance above its initial margin (unrealised profit stays)."""
        cash = self.ledger.balance(lg.account(key))
        member = self.member(key, None)
        if member is None:
            return max(ZERO, cash)
        health = self.policy.health(
            self.account(key), member.symbol, marks=self.marks, side=member.side
        )
        with exact_sums():
            return max(ZERO, min(cash, health.margin_balance - health.initial_margin))
