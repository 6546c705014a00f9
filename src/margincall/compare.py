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
from typing import Any

import attrs

from margincall import display
from margincall import ledger as lg
from margincall.decimals import ZERO, exact, exact_sums
from margincall.errors import MargincallError
from margincall.outcome import Outcome
from margincall.policy import Policy, available_policies, load_policy
from margincall.scenario import Scenario


@attrs.frozen
class Row:
    """One account under one policy."""

    policy: str
    account: str
    liquidated: bool
    liquidated_notional: Decimal
    fees_paid: Decimal
    adl_notional: Decimal
    clawback_paid: Decimal
    final_balance: Decimal
    debt: Decimal


@attrs.frozen
class Summary:
    """One policy over the whole scenario. ``error`` is set (and the figures are zero) when
    the policy could not be played."""

    policy: str
    venue: str
    parameters_date: str
    accounts_liquidated: int
    liquidated_notional: Decimal
    fees: Decimal
    insurance_fund_change: Decimal
    adl_notional: Decimal
    clawback: Decimal
    debt_owed: Decimal
    venue_loss: Decimal
    error: str | None = None


@attrs.frozen
class Comparison:
    scenario: str
    summaries: tuple[Summary, ...]
    rows: tuple[Row, ...]
    outcomes: dict[str, Outcome]

    def summary(self) -> tuple[Summary, ...]:
        return self.summaries

    def to_json(self) -> str:
        data = {
            "scenario": self.scenario,
            "summary": [attrs.asdict(s) for s in self.summaries],
            "rows": [attrs.asdict(r) for r in self.rows],
        }
        return json.dumps(data, indent=2, default=str, ensure_ascii=False)

    def to_csv(self) -> str:
        """One line per policy and account, exact."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        fields = [f.name for f in attrs.fields(Row)]
        writer.writerow(fields)
        for row in self.rows:
            writer.writerow([str(getattr(row, f)) for f in fields])
        return out.getvalue()

    def _errors(self) -> list[str]:
        """Why each policy that could not play the scenario could not, below the summary."""
        failed = [s for s in self.summaries if s.error is not None]
        return ["", *(f"{s.policy} cannot play it: {s.error}" for s in failed)] if failed else []

    def to_markdown(self, *, accounts: bool = True) -> str:
        """The per-policy summary, then (with ``accounts``) the per-account rows, as markdown
        tables; money rounded to the cent for display."""
        lines = [f"Scenario: {self.scenario}", ""]
        lines += _markdown(SUMMARY_COLUMNS, [_summary_cells(s) for s in self.summaries])
        lines += self._errors()
        if accounts:
            lines.append("")
            lines += _markdown(ROW_COLUMNS, [_row_cells(r) for r in self.rows])
        return "\n".join(lines)

    def to_table(self, *, accounts: bool = True) -> str:
        """Like :meth:`to_markdown`, as plain-text tables for a terminal."""
        parts = [
            f"Scenario: {self.scenario}",
            "",
            display.table(SUMMARY_COLUMNS, [_summary_cells(s) for s in self.summaries]),
            *self._errors(),
        ]
        if accounts and self.rows:
            parts += ["", display.table(ROW_COLUMNS, [_row_cells(r) for r in self.rows])]
        parts += ["", "Money is rounded to the cent for display; --format json or csv is exact."]
        return "\n".join(parts)

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame (requires pandas: ``pip install margincall[pandas]``)."""
        try:
            pd = importlib.import_module("pandas")  # an optional dependency
        except ImportError:
            raise MargincallError("to_pandas needs pandas: pip install pandas") from None
        return pd.DataFrame([attrs.asdict(r) for r in self.rows])


_MONEY_FIELDS = (
    "liquidated_notional",
    "fees",
    "insurance_fund_change",
    "adl_notional",
    "clawback",
    "debt_owed",
    "venue_loss",
)


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}"


SUMMARY_COLUMNS = [
    "policy",
    "accounts liquidated",
    "notional liquidated",
    "fees",
    "fund change",
    "ADL notional",
    "clawback",
    "debt owed",
    "venue loss",
    "parameters of",
]
ROW_COLUMNS = [
    "policy",
    "account",
    "liquidated",
    "notional",
    "fees",
    "ADL notional",
    "clawback",
    "final cash",
    "owes",
]


def _summary_cells(s: Summary) -> list[str]:
    if s.error is not None:
        return [s.policy, "cannot play", *["-"] * 7, s.parameters_date]
    return [
        s.policy,
        str(s.accounts_liquidated),
        _money(s.liquidated_notional),
        _money(s.fees),
        _money(s.insurance_fund_change),
        _money(s.adl_notional),
        _money(s.clawback),
        _money(s.debt_owed),
        _money(s.venue_loss),
        s.parameters_date,
    ]


def _row_cells(r: Row) -> list[str]:
    return [
        r.policy,
        r.account,
        "yes" if r.liquidated else "no",
        _money(r.liquidated_notional),
        _money(r.fees_paid),
        _money(r.adl_notional),
        _money(r.clawback_paid),
        _money(r.final_balance),
        _money(r.debt),
    ]


def _markdown(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _summarise(policy: Policy, scenario: Scenario, outcome: Outcome) -> tuple[Summary, list[Row]]:
    rows = []
    with exact():  # a value divides for inverse contracts: 50 digits, then exact sums
        notionals = [
            policy.scenario_market(x.symbol).value(x.size, x.price) for x in outcome.liquidations
        ]
        adl = [policy.scenario_market(a.symbol).value(a.size, a.price) for a in outcome.adl]
    with exact_sums():
        for key in scenario.accounts:
            mine = [
                n for x, n in zip(outcome.liquidations, notionals, strict=True) if x.account == key
            ]
            rows.append(
                Row(
                    policy=policy.name,
                    account=key,
                    liquidated=bool(mine),
                    liquidated_notional=sum(mine, ZERO),
                    fees_paid=outcome.fees_paid(key),
                    adl_notional=sum(
                        (n for a, n in zip(outcome.adl, adl, strict=True) if a.account == key), ZERO
                    ),
                    clawback_paid=outcome.clawback_paid(key),
                    final_balance=outcome.balance(key),
                    debt=outcome.debt(key),
                )
            )
        start = next(
            (
                e.amount
                for e in outcome.ledger.events
                if e.step == -1 and e.destination == lg.INSURANCE_FUND
            ),
            ZERO,
        )
        summary = Summary(
            policy=policy.name,
            venue=policy.venue,
            parameters_date=policy.parameters_date,
            accounts_liquidated=sum(1 for r in rows if r.liquidated),
            liquidated_notional=sum((r.liquidated_notional for r in rows), ZERO),
            fees=sum((r.fees_paid for r in rows), ZERO),
            insurance_fund_change=outcome.insurance_fund - start,
            adl_notional=sum(adl, ZERO),
            clawback=sum((r.clawback_paid for r in rows), ZERO),
            debt_owed=sum((r.debt for r in rows), ZERO),
            venue_loss=outcome.venue_loss,
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
        except MargincallError as error:
            summaries.append(
                Summary(
                    name,
                    "",
                    "",
                    0,
                    **dict.fromkeys(_MONEY_FIELDS, ZERO),
                    error=str(error).splitlines()[0],
                )
            )
            continue
        summary, policy_rows = _summarise(policy, scenario, outcome)
        summaries.append(summary)
        rows += policy_rows
        outcomes[policy.name] = outcome
    return Comparison(scenario.name, tuple(summaries), tuple(rows), outcomes)
