"""The reports' previous implementations, one Python object per battle, kept as the reference
the array code is held to (``test_reports_reference.py``). Copied from the code they replaced."""

# ruff: noqa
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import combinations, product
from typing import Literal

import numpy as np

from arena.ratings.agreement import (
    CLASS_NAMES,
    FIRST_WINS,
    SECOND_WINS,
    TIE_CLASS,
    Agreement,
    InterRaterAgreement,
    cohen_kappa,
    fleiss_kappa,
)
from arena.ratings.bias import PositionBias, PositionConsistency, _share, binomial_share
from arena.ratings.types import Battle

DECISIVE = ("model_a", "model_b")
ComparisonKey = tuple[str, int]


def _verdict_model(battle: Battle) -> str | None:
    """The model a verdict picks, or None for a tie / both bad."""
    if battle.winner == "model_a":
        return battle.model_a
    if battle.winner == "model_b":
        return battle.model_b
    return None


def _first_position_lean(battle: Battle) -> int:
    """+1 if the verdict picks the answer shown first, -1 the second, 0 a tie."""
    if battle.winner not in DECISIVE:
        return 0
    return 1 if battle.winner == battle.first_shown else -1


def position_consistency(battles: Sequence[Battle]) -> PositionConsistency:
    """Pair each judge's verdicts on one comparison in the two orders and count agreement.

    Pairs are formed per (source, rater, comparison, turn) from verdicts that showed different
    models first (the earliest of each when there are more). The order is keyed by the *name* of
    the model shown first, not by the model_a/model_b label: an imported file that lists each
    order as its own row names the first-shown model ``model_a`` in both.
    """
    orders: dict[tuple[str, str | None, str, int], dict[str, Battle]] = defaultdict(dict)
    for battle in battles:
        if battle.comparison is None or battle.first_shown is None:
            continue
        first_model = battle.model_a if battle.first_shown == "model_a" else battle.model_b
        orders[(battle.source, battle.rater, battle.comparison, battle.turn)].setdefault(first_model, battle)
    pairs = consistent = favour_first = favour_second = 0
    for seen in orders.values():
        if len(seen) < 2:
            continue
        one, other = list(seen.values())[:2]
        pairs += 1
        if _verdict_model(one) == _verdict_model(other):
            consistent += 1
        elif _first_position_lean(one) + _first_position_lean(other) > 0:
            favour_first += 1
        else:
            favour_second += 1
    inconsistent = pairs - consistent
    return PositionConsistency(
        pairs=pairs,
        consistent=consistent,
        favour_first=favour_first,
        favour_second=favour_second,
        consistency=_share(consistent, pairs),
        favour_first_share=_share(favour_first, pairs),
        favour_second_share=_share(favour_second, pairs),
        favour_first_share_of_inconsistent=_share(favour_first, inconsistent),
        favour_second_share_of_inconsistent=_share(favour_second, inconsistent),
    )


def _position_bias_of(battles: Sequence[Battle]) -> PositionBias:
    decisive = [b for b in battles if b.first_shown is not None and b.winner in DECISIVE]
    first_wins = sum(1 for b in decisive if b.winner == b.first_shown)
    return PositionBias(binomial_share(first_wins, len(decisive)), position_consistency(battles), {})


def position_bias(battles: Sequence[Battle]) -> PositionBias:
    """Position bias of verdicts, overall and per source.

    ``first_shown_wins``: of the decisive verdicts whose presentation order is known, the share
    won by the answer shown first, with an exact two-sided binomial test against 1/2 (no bias)
    and its 95 % interval; this is the check for human raters. ``consistency``: for judges
    that saw a comparison in both orders, MT-Bench's consistency and first/second-position
    preference among the inconsistent pairs.
    """
    sources: dict[str, list[Battle]] = defaultdict(list)
    for battle in battles:
        sources[battle.source].append(battle)
    overall = _position_bias_of(battles)
    by_source = {name: _position_bias_of(group) for name, group in sorted(sources.items())}
    return PositionBias(overall.first_shown_wins, overall.consistency, by_source)


def canonical_class(battle: Battle) -> int:
    """0 if the alphabetically first model of the pair won, 1 if the other, 2 for a tie/both bad."""
    if battle.winner not in ("model_a", "model_b"):
        return TIE_CLASS
    winner = battle.model_a if battle.winner == "model_a" else battle.model_b
    return FIRST_WINS if winner == min(battle.model_a, battle.model_b) else SECOND_WINS


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
    battles_a: Sequence[Battle],
    battles_b: Sequence[Battle],
    *,
    mode: Literal["all_pairs", "majority"] = "all_pairs",
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
