"""The plugin system: discovery through entry points, failures reported by name, blocking,
override order, and hooks resolved once per policy."""

from __future__ import annotations

from decimal import Decimal
from importlib.metadata import EntryPoint, entry_points

import pytest

import margincall as mc
import plugin_samples
from margincall.mechanisms import DEFAULT_PLUGINS
from margincall.registry import BLOCK_ENV, GROUP, Registry

D = Decimal


def points(**targets: str) -> list[EntryPoint]:
    return [EntryPoint(name, value, GROUP) for name, value in targets.items()]


BINANCE = "margincall_plugins.binance"


def test_binance_is_registered_through_the_entry_point_group() -> None:
    """The built-in venue plugin is found like a third-party one: by its entry point."""
    found = {p.name: p.value for p in entry_points(group=GROUP)}
    assert found.get("binance") == BINANCE
    registry = Registry.discover()
    assert registry.info["binance"].default is False
    assert registry.info["binance"].distribution == "margincall"
    assert registry.policies["binance-usdm"].plugin == "binance"


def test_defaults_are_registered_in_every_policy_before_venue_plugins(
    binance: mc.Policy,
) -> None:
    assert binance.plugins == (*DEFAULT_PLUGINS, "binance")


def test_a_plugin_that_fails_to_import_is_reported_and_the_others_load() -> None:
    registry = Registry.discover(
        points(broken="no_such_module_for_margincall:plugin", binance=BINANCE),
        blocked=frozenset(),
    )
    assert "no_such_module_for_margincall" in registry.failures["broken"]
    assert "binance" in registry.plugins
    assert "binance-usdm" in registry.policies


def test_a_misspelled_hook_is_rejected_by_name() -> None:
    registry = Registry.discover(
        points(typo="plugin_samples:misspelled", binance=BINANCE), blocked=frozenset()
    )
    assert "margincall_liquidation_prise" in registry.failures["typo"]
    assert "typo" not in registry.plugins
    assert "binance" in registry.plugins


def test_a_failing_policy_listing_is_reported_by_name() -> None:
    registry = Registry.discover(
        points(broken="plugin_samples:broken_policy_files", binance=BINANCE), blocked=frozenset()
    )
    assert "cannot list policies" in registry.failures["broken"]
    assert "binance-usdm" in registry.policies


def test_the_environment_variable_blocks_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BLOCK_ENV, "binance, other")
    registry = Registry.discover(points(binance=BINANCE))
    assert registry.blocked == {"binance", "other"}
    assert "binance" not in registry.plugins
    assert mc.available_policies(registry) == []


def test_a_venue_plugin_overrides_a_default_mechanism() -> None:
    """A later-registered plugin answers first: FlatTiers replaces the market's tiers."""
    registry = Registry.discover(
        points(flat="plugin_samples:flat", binance=BINANCE), blocked=frozenset()
    )
    policy = mc.load_policy("flat-venue", registry=registry)
    account = mc.Account(0, [mc.Position("BTCUSDT", "long", 2, 50000)])
    marks = {"BTCUSDT": D(50000)}
    # flat 10 %: 2 × 50,000 × 0.1 (the market's own first tier would give 0.4 %)
    assert policy.maintenance_margin(account, "BTCUSDT", marks=marks) == D(10000)


def test_a_plugin_answering_none_defers_to_the_next(tmp_path: object) -> None:
    registry = Registry.discover(
        points(deferring="plugin_samples:deferring", binance=BINANCE), blocked=frozenset()
    )
    policy_file = _variant(tmp_path, 'plugins = ["binance", "deferring"]')
    policy = mc.load_policy(policy_file, registry=registry)
    assert policy.plugins[-1] == "deferring"
    # the default taker fee answers: 1 × 10,104 × 0.05 %
    assert policy.trading_fee("BTCUSDT", D(1), D(10104), maker=False) == D("5.052")


def test_hook_wrappers_are_refused(tmp_path: object) -> None:
    registry = Registry.discover(
        points(wrapping="plugin_samples:wrapping", binance=BINANCE), blocked=frozenset()
    )
    policy_file = _variant(tmp_path, 'plugins = ["binance", "wrapping"]')
    with pytest.raises(mc.PluginError, match="wrapping"):
        mc.load_policy(policy_file, registry=registry)


