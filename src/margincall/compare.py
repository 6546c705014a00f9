"""Policies side by side on the same scenario.

Each policy runs separately, so one that fails (a plugin error, an unsupported stage) is
reported under its name and the others still compare. Figures are exact Decimals; the
markdown and table renderings round for display only (``display``), JSON and CSV are exact.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future
from decimal import Decimal
from typing import Any, Literal

import attrs

from margincall import display
from margincall.decimals import ZERO, exact, exact_sums
from margincall.errors import InvalidInputError, MargincallError, PluginError, PolicyError
from margincall.outcome import AdlRecord, Liquidation, LossBreakdown, Outcome
from margincall.policy import (
    Policy,
    PolicyReference,
    available_policies,
    load_policy,
    reload_policy,
)
from margincall.scenario import Scenario


@attrs.frozen
class Row:
    """One account under one policy; money in ``currency``."""

    policy: str
    account: str
    currency: str
    liquidated: bool
    liquidated_notional: Decimal
    fees_paid: Decimal
    adl_notional: Decimal
    clawback_paid: Decimal
    final_balance: Decimal
    debt: Decimal


Status = Literal["played", "cannot play", "failed"]


@attrs.frozen
class Summary:
    """One policy over the whole scenario, money in ``currency``.

    ``insurance_fund_change`` is the fund's cash; ``fund_holdings_value`` the unrealised PnL,
    at the last marks, of positions the fund took over and still holds (a loss < 0), so the
    fund's equity changed by their sum. ``who_pays`` breaks down the losses beyond the
    bankrupt accounts' collateral (:class:`~margincall.outcome.LossBreakdown`).

    ``status`` is ``"cannot play"`` when the policy cannot play the scenario (a symbol it does
    not list, a contract of the other type) and ``"failed"`` when it broke (a plugin's error, a
    policy that does not load); ``error`` then says why and the figures are zero."""

    policy: str
    venue: str
    parameters_date: str
    currency: str
    accounts_liquidated: int
    liquidated_notional: Decimal
    fees: Decimal
    insurance_fund_change: Decimal
    fund_holdings_value: Decimal
    adl_notional: Decimal
    clawback: Decimal
    debt_owed: Decimal
    venue_loss: Decimal
    who_pays: LossBreakdown | None = None
    status: Status = "played"
    error: str | None = None

    @property
    def fund_equity_change(self) -> Decimal:
        """The fund's cash change plus its holdings at the last marks."""
        with exact_sums():
            return self.insurance_fund_change + self.fund_holdings_value


Table = Literal["summary", "accounts"]


