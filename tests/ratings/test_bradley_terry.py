"""Bradley-Terry ratings: the aggregated Newton fit is the textbook MLE, recovers known
strengths, and its bootstrap intervals cover the truth as often as they claim."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from arena.ratings import Battle, BattleArrays, compute_leaderboard
from arena.ratings.bootstrap import multinomial_rows, rank_by_intervals, resample_cells

from .conftest import simulate_tournament

ELO_PER_NAT = 400.0 / np.log(10.0)


def straightforward_bt(arrays: BattleArrays, *, both_bad_as_tie: bool = True) -> NDArray[np.float64]:
    """Logistic regression with one row per battle, ties as two half-weighted rows, model 0 fixed at 0.

    Deliberately naive: Newton (scipy's trust-exact) on the per-row log-likelihood, gradient
    and Hessian summed over rows; nothing is aggregated.
    """
    rows_x, rows_y, rows_w = [], [], []
    n = arrays.n_models
    for a, b, outcome in zip(arrays.model_a, arrays.model_b, arrays.outcome, strict=True):
        if outcome == 3 and not both_bad_as_tie:
            continue
        x = np.zeros(n)
        x[a], x[b] = 1.0, -1.0
        if outcome in (0, 1):
            rows_x.append(x), rows_y.append(1.0 if outcome == 0 else 0.0), rows_w.append(1.0)
        else:
            rows_x += [x, x]
            rows_y += [1.0, 0.0]
            rows_w += [0.5, 0.5]
    x_all = np.array(rows_x)[:, 1:]
    y, w = np.array(rows_y), np.array(rows_w)

    def negative_ll(beta: NDArray[np.float64]) -> float:
        eta = x_all @ beta
        return float(-(w * (y * eta - np.logaddexp(0.0, eta))).sum())

    def gradient(beta: NDArray[np.float64]) -> NDArray[np.float64]:
        p = 1.0 / (1.0 + np.exp(-(x_all @ beta)))
        return np.asarray(-(x_all.T @ (w * (y - p))))

    def hessian(beta: NDArray[np.float64]) -> NDArray[np.float64]:
        p = 1.0 / (1.0 + np.exp(-(x_all @ beta)))
        return np.asarray(x_all.T @ (x_all * (w * p * (1 - p))[:, None]))

    result = minimize(
        negative_ll,
        np.zeros(n - 1),
        jac=gradient,
        hess=hessian,
        method="trust-exact",
        options={"gtol": 1e-12},
    )
    return np.r_[0.0, result.x]


def test_bt_equals_a_row_level_logistic_regression_to_1e_6() -> None:
    rng = np.random.default_rng(7)
    n, n_battles = 7, 1500
    a = rng.integers(0, n, n_battles)
    b = (a + rng.integers(1, n, n_battles)) % n
    outcome = rng.choice(4, size=n_battles, p=[0.4, 0.35, 0.15, 0.1])
    arrays = BattleArrays.from_arrays([f"m{i}" for i in range(n)], a, b, outcome)
    for both_bad_as_tie in (True, False):
        theta = straightforward_bt(arrays, both_bad_as_tie=both_bad_as_tie)
        anchored = compute_leaderboard(
            arrays, bootstrap_rounds=0, anchor="m3", anchor_rating=1200.0, both_bad_as_tie=both_bad_as_tie
        )
        expected_anchored = 1200.0 + ELO_PER_NAT * (theta - theta[3])
        got = {row.model: row.rating for row in anchored.rows}
        assert np.abs(np.array([got[f"m{i}"] for i in range(n)]) - expected_anchored).max() < 1e-6
        by_mean = compute_leaderboard(arrays, bootstrap_rounds=0, both_bad_as_tie=both_bad_as_tie)
        expected_mean = 1000.0 + ELO_PER_NAT * (theta - theta.mean())
        got = {row.model: row.rating for row in by_mean.rows}
        assert np.abs(np.array([got[f"m{i}"] for i in range(n)]) - expected_mean).max() < 1e-6
        assert by_mean.notes == []


def test_bt_recovers_known_strengths() -> None:
    truth = np.linspace(-1.5, 1.5, 12)
    arrays = simulate_tournament(truth, 30_000, seed=3, tie_share=0.0)
    board = compute_leaderboard(arrays, bootstrap_rounds=0)
    fitted = np.array([{r.model: r.rating for r in board.rows}[f"model-{i:02d}"] for i in range(12)])
    true_elo = 1000.0 + ELO_PER_NAT * (truth - truth.mean())
    assert np.corrcoef(fitted, true_elo)[0, 1] > 0.995
    assert np.abs(fitted - true_elo).max() < 25.0
    assert board.models == [f"model-{i:02d}" for i in reversed(range(12))]


def test_95_percent_bootstrap_intervals_cover_the_truth_about_95_percent_of_the_time() -> None:
    truth = np.array([-0.8, -0.4, -0.1, 0.0, 0.2, 0.5, 0.9, 1.2])
    true_elo = 1000.0 + ELO_PER_NAT * (truth - truth.mean())  # both anchored by their mean
    covered = total = 0
    for simulation in range(150):
        arrays = simulate_tournament(truth, 4000, seed=1000 + simulation, tie_share=0.0)
        board = compute_leaderboard(arrays, bootstrap_rounds=200, seed=simulation)
        for row in board.rows:
            total += 1
            covered += row.ci_low <= true_elo[int(row.model[-2:])] <= row.ci_high
    assert 0.93 <= covered / total <= 0.97, covered / total


def test_a_model_that_never_wins_gets_a_finite_last_place_and_a_note() -> None:
    battles = [Battle("human", "loser", "x", "model_b")] * 5 + [
        Battle("human", "x", "y", "model_a"),
        Battle("human", "y", "x", "model_a"),
        Battle("human", "x", "y", "tie"),
    ]
    board = compute_leaderboard(battles, bootstrap_rounds=50)
    assert [row.model for row in board.rows][-1] == "loser"
    assert all(np.isfinite([row.rating, row.ci_low, row.ci_high]).all() for row in board.rows)
    assert board.rows[-1].rating < board.rows[0].rating - 300
    assert board.notes and "finite" in board.notes[0]


def test_models_that_never_met_the_others_still_get_finite_ratings() -> None:
    battles = [
        Battle("human", "a", "b", "model_a"),
        Battle("human", "b", "a", "model_a"),
        Battle("human", "a", "b", "model_a"),
        Battle("human", "c", "d", "model_a"),
        Battle("human", "d", "c", "tie"),
    ]
    board = compute_leaderboard(battles, bootstrap_rounds=20)
    ratings = {row.model: row.rating for row in board.rows}
    assert ratings["a"] > ratings["b"] and ratings["c"] > ratings["d"]
    assert all(np.isfinite(list(ratings.values())))
    assert board.notes


def test_multinomial_cell_resampling_matches_resampling_battles() -> None:
    counts = np.array([500, 0, 120, 3, 377], dtype=np.int64)
    total, shares = counts.sum(), counts / counts.sum()
    rng = np.random.default_rng(0)
    draws = resample_cells(rng, counts, 4000)
    assert (draws.sum(axis=1) == total).all() and (draws[:, 1] == 0).all()
    assert np.allclose(draws.mean(axis=0), total * shares, atol=1.5)
    assert np.allclose(draws.var(axis=0), total * shares * (1 - shares), rtol=0.1, atol=0.2)
    fast = multinomial_rows(rng, 10_000, np.array([0.5, 0.3, 0.2]), 4000)
    assert (fast.sum(axis=1) == 10_000).all()
    assert np.allclose(fast.var(axis=0), 10_000 * np.array([0.25, 0.21, 0.16]), rtol=0.1)
    # Index sampling (chosen when nearly every battle has its own cell) is the same distribution.
    sparse = np.ones(50, dtype=np.int64)
    by_index = resample_cells(rng, sparse, 4000)
    assert (by_index.sum(axis=1) == 50).all() and abs(by_index.var(axis=0).mean() - 50 * 0.02 * 0.98) < 0.05


def test_rank_counts_only_models_whose_interval_lies_wholly_above() -> None:
    low = np.array([1100.0, 1090.0, 1000.0, 900.0])
    high = np.array([1150.0, 1120.0, 1095.0, 950.0])
    # 0 and 1 overlap: both first. 2 overlaps 1 (1090 < 1095) but not 0 (1100 > 1095): rank 2.
    # 3 lies below all three: rank 4.
    assert rank_by_intervals(low, high).tolist() == [1, 1, 2, 4]


def test_same_seed_same_numbers_and_another_seed_other_intervals() -> None:
    arrays = simulate_tournament(np.linspace(-1, 1, 6), 2000, seed=11)
    first = compute_leaderboard(arrays, bootstrap_rounds=300, seed=5).to_dict()
    again = compute_leaderboard(arrays, bootstrap_rounds=300, seed=5).to_dict()
    other = compute_leaderboard(arrays, bootstrap_rounds=300, seed=6).to_dict()
    assert first == again
    assert [r["rating"] for r in first["rows"]] == [r["rating"] for r in other["rows"]]
    assert [r["ci_low"] for r in first["rows"]] != [r["ci_low"] for r in other["rows"]]