def test_computations_never_call_the_plugin_manager(binance: mc.Policy) -> None:
    """Hooks are resolved once: with the manager's hook relay broken, every figure still
    computes (pm.hook is never called per position)."""

    class Broken:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"pm.hook.{name} called after the policy was built")

    manager = binance._manager
    relay = manager.hook
    manager.hook = Broken()  # type: ignore[assignment]
    try:
        account = mc.Account(
            1000,
            [
                mc.Position("BTCUSDT", "long", D("0.1"), 60000),
                mc.Position("ETHUSDT", "short", 1, 3000),
            ],
        )
        marks = {"BTCUSDT": D(59000), "ETHUSDT": D(3100)}
        assert binance.risk(account, marks=marks)
        assert binance.pools(account, marks=marks)
        assert binance.liquidation_fee("BTCUSDT", D(1), D(1)) == D("0.0125")
    finally:
        manager.hook = relay


def _variant(tmp_path: object, plugins_line: str) -> str:
    from pathlib import Path

    path = Path(str(tmp_path)) / "variant.toml"
    path.write_text(f'name = "variant"\nextends = "binance-usdm"\n{plugins_line}\n')
    return str(path)


def test_a_hookimpl_with_a_default_argument_is_refused() -> None:
    """pluggy never passes an argument that has a default, so the plugin is refused."""
    registry = Registry.discover(
        points(defaulted="plugin_samples:with_default", binance=BINANCE), blocked=frozenset()
    )
    assert "default values to maker" in registry.failures["defaulted"]
    assert "defaulted" not in registry.plugins


def test_one_object_under_two_names_is_reported_not_fatal() -> None:
    registry = Registry.discover(points(first=BINANCE, second=BINANCE), blocked=frozenset())
    assert "first" in registry.plugins
    assert "second" not in registry.plugins
    assert "already registered" in registry.failures["second"]


def test_default_mechanisms_cannot_be_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BLOCK_ENV, "margin")
    registry = Registry.discover(points(binance=BINANCE))
    assert "margin" in registry.plugins
    policy = mc.load_policy("binance-usdm", registry=registry)
    account = mc.Account(0, [mc.Position("BTCUSDT", "long", 1, 40000)])
    # bracket 1: 40,000 × 0.4 %
    assert policy.maintenance_margin(account, "BTCUSDT", marks={"BTCUSDT": D(40000)}) == 160


def test_a_tryfirst_plugin_answering_none_defers_to_the_default(tmp_path: object) -> None:
    """A plugin asked first (tryfirst) that answers None leaves the answer to the default:
    BTCUSDT's 1.25 % clearance fee on a value of 1."""
    registry = Registry.discover(
        points(quiet="plugin_samples:never_answers", binance=BINANCE), blocked=frozenset()
    )
    policy = mc.load_policy(_variant(tmp_path, 'plugins = ["binance", "quiet"]'), registry=registry)
    assert policy.liquidation_fee("BTCUSDT", 1, 1) == D("0.0125")


def test_a_plugin_checks_its_parameters_when_the_policy_loads(tmp_path: object) -> None:
    """margincall_check_config: the plugin's problems come out as one PolicyError naming the
    file and the key; a good value loads and is read back exactly, per market first."""
    registry = Registry.discover(
        points(chunked="plugin_samples:chunked", binance=BINANCE), blocked=frozenset()
    )
    missing = _variant(tmp_path, 'plugins = ["binance", "chunked"]')
    with pytest.raises(mc.PolicyError) as info:
        mc.load_policy(missing, registry=registry)
    assert info.value.problems == [f"{missing}: parameters.chunk: required by the chunked plugin"]
    zero = _variant(tmp_path, 'plugins = ["binance", "chunked"]\nparameters.chunk = 0')
    with pytest.raises(mc.PolicyError, match=r"parameters\.chunk: must be a number > 0"):
        mc.load_policy(zero, registry=registry)
    good = _variant(
        tmp_path,
        'plugins = ["binance", "chunked"]\nparameters.chunk = 0.2\n'
        "markets.BTCUSDT.parameters.chunk = 0.1",
    )
    spec = mc.load_policy(good, registry=registry).spec
    assert spec.parameter("chunk") == D("0.2")
    assert spec.parameter("chunk", "BTCUSDT") == D("0.1")
    assert spec.parameter("chunk", "ETHUSDT") == D("0.2")
    assert spec.parameter("absent") is None
    assert spec.number("chunk", "BTCUSDT") == D("0.1")
    with pytest.raises(mc.PluginError, match=r"parameters\.absent: expected a number, got None"):
        spec.number("absent")


