"""The compiled Elo loops give the numbers the NumPy loop they replaced gave, on the same orders.

``numpy_elo`` below is that loop as it was (a (battles, orders) index matrix walked one battle
position at a time with fancy indexing), and ``numpy_orders`` the orders it was fed
(``Generator.permuted`` down the columns of blocks of that matrix): the new code must match both,
seed for seed, to 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from arena.ratings import BattleArrays, compute_leaderboard
from arena.ratings.elo import (
    ORDER_BLOCK_ELEMENTS,
    bootstrap_elo,
    elo_over_orders,
    elo_over_random_orders,
    elo_scores,
    online_elo,
    pack_battles,
    random_orders,
)

from .conftest import simulate_tournament


def numpy_elo(
    arrays: BattleArrays, score: NDArray[np.float64], by_step: NDArray[np.integer], k: float = 4.0
) -> NDArray[np.float64]:
    slope = np.log(10.0) / 400.0
    n_orders, n_models = by_step.shape[1], arrays.n_models
    ratings = np.full(n_orders * n_models, 1000.0 * slope)
    offset = np.arange(n_orders) * n_models
    for battle in by_step:
        seat_a = arrays.model_a[battle] + offset
        seat_b = arrays.model_b[battle] + offset
        change = -slope * k * (1.0 / (1.0 + np.exp(ratings[seat_b] - ratings[seat_a])) - score[battle])
        ratings[seat_a] += change
        ratings[seat_b] -= change
    return ratings.reshape(n_orders, n_models) / slope


def numpy_orders(n_battles: int, permutations: int, seed: int) -> NDArray[np.intp]:
    """Orders as the old code drew them: blocks of columns, narrowest index type."""
    rng = np.random.default_rng(seed)
    block = max(1, ORDER_BLOCK_ELEMENTS // max(n_battles, 1))
    index_type = np.uint16 if n_battles <= 2**16 else np.int32
    identity = np.arange(n_battles, dtype=index_type)[:, None]
    columns = [
        rng.permuted(np.broadcast_to(identity, (n_battles, min(block, permutations - start))), axis=0)
        for start in range(0, permutations, block)
    ]
    return np.concatenate(columns, axis=1).T.astype(np.intp)


@pytest.mark.parametrize("n_battles", [0, 1, 2, 7, 1000, 2**16 + 5])
def test_the_random_orders_are_numpys_own_seed_for_seed(n_battles):
    arrays = simulate_tournament(np.linspace(-1, 1, 6), n_battles, seed=n_battles)
    orders = numpy_orders(n_battles, 5, seed=11)
    assert np.array_equal(random_orders(n_battles, 5, seed=11), orders)
    _, score = elo_scores(arrays)
    expected = numpy_elo(arrays, score, orders.T, k=32.0)
    got = elo_over_random_orders(arrays, permutations=5, seed=11, k=32.0)
    assert got.shape == (5, 6)
    assert np.abs(got - expected).max(initial=0.0) < 1e-9


def test_many_orders_over_block_boundaries_match_the_numpy_loop():
    arrays = simulate_tournament(np.linspace(-1.5, 1.5, 12), 40_000, seed=3)
    permutations = ORDER_BLOCK_ELEMENTS // 40_000 + 3  # the old code's blocks: 312 orders, then 3
    orders = numpy_orders(len(arrays), permutations, seed=4)
    _, score = elo_scores(arrays)
    got = elo_over_random_orders(arrays, permutations=permutations, seed=4)
    for rows in (slice(0, 2), slice(310, 315)):
        assert np.abs(got[rows] - numpy_elo(arrays, score, orders[rows].T)).max() < 1e-9


def test_chronological_elo_and_both_bootstraps_match_the_numpy_loop():
    arrays = simulate_tournament(np.linspace(-1, 1, 8), 5000, seed=5)
    rng = np.random.default_rng(0)
    arrays = BattleArrays.from_arrays(
        arrays.models,
        arrays.model_a,
        arrays.model_b,
        arrays.outcome,
        tstamp=rng.permutation(len(arrays)).astype(float),
    )
    used, score = elo_scores(arrays, both_bad_as_tie=False)
    chronological = arrays.chronological_order()
    chronological = chronological[used[chronological]]
    assert (
        np.abs(
            online_elo(arrays, both_bad_as_tie=False) - numpy_elo(arrays, score, chronological[:, None])[0]
        ).max()
        < 1e-9
    )
    for shuffle in (True, False):
        positions = np.random.default_rng(8).integers(0, chronological.size, size=(40, chronological.size))
        if not shuffle:
            positions.sort(axis=1)
        expected = numpy_elo(arrays, score, chronological[positions].T)
        got = bootstrap_elo(arrays, rounds=40, seed=8, shuffle=shuffle, both_bad_as_tie=False)
        assert np.abs(got - expected).max() < 1e-9


def test_explicit_orders_and_the_leaderboard_use_the_same_loop():
    arrays = simulate_tournament(np.linspace(-1, 1, 5), 300, seed=6)
    _, score = elo_scores(arrays)
    orders = np.random.default_rng(1).integers(0, len(arrays), size=(4, 500))
    got = elo_over_orders(arrays.model_a, arrays.model_b, score, 5, orders, k=16.0, init=1500.0)
    expected = numpy_elo(arrays, score, orders.T, k=16.0) + 500.0
    assert np.abs(got - expected).max() < 1e-9
    board = compute_leaderboard(arrays, method="elo", permutations=30, seed=2, bootstrap_rounds=0)
    mean = elo_over_random_orders(arrays, permutations=30, seed=2).mean(axis=0)
    assert (
        np.abs(np.array([{r.model: r.rating for r in board.rows}[m] for m in arrays.models]) - mean).max()
        < 1e-9
    )


def test_packing_refuses_scores_and_models_it_cannot_hold():
    with pytest.raises(ValueError, match=r"0, 0\.5 or 1"):
        pack_battles([0], [1], [0.25])
    with pytest.raises(ValueError, match="model indices"):
        pack_battles([0], [2**21], [1.0])
    assert pack_battles([], [], []).shape == (0,)
