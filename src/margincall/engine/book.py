"""The position book: who holds what, in which units, and the money of closing it.

:class:`Book` is the state every other part of the engine works on: the ledger, the open
positions of each account (in the policy's contracts), the market's side of every fill, the
marks of the step being played, and the accounts whose pools changed since the engine last
looked (:meth:`Book.refresh`). Every later layer (the deficit waterfall, the backstop,
the liquidation procedure, transfers, the run) builds on it.

Costs: an account's equity is O(its wallets and positions) (the ledger indexes wallets by
owner); longs-equal-shorts is checked in O(symbols) per step from running totals, and
recounted in full at the end of the run.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from margincall import ledger as lg
from margincall.account import Account, MarginMode, Position, PositionMode, Side
from margincall.decimals import ZERO, exact, exact_sums
from margincall.display import amount
from margincall.errors import InvalidInputError, MargincallError, PluginError
from margincall.ledger import Ledger
from margincall.liquidity import OrderSide
from margincall.math.position import leverage_cap
from margincall.outcome import AdlRecord, FillKind, Liquidation, Notice
from margincall.policy import Policy
from margincall.scenario import Scenario


@attrs.define(eq=False)
class Open:
    """A position open during the simulation, in the policy's contracts."""

    symbol: str
    side: Side
    size: Decimal
    entry: Decimal
    mode: MarginMode
    leverage: Decimal | None


@attrs.define
class Holding:
    """A position the insurance fund took over and could not yet offload."""

    size: Decimal
    entry: Decimal


def order_side(side: Side) -> OrderSide:
    """The order that closes a position on ``side``."""
    return "sell" if side == "long" else "buy"


def signed(side: Side, size: Decimal) -> Decimal:
    """``size`` counted net long: positive for a long, negative for a short."""
    return size if side == "long" else -size


