"""MT-Bench single-answer grading: mean 1-10 scores per model, turn and category.

The rules are FastChat's ``show_result.py --mode single``: a judgment whose rating could not be
parsed (FastChat writes ``score == -1``) is left out of every mean, and counted; turn 1 and
turn 2 are the means of each turn's scores; the overall figure is the mean of *all* the model's
scores (both turns pooled, not the mean of the two turn means). Those three tables are what
the MT-Bench paper and leaderboard print.

Each mean carries a bootstrap interval over prompts: the prompts are resampled with
replacement (the same draw for every model, so models stay comparable) and the mean is taken
over the scores of the drawn prompts. Resampling prompts is the honest unit: a model's two
turns on a prompt, or a category's ten questions, are not independent of each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from arena.ratings.bootstrap import percentile_interval, prompt_resamples

UNPARSED_SCORE = -1.0


@dataclass(frozen=True, slots=True)
class ScoreRecord:
    """One single-answer judgment: ``score`` is None (or FastChat's -1) when it did not parse."""

    model: str
    prompt: str
    turn: int
    score: float | None
    category: str | None = None


@dataclass(frozen=True)
class MeanScore:
    """A mean score with its n, the unparsed judgments left out, and a bootstrap interval."""

    mean: float | None
    n: int
    unparsed: int
    ci_low: float | None = None
    ci_high: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ModelScores:
    model: str
    overall: MeanScore
    turns: dict[int, MeanScore]
    categories: dict[str, MeanScore] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "overall": self.overall.to_dict(),
            "turns": {str(t): s.to_dict() for t, s in sorted(self.turns.items())},
            "categories": {c: s.to_dict() for c, s in sorted(self.categories.items())},
        }


@dataclass(frozen=True)
class ScoreTable:
    """Models sorted by overall mean (best first); ``turns`` and ``categories`` seen anywhere."""

    rows: list[ModelScores]
    turns: list[int]
    categories: list[str]
    prompts: int
    judgments: int
    unparsed: int
    bootstrap_rounds: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": [r.to_dict() for r in self.rows],
            "turns": self.turns,
            "categories": self.categories,
            "prompts": self.prompts,
            "judgments": self.judgments,
            "unparsed": self.unparsed,
            "bootstrap_rounds": self.bootstrap_rounds,
        }


def is_unparsed(score: float | None) -> bool:
    return score is None or score == UNPARSED_SCORE or not np.isfinite(score)


def _mean_of(
    prompt_index: NDArray[np.intp],
    scores: NDArray[np.float64],
    unparsed: int,
    n_prompts: int,
    weights: NDArray[np.float64] | None,
    ci: float,
) -> MeanScore:
    n = int(scores.shape[0])
    if n == 0:
        return MeanScore(None, 0, unparsed)
    mean = float(scores.mean())
    if weights is None:
        return MeanScore(mean, n, unparsed)
    sums = np.bincount(prompt_index, weights=scores, minlength=n_prompts)
    counts = np.bincount(prompt_index, minlength=n_prompts).astype(np.float64)
    drawn_n = weights @ counts
    with np.errstate(invalid="ignore", divide="ignore"):
        replicates = (weights @ sums) / drawn_n
    replicates = replicates[drawn_n > 0]
    if replicates.size == 0:
        return MeanScore(mean, n, unparsed)
    low, high = percentile_interval(replicates[:, None], ci)
    return MeanScore(mean, n, unparsed, float(low[0]), float(high[0]))


def score_table(
    records: Sequence[ScoreRecord],
    *,
    bootstrap_rounds: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
) -> ScoreTable:
    """Per model: overall, per-turn and per-category means (show_result rules) with intervals."""
    prompts = sorted({r.prompt for r in records})
    where = {p: i for i, p in enumerate(prompts)}
    turns = sorted({r.turn for r in records})
    categories = sorted({r.category for r in records if r.category})
    weights = None
    if bootstrap_rounds > 0 and prompts:
        weights = prompt_resamples(np.random.default_rng(seed), len(prompts), bootstrap_rounds)
    by_model: dict[str, list[ScoreRecord]] = {}
    for record in records:
        by_model.setdefault(record.model, []).append(record)

    def mean(subset: list[ScoreRecord]) -> MeanScore:
        parsed = [r for r in subset if not is_unparsed(r.score)]
        index = np.fromiter((where[r.prompt] for r in parsed), dtype=np.intp, count=len(parsed))
        values = np.fromiter((float(r.score) for r in parsed), dtype=np.float64, count=len(parsed))  # type: ignore[arg-type]  # parsed: not None
        return _mean_of(index, values, len(subset) - len(parsed), len(prompts), weights, ci)

    rows = []
    for model, subset in by_model.items():
        rows.append(
            ModelScores(
                model=model,
                overall=mean(subset),
                turns={
                    t: mean([r for r in subset if r.turn == t])
                    for t in turns
                    if any(r.turn == t for r in subset)
                },
                categories={
                    c: mean([r for r in subset if r.category == c])
                    for c in categories
                    if any(r.category == c for r in subset)
                },
            )
        )
    rows.sort(key=lambda r: (-(r.overall.mean if r.overall.mean is not None else -np.inf), r.model))
    unparsed = sum(1 for r in records if is_unparsed(r.score))
    return ScoreTable(
        rows,
        turns,
        categories,
        len(prompts),
        len(records),
        unparsed,
        bootstrap_rounds if weights is not None else 0,
    )
