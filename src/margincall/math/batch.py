"""Vectorised one-leg figures over arrays (NumPy): maintenance margin, liquidation and
bankruptcy prices of many one-way isolated positions in one market, as float64.

The rules are :mod:`margincall.math.pricing`'s, in value space (``v``: the position's value at
the price; ``k``: its exposure; ``A``: its value at entry; ``m``: its margin; ``σ``: its side,
negated for inverse contracts):

* bankruptcy: ``v = A − σ·m``;
* liquidation: ``v = (T − σ·amount_j) / (1 − σ·rate_j)`` with ``T = A − σ·m`` and ``j`` the
  tier whose step of the table's ladder holds ``T`` (:class:`~margincall.math.tiers.Table`;
  a compare per step, for every row at once);
* maintenance margin at the mark: ``value·rate_j − amount_j``, ``j`` the tier holding ``value``;

and the price is ``v / k`` (linear) or ``k / v`` (inverse).

**Exactness.** Every figure is computed in double-double arithmetic (a pair of float64
``hi + lo``, about 106 bits, by Dekker's and Knuth's error-free products and sums) from the
float64 inputs taken at their exact binary values, and carries a bound on its error: what
each step leaves out (none for a product of two float64, or a sum kept exactly), :data:`OP`
for each double-double product or quotient, and :data:`DEC` for the exact path's own
50-digit rounding. A row is *certain* when, by that bound, its result lies away from every
boundary that could change it: a tier edge (the tier would differ), zero (no positive price:
NaN) and a float64 rounding boundary (the midpoint between two neighbouring doubles). Then
``hi`` is the exact result rounded to float64. Every other row is returned as uncertain: the
caller recomputes it through the exact scalar path. O(rows × tiers), in chunks of
:data:`CHUNK` rows that stay in the CPU cache.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from margincall.decimals import exact
from margincall.math.tiers import Table

Floats = NDArray[np.float64]
Low = NDArray[Any] | float
"""A low part: an array, or 0.0 where it is known to be zero."""
Flags = NDArray[np.bool_]

OP = 2.0**-98
"""Bound on the relative error of one double-double product or quotient (a few 2⁻¹⁰⁴ in
truth), and of a table number's double-double copy."""

ULP = 2.0**-52
"""Bound on the relative error of one float64 rounding (2⁻⁵³, doubled): where a low part is
rounded without its error being kept."""

DEC = 2.0**-150
"""Bound on the exact path's own rounding (50 significant digits, about 2⁻¹⁶³ an operation,
over a dozen operations), relative to the magnitudes of the terms it sums: a row is certain
only if that rounding, too, cannot move its float64."""

LADDER_TOLERANCE = 2.0**-40
"""A row whose ladder target or value lies this close (relatively) to a tier edge is
uncertain: the float64 copies of the edges are within 2⁻⁵³ of the exact ones, and the exact
path itself defers a root within 10⁻³⁰ of an edge to its segment solver."""

CHUNK = 1 << 14
"""Rows per chunk: some twenty arrays of this many float64 fit in a 4 MiB cache."""

_SPLIT = 134217729.0  # 2**27 + 1: Dekker's splitter for float64


# --- double-double arithmetic (Dekker 1971; Knuth, TAOCP vol. 2, 4.2.2) ----------------------
# A pair (hi, lo) stands for hi + lo with |lo| <= ulp(hi)/2. ``*_split`` arguments are
# Dekker's halves of a float64 (:func:`_split`), computed once per operand.

Split = tuple[Floats, Floats]


