"""Account files: an account and its mark prices in TOML, for the command line.

::

    balance = 10000             # cross wallet balance, settlement currency
    position_mode = "one-way"   # or "hedge"

    [marks]
    BTCUSDT = 59000

    [[positions]]
    symbol = "BTCUSDT"
    side = "long"
    size = 0.5
    entry_price = 60000
    margin_mode = "isolated"    # or "cross" (the default)
    margin = 3000               # isolated only; or leverage = 20

Numbers are read as exact Decimals. Errors name the file and the key.
"""

from __future__ import annotations

from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import attrs

from margincall.account import Account, MarginMode, Position, PositionMode, Side
from margincall.config import read_text_file, structure_input
from margincall.errors import InvalidInputError


@attrs.frozen
class PositionSpec:
    """A position as written in an account or scenario file."""

    symbol: str
    side: Side
    size: Decimal
    entry_price: Decimal
    margin_mode: MarginMode = "cross"
    margin: Decimal | None = None
    leverage: Decimal | None = None


@attrs.frozen
class _AccountSpec:
    balance: Decimal
    positions: tuple[PositionSpec, ...] = ()
    position_mode: PositionMode = "one-way"
    marks: dict[str, Decimal] = attrs.Factory(dict)


def build_positions(specs: tuple[PositionSpec, ...]) -> list[Position]:
    """Validated positions from their file form (InvalidInputError names the bad field)."""
    return [Position(**attrs.asdict(p, recurse=False)) for p in specs]


@attrs.frozen
class AccountFile:
    """An account with the marks it is to be valued at."""

    account: Account
    marks: dict[str, Decimal]


def load_account(path: str | Path) -> AccountFile:
    """Read an account file; raise InvalidInputError naming the file and the problem."""
    origin = str(path)
    spec = structure_input(read_text_file(path, "account file"), origin, _AccountSpec)
    try:
        account = Account(spec.balance, build_positions(spec.positions), spec.position_mode)
    except InvalidInputError as error:
        raise InvalidInputError(f"{origin}: {error}") from None
    return AccountFile(account, dict(spec.marks))


def example_account() -> str:
    """The text of the repository's ``examples/account.toml``, which the wheel ships as
    ``margincall/examples/account.toml`` (``margincall risk --example`` prints it)."""
    shipped = files("margincall") / "examples" / "account.toml"
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    # a source checkout (an editable install), where the package has no copy
    return (Path(__file__).parents[2] / "examples" / "account.toml").read_text(encoding="utf-8")
