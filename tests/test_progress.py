"""Progress reports: the engine's after each step, and the command line's progress line."""

from __future__ import annotations

import margincall as mc
from margincall.scenario import load_scenario


def test_simulate_reports_each_step_done() -> None:
    scenario = load_scenario("crash-2025-10")  # five steps
    seen: list[tuple[int, int]] = []
    outcome = mc.load_policy("binance-usdm").simulate(
        scenario, progress=lambda done, total: seen.append((done, total))
    )
    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert outcome == mc.load_policy("binance-usdm").simulate(scenario)