def _two_sum(a: Floats, b: Low) -> tuple[Floats, Floats]:
    """``a + b`` exactly, as a pair."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _fast_two_sum(a: Floats, b: Floats) -> tuple[Floats, Floats]:
    """``a + b`` exactly as a pair, for ``|a| >= |b|`` (or a == 0)."""
    s = a + b
    return s, b - (s - a)


def _split(a: Floats) -> Split:
    c = _SPLIT * a
    high = c - (c - a)
    return high, a - high


def _prod(a: Floats, a_split: Split, b: Floats, b_split: Split) -> tuple[Floats, Floats]:
    """``a · b`` exactly, as a pair."""
    p = a * b
    (ah, al), (bh, bl) = a_split, b_split
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _mul(
    xh: Floats, xl: Floats | float, x_split: Split, yh: Floats, yl: Floats | float, y_split: Split
) -> tuple[Floats, Floats]:
    """``x · y`` of two pairs."""
    p, e = _prod(xh, x_split, yh, y_split)
    cross = xh * yl if isinstance(xl, float) and xl == 0 else xh * yl + xl * yh
    return _fast_two_sum(p, e + cross)


def _div(
    xh: Floats, xl: Floats | float, yh: Floats, yl: Floats | float, y_split: Split
) -> tuple[Floats, Floats]:
    """``x / y`` of two pairs: the quotient's float64, corrected by the remainder."""
    q = xh / yh
    p, e = _prod(q, _split(q), yh, y_split)
    rest = xl if isinstance(yl, float) and yl == 0 else xl - q * yl
    return _fast_two_sum(q, (((xh - p) - e) + rest) / yh)


def _sum(xh: Floats, xl: Floats | float, yh: Floats, yl: Floats | float) -> tuple[Floats, Floats]:
    """``x + y`` of two pairs."""
    s, e = _two_sum(xh, yh)
    return _fast_two_sum(s, e + (xl + yl))


def _pair(value: Decimal) -> tuple[float, float]:
    """``value`` as a double-double ``hi + lo`` (within 2⁻¹⁰⁶ of it)."""
    with exact():
        high = float(value)
        return high, float(value - Decimal(high))


class _Column:
    """Numbers of a table as float64 arrays: ``hi``, ``lo`` and the halves of ``hi``."""

    def __init__(self, values: list[Decimal] | list[list[Decimal]]) -> None:
        pairs = np.array(
            [[_pair(v) for v in row] for row in values]
            if values and isinstance(values[0], list)
            else [_pair(v) for v in values]  # type: ignore[arg-type]
        )
        self.hi = np.ascontiguousarray(pairs[..., 0])
        self.lo = np.ascontiguousarray(pairs[..., 1])
        self.halves = _split(self.hi)


# --- a resolved table as arrays -----------------------------------------------------------


class ArrayTable:
    """A market's contract and, when given, its resolved tier table
    (:class:`~margincall.math.tiers.Table`) as float64 arrays (each number a double-double
    pair): what the kernels read. Without a table only the bankruptcy price can be asked."""

    def __init__(self, contract_size: Decimal, inverse: bool, table: Table | None = None) -> None:
        self.inverse = inverse
        self.contract = _pair(contract_size)
        self.unit = self.contract == (1.0, 0.0)
        """Whether a contract is one unit: the exposure is the size itself, exactly."""
        self.table = table
        if table is None:
            return
        self.edges = np.array([float(e) for e in table.edges])
        self.ladders = np.array(
            [[float(x) for x in table.long_ladder], [float(x) for x in table.short_ladder]]
        ).reshape(2, len(table.edges))
        """Row 0: the long ladder (σ = +1), row 1: the short one (σ = −1)."""
        self.rates = _Column(list(table.rates))
        self.amounts = _Column(list(table.amounts))
        with exact():
            # per side (σ = +1 first, then σ = −1), per tier: σ·amount and 1 / (1 − σ·rate)
            self.signed_amounts = _Column([*table.amounts, *(-a for a in table.amounts)])
            self.inverse_slopes = _Column(
                [*(1 / (1 - r) for r in table.rates), *(1 / (1 + r) for r in table.rates)]
            )


def _rounds_uncertainly(high: Floats, low: Floats, bound: Floats) -> Flags:
    """Whether ``high + low`` (normalised: ``high`` is it rounded to float64), give or take
    ``bound``, might round to another float64 than ``high``: whether it lies within the bound
    of a midpoint between ``high`` and a neighbour. The narrower gap is the one below
    ``|high|`` (half the one above at a power of two): the spacing of ``|high|·(1 − 2⁻⁵³)``,
    which is ``|high|``'s predecessor there and in ``|high|``'s binade elsewhere."""
    narrower = np.spacing(np.abs(high) * (1 - 2.0**-53))
    uncertain: Flags = np.abs(low) + bound >= 0.5 * narrower
    return uncertain


