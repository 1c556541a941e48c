"""Online Elo as Chatbot Arena and QLoRA compute it, over one or many battle orders at once.

After each battle: E_a = 1 / (1 + base ** ((R_b - R_a) / scale)), R_a += k (S_a - E_a),
R_b -= k (S_a - E_a), with S_a = 1, 0 or 0.5 for a win, loss or tie. Chatbot Arena used
k = 4, scale 400, base 10, initial rating 1000; QLoRA (Dettmers et al. 2023) used k = 32 and
reported the mean over 10,000 random orders, because online Elo depends on the order.

Many orders are computed together: a (P, n_models) rating matrix is updated for battle
position t = 0, 1, ... with fancy indexing, each row following its own order, so the Python
loop runs over the battles once instead of once per order.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from arena.ratings.arrays import A_WINS, B_WINS, BOTH_BAD, BattleArrays

# Orders are generated and run in blocks so a block's (T, P) index matrix stays near this size
# (25-50 MB of uint16/int32): bigger blocks mean fewer Python-level steps, smaller ones less memory.
ORDER_BLOCK_ELEMENTS = 12_500_000


def elo_scores(arrays: BattleArrays, *, both_bad_as_tie: bool = True) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """(battles used, score of model_a): 1 win, 0 loss, 0.5 tie; ``both_bad`` a tie or left out."""
    used = np.ones(len(arrays), dtype=np.bool_) if both_bad_as_tie else arrays.outcome != BOTH_BAD
    score = np.full(len(arrays), 0.5)
    score[arrays.outcome == A_WINS] = 1.0
    score[arrays.outcome == B_WINS] = 0.0
    return used, score


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
    by_step = np.ascontiguousarray(np.atleast_2d(orders).T)
    return _elo_by_step(model_a, model_b, score_a, n_models, by_step, k=k, init=init, scale=scale, base=base)


def _elo_by_step(
    model_a: NDArray[np.intp],
    model_b: NDArray[np.intp],
    score_a: NDArray[np.float64],
    n_models: int,
    by_step: NDArray[np.integer],
    *,
    k: float,
    init: float,
    scale: float,
    base: float,
) -> NDArray[np.float64]:
    """The loop behind ``elo_over_orders``; column p of ``by_step`` (T, P) is order p."""
    n_orders = by_step.shape[1]
    model_a = np.asarray(model_a, dtype=np.intp)
    model_b = np.asarray(model_b, dtype=np.intp)
    score_a = np.asarray(score_a, dtype=np.float64)
    slope = np.log(base) / scale
    # Ratings are kept multiplied by ``slope`` so the expected score is 1 / (1 + exp(x_b - x_a))
    # (base ** ((R_b - R_a) / scale) in those units); np.exp is several times faster than
    # scipy's expit on these small vectors, and rating gaps never come near exp's overflow.
    ratings = np.full(n_orders * n_models, init * slope, dtype=np.float64)
    row_offset = np.arange(n_orders, dtype=np.intp) * n_models
    step_size = slope * k
    # Fixed buffers, and ``take(mode="clip")``: every index is in range by construction, and
    # unlike fancy indexing or take's default mode it neither checks bounds nor buffers ``out``
    # (about a fifth off this loop, bit for bit the same numbers).
    seat_a = np.empty(n_orders, dtype=np.intp)
    seat_b = np.empty(n_orders, dtype=np.intp)
    rating_a = np.empty(n_orders)
    rating_b = np.empty(n_orders)
    change = np.empty(n_orders)
    score = np.empty(n_orders)
    for battle in by_step:
        model_a.take(battle, out=seat_a, mode="clip")
        seat_a += row_offset
        model_b.take(battle, out=seat_b, mode="clip")
        seat_b += row_offset
        ratings.take(seat_a, out=rating_a, mode="clip")
        ratings.take(seat_b, out=rating_b, mode="clip")
        np.subtract(rating_b, rating_a, out=change)
        np.exp(change, out=change)
        change += 1.0
        np.reciprocal(change, out=change)  # expected score of model_a
        score_a.take(battle, out=score, mode="clip")
        change -= score
        change *= -step_size
        rating_a += change
        rating_b -= change
        # Within one step each order touches two distinct cells, so plain assignment is safe.
        ratings[seat_a] = rating_a
        ratings[seat_b] = rating_b
    return np.asarray(ratings.reshape(n_orders, n_models) / slope, dtype=np.float64)


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
    ratings = elo_over_orders(arrays.model_a, arrays.model_b, score, arrays.n_models, order[None], k=k, init=init, scale=scale, base=base)
    return np.asarray(ratings[0], dtype=np.float64)


def _order_blocks(n_battles: int, permutations: int, seed: int) -> Iterator[NDArray[np.integer]]:
    """Blocks of random orders, one order per column: (n_battles, block size) each."""
    rng = np.random.default_rng(seed)
    block = max(1, ORDER_BLOCK_ELEMENTS // max(n_battles, 1))
    # The narrowest index type: the shuffle is the same (same draws, same orders) but moves
    # fewer bytes, which makes it about a quarter faster for uint16.
    index_type = np.uint16 if n_battles <= 2**16 else np.int32 if n_battles < 2**31 else np.intp
    identity = np.arange(n_battles, dtype=index_type)[:, None]
    for start in range(0, permutations, block):
        size = min(block, permutations - start)
        yield rng.permuted(np.broadcast_to(identity, (n_battles, size)), axis=0)


def random_orders(n_battles: int, permutations: int, seed: int) -> NDArray[np.intp]:
    """The ``permutations`` random orders (one per row) that ``elo_over_random_orders`` plays.

    For checking and small data only: the Elo code never holds all orders at once.
    """
    blocks = [block.T for block in _order_blocks(n_battles, permutations, seed)]
    return np.concatenate(blocks, axis=0).astype(np.intp) if blocks else np.empty((0, n_battles), dtype=np.intp)


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
    how much the order alone moves a rating.
    """
    used, score = elo_scores(arrays, both_bad_as_tie=both_bad_as_tie)
    kept = np.flatnonzero(used)
    model_a, model_b, score = arrays.model_a[kept], arrays.model_b[kept], score[kept]
    blocks = [
        _elo_by_step(model_a, model_b, score, arrays.n_models, block, k=k, init=init, scale=scale, base=base)
        for block in _order_blocks(kept.size, permutations, seed)
    ]
    return np.concatenate(blocks, axis=0) if blocks else np.empty((0, arrays.n_models))


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
    used, score = elo_scores(arrays, both_bad_as_tie=both_bad_as_tie)
    chronological = arrays.chronological_order()
    chronological = chronological[used[chronological]]
    n = chronological.size
    rng = np.random.default_rng(seed)
    block = max(1, ORDER_BLOCK_ELEMENTS // max(n, 1))
    results = []
    for start in range(0, rounds, block):
        size = min(block, rounds - start)
        positions = rng.integers(0, n, size=(size, n)) if n else np.empty((size, 0), dtype=np.intp)
        if not shuffle:
            positions.sort(axis=1)
        by_step = np.ascontiguousarray(chronological[positions].T)
        results.append(
            _elo_by_step(arrays.model_a, arrays.model_b, score, arrays.n_models, by_step, k=k, init=init, scale=scale, base=base)
        )
    return np.concatenate(results, axis=0) if results else np.empty((0, arrays.n_models))
