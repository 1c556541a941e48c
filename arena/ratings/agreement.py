"""Agreement between verdict sources and between raters (MT-Bench, Zheng et al. 2023, §4.2).

Verdicts are compared as three classes relative to the pair's canonical order (model names
sorted): the first model wins, the second wins, or tie (``both_bad`` included). A verdict
that lists the pair as (b, a) therefore compares correctly with one that lists it as (a, b).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations, product
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from arena.ratings.types import Battle

FIRST_WINS, SECOND_WINS, TIE_CLASS = 0, 1, 2
CLASS_NAMES = ("first_wins", "second_wins", "tie")
ComparisonKey = tuple[str, int]


def canonical_class(battle: Battle) -> int:
    """0 if the alphabetically first model of the pair won, 1 if the other, 2 for a tie/both bad."""
    if battle.winner not in ("model_a", "model_b"):
        return TIE_CLASS
    winner = battle.model_a if battle.winner == "model_a" else battle.model_b
    return FIRST_WINS if winner == min(battle.model_a, battle.model_b) else SECOND_WINS


def cohen_kappa(confusion: NDArray[np.float64]) -> float | None:
    """Cohen's kappa of a square confusion matrix: (p_o - p_e) / (1 - p_e); None if undefined."""
    total = confusion.sum()
    if total == 0:
        return None
    observed = np.trace(confusion) / total
    expected = float((confusion.sum(axis=1) * confusion.sum(axis=0)).sum() / total**2)
    if expected >= 1.0:
        return None
    return float((observed - expected) / (1.0 - expected))


@dataclass(frozen=True)
class Agreement:
    """Agreement of two sources over the verdict pairs compared.

    ``agreement_with_ties`` is MT-Bench's setup S1 (tie a class of its own) over all ``pairs``;
    ``agreement_without_ties`` is S2, over the ``pairs_without_ties`` where neither verdict is
    a tie. ``kappa`` is Cohen's kappa over the three classes. ``confusion[i][j]`` counts pairs
    with class i from the first source and j from the second (``CLASS_NAMES`` order).
    """

    comparisons: int
    pairs: int
    agreeing: int
    agreement_with_ties: float | None
    pairs_without_ties: int
    agreeing_without_ties: int
    agreement_without_ties: float | None
    kappa: float | None
    confusion: list[list[int]]
    by_turn: dict[int, Agreement] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "comparisons": self.comparisons, "pairs": self.pairs, "agreeing": self.agreeing,
            "agreement_with_ties": self.agreement_with_ties, "pairs_without_ties": self.pairs_without_ties,
            "agreeing_without_ties": self.agreeing_without_ties, "agreement_without_ties": self.agreement_without_ties,
            "kappa": self.kappa, "confusion": self.confusion, "class_names": list(CLASS_NAMES),
            "by_turn": {str(turn): report.to_dict() for turn, report in self.by_turn.items()},
        }


def _group(battles: Iterable[Battle]) -> dict[ComparisonKey, list[int]]:
    grouped: dict[ComparisonKey, list[int]] = defaultdict(list)
    for battle in battles:
        if battle.comparison is not None:
            grouped[(battle.comparison, battle.turn)].append(canonical_class(battle))
    return grouped


def _majority(classes: list[int]) -> int | None:
    """The most common class, or None when two classes share the top count."""
    top = Counter(classes).most_common(2)
    if len(top) > 1 and top[0][1] == top[1][1]:
        return None
    return top[0][0]


def _agreement_of(pairs_by_comparison: dict[ComparisonKey, list[tuple[int, int]]]) -> Agreement:
    confusion = np.zeros((3, 3), dtype=np.int64)
    for pairs in pairs_by_comparison.values():
        for first, second in pairs:
            confusion[first, second] += 1
    total = int(confusion.sum())
    agreeing = int(np.trace(confusion))
    decisive = confusion[:2, :2]
    return Agreement(
        comparisons=sum(1 for pairs in pairs_by_comparison.values() if pairs),
        pairs=total,
        agreeing=agreeing,
        agreement_with_ties=agreeing / total if total else None,
        pairs_without_ties=int(decisive.sum()),
        agreeing_without_ties=int(np.trace(decisive)),
        agreement_without_ties=float(np.trace(decisive) / decisive.sum()) if decisive.sum() else None,
        kappa=cohen_kappa(confusion.astype(np.float64)),
        confusion=confusion.tolist(),
    )


