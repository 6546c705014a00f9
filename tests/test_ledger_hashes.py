"""Every bundled scenario (and two scaled copies) plays to the same ledger, event for event,
as before the engine was made linear (issue 11): the fingerprints in
``tests/data/ledger-hashes.json`` were written by ``tools/ledger_hashes.py`` from the engine
of commit 89e5ab8, before any of that change."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

import margincall as mc

ROOT = Path(__file__).parents[1]
_spec = importlib.util.spec_from_file_location("ledger_hashes", ROOT / "tools" / "ledger_hashes.py")
assert _spec is not None and _spec.loader is not None
hashes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hashes)

EXPECTED = json.loads((ROOT / "tests" / "data" / "ledger-hashes.json").read_text(encoding="utf-8"))


def _scenario(name: str) -> mc.Scenario:
    if name.endswith(tuple(f"-x{k}" for k in range(2, 100))):
        base, copies = name.rsplit("-x", 1)
        return hashes.scaled(base, int(copies))  # type: ignore[no-any-return]
    return mc.load_scenario(name)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_policy_plays_the_same_ledger(name: str) -> None:
    scenario = _scenario(name)
    assert scenario.name == name
    changed = []
    for policy_name, expected in sorted(EXPECTED[name].items()):
        try:
            got = hashes.fingerprint(mc.load_policy(policy_name).simulate(scenario))
        except mc.MargincallError as error:
            got = {"error": str(error)}
        if got != expected:
            changed.append(f"{policy_name}: {got} != {expected}")
    assert not changed, "\n".join(changed)
