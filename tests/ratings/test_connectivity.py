"""The strong-connectivity check behind "does a finite Bradley-Terry fit exist" is SciPy's answer."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from arena.ratings.bradley_terry import mle_exists, mle_exists_each


def scipy_says(wins: np.ndarray) -> bool:
    return connected_components(csr_matrix(wins > 0), directed=True, connection="strong")[0] == 1


def test_matches_scipy_on_random_sparse_and_chain_shaped_win_graphs():
    rng = np.random.default_rng(0)
    graphs = []
    for n in (1, 2, 3, 5, 12, 40):
        for density in (0.05, 0.15, 0.3, 0.6):
            graphs += [(rng.random((n, n)) < density) * rng.integers(1, 5, (n, n)) * 1.0 for _ in range(20)]
    cycle = np.roll(np.eye(30), 1, axis=1)  # a long cycle: connected, 29 steps deep
    graphs += [cycle, cycle * (np.arange(30) != 7)[:, None]]  # and the same cycle cut once
    expected = [scipy_says(w) for w in graphs]
    assert [mle_exists(w) for w in graphs] == expected
    assert 0.2 < np.mean(expected) < 0.8  # both answers are well represented
    for n in (5, 12, 40):
        same_size = [w for w in graphs if w.shape[0] == n]
        assert mle_exists_each(np.stack(same_size)).tolist() == [scipy_says(w) for w in same_size]
