"""The pairing of live battles: weights, the boost for new contenders, never the same model twice."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from live.pairing import Candidate, NoPair, draw_pair, pair_probabilities


def c(key: int, weight: float = 1.0, age: float = 100.0, model: str | None = None) -> Candidate:
    return Candidate(key, weight, age, ("http://x/v1", model or f"m{key}"))


def test_never_the_same_model_twice_even_through_two_rows():
    rng = random.Random(1)
    candidates = [c(1), c(2, model="same"), c(3, model="same")]
    for _ in range(2000):
        a, b = draw_pair(candidates, rng)
        assert a.model != b.model and a.key != b.key


def test_draws_follow_the_weights():
    rng = random.Random(2)
    candidates = [c(1, 3.0), c(2, 1.0), c(3, 1.0)]
    seen = Counter()
    for _ in range(20000):
        a, b = draw_pair(candidates, rng)
        seen[a.key] += 1
        seen[b.key] += 1
    expected = pair_probabilities(candidates)
    for key, chance in expected.items():
        assert seen[key] / 20000 == pytest.approx(chance, abs=0.02)
    assert seen[1] > seen[2] * 1.2


def test_a_new_contender_is_boosted_and_a_zero_weight_is_never_drawn():
    rng = random.Random(3)
    candidates = [c(1), c(2), c(3, age=1.0), c(4, weight=0.0)]
    seen = Counter()
    for _ in range(10000):
        for side in draw_pair(candidates, rng, boost=3.0, new_days=7):
            seen[side.key] += 1
    assert seen[4] == 0
    assert seen[3] > 1.4 * seen[1]
    assert pair_probabilities(candidates, boost=3.0, new_days=7)[3] > pair_probabilities(candidates)[3]


def test_fewer_than_two_models_is_refused_with_the_reason():
    with pytest.raises(NoPair, match="two different contenders"):
        draw_pair([c(1), c(2, weight=0)], random.Random(0))
    with pytest.raises(NoPair):
        draw_pair([c(1, model="x"), c(2, model="x")], random.Random(0))
