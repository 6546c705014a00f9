"""The batch API's front: :meth:`Policy.isolated_risk <margincall.Policy.isolated_risk>` over
columns of positions (NumPy; the ``batch`` extra).

Inputs are checked once, as columns, and every row must be what the scalar API accepts for a
:class:`~margincall.account.Position`. Numbers are taken as float64 and each row's figures are
the exact scalar path's for those float64 values (``Decimal(x)``: their exact binary value),
rounded to float64: the kernels of :mod:`margincall.math.batch` compute the rows they can
vouch for, and the others (:attr:`IsolatedRisk.exact_rows`) go through the scalar path.

A figure whose rule has no vectorised form in this policy (a plugin's own price hook, a tier
table that depends on the position, a step table) is computed row by row through the exact
path, with a :class:`BatchFallbackWarning` naming the hook or setting: never a silently
different rule.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from margincall.account import Account, Position
from margincall.decimals import non_negative, positive
from margincall.errors import InvalidInputError, MargincallError
from margincall.math.batch import ArrayTable, Floats, one_leg_figures

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from margincall.policy import Policy

FIGURES = ("maintenance_margin", "liquidation_price", "bankruptcy_price")

SMALL = 2.0**-47
"""A float64 at least this large has at most 100 decimal places (its lowest bit is 2⁻⁹⁹ or
above), so the vectorised check of the scalar API's bounds is exact above it; a smaller
nonzero input is checked by the scalar validator itself."""
LARGE = 1e29
"""Likewise: below this a float64 is inside the scalar API's magnitude bound (< 10³⁰)."""


class BatchFallbackWarning(UserWarning):
    """A batch figure is computed row by row through the exact path: the policy's rule for it
    has no vectorised form. The message names the hook or setting."""


@attrs.frozen(eq=False)
class IsolatedRisk:
    """Figures of a column of isolated positions in one market, one row per position.

    ``maintenance_margin`` (at ``mark``; NaN everywhere without one), ``liquidation_price`` and
    ``bankruptcy_price`` (NaN where no positive price exists) are float64 arrays; each row is
    the exact scalar result for the row's float64 inputs, rounded to float64.
    ``exact_rows`` holds the indices of the rows recomputed through the exact path."""

    symbol: str
    maintenance_margin: Floats
    liquidation_price: Floats
    bankruptcy_price: Floats
    exact_rows: NDArray[np.intp]

    def __len__(self) -> int:
        return len(self.liquidation_price)

    def to_pandas(self) -> Any:
        """A pandas DataFrame of the three figures (the ``pandas`` extra) and a boolean
        ``exact`` column marking :attr:`exact_rows`."""
        try:
            pd = importlib.import_module("pandas")  # an optional dependency
        except ImportError:
            raise MargincallError("to_pandas needs pandas: pip install pandas") from None
        exact = np.zeros(len(self), dtype=bool)
        exact[self.exact_rows] = True
        return pd.DataFrame({**{f: getattr(self, f) for f in FIGURES}, "exact": exact})


# --- input columns ------------------------------------------------------------------------


def _floats(name: str, value: object) -> Floats:
    try:
        column = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"isolated_risk: {name}: expected numbers ({error})") from None
    if column.ndim > 1:
        raise InvalidInputError(
            f"isolated_risk: {name}: expected a number or one column, got shape {column.shape}"
        )
    return column


def _check(name: str, column: Floats, check: Callable[..., Decimal]) -> None:
    """Every row as the scalar API checks it (``check``: positive or non_negative, bounded);
    InvalidInputError naming the first row it refuses."""
    magnitude = np.abs(column)
    wrong = ~np.isfinite(column) | (column < 0) | (magnitude >= LARGE)
    wrong |= (column == 0) if check is positive else np.zeros_like(wrong)
    wrong |= (column != 0) & (magnitude < SMALL)
    for row in np.flatnonzero(wrong):
        shown = f"{name}[{row}]" if column.ndim else name
        check(Decimal(float(column.flat[row])), f"isolated_risk: {shown}", bounded=True)


def _signs(side: object) -> NDArray[np.int8]:
    """``side`` as +1 (long) and −1 (short): strings "long"/"short" (compared as fixed-width
    text when the column is, else as objects) or the numbers +1/−1."""
    column = np.asarray(side)
    if column.ndim > 1:
        raise InvalidInputError(f"isolated_risk: side: expected one column, got {column.shape}")
    if column.dtype.kind in "iuf":
        long, short = column == 1, column == -1
    else:
        if column.dtype.kind not in "US":
            column = column.astype(object)
        long, short = column == "long", column == "short"
    wrong = np.flatnonzero(~(long | short))
    if len(wrong):
        row = wrong[0]
        shown = f"side[{row}]" if column.ndim else "side"
        raise InvalidInputError(
            f"isolated_risk: {shown}: must be 'long' or 'short' (or +1/-1), got "
            f"{column.flat[row]!r}"
        )
    return np.where(long, 1, -1).astype(np.int8)


def _columns(
    side: object, size: object, entry_price: object, margin: object, mark: object | None
) -> tuple[NDArray[np.int8], Floats, Floats, Floats, Floats | None]:
    named = {"size": size, "entry_price": entry_price, "margin": margin}
    if mark is not None:
        named["mark"] = mark
    floats = {name: _floats(name, value) for name, value in named.items()}
    signs = _signs(side)
    for name, check in (
        ("size", positive),
        ("entry_price", positive),
        ("margin", non_negative),
        ("mark", positive),
    ):
        if name in floats:
            _check(name, floats[name], check)
    lengths = {name: len(c) for name, c in floats.items() if c.ndim} | (
        {"side": len(signs)} if signs.ndim else {}
    )
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} {n}" for name, n in lengths.items())
        raise InvalidInputError(f"isolated_risk: the columns differ in length ({shown})")
    n = next(iter(lengths.values()), 1)
    rows = [np.broadcast_to(c, (n,)) for c in floats.values()]
    signs = np.broadcast_to(signs, (n,))
    return (
        np.ascontiguousarray(signs),
        *(np.ascontiguousarray(r) for r in rows[:3]),
        None if mark is None else np.ascontiguousarray(rows[3]),
    )  # type: ignore[return-value]


