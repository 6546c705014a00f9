"""Plugins for tests/test_plugins.py, loaded through synthetic entry points."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from margincall import hookimpl
from margincall._compat import Traversable
from margincall.config import PolicySpec
from margincall.errors import InvalidInputError
from margincall.health import Health
from margincall.market import Market
from margincall.tiers import Tier
from margincall.waterfall import AdlCandidate, AdlFill, Pool, Reduce

HERE = Path(__file__).parent


class Misspelled:
    """Implements a hook that does not exist (a typo of margincall_liquidation_price)."""

    @hookimpl
    def margincall_liquidation_prise(self) -> None:  # pragma: no cover - never called
        raise AssertionError


class FlatTiers:
    """A venue whose maintenance margin is a flat 10 % of value, whatever the size."""

    @hookimpl
    def margincall_maintenance_tiers(self, market: Market) -> tuple[Tier, ...]:
        top = market.tiers[-1].max_notional
        return (Tier(Decimal(0), top, Decimal(5), Decimal("0.1"), Decimal(0)),)

    @hookimpl
    def margincall_policy_files(self) -> Iterable[Traversable]:
        return [HERE / "data" / "flat-venue.toml"]


class Deferring:
    """Answers None (not applicable) for every fee, so the defaults answer instead."""

    @hookimpl
    def margincall_trading_fee(self) -> None:
        return None


class Wrapping:
    """A hook wrapper: not allowed on hooks a Policy resolves once."""

    @hookimpl(wrapper=True)
    def margincall_trading_fee(self) -> object:
        return (yield)


class BrokenPolicyFiles:
    @hookimpl
    def margincall_policy_files(self) -> Iterable[Traversable]:
        raise RuntimeError("cannot list policies")


misspelled = Misspelled()
flat = FlatTiers()
deferring = Deferring()
wrapping = Wrapping()
broken_policy_files = BrokenPolicyFiles()


class WithDefault:
    """Gives a hook argument a default: pluggy would never pass ``maker``."""

    @hookimpl
    def margincall_trading_fee(self, maker: bool = True) -> None:  # pragma: no cover
        raise AssertionError


class NeverAnswers:
    """Answers None for the liquidation fee, whatever it is asked."""

    @hookimpl(tryfirst=True)
    def margincall_liquidation_fee(self) -> None:
        return None


with_default = WithDefault()
never_answers = NeverAnswers()


class Chunked:
    """Reads ``[parameters] chunk`` (a fraction in (0, 1]) and checks it when a policy loads."""

    @hookimpl
    def margincall_check_config(self, config: PolicySpec) -> list[str]:
        chunk = config.parameter("chunk")
        if chunk is None:
            return ["parameters.chunk: required by the chunked plugin"]
        if not isinstance(chunk, Decimal) or not 0 < chunk <= 1:
            return [f"parameters.chunk: must be a number > 0 and <= 1, got {chunk!r}"]
        return []


chunked = Chunked()


class FillOrKillFirst:
    """Liquidates with one FillOrKill order for the whole position first, then defers."""

    @hookimpl
    def margincall_liquidation_action(self, pool: Pool, attempt: int) -> Reduce | None:
        if attempt > 0:
            return None
        target = pool.positions[0]
        return Reduce(target.symbol, target.side, target.size, "fok", None)


fill_or_kill_first = FillOrKillFirst()


class RandomAdl:
    """Ranks ADL candidates by the engine's seeded draw (dYdX v4 picks counterparties at
    random)."""

    @hookimpl
    def margincall_adl_score(self, candidate: AdlCandidate) -> Decimal:
        assert 0 <= candidate.draw < 1
        return candidate.draw


random_adl = RandomAdl()


# --- planted bugs, for the conformance suite to catch (tests/test_conformance.py) -----------


class CentLeak:
    """A clawback that rounds each share down to the cent, so the shares miss the deficit by
    what the rounding drops (the venue pays it as unallocated)."""

    @hookimpl(tryfirst=True)
    def margincall_clawback(
        self, deficit: Decimal, profits: Mapping[str, Decimal]
    ) -> dict[str, Decimal]:
        winners = {key: p for key, p in profits.items() if p > 0}
        total = sum(winners.values(), Decimal(0))
        if total <= 0:
            return {}
        owed = min(deficit, total)
        cent = Decimal("0.01")
        return {k: (owed * p / total).quantize(cent, ROUND_DOWN) for k, p in winners.items()}


class PenaltyFill:
    """ADL that charges the deleveraged side a 10 % penalty through its fill price: a short
    buys back at 110 % of the bankruptcy price, a long sells at 90 %."""

    @hookimpl(tryfirst=True)
    def margincall_adl_allocate(
        self, ranked: tuple[AdlCandidate, ...], size: Decimal, price: Decimal
    ) -> tuple[AdlFill, ...]:
        fills, left = [], size
        for candidate in ranked:
            if left <= 0:
                break
            take = min(left, candidate.size)
            penalty = Decimal("1.1") if candidate.side == "short" else Decimal("0.9")
            fills.append(AdlFill(candidate, take, price * penalty))
            left -= take
        return tuple(fills)


class GivesUpUnderwater:
    """A trigger that skips an account already under water ("nothing left to liquidate"), so
    its losses run on past zero."""

    @hookimpl(tryfirst=True)
    def margincall_is_liquidatable(self, health: Health) -> bool:
        return 0 < health.margin_balance <= health.maintenance_margin


cent_leak = CentLeak()
penalty_fill = PenaltyFill()
gives_up_underwater = GivesUpUnderwater()


class ByBankruptcyPrice:
    """Ranks ADL candidates by their own bankruptcy price, highest first (which the engine
    must therefore give them)."""

    @hookimpl
    def margincall_adl_score(self, candidate: AdlCandidate) -> Decimal:
        assert candidate.bankruptcy_price is not None
        return candidate.bankruptcy_price


by_bankruptcy_price = ByBankruptcyPrice()


# --- plugins that break (tests/test_plugins.py; installed ones: tests/test_broken_plugins.py) -


class Raises:
    """A liquidation fee that raises ``error``."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    @hookimpl
    def margincall_liquidation_fee(self, size: Decimal) -> Decimal:
        raise self.error


