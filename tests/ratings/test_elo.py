"""Online Elo: the hand-computed sequence, chronological order, and order averaging."""

from __future__ import annotations

import math

import numpy as np

from arena.ratings import Battle, BattleArrays, compute_leaderboard
from arena.ratings.elo import bootstrap_elo, elo_over_random_orders, online_elo, random_orders

from .conftest import simulate_tournament


def expected(r_a: float, r_b: float) -> float:
    return 1.0 / (1.0 + 10.0 ** ((r_b - r_a) / 400.0))


def test_elo_matches_the_hand_computed_sequence() -> None:
    battles = [
        Battle("human", "A", "B", "model_a", tstamp=1.0),
        Battle("human", "B", "C", "tie", tstamp=2.0),
        Battle("human", "A", "C", "model_b", tstamp=3.0),
    ]
    # 1. A 1000 v B 1000, A wins: E = 0.5, A += 32 * 0.5 = 1016, B = 984.
    # 2. B 984 v C 1000, tie: E_B = 1 / (1 + 10^(16/400)) = 0.476993;
    #    B += 32 * (0.5 - 0.476993) = +0.73622 -> 984.73622, C -> 999.26378.
    # 3. A 1016 v C 999.26378, C wins: E_A = 1 / (1 + 10^(-16.73622/400)) = 0.524066;
    #    A -= 32 * 0.524066 = 16.77011 -> 999.22989, C -> 1016.03389.
    e2 = expected(984.0, 1000.0)
    b2, c2 = 984.0 + 32 * (0.5 - e2), 1000.0 - 32 * (0.5 - e2)
    e3 = expected(1016.0, c2)
    hand = {"A": 1016.0 - 32 * e3, "B": b2, "C": c2 + 32 * e3}
    assert math.isclose(hand["A"], 999.22989, abs_tol=1e-4) and math.isclose(
        hand["C"], 1016.03389, abs_tol=1e-4
    )
    board = compute_leaderboard(battles, method="elo", k=32.0, bootstrap_rounds=0)
    got = {row.model: row.rating for row in board.rows}
    assert all(math.isclose(got[m], hand[m], abs_tol=1e-9) for m in "ABC")
    assert [row.model for row in board.rows] == ["C", "A", "B"]
    # Input order does not matter when every battle has a timestamp.
    shuffled = compute_leaderboard(
        [battles[2], battles[0], battles[1]], method="elo", k=32.0, bootstrap_rounds=0
    )
    assert {row.model: row.rating for row in shuffled.rows} == got


def test_both_bad_is_a_tie_unless_configured() -> None:
    battles = [Battle("human", "A", "B", "model_a"), Battle("human", "A", "B", "both_bad")]
    as_tie = online_elo(BattleArrays.from_battles(battles), k=32.0)
    skipped = online_elo(BattleArrays.from_battles(battles), k=32.0, both_bad_as_tie=False)
    assert np.allclose(skipped, [1016.0, 984.0], atol=1e-9)
    assert as_tie[0] < 1016.0  # the tie against a weaker-rated B costs A points


def slow_elo(
    model_a: list[int], model_b: list[int], score: list[float], n_models: int, order: list[int], k: float
) -> list[float]:
    ratings = [1000.0] * n_models
    for i in order:
        a, b = model_a[i], model_b[i]
        change = k * (score[i] - expected(ratings[a], ratings[b]))
        ratings[a] += change
        ratings[b] -= change
    return ratings


def test_permutation_mean_equals_a_python_loop_per_permutation() -> None:
    arrays = simulate_tournament(np.array([0.0, 0.5, 1.0, -0.5, 0.2]), 120, seed=2)
    score = [1.0 if o == 0 else 0.0 if o == 1 else 0.5 for o in arrays.outcome.tolist()]
    orders = random_orders(len(arrays), 40, seed=9)
    assert sorted(orders[3].tolist()) == list(range(len(arrays)))
    slow = np.array(
        [
            slow_elo(arrays.model_a.tolist(), arrays.model_b.tolist(), score, 5, order.tolist(), 32.0)
            for order in orders
        ]
    )
    fast = elo_over_random_orders(arrays, permutations=40, seed=9, k=32.0)
    assert np.abs(fast - slow).max() < 1e-9
    board = compute_leaderboard(arrays, method="elo", k=32.0, permutations=40, seed=9, bootstrap_rounds=0)
    got = {row.model: row.rating for row in board.rows}
    assert np.abs(np.array([got[m] for m in arrays.models]) - slow.mean(axis=0)).max() < 1e-9
    # Without a bootstrap the interval is the spread across orders.
    row = board.rows[0]
    index = arrays.models.index(row.model)
    assert math.isclose(row.ci_low, float(np.quantile(slow[:, index], 0.025)), abs_tol=1e-9)


def test_elo_bootstrap_is_seeded_and_resamples() -> None:
    arrays = simulate_tournament(np.linspace(-1, 1, 4), 300, seed=4)
    one = bootstrap_elo(arrays, rounds=30, seed=1, shuffle=True)
    assert np.array_equal(one, bootstrap_elo(arrays, rounds=30, seed=1, shuffle=True))
    assert not np.array_equal(one, bootstrap_elo(arrays, rounds=30, seed=2, shuffle=True))
    assert one.std(axis=0).min() > 1.0