@attrs.frozen
class Comparison:
    scenario: str
    summaries: tuple[Summary, ...]
    rows: tuple[Row, ...]
    outcomes: dict[str, Outcome]

    def summary(self) -> tuple[Summary, ...]:
        return self.summaries

    def to_json(self) -> str:
        """The summaries (with each policy's status, reason and who-pays breakdown) and the
        per-account rows; every figure exact, as a plain decimal string."""
        data = {
            "scenario": self.scenario,
            "summary": [_summary_dict(s) for s in self.summaries],
            "rows": [attrs.asdict(r) for r in self.rows],
        }
        return json.dumps(data, indent=2, default=_exact_text, ensure_ascii=False)

    def to_csv(self, table: Table = "summary") -> str:
        """Exact figures, plain decimals. ``table="summary"``: one line per policy, with its
        who-pays breakdown, status and reason (policies that could not play included);
        ``table="accounts"``: one line per policy and account."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if table == "accounts":
            fields = [f.name for f in attrs.fields(Row)]
            records = [attrs.asdict(r) for r in self.rows]
        elif table == "summary":
            records = [_flat(_summary_dict(s)) for s in self.summaries]
            fields = list(_flat(_summary_dict(_blank(""))))
        else:
            raise InvalidInputError(f"to_csv: table must be 'summary' or 'accounts', not {table!r}")
        writer.writerow(fields)
        for record in records:
            writer.writerow([_csv_cell(record[f]) for f in fields])
        return out.getvalue()

    def _notes(self) -> list[str]:
        """Why each policy that could not play the scenario could not, below the summary."""
        notes = [
            f"{s.policy} {'cannot play it' if s.status == 'cannot play' else 'failed'}: {s.error}"
            for s in self.summaries
            if s.error is not None
        ]
        return ["", *notes] if notes else []

    def _tables(self, accounts: bool) -> list[tuple[str, list[str], list[list[str]], int]]:
        """(caption, headers, cells, name columns) of each table: the summary, who pays, and
        (with ``accounts``) the per-account rows."""
        played = [s for s in self.summaries if s.status == "played"]
        currency = _common({s.currency for s in played})
        names = ["policy"] if currency else ["policy", "currency"]
        tables = [
            (
                "",
                [*names, *_in(SUMMARY_COLUMNS, currency), "parameters\nof"],
                [_summary_cells(s, currency) for s in self.summaries],
                len(names),
            )
        ]
        if played:
            tables.append(
                (
                    "Who pays the losses beyond the bankrupt accounts' collateral:",
                    names + _in(WHO_PAYS_COLUMNS, currency),
                    [_who_pays_cells(s, currency) for s in played],
                    len(names),
                )
            )
        if accounts and self.rows:
            tables.append(
                (
                    "",
                    [*names, "account", *_in(ROW_COLUMNS, currency)],
                    [_row_cells(r, currency) for r in self.rows],
                    len(names) + 1,
                )
            )
        return tables

    def to_markdown(self, *, accounts: bool = True) -> str:
        """The per-policy summary, who pays the losses beyond the bankrupt accounts'
        collateral, then (with ``accounts``) the per-account rows, as markdown tables; money
        rounded to its currency's places for display."""
        lines = [f"Scenario: {self.scenario}"]
        for index, (caption, headers, cells, left) in enumerate(self._tables(accounts)):
            lines += ["", *([caption, ""] if caption else []), *_markdown(headers, cells, left)]
            if index == 0:
                lines += self._notes()
        return "\n".join(lines)

    def to_table(self, *, accounts: bool = True) -> str:
        """Like :meth:`to_markdown`, as plain-text tables for a terminal."""
        parts = [f"Scenario: {self.scenario}"]
        for index, (caption, headers, cells, left) in enumerate(self._tables(accounts)):
            parts += ["", *([caption] if caption else []), display.table(headers, cells, left=left)]
            if index == 0:
                parts += self._notes()
        parts += [
            "",
            "Money is rounded for display (cents for dollars, 8 places for coins); "
            "--format json or csv is exact.",
        ]
        return "\n".join(parts)

    def to_pandas(self, table: Table = "accounts") -> Any:
        """The rows (or, with ``table="summary"``, the summaries) as a pandas DataFrame
        (requires pandas: ``pip install margincall[pandas]``)."""
        try:
            pd = importlib.import_module("pandas")  # an optional dependency
        except ImportError:
            raise MargincallError("to_pandas needs pandas: pip install pandas") from None
        if table == "summary":
            return pd.DataFrame([_flat(_summary_dict(s)) for s in self.summaries])
        return pd.DataFrame([attrs.asdict(r) for r in self.rows])


