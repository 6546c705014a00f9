"""Default insurance-fund mechanisms: an optional cap on the net notional the fund holds, as a
multiple of its balance (Binance: "a maximum net notional position check", by default 100 %
of the fund's size), and no ADL trigger while the fund can pay. Plus the two helpers a venue's
ADL trigger on a fund drop needs: the fund's history in hours before now, and its peak within
a window."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from margincall.config import PolicySpec
from margincall.decimals import ZERO
from margincall.errors import InvalidInputError
from margincall.hookspecs import hookimpl

UNBOUNDED = Decimal("Infinity")
HOURS_PER_DAY = Decimal(24)


@hookimpl
def margincall_takeover_capacity(
    config: PolicySpec, fund_balance: Decimal, net_notional: Decimal
) -> Decimal:
    ratio = config.insurance_fund.max_net_notional_ratio
    if ratio is None:
        return UNBOUNDED
    return max(ZERO, ratio * fund_balance - abs(net_notional))


@hookimpl
def margincall_adl_trigger() -> bool:
    """Never: ADL starts only for what the fund cannot absorb."""
    return False


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
