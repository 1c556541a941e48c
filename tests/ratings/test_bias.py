"""Bias checks find an injected position or length bias, and report none where there is none."""

from __future__ import annotations

import math

import numpy as np

from arena.ratings import Battle, StyleFeatures, length_bias, position_bias


def judge_pair(comparison: str, first_order: str, second_order: str) -> list[Battle]:
    """One judge's two verdicts on x vs y: first with x shown first, then with y shown first."""
    return [
        Battle("judge:j", "x", "y", first_order, comparison=comparison, first_shown="model_a", rater="j"),  # type: ignore[arg-type]
        Battle("judge:j", "x", "y", second_order, comparison=comparison, first_shown="model_b", rater="j"),  # type: ignore[arg-type]
    ]


def test_judge_consistency_matches_the_hand_count() -> None:
    battles = (
        judge_pair("c1", "model_a", "model_a")  # x both times: consistent
        + judge_pair("c2", "model_a", "model_b")  # the first-shown answer both times: favours first
        + judge_pair("c3", "model_b", "model_a")  # the second-shown answer both times: favours second
        + judge_pair("c4", "tie", "tie")  # consistent
        + judge_pair("c5", "model_a", "tie")  # first-shown win, then a tie: leans first
        + [
            Battle("judge:j", "x", "y", "model_a", comparison="c6", first_shown="model_a", rater="j")
        ]  # one order only
    )
    report = position_bias(battles).consistency
    assert (report.pairs, report.consistent, report.favour_first, report.favour_second) == (5, 2, 2, 1)
    assert math.isclose(report.consistency or 0, 0.4)
    assert math.isclose(report.favour_first_share_of_inconsistent or 0, 2 / 3)
    assert math.isclose(report.favour_second_share or 0, 0.2)


def imported_pair(comparison: str, first_verdict: str, second_verdict: str) -> list[Battle]:
    """The same judgments as an imported file records them (QLoRA, PRD): one row per order, the
    first-shown model always named model_a."""
    return [
        Battle(
            "import:q", "x", "y", first_verdict, comparison=comparison, first_shown="model_a", rater="gpt-4"
        ),  # type: ignore[arg-type]
        Battle(
            "import:q", "y", "x", second_verdict, comparison=comparison, first_shown="model_a", rater="gpt-4"
        ),  # type: ignore[arg-type]
    ]


def test_imported_orders_pair_up_by_the_model_shown_first() -> None:
    battles = (
        imported_pair("c1", "model_a", "model_b")  # x both times: consistent
        + imported_pair("c2", "model_a", "model_a")  # whichever sat first both times: favours first
        + imported_pair("c3", "tie", "tie")  # consistent
    )
    report = position_bias(battles).consistency
    assert (report.pairs, report.consistent, report.favour_first, report.favour_second) == (3, 2, 1, 0)


def human_votes(first_shown_win_rate: float, seed: int, n: int = 3000) -> list[Battle]:
    rng = np.random.default_rng(seed)
    battles = []
    for i in range(n):
        first = "model_a" if rng.random() < 0.5 else "model_b"
        second = "model_b" if first == "model_a" else "model_a"
        winner = first if rng.random() < first_shown_win_rate else second
        battles.append(Battle("human", f"m{i % 3}", f"m{3 + i % 2}", winner, first_shown=first))  # type: ignore[arg-type]
    return battles + [Battle("human", "m0", "m3", "tie", first_shown="model_a")] * 50  # ties are not decisive


def test_a_first_position_bias_in_human_votes_is_detected() -> None:
    report = position_bias(human_votes(0.58, seed=1)).first_shown_wins
    assert report.trials == 3000
    assert report.p_value is not None and report.p_value < 0.001
    assert report.ci_low is not None and report.ci_low > 0.5
    assert abs((report.share or 0) - 0.58) < 0.03


def test_no_position_bias_reports_none() -> None:
    report = position_bias(human_votes(0.5, seed=2))
    assert report.first_shown_wins.p_value is not None and report.first_shown_wins.p_value > 0.05
    assert report.consistency.pairs == 0 and report.consistency.consistency is None
    assert set(report.by_source) == {"human"}


def simulated_judge(position_biased_share: float, seed: int, n: int = 1500) -> list[Battle]:
    """Per comparison the judge either always picks the first-shown answer, or judges on merit
    (picks x with probability 0.7, independently in each order)."""
    rng = np.random.default_rng(seed)
    battles: list[Battle] = []
    for i in range(n):
        if rng.random() < position_biased_share:
            battles += judge_pair(f"c{i}", "model_a", "model_b")
        else:
            battles += judge_pair(
                f"c{i}", *("model_a" if rng.random() < 0.7 else "model_b" for _ in range(2))
            )
    return battles


def test_an_injected_judge_position_bias_shows_in_consistency() -> None:
    biased = position_bias(simulated_judge(0.3, seed=3)).consistency
    unbiased = position_bias(simulated_judge(0.0, seed=4)).consistency
    # Merit-only judge: consistent with probability 0.7^2 + 0.3^2 = 0.58, inconsistent pairs split evenly.
    assert abs((unbiased.consistency or 0) - 0.58) < 0.04
    assert abs((unbiased.favour_first_share_of_inconsistent or 0) - 0.5) < 0.07
    # 30 % position-biased: consistency 0.7 * 0.58 = 0.406, and most inconsistency favours first.
    assert abs((biased.consistency or 0) - 0.406) < 0.04
    assert (biased.favour_first_share_of_inconsistent or 0) > 0.75


def length_votes(longer_win_rate: float, seed: int, n: int = 3000) -> list[Battle]:
    rng = np.random.default_rng(seed)
    battles = []
    for i in range(n):
        tokens = rng.integers(50, 800, 2)
        if tokens[0] == tokens[1]:
            continue
        a_longer = tokens[0] > tokens[1]
        longer_wins = rng.random() < longer_win_rate
        winner = "model_a" if a_longer == longer_wins else "model_b"
        style = [StyleFeatures(int(t), 0, int(rng.integers(0, 4)), 0) for t in tokens]
        battles.append(
            Battle("human", f"m{i % 4}", f"m{4 + i % 3}", winner, style_a=style[0], style_b=style[1])
        )  # type: ignore[arg-type]
    return battles


def test_an_injected_length_bias_is_detected() -> None:
    report = length_bias(length_votes(0.65, seed=5), bootstrap_rounds=100)
    assert report.longer_wins.p_value is not None and report.longer_wins.p_value < 0.001
    assert abs((report.longer_wins.share or 0) - 0.65) < 0.03
    assert sum(bucket.decisive for bucket in report.buckets) == report.longer_wins.trials
    assert report.length_coefficient is not None and report.length_coefficient_ci_low is not None
    assert report.length_coefficient > 0 and report.length_coefficient_ci_low > 0
    # The simulated bias does not depend on the gap, so every well-filled bucket shows it.
    rates = [bucket.longer_win_rate or 0 for bucket in report.buckets if bucket.decisive > 100]
    assert len(rates) >= 3 and all(0.58 < rate < 0.72 for rate in rates)


def test_no_length_bias_reports_none() -> None:
    report = length_bias(length_votes(0.5, seed=6), bootstrap_rounds=100)
    assert report.longer_wins.p_value is not None and report.longer_wins.p_value > 0.05
    assert report.length_coefficient_ci_low is not None and report.length_coefficient_ci_high is not None
    assert report.length_coefficient_ci_low < 0 < report.length_coefficient_ci_high
    assert set(report.to_dict()) >= {"longer_wins", "buckets", "length_coefficient"}
