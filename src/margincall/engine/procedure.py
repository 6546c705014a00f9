"""The liquidation procedure, and the trigger index that tells which pools to check.

:meth:`Procedure.liquidate_account` checks an account's pools (cross first, then each
isolated position) and runs the policy's procedure on each one in liquidation: ``Reduce``
orders into the book, ``Takeover`` to the backstop, then the deficit waterfall on a wallet a
flat pool leaves negative.

**The trigger index.** Checking every pool at every step costs O(accounts) per step; a crash
over 100,000 accounts and 1,000 marks would make 10⁸ exact checks. A pool of one position (an
isolated position, or a cross account holding one) has a margin equation in one mark that is
linear between the edges of its tier, so :class:`Triggers` keeps, per pool, the interval of
marks around the current one over which it stays above its maintenance margin without
changing tier (:func:`margincall.math.pricing.safe_interval`), narrowed by :data:`BAND`, in a heap
per (symbol, bound). At each step only the pools whose bound the mark has reached are checked,
exactly, by the policy's ``is_liquidatable``: the index chooses what to check, never what
happens. Pools of several positions in one cross account, pools already at their maintenance
margin, and every pool of a policy whose plugin replaces ``margincall_liquidation_price`` are
checked at every step. An account changed by another's liquidation (a deleveraged winner, a
clawed-back account) is visited in the same pass when its place in the scenario's order is
still ahead, as a scan of every account would visit it, and indexed again after the pass.
``tests/test_trigger_index.py`` checks that a full scan plays the same ledger.

Costs per step: O(S + P log N) to find the P pools past their bounds in S symbols (N pools
indexed), plus O(log N + log tiers) to index again each pool that changed or was checked;
the liquidation of one pool is O(its positions) plus its backstop's cost.
"""

from __future__ import annotations

import heapq
from decimal import Decimal
from typing import Literal

from margincall import ledger as lg
from margincall.account import Side
from margincall.decimals import ONE, ZERO, exact, exact_sums
from margincall.engine.backstop import Backstop
from margincall.engine.book import Open, order_side
from margincall.errors import PluginError
from margincall.policy import Policy
from margincall.scenario import Scenario
from margincall.waterfall import Pool, Reduce, Takeover

BAND = Decimal("0.0001")
"""How far (relative) before its liquidation price a pool is already checked exactly: a
margin for liquidation prices solved to 50 digits and for policies whose trigger sits a
hair from the solved root."""


Bound = Literal["low", "high"]


class Triggers:
    """Each account's one-leg pools by the prices between which they need no check.

    ``heaps``: per (symbol, bound), entries ``(sort key, account order, account, version)``:
    a ``low`` entry is reached when the mark falls to its price, a ``high`` one when the mark
    rises to it; an entry is stale once its account's version moved on. ``always``:
    accounts with a pool that is checked at every step.
    """

    def __init__(self) -> None:
        self.heaps: dict[tuple[str, Bound], list[tuple[Decimal, int, str, int]]] = {}
        self.version: dict[str, int] = {}
        self.always: set[str] = set()

    def put(
        self, key: str, order: int, entries: list[tuple[str, Bound, Decimal]], always: bool
    ) -> None:
        """Account ``key``'s pools now: its one-leg pools' bounds, and whether it has a pool
        to check at every step."""
        version = self.version[key] = self.version.get(key, 0) + 1
        if always:
            self.always.add(key)
        else:
            self.always.discard(key)
        for symbol, bound, price in entries:
            heap = self.heaps.setdefault((symbol, bound), [])
            heapq.heappush(heap, (-price if bound == "low" else price, order, key, version))

    def crossed(self, marks: dict[str, Decimal]) -> set[str]:
        """Accounts with a pool whose bound the marks have reached, and those checked at
        every step. The entries found stay in the index."""
        found = set(self.always)
        for (symbol, bound), heap in self.heaps.items():
            mark = marks.get(symbol)
            if mark is None:
                continue
            keep = []
            while heap:
                sort_key, order, key, version = heap[0]
                if not (-sort_key >= mark if bound == "low" else sort_key <= mark):
                    break
                heapq.heappop(heap)
                if version == self.version.get(key):
                    found.add(key)
                    keep.append((sort_key, order, key, version))
            for entry in keep:
                heapq.heappush(heap, entry)
        return found


