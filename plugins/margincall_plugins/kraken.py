"""Kraken Futures (multi-collateral linear perpetuals): what Kraken does differently from the
default mechanisms.

Shared with the defaults, parameterised in ``policies/kraken-futures.toml``: the margin
schedule (Class A levels) as a tier table, the liquidation price where margin equity meets the
maintenance margin, the bankruptcy (zero-equity) price, the maker/taker fees, and the deficit
stages. Kraken's own rule, here:

* **Equity Protection Process, step 1: liquidation** ["Equity Protection Process",
  https://support.kraken.com/hc/en-us/articles/360022835671-Equity-Protection-Process,
  current page, undated]: when the mark reaches the liquidation price Kraken "submits an IOC
  order at the bankruptcy price", where equity is just above zero, and on a fill better than
  bankruptcy "the client keeps whatever remaining [margin]". margincall sends one
  ``Reduce(..., "ioc", bankruptcy_price)`` for the whole position: the engine settles its
  fills in the trader's wallet, so the surplus stays with the trader. Partial liquidations
  were announced for 26 March 2026 on the same page without their sizes or fees; they are not
  modelled (the IOC is for the whole position, as before that date).
* **Step 2: assignment** [same page; "Example assignment",
  https://support.kraken.com/hc/en-us/articles/360022835231-Example-assignment, KRK-2]:
  "whatever the IOC did not fill" is assigned to the liquidity providers of the Position
  Assignment System "at the 0-equity imputed price": ``assigned = size − liquidated``.
  margincall takes the rest over at its bankruptcy price (``Takeover``); the policy's
  backstop (its ``insurance-fund`` stage) stands for the assignment system.
* **Step 3: unwind**, ADL-style, is the policy's ``adl`` stage; Kraken publishes neither its
  ranking nor its price, so the default ranking and the bankruptcy price apply [derived].

Only the first attempt of a liquidation event sends an IOC: the hook is stateless and cannot
tell which positions of a cross account already had theirs (KRK-2 shows one per contract).
"""

from __future__ import annotations

from collections.abc import Iterable

from margincall import hookimpl
from margincall._compat import Traversable
from margincall.mechanisms.procedure import largest_requirement, takeover
from margincall.waterfall import LiquidationAction, Pool, Reduce
from margincall_plugins import policy_files

POLICIES = ("kraken-futures.toml",)


@hookimpl
def margincall_policy_files() -> Iterable[Traversable]:
    return policy_files(POLICIES)


@hookimpl
def margincall_liquidation_action(pool: Pool, attempt: int) -> LiquidationAction:
    """Attempt 0: an IOC for the whole position limited at its bankruptcy price; afterwards
    (or when the pool has no bankruptcy price) the rest is assigned at the bankruptcy price."""
    target = largest_requirement(pool)
    if attempt == 0 and target.bankruptcy_price is not None:
        return Reduce(target.symbol, target.side, target.size, "ioc", target.bankruptcy_price)
    return takeover(target)
