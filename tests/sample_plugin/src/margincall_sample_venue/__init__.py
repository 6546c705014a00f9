"""Sample Venue: a made-up exchange whose one deviation from margincall's defaults is its
procedure. A pool in liquidation first sells half of its largest position in the book; if it
is still in liquidation, that position is taken over at its bankruptcy price."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_FLOOR
from importlib.resources import files
from typing import TYPE_CHECKING

from margincall import hookimpl
from margincall.mechanisms.procedure import largest_requirement, takeover
from margincall.waterfall import LiquidationAction, Pool, Reduce

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable  # Python 3.11+; importlib.abc on 3.10


@hookimpl
def margincall_policy_files() -> Iterable[Traversable]:
    return [files(__name__) / "sample-venue.toml"]


@hookimpl
def margincall_liquidation_action(pool: Pool, attempt: int) -> LiquidationAction:
    target = largest_requirement(pool)
    lot = target.market.lot_size
    half = (target.size / 2 / lot).to_integral_value(ROUND_FLOOR) * lot
    if attempt == 0 and half > 0:
        return Reduce(target.symbol, target.side, half, "ioc", None)
    return takeover(target)
