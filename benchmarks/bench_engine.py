"""How long simulations take: each built-in policy over the bundled scenarios.

Run: ``python benchmarks/bench_engine.py`` (after ``pip install .``). Prints milliseconds per
simulation, the best of three runs, with the scenario's size. Measurements for this machine,
not limits: no test asserts on them.
"""

from __future__ import annotations

import functools
import timeit

import margincall as mc
from margincall.scenario import bundled_scenarios


def main() -> None:
    policies = [mc.load_policy(name) for name in mc.available_policies()]
    width = max(len(p.name) for p in policies)
    for name in bundled_scenarios():
        scenario = mc.load_scenario(name)
        accounts, steps = len(scenario.accounts), len(scenario.steps)
        print(f"{name}: {accounts} accounts, {steps} steps")
        for policy in policies:
            try:
                run = functools.partial(policy.simulate, scenario)
                seconds = min(timeit.repeat(run, number=1, repeat=3))
            except mc.MargincallError as error:  # a policy that cannot play the scenario
                print(f"  {policy.name:<{width}}  cannot play it: {error}")
                continue
            print(f"  {policy.name:<{width}}  {seconds * 1e3:9.1f} ms")


if __name__ == "__main__":
    main()
