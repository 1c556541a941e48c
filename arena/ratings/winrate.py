"""Win rate against a baseline, as AlpacaEval and Arena-Hard print it.

Every verdict of a model against the baseline is a *preference* p in [0, 1] for the model:
1 a win, 0 a loss, 1/2 a tie, and anything between for a judge that gives a probability
(AlpacaEval's weighted annotator reads it from the judge's token log-probabilities). Then, with
n verdicts (AlpacaEval's ``get_winrate``):

* ``win_rate`` = 100 · mean(p)                      (AlpacaEval: the weighted win rate)
* ``standard_error`` = 100 · sd(p) / sqrt(n)        (sample sd, ddof = 1, as pandas' ``sem``)
* ``n_wins`` = #(p > 1/2), ``n_losses`` = #(p < 1/2), ``n_draws`` = #(p = 1/2)
* ``discrete_win_rate`` = 100 · (n_wins + n_draws / 2) / n

and a percentile bootstrap interval of ``win_rate`` over prompts.

Arena-Hard's five-level verdicts ``[[A>>B]]`` … ``[[B>>A]]`` give a verdict *weight*: a strong
verdict counts as ``strong_weight`` verdicts (Arena-Hard uses 3), so the weighted mean is
sum(w·p) / sum(w). Its Bradley–Terry ratings, anchored on the baseline at ``anchor_rating``, are
the usual Bradley–Terry fit on those weighted win counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from arena.ratings.bootstrap import percentile_interval, prompt_resamples
from arena.ratings.bradley_terry import (
    BOOTSTRAP_NEWTON_TOLERANCE,
    degenerate_prior_precision,
    fit_bradley_terry,
    theta_to_ratings,
)


@dataclass(frozen=True, slots=True)
class Preference:
    """One verdict of ``model`` against the baseline on ``prompt``: p in [0, 1] for the model.

    ``weight`` is how many verdicts it counts as (3 for an Arena-Hard strong verdict).
    ``length_model``/``length_baseline`` are the two answers' lengths in characters, when known
    (the length-controlled win rate needs them).
    """

    model: str
    prompt: str
    preference: float
    weight: float = 1.0
    length_model: int | None = None
    length_baseline: int | None = None


@dataclass(frozen=True)
class WinRate:
    n: int
    win_rate: float | None
    standard_error: float | None
    ci_low: float | None
    ci_high: float | None
    n_wins: int
    n_losses: int
    n_draws: int
    discrete_win_rate: float | None
    weighted_n: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(preferences: NDArray[np.float64], weights: NDArray[np.float64]) -> None:
    if preferences.shape != weights.shape or preferences.ndim != 1:
        raise ValueError("preferences and weights must be 1-D arrays of one length")
    if preferences.size and (np.nanmin(preferences) < 0.0 or np.nanmax(preferences) > 1.0):
        raise ValueError("preferences must lie in [0, 1]")
    if weights.size and weights.min() <= 0:
        raise ValueError("weights must be positive")


def win_rate(
    preferences: Sequence[float] | NDArray[np.float64],
    *,
    weights: Sequence[float] | NDArray[np.float64] | None = None,
    prompts: Sequence[str] | None = None,
    bootstrap_rounds: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
) -> WinRate:
    """The AlpacaEval/Arena-Hard figures of one model's verdicts against the baseline.

    ``prompts`` groups verdicts for the bootstrap (every verdict its own prompt when omitted);
    with ``weights`` the win rate, its standard error and interval are weighted means.
    """
    p = np.asarray(preferences, dtype=np.float64)
    w = np.ones_like(p) if weights is None else np.asarray(weights, dtype=np.float64)
    _check(p, w)
    n = int(p.size)
    wins, losses = int((p > 0.5).sum()), int((p < 0.5).sum())
    draws = n - wins - losses
    if n == 0:
        return WinRate(0, None, None, None, None, 0, 0, 0, None, 0.0)
    mean = float((w * p).sum() / w.sum())
    if n > 1:
        # Weighted sem; with unit weights this is pandas' sem (ddof = 1).
        effective = w.sum() ** 2 / (w**2).sum()
        variance = float((w * (p - mean) ** 2).sum() / w.sum()) * n / (n - 1)
        standard_error: float | None = 100.0 * float(np.sqrt(variance / effective))
    else:
        standard_error = None
    ci_low = ci_high = None
    if bootstrap_rounds > 0:
        labels = list(prompts) if prompts is not None else [str(i) for i in range(n)]
        if len(labels) != n:
            raise ValueError("prompts must name one prompt per preference")
        index = {name: i for i, name in enumerate(sorted(set(labels)))}
        where = np.fromiter((index[x] for x in labels), dtype=np.intp, count=n)
        counts = prompt_resamples(np.random.default_rng(seed), len(index), bootstrap_rounds)
        num = counts @ np.bincount(where, weights=w * p, minlength=len(index))
        den = counts @ np.bincount(where, weights=w, minlength=len(index))
        replicates = num[den > 0] / den[den > 0]
        low, high = percentile_interval(100.0 * replicates[:, None], ci)
        ci_low, ci_high = float(low[0]), float(high[0])
    return WinRate(
        n=n,
        win_rate=100.0 * mean,
        standard_error=standard_error,
        ci_low=ci_low,
        ci_high=ci_high,
        n_wins=wins,
        n_losses=losses,
        n_draws=draws,
        discrete_win_rate=100.0 * (wins + draws / 2) / n,
        weighted_n=float(w.sum()),
    )


# --- Arena-Hard's five-level verdicts --------------------------------------------------------

FIVE_LEVELS = ("A>>B", "A>B", "A=B", "B>A", "B>>A")


def five_level_preference(level: str, *, model_is_a: bool) -> tuple[float, bool]:
    """(preference for the model, strong?) of one five-level verdict; A is the answer shown first."""
    if level not in FIVE_LEVELS:
        raise ValueError(f"unknown five-level verdict {level!r}; known: {', '.join(FIVE_LEVELS)}")
    a_side = {"A>>B": 1.0, "A>B": 1.0, "A=B": 0.5, "B>A": 0.0, "B>>A": 0.0}[level]
    return (a_side if model_is_a else 1.0 - a_side), level in ("A>>B", "B>>A")


@dataclass(frozen=True)
class AnchoredRating:
    model: str
    rating: float
    ci_low: float | None
    ci_high: float | None
    # The win rate against the baseline that the rating implies (Arena-Hard prints this).
    predicted_win_rate: float
    degenerate: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def anchored_bradley_terry(
    records: Sequence[Preference],
    *,
    baseline: str,
    anchor_rating: float = 1000.0,
    scale: float = 400.0,
    base: float = 10.0,
    bootstrap_rounds: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
) -> list[AnchoredRating]:
    """Bradley–Terry ratings of the models that faced ``baseline``, the baseline at ``anchor_rating``.

    Each verdict adds ``weight · p`` wins to the model and ``weight · (1 - p)`` to the baseline
    (ties half each, strong verdicts ``weight`` times, as Arena-Hard repeats them). Intervals
    come from resampling prompts. Returned best first, the baseline included.
    """
    models = sorted({r.model for r in records if r.model != baseline})
    if not models:
        return []
    names = [baseline, *models]
    index = {m: i for i, m in enumerate(names)}
    prompts = sorted({r.prompt for r in records})
    pindex = {p: i for i, p in enumerate(prompts)}
    n, n_prompts = len(names), len(prompts)
    # Per prompt and model: wins for the model and for the baseline.
    model_wins = np.zeros((n_prompts, n))
    base_wins = np.zeros((n_prompts, n))
    for r in records:
        if r.model == baseline:
            continue
        i, k = index[r.model], pindex[r.prompt]
        model_wins[k, i] += r.weight * r.preference
        base_wins[k, i] += r.weight * (1.0 - r.preference)

    def matrices(counts: NDArray[np.float64]) -> NDArray[np.float64]:
        mw, bw = counts @ model_wins, counts @ base_wins  # (rounds, n)
        wins = np.zeros((counts.shape[0], n, n))
        wins[:, 1:, 0] = mw[:, 1:]
        wins[:, 0, 1:] = bw[:, 1:]
        return wins

    precision = degenerate_prior_precision(base)
    full = fit_bradley_terry(matrices(np.ones((1, n_prompts)))[0], prior_precision=precision)
    ratings = theta_to_ratings(full.theta, init=anchor_rating, scale=scale, base=base, anchor_index=0)
    low = high = None
    if bootstrap_rounds > 0:
        counts = prompt_resamples(np.random.default_rng(seed), n_prompts, bootstrap_rounds)
        boot = fit_bradley_terry(
            matrices(counts),
            prior_precision=precision,
            theta_start=full.theta,
            tolerance=BOOTSTRAP_NEWTON_TOLERANCE,
        )
        boot_ratings = theta_to_ratings(
            boot.theta, init=anchor_rating, scale=scale, base=base, anchor_index=0
        )
        low, high = percentile_interval(boot_ratings, ci)
    rows = []
    for name, i in index.items():
        gap = (ratings[i] - ratings[0]) / scale * np.log(base)
        rows.append(
            AnchoredRating(
                model=name,
                rating=float(ratings[i]),
                ci_low=None if low is None else float(low[i]),
                ci_high=None if high is None else float(high[i]),
                predicted_win_rate=float(100.0 / (1.0 + np.exp(-gap))),
                degenerate=bool(full.degenerate[0]),
            )
        )
    rows.sort(key=lambda r: (-r.rating, r.model))
    return rows
