"""Binance futures: what Binance does differently from the default mechanisms.

Shared with the defaults, parameterised in ``policies/binance-usdm.toml``: tax-bracket tiers,
the liquidation and bankruptcy prices (maintenance margin at the liquidation price, tier
re-selected there), the per-symbol clearance fee, the fund's net-notional cap, and ADL at the
bankruptcy price with no fee. Binance's own rules, here:

* **Procedure** ["Binance Futures Liquidation Protocols", last updated 2024-05-29,
  https://www.binance.com/en/support/faq/360033525271]: cancel open orders, then "one large
  Immediate-or-Cancel order" that reduces the position without closing it, limited at the
  bankruptcy price ("All orders will be issued at the bankruptcy price", 2020 text); if the
  account is compliant after the order and the liquidation fee, liquidation stops; otherwise
  the position is closed at the bankruptcy price and taken over by the insurance fund.
  Binance does not publish the IOC's size: margincall sizes it as the least whole-lot
  reduction that restores compliance at the mark after the fee [derived], which reproduces
  Binance's note that small positions are liquidated whole.
* **ADL ranking** ["What Is Auto-Deleveraging (ADL)", 2019-09-09, copied in the 2020
  Binance help-centre text, https://www.binance.com/en/support/faq/360033525471]::

      Pnl Percent  = max(0, Unrealized Profit) / max(1, Wallet Balance)
      Margin Ratio = 0 if Wallet Balance + Unrealized Profit <= 0
                     else Maintenance Margin / (Wallet Balance + Unrealized Profit)
      Leverage Pnl = Pnl Percent × Margin Ratio

  Unrealized Profit in Pnl Percent is the candidate position's; the margin ratio is its
  pool's (the cross account, or the isolated position).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from margincall import hookimpl
from margincall._compat import Traversable
from margincall.math.adl import profit_margin_ratio_score
from margincall.mechanisms.procedure import largest_requirement, reduction_to_compliance, takeover
from margincall.waterfall import AdlCandidate, LiquidationAction, Pool, Reduce
from margincall_plugins import policy_files

POLICIES = ("binance-usdm.toml", "binance-usdm-chasing.toml", "binance-coinm.toml")


@hookimpl
def margincall_policy_files() -> Iterable[Traversable]:
    return policy_files(POLICIES)


@hookimpl
def margincall_liquidation_action(pool: Pool, attempt: int) -> LiquidationAction:
    target = largest_requirement(pool)
    if attempt == 0 and target.bankruptcy_price is not None:
        size = reduction_to_compliance(pool, target)
        if size is not None:
            return Reduce(target.symbol, target.side, size, "ioc", target.bankruptcy_price)
    return takeover(target)


@hookimpl
def margincall_adl_score(candidate: AdlCandidate) -> Decimal:
    return profit_margin_ratio_score(
        candidate.unrealized_pnl,
        candidate.wallet_balance,
        candidate.account_unrealized_pnl,
        candidate.maintenance_margin,
    )
