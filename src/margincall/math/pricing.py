"""Liquidation and bankruptcy prices as roots of a piecewise-linear margin equation.

Hold every other symbol at its mark and move only the price ``P`` of one symbol. Write
``u = P`` for linear contracts and ``u = 1/P`` for inverse ones. Then each position (leg) of
that symbol has value ``k*u`` (``k = size * contract_size``) and PnL ``σ*k*(u - e)``, where
``σ, e = side, entry`` (linear) or ``-side, 1/entry`` (inverse). The pool's margin balance minus
its maintenance margin is::

    f(u) = base + Σ_legs [ σ*k*(u - e) - (k*u*rate_t - amount_t) ]

with ``t`` the tier holding the leg's value ``k*u``. Between tier edges ``f`` is linear, so each
segment's root is ``-A/B``; a root is kept only if it lies in its own segment. That is Binance's
rule ("if the level at the liquidation price differs from the level at the opening price,
recompute with the level at the liquidation price") solved exactly, with no iteration that can
oscillate near an edge. With tax-bracket tiers ``f`` is continuous; with step tiers it can jump
across zero at an edge, and the edge itself is then the root.

The bankruptcy price is the root with every rate and amount at zero (equity = 0).

For a one-way position ``f`` is strictly monotone, so there is at most one root. In hedge mode
(a long and a short of one symbol in one cross pool) ``f`` can have two roots, one on each side
of the mark; the one nearer the mark is where liquidation would start, and is returned.
"""

from __future__ import annotations

import enum
from bisect import bisect_left
from decimal import Decimal
from itertools import pairwise

import attrs

from margincall.decimals import PRECISION, ZERO, exact_sums
from margincall.errors import InvalidInputError
from margincall.market import Market
from margincall.math.tiers import Table, Tier, tier_index


@attrs.frozen
class Leg:
    """One position of the symbol being solved for, reduced to what the equation needs."""

    sign: int
    exposure: Decimal
    entry_price: Decimal
    tiers: tuple[Tier, ...]


@attrs.frozen
class PriceProblem:
    """The margin equation of one symbol in one margin pool.

    ``collateral`` is the isolated margin of an isolated position, or the cross wallet balance
    plus the unrealised PnL of the pool's other symbols at their marks. ``other_maintenance`` is
    those other symbols' maintenance margin at their marks (0 for isolated). ``mark`` is the
    symbol's current mark, used only to choose between two roots.
    """

    market: Market
    legs: tuple[Leg, ...]
    collateral: Decimal
    other_maintenance: Decimal
    mark: Decimal | None


@attrs.frozen
class PriceSolution:
    """A solved price. ``price`` is None when no positive price satisfies the equation (a long
    whose margin covers its whole value has no liquidation price). ``tiers`` holds, per leg, the
    0-based index of the tier that holds the leg's value at that price."""

    price: Decimal | None
    tiers: tuple[int, ...] = ()


def _coefficients(problem: PriceProblem, chosen: list[Tier] | None) -> tuple[Decimal, Decimal]:
    """``A, B`` of ``f(u) = A + B*u`` with each leg in tier ``chosen[i]`` (None: no margin)."""
    inverse = problem.market.inverse
    a = problem.collateral - (ZERO if chosen is None else problem.other_maintenance)
    b = ZERO
    for i, leg in enumerate(problem.legs):
        sigma = -leg.sign if inverse else leg.sign
        # value at entry, computed exactly as Market.value does (one rounding, not two), so
        # that a margin equal to it cancels exactly instead of leaving a spurious root
        at_entry = leg.exposure / leg.entry_price if inverse else leg.exposure * leg.entry_price
        a -= sigma * at_entry
        b += sigma * leg.exposure
        if chosen is not None:
            a += chosen[i].maintenance_amount
            b -= leg.exposure * chosen[i].maintenance_margin_rate
    return a, b


def _tiers_at(problem: PriceProblem, u: Decimal) -> list[Tier]:
    """Each leg's tier at ``u`` (callers pass a point strictly inside a segment)."""
    return [leg.tiers[tier_index(leg.tiers, leg.exposure * u)] for leg in problem.legs]