def _position(ladder: Floats, x: Floats) -> NDArray[np.intp]:
    """``bisect_left(ladder, x)`` for every row: how many steps lie below ``x``. A compare
    per step beats ``searchsorted``'s per-row binary search on the few steps of a tier
    table (O(rows × tiers), vectorised)."""
    j = np.zeros(len(x), dtype=np.intp)
    for step in ladder:
        j += x > step
    return j


def one_leg_figures(
    t: ArrayTable,
    sign: NDArray[np.int8],
    size: Floats,
    entry: Floats,
    margin: Floats,
    mark: Floats | None,
    *,
    liquidation: bool,
    bankruptcy: bool,
) -> dict[str, tuple[Floats, Flags]]:
    """The figures asked for, each as ``(float64 values, uncertain rows)``: ``"liquidation"``
    (needs a monotone table), ``"bankruptcy"``, and ``"maintenance"`` when ``mark`` is
    given. NaN where no positive price exists. Processes :data:`CHUNK` rows at a time."""
    if (liquidation or mark is not None) and t.table is None:
        raise ValueError("one_leg_figures: the liquidation price and the margin need a table")
    if liquidation and not t.table.monotone:  # type: ignore[union-attr]
        raise ValueError("one_leg_figures: the liquidation price needs a monotone table")
    n = len(size)
    names = (
        (["liquidation"] if liquidation else [])
        + (["bankruptcy"] if bankruptcy else [])
        + (["maintenance"] if mark is not None else [])
    )
    out = {name: (np.empty(n), np.zeros(n, dtype=bool)) for name in names}
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for start in range(0, n, CHUNK):
            rows = slice(start, min(n, start + CHUNK))
            part = _chunk(
                t,
                sign[rows],
                size[rows],
                entry[rows],
                margin[rows],
                None if mark is None else mark[rows],
                names,
            )
            for name, (values, uncertain) in part.items():
                out[name][0][rows] = values
                out[name][1][rows] = uncertain
    return out


def _exposure(t: ArrayTable, size: Floats) -> tuple[Floats, Floats | float, Split, float]:
    """``k = size × contract size`` as a pair, its halves, and its relative error."""
    size_split = _split(size)
    if t.unit:  # k = size, exactly
        return size, 0.0, size_split, 0.0
    ch, cl = t.contract
    c = np.full_like(size, ch)
    p, e = _prod(size, size_split, c, _split(c))
    kh, kl = _fast_two_sum(p, e + size * cl)
    return kh, kl, _split(kh), OP


def _valued(
    t: ArrayTable, kh: Floats, kl: Floats | float, k_split: Split, ek: float, price: Floats
) -> tuple[Floats, Floats, float]:
    """The value ``k·P`` (linear) or ``k/P`` (inverse) at ``price`` as a pair, and its
    relative error (none for a product of two float64, by Dekker's method)."""
    if t.inverse:
        vh, vl = _div(kh, kl, price, 0.0, _split(price))
        return vh, vl, OP + ek
    vh, vl = _mul(kh, kl, k_split, price, 0.0, _split(price))
    return vh, vl, (ek if t.unit else OP + ek)


def _minus(xh: Floats, xl: Low, yh: Floats, yl: Low) -> tuple[Floats, Floats, Floats]:
    """``x − y`` of two pairs, and a bound on what the pair leaves out: the low parts'
    difference is rounded (exact where ``yl`` is 0) and the rest is kept exactly."""
    s, e = _two_sum(xh, -yh)
    if isinstance(yl, float) and yl == 0:
        z, dropped = _two_sum(e, xl)
        return (*_fast_two_sum(s, z), np.abs(dropped))
    z, dropped = _two_sum(e, xl - yl)
    high, low = _fast_two_sum(s, z)
    return high, low, np.abs(dropped) + ULP * (np.abs(xl) + np.abs(yl)) * (yl != 0)


