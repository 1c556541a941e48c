"""Anomalous raters (issue 18): the likelihood and position checks find planted random and
always-left voters, flag almost no honest ones, and the clean votes rate models closer to the truth."""

from __future__ import annotations

import numpy as np

from arena.ratings.arrays import BattleArrays, outcome_counts, pairwise_wins
from arena.ratings.bradley_terry import degenerate_prior_precision, fit_bradley_terry
from arena.ratings.raters import benjamini_hochberg, rater_check

ELO_PER_NAT = 400 / np.log(10)


def _arena(seed: int, *, n_models: int = 20, n_raters: int = 1000, votes_each: int = 100):
    """20 models with known strengths; 1,000 raters of whom 5 % vote at random and 2 % always
    choose the left answer; everyone votes on random pairs shown in random order."""
    rng = np.random.default_rng(seed)
    truth = np.linspace(-1.5, 1.5, n_models)
    kind = np.zeros(n_raters, dtype=np.int64)
    shuffled = rng.permutation(n_raters)
    kind[shuffled[: n_raters * 5 // 100]] = 1
    kind[shuffled[n_raters * 5 // 100 : n_raters * 7 // 100]] = 2
    rater = np.repeat(np.arange(n_raters), votes_each)
    a = rng.integers(0, n_models, rater.size)
    b = (a + rng.integers(1, n_models, rater.size)) % n_models
    a_left = rng.random(rater.size) < 0.5
    a_wins = rng.random(rater.size) < 1.0 / (1.0 + np.exp(truth[b] - truth[a]))
    a_wins = np.where(kind[rater] == 1, rng.random(rater.size) < 0.5, a_wins)
    a_wins = np.where(kind[rater] == 2, a_left, a_wins)
    outcome = np.where(a_wins, 0, 1).astype(np.int8)
    return truth, kind, rater, a, b, a_left, outcome


def _theta(a, b, outcome, n_models=20):
    arrays = BattleArrays.from_arrays([f"m{i:02d}" for i in range(n_models)], a, b, outcome)
    wins = pairwise_wins(outcome_counts(arrays), both_bad_as_tie=True)
    return fit_bradley_terry(wins, prior_precision=degenerate_prior_precision(10.0)).theta


def test_the_anomaly_check_finds_planted_raters_and_clean_votes_rate_closer_to_the_truth() -> None:
    truth, kind, rater, a, b, a_left, outcome = _arena(seed=11)
    check = rater_check(rater, a, b, outcome, _theta(a, b, outcome), n_raters=kind.size, first_shown_a=a_left)
    planted = kind > 0
    found = check.flagged[planted].mean()
    honest_flagged = check.flagged[~planted].mean()

    def rmse(keep_raters: np.ndarray) -> float:
        keep = keep_raters[rater]
        theta = _theta(a[keep], b[keep], outcome[keep])
        return float(np.sqrt(np.mean((theta - (truth - truth.mean())) ** 2)) * ELO_PER_NAT)

    everyone, clean = rmse(np.ones(kind.size, dtype=bool)), rmse(~check.flagged)
    print(
        f"planted found {found:.1%} (random {check.flagged[kind == 1].mean():.1%}, always-left "
        f"{check.flagged[kind == 2].mean():.1%}); honest flagged {honest_flagged:.2%}; "
        f"RMSE all {everyone:.1f} Elo, clean {clean:.1f} Elo"
    )
    assert found >= 0.80
    assert honest_flagged <= 0.02
    assert clean < everyone


def test_raters_voting_faster_than_the_reading_floor_are_flagged() -> None:
    _truth, _kind, rater, a, b, a_left, outcome = _arena(seed=3, n_raters=100, votes_each=20)
    too_fast = (rater == 7) | (
        (rater == 8) & (np.arange(rater.size) % 4 == 0)
    )  # all of 7's votes, a quarter of 8's
    check = rater_check(
        rater, a, b, outcome, _theta(a, b, outcome), n_raters=100, first_shown_a=a_left, too_fast=too_fast
    )
    assert check.too_fast[7] and not check.too_fast[8]
    assert check.flagged[7]


def test_few_votes_are_never_flagged_and_benjamini_hochberg_steps_up() -> None:
    rater = np.array([0, 0, 1, 1, 1, 1, 1, 1])
    a = np.zeros(8, dtype=np.intp)
    b = np.ones(8, dtype=np.intp)
    outcome = np.ones(8, dtype=np.int8)  # everyone says the much stronger model 0 lost
    check = rater_check(rater, a, b, outcome, np.array([3.0, -3.0]), n_raters=2, min_votes=5)
    assert check.p_likelihood[0] == 1.0 and check.p_likelihood[1] < 1e-6
    assert list(check.flagged) == [False, True]
    # Step-up: 0.03 is above 0.05 * 2/4, but 0.035 <= 0.05 * 3/4 rejects everything up to it.
    assert list(benjamini_hochberg(np.array([0.001, 0.035, 0.03, 0.9]), 0.05)) == [True, True, True, False]
    assert list(benjamini_hochberg(np.array([0.02, 0.9]), 0.05)) == [True, False]


def test_too_fast_needs_enough_votes_to_say_so() -> None:
    rater = np.array([0, 1, 1, 1, 1, 1])
    a, b = np.zeros(6, dtype=np.intp), np.ones(6, dtype=np.intp)
    outcome = np.array([0, 0, 1, 0, 1, 0], dtype=np.int8)
    fast = np.ones(6, dtype=bool)
    check = rater_check(rater, a, b, outcome, np.zeros(2), n_raters=2, too_fast=fast, min_votes=5)
    assert check.too_fast.tolist() == [False, True]  # one quick vote says little; five all quick do
