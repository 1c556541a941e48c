"""Which raters' votes to trust: LMArena-style anomaly checks on a source's votes.

A rater is anomalous when their votes are unlikely under the Bradley-Terry fit of everyone's
votes, or when they pick one side of the screen far more often than chance, or when they vote
faster than anyone can read. Each rater gets one p-value per test:

- **likelihood**: the log-likelihood of the rater's decisive votes under the fitted strengths,
  against its distribution when an honest rater following the fit votes on the same battles:
  its mean and variance are exact sums over the votes, and the one-sided p-value (too
  unlikely) is the normal tail (the sum of many independent votes; a Monte Carlo test could
  not reach the small p-values a thousand raters' multiple-testing correction needs);
- **position**: a two-sided exact binomial test of the share of decisive votes for the answer
  shown first (left), where the order is recorded (an always-left rater is as unlikely as a
  random one under the fit, and this finds them with far fewer votes).

The smaller of the two, doubled (Bonferroni over the two tests), is the rater's p-value; the
Benjamini-Hochberg procedure over all raters at ``fdr`` decides who is flagged, so the share of
honest raters among the flagged stays near ``fdr`` however many raters there are. Separately a
rater is flagged ``too_fast`` when more than ``fast_share`` of their votes came faster than
the reading-speed floor the caller computed per vote (among raters with at least ``min_votes`` votes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr
from scipy.stats import binomtest

from arena.ratings.arrays import A_WINS, B_WINS
from arena.ratings.bradley_terry import win_probability


@dataclass(frozen=True)
class RaterCheck:
    """Per rater (index order of the caller's rater codes)."""

    votes: NDArray[np.int64]
    decisive: NDArray[np.int64]
    p_likelihood: NDArray[np.float64]
    p_position: NDArray[np.float64]
    p_value: NDArray[np.float64]
    unlikely: NDArray[np.bool_]
    too_fast: NDArray[np.bool_]

    @property
    def flagged(self) -> NDArray[np.bool_]:
        return np.asarray(self.unlikely | self.too_fast, dtype=np.bool_)

    def to_rows(self, names: list[str]) -> list[dict[str, Any]]:
        return [
            {
                "rater": names[i],
                "votes": int(self.votes[i]),
                "decisive": int(self.decisive[i]),
                "p_likelihood": float(self.p_likelihood[i]),
                "p_position": float(self.p_position[i]),
                "p_value": float(self.p_value[i]),
                "unlikely": bool(self.unlikely[i]),
                "too_fast": bool(self.too_fast[i]),
            }
            for i in range(len(names))
        ]


def benjamini_hochberg(p: NDArray[np.float64], fdr: float) -> NDArray[np.bool_]:
    """Which hypotheses the Benjamini-Hochberg step-up procedure rejects at false discovery rate ``fdr``."""
    m = p.size
    if m == 0:
        return np.zeros(0, dtype=np.bool_)
    order = np.argsort(p, kind="stable")
    below = p[order] <= fdr * np.arange(1, m + 1) / m
    rejected = np.zeros(m, dtype=np.bool_)
    if below.any():
        rejected[order[: int(np.flatnonzero(below).max()) + 1]] = True
    return rejected


def rater_check(
    rater: NDArray[np.intp],
    model_a: NDArray[np.intp],
    model_b: NDArray[np.intp],
    outcome: NDArray[np.int8],
    theta: NDArray[np.float64],
    *,
    n_raters: int,
    first_shown_a: NDArray[np.bool_] | None = None,
    too_fast: NDArray[np.bool_] | None = None,
    fdr: float = 0.05,
    fast_share: float = 0.5,
    min_votes: int = 5,
) -> RaterCheck:
    """The anomaly checks of the module docstring for every rater code 0 .. n_raters-1.

    ``theta``: natural-log strengths of the fit of all votes; ``outcome`` uses the battle codes
    (A_WINS, B_WINS, ties and both-bad are not decisive); ``first_shown_a``: whether model_a was
    on the left (None: not recorded, no position test); ``too_fast``: per vote, below the
    reading-speed floor. Raters with fewer than ``min_votes`` decisive votes get p = 1, and
    fewer than ``min_votes`` votes are never too fast (one quick vote says little).
    """
    decisive = (outcome == A_WINS) | (outcome == B_WINS)
    votes = np.bincount(rater, minlength=n_raters)
    r, a, b = rater[decisive], model_a[decisive], model_b[decisive]
    a_won = outcome[decisive] == A_WINS
    n_decisive = np.bincount(r, minlength=n_raters)
    p_a = np.clip(win_probability(theta[a] - theta[b]), 1e-12, 1 - 1e-12)
    log_win, log_loss = np.log(p_a), np.log1p(-p_a)
    observed = np.bincount(r, weights=np.where(a_won, log_win, log_loss), minlength=n_raters)
    # Under the null each vote's log-likelihood is log p or log(1 - p) with probabilities p and
    # 1 - p: its mean and variance are exact, and a rater's sum is close to normal.
    mean = np.bincount(r, weights=p_a * log_win + (1 - p_a) * log_loss, minlength=n_raters)
    variance = np.bincount(r, weights=p_a * (1 - p_a) * (log_win - log_loss) ** 2, minlength=n_raters)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (observed - mean) / np.sqrt(variance)
    p_likelihood = np.where(variance > 0, ndtr(np.nan_to_num(z, nan=0.0)), 1.0)
    p_position = np.ones(n_raters)
    if first_shown_a is not None:
        left_won = np.where(first_shown_a[decisive], a_won, ~a_won)
        lefts = np.bincount(r, weights=left_won.astype(np.float64), minlength=n_raters).astype(np.int64)
        for i in np.flatnonzero(n_decisive >= min_votes):
            p_position[i] = binomtest(int(lefts[i]), int(n_decisive[i]), 0.5).pvalue
    p_likelihood[n_decisive < min_votes] = 1.0
    p_value = np.minimum(1.0, 2.0 * np.minimum(p_likelihood, p_position))
    unlikely = benjamini_hochberg(p_value, fdr)
    fast = np.zeros(n_raters, dtype=np.bool_)
    if too_fast is not None:
        fast_votes = np.bincount(rater, weights=too_fast.astype(np.float64), minlength=n_raters)
        with np.errstate(invalid="ignore", divide="ignore"):
            fast = (votes >= min_votes) & (fast_votes / np.maximum(votes, 1) > fast_share)
    return RaterCheck(
        votes=votes.astype(np.int64),
        decisive=n_decisive.astype(np.int64),
        p_likelihood=p_likelihood,
        p_position=p_position,
        p_value=p_value,
        unlikely=unlikely,
        too_fast=fast,
    )
