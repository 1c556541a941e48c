"""Length-controlled win rate against a baseline (AlpacaEval 2, Dubois et al. 2024).

A judge that likes long answers rewards verbosity. AlpacaEval's answer is a GLM of each
verdict's preference p (for the model, in [0, 1]; continuous when the judge gives a
probability) on the length difference, then the win rate the model *would* have if its answers
were as long as the baseline's. Its ``glm_winrate`` fits, per model,

    logit p = θ_m + φ_m · tanh(Δ / sd(Δ)) + ψ_m · d_x        (``length_controlled_v1``)

with Δ = len(baseline answer) - len(model answer) in characters, sd the model's sample standard
deviation of Δ, and d_x the difficulty of instruction x, then predicts at Δ = 0 and averages
over the instructions: LC = 100 · mean_x sigmoid(θ_m + ψ_m · d_x).

AlpacaEval takes d_x from a fit over the hundreds of models on its leaderboard. Here d_x is
fitted from every model that faced the same baseline on the same instructions: one joint fit of
logit p = θ_m + φ_m · tanh(Δ / sd_m) + d_x (d with a unit Gaussian prior, which also pins its
mean near zero). With a single model d cannot be told apart from noise, so the published
minimal formula is used (``length_controlled_minimal``, no instruction term):

    logit p = θ_m + φ_m · tanh(Δ / sd(Δ)),   LC = 100 · sigmoid(θ_m).

Fits are plain maximum likelihood of the soft labels (cross-entropy with p as the target)
by Newton's method; AlpacaEval's L1-penalised cross-validated fit and its regularisation
towards "gamed" baselines are not reproduced, so figures can differ from the published ones
by a point or two. The interval comes from resampling instructions and refitting (d fixed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from arena.ratings.bootstrap import percentile_interval, prompt_resamples
from arena.ratings.winrate import Preference

FORMULA_V1 = "logit p = θ + φ·tanh(Δlen/sd) + ψ·difficulty; LC = mean sigmoid(θ + ψ·difficulty)"
FORMULA_MINIMAL = "logit p = θ + φ·tanh(Δlen/sd); LC = sigmoid(θ)"
# A tiny ridge keeps the Newton system solvable when a model wins (or loses) everything.
_RIDGE = 1e-6
_DIFFICULTY_PRIOR_PRECISION = 1.0
_MAX_STEP = 5.0
_TOLERANCE = 1e-9
_MAX_ITERATIONS = 100


@dataclass(frozen=True)
class LengthControlled:
    model: str
    n: int
    raw_win_rate: float | None
    length_controlled_win_rate: float | None
    ci_low: float | None
    ci_high: float | None
    formula: str
    coefficients: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(np.exp(-np.logaddexp(0.0, -x)), dtype=np.float64)


def fit_soft_logistic(
    features: NDArray[np.float64],
    target: NDArray[np.float64],
    weights: NDArray[np.float64],
    *,
    ridge: NDArray[np.float64] | float = _RIDGE,
) -> NDArray[np.float64]:
    """Coefficients maximising sum w·[p·log sigmoid(xβ) + (1-p)·log(1-sigmoid(xβ))] - ridge/2·|β|², by
    Newton's method, for one (n,) or many (R, n) weight vectors at once (bootstrap rounds)."""
    single = weights.ndim == 1
    w = weights[None] if single else weights
    rounds, k = w.shape[0], features.shape[1]
    penalty = np.broadcast_to(np.asarray(ridge, dtype=np.float64), (k,))
    beta = np.zeros((rounds, k))
    active = np.arange(rounds)
    for _ in range(_MAX_ITERATIONS):
        if active.size == 0:
            break
        eta = beta[active] @ features.T  # (r, n)
        prob = _sigmoid(eta)
        wa = w[active]
        gradient = (wa * (target[None] - prob)) @ features - penalty * beta[active]
        curvature = wa * prob * (1.0 - prob)
        hessian = np.einsum("rn,ni,nj->rij", curvature, features, features) + np.diag(penalty)[None]
        step = np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]
        largest = np.abs(step).max(axis=1)
        step *= np.minimum(1.0, _MAX_STEP / np.maximum(largest, 1e-300))[:, None]
        beta[active] += step
        active = active[largest >= _TOLERANCE]
    return beta[0] if single else beta