def _settle(
    h: Floats, absolute: Floats, relative: Floats, ph: Floats, pl: Floats
) -> tuple[Floats, Flags]:
    """The price ``ph + pl`` of a value ``h`` known within ``absolute``, the price itself
    within ``relative``: NaN where the value is ≤ 0; uncertain where the value's sign or the
    price's rounding is not known."""
    positive = h > 0
    uncertain = np.abs(h) <= 2 * absolute
    uncertain |= positive & _rounds_uncertainly(ph, pl, 2 * relative * np.abs(ph))
    return np.where(positive, ph, np.nan), uncertain


def _maintenance(
    t: ArrayTable, vh: Floats, vl: Floats, ev: float
) -> tuple[Floats, Floats, Floats, Flags]:
    """The maintenance margin at value ``v`` (``value·rate_j − amount_j``) as a pair, a
    bound on its error, and whether ``v`` lies too near a tier edge to place it."""
    edges = t.edges
    j = _position(edges, vh)
    near = _near(vh, edges.reshape(1, -1), np.ones(len(vh), dtype=bool), j)
    rates, amounts = t.rates, t.amounts
    halves = (rates.halves[0][j], rates.halves[1][j])
    rh, rl = _mul(vh, vl, _split(vh), rates.hi[j], rates.lo[j], halves)
    ah_j = amounts.hi[j]
    mh, ml, dropped = _minus(rh, rl, ah_j, amounts.lo[j])
    error = (ev + 2 * OP + DEC) * np.abs(rh) + dropped + (OP + DEC) * np.abs(ah_j)
    return mh, ml, error, near


def _prices(
    t: ArrayTable,
    k: tuple[Floats, Floats | float, Split, float],
    sigma: NDArray[np.int8],
    a: tuple[Floats, Floats, float],
    bases: Mapping[str, tuple[Floats, Floats | float, Floats | float, Floats]],
) -> dict[str, tuple[Floats, Flags]]:
    """Liquidation and bankruptcy prices from each name's base: ``(hi, lo, error, magnitude)``
    of the collateral (less the other symbols' maintenance, for ``"liquidation"``).
    ``a`` is the value at entry (pair, relative error)."""
    kh, kl, k_split, ek = k
    ah, al, ea = a

    def price(vh: Floats, vl: Floats) -> tuple[Floats, Floats]:
        """The price at value ``v``: ``v / k`` (linear) or ``k / v`` (inverse)."""
        return _div(kh, kl, vh, vl, _split(vh)) if t.inverse else _div(vh, vl, kh, kl, k_split)

    out: dict[str, tuple[Floats, Flags]] = {}
    for name, (bh, bl, error, size) in bases.items():
        # T = A − σ·base: the bankruptcy value, and the liquidation ladder's target
        low = bl if isinstance(bl, float) and bl == 0 else sigma * bl
        th, tl, dropped = _minus(ah, al, sigma * bh, low)
        magnitude = np.abs(ah) + size
        et = ea * np.abs(ah) + dropped + error + DEC * magnitude
        if name == "bankruptcy":
            ph, pl = price(th, tl)
            out[name] = _settle(th, et, et / np.abs(th) + ek + 2 * OP, ph, pl)
            continue
        ladders, up = t.ladders, sigma > 0
        j = np.where(up, _position(ladders[0], th), _position(ladders[1], th))
        at = j + np.where(up, 0, len(t.edges) + 1)  # per side, per tier
        amounts, slopes = t.signed_amounts, t.inverse_slopes
        # N = T − σ·amount_j; v = N / (1 − σ·rate_j), by the slope's reciprocal
        amount = amounts.hi[at]
        nh, nl, dropped = _minus(th, tl, amount, amounts.lo[at])
        en = et + dropped + (OP + DEC) * np.abs(amount)
        halves = (slopes.halves[0][at], slopes.halves[1][at])
        vh, vl = _mul(nh, nl, _split(nh), slopes.hi[at], slopes.lo[at], halves)
        ph, pl = price(vh, vl)
        values, uncertain = _settle(nh, en, en / np.abs(nh) + ek + 4 * OP, ph, pl)
        out[name] = (values, uncertain | _near(th, ladders, up, j))
    return out


