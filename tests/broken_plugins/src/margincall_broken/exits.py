"""A liquidation trigger that gives up by ending the process."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from margincall import hookimpl
from margincall_broken import policies

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from margincall.health import Health


@hookimpl
def margincall_policy_files() -> Iterable[Traversable]:
    return policies("exits-venue.toml")


@hookimpl
def margincall_is_liquidatable(health: Health) -> bool:
    sys.exit("exits gave up")
