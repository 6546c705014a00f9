"""margincall's exact figures against plain implementations of the same rule, as ratios.

Run: ``python benchmarks/bench_math.py [--quick | --smoke] [--policy NAME ...] [--rows N]``
(after ``pip install -e '.[test]' numpy``; ``--help`` lists every option). Prints a markdown
report of three parts (issue 12, item 5); every figure is a ratio measured within this run,
the best of several interleaved repeats, so another process slowing the machine slows both
sides alike. Nothing is asserted on time.

(a) **Scalar.** For every built-in policy, one realistic isolated position in its chosen
    market (:data:`MARKETS`); for binance-usdm BTCUSDT, positions in several tiers, long and
    short, one of them liquidated in a lower tier than it was opened in, and for binance-coinm
    an inverse long and short. Each of ``policy.liquidation_price``, ``bankruptcy_price`` and
    ``maintenance_margin`` (at a mark) is timed per call against a *bare-Decimal reference
    implementation of the same rule* written here (:func:`reference_liquidation_price`,
    :func:`reference_bankruptcy_price`, :func:`reference_maintenance_margin`): plain
    ``Decimal`` in the default context, a loop over the policy's tier table as the venue
    documents it (read from the policy once, outside the timing), no margincall call in the
    timed part. Before timing, each reference must give margincall's value to 20 significant
    digits on each position, or the script stops: a wrong reference makes a ratio meaningless.
    Target: margincall ≤ 2× the reference.
(b) **Batch.** For every built-in policy, ``--rows`` (1,000,000) isolated positions from a
    seeded generator spanning every tier of the chosen market, long and short, leverages from
    1 to the tier's maximum (:func:`positions`): ``policy.isolated_risk(...)`` against a
    *plain NumPy kernel of the same rule* (:func:`numpy_risk`: float64, vectorised over rows,
    a loop over the tiers computing each tier's candidate price and keeping the one whose value
    at that price lies in that tier, Binance's "recompute with the level at the liquidation
    price"; the bankruptcy price; the maintenance margin at the mark). A policy whose batch
    falls back row by row (``isolated_risk`` warns) is measured on ``--fallback-rows`` (2,000)
    rows, and its row says so. Target: ≤ 1.5× the kernel.
(c) **Equality.** ``--check-rows`` (100,000) binance-usdm BTCUSDT rows of the same generator:
    every row of ``isolated_risk`` must equal ``float()`` of the exact scalar result for
    ``Decimal(float(x))`` inputs (NaN where the scalar returns None). Reports mismatches per
    column (the target is 0).

Until ``Policy.isolated_risk`` exists, (b) reports the kernel alone and (c) is skipped, each
with a line saying why. ``--quick`` uses smaller sizes (ratios mean the same, noisier);
``--smoke`` tiny ones, to check that the script runs (tests/test_bench_math.py).

Money conventions, as in margincall: an isolated position of ``size`` contracts has exposure
``q = size × contract_size`` (base units for linear contracts, USD face value for inverse
ones); its value at ``P`` is ``q·P`` (linear) or ``q/P`` (inverse, in coin); its margin
balance at ``P`` is ``margin + side·q·(P − E)`` or ``margin + side·q·(1/E − 1/P)``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal
from typing import Any

import margincall as mc

try:
    import numpy as np
except ImportError:  # (b) and (c) need NumPy; (a) does not
    np = None  # type: ignore[assignment]

MARKETS: dict[str, str] = {
    "binance-coinm": "BTCUSD_PERP",
    "binance-usdm": "BTCUSDT",
    "binance-usdm-chasing": "BTCUSDT",
    "bitmex": "XBTUSD",
    "broker-chasing": "BTCUSDT",
    "bybit-inverse": "BTCUSD",
    "bybit-linear": "BTCUSDT",
    "deribit": "BTC-PERPETUAL",
    "dydx-v4": "BTC-USD",
    "esma-retail": "BTCUSD",
    "hyperliquid": "BTC",
    "kraken-futures": "PF_XBTUSD",
    "okex-clawback": "BTC-USDT-SWAP",
    "okx-swap": "BTC-USDT-SWAP",
}
"""The market each policy is measured on: its BTC perpetual."""

NOTES: dict[str, str] = {
    "esma-retail": "ESMA's close-out is per account (CFDs have no isolated mode); "
    "measured as margincall computes one position alone",
}
"""Why a policy's figures need reading with care. No built-in policy is skipped: each
market's figures are defined for an isolated position."""

ZERO = Decimal(0)
ONE = Decimal(1)
UP = Context(rounding=ROUND_CEILING)  # default precision, directed rounding (dYdX)
DOWN = Context(rounding=ROUND_FLOOR)


# --- the rule of each policy, as its venue documents it ------------------------------------


