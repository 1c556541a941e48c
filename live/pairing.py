"""Drawing the two contenders of a live battle. Pure: no Django.

Each candidate has a sampling weight (set per contender by staff); one added recently has it
multiplied by a boost, so a new model collects its first battles quickly. The first contender is
drawn by weight, the second by weight among the candidates that are not the same model: not the
same contender, and not another contender sending the same model to the same endpoint.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    key: int
    weight: float
    age_days: float
    model: tuple[str, str]  # (endpoint, model sent): two rows sending the same are the same model


class NoPair(ValueError):
    """Fewer than two different models can be drawn."""


def effective_weight(candidate: Candidate, *, boost: float, new_days: float) -> float:
    weight = max(candidate.weight, 0.0)
    return weight * boost if candidate.age_days < new_days else weight


def _draw(candidates: Sequence[Candidate], weights: Sequence[float], rng: random.Random) -> Candidate:
    total = sum(weights)
    point = rng.random() * total
    for candidate, weight in zip(candidates, weights, strict=True):
        point -= weight
        if point < 0 and weight > 0:
            return candidate
    return next(c for c, w in zip(reversed(candidates), reversed(weights), strict=True) if w > 0)


def draw_pair(
    candidates: Sequence[Candidate], rng: random.Random, *, boost: float = 1.0, new_days: float = 0.0
) -> tuple[Candidate, Candidate]:
    """Two different models, drawn by weight (first, then second among the rest)."""
    weights = [effective_weight(c, boost=boost, new_days=new_days) for c in candidates]
    drawable = [c for c, w in zip(candidates, weights, strict=True) if w > 0]
    if len({c.model for c in drawable}) < 2:
        raise NoPair(
            "Live battles need at least two different contenders with an endpoint and a weight above 0."
        )
    first = _draw(candidates, weights, rng)
    rest = [
        (c, w)
        for c, w in zip(candidates, weights, strict=True)
        if c.model != first.model and c.key != first.key
    ]
    second = _draw([c for c, _ in rest], [w for _, w in rest], rng)
    return first, second


def pair_probabilities(
    candidates: Sequence[Candidate], *, boost: float = 1.0, new_days: float = 0.0
) -> dict[int, float]:
    """Each candidate's chance to be in a battle (either side): shown to staff next to the weights."""
    weights = [effective_weight(c, boost=boost, new_days=new_days) for c in candidates]
    total = sum(weights)
    if total <= 0:
        return {c.key: 0.0 for c in candidates}
    chance = {c.key: 0.0 for c in candidates}
    for first, w_first in zip(candidates, weights, strict=True):
        if w_first <= 0:
            continue
        rest = [(c, w) for c, w in zip(candidates, weights, strict=True) if c.model != first.model]
        rest_total = sum(w for _, w in rest)
        if rest_total <= 0:
            continue
        p_first = w_first / total
        chance[first.key] += p_first
        for c, w in rest:
            chance[c.key] += p_first * w / rest_total
    return chance
