"""Scenarios: accounts, a path of mark prices, and the liquidity liquidations fill against.

Build one in Python (:class:`Scenario`) or load it from TOML (:func:`load_scenario`); write
one as TOML with :meth:`Scenario.to_toml`::

    name = "gap-through-bankruptcy"
    description = "A 10x long BTC trader and a gap below the bankruptcy price."
    insurance_fund = 0          # optional: the fund's opening balance (else the policy's)
    seed = 0                    # optional: for policies that draw counterparties at random
    contracts = { BTCUSDT = "linear" }  # optional: a policy whose market differs cannot play it

    [liquidity]                 # model = "mark" (slippage, impact), "depth" or "none"
    model = "mark"
    slippage = 0.001

    [[accounts]]
    id = "trader"
    balance = 0
    [[accounts.positions]]
    symbol = "BTCUSDT"
    side = "long"
    size = 1
    entry_price = 60000
    margin_mode = "isolated"
    leverage = 10

    [[steps]]                   # one table per step; marks carry forward until changed
    label = "open"
    marks = { BTCUSDT = 60000 }
    [[steps]]
    label = "gap"
    marks = { BTCUSDT = 52000 }
    day = 1                     # optional: days since the start (interest on chased debts)
    transfers = { trader = 500 }  # optional: deposits (> 0) and withdrawals (< 0)

A depth ladder gives levels per symbol as ``[offset, size]`` pairs, nearest first::

    [liquidity]
    model = "depth"
    bids = { BTCUSDT = [[0.001, 2], [0.01, 10]] }
    asks = { BTCUSDT = [[0.001, 2], [0.01, 10]] }

Every number is an exact Decimal; every error names the file and the key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import attrs

from margincall.account import Account, PositionMode
from margincall.account_file import PositionSpec, build_positions
from margincall.config import read_text_file, structure_input
from margincall.decimals import ZERO, non_negative, positive, to_decimal
from margincall.errors import InvalidInputError
from margincall.liquidity import DepthLadder, Level, LiquidityModel, MarkFill, NoLiquidity
from margincall.market import ContractType

_BUNDLED = files("margincall") / "scenarios"


@attrs.frozen
class Step:
    """One point of the price path: the marks that change at it (others carry forward), its
    time in days since the scenario began (None: the previous step's; 0 for the first), and
    the money each account moves in before the step's marks are checked (positive: a deposit,
    negative: a withdrawal)."""

    label: str
    marks: Mapping[str, Decimal]
    day: Decimal | None = None
    transfers: Mapping[str, Decimal] = attrs.field(factory=dict)


@attrs.frozen(init=False)
class Scenario:
    """Accounts by id (in order), the price path, the liquidity model, and the options.

    ``insurance_fund`` replaces the policy's opening fund balance when given. The first step
    must price every symbol any account holds.
    """

    name: str
    accounts: Mapping[str, Account]
    steps: tuple[Step, ...]
    liquidity: LiquidityModel
    insurance_fund: Decimal | None
    seed: int
    description: str
    contracts: Mapping[str, ContractType]
    """The contract type each symbol has in the scenario, where it says: a policy whose market
    of that name is of the other type would read its sizes and balances in other units, and
    cannot play it."""
    _marks: tuple[Mapping[str, Decimal], ...] = attrs.field(
        init=False, default=(), eq=False, repr=False
    )
    """Every known mark at each step, carried forward (computed once, at construction)."""
    _days: tuple[Decimal, ...] = attrs.field(init=False, default=(), eq=False, repr=False)
    """The day of each step, carried forward (computed once, at construction)."""

    def __init__(
        self,
        accounts: Mapping[str, Account],
        steps: Iterable[Step | Mapping[str, object]],
        liquidity: LiquidityModel | None = None,
        *,
        name: str = "scenario",
        insurance_fund: object = None,
        seed: int = 0,
        description: str = "",
        contracts: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(accounts, Mapping) or not accounts:
            raise InvalidInputError(
                "scenario accounts: expected a non-empty mapping of id to Account"
            )
        for key, acct in accounts.items():
            if not isinstance(key, str) or not key:
                raise InvalidInputError(
                    f"scenario accounts: ids are non-empty strings, got {key!r}"
                )
            if not isinstance(acct, Account):
                raise InvalidInputError(f"scenario account {key}: expected an Account")
        path = tuple(_step(s, k) for k, s in enumerate(steps))
        if not path:
            raise InvalidInputError("scenario steps: at least one step is required")
        day = ZERO
        days: list[Decimal] = []
        for k, step in enumerate(path):
            if step.day is not None and step.day < day:
                raise InvalidInputError(
                    f"scenario steps[{k}].day: {step.day} is before the previous step's day {day}"
                )
            day = day if step.day is None else step.day
            days.append(day)
            for key in step.transfers:
                if key not in accounts:
                    raise InvalidInputError(
                        f"scenario steps[{k}].transfers: no account {key!r} in the scenario"
                    )
        held = {p.symbol for a in accounts.values() for p in a.positions}
        unpriced = sorted(held - set(path[0].marks))
        if unpriced:
            raise InvalidInputError(
                f"scenario steps[0].marks: no mark for {', '.join(unpriced)}, held by the accounts"
            )
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise InvalidInputError(f"scenario seed: expected an integer, got {seed!r}")
        fund = (
            None
            if insurance_fund is None
            else non_negative(insurance_fund, "scenario insurance_fund", bounded=True)
        )
        types = dict(contracts or {})
        for symbol, kind in types.items():
            if kind not in ("linear", "inverse"):
                raise InvalidInputError(
                    f"scenario contracts.{symbol}: must be 'linear' or 'inverse', got {kind!r}"
                )
        self.__attrs_init__(
            name,
            dict(accounts),
            path,
            liquidity or NoLiquidity(),
            fund,
            seed,
            description,
            types,  # type: ignore[arg-type]
        )
        # Carried forward once here, so that marks_at and day_at take constant time per call
        # (an engine asks at every step). A step that changes no mark shares the previous
        # step's mapping; marks_at hands out copies, so no caller can alter them.
        carried: list[Mapping[str, Decimal]] = []
        known: Mapping[str, Decimal] = {}
        for step in path:
            if step.marks:
                known = {**known, **step.marks}
            carried.append(known)
        object.__setattr__(self, "_marks", tuple(carried))
        object.__setattr__(self, "_days", tuple(days))

    def to_toml(self) -> str:
        """The scenario as TOML text in :func:`load_scenario`'s format, which reads it back to
        an equal scenario: numbers are written as the exact decimals they are (a Decimal's own
        digits, trailing zeros kept; ``1E+3`` as ``1000``), strings escaped, and keys that are
        not bare TOML keys quoted. Optional keys are written where they differ from the
        default (``seed`` when not 0, ``insurance_fund`` when given, a position's
        ``margin_mode`` when isolated, ``day`` and ``transfers`` where a step has them).

        Raises InvalidInputError for what has no file form: a liquidity model other than
        :class:`MarkFill`, :class:`DepthLadder` and :class:`NoLiquidity`, or text that is
        not valid Unicode."""
        return "\n".join(_toml_lines(self)) + "\n"

    def _index(self, index: int, method: str) -> int:
        """``index`` if it is a step of the path, or InvalidInputError naming ``method``."""
        if isinstance(index, bool) or not isinstance(index, int):
            raise InvalidInputError(
                f"Scenario.{method}: expected a step index (an integer), got {index!r}"
            )
        if not 0 <= index < len(self.steps):
            raise InvalidInputError(
                f"Scenario.{method}: no step {index}; the steps are 0 to {len(self.steps) - 1}"
            )
        return index

    def day_at(self, index: int) -> Decimal:
        """The time of step ``index`` in days since the scenario began. Constant time: the
        days are carried forward once, at construction."""
        return self._days[self._index(index, "day_at")]

    def marks_at(self, index: int) -> dict[str, Decimal]:
        """Every known mark at step ``index`` (changes carried forward from earlier steps), as
        a new dict the caller may change. The marks are carried forward once, at construction,
        so a call costs a copy of one step's marks, whatever the index."""
        return dict(self._marks[self._index(index, "marks_at")])


