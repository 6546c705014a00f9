"""Play a policy forward over a scenario: triggers, procedures, the backstop and the deficit
waterfall, with every money movement in one double-entry ledger.

The semantics are those of ``docs/engine.md``. In short: the market is the counterparty of
every position and every fill, so realised PnL is always settled with it; a takeover closes
the trader at the bankruptcy price and hands the position to the backstop (the insurance fund
offloads what it can afford, holds what its capacity allows, ADL takes the rest; while the
policy's ADL trigger holds, ADL goes first and the fund takes what it leaves); a pool left
with a negative wallet runs the policy's deficit waterfall.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from decimal import ROUND_FLOOR, Decimal

import attrs

from margincall import ledger as lg
from margincall.account import Account, MarginMode, Position, PositionMode, Side
from margincall.decimals import ZERO, exact, exact_sums
from margincall.display import amount
from margincall.errors import InvalidInputError, MargincallError, PluginError
from margincall.ledger import Ledger
from margincall.liquidity import OrderSide
from margincall.outcome import (
    AdlRecord,
    FillKind,
    FundPosition,
    Liquidation,
    Notice,
    Outcome,
)
from margincall.policy import Policy
from margincall.scenario import Scenario
from margincall.tiers import tier_index
from margincall.waterfall import AdlCandidate, Pool, Reduce, Takeover


@attrs.define
class _Open:
    """A position open during the simulation."""

    symbol: str
    side: Side
    size: Decimal
    entry: Decimal
    mode: MarginMode
    leverage: Decimal | None


@attrs.define
class _Holding:
    """A position the insurance fund took over and could not yet offload."""

    size: Decimal
    entry: Decimal


def _order_side(side: Side) -> OrderSide:
    """The order that closes a position on ``side``."""
    return "sell" if side == "long" else "buy"


class _Simulation:
    def __init__(self, policy: Policy, scenario: Scenario) -> None:
        self.policy = policy
        self.scenario = scenario
        self.waterfall = policy.spec.deficit.waterfall
        self.has_fund = "insurance-fund" in self.waterfall
        self.backstop = self.has_fund or "adl" in self.waterfall
        self.may_trigger = self.has_fund and "adl" in self.waterfall  # ADL ahead of the fund
        opening: dict[str, Decimal] = {}
        self.positions: dict[str, list[_Open]] = {}
        self.modes: dict[str, PositionMode] = {}
        self.per_contract = _units_per_contract(policy, scenario)
        self.opening_positions = {
            key: [self._in_contracts(key, p) for p in acct.positions]
            for key, acct in scenario.accounts.items()
        }
        for key, acct in scenario.accounts.items():
            opening[lg.account(key)] = acct.balance
            self.modes[key] = acct.position_mode
            self.positions[key] = []
            for p in self.opening_positions[key]:
                if p.isolated:
                    opening[lg.isolated_margin(key, p.symbol, p.side)] = policy.isolated_margin(p)
                self.positions[key].append(
                    _Open(p.symbol, p.side, p.size, p.entry_price, p.margin_mode, p.leverage)
                )
        fund = scenario.insurance_fund
        opening[lg.INSURANCE_FUND] = (
            policy.spec.insurance_fund.initial_balance if fund is None else fund
        )
        self.ledger = Ledger.opened(opening)
        first = scenario.marks_at(0)
        self.opening_equity = {key: self._equity(key, first) for key in scenario.accounts}
        self.holdings: dict[tuple[str, Side], _Holding] = {}
        self.liquidations: list[Liquidation] = []
        self.adl: list[AdlRecord] = []
        self.fund_path: list[Decimal] = []
        self.day = scenario.day_at(0)
        # the fund's (day, balance) history for margincall_adl_trigger: the opening balance,
        # then the balance at the end of every step
        self.fund_history: list[tuple[Decimal, Decimal]] = [
            (self.day, self.ledger.balance(lg.INSURANCE_FUND))
        ]
        self.consumed: dict[tuple[str, OrderSide], Decimal] = {}
        self.weakened: set[str] = set()
        """Accounts whose equity fell, in this step, by another's liquidation (deleveraged
        below the mark, a clawback, a deficit paid from the wallet): their pools are checked
        again at the same marks, so none ends a step under water unliquidated."""
        self._marks: dict[str, Decimal] = {}
        self.market_position: dict[str, Decimal] = {}  # net long, per symbol
        for opens in self.positions.values():  # the market holds the other side of every
            for o in opens:  # opening position
                self._to_market(o.symbol, "buy" if o.side == "long" else "sell", o.size)
        self.notices: list[Notice] = [
            Notice(0, key, text) for key in scenario.accounts for text in self._beyond_caps(key)
        ]

    # --- units ----------------------------------------------------------------------------

    def _in_contracts(self, key: str, p: Position) -> Position:
        """A scenario position in the policy's contracts (unknown symbols fail here, before
        anything runs)."""
        self.policy.market(p.symbol)
        k = self.per_contract.get(p.symbol)
        if k is None:
            return p
        contracts = p.size / k
        if contracts * k != p.size:
            raise InvalidInputError(
                f"account {key}: {p.symbol} size {p.size} is no exact number of "
                f"{self.policy.name}'s contracts of {k}"
            )
        return Position._unchecked(  # in contracts, it may leave the input range: not input
            p.symbol, p.side, contracts, p.entry_price, p.margin_mode, p.margin, p.leverage
        )

    def _in_units(self, symbol: str, contracts: Decimal) -> Decimal:
        """``contracts`` of the policy's market ``symbol`` in the scenario's units."""
        k = self.per_contract.get(symbol)
        return contracts if k is None else contracts * k

    def _liquidated(
        self,
        step: int,
        key: str,
        symbol: str,
        side: Side,
        size: Decimal,
        price: Decimal,
        kind: FillKind,
    ) -> None:
        self.liquidations.append(
            Liquidation(step, key, symbol, side, self._in_units(symbol, size), price, kind)
        )

    # --- views ----------------------------------------------------------------------------

    def _wallet(self, key: str, o: _Open) -> str:
        return (
            lg.isolated_margin(key, o.symbol, o.side) if o.mode == "isolated" else lg.account(key)
        )

    def _account(self, key: str) -> Account:
        positions = [
            Position._unchecked(
                o.symbol,
                o.side,
                o.size,
                o.entry,
                o.mode,
                self.ledger.balance(self._wallet(key, o)) if o.mode == "isolated" else None,
                o.leverage,
            )
            for o in self.positions[key]
        ]
        return Account._unchecked(
            self.ledger.balance(lg.account(key)), tuple(positions), self.modes[key]
        )

    def _pnl(self, o: _Open, price: Decimal, size: Decimal | None = None) -> Decimal:
        """PnL of ``size`` (default: all) of ``o`` at ``price``, in settlement currency."""
        sign = 1 if o.side == "long" else -1
        return self.policy.market(o.symbol).pnl(
            sign, o.size if size is None else size, o.entry, price
        )

    def _find(self, key: str, symbol: str, side: Side) -> _Open:
        for o in self.positions[key]:
            if o.symbol == symbol and o.side == side:
                return o
        raise PluginError(f"the procedure named {symbol} {side}, which account {key} does not hold")

    # --- money ----------------------------------------------------------------------------

    def _close(
        self, step: int, key: str, o: _Open, size: Decimal, price: Decimal, why: str
    ) -> None:
        """Close ``size`` of ``o`` at ``price``: realised PnL settles with the market."""
        self.ledger.settle(
            step, lg.MARKET, self._wallet(key, o), self._pnl(o, price, size), why, o.symbol
        )
        o.size -= size
        if o.size == 0:
            self.positions[key].remove(o)
            if self.ledger.balance(self._wallet(key, o)) >= 0:
                self._release(step, key, o)

    def _release(self, step: int, key: str, o: _Open) -> None:
        """A closed isolated position's margin returns to the cross wallet, which repays any
        debt the account owes first (a chased debt is collected from cash coming in)."""
        if o.mode == "isolated":
            wallet = self._wallet(key, o)
            self.ledger.settle(
                step,
                wallet,
                lg.account(key),
                self.ledger.balance(wallet),
                "isolated margin released",
                o.symbol,
            )
        self._collect(step, key)

    def _collect(self, step: int, key: str) -> None:
        """Cash in the cross wallet repays what the account owes first: a chased debt is
        collected from the money that comes in later (releases, deposits)."""
        with exact_sums():
            owed = -self.ledger.balance(lg.debt(key))
            cash = max(ZERO, self.ledger.balance(lg.account(key)))
            self.ledger.transfer(
                step, lg.account(key), lg.debt(key), min(owed, cash), "debt repaid from the wallet"
            )

    def _fee(self, step: int, key: str, o: _Open, size: Decimal, price: Decimal) -> None:
        """The liquidation fee, never more than the pool's remaining cash; to the fund when
        the policy has one, else to the venue's fee income."""
        wallet = self._wallet(key, o)
        fee = min(
            self.policy.liquidation_fee(o.symbol, size, price),
            max(ZERO, self.ledger.balance(wallet)),
        )
        self.ledger.transfer(
            step,
            wallet,
            lg.INSURANCE_FUND if self.has_fund else lg.FEES,
            fee,
            lg.LIQUIDATION_FEE,
            o.symbol,
        )

    def _fill(
        self, symbol: str, side: OrderSide, size: Decimal, mark: Decimal, limit: Decimal | None
    ) -> list[tuple[Decimal, Decimal]]:
        consumed = self.consumed.get((symbol, side), ZERO)
        k = self.per_contract.get(symbol)
        if k is None:
            fills = self.scenario.liquidity.fill(symbol, side, size, mark, limit, consumed)
            return [(f.price, f.size) for f in fills]
        fills = self.scenario.liquidity.fill(symbol, side, size * k, mark, limit, consumed * k)
        return [(f.price, f.size / k) for f in fills]  # the book's depth is in scenario units

    def _took(self, symbol: str, side: OrderSide, size: Decimal) -> None:
        """``size`` filled against the book: its depth is used up for this step."""
        self.consumed[(symbol, side)] = self.consumed.get((symbol, side), ZERO) + size
        self._to_market(symbol, side, size)

    def _to_market(self, symbol: str, side: OrderSide, size: Decimal) -> None:
        """The market (the book, everyone outside the scenario) takes the other side of an
        order: it buys what is sold."""
        signed = size if side == "sell" else -size
        self.market_position[symbol] = self.market_position.get(symbol, ZERO) + signed

    def _check_open_interest(self, step: int) -> None:
        """Longs equal shorts in every symbol: the accounts' positions, the fund's holdings
        and the market's side of every fill net to zero. A failure is a bug in the engine
        or in a plugin's actions, never a user error."""
        net = dict(self.market_position)
        for opens in self.positions.values():
            for o in opens:
                net[o.symbol] = net.get(o.symbol, ZERO) + (o.size if o.side == "long" else -o.size)
        for (symbol, side), held in self.holdings.items():
            net[symbol] = net.get(symbol, ZERO) + (held.size if side == "long" else -held.size)
        unbalanced = {symbol: n for symbol, n in net.items() if n != 0}
        if unbalanced:
            raise MargincallError(
                f"{self.policy.name}: step {step}: longs and shorts differ by {unbalanced} "
                "contracts (net long); the engine lost track of a position"
            )

    # --- the procedure --------------------------------------------------------------------

    def _member(self, key: str, isolated: tuple[str, Side] | None) -> _Open | None:
        """A position of the pool (the isolated one, or any cross one); None when flat."""
        for o in self.positions[key]:
            if (o.symbol, o.side) == isolated if isolated else o.mode == "cross":
                return o
        return None

    def _in_liquidation(self, key: str, isolated: tuple[str, Side] | None) -> bool:
        """The trigger, on the pool's health alone (no prices are solved for it)."""
        member = self._member(key, isolated)
        return member is not None and self.policy.is_liquidatable(
            self._account(key), member.symbol, marks=self._marks, side=member.side
        )

    def _pool(self, key: str, isolated: tuple[str, Side] | None) -> Pool:
        """The pool being liquidated, with its bankruptcy prices."""
        for pool in self.policy.pools(self._account(key), marks=self._marks):
            if pool.isolated == (isolated is not None) and (
                isolated is None or (pool.positions[0].symbol, pool.positions[0].side) == isolated
            ):
                return pool
        raise PluginError(f"account {key}: no pool {isolated or 'cross'} to liquidate")

    def _liquidate(self, step: int, key: str, isolated: tuple[str, Side] | None) -> None:
        if not self._in_liquidation(key, isolated):
            return
        wallet = lg.account(key) if isolated is None else lg.isolated_margin(key, *isolated)
        closed = self._member(key, isolated) if isolated is not None else None
        members = 1 if isolated else sum(o.mode == "cross" for o in self.positions[key])
        limit = 2 * members + 4
        for attempt in range(limit):
            action = self.policy.liquidation_action(self._pool(key, isolated), attempt)
            o = self._find(key, action.symbol, action.side)
            mark = self._marks[o.symbol]
            if isinstance(action, Reduce):
                self._reduce(step, key, o, action, mark)
            elif isinstance(action, Takeover):
                self._takeover(step, key, o, action, mark)
            else:
                raise PluginError(f"unknown liquidation action {action!r}")
            if not self._in_liquidation(key, isolated):
                break
        else:
            raise PluginError(
                f"{self.policy.name}: account {key} still in liquidation after {limit} steps"
            )
        if self._member(key, isolated) is None:  # flat: a negative wallet is a deficit
            self._cover(step, key, wallet)
            if closed is not None:  # an isolated pool: its margin returns to the wallet
                self._release(step, key, closed)

    def _reduce(self, step: int, key: str, o: _Open, action: Reduce, mark: Decimal) -> None:
        side = _order_side(o.side)
        wanted = min(action.size, o.size)
        fills = self._fill(o.symbol, side, wanted, mark, action.limit_price)
        if action.order_type == "fok" and sum((f[1] for f in fills), ZERO) < wanted:
            return  # FillOrKill: the book cannot fill it all within the limit, so nothing fills
        for price, size in fills:
            self._took(o.symbol, side, size)
            self._fee(step, key, o, size, price)
            self._liquidated(step, key, o.symbol, o.side, size, price, "order")
            self._close(step, key, o, size, price, f"liquidation {action.order_type} fill")

    def _takeover(self, step: int, key: str, o: _Open, action: Takeover, mark: Decimal) -> None:
        size = min(action.size, o.size)
        symbol, side, price = o.symbol, o.side, action.price
        if not self.backstop:  # no fund and no ADL: the trader is closed in the market itself
            left = size
            for fill_price, filled in self._fill(symbol, _order_side(side), size, mark, None):
                self._took(symbol, _order_side(side), filled)
                self._liquidated(step, key, symbol, side, filled, fill_price, "market")
                self._close(step, key, o, filled, fill_price, "liquidation market fill")
                left -= filled
            if left > 0:  # no liquidity: closed at the mark, the venue's settlement price
                self._to_market(symbol, _order_side(side), left)
                self._liquidated(step, key, symbol, side, left, mark, "mark")
                self._close(step, key, o, left, mark, "liquidation closed at the mark")
            return
        later = tuple(s for s in self.waterfall if s not in ("insurance-fund", "adl"))
        self._liquidated(step, key, symbol, side, size, price, "takeover")
        self._close(step, key, o, size, price, "taken over at the bankruptcy price")
        left = size
        adl_first = self.may_trigger and self._adl_triggered(step, key, symbol, side)
        if adl_first:  # the policy's ADL trigger holds: the winners take it before the fund
            left = self._deleverage(step, key, symbol, side, left, price, mark)
        if left > 0 and self.has_fund:
            left = self._offload(step, symbol, side, left, price, mark)
        if left > 0 and self.has_fund:
            left = self._hold(step, symbol, side, left, price, mark, within_capacity=True)
        if left > 0 and "adl" in self.waterfall and not adl_first:
            left = self._deleverage(step, key, symbol, side, left, price, mark)
        if left > 0 and later:
            # what nobody took is closed in the market anyway; a loss beyond the fund's balance
            # is a deficit for the later stages (OKEx: the fund first, then the clawback)
            self._offload(step, symbol, side, left, price, mark, afford=False)
            with exact_sums():
                self._waterfall(step, key, lg.INSURANCE_FUND, later)
        elif left > 0:
            self._hold(step, symbol, side, left, price, mark, within_capacity=False)

    # --- the backstop ---------------------------------------------------------------------

    def _adl_triggered(self, step: int, key: str, symbol: str, side: Side) -> bool:
        """The policy's ADL trigger (``margincall_adl_trigger``) on the fund's history and its
        balance now; when it holds, a notice tells the bankrupt account why ADL came first."""
        balance = self.ledger.balance(lg.INSURANCE_FUND)
        if not self.policy.adl_trigger(symbol, (*self.fund_history, (self.day, balance))):
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

    def _offload(
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
        order = _order_side(side)
        sign = 1 if side == "long" else -1
        left = size
        for price, filled in self._fill(symbol, order, size, mark, None):
            per_contract = market.pnl(sign, Decimal(1), entry, price)  # the fund's gain
            if per_contract < 0 and afford:  # whole lots the fund's balance can pay for
                lots = self.ledger.balance(lg.INSURANCE_FUND) / -per_contract / market.lot_size
                filled = min(filled, lots.to_integral_value(ROUND_FLOOR) * market.lot_size)
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
                step,
                lg.MARKET,
                lg.INSURANCE_FUND,
                gain,
                lg.FUND_CLOSES_AT_MARK,
                symbol,
            )
            left = ZERO
        return left

    def _hold(
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
                self.policy.market(s).value(h.size, self._marks[s])
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
                lots = capacity / market.value(Decimal(1), mark) / market.lot_size
                take = min(size, lots.to_integral_value(ROUND_FLOOR) * market.lot_size)
        if take <= 0:
            return size
        held = self.holdings.get((symbol, side))
        if held is None:
            self.holdings[(symbol, side)] = _Holding(take, entry)
        else:
            total = held.size + take
            held.entry = (held.size * held.entry + take * entry) / total
            held.size = total
        return size - take

    def _deleverage(
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
            shortfall = -market.pnl(sign, size, bankruptcy, mark)  # the fund's cost at the mark
            if shortfall <= self.ledger.balance(lg.INSURANCE_FUND):
                price = mark
        candidates = []
        for other, opens in self.positions.items():
            if other == key:
                continue
            account = self._account(other)
            for o in opens:
                if o.symbol != symbol or o.side != opposite:
                    continue
                pnl = self._pnl(o, mark)
                # a winner at the price it will be closed at: ADL never realises a loss
                if pnl <= 0 or self._pnl(o, price) <= 0:
                    continue
                health = self.policy.health(account, symbol, marks=self._marks, side=o.side)
                cash = self.ledger.balance(self._wallet(other, o))
                candidates.append(
                    AdlCandidate(
                        key=other,
                        symbol=symbol,
                        side=o.side,
                        size=o.size,
                        entry_price=o.entry,
                        mark_price=mark,
                        notional=self.policy.market(symbol).value(o.size, mark),
                        unrealized_pnl=pnl,
                        wallet_balance=cash,
                        account_unrealized_pnl=health.margin_balance - cash,
                        maintenance_margin=health.maintenance_margin,
                        bankruptcy_price=self.policy.bankruptcy_price(
                            account, symbol, marks=self._marks, side=o.side
                        ),
                        draw=self._draw(step, key, other, symbol),
                    )
                )
        if not candidates:
            return size
        fills = self.policy.adl_allocate(self.policy.adl_rank(tuple(candidates)), size, price)
        for fill in fills:
            other = fill.candidate.key
            o = self._find(other, symbol, opposite)
            wallet = self._wallet(other, o)
            # what the deleveraged trader gives up against closing at the mark
            cost = self._pnl(o, mark, fill.size) - self._pnl(o, fill.price, fill.size)
            self.adl.append(
                AdlRecord(
                    step,
                    other,
                    key,
                    symbol,
                    self._in_units(symbol, fill.size),
                    fill.price,
                    mark=mark,
                    cost=cost,
                    side=opposite,
                )
            )
            self._close(step, other, o, fill.size, fill.price, "auto-deleveraged")
            self.weakened.add(other)
            if adl.fee != "none":
                fee = self.policy.trading_fee(
                    symbol, fill.size, fill.price, maker=adl.fee == "maker"
                )
                if o not in self.positions[other]:  # closed whole: its margin was released
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

    # --- deficits -------------------------------------------------------------------------

    def _cover(self, step: int, key: str, wallet: str) -> None:
        """Run the deficit waterfall on a wallet left negative by a liquidation."""
        with exact_sums():  # deficits are sums of money: never rounded
            self._waterfall(step, key, wallet, self.waterfall)

    def _waterfall(self, step: int, key: str, wallet: str, stages: tuple[str, ...]) -> None:
        """Cover ``wallet``'s negative balance, caused by account ``key``'s bankruptcy, through
        ``stages`` in order; what is left is paid by the venue as unallocated."""
        deficit = -self.ledger.balance(wallet)
        for stage in stages:
            if deficit <= 0:
                return
            if stage == "insurance-fund" and wallet != lg.INSURANCE_FUND:
                paid = min(deficit, max(ZERO, self.ledger.balance(lg.INSURANCE_FUND)))
                self.ledger.transfer(step, lg.INSURANCE_FUND, wallet, paid, lg.FUND_COVERS)
            elif stage == "chasing":  # the trader's own cash first, the rest becomes a debt
                cash = lg.account(key)
                own = ZERO if wallet == cash else min(deficit, max(ZERO, self.ledger.balance(cash)))
                self.ledger.transfer(step, cash, wallet, own, lg.OWN_CASH_COVERS)
                if own > 0:
                    self.weakened.add(key)
                self.ledger.transfer(step, lg.debt(key), wallet, deficit - own, lg.LEFT_AS_DEBT)
                paid = deficit
            elif stage == "venue":
                paid = deficit
                self.ledger.transfer(step, lg.VENUE, wallet, paid, lg.VENUE_ABSORBS)
            elif stage == "clawback":
                paid = self._clawback(step, key, wallet, deficit)
            else:  # "adl" acts on positions at takeover, not on a wallet's deficit
                paid = ZERO
            deficit -= paid
        if deficit > 0:
            self.ledger.transfer(step, lg.VENUE, wallet, deficit, lg.UNALLOCATED)

    def _clawback(self, step: int, key: str, wallet: str, deficit: Decimal) -> Decimal:
        """The other accounts' profits in the period pay ``deficit``, as the policy allocates
        it (``margincall_clawback``: pro rata by default). Profit is the change of equity (cash
        plus unrealised PnL at the marks) since the first step. Each paying account is first
        settled at the marks, so its profit is cash, then pays its share from that cash.
        Accounts liquidated in the period are not winners: a backstop that restored one to
        zero is not its profit."""
        liquidated = {x.account for x in self.liquidations} | {key}
        profits = {
            other: self._profit(other)
            for other in self.scenario.accounts
            if other not in liquidated
        }
        shares = self.policy.clawback(deficit, profits)
        paid = ZERO
        for other in sorted(shares):
            self._settle(step, other)
            left = shares[other]
            wallets = [lg.account(other)] + [
                self._wallet(other, o) for o in self.positions[other] if o.mode == "isolated"
            ]
            for source in wallets:  # the profit is cash now: cross wallet first, then margins
                take = min(left, max(ZERO, self.ledger.balance(source)))
                self.ledger.transfer(step, source, wallet, take, lg.CLAWBACK)
                self.weakened.add(other)
                left -= take
                paid += take
        return paid

    def _settle(self, step: int, key: str) -> None:
        """Realise every open position's PnL at the marks into its own wallet and reset its
        entry to the mark, as a futures settlement does (OKEx clawed back realised profit at
        settlement); the account's equity is unchanged."""
        for o in self.positions[key]:
            mark = self._marks[o.symbol]
            with exact():
                pnl = self._pnl(o, mark)
            self.ledger.settle(
                step, lg.MARKET, self._wallet(key, o), pnl, "settled at the mark", o.symbol
            )
            o.entry = mark

    def _equity(self, key: str, marks: Mapping[str, Decimal]) -> Decimal:
        """Cash plus unrealised PnL at ``marks``: PnL at 50 digits, the sum exact."""
        with exact():
            pnls = [self._pnl(o, marks[o.symbol]) for o in self.positions[key]]
        with exact_sums():
            owned = (b for n, b in self.ledger.balances().items() if lg.belongs_to(key, n))
            return sum(owned, ZERO) + sum(pnls, ZERO)

    def _profit(self, key: str) -> Decimal:
        return self._equity(key, self._marks) - self.opening_equity[key]

    # --- the run --------------------------------------------------------------------------

    def run(self, progress: Callable[[int, int], None] | None = None) -> Outcome:
        day = ZERO
        for index, step in enumerate(self.scenario.steps):
            self._marks = self.scenario.marks_at(index)
            self.consumed = {}
            today = self.scenario.day_at(index)
            if today > day:
                self._accrue(index, today - day)
            day = self.day = today
            for key, moved in step.transfers.items():
                self._transfer(index, key, moved)
            self._offload_holdings(index)
            pending: tuple[str, ...] = tuple(self.scenario.accounts)
            while pending:  # until no account was weakened after its pools were checked
                self.weakened = set()
                for key in pending:
                    self._liquidate(index, key, None)
                    for o in list(self.positions[key]):
                        if o.mode == "isolated" and o in self.positions[key]:
                            self._liquidate(index, key, (o.symbol, o.side))
                pending = tuple(k for k in self.scenario.accounts if k in self.weakened)
            self._check_open_interest(index)
            self.fund_path.append(self.ledger.balance(lg.INSURANCE_FUND))
            self.fund_history.append((today, self.fund_path[-1]))
            if progress is not None:
                progress(index + 1, len(self.scenario.steps))
        return Outcome(
            policy=self.policy.name,
            scenario=self.scenario.name,
            ledger=self.ledger,
            liquidations=tuple(self.liquidations),
            adl=tuple(self.adl),
            fund_path=tuple(self.fund_path),
            open_positions={
                k: tuple((o.symbol, o.side, self._in_units(o.symbol, o.size)) for o in v)
                for k, v in self.positions.items()
            },
            fund_positions=tuple(
                FundPosition(
                    s,
                    side,
                    self._in_units(s, h.size),
                    h.entry,
                    self._marks[s],
                    self.policy.market(s).pnl(
                        1 if side == "long" else -1, h.size, h.entry, self._marks[s]
                    ),
                )
                for (s, side), h in sorted(self.holdings.items())
            ),
            marks=dict(self._marks),
            currency=_currency(self.policy, self.scenario),
            accounts=tuple(self.scenario.accounts),
            notices=tuple(self.notices),
            equity={key: self._equity(key, self._marks) for key in self.scenario.accounts},
        )

    # --- time and money moving in and out ----------------------------------------------

    def _accrue(self, step: int, days: Decimal) -> None:
        """Interest on every chased debt over ``days`` (the policy's ``debt_interest``): the
        debt grows, and the creditor's accrued interest with it."""
        for key in self.scenario.accounts:
            with exact_sums():
                owed = -self.ledger.balance(lg.debt(key))
            if owed > 0:
                interest = self.policy.debt_interest(owed, days)
                self.ledger.transfer(
                    step, lg.debt(key), lg.INTEREST, interest, "interest on the debt"
                )

    def _transfer(self, step: int, key: str, amount: Decimal) -> None:
        """A deposit (repaying any debt first) or a withdrawal. A withdrawal beyond what the
        account may withdraw is refused whole and noted, as a venue refuses it."""
        if amount > 0:
            self.ledger.transfer(step, lg.EXTERNAL, lg.account(key), amount, "deposit")
            self._collect(step, key)
            return
        available = self._withdrawable(key)
        if -amount > available:
            self.notices.append(
                Notice(
                    step,
                    key,
                    f"a withdrawal of {-amount} was refused: {available} could be withdrawn",
                )
            )
            return
        self.ledger.transfer(step, lg.account(key), lg.EXTERNAL, -amount, "withdrawal")

    def _withdrawable(self, key: str) -> Decimal:
        """Cross-wallet cash, less what the cross positions need: the least of the cash and
        the cross margin balance above its initial margin (unrealised profit stays)."""
        cash = self.ledger.balance(lg.account(key))
        member = self._member(key, None)
        if member is None:
            return max(ZERO, cash)
        health = self.policy.health(
            self._account(key), member.symbol, marks=self._marks, side=member.side
        )
        with exact_sums():
            return max(ZERO, min(cash, health.margin_balance - health.initial_margin))

    def _beyond_caps(self, key: str) -> list[str]:
        """Opening positions above the policy's maximum leverage, which the venue would not
        have let the account open (noted, then played as given)."""
        notes = []
        for p in self.opening_positions[key]:
            market = self.policy.market(p.symbol)
            value = market.value(p.size, p.entry_price)
            tiers = self.policy.tiers(p)
            cap = tiers[tier_index(tiers, value)].max_leverage
            leverage = self.policy.leverage(p)
            if leverage is not None and leverage > cap:
                notes.append(
                    f"its {p.symbol} {p.side} position opens at {amount(leverage)}x, "
                    f"above {self.policy.name}'s maximum leverage of {cap}x for its size; the "
                    "venue would not have allowed it, and it is played as given"
                )
        return notes

    def _offload_holdings(self, step: int) -> None:
        for (symbol, side), held in list(self.holdings.items()):
            mark = self._marks[symbol]
            left = self._offload(step, symbol, side, held.size, held.entry, mark)
            if left == 0:
                del self.holdings[(symbol, side)]
            else:
                held.size = left


def _units_per_contract(policy: Policy, scenario: Scenario) -> dict[str, Decimal]:
    """Base units per contract of the scenario's symbols that the policy plays under an alias
    of a contract other than one unit (:meth:`Policy.scenario_market`): there the scenario's
    sizes and book depths are base units, the policy's are contracts."""
    symbols = {p.symbol for a in scenario.accounts.values() for p in a.positions}
    for symbol, kind in scenario.contracts.items():
        market = policy.market(symbol) if symbol in symbols else None
        if market is not None and market.contract_type != kind:
            raise InvalidInputError(
                f"the scenario's {symbol} is {kind}, {policy.name}'s {symbol} is "
                f"{market.contract_type}: its sizes and balances would be read in other units"
            )
    return {
        s: policy.market(s).contract_size
        for s in sorted(symbols)
        if policy.scenario_market(s) is not policy.market(s)
    }


def _currency(policy: Policy, scenario: Scenario) -> str:
    """The currency the scenario's money is in under ``policy``: its markets' settlement
    currency (several, joined by "/", where the scenario's symbols settle differently)."""
    symbols = {p.symbol for a in scenario.accounts.values() for p in a.positions}
    symbols |= {s for step in scenario.steps for s in step.marks}
    found = set()
    for symbol in symbols:
        try:
            found.add(policy.scenario_market(symbol).settlement_currency)
        except InvalidInputError:  # a mark of a symbol the policy does not list
            continue
    return "/".join(sorted(found))


def simulate(
    policy: Policy, scenario: Scenario, *, progress: Callable[[int, int], None] | None = None
) -> Outcome:
    """Play ``policy`` over ``scenario`` (see the module docstring). ``progress(done, total)``,
    if given, is called after each step."""
    with exact():
        return _Simulation(policy, scenario).run(progress)