def _chunk(
    t: ArrayTable,
    sign: NDArray[np.int8],
    size: Floats,
    entry: Floats,
    margin: Floats,
    mark: Floats | None,
    names: list[str],
) -> dict[str, tuple[Floats, Flags]]:
    """One chunk of :func:`one_leg_figures`. Each double-double quantity carries a bound on
    its error (zero where every step was exact, as a product of two float64 by Dekker's
    method is), so that cancellation (a 1x long's margin against its value) costs certainty
    only where it cost precision; a figure is certain when that bound and the exact path's
    own rounding (:data:`DEC`) keep it off zero, a tier edge and a rounding boundary."""
    k = _exposure(t, size)
    sigma = -sign if t.inverse else sign
    isolated = (margin, 0.0, 0.0, margin)  # the margin is exact: a float64
    bases = {name: isolated for name in names if name != "maintenance"}
    out = _prices(t, k, sigma, _valued(t, *k, entry), bases) if bases else {}
    if mark is not None:
        vh, vl, ev = _valued(t, *k, mark)
        mh, ml, error, near = _maintenance(t, vh, vl, ev)
        bound = 2 * error
        uncertain = near | (np.abs(mh) <= bound) | _rounds_uncertainly(mh, ml, bound)
        out["maintenance"] = (mh, uncertain)
    return out


def _near(x: Floats, ladders: Floats, up: Flags, j: NDArray[np.intp]) -> Flags:
    """Whether ``x``, at position ``j`` of its ladder (row 0 of ``ladders`` where ``up``,
    else row 1), lies within :data:`LADDER_TOLERANCE` of the step below or above it."""
    steps = ladders.shape[1]
    if not steps:
        return np.zeros(len(x), dtype=bool)
    flat = ladders.reshape(-1)
    row = np.where(up, 0, steps) if len(ladders) > 1 else 0  # where the row's ladder starts
    below = flat[row + np.maximum(j - 1, 0)]  # (where j is 0, a step that is not read)
    above = flat[row + np.minimum(j, steps - 1)]
    tolerance = LADDER_TOLERANCE * np.abs(x)
    near: Flags = ((j > 0) & (np.abs(x - below) <= tolerance)) | (
        (j < steps) & (np.abs(above - x) <= tolerance)
    )
    return near


def _group_sums(
    groups: NDArray[np.intp], count: int, high: Floats, low: Floats
) -> tuple[Floats, Floats]:
    """Per group, the sum of its rows' pairs (``high + low``): the rows are added in rank
    order within their group, every group at once (no group holds a rank twice)."""
    total_h, total_l = np.zeros(count), np.zeros(count)
    if not len(groups):
        return total_h, total_l
    order = np.argsort(groups, kind="stable")
    ordered = groups[order]
    rank = np.arange(len(groups)) - np.searchsorted(ordered, ordered, side="left")
    for r in range(int(rank.max()) + 1):
        rows = order[rank == r]
        g = groups[rows]
        total_h[g], total_l[g] = _sum(total_h[g], total_l[g], high[rows], low[rows])
    return total_h, total_l


