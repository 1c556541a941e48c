"""The numbers evaluators publish, on hand-computed cases: MT-Bench scores (and FastChat's own
``show_result.py`` table), win rates against a baseline, Arena-Hard's weighting and anchored
Bradley–Terry, the length-controlled win rate (with a simulation), grades, HHH and panels."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from arena.ratings.grades import (
    grade_agreement,
    grade_table,
    hhh_table,
    majority,
    rank_correlation,
    weighted_kappa,
)
from arena.ratings.length_control import FORMULA_MINIMAL, FORMULA_V1, length_controlled_win_rates
from arena.ratings.scores import ScoreRecord, score_table
from arena.ratings.winrate import Preference, anchored_bradley_terry, five_level_preference, win_rate

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "fastchat_single.jsonl"
PUBLIC_RUN = ROOT / "arena" / "data" / "demo" / "mt_bench" / "judgments" / "gpt-4_single.jsonl"


# --- MT-Bench scores ----------------------------------------------------------------------------


def test_scores_follow_show_result_rules_on_a_hand_computed_case():
    records = [
        ScoreRecord("x", "p1", 1, 8.0, "writing"),
        ScoreRecord("x", "p1", 2, 6.0, "writing"),
        ScoreRecord("x", "p2", 1, None, "math"),
        ScoreRecord("x", "p2", 2, 4.0, "math"),
        ScoreRecord("y", "p1", 1, 10.0, "writing"),
        ScoreRecord("y", "p2", 1, -1.0, "math"),
    ]
    table = score_table(records, bootstrap_rounds=0)
    x = next(r for r in table.rows if r.model == "x")
    assert (x.turns[1].mean, x.turns[1].n, x.turns[1].unparsed) == (8.0, 1, 1)
    assert (x.turns[2].mean, x.turns[2].n) == (5.0, 2)
    # Overall pools every parsed score (8, 6, 4), it is not the mean of the turn means (6.5).
    assert x.overall.mean == pytest.approx(6.0)
    assert x.categories["writing"].mean == 7.0 and x.categories["math"].mean == 4.0
    assert [r.model for r in table.rows] == ["y", "x"]
    assert table.unparsed == 2 and table.judgments == 6 and table.prompts == 2


def test_score_intervals_come_from_resampling_prompts():
    records = [ScoreRecord("m", f"p{i}", 1, float(1 + i % 10)) for i in range(200)]
    row = score_table(records, bootstrap_rounds=500, seed=3).rows[0]
    assert row.overall.ci_low < row.overall.mean < row.overall.ci_high
    # The prompt mean's standard error is sd/sqrt(200) = 2.87/14.1 = 0.20: a 95 % interval ~ ±0.4.
    assert 0.6 < row.overall.ci_high - row.overall.ci_low < 1.0
    same = score_table(records, bootstrap_rounds=500, seed=3).rows[0]
    assert same.overall.ci_low == row.overall.ci_low  # seeded


def show_result_single(path: Path) -> dict[str, list[tuple[str, str]]]:
    """FastChat's ``show_result.py --mode single``, written out plainly: drop score == -1, then
    the mean per model of turn 1, of turn 2 and of all scores, each table sorted by score
    (descending) and printed by pandas with 6 decimals."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r["score"] != -1]
    tables = {}
    for name, keep in (
        ("turn 1", lambda r: r["turn"] == 1),
        ("turn 2", lambda r: r["turn"] == 2),
        ("average", lambda r: True),
    ):
        scores = defaultdict(list)
        for r in rows:
            if keep(r):
                scores[r["model"]].append(r["score"])
        means = {m: sum(s) / len(s) for m, s in scores.items()}
        tables[name] = [(m, f"{v:.6f}") for m, v in sorted(means.items(), key=lambda kv: -kv[1])]
    return tables


def arena_tables(path: Path) -> dict[str, list[tuple[str, str]]]:
    from arena.imports.parsers.fastchat import parse_fastchat_single_judgments

    records = [ScoreRecord(r.model, r.prompt, r.turn, r.score) for r in parse_fastchat_single_judgments(path)]
    table = score_table(records, bootstrap_rounds=0)
    out = {}
    for name, pick in (
        ("turn 1", lambda r: r.turns.get(1)),
        ("turn 2", lambda r: r.turns.get(2)),
        ("average", lambda r: r.overall),
    ):
        means = [
            (r.model, pick(r).mean) for r in table.rows if pick(r) is not None and pick(r).mean is not None
        ]
        out[name] = [(m, f"{v:.6f}") for m, v in sorted(means, key=lambda kv: -kv[1])]
    return out


@pytest.mark.parametrize("path", [FIXTURE, PUBLIC_RUN], ids=["fixture-with-unparsed", "public-gpt-4-run"])
def test_the_score_table_equals_show_result_to_the_printed_precision(path):
    expected = show_result_single(path)
    assert expected["turn 1"], "the reference read nothing"
    assert arena_tables(path) == expected


