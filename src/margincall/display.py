"""Rounding for display, in one place. Computations never round; only what is shown to a
person does: prices to the market's tick, money to its currency's sensible places (2 for the
dollar and its stablecoins, 8 for coins), ratios as percentages with 2 decimals, half to even.
Machine output (JSON, CSV) is exact, written plainly (:func:`plain`).

Every function here rounds in its own context (:data:`DISPLAY_CONTEXT`), whatever context the
caller runs in: rounding for a reader must never raise inside the ledger's trapping context,
where an inexact result is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow

from margincall.decimals import running_in
from margincall.market import Market

CENT = Decimal("0.01")
SATOSHI = Decimal("0.00000001")

DISPLAY_CONTEXT = Context(
    prec=1000,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
    Emin=-999999,
    Emax=999999,
)
"""Rounding for display: wide enough to keep every integer digit (a price of 1e40 shown to a
0.1 tick needs 41), and rounding allowed (it is the point)."""

FIAT_LIKE = frozenset({"USD", "USDT", "USDC", "USDE", "BUSD", "FDUSD", "DAI", "EUR", "GBP"})
"""Currencies shown to the cent; every other (BTC, ETH, ...) to 8 places."""

_rounding = running_in(DISPLAY_CONTEXT)


def places(currency: str) -> int:
    """Decimal places a currency's money is shown with: 2 for the dollar, the euro and the
    stablecoins, 8 (a satoshi) for everything else."""
    return 2 if currency.upper() in FIAT_LIKE else 8


def _grouped(rounded: Decimal) -> str:
    """``rounded`` with thousands separated, and never ``-0`` or ``-0.00``."""
    if rounded.is_zero():
        rounded = abs(rounded)
    return f"{rounded:,f}"


@_rounding
def price(value: Decimal | None, market: Market) -> str:
    if value is None:
        return "--"
    rounded = value.quantize(market.tick_size.normalize(), ROUND_HALF_EVEN)
    return str(abs(rounded) if rounded.is_zero() else rounded)


@_rounding
def money(value: Decimal, market: Market) -> str:
    return money_in(value, market.settlement_currency)


@_rounding
def money_in(value: Decimal, currency: str) -> str:
    """Money in ``currency``, at its places (:func:`places`), thousands separated."""
    return _grouped(value.quantize(Decimal(1).scaleb(-places(currency)), ROUND_HALF_EVEN))


@_rounding
def amount(value: Decimal) -> str:
    """A figure in a sentence, where the currency is not known: at most 8 decimals (a
    satoshi), trailing zeros dropped, thousands separated (``8.57142857``, ``2,102``)."""
    rounded = value.quantize(SATOSHI, ROUND_HALF_EVEN)
    whole = rounded.to_integral_value()
    text = _grouped(whole) if rounded == whole else f"{rounded:,f}".rstrip("0")
    return "0" if text == "-0" else text


def plain(value: Decimal) -> str:
    """An exact figure for machines, without exponent or trailing zeros: ``0`` for
    ``0E-48``, ``0.0000001`` for ``1E-7``, ``1500`` for ``1.5E+3``. Nothing is rounded."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@_rounding
def percent(value: Decimal | None) -> str:
    if value is None:
        return "∞"
    return f"{_grouped((value * 100).quantize(CENT, ROUND_HALF_EVEN))}%"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 2) -> str:
    """A plain-text table: the first ``left`` columns left-aligned (names), the rest
    right-aligned (numbers). A header may span lines (``"fund cash\\nchange"``); they are
    aligned at the bottom. With no rows, the headers alone."""
    parts = [h.split("\n") for h in headers]
    height = max((len(p) for p in parts), default=1)
    parts = [[""] * (height - len(p)) + p for p in parts]
    widths = [
        max(*(len(x) for x in p), *(len(r[i]) for r in rows)) if rows else max(map(len, p))
        for i, p in enumerate(parts)
    ]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    lines = [line([p[k] for p in parts]) for k in range(height)]
    lines.append("  ".join("-" * w for w in widths))
    lines += [line(row) for row in rows]
    return "\n".join(lines)
