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
from margincall.decimals import non_negative, positive, to_decimal
from margincall.errors import InvalidInputError, MargincallError
from margincall.math.batch import ArrayTable, Floats, cross_figures, one_leg_figures

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
        return _frame(self, FIGURES)


def _frame(risk: IsolatedRisk | CrossRisk, figures: tuple[str, ...]) -> Any:
    """``risk``'s ``figures`` as a pandas DataFrame, with an ``exact`` column."""
    try:
        pd = importlib.import_module("pandas")  # an optional dependency
    except ImportError:
        raise MargincallError("to_pandas needs pandas: pip install pandas") from None
    exact = np.zeros(len(risk), dtype=bool)
    exact[risk.exact_rows] = True
    return pd.DataFrame({**{f: getattr(risk, f) for f in figures}, "exact": exact})


# --- input columns ------------------------------------------------------------------------

Check = Callable[..., Decimal]
"""The scalar API's check of a number: positive, non_negative or to_decimal."""


def _floats(what: str, name: str, value: object) -> Floats:
    try:
        column = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"{what}: {name}: expected numbers ({error})") from None
    if column.ndim > 1:
        raise InvalidInputError(
            f"{what}: {name}: expected a number or one column, got shape {column.shape}"
        )
    return column


def _check(what: str, name: str, column: Floats, check: Check) -> None:
    """Every row as the scalar API checks it (``check``, bounded); InvalidInputError naming
    the first row it refuses."""
    # the rows not plainly fine go to the scalar check itself (NaN compares False: not fine)
    magnitude = column if check is not to_decimal else np.abs(column)
    fine = (magnitude >= SMALL) & (magnitude < LARGE)
    if check is not positive:
        fine |= column == 0
    wrong = ~fine
    for row in np.flatnonzero(wrong):
        shown = f"{name}[{row}]" if column.ndim else name
        check(Decimal(float(column.flat[row])), f"{what}: {shown}", bounded=True)


def _signs(what: str, side: object) -> NDArray[np.int8]:
    """``side`` as +1 (long) and −1 (short): strings "long"/"short" (compared as fixed-width
    text when the column is, else as objects) or the numbers +1/−1."""
    column = np.asarray(side)
    if column.ndim > 1:
        raise InvalidInputError(f"{what}: side: expected one column, got shape {column.shape}")
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
        value = column.flat[row]
        value = value.item() if isinstance(value, np.generic) else value  # 'up', not np.str_
        raise InvalidInputError(
            f"{what}: {shown}: must be 'long' or 'short' (or +1/-1), got {value!r}"
        )
    return np.where(long, 1, -1).astype(np.int8)


def _labels(what: str, name: str, value: object) -> NDArray[Any]:
    """A column of labels (account ids, symbols): an integer or text array (NumPy, pandas,
    Arrow) keeps its dtype; anything else is objects, so that a list's 1 and "1" stay two
    labels (NumPy would make both text)."""
    dtype = getattr(value, "dtype", None)
    if getattr(dtype, "kind", None) in ("i", "u", "U", "S"):
        column = np.asarray(value)
    else:
        column = np.asarray(value, dtype=object)
    if column.ndim > 1:
        raise InvalidInputError(f"{what}: {name}: expected one column, got shape {column.shape}")
    return column


