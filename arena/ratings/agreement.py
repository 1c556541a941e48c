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
    confusion: list[list[float]]
    by_turn: dict[int, Agreement] = field(default_factory=dict)
    # Percentile bootstrap intervals over comparisons (None without rounds or where undefined).
    intervals: dict[str, tuple[float, float] | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "comparisons": self.comparisons,
            "pairs": self.pairs,
            "agreeing": self.agreeing,
            "agreement_with_ties": self.agreement_with_ties,
            "pairs_without_ties": self.pairs_without_ties,
            "agreeing_without_ties": self.agreeing_without_ties,
            "agreement_without_ties": self.agreement_without_ties,
            "kappa": self.kappa,
            "confusion": self.confusion,
            "class_names": list(CLASS_NAMES),
            "intervals": {k: None if v is None else list(v) for k, v in self.intervals.items()},
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


def _class_counts(
    arrays: BattleArrays, comparison: NDArray[np.intp], turns: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(sorted keys comparison * turns + turn, verdicts per class for each key: (keys, 3))."""
    labels = arrays.labels
    assert labels is not None
    rows = np.flatnonzero(comparison >= 0)
    keys, inverse = np.unique(
        comparison[rows].astype(np.int64) * turns + labels.turn[rows], return_inverse=True
    )
    counts = np.bincount(inverse.reshape(-1) * 3 + canonical_classes(arrays)[rows], minlength=keys.size * 3)
    return keys, counts.reshape(-1, 3).astype(np.int64)


def _agreement_of(
    confusion: NDArray[np.floating[Any]] | NDArray[np.integer[Any]],
    comparisons: int,
    intervals: dict[str, tuple[float, float] | None] | None = None,
) -> Agreement:
    total = round(float(confusion.sum()))
    agreeing = round(float(np.trace(confusion)))
    decisive = confusion[:2, :2]
    decisive_total = round(float(decisive.sum()))
    return Agreement(
        comparisons=comparisons,
        pairs=total,
        agreeing=agreeing,
        agreement_with_ties=agreeing / total if total else None,
        pairs_without_ties=decisive_total,
        agreeing_without_ties=round(float(np.trace(decisive))),
        agreement_without_ties=float(np.trace(decisive) / decisive.sum()) if decisive_total else None,
        kappa=cohen_kappa(confusion.astype(np.float64)),
        confusion=[[float(x) if float(x) != int(x) else int(x) for x in row] for row in confusion.tolist()],
        intervals=intervals or {},
    )


def _statistics(confusions: NDArray[np.float64]) -> NDArray[np.float64]:
    """(rounds, 3): S1, S2 and Cohen's kappa of each (rounds, 9) confusion; NaN where undefined."""
    c = confusions.reshape(-1, 3, 3)
    total = c.sum(axis=(1, 2))
    agree = np.trace(c, axis1=1, axis2=2)
    decisive = c[:, :2, :2]
    with np.errstate(invalid="ignore", divide="ignore"):
        s1 = agree / total
        s2 = np.trace(decisive, axis1=1, axis2=2) / decisive.sum(axis=(1, 2))
        expected = (c.sum(axis=2) * c.sum(axis=1)).sum(axis=1) / total**2
        kappa = np.where(expected < 1.0, (s1 - expected) / (1.0 - expected), np.nan)
    return np.column_stack([s1, s2, kappa])


def bootstrap_intervals(
    per_comparison: NDArray[np.float64], *, rounds: int, seed: int, ci: float = 0.95
) -> dict[str, tuple[float, float] | None]:
    """Percentile intervals of S1, S2 and kappa, resampling comparisons with replacement.

    ``per_comparison`` is (comparisons, 9): each comparison's pairs of verdicts by class. The
    comparison is the unit (its verdicts are not independent), so each round draws comparisons
    and sums their confusions: one matrix product per round.
    """
    names = ("agreement_with_ties", "agreement_without_ties", "kappa")
    if not rounds or per_comparison.shape[0] == 0:
        return dict.fromkeys(names)
    from arena.ratings.bootstrap import prompt_resamples

    weights = prompt_resamples(np.random.default_rng(seed), per_comparison.shape[0], rounds)
    stats = _statistics(weights @ per_comparison)
    out: dict[str, tuple[float, float] | None] = {}
    for k, name in enumerate(names):
        column = stats[:, k][np.isfinite(stats[:, k])]
        if column.size < rounds / 2:
            out[name] = None
        else:
            low, high = np.quantile(column, [(1.0 - ci) / 2.0, (1.0 + ci) / 2.0])
            out[name] = (float(low), float(high))
    return out


def _report_per_turn(
    per_comparison: NDArray[np.float64], turn_of: NDArray[np.int64], *, rounds: int, seed: int
) -> Agreement:
    """Overall and per-turn agreement from per-comparison confusions (comparisons, 9)."""
    compared = per_comparison.sum(axis=1) > 0

    def report(rows: NDArray[np.bool_]) -> Agreement:
        part = per_comparison[rows & compared]
        return _agreement_of(
            part.sum(axis=0).reshape(3, 3),
            int(part.shape[0]),
            bootstrap_intervals(part, rounds=rounds, seed=seed),
        )

    overall = report(np.ones(per_comparison.shape[0], dtype=np.bool_))
    by_turn = {int(turn): report(turn_of == turn) for turn in np.unique(turn_of).tolist()}
    return Agreement(**{**overall.__dict__, "by_turn": by_turn})


def _pair_confusion(counts: NDArray[np.float64]) -> NDArray[np.float64]:
    """(groups, 9): the unordered pairs of verdicts within each group by class, symmetric (a
    pair of different classes counts half in each of its two cells)."""
    pairs = counts[:, :, None] * counts[:, None, :] / 2.0
    idx = np.arange(3)
    pairs[:, idx, idx] = counts * (counts - 1) / 2.0
    return pairs.reshape(-1, 9)


def within_source_agreement(
    battles: Sequence[Battle] | BattleArrays,
    *,
    raters: Sequence[str] | None = None,
    rounds: int = 0,
    seed: int = 0,
) -> Agreement:
    """Agreement among the raters of one source, counted as MT-Bench does for human-human.

    Every pair of verdicts by different raters on the same comparison and turn is one pair:
    S1 counts all of them (a tie a class of its own), S2 those where neither is a tie, and
    kappa is Cohen's over the symmetric pair confusion. ``raters``: only these raters' verdicts
    (MT-Bench's expert votes: the raters named ``expert_*``). Verdicts without a rater or a
    comparison are left out. On MT-Bench's turn-1 expert votes this gives 454/721 (S1) and
    388/479 (S2), the paper's 63 % and 81 %.
    """
    arrays = labelled(battles)
    labels = arrays.labels
    assert labels is not None
    keep = (labels.comparison >= 0) & (labels.rater >= 0)
    if raters is not None:
        wanted = np.array([name in set(raters) for name in labels.raters] + [False], dtype=np.bool_)
        keep &= wanted[labels.rater]
    rows = np.flatnonzero(keep)
    classes = canonical_classes(arrays)[rows]
    key = group_codes(labels.comparison[rows], labels.turn[rows])
    keys, per_key = np.unique(key, return_inverse=True)
    per_key = per_key.reshape(-1)
    counts = np.bincount(per_key * 3 + classes, minlength=keys.size * 3).reshape(-1, 3).astype(np.float64)
    # Pairs within one rater (a rater who judged a comparison twice) are not between raters.
    own, per_own = np.unique(group_codes(per_key, labels.rater[rows]), return_inverse=True)
    own_counts = (
        np.bincount(per_own.reshape(-1) * 3 + classes, minlength=own.size * 3)
        .reshape(-1, 3)
        .astype(np.float64)
    )
    key_of_own = np.zeros(own.size, dtype=np.intp)
    key_of_own[per_own.reshape(-1)] = per_key
    per_comparison = _pair_confusion(counts)
    np.subtract.at(per_comparison, key_of_own, _pair_confusion(own_counts))
    first_row = np.zeros(keys.size, dtype=np.intp)
    first_row[per_key[::-1]] = np.arange(rows.size)[::-1]
    turn_of = labels.turn[rows][first_row].astype(np.int64)
    return _report_per_turn(per_comparison, turn_of, rounds=rounds, seed=seed)


def _majority(counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """One-hot rows of each row's most common class; all zero where two classes share the top."""
    top = counts.max(axis=1, keepdims=True)
    unique_top = (counts == top).sum(axis=1) == 1
    return np.asarray((counts == top) & unique_top[:, None], dtype=np.int64)


def agreement(
    battles_a: Sequence[Battle] | BattleArrays,
    battles_b: Sequence[Battle] | BattleArrays,
    *,
    mode: Literal["all_pairs", "majority"] = "all_pairs",
    rounds: int = 0,
    seed: int = 0,
) -> Agreement:
    """Agreement between two sources on the comparisons both judged (joined on comparison and turn).

    MT-Bench's agreement: with ``mode="all_pairs"`` (MT-Bench's way) every verdict of the first
    source on a comparison is paired with every verdict of the second (several raters, or a
    judge's two orders, each count). With ``mode="majority"`` each source contributes its
    majority class per comparison, and comparisons where a source's top classes tie are left
    out. Reported overall and per turn, with the number of comparisons and pairs, and with
    ``rounds`` percentile bootstrap intervals for S1, S2 and kappa (comparisons resampled).
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
    paired = (counts_a[:, :, None] * counts_b[:, None, :]).reshape(-1, 9).astype(np.float64)
    return _report_per_turn(paired, shared % turns, rounds=rounds, seed=seed)


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
    counts = np.bincount(
        per_group.reshape(-1) * 3 + canonical_classes(arrays)[rows][latest], minlength=groups.size * 3
    ).reshape(-1, 3)
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
