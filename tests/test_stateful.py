"""The stateful conformance test (margincall.testing.stateful) on every built-in policy:
events one at a time, the laws checked after each."""

from __future__ import annotations

import pytest

import margincall as mc
from margincall.testing.stateful import run_clearing_machine


@pytest.mark.parametrize("name", mc.available_policies())
def test_the_laws_hold_after_every_event(name: str) -> None:
    run_clearing_machine(mc.load_policy(name), max_examples=10, max_events=6)


def test_a_broken_policy_fails_the_machine(tmp_path: object) -> None:
    """The planted trigger that gives up on accounts under water (tests/plugin_samples.py)
    breaks 'balances as promised' at some event."""
    from importlib.metadata import EntryPoint
    from pathlib import Path

    from margincall.registry import GROUP, Registry
    from margincall.testing.conformance import BrokenLawError

    registry = Registry.discover(
        [
            EntryPoint("binance", "margincall_plugins.binance", GROUP),
            EntryPoint("planted", "plugin_samples:gives_up_underwater", GROUP),
        ],
        blocked=frozenset(),
    )
    path = Path(str(tmp_path)) / "planted.toml"
    path.write_text(
        'name = "planted"\nextends = "binance-usdm"\nplugins = ["binance", "planted"]\n',
        encoding="utf-8",
    )
    policy = mc.load_policy(path, registry=registry)
    with pytest.raises(BrokenLawError, match="ends with equity -"):
        run_clearing_machine(policy, max_examples=200, max_events=6)
