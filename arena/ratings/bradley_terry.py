"""Bradley-Terry maximum likelihood on aggregated win counts, as Chatbot Arena computes it.

The model: P(i beats j) = 1 / (1 + base ** ((R_j - R_i) / scale)). On the natural-log
strength scale theta (R = init + scale * theta / ln(base)) the log-likelihood of a win matrix
W (ties count half a win to each side) is

    LL(theta) = sum_ij W_ij * log sigmoid(theta_i - theta_j),

which is exactly the likelihood of the logistic regression Chatbot Arena fits with one row per
battle and ties as two half-weighted rows, but summed per pair, so the cost depends on the number
of models only. It is concave; Newton's method with the Hessian (a weighted graph Laplacian)
converges in a handful of steps and is vectorised over many win matrices at once for the
bootstrap.

Degenerate data. The MLE is finite exactly when the "beat or tied" digraph is strongly
connected (Zermelo 1929, Ford 1957): every split of the models into two groups has a win
(or tie) each way. When it is not (a model that never won, or groups that never met), the
likelihood keeps rising as some ratings run to minus infinity. There, and only there, the fit
adds a Gaussian prior on theta with standard deviation ln(base), that is one ``scale`` of
rating points (400 by default), centred on the mean: the ratings become finite and the
result is flagged ``degenerate``. Connected data get the plain, unregularised MLE.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Newton steps are clipped to this many natural-log units (about 870 rating points at the
# default scale) so a far-off start cannot overshoot into overflow; near the optimum the
# steps are tiny and the clip never bites.
MAX_NEWTON_STEP = 5.0
# Stop once the largest step is below this: Newton converges quadratically, so the error left
# after that step is of order its square.
NEWTON_TOLERANCE = 1e-8
# Bootstrap replicates only feed percentiles whose own Monte Carlo error is ~1e-2 nats: a step
# below 1e-5 leaves an error of order 1e-10, and saves the last Newton pass.
BOOTSTRAP_NEWTON_TOLERANCE = 1e-5
NEWTON_MAX_ITERATIONS = 100


def win_probability(gap: NDArray[np.float64]) -> NDArray[np.float64]:
    """Logistic sigmoid 1 / (1 + exp(-gap)), in place on a temporary.

    Plain np.exp is faster than scipy's expit (PERFORMANCE.md); gaps in log-strength stay far
    from exp's overflow (and an overflow would still give the right limit, 0).
    """
    p = np.negative(gap)
    np.exp(p, out=p)
    p += 1.0
    np.reciprocal(p, out=p)
    return p


def degenerate_prior_precision(base: float) -> float:
    """Precision of the prior used on degenerate data: sd of theta = ln(base), one ``scale``."""
    return float(1.0 / np.log(base) ** 2)


def weak_prior_precision(prior_sd: float, *, scale: float, base: float) -> float:
    """Precision (natural-log units) of a Gaussian prior whose sd is ``prior_sd`` rating points.

    The leaderboard's weak prior: centred on the mean rating, it adds ``precision * theta_i``
    to the gradient, against a curvature of about battles * p(1-p) ~ battles / 5. A model with
    n battles at theta (natural log) moves by about precision * theta / (n / 5): with the
    default sd of 400 points (precision 0.19) a model 300 points from the mean with 2,000
    battles moves by under 0.2 points, while a model with one battle keeps a posterior sd of
    a couple of hundred points instead of a zero-width interval.
    """
    if not prior_sd > 0:
        raise ValueError("prior_sd must be positive")
    sd_theta = prior_sd * np.log(base) / scale
    return float(1.0 / sd_theta**2)


def posterior_sd(
    wins: NDArray[np.float64],
    theta: NDArray[np.float64],
    *,
    prior_precision: float,
    reference: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Normal-approximation (Laplace) sd of each log-strength measured from ``reference . theta``
    (weights summing to one: 1/n each for the mean, one-hot for an anchor) under a Gaussian
    prior of ``prior_precision``: from the inverse of the negative Hessian at ``theta``."""
    n = wins.shape[0]
    if n <= 1:
        return np.zeros(n)
    games = wins + wins.T
    p = win_probability(theta[:, None] - theta[None, :])
    curvature = games * p * (1.0 - p)
    hessian = -curvature
    hessian[np.arange(n), np.arange(n)] = curvature.sum(axis=1) + prior_precision
    cov = np.linalg.inv(hessian)
    contrast = np.eye(n) - np.outer(np.ones(n), reference)
    var = np.einsum("ij,jk,ik->i", contrast, cov, contrast)
    return np.asarray(np.sqrt(np.maximum(var, 0.0)), dtype=np.float64)


def mle_exists(wins: NDArray[np.float64]) -> bool:
    """True when the Bradley-Terry MLE is finite: the win/tie digraph is strongly connected."""
    return bool(mle_exists_each(wins[None])[0])


