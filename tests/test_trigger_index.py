"""The trigger index chooses which pools the engine checks, never what happens: a run that
checks every pool of every account at every step (the engine before the index) plays the
same ledger, over generated scenarios and every built-in policy."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

import margincall as mc
from margincall.decimals import exact
from margincall.engine import Simulation
from margincall.scenarios import crash
from test_engine_properties import policies, scenarios  # noqa: F401 (a fixture)


def _events(outcome: mc.Outcome) -> list[tuple[object, ...]]:
    return [
        (e.step, e.source, e.destination, str(e.amount), e.reason, e.symbol)
        for e in outcome.ledger.events
    ]


def _full_scan(policy: mc.Policy, scenario: mc.Scenario) -> mc.Outcome:
    """Every account visited at every step, as before the index."""
    with exact():
        simulation = Simulation(policy, scenario)
        everyone = set(scenario.accounts)
        simulation.triggers.crossed = lambda marks: set(everyone)  # type: ignore[method-assign]
        return simulation.run()


def _same(policy: mc.Policy, scenario: mc.Scenario) -> None:
    indexed, scanned = policy.simulate(scenario), _full_scan(policy, scenario)
    assert _events(indexed) == _events(scanned)
    assert indexed.liquidations == scanned.liquidations
    assert indexed.adl == scanned.adl
    assert indexed.notices == scanned.notices


@settings(max_examples=25)
@given(scenarios())
def test_the_index_plays_what_a_full_scan_plays(
    policies: dict[str, mc.Policy],  # noqa: F811
    scenario: mc.Scenario,
) -> None:
    for policy in policies.values():
        _same(policy, scenario)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("policy_name", mc.available_policies())
def test_a_generated_crash_plays_as_a_full_scan_plays(policy_name: str, seed: int) -> None:
    """160 accounts over 25 marks: cascades where one account's liquidation (ADL, a
    clawback) changes others within a step."""
    policy = mc.load_policy(policy_name)
    scenario = crash(accounts=160, steps=25, seed=seed)
    try:
        policy.simulate(scenario)
    except mc.MargincallError:  # a policy that cannot play it (other markets)
        pytest.skip(f"{policy_name} cannot play the USDT crash")
    _same(policy, scenario)
