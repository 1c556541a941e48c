"""The leaderboard the Django side renders: rows, records, matrices, anchoring and JSON."""

from __future__ import annotations

import json
from dataclasses import fields

import numpy as np
import pytest

from arena.ratings import Battle, BattleArrays, RatingRow, compute_leaderboard

from .conftest import simulate_tournament

BATTLES = [
    Battle("human", "gpt-4", "llama", "model_a"),
    Battle("human", "llama", "gpt-4", "model_b"),
    Battle("human", "gpt-4", "llama", "tie"),
    Battle("human", "gpt-4", "vicuna", "model_a"),
    Battle("human", "vicuna", "llama", "both_bad"),
    Battle("human", "vicuna", "llama", "model_a"),
    Battle("human", "llama", "vicuna", "model_a"),
    Battle("human", "vicuna", "gpt-4", "model_a"),
]


def test_rows_carry_rating_interval_rank_and_the_full_record() -> None:
    board = compute_leaderboard(BATTLES, bootstrap_rounds=100, seed=1)
    assert [f.name for f in fields(RatingRow)] == [
        "model",
        "rating",
        "ci_low",
        "ci_high",
        "rank",
        "battles",
        "wins",
        "losses",
        "ties",
        "provisional",
    ]
    rows = {row.model: row for row in board.rows}
    assert (rows["gpt-4"].wins, rows["gpt-4"].losses, rows["gpt-4"].ties, rows["gpt-4"].battles) == (
        3,
        1,
        1,
        5,
    )
    # both_bad counts as a tie in the record.
    assert (rows["llama"].wins, rows["llama"].losses, rows["llama"].ties, rows["llama"].battles) == (
        1,
        3,
        2,
        6,
    )
    assert [row.rating for row in board.rows] == sorted((row.rating for row in board.rows), reverse=True)
    assert board.models == [row.model for row in board.rows]
    assert all(row.ci_low <= row.rating <= row.ci_high for row in board.rows)
    assert board.rows[0].rank == 1
    assert abs(np.mean([row.rating for row in board.rows]) - 1000.0) < 1e-9


def test_matrices_follow_the_rating_order() -> None:
    board = compute_leaderboard(BATTLES, bootstrap_rounds=0)
    i, j = board.models.index("gpt-4"), board.models.index("llama")
    assert board.battle_count[i, j] == board.battle_count[j, i] == 3
    # gpt-4 v llama: two wins and a tie: 2.5 / 3.
    assert board.win_rate[i, j] == pytest.approx(2.5 / 3) and board.win_rate[j, i] == pytest.approx(0.5 / 3)
    assert np.isnan(board.win_rate[i, i])


def test_to_dict_is_json_ready() -> None:
    board = compute_leaderboard(BATTLES, bootstrap_rounds=50)
    data = json.loads(json.dumps(board.to_dict(), allow_nan=False))
    assert data["method"] == "bt" and data["parameters"]["bootstrap_rounds"] == 50
    assert data["win_rate"][0][0] is None and isinstance(data["battle_count"][0][1], int)
    assert set(data["rows"][0]) == {
        "model",
        "rating",
        "ci_low",
        "ci_high",
        "rank",
        "battles",
        "wins",
        "losses",
        "ties",
        "provisional",
    }
    assert data["style_coefficients"] is None


def test_anchor_pins_one_model_in_every_method() -> None:
    arrays = simulate_tournament(np.linspace(-1, 1, 5), 1500, seed=8)
    for method in ("bt", "elo"):
        board = compute_leaderboard(
            arrays, method=method, bootstrap_rounds=40, anchor="model-02", anchor_rating=1200.0
        )  # type: ignore[arg-type]
        row = next(r for r in board.rows if r.model == "model-02")
        assert row.rating == pytest.approx(1200.0) and row.ci_low == pytest.approx(1200.0) == row.ci_high
    with pytest.raises(ValueError, match="anchor"):
        compute_leaderboard(arrays, anchor="nobody")


def test_elo_without_bootstrap_or_permutations_has_a_point_interval() -> None:
    board = compute_leaderboard(BATTLES, method="elo", bootstrap_rounds=0)
    assert all(row.ci_low == row.rating == row.ci_high for row in board.rows)
    with pytest.raises(ValueError, match="Bradley"):
        compute_leaderboard(BATTLES, method="elo", style_control=True)


