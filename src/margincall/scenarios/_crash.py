"""The October-2025 crash at any size: :func:`crash`.

The bundled ``crash-2025-10`` is ``crash()`` with its defaults (240 accounts, 5 steps, seed
20251010), written by ``tools/make_crash_scenario.py`` with ``Scenario.to_toml()``. The tool
also derives ``crash-2025-10-coin`` from the same draws (:func:`draw_accounts`), so both files
come from the one set of rules here.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import NamedTuple

from margincall.account import Account, MarginMode, Position, PositionMode, Side
from margincall.decimals import CONTEXT, ONE, non_negative
from margincall.errors import InvalidInputError
from margincall.liquidity import DepthLadder, Level
from margincall.scenario import Scenario, Step

SEED = 20251010
"""The seed of the bundled crash."""
ACCOUNTS = 240
"""The bundled crash's number of accounts: the size the book depth and the fund are given for."""
OPEN = {"BTCUSDT": Decimal("122500"), "ETHUSDT": Decimal("4350"), "SOLUSDT": Decimal("220")}
"""The opening marks, in USDT."""
MOVES: tuple[tuple[str, dict[str, str]], ...] = (
    ("-5%", {"BTCUSDT": "-0.05", "ETHUSDT": "-0.06", "SOLUSDT": "-0.08"}),
    ("-12%", {"BTCUSDT": "-0.12", "ETHUSDT": "-0.14", "SOLUSDT": "-0.20"}),
    ("low", {"BTCUSDT": "-0.15", "ETHUSDT": "-0.18", "SOLUSDT": "-0.30"}),
    ("rebound", {"BTCUSDT": "-0.10", "ETHUSDT": "-0.12", "SOLUSDT": "-0.20"}),
)
"""The steps after the open: their labels and each mark's move from the open."""
TICKS = {"BTCUSDT": Decimal("0.1"), "ETHUSDT": Decimal("0.01"), "SOLUSDT": Decimal("0.001")}
LOTS = {"BTCUSDT": Decimal("0.001"), "ETHUSDT": Decimal("0.001"), "SOLUSDT": Decimal("1")}
DEPTH = {
    "BTCUSDT": ("0.5", "2", "6"),
    "ETHUSDT": ("10", "40", "120"),
    "SOLUSDT": ("400", "1500", "5000"),
}
"""Book depth per level for 240 accounts, in contracts: thin, as on the night."""
OFFSETS = ("0.002", "0.01", "0.04")
"""The levels' distances from the mark."""
FUND = Decimal(250000)
"""The insurance fund for 240 accounts, in USDT."""
SYMBOLS = tuple(OPEN)
LEVERAGES = (2, 3, 5, 10, 20, 25, 50, 75)
NOTIONALS = (2_000, 5_000, 20_000, 50_000, 200_000)
"""Notional values at entry, in USDT: each a multiple of 100 (the coin file's face value)."""

_DRAWS = Context(
    prec=28, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)
"""The arithmetic of the draws: Python's default decimal context, which the bundled file was
first generated under, named here so that a caller's own context changes nothing."""

_PRIORITY = (0, 3, 4, 2, 1)
"""Which anchors a path of fewer than five steps keeps: the open, the low, the rebound, the
-12 % and the -5 %, in that order (then played in path order)."""


class Draw(NamedTuple):
    """One account's random draws and what follows from them, in USDT: ``notional`` is the
    value at entry drawn, ``size`` it in contracts at ``entry`` (rounded to the lot, at least
    one), ``balance`` the cross wallet (the initial margin at ``leverage``; 0 when
    ``isolated``, where the position holds that margin)."""

    id: str
    symbol: str
    side: Side
    leverage: int
    notional: Decimal
    entry: Decimal
    size: Decimal
    isolated: bool
    balance: Decimal


