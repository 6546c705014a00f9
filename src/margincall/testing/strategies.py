"""Hypothesis strategies for margincall's inputs.

Numbers first (:func:`decimals_between`, :func:`log_integers`, :func:`log_decimals`), then the
domain built from them: tier tables (:func:`tier_rows`, :func:`tier_tables`), markets
(:func:`markets`), prices and sizes on a market's tick and lot (:func:`prices`, :func:`sizes`,
:func:`nearby_prices`), positions (:func:`positions`) and accounts with the marks to value
them (:func:`accounts`).

Design rules, so that the strategies can be trusted by the properties that use them:

* Every number is drawn as an integer count of a decimal step and turned into a
  :class:`~decimal.Decimal` by construction, so bounds and decimal places are exact (no
  float and no rounding ever touches a generated value).
* Objects are built through margincall's public constructors from values that are valid by
  construction (contiguous tiers, non-decreasing rates, ``rate * leverage < 1``, positive
  sizes and prices); nothing relies on filtering out what a validator rejects.
* Shrinking goes towards small, simple inputs: few tiers, few positions, sizes of one lot.
* The only margincall computation used while generating is :func:`tiers_from_rows`, which
  derives maintenance amounts with margincall's own recursion (say so when testing the
  recursion itself: compute it independently there). Values at entry, used to size margins
  and balances, are exact products.

The module needs ``hypothesis``; ``margincall`` itself never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from hypothesis import strategies as st

from margincall.account import MARGIN_MODES, SIDES, Account, MarginMode, Position, Side
from margincall.decimals import ONE, ZERO, exact
from margincall.market import ContractType, Market
from margincall.math.tiers import Tier, recursive_amounts

if TYPE_CHECKING:
    from margincall.policy import Policy

__all__ = [
    "TierRow",
    "accounts",
    "decimals_between",
    "log_decimals",
    "log_integers",
    "markets",
    "marks_with",
    "nearby_prices",
    "on_step",
    "positions",
    "prices",
    "sizes",
    "tier_rows",
    "tier_tables",
    "tiers_from_rows",
    "value_at_entry",
]

Number = Decimal | int | str
"""A bound: a Decimal, an int or a decimal string (never a float)."""

Places = int | tuple[int, int]
"""Digits after the decimal point: exactly ``n``, or an inclusive range ``(lo, hi)`` to draw
``n`` from (each number draws its own)."""


# --- numbers --------------------------------------------------------------------------------


def _dec(value: Number, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise TypeError(f"{what}: expected a Decimal, int or decimal string, got {value!r}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{what}: must be finite, got {value!r}")
    return result


def _scaled(units: int, places: int) -> Decimal:
    """``units * 10**-places`` as a Decimal with exactly ``places`` digits after the point."""
    digits = tuple(int(c) for c in str(abs(units)))
    return Decimal((1 if units < 0 else 0, digits, -places))


def _units(value: Decimal, places: int, *, up: bool) -> int:
    """``value`` in steps of ``10**-places``, rounded up (``up``) or down to a whole step."""
    shifted = value * (Decimal(10) ** places)
    whole = int(shifted)  # truncates towards zero
    if up and whole < shifted:
        whole += 1
    elif not up and whole > shifted:
        whole -= 1
    return whole


def _places(places: Places) -> st.SearchStrategy[int]:
    if isinstance(places, tuple):
        first, last = places
        return st.integers(first, last)
    return st.just(places)


def decimals_between(
    lo: Number, hi: Number, places: Places, *, exclude_hi: bool = False
) -> st.SearchStrategy[Decimal]:
    """Decimals ``d`` with ``lo <= d <= hi`` (``d < hi`` with ``exclude_hi``) and exactly
    ``places`` digits after the point.

    Bounds are exact: a bound that is not a whole number of steps is rounded inwards (so
    ``decimals_between(0, "0.4999", 2)`` never yields ``0.50``). Shrinks towards ``lo``.
    """
    low, high = _dec(lo, "lo"), _dec(hi, "hi")
    if low > high:
        raise ValueError(f"decimals_between: lo {low} is above hi {high}")

    def at(p: int) -> st.SearchStrategy[Decimal]:
        with exact():
            first, last = _units(low, p, up=True), _units(high, p, up=False)
            if exclude_hi and _scaled(last, p) == high:
                last -= 1
        if first > last:
            raise ValueError(f"decimals_between: no {p}-place decimal in [{low}, {high}]")
        return st.integers(first, last).map(lambda n: _scaled(n, p))

    if isinstance(places, int):
        return at(places)
    return _places(places).flatmap(at)


def log_integers(lo: int, hi: int) -> st.SearchStrategy[int]:
    """Integers in ``[lo, hi]`` (``lo >= 1``) spread over orders of magnitude: a number of
    digits is drawn uniformly, then a value with that many digits. Shrinks towards ``lo``."""
    if not 1 <= lo <= hi:
        raise ValueError(f"log_integers: need 1 <= lo <= hi, got {lo}, {hi}")
    return st.integers(len(str(lo)), len(str(hi))).flatmap(
        lambda d: st.integers(max(lo, 10 ** (d - 1)), min(hi, 10**d - 1))
    )


def log_decimals(lo: Number, hi: Number, places: Places) -> st.SearchStrategy[Decimal]:
    """Positive decimals in ``[lo, hi]`` with exactly ``places`` digits after the point, spread
    over orders of magnitude like :func:`log_integers`. ``lo`` must be > 0."""
    low, high = _dec(lo, "lo"), _dec(hi, "hi")
    if not ZERO < low <= high:
        raise ValueError(f"log_decimals: need 0 < lo <= hi, got {low}, {high}")

    def at(p: int) -> st.SearchStrategy[Decimal]:
        with exact():
            first, last = max(1, _units(low, p, up=True)), _units(high, p, up=False)
        if first > last:
            raise ValueError(f"log_decimals: no {p}-place decimal in [{low}, {high}]")
        return log_integers(first, last).map(lambda n: _scaled(n, p))

    if isinstance(places, int):
        return at(places)
    return _places(places).flatmap(at)


def on_step(value: Decimal, step: Decimal) -> Decimal:
    """``value`` rounded to the nearest whole multiple of ``step``, and at least one step."""
    with exact():
        return max(step, (value / step).to_integral_value() * step)


# --- tier tables ----------------------------------------------------------------------------


class TierRow(NamedTuple):
    """One tier as a policy file states it (the maintenance amount is derived)."""

    min_notional: Decimal
    max_notional: Decimal
    max_leverage: Decimal
    maintenance_margin_rate: Decimal


def _below_one_over(rate: Decimal) -> Callable[[Decimal], bool]:
    def check(leverage: Decimal) -> bool:
        return leverage > 0 and leverage * rate < 1

    return check


@st.composite
def tier_rows(
    draw: st.DrawFn,
    *,
    min_tiers: int = 1,
    max_tiers: int = 8,
    notional_places: Places = 0,
    rate_places: Places = 4,
    leverage_places: Places = 0,
    min_width: Number = 1,
    max_width: Number = 10**8,
    min_rate: Number = 0,
    max_rate: Number = "0.5",
    min_leverage: Number = 1,
    max_leverage: Number = 125,
    monotone_leverage: bool = True,
) -> list[TierRow]:
    """A valid tax-bracket tier table, as rows.

    Tiers are contiguous from 0 (each ``min_notional`` is the previous ``max_notional``), each
    ``max_notional`` is above its ``min_notional`` by a width in ``[min_width, max_width]``,
    rates are non-decreasing in ``[min_rate, max_rate)`` and every tier's leverage satisfies
    ``rate * leverage < 1`` (with ``max_rate <= 1`` and ``min_leverage <= 1`` a leverage
    always exists). With ``monotone_leverage`` leverage does not rise with the tier, as on
    every venue.
    """
    top_rate = _dec(max_rate, "max_rate")
    low_leverage, high_leverage = (
        _dec(min_leverage, "min_leverage"),
        _dec(max_leverage, "max_leverage"),
    )
    count = draw(st.integers(min_tiers, max_tiers))
    widths = [draw(log_decimals(min_width, max_width, notional_places)) for _ in range(count)]
    rates = sorted(
        draw(decimals_between(min_rate, top_rate, rate_places, exclude_hi=True))
        for _ in range(count)
    )
    leverages: list[Decimal] = []
    for rate in rates:
        with exact():
            bound = None if rate == 0 else ONE / rate  # leverage must stay below 1 / rate
        if bound is None or high_leverage < bound:
            choices = decimals_between(low_leverage, high_leverage, leverage_places)
        else:
            choices = decimals_between(low_leverage, bound, leverage_places, exclude_hi=True)
        # the filter is a guard only: the bounds above already exclude what it rejects
        leverage = draw(choices.filter(_below_one_over(rate)))
        if monotone_leverage and leverages:
            leverage = min(leverage, leverages[-1])
        leverages.append(leverage)
    rows = []
    floor = ZERO
    with exact():
        for width, rate, leverage in zip(widths, rates, leverages, strict=True):
            cap_notional = floor + width  # exact: both have few digits
            rows.append(TierRow(floor, cap_notional, leverage, rate))
            floor = cap_notional
    return rows


def tiers_from_rows(rows: Sequence[TierRow]) -> tuple[Tier, ...]:
    """The runtime tiers of ``rows``, maintenance amounts by margincall's recursion
    (:func:`margincall.tiers.recursive_amounts`, run in margincall's exact context)."""
    with exact():
        amounts = recursive_amounts(
            [r.min_notional for r in rows], [r.maintenance_margin_rate for r in rows]
        )
    return tuple(
        Tier(r.min_notional, r.max_notional, r.max_leverage, r.maintenance_margin_rate, a)
        for r, a in zip(rows, amounts, strict=True)
    )


def tier_tables(**options: object) -> st.SearchStrategy[tuple[Tier, ...]]:
    """Valid tax-bracket tier tables as :class:`~margincall.tiers.Tier` tuples; ``options``
    are those of :func:`tier_rows`. Amounts come from :func:`tiers_from_rows`."""
    return tier_rows(**options).map(tiers_from_rows)  # type: ignore[arg-type]


# --- markets, prices, sizes -----------------------------------------------------------------

_STEPS = ("1", "0.1", "0.01", "0.001", "0.0001")


@st.composite
def markets(
    draw: st.DrawFn,
    *,
    symbol: str = "TEST",
    contract_types: Sequence[ContractType] = ("linear", "inverse"),
    tiers: st.SearchStrategy[tuple[Tier, ...]] | None = None,
) -> Market:
    """A market with a generated tier table (default :func:`tier_tables`). Linear markets
    settle in ``USDT`` with a contract of 1, 0.1 or 0.001 base units; inverse ones in ``COIN``
    with a face value of 1, 10 or 100 quote units. Fees are Binance-like constants."""
    contract_type = draw(st.sampled_from(list(contract_types)))
    inverse = contract_type == "inverse"
    contract_size = Decimal(
        draw(st.sampled_from(["100", "10", "1"] if inverse else ["1", "0.1", "0.001"]))
    )
    return Market(
        symbol=symbol,
        contract_type=contract_type,
        contract_size=contract_size,
        tick_size=Decimal(draw(st.sampled_from(_STEPS))),
        lot_size=ONE if inverse else Decimal(draw(st.sampled_from(_STEPS))),
        settlement_currency="COIN" if inverse else "USDT",
        tiers=draw(tiers if tiers is not None else tier_tables()),
        liquidation_fee_rate=Decimal("0.0125"),
        maker_fee_rate=Decimal("0.0002"),
        taker_fee_rate=Decimal("0.0005"),
    )


def prices(
    market: Market, *, min_ticks: int = 100, max_ticks: int = 10**6
) -> st.SearchStrategy[Decimal]:
    """Prices on ``market``'s tick, ``min_ticks`` to ``max_ticks`` ticks, spread over orders
    of magnitude (with Binance's ticks: BTC up to 100,000, DOGE up to 10)."""
    tick = market.tick_size
    return log_integers(min_ticks, max_ticks).map(lambda n: n * tick)


def sizes(market: Market, *, max_lots: int = 10**7) -> st.SearchStrategy[Decimal]:
    """Sizes (contracts) on ``market``'s lot, 1 to ``max_lots`` lots, spread over orders of
    magnitude. With the default bound every Binance tier of the shipped tables is reachable."""
    lot = market.lot_size
    return log_integers(1, max_lots).map(lambda n: n * lot)


def nearby_prices(
    market: Market, price: Decimal, *, max_move: Number = "0.2"
) -> st.SearchStrategy[Decimal]:
    """Prices on ``market``'s tick within ``±max_move`` (a fraction) of ``price``."""
    move = _dec(max_move, "max_move")
    return decimals_between(-move, move, 4).map(
        lambda d: on_step(price * (ONE + d), market.tick_size)
    )


def value_at_entry(market: Market, position: Position) -> Decimal:
    """``position``'s value at its entry price, in the settlement currency."""
    with exact():
        return market.value(position.size, position.entry_price)


# --- positions and accounts -----------------------------------------------------------------


@st.composite
def positions(
    draw: st.DrawFn,
    markets: Market | Sequence[Market],
    *,
    sides: Sequence[Side] = SIDES,
    margin_modes: Sequence[MarginMode] = MARGIN_MODES,
    max_lots: int = 10**7,
    margin_fraction: tuple[Number, Number] = ("0.001", "1.5"),
    leverage: tuple[Number, Number] = (1, 125),
    entry_prices: st.SearchStrategy[Decimal] | None = None,
    min_ticks: int = 100,
) -> Position:
    """A position in one of ``markets``: size on the lot, entry on the tick (from
    ``entry_prices`` when given, else :func:`prices` of at least ``min_ticks`` ticks).

    An isolated position gets either ``margin = value at entry * f`` with ``f`` in
    ``margin_fraction`` (above 1: a long that cannot be liquidated), or ``leverage=`` in
    ``leverage`` (up to two decimal places).
    """
    pool = [markets] if isinstance(markets, Market) else list(markets)
    market = draw(st.sampled_from(pool))
    side = draw(st.sampled_from(list(sides)))
    mode = draw(st.sampled_from(list(margin_modes)))
    size = draw(sizes(market, max_lots=max_lots))
    entry = draw(entry_prices if entry_prices is not None else prices(market, min_ticks=min_ticks))
    if mode == "cross":
        return Position(market.symbol, side, size, entry, "cross")
    if draw(st.booleans()):
        lev = draw(decimals_between(leverage[0], leverage[1], (0, 2)).filter(lambda v: v > 0))
        return Position(market.symbol, side, size, entry, "isolated", leverage=lev)
    fraction = draw(decimals_between(margin_fraction[0], margin_fraction[1], 4))
    with exact():
        margin = market.value(size, entry) * fraction
    return Position(market.symbol, side, size, entry, "isolated", margin=margin)


_LEG_CHOICES: tuple[tuple[Side, ...], ...] = (("long",), ("short",), ("long", "short"))


@st.composite
def accounts(
    draw: st.DrawFn,
    policy: Policy,
    *,
    symbols: Iterable[str] | None = None,
    min_positions: int = 1,
    max_positions: int = 3,
    margin_modes: Sequence[MarginMode] = MARGIN_MODES,
    sides: Sequence[Side] = SIDES,
    position_mode: str = "one-way",
    hedged: bool = False,
    balance_fraction: tuple[Number, Number] = ("0", "1.5"),
    max_move: Number = "0.2",
    max_lots: int = 10**7,
    min_ticks: int = 100,
) -> tuple[Account, dict[str, Decimal]]:
    """An account of ``policy``'s markets and the marks that price every position in it.

    ``min_positions``..``max_positions`` distinct symbols (from ``symbols``, default all the
    policy's markets) each get a position, or in ``position_mode="hedge"`` a long, a short or
    both (with ``hedged``, the first symbol always gets both; hedge legs share a margin mode).
    Cross positions all settle in one currency: a cross draw in another currency becomes
    isolated (or, with ``margin_modes=("cross",)``, only symbols of one currency are drawn).
    The cross balance is ``value at entry of the cross positions * f``, ``f`` in
    ``balance_fraction`` (a negative ``f`` gives an account in debt). Each mark is within
    ``±max_move`` of the symbol's (first) entry, on its tick; so is a hedge's second entry.
    Entries are at least ``min_ticks`` ticks (:func:`prices`).
    """
    names = sorted(policy.markets) if symbols is None else list(symbols)
    if not names:
        raise ValueError("accounts: no symbols to draw from")
    currency = draw(st.sampled_from(sorted({policy.market(s).settlement_currency for s in names})))
    if "isolated" not in margin_modes:
        names = [s for s in names if policy.market(s).settlement_currency == currency]
    count_max = min(max_positions, len(names))
    chosen = draw(
        st.lists(
            st.sampled_from(names),
            min_size=min(min_positions, count_max),
            max_size=count_max,
            unique=True,
        )
    )
    held: list[Position] = []
    marks: dict[str, Decimal] = {}
    for index, symbol in enumerate(chosen):
        market = policy.market(symbol)
        mode: MarginMode = draw(st.sampled_from(list(margin_modes)))
        if mode == "cross" and market.settlement_currency != currency:
            mode = "isolated"
        if position_mode == "hedge":
            if hedged and index == 0:
                legs: tuple[Side, ...] = ("long", "short")
            else:
                choices = [c for c in _LEG_CHOICES if set(c) <= set(sides)]
                legs = draw(st.sampled_from(choices))
        else:
            legs = (draw(st.sampled_from(list(sides))),)
        entries: st.SearchStrategy[Decimal] | None = None
        for side in legs:
            leg = draw(
                positions(
                    market,
                    sides=(side,),
                    margin_modes=(mode,),
                    max_lots=max_lots,
                    entry_prices=entries,
                    min_ticks=min_ticks,
                )
            )
            held.append(leg)
            # a hedge's second leg is opened near the first
            entries = nearby_prices(market, leg.entry_price, max_move=max_move)
        first_entry = next(p.entry_price for p in held if p.symbol == symbol)
        marks[symbol] = draw(nearby_prices(market, first_entry, max_move=max_move))
    fraction = draw(decimals_between(balance_fraction[0], balance_fraction[1], 4))
    with exact():
        cross_value = sum(
            (value_at_entry(policy.market(p.symbol), p) for p in held if not p.isolated), ZERO
        )
    if cross_value > 0:
        with exact():
            balance = cross_value * fraction
    else:
        balance = draw(decimals_between(0, 10**6, 2))
    return Account(balance, held, position_mode), marks  # type: ignore[arg-type]


def marks_with(marks: Mapping[str, Decimal], symbol: str, price: Decimal) -> dict[str, Decimal]:
    """A copy of ``marks`` with ``symbol`` moved to ``price``."""
    return {**marks, symbol: price}