@dataclass(frozen=True)
class Rule:
    """One policy's isolated-margin rule on one market, read from the policy once.

    ``tiers`` holds ``(floor, cap, rate, amount)`` per tier, cap None for the last (values
    above the table stay in it): position values (quote currency, or coin for an inverse
    market), except for OKX, whose tiers count contracts. ``kind`` says how the table gives
    the maintenance margin:

    * ``"value"``: the tier holding the value at the price, ``MM = value × rate − amount``
      (Binance, Kraken, the regimes; BitMEX with the taker rate added to each rate;
      Hyperliquid with ``rate = 1 / (2 × max leverage)`` and the deduction recursion; dYdX
      and Deribit have one tier). ``step``: the whole position takes its tier's rate and the
      amounts are 0 (BitMEX), so the margin equation can jump across zero at an edge.
    * ``"contracts"``: OKX, the tier holding the position's contract count, its rate plus
      the liquidation fee rate, at every value.
    * ``"entry"``: Bybit, MM measured on the value at the entry price, in the tier holding it.

    ``increase`` (Deribit) adds ``coin size × increase`` to the rate, the coin size taken at
    entry; ``tick`` (Bybit) rounds the bankruptcy price up for a long, down for a short;
    ``quantum`` (dYdX) rounds the bankruptcy quote toward +∞ in quote quantums.
    """

    policy: str
    symbol: str
    kind: str
    inverse: bool
    contract_size: Decimal
    tiers: tuple[tuple[Decimal, Decimal | None, Decimal, Decimal], ...]
    max_leverage: tuple[Decimal, ...]
    step: bool = False
    increase: Decimal = ZERO
    tick: Decimal | None = None
    quantum: Decimal | None = None
    reference_price: Decimal = Decimal(60000)
    floats: dict[str, Any] = field(default_factory=dict, compare=False)


def rule_of(policy: mc.Policy, symbol: str | None = None) -> Rule:
    """The rule of ``policy`` on ``symbol`` (default: :data:`MARKETS`), from its TOML table
    and the numbers its plugin reads. Outside any timing."""
    symbol = symbol or MARKETS[policy.name]
    market = policy.market(symbol)
    spec = policy.spec.markets[symbol]
    raw = market.tiers
    caps: list[Decimal | None] = [t.max_notional for t in raw[:-1]] + [None]
    floors = [ZERO] + [t.max_notional for t in raw[:-1]]
    rates = [t.maintenance_margin_rate for t in raw]
    amounts = [t.maintenance_amount for t in raw]
    plugins = set(policy.plugins)
    kind, step, increase, tick, quantum = "value", spec.tier_model == "step", ZERO, None, None
    if "bitmex" in plugins:  # close-out commission: the taker rate on every step
        rates = [r + market.taker_fee_rate for r in rates]
    if "hyperliquid" in plugins:  # MM = half the initial margin at the tier's max leverage
        rates = [ONE / (2 * t.max_leverage) for t in raw]
        amounts = [ZERO]
        for k in range(1, len(raw)):
            amounts.append(amounts[-1] + floors[k] * (rates[k] - rates[k - 1]))
    if "okx" in plugins:  # contract-count tiers; the trigger counts the liquidation fee
        kind = "contracts"
        rates = [r + market.liquidation_fee_rate for r in rates]
    if "deribit" in plugins:
        increase = policy.spec.number("margin_rate_increase", symbol)
    if policy.spec.margin.maintenance_value == "entry":
        kind = "entry"
    if "bybit" in plugins:
        tick = market.tick_size
    if "dydx" in plugins:
        quantum = policy.spec.number("quote_quantum", symbol)
    return Rule(
        policy=policy.name,
        symbol=symbol,
        kind=kind,
        inverse=market.inverse,
        contract_size=market.contract_size,
        tiers=tuple(zip(floors, caps, rates, amounts, strict=True)),
        max_leverage=tuple(t.max_leverage for t in raw),
        step=step,
        increase=increase,
        tick=tick,
        quantum=quantum,
    )


# --- (a) the bare-Decimal reference -----------------------------------------------------------


def _tier(tiers: Sequence[tuple[Decimal, Decimal | None, Decimal, Decimal]], x: Decimal) -> int:
    """Index of the tier holding ``x``: the first whose cap is >= x, else the last."""
    for k, (_, cap, _, _) in enumerate(tiers):
        if cap is None or x <= cap:
            return k
    return len(tiers) - 1  # pragma: no cover (the last cap is None)


def _one_rate(rule: Rule, size: Decimal, entry: Decimal) -> tuple[Decimal, Decimal]:
    """(rate, amount) at every price, for the rules whose tier does not move with the price:
    OKX (tier by contracts), Bybit (MM fixed at the entry value: rate 0, amount −MM)."""
    if rule.kind == "contracts":
        return rule.tiers[_tier(rule.tiers, size)][2], ZERO
    q = size * rule.contract_size
    value = q / entry if rule.inverse else q * entry
    _, _, rate, amount = rule.tiers[_tier(rule.tiers, value)]
    return ZERO, amount - value * rate


def _deribit_rate(rule: Rule, rate: Decimal, q: Decimal, entry: Decimal) -> Decimal:
    """Deribit: base rate + size in coin (at entry for an inverse market) × increase."""
    return rate + (q / entry if rule.inverse else q) * rule.increase