raises_zero_division = Raises(ZeroDivisionError("division by zero"))
raises_system_exit = Raises(SystemExit("gave up"))
raises_input_error = Raises(InvalidInputError("size: 1 is too small for this venue"))
raises_keyboard_interrupt = Raises(KeyboardInterrupt())


class ShadowsBinance:
    """Ships a policy file called binance-usdm.toml, the name of a built-in policy."""

    @hookimpl
    def margincall_policy_files(self) -> Iterable[Traversable]:
        policies = HERE / "broken_plugins" / "src" / "margincall_broken" / "policies"
        return [policies / "binance-usdm.toml"]


shadows_binance = ShadowsBinance()


class HalfFromTheVenue:
    """A deficit stage (invented for tests): the venue pays half of what is left."""

    name = "half-from-the-venue"

    def cover(self, book: Any, deficit: Any) -> Decimal:
        from margincall import ledger as lg

        half: Decimal = deficit.amount * Decimal("0.5")
        book.ledger.transfer(deficit.step, lg.VENUE, deficit.wallet, half, "the venue pays half")
        return half


class Greedy:
    """A deficit stage that claims more than it was asked to cover."""

    name = "greedy"

    def cover(self, book: Any, deficit: Any) -> Decimal:
        return deficit.amount * 2  # type: ignore[no-any-return]


class HalfStage:
    @hookimpl
    def margincall_deficit_stages(self) -> Iterable[object]:
        return [HalfFromTheVenue()]


class GreedyStage:
    @hookimpl
    def margincall_deficit_stages(self) -> Iterable[object]:
        return [Greedy()]


class NoStage:
    @hookimpl
    def margincall_deficit_stages(self) -> Iterable[object]:
        return ["venue"]


half = HalfStage()
greedy = GreedyStage()
no_stage = NoStage()
