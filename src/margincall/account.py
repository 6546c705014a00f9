"""Positions and accounts: what a trader holds, validated when built.

Sizes are in contracts (for Binance USDⓈ-M, base units), prices in the quote currency, and
money (balance, margin) in the settlement currency of the positions' markets. Every number
is converted with :func:`margincall.decimals.to_decimal`, so a float, NaN, a negative size or
zero leverage is rejected at construction with a message that names the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Literal

import attrs

from margincall.decimals import non_negative, positive, to_decimal
from margincall.errors import InvalidInputError

Side = Literal["long", "short"]
MarginMode = Literal["isolated", "cross"]
PositionMode = Literal["one-way", "hedge"]

SIDES: tuple[Side, ...] = ("long", "short")
MARGIN_MODES: tuple[MarginMode, ...] = ("isolated", "cross")
POSITION_MODES: tuple[PositionMode, ...] = ("one-way", "hedge")


def _choice(value: object, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise InvalidInputError(f"{what}: must be one of {', '.join(allowed)}; got {value!r}")
    return str(value)


def _optional_positive(what: str) -> object:
    return lambda v: None if v is None else positive(v, what)


@attrs.frozen(init=False)
class Position:
    """An open position.

    ``margin`` is the isolated wallet balance of an isolated position (initial margin plus any
    margin added). ``leverage`` is the leverage chosen for the symbol; an isolated position
    given only ``leverage`` holds ``value at entry / leverage`` as margin. Cross positions draw
    on the account balance and take no ``margin``.
    """

    symbol: str
    side: Side
    size: Decimal
    entry_price: Decimal
    margin_mode: MarginMode
    margin: Decimal | None
    leverage: Decimal | None

    def __init__(
        self,
        symbol: str,
        side: Side,
        size: Decimal | int | str,
        entry_price: Decimal | int | str,
        margin_mode: MarginMode = "cross",
        margin: Decimal | int | str | None = None,
        leverage: Decimal | int | str | None = None,
    ) -> None:
        if not isinstance(symbol, str) or not symbol:
            raise InvalidInputError(f"position symbol: must be a non-empty string, got {symbol!r}")
        where = f"position {symbol}"
        side = _choice(side, SIDES, f"{where} side")  # type: ignore[assignment]
        margin_mode = _choice(margin_mode, MARGIN_MODES, f"{where} margin_mode")  # type: ignore[assignment]
        size_d = positive(size, f"{where} size", bounded=True)
        entry = positive(entry_price, f"{where} entry_price", bounded=True)
        lev = None if leverage is None else positive(leverage, f"{where} leverage", bounded=True)
        mar = None if margin is None else non_negative(margin, f"{where} margin", bounded=True)
        if margin_mode == "cross" and mar is not None:
            raise InvalidInputError(
                f"{where}: margin={mar} applies only to isolated positions; "
                "a cross position draws on the account balance"
            )
        if margin_mode == "isolated" and mar is None and lev is None:
            raise InvalidInputError(
                f"{where}: an isolated position needs margin= (its isolated wallet balance) "
                "or leverage= (margin = value at entry / leverage)"
            )
        self.__attrs_init__(symbol, side, size_d, entry, margin_mode, mar, lev)

    @classmethod
    def _unchecked(
        cls,
        symbol: str,
        side: Side,
        size: Decimal,
        entry_price: Decimal,
        margin_mode: MarginMode,
        margin: Decimal | None,
        leverage: Decimal | None,
    ) -> Position:
        """A position from values the engine keeps valid itself; an isolated margin may be
        negative there (a bankrupt position about to be taken over). Not for API input."""
        position = object.__new__(cls)
        position.__attrs_init__(symbol, side, size, entry_price, margin_mode, margin, leverage)
        return position

    @property
    def sign(self) -> int:
        """+1 for long, -1 for short."""
        return 1 if self.side == "long" else -1

    @property
    def isolated(self) -> bool:
        return self.margin_mode == "isolated"


@attrs.frozen(init=False)
class Account:
    """A margin account in one settlement currency.

    ``balance`` is the cross wallet balance: deposits plus realised PnL, not counting the margin
    locked in isolated positions (each isolated position carries its own ``margin``). It may be
    negative: an account left owing a deficit under a debt-chasing policy.
    ``position_mode`` is ``"one-way"`` (at most one position per symbol) or ``"hedge"`` (at most
    one long and one short per symbol, sharing a margin mode).
    """

    balance: Decimal
    positions: tuple[Position, ...]
    position_mode: PositionMode

    def __init__(
        self,
        balance: Decimal | int | str,
        positions: Iterable[Position] = (),
        position_mode: PositionMode = "one-way",
    ) -> None:
        bal = to_decimal(balance, "account balance", bounded=True)
        mode = _choice(position_mode, POSITION_MODES, "account position_mode")
        if isinstance(positions, Position):
            raise InvalidInputError(
                "account positions: expected a list of Position, got one Position"
            )
        if isinstance(positions, (str, bytes, Mapping)) or not isinstance(positions, Iterable):
            raise InvalidInputError(
                f"account positions: expected a list of Position, got {type(positions).__name__}"
            )
        held = tuple(positions)
        for p in held:
            if not isinstance(p, Position):
                raise InvalidInputError(
                    f"account positions: expected Position objects, got {type(p).__name__}"
                )
        seen: dict[tuple[str, str], Position] = {}
        for p in held:
            key = (p.symbol, p.side if mode == "hedge" else "")
            if key in seen:
                raise InvalidInputError(
                    f"account: two {p.symbol} positions"
                    + (f" on the {p.side} side" if mode == "hedge" else "")
                    + f"; {mode} mode allows "
                    + ("one per side" if mode == "hedge" else "one per symbol (use hedge mode)")
                )
            seen[key] = p
            other = seen.get((p.symbol, "short" if p.side == "long" else "long"))
            if other is not None and other.margin_mode != p.margin_mode:
                raise InvalidInputError(
                    f"account: the long and short {p.symbol} positions must share a margin mode, "
                    f"got {other.margin_mode} and {p.margin_mode}"
                )
        self.__attrs_init__(bal, held, mode)  # type: ignore[arg-type]

    @classmethod
    def _unchecked(
        cls, balance: Decimal, positions: tuple[Position, ...], position_mode: PositionMode
    ) -> Account:
        """An account from values the engine keeps valid itself: its balance is a sum of
        exact ledger amounts, which may have more digits than an input. Not for API input."""
        account = object.__new__(cls)
        account.__attrs_init__(balance, positions, position_mode)
        return account

    def legs(self, symbol: str) -> tuple[Position, ...]:
        """The positions held in ``symbol`` (two in hedge mode when both sides are open)."""
        return tuple(p for p in self.positions if p.symbol == symbol)
