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
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Literal

import attrs

from margincall import display
from margincall.decimals import ZERO, exact, exact_sums
from margincall.errors import InvalidInputError, MargincallError, PluginError, PolicyError
from margincall.outcome import AdlRecord, Liquidation, LossBreakdown, Outcome
from margincall.policy import Policy, available_policies, load_policy
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


def compare(
    scenario: Scenario,
    policies: Sequence[str | Policy] | None = None,
    *,
    progress: Callable[[str, int, int], None] | None = None,
) -> Comparison:
    """Play every policy (default: every available one) over ``scenario``.

    ``progress(name, index, total)`` is called before each policy runs."""
    chosen = list(policies) if policies is not None else list(available_policies())
    summaries, rows, outcomes = [], [], {}
    for index, item in enumerate(chosen):
        name = item.name if isinstance(item, Policy) else str(item)
        if progress is not None:
            progress(name, index, len(chosen))
        try:
            policy = item if isinstance(item, Policy) else load_policy(item)
            outcome = policy.simulate(scenario)
        except (PluginError, PolicyError) as error:  # the policy broke: it fails alone
            summaries.append(_blank(name, "failed", str(error).splitlines()[0]))
            continue
        except MargincallError as error:  # the scenario is not one this policy can play
            summaries.append(_blank(name, "cannot play", str(error).splitlines()[0]))
            continue
        summary, policy_rows = _summarise(policy, scenario, outcome)
        summaries.append(summary)
        rows += policy_rows
        outcomes[policy.name] = outcome
    return Comparison(scenario.name, tuple(summaries), tuple(rows), outcomes)