def cross_figures(
    tables: Sequence[ArrayTable],
    symbol: NDArray[np.intp],
    account: NDArray[np.intp],
    balance: Floats,
    sign: NDArray[np.int8],
    size: Floats,
    entry: Floats,
    mark: Floats,
    *,
    liquidation: bool,
    bankruptcy: bool,
) -> dict[str, tuple[Floats, Flags]]:
    """Figures of cross positions, one row each, at most one per (account, symbol): the
    row's ``"maintenance"`` margin at its mark; the ``"liquidation"`` and ``"bankruptcy"``
    prices of its symbol, the account's other symbols held at their marks; and its account's
    ``"margin_balance"`` (balance + Σ PnL) and ``"pool_maintenance"`` (Σ maintenance).
    ``symbol`` indexes ``tables`` (monotone ones, for the liquidation price); ``account``
    indexes ``balance``. Each as ``(float64 values, uncertain rows)``, the rules and the
    bounds of :func:`one_leg_figures`, with each sum's error bounded by :data:`OP` times the
    magnitudes it adds. O(rows × (tiers + symbols per account))."""
    n, accounts = len(size), len(balance)
    pnl_h, pnl_l, pnl_e, pnl_size = (np.zeros(n) for _ in range(4))
    mm_h, mm_l, mm_e = (np.zeros(n) for _ in range(3))
    mm_uncertain = np.zeros(n, dtype=bool)
    legs = {}
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for code, t in enumerate(tables):
            rows = np.flatnonzero(symbol == code)
            if not len(rows):
                continue
            k = _exposure(t, size[rows])
            a = _valued(t, *k, entry[rows])
            vh, vl, ev = _valued(t, *k, mark[rows])
            legs[code] = (rows, k, a)
            ah, al, ea = a
            # PnL: side·(V − A) (linear) or side·(A − V) (inverse, values in coin)
            h, low, dropped = _minus(ah, al, vh, vl) if t.inverse else _minus(vh, vl, ah, al)
            side = sign[rows]
            pnl_h[rows], pnl_l[rows] = side * h, side * low
            pnl_e[rows] = dropped + ea * np.abs(ah) + ev * np.abs(vh)
            pnl_size[rows] = np.abs(ah) + np.abs(vh)
            mh, ml, error, near = _maintenance(t, vh, vl, ev)
            mm_h[rows], mm_l[rows], mm_e[rows] = mh, ml, error
            mm_uncertain[rows] = near | (np.abs(mh) <= 2 * error)
            mm_uncertain[rows] |= _rounds_uncertainly(mh, ml, 2 * error)
        pnl_total = _group_sums(account, accounts, pnl_h, pnl_l)
        mm_total = _group_sums(account, accounts, mm_h, mm_l)

        def per_account(weights: Floats) -> Floats:
            return np.bincount(account, weights=weights, minlength=accounts).astype(np.float64)

        sizes = per_account(pnl_size) + per_account(np.abs(mm_h)) + np.abs(balance)
        errors = per_account(pnl_e + mm_e) + OP * sizes
        out: dict[str, tuple[Floats, Flags]] = {"maintenance": (mm_h, mm_uncertain)}
        for name, (total_h, total_l) in (
            ("margin_balance", _sum(balance, 0.0, *pnl_total)),
            ("pool_maintenance", mm_total),
        ):
            bound = 2 * (errors + DEC * sizes)
            uncertain = (np.abs(total_h) <= bound) | _rounds_uncertainly(total_h, total_l, bound)
            out[name] = (total_h[account], uncertain[account])
        # each row's bases: balance + the others' PnL (bankruptcy), less their maintenance
        others_h, others_l, d1 = _minus(pnl_total[0][account], pnl_total[1][account], pnl_h, pnl_l)
        bp_h, bp_l = _sum(balance[account], 0.0, others_h, others_l)
        less_h, less_l, d2 = _minus(mm_total[0][account], mm_total[1][account], mm_h, mm_l)
        lp_h, lp_l, d3 = _minus(bp_h, bp_l, less_h, less_l)
        error = errors[account] + d1 + d2 + d3
        names = {"liquidation": liquidation, "bankruptcy": bankruptcy}
        for name in (n for n, wanted in names.items() if wanted):
            out[name] = (np.full(n, np.nan), np.zeros(n, dtype=bool))
        for code, (rows, k, a) in legs.items():
            t = tables[code]
            sigma = -sign[rows] if t.inverse else sign[rows]
            bases = {}
            if bankruptcy:
                bases["bankruptcy"] = (bp_h[rows], bp_l[rows], error[rows], sizes[account[rows]])
            if liquidation:
                bases["liquidation"] = (lp_h[rows], lp_l[rows], error[rows], sizes[account[rows]])
            for name, (values, uncertain) in _prices(t, k, sigma, a, bases).items():
                out[name][0][rows] = values
                out[name][1][rows] = uncertain
    return out
