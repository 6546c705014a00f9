"""Every bundled scenario through every command under every built-in policy: ``simulate``
(text and ``--json``), ``compare`` (all four formats) and ``explain`` end with a result or a
one-line "cannot play: why", never a traceback. A new scenario or policy is played here
without editing this file; a pair that cannot play must be listed in CANNOT_PLAY (the README
says why each cannot)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

import margincall as mc
from margincall.cli import main
from margincall.compare import compare
from margincall.scenario import bundled_scenarios

SCENARIOS = bundled_scenarios()
POLICIES = mc.available_policies()

COIN_ONLY = ("binance-coinm", "bybit-inverse")  # inverse contracts only: no USDT account
CANNOT_PLAY = {
    **{(s, p): "unknown symbol" for s in SCENARIOS if s != "crash-2025-10-coin" for p in COIN_ONLY},
    # crash-2025-10-coin's BTCUSD is inverse; these list no BTCUSD or a linear one (a CFD)
    **{
        ("crash-2025-10-coin", p): "BTCUSD"
        for p in POLICIES
        if p not in (*COIN_ONLY, "bitmex", "deribit")
    },
}

UNREADABLE = re.compile(r"-0\.0+\b|(?<![\w.])-0(?![\d.,])|\dE[-+]?\d")
"""What no figure shown to a reader may look like: -0.00, -0, 1E-7, 0E-48."""


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("policy", POLICIES)
def test_simulate_text_and_json(
    scenario: str, policy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    reason = CANNOT_PLAY.get((scenario, policy))
    status = main(["simulate", scenario, "--policy", policy])
    out, err = capsys.readouterr()
    if reason is not None:
        assert status == 1 and out == ""
        assert err.count("\n") == 1 and reason in err
        assert err.startswith(f"margincall: {policy} cannot play {scenario}: ")
        return
    assert status == 0, err
    assert err == ""
    assert "The insurance fund:" in out and "Losses beyond the bankrupt accounts'" in out
    assert not UNREADABLE.search(out), UNREADABLE.search(out)
    assert main(["simulate", scenario, "--policy", policy, "--json"]) == 0
    text = capsys.readouterr().out
    data = json.loads(text)
    assert not re.search(r'"-?\d+(\.\d+)?E[-+]?\d+"', text)  # exact, but never an exponent
    assert set(data["accounts"]) == set(mc.load_scenario(scenario).accounts)
    assert {"fund_positions", "fund_equity", "who_pays", "notices"} <= set(data)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_compare_in_every_format(scenario: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", scenario]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "cannot play" not in err
    assert not UNREADABLE.search(out), UNREADABLE.search(out)
    unplayable = sorted(p for s, p in CANNOT_PLAY if s == scenario)
    notes = [line for line in out.splitlines() if " cannot play it: " in line]
    assert [line.split()[0] for line in notes] == unplayable  # once each, as a note
    comparison = compare(mc.load_scenario(scenario))
    assert [s.policy for s in comparison.summaries if s.status == "cannot play"] == unplayable
    assert all(s.status != "failed" for s in comparison.summaries)
    markdown = comparison.to_markdown()
    assert not UNREADABLE.search(markdown)
    assert "Who pays the losses beyond the bankrupt accounts' collateral:" in markdown
    data = json.loads(comparison.to_json())
    assert len(data["summary"]) == len(POLICIES)
    summary = list(csv.DictReader(io.StringIO(comparison.to_csv())))
    assert [r["policy"] for r in summary] == POLICIES
    assert all(r["error"] for r in summary if r["status"] == "cannot play")
    rows = list(csv.DictReader(io.StringIO(comparison.to_csv("accounts"))))
    played = len(POLICIES) - len(unplayable)
    assert len(rows) == played * len(mc.load_scenario(scenario).accounts)
    for name, outcome in comparison.outcomes.items():  # explain, for every account and the fund
        for key in (*outcome.accounts, "insurance-fund"):
            assert outcome.explain(key), (name, key)
