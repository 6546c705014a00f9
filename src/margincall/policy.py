"""The typed :class:`Policy` facade: one venue's rules, ready to compute with.

A policy is built from a validated :class:`~margincall.config.PolicySpec` and its own plugin
manager: the default mechanisms first, then the plugins its TOML lists. Each hook's
implementations are resolved once, here, into plain callables; no computation goes through
``pm.hook``. Every public method runs in margincall's own decimal context.
"""

from __future__ import annotations

import functools
import importlib
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, getcontext, setcontext
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from margincall.account import Account, Position, Side
from margincall.config import (
    PolicySpec,
    Source,
    build_markets,
    load_spec,
    read_text_file,
    resolve_path,
)
from margincall.decimals import (
    CONTEXT,
    FAST,
    ONE,
    ZERO,
    Number,
    exact,
    is_bounded_positive,
    non_negative,
    positive,
    running_in,
    to_decimal,
)
from margincall.errors import InvalidInputError, MargincallError, PluginError, PolicyError
from margincall.health import Health
from margincall.market import Market
from margincall.math.health import pool_health
from margincall.math.position import leverage as leverage_of
from margincall.math.position import liquidation_distance, margin_at_leverage
from margincall.math.pricing import (
    UNDECIDED,
    Leg,
    PriceProblem,
    PriceSolution,
    Undecided,
    one_leg_root,
    safe_interval,
    table_of,
)
from margincall.math.tiers import Table, Tier, tier_index
from margincall.mechanisms import DEFAULT_PLUGINS
from margincall.outcome import Outcome
from margincall.registry import (
    BLOCK_ENV,
    PASSED_THROUGH,
    Registry,
    default_registry,
    hook_failure,
    new_manager,
    plugin_label,
)
from margincall.scenario import Scenario

if TYPE_CHECKING:
    from margincall.arrays import CrossRisk, IsolatedRisk
from margincall.waterfall import (
    DEFICIT_STAGES,
    AdlCandidate,
    AdlFill,
    LiquidationAction,
    Pool,
    PoolPosition,
)

_exact = running_in(CONTEXT)
"""Public methods compute in margincall's own decimal context."""


def _reorder(function: Callable[..., Any], indices: tuple[int, ...]) -> Callable[..., Any]:
    """``function`` taking the spec's arguments positionally, passing it those it names."""
    return lambda *args: function(*(args[i] for i in indices))


def _resolve(
    manager: pluggy.PluginManager,
    name: str,
    label: Callable[[str], str] = plugin_label,
    *,
    every: bool = False,
) -> Callable[..., Any]:
    """The hook's implementations as one plain callable taking the spec's arguments
    positionally, calling them in pluggy's order until one returns non-None (with ``every``,
    calling them all and returning the list of their non-None results, each an iterable
    read here).

    This is the one place margincall calls a policy's hook implementations. An implementation
    that raises anything but margincall's own errors (``MargincallError``, which say what was
    wrong already) or :data:`~margincall.registry.PASSED_THROUGH` raises :class:`PluginError`
    instead, naming the plugin (``label(plugin name)``), the hook and the original error,
    chained to it; ``SystemExit`` included, so a plugin cannot end the process."""
    caller = getattr(manager.hook, name)
    impls = caller.get_hookimpls()
    wrappers = [i.plugin_name for i in impls if i.hookwrapper or i.wrapper]
    if wrappers:
        raise PluginError(
            f"{name}: hook wrappers are not supported (resolved once per policy); "
            f"offending plugins: {', '.join(wrappers)}"
        )
    argnames = caller.spec.argnames
    functions: list[tuple[str, Callable[..., Any]]] = []
    for impl in reversed(impls):
        indices = [argnames.index(arg) for arg in impl.argnames]
        function = impl.function
        if indices != list(range(len(argnames))):
            function = _reorder(function, tuple(indices))
        functions.append((impl.plugin_name, function))

    def call(*args: Any) -> Any:
        plugin = ""
        try:
            if every:
                results = []
                for plugin, function in functions:  # noqa: B007 (named in the error)
                    result = function(*args)
                    if result is not None:
                        results.append(result if isinstance(result, str) else list(result))
                return results
            for plugin, function in functions:  # noqa: B007 (named in the error)
                result = function(*args)
                if result is not None:
                    return result
        except MargincallError:
            raise
        except PASSED_THROUGH:
            raise
        except BaseException as error:  # a broken plugin fails its policy, not the process
            raise PluginError(hook_failure(label(plugin), name, error)) from error
        raise PluginError(f"no plugin returned a result for {name}")

    return call


@attrs.frozen
class PositionRisk:
    """One position's risk figures at its mark (``risk`` output). Tiers are 1-based."""

    symbol: str
    side: Side
    margin_mode: str
    size: Decimal
    entry_price: Decimal
    mark_price: Decimal
    value: Decimal
    unrealized_pnl: Decimal
    tier: int
    maintenance_margin_rate: Decimal
    maintenance_margin: Decimal
    margin_balance: Decimal
    margin_ratio: Decimal | None
    liquidatable: bool
    liquidation_price: Decimal | None
    liquidation_tier: int | None
    bankruptcy_price: Decimal | None
    leverage: Decimal | None = None
    """The position's leverage: as given, or its entry value over its isolated margin
    (None for a cross position opened without one)."""
    max_leverage: Decimal | None = None
    """The highest leverage the policy allows in the position's tier at the mark."""
    liquidation_distance: Decimal | None = None
    """How far the mark may move before liquidation, as a fraction of the mark:
    ``|liquidation price - mark| / mark`` (None when no price liquidates it; 0 when it is
    already liquidatable)."""

    @property
    def over_leveraged(self) -> bool:
        """Whether the position's leverage exceeds its tier's maximum."""
        return (
            self.leverage is not None
            and self.max_leverage is not None
            and self.leverage > self.max_leverage
        )


