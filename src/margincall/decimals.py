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
from typing import TYPE_CHECKING, ParamSpec, TypeGuard, TypeVar

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


FAST = CONTEXT.copy()
"""The context margincall's fast paths make current (``decimal.setcontext(FAST)``, restoring
the caller's in a ``finally``): :data:`CONTEXT`'s settings without a copy per call. They run
margincall's own arithmetic only, never a plugin's code, so nothing can change it; threads
may share it, as an operation only reads its settings and ORs its flags in."""


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


LARGEST = Decimal("1e30")
"""Input numbers (sizes, prices, money, rates, days) must be below this in magnitude..."""

SMALLEST = Decimal("1e-30")
"""...and, unless zero, at least this..."""

MAX_PLACES = 100
"""...with at most this many decimal places. Far beyond any real market, and far inside the
decimal context, so that no computation on accepted input can overflow it, and sums of money
stay exact in :data:`LEDGER_CONTEXT`."""


_LEADING_LOW, _LEADING_HIGH = SMALLEST.adjusted(), LARGEST.adjusted()


def _shown(value: Decimal) -> str:
    text = str(value)
    return text if len(text) <= 40 else f"{text[:30]}... ({len(text)} characters)"


def in_range(value: Decimal, what: str) -> Decimal:
    """``value`` if it is a sane input (:data:`LARGEST`, :data:`SMALLEST`,
    :data:`MAX_PLACES`), or InvalidInputError naming ``what``: a size of ``1e999990`` would
    overflow the decimal context in the first product, deep in a computation."""
    if not value:
        return value
    # adjusted(): the exponent of the leading digit; SMALLEST <= |value| < LARGEST, exactly
    if not _LEADING_LOW <= value.adjusted() < _LEADING_HIGH:
        raise InvalidInputError(
            f"{what}: {_shown(value)} is out of range; numbers must be 0 or of magnitude "
            f"between {SMALLEST} and {LARGEST} (exclusive)"
        )
    _, digits, exponent = value.as_tuple()
    if int(exponent) >= -MAX_PLACES:
        return value
    trailing = next(k for k, d in enumerate(reversed(digits)) if d)  # nonzero: a digit isn't 0
    places = -(int(exponent) + trailing)
    if places > MAX_PLACES:
        raise InvalidInputError(
            f"{what}: {_shown(value)} has {places} decimal places; at most {MAX_PLACES} "
            "are accepted"
        )
    return value


def exponent(value: Decimal) -> int:
    """The exponent of a finite Decimal (``value.as_tuple().exponent``), read from its
    scientific string, which is several times cheaper than building the tuple: plain
    notation has ``-exponent`` digits after the point; otherwise the exponent after ``E``
    less the digits after the point."""
    text = str(value)
    e = text.find("E")
    if e < 0:
        dot = text.find(".")
        return 0 if dot < 0 else dot + 1 - len(text)
    dot = text.find(".", 0, e)
    return int(text[e + 1 :]) - (0 if dot < 0 else e - dot - 1)


def is_bounded_positive(value: object) -> TypeGuard[Decimal]:
    """Whether ``value`` is a Decimal that ``positive(value, what, bounded=True)`` returns
    as it is: the check without building the name an error would carry (an exponent of at
    least ``-MAX_PLACES`` means at most that many places)."""
    return (
        type(value) is Decimal
        and value.is_finite()
        and value > ZERO
        and _LEADING_LOW <= value.adjusted() < _LEADING_HIGH
        and exponent(value) >= -MAX_PLACES
    )


def to_decimal(value: object, what: str, *, bounded: bool = False) -> Decimal:
    """Convert ``value`` to a finite Decimal, or raise InvalidInputError naming ``what``.

    Accepts Decimal, int and decimal strings. Rejects floats (inexact), bools, NaN and infinity.
    With ``bounded`` (inputs: positions, accounts, marks, scenario and policy files), the
    value must also pass :func:`in_range`.
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
    return in_range(result, what) if bounded else result


def positive(value: object, what: str, *, bounded: bool = False) -> Decimal:
    """Like :func:`to_decimal`, and the result must be > 0."""
    result = to_decimal(value, what, bounded=bounded)
    if result <= 0:
        raise InvalidInputError(f"{what}: must be > 0, got {result}")
    return result


def non_negative(value: object, what: str, *, bounded: bool = False) -> Decimal:
    """Like :func:`to_decimal`, and the result must be >= 0."""
    result = to_decimal(value, what, bounded=bounded)
    if result < 0:
        raise InvalidInputError(f"{what}: must be >= 0, got {result}")
    return result
