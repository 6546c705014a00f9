"""margincall.scenarios.crash: the October-2025 crash at any size.

``crash()`` is the bundled crash-2025-10; other sizes keep its draws, scale its book and fund,
and stretch its path. Worked figures are by hand from the rules in crash's docstring.
"""

from __future__ import annotations

import pickle
from collections import Counter
from decimal import ROUND_DOWN, Decimal, localcontext
from pathlib import Path

import attrs
import pytest

import margincall as mc
from margincall.liquidity import DepthLadder, Level
from margincall.scenario import Scenario, load_scenario
from margincall.scenarios import crash

D = Decimal
OPEN = {"BTCUSDT": D(122500), "ETHUSDT": D(4350), "SOLUSDT": D(220)}
TICKS = {"BTCUSDT": D("0.1"), "ETHUSDT": D("0.01"), "SOLUSDT": D("0.001")}
LOTS = {"BTCUSDT": D("0.001"), "ETHUSDT": D("0.001"), "SOLUSDT": D(1)}
LABELS = ["open", "-5%", "-12%", "low", "rebound"]


@pytest.fixture(scope="module")
def bundled() -> Scenario:
    return load_scenario("crash-2025-10")


def test_crash_is_the_bundled_crash_field_by_field(bundled: Scenario) -> None:
    built = crash()
    assert built.name == bundled.name == "crash-2025-10"
    assert built.description == bundled.description
    assert built.insurance_fund == bundled.insurance_fund == 250000
    assert built.contracts == bundled.contracts
    assert built.seed == bundled.seed
    assert list(built.accounts) == list(bundled.accounts)  # the same ids, in the same order
    for key, account in bundled.accounts.items():
        assert built.accounts[key].balance == account.balance, key
        assert built.accounts[key].position_mode == account.position_mode, key
        assert built.accounts[key].positions == account.positions, key
    assert [s.label for s in built.steps] == [s.label for s in bundled.steps] == LABELS
    assert [s.marks for s in built.steps] == [s.marks for s in bundled.steps]
    assert [(s.day, s.transfers) for s in built.steps] == [
        (s.day, s.transfers) for s in bundled.steps
    ]
    assert isinstance(built.liquidity, DepthLadder) and isinstance(bundled.liquidity, DepthLadder)
    assert built.liquidity.bids == bundled.liquidity.bids
    assert built.liquidity.asks == bundled.liquidity.asks
    assert built == bundled  # and nothing else differs


def test_crash_ignores_the_callers_decimal_context(bundled: Scenario) -> None:
    with localcontext() as context:
        context.prec, context.rounding = 6, ROUND_DOWN
        assert crash() == bundled


def test_the_first_accounts_are_the_same_at_every_size(bundled: Scenario) -> None:
    """The draws run in the same order, so 1,500 accounts begin with the bundled 240 (ids are
    one digit wider above 1,000 accounts)."""
    small, large = crash(60), crash(1500)
    assert list(small.accounts.values()) == list(bundled.accounts.values())[:60]
    assert list(large.accounts.values())[:240] == list(bundled.accounts.values())
    assert list(large.accounts)[:2] == ["a0000", "a0001"] and list(large.accounts)[-1] == "a1499"
    assert list(small.accounts)[-1] == "a059"


def test_the_accounts_have_the_crash_s_distributions() -> None:
    """20,000 draws: shares within 2 points of the rules (over six standard deviations)."""
    scenario = crash(20_000)
    positions = [a.positions[0] for a in scenario.accounts.values()]
    sides = Counter(p.side for p in positions)
    modes = Counter(p.margin_mode for p in positions)
    symbols = Counter(p.symbol for p in positions)
    n = len(positions)
    assert abs(D(sides["long"]) / n - D("0.7")) < D("0.02")
    assert abs(D(modes["isolated"]) / n - D("0.5")) < D("0.02")
    assert all(abs(D(symbols[s]) / n - D(1) / 3) < D("0.02") for s in OPEN)
    leverages = {2, 3, 5, 10, 20, 25, 50, 75}
    notionals = [2000, 5000, 20000, 50000, 200000]
    for account in scenario.accounts.values():
        (p,) = account.positions
        assert abs(p.entry_price / OPEN[p.symbol] - 1) <= D("0.02") + TICKS[p.symbol]
        assert p.entry_price % TICKS[p.symbol] == 0 and p.size % LOTS[p.symbol] == 0
        # size = notional / entry to the lot: one of the notionals within half a lot
        value = p.size * p.entry_price
        assert any(abs(value - n) <= LOTS[p.symbol] * p.entry_price / 2 for n in notionals) or (
            p.size == LOTS[p.symbol]  # a notional below one lot's value: one lot
        )
        if p.margin_mode == "isolated":
            assert account.balance == 0 and p.leverage in leverages and p.margin is None
        else:
            assert p.leverage is None
            # the wallet is notional / leverage to 1 USDT, for one of the pairs
            assert account.balance in {round(D(n) / lev) for n in notionals for lev in leverages}