def reference_liquidation_price(
    rule: Rule,
    sign: int,
    size: Decimal,
    entry: Decimal,
    margin: Decimal,
    mark: Decimal | None = None,
) -> Decimal | None:
    """The price at which ``margin + PnL = MM(price)``, in ``u = P`` (linear) or ``u = 1/P``
    (inverse): ``f(u) = margin + σ·q·(u − e) − (q·u·rate − amount)``, ``σ, e = side, E`` or
    ``−side, 1/E``. Per tier, the root ``u = −A/B`` is kept if the value ``q·u`` lies in that
    tier (Binance: "recompute with the level at the liquidation price"). A tax-bracket table
    gives at most one root; a step table can give several, and a jump across zero at an
    edge: the root nearest ``mark`` (default: the entry price) is returned."""
    q = size * rule.contract_size
    inverse = rule.inverse
    sigma = -sign if inverse else sign
    a0 = margin - sigma * (q / entry if inverse else q * entry)
    b0 = sigma * q
    if rule.kind != "value":
        rate, amount = _one_rate(rule, size, entry)
        b = b0 - q * rate
        if not b:
            return None
        u = -(a0 + amount) / b
        if u <= 0:
            return None
        return 1 / u if inverse else u
    found: list[Decimal] = []
    previous: tuple[Decimal, Decimal] | None = None
    for floor, cap, rate, amount in rule.tiers:
        if rule.increase:
            rate = _deribit_rate(rule, rate, q, entry)
        a = a0 + amount
        b = b0 - q * rate
        if b:
            u = -a / b
            value = q * u
            if u > 0 and value >= floor and (cap is None or value <= cap):
                if not rule.step:
                    return 1 / u if inverse else u
                found.append(u)
        if rule.step and previous is not None:  # a jump across zero at the edge ``floor``
            u = floor / q
            below, above = previous[0] + previous[1] * u, a + b * u
            if (below > 0 > above) or (below < 0 < above):
                found.append(u)
        previous = (a, b)
    if not found:
        return None
    prices = [1 / u if inverse else u for u in found]
    near = entry if mark is None else mark
    return min(prices, key=lambda p: (abs(p - near), p))


def reference_bankruptcy_price(
    rule: Rule, sign: int, size: Decimal, entry: Decimal, margin: Decimal
) -> Decimal | None:
    """The price at which ``margin + PnL = 0``; Bybit rounds it to the tick (up for a long,
    down for a short); dYdX rounds the quote received, ``side·q·E − margin``, toward +∞ in
    quantums and divides it by ``q`` rounding the same way."""
    q = size * rule.contract_size
    # margin + side·q·(1/E − 1/P) = 0 (inverse), margin + side·q·(P − E) = 0 (linear), each
    # solved with one division, so that a price on a tick is exact before it is rounded to it
    if rule.inverse:
        below = q + sign * margin * entry
        price = q * entry / below if below > 0 else ZERO
    else:
        price = (sign * q * entry - margin) / (sign * q)
    if price <= 0:
        return None
    if rule.tick is not None:
        steps = (price / rule.tick).to_integral_value(ROUND_CEILING if sign > 0 else ROUND_FLOOR)
        return steps * rule.tick
    if rule.quantum is not None and not rule.inverse:
        received = ((sign * q * entry - margin) / rule.quantum).to_integral_value(ROUND_CEILING)
        price = (UP if sign > 0 else DOWN).divide(sign * received * rule.quantum, q)
        return price if price > 0 else None
    return price


def reference_maintenance_margin(
    rule: Rule, size: Decimal, entry: Decimal, mark: Decimal
) -> Decimal:
    """``value × rate − amount`` in the tier holding the value at ``mark`` (Bybit: at entry;
    OKX: the tier of the contract count, at every value; Deribit: the rate grows with size)."""
    q = size * rule.contract_size
    value = q / mark if rule.inverse else q * mark
    if rule.kind == "contracts":
        return value * rule.tiers[_tier(rule.tiers, size)][2]
    if rule.kind == "entry":
        rate, amount = _one_rate(rule, size, entry)
        return -amount
    _, _, rate, amount = rule.tiers[_tier(rule.tiers, value)]
    if rule.increase:
        rate = _deribit_rate(rule, rate, q, entry)
    return value * rate - amount


# --- (b) the plain NumPy kernel ------------------------------------------------------------


@dataclass
class Risk:
    """What :func:`numpy_risk` returns: float64 arrays, NaN where there is no price."""

    liquidation_price: Any
    bankruptcy_price: Any
    maintenance_margin: Any


def float_tables(rule: Rule) -> dict[str, Any]:
    """The rule's table as float64 arrays (floors, caps with +inf last, rates, amounts)."""
    if not rule.floats:
        rule.floats.update(
            floor=np.array([float(t[0]) for t in rule.tiers]),
            cap=np.array([np.inf if t[1] is None else float(t[1]) for t in rule.tiers]),
            rate=np.array([float(t[2]) for t in rule.tiers]),
            amount=np.array([float(t[3]) for t in rule.tiers]),
        )
    return rule.floats


