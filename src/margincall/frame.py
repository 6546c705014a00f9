"""The batch API over a pandas DataFrame of positions: :func:`risk` (the ``batch`` and
``pandas`` extras: ``pip install 'margincall[batch,pandas]'``).

The input's columns are named as in the scalar API (:class:`~margincall.account.Position`,
:class:`~margincall.policy.PositionRisk`): ``symbol``, ``side``, ``size``, ``entry_price``,
``margin_mode`` (``"isolated"`` or ``"cross"``; every row is isolated when the column is
absent), ``margin`` (isolated rows), ``mark_price`` (or ``risk(..., mark={symbol: price})``),
and, for cross rows, ``account`` (an id) and ``balance`` (the account's cross wallet balance,
the same on each of its rows). Other columns pass through.

Isolated rows go to :meth:`Policy.isolated_risk <margincall.Policy.isolated_risk>` one
symbol at a time, cross rows to :meth:`Policy.cross_risk <margincall.Policy.cross_risk>` in
one call; each row's figures are the exact scalar path's for the row's float64 inputs,
rounded to float64 (``docs/batch.md``).
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from margincall.errors import InvalidInputError, MargincallError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from margincall.policy import Policy

    Floats = NDArray[np.float64]

FIGURES = ("maintenance_margin", "liquidation_price", "bankruptcy_price")
POOL = ("margin_balance", "pool_maintenance_margin")
OUTPUT = (*FIGURES, *POOL, "exact")
"""The columns :func:`risk` adds (or replaces), in order."""

REQUIRED = ("symbol", "side", "size", "entry_price")


def _modules() -> tuple[Any, Any]:
    """(numpy, pandas), or MargincallError naming the extras."""
    try:
        np_ = importlib.import_module("numpy")  # the batch extra
        pd = importlib.import_module("pandas")  # the pandas extra
    except ImportError as error:
        raise MargincallError(
            f"margincall.frame needs NumPy and pandas: pip install 'margincall[batch,pandas]' "
            f"({error})"
        ) from None
    return np_, pd


def risk(frame: Any, policy: Policy, *, mark: Mapping[str, object] | None = None) -> Any:
    """The batch figures of a DataFrame of positions, one row per position: a new DataFrame
    with ``frame``'s index and columns, plus ``maintenance_margin`` (at the mark; NaN for an
    isolated row without one), ``liquidation_price`` and ``bankruptcy_price`` (NaN where no
    positive price exists), ``margin_balance`` and ``pool_maintenance_margin`` (the cross
    pool of the row's account; NaN for isolated rows) as float64, and ``exact`` (bool: the
    row's figures went through the exact scalar path). Columns of ``frame`` with those names
    are replaced.

    Marks come from a ``mark_price`` column or from ``mark`` (a mapping symbol → price), not
    both; cross rows need them. Numbers are taken as float64 and every figure equals the exact
    scalar result for the row's float64 inputs, rounded to float64. Bad input gets one
    InvalidInputError naming the column, the row label and the reason. A figure whose rule
    has no vectorised form in ``policy`` warns (:class:`~margincall.arrays.BatchFallbackWarning`)
    and is computed row by row. Cost: O(rows × tiers) plus the exact rows."""
    np_, pd = _modules()
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInputError(
            f"frame.risk: expected a pandas DataFrame, got {type(frame).__name__}"
        )
    return _Frame(frame, policy, mark, np_, pd).run()


class _Frame:
    """One call of :func:`risk`: the input's columns checked as columns, each error naming
    the column and the row label."""

    def __init__(
        self, frame: Any, policy: Policy, mark: Mapping[str, object] | None, np_: Any, pd: Any
    ) -> None:
        self.frame, self.policy, self.np, self.pd = frame, policy, np_, pd
        self.n = len(frame)
        missing = [name for name in REQUIRED if name not in frame.columns]
        if missing:
            raise InvalidInputError(
                f"frame.risk: missing column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(map(repr, missing))}; a position needs {', '.join(REQUIRED)}"
            )
        if mark is not None and "mark_price" in frame.columns:
            raise InvalidInputError(
                "frame.risk: marks given twice: the column 'mark_price' and mark=; give one"
            )
        if mark is not None and not isinstance(mark, Mapping):
            raise InvalidInputError(
                f"frame.risk: mark: expected a mapping symbol → price, got {type(mark).__name__}"
            )
        self.mark = mark

    def fail(self, column: str, row: int, reason: str) -> InvalidInputError:
        label = self.frame.index[row]
        return InvalidInputError(f"frame.risk: column {column!r}, row {label!r}: {reason}")

    # --- columns ----------------------------------------------------------------------------

    def strings(self, column: str) -> NDArray[Any]:
        """The column as an array of Python objects (None for a missing value)."""
        series = self.frame[column]
        values = series.to_numpy(dtype=object, copy=True)
        values[self.np.asarray(series.isna())] = None
        return values  # type: ignore[no-any-return]

    def numbers(self, column: str, rows: NDArray[Any]) -> Floats:
        """The column as float64 (NaN for a missing value); rows ``rows`` must convert."""
        series = self.frame[column]
        if self.n and self.pd.api.types.is_bool_dtype(series.dtype):
            raise self.fail(column, 0, "expected numbers, got booleans")
        try:
            return series.to_numpy(dtype=self.np.float64, na_value=self.np.nan)  # type: ignore[no-any-return]
        except (TypeError, ValueError):
            pass
        values = self.strings(column)
        out = self.np.full(self.n, self.np.nan)
        wanted = self.np.zeros(self.n, dtype=bool)
        wanted[rows] = True
        for row, value in enumerate(values.tolist()):
            if value is None:
                continue
            try:
                if isinstance(value, bool):
                    raise TypeError("a boolean")
                out[row] = float(value)
            except (TypeError, ValueError):
                if wanted[row]:
                    raise self.fail(column, row, f"expected a number, got {value!r}") from None
        return out  # type: ignore[no-any-return]

    def check(
        self,
        column: str,
        values: Floats,
        rows: NDArray[Any],
        check: Callable[..., Decimal],
        why: str = "",
    ) -> None:
        """Rows ``rows`` of ``values`` as the scalar API checks them (``check``: positive,
        non_negative or to_decimal, bounded); the first it refuses raises, naming its label."""
        from margincall.arrays import LARGE, SMALL
        from margincall.decimals import positive, to_decimal

        np_ = self.np
        picked = values[rows]
        magnitude = np_.abs(picked)
        wrong = ~np_.isfinite(picked) | (magnitude >= LARGE) | ((picked != 0) & (magnitude < SMALL))
        if check is not to_decimal:
            wrong |= picked < 0
        if check is positive:
            wrong |= picked == 0
        for k in np_.flatnonzero(wrong).tolist():
            row = int(rows[k])
            if np_.isnan(picked[k]):
                raise self.fail(column, row, f"missing (NaN or None){': ' if why else ''}{why}")
            try:
                check(Decimal(float(picked[k])), "value", bounded=True)
            except InvalidInputError as error:
                raise self.fail(column, row, str(error).removeprefix("value: ")) from None

    def column(
        self, column: str, rows: NDArray[Any], check: Callable[..., Decimal], why: str
    ) -> Floats:
        if column not in self.frame.columns:
            if len(rows):
                raise self.fail(column, int(rows[0]), f"missing column: {why}")
            return self.np.full(self.n, self.np.nan)  # type: ignore[no-any-return]
        values = self.numbers(column, rows)
        self.check(column, values, rows, check, why)
        return values

    def marks(self, symbols: NDArray[Any], rows: NDArray[Any], needed: bool) -> Floats | None:
        """Every row's mark (from ``mark_price`` or the mapping), checked on ``rows``; None
        when there are none and ``needed`` is false."""
        from margincall.decimals import positive

        np_ = self.np
        if self.mark is not None:
            prices: dict[object, float] = {}
            for symbol, price in self.mark.items():
                try:
                    prices[symbol] = float(positive(Decimal(str(price)), "m", bounded=True))
                except (InvalidInputError, ArithmeticError, ValueError):
                    raise InvalidInputError(
                        f"frame.risk: mark[{symbol!r}]: expected a positive number, got {price!r}"
                    ) from None
            out = np_.full(self.n, np_.nan)
            for row in rows.tolist():
                symbol = symbols[row]
                if symbol not in prices:
                    raise self.fail("symbol", row, f"mark= has no price for {symbol!r}")
                out[row] = prices[symbol]
            return out  # type: ignore[no-any-return]
        if "mark_price" not in self.frame.columns and not needed:
            return None
        return self.column(
            "mark_price",
            rows,
            positive,
            "cross rows need their marks (a 'mark_price' column, or mark=)",
        )

    # --- the call ---------------------------------------------------------------------------

    def run(self) -> Any:
        from margincall.decimals import non_negative, positive, to_decimal

        np_, n = self.np, self.n
        everything = np_.arange(n)
        symbols = self.strings("symbol")
        for row, symbol in enumerate(symbols.tolist()):
            if not isinstance(symbol, str) or not symbol:
                raise self.fail("symbol", row, f"must be a non-empty string, got {symbol!r}")
        sides = self.strings("side")
        for row, side in enumerate(sides.tolist()):
            if side not in ("long", "short") or not isinstance(side, str):
                raise self.fail("side", row, f"must be 'long' or 'short', got {side!r}")
        sides = sides.astype(str)
        if "margin_mode" in self.frame.columns:
            modes = self.strings("margin_mode")
            for row, mode in enumerate(modes.tolist()):
                if mode not in ("isolated", "cross"):
                    raise self.fail(
                        "margin_mode", row, f"must be 'isolated' or 'cross', got {mode!r}"
                    )
            cross = modes == "cross"
        else:
            cross = np_.zeros(n, dtype=bool)
        isolated_rows, cross_rows = np_.flatnonzero(~cross), np_.flatnonzero(cross)
        self.known_symbols(symbols)
        sizes = self.column("size", everything, positive, "")
        entries = self.column("entry_price", everything, positive, "")
        margins = self.column(
            "margin",
            isolated_rows,
            non_negative,
            "isolated rows need their margin (the isolated wallet balance)",
        )
        if "margin" in self.frame.columns and len(cross_rows):
            present = cross_rows[~np_.isnan(margins[cross_rows])]
            if len(present):
                raise self.fail(
                    "margin",
                    int(present[0]),
                    "a cross row takes no margin (it draws on the account's balance); "
                    "leave it empty",
                )
        marks = self.marks(symbols, everything, needed=bool(len(cross_rows)))
        accounts = balances = None
        if len(cross_rows):
            accounts, balances = self.accounts(symbols, cross_rows, to_decimal)
        results = {name: np_.full(n, np_.nan) for name in (*FIGURES, *POOL)}
        exact = np_.zeros(n, dtype=bool)
        for symbol, rows in self.groups(symbols, isolated_rows):
            with self.rows_of(rows, f"isolated {symbol} rows"):
                computed = self.policy.isolated_risk(
                    symbol,
                    side=sides[rows],
                    size=sizes[rows],
                    entry_price=entries[rows],
                    margin=margins[rows],
                    mark=None if marks is None else marks[rows],
                )
            for name in FIGURES:
                results[name][rows] = getattr(computed, name)
            exact[rows[computed.exact_rows]] = True
        if len(cross_rows):
            assert marks is not None and accounts is not None and balances is not None
            with self.rows_of(cross_rows, "cross rows"):
                pooled = self.policy.cross_risk(
                    account=accounts[cross_rows],
                    symbol=symbols[cross_rows],
                    side=sides[cross_rows],
                    size=sizes[cross_rows],
                    entry_price=entries[cross_rows],
                    mark=marks[cross_rows],
                    balance=balances[cross_rows],
                )
            for name in (*FIGURES, *POOL):
                results[name][cross_rows] = getattr(pooled, name)
            exact[cross_rows[pooled.exact_rows]] = True
        out = self.frame.copy()
        for name in (*FIGURES, *POOL):
            out[name] = results[name]
        out["exact"] = exact
        return out

    @contextlib.contextmanager
    def rows_of(self, rows: NDArray[Any], what: str) -> Iterator[None]:
        """An InvalidInputError of the batch call, whose row numbers count ``rows``, with
        their labels (the checks above leave the batch call nothing to refuse that they
        know of)."""
        try:
            yield
        except InvalidInputError as error:
            labels = ", ".join(f"{k}: {self.frame.index[r]!r}" for k, r in enumerate(rows[:20]))
            more = ", ..." if len(rows) > 20 else ""
            raise InvalidInputError(
                f"frame.risk: {what} (batch row: label {labels}{more}): {error}"
            ) from None

    def known_symbols(self, symbols: NDArray[Any]) -> None:
        seen: set[str] = set()
        for row, symbol in enumerate(symbols.tolist()):
            if symbol in seen:
                continue
            seen.add(symbol)
            try:
                self.policy.market(symbol)
            except InvalidInputError as error:
                raise self.fail("symbol", row, str(error)) from None

    def groups(self, symbols: NDArray[Any], rows: NDArray[Any]) -> list[tuple[str, NDArray[Any]]]:
        """``rows`` split by symbol, in order of first appearance, each in frame order."""
        codes, uniques = self.pd.factorize(symbols[rows])
        order = self.np.argsort(codes, kind="stable")
        bounds = self.np.searchsorted(codes[order], self.np.arange(len(uniques) + 1))
        return [
            (str(symbol), rows[order[bounds[k] : bounds[k + 1]]])
            for k, symbol in enumerate(uniques)
        ]

    def accounts(
        self, symbols: NDArray[Any], rows: NDArray[Any], to_decimal: Callable[..., Decimal]
    ) -> tuple[NDArray[Any], Floats]:
        """The ``account`` and ``balance`` columns, checked on the cross rows: an account on
        each, one balance per account, at most one position per account and symbol, one
        settlement currency per account."""
        if "account" not in self.frame.columns:
            raise self.fail("account", int(rows[0]), "missing column: cross rows need an account")
        accounts = self.strings("account")
        balances = self.column(
            "balance", rows, to_decimal, "cross rows need their account's wallet balance"
        )
        balance_of: dict[object, tuple[float, int]] = {}
        held: set[tuple[object, object]] = set()
        currency: dict[object, tuple[str, int]] = {}
        for row in rows.tolist():
            account = accounts[row]
            if account is None:
                raise self.fail("account", row, "missing: a cross row needs its account")
            first = balance_of.setdefault(account, (float(balances[row]), row))
            if first[0] != balances[row]:
                raise self.fail(
                    "balance",
                    row,
                    f"account {account!r} has balance {first[0]!r} on row "
                    f"{self.frame.index[first[1]]!r} and {float(balances[row])!r} here: "
                    "a balance is the account's, the same on each of its rows",
                )
            if (account, symbols[row]) in held:
                raise self.fail(
                    "symbol",
                    row,
                    f"account {account!r} holds {symbols[row]!r} twice; "
                    "one position per account and symbol",
                )
            held.add((account, symbols[row]))
            settles = self.policy.markets[symbols[row]].settlement_currency
            first_currency = currency.setdefault(account, (settles, row))
            if first_currency[0] != settles:
                raise self.fail(
                    "symbol",
                    row,
                    f"account {account!r} holds {symbols[first_currency[1]]!r} (row "
                    f"{self.frame.index[first_currency[1]]!r}), settled in {first_currency[0]}, "
                    f"and {symbols[row]!r}, settled in {settles}; a cross account has one "
                    "settlement currency",
                )
        return accounts, balances