@pytest.mark.parametrize(("depth", "expected"), [("0.5", "takeover"), ("2", "order")])
def test_a_fill_or_kill_order_fills_whole_or_not_at_all(
    tmp_path: object, depth: str, expected: str
) -> None:
    """The trader (isolated long 1 BTC @ 60,000, 10x; bankruptcy 54,000) is liquidated at
    54,100 by one FillOrKill order for 1 BTC. With 0.5 BTC bid at 54,100 × 0.999 = 54,045.9
    nothing fills and Binance's next step takes it over at 54,000; with 2 BTC bid it fills
    whole at 54,045.9."""
    registry = Registry.discover(
        points(fok="plugin_samples:fill_or_kill_first", binance=BINANCE), blocked=frozenset()
    )
    policy = mc.load_policy(_variant(tmp_path, 'plugins = ["binance", "fok"]'), registry=registry)
    trader = mc.Position("BTCUSDT", "long", 1, 60000, "isolated", leverage=10)
    book = mc.DepthLadder(bids={"BTCUSDT": [["0.001", depth]]})
    scenario = mc.Scenario(
        {"trader": mc.Account(0, [trader])},
        [{"BTCUSDT": D(60000)}, {"BTCUSDT": D(54100)}],
        book,
        insurance_fund=1000,
    )
    (first, *_) = policy.simulate(scenario).liquidations
    assert (first.kind, first.size) == (expected, D(1))
    assert first.price == (D(54000) if expected == "takeover" else D("54045.9"))


def test_seeded_draws_choose_adl_counterparties_reproducibly(tmp_path: object) -> None:
    """Two equal winners; ADL ranked by the engine's draw. A seed always picks the same
    one, and over 20 seeds each is picked first at least once (independent draws)."""
    registry = Registry.discover(
        points(rnd="plugin_samples:random_adl", binance=BINANCE), blocked=frozenset()
    )
    policy = mc.load_policy(_variant(tmp_path, 'plugins = ["binance", "rnd"]'), registry=registry)
    trader = mc.Position("BTCUSDT", "long", 1, 60000, "isolated", leverage=10)
    winner = mc.Position("BTCUSDT", "short", 1, 60000)
    accounts = {
        "trader": mc.Account(0, [trader]),
        "a": mc.Account(10000, [winner]),
        "b": mc.Account(10000, [winner]),
    }

    def first_deleveraged(seed: int) -> str:
        scenario = mc.Scenario(
            accounts, [{"BTCUSDT": D(60000)}, {"BTCUSDT": D(50000)}], seed=seed, insurance_fund=0
        )
        return policy.simulate(scenario).adl[0].account

    assert first_deleveraged(7) == first_deleveraged(7)
    assert {first_deleveraged(seed) for seed in range(20)} == {"a", "b"}


def test_adl_candidates_carry_their_bankruptcy_price(tmp_path: object) -> None:
    """Bybit and BitMEX rank on the candidate's bankruptcy price. Two shorts of 0.5 BTC @
    60,000 with isolated margins 20,000 and 5,000 have bankruptcy prices 60,000 + 20,000/0.5
    = 100,000 and 60,000 + 5,000/0.5 = 70,000; ranked highest first, a (100,000) is
    deleveraged first, where the default ranking (effective leverage 25,000 / 25,000 = 1
    against 25,000 / 10,000 = 2.5) would take b first."""
    registry = Registry.discover(
        points(bp="plugin_samples:by_bankruptcy_price", binance=BINANCE), blocked=frozenset()
    )
    policy = mc.load_policy(_variant(tmp_path, 'plugins = ["binance", "bp"]'), registry=registry)
    trader = mc.Position("BTCUSDT", "long", 1, 60000, "isolated", leverage=10)

    def short(margin: int) -> mc.Account:
        return mc.Account(
            0, [mc.Position("BTCUSDT", "short", D("0.5"), 60000, "isolated", margin=margin)]
        )

    scenario = mc.Scenario(
        {"trader": mc.Account(0, [trader]), "a": short(20000), "b": short(5000)},
        [{"BTCUSDT": D(60000)}, {"BTCUSDT": D(50000)}],
        mc.NoLiquidity(),
        insurance_fund=0,
    )
    assert [a.account for a in policy.simulate(scenario).adl] == ["a", "b"]


