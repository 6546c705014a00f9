"""Scale-out: policies and outcomes pickle, and compare and sweep run their policies as tasks
on any concurrent.futures executor with the serial run's tables, figure for figure.

The process pool uses the "spawn" start method (a fresh interpreter, as on macOS and
Windows, and as Dask's worker processes are), so that what reaches a worker is only what
pickles."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import pickle
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

import margincall as mc
from margincall.compare import Sweep, SweepRow, compare, sweep
from margincall.errors import InvalidInputError, PolicyError
from margincall.policy import PolicyReference
from margincall.registry import Registry
from margincall.scenario import bundled_scenarios, load_scenario

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def processes() -> Iterator[Executor]:
    with ProcessPoolExecutor(
        max_workers=2, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        yield pool


def eth_only(folder: Path) -> Path:
    """A policy file without the BTCUSDT market: it cannot play the BTC scenarios."""
    text = (DATA / "flat-venue.toml").read_text(encoding="utf-8")
    path = folder / "eth-only.toml"
    path.write_text(
        text.replace('name = "flat-venue"', 'name = "eth-only"')
        .replace('plugins = ["flat"]', "plugins = []")
        .replace("markets.BTCUSDT", "markets.ETHUSDT"),
        encoding="utf-8",
    )
    return path


def chasing_copy(folder: Path) -> Path:
    """A policy file of its own that plays: binance-usdm-chasing under another name."""
    path = folder / "my-chasing.toml"
    path.write_text('name = "my-chasing"\nextends = "binance-usdm-chasing"\n', encoding="utf-8")
    return path


# --- pickling -----------------------------------------------------------------------------


def test_a_built_in_policy_pickles_by_name() -> None:
    policy = mc.load_policy("dydx-v4")
    reference = policy.reference()
    assert (reference.location, reference.by_path) == ("dydx-v4", False)
    back = pickle.loads(pickle.dumps(policy))
    assert (back.name, back.origin, back.spec) == ("dydx-v4", policy.origin, policy.spec)
    scenario = load_scenario("fund-runs-dry")
    assert back.simulate(scenario) == policy.simulate(scenario)


def test_a_policy_from_a_file_pickles_by_its_path(tmp_path: Path) -> None:
    path = chasing_copy(tmp_path)
    policy = mc.load_policy(path)
    reference = policy.reference()
    assert (reference.location, reference.by_path) == (str(path.resolve()), True)
    back = pickle.loads(pickle.dumps(policy))
    assert (back.name, back.origin, back.spec) == ("my-chasing", str(path.resolve()), policy.spec)
    scenario = load_scenario("owe-money")
    assert back.simulate(scenario) == policy.simulate(scenario)


def test_a_policy_whose_file_is_gone_says_it_cannot_be_reloaded(tmp_path: Path) -> None:
    path = chasing_copy(tmp_path)
    data = pickle.dumps(mc.load_policy(path))
    path.unlink()
    with pytest.raises(PolicyError) as error:
        pickle.loads(data)
    first = str(error.value).splitlines()[0]  # what a table's error column shows
    assert first.startswith(
        f"policy my-chasing cannot be reloaded from the file {path.resolve()}: "
    )
    assert "No such file or directory" in first


def test_a_policy_whose_file_is_gone_fails_on_processes(
    processes: Executor, tmp_path: Path
) -> None:
    path = chasing_copy(tmp_path)
    policy = mc.load_policy(path)
    path.unlink()
    (summary,) = compare(load_scenario("owe-money"), [policy], executor=processes).summaries
    assert (summary.status, summary.policy) == ("failed", "my-chasing")
    assert summary.error is not None
    assert summary.error.startswith("policy my-chasing cannot be reloaded from the file ")
    assert "No such file or directory" in summary.error


def test_a_policy_whose_file_changed_says_it_cannot_be_reloaded(tmp_path: Path) -> None:
    path = chasing_copy(tmp_path)
    data = pickle.dumps(mc.load_policy(path))
    path.write_text(path.read_text(encoding="utf-8") + 'venue = "elsewhere"\n', encoding="utf-8")
    with pytest.raises(PolicyError, match="says something else than when it was loaded"):
        pickle.loads(data)


def test_a_policy_of_its_own_registry_does_not_pickle(tmp_path: Path) -> None:
    own = Registry.discover(points=[])  # the default mechanisms only
    policy = mc.load_policy(eth_only(tmp_path), registry=own)
    with pytest.raises(PolicyError, match=r"eth-only .* plugin registry of its own"):
        pickle.dumps(policy)


def test_a_reference_names_the_policy_it_cannot_load() -> None:
    spec = mc.load_policy("bitmex").spec
    missing = PolicyReference("no-such-policy", False, "bitmex:bitmex.toml", spec)
    with pytest.raises(PolicyError, match="bitmex cannot be reloaded from the installed plugins"):
        missing.load()
    elsewhere = PolicyReference("bitmex", False, "somewhere:bitmex.toml", spec)
    with pytest.raises(PolicyError, match=r"loaded from somewhere:bitmex\.toml, here it comes"):
        elsewhere.load()


def test_an_outcome_pickles_whole_and_without_its_index() -> None:
    outcome = mc.load_policy("binance-usdm").simulate(load_scenario("crash-2025-10"))
    before = pickle.dumps(outcome)
    stories = {key: outcome.explain(key) for key in outcome.accounts}  # builds the index
    assert pickle.dumps(outcome) == before
    back = pickle.loads(before)
    assert back == outcome
    assert {key: back.explain(key) for key in back.accounts} == stories
    assert back.who_pays() == outcome.who_pays()


# --- compare on executors -----------------------------------------------------------------


def tables(comparison: mc.compare.Comparison) -> tuple[str, str, str]:
    return comparison.to_json(), comparison.to_csv("summary"), comparison.to_csv("accounts")


@pytest.mark.parametrize("name", bundled_scenarios())
def test_compare_on_processes_is_the_serial_comparison(name: str, processes: Executor) -> None:
    """Every policy over every bundled scenario (those that cannot play it included)."""
    scenario = load_scenario(name)
    serial, pooled = compare(scenario), compare(scenario, executor=processes)
    assert tables(pooled) == tables(serial)
    assert pooled.outcomes == serial.outcomes
    assert {s.status for s in serial.summaries} >= {"played"}


def test_compare_on_processes_reports_failures_as_the_serial_run(
    processes: Executor, tmp_path: Path
) -> None:
    """By name, by path, as a Policy loaded from a file; one that cannot play, one that does
    not load: the same table."""
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "broken"\nextends = "no-such-parent"\n', encoding="utf-8")
    policies: list[str | mc.Policy] = [
        "binance-usdm",
        mc.load_policy(eth_only(tmp_path)),
        str(chasing_copy(tmp_path)),
        "no-such-policy",
        str(broken),
        "binance-coinm",
    ]
    scenario = load_scenario("owe-money")
    serial = compare(scenario, policies)
    assert [s.status for s in serial.summaries] == [
        "played",
        "cannot play",
        "played",
        "failed",
        "failed",
        "cannot play",
    ]
    assert tables(compare(scenario, policies, executor=processes)) == tables(serial)


def test_a_policy_that_cannot_be_sent_fails_on_processes_and_plays_on_threads(
    processes: Executor, tmp_path: Path
) -> None:
    own = Registry.discover()  # the installed plugins, discovered again: not the default one
    policy = mc.load_policy("binance-usdm-chasing", registry=own)
    scenario = load_scenario("owe-money")
    (pooled,) = compare(scenario, [policy], executor=processes).summaries
    assert (pooled.status, pooled.policy) == ("failed", "binance-usdm-chasing")
    assert pooled.error is not None and "plugin registry of its own" in pooled.error
    with ThreadPoolExecutor(max_workers=2) as threads:  # nothing is pickled
        threaded = compare(scenario, [policy], executor=threads)
    assert tables(threaded) == tables(compare(scenario, [policy]))
    assert threaded.summaries[0].status == "played"


def test_compare_on_threads_is_the_serial_comparison() -> None:
    scenario = load_scenario("fund-runs-dry")
    with ThreadPoolExecutor(max_workers=3) as threads:
        assert tables(compare(scenario, executor=threads)) == tables(compare(scenario))


def test_progress_names_each_policy_in_order_on_an_executor() -> None:
    seen: list[tuple[str, int, int]] = []
    with ThreadPoolExecutor(max_workers=2) as threads:
        compare(
            load_scenario("owe-money"),
            ["bitmex", "deribit", "okx-swap"],
            executor=threads,
            progress=lambda *args: seen.append(args),
        )
    assert seen == [("bitmex", 0, 3), ("deribit", 1, 3), ("okx-swap", 2, 3)]


def test_compare_refuses_what_is_not_an_executor_or_a_scenario() -> None:
    scenario = load_scenario("owe-money")
    with pytest.raises(InvalidInputError, match="compare: executor must be a concurrent"):
        compare(scenario, executor=4)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="compare: expected a Scenario, got str"):
        compare("owe-money")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="compare: policies must be a list"):
        compare(scenario, "bitmex")  # type: ignore[arg-type]


# --- sweep --------------------------------------------------------------------------------

SWEPT = ["binance-usdm", "hyperliquid", "binance-coinm"]


def test_sweep_is_compare_s_summary_for_each_scenario() -> None:
    scenarios = [load_scenario(name) for name in bundled_scenarios()]
    swept = sweep(scenarios, SWEPT)
    expected = [
        SweepRow(scenario.name, summary)
        for scenario in scenarios
        for summary in compare(scenario, SWEPT).summaries
    ]
    assert swept.rows == tuple(expected)
    assert len(swept.rows) == 4 * 3


def test_sweep_on_processes_is_the_serial_sweep(processes: Executor, tmp_path: Path) -> None:
    scenarios = [load_scenario(name) for name in bundled_scenarios()]
    policies = [*SWEPT, mc.load_policy(chasing_copy(tmp_path)), "no-such-policy"]
    serial = sweep(scenarios, policies)
    pooled = sweep(scenarios, policies, executor=processes)
    assert pooled == serial
    assert pooled.to_csv() == serial.to_csv()
    assert pooled.to_json() == serial.to_json()
    statuses = {(r.scenario, r.summary.policy): r.summary.status for r in serial.rows}
    assert statuses["owe-money", "no-such-policy"] == "failed"
    assert statuses["owe-money", "binance-coinm"] == "cannot play"
    assert statuses["crash-2025-10-coin", "binance-coinm"] == "played"


def test_the_sweep_table() -> None:
    """One row per scenario and policy, scenario first, then compare's summary columns; the
    CSV and JSON carry the same exact figures."""
    scenarios = [load_scenario("owe-money"), load_scenario("fund-runs-dry")]
    swept = sweep(scenarios, ["binance-usdm", "binance-coinm"])
    summary_columns = next(csv.reader(io.StringIO(compare(scenarios[0], []).to_csv())))
    assert Sweep.columns() == ["scenario", *summary_columns]
    rows = list(csv.DictReader(io.StringIO(swept.to_csv())))
    assert [(r["scenario"], r["policy"], r["status"]) for r in rows] == [
        ("owe-money", "binance-usdm", "played"),
        ("owe-money", "binance-coinm", "cannot play"),
        ("fund-runs-dry", "binance-usdm", "played"),
        ("fund-runs-dry", "binance-coinm", "cannot play"),
    ]
    # owe-money under binance-usdm, by hand (tests/test_compare.py): the fund sells the BTC
    # it took over at 54,000 for 50,898, and pays the 3,102
    assert Decimal(rows[0]["insurance_fund_change"]) == Decimal(-3102)
    assert Decimal(rows[0]["who_pays_fund_cash"]) == Decimal(3102)
    assert rows[1]["who_pays_total"] == "" and rows[1]["error"]
    data = json.loads(swept.to_json())
    assert data["columns"] == Sweep.columns()
    assert [list(r) for r in data["rows"]] == [Sweep.columns()] * 4
    assert data["rows"][1]["who_pays_total"] is None
    assert [{k: "" if v is None else str(v) for k, v in r.items()} for r in data["rows"]] == rows


def test_sweep_to_pandas() -> None:
    pytest.importorskip("pandas")
    swept = sweep([load_scenario("owe-money")], ["binance-usdm", "binance-usdm-chasing"])
    frame = swept.to_pandas()
    assert list(frame.columns) == Sweep.columns()
    assert frame.to_dict("records") == swept.records()
    assert frame["debt_owed"].tolist() == [Decimal(0), Decimal(2102)]


def test_sweep_reports_progress_after_each_row() -> None:
    seen: list[tuple[int, int]] = []
    scenarios = [load_scenario("owe-money"), load_scenario("fund-runs-dry")]
    sweep(scenarios, ["bitmex", "deribit"], progress=lambda *args: seen.append(args))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_sweep_refuses_bad_input() -> None:
    owe = load_scenario("owe-money")
    with pytest.raises(InvalidInputError, match=r"scenarios\[1\] is named 'owe-money' like"):
        sweep([owe, load_scenario("owe-money")], ["bitmex"])
    with pytest.raises(InvalidInputError, match=r"scenarios\[0\]: expected a Scenario, got str"):
        sweep(["owe-money"], ["bitmex"])  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match="sweep: scenarios must be an iterable"):
        sweep(owe, ["bitmex"])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="sweep: executor must be a concurrent"):
        sweep([owe], ["bitmex"], executor=ThreadPoolExecutor)  # type: ignore[arg-type]
    assert sweep([], ["bitmex"]).rows == ()


def test_renamed_scenarios_sweep() -> None:
    """Scenarios of one name can be told apart by renaming them (attrs.evolve)."""
    owe = load_scenario("owe-money")
    twice = [attrs.evolve(owe, name=f"owe-money-{k}") for k in range(2)]
    rows = sweep(twice, ["bitmex"]).rows
    assert [r.scenario for r in rows] == ["owe-money-0", "owe-money-1"]
    assert rows[0].summary == rows[1].summary
