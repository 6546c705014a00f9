"""Names whose home moved between the Python versions margincall supports (3.10-3.13)."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable

    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    from importlib.abc import Traversable

    import tomli as tomllib

__all__ = ["Traversable", "tomllib"]
