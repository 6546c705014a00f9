"""Property-based tests of policy TOML loading: numbers round-trip exactly.

Each example writes a child policy (``extends = "binance-usdm"``) whose BTCUSDT tier table is
generated, with every number written as a TOML literal taken from the Decimal's own digits
(plain, exponent or digit-grouped form), loads it with :func:`margincall.load_policy`, and
compares what was loaded with what was written. Maintenance amounts are checked against the
recursion computed here with plain Decimal arithmetic in a context that traps any rounding.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Context, Decimal, Inexact, Rounded, localcontext
from pathlib import Path

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import margincall as mc
from margincall.testing import strategies as mst
from margincall.testing.strategies import TierRow

PARENT = mc.load_policy("binance-usdm")
SYMBOL = "BTCUSDT"
FIELDS = ("min_notional", "max_notional", "max_leverage", "maintenance_margin_rate")

# "Arbitrary decimal strings": up to 12 digits after the point, caps up to ~10^14. About a
# quarter of these tables have an amount with more than 28 significant digits (Python's
# default precision); none reaches margincall's 50.
WIDE_ROWS = mst.tier_rows(
    max_tiers=6,
    notional_places=(0, 12),
    rate_places=(1, 12),
    leverage_places=(0, 4),
    max_width=10**13,
)
# Modest numbers, as venues publish them (tick-like places, caps up to ~10^9).
MODEST_ROWS = mst.tier_rows(
    max_tiers=6, notional_places=(0, 2), rate_places=(1, 5), max_width=10**8
)

FORMS = ("plain", "exponent", "grouped")
_names = itertools.count()


# --- independent helpers ---------------------------------------------------------------------


def exact_amounts(rows: Sequence[TierRow]) -> list[Decimal]:
    """maintenance_amount[1] = 0; amount[k] = amount[k-1] + min_notional[k] * (rate[k] - rate[k-1]),
    in a context that raises on any rounding (so the result is the exact value)."""
    context = Context(prec=500, traps=[Inexact, Rounded])
    with localcontext(context):
        amounts = [Decimal(0)]
        for previous, row in itertools.pairwise(rows):
            amounts.append(
                amounts[-1]
                + row.min_notional
                * (row.maintenance_margin_rate - previous.maintenance_margin_rate)
            )
    return amounts


def _group(digits: str, from_left: bool) -> str:
    """Digits in groups of three joined by underscores (TOML allows ``1_000.000_1``)."""
    if from_left:
        chunks = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    else:
        head = len(digits) % 3 or 3
        chunks = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return "_".join(chunks)


def toml_literal(value: Decimal, form: str) -> str:
    """A TOML number literal for ``value``, written from its own digits (never via float).

    ``plain`` is ``str(value)`` (an integer, a decimal, or ``1E-7`` exponent form, all valid
    TOML); ``exponent`` is ``format(value, "e")`` (every digit kept); ``grouped`` is the plain
    positional form with underscores between groups of digits.
    """
    if form == "plain":
        return str(value)
    if form == "exponent":
        return format(value, "e")
    positional = format(value, "f")
    sign = "-" if positional.startswith("-") else ""
    whole, _, fraction = positional.removeprefix("-").partition(".")
    text = sign + _group(whole, from_left=False)
    return f"{text}.{_group(fraction, from_left=True)}" if fraction else text


def policy_text(
    rows: Sequence[TierRow], forms: Sequence[str], amounts: Sequence[Decimal] | None = None
) -> str:
    lines = [
        'name = "roundtrip-test"',
        'extends = "binance-usdm"',
        "",
    ]
    form = iter(forms)
    for k, row in enumerate(rows):
        lines.append(f"[[markets.{SYMBOL}.tiers]]")
        for field in FIELDS:
            lines.append(f"{field} = {toml_literal(getattr(row, field), next(form))}")
        if amounts is not None:
            lines.append(f"maintenance_amount = {toml_literal(amounts[k], next(form))}")
        lines.append("")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("roundtrip")


def write_and_load(workdir: Path, text: str) -> mc.Policy:
    path = workdir / f"roundtrip-{next(_names)}.toml"
    path.write_text(text, encoding="utf-8")
    note(text)
    return mc.load_policy(path)


def forms_for(count: int) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(FORMS), min_size=count, max_size=count)


# --- properties ------------------------------------------------------------------------------


@given(rows=WIDE_ROWS, data=st.data())
def test_tier_numbers_load_exactly(workdir: Path, rows: list[TierRow], data: st.DataObject) -> None:
    """Every number of a tier table written to TOML (any exact literal form) loads as exactly
    the Decimal written: in the validated spec and in the runtime market. The child replaces
    only the table it names: the parent's other markets load unchanged."""
    forms = data.draw(forms_for(len(rows) * len(FIELDS)), label="forms")
    policy = write_and_load(workdir, policy_text(rows, forms))
    spec_tiers = policy.spec.markets[SYMBOL].tiers
    tiers = policy.markets[SYMBOL].tiers
    assert len(spec_tiers) == len(tiers) == len(rows)
    for row, spec_tier, tier in zip(rows, spec_tiers, tiers, strict=True):
        for field in FIELDS:
            assert getattr(spec_tier, field) == getattr(row, field), field
            assert getattr(tier, field) == getattr(row, field), field
    for symbol, market in PARENT.markets.items():
        if symbol != SYMBOL:
            assert policy.markets[symbol] == market