def draw_accounts(accounts: int, symbols: Sequence[str], seed: int) -> list[Draw]:
    """The crash's accounts as drawn, in order, from ``random.Random(seed)``: per account a
    symbol (uniform over ``symbols``), the side (70 % long), the leverage and the notional
    (uniform over :data:`LEVERAGES` and :data:`NOTIONALS`), the entry (the open ±2 %, uniform,
    to the tick) and the margin mode (half isolated). Arguments are :func:`crash`'s, checked."""
    rng = random.Random(seed)
    choices = list(symbols)
    width = max(3, len(str(accounts - 1)))
    drawn = []
    with localcontext(_DRAWS):
        for n in range(accounts):
            symbol = rng.choice(choices)
            side: Side = "long" if rng.random() < 0.7 else "short"  # the crowd was long
            leverage = rng.choice(LEVERAGES)
            notional = Decimal(rng.choice(NOTIONALS))
            # the float draw, exactly as the bundled file was generated
            entry = (OPEN[symbol] * Decimal(1 + rng.uniform(-0.02, 0.02))).quantize(TICKS[symbol])
            size = (notional / entry).quantize(LOTS[symbol]) or LOTS[symbol]
            isolated = rng.random() < 0.5
            balance = Decimal(0) if isolated else (notional / leverage).quantize(ONE)
            drawn.append(
                Draw(
                    f"a{n:0{width}d}",
                    symbol,
                    side,
                    leverage,
                    notional,
                    entry,
                    size,
                    isolated,
                    balance,
                )
            )
    return drawn


def _plain(value: Decimal) -> Decimal:
    """``value`` without trailing zeros after the point (``0.500`` is ``0.5``; ``250000.00``
    is ``250000``, not ``2.5E+5``)."""
    reduced = value.normalize(CONTEXT)
    exponent = reduced.as_tuple().exponent
    return reduced.quantize(ONE, context=CONTEXT) if int(exponent) > 0 else reduced


def _scaled(value: Decimal, accounts: int, step: Decimal) -> Decimal:
    """``value`` × accounts / 240, to a whole number of ``step`` (half-even), at least one."""
    with localcontext(_DRAWS):
        steps = (value * accounts / ACCOUNTS / step).to_integral_value(ROUND_HALF_EVEN)
        return _plain(max(steps, ONE) * step)


def anchor_marks(symbols: Sequence[str]) -> list[tuple[str, dict[str, Decimal]]]:
    """The bundled path: the open and each move's marks, to the tick (labels and marks)."""
    with localcontext(_DRAWS):
        path = [("open", {s: OPEN[s] for s in symbols})]
        for label, moves in MOVES:
            marks = {s: (OPEN[s] * (1 + Decimal(moves[s]))).quantize(TICKS[s]) for s in symbols}
            path.append((label, marks))
    return path


