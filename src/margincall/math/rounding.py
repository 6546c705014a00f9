"""Lot and tick rounding: sizes to whole lots, prices to whole ticks.

Every function divides by the step, rounds the quotient to an integer with a named rounding
mode of :mod:`decimal`, and (except :func:`multiples`) multiplies back by the step. The
division runs in the caller's context (margincall's own: 50 digits); the rounding mode is
passed explicitly, so the caller's context rounding never applies to it. For a positive step
the result is a multiple of the step, and it lies within one step of the input (on the side
the mode says).

Venues round against the trader or in the insurance fund's favour: Bybit's long bankruptcy
price "rounded up", the short one "rounded down" [official: help.bybit.com/hc/en-us/articles/
360011431853, undated]; dYdX rounds the bankruptcy quote "towards positive infinity" in quote
quantums (venues reference §8.6); Hyperliquid rounds sizes down to the asset's
``szDecimals``.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal


def multiples(amount: Decimal, step: Decimal, rounding: str) -> Decimal:
    """``amount / step`` rounded to an integer with ``rounding`` (``decimal.ROUND_CEILING``,
    ``ROUND_FLOOR``, ``ROUND_DOWN``, ...): how many whole steps (lots, ticks, quantums)."""
    return (amount / step).to_integral_value(rounding)


def to_step(amount: Decimal, step: Decimal, rounding: str) -> Decimal:
    """``amount`` rounded to a multiple of ``step`` with ``rounding``."""
    return multiples(amount, step, rounding) * step


def lots_up(size: Decimal, lot: Decimal) -> Decimal:
    """``size`` rounded up (toward +∞) to whole lots."""
    return to_step(size, lot, ROUND_CEILING)


def lots_down(size: Decimal, lot: Decimal) -> Decimal:
    """``size`` rounded down (toward −∞) to whole lots."""
    return to_step(size, lot, ROUND_FLOOR)


def ticks_up(price: Decimal, tick: Decimal) -> Decimal:
    """``price`` rounded up (toward +∞) to the tick."""
    return to_step(price, tick, ROUND_CEILING)


def ticks_down(price: Decimal, tick: Decimal) -> Decimal:
    """``price`` rounded down (toward −∞) to the tick."""
    return to_step(price, tick, ROUND_FLOOR)
