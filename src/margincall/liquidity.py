"""Liquidity models: where a liquidation order fills, as pure functions of plain values.

An order ``sell``s (closing a long) into bids or ``buy``s (closing a short) from asks, for up
to ``size`` contracts, never worse than ``limit`` (an IOC order's limit; None: any price).
``consumed`` is the size this side of the book has already given in the same step, so that a
cascade of liquidations in one step walks down the same book instead of refilling it. A model
returns the executions it makes, best first; their sizes sum to at most ``size``.

Three models:

* :class:`MarkFill`: any size fills around the mark, at a fixed slippage plus a linear price
  impact in the size taken this step.
* :class:`DepthLadder`: fixed price levels relative to the mark, each with a size.
* :class:`NoLiquidity`: nothing fills; every liquidation falls to the backstop.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal
from typing import Literal, Protocol

import attrs

from margincall.decimals import ONE, ZERO, non_negative, positive
from margincall.errors import InvalidInputError

OrderSide = Literal["buy", "sell"]


@attrs.frozen
class Execution:
    """``size`` contracts filled at ``price``."""

    price: Decimal
    size: Decimal


class LiquidityModel(Protocol):
    """Where orders fill. Implementations are pure and deterministic."""

    def fill(
        self,
        symbol: str,
        side: OrderSide,
        size: Decimal,
        mark: Decimal,
        limit: Decimal | None,
        consumed: Decimal,
    ) -> tuple[Execution, ...]: ...


def _to_places_of(size: Decimal, bound: Decimal) -> Decimal:
    """``bound`` (a quotient, maybe of endless digits) rounded down to ``size``'s decimal
    places: a partial fill stays in the order's own units, so sums of fills stay exact."""
    if bound >= size:
        return bound
    exponent = size.as_tuple().exponent
    places = exponent if isinstance(exponent, int) and exponent < 0 else 0
    return bound.quantize(Decimal(1).scaleb(places), ROUND_FLOOR)


def _worse(side: OrderSide, price: Decimal, limit: Decimal | None) -> bool:
    """Whether ``price`` is worse than ``limit`` for an order on ``side``."""
    if limit is None:
        return False
    return price < limit if side == "sell" else price > limit


@attrs.frozen
class NoLiquidity:
    """Nothing fills."""

    def fill(
        self,
        symbol: str,
        side: OrderSide,
        size: Decimal,
        mark: Decimal,
        limit: Decimal | None,
        consumed: Decimal,
    ) -> tuple[Execution, ...]:
        return ()


@attrs.frozen(init=False)
class MarkFill:
    """Fills any size at the mark moved against the order by ``slippage + impact × x``, where
    ``x`` is the size this side has given in the step when the contract fills (linear impact).

    An order of ``q`` contracts after ``c`` already taken fills at the average price
    ``mark × (1 ∓ (slippage + impact × (c + q/2)))`` (− for a sell); with a limit, only the
    part whose marginal price is within it fills.
    """

    slippage: Decimal
    impact: Decimal

    def __init__(self, slippage: object = ZERO, impact: object = ZERO) -> None:
        s = non_negative(slippage, "liquidity slippage", bounded=True)
        i = non_negative(impact, "liquidity impact", bounded=True)
        if s >= 1:
            raise InvalidInputError(f"liquidity slippage: must be below 1, got {s}")
        self.__attrs_init__(s, i)

    def fill(
        self,
        symbol: str,
        side: OrderSide,
        size: Decimal,
        mark: Decimal,
        limit: Decimal | None,
        consumed: Decimal,
    ) -> tuple[Execution, ...]:
        direction = -1 if side == "sell" else 1

        def marginal(x: Decimal) -> Decimal:
            return mark * (ONE + direction * (self.slippage + self.impact * x))

        take = size
        if limit is not None:
            if _worse(side, marginal(consumed), limit):
                return ()
            if self.impact > 0:
                # marginal(consumed + take) within the limit: solve the linear bound
                room = (direction * (limit / mark - ONE) - self.slippage) / self.impact - consumed
                take = min(take, _to_places_of(size, room))
        if side == "sell" and self.impact > 0:
            # prices stay positive: mark × (1 − slippage − impact × x) > 0
            take = min(take, _to_places_of(size, (ONE - self.slippage) / self.impact - consumed))
        if take <= 0:
            return ()
        return (Execution(marginal(consumed + take / 2), take),)


@attrs.frozen
class Level:
    """``size`` contracts at ``offset`` (a fraction) from the mark, away from the order."""

    offset: Decimal
    size: Decimal


@attrs.frozen(init=False)
class DepthLadder:
    """Fixed levels per symbol: bids at ``mark × (1 − offset)``, asks at
    ``mark × (1 + offset)``, each with a size, nearest first. A symbol with no ladder has no
    liquidity. Levels already ``consumed`` in the step are skipped."""

    bids: Mapping[str, tuple[Level, ...]]
    asks: Mapping[str, tuple[Level, ...]]

    def __init__(
        self,
        bids: Mapping[str, object] | None = None,
        asks: Mapping[str, object] | None = None,
    ) -> None:
        self.__attrs_init__(_ladders(bids or {}, "bids"), _ladders(asks or {}, "asks"))

    def fill(
        self,
        symbol: str,
        side: OrderSide,
        size: Decimal,
        mark: Decimal,
        limit: Decimal | None,
        consumed: Decimal,
    ) -> tuple[Execution, ...]:
        levels = (self.bids if side == "sell" else self.asks).get(symbol, ())
        direction = -1 if side == "sell" else 1
        executions = []
        skip, left = consumed, size
        for level in levels:
            available = level.size - min(skip, level.size)
            skip -= level.size - available
            if available <= 0:
                continue
            price = mark * (ONE + direction * level.offset)
            if left <= 0 or _worse(side, price, limit):
                break
            take = min(available, left)
            executions.append(Execution(price, take))
            left -= take
        return tuple(executions)


def _ladders(data: Mapping[str, object], name: str) -> dict[str, tuple[Level, ...]]:
    ladders = {}
    for symbol, levels in data.items():
        if not isinstance(levels, (list, tuple)):
            raise InvalidInputError(f"liquidity.{name}.{symbol}: expected a list of levels")
        parsed = []
        for k, level in enumerate(levels):
            where = f"liquidity.{name}.{symbol}[{k}]"
            if isinstance(level, Level):
                offset, size = level.offset, level.size
            elif isinstance(level, (list, tuple)) and len(level) == 2:
                offset, size = level
            else:
                shown = (
                    f"[{', '.join(map(str, level))}]"
                    if isinstance(level, (list, tuple))
                    else repr(level)
                )
                raise InvalidInputError(f"{where}: expected [offset, size], got {shown}")
            parsed.append(
                Level(
                    non_negative(offset, f"{where} offset", bounded=True),
                    positive(size, f"{where} size", bounded=True),
                )
            )
            if parsed[-1].offset >= 1 and name == "bids":
                raise InvalidInputError(f"{where} offset: a bid offset must be below 1")
            if k and parsed[-1].offset < parsed[-2].offset:
                raise InvalidInputError(f"{where} offset: levels must run from the mark outwards")
        ladders[symbol] = tuple(parsed)
    return ladders
