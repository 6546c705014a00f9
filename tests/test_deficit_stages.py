"""Deficit stages as registered objects: the built-in ones by name, and a plugin's own
stage, named in a policy's waterfall, covering a deficit through the ledger."""

from __future__ import annotations

from decimal import Decimal
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import margincall as mc
from margincall import ledger as lg
from margincall.engine import BUILT_IN, DeficitStage
from margincall.registry import GROUP, Registry
from margincall.waterfall import DEFICIT_STAGES

D = Decimal


def _registry(**plugins: str) -> Registry:
    points = [EntryPoint("binance", "margincall_plugins.binance", GROUP)]
    points += [
        EntryPoint(name, f"plugin_samples:{value}", GROUP) for name, value in plugins.items()
    ]
    return Registry.discover(points, blocked=frozenset())


def _policy_file(tmp_path: Path, plugins: str, waterfall: str) -> Path:
    path = tmp_path / "variant.toml"
    path.write_text(
        f'name = "variant"\nextends = "binance-usdm"\nplugins = {plugins}\n'
        f"[deficit]\nwaterfall = {waterfall}\n"
    )
    return path


def _gap() -> mc.Scenario:
    """A 50x long closed far below its bankruptcy price: a deficit."""
    return mc.Scenario(
        {
            "gapped": mc.Account(
                0, [mc.Position("BTCUSDT", "long", 1, 60000, "isolated", leverage=50)]
            )
        },
        [{"BTCUSDT": D(60000)}, {"BTCUSDT": D(54200)}],
        mc.MarkFill(slippage=D("0.001")),
        insurance_fund=0,
    )


def test_the_built_in_stages_are_registered_by_their_names() -> None:
    assert tuple(BUILT_IN) == DEFICIT_STAGES or set(BUILT_IN) == set(DEFICIT_STAGES)
    for name, stage in BUILT_IN.items():
        assert stage.name == name
        assert isinstance(stage, DeficitStage)


def test_a_plugin_stage_covers_a_deficit_named_in_the_waterfall(tmp_path: Path) -> None:
    """The 50x long (margin 1,200) sells 1 BTC at 54,200 × 0.999 = 54,145.8: 60,000 −
    54,145.8 = 5,854.2 lost, a deficit of 4,654.2. The plugin's stage pays half, 2,327.1, and
    chasing leaves the other half as the trader's debt."""
    registry = _registry(half="half")
    path = _policy_file(tmp_path, '["binance", "half"]', '["half-from-the-venue", "chasing"]')
    policy = mc.load_policy(path, registry=registry)
    outcome = policy.simulate(_gap())
    (paid,) = [e for e in outcome.ledger.events if e.reason == "the venue pays half"]
    assert (paid.source, paid.destination) == (
        lg.VENUE,
        lg.isolated_margin("gapped", "BTCUSDT", "long"),
    )
    assert paid.amount == D("2327.1")
    assert outcome.ledger.balance(lg.debt("gapped")) == D("-2327.1")
    assert outcome.ledger.total() == 0


def test_an_unknown_stage_names_the_key_and_the_stages_there_are(tmp_path: Path) -> None:
    registry = _registry(half="half")
    path = _policy_file(tmp_path, '["binance", "half"]', '["half-from-the-vnue"]')
    with pytest.raises(mc.PolicyError) as info:
        mc.load_policy(path, registry=registry)
    (line,) = info.value.problems
    assert line.startswith(f"{path}: deficit.waterfall[0]: unknown stage 'half-from-the-vnue'")
    assert "half-from-the-venue" in line and "insurance-fund" in line


def test_a_plugin_stage_is_known_only_to_policies_listing_the_plugin(tmp_path: Path) -> None:
    registry = _registry(half="half")
    path = _policy_file(tmp_path, '["binance"]', '["half-from-the-venue"]')
    with pytest.raises(mc.PolicyError, match="unknown stage 'half-from-the-venue'"):
        mc.load_policy(path, registry=registry)


def test_a_stage_that_is_no_stage_is_refused_when_the_policy_loads(tmp_path: Path) -> None:
    registry = _registry(bad="no_stage")
    path = _policy_file(tmp_path, '["binance", "bad"]', '["venue"]')
    with pytest.raises(mc.PolicyError, match="'venue' is no deficit stage"):
        mc.load_policy(path, registry=registry)


def test_a_stage_that_absorbs_more_than_the_deficit_fails_its_policy(tmp_path: Path) -> None:
    registry = _registry(greedy="greedy")
    path = _policy_file(tmp_path, '["binance", "greedy"]', '["greedy", "venue"]')
    policy = mc.load_policy(path, registry=registry)
    with pytest.raises(mc.PluginError, match="deficit stage 'greedy' absorbed"):
        policy.simulate(_gap())
