"""Bias and agreement reports on arrays give exactly what the per-battle code gave.

Random verdicts with everything that makes grouping hard: several sources and raters, missing
raters, comparisons and positions, comparison keys shared by more than one pair of models
(hand-written data), a model against itself, both orders several times over, several turns.
"""

from __future__ import annotations

import numpy as np
import pytest

from arena.ratings import Battle, BattleArrays, agreement, inter_rater_agreement, position_bias
from arena.ratings.types import WINNERS

from . import previous_reports as previous


def random_battles(seed: int, n: int, *, source_names=("human", "judge:a", "import:b")) -> list[Battle]:
    rng = np.random.default_rng(seed)
    models = ["alpha", "Beta", "gamma", "delta", "eps"]
    battles = []
    for _ in range(n):
        a, b = rng.choice(models, 2, replace=rng.random() < 0.97)
        comparison = (
            None
            if rng.random() < 0.1
            else (
                f"c{rng.integers(0, 6)}"
                if rng.random() < 0.2
                else f"p{rng.integers(0, 15)}/{min(a, b)}|{max(a, b)}"
            )
        )
        battles.append(
            Battle(
                source=str(rng.choice(source_names)),
                model_a=str(a),
                model_b=str(b),
                winner=WINNERS[rng.integers(0, 4)],
                turn=int(rng.integers(1, 3)),
                first_shown=None if rng.random() < 0.15 else ("model_a" if rng.random() < 0.5 else "model_b"),
                comparison=comparison,
                rater=None if rng.random() < 0.2 else f"r{rng.integers(0, 5)}",
            )
        )
    return battles


@pytest.mark.parametrize("seed", range(6))
def test_position_bias_and_inter_rater_agreement_match_the_per_battle_code(seed):
    battles = random_battles(seed, 400)
    assert position_bias(battles).to_dict() == previous.position_bias(battles).to_dict()
    assert inter_rater_agreement(battles).to_dict() == pytest.approx(
        previous.inter_rater_agreement(battles).to_dict(), abs=1e-12
    )
    # The same through arrays built once, as the reports build them from the database.
    arrays = BattleArrays.from_battles(battles, keep_self_battles=True)
    assert position_bias(arrays).to_dict() == previous.position_bias(battles).to_dict()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("mode", ["all_pairs", "majority"])
def test_agreement_matches_the_per_battle_code(seed, mode):
    first = random_battles(seed, 300, source_names=("human",))
    second = random_battles(seed + 100, 300, source_names=("judge:a",))
    got = agreement(first, second, mode=mode).to_dict()

    def without_intervals(report):  # new since the reference code: bootstrap intervals (none without rounds)
        report = {k: v for k, v in report.items() if k != "intervals"}
        report["by_turn"] = {t: without_intervals(r) for t, r in report.get("by_turn", {}).items()}
        return report

    assert without_intervals(got) == without_intervals(previous.agreement(first, second, mode=mode).to_dict())
    assert got["pairs"] > 0 and set(got["by_turn"]) == {"1", "2"}


def test_reports_on_arrays_need_their_labels():
    arrays = BattleArrays.from_arrays(["a", "b"], [0], [1], [0])
    with pytest.raises(ValueError, match="labelled"):
        position_bias(arrays)