def agreement(
    battles_a: Sequence[Battle], battles_b: Sequence[Battle], *, mode: Literal["all_pairs", "majority"] = "all_pairs"
) -> Agreement:
    """Agreement between two sources on the comparisons both judged (joined on comparison and turn).

    MT-Bench's agreement: with ``mode="all_pairs"`` (MT-Bench's way) every verdict of the first
    source on a comparison is paired with every verdict of the second (several raters, or a
    judge's two orders, each count). With ``mode="majority"`` each source contributes its
    majority class per comparison, and comparisons where a source's top classes tie are left
    out. Reported overall and per turn.
    """
    side_a, side_b = _group(battles_a), _group(battles_b)
    pairs: dict[ComparisonKey, list[tuple[int, int]]] = {}
    for key in sorted(side_a.keys() & side_b.keys()):
        if mode == "majority":
            first, second = _majority(side_a[key]), _majority(side_b[key])
            pairs[key] = [] if first is None or second is None else [(first, second)]
        else:
            pairs[key] = list(product(side_a[key], side_b[key]))
    overall = _agreement_of(pairs)
    turns = sorted({turn for _, turn in pairs})
    by_turn = {turn: _agreement_of({key: p for key, p in pairs.items() if key[1] == turn}) for turn in turns}
    return Agreement(**{**overall.__dict__, "by_turn": by_turn})


@dataclass(frozen=True)
class InterRaterAgreement:
    """Agreement among raters of one source on comparisons that several of them judged.

    ``pairwise_agreement``: share of agreeing rater pairs, pooled over all pairs.
    ``fleiss_kappa``: Fleiss' kappa (1971) over the three classes, in the usual form for a
    varying number of raters per comparison (mean per-comparison agreement P̄ against the
    chance agreement P_e from the pooled class shares).
    """

    comparisons: int
    ratings: int
    rater_pairs: int
    agreeing_pairs: int
    pairwise_agreement: float | None
    fleiss_kappa: float | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def fleiss_kappa(class_counts: NDArray[np.float64]) -> float | None:
    """Fleiss' kappa from an (items, classes) matrix of rating counts; items need >= 2 ratings."""
    raters = class_counts.sum(axis=1)
    if class_counts.shape[0] == 0 or (raters < 2).any():
        return None
    per_item = ((class_counts**2).sum(axis=1) - raters) / (raters * (raters - 1))
    class_share = class_counts.sum(axis=0) / raters.sum()
    chance = float((class_share**2).sum())
    if chance >= 1.0:
        return None
    return float((per_item.mean() - chance) / (1.0 - chance))


def inter_rater_agreement(battles: Sequence[Battle]) -> InterRaterAgreement:
    """Pairwise agreement and Fleiss' kappa among raters judging the same comparison.

    Comparisons are grouped per (source, comparison, turn). Each rater counts once per
    comparison, with their latest verdict in input order (a judge's two presentation orders
    are one rater; pass one order, or compare them with ``position_bias``); battles without a
    rater each count as a separate anonymous rater.
    """
    latest: dict[tuple[str, str, int], dict[object, int]] = defaultdict(dict)
    for index, battle in enumerate(battles):
        if battle.comparison is None:
            continue
        rater: object = battle.rater if battle.rater is not None else ("anonymous", index)
        latest[(battle.source, battle.comparison, battle.turn)][rater] = canonical_class(battle)
    rows = [list(verdicts.values()) for verdicts in latest.values() if len(verdicts) >= 2]
    counts = np.array([np.bincount(row, minlength=3) for row in rows], dtype=np.float64).reshape(-1, 3)
    pairs = agreeing = 0
    for row in rows:
        for first, second in combinations(row, 2):
            pairs += 1
            agreeing += first == second
    return InterRaterAgreement(
        comparisons=len(rows),
        ratings=int(counts.sum()),
        rater_pairs=pairs,
        agreeing_pairs=agreeing,
        pairwise_agreement=agreeing / pairs if pairs else None,
        fleiss_kappa=fleiss_kappa(counts),
    )
