"""Bad policy TOML: every problem is one clear PolicyError line naming file, key, value, reason.

Each test writes a small TOML file in ``tmp_path`` (usually a child of ``binance-usdm``) and
checks the content of ``PolicyError.problems``: the file, the key path, the offending value and
the reason. A policy file is data only: it can name registered plugins, never import code.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

import margincall as mc
from margincall.registry import BLOCK_ENV, Registry, default_registry

HEADER = 'extends = "binance-usdm"\nname = "bad-test"\n'


def write(tmp_path: Path, body: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def load_error(path: Path | str, **kwargs: object) -> mc.PolicyError:
    """Load ``path`` expecting exactly a PolicyError (never another exception type)."""
    with pytest.raises(mc.PolicyError) as info:
        mc.load_policy(path, **kwargs)  # type: ignore[arg-type]
    error = info.value
    assert error.problems, "a PolicyError must carry at least one problem line"
    assert str(error) == "\n".join(error.problems)
    return error


def only_problem(error: mc.PolicyError) -> str:
    assert len(error.problems) == 1, error.problems
    return error.problems[0]


def problem_for(error: mc.PolicyError, key: str) -> str:
    """The one problem line whose key path is ``key``."""
    hits = [p for p in error.problems if f": {key}:" in p]
    assert len(hits) == 1, f"expected one problem at {key!r}, got {error.problems}"
    return hits[0]


def tier(
    min_notional: object = 0,
    max_notional: object = 50000,
    max_leverage: object = 125,
    rate: object = "0.004",
    amount: object = None,
    symbol: str = "BTCUSDT",
) -> str:
    text = (
        f"\n[[markets.{symbol}.tiers]]\n"
        f"min_notional = {min_notional}\n"
        f"max_notional = {max_notional}\n"
        f"max_leverage = {max_leverage}\n"
        f"maintenance_margin_rate = {rate}\n"
    )
    if amount is not None:
        text += f"maintenance_amount = {amount}\n"
    return text


def shipped_text() -> str:
    return default_registry().policies["binance-usdm"].file.read_text(encoding="utf-8")


# --- syntax and unknown keys --------------------------------------------------------------


def test_invalid_toml_syntax(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "[fees\nmaker = 0.1\n")
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: ")
    assert "invalid TOML" in line


def test_invalid_toml_in_a_parent_names_the_parent(tmp_path: Path) -> None:
    parent = write(tmp_path, "x = [\n", "parent.toml")
    child = write(tmp_path, 'extends = "parent.toml"\nname = "child"\n', "child.toml")
    line = only_problem(load_error(child))
    assert line.startswith(f"{parent}: ")
    assert "invalid TOML" in line


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "colour = 1\n")
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: ")
    assert "colour" in line
    assert "extra" in line or "unknown" in line


def test_unknown_key_in_fees(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "[fees]\nmakr = 0.0001\n")
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: fees: ")
    assert "makr" in line


def test_unknown_key_in_a_market(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "[markets.BTCUSDT]\ntick = 0.1\n")
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: markets.BTCUSDT: ")
    assert "tick" in line


def test_misspelt_key_in_a_tier(tmp_path: Path) -> None:
    body = HEADER + tier().replace("maintenance_margin_rate", "maintenance_margin_rat")
    path = write(tmp_path, body)
    error = load_error(path)
    assert all(p.startswith(f"{path}: ") for p in error.problems)
    typo = problem_for(error, "markets.BTCUSDT.tiers[0]")
    assert "maintenance_margin_rat" in typo
    missing = problem_for(error, "markets.BTCUSDT.tiers[0].maintenance_margin_rate")
    assert "missing" in missing


# --- tier tables --------------------------------------------------------------------------


def test_gap_between_tiers(tmp_path: Path) -> None:
    body = HEADER + tier() + tier(60000, 600000, 100, "0.005")
    path = write(tmp_path, body)
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: markets.BTCUSDT.tiers[1].min_notional: ")
    assert "60000" in line
    assert "50000" in line
    assert "gap" in line
    assert "tiers[0].max_notional" in line


def test_overlap_between_tiers(tmp_path: Path) -> None:
    body = HEADER + tier() + tier(40000, 600000, 100, "0.005")
    path = write(tmp_path, body)
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: markets.BTCUSDT.tiers[1].min_notional: ")
    assert "40000" in line
    assert "50000" in line
    assert "overlap" in line


def test_first_tier_must_start_at_zero(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + tier(min_notional=10))
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: markets.BTCUSDT.tiers[0].min_notional: ")
    assert "10" in line
    assert "start at 0" in line


@pytest.mark.parametrize("cap", [0, -5])
def test_max_notional_not_above_min_notional(tmp_path: Path, cap: int) -> None:
    path = write(tmp_path, HEADER + tier(max_notional=cap))
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: markets.BTCUSDT.tiers[0].max_notional: ")
    assert str(cap) in line
    assert "min_notional" in line


def test_max_notional_equal_to_min_notional_in_a_later_tier(tmp_path: Path) -> None:
    body = HEADER + tier() + tier(50000, 50000, 100, "0.005")
    path = write(tmp_path, body)
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: markets.BTCUSDT.tiers[1].max_notional: ")
    assert "50000 must be above min_notional 50000" in line


def test_negative_maintenance_margin_rate(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + tier(rate="-0.004"))
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: markets.BTCUSDT.tiers[0].maintenance_margin_rate: ")
    assert "-0.004" in line
    assert ">= 0" in line


def test_rate_times_leverage_at_least_one(tmp_path: Path) -> None:
    # 0.008 * 125 = 1: liquidated as it opens.
    path = write(tmp_path, HEADER + tier(rate="0.008"))
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: markets.BTCUSDT.tiers[0].maintenance_margin_rate: ")
    assert "0.008" in line
    assert "125" in line
    assert "max_leverage" in line


def test_rates_must_not_decrease(tmp_path: Path) -> None:
    body = HEADER + tier() + tier(50000, 600000, 100, "0.003")
    path = write(tmp_path, body)
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: markets.BTCUSDT.tiers[1].maintenance_margin_rate: ")
    assert "0.003" in line
    assert "0.004" in line


@pytest.mark.parametrize("leverage", ["0", "-5"])
def test_zero_or_negative_max_leverage(tmp_path: Path, leverage: str) -> None:
    path = write(tmp_path, HEADER + tier(max_leverage=leverage))
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: markets.BTCUSDT.tiers[0].max_leverage: ")
    assert leverage in line
    assert "> 0" in line


def test_maintenance_amount_contradicting_the_recursion(tmp_path: Path) -> None:
    body = HEADER + tier(amount=0) + tier(50000, 600000, 100, "0.005", amount=40)
    path = write(tmp_path, body)
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: markets.BTCUSDT.tiers[1].maintenance_amount: ")
    assert "40" in line
    assert "recursion" in line
    # 0 + 50000 * (0.005 - 0.004) = 50: the message states what the recursion gives.
    assert "gives 50" in line


def test_nonzero_first_maintenance_amount(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + tier(amount=1))
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: markets.BTCUSDT.tiers[0].maintenance_amount: ")
    assert "1 contradicts" in line
    assert "0" in line


def test_empty_tier_table(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "[markets.BTCUSDT]\ntiers = []\n")
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: markets.BTCUSDT.tiers: ")
    assert "at least one tier" in line


def test_tiers_given_as_a_table_instead_of_an_array(tmp_path: Path) -> None:
    body = HEADER + "[markets.BTCUSDT.tiers]\nmin_notional = 0\n"
    path = write(tmp_path, body)
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: markets.BTCUSDT.tiers")
    assert "unknown error" not in line
    assert "attribute" not in line  # no leaked Python AttributeError text


# --- wrong types --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "key", "value"),
    [
        ("schema_version = 1.5\n", "schema_version", "1.5"),
        ("schema_version = true\n", "schema_version", "True"),
        ('schema_version = "1"\n', "schema_version", "'1'"),
        ('[markets.BTCUSDT]\ncontract_size = "abc"\n', "markets.BTCUSDT.contract_size", "'abc'"),
        ("[markets.BTCUSDT]\ncontract_size = true\n", "markets.BTCUSDT.contract_size", "True"),
        ("[fees]\nmaker = [0.1]\n", "fees.maker", "[Decimal('0.1')]"),
        ("venue = 5\n", "venue", "5"),
        ("plugins = [1]\n", "plugins[0]", "1"),
    ],
    ids=[
        "version-float",
        "version-bool",
        "version-str",
        "size-str",
        "size-bool",
        "maker-array",
        "venue-int",
        "plugin-int",
    ],
)
def test_wrong_types(tmp_path: Path, body: str, key: str, value: str) -> None:
    path = write(tmp_path, HEADER + body)
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: {key}: ")
    assert value in line


def test_max_leverage_true(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + tier(max_leverage="true"))
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: markets.BTCUSDT.tiers[0].max_leverage: ")
    assert "True" in line
    assert "number" in line


@pytest.mark.parametrize("literal", ["nan", "inf", "-inf", '"NaN"'])
def test_non_finite_numbers(tmp_path: Path, literal: str) -> None:
    path = write(tmp_path, HEADER + f"[fees]\nmaker = {literal}\n")
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: fees.maker: ")
    assert "finite" in line


def test_unsupported_schema_version(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "schema_version = 2\n")
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: schema_version: ")
    assert "2" in line


def test_fees_given_as_an_array(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "fees = [1]\n")
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: fees: ")
    assert "unknown error" not in line
    assert "attribute" not in line  # no leaked Python AttributeError text


def test_plugins_given_as_a_string(tmp_path: Path) -> None:
    """``plugins = "binance"`` is a type error, not seven unknown one-letter plugins."""
    path = write(tmp_path, HEADER + 'plugins = "binance"\n')
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: plugins: ")
    assert "'binance'" in line


def test_waterfall_given_as_a_string(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + '[deficit]\nwaterfall = "adl"\n')
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: deficit.waterfall: ")
    assert "'adl'" in line


# --- literals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "key", "value", "allowed"),
    [
        (
            '[markets.BTCUSDT]\ncontract_type = "quanto"\n',
            "markets.BTCUSDT.contract_type",
            "quanto",
            ["linear", "inverse"],
        ),
        (
            '[deficit]\nwaterfall = ["magic"]\n',
            "deficit.waterfall[0]",
            "magic",
            ["insurance-fund", "adl", "clawback", "chasing", "venue"],
        ),
        ('[adl]\nprice = "last"\n', "adl.price", "last", ["bankruptcy", "mark"]),
        (
            '[insurance_fund]\nsurplus_to = "me"\n',
            "insurance_fund.surplus_to",
            "me",
            ["insurance-fund", "trader"],
        ),
    ],
    ids=["contract_type", "waterfall", "adl.price", "surplus_to"],
)
def test_invalid_literal(
    tmp_path: Path, body: str, key: str, value: str, allowed: list[str]
) -> None:
    path = write(tmp_path, HEADER + body)
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: {key}: ")
    assert f"'{value}'" in line
    for choice in allowed:
        assert choice in line
    # The reason must be stated, not passed through as a raw Python message.
    assert "unknown error" not in line
    assert "typing.Literal" not in line


def test_waterfall_stage_listed_twice(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + '[deficit]\nwaterfall = ["insurance-fund", "adl", "adl"]\n')
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: deficit.waterfall[2]: ")
    assert "'adl'" in line
    assert "twice" in line


# --- plugins ------------------------------------------------------------------------------


def test_unknown_plugin(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + 'plugins = ["binance", "bybit-nope"]\n')
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: plugins[1]: ")
    assert "'bybit-nope'" in line
    assert "unknown plugin" in line
    assert "binance" in line  # lists what is installed


def test_plugin_listed_twice(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + 'plugins = ["binance", "binance"]\n')
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: plugins[1]: ")
    assert "'binance'" in line
    assert "twice" in line


def test_default_mechanism_named_as_plugin(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + 'plugins = ["binance", "margin"]\n')
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: plugins[1]: ")
    assert "'margin'" in line
    assert "default" in line


def test_blocked_plugin_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BLOCK_ENV, "binance")
    registry = Registry.discover()
    error = load_error("binance-usdm", registry=registry)
    assert any(BLOCK_ENV in p and "binance" in p for p in error.problems), error.problems


def test_blocked_plugin_in_a_standalone_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = shipped_text()  # read before blocking: the blocked plugin ships it
    path = write(tmp_path, text.replace('name = "binance-usdm"', 'name = "standalone"'))
    monkeypatch.setenv(BLOCK_ENV, "binance")
    registry = Registry.discover()
    line = only_problem(load_error(path, registry=registry))
    assert line.startswith(f"{path}: plugins[0]: ")
    assert "'binance'" in line
    assert BLOCK_ENV in line


# --- extends ------------------------------------------------------------------------------


def test_extends_unknown_policy(tmp_path: Path) -> None:
    path = write(tmp_path, 'extends = "no-such-parent"\nname = "child"\n')
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: ")
    assert "extends" in line
    assert "'no-such-parent'" in line
    assert "binance-usdm" in line  # lists the available policies


def test_extends_missing_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'extends = "missing-parent.toml"\nname = "child"\n')
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: extends: ")
    assert "missing-parent.toml" in line


def test_extends_not_a_string(tmp_path: Path) -> None:
    path = write(tmp_path, 'extends = 3\nname = "child"\n')
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: extends: ")
    assert "3" in line


def test_extends_cycle(tmp_path: Path) -> None:
    a = write(tmp_path, 'extends = "b.toml"\nname = "a"\n', "a.toml")
    b = write(tmp_path, 'extends = "a.toml"\nname = "b"\n', "b.toml")
    line = only_problem(load_error(a))
    assert "extends" in line
    assert "cycle" in line
    assert str(a) in line
    assert str(b) in line


def test_extends_itself(tmp_path: Path) -> None:
    a = write(tmp_path, 'extends = "a.toml"\nname = "a"\n', "a.toml")
    line = only_problem(load_error(a))
    assert line.startswith(f"{a}: extends: ")
    assert "cycle" in line


def test_child_without_name(tmp_path: Path) -> None:
    path = write(tmp_path, 'extends = "binance-usdm"\n[fees]\nmaker = 0.0001\n')
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: name: ")
    assert "extends" in line


def test_bad_name(tmp_path: Path) -> None:
    path = write(tmp_path, 'extends = "binance-usdm"\nname = "Bad Name"\n')
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: name: ")
    assert "'Bad Name'" in line


def test_problem_inherited_from_a_parent_file_names_the_parent(tmp_path: Path) -> None:
    """The bad value lives in parent.toml; the line must point there, not at the child."""
    parent = write(tmp_path, HEADER + "[fees]\nmaker = 5\n", "parent.toml")
    child = write(tmp_path, 'extends = "parent.toml"\nname = "child"\n', "child.toml")
    line = only_problem(load_error(child))
    assert "fees.maker" in line
    assert "5" in line
    assert str(parent) in line


# --- several problems at once -------------------------------------------------------------


def test_several_semantic_problems_reported_together(tmp_path: Path) -> None:
    body = (
        HEADER
        + "schema_version = 2\n"
        + "[fees]\nmaker = 2\n"
        + tier(min_notional=10, max_notional=5, max_leverage=0, rate="-0.004")
    )
    path = write(tmp_path, body)
    error = load_error(path)
    assert len(error.problems) >= 5, error.problems
    assert all(p.startswith(f"{path}: ") for p in error.problems)
    assert "2" in problem_for(error, "schema_version")
    assert "2" in problem_for(error, "fees.maker")
    assert "10" in problem_for(error, "markets.BTCUSDT.tiers[0].min_notional")
    assert "5" in problem_for(error, "markets.BTCUSDT.tiers[0].max_notional")
    assert "-0.004" in problem_for(error, "markets.BTCUSDT.tiers[0].maintenance_margin_rate")
    assert "0" in problem_for(error, "markets.BTCUSDT.tiers[0].max_leverage")


def test_several_structural_problems_reported_together(tmp_path: Path) -> None:
    body = HEADER + "colour = 1\nschema_version = 1.5\n[fees]\nmakr = 0.1\n"
    path = write(tmp_path, body)
    error = load_error(path)
    assert len(error.problems) >= 3, error.problems
    assert all(p.startswith(f"{path}: ") for p in error.problems)
    assert any("colour" in p for p in error.problems)
    assert "1.5" in problem_for(error, "schema_version")
    assert "makr" in problem_for(error, "fees")


def test_key_and_type_problems_come_first_then_value_problems(tmp_path: Path) -> None:
    """Value checks need well-typed values, so a file's unknown keys and wrong types are
    reported first, all together; once they are fixed, its value problems are reported,
    all together. Nothing of the file is used in either case."""
    body = HEADER + "colour = 1\n[fees]\nmaker = 2\n" + tier(min_notional=10)
    path = write(tmp_path, body)
    error = load_error(path)
    assert any("colour" in p for p in error.problems)
    assert not any("fees.maker" in p for p in error.problems)

    path.write_text(body.replace("colour = 1\n", ""))
    error = load_error(path)
    assert "2" in problem_for(error, "fees.maker")
    assert "10" in problem_for(error, "markets.BTCUSDT.tiers[0].min_notional")


# --- unknown policies and files -----------------------------------------------------------


def test_unknown_policy_name() -> None:
    line = only_problem(load_error("no-such-policy"))
    assert "'no-such-policy'" in line
    assert "unknown policy" in line
    assert "binance-usdm" in line


@pytest.mark.parametrize("as_path", [False, True])
def test_missing_file(tmp_path: Path, as_path: bool) -> None:
    missing = tmp_path / "nowhere.toml"
    line = only_problem(load_error(missing if as_path else str(missing)))
    assert line.startswith(f"{missing}: ")
    assert "cannot read" in line


def test_directory_instead_of_file(tmp_path: Path) -> None:
    line = only_problem(load_error(tmp_path))
    assert str(tmp_path) in line


# --- nothing half-loaded ------------------------------------------------------------------


def test_failed_load_leaves_the_shipped_policy_intact(tmp_path: Path) -> None:
    body = HEADER + tier(rate="0.5", max_leverage=1) + "[fees]\nmaker = 7\n"
    path = write(tmp_path, body)
    load_error(path)
    policy = mc.load_policy("binance-usdm")
    btc = policy.markets["BTCUSDT"]
    assert btc.tiers[0].maintenance_margin_rate == Decimal("0.004")
    assert len(btc.tiers) == 12
    assert btc.maker_fee_rate == Decimal("0.0002")


def test_successful_child_does_not_change_the_parent(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + tier(rate="0.006") + "[fees]\nmaker = 0.0001\n")
    child = mc.load_policy(path)
    assert child.markets["BTCUSDT"].tiers[0].maintenance_margin_rate == Decimal("0.006")
    assert len(child.markets["BTCUSDT"].tiers) == 1
    parent = mc.load_policy("binance-usdm")
    assert parent.markets["BTCUSDT"].tiers[0].maintenance_margin_rate == Decimal("0.004")
    assert parent.markets["BTCUSDT"].maker_fee_rate == Decimal("0.0002")


def test_failed_plugin_list_leaves_the_default_registry_usable(tmp_path: Path) -> None:
    load_error(write(tmp_path, HEADER + 'plugins = ["binance", "binance"]\n'))
    assert "binance" in mc.load_policy("binance-usdm").plugins


# --- a TOML file never runs code ----------------------------------------------------------

PROBE = "evil_margincall_probe"


@pytest.fixture
def probe_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An importable module that, if ever imported, leaves a marker file."""
    marker = tmp_path / "imported.marker"
    package = tmp_path / "probe_path"
    package.mkdir()
    (package / f"{PROBE}.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('imported')\n"
        "def margincall_policy_files():\n    return []\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(package))
    monkeypatch.delitem(sys.modules, PROBE, raising=False)
    return marker


@pytest.mark.parametrize(
    "reference",
    ["os", "margincall_plugins.binance", PROBE, f"{PROBE}:margincall_policy_files"],
)
def test_plugins_entry_never_imports(tmp_path: Path, probe_module: Path, reference: str) -> None:
    path = write(tmp_path, HEADER + f'plugins = ["binance", "{reference}"]\n')
    line = only_problem(load_error(path))
    assert line.startswith(f"{path}: plugins[1]: ")
    assert "unknown plugin" in line
    assert f"'{reference}'" in line
    assert PROBE not in sys.modules
    assert not probe_module.exists()


def test_extends_never_imports(tmp_path: Path, probe_module: Path) -> None:
    path = write(tmp_path, f'extends = "{PROBE}"\nname = "child"\n')
    line = only_problem(load_error(path))
    assert f"'{PROBE}'" in line
    assert PROBE not in sys.modules
    assert not probe_module.exists()


def test_extends_cycle_through_dotdot_paths(tmp_path: Path) -> None:
    """x/a.toml extends ../x/b.toml, which extends a.toml: the cycle is found although the
    two spellings of a.toml's path differ."""
    folder = tmp_path / "x"
    folder.mkdir()
    write(folder, 'extends = "../x/b.toml"\nname = "a"\n', "a.toml")
    write(folder, 'extends = "a.toml"\nname = "b"\n', "b.toml")
    error = load_error(folder / "a.toml")
    assert "cycle" in only_problem(error)


# --- step tiers and venue parameters ------------------------------------------------------


def test_step_tiers_have_no_maintenance_amounts(tmp_path: Path) -> None:
    """tier_model = "step" (BitMEX, OKX): the whole value at the tier's rate, so the
    maintenance margin jumps at the edge: 50,000 × 0.4 % = 200 below it, 50,001 × 0.5 %
    = 250.005 above it (the tax-bracket table would give 50,001 × 0.5 % − 50 = 200.005)."""
    body = (
        HEADER
        + "[markets.BTCUSDT]\ntier_model = 'step'\n"
        + tier()
        + tier(50000, 600000, 100, "0.005")
    )
    policy = mc.load_policy(write(tmp_path, body))
    assert [t.maintenance_amount for t in policy.market("BTCUSDT").tiers] == [0, 0]
    for size, expected in (("1", "200"), ("1.00002", "250.005")):
        account = mc.Account(0, [mc.Position("BTCUSDT", "long", size, 50000)])
        assert policy.maintenance_margin(account, "BTCUSDT", marks={"BTCUSDT": 50000}) == (
            Decimal(expected)
        )
    bad = HEADER + "[markets.BTCUSDT]\ntier_model = 'step'\n" + tier()
    bad += tier(50000, 600000, 100, "0.005", amount=50)
    line = only_problem(load_error(write(tmp_path, bad, "bad-step.toml")))
    assert ": markets.BTCUSDT.tiers[1].maintenance_amount: 50 contradicts" in line
    assert "step table has no amounts" in line


def test_unknown_tier_model(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "[markets.BTCUSDT]\ntier_model = 'flat'\n")
    line = only_problem(load_error(path))
    assert line == (
        f"{path}: markets.BTCUSDT.tier_model: must be one of 'tax-bracket', 'step'; got 'flat'"
    )


@pytest.mark.parametrize(
    ("value", "kind"), [("true", "a boolean True"), ("[1, 2]", "an array [1, 2]")]
)
def test_parameters_are_numbers_or_strings(tmp_path: Path, value: str, kind: str) -> None:
    path = write(tmp_path, HEADER + f"[parameters]\nchunk = {value}\n")
    assert only_problem(load_error(path)) == (
        f"{path}: parameters.chunk: expected a number or a string, got {kind}"
    )


def test_parameters_are_exact(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + '[parameters]\nchunk = 0.1\nmode = "fast"\n')
    spec = mc.load_policy(path).spec
    assert spec.parameters == {"chunk": Decimal("0.1"), "mode": "fast"}


def test_a_market_alias_names_the_same_contract(tmp_path: Path) -> None:
    """One scenario across venues: an alias is the same market under the scenario's name."""
    body = (
        HEADER + '[markets.ETHUSDT]\naliases = ["ETH-PERP"]\n[markets.BTCUSDT.parameters]\nx = 1\n'
    )
    body += "[markets.ETHUSDT.parameters]\nx = 2\n"
    policy = mc.load_policy(write(tmp_path, body))
    eth, alias = policy.market("ETHUSDT"), policy.market("ETH-PERP")
    assert alias.symbol == "ETH-PERP"
    assert (alias.tiers, alias.liquidation_fee_rate) == (eth.tiers, eth.liquidation_fee_rate)
    assert policy.spec.parameter("x", "ETH-PERP") == 2
    clash = HEADER + '[markets.ETHUSDT]\naliases = ["BTCUSDT"]\n'
    path = write(tmp_path, clash, "clash.toml")
    assert only_problem(load_error(path)) == (
        f"{path}: markets.ETHUSDT.aliases[0]: 'BTCUSDT' already names markets.BTCUSDT"
    )
