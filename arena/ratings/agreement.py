"""Agreement between verdict sources and between raters (MT-Bench, Zheng et al. 2023, §4.2).

Verdicts are compared as three classes relative to the pair's canonical order (model names
sorted): the first model wins, the second wins, or tie (``both_bad`` included). A verdict
that lists the pair as (b, a) therefore compares correctly with one that lists it as (a, b).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from arena.ratings.arrays import A_WINS, B_WINS, BattleArrays, group_codes, labelled, model_name_rank
from arena.ratings.types import Battle

FIRST_WINS, SECOND_WINS, TIE_CLASS = 0, 1, 2
CLASS_NAMES = ("first_wins", "second_wins", "tie")


def canonical_classes(arrays: BattleArrays) -> NDArray[np.int64]:
    """Per battle: 0 if the alphabetically first model of the pair won, 1 if the other, 2 for a
    tie or both bad."""
    rank = model_name_rank(arrays.models)
    rank_a, rank_b = rank[arrays.model_a], rank[arrays.model_b]
    winner = np.where(arrays.outcome == A_WINS, rank_a, rank_b)
    classes = np.where(winner == np.minimum(rank_a, rank_b), FIRST_WINS, SECOND_WINS)
    return np.where(arrays.outcome <= B_WINS, classes, TIE_CLASS).astype(np.int64)


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


def _comparison_codes(first: BattleArrays, second: BattleArrays) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Both sides' comparison codes in one code space: as they are when one read made both
    (one ``comparisons`` table), else the second side's mapped onto the first's by name."""
    labels_a, labels_b = first.labels, second.labels
    assert labels_a is not None and labels_b is not None
    if labels_a.comparisons is labels_b.comparisons:
        return labels_a.comparison, labels_b.comparison
    code_of = {name: code for code, name in enumerate(labels_a.comparisons)}
    used = np.unique(labels_b.comparison[labels_b.comparison >= 0])
    remap = np.full(len(labels_b.comparisons) + 1, -1, dtype=np.intp)  # the last entry maps -1 to -1
    for code in used.tolist():
        remap[code] = code_of.setdefault(labels_b.comparisons[code], len(code_of))
    return labels_a.comparison, remap[labels_b.comparison]


def _class_counts(arrays: BattleArrays, comparison: NDArray[np.intp], turns: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(sorted keys comparison * turns + turn, verdicts per class for each key: (keys, 3))."""
    labels = arrays.labels
    assert labels is not None
    rows = np.flatnonzero(comparison >= 0)
    keys, inverse = np.unique(comparison[rows].astype(np.int64) * turns + labels.turn[rows], return_inverse=True)
    counts = np.bincount(inverse.reshape(-1) * 3 + canonical_classes(arrays)[rows], minlength=keys.size * 3)
    return keys, counts.reshape(-1, 3).astype(np.int64)


def _agreement_of(confusion: NDArray[np.int64], comparisons: int) -> Agreement:
    total = int(confusion.sum())
    agreeing = int(np.trace(confusion))
    decisive = confusion[:2, :2]
    return Agreement(
        comparisons=comparisons,
        pairs=total,
        agreeing=agreeing,
        agreement_with_ties=agreeing / total if total else None,
        pairs_without_ties=int(decisive.sum()),
        agreeing_without_ties=int(np.trace(decisive)),
        agreement_without_ties=float(np.trace(decisive) / decisive.sum()) if decisive.sum() else None,
        kappa=cohen_kappa(confusion.astype(np.float64)),
        confusion=confusion.tolist(),
    )


def _majority(counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """One-hot rows of each row's most common class; all zero where two classes share the top."""
    top = counts.max(axis=1, keepdims=True)
    unique_top = (counts == top).sum(axis=1) == 1
    return np.asarray((counts == top) & unique_top[:, None], dtype=np.int64)


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
    first, second = labelled(battles_a), labelled(battles_b)
    assert first.labels is not None and second.labels is not None
    code_a, code_b = _comparison_codes(first, second)
    turns = int(max(first.labels.turn.max(initial=0), second.labels.turn.max(initial=0))) + 1
    keys_a, counts_a = _class_counts(first, code_a, turns)
    keys_b, counts_b = _class_counts(second, code_b, turns)
    shared, in_a, in_b = np.intersect1d(keys_a, keys_b, assume_unique=True, return_indices=True)
    counts_a, counts_b = counts_a[in_a], counts_b[in_b]
    if mode == "majority":
        counts_a, counts_b = _majority(counts_a), _majority(counts_b)
    # Every verdict of one side paired with every verdict of the other, per comparison.
    paired = counts_a[:, :, None] * counts_b[:, None, :]
    compared = paired.sum(axis=(1, 2)) > 0
    turn_of = shared % turns

    def report(rows: NDArray[np.bool_]) -> Agreement:
        return _agreement_of(paired[rows].sum(axis=0).reshape(3, 3), int(compared[rows].sum()))

    overall = report(np.ones(len(shared), dtype=np.bool_))
    by_turn = {int(turn): report(turn_of == turn) for turn in np.unique(turn_of).tolist()}
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


def inter_rater_agreement(battles: Sequence[Battle] | BattleArrays) -> InterRaterAgreement:
    """Pairwise agreement and Fleiss' kappa among raters judging the same comparison.

    Comparisons are grouped per (source, comparison, turn). Each rater counts once per
    comparison, with their latest verdict in input order (a judge's two presentation orders
    are one rater; pass one order, or compare them with ``position_bias``); battles without a
    rater each count as a separate anonymous rater.
    """
    arrays = labelled(battles)
    labels = arrays.labels
    assert labels is not None
    rows = np.flatnonzero(labels.comparison >= 0)
    anonymous = len(labels.raters) + rows  # a rater of its own for each battle without one
    rater = np.where(labels.rater[rows] >= 0, labels.rater[rows], anonymous)
    group = group_codes(labels.source[rows], labels.comparison[rows], labels.turn[rows])
    # The latest verdict of each rater on each comparison: the first seen from the end.
    _, from_end = np.unique(group_codes(group, rater)[::-1], return_index=True)
    latest = rows.size - 1 - from_end
    groups, per_group = np.unique(group[latest], return_inverse=True)
    counts = np.bincount(per_group.reshape(-1) * 3 + canonical_classes(arrays)[rows][latest],
                         minlength=groups.size * 3).reshape(-1, 3)
    counts = counts[counts.sum(axis=1) >= 2]
    raters = counts.sum(axis=1)
    pairs = int((raters * (raters - 1) // 2).sum())
    agreeing = int((counts * (counts - 1) // 2).sum())
    return InterRaterAgreement(
        comparisons=int(counts.shape[0]),
        ratings=int(counts.sum()),
        rater_pairs=pairs,
        agreeing_pairs=agreeing,
        pairwise_agreement=agreeing / pairs if pairs else None,
        fleiss_kappa=fleiss_kappa(counts.astype(np.float64)),
    )