def _roots(problem: PriceProblem, maintenance: bool) -> list[Decimal]:
    """Every root ``u > 0`` of ``f``, segment by segment (see the module docstring)."""
    if not maintenance:
        a, b = _coefficients(problem, None)
        return [-a / b] if b != 0 else []
    edges = sorted({t.max_notional / leg.exposure for leg in problem.legs for t in leg.tiers[:-1]})
    bounds: list[Decimal | None] = [ZERO, *edges, None]
    roots: list[Decimal] = []
    previous: tuple[Decimal, Decimal] | None = None
    for lo, hi in pairwise(bounds):
        assert lo is not None
        inside = lo + 1 if hi is None else (lo + hi) / 2
        a, b = _coefficients(problem, _tiers_at(problem, inside))
        if b != 0:
            u = -a / b
            if u >= lo and (hi is None or u <= hi):
                roots.append(u)
        if previous is not None:  # a step table can jump across zero at an edge
            below = previous[0] + previous[1] * lo
            above = a + b * lo
            if (below > 0 > above) or (below < 0 < above):
                roots.append(lo)
        previous = (a, b)
    return roots


class Undecided(enum.Enum):
    """:func:`one_leg_root` cannot vouch for its answer: solve segment by segment instead."""

    UNDECIDED = "undecided"


UNDECIDED = Undecided.UNDECIDED


def one_leg_root(
    table: Table, sigma: int, exposure: Decimal, at_entry: Decimal, base: Decimal
) -> Decimal | Undecided | None:
    """The root ``u > 0`` of one leg's margin equation ``f(u) = base − σ·at_entry + σ·k·u −
    MM(k·u)`` (``k = exposure``; ``base`` the collateral less other symbols' maintenance), or
    None when no positive one exists, for a :attr:`~margincall.math.tiers.Table.monotone`
    table; :data:`UNDECIDED` when the root's value lies within
    :data:`~margincall.math.tiers.EDGE_GUARD` of a tier edge.

    ``f`` is monotone, so the root's tier is found by bisecting the table's ladder (sign tests
    at each edge), and the root is that one segment's ``−A/B``: the same coefficients, in the
    same order of operations, as :func:`solve_by_segments`, hence the same result (no other
    segment's root lies in its own segment, unless near an edge). O(log tiers), one division.
    Runs in the caller's context: margincall's exact one.
    """
    if sigma > 0:
        j = bisect_left(table.long_ladder, at_entry - base)
    else:
        j = bisect_left(table.short_ladder, base + at_entry)
    a = base - sigma * at_entry + table.amounts[j]
    b = sigma * exposure - exposure * table.rates[j]
    u = -a / b
    if u <= 0:
        return None if j == 0 else UNDECIDED
    value = u * exposure
    high = table.inner_high[j]
    if value <= table.inner_low[j] or (high is not None and value >= high):
        return UNDECIDED
    return u


_TABLES: dict[int, tuple[tuple[Tier, ...], Table]] = {}
"""Tables resolved for :func:`solve`, by the identity of the tier tuple they resolve (kept
alive here, so the identity stays theirs); bounded by :data:`_TABLES_KEPT`."""
_TABLES_KEPT = 256


def table_of(tiers: tuple[Tier, ...]) -> Table:
    """``tiers`` resolved (:class:`~margincall.math.tiers.Table`), once per tuple object: a
    policy's market tables are the same tuples call after call."""
    kept = _TABLES.get(id(tiers))
    if kept is not None and kept[0] is tiers:
        return kept[1]
    if len(_TABLES) >= _TABLES_KEPT:
        _TABLES.clear()
    table = Table(tiers)
    _TABLES[id(tiers)] = (tiers, table)
    return table


def bankruptcy_ratio(problem: PriceProblem) -> tuple[Decimal, Decimal] | None:
    """The bankruptcy price of a one-leg problem as an exact ratio ``(numerator,
    denominator)``, the denominator positive, for rounding it exactly (a tick); None for a
    pool of several legs. From ``c + σ·k·(u − e') = 0`` (``e'`` the entry, or ``1/entry``
    for inverse contracts): linear ``P = (σ·k·E − c) / (σ·k)``, inverse ``P = σ·k·E / (σ·k −
    c·E)``. Products of inputs only, in the exact sums' context (an inexact one raises)."""
    if len(problem.legs) != 1:
        return None
    (leg,) = problem.legs
    inverse = problem.market.inverse
    sigma = -leg.sign if inverse else leg.sign
    with exact_sums():
        k, entry, c = leg.exposure, leg.entry_price, problem.collateral
        if inverse:
            numerator, denominator = sigma * k * entry, sigma * k - c * entry
        else:
            numerator, denominator = sigma * k * entry - c, sigma * k
        if denominator < 0:
            numerator, denominator = -numerator, -denominator
    return (numerator, denominator) if denominator else None


