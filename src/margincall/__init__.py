"""margincall: exact, venue-faithful liquidation rules for crypto derivatives.

>>> import margincall as mc
>>> from decimal import Decimal as D
>>> policy = mc.load_policy("binance-usdm")
>>> account = mc.Account(balance=D("500"), positions=[
...     mc.Position(symbol="BTCUSDT", side="long", size=D("0.02"), entry_price=D("50000"))])
>>> round(policy.liquidation_price(account, "BTCUSDT", marks={"BTCUSDT": D("50000")}), 2)
Decimal('25100.40')
"""

from margincall import scenarios
from margincall.account import Account, MarginMode, Position, PositionMode, Side
from margincall.config import PolicySpec, Source
from margincall.errors import InvalidInputError, MargincallError, PluginError, PolicyError
from margincall.health import Health
from margincall.hookspecs import fills_from_the_top, hookimpl
from margincall.liquidity import DepthLadder, Level, MarkFill, NoLiquidity
from margincall.market import Market
from margincall.math.tiers import Tier
from margincall.policy import Policy, PositionRisk, available_policies, load_policy
from margincall.scenario import Scenario, Step, load_scenario

__version__ = "0.1.0"

__all__ = [
    "Account",
    "DepthLadder",
    "Health",
    "InvalidInputError",
    "Level",
    "MarginMode",
    "MargincallError",
    "MarkFill",
    "Market",
    "NoLiquidity",
    "PluginError",
    "Policy",
    "PolicyError",
    "PolicySpec",
    "Position",
    "PositionMode",
    "PositionRisk",
    "Scenario",
    "Side",
    "Source",
    "Step",
    "Tier",
    "__version__",
    "available_policies",
    "fills_from_the_top",
    "hookimpl",
    "load_policy",
    "load_scenario",
    "scenarios",
]
