"""The deficit waterfall: stages that cover a wallet left negative by a liquidation.

A policy's ``[deficit] waterfall`` names its stages in order. Each name resolves through
:data:`BUILT_IN` (or a plugin's stages) to a :class:`DeficitStage`: an object with one
method, ``cover``, which moves money into the negative wallet through the ledger and returns
what it absorbed; the residual passes to the next stage, and what the last stage leaves is
paid by the venue as *unallocated*. The built-in stages: ``insurance-fund``, ``clawback``,
``chasing``, ``venue``, and ``adl`` (which acts on positions at takeover: it absorbs nothing
here).

A plugin adds a stage by implementing ``margincall_deficit_stages`` (return stage objects);
its name may then appear in the waterfall of a policy that lists the plugin.

Costs: every stage is O(1) ledger transfers but the clawback, which is O(accounts) to gather
the period's profits (from each account's equity: O(its wallets and positions), cached per
step until the account changes) and O(winners) to collect the shares.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol, runtime_checkable

import attrs

from margincall import ledger as lg
from margincall.decimals import ZERO, exact, exact_sums
from margincall.engine.book import Book
from margincall.errors import MargincallError, PluginError
from margincall.policy import Policy
from margincall.scenario import Scenario


@attrs.frozen
class Deficit:
    """What a stage is asked to cover: ``wallet`` (a ledger participant) is negative by
    ``amount`` (> 0, what earlier stages left) after the liquidation of ``account`` at
    ``step``."""

    step: int
    account: str
    wallet: str
    amount: Decimal


@runtime_checkable
class DeficitStage(Protocol):
    """One stage of a deficit waterfall. ``cover`` moves at most ``deficit.amount`` into
    ``deficit.wallet`` through ``book.ledger`` and returns what it moved (the absorbed part;
    the residual goes on). It must not move more than the amount, nor a negative one."""

    @property
    def name(self) -> str:
        """The name a policy's ``[deficit] waterfall`` lists it by."""

    def cover(self, book: Deficits, deficit: Deficit) -> Decimal: ...


@attrs.frozen
class InsuranceFund:
    """The fund pays up to its balance (it never goes negative)."""

    name: str = "insurance-fund"

    def cover(self, book: Deficits, deficit: Deficit) -> Decimal:
        if deficit.wallet == lg.INSURANCE_FUND:  # the fund's own loss beyond its balance
            return ZERO
        paid = min(deficit.amount, max(ZERO, book.ledger.balance(lg.INSURANCE_FUND)))
        book.ledger.transfer(deficit.step, lg.INSURANCE_FUND, deficit.wallet, paid, lg.FUND_COVERS)
        return paid


@attrs.frozen
class Chasing:
    """The trader's own cash first, the rest becomes a debt the venue chases."""

    name: str = "chasing"

    def cover(self, book: Deficits, deficit: Deficit) -> Decimal:
        step, key, wallet = deficit.step, deficit.account, deficit.wallet
        cash = lg.account(key)
        own = ZERO if wallet == cash else min(deficit.amount, max(ZERO, book.ledger.balance(cash)))
        book.ledger.transfer(step, cash, wallet, own, lg.OWN_CASH_COVERS)
        if own > 0:
            book.weakened.add(key)
        book.ledger.transfer(step, lg.debt(key), wallet, deficit.amount - own, lg.LEFT_AS_DEBT)
        return deficit.amount


@attrs.frozen
class Venue:
    """The venue's own capital pays (negative-balance protection)."""

    name: str = "venue"

    def cover(self, book: Deficits, deficit: Deficit) -> Decimal:
        book.ledger.transfer(
            deficit.step, lg.VENUE, deficit.wallet, deficit.amount, lg.VENUE_ABSORBS
        )
        return deficit.amount


@attrs.frozen
class Adl:
    """Auto-deleveraging acts on positions at takeover (the backstop), not on a wallet's
    deficit: here it absorbs nothing."""

    name: str = "adl"

    def cover(self, book: Deficits, deficit: Deficit) -> Decimal:
        return ZERO


@attrs.frozen
class Clawback:
    """The other accounts' profits in the period pay the deficit, as the policy allocates
    it (``margincall_clawback``: pro rata by default). Profit is the change of equity (cash
    plus unrealised PnL at the marks) since the first step. Each paying account is first
    settled at the marks, so its profit is cash, then pays its share from that cash.
    Accounts liquidated in the period are not winners: a backstop that restored one to
    zero is not its profit."""

    name: str = "clawback"

    def cover(self, book: Deficits, deficit: Deficit) -> Decimal:
        profits = book.profits(exclude=deficit.account)
        shares = book.policy.clawback(deficit.amount, profits)
        paid = ZERO
        for other in sorted(shares):
            settle(book, deficit.step, other)
            left = shares[other]
            wallets = [lg.account(other)] + [
                book.wallet(other, o) for o in book.positions[other] if o.mode == "isolated"
            ]
            for source in wallets:  # the profit is cash now: cross wallet first, then margins
                take = min(left, max(ZERO, book.ledger.balance(source)))
                book.ledger.transfer(deficit.step, source, deficit.wallet, take, lg.CLAWBACK)
                book.weakened.add(other)
                left -= take
                paid += take
        return paid


