"""The price solver, under the name plugins import it by: see :mod:`margincall.math.pricing`."""

from margincall.math.pricing import Leg, PriceProblem, PriceSolution, safe_interval, solve

__all__ = ["Leg", "PriceProblem", "PriceSolution", "safe_interval", "solve"]
