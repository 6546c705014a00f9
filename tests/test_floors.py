"""pyproject.toml's dependency floors and tests/constraints-lowest.txt (what the ``lowest``
tox environment installs) name the same versions, and in that environment they are the
versions installed, so the floors cannot drift from what the suite has passed with."""

from __future__ import annotations

import os
import re
from importlib.metadata import version
from pathlib import Path

import pytest

from margincall._compat import tomllib

ROOT = Path(__file__).parents[1]
CONSTRAINTS = ROOT / "tests" / "constraints-lowest.txt"
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[A-Za-z0-9_,.-]+\])?>=([0-9][0-9.]*)\s*(?:;.*)?$")
"""``NAME>=VERSION``, or ``NAME[EXTRAS]>=VERSION``, with an optional environment marker."""


def _release(text: str) -> tuple[int, ...]:
    """1.3 and 1.3.0 are the same release."""
    parts = [int(p) for p in text.split(".")]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def floors() -> dict[str, str]:
    """Every dependency of margincall and of its extras: name -> floor."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    found = {}
    for requirement in requirements:
        match = REQUIREMENT.match(requirement)
        assert match, f"{requirement!r}: state a floor as NAME>=VERSION"
        found[match.group(1).lower()] = match.group(2)
    return found


def pins() -> dict[str, str]:
    """The ``NAME==VERSION`` lines of the constraints file."""
    found = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        name, sep, pinned = line.partition("==")
        if sep:
            found[name.strip().lower()] = pinned.strip()
    return found


def test_every_floor_is_pinned_in_the_lowest_constraints() -> None:
    wanted, pinned = floors(), pins()
    assert set(pinned) == set(wanted), "pin exactly pyproject's dependencies, each once"
    for name, floor in wanted.items():
        assert _release(pinned[name]) == _release(floor), f"{name}: {pinned[name]} vs >={floor}"


@pytest.mark.skipif(
    os.environ.get("MARGINCALL_EXPECT_FLOORS") != "1", reason="only in tox -e lowest"
)
def test_the_lowest_environment_runs_on_the_floors() -> None:
    for name, pinned in pins().items():
        assert _release(version(name)) == _release(pinned), f"{name} {version(name)} installed"