EDGE = 1e-12
"""Relative slack on a tier's bounds: a root exactly on an edge, computed in float64, may
land a rounding outside both neighbouring tiers."""


def _signs(side: Any) -> Any:
    side = np.asarray(side)
    if side.dtype.kind in "US":
        return np.where(side == "long", 1.0, -1.0)
    return np.sign(side.astype(np.float64))


def numpy_risk(rule: Rule, side: Any, size: Any, entry: Any, margin: Any, mark: Any = None) -> Risk:
    """The rule of :func:`reference_liquidation_price` and friends on float64 arrays."""
    t = float_tables(rule)
    sign = _signs(side)
    size = np.asarray(size, dtype=np.float64)
    entry = np.asarray(entry, dtype=np.float64)
    margin = np.asarray(margin, dtype=np.float64)
    q = size * float(rule.contract_size)
    inverse = rule.inverse
    sigma = -sign if inverse else sign
    e = 1.0 / entry if inverse else entry
    a0 = margin - sigma * q * e
    b0 = sigma * q
    with np.errstate(divide="ignore", invalid="ignore"):
        if rule.kind == "contracts":
            k = np.minimum(np.searchsorted(t["cap"], size, side="left"), len(t["cap"]) - 1)
            u = -a0 / (b0 - q * t["rate"][k])
        elif rule.kind == "entry":
            value = q * e
            k = np.minimum(np.searchsorted(t["cap"], value, side="left"), len(t["cap"]) - 1)
            u = -(a0 - (value * t["rate"][k] - t["amount"][k])) / b0
        elif rule.step:
            u = _step_roots(rule, t, q, a0, b0, entry if mark is None else mark)
        else:
            u = np.full(q.shape, np.nan)
            extra = (q * e if inverse else q) * float(rule.increase) if rule.increase else 0.0
            for floor, cap, rate, amount in zip(
                t["floor"], t["cap"], t["rate"], t["amount"], strict=True
            ):
                root = -(a0 + amount) / (b0 - q * (rate + extra))
                value = q * root
                ok = (value >= floor * (1 - EDGE)) & (value <= cap * (1 + EDGE))
                u = np.where(ok, root, u)
        liquidation = np.where(u > 0, 1.0 / u if inverse else u, np.nan)
        bankrupt = e + margin / (sign * q) if inverse else e - margin / (sign * q)
        bankruptcy = np.where(bankrupt > 0, 1.0 / bankrupt if inverse else bankrupt, np.nan)
        if rule.tick is not None:
            steps = bankruptcy / float(rule.tick)
            nearest = np.round(steps)
            on_tick = np.abs(steps - nearest) <= 1e-9 * np.maximum(1.0, nearest)
            rounded = np.where(sign > 0, np.ceil(steps), np.floor(steps))
            bankruptcy = np.where(on_tick, nearest, rounded) * float(rule.tick)
        if rule.quantum is not None and not inverse:
            quantum = float(rule.quantum)
            received = np.ceil((sign * q * entry - margin) / quantum) * quantum
            bankruptcy = np.where(np.isnan(bankruptcy), np.nan, sign * received / q)
            bankruptcy = np.where(bankruptcy > 0, bankruptcy, np.nan)
    if mark is None:
        maintenance = np.full(q.shape, np.nan)
    else:
        maintenance = _maintenance(rule, t, q, size, e, np.asarray(mark, dtype=np.float64))
    return Risk(liquidation, bankruptcy, maintenance)


def _step_roots(rule: Rule, t: dict[str, Any], q: Any, a0: Any, b0: Any, near: Any) -> Any:
    """Step tables: every tier's in-tier root and every edge where ``f`` jumps across zero;
    the root nearest ``near`` (price), the lower price on a tie."""
    best = np.full(q.shape, np.nan)
    distance = np.full(q.shape, np.inf)
    near = np.asarray(near, dtype=np.float64)

    def consider(u: Any) -> None:
        nonlocal best, distance
        price = 1.0 / u if rule.inverse else u
        d = np.abs(price - near)
        better = (u > 0) & (
            (d < distance) | ((d == distance) & (u > best if rule.inverse else u < best))
        )
        best = np.where(better, u, best)
        distance = np.where(better, d, distance)

    previous = None
    for floor, cap, rate, amount in zip(t["floor"], t["cap"], t["rate"], t["amount"], strict=True):
        a = a0 + amount
        b = b0 - q * rate
        root = -a / b
        value = q * root
        consider(
            np.where((value >= floor * (1 - EDGE)) & (value <= cap * (1 + EDGE)), root, np.nan)
        )
        if previous is not None:
            u = floor / q
            below = previous[0] + previous[1] * u
            above = a + b * u
            consider(np.where(((below > 0) & (above < 0)) | ((below < 0) & (above > 0)), u, np.nan))
        previous = (a, b)
    return best