def _columns(
    what: str,
    side: object,
    numbers: dict[str, tuple[object, Check]],
    labels: dict[str, object] | None = None,
) -> tuple[NDArray[np.int8], dict[str, Floats], dict[str, NDArray[np.object_]]]:
    """The checked columns, broadcast to one length: the sides, the numbers (float64) and
    the labels (objects); InvalidInputError naming the column, the row and the reason."""
    floats = {name: _floats(what, name, value) for name, (value, _) in numbers.items()}
    texts = {name: _labels(what, name, value) for name, value in (labels or {}).items()}
    signs = _signs(what, side)
    for name, (_, check) in numbers.items():
        _check(what, name, floats[name], check)
    every: dict[str, NDArray[Any]] = {"side": signs, **floats, **texts}
    lengths = {name: len(c) for name, c in every.items() if c.ndim}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} {n}" for name, n in lengths.items())
        raise InvalidInputError(f"{what}: the columns differ in length ({shown})")
    n = next(iter(lengths.values()), 1)

    def spread(column: NDArray[Any]) -> NDArray[Any]:
        return np.ascontiguousarray(np.broadcast_to(column, (n,)))

    return (
        spread(signs),
        {name: spread(c) for name, c in floats.items()},
        {name: spread(c) for name, c in texts.items()},
    )


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
    numbers: dict[str, tuple[object, Check]] = {
        "size": (size, positive),
        "entry_price": (entry_price, positive),
        "margin": (margin, non_negative),
    }
    if mark is not None:
        numbers["mark"] = (mark, positive)
    signs, floats, _ = _columns("isolated_risk", side, numbers)
    sizes, entries, margins = floats["size"], floats["entry_price"], floats["margin"]
    marks = floats.get("mark")
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
    # the mark, when given, also chooses between two liquidation prices (a step table)
    at = None if marks is None else {symbol: Decimal(float(marks[row]))}
    for figure, flags in redo.items():
        if not flags[row]:
            continue
        value: Decimal | None
        try:
            if figure == "maintenance_margin":
                assert at is not None
                value = policy.maintenance_margin(account, symbol, marks=at)
            elif figure == "liquidation_price":
                value = policy.liquidation_price(account, symbol, marks=at)
            else:
                value = policy.bankruptcy_price(account, symbol, marks=at)
        except InvalidInputError as error:
            raise InvalidInputError(f"isolated_risk: row {row}: {error}") from None
        results[figure][row] = np.nan if value is None else float(value)


# --- cross accounts -----------------------------------------------------------------------

CROSS_FIGURES = (*FIGURES, "margin_balance", "pool_maintenance_margin")


@attrs.frozen(eq=False)
class CrossRisk:
    """Figures of cross positions, one row per position (at most one per account and
    symbol): the position's ``maintenance_margin`` at its mark; the ``liquidation_price`` and
    ``bankruptcy_price`` of its symbol with the account's other symbols held at their marks
    (NaN where no positive price exists); and its account's ``margin_balance`` (balance plus
    every position's PnL) and ``pool_maintenance_margin``. Float64 arrays; each row is the
    exact scalar result for the rows' float64 inputs, rounded to float64.
    ``exact_rows`` holds the rows recomputed through the exact path."""

    maintenance_margin: Floats
    liquidation_price: Floats
    bankruptcy_price: Floats
    margin_balance: Floats
    pool_maintenance_margin: Floats
    exact_rows: NDArray[np.intp]

    def __len__(self) -> int:
        return len(self.liquidation_price)

    def to_pandas(self) -> Any:
        """A pandas DataFrame of the five figures and a boolean ``exact`` column."""
        return _frame(self, CROSS_FIGURES)


def _codes(what: str, name: str, column: NDArray[Any]) -> tuple[list[Any], NDArray[np.intp]]:
    """The distinct labels of ``column`` and each row's index into them; InvalidInputError
    for a label that cannot be one (unhashable, NaN). Sorted in C for integer and text
    columns (objects that are all strings are text); a dict over the rows otherwise."""
    if column.dtype == object and all(type(label) is str for label in column.tolist()):
        column = column.astype(str)
    if column.dtype.kind in "iuUS":
        labels, codes = np.unique(column, return_inverse=True)
        return labels.tolist(), codes.reshape(-1).astype(np.intp)
    found: dict[Any, int] = {}
    codes = np.empty(len(column), dtype=np.intp)
    for row, label in enumerate(column.tolist()):
        try:
            codes[row] = found.setdefault(label, len(found))
        except TypeError:
            raise InvalidInputError(f"{what}: {name}[{row}]: {label!r} cannot be a label") from None
        if label != label:  # NaN: a missing label
            raise InvalidInputError(f"{what}: {name}[{row}]: missing")
    return list(found), codes


def _cross_fallbacks(policy: Policy, symbols: list[str]) -> dict[str, str]:
    """The cross figures without a vectorised form for these symbols, each with the reason:
    every figure needs every symbol's table (an account's others' maintenance enters each
    price)."""
    reasons: dict[str, str] = {}
    for symbol in symbols:
        for figure, reason in _fallbacks(policy, symbol).items():
            if figure == "maintenance_margin":
                for every in CROSS_FIGURES:
                    reasons.setdefault(every, f"{symbol}: {reason}")
            else:
                reasons.setdefault(figure, f"{symbol}: {reason}")
    return reasons


