"""Liquidity models: fills computed by hand from each model's definition."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import margincall as mc
from margincall.liquidity import DepthLadder, Execution, MarkFill, NoLiquidity

D = Decimal
MARK = D(50000)


def test_mark_fill_slippage() -> None:
    """Selling 2 at 0.1 % slippage: 50,000 × (1 − 0.001) = 49,950; buying: 50,050."""
    model = MarkFill(slippage="0.001")
    assert model.fill("BTCUSDT", "sell", D(2), MARK, None, D(0)) == (Execution(D(49950), D(2)),)
    assert model.fill("BTCUSDT", "buy", D(2), MARK, None, D(0)) == (Execution(D(50050), D(2)),)


def test_mark_fill_linear_impact_walks_the_book_within_a_step() -> None:
    """Impact 0.0001 per contract: 10 contracts average 50,000 × (1 − 0.0001 × 5) = 49,975;
    10 more after 10 taken average 50,000 × (1 − 0.0001 × 15) = 49,925."""
    model = MarkFill(impact="0.0001")
    assert model.fill("X", "sell", D(10), MARK, None, D(0)) == (Execution(D(49975), D(10)),)
    assert model.fill("X", "sell", D(10), MARK, None, D(10)) == (Execution(D(49925), D(10)),)


def test_mark_fill_respects_the_limit() -> None:
    """The marginal price 50,000 × (1 − 0.0001 x) stays >= 49,900 for x <= 20: of 50
    contracts, 20 fill, averaging 50,000 × (1 − 0.001) = 49,950. Buying with a 50,100 limit
    is the mirror image. A limit the first contract cannot meet fills nothing."""
    model = MarkFill(impact="0.0001")
    assert model.fill("X", "sell", D(50), MARK, D(49900), D(0)) == (Execution(D(49950), D(20)),)
    assert model.fill("X", "buy", D(50), MARK, D(50100), D(0)) == (Execution(D(50050), D(20)),)
    assert model.fill("X", "sell", D(1), MARK, D(50001), D(0)) == ()


def test_a_bound_by_division_fills_in_the_orders_own_places() -> None:
    """Impact 0.00012: a sell's price stays positive for x < 1 / 0.00012 = 8,333.33...
    contracts, an endless quotient; the fill keeps the order's places: of 10,000 (no
    decimals) 8,333 fill, of 10,000.00 (two) 8,333.33, at 1 × (1 − 0.00012 × x / 2)."""
    model = MarkFill(impact="0.00012")
    (whole,) = model.fill("X", "sell", D(10000), D(1), None, D(0))
    assert whole == Execution(1 - D("0.00012") * D(8333) / 2, D(8333))
    (cents,) = model.fill("X", "sell", D("10000.00"), D(1), None, D(0))
    assert cents.size == D("8333.33")


def test_depth_ladder_levels_and_depletion() -> None:
    """Bids 2 at 0.1 % and 10 at 1 % below the mark: selling 5 takes 2 at 49,950 and 3 at
    49,500; after 3 already taken this step, the first level is gone and 5 fill at 49,500;
    with a 49,600 limit only the first level fills."""
    model = DepthLadder(bids={"BTCUSDT": [["0.001", 2], ["0.01", 10]]})
    assert model.fill("BTCUSDT", "sell", D(5), MARK, None, D(0)) == (
        Execution(D(49950), D(2)),
        Execution(D(49500), D(3)),
    )
    assert model.fill("BTCUSDT", "sell", D(5), MARK, None, D(3)) == (Execution(D(49500), D(5)),)
    assert model.fill("BTCUSDT", "sell", D(5), MARK, D(49600), D(0)) == (Execution(D(49950), D(2)),)
    assert model.fill("BTCUSDT", "buy", D(5), MARK, None, D(0)) == ()  # no asks given
    assert model.fill("ETHUSDT", "sell", D(5), MARK, None, D(0)) == ()


def test_no_liquidity_fills_nothing() -> None:
    assert NoLiquidity().fill("BTCUSDT", "sell", D(5), MARK, None, D(0)) == ()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: MarkFill(slippage=-1), "slippage: must be >= 0"),
        (lambda: MarkFill(slippage=1), "slippage: must be below 1"),
        (lambda: MarkFill(impact=0.1), "float"),
        (lambda: DepthLadder(bids={"X": [["0.01", 0]]}), r"bids\.X\[0\] size: must be > 0"),
        (lambda: DepthLadder(bids={"X": [["0.02", 1], ["0.01", 1]]}), "from the mark outwards"),
        (lambda: DepthLadder(bids={"X": [[1, 1]]}), "bid offset must be below 1"),
        (lambda: DepthLadder(bids={"X": "deep"}), "expected a list of levels"),
    ],
)
def test_bad_models_are_rejected(build: object, message: str) -> None:
    with pytest.raises(mc.InvalidInputError, match=message):
        build()  # type: ignore[operator]


amounts = st.decimals(min_value=0, max_value=100, places=3)


@given(
    side=st.sampled_from(["buy", "sell"]),
    size=st.decimals("0.001", 100, places=3),
    consumed=amounts,
    slippage=st.decimals(0, "0.05", places=4),
    impact=st.decimals(0, "0.001", places=5),
    limit_offset=st.decimals(0, "0.2", places=3),
    ladder=st.lists(
        st.tuples(st.decimals(0, "0.5", places=3), st.decimals("0.001", 50, places=3)), max_size=5
    ),
)
def test_fills_never_exceed_size_nor_cross_the_limit(
    side: str,
    size: Decimal,
    consumed: Decimal,
    slippage: Decimal,
    impact: Decimal,
    limit_offset: Decimal,
    ladder: list[tuple[Decimal, Decimal]],
) -> None:
    """Laws of every model: the fills sum to at most the order's size; no fill is worse than
    the limit, nor better than the mark (liquidity never pays the order to trade); taking
    more earlier in the step never makes the first available contract better."""
    levels = sorted(ladder)
    limit = MARK * (1 - limit_offset) if side == "sell" else MARK * (1 + limit_offset)
    for model in (
        MarkFill(slippage, impact),
        DepthLadder({"X": levels}, {"X": levels}),
        NoLiquidity(),
    ):
        fills = model.fill("X", side, size, MARK, limit, consumed)  # type: ignore[arg-type]
        assert sum((f.size for f in fills), D(0)) <= size
        for f in fills:
            assert f.size > 0
            assert (f.price >= limit) if side == "sell" else (f.price <= limit)
            assert (f.price <= MARK) if side == "sell" else (f.price >= MARK)
        first = model.fill("X", side, size, MARK, None, consumed)  # type: ignore[arg-type]
        later = model.fill("X", side, size, MARK, None, consumed + 1)  # type: ignore[arg-type]
        if first and later:  # the first contract available later is no better
            if side == "sell":
                assert later[0].price <= first[0].price
            else:
                assert later[0].price >= first[0].price