class Policy:
    """A venue's liquidation policy. Build one with :func:`margincall.load_policy`."""

    def __init__(
        self,
        spec: PolicySpec,
        manager: pluggy.PluginManager,
        origin: str,
        *,
        registry: Registry | None = None,
        deficit_stages: Mapping[str, Any] | None = None,
    ) -> None:
        self.spec = spec
        self.deficit_stages: Mapping[str, Any] = dict(deficit_stages or {})
        """Deficit stages the policy's plugins add, by name (``margincall_deficit_stages``)."""
        self.origin = origin
        with exact():  # the maintenance-amount recursion must not round at the caller's precision
            self.markets: Mapping[str, Market] = build_markets(spec)
        self.plugins: tuple[str, ...] = tuple(
            name for name, _ in manager.list_name_plugin() if name is not None
        )
        self._manager = manager
        self._registry = registry
        self._at_entry = spec.margin.maintenance_value == "entry"
        label = registry.label if registry is not None else plugin_label
        hook = functools.partial(_resolve, manager, label=label)
        self._maintenance_tiers = hook("margincall_maintenance_tiers")
        self._initial_margin = hook("margincall_initial_margin")
        self._is_liquidatable = hook("margincall_is_liquidatable")
        self._liquidation_price = hook("margincall_liquidation_price")
        self.solves_liquidation_by_default = all(
            impl.function.__module__ == "margincall.mechanisms.prices"
            for impl in manager.hook.margincall_liquidation_price.get_hookimpls()
        )
        """Whether the liquidation price is the default root of margin balance = maintenance
        margin (no plugin overrides ``margincall_liquidation_price``): the engine's trigger
        index may then bound it from the margin equation's local segment."""
        self._bankruptcy_price = hook("margincall_bankruptcy_price")
        self._liquidation_action = hook("margincall_liquidation_action")
        self._trading_fee = hook("margincall_trading_fee")
        self._liquidation_fee = hook("margincall_liquidation_fee")
        self._takeover_capacity = hook("margincall_takeover_capacity")
        self._adl_trigger = hook("margincall_adl_trigger")
        self._adl_score = hook("margincall_adl_score")
        self._adl_allocate = hook("margincall_adl_allocate")
        self.adl_fills_from_the_top = all(
            getattr(impl.function, "margincall_fills_from_the_top", False)
            for impl in manager.hook.margincall_adl_allocate.get_hookimpls()
        )
        """Whether the ADL allocation fills from the top of the ranking (every implementation
        is marked with :func:`~margincall.hookspecs.fills_from_the_top`)."""
        self._clawback = hook("margincall_clawback")
        self._debt_interest = hook("margincall_debt_interest")
        self.overridden_hooks: Mapping[str, tuple[str, ...]] = _overridden(manager)
        """The computation hooks the policy's own plugins implement, overriding or adding to
        the default mechanisms: hook name (``margincall_*``) → the plugins implementing it.
        The hooks that only find or check policy files are left out."""
        self._arrays: dict[str, Any] = {}
        """Per symbol, its resolved table as arrays (:mod:`margincall.arrays`), once."""
        self._tables = self._resolve_tables()
        self._lone_markets = {
            symbol: (table, self.markets[symbol].contract_size, self.markets[symbol].inverse)
            for symbol, table in self._tables.items()
        }
        """Per symbol with a resolved table, what the fast path reads: (table, contract
        size, inverse)."""
        self._fast_liquidation = "margincall_liquidation_price" not in self.overridden_hooks
        self._fast_bankruptcy = "margincall_bankruptcy_price" not in self.overridden_hooks

    def _resolve_tables(self) -> dict[str, Table]:
        """Each market's tier table resolved once (:class:`~margincall.math.tiers.Table`),
        when no implementation of ``margincall_maintenance_tiers`` reads the position and the
        maintenance margin is measured at the mark; a market whose hook fails keeps none, and
        fails as before, when a figure needs it."""
        tiers_hook = self._manager.hook.margincall_maintenance_tiers
        if self._at_entry or any("position" in i.argnames for i in tiers_hook.get_hookimpls()):
            return {}
        tables = {}
        with exact():
            for symbol, market in self.markets.items():
                try:
                    tiers = self._maintenance_tiers(self.spec, market, None)
                except MargincallError:
                    continue
                tables[symbol] = table_of(tiers)  # the one solve() finds for these tiers
        return tables

    # --- description ----------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def venue(self) -> str:
        return self.spec.venue

    @property
    def description(self) -> str:
        return self.spec.description

    @property
    def parameters_date(self) -> str:
        return self.spec.parameters_date

    @property
    def sources(self) -> tuple[Source, ...]:
        return self.spec.sources

    def __repr__(self) -> str:
        return f"<Policy {self.name} ({self.venue}, parameters of {self.parameters_date})>"

    # --- reloading elsewhere (pickling) ---------------------------------------------------

    def reference(self) -> PolicyReference:
        """How another process loads this policy again (:class:`PolicyReference`): by its
        name, if an installed plugin ships it (the same file), or by the path of the file it
        was loaded from. Raises :class:`~margincall.errors.PolicyError` for a policy that
        cannot be reloaded: one loaded with a registry of its own, or built by hand from an
        origin that is neither."""
        registry = default_registry()
        if self._registry is not None and self._registry is not registry:
            raise PolicyError(
                f"policy {self.name} ({self.origin}) cannot be reloaded in another process: it "
                "was loaded with a plugin registry of its own, and a reload uses the installed "
                "plugins"
            )
        shipped = registry.policies.get(self.name)
        if shipped is not None and shipped.origin == self.origin:
            return PolicyReference(self.name, False, self.origin, self.spec)
        if Path(self.origin).is_absolute():  # load_policy records a file's resolved path
            return PolicyReference(self.origin, True, self.origin, self.spec)
        raise PolicyError(
            f"policy {self.name} cannot be reloaded in another process: its origin "
            f"{self.origin!r} is neither a policy an installed plugin ships nor a file's path"
        )

    def __reduce__(self) -> tuple[Callable[[PolicyReference], Policy], tuple[PolicyReference]]:
        """A policy pickles as its :meth:`reference` (its plugin manager cannot): unpickling
        loads it again, once per process, and checks it is the same policy."""
        return reload_policy, (self.reference(),)

    def market(self, symbol: str) -> Market:
        """The market ``symbol``, or InvalidInputError naming the known ones."""
        try:
            return self.markets[symbol]
        except (KeyError, TypeError):
            known = ", ".join(sorted(self.markets))
            raise InvalidInputError(
                f"unknown symbol {symbol!r} for policy {self.name}; it knows {known}"
            ) from None

    def scenario_market(self, symbol: str) -> Market:
        """The market ``symbol`` with sizes in a scenario's units: under one of its
        ``aliases``, base units (linear) or quote face value (inverse), which the engine plays
        as ``size / contract_size`` contracts; under its own name, the venue's contracts."""
        market = self.market(symbol)
        if symbol in self.spec.markets or market.contract_size == 1:
            return market
        return attrs.evolve(market, contract_size=ONE)

    # --- per-position figures -------------------------------------------------------------

    @_exact
    def tiers(self, position: Position) -> tuple[Tier, ...]:
        """The tier table that sets ``position``'s maintenance margin."""
        table = self._tables.get(position.symbol)
        if table is not None:
            return table.tiers
        tiers: tuple[Tier, ...] = self._maintenance_tiers(
            self.spec, self.market(position.symbol), position
        )
        return tiers

    def _requirement(self, position: Position, value: Decimal) -> tuple[Decimal, int, Tier]:
        """(maintenance margin, tier index, tier) of ``position`` worth ``value`` at the mark,
        or measured at its entry value under ``[margin] maintenance_value = "entry"``."""
        if self._at_entry:
            value = self.market(position.symbol).value(position.size, position.entry_price)
        tiers = self.tiers(position)
        index = tier_index(tiers, value)
        return tiers[index].maintenance_margin(value), index, tiers[index]

    def _solver_tiers(self, position: Position) -> tuple[Tier, ...]:
        """The tier table a price solver sees for ``position``: its own, or with maintenance
        measured at entry, one tier whose requirement is that constant (rate 0, amount −MM)."""
        tiers = self.tiers(position)
        if not self._at_entry:
            return tiers
        requirement, _, tier = self._requirement(position, ZERO)
        return (Tier(ZERO, tiers[-1].max_notional, tier.max_leverage, ZERO, -requirement),)

    @_exact
    def isolated_margin(self, position: Position) -> Decimal:
        """The margin of an isolated position: ``margin``, or value at entry / leverage."""
        if position.margin is not None:
            return position.margin
        if position.leverage is None:
            raise InvalidInputError(f"position {position.symbol} has neither margin nor leverage")
        market = self.market(position.symbol)
        return margin_at_leverage(
            market.value(position.size, position.entry_price), position.leverage
        )

    @_exact
    def leverage(self, position: Position) -> Decimal | None:
        """The position's leverage: as given, or its entry value over its isolated margin;
        None for a cross position opened without one (or an isolated one with no margin)."""
        if position.leverage is not None:
            return position.leverage
        margin = self.isolated_margin(position) if position.isolated else None
        if margin is None or margin <= 0:
            return None
        market = self.market(position.symbol)
        return leverage_of(market.value(position.size, position.entry_price), margin)

    # --- input checks ---------------------------------------------------------------------

    def _marks(self, marks: Mapping[str, object] | None) -> dict[str, Decimal]:
        if marks is None:
            return {}
        if type(marks) is dict:  # the common case, checked without a copy when all is well
            known = self.markets
            for symbol, price in marks.items():
                if symbol not in known or not is_bounded_positive(price):
                    break
            else:
                return marks
        elif not isinstance(marks, Mapping):
            raise InvalidInputError(f"marks: expected a mapping of symbol to price, got {marks!r}")
        checked = {}
        for symbol, price in marks.items():
            self.market(symbol)
            checked[symbol] = (
                price
                if is_bounded_positive(price)
                else positive(price, f"mark price of {symbol}", bounded=True)
            )
        return checked

    @staticmethod
    def _mark(marks: Mapping[str, Decimal], symbol: str, why: str) -> Decimal:
        try:
            return marks[symbol]
        except KeyError:
            raise InvalidInputError(f"marks: a mark price for {symbol} is needed ({why})") from None

    def _check(self, account: Account) -> None:
        if not isinstance(account, Account):
            raise InvalidInputError(f"expected an Account, got {type(account).__name__}")
        currencies: dict[str, list[str]] = {}
        for position in account.positions:
            market = self.market(position.symbol)
            if not position.isolated:
                currencies.setdefault(market.settlement_currency, []).append(position.symbol)
        if len(currencies) > 1:
            held = "; ".join(f"{c}: {', '.join(s)}" for c, s in sorted(currencies.items()))
            raise InvalidInputError(
                f"account: its cross positions settle in different currencies ({held}); "
                "a cross account has one settlement currency, use one Account per currency"
            )

    def _select(self, account: Account, symbol: str, side: str | None) -> Position:
        self.market(symbol)
        legs = account.legs(symbol)
        if side is not None:
            if side not in ("long", "short"):
                raise InvalidInputError(f"side: must be 'long' or 'short', got {side!r}")
            legs = tuple(p for p in legs if p.side == side)
        if not legs:
            which = f"{side} " if side else ""
            raise InvalidInputError(f"account holds no {which}{symbol} position")
        if len(legs) > 1:
            raise InvalidInputError(
                f"account holds a long and a short {symbol} position (hedge mode); "
                "pass side='long' or side='short'"
            )
        return legs[0]

    # --- pools ----------------------------------------------------------------------------

    def _position_terms(
        self, position: Position, marks: Mapping[str, Decimal]
    ) -> tuple[Decimal, Decimal, Decimal, int, Tier]:
        """(value, unrealised PnL, maintenance margin, tier index, tier) at the mark."""
        market = self.market(position.symbol)
        mark = self._mark(marks, position.symbol, "position valued at mark")
        value = market.value(position.size, mark)
        pnl = market.pnl(position.sign, position.size, position.entry_price, mark)
        mm, index, tier = self._requirement(position, value)
        return value, pnl, mm, index, tier

    def _problem(
        self, account: Account, position: Position, marks: Mapping[str, Decimal]
    ) -> PriceProblem:
        market = self.market(position.symbol)
        if position.isolated:
            collateral, others_mm = self.isolated_margin(position), ZERO
        else:
            collateral, others_mm = account.balance, ZERO
            for other in account.positions:
                if other.isolated or other.symbol == position.symbol:
                    continue
                _, pnl, mm, _, _ = self._position_terms(other, marks)
                collateral += pnl
                others_mm += mm
        legs = tuple(
            Leg(p.sign, market.exposure(p.size), p.entry_price, self._solver_tiers(p))
            for p in self._members(account, position)
        )
        return PriceProblem(market, legs, collateral, others_mm, marks.get(position.symbol))

    def _health(self, account: Account, position: Position, marks: Mapping[str, Decimal]) -> Health:
        members = (
            (position,)
            if position.isolated
            else tuple(p for p in account.positions if not p.isolated)
        )
        balance = self.isolated_margin(position) if position.isolated else account.balance
        return pool_health(balance, (self._pool_terms(member, marks) for member in members))

    def _pool_terms(
        self, member: Position, marks: Mapping[str, Decimal]
    ) -> tuple[Decimal, Decimal, Decimal]:
        """(PnL, maintenance, initial margin) of a pool's member at the marks."""
        value, pnl, requirement, _, _ = self._position_terms(member, marks)
        initial = self._initial_margin(self.spec, self.market(member.symbol), member, value)
        return pnl, requirement, initial

    # --- the fast exact path: one position, a resolved table, no plugin code --------------

    def _lone(
        self, account: Account, symbol: str, side: str | None
    ) -> tuple[Position, tuple[Table, Decimal, bool]] | None:
        """The account's one position and its market's resolved table, contract size and
        inverse flag, when a figure of ``symbol`` concerns exactly that position and the
        table is resolved: what the fast path computes with. None otherwise (and for
        anything a check would refuse: the general path says why)."""
        if type(account) is not Account:
            return None
        positions = account.positions
        if len(positions) != 1:
            return None
        position = positions[0]
        if position.symbol != symbol or (side is not None and side != position.side):
            return None
        market = self._lone_markets.get(symbol)
        return None if market is None else (position, market)

    def _fast_price(
        self,
        account: Account,
        symbol: str,
        side: str | None,
        marks: object,
        maintenance: bool,
    ) -> Decimal | Undecided | None:
        """The liquidation (``maintenance``) or bankruptcy price of a lone isolated position
        from its market's resolved table, in margincall's exact context
        (:data:`~margincall.decimals.FAST`): the same operations as the hooks' default
        solver (:func:`~margincall.math.pricing.one_leg_root` for the first; the second is
        ``(A − σ·c) / k``, their ``−(c − σ·A) / (σ·k)``, rounded alike). UNDECIDED: the
        general path answers."""
        lone = self._lone(account, symbol, side)
        if lone is None or lone[0].margin_mode != "isolated":
            return UNDECIDED
        position, (table, contract, inverse) = lone
        if maintenance and not table.monotone:
            return UNDECIDED
        if marks:
            self._marks(marks)  # type: ignore[arg-type]
        outer = getcontext()
        setcontext(FAST)
        try:
            exposure = position.size * contract
            entry = position.entry_price
            at_entry = exposure / entry if inverse else exposure * entry
            margin = position.margin
            collateral = at_entry / position.leverage if margin is None else margin  # type: ignore[operator]
            up = (position.side == "long") != inverse  # σ = +1
            root: Decimal | Undecided | None
            if maintenance:
                root = one_leg_root(table, 1 if up else -1, exposure, at_entry, collateral)
                if root is None or root is UNDECIDED:
                    return root
            else:
                root = ((at_entry - collateral) if up else (collateral + at_entry)) / exposure
                if root <= 0:
                    return None
            return 1 / root if inverse else root
        finally:
            setcontext(outer)

    # --- public figures -------------------------------------------------------------------

    def maintenance_margin(
        self, account: Account, symbol: str, *, marks: Mapping[str, object], side: str | None = None
    ) -> Decimal:
        """Maintenance margin of the ``symbol`` position at its mark, in settlement currency."""
        lone = self._lone(account, symbol, side)
        checked = self._marks(marks) if lone is not None else {}
        if lone is not None and symbol in checked:
            (table, contract, inverse), mark = lone[1], checked[symbol]
            outer = getcontext()
            setcontext(FAST)
            try:
                exposure = lone[0].size * contract
                value = exposure / mark if inverse else exposure * mark
                j = bisect_left(table.edges, value)
                return value * table.rates[j] - table.amounts[j]
            finally:
                setcontext(outer)
        return self._maintenance_margin(account, symbol, marks, side)

    @_exact
    def _maintenance_margin(
        self, account: Account, symbol: str, marks: Mapping[str, object], side: str | None
    ) -> Decimal:
        self._check(account)
        position = self._select(account, symbol, side)
        return self._position_terms(position, self._marks(marks))[2]

    @_exact
    def initial_margin(
        self, account: Account, symbol: str, *, marks: Mapping[str, object], side: str | None = None
    ) -> Decimal:
        """Initial margin of the ``symbol`` position at its mark."""
        self._check(account)
        position = self._select(account, symbol, side)
        checked = self._marks(marks)
        value = self._position_terms(position, checked)[0]
        result: Decimal = self._initial_margin(self.spec, self.market(symbol), position, value)
        return result

    @_exact
    def health(
        self, account: Account, symbol: str, *, marks: Mapping[str, object], side: str | None = None
    ) -> Health:
        """Health of the pool holding the ``symbol`` position: the account's cross pool, or
        the isolated position itself."""
        self._check(account)
        return self._health(account, self._select(account, symbol, side), self._marks(marks))

    def margin_ratio(
        self, account: Account, symbol: str, *, marks: Mapping[str, object], side: str | None = None
    ) -> Decimal | None:
        """Maintenance margin over margin balance of the position's pool (liquidation at 1);
        None when the margin balance is <= 0."""
        return self.health(account, symbol, marks=marks, side=side).margin_ratio

    @_exact
    def is_liquidatable(
        self, account: Account, symbol: str, *, marks: Mapping[str, object], side: str | None = None
    ) -> bool:
        """Whether the pool holding the ``symbol`` position is in liquidation at these marks."""
        self._check(account)
        health = self._health(account, self._select(account, symbol, side), self._marks(marks))
        return bool(self._is_liquidatable(self.spec, health))

    def _solve(
        self,
        which: Callable[..., PriceSolution],
        account: Account,
        symbol: str,
        marks: Mapping[str, object] | None,
        side: str | None,
    ) -> PriceSolution:
        self._check(account)
        position = self._select(account, symbol, side)
        return which(self.spec, self._problem(account, position, self._marks(marks)))

    def liquidation_price(
        self,
        account: Account,
        symbol: str,
        *,
        marks: Mapping[str, object] | None = None,
        side: str | None = None,
    ) -> Decimal | None:
        """Mark price of ``symbol`` at which the position's pool is liquidated, the other
        symbols held at ``marks``; None where no positive price exists. An isolated position
        needs no marks; a cross one needs the marks of the account's other cross symbols."""
        if self._fast_liquidation:
            price = self._fast_price(account, symbol, side, marks, maintenance=True)
            if price is not UNDECIDED:
                return price
        return self._price(self._liquidation_price, account, symbol, marks, side)

    def bankruptcy_price(
        self,
        account: Account,
        symbol: str,
        *,
        marks: Mapping[str, object] | None = None,
        side: str | None = None,
    ) -> Decimal | None:
        """Mark price of ``symbol`` at which the position's pool has zero margin balance."""
        if self._fast_bankruptcy:
            price = self._fast_price(account, symbol, side, marks, maintenance=False)
            if price is not UNDECIDED:
                return price
        return self._price(self._bankruptcy_price, account, symbol, marks, side)

    @_exact
    def _price(
        self,
        which: Callable[..., PriceSolution],
        account: Account,
        symbol: str,
        marks: Mapping[str, object] | None,
        side: str | None,
    ) -> Decimal | None:
        return self._solve(which, account, symbol, marks, side).price

    def isolated_risk(
        self,
        symbol: str,
        *,
        side: object,
        size: object,
        entry_price: object,
        margin: object,
        mark: object | None = None,
    ) -> IsolatedRisk:
        """Maintenance margin, liquidation and bankruptcy prices of a column of one-way
        isolated positions in ``symbol``, vectorised (NumPy: ``pip install
        'margincall[batch]'``).

        ``side`` ("long"/"short"), ``size`` (contracts), ``entry_price``, ``margin`` (the
        isolated margin) and ``mark`` are scalars or columns of one length: NumPy arrays,
        pandas Series, Arrow arrays, lists. Numbers are taken as float64. Returns an
        :class:`~margincall.arrays.IsolatedRisk` of float64 arrays (NaN where no positive
        price exists; the maintenance margin needs ``mark``) in which every row equals the
        exact scalar result for its float64 inputs rounded to float64: rows the vectorised
        kernel cannot vouch for (near a tier edge, zero or a rounding boundary) are
        recomputed through the exact path and listed in ``exact_rows``. A figure whose rule
        has no vectorised form in this policy is computed row by row, with a
        :class:`~margincall.arrays.BatchFallbackWarning` naming the hook. Raises
        InvalidInputError naming the first row the scalar API would refuse.
        Cost: O(rows × tiers) plus the exact rows."""
        risk: IsolatedRisk = _batch("isolated_risk").isolated_risk(
            self,
            symbol,
            side=side,
            size=size,
            entry_price=entry_price,
            margin=margin,
            mark=mark,
        )
        return risk

    def cross_risk(
        self,
        *,
        account: object,
        symbol: object,
        side: object,
        size: object,
        entry_price: object,
        mark: object,
        balance: object,
    ) -> CrossRisk:
        """The figures of cross accounts holding one position per symbol, vectorised over
        their positions (NumPy: ``pip install 'margincall[batch]'``): one row per position,
        ``account`` naming its account (any hashable labels), ``balance`` the account's
        wallet balance on each of its rows, ``mark`` the mark of the row's symbol.

        Returns a :class:`~margincall.arrays.CrossRisk`: per row the position's maintenance
        margin, the liquidation and bankruptcy prices of its symbol with the account's other
        symbols at their marks (as :meth:`liquidation_price` with those marks), and the
        account's margin balance and maintenance margin (as :meth:`health`). Every row equals
        the exact scalar result rounded to float64 (see :meth:`isolated_risk`). Raises
        InvalidInputError naming the first row the scalar API would refuse, two positions of
        one account in one symbol, or an account with two balances or two settlement
        currencies. Cost: O(rows × (tiers + symbols per account)) plus the exact rows."""
        crossed: CrossRisk = _batch("cross_risk").cross_risk(
            self,
            account=account,
            symbol=symbol,
            side=side,
            size=size,
            entry_price=entry_price,
            mark=mark,
            balance=balance,
        )
        return crossed

    @_exact
    def risk(self, account: Account, *, marks: Mapping[str, object]) -> tuple[PositionRisk, ...]:
        """Every position's risk figures at ``marks`` (which must price every position)."""
        self._check(account)
        checked = self._marks(marks)
        rows = []
        healths: dict[Position | None, Health] = {}  # one per pool: cross (None) or isolated
        for position in account.positions:
            value, pnl, mm, index, tier = self._position_terms(position, checked)
            pool = position if position.isolated else None
            if pool not in healths:
                healths[pool] = self._health(account, position, checked)
            health = healths[pool]
            problem = self._problem(account, position, checked)
            liq = self._liquidation_price(self.spec, problem)
            leg = next(i for i, p in enumerate(self._members(account, position)) if p is position)
            liquidatable = bool(self._is_liquidatable(self.spec, health))
            rows.append(
                PositionRisk(
                    symbol=position.symbol,
                    side=position.side,
                    margin_mode=position.margin_mode,
                    size=position.size,
                    entry_price=position.entry_price,
                    mark_price=checked[position.symbol],
                    value=value,
                    unrealized_pnl=pnl,
                    tier=index + 1,
                    maintenance_margin_rate=tier.maintenance_margin_rate,
                    maintenance_margin=mm,
                    margin_balance=health.margin_balance,
                    margin_ratio=health.margin_ratio,
                    liquidatable=liquidatable,
                    liquidation_price=liq.price,
                    liquidation_tier=(
                        None
                        if liq.price is None or leg >= len(liq.tiers)
                        else index + 1  # measured at entry: the same tier at every price
                        if self._at_entry
                        else liq.tiers[leg] + 1
                    ),
                    bankruptcy_price=self._bankruptcy_price(self.spec, problem).price,
                    leverage=self.leverage(position),
                    max_leverage=tier.max_leverage,
                    liquidation_distance=liquidation_distance(
                        liq.price, checked[position.symbol], liquidatable
                    ),
                )
            )
        return tuple(rows)

    @staticmethod
    def _members(account: Account, position: Position) -> tuple[Position, ...]:
        """The positions solved together with ``position`` (its legs in one cross pool)."""
        if position.isolated:
            return (position,)
        return tuple(p for p in account.legs(position.symbol) if not p.isolated)

    # --- the liquidation procedure and the waterfall (used by the engine) -----------------

    # --- for the engine: accounts and marks it keeps valid itself, unchecked ---------------

    def check_account(self, account: Account) -> None:
        """The checks every account figure makes first (an Account, one settlement currency
        across its cross positions), once."""
        self._check(account)

    @_exact
    def safe_interval(
        self, account: Account, position: Position, marks: Mapping[str, Decimal]
    ) -> tuple[Decimal, Decimal | None] | None:
        """:func:`margincall.pricing.safe_interval` of ``position``'s pool, which holds only
        it."""
        return safe_interval(self._problem(account, position, marks), marks[position.symbol])

    @_exact
    def pool_liquidatable(
        self, account: Account, position: Position, marks: Mapping[str, Decimal]
    ) -> bool:
        """:meth:`is_liquidatable` of ``position``'s pool."""
        return bool(self._is_liquidatable(self.spec, self._health(account, position, marks)))

    @_exact
    def pool_health(
        self, account: Account, position: Position, marks: Mapping[str, Decimal]
    ) -> Health:
        """:meth:`health` of ``position``'s pool."""
        return self._health(account, position, marks)

    @_exact
    def pool_bankruptcy_price(
        self, account: Account, position: Position, marks: Mapping[str, Decimal]
    ) -> Decimal | None:
        """:meth:`bankruptcy_price` of ``position``."""
        solution: PriceSolution = self._bankruptcy_price(
            self.spec, self._problem(account, position, marks)
        )
        return solution.price

    @_exact
    def account_pools(self, account: Account, marks: Mapping[str, Decimal]) -> tuple[Pool, ...]:
        """:meth:`pools`."""
        return self._pools(account, marks)

    @_exact
    def fund_adl_trigger(
        self, symbol: str, fund_history: tuple[tuple[Decimal, Decimal], ...]
    ) -> bool:
        """:meth:`adl_trigger` on a history the engine kept (days in order, balances >= 0)."""
        return bool(self._adl_trigger(self.spec, self.market(symbol), fund_history))

    @_exact
    def pools(self, account: Account, *, marks: Mapping[str, object]) -> tuple[Pool, ...]:
        """The account's margin pools at ``marks``: the cross pool (if it holds positions),
        then each isolated position."""
        self._check(account)
        return self._pools(account, self._marks(marks))

    def _pools(self, account: Account, checked: Mapping[str, Decimal]) -> tuple[Pool, ...]:
        cross = tuple(p for p in account.positions if not p.isolated)
        groups = ([cross] if cross else []) + [[p] for p in account.positions if p.isolated]
        pools = []
        for members in groups:
            health = self._health(account, members[0], checked)
            rows = []
            for p in members:
                value, _, mm, _, _ = self._position_terms(p, checked)
                bankruptcy = self._bankruptcy_price(self.spec, self._problem(account, p, checked))
                rows.append(
                    PoolPosition(
                        p.symbol,
                        p.side,
                        p.size,
                        p.entry_price,
                        checked[p.symbol],
                        value,
                        mm,
                        self.market(p.symbol),
                        self.tiers(p),
                        bankruptcy.price,
                    )
                )
            pools.append(
                Pool(
                    members[0].isolated,
                    health.margin_balance,
                    health.maintenance_margin,
                    tuple(rows),
                )
            )
        return tuple(pools)

    @_exact
    def liquidation_action(self, pool: Pool, attempt: int) -> LiquidationAction:
        """The next step of liquidating ``pool`` (see ``margincall_liquidation_action``)."""
        action: LiquidationAction = self._liquidation_action(self.spec, pool, attempt)
        return action

    def simulate(
        self, scenario: Scenario, *, progress: Callable[[int, int], None] | None = None
    ) -> Outcome:
        """Play this policy over ``scenario``: see :mod:`margincall.engine`. ``scenario`` is a
        :class:`~margincall.scenario.Scenario`; load a bundled one or a file with
        :func:`~margincall.scenario.load_scenario` first (a name or path is refused).
        ``progress(done, total)``, if given, is called after each of the scenario's steps."""
        from margincall.engine import simulate  # the engine builds on this module

        if not isinstance(scenario, Scenario):
            hint = (
                f"; load it first: policy.simulate(load_scenario({scenario!r}))"
                if isinstance(scenario, (str, Path))
                else ""
            )
            raise InvalidInputError(
                f"simulate: expected a Scenario, got {type(scenario).__name__} {scenario!r}{hint}"
            )
        return simulate(self, scenario, progress=progress)

    @_exact
    def trading_fee(self, symbol: str, size: Number, price: Number, *, maker: bool) -> Decimal:
        """Trading fee on a fill of ``size`` contracts at ``price``."""
        market = self.market(symbol)
        fee: Decimal = self._trading_fee(
            self.spec, market, positive(size, "size"), positive(price, "price"), bool(maker)
        )
        return fee

    @_exact
    def liquidation_fee(self, symbol: str, size: Number, price: Number) -> Decimal:
        """Liquidation (clearance) fee on a liquidation fill of ``size`` at ``price``."""
        market = self.market(symbol)
        fee: Decimal = self._liquidation_fee(
            self.spec, market, positive(size, "size"), positive(price, "price")
        )
        return fee

    @_exact
    def takeover_capacity(self, fund_balance: Number, net_notional: Number) -> Decimal:
        """Further notional the insurance fund may take over (Infinity: unbounded)."""
        capacity: Decimal = self._takeover_capacity(
            self.spec,
            non_negative(fund_balance, "fund_balance"),
            to_decimal(net_notional, "net_notional"),
        )
        return capacity

    @_exact
    def adl_trigger(self, symbol: str, fund_history: Iterable[tuple[Number, Number]]) -> bool:
        """Whether ADL starts now for a takeover in ``symbol``, ahead of the insurance fund
        (see ``margincall_adl_trigger``). ``fund_history`` holds the fund's ``(day, balance)``
        points, oldest first, the last one now: days >= 0 and never decreasing, balances >= 0.
        """
        market = self.market(symbol)
        points: list[tuple[Decimal, Decimal]] = []
        for k, point in enumerate(fund_history):
            if not isinstance(point, tuple) or len(point) != 2:
                raise InvalidInputError(
                    f"fund_history[{k}]: expected a (day, balance) pair, got {point!r}"
                )
            day = non_negative(point[0], f"fund_history[{k}] day")
            balance = non_negative(point[1], f"fund_history[{k}] balance")
            if points and day < points[-1][0]:
                raise InvalidInputError(
                    f"fund_history[{k}] day: {day} is before the previous point's day "
                    f"{points[-1][0]}"
                )
            points.append((day, balance))
        if not points:
            raise InvalidInputError(
                "fund_history: at least one (day, balance) point is needed: the last one is now"
            )
        return bool(self._adl_trigger(self.spec, market, tuple(points)))

    @_exact
    def adl_score(self, candidate: AdlCandidate) -> Decimal:
        score: Decimal = self._adl_score(self.spec, candidate)
        return score

    @_exact
    def adl_rank(self, candidates: tuple[AdlCandidate, ...]) -> tuple[AdlCandidate, ...]:
        """``candidates`` best first: by score, ties by key then symbol (deterministic)."""
        scored = [(self._adl_score(self.spec, c), c) for c in candidates]
        scored.sort(key=lambda sc: (-sc[0], sc[1].key, sc[1].symbol, sc[1].side))
        return tuple(c for _, c in scored)

    @_exact
    def adl_allocate(
        self, ranked: tuple[AdlCandidate, ...], size: Number, price: Number
    ) -> tuple[AdlFill, ...]:
        """Fills closing ``size`` contracts against ``ranked`` (best first) at ``price``."""
        fills: tuple[AdlFill, ...] = self._adl_allocate(
            self.spec, tuple(ranked), positive(size, "size"), positive(price, "price")
        )
        return fills

    @_exact
    def clawback(self, deficit: Number, profits: Mapping[str, Number]) -> Mapping[str, Decimal]:
        """How much of ``deficit`` each account pays, from its profit in ``profits``."""
        checked = {key: to_decimal(p, f"profit of {key}") for key, p in profits.items()}
        shares: Mapping[str, Decimal] = self._clawback(
            self.spec, non_negative(deficit, "deficit"), checked
        )
        return shares

    @_exact
    def debt_interest(self, debt: Number, days: Number) -> Decimal:
        """Interest a chased debt accrues over ``days``."""
        interest: Decimal = self._debt_interest(
            self.spec, non_negative(debt, "debt"), non_negative(days, "days")
        )
        return interest


