"""The README's Python examples run and print what they claim.

The examples of the section "Batch risk over a DataFrame" need the ``batch`` and ``pandas``
extras: they run as their own test, skipped where NumPy or pandas is not installed; every
other example runs everywhere.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"
BATCH = "## Batch risk over a DataFrame"


def batch_lines(text: str) -> range:
    """The line numbers (0-based) of the batch section: its heading up to the next one."""
    lines = text.splitlines()
    start = lines.index(BATCH)
    end = next(
        (k for k in range(start + 1, len(lines)) if re.match(r"#{1,2} ", lines[k])), len(lines)
    )
    return range(start, end)


def run(batch: bool) -> doctest.TestResults:
    """The README's examples inside (``batch``) or outside the batch section, in order, in
    one namespace."""
    text = README.read_text(encoding="utf-8")
    test = doctest.DocTestParser().get_doctest(text, {}, README.name, str(README), 0)
    section = batch_lines(text)
    test.examples = [e for e in test.examples if (e.lineno in section) == batch]
    assert test.examples, f"no examples {'inside' if batch else 'outside'} {BATCH!r}"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    return runner.summarize(verbose=False)


def test_readme_examples() -> None:
    result = run(batch=False)
    assert result.attempted > 0
    assert result.failed == 0


def test_readme_batch_examples() -> None:
    pytest.importorskip("numpy")
    pytest.importorskip("pandas")
    result = run(batch=True)
    assert result.attempted > 0
    assert result.failed == 0
