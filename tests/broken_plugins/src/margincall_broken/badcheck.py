"""A parameter check that looks a parameter up without checking it is there."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from margincall import hookimpl
from margincall_broken import policies

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from margincall.config import PolicySpec


@hookimpl
def margincall_policy_files() -> Iterable[Traversable]:
    return policies("badcheck-venue.toml")


@hookimpl
def margincall_check_config(config: PolicySpec) -> Iterable[str]:
    settings: dict[str, object] = {}
    return [f"parameters.chunk: {settings['chunk']}"]
