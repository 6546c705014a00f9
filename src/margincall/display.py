"""Rounding for display, in one place. Computations never round; only what is shown to a
person does: prices to the market's tick, money to 2 decimals (8 for coin-settled markets),
ratios as percentages with 2 decimals, half to even. Machine output (JSON) is exact."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow

from margincall.decimals import running_in
from margincall.market import Market

CENT = Decimal("0.01")
SATOSHI = Decimal("0.00000001")

_WIDE = Context(
    prec=1000, traps=[InvalidOperation, DivisionByZero, Overflow], Emin=-999999, Emax=999999
)
"""Rounding for display keeps every integer digit: a price of 1e40 shown to a 0.1 tick needs
41 digits, beyond the caller's default context (a quantize there is an InvalidOperation)."""

_shown = running_in(_WIDE)


@_shown
def price(value: Decimal | None, market: Market) -> str:
    if value is None:
        return "--"
    return str(value.quantize(market.tick_size.normalize(), ROUND_HALF_EVEN))


@_shown
def money(value: Decimal, market: Market) -> str:
    step = SATOSHI if market.inverse else CENT
    return f"{value.quantize(step, ROUND_HALF_EVEN):,}"


@_shown
def amount(value: Decimal) -> str:
    """A figure in a sentence, where the currency is not known: at most 8 decimals (a
    satoshi), trailing zeros dropped, thousands separated (``8.57142857``, ``2,102``)."""
    rounded = value.quantize(SATOSHI, ROUND_HALF_EVEN)
    whole = rounded.to_integral_value()
    text = f"{whole:,}" if rounded == whole else f"{rounded:,f}".rstrip("0")
    return "0" if text == "-0" else text


@_shown
def percent(value: Decimal | None) -> str:
    if value is None:
        return "∞"
    return f"{(value * 100).quantize(CENT, ROUND_HALF_EVEN)}%"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: the first two columns left-aligned, the rest right-aligned."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        cells = zip(row, widths, strict=True)
        lines.append(
            "  ".join(c.rjust(w) if i > 1 else c.ljust(w) for i, (c, w) in enumerate(cells))
        )
    return "\n".join(lines)
