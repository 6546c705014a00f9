"""How long margincall's figures take, and what resolving hooks once saves.

Run: ``python benchmarks/bench_policy.py`` (after ``pip install .``). Prints microseconds per
call, the best of several repeats. Timings are measurements for this machine, not limits:
no test asserts on them.
"""

from __future__ import annotations

import timeit
from decimal import Decimal as D

import margincall as mc
from margincall.pricing import solve


def best(statement: object, number: int) -> float:
    """Microseconds per call, best of five repeats."""
    return min(timeit.repeat(statement, number=number, repeat=5)) / number * 1e6  # type: ignore[arg-type]


def main() -> None:
    policy = mc.load_policy("binance-usdm")
    symbols = sorted(policy.markets)
    marks = {s: D(100) for s in symbols}
    isolated = mc.Account(0, [mc.Position("BTCUSDT", "long", 10, 70000, "isolated", margin=140000)])
    cross = mc.Account(
        D(50000),
        [mc.Position(s, "long" if i % 2 else "short", 100 + i, 100) for i, s in enumerate(symbols)],
    )
    spec, market = policy.spec, policy.markets["BTCUSDT"]
    problem = policy._problem(isolated, isolated.positions[0], {})
    manager = policy._manager
    rows = [
        (
            "maintenance_margin, one position",
            best(
                lambda: policy.maintenance_margin(isolated, "BTCUSDT", marks={"BTCUSDT": D(69000)}),
                2000,
            ),
        ),
        (
            "liquidation_price, isolated (tier re-selected)",
            best(lambda: policy.liquidation_price(isolated, "BTCUSDT"), 2000),
        ),
        (
            f"liquidation_price, cross with {len(symbols)} positions",
            best(lambda: policy.liquidation_price(cross, "BTCUSDT", marks=marks), 500),
        ),
        (
            f"risk(), cross with {len(symbols)} positions",
            best(lambda: policy.risk(cross, marks=marks), 100),
        ),
        ("pricing.solve alone (12 tiers)", best(lambda: solve(problem, maintenance=True), 2000)),
        (
            "liquidation fee via resolved callable",
            best(lambda: policy._liquidation_fee(spec, market, D(1), D(60000)), 20000),
        ),
        (
            "liquidation fee via pm.hook (not used)",
            best(
                lambda: manager.hook.margincall_liquidation_fee(
                    config=spec, market=market, size=D(1), price=D(60000)
                ),
                20000,
            ),
        ),
    ]
    width = max(len(name) for name, _ in rows)
    for name, micros in rows:
        print(f"{name:<{width}}  {micros:9.2f} µs")


if __name__ == "__main__":
    main()
