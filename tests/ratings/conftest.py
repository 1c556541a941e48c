"""Simulated tournaments shared by the rating tests (no database needed)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from arena.ratings import BattleArrays


def simulate_tournament(
    strengths: NDArray[np.float64], n_battles: int, seed: int, *, tie_share: float = 0.1
) -> BattleArrays:
    """Random pairs; a beats b with Bradley-Terry probability on natural-log strengths.

    A tie is drawn with probability ``tie_share``; otherwise the winner follows the model.
    Since ties count half to each side, this keeps P(a scores) at the BT probability only in
    expectation, so tests with exact truth use ``tie_share=0``.
    """
    rng = np.random.default_rng(seed)
    n = strengths.size
    a = rng.integers(0, n, n_battles)
    b = (a + rng.integers(1, n, n_battles)) % n
    p_a = 1.0 / (1.0 + np.exp(strengths[b] - strengths[a]))
    u = rng.random(n_battles)
    tie = rng.random(n_battles) < tie_share
    outcome = np.where(tie, 2, np.where(u < p_a, 0, 1))
    return BattleArrays.from_arrays([f"model-{i:02d}" for i in range(n)], a, b, outcome)
