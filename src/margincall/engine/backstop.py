"""The backstop: what takes over a bankrupt position. The insurance fund offloads what it can
afford and holds what its capacity allows; auto-deleveraging (ADL) closes the rest against
opposite winners; the policy's ADL trigger may send a takeover to ADL before the fund.

Costs: a takeover's ADL is O(W log W) in the opposite side's holders W of its symbol (each
ranked once per takeover; their health and bankruptcy price are computed once per step and
kept until the holder changes); the fund's offload and holdings are O(book levels + held
symbols).
"""

from __future__ import annotations

import bisect
import hashlib
from decimal import Decimal

import attrs

from margincall import ledger as lg
from margincall.account import Side
from margincall.decimals import ZERO
from margincall.display import amount
from margincall.engine.book import Holding, Open, order_side
from margincall.engine.deficit import Deficits
from margincall.math.adl import close_price
from margincall.math.fund import lots_within
from margincall.math.position import weighted_entry
from margincall.outcome import AdlRecord, Notice
from margincall.policy import Policy
from margincall.scenario import Scenario
from margincall.waterfall import AdlCandidate


class _Watched(AdlCandidate):
    """An ADL candidate that notes whether its ``draw`` was read: a score that did not read
    it is the same for every draw, so it holds for the whole step (until the candidate's
    account changes)."""

    __slots__ = ()
    read = False

    @property
    def draw(self) -> Decimal:
        _Watched.read = True
        value: Decimal = _DRAW.__get__(self, AdlCandidate)
        return value

    @classmethod
    def of(cls, candidate: AdlCandidate) -> _Watched:
        watched = object.__new__(cls)
        for field in attrs.fields(AdlCandidate):
            slot = _DRAW if field.name == "draw" else AdlCandidate.__dict__[field.name]
            slot.__set__(watched, getattr(candidate, field.name))
        return watched


_DRAW = AdlCandidate.__dict__["draw"]
"""The slot holding a candidate's draw (its ``draw`` property reads through it)."""


@attrs.define
class _Ranking:
    """One (symbol, side)'s winners at this step's marks, best first, as ``adl_rank``
    orders them: ``(-score, key, symbol, side)``. ``stale``: holders to score again."""

    order: list[tuple[Decimal, str, str, str]] = attrs.Factory(list)
    entry: dict[str, tuple[Decimal, str, str, str]] = attrs.Factory(dict)
    stale: set[str] = attrs.Factory(set)


@attrs.frozen
class _Standing:
    """A holder's position and what ranks it for ADL at this step's marks, until its account
    changes: ``fields``, an :class:`AdlCandidate`'s arguments but its draw."""

    position: Open
    pnl: Decimal
    fields: tuple[object, ...]