def test_the_fixture_really_exercises_unparsed_scores():
    from arena.imports.parsers.fastchat import parse_fastchat_single_judgments

    rows = list(parse_fastchat_single_judgments(FIXTURE))
    assert sum(r.score is None for r in rows) == 2
    records = [ScoreRecord(r.model, r.prompt, r.turn, r.score) for r in rows]
    row = next(r for r in score_table(records, bootstrap_rounds=0).rows if r.model == "mamba_0_5_dpo_ep1")
    assert row.turns[1].unparsed == 1 and row.turns[2].unparsed == 1 and row.overall.unparsed == 2


# --- Win rate against a baseline --------------------------------------------------------------


def test_win_rate_by_hand():
    # p: win, loss, tie, 0.8, 0.2 → mean 0.5; wins 2 (1, 0.8), losses 2, draws 1
    result = win_rate([1.0, 0.0, 0.5, 0.8, 0.2], bootstrap_rounds=0)
    assert result.win_rate == pytest.approx(50.0)
    assert (result.n_wins, result.n_losses, result.n_draws) == (2, 2, 1)
    assert result.discrete_win_rate == pytest.approx(50.0)
    # sample sd: sqrt((0.25+0.25+0+0.09+0.09)/4) = sqrt(0.17); sem = sqrt(0.17/5)
    assert result.standard_error == pytest.approx(100 * math.sqrt(0.17 / 5))


def test_discrete_and_weighted_win_rates_differ_as_alpaca_eval_defines_them():
    result = win_rate([0.9, 0.6, 0.4, 0.1], bootstrap_rounds=0)
    assert result.win_rate == pytest.approx(50.0)
    assert result.discrete_win_rate == pytest.approx(50.0)
    skewed = win_rate([0.51, 0.51, 0.0], bootstrap_rounds=0)
    assert skewed.win_rate == pytest.approx(34.0)
    assert skewed.discrete_win_rate == pytest.approx(200 / 3)


def test_strong_verdicts_count_as_their_weight():
    # Arena-Hard: [[A>>B]] for the model counts 3 times, [[B>A]] once: (3·1 + 1·0) / 4.
    p1, strong1 = five_level_preference("A>>B", model_is_a=True)
    p2, strong2 = five_level_preference("A>B", model_is_a=False)
    assert (p1, strong1, p2, strong2) == (1.0, True, 0.0, False)
    result = win_rate([p1, p2], weights=[3.0, 1.0], bootstrap_rounds=0)
    assert result.win_rate == pytest.approx(75.0)
    assert result.weighted_n == 4.0
    with pytest.raises(ValueError):
        five_level_preference("A>>>B", model_is_a=True)


def test_win_rate_interval_covers_the_estimate_and_is_seeded():
    rng = np.random.default_rng(0)
    prefs = (rng.random(300) < 0.3).astype(float)
    first = win_rate(prefs, prompts=[f"p{i}" for i in range(300)], seed=5)
    second = win_rate(prefs, prompts=[f"p{i}" for i in range(300)], seed=5)
    assert first.ci_low < first.win_rate < first.ci_high
    assert (first.ci_low, first.ci_high) == (second.ci_low, second.ci_high)


def test_bradley_terry_is_anchored_on_the_baseline():
    # 3 wins in 4 against the baseline: theta gap log(3) → 400·log10(3) = 190.8 above 1000.
    records = [Preference("m", f"p{i}", p) for i, p in enumerate([1.0, 1.0, 1.0, 0.0])]
    rows = {r.model: r for r in anchored_bradley_terry(records, baseline="base", bootstrap_rounds=50)}
    assert rows["base"].rating == pytest.approx(1000.0)
    assert rows["m"].rating == pytest.approx(1000 + 400 * math.log10(3), abs=1e-6)
    assert rows["m"].predicted_win_rate == pytest.approx(75.0)
    assert rows["base"].ci_low == pytest.approx(1000.0) and rows["base"].ci_high == pytest.approx(1000.0)


# --- Length-controlled win rate -----------------------------------------------------------------


def _simulated(seed: int) -> tuple[list[Preference], dict[str, float]]:
    """Four models against one baseline on 800 instructions. The judge's preference depends on
    the quality gap, the instruction's difficulty, and a planted length effect in the form
    AlpacaEval's GLM assumes (tanh of the standardised length difference)."""
    rng = np.random.default_rng(seed)
    n = 800
    difficulty = rng.normal(0, 1, n)
    baseline_len = rng.lognormal(np.log(1200), 0.4, n)
    models = {"verbose": (-0.4, 0.6), "terse": (0.5, -0.5), "plain": (0.0, 0.0), "long-good": (0.8, 0.5)}
    records, quality_only = [], {}
    for name, (quality, verbosity) in models.items():
        model_len = baseline_len * np.exp(verbosity + rng.normal(0, 0.6, n))
        delta = model_len - baseline_len
        prefs = 1 / (1 + np.exp(-(quality + difficulty + 2.0 * np.tanh(delta / delta.std(ddof=1)))))
        quality_only[name] = 100 * float(np.mean(1 / (1 + np.exp(-(quality + difficulty)))))
        records += [
            Preference(
                name,
                f"x{i}",
                float(prefs[i]),
                length_model=int(model_len[i]),
                length_baseline=int(baseline_len[i]),
            )
            for i in range(n)
        ]
    return records, quality_only


