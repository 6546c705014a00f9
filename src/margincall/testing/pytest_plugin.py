"""The conformance suite as pytest tests, for policy authors.

Registered through the ``pytest11`` entry point, so it is active wherever margincall is
installed. One line in a test module runs every law on a policy, one test per law::

    from margincall.testing.pytest_plugin import conformance_test

    test_my_venue = conformance_test("my-venue")  # a policy name or a TOML file

``--margincall-profile ci|nightly`` chooses the example counts (default ``ci``: bounded and
reproducible); ``--margincall-examples N`` sets them outright. A failing law fails its test
with the law, what broke, and the shrunk counterexample.

The module imports ``hypothesis`` only when a conformance test is built, so installing
margincall never breaks a pytest run that does not use the suite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from margincall.policy import Policy, load_policy

if TYPE_CHECKING:
    from margincall.testing.conformance import Law

__all__ = ["conformance_test"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("margincall", "margincall conformance suite")
    group.addoption(
        "--margincall-profile",
        default="ci",
        help="example counts of conformance laws: ci (default) or nightly",
    )
    group.addoption(
        "--margincall-examples",
        type=int,
        default=None,
        help="examples per conformance law, overriding the profile",
    )


def conformance_test(
    policy: str | Path | Policy, *, laws: Iterable[Law] | None = None
) -> Callable[..., None]:
    """A pytest test function, parametrized by law (default: every law of the suite), that
    checks ``policy`` (a name, a TOML file or a loaded :class:`~margincall.policy.Policy`)."""
    from margincall.testing.conformance import LAWS, check_law

    chosen = tuple(LAWS if laws is None else laws)
    loaded: list[Policy] = []

    @pytest.mark.parametrize("law", chosen, ids=[law.name for law in chosen])
    def test(law: Law, request: pytest.FixtureRequest) -> None:
        if not loaded:
            loaded.append(policy if isinstance(policy, Policy) else load_policy(policy))
        verdict = check_law(
            loaded[0],
            law,
            profile=request.config.getoption("--margincall-profile"),
            max_examples=request.config.getoption("--margincall-examples"),
        )
        if not verdict.passed:
            pytest.fail(
                f"{loaded[0].name} breaks the law {law.name!r}: {law.statement}\n"
                f"{verdict.failure}\ncounterexample:\n{verdict.counterexample}",
                pytrace=False,
            )

    return test
