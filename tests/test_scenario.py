"""Scenarios from Python and from TOML, and their input errors."""

from __future__ import annotations

import pickle
import re
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import attrs
import pytest

import margincall as mc
from margincall.liquidity import DepthLadder, Level, MarkFill, NoLiquidity
from margincall.scenario import Scenario, Step, bundled_scenarios, load_scenario

D = Decimal
DATA = Path(__file__).parent / "data"


def test_load_scenario_from_toml() -> None:
    scenario = load_scenario(DATA / "scenario-gap.toml")
    assert scenario.name == "gap-through-bankruptcy"
    assert list(scenario.accounts) == ["trader", "hedger"]
    trader = scenario.accounts["trader"].positions[0]
    assert (trader.size, trader.entry_price, trader.leverage) == (D(1), D(60000), D(10))
    assert scenario.liquidity == MarkFill(slippage=D("0.001"))
    assert scenario.insurance_fund == 0
    assert [s.label for s in scenario.steps] == ["open", "gap"]
    # ETHUSDT's mark carries forward into the second step
    assert scenario.marks_at(1) == {"BTCUSDT": D(52000), "ETHUSDT": D(3000)}


def test_depth_and_none_models_from_toml(tmp_path: Path) -> None:
    text = (DATA / "scenario-gap.toml").read_text()
    depth = text.replace(
        'model = "mark"\nslippage = 0.001',
        'model = "depth"\nbids = { BTCUSDT = [[0.001, 2], [0.01, 10]] }',
    )
    (tmp_path / "d.toml").write_text(depth)
    model = load_scenario(tmp_path / "d.toml").liquidity
    assert isinstance(model, DepthLadder)
    assert model.bids["BTCUSDT"] == (Level(D("0.001"), D(2)), Level(D("0.01"), D(10)))
    (tmp_path / "n.toml").write_text(
        text.replace('model = "mark"\nslippage = 0.001', 'model = "none"')
    )
    assert load_scenario(tmp_path / "n.toml").liquidity == NoLiquidity()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("balance = 5000", "balanse = 5000", "extra fields found (balanse)"),
        ("size = 0.5", "size = -0.5", "size: must be > 0, got -0.5"),
        (
            "marks = { BTCUSDT = 52000 }",
            "marks = { BTCUSDT = 0 }",
            "steps[1].marks.BTCUSDT: must be > 0",
        ),
        (
            "marks = { BTCUSDT = 60000, ETHUSDT = 3000 }",
            "marks = { BTCUSDT = 60000 }",
            "steps[0].marks: no mark for ETHUSDT",
        ),
        ('id = "hedger"', 'id = "trader"', "accounts[1].id: 'trader' is used twice"),
        ("slippage = 0.001", "slippage = 0.001\nbids = {}", "bids do not apply to model 'mark'"),
        ('model = "mark"', 'model = "magic"', "must be one of"),
        ("insurance_fund = 0", "insurance_fund = 0\nseed = 1.5", "seed: expected an integer"),
        (
            "marks = { BTCUSDT = 52000 }",
            "marks = { BTCUSDT = 52000 }\ntransfers = { nobody = 5 }",
            "steps[1].transfers: no account 'nobody' in the scenario",
        ),
        (
            "marks = { BTCUSDT = 52000 }",
            "marks = { BTCUSDT = 52000 }\ntransfers = { trader = 0 }",
            "steps[1].transfers.trader: a transfer of 0 moves nothing",
        ),
        (
            "marks = { BTCUSDT = 52000 }",
            "marks = { BTCUSDT = 52000 }\nday = -1",
            "steps[1].day: must be >= 0, got -1",
        ),
        (
            "insurance_fund = 0",
            'insurance_fund = 0\ncontracts = { BTCUSDT = "quanto" }',
            "contracts.BTCUSDT",
        ),
    ],
)
def test_bad_scenario_files_name_file_and_key(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = (DATA / "scenario-gap.toml").read_text()
    assert old in text
    text = text.replace(old, new, 1)
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(mc.InvalidInputError) as info:
        load_scenario(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_days_and_transfers_from_toml(tmp_path: Path) -> None:
    text = (
        (DATA / "scenario-gap.toml")
        .read_text()
        .replace(
            "marks = { BTCUSDT = 52000 }",
            "marks = { BTCUSDT = 52000 }\nday = 1.5\ntransfers = { trader = 250.5, hedger = -10 }",
        )
    )
    (tmp_path / "t.toml").write_text(text)
    scenario = load_scenario(tmp_path / "t.toml")
    assert [scenario.day_at(0), scenario.day_at(1)] == [0, D("1.5")]
    assert scenario.steps[1].transfers == {"trader": D("250.5"), "hedger": D(-10)}


def test_scenario_from_python() -> None:
    account = mc.Account(100, [mc.Position("BTCUSDT", "long", 1, 60000)])
    scenario = Scenario({"a": account}, [{"BTCUSDT": 60000}, Step("drop", {"BTCUSDT": D(59000)})])
    assert scenario.liquidity == NoLiquidity()
    assert scenario.marks_at(0) == {"BTCUSDT": D(60000)}
    assert [s.label for s in scenario.steps] == ["0", "drop"]
    with pytest.raises(mc.InvalidInputError, match=r"steps\[2\].day: 1 is before .* day 2"):
        Scenario({"a": account}, [{"BTCUSDT": 1}, Step("b", {}, D(2)), Step("c", {}, D(1))])
    with pytest.raises(mc.InvalidInputError, match="at least one step"):
        Scenario({"a": account}, [])
    with pytest.raises(mc.InvalidInputError, match="non-empty mapping"):
        Scenario({}, [{"BTCUSDT": 1}])
    with pytest.raises(mc.InvalidInputError, match="float"):
        Scenario({"a": account}, [{"BTCUSDT": 60000.0}])


# --- marks and days carried forward -------------------------------------------------------


def _rescanned(scenario: Scenario, index: int) -> tuple[dict[str, Decimal], Decimal]:
    """The marks and day at ``index`` the slow way: every step up to it, in order."""
    marks: dict[str, Decimal] = {}
    day = D(0)
    for step in scenario.steps[: index + 1]:
        marks.update(step.marks)
        day = day if step.day is None else step.day
    return marks, day


def _sparse() -> Scenario:
    """Marks that change one symbol at a time, steps with no marks, days on some steps."""
    account = mc.Account(
        100, [mc.Position("BTCUSDT", "long", 1, 60000), mc.Position("ETHUSDT", "short", 2, 3000)]
    )
    return Scenario(
        {"a": account},
        [
            Step("open", {"BTCUSDT": D(60000), "ETHUSDT": D(3000)}),
            Step("btc", {"BTCUSDT": D(59000)}, D("0.5")),
            Step("nothing", {}),
            Step("eth", {"ETHUSDT": D(3100), "SOLUSDT": D(150)}, D(2)),
            Step("both", {"BTCUSDT": D(58000), "ETHUSDT": D(3050)}),
        ],
    )


def test_marks_and_days_carry_forward_as_a_rescan_would_find_them() -> None:
    scenario = _sparse()
    for index in range(len(scenario.steps)):
        assert (scenario.marks_at(index), scenario.day_at(index)) == _rescanned(scenario, index)
    assert scenario.marks_at(2) == {"BTCUSDT": D(59000), "ETHUSDT": D(3000)}
    assert scenario.marks_at(4) == {"BTCUSDT": D(58000), "ETHUSDT": D(3050), "SOLUSDT": D(150)}
    assert [scenario.day_at(k) for k in range(5)] == [0, D("0.5"), D("0.5"), 2, 2]


def test_marks_at_hands_out_a_copy() -> None:
    scenario = _sparse()
    marks = scenario.marks_at(2)
    marks["BTCUSDT"] = D(1)
    marks["XRPUSDT"] = D(1)
    assert scenario.marks_at(2) == {"BTCUSDT": D(59000), "ETHUSDT": D(3000)}
    assert scenario.marks_at(1) == {"BTCUSDT": D(59000), "ETHUSDT": D(3000)}


@pytest.mark.parametrize("index", [-1, 5, 99])
def test_a_step_index_outside_the_path_is_refused(index: int) -> None:
    scenario = _sparse()
    for method in (scenario.marks_at, scenario.day_at):
        with pytest.raises(
            mc.InvalidInputError,
            match=rf"\.{method.__name__}: no step {index}; the steps are 0 to 4",
        ):
            method(index)


@pytest.mark.parametrize("index", [True, 1.0, "1"])
def test_a_step_index_is_an_integer(index: object) -> None:
    with pytest.raises(mc.InvalidInputError, match="expected a step index"):
        _sparse().marks_at(index)  # type: ignore[arg-type]


def test_an_evolved_scenario_carries_its_own_steps_forward() -> None:
    """attrs.evolve builds through __init__ (the stateful tests grow scenarios so): the new
    scenario's marks are its steps', not the old one's."""
    scenario = _sparse()
    longer = attrs.evolve(scenario, steps=(*scenario.steps, Step("more", {"BTCUSDT": D(1)})))
    assert longer.marks_at(5)["BTCUSDT"] == 1 and longer.day_at(5) == 2
    assert longer != scenario and longer.steps[:5] == scenario.steps


@pytest.mark.parametrize("name", bundled_scenarios())
def test_bundled_scenarios_pickle(name: str) -> None:
    scenario = load_scenario(name)
    copy = pickle.loads(pickle.dumps(scenario))
    assert copy == scenario
    last = len(scenario.steps) - 1
    assert copy.marks_at(last) == scenario.marks_at(last)
    assert copy.day_at(last) == scenario.day_at(last)


def test_a_scenario_built_in_python_pickles() -> None:
    scenario = _sparse()
    copy = pickle.loads(pickle.dumps(scenario))
    assert copy == scenario
    for index in range(len(scenario.steps)):
        assert (copy.marks_at(index), copy.day_at(index)) == _rescanned(scenario, index)


# --- to_toml ------------------------------------------------------------------------------


def _written(scenario: Scenario, tmp_path: Path) -> tuple[str, Scenario]:
    """``scenario``'s TOML and the scenario load_scenario reads from it."""
    text = scenario.to_toml()
    path = tmp_path / "written.toml"
    path.write_text(text, encoding="utf-8")
    return text, load_scenario(path)


@pytest.mark.parametrize("name", bundled_scenarios())
def test_to_toml_reads_back_to_every_bundled_scenario(name: str, tmp_path: Path) -> None:
    scenario = load_scenario(name)
    text, again = _written(scenario, tmp_path)
    assert again == scenario
    assert again.to_toml() == text  # nothing drifts on a second trip


@pytest.mark.parametrize("name", ["crash-2025-10", "crash-2025-10-coin"])
def test_to_toml_writes_the_generated_files_in_their_own_format(name: str) -> None:
    """The bundled crash files are written by to_toml (tools/make_crash_scenario.py) under a
    comment line: loading one and writing it again gives its text back, digit for digit
    (116375.0 stays 116375.0)."""
    shipped = (files("margincall") / "scenarios" / f"{name}.toml").read_text(encoding="utf-8")
    comment, body = shipped.split("\n", 1)
    assert comment.startswith("# Generated by tools/make_crash_scenario.py")
    assert load_scenario(name).to_toml() == body


def test_to_toml_writes_every_optional_key_and_reads_it_back(tmp_path: Path) -> None:
    hedged = mc.Account(
        D("-12.5"),
        [
            mc.Position("BTC-PERP", "long", D("0.5"), 60000, "isolated", margin=D("3000.10")),
            mc.Position("BTC-PERP", "short", D("0.25"), 61000, "isolated", leverage=D("12.5")),
        ],
        "hedge",
    )
    cross = mc.Account(D("1E+3"), [mc.Position("ETH USDT", "short", 2, 3000, leverage=5)])
    scenario = Scenario(
        {"hedged": hedged, 'the "other" one\n': cross, "empty": mc.Account(0)},
        [
            Step("open", {"BTC-PERP": D(60000), "ETH USDT": D("3000.00")}),
            Step(
                "later\tstep",
                {"BTC-PERP": D("5.9E+4")},
                D("1.5"),
                {"hedged": D("0.0000001"), 'the "other" one\n': D(-10)},
            ),
            Step("quiet", {}),
        ],
        MarkFill(slippage=D("0.001"), impact=D("1E-7")),
        name="every key",
        insurance_fund=D("0E-8"),
        seed=-3,
        description='Quotes ", backslashes \\ and a line break\nin text.\x7f',
        contracts={"BTC-PERP": "inverse", "ETH USDT": "linear"},
    )
    text, again = _written(scenario, tmp_path)
    assert again == scenario
    for field in attrs.fields(Scenario):
        assert getattr(again, field.name) == getattr(scenario, field.name), field.name
    assert not re.search(r"\dE[-+]?\d", text)  # 1E+3, 0E-8: not TOML numbers
    assert "margin = 3000.10" in text and 'ETH USDT" = 3000.00' in text  # digits kept
    assert "balance = 1000\n" in text and "impact = 0.0000001\n" in text
    assert 'position_mode = "hedge"' in text and "seed = -3" in text


def test_to_toml_writes_a_missing_fund_and_an_empty_depth_ladder(tmp_path: Path) -> None:
    account = mc.Account(1, [mc.Position("BTCUSDT", "long", 1, 60000)])
    for liquidity in (DepthLadder(), DepthLadder(bids={"BTCUSDT": [[D("0.01"), 1]]}), None):
        scenario = Scenario({"a": account}, [{"BTCUSDT": 60000}], liquidity)
        text, again = _written(scenario, tmp_path)
        assert again == scenario and "insurance_fund" not in text


def test_to_toml_refuses_what_has_no_file_form() -> None:
    class Book:
        def fill(self, *_: object) -> tuple[()]:
            return ()

    account = mc.Account(1, [mc.Position("BTCUSDT", "long", 1, 60000)])
    scenario = Scenario({"a": account}, [{"BTCUSDT": 60000}], Book())  # type: ignore[arg-type]
    with pytest.raises(mc.InvalidInputError, match="to_toml: liquidity: a Book has no file form"):
        scenario.to_toml()
    named = Scenario({"a": account}, [{"BTCUSDT": 60000}], name=5)  # type: ignore[arg-type]
    with pytest.raises(mc.InvalidInputError, match="to_toml: name: expected a string, got 5"):
        named.to_toml()
    surrogate = Scenario({"a": account}, [{"BTCUSDT": 60000}], description="\ud800")
    with pytest.raises(mc.InvalidInputError, match=r"description: .* lone surrogate \(U\+D800\)"):
        surrogate.to_toml()
