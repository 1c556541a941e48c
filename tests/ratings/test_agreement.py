"""Agreement between sources and among raters, checked against arithmetic done by hand."""

from __future__ import annotations

import math

from arena.ratings import Battle, agreement, inter_rater_agreement


def verdict(
    source: str,
    comparison: str,
    winner_model: str | None,
    *,
    turn: int = 1,
    reversed_pair: bool = False,
    rater: str | None = None,
) -> Battle:
    model_a, model_b = ("b", "a") if reversed_pair else ("a", "b")
    winner = "tie" if winner_model is None else "model_a" if winner_model == model_a else "model_b"
    return Battle(source, model_a, model_b, winner, turn=turn, comparison=comparison, rater=rater)  # type: ignore[arg-type]


HUMAN = [
    verdict("human", "c1", "a"),
    verdict("human", "c2", "b"),
    verdict("human", "c3", None),
    verdict("human", "c4", "a"),
    verdict("human", "c5", "b"),
    verdict("human", "c6", None, turn=2),
]
JUDGE = [
    verdict("judge:gpt-4", "c1", "a"),
    verdict("judge:gpt-4", "c2", "b", reversed_pair=True),  # same verdict, pair listed the other way
    verdict("judge:gpt-4", "c3", "a"),
    verdict("judge:gpt-4", "c4", "b"),
    verdict("judge:gpt-4", "c5", "b"),
    verdict("judge:gpt-4", "c6", None, turn=2),
    verdict("judge:gpt-4", "only-judged-by-the-judge", "a"),
]


def test_agreement_s1_s2_and_kappa_match_the_hand_computation() -> None:
    # Classes relative to the sorted pair (a, b): 0 = a wins, 1 = b wins, 2 = tie.
    # human x judge: c1 (0,0) c2 (1,1) c3 (2,0) c4 (0,1) c5 (1,1) c6 (2,2)
    # confusion rows human, cols judge: [[1,1,0],[0,2,0],[1,0,1]]; row sums 2,2,2; col sums 2,3,1.
    # S1 = 4/6. S2 over the 4 pairs without a tie ([[1,1],[0,2]]) = 3/4.
    # kappa: p_o = 4/6, p_e = (2*2 + 2*3 + 2*1)/36 = 1/3, kappa = (2/3 - 1/3)/(2/3) = 0.5.
    report = agreement(HUMAN, JUDGE)
    assert report.comparisons == 6 and report.pairs == 6 and report.agreeing == 4
    assert report.confusion == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert math.isclose(report.agreement_with_ties or 0, 4 / 6)
    assert report.pairs_without_ties == 4 and math.isclose(report.agreement_without_ties or 0, 0.75)
    assert math.isclose(report.kappa or 0, 0.5)
    # Per turn: turn 1 is c1..c5 (3 of 5 agree), turn 2 is c6 (agrees).
    assert math.isclose(report.by_turn[1].agreement_with_ties or 0, 3 / 5)
    assert report.by_turn[2].pairs == 1 and report.by_turn[2].agreeing == 1
    assert report.to_dict()["by_turn"]["2"]["agreement_without_ties"] is None


def test_several_verdicts_on_one_comparison_pair_up_like_mt_bench_or_by_majority() -> None:
    second_rater = verdict("human", "c1", "b", rater="r2")
    report = agreement([*HUMAN, second_rater], JUDGE)
    # c1 now gives two pairs: (0,0) agrees, (1,0) does not: 7 pairs, 4 agreeing.
    assert report.pairs == 7 and report.agreeing == 4
    majority = agreement([*HUMAN, second_rater], JUDGE, mode="majority")
    # The humans split 1-1 on c1, so it drops out: 5 comparisons, 3 agreeing.
    assert majority.comparisons == 5 and majority.pairs == 5 and majority.agreeing == 3