def settle(book: Book, step: int, key: str) -> None:
    """Realise every open position's PnL at the marks into its own wallet and reset its
    entry to the mark, as a futures settlement does (OKEx clawed back realised profit at
    settlement); the account's equity is unchanged."""
    for o in book.positions[key]:
        mark = book.marks[o.symbol]
        if o.entry is mark:  # settled at these marks already: nothing to realise
            continue
        with exact():
            pnl = book.pnl(o, mark)
        book.ledger.settle(step, lg.MARKET, book.wallet(key, o), pnl, lg.SETTLED_AT_MARK, o.symbol)
        if o.entry != mark:
            book.touched.add(key)
        o.entry = mark


BUILT_IN: Mapping[str, DeficitStage] = {
    stage.name: stage for stage in (InsuranceFund(), Adl(), Clawback(), Chasing(), Venue())
}
"""The built-in stages by name."""


class Deficits(Book):
    """The waterfall over the book: :meth:`cover` runs a policy's stages on a wallet."""

    def __init__(self, policy: Policy, scenario: Scenario) -> None:
        super().__init__(policy, scenario)
        self.stages: Mapping[str, DeficitStage] = {**BUILT_IN, **self.policy.deficit_stages}
        self._profits: dict[str, Decimal] = {}
        """Profits of the period at this step's marks, by account, until the account
        changes; cleared when the marks change."""

    def changed(self, keys: set[str]) -> None:
        for key in keys:
            self._profits.pop(key, None)
        super().changed(keys)

    def new_marks(self) -> None:
        self._profits.clear()
        super().new_marks()

    def profits(self, *, exclude: str) -> dict[str, Decimal]:
        """The period's profit of every account not liquidated so far, ``exclude`` aside:
        equity now less equity at the first step. O(accounts), each account's equity
        computed once per step until it changes."""
        self.refresh()
        skip = self.liquidated
        found = {}
        for other in self.scenario.accounts:
            if other in skip or other == exclude:
                continue
            profit = self._profits.get(other)
            if profit is None:
                profit = self._profits[other] = self.equity(other) - self.opening_equity[other]
            found[other] = profit
        return found

    def cover(self, step: int, key: str, wallet: str) -> None:
        """Run the deficit waterfall on a wallet left negative by a liquidation."""
        with exact_sums():  # deficits are sums of money: never rounded
            self.run_waterfall(step, key, wallet, self.waterfall)

    def run_waterfall(self, step: int, key: str, wallet: str, stages: tuple[str, ...]) -> None:
        """Cover ``wallet``'s negative balance, caused by account ``key``'s bankruptcy, through
        ``stages`` in order; what is left is paid by the venue as unallocated."""
        deficit = -self.ledger.balance(wallet)
        for name in stages:
            if deficit <= 0:
                return
            deficit -= self._absorbed(name, Deficit(step, key, wallet, deficit))
        if deficit > 0:
            self.ledger.transfer(step, lg.VENUE, wallet, deficit, lg.UNALLOCATED)

    def _absorbed(self, name: str, deficit: Deficit) -> Decimal:
        """What stage ``name`` absorbed of ``deficit``: between 0 and the deficit, and moved
        into the wallet; anything else is the stage's bug (a :class:`PluginError`)."""
        before = self.ledger.balance(deficit.wallet)
        try:
            absorbed = self.stages[name].cover(self, deficit)
        except MargincallError:
            raise
        except Exception as error:  # a broken plugin stage fails its policy, not the process
            raise PluginError(
                f"{self.policy.name}: deficit stage {name!r} failed: "
                f"{type(error).__name__}: {error}"
            ) from error
        moved = self.ledger.balance(deficit.wallet) - before
        if not isinstance(absorbed, Decimal) or not ZERO <= absorbed <= deficit.amount:
            raise PluginError(
                f"{self.policy.name}: deficit stage {name!r} absorbed {absorbed!r} of a "
                f"deficit of {deficit.amount}: a stage absorbs from 0 to the deficit"
            )
        if moved != absorbed:
            raise PluginError(
                f"{self.policy.name}: deficit stage {name!r} said it absorbed {absorbed} but "
                f"moved {moved} into {deficit.wallet}"
            )
        return absorbed