@given(rows=WIDE_ROWS)
def test_derived_amounts_equal_the_exact_recursion(workdir: Path, rows: list[TierRow]) -> None:
    """A table given without maintenance amounts gets them from Binance's recursion, exactly:
    amount[1] = 0, amount[k] = amount[k-1] + min_notional[k] * (rate[k] - rate[k-1]).
    (Literal forms are covered by the round-trip property; plain literals here.)"""
    policy = write_and_load(workdir, policy_text(rows, ["plain"] * (len(rows) * len(FIELDS))))
    loaded = [t.maintenance_amount for t in policy.markets[SYMBOL].tiers]
    assert loaded == exact_amounts(rows)


@given(rows=MODEST_ROWS, data=st.data())
def test_stated_amounts_that_follow_the_recursion_are_accepted(
    workdir: Path, rows: list[TierRow], data: st.DataObject
) -> None:
    """A table that states each tier's maintenance amount, equal to the recursion, loads, and
    the runtime tiers carry exactly those amounts. (Venue-sized numbers, as published tables
    such as binance-usdm.toml state them; exactness for any digits is the property above.)"""
    amounts = exact_amounts(rows)
    forms = data.draw(forms_for(len(rows) * (len(FIELDS) + 1)), label="forms")
    policy = write_and_load(workdir, policy_text(rows, forms, amounts))
    assert [t.maintenance_amount for t in policy.markets[SYMBOL].tiers] == amounts


@given(rows=MODEST_ROWS, data=st.data())
def test_stated_amount_contradicting_the_recursion_is_rejected(
    workdir: Path, rows: list[TierRow], data: st.DataObject
) -> None:
    """A stated maintenance amount that differs from the recursion, by any nonzero amount, is
    rejected with a PolicyError that names that tier's maintenance_amount."""
    amounts = exact_amounts(rows)
    k = data.draw(st.integers(0, len(rows) - 1), label="k")
    delta = data.draw(
        mst.decimals_between("-1000", "1000", (0, 12)).filter(lambda d: d != 0), label="delta"
    )
    with localcontext(Context(prec=500, traps=[Inexact, Rounded])):
        amounts[k] += delta
    forms = data.draw(forms_for(len(rows) * (len(FIELDS) + 1)), label="forms")
    with pytest.raises(
        mc.PolicyError, match=rf"markets\.{SYMBOL}\.tiers\[{k}\]\.maintenance_amount"
    ):
        write_and_load(workdir, policy_text(rows, forms, amounts))


@given(
    rows=MODEST_ROWS,
    precision=st.integers(1, 27),
    rounding=st.sampled_from(["ROUND_HALF_EVEN", "ROUND_DOWN", "ROUND_CEILING", "ROUND_05UP"]),
)
def test_loading_ignores_the_callers_decimal_context(
    workdir: Path, rows: list[TierRow], precision: int, rounding: str
) -> None:
    """margincall runs in its own decimal context ("the caller's own decimal context is
    ignored"): a policy loaded while the caller's context has low precision and any rounding
    has exactly the numbers written, and exactly the recursion's amounts."""
    text = policy_text(rows, ["plain"] * (len(rows) * len(FIELDS)))
    with localcontext(Context(prec=precision, rounding=rounding)):
        policy = write_and_load(workdir, text)
    tiers = policy.markets[SYMBOL].tiers
    for row, tier in zip(rows, tiers, strict=True):
        for field in FIELDS:
            assert getattr(tier, field) == getattr(row, field), field
    assert [t.maintenance_amount for t in tiers] == exact_amounts(rows)


@given(value=mst.decimals_between("-1e15", "1e15", (0, 20)), form=st.sampled_from(FORMS))
def test_toml_literals_written_here_are_exact(value: Decimal, form: str) -> None:
    """The literal forms this module writes parse back (as margincall parses TOML: floats as
    Decimal) to the same value; a guard for the other properties' test harness."""
    from margincall.config import parse_toml

    assert parse_toml(f"x = {toml_literal(value, form)}", "literal")["x"] == value
