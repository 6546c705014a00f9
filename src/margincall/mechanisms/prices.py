"""Default liquidation and bankruptcy prices: the exact roots of the margin equation
(:mod:`margincall.math.pricing`), maintenance margin measured at the price itself."""

from __future__ import annotations

from margincall.hookspecs import hookimpl
from margincall.math.pricing import PriceProblem, PriceSolution, solve


@hookimpl
def margincall_liquidation_price(problem: PriceProblem) -> PriceSolution:
    return solve(problem, maintenance=True)


@hookimpl
def margincall_bankruptcy_price(problem: PriceProblem) -> PriceSolution:
    return solve(problem, maintenance=False)
