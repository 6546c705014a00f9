"""Laws every simulation keeps, over generated scenarios (with deposits, withdrawals and days
passing) and seven policies: Binance's waterfall (insurance fund, then ADL at the bankruptcy
price), the same with ADL at the mark and a maker fee, the same again with an ADL trigger that
always holds (every takeover goes to ADL ahead of the fund), bybit-linear (its drawdown
trigger), chasing with interest (the trader owes the deficit), venue absorption
(negative-balance protection) and OKEx's historical order (insurance fund, then clawback)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import margincall as mc
from margincall import hookimpl
from margincall.registry import GROUP, Registry

D = Decimal
DATA = Path(__file__).parent / "data"
BASE = {"BTCUSDT": D(60000), "ETHUSDT": D(3000)}
ADL_POLICIES = ("fund-adl", "adl-mark-fee", "adl-first", "bybit-linear")


class AlwaysAdlFirst:
    """An ADL trigger that always holds: every takeover goes to ADL before the fund."""

    @hookimpl
    def margincall_adl_trigger(self) -> bool:
        return True


always_adl_first = AlwaysAdlFirst()


@pytest.fixture(scope="module")
def policies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, mc.Policy]:
    venue = tmp_path_factory.mktemp("venue") / "venue.toml"
    venue.write_text(
        'name = "venue-test"\nextends = "binance-usdm"\n[deficit]\nwaterfall = ["venue"]\n'
    )
    adl_mark = venue.parent / "adl-mark.toml"
    adl_mark.write_text(
        'name = "adl-mark"\nextends = "binance-usdm"\n[adl]\nprice = "mark"\nfee = "maker"\n'
    )
    chasing = venue.parent / "chasing.toml"
    chasing.write_text(
        'name = "chasing"\nextends = "binance-usdm-chasing"\n'
        "[chasing]\nannual_interest_rate = 0.1\n"
    )
    first = venue.parent / "adl-first.toml"
    first.write_text(
        'name = "adl-first"\nextends = "binance-usdm"\nplugins = ["binance", "always"]\n'
        '[adl]\nprice = "mark"\nfee = "maker"\n'
    )
    registry = Registry.discover(
        [
            EntryPoint("binance", "margincall_plugins.binance", GROUP),
            EntryPoint("always", f"{__name__}:always_adl_first", GROUP),
        ],
        blocked=frozenset(),
    )
    return {
        "fund-adl": mc.load_policy("binance-usdm"),
        "adl-first": mc.load_policy(first, registry=registry),
        "bybit-linear": mc.load_policy("bybit-linear"),
        "adl-mark-fee": mc.load_policy(adl_mark),
        "chasing": mc.load_policy(chasing),
        "venue": mc.load_policy(venue),
        "fund-clawback": mc.load_policy(DATA / "clawback-test.toml"),
    }


@st.composite
def positions(draw: st.DrawFn, symbol: str) -> mc.Position:
    base = BASE[symbol]
    entry = (base * (1 + draw(st.decimals("-0.05", "0.05", places=3)))).quantize(D("0.01"))
    size = draw(st.decimals("0.001", "20", places=3)) * (60000 / base).quantize(D(1))
    side = draw(st.sampled_from(["long", "short"]))
    if draw(st.booleans()):
        return mc.Position(
            symbol, side, size, entry, "isolated", leverage=draw(st.integers(1, 100))
        )
    return mc.Position(symbol, side, size, entry, "cross")


@st.composite
def scenarios(draw: st.DrawFn) -> mc.Scenario:
    accounts = {}
    for k in range(draw(st.integers(1, 5))):
        symbols = draw(st.lists(st.sampled_from(sorted(BASE)), min_size=1, max_size=2, unique=True))
        held = [draw(positions(s)) for s in symbols]
        balance = draw(st.decimals(0, 100000, places=2))
        accounts[f"acct{k}"] = mc.Account(balance, held)
    steps = [mc.Step("open", dict(BASE))]
    amounts = st.decimals(-5000, 5000, places=2).filter(lambda a: a != 0)
    for n in range(2):
        moves = {s: BASE[s] * (1 + draw(st.decimals("-0.35", "0.35", places=3))) for s in BASE}
        transfers = draw(st.dictionaries(st.sampled_from(sorted(accounts)), amounts, max_size=2))
        steps.append(mc.Step(f"move{n}", moves, D(n + 1), transfers))
    liquidity = draw(
        st.sampled_from(
            [
                mc.NoLiquidity(),
                mc.MarkFill(slippage="0.002", impact="0.0005"),
                mc.DepthLadder(
                    bids={s: [["0.001", 1], ["0.01", 5]] for s in BASE},
                    asks={s: [["0.001", 1], ["0.01", 5]] for s in BASE},
                ),
            ]
        )
    )
    fund = draw(st.decimals(0, 50000, places=2))
    return mc.Scenario(accounts, steps, liquidity, insurance_fund=fund)


@given(scenarios())
def test_every_simulation_keeps_the_laws(
    policies: dict[str, mc.Policy], scenario: mc.Scenario
) -> None:
    for name, policy in policies.items():
        outcome = policy.simulate(scenario)
        # value is conserved exactly: the books sum to zero
        assert outcome.ledger.total() == 0
        # the insurance fund never goes negative
        assert all(balance >= 0 for balance in outcome.fund_path)
        # a liquidation only ever reduces positions
        for key, account in scenario.accounts.items():
            start = {(p.symbol, p.side): p.size for p in account.positions}
            for symbol, side, size in outcome.open_positions[key]:
                assert 0 < size <= start[(symbol, side)]
        for key in scenario.accounts:
            flat = not outcome.open_positions[key]
            if name == "chasing":
                assert outcome.debt(key) >= 0
                if outcome.debt(key) > 0:  # only a liquidated account can owe, its cash is 0
                    assert any(x.account == key for x in outcome.liquidations)
                    assert outcome.balance(key) == 0 or not flat
            else:  # protected: nobody owes, and a flat account's cash is never negative
                assert outcome.debt(key) == 0
                if flat:
                    assert outcome.balance(key) >= 0
        # ADL (ahead of the fund or not): only other accounts' opposite positions, in profit
        # at the fill; never more than what was taken over; never a flat account
        taken: dict[tuple[int, str, str], Decimal] = defaultdict(Decimal)
        for x in outcome.liquidations:
            if x.kind == "takeover":
                taken[(x.step, x.account, x.symbol)] += x.size
        adl: dict[tuple[int, str, str], Decimal] = defaultdict(Decimal)
        for record in outcome.adl:
            assert record.account != record.bankrupt
            (winner,) = [
                p for p in scenario.accounts[record.account].positions if p.symbol == record.symbol
            ]
            (loser,) = [
                p for p in scenario.accounts[record.bankrupt].positions if p.symbol == record.symbol
            ]
            assert winner.side != loser.side
            assert winner.sign * (record.price - winner.entry_price) > 0
            adl[(record.step, record.bankrupt, record.symbol)] += record.size
        for key, size in adl.items():
            assert size <= taken[key]
        if name not in ADL_POLICIES:
            assert outcome.adl == ()
        if name == "adl-first":  # the trigger was asked, and held, at every takeover
            noticed = {(n.step, n.account) for n in outcome.notices if "ADL trigger" in n.text}
            assert {(x.step, x.account) for x in outcome.liquidations if x.kind == "takeover"} <= (
                noticed
            )
        # a clawback never takes more than the deficit it covers, nor from the bankrupt
        clawed = sum((outcome.clawback_paid(k) for k in scenario.accounts), D(0))
        if name != "fund-clawback":
            assert clawed == 0
        # determinism: the same scenario gives the same ledger
        assert policy.simulate(scenario).ledger.events == outcome.ledger.events