def test_columnar_and_object_battles_give_the_same_board() -> None:
    from_objects = compute_leaderboard(BATTLES, bootstrap_rounds=30, seed=2).to_dict()
    from_arrays = compute_leaderboard(
        BattleArrays.from_battles(BATTLES), bootstrap_rounds=30, seed=2
    ).to_dict()
    assert from_objects == from_arrays


def _with_newcomers() -> BattleArrays:
    """20 well-measured models plus one whose only battle was a tie and one with two battles."""
    arrays = simulate_tournament(np.linspace(-1.5, 1.5, 20), 60000, seed=3)
    names = [*arrays.models, "newcomer", "twice"]
    a = np.concatenate([arrays.model_a, [20, 21, 21]])
    b = np.concatenate([arrays.model_b, [10, 4, 7]])
    outcome = np.concatenate([arrays.outcome, [2, 0, 1]])
    return BattleArrays.from_arrays(names, a, b, outcome)


def test_weak_prior_gives_few_battles_a_wide_interval_and_moves_measured_models_under_half_a_point() -> None:
    arrays = _with_newcomers()
    plain = {
        r.model: r for r in compute_leaderboard(arrays, bootstrap_rounds=200, seed=1, min_battles=30).rows
    }
    prior = {
        r.model: r
        for r in compute_leaderboard(
            arrays, bootstrap_rounds=200, seed=1, min_battles=30, prior_sd=400.0
        ).rows
    }
    # Without the prior a lone tie against an average model resamples to (nearly) a point.
    assert plain["newcomer"].ci_high - plain["newcomer"].ci_low < 100
    for name in ("newcomer", "twice"):
        assert prior[name].ci_high - prior[name].ci_low > 500, prior[name]
        assert prior[name].ci_low <= prior[name].rating <= prior[name].ci_high
    measured = [m for m in arrays.models if m.startswith("model-")]
    assert min(plain[m].battles for m in measured) > 5000
    for m in measured:
        assert abs(plain[m].rating - prior[m].rating) < 0.5
        assert abs(plain[m].ci_low - prior[m].ci_low) < 0.5 and abs(plain[m].ci_high - prior[m].ci_high) < 0.5


def test_provisional_models_come_after_the_ranked_ones_and_do_not_rank_them() -> None:
    board = compute_leaderboard(
        _with_newcomers(), bootstrap_rounds=100, seed=2, min_battles=30, prior_sd=400.0
    )
    flags = [r.provisional for r in board.rows]
    assert flags == sorted(flags) and flags.count(True) == 2
    assert {r.model for r in board.rows if r.provisional} == {"newcomer", "twice"}
    ranked = [r for r in board.rows if not r.provisional]
    assert ranked[0].rank == 1
    # The mean of the ranked models sits at init: the provisional ones do not shift them.
    assert abs(np.mean([r.rating for r in ranked]) - 1000.0) < 1e-6
    assert any("provisional" in note for note in board.notes)
    assert board.models == [r.model for r in board.rows]


def test_rank_counts_models_whose_lower_bound_is_above_the_upper_bound_and_never_goes_down_then_up() -> None:
    # One wide-interval model rated above narrow ones: sorted by rating alone the ranks would
    # read 1, 1, 2, ... with the wide model's rank below a later one's.
    arrays = simulate_tournament(np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 0.75]), 4000, seed=5)
    keep = ~((arrays.model_a == 7) | (arrays.model_b == 7))
    keep[np.flatnonzero(~keep)[:12]] = True  # model-07: a dozen battles only
    arrays = BattleArrays.from_arrays(
        list(arrays.models), arrays.model_a[keep], arrays.model_b[keep], arrays.outcome[keep]
    )
    board = compute_leaderboard(arrays, bootstrap_rounds=200, seed=0)
    by_rating = [r.rank for r in sorted(board.rows, key=lambda r: -r.rating)]
    assert by_rating != sorted(by_rating)  # the case this test is about: rating order alone zigzags
    ranks = [r.rank for r in board.rows]
    assert ranks == sorted(ranks)
    for row in board.rows:
        above = sum(other.ci_low > row.ci_high for other in board.rows)
        assert row.rank == 1 + above