def _maintenance(rule: Rule, t: dict[str, Any], q: Any, size: Any, e: Any, mark: Any) -> Any:
    value = q / mark if rule.inverse else q * mark
    last = len(t["cap"]) - 1
    if rule.kind == "contracts":
        return value * t["rate"][np.minimum(np.searchsorted(t["cap"], size, side="left"), last)]
    if rule.kind == "entry":
        at_entry = q * e
        k = np.minimum(np.searchsorted(t["cap"], at_entry, side="left"), last)
        return at_entry * t["rate"][k] - t["amount"][k]
    k = np.minimum(np.searchsorted(t["cap"], value, side="left"), last)
    rate = t["rate"][k]
    if rule.increase:
        rate = rate + (q * e if rule.inverse else q) * float(rule.increase)
    return value * rate - t["amount"][k]


# --- positions ---------------------------------------------------------------------------------

TOP_LINEAR = 1e7
"""Largest position value (quote) generated in a last tier that starts at 0 (one-tier markets,
whose cap is the whole market)..."""
TOP_INVERSE = 200.0
"""...and in coin, for an inverse market."""


def positions(rule: Rule, n: int, seed: int = 12) -> dict[str, Any]:
    """``n`` isolated positions on ``rule``'s market, seeded: a tier drawn uniformly (its
    bounds in value, or in contracts for OKX), a value (or contract count) in it, an entry
    around ``reference_price``, long or short, a leverage log-uniform between 1 and the tier's
    maximum, 1 in 20 at exactly 1x (margin = value at entry / leverage), a mark within a few
    % of the entry."""
    rng = np.random.default_rng(seed)
    t = float_tables(rule)
    count = len(t["cap"])
    top = TOP_INVERSE if rule.inverse else TOP_LINEAR
    lows = t["floor"].copy()
    highs = np.where(
        np.isfinite(t["cap"]) & (t["cap"] < 1e3 * max(top, lows[-1] + 1)),
        t["cap"],
        np.where(lows > 0, 2 * lows, top),
    )
    k = rng.integers(0, count, n)
    lo, hi = lows[k], highs[k]
    x = rng.random(n)
    amount = np.where(lo > 0, lo + (hi - lo) * (1 - x), hi * 10.0 ** (-3 * x))
    entry = float(rule.reference_price) * np.exp(rng.normal(0.0, 0.25, n))
    cs = float(rule.contract_size)
    if rule.kind == "contracts":
        size = amount
        value = size * cs * entry
    else:
        value = amount
        size = (value * entry if rule.inverse else value / entry) / cs
    max_leverage = np.array([float(m) for m in rule.max_leverage])[k]
    # 1 in 20 at exactly 1x: a long then has no liquidation price, and its bankruptcy price
    # is 0 up to the rounding of its float inputs (a tiny price or none)
    leverage = np.where(rng.random(n) < 0.05, 1.0, max_leverage ** rng.random(n))
    return {
        "side": np.where(rng.random(n) < 0.5, "long", "short"),
        "size": size,
        "entry_price": entry,
        "margin": value / leverage,
        "mark": entry * np.exp(rng.normal(0.0, 0.03, n)),
    }


# --- timing ------------------------------------------------------------------------------------


def interleaved(functions: Sequence[Callable[[], object]], number: int, repeat: int) -> list[float]:
    """Seconds per call of each function, best of ``repeat`` rounds; each round times every
    function once, in turn, so a slow moment of the machine hits them alike."""
    best = [float("inf")] * len(functions)
    for _ in range(repeat):
        for i, function in enumerate(functions):
            gc.collect()
            gc.disable()
            try:
                start = time.perf_counter()
                for _ in range(number):
                    function()
                elapsed = (time.perf_counter() - start) / number
            finally:
                gc.enable()
            best[i] = min(best[i], elapsed)
    return best


# --- (a) scalar --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One benchmarked isolated position (decimal strings, as a user would write them)."""

    policy: str
    label: str
    side: str
    size: str
    entry: str
    margin: str
    mark: str
    symbol: str = ""