def _step(step: Step | Mapping[str, object], k: int) -> Step:
    if isinstance(step, Step):
        marks: Any = step.marks
        label, day, transfers = step.label, step.day, step.transfers
    elif isinstance(step, Mapping):
        marks, label, day, transfers = step, str(k), None, {}
    else:
        raise InvalidInputError(f"scenario steps[{k}]: expected a Step or a mapping of marks")
    if not isinstance(marks, Mapping):
        raise InvalidInputError(f"scenario steps[{k}].marks: expected a mapping of symbol to price")
    if not isinstance(transfers, Mapping):
        raise InvalidInputError(
            f"scenario steps[{k}].transfers: expected a mapping of account id to amount"
        )
    checked = {
        s: positive(p, f"scenario steps[{k}].marks.{s}", bounded=True) for s, p in marks.items()
    }
    moved = {
        a: to_decimal(m, f"scenario steps[{k}].transfers.{a}", bounded=True)
        for a, m in transfers.items()
    }
    for account, amount in moved.items():
        if amount == 0:
            raise InvalidInputError(
                f"scenario steps[{k}].transfers.{account}: a transfer of 0 moves nothing"
            )
    when = None if day is None else non_negative(day, f"scenario steps[{k}].day", bounded=True)
    return Step(label, checked, when, moved)


