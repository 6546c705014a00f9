"""A stateful conformance test: a Hypothesis ``RuleBasedStateMachine`` that grows a scenario
one event at a time (mark moves with gaps and crashes, deposits, withdrawals, funding
payments, days passing) and, after every event, plays the policy over everything so far and
checks the conformance laws that hold for any scenario: conservation, longs equal shorts,
the fund never negative, ADL only from winners, balances as the policy promises.

Liquidations happen inside the engine at every step. Opening new positions mid-scenario is
not an event: a scenario's positions are opened at its start (``docs/scenarios.md``).
Funding is a transfer between each account and the outside (the market holds the other
side of every position): a long pays ``rate × value at the mark`` when the rate is positive,
a short receives it. The engine has no funding event, so a payment is played as a transfer:
one larger than what the account may withdraw is refused like a withdrawal (a notice).

Use :func:`clearing_machine` to get the machine for a policy, then run its ``TestCase`` (in
pytest: ``TestMyVenue = clearing_machine(policy).TestCase``) or :func:`run_clearing_machine`.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from margincall.decimals import ONE, ZERO, exact
from margincall.policy import Policy
from margincall.scenario import Scenario, Step
from margincall.testing import conformance as laws
from margincall.testing import strategies as mst

__all__ = ["clearing_machine", "run_clearing_machine"]

MAX_EVENTS = 8


def clearing_machine(policy: Policy) -> type[RuleBasedStateMachine]:
    """The state machine that checks ``policy``."""

    class ClearingMachine(RuleBasedStateMachine):
        scenario: Scenario
        scale: Decimal

        @initialize(scenario=laws.scenarios(policy, max_steps=1))
        def open(self, scenario: Scenario) -> None:
            self.scenario = scenario
            with exact():
                values = [
                    mst.value_at_entry(policy.market(p.symbol), p)
                    for a in scenario.accounts.values()
                    for p in a.positions
                ]
            self.scale = max(values, default=ONE)

        def _then(
            self,
            label: str,
            *,
            moves: dict[str, Decimal] | None = None,
            days: Decimal = ZERO,
            transfers: dict[str, Decimal] | None = None,
        ) -> None:
            steps = self.scenario.steps
            marks = self.scenario.marks_at(len(steps) - 1)
            for symbol, move in (moves or {}).items():
                tick = policy.market(symbol).tick_size
                marks[symbol] = max(mst.on_step(marks[symbol] * (ONE + move), tick), tick)
            day = self.scenario.day_at(len(steps) - 1) + days
            step = Step(f"{label} {len(steps)}", marks, day, transfers or {})
            self.scenario = attrs.evolve(self.scenario, steps=(*steps, step))

        def _marks(self) -> dict[str, Decimal]:
            return self.scenario.marks_at(len(self.scenario.steps) - 1)

        @rule(data=st.data())
        def move_marks(self, data: st.DataObject) -> None:
            symbols = sorted(self._marks())
            self._then("move", moves={s: data.draw(laws.moves(), label=s) for s in symbols})

        @rule(days=mst.decimals_between("0.01", 30, 2))
        def days_pass(self, days: Decimal) -> None:
            self._then("later", days=days)

        @rule(data=st.data(), fraction=mst.decimals_between("0.001", 1, 3))
        def deposit(self, data: st.DataObject, fraction: Decimal) -> None:
            key = data.draw(st.sampled_from(sorted(self.scenario.accounts)), label="account")
            self._then("deposit", transfers={key: fraction * self.scale})

        @rule(data=st.data(), fraction=mst.decimals_between("0.001", 1, 3))
        def withdraw(self, data: st.DataObject, fraction: Decimal) -> None:
            key = data.draw(st.sampled_from(sorted(self.scenario.accounts)), label="account")
            self._then("withdrawal", transfers={key: -fraction * self.scale})

        @rule(rate=mst.decimals_between("-0.003", "0.003", 5).filter(lambda r: r != 0))
        def funding(self, rate: Decimal) -> None:
            marks = self._marks()
            paid: dict[str, Decimal] = {}
            for key, account in self.scenario.accounts.items():
                with exact():
                    amount = sum(
                        (
                            -p.sign
                            * rate
                            * policy.scenario_market(p.symbol).value(p.size, marks[p.symbol])
                            for p in account.positions
                        ),
                        ZERO,
                    )
                if amount != 0:
                    paid[key] = amount
            self._then("funding", transfers=paid)

        @invariant()
        def the_laws_hold(self) -> None:
            for check in (
                laws.ledger_sums_to_zero,
                laws.fund_never_negative,
                laws.adl_only_from_winners,
                laws.balances_as_promised,
            ):
                check(policy, self.scenario)

    ClearingMachine.__name__ = f"ClearingMachine[{policy.name}]"
    return ClearingMachine


def run_clearing_machine(
    policy: Policy, *, max_examples: int = 20, max_events: int = MAX_EVENTS
) -> None:
    """Run :func:`clearing_machine` on ``policy``; raises on the first broken law, with
    Hypothesis's shrunk sequence of events."""
    run_state_machine_as_test(  # type: ignore[no-untyped-call, unused-ignore]  # untyped in some Hypothesis
        clearing_machine(policy),
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=max_events,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