def scalar_cases() -> list[Case]:
    """Realistic isolated positions: for each policy its market's BTC perpetual at 10x or 20x
    (2x under ESMA's cap); binance-usdm BTCUSDT in tiers 1 to 5, long and short, one
    liquidated a tier below its entry; binance-coinm's inverse BTCUSD_PERP long and short."""
    usdm = [
        Case(
            "binance-usdm",
            "long 0.5 @ 68,000 20x (tier 1)",
            "long",
            "0.5",
            "68000",
            "1700",
            "67000",
        ),
        Case(
            "binance-usdm",
            "long 0.74 @ 70,000 10x (tier 2, liq in 1)",
            "long",
            "0.74",
            "70000",
            "5180",
            "69000",
        ),
        Case(
            "binance-usdm", "short 5 @ 70,000 10x (tier 2)", "short", "5", "70000", "35000", "71000"
        ),
        Case(
            "binance-usdm", "long 30 @ 70,000 5x (tier 3)", "long", "30", "70000", "420000", "69000"
        ),
        Case(
            "binance-usdm",
            "short 100 @ 70,000 8x (tier 4)",
            "short",
            "100",
            "70000",
            "875000",
            "70500",
        ),
        Case(
            "binance-usdm",
            "long 500 @ 70,000 3x (tier 5)",
            "long",
            "500",
            "70000",
            "11666666.67",
            "69000",
        ),
    ]
    return [
        *usdm,
        Case(
            "binance-coinm", "long 100 @ 60,000 20x", "long", "100", "60000", "0.00833334", "59000"
        ),
        Case(
            "binance-coinm",
            "short 3,000 @ 60,000 10x (tier 3)",
            "short",
            "3000",
            "60000",
            "0.5",
            "61000",
        ),
        Case("binance-usdm-chasing", "long 2 @ 70,000 10x", "long", "2", "70000", "14000", "69000"),
        Case(
            "bitmex", "long 100,000 @ 60,000 10x", "long", "100000", "60000", "0.16666667", "59000"
        ),
        Case("broker-chasing", "short 2 @ 70,000 10x", "short", "2", "70000", "14000", "71000"),
        Case(
            "bybit-inverse",
            "short 50,000 @ 60,000 20x",
            "short",
            "50000",
            "60000",
            "0.04166667",
            "61000",
        ),
        Case("bybit-linear", "long 2 @ 70,000 20x", "long", "2", "70000", "7000", "69000"),
        Case(
            "deribit", "long 10,000 @ 60,000 10x", "long", "10000", "60000", "0.16666667", "59000"
        ),
        Case("dydx-v4", "long 2 @ 70,000 20x", "long", "2", "70000", "7000", "69000"),
        Case("esma-retail", "long 1 @ 60,000 2x", "long", "1", "60000", "30000", "59000"),
        Case("hyperliquid", "long 2 @ 70,000 20x", "long", "2", "70000", "7000", "69000"),
        Case("kraken-futures", "short 2 @ 70,000 20x", "short", "2", "70000", "7000", "71000"),
        Case(
            "okex-clawback",
            "short 1,000 @ 70,000 20x (tier 2)",
            "short",
            "1000",
            "70000",
            "35000",
            "71000",
        ),
        Case("okx-swap", "long 200 @ 70,000 10x", "long", "200", "70000", "14000", "69000"),
    ]


def agree(ours: Decimal | None, theirs: Decimal | None, digits: int = 20) -> bool:
    """Whether two results agree to ``digits`` significant digits (both None, or within one
    unit of the ``digits``-th significant digit of margincall's)."""
    if ours is None or theirs is None:
        return ours is None and theirs is None
    if theirs == 0:
        return ours == 0
    wide = Context(prec=100)
    unit = wide.power(10, theirs.adjusted() - digits + 1)
    return wide.abs(wide.subtract(ours, theirs)) <= unit


class ReferenceMismatch(SystemExit):
    """A reference disagrees with margincall: the ratio would compare different rules."""


Figure = tuple[str, Callable[[], object], Callable[[], object]]


def case_figures(case: Case) -> tuple[str, list[Figure]]:
    """The market and, per figure, the margincall call and the reference call of ``case``
    (the account and the reference's table built here, outside any timing)."""
    policy = mc.load_policy(case.policy)
    rule = rule_of(policy, case.symbol or None)
    symbol = rule.symbol
    sign = 1 if case.side == "long" else -1
    size, entry = Decimal(case.size), Decimal(case.entry)
    margin, mark = Decimal(case.margin), Decimal(case.mark)
    account = mc.Account(
        0, [mc.Position(symbol, case.side, size, entry, "isolated", margin=margin)]
    )
    marks = {symbol: mark}
    return symbol, [
        (
            "liquidation_price",
            lambda: policy.liquidation_price(account, symbol),
            lambda: reference_liquidation_price(rule, sign, size, entry, margin),
        ),
        (
            "bankruptcy_price",
            lambda: policy.bankruptcy_price(account, symbol),
            lambda: reference_bankruptcy_price(rule, sign, size, entry, margin),
        ),
        (
            "maintenance_margin",
            lambda: policy.maintenance_margin(account, symbol, marks=marks),
            lambda: reference_maintenance_margin(rule, size, entry, mark),
        ),
    ]


def check_reference(case: Case, figure: str, theirs: object, ours: object) -> None:
    """Stop the run unless the reference gives margincall's value to 20 digits."""
    if not agree(ours, theirs):  # type: ignore[arg-type]
        raise ReferenceMismatch(
            f"bench_math: the bare-Decimal reference of {case.policy} {figure} gives {ours} "
            f"for {case.label}, margincall {theirs}: fix the reference (or margincall) first; "
            "a ratio against a different rule means nothing"
        )


