"""margincall's built-in venue plugins. Each module holds one venue family's deviations from
the default mechanisms, and registers through the ``margincall`` entry-point group exactly
as a third-party plugin package would. Their policy files live in ``policies/`` of the
source tree and inside this package in a wheel."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path

from margincall._compat import Traversable


def policy_folder() -> Traversable:
    """The folder of the built-in policy TOML files: inside the installed package, or the
    source tree's ``policies/`` under an editable install."""
    shipped = files(__name__) / "policies"
    if shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parents[2] / "policies"


def policy_files(names: Iterable[str]) -> list[Traversable]:
    """The built-in policy files called ``names``, for a plugin's
    ``margincall_policy_files``."""
    folder = policy_folder()
    return [folder / name for name in names]
