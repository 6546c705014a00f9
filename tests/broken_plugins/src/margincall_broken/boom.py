"""A liquidation procedure with a bug: it divides by zero whenever it is asked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from margincall import hookimpl
from margincall_broken import policies

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from margincall.waterfall import LiquidationAction, Pool


@hookimpl
def margincall_policy_files() -> Iterable[Traversable]:
    return policies("boom-venue.toml")


@hookimpl
def margincall_liquidation_action(pool: Pool, attempt: int) -> LiquidationAction:
    return pool.positions[attempt // 0]  # type: ignore[return-value]
