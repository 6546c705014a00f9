"""Default debt chasing: a deficit the venue does not cover stays with the trader as a debt
and accrues simple interest at ``[chasing] annual_interest_rate`` over a 365-day year."""

from __future__ import annotations

from decimal import Decimal

from margincall.config import PolicySpec
from margincall.hookspecs import hookimpl

DAYS_PER_YEAR = Decimal(365)


@hookimpl
def margincall_debt_interest(config: PolicySpec, debt: Decimal, days: Decimal) -> Decimal:
    return debt * config.chasing.annual_interest_rate * days / DAYS_PER_YEAR
