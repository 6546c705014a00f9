"""Insurance-fund arithmetic: how much the fund may take over, how much of a position it can
afford, and its history in hours for triggers on a drop.

* **Capacity** [official: Binance "Insurance Fund", binance.com/lv/support/articles/
  360033525371, 2019-09-09]: the fund has "a maximum net notional position check", by default
  100 % of the fund's size; a takeover past it goes to ADL. The notional the fund may still
  take is ``max(0, ratio × balance − |net notional|)`` (unbounded without a ratio).
* **Whole lots within a budget**: the engine's fund takes over (or offloads at a loss) only
  whole lots it can hold (or pay for): ``budget / per contract`` rounded down to the lot.
* **History**: ``(day, balance)`` points as ``(hours before now, balance)``, and the peak
  within a window (OKX: a 30 % drop "from the peak value of the risk reserve within 8
  hours"; Bybit: the pool's "8h max balance"; venues reference §3.7 and §2.9).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from margincall.decimals import ZERO
from margincall.errors import InvalidInputError
from margincall.math.rounding import lots_down

UNBOUNDED = Decimal("Infinity")
"""The capacity of a fund with no net-notional cap."""

HOURS_PER_DAY = Decimal(24)


def takeover_capacity(ratio: Decimal | None, balance: Decimal, net_notional: Decimal) -> Decimal:
    """Further notional a fund of ``balance`` holding ``net_notional`` may take over, under a
    cap of ``ratio × balance``: ``max(0, ratio × balance − |net_notional|)``;
    :data:`UNBOUNDED` when ``ratio`` is None."""
    if ratio is None:
        return UNBOUNDED
    return max(ZERO, ratio * balance - abs(net_notional))


def lots_within(budget: Decimal, per_contract: Decimal, lot: Decimal) -> Decimal:
    """The most contracts, in whole lots, whose cost at ``per_contract`` each (> 0) stays
    within ``budget``: ``budget / per_contract`` rounded down to the lot."""
    return lots_down(budget / per_contract, lot)


def hours_ago(
    history: tuple[tuple[Decimal, Decimal], ...],
) -> tuple[tuple[Decimal, Decimal], ...]:
    """A fund history of ``(day, balance)`` pairs (the last one now) as ``(hours before now,
    balance)`` pairs: ``(now − day) × 24``."""
    now = history[-1][0]
    return tuple(((now - day) * HOURS_PER_DAY, balance) for day, balance in history)


def peak_within(points: Iterable[tuple[Decimal, Decimal]], hours: Decimal) -> Decimal:
    """The highest balance among ``(hours_ago, balance)`` points with ``0 <= hours_ago <=
    hours``; InvalidInputError when none is that recent."""
    inside = [balance for ago, balance in points if ZERO <= ago <= hours]
    if not inside:
        raise InvalidInputError(f"history: no fund balance within the last {hours} hours")
    return max(inside)