class Book:
    """Positions, units, the ledger and the marks: the state of one simulation."""

    def __init__(self, policy: Policy, scenario: Scenario) -> None:
        self.policy = policy
        self.scenario = scenario
        self.waterfall: tuple[str, ...] = tuple(policy.spec.deficit.waterfall)
        self.has_fund = "insurance-fund" in self.waterfall
        self.backstop = self.has_fund or "adl" in self.waterfall
        self.may_trigger = self.has_fund and "adl" in self.waterfall  # ADL ahead of the fund
        self.order: dict[str, int] = {key: k for k, key in enumerate(scenario.accounts)}
        """Each account's place in the scenario: accounts are always visited in this order."""
        self.per_contract = units_per_contract(policy, scenario)
        for symbol in {s for step in scenario.steps for s in step.marks}:
            policy.market(symbol)  # an unknown symbol fails here, before anything runs
        self.opening_positions = {
            key: [self._in_contracts(key, p) for p in acct.positions]
            for key, acct in scenario.accounts.items()
        }
        opening: dict[str, Decimal] = {}
        owners: dict[str, str] = {}
        self.positions: dict[str, list[Open]] = {}
        self.modes: dict[str, PositionMode] = {}
        self.holders: dict[tuple[str, Side], dict[str, None]] = {}
        """The accounts holding a position per (symbol, side), in no particular order."""
        self.net: dict[str, Decimal] = {}
        """The accounts' positions per symbol, net long (a running total)."""
        self.market_position: dict[str, Decimal] = {}
        """The market's side of every fill, per symbol, net long."""
        for key, acct in scenario.accounts.items():
            opening[lg.account(key)] = acct.balance
            owners[lg.account(key)] = key
            self.modes[key] = acct.position_mode
            self.positions[key] = []
            for p in self.opening_positions[key]:
                if p.isolated:
                    wallet = lg.isolated_margin(key, p.symbol, p.side)
                    opening[wallet] = policy.isolated_margin(p)
                    owners[wallet] = key
                self.positions[key].append(
                    Open(p.symbol, p.side, p.size, p.entry_price, p.margin_mode, p.leverage)
                )
                self.holders.setdefault((p.symbol, p.side), {})[key] = None
                self._count(p.symbol, p.side, p.size)
                # the market holds the other side of every opening position
                self._to_market(p.symbol, "buy" if p.side == "long" else "sell", p.size)
        fund = scenario.insurance_fund
        opening[lg.INSURANCE_FUND] = (
            policy.spec.insurance_fund.initial_balance if fund is None else fund
        )
        self.ledger = Ledger.opened(opening, owners)
        for key in scenario.accounts:  # the policy's account checks, once (mixed currencies)
            policy.check_account(self.account(key))
        self.touched: set[str] = set()
        """Accounts whose positions changed (size, entry) since :meth:`refresh`."""
        self.marks: dict[str, Decimal] = dict(scenario.marks_at(0))
        self.day = scenario.day_at(0)
        self.holdings: dict[tuple[str, Side], Holding] = {}
        self.liquidations: list[Liquidation] = []
        self.liquidated: set[str] = set()
        """Accounts liquidated so far (any fill or takeover)."""
        self.adl: list[AdlRecord] = []
        self.consumed: dict[tuple[str, OrderSide], Decimal] = {}
        self.weakened: set[str] = set()
        """Accounts whose equity fell, in this step, by another's liquidation (deleveraged
        below the mark, a clawback, a deficit paid from the wallet): their pools are checked
        again at the same marks, so none ends a step under water unliquidated."""
        self.opening_equity = {key: self.equity(key) for key in scenario.accounts}
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

    def in_units(self, symbol: str, contracts: Decimal) -> Decimal:
        """``contracts`` of the policy's market ``symbol`` in the scenario's units."""
        k = self.per_contract.get(symbol)
        return contracts if k is None else contracts * k

    def _beyond_caps(self, key: str) -> list[str]:
        """Opening positions above the policy's maximum leverage, which the venue would not
        have let the account open (noted, then played as given)."""
        notes = []
        for p in self.opening_positions[key]:
            market = self.policy.market(p.symbol)
            value = market.value(p.size, p.entry_price)
            tiers = self.policy.tiers(p)
            cap = leverage_cap(tiers, value)
            leverage = self.policy.leverage(p)
            if leverage is not None and leverage > cap:
                notes.append(
                    f"its {p.symbol} {p.side} position opens at {amount(leverage)}x, "
                    f"above {self.policy.name}'s maximum leverage of {cap}x for its size; the "
                    "venue would not have allowed it, and it is played as given"
                )
        return notes

    # --- views ----------------------------------------------------------------------------

    def wallet(self, key: str, o: Open) -> str:
        return (
            lg.isolated_margin(key, o.symbol, o.side) if o.mode == "isolated" else lg.account(key)
        )

    def account(self, key: str) -> Account:
        """Account ``key`` as the policy sees it now: O(its positions)."""
        positions = [
            Position._unchecked(
                o.symbol,
                o.side,
                o.size,
                o.entry,
                o.mode,
                self.ledger.balance(self.wallet(key, o)) if o.mode == "isolated" else None,
                o.leverage,
            )
            for o in self.positions[key]
        ]
        return Account._unchecked(
            self.ledger.balance(lg.account(key)), tuple(positions), self.modes[key]
        )

    def pnl(self, o: Open, price: Decimal, size: Decimal | None = None) -> Decimal:
        """PnL of ``size`` (default: all) of ``o`` at ``price``, in settlement currency."""
        sign = 1 if o.side == "long" else -1
        return self.policy.market(o.symbol).pnl(
            sign, o.size if size is None else size, o.entry, price
        )

    def find(self, key: str, symbol: str, side: Side) -> Open:
        for o in self.positions[key]:
            if o.symbol == symbol and o.side == side:
                return o
        raise PluginError(f"the procedure named {symbol} {side}, which account {key} does not hold")

    def member(self, key: str, isolated: tuple[str, Side] | None) -> Open | None:
        """A position of the pool (the isolated one, or any cross one); None when flat."""
        for o in self.positions[key]:
            if (o.symbol, o.side) == isolated if isolated else o.mode == "cross":
                return o
        return None

    def equity(self, key: str) -> Decimal:
        """Cash plus unrealised PnL at the marks: PnL at 50 digits, the sum exact. O(the
        account's wallets and positions)."""
        with exact():
            pnls = [self.pnl(o, self.marks[o.symbol]) for o in self.positions[key]]
        with exact_sums():
            owned = (self.ledger.balance(name) for name in self.ledger.wallets(key))
            return sum(owned, ZERO) + sum(pnls, ZERO)

    def refresh(self) -> None:
        """Bring every cached figure up to date: the accounts whose wallets or positions
        changed since the last call go to :meth:`changed`."""
        touched = self.touched | self.ledger.touched
        if touched:
            self.touched = set()
            self.ledger.touched = set()
            self.changed(touched)

    def changed(self, keys: set[str]) -> None:
        """Accounts ``keys`` changed: layers that cache figures per account drop them."""

    def new_marks(self) -> None:
        """The marks changed (a new step): layers that cache figures at the marks drop them."""

    # --- money ----------------------------------------------------------------------------

    def record(
        self,
        step: int,
        key: str,
        symbol: str,
        side: Side,
        size: Decimal,
        price: Decimal,
        kind: FillKind,
    ) -> None:
        """A liquidation fill of account ``key``, in the scenario's units."""
        self.liquidated.add(key)
        self.liquidations.append(
            Liquidation(step, key, symbol, side, self.in_units(symbol, size), price, kind)
        )

    def close(self, step: int, key: str, o: Open, size: Decimal, price: Decimal, why: str) -> None:
        """Close ``size`` of ``o`` at ``price``: realised PnL settles with the market."""
        self.ledger.settle(
            step, lg.MARKET, self.wallet(key, o), self.pnl(o, price, size), why, o.symbol
        )
        o.size -= size
        self._count(o.symbol, o.side, -size)
        self.touched.add(key)
        if o.size == 0:
            self.positions[key].remove(o)
            del self.holders[(o.symbol, o.side)][key]
            if self.ledger.balance(self.wallet(key, o)) >= 0:
                self.release(step, key, o)

    def release(self, step: int, key: str, o: Open) -> None:
        """A closed isolated position's margin returns to the cross wallet, which repays any
        debt the account owes first (a chased debt is collected from cash coming in)."""
        if o.mode == "isolated":
            wallet = self.wallet(key, o)
            self.ledger.settle(
                step,
                wallet,
                lg.account(key),
                self.ledger.balance(wallet),
                lg.MARGIN_RELEASED,
                o.symbol,
            )
        self.collect(step, key)

    def collect(self, step: int, key: str) -> None:
        """Cash in the cross wallet repays what the account owes first: a chased debt is
        collected from the money that comes in later (releases, deposits)."""
        with exact_sums():
            owed = -self.ledger.balance(lg.debt(key))
            cash = max(ZERO, self.ledger.balance(lg.account(key)))
            self.ledger.transfer(
                step, lg.account(key), lg.debt(key), min(owed, cash), lg.DEBT_REPAID
            )

    def fee(self, step: int, key: str, o: Open, size: Decimal, price: Decimal) -> None:
        """The liquidation fee, never more than the pool's remaining cash; to the fund when
        the policy has one, else to the venue's fee income."""
        wallet = self.wallet(key, o)
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

    def fill(
        self, symbol: str, side: OrderSide, size: Decimal, mark: Decimal, limit: Decimal | None
    ) -> list[tuple[Decimal, Decimal]]:
        """Where an order of ``size`` contracts fills in the book, what this step left of it."""
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
        moved = size if side == "sell" else -size
        self.market_position[symbol] = self.market_position.get(symbol, ZERO) + moved

    def _count(self, symbol: str, side: Side, size: Decimal) -> None:
        self.net[symbol] = self.net.get(symbol, ZERO) + signed(side, size)

    # --- longs equal shorts ---------------------------------------------------------------

    def check_open_interest(self, step: int, *, recount: bool = False) -> None:
        """Longs equal shorts in every symbol: the accounts' positions, the fund's holdings
        and the market's side of every fill net to zero. O(symbols + holdings) from the
        running totals; ``recount`` also recounts every account's positions (O(positions)),
        which the run does once, at its end. A failure is a bug in the engine or in a
        plugin's actions, never a user error."""
        accounts = dict(self.net)
        if recount:
            counted: dict[str, Decimal] = {}
            for opens in self.positions.values():
                for o in opens:
                    counted[o.symbol] = counted.get(o.symbol, ZERO) + signed(o.side, o.size)
            if any(counted.get(s, ZERO) != n for s, n in accounts.items()) or any(
                s not in accounts for s in counted
            ):
                raise MargincallError(
                    f"{self.policy.name}: step {step}: the accounts hold {counted} contracts "
                    f"(net long), the running totals say {accounts}; the engine lost track of "
                    "a position"
                )
        net = dict(self.market_position)
        for symbol, n in accounts.items():
            net[symbol] = net.get(symbol, ZERO) + n
        for (symbol, side), held in self.holdings.items():
            net[symbol] = net.get(symbol, ZERO) + signed(side, held.size)
        unbalanced = {symbol: n for symbol, n in net.items() if n != 0}
        if unbalanced:
            raise MargincallError(
                f"{self.policy.name}: step {step}: longs and shorts differ by {unbalanced} "
                "contracts (net long); the engine lost track of a position"
            )


def units_per_contract(policy: Policy, scenario: Scenario) -> dict[str, Decimal]:
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


def currency(policy: Policy, scenario: Scenario) -> str:
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
