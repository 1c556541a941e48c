"""Online Elo as Chatbot Arena and QLoRA compute it, over one or many battle orders at once.

After each battle: E_a = 1 / (1 + base ** ((R_b - R_a) / scale)), R_a += k (S_a - E_a),
R_b -= k (S_a - E_a), with S_a = 1, 0 or 0.5 for a win, loss or tie. Chatbot Arena used
k = 4, scale 400, base 10, initial rating 1000; QLoRA (Dettmers et al. 2023) used k = 32 and
reported the mean over 10,000 random orders, because online Elo depends on the order.

Online Elo is sequential (each update reads what the last one wrote), so the loops run
compiled (``_elo_kernels``, numba) at a few nanoseconds per battle. Many random orders: each
order is shuffled by NumPy's own algorithm right before it is played, so nothing the size of
battles x orders is ever held in memory.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import ArrayLike, NDArray

from arena.ratings.arrays import A_WINS, B_WINS, BOTH_BAD, BattleArrays

# Bootstrap resamples are drawn in blocks so a block's (rounds, battles) index matrix stays near
# this size; the block size is part of the seeded stream, so it must not change.
ORDER_BLOCK_ELEMENTS = 12_500_000
# Random orders are shuffled and played in blocks of about this many battles (two 8 MB buffers).
PLAY_BLOCK_ELEMENTS = 1_000_000


def elo_scores(
    arrays: BattleArrays, *, both_bad_as_tie: bool = True
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """(battles used, score of model_a): 1 win, 0 loss, 0.5 tie; ``both_bad`` a tie or left out."""
    used = np.ones(len(arrays), dtype=np.bool_) if both_bad_as_tie else arrays.outcome != BOTH_BAD
    score = np.full(len(arrays), 0.5)
    score[arrays.outcome == A_WINS] = 1.0
    score[arrays.outcome == B_WINS] = 0.0
    return used, score


class _Scale:
    """Ratings are kept multiplied by ``slope`` = ln(base) / scale, so the expected score is
    1 / (1 + exp(x_b - x_a)) and a step is ``slope * k``."""

    def __init__(self, *, k: float, init: float, scale: float, base: float) -> None:
        self.slope = float(np.log(base) / scale)
        self.start = init * self.slope
        self.step = self.slope * k

    def ratings(self, rows: int, n_models: int) -> NDArray[np.float64]:
        return np.full((rows, n_models), self.start, dtype=np.float64)

    def to_elo(self, ratings: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(ratings / self.slope, dtype=np.float64)


# The same as _elo_kernels.MODEL_BITS, here so that packing does not import numba.
_MODEL_BITS = 21


def pack_battles(model_a: ArrayLike, model_b: ArrayLike, score_a: ArrayLike) -> NDArray[np.int64]:
    """One int64 per battle, the form the compiled loops read (see ``_elo_kernels``)."""
    a = np.asarray(model_a, dtype=np.int64)
    b = np.asarray(model_b, dtype=np.int64)
    twice = np.asarray(score_a, dtype=np.float64) * 2.0
    twice_score = np.rint(twice).astype(np.int64)
    if twice.size and (
        twice_score.min() < 0 or twice_score.max() > 2 or not np.array_equal(twice_score, twice)
    ):
        raise ValueError("Elo scores must be 0, 0.5 or 1")
    if a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= 2**_MODEL_BITS):
        raise ValueError(f"Elo takes model indices from 0 to {2**_MODEL_BITS - 1}")
    return np.asarray(a | (b << _MODEL_BITS) | (twice_score << (2 * _MODEL_BITS)), dtype=np.int64)


def elo_over_orders(
    model_a: NDArray[np.intp],
    model_b: NDArray[np.intp],
    score_a: NDArray[np.float64],
    n_models: int,
    orders: NDArray[np.integer],
    *,
    k: float = 4.0,
    init: float = 1000.0,
    scale: float = 400.0,
    base: float = 10.0,
) -> NDArray[np.float64]:
    """Online Elo ratings (P, n_models) after playing the battles in each row of ``orders``.

    Online Elo as in Chatbot Arena's ``compute_online_elo``; ties score half. Row p of
    ``orders`` lists battle indices in the order they are played (a permutation, or a
    bootstrap resample drawn with replacement).
    """
    from arena.ratings._elo_kernels import play_rows

    packed = pack_battles(model_a, model_b, score_a)
    units = _Scale(k=k, init=init, scale=scale, base=base)
    rows = np.atleast_2d(orders)
    ratings = units.ratings(rows.shape[0], n_models)
    play_rows(packed[rows], ratings, units.step)
    return units.to_elo(ratings)


def online_elo(
    arrays: BattleArrays,
    *,
    k: float = 4.0,
    init: float = 1000.0,
    scale: float = 400.0,
    base: float = 10.0,
    both_bad_as_tie: bool = True,
) -> NDArray[np.float64]:
    """Online Elo over the battles in chronological order (``BattleArrays.chronological_order``)."""
    used, score = elo_scores(arrays, both_bad_as_tie=both_bad_as_tie)
    order = arrays.chronological_order()
    order = order[used[order]]
    ratings = elo_over_orders(
        arrays.model_a,
        arrays.model_b,
        score,
        arrays.n_models,
        order[None],
        k=k,
        init=init,
        scale=scale,
        base=base,
    )
    return np.asarray(ratings[0], dtype=np.float64)


class _NumpyOrders:
    """The battles in each random order ``np.random.default_rng(seed).permuted`` makes, one
    order at a time.

    ``random_orders`` (all at once, with NumPy) is the reference; this makes the same orders
    from the generator's raw stream without holding them all (see ``_elo_kernels``).
    """

    def __init__(self, battles: NDArray[np.int64], seed: int) -> None:
        if battles.shape[0] >= 2**32:
            raise ValueError("NumPy shuffles orders this long with 64-bit draws: not supported here")
        self._rng = np.random.default_rng(seed)
        self._battles = battles
        self._raw = np.empty(0, dtype=np.uint64)
        self._cursor = np.zeros(3, dtype=np.uint64)  # see _elo_kernels.shuffle_from_raw
        self._refill = max(battles.shape[0], 4096)

    def next_into(self, order: NDArray[np.int64]) -> NDArray[np.int64]:
        from arena.ratings._elo_kernels import shuffle_from_raw

        order[:] = self._battles
        resume = order.shape[0] - 1
        while resume >= 1:
            resume = shuffle_from_raw(order, resume, self._raw, self._cursor)
            if resume:
                self._raw = self._rng.bit_generator.random_raw(self._refill)
        return order


def random_orders(n_battles: int, permutations: int, seed: int) -> NDArray[np.intp]:
    """The ``permutations`` random orders (one per row) that ``elo_over_random_orders`` plays:
    row p is the p-th shuffle of ``range(n_battles)`` by ``np.random.default_rng(seed)``.

    For checking and small data only: the Elo code never holds all orders at once.
    """
    rng = np.random.default_rng(seed)
    identity = np.arange(n_battles, dtype=np.intp)
    return np.asarray(
        rng.permuted(np.broadcast_to(identity, (permutations, n_battles)), axis=1), dtype=np.intp
    )


def elo_over_random_orders(
    arrays: BattleArrays,
    *,
    permutations: int,
    seed: int,
    k: float = 4.0,
    init: float = 1000.0,
    scale: float = 400.0,
    base: float = 10.0,
    both_bad_as_tie: bool = True,
) -> NDArray[np.float64]:
    """Online Elo after each of ``permutations`` random orders: a (permutations, n_models) array.

    QLoRA's order-averaged Elo (Dettmers et al. 2023) is the column mean of this; its spread is
    how much the order alone moves a rating. The orders are ``random_orders(n, permutations,
    seed)`` over the battles used.
    """
    from arena.ratings._elo_kernels import play_rows

    used, score = elo_scores(arrays, both_bad_as_tie=both_bad_as_tie)
    kept = np.flatnonzero(used)
    battles = pack_battles(arrays.model_a[kept], arrays.model_b[kept], score[kept])
    units = _Scale(k=k, init=init, scale=scale, base=base)
    ratings = units.ratings(permutations, arrays.n_models)
    orders = _NumpyOrders(battles, seed)
    # Two threads (both loops release the GIL): one block of orders is shuffled while the one
    # before is played. The shuffle is one sequential random stream, so it cannot be split;
    # blocks keep the hand-overs few (a thread's wake-up can take milliseconds on a busy machine).
    block = max(1, min(permutations, PLAY_BLOCK_ELEMENTS // max(kept.size, 1)))
    buffers = (np.empty((block, kept.size), dtype=np.int64), np.empty((block, kept.size), dtype=np.int64))
    with ThreadPoolExecutor(max_workers=1) as player:
        playing = None
        for number, start in enumerate(range(0, permutations, block)):
            size = min(block, permutations - start)
            shuffled = buffers[number % 2][:size]
            for order in shuffled:
                orders.next_into(order)
            if playing is not None:
                playing.result()
            playing = player.submit(play_rows, shuffled, ratings[start : start + size], units.step)
        if playing is not None:
            playing.result()
    return units.to_elo(ratings)


def bootstrap_elo(
    arrays: BattleArrays,
    *,
    rounds: int,
    seed: int,
    shuffle: bool,
    k: float = 4.0,
    init: float = 1000.0,
    scale: float = 400.0,
    base: float = 10.0,
    both_bad_as_tie: bool = True,
) -> NDArray[np.float64]:
    """Online Elo on ``rounds`` bootstrap resamples of the battles: a (rounds, n_models) array.

    Each round draws as many battles as there are, with replacement. With ``shuffle`` the
    resample is played in random order (Chatbot Arena's Elo bootstrap, and the natural
    companion of the permutation mean); without, in chronological order, matching the
    chronological point estimate. Elo depends on the order, so unlike Bradley-Terry it cannot
    be aggregated: the cost is rounds x battles (vectorised over rounds).
    """
    from arena.ratings._elo_kernels import play_counts, play_rows

    used, score = elo_scores(arrays, both_bad_as_tie=both_bad_as_tie)
    chronological = arrays.chronological_order()
    chronological = chronological[used[chronological]]
    n = chronological.size
    battles = pack_battles(arrays.model_a, arrays.model_b, score)[chronological]
    units = _Scale(k=k, init=init, scale=scale, base=base)
    ratings = units.ratings(rounds, arrays.n_models)
    rng = np.random.default_rng(seed)
    block = max(1, ORDER_BLOCK_ELEMENTS // max(n, 1))
    for start in range(0, rounds, block):
        size = min(block, rounds - start)
        positions = rng.integers(0, n, size=(size, n)) if n else np.empty((size, 0), dtype=np.intp)
        if shuffle:
            play_rows(battles[positions], ratings[start : start + size], units.step)
            continue
        # Played in chronological order: the sorted resample is each battle as many times as
        # it was drawn, so count the draws instead of sorting them.
        for offset, drawn in enumerate(positions):
            play_counts(battles, np.bincount(drawn, minlength=n), ratings[start + offset], units.step)
    return units.to_elo(ratings)