def test_length_control_recovers_the_quality_only_win_rate():
    records, truth = _simulated(seed=11)
    results = length_controlled_win_rates(records, bootstrap_rounds=100)
    for name in ("verbose", "terse"):
        r = results[name]
        assert abs(r.raw_win_rate - truth[name]) > 10, (name, r.raw_win_rate, truth[name])
        assert abs(r.length_controlled_win_rate - truth[name]) < 2, (
            name,
            r.length_controlled_win_rate,
            truth[name],
        )
        assert r.ci_low < r.length_controlled_win_rate < r.ci_high
        assert r.formula == FORMULA_V1 and "difficulty" in r.coefficients
    for r in results.values():
        assert abs(r.length_controlled_win_rate - truth[r.model]) < 2


def test_a_single_model_uses_the_minimal_formula():
    records, truth = _simulated(seed=12)
    only = length_controlled_win_rates([r for r in records if r.model == "verbose"], bootstrap_rounds=0)[
        "verbose"
    ]
    assert only.formula == FORMULA_MINIMAL and set(only.coefficients) == {"intercept", "length"}
    # Without the instruction term LC = sigmoid(intercept).
    assert only.length_controlled_win_rate == pytest.approx(
        100 / (1 + math.exp(-only.coefficients["intercept"]))
    )
    assert abs(only.raw_win_rate - truth["verbose"]) > 10


def test_equal_lengths_leave_the_win_rate_alone_and_missing_lengths_are_left_out():
    records = [
        Preference("m", f"p{i}", p, length_model=100, length_baseline=100)
        for i, p in enumerate([0.9, 0.7, 0.2, 0.6])
    ]
    records.append(Preference("m", "p9", 1.0))  # no lengths: not in the length model
    result = length_controlled_win_rates(records, bootstrap_rounds=0)["m"]
    assert result.n == 4
    # tanh(0) everywhere: the fit is the intercept alone, sigmoid(θ) = mean(p) = 0.6.
    assert result.length_controlled_win_rate == pytest.approx(60.0, abs=1e-4)


# --- Grades, HHH, agreement, panels -------------------------------------------------------------


def test_grade_table_and_agreement_by_hand():
    rows = grade_table([("m", "A"), ("m", "B"), ("m", "D"), ("n", "C"), ("m", "X")])
    m = next(r for r in rows if r["model"] == "m")
    assert (m["A"], m["B"], m["C"], m["D"], m["total"]) == (1, 1, 0, 1, 3)
    assert m["share_ab"] == pytest.approx(2 / 3)
    agreement = grade_agreement([("A", "A"), ("A", "B"), ("B", "D"), ("C", "C")])
    assert agreement.n == 4 and agreement.exact == 0.5 and agreement.within_one == 0.75
    # Linear weights |i-j|/3: observed disagreement (1/3 + 2/3)/4 = 0.25. Expected: row shares
    # A .5 B .25 C .25, column shares .25 each; row sums of the weights A 2, B 4/3, C 4/3, so
    # .25·(.5·2 + .25·4/3 + .25·4/3) = 5/12 → κw = 1 - 0.25/(5/12) = 0.4.
    assert agreement.weighted_kappa == pytest.approx(0.4)
    assert weighted_kappa(np.eye(4)) == pytest.approx(1.0)


def test_hhh_table_shares_by_hand():
    boards = hhh_table(
        [
            ({"helpful": "model_a", "honest": "same", "harmless": "model_b"}, "x", "y"),
            ({"helpful": "model_a", "honest": "model_a", "harmless": ""}, "x", "y"),
        ]
    )
    helpful = {r["model"]: r for r in boards["helpful"]}
    assert helpful["x"]["share_wins"] == 1.0 and helpful["y"]["share_losses"] == 1.0
    honest = {r["model"]: r for r in boards["honest"]}
    assert honest["x"]["win_rate"] == pytest.approx(0.75) and honest["y"]["share_same"] == 0.5
    assert [r["model"] for r in boards["harmless"]] == ["y", "x"] and boards["harmless"][0]["n"] == 1


def test_rank_correlation_and_majority():
    rho, n = rank_correlation({"a": 3, "b": 2, "c": 1, "d": 0}, {"a": 30, "b": 10, "c": 20, "e": 5})
    assert n == 3 and rho == pytest.approx(0.5)
    assert rank_correlation({"a": 1, "b": 2}, {"a": 1, "b": 2}) == (None, 2)
    assert majority(["model_a", "model_b", "model_a"]) == "model_a"
    assert majority(["model_a", "model_b"], tie="tie") == "tie"
    assert majority([]) is None