# --- TOML ---------------------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _toml_string(text: object, what: str) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and control characters escaped."""
    if not isinstance(text, str):
        raise InvalidInputError(f"to_toml: {what}: expected a string, got {text!r}")
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        elif 0xD800 <= code <= 0xDFFF:
            raise InvalidInputError(
                f"to_toml: {what}: {text!r} holds a lone surrogate (U+{code:04X}), which no "
                "UTF-8 file can hold"
            )
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _toml_key(key: str, what: str) -> str:
    """``key`` bare where TOML allows it (letters, digits, ``_`` and ``-``), else quoted."""
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key, what)


def _toml_number(value: Decimal) -> str:
    """``value``'s exact text: its own digits (``116375.0`` stays so), and positional
    notation where ``str`` would give an exponent, which TOML reads as a float."""
    text = str(value)
    return format(value, "f") if "E" in text else text


def _toml_table(items: Mapping[str, str], what: str) -> str:
    """An inline table of already-written values."""
    if not items:
        return "{}"
    return "{ " + ", ".join(f"{_toml_key(k, what)} = {v}" for k, v in items.items()) + " }"


def _toml_ladders(ladders: Mapping[str, tuple[Level, ...]], what: str) -> str:
    return _toml_table(
        {
            symbol: "["
            + ", ".join(f"[{_toml_number(v.offset)}, {_toml_number(v.size)}]" for v in levels)
            + "]"
            for symbol, levels in ladders.items()
        },
        what,
    )


def _toml_lines(scenario: Scenario) -> list[str]:
    lines = [
        f"name = {_toml_string(scenario.name, 'name')}",
        f"description = {_toml_string(scenario.description, 'description')}",
    ]
    if scenario.insurance_fund is not None:
        lines.append(f"insurance_fund = {_toml_number(scenario.insurance_fund)}")
    if scenario.seed:
        lines.append(f"seed = {scenario.seed}")
    if scenario.contracts:
        kinds = {s: _toml_string(k, f"contracts.{s}") for s, k in scenario.contracts.items()}
        lines.append(f"contracts = {_toml_table(kinds, 'contracts')}")
    lines += ["", "[liquidity]"]
    model = scenario.liquidity
    if isinstance(model, MarkFill):
        lines += [
            'model = "mark"',
            f"slippage = {_toml_number(model.slippage)}",
            f"impact = {_toml_number(model.impact)}",
        ]
    elif isinstance(model, DepthLadder):
        lines.append('model = "depth"')
        for side, ladders in (("bids", model.bids), ("asks", model.asks)):
            if ladders:
                lines.append(f"{side} = {_toml_ladders(ladders, f'liquidity.{side}')}")
    elif isinstance(model, NoLiquidity):
        lines.append('model = "none"')
    else:
        raise InvalidInputError(
            f"to_toml: liquidity: a {type(model).__name__} has no file form; a scenario file "
            "holds a MarkFill, a DepthLadder or NoLiquidity"
        )
    for key, account in scenario.accounts.items():
        where = f"accounts.{key}"
        lines += [
            "",
            "[[accounts]]",
            f"id = {_toml_string(key, f'{where}.id')}",
            f"balance = {_toml_number(account.balance)}",
        ]
        if account.position_mode != "one-way":
            lines.append(f'position_mode = "{account.position_mode}"')
        for position in account.positions:
            lines += [
                "[[accounts.positions]]",
                f"symbol = {_toml_string(position.symbol, f'{where}.positions.symbol')}",
                f'side = "{position.side}"',
                f"size = {_toml_number(position.size)}",
                f"entry_price = {_toml_number(position.entry_price)}",
            ]
            if position.margin_mode != "cross":
                lines.append(f'margin_mode = "{position.margin_mode}"')
            if position.margin is not None:
                lines.append(f"margin = {_toml_number(position.margin)}")
            if position.leverage is not None:
                lines.append(f"leverage = {_toml_number(position.leverage)}")
    for k, step in enumerate(scenario.steps):
        where = f"steps[{k}]"
        marks = {s: _toml_number(m) for s, m in step.marks.items()}
        lines += [
            "",
            "[[steps]]",
            f"label = {_toml_string(step.label, f'{where}.label')}",
            f"marks = {_toml_table(marks, f'{where}.marks')}",
        ]
        if step.day is not None:
            lines.append(f"day = {_toml_number(step.day)}")
        if step.transfers:
            moved = {a: _toml_number(m) for a, m in step.transfers.items()}
            lines.append(f"transfers = {_toml_table(moved, f'{where}.transfers')}")
    return lines


