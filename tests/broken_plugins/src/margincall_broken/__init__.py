"""Plugins that break: each module is one entry point of the ``margincall`` group."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable  # Python 3.11+; importlib.abc on 3.10


def policies(*names: str) -> Iterable[Traversable]:
    """This package's policy files called ``names``."""
    return [files(__name__) / "policies" / name for name in names]
