"""Style- and length-controlled Bradley-Terry, as in Chatbot Arena's style control (Aug 2024).

Each battle gets covariates z = normalised differences of the two answers' token counts and
markdown counts (headers, list items, bold): d = (f_a - f_b) / (f_a + f_b), 0 when both are
0, divided by its root-mean-square over the battles. The model is the Bradley-Terry logistic
regression with those extra columns,

    P(a beats b) = sigmoid(theta_a - theta_b + gamma . z),

fitted jointly by maximum likelihood (ties count half a win to each side), so theta measures
a model's strength with style held equal and gamma says how much each style difference
sways a verdict (log-odds per root-mean-square unit). Chatbot Arena also centres each
covariate; we only scale it, so swapping the two seats of a battle exactly flips the sign of
its z (with random seating the mean is near zero and the two agree).

Speed. A battle enters the likelihood only through (pair, z, outcome). Battles are turned so
the lower model index comes first (negating z, swapping the winner) and identical
(first, second, z) rows are merged, keeping counts of first-wins, second-wins and ties per
row; the fit is a batched Newton method whose gradient and Hessian are built from per-row
sums reduced per pair (``np.add.reduceat``) and small dense products.

Bootstrap. Each round redraws the per-row counts (multinomial, as ``bootstrap`` explains).
With real token counts nearly every battle is its own unique row, so refitting every round
(``bootstrap_style_bradley_terry``, ``style_bootstrap="exact"``) costs rounds x battles x
Newton passes: measured on 100,000 battles only about an order of magnitude faster than a
row-level L-BFGS refit per round. The default, ``"one_step"``
(``one_step_bootstrap_style_bradley_terry``), is the one-step (linearised) bootstrap around
the full fit, one Newton step per round with the full-data Hessian plus one more with the
same fixed Hessian: asymptotically equivalent to refitting, its percentile intervals land
within about half a percent of their width of the exact ones on the same resamples
(tests/ratings/test_style_bootstrap.py), and all rounds are a few sparse matrix products
(benchmarks/bench_ratings.py has the timings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

from arena.ratings.arrays import A_WINS, B_WINS, BOTH_BAD, TIE, BattleArrays, group_codes
from arena.ratings.bootstrap import resample_cells, resample_occupied, run_in_chunks
from arena.ratings.bradley_terry import (
    BOOTSTRAP_NEWTON_TOLERANCE,
    MAX_NEWTON_STEP,
    NEWTON_MAX_ITERATIONS,
    NEWTON_TOLERANCE,
    mle_exists,
    win_probability,
)
from arena.ratings.types import StyleFeatures

if TYPE_CHECKING:  # SciPy's sparse matrices load with the first style fit, not with the package
    from scipy.sparse import csr_matrix

# One chunk of bootstrap rounds keeps its (rounds x unique rows) work arrays near this size.
CHUNK_ELEMENTS = 2_000_000
# A style feature that differs between the two answers in fewer battles than this cannot be
# estimated: a handful of battles that all went one way sends its coefficient to infinity (on
# MT-Bench's human votes, "headers" differs in 4 battles, all won by the side with more).
STYLE_MIN_BATTLES = 20
# A feature whose weighted variance left after the models and the features kept before it is
# below this share of its own is (numerically) collinear with them.
COLLINEAR_SHARE = 1e-8

_FENCED_CODE = re.compile(r"^\s*(```|~~~).*?^\s*\1", re.MULTILINE | re.DOTALL)
_HEADER = re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.MULTILINE)
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\S", re.MULTILINE)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_TOKEN = re.compile(r"\w+|[^\w\s]")


def markdown_style_features(text: str, tokens: int | None = None) -> StyleFeatures:
    """Style covariates of one answer: tokens, markdown headers, list items and bold spans.

    Counts follow Chatbot Arena's style control: ATX headers (``#`` to ``######``), bullet and
    numbered list items, and ``**bold**``/``__bold__`` spans, ignoring fenced code blocks
    (code is not markdown styling). When ``tokens`` is not given it is approximated by a regex
    count of words (runs of letters, digits, underscore) plus single punctuation marks, which
    lands within roughly ±30 % of a BPE tokenizer's count on English prose; the style fit only
    uses ratios of the two answers' counts, which such a count preserves well.
    """
    prose = _FENCED_CODE.sub("", text)
    return StyleFeatures(
        tokens=len(_TOKEN.findall(text)) if tokens is None else tokens,
        headers=len(_HEADER.findall(prose)),
        list_items=len(_LIST_ITEM.findall(prose)),
        bold=len(_BOLD.findall(prose)),
    )


def normalised_style_differences(
    style_a: NDArray[np.float64], style_b: NDArray[np.float64]
) -> NDArray[np.float64]:
    """(f_a - f_b) / (f_a + f_b) per feature, 0 where both answers have none (Chatbot Arena)."""
    total = style_a + style_b
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.where(total > 0, (style_a - style_b) / np.where(total > 0, total, 1.0), 0.0)
    return np.asarray(diff, dtype=np.float64)


@dataclass(frozen=True)
class StyleDesign:
    """Unique (first model, second model, z) rows with per-row outcome counts.

    ``cells`` is (rows, 3): first wins, second wins, ties. Rows are sorted by pair, and
    ``pair_start`` marks where each pair's rows begin. ``feature_names`` lists the covariates
    kept (a feature that never differs carries no information and is dropped) and
    ``feature_scale`` the root-mean-square each was divided by.
    """

    n_models: int
    first: NDArray[np.intp]
    second: NDArray[np.intp]
    z: NDArray[np.float64]
    cells: NDArray[np.int64]
    pair_start: NDArray[np.intp]
    pair_first: NDArray[np.intp]
    pair_second: NDArray[np.intp]
    feature_names: tuple[str, ...]
    feature_scale: NDArray[np.float64]
    battles_used: int
    # Features left out, each with the reason: ("bold", "the same in every battle").
    dropped: tuple[tuple[str, str], ...] = ()

    @property
    def n_features(self) -> int:
        return int(self.z.shape[1])

    def model_by_feature(self) -> csr_matrix:
        """Sparse (rows, models * features): +z at (first, k), -z at (second, k).

        ``weights @ model_by_feature`` is the model-by-covariate block of the Hessian.
        """
        from scipy.sparse import csr_matrix

        rows, q = self.first.size, self.n_features
        row_index = np.repeat(np.arange(rows), 2 * q)
        feature = np.tile(np.arange(q), 2 * rows)
        model = np.repeat(np.column_stack([self.first, self.second]).reshape(-1), q)
        values = np.column_stack([self.z, -self.z]).reshape(-1)
        return csr_matrix((values, (row_index, model * q + feature)), shape=(rows, self.n_models * q))

    def incidence(self) -> NDArray[np.float64]:
        """(pairs, models) matrix: +1 at the pair's first model, -1 at its second."""
        d = np.zeros((self.pair_first.size, self.n_models))
        rows = np.arange(self.pair_first.size)
        d[rows, self.pair_first] = 1.0
        d[rows, self.pair_second] = -1.0
        return d