def _tanh_delta(records: Sequence[Preference]) -> NDArray[np.float64]:
    delta = np.array([float(r.length_baseline) - float(r.length_model) for r in records])  # type: ignore[arg-type]  # rows with both lengths
    sd = float(delta.std(ddof=1)) if delta.size > 1 else 0.0
    return np.tanh(delta / sd) if sd > 0 else np.zeros_like(delta)


def instruction_difficulty(by_model: dict[str, list[Preference]]) -> dict[str, float]:
    """d per instruction from the joint fit over every model (see the module docstring)."""
    models = sorted(by_model)
    prompts = sorted({r.prompt for rs in by_model.values() for r in rs})
    pindex = {p: i for i, p in enumerate(prompts)}
    m, x = len(models), len(prompts)
    rows, target = [], []
    for j, model in enumerate(models):
        records = by_model[model]
        tanh = _tanh_delta(records)
        for r, t in zip(records, tanh, strict=True):
            row = np.zeros(2 * m + x)
            row[j], row[m + j], row[2 * m + pindex[r.prompt]] = 1.0, t, 1.0
            rows.append(row)
            target.append(r.preference)
    features = np.array(rows)
    ridge = np.concatenate([np.full(2 * m, _RIDGE), np.full(x, _DIFFICULTY_PRIOR_PRECISION)])
    beta = fit_soft_logistic(features, np.array(target), np.ones(len(target)), ridge=ridge)
    return {p: float(beta[2 * m + i]) for p, i in pindex.items()}


def length_controlled_win_rates(
    records: Sequence[Preference],
    *,
    bootstrap_rounds: int = 200,
    seed: int = 0,
    ci: float = 0.95,
) -> dict[str, LengthControlled]:
    """Raw and length-controlled win rate per model; verdicts without both lengths are left out.

    Instruction difficulty is fitted when at least two models faced the baseline on shared
    instructions, else the minimal formula is used (the ``formula`` field says which).
    """
    by_model: dict[str, list[Preference]] = {}
    for r in records:
        if r.length_model is not None and r.length_baseline is not None:
            by_model.setdefault(r.model, []).append(r)
    shared = (
        len(by_model) >= 2
        and len(set.intersection(*({r.prompt for r in rs} for rs in by_model.values()))) > 1
    )
    difficulty = instruction_difficulty(by_model) if shared else None
    results = {}
    for offset, (model, rows) in enumerate(sorted(by_model.items())):
        target = np.array([r.preference for r in rows])
        raw = float(100.0 * target.mean())
        if len(rows) < 3:
            results[model] = LengthControlled(
                model,
                len(rows),
                raw,
                None,
                None,
                None,
                FORMULA_MINIMAL,
                error="Too few verdicts with answer lengths to fit the length model.",
            )
            continue
        columns = [np.ones(len(rows)), _tanh_delta(rows)]
        if difficulty is not None:
            columns.append(np.array([difficulty[r.prompt] for r in rows]))
        features = np.column_stack(columns)
        beta = fit_soft_logistic(features, target, np.ones(len(rows)))

        def predicted(
            coef: NDArray[np.float64], features: NDArray[np.float64] = features
        ) -> NDArray[np.float64]:
            at_equal_length = features.copy()
            at_equal_length[:, 1] = 0.0
            return _sigmoid(at_equal_length @ coef.T)

        lc = float(100.0 * predicted(beta).mean())
        low = high = None
        if bootstrap_rounds > 0:
            prompts = sorted({r.prompt for r in rows})
            pindex = {p: i for i, p in enumerate(prompts)}
            counts = prompt_resamples(np.random.default_rng(seed + offset), len(prompts), bootstrap_rounds)
            per_row = counts[:, [pindex[r.prompt] for r in rows]]  # (R, n): each verdict's draw count
            betas = fit_soft_logistic(features, target, per_row)
            lcs = 100.0 * (per_row * predicted(betas).T).sum(axis=1) / per_row.sum(axis=1)
            lo, hi = percentile_interval(lcs[:, None], ci)
            low, high = float(lo[0]), float(hi[0])
        names = ["intercept", "length"] + (["difficulty"] if difficulty is not None else [])
        results[model] = LengthControlled(
            model=model,
            n=len(rows),
            raw_win_rate=raw,
            length_controlled_win_rate=lc,
            ci_low=low,
            ci_high=high,
            formula=FORMULA_V1 if difficulty is not None else FORMULA_MINIMAL,
            coefficients={name: float(b) for name, b in zip(names, beta, strict=True)},
        )
    return results