def test_inter_rater_agreement_and_fleiss_kappa_match_the_hand_computation() -> None:
    # Three comparisons with three raters each: classes (0,0,0), (0,0,1), (1,2,2).
    # Per-comparison agreement P_i = (sum n_ij^2 - n)/(n(n-1)): 1, 2/6, 2/6; mean 5/9.
    # Class shares 5/9, 2/9, 2/9; P_e = (25 + 4 + 4)/81 = 33/81.
    # kappa = (5/9 - 33/81) / (1 - 33/81) = (12/81) / (48/81) = 0.25.
    # Rater pairs: 3 + 3 + 3 = 9, agreeing 3 + 1 + 1 = 5.
    votes = {"c1": ["a", "a", "a"], "c2": ["a", "a", "b"], "c3": ["b", None, None]}
    battles = [verdict("human", c, w, rater=f"r{i}") for c, ws in votes.items() for i, w in enumerate(ws)]
    battles.append(verdict("human", "c1", "b", rater="r0", reversed_pair=True))  # r0 changes their mind...
    battles.append(verdict("human", "c1", "a", rater="r0"))  # ...and back: only the latest counts
    battles.append(verdict("human", "lonely", "a", rater="r9"))  # one rater only: not counted
    report = inter_rater_agreement(battles)
    assert report.comparisons == 3 and report.ratings == 9
    assert report.rater_pairs == 9 and report.agreeing_pairs == 5
    assert math.isclose(report.fleiss_kappa or 0, 0.25)
    assert math.isclose(report.pairwise_agreement or 0, 5 / 9)


def _mt_bench_turn1_votes() -> list:
    """MT-Bench's human judgments of turn 1 as shipped with Arena, one ``Battle`` each."""
    import json
    from pathlib import Path

    from arena.ratings import Battle

    path = Path(__file__).resolve().parents[2] / "arena/data/demo/mt_bench/human/human_judgments_turn1.jsonl"
    battles = []
    for line in path.read_text().splitlines():
        v = json.loads(line)
        pair = "|".join(sorted((v["model_a"], v["model_b"])))
        battles.append(
            Battle(
                "import:mtbench-human",
                v["model_a"],
                v["model_b"],
                v["winner"],
                turn=1,
                comparison=f"{v['question_id']}:{pair}:1",
                rater=v["judge"],
            )
        )
    return battles


def test_within_source_agreement_counts_as_mt_bench_on_the_expert_votes() -> None:
    from arena.ratings import within_source_agreement

    battles = _mt_bench_turn1_votes()
    experts = sorted({b.rater for b in battles if b.rater and b.rater.startswith("expert")})
    report = within_source_agreement(battles, raters=experts, rounds=200, seed=1)
    assert (report.agreeing, report.pairs) == (454, 721)
    assert (report.agreeing_without_ties, report.pairs_without_ties) == (388, 479)
    low, high = report.intervals["agreement_with_ties"]
    assert low < 454 / 721 < high and high - low < 0.15
    low, high = report.intervals["agreement_without_ties"]
    assert low < 388 / 479 < high
    assert report.kappa is not None and report.intervals["kappa"] is not None
    assert report.by_turn[1].pairs == 721
    # With the authors' votes too there are more pairs: the rater filter matters.
    assert within_source_agreement(battles).pairs > 721


def test_within_source_agreement_leaves_out_pairs_of_one_rater_with_itself() -> None:
    from arena.ratings import Battle, within_source_agreement

    battles = [
        Battle("s", "x", "y", "model_a", comparison="c", rater="r1"),
        Battle("s", "x", "y", "model_a", comparison="c", rater="r1"),
        Battle("s", "y", "x", "model_b", comparison="c", rater="r2"),
        Battle("s", "x", "y", "tie", comparison="c", rater="r3"),
    ]
    report = within_source_agreement(battles)
    # r1-r2 twice (both agree: y-x model_b is x winning), r1-r3 twice, r2-r3 once; r1-r1 left out.
    assert (report.pairs, report.agreeing) == (5, 2)
    assert (report.pairs_without_ties, report.agreeing_without_ties) == (2, 2)


def test_agreement_between_sources_has_bootstrap_intervals() -> None:
    from arena.ratings import agreement

    battles = _mt_bench_turn1_votes()
    experts = [b for b in battles if b.rater and b.rater.startswith("expert")]
    authors = [b for b in battles if b.rater and b.rater.startswith("author")]
    report = agreement(experts, authors, rounds=100, seed=2)
    assert report.pairs > 0 and report.comparisons > 0
    for name in ("agreement_with_ties", "agreement_without_ties", "kappa"):
        low, high = report.intervals[name]
        assert low <= high
    assert agreement(experts, authors).intervals["kappa"] is None  # no rounds, no interval