# --- loading ------------------------------------------------------------------------------


def _batch(call: str) -> ModuleType:
    """The batch front (:mod:`margincall.arrays`), imported when a batch call needs it: it
    needs NumPy, the ``batch`` extra; without it, a MargincallError saying how to install."""
    try:
        return importlib.import_module("margincall.arrays")
    except ImportError as error:
        raise MargincallError(
            f"{call} needs NumPy: pip install 'margincall[batch]' ({error})"
        ) from None


_FILE_HOOKS = frozenset({"margincall_policy_files", "margincall_check_config"})
"""Hooks that find or check policy files, not computation: left out of
:attr:`Policy.overridden_hooks`."""


def _overridden(manager: pluggy.PluginManager) -> Mapping[str, tuple[str, ...]]:
    defaults = tuple(DEFAULT_PLUGINS.values())
    found = {}
    for name in sorted(vars(manager.hook)):
        if not name.startswith("margincall_") or name in _FILE_HOOKS:
            continue
        impls = getattr(manager.hook, name).get_hookimpls()
        plugins = tuple(i.plugin_name for i in reversed(impls) if i.plugin not in defaults)
        if plugins:
            found[name] = plugins
    return MappingProxyType(found)


@attrs.frozen
class PolicyReference:
    """How to load a policy again in another process (:meth:`Policy.reference`): by its name,
    ``location``, a policy an installed plugin ships, or, with ``by_path``, from the file at
    ``location``; ``origin`` and ``spec`` are the loaded policy's, which the reloaded one must
    match."""

    location: str
    by_path: bool
    origin: str
    spec: PolicySpec

    def load(self) -> Policy:
        """The policy, loaded (:func:`load_policy`) and checked to be the same: the same
        origin and the same validated contents. Raises
        :class:`~margincall.errors.PolicyError` saying why it cannot be."""
        where = f"the file {self.location}" if self.by_path else "the installed plugins"
        try:
            policy = load_policy(Path(self.location) if self.by_path else self.location)
        except PolicyError as error:
            first, *more = error.problems or [""]
            raise PolicyError(
                [f"policy {self.spec.name} cannot be reloaded from {where}: {first}", *more]
            ) from None
        if policy.origin != self.origin:
            raise PolicyError(
                f"policy {self.spec.name} cannot be reloaded from {where}: it was loaded from "
                f"{self.origin}, here it comes from {policy.origin}"
            )
        if policy.spec != self.spec:
            raise PolicyError(
                f"policy {self.spec.name} cannot be reloaded from {where}: "
                f"{policy.origin} says something else than when it was loaded (changed since?)"
            )
        return policy