NOISE = Decimal(10) ** (10 - PRECISION)
"""Relative difference below which two roots are one: a root on a tier edge is found by
both neighbouring segments, from coefficients rounded differently in the last digits."""


def _distinct(prices: list[Decimal]) -> list[Decimal]:
    kept: list[Decimal] = []
    for price in prices:
        if not kept or price - kept[-1] > NOISE * price:
            kept.append(price)
    return kept


def solve(problem: PriceProblem, *, maintenance: bool) -> PriceSolution:
    """Solve ``margin balance = maintenance margin`` (or ``= 0`` when not ``maintenance``).

    A one-leg problem on a monotone table takes :func:`one_leg_root` (O(log tiers));
    anything else, every segment (O(legs × tiers))."""
    inverse = problem.market.inverse
    if maintenance and len(problem.legs) == 1:
        (leg,) = problem.legs
        table = table_of(leg.tiers)
        if table.monotone:
            sigma = -leg.sign if inverse else leg.sign
            at_entry = leg.exposure / leg.entry_price if inverse else leg.exposure * leg.entry_price
            base = problem.collateral - problem.other_maintenance
            root = one_leg_root(table, sigma, leg.exposure, at_entry, base)
            if root is None:
                return PriceSolution(None)
            if root is not UNDECIDED:
                price = 1 / root if inverse else root
                u = 1 / price if inverse else price
                return PriceSolution(price, (tier_index(leg.tiers, leg.exposure * u),))
    return solve_by_segments(problem, maintenance=maintenance)


def solve_by_segments(problem: PriceProblem, *, maintenance: bool) -> PriceSolution:
    """:func:`solve` segment by segment, whatever the problem: every root of every segment."""
    inverse = problem.market.inverse
    prices = _distinct(
        sorted((1 / u if inverse else u) for u in _roots(problem, maintenance) if u > 0)
    )
    if not prices:
        return PriceSolution(None)
    if len(prices) == 1:
        price = prices[0]
    elif problem.mark is None:
        raise InvalidInputError(
            f"{problem.market.symbol}: the pool is liquidated both at {prices[0]} and at "
            f"{prices[-1]}; pass the symbol's mark price to choose the nearer one"
        )
    else:
        mark = problem.mark
        price = min(prices, key=lambda p: (abs(p - mark), p))
    u = 1 / price if inverse else price
    return PriceSolution(
        price, tuple(tier_index(leg.tiers, leg.exposure * u) for leg in problem.legs)
    )


def safe_interval(problem: PriceProblem, mark: Decimal) -> tuple[Decimal, Decimal | None] | None:
    """The prices of ``problem``'s symbol, around ``mark``, over which its one-leg pool stays
    above its maintenance margin without leaving the mark's tier: ``(low, high)``, open at
    both ends (low 0 and high None: unbounded), or None when the pool is at or below its
    maintenance margin at ``mark``. Between tier edges the margin equation is linear, so
    this is one segment's coefficients and root: O(log tiers), against O(tiers) for
    :func:`solve`. The engine's trigger index keeps the pool out of its checks while the
    mark stays inside."""
    if len(problem.legs) != 1:
        raise InvalidInputError("safe_interval: a pool of one leg only")
    leg = problem.legs[0]
    inverse = problem.market.inverse
    u = 1 / mark if inverse else mark
    index = tier_index(leg.tiers, leg.exposure * u)
    a, b = _coefficients(problem, [leg.tiers[index]])
    if a + b * u <= 0:
        return None
    lo = ZERO if index == 0 else leg.tiers[index - 1].max_notional / leg.exposure
    hi = None if index == len(leg.tiers) - 1 else leg.tiers[index].max_notional / leg.exposure
    if b != 0:
        root = -a / b
        if b > 0 and root > lo:
            lo = root
        elif b < 0 and (hi is None or root < hi):
            hi = root
    if not inverse:
        return lo, hi
    return (ZERO if hi is None else 1 / hi), (None if lo == 0 else 1 / lo)