# --- which figures have a vectorised form in this policy ----------------------------------


def _table_reason(policy: Policy, symbol: str) -> str:
    """Why ``symbol`` has no resolved table (:meth:`Policy._resolve_tables`)."""
    if policy.spec.margin.maintenance_value == "entry":
        return '[margin] maintenance_value = "entry" (a requirement fixed per position)'
    plugins = policy.overridden_hooks.get("margincall_maintenance_tiers", ())
    return f"margincall_maintenance_tiers of {', '.join(plugins)} reads the position"


def _fallbacks(policy: Policy, symbol: str) -> dict[str, str]:
    """The figures without a vectorised form, each with the reason."""
    reasons = {}
    table = policy._tables.get(symbol)
    if table is None:
        reasons["maintenance_margin"] = reasons["liquidation_price"] = _table_reason(policy, symbol)
    elif not table.monotone:
        reasons["liquidation_price"] = (
            f"the tier table of {symbol} is not monotone (a step table or a rate of 1 or "
            "more): its liquidation price can have several roots"
        )
    for figure, hook in (
        ("liquidation_price", "margincall_liquidation_price"),
        ("bankruptcy_price", "margincall_bankruptcy_price"),
    ):
        if hook in policy.overridden_hooks:
            plugins = ", ".join(policy.overridden_hooks[hook])
            reasons[figure] = f"{hook} is overridden by {plugins}, which has no vectorised form"
    return reasons


# --- the batch call -----------------------------------------------------------------------


def isolated_risk(
    policy: Policy,
    symbol: str,
    *,
    side: object,
    size: object,
    entry_price: object,
    margin: object,
    mark: object | None = None,
) -> IsolatedRisk:
    """See :meth:`margincall.Policy.isolated_risk`."""
    policy.market(symbol)
    signs, sizes, entries, margins, marks = _columns(side, size, entry_price, margin, mark)
    n = len(sizes)
    fallbacks = _fallbacks(policy, symbol)
    if marks is None:
        fallbacks.pop("maintenance_margin", None)
    for figure, reason in fallbacks.items():
        warnings.warn(
            f"{policy.name} {symbol}: {figure} computed row by row through the exact path: "
            f"{reason}",
            BatchFallbackWarning,
            stacklevel=3,
        )
    results: dict[str, Floats] = {f: np.full(n, np.nan) for f in FIGURES}
    uncertain = {f: np.ones(n, dtype=bool) for f in FIGURES if f not in fallbacks}
    if marks is None:
        uncertain.pop("maintenance_margin", None)
    if n and uncertain:
        market = policy.markets[symbol]
        table = policy._arrays.get(symbol)
        if table is None:
            table = policy._arrays[symbol] = ArrayTable(
                market.contract_size, market.inverse, policy._tables.get(symbol)
            )
        computed = one_leg_figures(
            table,
            signs,
            sizes,
            entries,
            margins,
            marks if "maintenance_margin" in uncertain else None,
            liquidation="liquidation_price" in uncertain,
            bankruptcy="bankruptcy_price" in uncertain,
        )
        for name, figure in (
            ("maintenance", "maintenance_margin"),
            ("liquidation", "liquidation_price"),
            ("bankruptcy", "bankruptcy_price"),
        ):
            if name in computed:
                results[figure], uncertain[figure] = computed[name]
    redo = {f: np.ones(n, dtype=bool) for f in fallbacks} | uncertain
    if marks is None:
        redo.pop("maintenance_margin", None)
    rows = np.flatnonzero(np.logical_or.reduce([np.zeros(n, dtype=bool), *redo.values()]))
    for row in rows.tolist():
        _exact_row(policy, symbol, row, signs, sizes, entries, margins, marks, redo, results)
    return IsolatedRisk(
        symbol,
        results["maintenance_margin"],
        results["liquidation_price"],
        results["bankruptcy_price"],
        rows,
    )


def _exact_row(
    policy: Policy,
    symbol: str,
    row: int,
    signs: NDArray[np.int8],
    sizes: Floats,
    entries: Floats,
    margins: Floats,
    marks: Floats | None,
    redo: dict[str, Any],
    results: dict[str, Floats],
) -> None:
    """Row ``row``'s flagged figures through the exact scalar path."""
    position = Position._unchecked(  # the columns passed the scalar API's checks
        symbol,
        "long" if signs[row] > 0 else "short",
        Decimal(float(sizes[row])),
        Decimal(float(entries[row])),
        "isolated",
        Decimal(float(margins[row])),
        None,
    )
    account = Account._unchecked(Decimal(0), (position,), "one-way")
    for figure, flags in redo.items():
        if not flags[row]:
            continue
        value: Decimal | None
        if figure == "maintenance_margin":
            assert marks is not None
            value = policy.maintenance_margin(
                account, symbol, marks={symbol: Decimal(float(marks[row]))}
            )
        elif figure == "liquidation_price":
            value = policy.liquidation_price(account, symbol)
        else:
            value = policy.bankruptcy_price(account, symbol)
        results[figure][row] = np.nan if value is None else float(value)