def scalar_part(names: Sequence[str], number: int, repeat: int) -> list[list[str]]:
    rows: list[list[str]] = []
    for case in scalar_cases():
        if case.policy not in names:
            continue
        symbol, figures = case_figures(case)
        for figure, theirs, ours in figures:
            check_reference(case, figure, theirs(), ours())
        for figure, theirs, ours in figures:
            mc_time, ref_time = interleaved([theirs, ours], number, repeat)
            rows.append(
                [
                    case.policy,
                    symbol,
                    case.label,
                    figure,
                    f"{mc_time * 1e6:.2f}",
                    f"{ref_time * 1e6:.2f}",
                    f"{mc_time / ref_time:.2f}",
                ]
            )
    return rows


# --- (b) batch ---------------------------------------------------------------------------------


def has_batch() -> bool:
    return hasattr(mc.Policy, "isolated_risk")


def call_batch(policy: mc.Policy, symbol: str, data: dict[str, Any]) -> Any:
    return policy.isolated_risk(  # type: ignore[attr-defined]
        symbol,
        side=data["side"],
        size=data["size"],
        entry_price=data["entry_price"],
        margin=data["margin"],
        mark=data["mark"],
    )


def call_kernel(rule: Rule, data: dict[str, Any]) -> Risk:
    return numpy_risk(
        rule, data["side"], data["size"], data["entry_price"], data["margin"], data["mark"]
    )


def head(data: dict[str, Any], n: int) -> dict[str, Any]:
    return {key: column[:n] for key, column in data.items()}


def falls_back(policy: mc.Policy, symbol: str, data: dict[str, Any]) -> str | None:
    """The warning ``isolated_risk`` gives on a few rows (it falls back row by row), or None."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call_batch(policy, symbol, head(data, 64))
    return str(caught[0].message).splitlines()[0] if caught else None


def batch_row(name: str, rows: int, fallback_rows: int, repeat: int, seed: int) -> list[str]:
    """One policy's row of (b): rows, isolated_risk s, kernel s, ratio, exact rows, note."""
    policy = mc.load_policy(name)
    rule = rule_of(policy)
    data = positions(rule, rows, seed)
    notes = [NOTES.get(name, "")]
    n = rows
    functions: list[Callable[[], object]] = [lambda: call_kernel(rule, data)]
    exact = "--"
    if has_batch():
        try:
            warned = falls_back(policy, rule.symbol, data)
            if warned is not None:
                n = min(rows, fallback_rows)
                data = head(data, n)
                notes.insert(0, f"row-by-row fallback, {n:,} rows: {warned}")
            exact = f"{len(call_batch(policy, rule.symbol, data).exact_rows):,}"
            functions.append(lambda: call_batch(policy, rule.symbol, data))
        except Exception as error:  # a broken batch is reported, not fatal
            notes.insert(0, f"isolated_risk failed: {error!r}"[:200])
    times = interleaved(functions, 1, repeat)
    kernel = times[0]
    ours, ratio = (
        ("--", "--") if len(times) == 1 else (f"{times[1]:.4f}", f"{times[1] / kernel:.2f}")
    )
    note = "; ".join(filter(None, notes)).replace("|", "/")
    return [name, rule.symbol, f"{n:,}", ours, f"{kernel:.4f}", ratio, exact, note]


def batch_part(
    names: Sequence[str], rows: int, fallback_rows: int, repeat: int, seed: int
) -> tuple[list[list[str]], str | None]:
    skipped = (
        None
        if has_batch()
        else "margincall.Policy has no isolated_risk yet: the NumPy kernel alone is timed"
    )
    return [batch_row(name, rows, fallback_rows, repeat, seed) for name in names], skipped


# --- (c) equality ------------------------------------------------------------------------------


COLUMNS = ("liquidation_price", "bankruptcy_price", "maintenance_margin")


def scalar_row(policy: mc.Policy, symbol: str, data: dict[str, Any], i: int) -> list[float]:
    """The exact scalar figures of row ``i`` for ``Decimal(float(x))`` inputs, as float64 (NaN
    for None)."""
    position = mc.Position(
        symbol,
        str(data["side"][i]),
        Decimal(float(data["size"][i])),
        Decimal(float(data["entry_price"][i])),
        "isolated",
        margin=Decimal(float(data["margin"][i])),
    )
    account = mc.Account(0, [position])
    marks = {symbol: Decimal(float(data["mark"][i]))}
    figures = (
        policy.liquidation_price(account, symbol),
        policy.bankruptcy_price(account, symbol),
        policy.maintenance_margin(account, symbol, marks=marks),
    )
    return [float("nan") if f is None else float(f) for f in figures]