def cross_risk(
    policy: Policy,
    *,
    account: object,
    symbol: object,
    side: object,
    size: object,
    entry_price: object,
    mark: object,
    balance: object,
) -> CrossRisk:
    """See :meth:`margincall.Policy.cross_risk`."""
    what = "cross_risk"
    signs, floats, labels = _columns(
        what,
        side,
        {
            "size": (size, positive),
            "entry_price": (entry_price, positive),
            "mark": (mark, positive),
            "balance": (balance, to_decimal),
        },
        {"account": account, "symbol": symbol},
    )
    sizes, entries, marks, balances = (
        floats[k] for k in ("size", "entry_price", "mark", "balance")
    )
    n = len(sizes)
    accounts, account_codes = _codes(what, "account", labels["account"])
    symbols, symbol_codes = _codes(what, "symbol", labels["symbol"])
    for k, name in enumerate(symbols):
        if not isinstance(name, str) or name not in policy.markets:
            row = int(np.flatnonzero(symbol_codes == k)[0])
            known = ", ".join(sorted(policy.markets))
            raise InvalidInputError(
                f"{what}: symbol[{row}]: unknown symbol {name!r} for policy {policy.name}; "
                f"it knows {known}"
            )
    _check_accounts(what, policy, accounts, account_codes, symbols, symbol_codes, balances)
    per_account = np.zeros(len(accounts))
    per_account[account_codes] = balances
    fallbacks = _cross_fallbacks(policy, symbols)
    for figure, reason in fallbacks.items():
        warnings.warn(
            f"{policy.name}: cross {figure} computed row by row through the exact path: {reason}",
            BatchFallbackWarning,
            stacklevel=3,
        )
    results: dict[str, Floats] = {f: np.full(n, np.nan) for f in CROSS_FIGURES}
    redo = {f: np.ones(n, dtype=bool) for f in CROSS_FIGURES}
    if n and "maintenance_margin" not in fallbacks:
        tables = []
        for name in symbols:
            market = policy.markets[name]
            table = policy._arrays.get(name)
            if table is None:
                table = policy._arrays[name] = ArrayTable(
                    market.contract_size, market.inverse, policy._tables[name]
                )
            tables.append(table)
        computed = cross_figures(
            tables,
            symbol_codes,
            account_codes,
            per_account,
            signs,
            sizes,
            entries,
            marks,
            liquidation="liquidation_price" not in fallbacks,
            bankruptcy="bankruptcy_price" not in fallbacks,
        )
        for name, figure in (
            ("maintenance", "maintenance_margin"),
            ("liquidation", "liquidation_price"),
            ("bankruptcy", "bankruptcy_price"),
            ("margin_balance", "margin_balance"),
            ("pool_maintenance", "pool_maintenance_margin"),
        ):
            if name in computed:
                results[figure], redo[figure] = computed[name]
    rows = np.flatnonzero(np.logical_or.reduce([np.zeros(n, dtype=bool), *redo.values()]))
    _exact_cross_rows(
        policy, rows, symbols, symbol_codes, account_codes, signs, floats, redo, results
    )
    return CrossRisk(
        results["maintenance_margin"],
        results["liquidation_price"],
        results["bankruptcy_price"],
        results["margin_balance"],
        results["pool_maintenance_margin"],
        rows,
    )


