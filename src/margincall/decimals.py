"""Exact numbers: the one Decimal context and the strict conversion every input goes through.

margincall computes money in :class:`decimal.Decimal` from end to end. Floats never enter: a
float such as ``0.1`` is not the decimal it prints as, so the API rejects it instead of
guessing. Divisions (prices solved from margin equations) are the only inexact operations;
they run at :data:`PRECISION` significant digits, far beyond any venue's tick size, and
rounding to a tick happens only where a venue documents it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import (
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from margincall.errors import InvalidInputError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

PRECISION = 50
"""Significant digits for every computation (the caller's own decimal context is ignored)."""

CONTEXT = Context(
    prec=PRECISION, traps=[InvalidOperation, DivisionByZero, Overflow], Emin=-999999, Emax=999999
)

LEDGER_CONTEXT = Context(
    prec=1000,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact],
    Emin=-999999,
    Emax=999999,
)
"""For sums of money: wide enough that adding amounts of any magnitudes is exact, and a
rounding, should one ever be needed, raises instead of losing value."""

P = ParamSpec("P")
R = TypeVar("R")

ZERO = Decimal(0)
ONE = Decimal(1)

Number = Decimal | int | str
"""What the API accepts for an exact amount: a Decimal, an int, or a decimal string."""


def exact() -> AbstractContextManager[Context]:
    """Run a block in margincall's own decimal context."""
    return localcontext(CONTEXT)


def exact_sums() -> AbstractContextManager[Context]:
    """Run a block of additions of money in :data:`LEDGER_CONTEXT` (no rounding, ever)."""
    return localcontext(LEDGER_CONTEXT)


def running_in(
    context: Context,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A decorator that runs a function in ``context``, whatever the caller's context."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with localcontext(context):
                return function(*args, **kwargs)

        return wrapper

    return decorate


def to_decimal(value: object, what: str) -> Decimal:
    """Convert ``value`` to a finite Decimal, or raise InvalidInputError naming ``what``.

    Accepts Decimal, int and decimal strings. Rejects floats (inexact), bools, NaN and infinity.
    """
    if isinstance(value, bool):
        raise InvalidInputError(f"{what}: expected a number, got the boolean {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidInputError(f"{what}: {value!r} is not a decimal number") from None
    elif isinstance(value, float):
        raise InvalidInputError(
            f"{what}: got the float {value!r}; floats are inexact, "
            f"pass Decimal({str(value)!r}) or the string {str(value)!r}"
        )
    else:
        raise InvalidInputError(f"{what}: expected a number, got {type(value).__name__} {value!r}")
    if not result.is_finite():
        raise InvalidInputError(f"{what}: must be a finite number, got {value!r}")
    return result


def positive(value: object, what: str) -> Decimal:
    """Like :func:`to_decimal`, and the result must be > 0."""
    result = to_decimal(value, what)
    if result <= 0:
        raise InvalidInputError(f"{what}: must be > 0, got {result}")
    return result


def non_negative(value: object, what: str) -> Decimal:
    """Like :func:`to_decimal`, and the result must be >= 0."""
    result = to_decimal(value, what)
    if result < 0:
        raise InvalidInputError(f"{what}: must be >= 0, got {result}")
    return result