# --- a broken plugin never takes the others down (installed: tests/test_broken_plugins.py) --


@pytest.mark.parametrize(
    ("sample", "error"),
    [
        ("raises_zero_division", "ZeroDivisionError: division by zero"),
        ("raises_system_exit", "SystemExit: gave up"),
    ],
)
def test_a_hook_that_raises_fails_with_a_plugin_error_naming_plugin_hook_and_error(
    tmp_path: object, sample: str, error: str
) -> None:
    registry = Registry.discover(
        points(bad=f"plugin_samples:{sample}", binance=BINANCE), blocked=frozenset()
    )
    policy = mc.load_policy(_variant(tmp_path, 'plugins = ["binance", "bad"]'), registry=registry)
    with pytest.raises(mc.PluginError) as info:
        policy.liquidation_fee("BTCUSDT", 1, 1)
    assert str(info.value) == f"plugin 'bad': margincall_liquidation_fee raised {error}"
    assert info.value.__cause__ is getattr(plugin_samples, sample).error


def test_margincall_errors_and_keyboard_interrupts_from_a_hook_pass_unchanged(
    tmp_path: object,
) -> None:
    """margincall's own errors already say what was wrong; Ctrl-C is the user's."""
    registry = Registry.discover(
        points(
            strict="plugin_samples:raises_input_error",
            ctrl_c="plugin_samples:raises_keyboard_interrupt",
            binance=BINANCE,
        ),
        blocked=frozenset(),
    )
    strict = mc.load_policy(
        _variant(tmp_path, 'plugins = ["binance", "strict"]'), registry=registry
    )
    with pytest.raises(mc.InvalidInputError) as info:
        strict.liquidation_fee("BTCUSDT", 1, 1)
    assert info.value is plugin_samples.raises_input_error.error
    ctrl_c = mc.load_policy(
        _variant(tmp_path, 'plugins = ["binance", "ctrl_c"]'), registry=registry
    )
    with pytest.raises(KeyboardInterrupt):
        ctrl_c.liquidation_fee("BTCUSDT", 1, 1)


def test_a_keyboard_interrupt_at_import_is_not_swallowed(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sys.exit and other BaseExceptions at import are a plugin's failure
    (tests/test_broken_plugins.py); the user's Ctrl-C during discovery still stops it."""
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "margincall_test_interrupted.py").write_text("raise KeyboardInterrupt\n")
    monkeypatch.syspath_prepend(str(folder))
    with pytest.raises(KeyboardInterrupt):
        Registry.discover(points(ctrl_c="margincall_test_interrupted"), blocked=frozenset())


def test_a_built_in_plugin_keeps_its_name_whatever_the_entry_point_order() -> None:
    taken = [EntryPoint("binance", "plugin_samples:flat", GROUP), *points(binance=BINANCE)]
    registry = Registry.discover(taken, blocked=frozenset())
    assert registry.info["binance"].module == BINANCE
    assert registry.failures == {
        "binance (plugin_samples:flat)": "the name is already taken by margincall_plugins.binance; "
        "plugin_samples:flat (unknown distribution) was not loaded"
    }
    assert mc.load_policy("binance-usdm", registry=registry).plugins[-1] == "binance"


@pytest.mark.parametrize("name", ["aaa", "zzz"])
def test_a_plugin_cannot_replace_a_built_in_policy(name: str) -> None:
    """The built-in binance-usdm wins whether the other plugin's name sorts before or after."""
    registry = Registry.discover(
        points(**{name: "plugin_samples:shadows_binance"}, binance=BINANCE), blocked=frozenset()
    )
    assert registry.policies["binance-usdm"].plugin == "binance"
    assert registry.failures == {
        f"{name}:binance-usdm.toml": f"plugin {name!r} ships binance-usdm.toml, the name of a "
        "built-in policy of plugin 'binance'; the built-in one is kept and this copy ignored"
    }
    assert mc.load_policy("binance-usdm", registry=registry).venue == "Binance"