def mle_exists_each(wins: NDArray[np.float64]) -> NDArray[np.bool_]:
    """``mle_exists`` for each of many (R, n, n) win matrices at once.

    A digraph is strongly connected when every model is reachable from model 0 along the
    "beat or tied" edges and model 0 from every model (reachable along the reversed edges):
    two breadth-first searches, run for all matrices together as vector-matrix products, which
    takes a few of them for the shallow graphs of real data (the bootstrap checks hundreds of
    resamples a second this way, and no SciPy graph import is needed).
    """
    rounds, n = wins.shape[0], wins.shape[1]
    connected = np.ones(rounds, dtype=np.bool_)
    if n <= 1:
        return connected
    edges = (wins > 0).astype(np.float32)
    for direction in (edges, edges.transpose(0, 2, 1)):
        reached = np.zeros((rounds, 1, n), dtype=np.float32)
        reached[:, 0, 0] = 1.0
        while True:
            grown = np.minimum(reached + reached @ direction, 1.0, dtype=np.float32)
            if np.array_equal(grown, reached):
                break
            reached = grown
        connected &= reached[:, 0, :].all(axis=1)
    return connected


@dataclass(frozen=True)
class BradleyTerryFit:
    """Log-strengths ``theta`` (natural log, centred on zero) of one or many fits.

    ``degenerate`` marks fits that needed the prior (no finite MLE); ``converged`` is False
    only if Newton hit its iteration cap.
    """

    theta: NDArray[np.float64]
    degenerate: NDArray[np.bool_]
    converged: NDArray[np.bool_]


def fit_bradley_terry(
    wins: NDArray[np.float64],
    *,
    prior_precision: float,
    theta_start: NDArray[np.float64] | None = None,
    degenerate: NDArray[np.bool_] | None = None,
    tolerance: float = NEWTON_TOLERANCE,
) -> BradleyTerryFit:
    """Bradley-Terry MLE by Newton's method for one (n, n) or many (R, n, n) win matrices.

    Bradley-Terry MLE as in Chatbot Arena (ties count half a win each side, which the caller
    has already folded into ``wins``). The strengths are identified by centring theta on zero;
    anchoring to a model or to an initial rating is a shift done afterwards
    (``theta_to_ratings``). ``prior_precision`` is used only for matrices without a finite
    MLE (``degenerate``, computed with ``mle_exists`` unless given); ``theta_start``
    warm-starts the bootstrap from the full-data fit.
    """
    single = wins.ndim == 2
    stack = wins[None] if single else wins
    rounds, n = stack.shape[0], stack.shape[1]
    if degenerate is None:
        degenerate = ~mle_exists_each(stack)
    ridge = np.where(degenerate, prior_precision, 0.0)
    theta = (
        np.zeros((rounds, n))
        if theta_start is None
        else np.array(np.broadcast_to(theta_start, (rounds, n)), dtype=np.float64)
    )
    converged = np.zeros(rounds, dtype=np.bool_)
    if n <= 1:
        converged[:] = True
        theta[:] = 0.0
    else:
        theta -= theta.mean(axis=1, keepdims=True)
        _newton(stack, ridge, theta, converged, tolerance)
    if single:
        return BradleyTerryFit(theta[0], degenerate[:1], converged[:1])
    return BradleyTerryFit(theta, degenerate, converged)


def _newton(
    wins: NDArray[np.float64],
    ridge: NDArray[np.float64],
    theta: NDArray[np.float64],
    converged: NDArray[np.bool_],
    tolerance: float,
) -> None:
    """Newton iterations in place on every matrix that has not converged yet."""
    n = wins.shape[1]
    games = wins + wins.transpose(0, 2, 1)
    total_wins = wins.sum(axis=2)
    diagonal = np.arange(n)
    # The Hessian is a Laplacian (singular along the all-ones direction, the free shift of
    # theta). Adding a constant matrix makes it invertible without changing the step, because
    # the gradient and the centred theta are orthogonal to that direction.
    shift_penalty = (games.sum(axis=(1, 2)) / (4.0 * n * n) + 1.0)[:, None, None] / n
    active = np.arange(wins.shape[0])
    for _ in range(NEWTON_MAX_ITERATIONS):
        if active.size == 0:
            return
        th = theta[active]
        g = games[active]
        p = win_probability(th[:, :, None] - th[:, None, :])
        gradient = total_wins[active] - (g * p).sum(axis=2) - ridge[active, None] * th
        curvature = g * p * (1.0 - p)
        hessian = -curvature
        hessian[:, diagonal, diagonal] = curvature.sum(axis=2) + ridge[active, None]
        hessian += shift_penalty[active]
        step = np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]
        largest = np.abs(step).max(axis=1)
        step *= np.minimum(1.0, MAX_NEWTON_STEP / np.maximum(largest, 1e-300))[:, None]
        th = th + step
        theta[active] = th - th.mean(axis=1, keepdims=True)
        done = largest < tolerance
        converged[active[done]] = True
        active = active[~done]


def theta_to_ratings(
    theta: NDArray[np.float64],
    *,
    init: float,
    scale: float,
    base: float,
    anchor_index: int | None = None,
    anchor_rating: float | None = None,
) -> NDArray[np.float64]:
    """Log-strengths to the Elo scale: R = init + scale * log_base(strength), then anchored.

    Without an anchor the mean rating is ``init`` (theta is centred); with one, every rating
    is shifted so the anchor model sits at ``anchor_rating`` (default ``init``), round by
    round when ``theta`` holds bootstrap rounds.
    """
    ratings = init + scale * theta / np.log(base)
    if anchor_index is not None:
        target = init if anchor_rating is None else anchor_rating
        ratings = ratings - ratings[..., anchor_index : anchor_index + 1] + target
    return np.asarray(ratings, dtype=np.float64)