def unique_rows_of(key: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """``np.unique(key, axis=0, return_inverse=True)``: the same rows in the same order.

    NumPy sorts the rows as records, much slower at a million rows (PERFORMANCE.md) than
    factorising each column (a 1-D sort) and sorting one combined integer code, whose order is
    the rows' lexicographic order.
    """
    if key.shape[0] == 0:
        return key.copy(), np.empty(0, dtype=np.intp)
    codes = [np.unique(column, return_inverse=True)[1].reshape(-1) for column in key.T]
    _, first, inverse = np.unique(group_codes(*codes), return_index=True, return_inverse=True)
    return key[first], inverse.reshape(-1).astype(np.intp)


def style_design(arrays: BattleArrays, *, both_bad_as_tie: bool = True) -> StyleDesign:
    """Aggregate battles with known style into the unique-row design of the style-controlled fit."""
    if arrays.style_a is None or arrays.style_b is None:
        raise ValueError("style control needs style features for the battles")
    from arena.ratings.arrays import STYLE_FEATURE_NAMES

    known = ~(np.isnan(arrays.style_a).any(axis=1) | np.isnan(arrays.style_b).any(axis=1))
    if not both_bad_as_tie:
        known &= arrays.outcome != BOTH_BAD
    a, b, outcome = arrays.model_a[known], arrays.model_b[known], arrays.outcome[known]
    diff = normalised_style_differences(arrays.style_a[known], arrays.style_b[known])
    rms = np.sqrt((diff**2).mean(axis=0)) if diff.shape[0] else np.zeros(4)
    differing = (diff != 0).sum(axis=0) if diff.shape[0] else np.zeros(4, dtype=np.int64)
    keep = differing >= STYLE_MIN_BATTLES
    dropped = [
        (
            name,
            "the same for both answers in every battle"
            if count == 0
            else f"differs between the answers in only {int(count)} battle{'s' if count != 1 else ''}; at least {STYLE_MIN_BATTLES} are needed",
        )
        for name, count in zip(STYLE_FEATURE_NAMES, differing, strict=True)
        if count < STYLE_MIN_BATTLES
    ]
    z = diff[:, keep] / rms[keep]
    swap = a > b
    first, second = np.where(swap, b, a), np.where(swap, a, b)
    z = np.where(swap[:, None], -z, z)
    # Outcome relative to the first model: 0 first wins, 1 second wins, 2 tie.
    relative = np.full(outcome.shape, 2, dtype=np.int64)
    relative[((outcome == A_WINS) & ~swap) | ((outcome == B_WINS) & swap)] = 0
    relative[((outcome == B_WINS) & ~swap) | ((outcome == A_WINS) & swap)] = 1
    relative[(outcome == TIE) | (outcome == BOTH_BAD)] = 2
    key = np.column_stack([first.astype(np.float64), second.astype(np.float64), z])
    unique_rows, row_of_battle = unique_rows_of(key)
    cells = np.bincount(row_of_battle * 3 + relative, minlength=unique_rows.shape[0] * 3).reshape(-1, 3)
    u_first = unique_rows[:, 0].astype(np.intp)
    u_second = unique_rows[:, 1].astype(np.intp)
    pair_code = u_first * arrays.n_models + u_second
    pair_start = (
        np.flatnonzero(np.r_[True, pair_code[1:] != pair_code[:-1]])
        if pair_code.size
        else np.empty(0, np.intp)
    )
    design = StyleDesign(
        n_models=arrays.n_models,
        first=u_first,
        second=u_second,
        z=np.ascontiguousarray(unique_rows[:, 2:]),
        cells=cells.astype(np.int64),
        pair_start=pair_start.astype(np.intp),
        pair_first=u_first[pair_start],
        pair_second=u_second[pair_start],
        feature_names=tuple(name for name, kept in zip(STYLE_FEATURE_NAMES, keep, strict=True) if kept),
        feature_scale=rms[keep],
        battles_used=int(known.sum()),
        dropped=tuple(dropped),
    )
    return drop_collinear(design)


def drop_collinear(design: StyleDesign) -> StyleDesign:
    """The design without the features that are linear combinations of the model terms and the
    features kept before them (in the battles' own weights), each named in ``dropped``.

    With such a feature the information matrix is singular and no coefficient is identified.
    Sequential Schur complements of the weighted Gram matrix (the Hessian at equal strengths)
    find them: a feature whose variance left after projecting on the models and the kept
    features is below ``COLLINEAR_SHARE`` of its own is dropped.
    """
    q, n = design.n_features, design.n_models
    if q == 0 or design.first.size == 0:
        return design
    games = design.cells.sum(axis=1).astype(np.float64)[None]
    _, hessian = _newton_system(
        design,
        _NewtonTerms(design),
        np.zeros((1, n)),
        np.zeros((1, q)),
        games,
        np.zeros_like(games),
        0.0,
        _shift_penalty(games, n),
    )
    info = hessian[0]
    kept: list[int] = []
    dropped = list(design.dropped)
    for k in range(q):
        base = [*range(n), *(n + j for j in kept)]
        own = info[n + k, n + k]
        cross = info[base, n + k]
        left = own - cross @ np.linalg.pinv(info[np.ix_(base, base)], hermitian=True) @ cross
        if own > 0 and left > COLLINEAR_SHARE * own:
            kept.append(k)
        else:
            names = [design.feature_names[j] for j in kept]
            dropped.append(
                (
                    design.feature_names[k],
                    "follows from the models" + (f" and {', '.join(names)}" if names else ""),
                )
            )
    if len(kept) == q:
        return design
    return replace(
        design,
        z=np.ascontiguousarray(design.z[:, kept]),
        feature_names=tuple(design.feature_names[j] for j in kept),
        feature_scale=design.feature_scale[kept],
        dropped=tuple(dropped),
    )


@dataclass(frozen=True)
class StyleFit:
    """Model log-strengths ``theta`` (centred) and style coefficients ``gamma``, one row per fit."""

    theta: NDArray[np.float64]
    gamma: NDArray[np.float64]
    degenerate: bool
    converged: NDArray[np.bool_]


def _win_graph(design: StyleDesign, cells: NDArray[np.int64]) -> NDArray[np.float64]:
    """Model-level win/tie matrix of one set of cells, to test whether a finite MLE exists."""
    n = design.n_models
    wins = np.zeros((n, n))
    np.add.at(wins, (design.first, design.second), cells[:, 0] + cells[:, 2])
    np.add.at(wins, (design.second, design.first), cells[:, 1] + cells[:, 2])
    return wins


class _NewtonTerms:
    """Per-design constants of the Newton system, built once per fit."""

    def __init__(self, design: StyleDesign) -> None:
        q = design.n_features
        self.incidence = design.incidence()
        self.magnitude = np.abs(self.incidence)
        z = design.z
        self.zz = (z[:, :, None] * z[:, None, :]).reshape(z.shape[0], q * q)
        self.model_by_feature = design.model_by_feature()


def _newton_system(
    design: StyleDesign,
    terms: _NewtonTerms,
    theta: NDArray[np.float64],
    gamma: NDArray[np.float64],
    games: NDArray[np.float64],
    first_score: NDArray[np.float64],
    ridge: float,
    shift_penalty: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gradient (R, n + q) and Hessian (R, n + q, n + q) of the log-likelihood at (theta, gamma).

    The Hessian is the observed information (negative second derivative) plus the constant
    ``shift_penalty`` on the theta block: the information is singular along a common shift
    of theta, and because the gradient and centred theta are orthogonal to that direction
    the penalty makes the system solvable without changing the (centred) solution.
    """
    n, q = design.n_models, design.n_features
    rounds = theta.shape[0]
    gap = theta[:, design.first]
    gap -= theta[:, design.second]
    gap += (design.z @ gamma.T).T
    p = win_probability(gap)
    expected = games * p
    residual = first_score - expected
    weight = np.multiply(expected, p, out=p)
    np.subtract(expected, weight, out=weight)  # g p (1 - p)
    pair_residual = np.add.reduceat(residual, design.pair_start, axis=1)
    pair_weight = np.add.reduceat(weight, design.pair_start, axis=1)
    grad_theta = pair_residual @ terms.incidence - ridge * theta
    grad_gamma = residual @ design.z
    hessian = np.zeros((rounds, n + q, n + q))
    diagonal = np.arange(n)
    hessian[:, design.pair_first, design.pair_second] = -pair_weight
    hessian[:, design.pair_second, design.pair_first] = -pair_weight
    hessian[:, diagonal, diagonal] = pair_weight @ terms.magnitude + ridge
    hessian[:, :n, :n] += shift_penalty
    if q:
        cross = np.asarray(terms.model_by_feature.T @ weight.T).T.reshape(-1, n, q)
        hessian[:, :n, n:] = cross
        hessian[:, n:, :n] = cross.transpose(0, 2, 1)
        hessian[:, n:, n:] = (weight @ terms.zz).reshape(-1, q, q)
    return np.concatenate([grad_theta, grad_gamma], axis=1), hessian


def _shift_penalty(games: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """Per fit, the constant added to the theta block of the Hessian (see ``_newton_system``)."""
    return np.asarray((games.sum(axis=1) / (4.0 * n * n) + 1.0)[:, None, None] / n, dtype=np.float64)


def fit_style_bradley_terry(
    design: StyleDesign,
    cells: NDArray[np.int64] | None = None,
    *,
    prior_precision: float,
    degenerate: bool | None = None,
    theta_start: NDArray[np.float64] | None = None,
    gamma_start: NDArray[np.float64] | None = None,
    tolerance: float = NEWTON_TOLERANCE,
) -> StyleFit:
    """Style-controlled Bradley-Terry MLE (Chatbot Arena style control) by batched Newton.

    ``cells`` is (R, rows, 3) for R resampled fits, or None for the design's own counts.
    Ties count half a win each side. As in ``bradley_terry``, a Gaussian prior on theta
    (precision ``prior_precision``) is used only when the model win/tie graph has no finite
    MLE; theta is centred on zero, gamma is free.
    """
    counts = design.cells[None] if cells is None else cells
    rounds, n, q = counts.shape[0], design.n_models, design.n_features
    if degenerate is None:
        degenerate = not mle_exists(_win_graph(design, design.cells))
    ridge = prior_precision if degenerate else 0.0
    theta = (
        np.zeros((rounds, n)) if theta_start is None else np.array(np.broadcast_to(theta_start, (rounds, n)))
    )
    gamma = (
        np.zeros((rounds, q)) if gamma_start is None else np.array(np.broadcast_to(gamma_start, (rounds, q)))
    )
    games = counts.sum(axis=2).astype(np.float64)
    first_score = counts[:, :, 0] + 0.5 * counts[:, :, 2]
    terms = _NewtonTerms(design)
    shift_penalty = _shift_penalty(games, n)
    converged = np.zeros(rounds, dtype=np.bool_)
    for _ in range(NEWTON_MAX_ITERATIONS):
        active = np.flatnonzero(~converged)
        if active.size == 0 or design.first.size == 0:
            break
        th, ga = theta[active], gamma[active]
        gradient, hessian = _newton_system(
            design, terms, th, ga, games[active], first_score[active], ridge, shift_penalty[active]
        )
        step = np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]
        largest = np.abs(step).max(axis=1)
        step *= np.minimum(1.0, MAX_NEWTON_STEP / np.maximum(largest, 1e-300))[:, None]
        new_theta = th + step[:, :n]
        theta[active] = new_theta - new_theta.mean(axis=1, keepdims=True)
        gamma[active] = ga + step[:, n:]
        converged[active[largest < tolerance]] = True
    return StyleFit(theta=theta, gamma=gamma, degenerate=bool(degenerate), converged=converged)


def rounds_per_chunk(design: StyleDesign) -> int:
    """Bootstrap rounds per chunk: keeps a chunk's (rounds x unique rows) arrays near ``CHUNK_ELEMENTS``.

    Both bootstraps use it, so with the same seed they see the very same resamples.
    """
    return max(1, min(100, CHUNK_ELEMENTS // max(design.first.size, 1)))


def bootstrap_style_bradley_terry(
    design: StyleDesign, full: StyleFit, *, rounds: int, seed: int, prior_precision: float
) -> StyleFit:
    """Style-controlled fits of ``rounds`` bootstrap resamples, all warm-started from ``full``.

    Each round redraws the per-row outcome counts as Multinomial(battles, observed shares),
    which is resampling battles with replacement; rounds are fitted a chunk at a time. The
    prior is applied to every round when the full data needed it, never otherwise (a resample
    of connected data almost never loses a whole comparison edge; if one does, the Newton step
    clip keeps its fit finite and its extreme values fall outside the percentile interval).
    """
    n, q = design.n_models, design.n_features
    per_chunk = rounds_per_chunk(design)

    def work(rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        cells = resample_cells(rng, design.cells.reshape(-1), size).reshape(size, -1, 3)
        fit = fit_style_bradley_terry(
            design,
            cells,
            prior_precision=prior_precision,
            degenerate=full.degenerate,
            theta_start=full.theta[0],
            gamma_start=full.gamma[0],
            tolerance=BOOTSTRAP_NEWTON_TOLERANCE,
        )
        return np.concatenate([fit.theta, fit.gamma, fit.converged[:, None].astype(np.float64)], axis=1)

    stacked = run_in_chunks(rounds, seed, work, chunk=per_chunk)
    return StyleFit(
        theta=stacked[:, :n],
        gamma=stacked[:, n : n + q],
        degenerate=full.degenerate,
        converged=stacked[:, -1] > 0.5,
    )


def _cell_rows(design: StyleDesign, occupied: NDArray[np.intp]) -> csr_matrix:
    """Sparse (occupied cells, n + q): row x_i of each cell 3 i + o (+1 first model, -1 second, z_i)."""
    from scipy.sparse import csr_matrix

    n, q = design.n_models, design.n_features
    row = occupied // 3
    columns = np.column_stack(
        [design.first[row], design.second[row], np.broadcast_to(n + np.arange(q), (row.size, q))]
    )
    values = np.column_stack([np.ones(row.size), -np.ones(row.size), design.z[row]])
    indptr = np.arange(0, (2 + q) * row.size + 1, 2 + q)
    return csr_matrix((values.reshape(-1), columns.reshape(-1), indptr), shape=(row.size, n + q))


# Newton iterations with the full-data Hessian after the one-step: each costs about as much as the
# one-step itself and shrinks the gap to exact refits about tenfold (measured in
# tests/ratings/test_style_bootstrap.py): one is worth it, more are not.
ONE_STEP_CORRECTIONS = 1


def one_step_bootstrap_style_bradley_terry(
    design: StyleDesign,
    full: StyleFit,
    *,
    rounds: int,
    seed: int,
    prior_precision: float,
    corrections: int = ONE_STEP_CORRECTIONS,
) -> StyleFit:
    """One-step (linearised) bootstrap of the style-controlled fit: all rounds by matrix products.

    Each round draws the same resample as ``bootstrap_style_bradley_terry`` (same seed, same
    counts) and, instead of refitting, takes one Newton step from the full-data MLE
    beta = (theta, gamma) with the full-data observed information H:

        beta_r = beta + H^-1 g_r(beta),

    g_r being the score (log-likelihood gradient) of resample r. That is the one-step
    bootstrap (cf. Efron & Tibshirani, An Introduction to the Bootstrap, 1993; the one-step /
    linearised bootstrap): its replicates differ from full refits by O(1/N) while their spread
    is O(1/sqrt(N)), so it is asymptotically equivalent to refitting. ``corrections`` further
    iterations beta_r += H^-1 g_r(beta_r) with the same fixed H (a chord method converging to
    the exact refit) follow; the default one brings the percentile intervals to within about
    half a percent of their width of the exact-refit ones on the same resamples, against
    about 2.5 % for the bare one-step (tests/ratings/test_style_bootstrap.py).

    Why not refit: with real token counts nearly every battle is its own unique row, so exact
    refits cost rounds x battles x Newton passes, each pass also building and solving a
    Hessian. Here H is built and inverted once; the score is linear in the resampled counts,
    so for a chunk of rounds it is one sparse product, (rows of the design: two +-1 model
    entries and the covariates, per occupied cell)^T x (residual x resampled counts, cells x
    rounds) - no loop over rounds or rows beyond drawing the resamples themselves.

    H and the identifiability constraint are exactly the fit's: the information plus the
    constant shift penalty on the theta block (``_newton_system``), so steps are orthogonal to
    a common shift and theta stays centred (re-centred against rounding); the prior enters H
    and every g_r just as it enters every exact refit when the full data needed it. All
    rounds are reported ``converged``.
    """
    n, q = design.n_models, design.n_features
    centre = np.concatenate([full.theta[0], full.gamma[0]])
    flat = design.cells.reshape(-1)
    if design.first.size == 0 or rounds == 0:
        return StyleFit(
            theta=np.tile(centre[:n], (rounds, 1)),
            gamma=np.tile(centre[n:], (rounds, 1)),
            degenerate=full.degenerate,
            converged=np.ones(rounds, dtype=np.bool_),
        )
    ridge = prior_precision if full.degenerate else 0.0
    games = design.cells.sum(axis=1).astype(np.float64)[None]
    first_score = (design.cells[:, 0] + 0.5 * design.cells[:, 2])[None]
    _, hessian = _newton_system(
        design,
        _NewtonTerms(design),
        full.theta,
        full.gamma,
        games,
        first_score,
        ridge,
        _shift_penalty(games, n),
    )
    inverse = np.linalg.inv(hessian[0])
    occupied = np.flatnonzero(flat)
    rows = _cell_rows(design, occupied)
    rows_t = rows.T.tocsr()
    # Outcome of each occupied cell for its first model: 1 win, 0 loss, 1/2 tie.
    outcome = np.array([1.0, 0.0, 0.5])[occupied % 3]
    # One battle's score contribution per occupied cell at the full fit: (y - p) x.
    residual_full = outcome - win_probability(np.asarray(rows @ centre))
    prior_score = np.concatenate([-ridge * centre[:n], np.zeros(q)])

    def newton_update(beta: NDArray[np.float64], score: NDArray[np.float64]) -> None:
        beta += inverse @ score
        beta[:n] -= beta[:n].mean(axis=0)

    def work(rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        counts = resample_occupied(rng, flat, size).T.astype(np.float64, order="C")  # (occupied cells, size)
        score = np.asarray(rows_t @ (counts * residual_full[:, None]))  # (n + q, size)
        score += prior_score[:, None]
        beta = np.repeat(centre[:, None], size, axis=1)
        newton_update(beta, score)
        for _ in range(corrections):
            p = win_probability(np.asarray(rows @ beta))
            residual = np.subtract(outcome[:, None], p, out=p)
            residual *= counts
            score = np.asarray(rows_t @ residual)
            score[:n] -= ridge * beta[:n]
            newton_update(beta, score)
        return np.ascontiguousarray(beta.T)

    stacked = run_in_chunks(rounds, seed, work, chunk=rounds_per_chunk(design))
    return StyleFit(
        theta=stacked[:, :n],
        gamma=stacked[:, n:],
        degenerate=full.degenerate,
        converged=np.ones(rounds, dtype=np.bool_),
    )


StyleBootstrap = Literal["one_step", "exact"]
STYLE_BOOTSTRAP_METHODS: tuple[StyleBootstrap, ...] = ("one_step", "exact")


def style_bootstrap_replicates(
    design: StyleDesign,
    full: StyleFit,
    *,
    rounds: int,
    seed: int,
    prior_precision: float,
    method: StyleBootstrap = "one_step",
) -> StyleFit:
    """Bootstrap replicates of the style-controlled fit: ``"one_step"`` (default, linearised,
    ``one_step_bootstrap_style_bradley_terry``) or ``"exact"`` (every round refitted,
    ``bootstrap_style_bradley_terry``). Same seed, same resamples either way."""
    if method == "one_step":
        return one_step_bootstrap_style_bradley_terry(
            design, full, rounds=rounds, seed=seed, prior_precision=prior_precision
        )
    if method == "exact":
        return bootstrap_style_bradley_terry(
            design, full, rounds=rounds, seed=seed, prior_precision=prior_precision
        )
    raise ValueError(f"style_bootstrap must be one of {', '.join(STYLE_BOOTSTRAP_METHODS)}, not {method!r}")