def _path(steps: int, symbols: Sequence[str]) -> list[Step]:
    """``steps`` steps through the bundled anchors (see :func:`crash`)."""
    anchors = anchor_marks(symbols)
    if steps <= len(anchors):
        kept = sorted(_PRIORITY[:steps])
        return [Step(anchors[k][0], anchors[k][1]) for k in kept]
    last = len(anchors) - 1
    # anchor k at step round(k × (steps − 1) / 4), halves up: 0, ..., steps − 1
    at = [(2 * k * (steps - 1) + last) // (2 * last) for k in range(len(anchors))]
    path = []
    with localcontext(_DRAWS):
        for k in range(last):
            (label, start), (_, end) = anchors[k], anchors[k + 1]
            path.append(Step(label, start))
            span = at[k + 1] - at[k]
            for i in range(at[k] + 1, at[k + 1]):
                marks = {
                    s: (start[s] + (end[s] - start[s]) * (i - at[k]) / span).quantize(TICKS[s])
                    for s in symbols
                }
                path.append(Step(f"t{i}", marks))
    path.append(Step(*anchors[last]))
    return path


def _checked_symbols(symbols: object) -> tuple[str, ...]:
    known = f"{', '.join(SYMBOLS[:-1])} and {SYMBOLS[-1]}"
    if isinstance(symbols, str):
        raise InvalidInputError(
            f"crash symbols: expected a sequence of symbols such as ({symbols!r},), got the "
            f"string {symbols!r}"
        )
    if not isinstance(symbols, Sequence):
        raise InvalidInputError(
            f"crash symbols: expected a sequence of symbols (of {known}), "
            f"got {type(symbols).__name__} {symbols!r}"
        )
    chosen = tuple(symbols)
    if not chosen:
        raise InvalidInputError(f"crash symbols: at least one symbol is required (of {known})")
    for k, symbol in enumerate(chosen):
        if symbol not in OPEN:
            raise InvalidInputError(
                f"crash symbols[{k}]: unknown symbol {symbol!r}; the crash prices {known}"
            )
        if symbol in chosen[:k]:
            raise InvalidInputError(f"crash symbols[{k}]: {symbol!r} is listed twice")
    return chosen


def _count(value: object, what: str, meaning: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(
            f"crash {what}: expected a positive integer ({meaning}), "
            f"got {type(value).__name__} {value!r}"
        )
    if value < 1:
        raise InvalidInputError(
            f"crash {what}: expected a positive integer ({meaning}), got {value}"
        )
    return value


def _words(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _name(accounts: int, steps: int, symbols: tuple[str, ...], seed: int, scaled: bool) -> str:
    name = "crash-2025-10"
    if (accounts, steps) != (ACCOUNTS, len(MOVES) + 1):
        name += f"-{accounts}x{steps}"
    if symbols != SYMBOLS:
        name += "-" + "-".join(s.removesuffix("USDT").lower() for s in symbols)
    if seed != SEED:
        name += f"-seed{seed}"
    return name if scaled else f"{name}-unscaled"


def _description(accounts: int, path: list[Step], symbols: tuple[str, ...], scaled: bool) -> str:
    coins = [s.removesuffix("USDT") for s in symbols]
    low = dict(MOVES)["low"]
    falls = ", ".join(
        f"{c} {Decimal(low[s]) * 100:.0f} %" for c, s in zip(coins, symbols, strict=True)
    )
    text = (
        f"A crash shaped like 10-11 October 2025: {accounts:,} account"
        f"{'' if accounts == 1 else 's'} with mixed leverage on {_words(coins)}; "
        f"{falls} at the low, thin books."
    )
    labels = [s.label for s in path]
    if len(path) > len(MOVES) + 1:
        anchors = ["open", *dict(MOVES)]
        text += f" {len(path)} steps, interpolated through {_words(anchors)}."
    elif len(path) < len(MOVES) + 1:
        text += f" {len(path)} step{'' if len(path) == 1 else 's'}: {_words(labels)}."
    if not scaled:
        text += f" Book depth and insurance fund as for {ACCOUNTS} accounts (unscaled)."
    return text


def crash(
    accounts: int = ACCOUNTS,
    steps: int = len(MOVES) + 1,
    *,
    symbols: Sequence[str] = SYMBOLS,
    seed: int = SEED,
    name: str | None = None,
    description: str | None = None,
    insurance_fund: Decimal | int | str | None = None,
    scaled: bool = True,
) -> Scenario:
    """A crash shaped like 10-11 October 2025, of ``accounts`` accounts and ``steps`` steps,
    built in memory (no file). ``crash()`` is the bundled ``crash-2025-10`` exactly.

    **Accounts** (:func:`draw_accounts`): each holds one position on a symbol drawn from
    ``symbols`` (of BTCUSDT, ETHUSDT and SOLUSDT), 70 % long, at 2x to 75x, of 2,000 to
    200,000 USDT notional, entered within ±2 % of the open (to the tick; the size to the
    lot), half isolated (margin = value at entry / leverage, wallet 0), half cross (wallet =
    notional / leverage, to 1 USDT). Ids are ``a000``, ``a001``, ... (wider above 1,000
    accounts). The draws come from ``random.Random(seed)`` in the bundled generator's order,
    so a scenario's first accounts are the same at every size.

    **Book and fund**: with ``scaled`` (the default), the depth of each level is the bundled
    one (BTC 0.5, 2, 6; ETH 10, 40, 120; SOL 400, 1,500, 5,000 contracts at 0.2 %, 1 % and 4 %
    from the mark) × ``accounts`` / 240, rounded half-even to the symbol's lot (at least one
    lot), and the insurance fund 250,000 USDT × ``accounts`` / 240 to the cent, so the crash
    has the same shape at any size; without ``scaled``, the bundled depth and fund.
    ``insurance_fund`` replaces the fund.

    **Path**: the bundled path's five anchors (``open``; ``-5%``; ``-12%``; ``low``: BTC −15 %,
    ETH −18 %, SOL −30 %; ``rebound``), marks to each symbol's tick.

    * ``steps == 5``: the anchors, exactly.
    * ``steps > 5``: anchor ``k`` (0 to 4) at step ``round(k × (steps − 1) / 4)`` (halves
      up), so the open is the first step and the rebound the last; between two anchors every
      mark moves piecewise-linearly in the step index, quantized half-even to its tick.
      Anchors keep their labels; step ``i`` elsewhere is labelled ``t<i>``.
    * ``steps < 5``: the anchors that matter most, in path order: 1 step is the open alone
      (nothing moves); 2 the open and the low; 3 adds the rebound; 4 adds -12 %.

    Every step prices every symbol. ``name`` defaults to ``crash-2025-10``, followed by
    ``-<accounts>x<steps>``, the symbols, ``-seed<seed>`` and ``-unscaled`` where they differ
    from the bundled scenario's; ``description`` to a sentence saying what was built.

    Cost: about 20 µs an account and 50 µs a step, so ``crash(100_000, 1_000)`` builds in
    about 2 s: measured 1.9 s (best of three; 3.2 s the worst) on a shared 2-core x86-64
    machine under Python 3.11.

    Raises InvalidInputError naming the argument: ``accounts`` or ``steps`` below 1 or not an
    integer, an unknown or repeated symbol, a seed that is not an integer, an empty name, a
    negative or inexact insurance fund.
    """
    count = _count(accounts, "accounts", "the number of accounts")
    length = _count(steps, "steps", "the number of steps of the path")
    chosen = _checked_symbols(symbols)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidInputError(f"crash seed: expected an integer, got {seed!r}")
    if name is not None and (not isinstance(name, str) or not name):
        raise InvalidInputError(f"crash name: expected a non-empty string, got {name!r}")
    if description is not None and not isinstance(description, str):
        raise InvalidInputError(f"crash description: expected a string, got {description!r}")
    if not isinstance(scaled, bool):
        raise InvalidInputError(f"crash scaled: expected True or False, got {scaled!r}")
    fund = (
        None
        if insurance_fund is None
        else non_negative(insurance_fund, "crash insurance_fund", bounded=True)
    )

    # The draws are valid by construction (sizes of at least a lot, entries near the open,
    # leverage from LEVERAGES, balances >= 0, every number far inside the input bounds), so
    # the accounts skip the constructors' checks, which would take two thirds of the time;
    # tests/test_crash.py builds the same accounts through the checked constructors.
    one_way: PositionMode = "one-way"
    held = {}
    for d in draw_accounts(count, chosen, seed):
        mode: MarginMode = "isolated" if d.isolated else "cross"
        leverage = Decimal(d.leverage) if d.isolated else None
        position = Position._unchecked(d.symbol, d.side, d.size, d.entry, mode, None, leverage)
        held[d.id] = Account._unchecked(d.balance, (position,), one_way)
    ladders = {}
    for symbol in chosen:
        depth = [Decimal(level) for level in DEPTH[symbol]]
        if scaled:
            depth = [_scaled(level, count, LOTS[symbol]) for level in depth]
        ladders[symbol] = tuple(Level(Decimal(o), d) for o, d in zip(OFFSETS, depth, strict=True))
    if fund is None:
        fund = _scaled(FUND, count, Decimal("0.01")) if scaled else FUND
    path = _path(length, chosen)
    return Scenario(
        held,
        path,
        DepthLadder(ladders, ladders),
        name=name if name is not None else _name(count, length, chosen, seed, scaled),
        insurance_fund=fund,
        description=(
            description if description is not None else _description(count, path, chosen, scaled)
        ),
        contracts=dict.fromkeys(chosen, "linear"),
    )
