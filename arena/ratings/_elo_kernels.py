"""Compiled loops behind ``elo``: online Elo is sequential, one small update per battle.

Online Elo cannot be vectorised over battles (each update reads the ratings the last one
wrote), so NumPy pays about 14 calls per battle, slower than FastChat's plain loop
(bench_waits.py; PERFORMANCE.md). These loops are compiled once by numba (cached on disk beside
this file). This module is imported only when an Elo rating is computed:
numba's own import would otherwise slow every process that touches the rating package.

The random orders are NumPy's own: ``shuffle_from_raw`` is Generator.permuted's Fisher-Yates
(``_shuffle_raw`` with ``random_interval``: a masked 32-bit draw, redrawn while above the bound;
two 32-bit draws per 64-bit PCG64 output, low half first) fed with the generator's raw output,
so an order is shuffled next to the loop that plays it instead of being written out as a
(battles x orders) index matrix first. A test holds it to ``rng.permuted`` bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

_LOW32 = np.uint64(0xFFFFFFFF)

# A battle packed in one int64, so a shuffled order is the battles themselves, read front to
# back: model_a in bits 0-20, model_b in bits 21-41, twice model_a's score (0, 1, 2) above.
MODEL_BITS = 21
_MODEL_MASK = (1 << MODEL_BITS) - 1


@njit(cache=True, nogil=True)
def _update(battle: np.int64, ratings: NDArray[np.float64], step_size: float) -> None:
    """One Elo update on ratings kept in ``slope`` units (see ``elo._Scale``).

    The same operations in the same order as the NumPy loop this replaced:
    change = -step_size * (1 / (1 + exp(r_b - r_a)) - s_a); r_a += change; r_b -= change.
    """
    a = battle & _MODEL_MASK
    b = (battle >> MODEL_BITS) & _MODEL_MASK
    score_a = (battle >> (2 * MODEL_BITS)) * 0.5
    rating_a = ratings[a]
    rating_b = ratings[b]
    change = (1.0 / (np.exp(rating_b - rating_a) + 1.0) - score_a) * -step_size
    ratings[a] = rating_a + change
    ratings[b] = rating_b - change


@njit(cache=True, nogil=True)
def play(battles: NDArray[np.int64], ratings: NDArray[np.float64], step_size: float) -> None:
    """Play the packed ``battles`` in order on one row of ratings, in place."""
    for t in range(battles.shape[0]):
        _update(battles[t], ratings, step_size)


@njit(cache=True, nogil=True)
def play_rows(battles: NDArray[np.int64], ratings: NDArray[np.float64], step_size: float) -> None:
    """``play`` each row of ``battles`` (P, T) on the matching row of ``ratings`` (P, n)."""
    for p in range(battles.shape[0]):
        play(battles[p], ratings[p], step_size)


@njit(cache=True, nogil=True)
def play_counts(
    battles: NDArray[np.int64], times: NDArray[np.int64], ratings: NDArray[np.float64], step_size: float
) -> None:
    """Play ``battles[t]`` ``times[t]`` times in a row, for t in order: a sorted resample."""
    for t in range(battles.shape[0]):
        for _ in range(times[t]):
            _update(battles[t], ratings, step_size)


@njit(cache=True, nogil=True)
def shuffle_from_raw(
    order: NDArray[np.int64], start: int, raw: NDArray[np.uint64], cursor: NDArray[np.uint64]
) -> int:
    """Continue NumPy's Fisher-Yates on ``order`` from position ``start`` down to 1.

    NumPy shuffles ``range(n)``; shuffling the packed battles with the same swaps gives the
    battles in that permuted order directly.

    ``raw`` holds the generator's next 64-bit outputs and ``cursor`` the stream position
    (next index into ``raw``, whether a 32-bit half is buffered, that half). Returns 0 when the
    shuffle is done, else the position to resume from once ``raw`` is refilled (the stream
    state is saved in ``cursor``; a draw is never half consumed).
    """
    position = cursor[0]
    has_half = cursor[1]
    half = cursor[2]
    i = start
    while i >= 1:
        bound = np.uint64(i)
        mask = bound
        mask |= mask >> np.uint64(1)
        mask |= mask >> np.uint64(2)
        mask |= mask >> np.uint64(4)
        mask |= mask >> np.uint64(8)
        mask |= mask >> np.uint64(16)
        mask |= mask >> np.uint64(32)
        while True:
            if has_half:
                value = half
                has_half = np.uint64(0)
            else:
                if position >= raw.shape[0]:
                    cursor[0] = np.uint64(0)
                    cursor[1] = has_half
                    cursor[2] = half
                    return i
                word = raw[position]
                position += np.uint64(1)
                value = word & _LOW32
                half = word >> np.uint64(32)
                has_half = np.uint64(1)
            value &= mask
            if value <= bound:
                break
        j = np.intp(value)
        swap = order[i]
        order[i] = order[j]
        order[j] = swap
        i -= 1
    cursor[0] = position
    cursor[1] = has_half
    cursor[2] = half
    return 0