def _exact_text(value: object) -> str:
    if isinstance(value, Decimal):
        return display.plain(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    return display.plain(value) if isinstance(value, Decimal) else str(value)


def _summary_dict(s: Summary) -> dict[str, Any]:
    data = attrs.asdict(s)
    data["fund_equity_change"] = s.fund_equity_change
    return data


def _flat(data: dict[str, Any]) -> dict[str, Any]:
    """The who-pays breakdown as ``who_pays_<part>`` columns (empty for a policy that did
    not play)."""
    flat = {k: v for k, v in data.items() if k != "who_pays"}
    for part in (f.name for f in attrs.fields(LossBreakdown)):
        flat[f"who_pays_{part}"] = (data["who_pays"] or {}).get(part)
    return flat


def _common(currencies: set[str]) -> str | None:
    """The one currency every played policy's money is in, if there is one."""
    return next(iter(currencies)) if len(currencies) == 1 else None


def _in(columns: list[str], currency: str | None) -> list[str]:
    """Money columns named with their currency on a line of its own (a ``*`` marks a
    count, left as it is)."""
    return [
        c[1:] if c.startswith("*") else (f"{c}\n({currency})" if currency else c) for c in columns
    ]


SUMMARY_COLUMNS = [
    "*accounts\nliquidated",
    "notional\nliquidated",
    "fees",
    "fund cash\nchange",
    "fund holdings\nat mark",
    "ADL\nnotional",
    "clawback",
    "debt\nowed",
    "venue\nloss",
]
WHO_PAYS_COLUMNS = [
    "total",
    "fund cash",
    "fund holdings",
    "ADL",
    "clawback",
    "traders",
    "venue",
    "unallocated",
]
ROW_COLUMNS = [
    "*liquidated",
    "notional\nliquidated",
    "fees",
    "ADL notional",
    "clawback",
    "final cash",
    "owes",
]


def _names(policy: str, currency: str, common: str | None) -> list[str]:
    return [policy] if common else [policy, currency]


def _summary_cells(s: Summary, common: str | None) -> list[str]:
    names = _names(s.policy, s.currency or "-", common)
    if s.status != "played":
        return [*names, s.status, *["-"] * (len(SUMMARY_COLUMNS) - 1), s.parameters_date or "-"]
    money = [
        s.liquidated_notional,
        s.fees,
        s.insurance_fund_change,
        s.fund_holdings_value,
        s.adl_notional,
        s.clawback,
        s.debt_owed,
        s.venue_loss,
    ]
    return [
        *names,
        str(s.accounts_liquidated),
        *(display.money_in(m, s.currency) for m in money),
        s.parameters_date,
    ]


def _who_pays_cells(s: Summary, common: str | None) -> list[str]:
    w = s.who_pays
    assert w is not None  # a played policy has one
    parts = [w.total, w.fund_cash, w.fund_holdings, w.adl, w.clawback, w.traders, w.venue]
    return [
        *_names(s.policy, s.currency, common),
        *(display.money_in(m, s.currency) for m in [*parts, w.unallocated]),
    ]


def _row_cells(r: Row, common: str | None) -> list[str]:
    money = [
        r.liquidated_notional,
        r.fees_paid,
        r.adl_notional,
        r.clawback_paid,
        r.final_balance,
        r.debt,
    ]
    return [
        *_names(r.policy, r.currency, common),
        r.account,
        "yes" if r.liquidated else "no",
        *(display.money_in(m, r.currency) for m in money),
    ]


def _markdown(headers: list[str], rows: list[list[str]], left: int) -> list[str]:
    align = ["---" if i < left else "--:" for i in range(len(headers))]
    names = [h.replace("\n", " ") for h in headers]
    lines = ["| " + " | ".join(names) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _blank(policy: str, status: Status = "failed", error: str | None = None) -> Summary:
    zero = ZERO
    return Summary(
        policy, "", "", "", 0, zero, zero, zero, zero, zero, zero, zero, zero, None, status, error
    )


def _by_account(
    records: Sequence[Liquidation | AdlRecord], values: list[Decimal]
) -> dict[str, list[Decimal]]:
    """``values`` (one per record) by the records' account, in the records' order."""
    grouped: dict[str, list[Decimal]] = {}
    for record, value in zip(records, values, strict=True):
        grouped.setdefault(record.account, []).append(value)
    return grouped


def _summarise(policy: Policy, scenario: Scenario, outcome: Outcome) -> tuple[Summary, list[Row]]:
    """The policy's summary and one row per account: one pass over the outcome's records
    (:meth:`Outcome.balance` and the other per-account queries read an index of them)."""
    rows = []
    with exact():  # a value divides for inverse contracts: 50 digits, then exact sums
        notionals = [
            policy.scenario_market(x.symbol).value(x.size, x.price) for x in outcome.liquidations
        ]
        adl = [policy.scenario_market(a.symbol).value(a.size, a.price) for a in outcome.adl]
    liquidated, deleveraged = (
        _by_account(outcome.liquidations, notionals),
        _by_account(outcome.adl, adl),
    )
    with exact_sums():
        for key in scenario.accounts:
            mine = liquidated.get(key, [])
            rows.append(
                Row(
                    policy=policy.name,
                    account=key,
                    currency=outcome.currency,
                    liquidated=bool(mine),
                    liquidated_notional=sum(mine, ZERO),
                    fees_paid=outcome.fees_paid(key),
                    adl_notional=sum(deleveraged.get(key, []), ZERO),
                    clawback_paid=outcome.clawback_paid(key),
                    final_balance=outcome.balance(key),
                    debt=outcome.debt(key),
                )
            )
        summary = Summary(
            policy=policy.name,
            venue=policy.venue,
            parameters_date=policy.parameters_date,
            currency=outcome.currency,
            accounts_liquidated=sum(1 for r in rows if r.liquidated),
            liquidated_notional=sum((r.liquidated_notional for r in rows), ZERO),
            fees=sum((r.fees_paid for r in rows), ZERO),
            insurance_fund_change=outcome.insurance_fund - outcome.fund_opening,
            fund_holdings_value=outcome.fund_holdings_value,
            adl_notional=sum(adl, ZERO),
            clawback=sum((r.clawback_paid for r in rows), ZERO),
            debt_owed=sum((r.debt for r in rows), ZERO),
            venue_loss=outcome.venue_loss,
            who_pays=outcome.who_pays(),
        )
    return summary, rows


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _refused(name: str, error: MargincallError) -> Summary:
    """The summary of a policy that broke (a plugin's error, a policy that does not load)
    or cannot play the scenario (any other of margincall's errors)."""
    if isinstance(error, (PluginError, PolicyError)):  # the policy broke: it fails alone
        return _blank(name, "failed", _first_line(error))
    return _blank(name, "cannot play", _first_line(error))  # not a scenario it can play


class _Sent:
    """A policy handed to an executor's task: in this process, the policy itself; pickled
    (to another process), its :meth:`~margincall.policy.Policy.reference`, loaded in the
    task (once per process), so that a policy that cannot be reloaded there fails, in the
    table, like one that breaks."""

    def __init__(
        self,
        name: str,
        policy: Policy | None = None,
        reference: PolicyReference | None = None,
        why_not: str = "",
    ) -> None:
        self.name = name
        self._policy = policy
        self._reference = reference
        self._why_not = why_not

    @classmethod
    def of(cls, policy: Policy) -> _Sent:
        try:
            return cls(policy.name, policy, policy.reference())
        except PolicyError as error:  # told only where it is needed, in another process
            return cls(policy.name, policy, None, str(error))

    def __reduce__(self) -> tuple[type[_Sent], tuple[str, None, PolicyReference | None, str]]:
        return _Sent, (self.name, None, self._reference, self._why_not)

    def policy(self) -> Policy:
        if self._policy is not None:
            return self._policy
        if self._reference is None:
            raise PolicyError(self._why_not)
        return reload_policy(self._reference)


@attrs.frozen
class _Played:
    """What one task returns: the policy's summary, and (``detailed``) its rows and
    outcome."""

    summary: Summary
    rows: tuple[Row, ...] = ()
    outcome: Outcome | None = None


def _play(name: str, sent: Policy | _Sent, scenario: Scenario, detailed: bool) -> _Played:
    """Play one policy over ``scenario`` and summarise it, a policy that breaks or cannot
    play it summarised as such, under ``name`` (as the caller named it: its name, or the path
    it was given as): the task the serial runs and the executors' workers alike run."""
    try:
        policy = sent.policy() if isinstance(sent, _Sent) else sent
        outcome = policy.simulate(scenario)
    except MargincallError as error:
        return _Played(_refused(name, error))
    summary, rows = _summarise(policy, scenario, outcome)
    return _Played(summary, tuple(rows), outcome) if detailed else _Played(summary)


def _name(item: str | Policy) -> str:
    """How the tables name a policy given as ``item``: its name, or the name or path given."""
    return item.name if isinstance(item, Policy) else str(item)


def _load(item: str | Policy) -> Policy | _Played:
    """``item`` loaded (a name or a path), or the summary of a policy that does not load."""
    if isinstance(item, Policy):
        return item
    try:
        return load_policy(item)
    except MargincallError as error:
        return _Played(_refused(str(item), error))


def _check_executor(executor: object, where: str) -> None:
    if executor is not None and not isinstance(executor, Executor):
        raise InvalidInputError(
            f"{where}: executor must be a concurrent.futures.Executor (or None), got "
            f"{type(executor).__name__} {executor!r}"
        )


def _policies(policies: Sequence[str | Policy] | None, where: str) -> list[str | Policy]:
    if policies is None:
        return list(available_policies())
    if isinstance(policies, (str, Policy)) or not isinstance(policies, Iterable):
        raise InvalidInputError(
            f"{where}: policies must be a list of policy names, paths or Policy objects, got "
            f"{type(policies).__name__} {policies!r}"
        )
    return list(policies)


_Job = tuple[str, "Policy | _Played", Scenario]
"""A policy's name (as the caller gave it), the policy (or its summary, if it did not
load), and a scenario to play it over."""


def _run(
    jobs: list[_Job],
    executor: Executor,
    detailed: bool,
    waiting: Callable[[int], None],
) -> Iterator[_Played]:
    """Each job played as a task on ``executor`` (a policy that did not load, already
    summarised, as it is), the results in the jobs' order; ``waiting(index)`` before waiting
    for each. An error a task raised (not one of margincall's, which are summarised) is
    raised here, and the tasks not yet started are cancelled."""
    futures: list[Future[_Played] | _Played] = []
    sent: dict[int, _Sent] = {}  # one per policy, pickled with each task
    try:
        for name, policy, scenario in jobs:
            if isinstance(policy, _Played):
                futures.append(policy)
                continue
            if id(policy) not in sent:
                sent[id(policy)] = _Sent.of(policy)
            item = sent[id(policy)]
            futures.append(executor.submit(_play, name, item, scenario, detailed))
        for index, future in enumerate(futures):
            waiting(index)
            yield future if isinstance(future, _Played) else future.result()
    finally:
        for future in futures:
            if isinstance(future, Future):
                future.cancel()


def compare(
    scenario: Scenario,
    policies: Sequence[str | Policy] | None = None,
    *,
    executor: Executor | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Comparison:
    """Play every policy (default: every available one) over ``scenario``.

    With an ``executor`` (any :class:`concurrent.futures.Executor`: a thread or process
    pool, a Dask client's ``get_executor()``), each policy plays as a task on it: policies
    are loaded here, once, and a process that plays one loads it again from its
    :meth:`~margincall.policy.Policy.reference` (a policy that cannot be reloaded there
    fails with the reason). The comparison is the serial one, in the same order, figure for
    figure; a policy that cannot play or fails shows up alike.

    ``progress(name, index, total)`` is called before each policy runs (with an executor:
    before its result is awaited)."""
    if not isinstance(scenario, Scenario):
        raise InvalidInputError(
            f"compare: expected a Scenario, got {type(scenario).__name__} {scenario!r}"
        )
    _check_executor(executor, "compare")
    chosen = _policies(policies, "compare")
    names = [_name(item) for item in chosen]

    def waiting(index: int) -> None:
        if progress is not None:
            progress(names[index], index, len(chosen))

    played: Iterable[_Played]
    if executor is None:
        played = (
            _serial(names[index], item, scenario, index, waiting)
            for index, item in enumerate(chosen)
        )
    else:
        jobs = [(name, _load(item), scenario) for name, item in zip(names, chosen, strict=True)]
        played = _run(jobs, executor, True, waiting)
    summaries: list[Summary] = []
    rows: list[Row] = []
    outcomes: dict[str, Outcome] = {}
    for result in played:
        summaries.append(result.summary)
        rows += result.rows
        if result.outcome is not None:
            outcomes[result.summary.policy] = result.outcome
    return Comparison(scenario.name, tuple(summaries), tuple(rows), outcomes)


def _serial(
    name: str, item: str | Policy, scenario: Scenario, index: int, waiting: Callable[[int], None]
) -> _Played:
    """One policy loaded and played here, after ``waiting(index)``."""
    waiting(index)
    policy = _load(item)
    return policy if isinstance(policy, _Played) else _play(name, policy, scenario, True)


# --- many scenarios -----------------------------------------------------------------------


@attrs.frozen
class SweepRow:
    """One policy over one scenario: the scenario's name and the policy's :class:`Summary`
    (as :func:`compare` gives it)."""

    scenario: str
    summary: Summary


@attrs.frozen
class Sweep:
    """Many scenarios, each under many policies (:func:`sweep`): one row per scenario and
    policy, the scenarios in the order given and, in each, the policies in theirs.

    Its table (:meth:`records`, :meth:`to_csv`, :meth:`to_json`, :meth:`to_pandas`) has the
    columns of :meth:`Comparison.to_csv`'s summary, preceded by ``scenario``: ``scenario``,
    ``policy``, ``venue``, ``parameters_date``, ``currency``, ``accounts_liquidated``, the
    money (``liquidated_notional``, ``fees``, ``insurance_fund_change``,
    ``fund_holdings_value``, ``adl_notional``, ``clawback``, ``debt_owed``, ``venue_loss``),
    ``status``, ``error``, ``fund_equity_change`` and the who-pays breakdown
    (``who_pays_fund_cash`` ... ``who_pays_total``, empty for a policy that did not play);
    every figure exact."""

    rows: tuple[SweepRow, ...]

    @staticmethod
    def columns() -> list[str]:
        """The table's columns, in order."""
        return ["scenario", *_flat(_summary_dict(_blank("")))]

    def records(self) -> list[dict[str, Any]]:
        """One dict per row, by :meth:`columns` (figures as Decimals, None where empty)."""
        return [{"scenario": r.scenario, **_flat(_summary_dict(r.summary))} for r in self.rows]

    def to_csv(self) -> str:
        """The table as CSV: exact figures, plain decimals; an empty cell for None."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        fields = self.columns()
        writer.writerow(fields)
        for record in self.records():
            writer.writerow([_csv_cell(record[f]) for f in fields])
        return out.getvalue()

    def to_json(self) -> str:
        """``{"columns": [...], "rows": [{...}, ...]}``: the records, every figure exact, as
        a plain decimal string (null where empty)."""
        data = {"columns": self.columns(), "rows": self.records()}
        return json.dumps(data, indent=2, default=_exact_text, ensure_ascii=False)

    def to_pandas(self) -> Any:
        """The table as a pandas DataFrame, figures as Decimals (requires pandas:
        ``pip install margincall[pandas]``)."""
        try:
            pd = importlib.import_module("pandas")  # an optional dependency
        except ImportError:
            raise MargincallError("to_pandas needs pandas: pip install pandas") from None
        return pd.DataFrame(self.records(), columns=self.columns())


def sweep(
    scenarios: Iterable[Scenario],
    policies: Sequence[str | Policy] | None = None,
    *,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Sweep:
    """Every policy (default: every available one) over each of ``scenarios``: one
    :class:`Sweep` table, a row per scenario and policy, each row the summary
    :func:`compare` gives (the per-account rows and the outcomes are not kept).

    Policies are loaded once; a policy that does not load fails in every scenario. With an
    ``executor`` (as for :func:`compare`), each scenario and policy plays as a task on it;
    the table is the serial one, row for row. Scenarios need distinct names (they name the
    rows). ``progress(done, total)`` is called after each row is in, in the rows' order."""
    _check_executor(executor, "sweep")
    if isinstance(scenarios, Scenario) or not isinstance(scenarios, Iterable):
        raise InvalidInputError(
            f"sweep: scenarios must be an iterable of Scenario objects, got "
            f"{type(scenarios).__name__} {scenarios!r}"
        )
    chosen = list(scenarios)
    seen: dict[str, int] = {}
    for k, scenario in enumerate(chosen):
        if not isinstance(scenario, Scenario):
            raise InvalidInputError(
                f"sweep: scenarios[{k}]: expected a Scenario, got {type(scenario).__name__} "
                f"{scenario!r}"
            )
        if scenario.name in seen:
            raise InvalidInputError(
                f"sweep: scenarios[{k}] is named {scenario.name!r} like scenarios"
                f"[{seen[scenario.name]}]; the rows are named by scenario, so names must differ"
            )
        seen[scenario.name] = k
    items = _policies(policies, "sweep")
    loaded = [(_name(item), _load(item)) for item in items]
    jobs = [(name, policy, scenario) for scenario in chosen for name, policy in loaded]
    played: Iterable[_Played]
    if executor is None:
        played = (
            policy if isinstance(policy, _Played) else _play(name, policy, scenario, False)
            for name, policy, scenario in jobs
        )
    else:
        played = _run(jobs, executor, False, lambda index: None)
    rows: list[SweepRow] = []
    for (_, _, scenario), result in zip(jobs, played, strict=True):
        rows.append(SweepRow(scenario.name, result.summary))
        if progress is not None:
            progress(len(rows), len(jobs))
    return Sweep(tuple(rows))