class Backstop(Deficits):
    """The insurance fund and ADL over the book and the waterfall."""

    def __init__(self, policy: Policy, scenario: Scenario) -> None:
        super().__init__(policy, scenario)
        self.fund_path: list[Decimal] = []
        # the fund's (day, balance) history for margincall_adl_trigger: the opening balance,
        # then the balance at the end of every step
        self.fund_history: list[tuple[Decimal, Decimal]] = [
            (self.day, self.ledger.balance(lg.INSURANCE_FUND))
        ]
        self._standing: dict[str, dict[tuple[str, Side], _Standing]] = {}
        self._rankings: dict[tuple[str, Side], _Ranking] = {}
        self.random_scores = False
        """Whether an ADL score read its candidate's draw: then every takeover ranks every
        winner afresh (the draws differ from one takeover to the next)."""

    def changed(self, keys: set[str]) -> None:
        for key in keys:
            self._standing.pop(key, None)
        for ranking in self._rankings.values():
            ranking.stale |= keys
        super().changed(keys)

    def new_marks(self) -> None:
        self._standing.clear()
        self._rankings.clear()
        super().new_marks()

    def adl_triggered(self, step: int, key: str, symbol: str, side: Side) -> bool:
        """The policy's ADL trigger (``margincall_adl_trigger``) on the fund's history and its
        balance now; when it holds, a notice tells the bankrupt account why ADL came first."""
        balance = self.ledger.balance(lg.INSURANCE_FUND)
        if not self.policy.fund_adl_trigger(symbol, (*self.fund_history, (self.day, balance))):
            return False
        self.notices.append(
            Notice(
                step,
                key,
                f"the policy's ADL trigger held with the insurance fund at {amount(balance)}: "
                f"its {symbol} {side} position went to auto-deleveraging before the fund",
            )
        )
        return True

    def offload(
        self,
        step: int,
        symbol: str,
        side: Side,
        size: Decimal,
        entry: Decimal,
        mark: Decimal,
        *,
        afford: bool = True,
    ) -> Decimal:
        """The fund closes up to ``size`` (held at ``entry``) in the market; returns what it
        could not close. With ``afford`` it accepts fills only while its balance stays >= 0;
        without, it closes everything, at the mark where the book has nothing left."""
        market = self.policy.market(symbol)
        order = order_side(side)
        sign = 1 if side == "long" else -1
        left = size
        for price, filled in self.fill(symbol, order, size, mark, None):
            per_contract = market.pnl(sign, Decimal(1), entry, price)  # the fund's gain
            if per_contract < 0 and afford:  # whole lots the fund's balance can pay for
                balance = self.ledger.balance(lg.INSURANCE_FUND)
                filled = min(filled, lots_within(balance, -per_contract, market.lot_size))
            if filled <= 0:
                break
            self._took(symbol, order, filled)
            gain = market.pnl(sign, filled, entry, price)
            self.ledger.settle(step, lg.MARKET, lg.INSURANCE_FUND, gain, lg.FUND_OFFLOAD, symbol)
            left -= filled
        if left > 0 and not afford:  # no liquidity left: closed at the mark
            self._to_market(symbol, order, left)
            gain = market.pnl(sign, left, entry, mark)
            self.ledger.settle(
                step, lg.MARKET, lg.INSURANCE_FUND, gain, lg.FUND_CLOSES_AT_MARK, symbol
            )
            left = ZERO
        return left

    def hold(
        self,
        step: int,
        symbol: str,
        side: Side,
        size: Decimal,
        entry: Decimal,
        mark: Decimal,
        *,
        within_capacity: bool,
    ) -> Decimal:
        """The fund keeps (up to its capacity, unless forced) the position; returns the rest."""
        held_notional = sum(
            (
                self.policy.market(s).value(h.size, self.marks[s])
                for (s, _), h in self.holdings.items()
            ),
            ZERO,
        )
        take = size
        if within_capacity:
            capacity = self.policy.takeover_capacity(
                self.ledger.balance(lg.INSURANCE_FUND), held_notional
            )
            market = self.policy.market(symbol)
            if capacity.is_finite():  # whole lots within the capacity
                per_contract = market.value(Decimal(1), mark)
                take = min(size, lots_within(capacity, per_contract, market.lot_size))
        if take <= 0:
            return size
        held = self.holdings.get((symbol, side))
        if held is None:
            self.holdings[(symbol, side)] = Holding(take, entry)
        else:
            held.entry = weighted_entry(held.size, held.entry, take, entry)
            held.size += take
        return size - take

    def offload_holdings(self, step: int) -> None:
        """The fund offers what it holds to the book, at the step's marks."""
        for (symbol, side), held in list(self.holdings.items()):
            mark = self.marks[symbol]
            left = self.offload(step, symbol, side, held.size, held.entry, mark)
            if left == 0:
                del self.holdings[(symbol, side)]
            else:
                held.size = left

    def _standing_of(self, other: str, symbol: str, side: Side) -> _Standing:
        """Account ``other``'s ``symbol`` ``side`` position's ADL figures at the marks."""
        cached = self._standing.setdefault(other, {})
        found = cached.get((symbol, side))
        if found is None:
            o = self.find(other, symbol, side)
            mark = self.marks[symbol]
            account = self.account(other)
            position = next(p for p in account.positions if (p.symbol, p.side) == (symbol, side))
            health = self.policy.pool_health(account, position, self.marks)
            cash = self.ledger.balance(self.wallet(other, o))
            pnl = self.pnl(o, mark)
            found = cached[(symbol, side)] = _Standing(
                o,
                pnl,
                (
                    other,
                    symbol,
                    side,
                    o.size,
                    o.entry,
                    mark,
                    self.policy.market(symbol).value(o.size, mark),
                    pnl,
                    cash,
                    health.margin_balance - cash,
                    health.maintenance_margin,
                    self.policy.pool_bankruptcy_price(account, position, self.marks),
                ),
            )
        return found

    def _candidate(
        self, step: int, bankrupt: str, standing: _Standing, symbol: str
    ) -> AdlCandidate:
        """A holder's position as an ADL candidate against ``bankrupt``'s takeover."""
        key = standing.fields[0]
        assert isinstance(key, str)
        return AdlCandidate(*standing.fields, self._draw(step, bankrupt, key, symbol))  # type: ignore[arg-type, call-arg]

    def _rank(self, ranking: _Ranking, candidate: AdlCandidate) -> None:
        """Score ``candidate`` into ``ranking``, noting a score that reads the draw."""
        _Watched.read = False
        score = self.policy.adl_score(_Watched.of(candidate))
        if _Watched.read:
            self.random_scores = True
        entry = (-score, candidate.key, candidate.symbol, candidate.side)
        ranking.entry[candidate.key] = entry
        bisect.insort(ranking.order, entry)

    def _ranking(self, step: int, bankrupt: str, symbol: str, side: Side) -> _Ranking:
        """The winners of ``symbol`` ``side`` ranked at this step's marks: built at the
        first takeover of the step that needs it (O(W log W)), then kept up to date as
        accounts change (O(log W) each)."""
        ranking = self._rankings.get((symbol, side))
        holders = self.holders.get((symbol, side), {})
        if ranking is None:
            ranking = self._rankings[(symbol, side)] = _Ranking()
            fresh: set[str] | dict[str, None] = holders
        else:
            fresh, ranking.stale = ranking.stale, set()
            for key in fresh:
                entry = ranking.entry.pop(key, None)
                if entry is not None:
                    del ranking.order[bisect.bisect_left(ranking.order, entry)]
        for key in fresh:
            if key in holders:
                standing = self._standing_of(key, symbol, side)
                if standing.pnl > 0:  # a winner at the mark
                    self._rank(ranking, self._candidate(step, bankrupt, standing, symbol))
        return ranking

    def _ranked(
        self, step: int, key: str, symbol: str, side: Side, size: Decimal, price: Decimal
    ) -> tuple[AdlCandidate, ...]:
        """The candidates to deleverage against ``key``'s takeover of ``size`` at ``price``,
        best first: winners at the mark and at ``price``, ``key`` aside. Every one, ranked by
        ``adl_rank``, unless the allocation fills from the top and no score reads the draw:
        then the shortest prefix of the step's ranking whose sizes cover ``size``."""
        if self.policy.adl_fills_from_the_top and not self.random_scores:
            ranking = self._ranking(step, key, symbol, side)
            if not self.random_scores:
                prefix: list[AdlCandidate] = []
                covered = ZERO
                for _, other, _, _ in ranking.order:
                    standing = self._standing_of(other, symbol, side)
                    if other == key or self.pnl(standing.position, price) <= 0:
                        continue
                    prefix.append(self._candidate(step, key, standing, symbol))
                    covered += standing.position.size
                    if covered >= size:
                        break
                return tuple(prefix)
        candidates = []
        for other in self.holders.get((symbol, side), {}):
            if other == key:
                continue
            standing = self._standing_of(other, symbol, side)
            # a winner at the mark and at the price it will be closed at: ADL never
            # realises a loss
            if standing.pnl <= 0 or self.pnl(standing.position, price) <= 0:
                continue
            candidates.append(self._candidate(step, key, standing, symbol))
        return self.policy.adl_rank(tuple(candidates))

    def deleverage(
        self,
        step: int,
        key: str,
        symbol: str,
        side: Side,
        size: Decimal,
        price: Decimal,
        mark: Decimal,
    ) -> Decimal:
        """ADL: opposite-side winners of other accounts close against the bankrupt position
        (taken over at ``price``, its bankruptcy price), best ranked first; returns what they
        could not take. They close at ``price``, or with ``[adl] price = "mark"`` at the mark
        while the fund can pay the difference (it holds the position from ``price``). With an
        ``[adl] fee``, each deleveraged trader pays that trading fee on its fill."""
        opposite: Side = "short" if side == "long" else "long"
        market = self.policy.market(symbol)
        sign = 1 if side == "long" else -1
        bankruptcy, adl = price, self.policy.spec.adl
        if adl.price == "mark" and self.has_fund:
            fund = self.ledger.balance(lg.INSURANCE_FUND)
            price = close_price(market, sign, size, bankruptcy, mark, fund)
        self.refresh()
        ranked = self._ranked(step, key, symbol, opposite, size, price)
        if not ranked:
            return size
        fills = self.policy.adl_allocate(ranked, size, price)
        for fill in fills:
            other = fill.candidate.key
            o = self.find(other, symbol, opposite)
            wallet = self.wallet(other, o)
            # what the deleveraged trader gives up against closing at the mark
            cost = self.pnl(o, mark, fill.size) - self.pnl(o, fill.price, fill.size)
            self.adl.append(
                AdlRecord(
                    step,
                    other,
                    key,
                    symbol,
                    self.in_units(symbol, fill.size),
                    fill.price,
                    mark=mark,
                    cost=cost,
                    side=opposite,
                )
            )
            self.close(step, other, o, fill.size, fill.price, lg.AUTO_DELEVERAGED)
            self.weakened.add(other)
            if adl.fee != "none":
                fee = self.policy.trading_fee(
                    symbol, fill.size, fill.price, maker=adl.fee == "maker"
                )
                if o.size == 0:  # closed whole: its margin was released
                    wallet = lg.account(other)
                paid = min(fee, max(ZERO, self.ledger.balance(wallet)))
                self.ledger.transfer(step, wallet, lg.FEES, paid, lg.ADL_FEE, symbol)
            if price != bankruptcy:
                self.ledger.settle(
                    step,
                    lg.MARKET,
                    lg.INSURANCE_FUND,
                    market.pnl(sign, fill.size, bankruptcy, price),
                    lg.ADL_AT_MARK,
                    symbol,
                )
            size -= fill.size
        return size

    def _draw(self, step: int, bankrupt: str, key: str, symbol: str) -> Decimal:
        """A number in [0, 1) from the scenario's seed and the ADL event: deterministic, and
        independent between candidates (SHA-256 of the event's description)."""
        text = f"{self.scenario.seed}:{step}:{bankrupt}:{key}:{symbol}"
        digest = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
        return Decimal(digest) / Decimal(2**64)
