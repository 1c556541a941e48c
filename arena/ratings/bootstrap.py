"""Bootstrap confidence intervals for Bradley-Terry ratings, and ranks that respect them.

Resampling N battles with replacement only changes how many battles land in each aggregated
cell (pair, outcome); the cell counts of one resample are Multinomial(N, observed shares).
So each round draws that multinomial directly over the few thousand cells instead of a
million battle indices, builds its win matrices, and all rounds are fitted together by the
batched Newton of ``bradley_terry`` warm-started from the full-data fit. This is the same
distribution as Chatbot Arena's "resample battles, refit" bootstrap, at a cost that does not
grow with the number of battles.

Rounds are cut into fixed-size chunks, each with its own child of the seed's
``SeedSequence``: the numbers depend on the seed only, never on how many worker threads ran
the chunks (NumPy's sampling and linear algebra release the GIL, so threads do help).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

from arena.ratings.arrays import A_WINS, B_WINS, BOTH_BAD, TIE
from arena.ratings.bradley_terry import (
    BOOTSTRAP_NEWTON_TOLERANCE,
    fit_bradley_terry,
    mle_exists,
    mle_exists_each,
)

ROUNDS_PER_CHUNK = 100


def worker_count() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def run_in_chunks(
    rounds: int,
    seed: int,
    work: Callable[[np.random.Generator, int], NDArray[np.float64]],
    *,
    chunk: int = ROUNDS_PER_CHUNK,
) -> NDArray[np.float64]:
    """Run ``work(rng, size)`` over ``rounds`` in chunks seeded independently, stacked in order."""
    sizes = [min(chunk, rounds - start) for start in range(0, rounds, chunk)]
    children = np.random.SeedSequence(seed).spawn(len(sizes))
    jobs = list(zip(children, sizes, strict=True))
    if len(jobs) <= 1 or worker_count() == 1:
        parts = [work(np.random.default_rng(child), size) for child, size in jobs]
    else:
        with ThreadPoolExecutor(max_workers=worker_count()) as pool:
            parts = list(pool.map(lambda job: work(np.random.default_rng(job[0]), job[1]), jobs))
    return np.concatenate(parts, axis=0)


def multinomial_rows(
    rng: np.random.Generator, total: int, shares: NDArray[np.float64], rounds: int
) -> NDArray[np.int64]:
    """``rounds`` exact draws of Multinomial(total, shares), about twice as fast as NumPy's.

    NumPy draws a multinomial as one binomial per cell. Here: independent Poisson counts with
    mean (total - 2 sqrt(total)) * share, which given their sum S are Multinomial(S, shares);
    a row with S > total (probability ~2 %) is drawn again; the missing total - S battles are
    then drawn one by one from the shares (inverse CDF) and added. Given S the sum is
    Multinomial(S) + Multinomial(total - S) = Multinomial(total), so the result is exact.
    """
    k = shares.shape[0]
    cdf = np.cumsum(shares)
    cdf /= cdf[-1]
    mean_total = max(total - 2.0 * np.sqrt(total), 0.0)
    drawn = rng.poisson(mean_total * shares, size=(rounds, k))
    sums = drawn.sum(axis=1)
    while (over := np.flatnonzero(sums > total)).size:
        drawn[over] = rng.poisson(mean_total * shares, size=(over.size, k))
        sums[over] = drawn[over].sum(axis=1)
    missing = total - sums
    row_of_extra = np.repeat(np.arange(rounds), missing)
    cell_of_extra = np.minimum(np.searchsorted(cdf, rng.random(row_of_extra.size), side="right"), k - 1)
    drawn += np.bincount(row_of_extra * k + cell_of_extra, minlength=rounds * k).reshape(rounds, k)
    return drawn


def resample_occupied(rng: np.random.Generator, counts: NDArray[np.int64], rounds: int) -> NDArray[np.int64]:
    """``rounds`` bootstrap redraws of the nonzero entries of ``counts``: (rounds, nonzero cells).

    Column j belongs to cell ``np.flatnonzero(counts)[j]`` (every other cell stays empty in a
    resample). Resampling the N battles with replacement gives Multinomial(N, counts / N)
    cell counts. With few cells per battle (Bradley-Terry pairs) that multinomial is drawn
    directly (``multinomial_rows``); when nearly every battle has a cell of its own (style rows
    with distinct token counts) drawing N battle indices per round is cheaper, and the same
    thing.
    """
    nonzero = np.flatnonzero(counts)
    total = int(counts.sum())
    if total == 0:
        return np.zeros((rounds, 0), dtype=np.int64)
    if 4 * nonzero.size < total:
        return multinomial_rows(rng, total, counts[nonzero] / total, rounds)
    # With one battle per cell (the usual style case) battle i is cell i: skip the lookup.
    one_each = nonzero.size == total
    # int32 halves the table every draw is looked up in (a million random reads a round): faster
    # once the int64 table no longer fits a core's cache (bench_ratings.py; PERFORMANCE.md).
    cell_of_battle = np.repeat(
        np.arange(nonzero.size, dtype=np.int32 if nonzero.size < 2**31 else np.intp), counts[nonzero]
    )
    out = np.empty((rounds, nonzero.size), dtype=np.int64)
    for r in range(rounds):  # one draw of N indices per round: the work is N, not the loop
        drawn = rng.integers(0, total, size=total)
        out[r] = np.bincount(drawn if one_each else cell_of_battle[drawn], minlength=nonzero.size)
    return out


def resample_cells(rng: np.random.Generator, counts: NDArray[np.int64], rounds: int) -> NDArray[np.int64]:
    """``rounds`` bootstrap redraws of the cell counts ``counts``: (rounds, cells), exact.

    The same draws as ``resample_occupied`` (same generator, same numbers), spread back over
    all cells.
    """
    out = np.zeros((rounds, counts.size), dtype=np.int64)
    out[:, np.flatnonzero(counts)] = resample_occupied(rng, counts, rounds)
    return out


class PairCells:
    """The aggregated cells of a win matrix: per unordered pair (i < j), i-wins, j-wins, ties."""

    def __init__(self, counts: NDArray[np.int64], *, both_bad_as_tie: bool) -> None:
        n = counts.shape[0]
        first, second = np.triu_indices(n, k=1)
        i_wins = counts[first, second, A_WINS] + counts[second, first, B_WINS]
        j_wins = counts[first, second, B_WINS] + counts[second, first, A_WINS]
        ties = counts[first, second, TIE] + counts[second, first, TIE]
        if both_bad_as_tie:
            ties = ties + counts[first, second, BOTH_BAD] + counts[second, first, BOTH_BAD]
        cells = np.stack([i_wins, j_wins, ties], axis=1).astype(np.int64)
        met = cells.sum(axis=1) > 0
        self.n_models = n
        self.first = first[met]
        self.second = second[met]
        self.cells = cells[met]  # (pairs, 3)
        flat = self.cells.ravel()
        self.nonzero = np.flatnonzero(flat)
        self.total = int(flat.sum())
        self.shares = flat[self.nonzero] / max(self.total, 1)

    def wins(self, cells: NDArray[np.int64]) -> NDArray[np.float64]:
        """Win matrices (R, n, n) from per-pair cells (R, pairs, 3), ties counting half."""
        rounds = cells.shape[0]
        wins = np.zeros((rounds, self.n_models, self.n_models))
        half_ties = 0.5 * cells[:, :, 2]
        wins[:, self.first, self.second] = cells[:, :, 0] + half_ties
        wins[:, self.second, self.first] = cells[:, :, 1] + half_ties
        return wins

    def resample(self, rng: np.random.Generator, rounds: int) -> NDArray[np.int64]:
        """Cells of ``rounds`` bootstrap resamples: Multinomial(N, observed shares) each."""
        drawn = multinomial_rows(rng, self.total, self.shares, rounds)
        cells = np.zeros((rounds, self.cells.size), dtype=np.int64)
        cells[:, self.nonzero] = drawn
        return cells.reshape(rounds, -1, 3)


def bootstrap_bradley_terry(
    counts: NDArray[np.int64],
    *,
    rounds: int,
    seed: int,
    both_bad_as_tie: bool,
    prior_precision: float,
    theta_full: NDArray[np.float64],
    always_prior: bool = False,
) -> NDArray[np.float64]:
    """Log-strengths (rounds, n) of Bradley-Terry fits to ``rounds`` bootstrap resamples.

    Nonparametric bootstrap of the Bradley-Terry MLE (as in Chatbot Arena), drawn as a
    multinomial over the aggregated cells (see the module docstring). A resample whose
    win/tie graph lost an edge is checked again for a finite MLE; those without one get the
    same prior as degenerate full data (``bradley_terry`` module docstring). With
    ``always_prior`` every round uses the prior (the leaderboard's weak prior).
    """
    pairs = PairCells(counts, both_bad_as_tie=both_bad_as_tie)
    full_wins = pairs.wins(pairs.cells[None])[0]
    full_exists = mle_exists(full_wins)

    def work(rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        cells = pairs.resample(rng, size)
        wins = pairs.wins(cells)
        # Only a resample that lost an edge of the win/tie graph can lose connectivity.
        lost_edge = ((wins == 0) & (full_wins > 0)).any(axis=(1, 2))
        degenerate = np.full(size, always_prior or not full_exists)
        if full_exists and not always_prior and lost_edge.any():
            degenerate[lost_edge] = ~mle_exists_each(wins[lost_edge])
        return fit_bradley_terry(
            wins,
            prior_precision=prior_precision,
            theta_start=theta_full,
            degenerate=degenerate,
            tolerance=BOOTSTRAP_NEWTON_TOLERANCE,
        ).theta

    return run_in_chunks(rounds, seed, work)


def percentile_interval(
    samples: NDArray[np.float64], ci: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Percentile bootstrap interval per column: the (1-ci)/2 and (1+ci)/2 quantiles."""
    if not 0.0 < ci < 1.0:
        raise ValueError("ci must lie strictly between 0 and 1")
    low, high = np.quantile(samples, [(1.0 - ci) / 2.0, (1.0 + ci) / 2.0], axis=0)
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def rank_by_intervals(
    ci_low: NDArray[np.float64], ci_high: NDArray[np.float64], ranked: NDArray[np.bool_] | None = None
) -> NDArray[np.int64]:
    """Rank that respects uncertainty: 1 + number of models whose interval lies wholly above
    (their lower bound above this model's upper bound).

    Chatbot Arena's (LMArena's) rank: a model only ranks below those it is clearly behind, so
    models with overlapping intervals share a rank. With ``ranked`` only those models count as
    being above (provisional ones are not ranked against).
    """
    above = ci_low[None, :] > ci_high[:, None]
    if ranked is not None:
        above &= ranked[None, :]
    return np.asarray(1 + above.sum(axis=1), dtype=np.int64)


def prompt_resamples(rng: np.random.Generator, n_prompts: int, rounds: int) -> NDArray[np.float64]:
    """(rounds, n_prompts): how often each prompt is drawn when the prompts are resampled with
    replacement. Reports whose unit is the prompt (scores, win rates against a baseline) take
    weighted sums with it, so every round costs one matrix product."""
    draws = rng.integers(0, n_prompts, size=(rounds, n_prompts))
    counts = np.zeros((rounds, n_prompts), dtype=np.float64)
    np.add.at(counts, (np.arange(rounds)[:, None], draws), 1.0)
    return counts