def _check_accounts(
    what: str,
    policy: Policy,
    accounts: list[Any],
    account_codes: NDArray[np.intp],
    symbols: list[str],
    symbol_codes: NDArray[np.intp],
    balances: Floats,
) -> None:
    """One position per account and symbol, one balance and one settlement currency per
    account; InvalidInputError naming the account and the first two rows that disagree."""
    n = len(account_codes)
    first = np.full(len(accounts), n, dtype=np.intp)
    np.minimum.at(first, account_codes, np.arange(n))
    leader = first[account_codes]  # each row's account's first row
    pairs = account_codes * len(symbols) + symbol_codes
    _, where, counts = np.unique(pairs, return_index=True, return_counts=True)
    if (counts > 1).any():
        pair = pairs[where[np.flatnonzero(counts > 1)[0]]]
        rows = np.flatnonzero(pairs == pair)[:2]
        raise InvalidInputError(
            f"{what}: account {accounts[account_codes[rows[0]]]!r} holds "
            f"{symbols[symbol_codes[rows[0]]]} in rows {rows[0]} and {rows[1]}; the batch "
            "takes one position per account and symbol (one-way)"
        )
    differ = np.flatnonzero(balances != balances[leader])
    if len(differ):
        row = differ[0]
        seen = leader[row]
        raise InvalidInputError(
            f"{what}: account {accounts[account_codes[row]]!r}: balance[{seen}] is "
            f"{float(balances[seen])!r} but balance[{row}] is {float(balances[row])!r}; an "
            "account has one balance"
        )
    currencies = [policy.markets[symbol].settlement_currency for symbol in symbols]
    settles = np.unique(currencies, return_inverse=True)[1].reshape(-1)[symbol_codes]
    differ = np.flatnonzero(settles != settles[leader])
    if len(differ):
        row = differ[0]
        seen = leader[row]
        raise InvalidInputError(
            f"{what}: account {accounts[account_codes[row]]!r}: its positions settle in "
            f"{currencies[symbol_codes[seen]]} (row {seen}) and "
            f"{currencies[symbol_codes[row]]} (row {row}); a cross account has one "
            "settlement currency"
        )


def _exact_cross_rows(
    policy: Policy,
    rows: NDArray[np.intp],
    symbols: list[str],
    symbol_codes: NDArray[np.intp],
    account_codes: NDArray[np.intp],
    signs: NDArray[np.int8],
    floats: dict[str, Floats],
    redo: dict[str, Any],
    results: dict[str, Floats],
) -> None:
    """The flagged figures of ``rows`` through the exact scalar path, one Account each."""
    if not len(rows):
        return
    order = np.argsort(account_codes, kind="stable")  # each account's rows, in row order
    bounds = np.searchsorted(account_codes[order], np.arange(account_codes.max() + 2))
    members = {
        a: order[bounds[a] : bounds[a + 1]].tolist() for a in set(account_codes[rows].tolist())
    }
    built: dict[int, tuple[Account, dict[str, Decimal]]] = {}
    for row in rows.tolist():
        a = int(account_codes[row])
        if a not in built:
            positions = tuple(
                Position._unchecked(  # the columns passed the scalar API's checks
                    symbols[symbol_codes[r]],
                    "long" if signs[r] > 0 else "short",
                    Decimal(float(floats["size"][r])),
                    Decimal(float(floats["entry_price"][r])),
                    "cross",
                    None,
                    None,
                )
                for r in members[a]
            )
            marks = {
                symbols[symbol_codes[r]]: Decimal(float(floats["mark"][r])) for r in members[a]
            }
            balance = Decimal(float(floats["balance"][row]))
            built[a] = (Account._unchecked(balance, positions, "one-way"), marks)
        account, marks = built[a]
        symbol = symbols[symbol_codes[row]]
        for figure, flags in redo.items():
            if not flags[row]:
                continue
            try:
                value = _cross_figure(policy, figure, account, symbol, marks)
            except InvalidInputError as error:
                raise InvalidInputError(f"cross_risk: row {row}: {error}") from None
            results[figure][row] = np.nan if value is None else float(value)


def _cross_figure(
    policy: Policy, figure: str, account: Account, symbol: str, marks: dict[str, Decimal]
) -> Decimal | None:
    """One figure of one cross row through the exact scalar path."""
    if figure == "maintenance_margin":
        return policy.maintenance_margin(account, symbol, marks=marks)
    if figure == "liquidation_price":
        return policy.liquidation_price(account, symbol, marks=marks)
    if figure == "bankruptcy_price":
        return policy.bankruptcy_price(account, symbol, marks=marks)
    health = policy.health(account, symbol, marks=marks)
    return health.margin_balance if figure == "margin_balance" else health.maintenance_margin