def same(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


def check_rows(
    policy: mc.Policy, symbol: str, data: dict[str, Any], risk: Any
) -> tuple[dict[str, int], list[str]]:
    """Mismatches per column between ``risk`` (the batch) and the exact scalar path, row by
    row, and the first few mismatching rows described. A row whose scalar call raises counts
    as a mismatch in every column."""
    counts = dict.fromkeys(COLUMNS, 0)
    examples: list[str] = []
    batch = [np.asarray(getattr(risk, column), dtype=np.float64) for column in COLUMNS]
    for i in range(len(data["size"])):
        try:
            exact = scalar_row(policy, symbol, data, i)
        except mc.MargincallError as error:
            exact = [float("inf")] * 3  # never equal to a batch value
            reason = f"scalar raised {error}"
        else:
            reason = ""
        for column, got, want in zip(COLUMNS, (b[i] for b in batch), exact, strict=True):
            if not same(float(got), want):
                counts[column] += 1
                if len(examples) < 5:
                    inputs = ", ".join(f"{k}={data[k][i]!r}" for k in data)
                    examples.append(
                        f"row {i} ({inputs}): {column} batch {float(got)!r}, exact "
                        f"{reason or repr(want)}"
                    )
    return counts, examples


def equality_part(rows: int, seed: int) -> tuple[list[list[str]], list[str], str | None]:
    if not has_batch():
        return [], [], "margincall.Policy has no isolated_risk yet: nothing to check"
    policy = mc.load_policy("binance-usdm")
    rule = rule_of(policy, "BTCUSDT")
    data = positions(rule, rows, seed + 1)
    risk = call_batch(policy, "BTCUSDT", data)
    counts, examples = check_rows(policy, "BTCUSDT", data, risk)
    table = [["binance-usdm", "BTCUSDT", f"{rows:,}", *(f"{counts[c]:,}" for c in COLUMNS)]]
    return table, examples, None


# --- the report --------------------------------------------------------------------------------


SIZES = {
    # scalar calls per round, rounds, batch rows, fallback rows, batch rounds, check rows
    "full": (2000, 7, 1_000_000, 2_000, 5, 100_000),
    "quick": (500, 5, 100_000, 500, 3, 10_000),
    "smoke": (2, 1, 200, 20, 1, 50),
}


def markdown(header: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="bench_math.py",
        description="margincall's exact scalar figures and batch risk against plain "
        "Decimal and NumPy implementations of the same rules, as ratios within one run",
    )
    sizes = top.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_true", help="smaller sizes, for development")
    sizes.add_argument("--smoke", action="store_true", help="tiny sizes: check the script runs")
    top.add_argument(
        "--policy",
        action="append",
        choices=sorted(MARKETS),
        metavar="NAME",
        help="measure only this built-in policy (repeatable; default: all)",
    )
    top.add_argument("--rows", type=int, help="batch rows per policy (default 1,000,000)")
    top.add_argument("--fallback-rows", type=int, help="rows for a row-by-row batch (2,000)")
    top.add_argument("--check-rows", type=int, help="rows of the equality check (100,000)")
    top.add_argument("--parts", default="abc", help="which parts to run (letters of abc)")
    top.add_argument("--seed", type=int, default=12, help="the position generator's seed")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not set(args.parts) <= set("abc") or not args.parts:
        parser().error(f"--parts: expected letters of abc, got {args.parts!r}")
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    number, repeat, rows, fallback, batch_repeat, check = SIZES[mode]
    rows = args.rows or rows
    fallback = args.fallback_rows or fallback
    check = args.check_rows or check
    names = args.policy or list(MARKETS)
    out = [
        "# margincall against plain implementations of the same rules",
        "",
        f"sizes: {mode}; Python {sys.version.split()[0]}; margincall {mc.__version__}"
        + (f"; NumPy {np.__version__}" if np is not None else "; no NumPy"),
        "Ratios are margincall / reference, each side the best of its interleaved repeats.",
    ]
    if "a" in args.parts:
        body = scalar_part(names, number, repeat)
        out += [
            "",
            f"## (a) scalar, µs per call (best of {repeat} × {number}); target ratio ≤ 2",
            "",
            markdown(
                [
                    "policy",
                    "market",
                    "position",
                    "figure",
                    "margincall µs",
                    "reference µs",
                    "ratio",
                ],
                body,
            ),
        ]
    if ("b" in args.parts or "c" in args.parts) and np is None:
        out += ["", "## (b), (c): skipped: NumPy is not installed"]
        args.parts = args.parts.replace("b", "").replace("c", "")
    if "b" in args.parts:
        body, skipped = batch_part(names, rows, fallback, batch_repeat, args.seed)
        out += [
            "",
            f"## (b) batch, seconds per call (best of {batch_repeat}); target ratio ≤ 1.5",
            "",
        ]
        if skipped:
            out += [f"isolated_risk: skipped: {skipped}.", ""]
        out.append(
            markdown(
                [
                    "policy",
                    "market",
                    "rows",
                    "isolated_risk s",
                    "NumPy kernel s",
                    "ratio",
                    "exact rows",
                    "note",
                ],
                body,
            )
        )
    if "c" in args.parts:
        body, examples, skipped = equality_part(check, args.seed)
        out += ["", "## (c) isolated_risk == exact scalar path, mismatching rows (target 0)", ""]
        if skipped:
            out.append(f"skipped: {skipped}.")
        else:
            out.append(markdown(["policy", "market", "rows", *COLUMNS], body))
            out += [f"- {line}" for line in examples]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