@attrs.frozen
class _AccountSpec:
    id: str
    balance: Decimal
    positions: tuple[PositionSpec, ...] = ()
    position_mode: PositionMode = "one-way"


@attrs.frozen
class _StepSpec:
    marks: dict[str, Decimal]
    label: str | None = None
    day: Decimal | None = None
    transfers: dict[str, Decimal] = attrs.field(factory=dict)


@attrs.frozen
class _LiquiditySpec:
    model: Literal["mark", "depth", "none"]
    slippage: Decimal | None = None
    impact: Decimal | None = None
    bids: dict[str, tuple[tuple[Decimal, ...], ...]] | None = None  # pairs: DepthLadder checks
    asks: dict[str, tuple[tuple[Decimal, ...], ...]] | None = None


@attrs.frozen
class _ScenarioSpec:
    name: str
    accounts: tuple[_AccountSpec, ...]
    steps: tuple[_StepSpec, ...]
    liquidity: _LiquiditySpec
    description: str = ""
    insurance_fund: Decimal | None = None
    seed: int = 0
    contracts: dict[str, ContractType] = attrs.field(factory=dict)


def _liquidity(spec: _LiquiditySpec) -> LiquidityModel:
    given = {k for k in ("slippage", "impact", "bids", "asks") if getattr(spec, k) is not None}
    allowed = {"mark": {"slippage", "impact"}, "depth": {"bids", "asks"}, "none": set()}[spec.model]
    if given - allowed:
        keys = ", ".join(sorted(given - allowed))
        raise InvalidInputError(f"liquidity: {keys} do not apply to model {spec.model!r}")
    if spec.model == "mark":
        return MarkFill(spec.slippage or 0, spec.impact or 0)
    if spec.model == "depth":
        return DepthLadder(spec.bids, spec.asks)
    return NoLiquidity()


def bundled_scenarios() -> list[str]:
    """Names of the scenarios shipped with margincall (``docs/scenarios.md``)."""
    return sorted(
        f.name.removesuffix(".toml") for f in _BUNDLED.iterdir() if f.name.endswith(".toml")
    )


def load_scenario(reference: str | Path) -> Scenario:
    """Read a scenario: a bundled one by name (:func:`bundled_scenarios`) or a TOML file
    (format in this module's docstring). Raises InvalidInputError naming the file and the key
    of every problem."""
    known = ", ".join(bundled_scenarios())
    if not isinstance(reference, (str, os.PathLike)):
        raise InvalidInputError(
            f"load_scenario: expected a bundled scenario name ({known}) or the path of a "
            f"scenario TOML file, got {type(reference).__name__} {reference!r}"
        )
    bundled = _BUNDLED / f"{reference}.toml"
    if isinstance(reference, str) and "/" not in reference and bundled.is_file():
        origin, text = f"margincall:scenarios/{reference}.toml", bundled.read_text(encoding="utf-8")
    else:
        origin = str(reference)
        text = read_text_file(
            reference,
            "scenario file",
            lambda message: InvalidInputError(
                message if os.path.lexists(reference) else f"{message} (bundled scenarios: {known})"
            ),
        )
    spec = structure_input(text, origin, _ScenarioSpec)
    try:
        accounts: dict[str, Account] = {}
        for k, a in enumerate(spec.accounts):
            if a.id in accounts:
                raise InvalidInputError(f"accounts[{k}].id: {a.id!r} is used twice")
            accounts[a.id] = Account(a.balance, build_positions(a.positions), a.position_mode)
        steps = [
            Step(s.label if s.label is not None else str(k), s.marks, s.day, s.transfers)
            for k, s in enumerate(spec.steps)
        ]
        return Scenario(
            accounts,
            steps,
            _liquidity(spec.liquidity),
            name=spec.name,
            insurance_fund=spec.insurance_fund,
            seed=spec.seed,
            description=spec.description,
            contracts=spec.contracts,
        )
    except InvalidInputError as error:
        raise InvalidInputError(f"{origin}: {error}") from None
