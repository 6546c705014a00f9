"""Fingerprint every bundled scenario's simulation under every built-in policy.

Writes ``tests/data/ledger-hashes.json``: per (scenario, policy), the SHA-256 of the ledger's
events (step, source, destination, exact amount, reason, symbol, in order) and of the rest of
the outcome (liquidations, ADL records, notices, the fund's path and holdings, open
positions), or the error of a policy that cannot play the scenario. ``tests/test_ledger_hashes.py``
recomputes them: a change to the engine that is meant to be faster, not different, must leave
every fingerprint as it was. Run it again only for a change that is meant to change outcomes,
and say so in the commit:

    python tools/ledger_hashes.py
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import margincall as mc
from margincall.liquidity import DepthLadder
from margincall.outcome import Outcome
from margincall.scenario import Scenario, bundled_scenarios

OUT = Path(__file__).parents[1] / "tests" / "data" / "ledger-hashes.json"


def _digest(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def fingerprint(outcome: Outcome) -> dict[str, str]:
    """The ledger's hash and the rest of the outcome's, from exact text."""
    events = [
        f"{e.step}|{e.source}|{e.destination}|{e.amount}|{e.reason}|{e.symbol}"
        for e in outcome.ledger.events
    ]
    rest = (
        [repr(x) for x in outcome.liquidations]
        + [repr(x) for x in outcome.adl]
        + [repr(x) for x in outcome.notices]
        + [str(x) for x in outcome.fund_path]
        + [repr(x) for x in outcome.fund_positions]
        + [f"{k}: {v!r}" for k, v in sorted(outcome.open_positions.items())]
        + [f"{k}: {v}" for k, v in sorted(outcome.equity.items())]
    )
    return {"ledger": _digest(events), "outcome": _digest(rest), "events": str(len(events))}


def scaled(name: str, copies: int) -> Scenario:
    """The bundled scenario ``name`` with every account ``copies`` times (ids ``<id>-<k>``),
    its book depth and insurance fund times ``copies``: cascades where many accounts share
    a step, a book and the backstop."""
    base = mc.load_scenario(name)
    accounts = {f"{key}-{k}": acct for k in range(copies) for key, acct in base.accounts.items()}
    liquidity = base.liquidity
    if isinstance(liquidity, DepthLadder):
        liquidity = DepthLadder(
            *(
                {s: [[lv.offset, lv.size * copies] for lv in levels] for s, levels in side.items()}
                for side in (liquidity.bids, liquidity.asks)
            )
        )
    fund = None if base.insurance_fund is None else base.insurance_fund * copies
    return Scenario(
        accounts,
        base.steps,
        liquidity,
        name=f"{name}-x{copies}",
        insurance_fund=fund,
        seed=base.seed,
        contracts=base.contracts,
    )


def fingerprints() -> dict[str, dict[str, dict[str, str]]]:
    table: dict[str, dict[str, dict[str, str]]] = {}
    scenarios = [mc.load_scenario(name) for name in bundled_scenarios()]
    scenarios += [scaled("crash-2025-10", 6), scaled("fund-runs-dry", 20)]
    for scenario in scenarios:
        name = scenario.name
        table[name] = {}
        for policy_name in mc.available_policies():
            policy = mc.load_policy(policy_name)
            try:
                outcome = policy.simulate(scenario)
            except mc.MargincallError as error:
                table[name][policy_name] = {"error": str(error)}
                continue
            table[name][policy_name] = fingerprint(outcome)
    return table


if __name__ == "__main__":
    OUT.write_text(json.dumps(fingerprints(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
