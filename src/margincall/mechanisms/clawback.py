"""Default socialised loss: a clawback pro rata to each account's profit in the period.

OKEx's "societal clawback" [official-copy: OKEx user agreement, 2020; secondary: amorrr.com]:
``rate = deficit / Σ net profits`` of the net-profitable accounts, each paying ``rate × profit``.
When the deficit exceeds total profit, every winner pays its whole profit and the rest is left
for the next stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from margincall.decimals import ZERO, exact_sums
from margincall.hookspecs import hookimpl


@hookimpl
def margincall_clawback(deficit: Decimal, profits: Mapping[str, Decimal]) -> dict[str, Decimal]:
    winners = {key: p for key, p in profits.items() if p > 0}
    total = sum(winners.values(), ZERO)
    if total <= 0 or deficit <= 0:
        return {}
    if deficit >= total:
        return winners
    # The last winner (in key order) takes the division's remainder, so the shares sum to
    # the deficit exactly.
    keys = sorted(winners)
    shares = {key: deficit * winners[key] / total for key in keys[:-1]}
    with exact_sums():  # the remainder is exact, or the shares would miss the deficit
        shares[keys[-1]] = deficit - sum(shares.values(), ZERO)
    return shares