def test_the_accounts_pass_the_checked_constructors() -> None:
    """crash builds its accounts without the constructors' checks (they are valid by
    construction); the checked constructors accept every one and build the same account."""
    for seed in (1, 2, 3):
        for key, account in crash(700, 1, seed=seed).accounts.items():
            checked = mc.Account(
                account.balance,
                [attrs.evolve(p) for p in account.positions],  # through Position.__init__
                account.position_mode,
            )
            assert checked == account, key


def test_book_and_fund_scale_with_the_accounts(bundled: Scenario) -> None:
    """100 accounts: each level × 100 / 240 to the lot (half-even), the fund to the cent."""
    scenario = crash(100)
    assert scenario.insurance_fund == D("104166.67")  # 250,000 × 100 / 240 = 104,166.666...
    depth = {
        "BTCUSDT": ["0.208", "0.833", "2.5"],  # 0.5, 2, 6 × 100 / 240: 0.2083, 0.8333, 2.5
        "ETHUSDT": ["4.167", "16.667", "50"],  # 10, 40, 120 × 100 / 240
        "SOLUSDT": ["167", "625", "2083"],  # 400, 1,500, 5,000 × 100 / 240 to whole SOL
    }
    offsets = [D("0.002"), D("0.01"), D("0.04")]
    ladders = {
        s: tuple(Level(o, D(d)) for o, d in zip(offsets, levels, strict=True))
        for s, levels in depth.items()
    }
    assert scenario.liquidity == DepthLadder(ladders, ladders)
    twice = crash(480)
    assert twice.insurance_fund == 500000
    assert isinstance(twice.liquidity, DepthLadder) and isinstance(bundled.liquidity, DepthLadder)
    for symbol, levels in bundled.liquidity.bids.items():
        assert twice.liquidity.bids[symbol] == tuple(Level(v.offset, v.size * 2) for v in levels)
    tiny = crash(1)  # every level at least one lot
    assert isinstance(tiny.liquidity, DepthLadder)
    assert tiny.liquidity.bids["SOLUSDT"][0].size == 2  # 400 / 240 = 1.67
    assert all(v.size > 0 for ladder in tiny.liquidity.bids.values() for v in ladder)


def test_unscaled_keeps_the_bundled_book_and_fund(bundled: Scenario) -> None:
    scenario = crash(1000, scaled=False)
    assert scenario.liquidity == bundled.liquidity
    assert scenario.insurance_fund == 250000
    assert scenario.name == "crash-2025-10-1000x5-unscaled"
    assert crash(1000, insurance_fund=7).insurance_fund == 7


def test_five_steps_are_the_bundled_path_and_more_are_interpolated(bundled: Scenario) -> None:
    """11 steps: the anchors at round(k × 10 / 4) = 0, 3 (2.5 up), 5, 8 (7.5 up), 10; the
    open to -5 % in thirds, -12 % to the low in thirds, the rest in halves."""
    scenario = crash(5, 11)
    assert [s.label for s in scenario.steps] == [
        "open", "t1", "t2", "-5%", "t4", "-12%", "t6", "t7", "low", "t9", "rebound",
    ]  # fmt: skip
    btc = [s.marks["BTCUSDT"] for s in scenario.steps]
    assert btc == [
        D(p)
        for p in (
            "122500", "120458.3", "118416.7",  # 122,500 − 6,125 / 3 × k: 120,458.33, 118,416.67
            "116375.0", "112087.5", "107800.0",
            "106575.0", "105350.0", "104125.0",  # 107,800 − 3,675 / 3 × k
            "107187.5", "110250.0",
        )
    ]  # fmt: skip
    eth = [s.marks["ETHUSDT"] for s in scenario.steps[:4]]
    assert eth == [D(4350), D("4263.00"), D("4176.00"), D("4089.00")]  # 261 / 3 = 87 a step
    sol = [s.marks["SOLUSDT"] for s in scenario.steps[:4]]
    assert sol == [D(220), D("214.133"), D("208.267"), D("202.400")]  # 17.6 / 3 = 5.8666...
    anchors = {s.label: s.marks for s in bundled.steps}
    for step in scenario.steps:
        if step.label in anchors:
            assert step.marks == anchors[step.label]


def test_a_long_path_keeps_the_anchors_and_moves_between_them() -> None:
    scenario = crash(3, 1000)
    at = {s.label: k for k, s in enumerate(scenario.steps) if not s.label.startswith("t")}
    assert at == {"open": 0, "-5%": 250, "-12%": 500, "low": 749, "rebound": 999}
    assert [s.label for s in scenario.steps[1:3]] == ["t1", "t2"]
    for symbol, tick in TICKS.items():
        marks = [s.marks[symbol] for s in scenario.steps]
        assert all(m % tick == 0 for m in marks)
        assert marks[: at["low"] + 1] == sorted(marks[: at["low"] + 1], reverse=True)
        assert marks[at["low"] :] == sorted(marks[at["low"] :])
        # linear: steps of one segment move by the same amount, within one tick
        moves = [marks[k + 1] - marks[k] for k in range(at["-12%"], at["low"])]
        assert max(moves) - min(moves) <= tick