class Procedure(Backstop):
    """The liquidation procedure over the backstop, the waterfall and the book."""

    def __init__(self, policy: Policy, scenario: Scenario) -> None:
        super().__init__(policy, scenario)
        self.triggers = Triggers()
        self.queue: list[int] = []
        """Accounts (by their place in the scenario) still to visit in this pass."""
        self.queued: set[str] = set()
        self.cursor = -1
        """The place of the account being visited (-1: none)."""
        self.grow = False
        """Whether accounts changed on the way join the pass being visited."""
        self.dirty: set[str] = set()
        """Accounts to index again (:meth:`reindex`)."""
        self.keys = list(scenario.accounts)
        for key in self.keys:
            self.index(key)

    # --- the trigger index ----------------------------------------------------------------

    def index(self, key: str) -> None:
        """Index account ``key``'s pools, as they are now, at the step's marks: a one-leg
        pool by the prices around the mark between which it stays above its maintenance
        margin in its tier (:func:`margincall.math.pricing.safe_interval`), narrowed by
        :data:`BAND`; a pool already at its maintenance margin, a pool of several legs, and
        every pool of a policy with its own liquidation-price hook, at every step."""
        cross = sum(o.mode == "cross" for o in self.positions[key])
        always = cross > 1  # several symbols, or both legs of one: health moves with each
        entries: list[tuple[str, Bound, Decimal]] = []
        account = self.account(key)
        for position in account.positions:
            if not position.isolated and cross > 1:
                continue
            if not self.policy.solves_liquidation_by_default:
                always = True
                break
            interval = self.policy.safe_interval(account, position, self.marks)
            if interval is None:
                always = True
                continue
            low, high = interval
            with exact():
                if low > 0:
                    entries.append((position.symbol, "low", low * (ONE + BAND)))
                if high is not None:
                    entries.append((position.symbol, "high", high * (ONE - BAND)))
        self.triggers.put(key, self.order[key], entries, always)

    def changed(self, keys: set[str]) -> None:
        """Accounts changed by a liquidation: indexed again after the pass, and visited in
        this pass when their place is still ahead (the exact check decides; a scan of every
        account would reach them)."""
        super().changed(keys)
        self.dirty |= keys
        if self.grow:
            for key in keys:
                order = self.order[key]
                if order > self.cursor and key not in self.queued:
                    self.queued.add(key)
                    heapq.heappush(self.queue, order)

    def reindex(self) -> None:
        """Index again every account changed or visited since the last call."""
        self.refresh()
        for key in sorted(self.dirty, key=self.order.__getitem__):
            self.index(key)
        self.dirty = set()

    def visit(self, step: int, keys: set[str], *, grow: bool) -> None:
        """Visit accounts ``keys`` in the scenario's order, liquidating the pools in
        liquidation; with ``grow``, also any account changed on the way whose place is still
        ahead (the first pass of a step, which stands for a scan of every account)."""
        self.refresh()
        self.queue = sorted(self.order[key] for key in keys)
        self.queued = set(keys)
        self.grow = grow
        while self.queue:
            self.cursor = heapq.heappop(self.queue)
            key = self.keys[self.cursor]
            self.liquidate_account(step, key)
            self.dirty.add(key)  # indexed again at these marks, liquidated or not
            self.refresh()
        self.cursor, self.queued, self.grow = -1, set(), False
        self.reindex()

    def liquidate_account(self, step: int, key: str) -> None:
        """Check account ``key``'s pools, the cross pool first, then each isolated position
        in order, and liquidate those in liquidation."""
        self.liquidate(step, key, None)
        for o in list(self.positions[key]):
            if o.mode == "isolated" and o in self.positions[key]:
                self.liquidate(step, key, (o.symbol, o.side))

    # --- the procedure --------------------------------------------------------------------

    def in_liquidation(self, key: str, isolated: tuple[str, Side] | None) -> bool:
        """The trigger, on the pool's health alone (no prices are solved for it)."""
        member = self.member(key, isolated)
        if member is None:
            return False
        account = self.account(key)
        position = next(
            p for p in account.positions if (p.symbol, p.side) == (member.symbol, member.side)
        )
        return self.policy.pool_liquidatable(account, position, self.marks)

    def pool(self, key: str, isolated: tuple[str, Side] | None) -> Pool:
        """The pool being liquidated, with its bankruptcy prices."""
        for pool in self.policy.account_pools(self.account(key), self.marks):
            if pool.isolated == (isolated is not None) and (
                isolated is None or (pool.positions[0].symbol, pool.positions[0].side) == isolated
            ):
                return pool
        raise PluginError(f"account {key}: no pool {isolated or 'cross'} to liquidate")

    def liquidate(self, step: int, key: str, isolated: tuple[str, Side] | None) -> None:
        if not self.in_liquidation(key, isolated):
            return
        wallet = lg.account(key) if isolated is None else lg.isolated_margin(key, *isolated)
        closed = self.member(key, isolated) if isolated is not None else None
        members = 1 if isolated else sum(o.mode == "cross" for o in self.positions[key])
        limit = 2 * members + 4
        for attempt in range(limit):
            action = self.policy.liquidation_action(self.pool(key, isolated), attempt)
            o = self.find(key, action.symbol, action.side)
            mark = self.marks[o.symbol]
            if isinstance(action, Reduce):
                self.reduce(step, key, o, action, mark)
            elif isinstance(action, Takeover):
                self.takeover(step, key, o, action, mark)
            else:
                raise PluginError(f"unknown liquidation action {action!r}")
            if not self.in_liquidation(key, isolated):
                break
        else:
            raise PluginError(
                f"{self.policy.name}: account {key} still in liquidation after {limit} steps"
            )
        if self.member(key, isolated) is None:  # flat: a negative wallet is a deficit
            self.cover(step, key, wallet)
            if closed is not None:  # an isolated pool: its margin returns to the wallet
                self.release(step, key, closed)

    def reduce(self, step: int, key: str, o: Open, action: Reduce, mark: Decimal) -> None:
        side = order_side(o.side)
        wanted = min(action.size, o.size)
        fills = self.fill(o.symbol, side, wanted, mark, action.limit_price)
        if action.order_type == "fok" and sum((f[1] for f in fills), ZERO) < wanted:
            return  # FillOrKill: the book cannot fill it all within the limit, so nothing fills
        for price, size in fills:
            self._took(o.symbol, side, size)
            self.fee(step, key, o, size, price)
            self.record(step, key, o.symbol, o.side, size, price, "order")
            self.close(step, key, o, size, price, lg.liquidation_fill(action.order_type))

    def takeover(self, step: int, key: str, o: Open, action: Takeover, mark: Decimal) -> None:
        size = min(action.size, o.size)
        symbol, side, price = o.symbol, o.side, action.price
        if not self.backstop:  # no fund and no ADL: the trader is closed in the market itself
            left = size
            for fill_price, filled in self.fill(symbol, order_side(side), size, mark, None):
                self._took(symbol, order_side(side), filled)
                self.record(step, key, symbol, side, filled, fill_price, "market")
                self.close(step, key, o, filled, fill_price, lg.LIQUIDATION_MARKET_FILL)
                left -= filled
            if left > 0:  # no liquidity: closed at the mark, the venue's settlement price
                self._to_market(symbol, order_side(side), left)
                self.record(step, key, symbol, side, left, mark, "mark")
                self.close(step, key, o, left, mark, lg.LIQUIDATION_CLOSED_AT_MARK)
            return
        later = tuple(s for s in self.waterfall if s not in ("insurance-fund", "adl"))
        self.record(step, key, symbol, side, size, price, "takeover")
        self.close(step, key, o, size, price, lg.REALISED_AT_BANKRUPTCY)
        left = size
        adl_first = self.may_trigger and self.adl_triggered(step, key, symbol, side)
        if adl_first:  # the policy's ADL trigger holds: the winners take it before the fund
            left = self.deleverage(step, key, symbol, side, left, price, mark)
        if left > 0 and self.has_fund:
            left = self.offload(step, symbol, side, left, price, mark)
        if left > 0 and self.has_fund:
            left = self.hold(step, symbol, side, left, price, mark, within_capacity=True)
        if left > 0 and "adl" in self.waterfall and not adl_first:
            left = self.deleverage(step, key, symbol, side, left, price, mark)
        if left > 0 and later:
            # what nobody took is closed in the market anyway; a loss beyond the fund's balance
            # is a deficit for the later stages (OKEx: the fund first, then the clawback)
            self.offload(step, symbol, side, left, price, mark, afford=False)
            with exact_sums():
                self.run_waterfall(step, key, lg.INSURANCE_FUND, later)
        elif left > 0:
            self.hold(step, symbol, side, left, price, mark, within_capacity=False)
