"""A plugin that ships its own ``binance-usdm`` (the name of a built-in policy) beside a
policy of its own."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from margincall import hookimpl
from margincall_broken import policies

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable


@hookimpl
def margincall_policy_files() -> Iterable[Traversable]:
    return policies("binance-usdm.toml", "shadow-venue.toml")
