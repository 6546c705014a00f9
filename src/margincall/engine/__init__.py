"""Play a policy forward over a scenario: triggers, procedures, the backstop and the deficit
waterfall, with every money movement in one double-entry ledger.

The semantics are those of ``docs/engine.md``. In short: the market is the counterparty of
every position and every fill, so realised PnL is always settled with it; a takeover closes
the trader at the bankruptcy price and hands the position to the backstop (the insurance fund
offloads what it can afford, holds what its capacity allows, ADL takes the rest; while the
policy's ADL trigger holds, ADL goes first and the fund takes what it leaves); a pool left
with a negative wallet runs the policy's deficit waterfall.

One module per job, each layer building on the one before:

* :mod:`~margincall.engine.book`: positions, units, the ledger and the marks;
* :mod:`~margincall.engine.deficit`: the deficit waterfall's stages (a registry);
* :mod:`~margincall.engine.backstop`: the insurance fund's takeover and offload, and ADL;
* :mod:`~margincall.engine.procedure`: the trigger index and the liquidation procedure;
* :mod:`~margincall.engine.run`: the steps, transfers and interest, and the outcome.
"""

from __future__ import annotations

from margincall.decimals import exact
from margincall.engine.deficit import BUILT_IN, Deficit, DeficitStage
from margincall.engine.run import Progress, Simulation
from margincall.outcome import Outcome
from margincall.policy import Policy
from margincall.scenario import Scenario

_Simulation = Simulation  # the name tests patch

__all__ = ["BUILT_IN", "Deficit", "DeficitStage", "Progress", "Simulation", "simulate"]


def simulate(policy: Policy, scenario: Scenario, *, progress: Progress | None = None) -> Outcome:
    """Play ``policy`` over ``scenario`` (see the module docstring). ``progress``, if given,
    is called after each step with (steps played, steps in all)."""
    with exact():
        return Simulation(policy, scenario).run(progress)
