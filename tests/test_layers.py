"""The three layers import one way: ``margincall.math`` ← ``margincall.policy`` ← the engine.

* **math** (``margincall.math.*``): pure functions over values and tier tables. It imports
  nothing from the front, the engine or their machinery: not ``policy``, ``engine``,
  ``registry``, ``config``, ``hookspecs``, ``mechanisms``, ``ledger``, ``scenario``, ``cli``,
  ``compare``, ``outcome``, nor ``pluggy``, nor the ``margincall`` package itself (whose
  ``__init__`` re-exports the front). Its own margincall imports are limited to the value
  modules ``decimals``, ``errors``, ``market``, ``account``, ``health`` and ``math.*``.
* **front** (``margincall.policy``): does not import ``margincall.engine``.

What is checked: the imports that run when a module is imported, read from the source with
:mod:`ast`: statements at module level, including those under ``if TYPE_CHECKING:`` (and any
other module-level ``if``/``try``/``with``, and class bodies), never those inside a function.
The lazy ``from margincall.engine import simulate`` inside :meth:`Policy.simulate` is the
documented exception: it runs only when a simulation is asked for, after both modules are
loaded, so it is not a layering edge. The forbidden names are checked through the chain of
explicit imports too (math → market → ... → policy fails, naming the chain). A package's
parent ``__init__``, which Python runs before any submodule, is not counted as an import of
the submodule: ``margincall/__init__`` imports every layer by design.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "margincall"

MATH_FORBIDDEN = (
    "margincall.policy",
    "margincall.engine",
    "margincall.registry",
    "margincall.config",
    "margincall.hookspecs",
    "margincall.mechanisms",
    "margincall.ledger",
    "margincall.scenario",
    "margincall.cli",
    "margincall.compare",
    "margincall.outcome",
    "pluggy",
)
MATH_ALLOWED_CORE = (
    "margincall.decimals",
    "margincall.errors",
    "margincall.market",
    "margincall.account",
    "margincall.health",
    "margincall.math",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _executed(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of ``body`` that run when the module is imported: recursing into
    module-level ``if`` (``TYPE_CHECKING`` included), ``try``, ``with`` and class bodies,
    never into functions."""
    for node in body:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if isinstance(node, ast.If):
            yield from _executed(node.body)
            yield from _executed(node.orelse)
        elif isinstance(node, ast.Try):
            yield from _executed(node.body)
            for handler in node.handlers:
                yield from _executed(handler.body)
            yield from _executed(node.orelse)
            yield from _executed(node.finalbody)
        elif isinstance(node, (ast.With, ast.ClassDef)):
            yield from _executed(node.body)


def module_imports(source: str, module: str, *, package: bool = False) -> list[tuple[str, int]]:
    """``(imported module, line)`` of every module-level import of ``module``'s ``source``.
    ``from X import name`` counts as importing ``X.name`` when that is a module of margincall,
    else ``X``; relative imports are resolved against ``module`` (a ``package``'s
    ``__init__`` when ``package``)."""
    found = []
    for node in _executed(ast.parse(source).body):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                name = f"{base}.{alias.name}"
                found.append((name if name in MODULES else base, node.lineno))
    return found


IMPORTS: dict[str, list[tuple[str, int]]] = {
    name: module_imports(path.read_text(encoding="utf-8"), name, package=path.name == "__init__.py")
    for name, path in MODULES.items()
}


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def chains(start: str) -> dict[str, list[str]]:
    """Every module reachable from ``start`` through explicit module-level imports, with the
    chain of imports that reaches it (third-party modules are leaves)."""
    seen = {start: [start]}
    todo = [start]
    while todo:
        current = todo.pop()
        for imported, _ in IMPORTS.get(current, []):
            if imported not in seen:
                seen[imported] = [*seen[current], imported]
                if imported in MODULES:
                    todo.append(imported)
    return seen


def violations(start: str, forbidden: Callable[[str], bool]) -> list[str]:
    """The chains from ``start`` to every reachable module ``forbidden`` names."""
    return [" → ".join(chain) for name, chain in sorted(chains(start).items()) if forbidden(name)]


def above_math(name: str) -> bool:
    """A module the math layer must not reach: the front, the engine, their machinery, or
    the ``margincall`` package itself (its ``__init__`` re-exports the front)."""
    return name == "margincall" or _under(name, MATH_FORBIDDEN)


MATH_MODULES = sorted(m for m in MODULES if _under(m, ("margincall.math",)))


def test_the_layers_are_found() -> None:
    """The walk reads the math package (the tier, pricing and the five new modules) and
    the front: a wrong path cannot make the checks pass vacuously."""
    for name in ("tiers", "pricing", "position", "health", "rounding", "fund", "adl"):
        assert f"margincall.math.{name}" in MATH_MODULES
    assert "margincall.policy" in MODULES
    assert "margincall.math.tiers" in [m for m, _ in IMPORTS["margincall.market"]]


@pytest.mark.parametrize("module", MATH_MODULES)
def test_math_imports_nothing_above_it(module: str) -> None:
    """No math module reaches the front, the engine or their machinery, directly or
    through a chain of module-level imports."""
    bad = violations(module, above_math)
    assert not bad, f"{module} imports above the math layer: " + "; ".join(bad)


@pytest.mark.parametrize("module", MATH_MODULES)
def test_math_imports_only_value_modules(module: str) -> None:
    """A math module's own margincall imports are the value modules and the math
    package."""
    bad = [
        f"{imported} (line {line})"
        for imported, line in IMPORTS[module]
        if _under(imported, ("margincall",)) and not _under(imported, MATH_ALLOWED_CORE)
    ]
    assert not bad, f"{module} imports beyond the value modules: {', '.join(bad)}"


def test_the_front_does_not_import_the_engine() -> None:
    """``margincall.policy`` does not import the engine at module level, directly or through
    its imports (the lazy import in ``Policy.simulate`` is not module level)."""
    bad = violations("margincall.policy", lambda name: _under(name, ("margincall.engine",)))
    assert not bad, "margincall.policy imports the engine at module level: " + "; ".join(bad)


# --- the checker itself ---------------------------------------------------------------------


def test_the_checker_sees_module_level_and_type_checking_imports() -> None:
    """Top-level, ``if TYPE_CHECKING:``, ``try`` and class-body imports count; relative
    imports resolve; a name that is a module counts as that module."""
    source = """
from typing import TYPE_CHECKING
import pluggy
from margincall.math import position
from ..engine import book
from . import tiers
if TYPE_CHECKING:
    from margincall.policy import Policy
try:
    import margincall.ledger
except ImportError:
    pass
class C:
    from margincall import config
"""
    names = [m for m, _ in module_imports(source, "margincall.math.x")]
    assert names == [
        "typing",
        "pluggy",
        "margincall.math.position",
        "margincall.engine.book",
        "margincall.math.tiers",
        "margincall.policy",
        "margincall.ledger",
        "margincall.config",
    ]


def test_the_checker_ignores_imports_inside_functions() -> None:
    """The lazy import in a function (``Policy.simulate``'s) is not module level."""
    source = """
def simulate():
    from margincall.engine import simulate
    return simulate
async def later():
    import margincall.engine
"""
    assert module_imports(source, "margincall.policy") == []


def test_a_chain_is_reported() -> None:
    """A forbidden module reached through another is named with the chain that reaches it
    (here the real one: market → math.tiers, searched for math.tiers)."""
    found = violations("margincall.market", lambda name: name == "margincall.math.tiers")
    assert found == ["margincall.market → margincall.math.tiers"]
