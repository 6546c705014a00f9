"""The conformance suite (margincall.testing.conformance): every built-in policy keeps every
law, and planted bugs are caught with small shrunk counterexamples.

The built-in policies run at ``--margincall-profile`` (default ``ci``: 30 reproducible examples
a law; ``nightly``: 1,000 fresh ones). A planted bug is a venue plugin with one mistake, put
in front of binance-usdm's rules: the law it breaks must fail, name what broke, and shrink to
an example a reader can check by hand.
"""

from __future__ import annotations

from decimal import Decimal
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import margincall as mc
from margincall.registry import GROUP, Registry
from margincall.testing.conformance import LAWS, Law, PoolCase, check_law, verify
from margincall.testing.pytest_plugin import conformance_test

D = Decimal
LAW = {law.name: law for law in LAWS}


@pytest.mark.parametrize("law", LAWS, ids=[law.name for law in LAWS])
@pytest.mark.parametrize("name", mc.available_policies())
def test_every_built_in_policy_keeps_every_law(
    name: str, law: Law, request: pytest.FixtureRequest
) -> None:
    verdict = check_law(
        mc.load_policy(name),
        law,
        profile=request.config.getoption("--margincall-profile"),
        max_examples=request.config.getoption("--margincall-examples"),
    )
    assert verdict.passed, f"{verdict.failure}\n{verdict.counterexample}"


# the one line a policy author writes, here for a variant defined by a TOML file
test_a_variant_file_keeps_every_law = conformance_test(
    Path(__file__).parent / "data" / "clawback-test.toml"
)


def _planted(tmp_path: Path, plugin: str, waterfall: str | None = None) -> mc.Policy:
    registry = Registry.discover(
        [
            EntryPoint("binance", "margincall_plugins.binance", GROUP),
            EntryPoint("planted", f"plugin_samples:{plugin}", GROUP),
        ],
        blocked=frozenset(),
    )
    text = (
        f'name = "planted-{plugin}"\nextends = "binance-usdm"\nplugins = ["binance", "planted"]\n'
    )
    if waterfall is not None:
        text += f"[deficit]\nwaterfall = {waterfall}\n"
    path = tmp_path / f"{plugin}.toml"
    path.write_text(text, encoding="utf-8")
    return mc.load_policy(path, registry=registry)


def test_a_clawback_that_leaks_a_rounding_cent_is_caught(tmp_path: Path) -> None:
    """Shares rounded down to the cent: a deficit below a cent is not collected at all."""
    policy = _planted(tmp_path, "cent_leak", '["insurance-fund", "clawback"]')
    verdict = check_law(policy, LAW["clawback-exact"], max_examples=200)
    assert not verdict.passed
    assert verdict.failure is not None and "not min(deficit, profit)" in verdict.failure
    assert verdict.counterexample is not None
    profits = verdict.counterexample.split("profits ")[1].split(", ")
    assert len(profits) <= 2  # one or two winners


def test_adl_that_deleverages_at_a_loss_is_caught(tmp_path: Path) -> None:
    """A 10 % penalty in the fill price makes a winner close at a loss."""
    policy = _planted(tmp_path, "penalty_fill")
    verdict = check_law(policy, LAW["adl-only-winners"], max_examples=500)
    assert not verdict.passed
    assert verdict.failure is not None and "for a deleveraged trader" in verdict.failure
    assert verdict.counterexample is not None
    assert verdict.counterexample.count("  a") <= 3  # a bankrupt and one or two winners


def test_a_trigger_that_lets_a_protected_balance_go_negative_is_caught(tmp_path: Path) -> None:
    """A trigger that gives up on an account under water: the account ends below zero."""
    policy = _planted(tmp_path, "gives_up_underwater")
    verdict = check_law(policy, LAW["balances-as-promised"], max_examples=200)
    assert not verdict.passed
    assert verdict.failure is not None and "ends with equity -" in verdict.failure
    assert verdict.counterexample is not None
    assert verdict.counterexample.count("  a") == 1  # one account is enough


def test_verify_reports_every_law_and_only_the_broken_one_fails(tmp_path: Path) -> None:
    policy = _planted(tmp_path, "gives_up_underwater")
    verdicts = verify(policy, max_examples=30)
    assert [v.law.name for v in verdicts] == [law.name for law in LAWS]
    failed = {v.law.name for v in verdicts if not v.passed}
    assert "balances-as-promised" in failed
    assert "clawback-exact" not in failed and "determinism" not in failed


def test_verify_on_the_command_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from margincall.cli import main

    assert main(["verify", "binance-usdm", "--examples", "5", "--law", "conservation"]) == 0
    out = capsys.readouterr().out
    assert "PASS  conservation" in out and "1 of 1 laws hold for binance-usdm" in out
    assert main(["verify", "binance-usdm", "--law", "speed"]) == 1
    assert "unknown law speed" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["verify", "binance-usdm", "--examples", "0"])


def test_counterexamples_the_nightly_profile_found_now_hold() -> None:
    """Two laws the nightly profile broke, on edges of the law rather than the policies:

    * BitMEX's step tiers: a short 97.15 ETHUSDT @ 10,000 with 34,002.5 of margin is
      liquidated where its value crosses a risk step, and the requirement jumps there: the
      margin balance at that price lies between the requirements on either side.
    * An inverse short at 1x leverage has no liquidation price; the same margin given
      explicitly (a 50-digit quotient) must not create one, so the law adds it exactly.
    """
    bitmex = mc.load_policy("bitmex")
    short = mc.Position("ETHUSDT", "short", D("97.15"), 10000, "isolated", margin=D("34002.5"))
    account = mc.Account(0, [short])
    LAW["equity-at-liquidation-price"].check(
        bitmex, PoolCase(account, {"ETHUSDT": D(10000)}, short, D(0))
    )
    coinm = mc.load_policy("binance-coinm")
    unlevered = mc.Position("BTCUSD_PERP", "short", 1, 1944, "isolated", leverage=1)
    account = mc.Account(0, [unlevered])
    assert coinm.liquidation_price(account, "BTCUSD_PERP") is None
    LAW["more-margin-never-earlier"].check(
        coinm, PoolCase(account, {"BTCUSD_PERP": D(1944)}, unlevered, D(0))
    )