@pytest.mark.parametrize(
    ("steps", "labels"),
    [
        (1, ["open"]),
        (2, ["open", "low"]),
        (3, ["open", "low", "rebound"]),
        (4, ["open", "-12%", "low", "rebound"]),
    ],
)
def test_fewer_than_five_steps_keep_the_anchors_that_matter(
    steps: int, labels: list[str], bundled: Scenario
) -> None:
    scenario = crash(10, steps)
    anchors = {s.label: s.marks for s in bundled.steps}
    assert [s.label for s in scenario.steps] == labels
    assert [s.marks for s in scenario.steps] == [anchors[label] for label in labels]
    assert f"{steps} step" in scenario.description


def test_a_subset_of_symbols(bundled: Scenario) -> None:
    scenario = crash(50, 6, symbols=["SOLUSDT", "ETHUSDT"])
    assert {a.positions[0].symbol for a in scenario.accounts.values()} == {"SOLUSDT", "ETHUSDT"}
    assert scenario.contracts == {"SOLUSDT": "linear", "ETHUSDT": "linear"}
    assert all(set(s.marks) == {"SOLUSDT", "ETHUSDT"} for s in scenario.steps)
    assert isinstance(scenario.liquidity, DepthLadder)
    assert set(scenario.liquidity.bids) == set(scenario.liquidity.asks) == {"SOLUSDT", "ETHUSDT"}
    assert scenario.name == "crash-2025-10-50x6-sol-eth"
    assert "on SOL and ETH; SOL -30 %, ETH -18 % at the low" in scenario.description


def test_names_and_descriptions() -> None:
    assert crash(1000, 5, seed=7).name == "crash-2025-10-1000x5-seed7"
    assert crash(240, 12).name == "crash-2025-10-240x12"
    assert crash(3, name="mine", description="").name == "mine"
    assert crash(3, description="d").description == "d"
    assert crash(1_000, 9).description.startswith(
        "A crash shaped like 10-11 October 2025: 1,000 accounts with mixed leverage"
    )
    assert "9 steps, interpolated through open, -5%, -12%, low and rebound." in (
        crash(2, 9).description
    )


def test_other_seeds_draw_other_accounts(bundled: Scenario) -> None:
    assert crash(seed=1).accounts != bundled.accounts
    assert crash(seed=1) == crash(seed=1)


ACCOUNTS = "crash accounts: expected a positive integer (the number of accounts), got"
STEPS = "crash steps: expected a positive integer (the number of steps of the path), got"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"accounts": 0}, f"{ACCOUNTS} 0"),
        ({"accounts": -5}, f"{ACCOUNTS} -5"),
        ({"accounts": 2.0}, f"{ACCOUNTS} float 2.0"),
        ({"accounts": True}, f"{ACCOUNTS} bool True"),
        ({"steps": 0}, f"{STEPS} 0"),
        ({"steps": "5"}, f"{STEPS} str '5'"),
        (
            {"symbols": "BTCUSDT"},
            "crash symbols: expected a sequence of symbols such as ('BTCUSDT',), "
            "got the string 'BTCUSDT'",
        ),
        ({"symbols": {"BTCUSDT"}}, "crash symbols: expected a sequence of symbols"),
        ({"symbols": []}, "crash symbols: at least one symbol is required"),
        (
            {"symbols": ["BTCUSDT", "XRPUSDT"]},
            "crash symbols[1]: unknown symbol 'XRPUSDT'; the crash prices BTCUSDT, ETHUSDT "
            "and SOLUSDT",
        ),
        ({"symbols": ["ETHUSDT", "ETHUSDT"]}, "crash symbols[1]: 'ETHUSDT' is listed twice"),
        ({"seed": 1.5}, "crash seed: expected an integer, got 1.5"),
        ({"name": ""}, "crash name: expected a non-empty string, got ''"),
        ({"description": 3}, "crash description: expected a string, got 3"),
        ({"insurance_fund": -1}, "crash insurance_fund: must be >= 0, got -1"),
        ({"insurance_fund": 0.5}, "crash insurance_fund: got the float 0.5"),
        ({"scaled": "yes"}, "crash scaled: expected True or False, got 'yes'"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(mc.InvalidInputError) as info:
        crash(**kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_a_generated_crash_reads_back_from_its_toml_and_pickles(tmp_path: Path) -> None:
    scenario = crash(300, 13, seed=5)
    path = tmp_path / "crash.toml"
    path.write_text(scenario.to_toml(), encoding="utf-8")
    assert load_scenario(path) == scenario
    copy = pickle.loads(pickle.dumps(scenario))
    assert copy == scenario
    assert [copy.marks_at(k) for k in range(13)] == [scenario.marks_at(k) for k in range(13)]


def test_a_generated_crash_plays(bundled: Scenario) -> None:
    """A small crash with a long path plays under Binance: the money adds up, and someone at
    up to 75x through a 15 % fall is liquidated."""
    outcome = mc.load_policy("binance-usdm").simulate(crash(40, 12, seed=3))
    assert outcome.ledger.total() == 0
    assert outcome.liquidations
    assert mc.scenarios.crash is crash
