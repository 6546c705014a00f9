"""How long summarising a simulation takes as the accounts grow: compare's per-policy summary
and per-account rows (``margincall.compare._summarise``) over a crash of 2,000 accounts.

Run: ``python benchmarks/bench_summarise.py [ACCOUNTS]`` (after ``pip install .``). The
scenario is the bundled crash-2025-10's accounts copied under new ids until there are
ACCOUNTS of them (default 2,000), over its price path. Prints, per policy, the simulation's
time once and the summary's, the best of three runs (each on a fresh copy of the outcome).
Measurements for this machine, not limits: no test asserts on them.
"""

from __future__ import annotations

import functools
import sys
import time
import timeit

import attrs

import margincall as mc
from margincall.compare import _summarise
from margincall.outcome import Outcome
from margincall.scenario import Scenario

POLICIES = ["binance-usdm", "binance-usdm-chasing", "hyperliquid"]


def grown(accounts: int) -> Scenario:
    """crash-2025-10 with its accounts copied under new ids up to ``accounts`` of them."""
    base = mc.load_scenario("crash-2025-10")
    originals = list(base.accounts.items())
    copies = {}
    for k in range(accounts):
        key, account = originals[k % len(originals)]
        copies[f"{key}-{k // len(originals)}"] = account
    return Scenario(
        copies,
        base.steps,
        base.liquidity,
        name=f"crash-2025-10 x{accounts}",
        insurance_fund=base.insurance_fund,
        seed=base.seed,
        description=base.description,
        contracts=dict(base.contracts),
    )


def _summary(policy: mc.Policy, scenario: Scenario, outcome: Outcome) -> None:
    _summarise(policy, scenario, attrs.evolve(outcome))


def main() -> None:
    accounts = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    scenario = grown(accounts)
    print(f"{scenario.name}: {len(scenario.accounts)} accounts, {len(scenario.steps)} steps")
    for name in POLICIES:
        policy = mc.load_policy(name)
        start = time.perf_counter()
        outcome = policy.simulate(scenario)
        simulated = time.perf_counter() - start
        # a fresh copy of the outcome each time: no state it caches carries over
        run = functools.partial(_summary, policy, scenario, outcome)
        seconds = min(timeit.repeat(run, number=1, repeat=3))
        print(
            f"  {name:<20} simulate {simulated:7.2f} s   summarise {seconds * 1e3:9.1f} ms   "
            f"({len(outcome.ledger.events)} events, {len(outcome.liquidations)} liquidations)"
        )


if __name__ == "__main__":
    main()