_RELOADED: dict[tuple[str, bool, str], Policy] = {}
"""The policies this process reloaded, by where from (:func:`reload_policy`)."""


def reload_policy(reference: PolicyReference) -> Policy:
    """The policy ``reference`` names, loaded once per process (:meth:`PolicyReference.load`)
    and reused while it is the same policy: how a pickled :class:`Policy` comes back."""
    key = (reference.location, reference.by_path, reference.origin)
    policy = _RELOADED.get(key)
    if policy is None or policy.spec != reference.spec:
        policy = _RELOADED[key] = reference.load()
    return policy


def available_policies(registry: Registry | None = None) -> list[str]:
    """Names of every policy the installed plugins ship."""
    return sorted((registry or default_registry()).policies)


def _policy_text(reference: str, origin: str, registry: Registry) -> tuple[str, str]:
    path = resolve_path(reference, origin)
    if path is not None:
        text = read_text_file(
            path, "policy file", lambda message: PolicyError(f"{origin}: extends: {message}")
        )
        return text, str(path)
    shipped = registry.policies.get(reference)
    if shipped is None:
        known = ", ".join(sorted(registry.policies)) or "none"
        where = f"{origin}: extends: " if origin else ""
        message = f"{where}unknown policy {reference!r}; available: {known}"
        if registry.blocked:
            message += f"; plugins blocked by {BLOCK_ENV}: {', '.join(sorted(registry.blocked))}"
        if registry.failures:
            message += f"; plugins that failed to load: {', '.join(sorted(registry.failures))}"
        raise PolicyError(message)
    return shipped.file.read_text(encoding="utf-8"), shipped.origin


