"""Default liquidation procedure: no partial reduction; the position with the largest
maintenance margin is taken over whole at its bankruptcy price, one position per step."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from margincall.hookspecs import hookimpl
from margincall.math.rounding import multiples
from margincall.math.tiers import tier_for, tier_index
from margincall.waterfall import Pool, PoolPosition, Takeover


def largest_requirement(pool: Pool) -> PoolPosition:
    """The position with the largest maintenance margin (ties: symbol, then side)."""
    return max(pool.positions, key=lambda p: (p.maintenance_margin, p.symbol, p.side))


def takeover(target: PoolPosition) -> Takeover:
    """Take ``target`` over whole at its bankruptcy price; at its mark when it has none (the
    pool is bankrupt whatever this symbol's price: the deficit goes to the waterfall)."""
    price = target.bankruptcy_price if target.bankruptcy_price is not None else target.mark_price
    return Takeover(target.symbol, target.side, target.size, price)


@hookimpl
def margincall_liquidation_action(pool: Pool) -> Takeover:
    return takeover(largest_requirement(pool))


def _shortfall(pool: Pool, target: PoolPosition, remaining_value: Decimal) -> Decimal:
    """Margin balance minus maintenance margin once ``target`` is cut to ``remaining_value``
    at its mark and the liquidation fee on the closed part is paid."""
    fee = target.market.liquidation_fee_rate * (target.value - remaining_value)
    others = pool.maintenance_margin - target.maintenance_margin
    remaining = tier_for(target.tiers, remaining_value).maintenance_margin(remaining_value)
    return pool.margin_balance - fee - others - remaining


def reduction_to_compliance(pool: Pool, target: PoolPosition) -> Decimal | None:
    """The smallest size, in whole lots, whose close at the mark leaves ``pool`` compliant
    (margin balance above maintenance margin) after the liquidation fee on the closed part;
    None when only closing the whole position would do.

    Closing value ``x`` lowers the requirement by about ``x * rate`` and the balance by the
    fee ``x * fee_rate``, so a partial close helps only where the tier's rate exceeds the fee
    rate; small positions, whose rate is below it, are closed whole (Binance, 2020: such
    traders are "already bankrupt when first entering liquidation").
    """
    market = target.market
    fee_rate = market.liquidation_fee_rate
    base = pool.margin_balance - fee_rate * target.value
    base -= pool.maintenance_margin - target.maintenance_margin
    best: Decimal | None = None  # the largest remaining value that is compliant
    for k in range(tier_index(target.tiers, target.value), -1, -1):
        tier = target.tiers[k]
        top = target.value if k == tier_index(target.tiers, target.value) else tier.max_notional
        # Within this tier: shortfall(w) = base + amount + w * (fee_rate - rate).
        slack = base + tier.maintenance_amount
        if tier.maintenance_margin_rate > fee_rate:
            threshold = slack / (tier.maintenance_margin_rate - fee_rate)
            if threshold > tier.min_notional:
                best = min(top, threshold)
                break
        elif slack + top * (fee_rate - tier.maintenance_margin_rate) > 0 and top < target.value:
            best = top
            break
    if best is None:
        return None
    per_contract = target.value / target.size
    lots = multiples((target.value - best) / per_contract, market.lot_size, ROUND_CEILING)
    for extra in (0, 1):  # the threshold itself is not compliant: one more lot may be needed
        size = (lots + extra) * market.lot_size
        if size >= target.size:
            return None
        if _shortfall(pool, target, target.value - size * per_contract) > 0:
            return size
    return None
