"""Style control: markdown counting, the aggregated fit equals the row-level regression, and
length effects are separated from model strength."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from arena.ratings import BattleArrays, StyleFeatures, compute_leaderboard, markdown_style_features
from arena.ratings.style import fit_style_bradley_terry, style_design

ELO_PER_NAT = 400.0 / np.log(10.0)


def test_markdown_features_count_headers_lists_bold_and_skip_code() -> None:
    text = (
        "# Title\n\nSome **bold** text and __more bold__.\n\n## Steps\n"
        "1. first\n2. second\n- bullet\n  * nested\n\n"
        "```python\n# not a header\n- not a list\n**not bold**\n```\n#hashtag is not a header\n"
    )
    features = markdown_style_features(text)
    assert features[1:] == (2, 4, 2)
    assert features.tokens > 30
    assert markdown_style_features("Hello, world!") == StyleFeatures(
        tokens=4, headers=0, list_items=0, bold=0
    )
    assert markdown_style_features("anything", tokens=99).tokens == 99


def row_level_style_fit(arrays: BattleArrays) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """One row per battle (ties as two half rows), covariates computed here from scratch."""
    assert arrays.style_a is not None and arrays.style_b is not None
    total = arrays.style_a + arrays.style_b
    diff = np.where(total > 0, (arrays.style_a - arrays.style_b) / np.where(total > 0, total, 1), 0.0)
    z = diff / np.sqrt((diff**2).mean(axis=0))
    n = arrays.n_models
    xs, ys, ws = [], [], []
    for i, (a, b, outcome) in enumerate(zip(arrays.model_a, arrays.model_b, arrays.outcome, strict=True)):
        x = np.zeros(n + 4)
        x[a], x[b] = 1.0, -1.0
        x[n:] = z[i]
        for y, w in (
            [(1.0, 1.0)] if outcome == 0 else [(0.0, 1.0)] if outcome == 1 else [(1.0, 0.5), (0.0, 0.5)]
        ):
            xs.append(x), ys.append(y), ws.append(w)
    design = np.delete(np.array(xs), 0, axis=1)  # model 0 fixed at 0
    y, w = np.array(ys), np.array(ws)

    def nll(beta: NDArray[np.float64]) -> float:
        eta = design @ beta
        return float(-(w * (y * eta - np.logaddexp(0, eta))).sum())

    def grad(beta: NDArray[np.float64]) -> NDArray[np.float64]:
        p = 1 / (1 + np.exp(-(design @ beta)))
        return np.asarray(-(design.T @ (w * (y - p))))

    def hess(beta: NDArray[np.float64]) -> NDArray[np.float64]:
        p = 1 / (1 + np.exp(-(design @ beta)))
        return np.asarray(design.T @ (design * (w * p * (1 - p))[:, None]))

    beta = minimize(
        nll, np.zeros(design.shape[1]), jac=grad, hess=hess, method="trust-exact", options={"gtol": 1e-12}
    ).x
    theta = np.r_[0.0, beta[: n - 1]]
    return theta - theta.mean(), beta[n - 1 :]


def random_style_battles(seed: int, n_battles: int = 2000, n_models: int = 4) -> BattleArrays:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n_models, n_battles)
    b = (a + rng.integers(1, n_models, n_battles)) % n_models
    # Small integer counts so many battles share a style-difference row and aggregation matters.
    style_a = np.column_stack([rng.integers(1, 3, n_battles) * 100, rng.integers(0, 2, (n_battles, 3))])
    style_b = np.column_stack([rng.integers(1, 3, n_battles) * 100, rng.integers(0, 2, (n_battles, 3))])
    outcome = rng.choice(4, n_battles, p=[0.4, 0.35, 0.15, 0.1])
    return BattleArrays.from_arrays(
        [f"m{i}" for i in range(n_models)], a, b, outcome, style_a=style_a, style_b=style_b
    )


def test_aggregated_style_fit_equals_the_row_level_logistic_regression() -> None:
    arrays = random_style_battles(seed=1)
    design = style_design(arrays)
    assert design.first.size < len(arrays) / 2  # rows really were merged
    fit = fit_style_bradley_terry(design, prior_precision=0.19)
    theta, gamma = row_level_style_fit(arrays)
    assert np.abs(ELO_PER_NAT * (fit.theta[0] - theta)).max() < 1e-6
    assert np.abs(fit.gamma[0] - gamma).max() < 1e-8
    assert design.feature_names == ("length", "headers", "list_items", "bold")


def test_length_driven_verdicts_give_a_positive_length_effect_and_equal_models() -> None:
    rng = np.random.default_rng(5)
    n_models, n_battles = 6, 6000
    a = rng.integers(0, n_models, n_battles)
    b = (a + rng.integers(1, n_models, n_battles)) % n_models
    typical_length = np.linspace(150, 900, n_models)  # later models write longer answers
    tokens_a = rng.normal(typical_length[a], 80).clip(20)
    tokens_b = rng.normal(typical_length[b], 80).clip(20)
    gap = (tokens_a - tokens_b) / (tokens_a + tokens_b)
    a_wins = rng.random(n_battles) < 1 / (1 + np.exp(-3.0 * gap))  # only length matters
    zeros = np.zeros((n_battles, 3))
    arrays = BattleArrays.from_arrays(
        [f"m{i}" for i in range(n_models)],
        a,
        b,
        np.where(a_wins, 0, 1),
        style_a=np.column_stack([tokens_a, zeros + rng.integers(0, 3, (n_battles, 3))]),
        style_b=np.column_stack([tokens_b, zeros + rng.integers(0, 3, (n_battles, 3))]),
    )
    plain = compute_leaderboard(arrays, bootstrap_rounds=0)
    controlled = compute_leaderboard(arrays, style_control=True, bootstrap_rounds=200, seed=1)
    assert plain.rows[0].rating - plain.rows[-1].rating > 300  # length looks like skill...
    spread = controlled.rows[0].rating - controlled.rows[-1].rating
    assert spread < 40  # ...until it is controlled for
    assert controlled.style_coefficients is not None
    length = next(c for c in controlled.style_coefficients if c.name == "length")
    assert length.ci_low > 0.2 and length.value > 0.5
    others = [c for c in controlled.style_coefficients if c.name != "length"]
    assert all(c.ci_low < 0 < c.ci_high for c in others)
    json_ready = controlled.to_dict()["style_coefficients"]
    assert {c["name"] for c in json_ready} == {"length", "headers", "list_items", "bold"}


def test_style_bootstrap_is_reproducible() -> None:
    arrays = random_style_battles(seed=2)
    one = compute_leaderboard(arrays, style_control=True, bootstrap_rounds=60, seed=3).to_dict()
    assert one == compute_leaderboard(arrays, style_control=True, bootstrap_rounds=60, seed=3).to_dict()
    assert one != compute_leaderboard(arrays, style_control=True, bootstrap_rounds=60, seed=4).to_dict()


def test_unique_rows_are_numpys_unique_rows_in_numpys_order():
    from arena.ratings.style import unique_rows_of

    rng = np.random.default_rng(3)
    key = np.column_stack(
        [
            rng.integers(0, 5, 3000),
            rng.integers(0, 5, 3000),
            rng.normal(size=(3000, 2)).round(1),
            rng.choice([0.0, -0.0, 1.5], 3000),
        ]
    ).astype(float)
    expected, expected_inverse = np.unique(key, axis=0, return_inverse=True)
    rows, inverse = unique_rows_of(key)
    assert np.array_equal(rows, expected) and np.array_equal(inverse, expected_inverse.reshape(-1))
    assert unique_rows_of(key[:0])[0].shape == (0, 5)


def _styled(seed: int = 4, n: int = 3000):
    """Battles with four style features: length varies, headers differ in 4 battles only,
    list items equal length (collinear), bold is the same on both sides."""
    import numpy as np

    from arena.ratings import BattleArrays

    rng = np.random.default_rng(seed)
    a = rng.integers(0, 5, n)
    b = (a + rng.integers(1, 5, n)) % 5
    outcome = rng.integers(0, 3, n)
    style_a = np.zeros((n, 4))
    style_b = np.zeros((n, 4))
    style_a[:, 0] = rng.integers(50, 500, n)
    style_b[:, 0] = rng.integers(50, 500, n)
    style_a[:4, 1] = 3
    style_a[:, 2], style_b[:, 2] = style_a[:, 0], style_b[:, 0]
    style_a[:, 3] = style_b[:, 3] = 2
    return BattleArrays.from_arrays(
        [f"m{i}" for i in range(5)], a, b, outcome, style_a=style_a, style_b=style_b
    )


def test_features_that_cannot_be_estimated_are_dropped_and_named() -> None:
    from arena.ratings import compute_leaderboard
    from arena.ratings.style import style_design

    design = style_design(_styled())
    assert design.feature_names == ("length",)
    reasons = dict(design.dropped)
    assert reasons["headers"].startswith("differs between the answers in only 4 battles")
    assert reasons["bold"] == "the same for both answers in every battle"
    assert reasons["list_items"] == "follows from the models and length"
    board = compute_leaderboard(_styled(), style_control=True, bootstrap_rounds=20)
    assert [c.name for c in board.style_coefficients or []] == ["length"]
    assert any(n.startswith("Style control left out") and "list_items" in n for n in board.notes)


def test_with_no_feature_left_the_plain_fit_is_shown_with_a_note() -> None:
    import numpy as np

    from arena.ratings import BattleArrays, compute_leaderboard

    arrays = _styled()
    same = np.ones_like(arrays.style_a)
    flat = BattleArrays.from_arrays(
        list(arrays.models), arrays.model_a, arrays.model_b, arrays.outcome, style_a=same, style_b=same
    )
    board = compute_leaderboard(flat, style_control=True, bootstrap_rounds=20, seed=1)
    plain = compute_leaderboard(flat, bootstrap_rounds=20, seed=1)
    assert board.style_coefficients is None
    assert [(r.model, r.rating) for r in board.rows] == [(r.model, r.rating) for r in plain.rows]
    assert any("plain Bradley-Terry" in n for n in board.notes)