def _manager_for(spec: PolicySpec, origin: str, registry: Registry) -> pluggy.PluginManager:
    manager = new_manager()
    problems = []
    for name, info in registry.info.items():
        if info.default:
            manager.register(registry.plugins[name], name=name)
    for k, name in enumerate(spec.plugins):
        where = f"{origin}: plugins[{k}]"
        if name in registry.blocked:
            problems.append(f"{where}: plugin {name!r} is blocked by {BLOCK_ENV}")
        elif name in registry.failures:
            problems.append(f"{where}: plugin {name!r} failed to load: {registry.failures[name]}")
        elif name not in registry.plugins:
            known = ", ".join(n for n, i in registry.info.items() if not i.default) or "none"
            problems.append(f"{where}: unknown plugin {name!r}; installed venue plugins: {known}")
        elif registry.info[name].default:
            problems.append(f"{where}: {name!r} is a default mechanism, already in every policy")
        elif manager.is_registered(registry.plugins[name]):
            problems.append(f"{where}: plugin {name!r} is listed twice")
        else:
            manager.register(registry.plugins[name], name=name)
    if problems:
        raise PolicyError(problems)
    return manager


def load_policy(reference: str | Path, *, registry: Registry | None = None) -> Policy:
    """Load a policy by name (see :func:`available_policies`) or from a TOML file path.

    Raises :class:`~margincall.errors.PolicyError` listing every problem; nothing is
    half-loaded.
    """
    registry = registry or default_registry()
    ref = str(reference)
    is_path = isinstance(reference, Path) or ref.endswith(".toml") or "/" in ref
    if is_path:
        path = Path(ref)
        text, origin = read_text_file(path, "policy file", PolicyError), str(path.resolve())
    else:
        text, origin = _policy_text(ref, "", registry)
    spec = load_spec(text, origin, lambda r, o: _policy_text(r, o, registry))
    if not is_path and spec.name != ref:
        raise PolicyError(f"{origin}: name: {spec.name!r} must match the file name {ref!r}")
    manager = _manager_for(spec, origin, registry)
    check = _resolve(
        manager,
        "margincall_check_config",
        lambda plugin: f"{origin}: {registry.label(plugin)}",
        every=True,
    )
    problems = [
        f"{origin}: {problem}"
        for listed in check(spec)
        for problem in ([listed] if isinstance(listed, str) else listed)
    ]
    if problems:
        raise PolicyError(problems)
    stages = _deficit_stages(manager, origin, registry)
    known = [*DEFICIT_STAGES, *stages]
    for k, name in enumerate(spec.deficit.waterfall):
        if name not in known:
            problems.append(
                f"{origin}: deficit.waterfall[{k}]: unknown stage {name!r}; the stages are "
                f"{', '.join(known)}"
            )
    if problems:
        raise PolicyError(problems)
    return Policy(spec, manager, origin, registry=registry, deficit_stages=stages)


def _deficit_stages(
    manager: pluggy.PluginManager, origin: str, registry: Registry
) -> dict[str, Any]:
    """The deficit stages the policy's plugins add, by name; a PolicyError for a stage that is
    no stage (no name, no ``cover``) or whose name is taken."""
    collect = _resolve(
        manager,
        "margincall_deficit_stages",
        lambda plugin: f"{origin}: {registry.label(plugin)}",
        every=True,
    )
    stages: dict[str, Any] = {}
    problems = []
    for listed in collect():
        for stage in listed:
            name = getattr(stage, "name", None)
            if not isinstance(name, str) or not name or not callable(getattr(stage, "cover", None)):
                problems.append(
                    f"{origin}: margincall_deficit_stages: {stage!r} is no deficit stage "
                    "(it needs a name and a cover(book, deficit) method)"
                )
            elif name in DEFICIT_STAGES or name in stages:
                problems.append(
                    f"{origin}: margincall_deficit_stages: the stage name {name!r} is taken"
                )
            else:
                stages[name] = stage
    if problems:
        raise PolicyError(problems)
    return stages
