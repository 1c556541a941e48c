"""Position and length bias checks on verdicts (MT-Bench, Zheng et al. 2023, §3.3-3.4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import binomtest

from arena.ratings.arrays import A_WINS, B_WINS, BattleArrays, group_codes, labelled
from arena.ratings.bootstrap import percentile_interval
from arena.ratings.bradley_terry import degenerate_prior_precision
from arena.ratings.style import (
    STYLE_BOOTSTRAP_METHODS,
    StyleBootstrap,
    fit_style_bradley_terry,
    style_bootstrap_replicates,
    style_design,
)
from arena.ratings.types import Battle

# (longer - shorter) / longer, in these half-open buckets; the last includes 1.
LENGTH_BUCKETS: tuple[tuple[float, float], ...] = ((0.0, 0.1), (0.1, 0.25), (0.25, 0.5), (0.5, 1.0))


@dataclass(frozen=True)
class BinomialShare:
    """``successes`` of ``trials`` with the exact two-sided binomial test against 1/2.

    ``ci_low``/``ci_high`` is the exact (Clopper-Pearson) 95 % interval of the share; all
    share fields are None when there are no trials.
    """

    trials: int
    successes: int
    share: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def binomial_share(successes: int, trials: int) -> BinomialShare:
    """Share with an exact binomial test of "no preference" (p = 1/2) and its 95 % interval."""
    if trials == 0:
        return BinomialShare(0, 0, None, None, None, None)
    test = binomtest(successes, trials, 0.5, alternative="two-sided")
    interval = test.proportion_ci(confidence_level=0.95, method="exact")
    return BinomialShare(
        trials, successes, successes / trials, float(test.pvalue), float(interval.low), float(interval.high)
    )


@dataclass(frozen=True)
class PositionConsistency:
    """Verdicts given on the same comparison in both orders by the same judge (MT-Bench table 2).

    ``consistent``: both verdicts pick the same model (or both call it a tie). An inconsistent
    pair favours the first position when, over its two verdicts, the answer shown first won
    more often than the one shown second (for example first-shown wins in both orders, or a
    first-shown win and a tie), else the second. Shares are of all pairs, as in MT-Bench, and
    ``*_share_of_inconsistent`` of the inconsistent pairs only.
    """

    pairs: int
    consistent: int
    favour_first: int
    favour_second: int
    consistency: float | None
    favour_first_share: float | None
    favour_second_share: float | None
    favour_first_share_of_inconsistent: float | None
    favour_second_share_of_inconsistent: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PositionBias:
    """First-position preference over decisive verdicts with a known position, and judge consistency."""

    first_shown_wins: BinomialShare
    consistency: PositionConsistency
    by_source: dict[str, PositionBias]

    def to_dict(self) -> dict[str, Any]:
        return {
            "first_shown_wins": self.first_shown_wins.to_dict(),
            "consistency": self.consistency.to_dict(),
            "by_source": {name: report.to_dict() for name, report in self.by_source.items()},
        }


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _first_shown_wins(
    arrays: BattleArrays, rows: NDArray[np.bool_]
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(decisive verdicts with a known position, those won by the answer shown first)."""
    if arrays.first_shown_known is None or arrays.first_shown_a is None:
        none = np.zeros(len(arrays), dtype=np.bool_)
        return none, none
    decisive = rows & arrays.first_shown_known & (arrays.outcome <= B_WINS)
    return decisive, decisive & ((arrays.outcome == A_WINS) == arrays.first_shown_a)


def position_consistency(
    battles: Sequence[Battle] | BattleArrays, rows: NDArray[np.bool_] | None = None
) -> PositionConsistency:
    """Pair each judge's verdicts on one comparison in the two orders and count agreement.

    Pairs are formed per (source, rater, comparison, turn) from verdicts that showed different
    models first (the earliest of each when there are more). The order is keyed by the *model
    shown first*, not by the model_a/model_b label: an imported file that lists each order as
    its own row names the first-shown model ``model_a`` in both. ``rows`` limits it to some
    battles.
    """
    arrays = labelled(battles)
    labels = arrays.labels
    assert labels is not None
    usable = np.ones(len(arrays), dtype=np.bool_) if rows is None else rows.copy()
    if arrays.first_shown_known is None or arrays.first_shown_a is None:
        usable[:] = False
    else:
        usable &= arrays.first_shown_known & (labels.comparison >= 0)
    index = np.flatnonzero(usable)
    first_a = arrays.first_shown_a[index] if arrays.first_shown_a is not None else np.zeros(0, dtype=np.bool_)
    a, b, outcome = arrays.model_a[index], arrays.model_b[index], arrays.outcome[index]
    group = group_codes(
        labels.source[index], labels.rater[index], labels.comparison[index], labels.turn[index]
    )
    # The earliest verdict per (group, model shown first), then the first two such per group.
    _, earliest = np.unique(group_codes(group, np.where(first_a, a, b)), return_index=True)
    order = np.lexsort((earliest, group[earliest]))
    earliest = earliest[order]
    owner = group[earliest]
    place = np.arange(earliest.size) - np.searchsorted(owner, owner, side="left")
    second_of = np.flatnonzero(place == 1)
    one, other = earliest[second_of - 1], earliest[second_of]
    picked = np.where(outcome == A_WINS, a, np.where(outcome == B_WINS, b, -1))
    lean = np.where(outcome <= B_WINS, np.where((outcome == A_WINS) == first_a, 1, -1), 0)
    agree = picked[one] == picked[other]
    pairs, consistent = int(one.size), int(agree.sum())
    favour_first = int((~agree & (lean[one] + lean[other] > 0)).sum())
    favour_second = pairs - consistent - favour_first
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


def _position_bias_of(arrays: BattleArrays, rows: NDArray[np.bool_]) -> PositionBias:
    decisive, first_wins = _first_shown_wins(arrays, rows)
    return PositionBias(
        binomial_share(int(first_wins.sum()), int(decisive.sum())), position_consistency(arrays, rows), {}
    )


def position_bias(battles: Sequence[Battle] | BattleArrays) -> PositionBias:
    """Position bias of verdicts, overall and per source.

    ``first_shown_wins``: of the decisive verdicts whose presentation order is known, the share
    won by the answer shown first, with an exact two-sided binomial test against 1/2 (no bias)
    and its 95 % interval; this is the check for human raters. ``consistency``: for judges
    that saw a comparison in both orders, MT-Bench's consistency and first/second-position
    preference among the inconsistent pairs. Takes ``Battle`` records or labelled arrays.
    """
    arrays = labelled(battles)
    labels = arrays.labels
    assert labels is not None
    overall = _position_bias_of(arrays, np.ones(len(arrays), dtype=np.bool_))
    present = _sources_present(labels)
    if len(present) == 1:  # one source: its report is the overall one
        return PositionBias(overall.first_shown_wins, overall.consistency, {present[0][1]: overall})
    by_source = {name: _position_bias_of(arrays, labels.source == code) for code, name in present}
    return PositionBias(overall.first_shown_wins, overall.consistency, by_source)


@dataclass(frozen=True)
class LengthBucket:
    """Decisive verdicts whose relative length gap (longer - shorter) / longer is in [low, high)."""

    low: float
    high: float
    decisive: int
    longer_wins: int
    longer_win_rate: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LengthBias:
    """How often the longer answer wins, by gap size, and the style-controlled length effect.

    ``length_coefficient`` is the "length" coefficient of the style-controlled Bradley-Terry
    fit (log-odds per root-mean-square unit of normalised length difference, with its bootstrap
    interval), None when there is too little style data to fit it.
    """

    longer_wins: BinomialShare
    buckets: list[LengthBucket]
    ties_between_unequal_lengths: int
    length_coefficient: float | None
    length_coefficient_ci_low: float | None
    length_coefficient_ci_high: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "longer_wins": self.longer_wins.to_dict(),
            "buckets": [bucket.to_dict() for bucket in self.buckets],
            "ties_between_unequal_lengths": self.ties_between_unequal_lengths,
            "length_coefficient": self.length_coefficient,
            "length_coefficient_ci_low": self.length_coefficient_ci_low,
            "length_coefficient_ci_high": self.length_coefficient_ci_high,
        }


def length_bias(
    battles: Sequence[Battle] | BattleArrays,
    *,
    bootstrap_rounds: int = 200,
    seed: int = 0,
    ci: float = 0.95,
    style_bootstrap: StyleBootstrap = "one_step",
) -> LengthBias:
    """Length bias (MT-Bench's verbosity bias; Chatbot Arena style control).

    Over decisive verdicts where both answers' token counts are known and differ: the share
    preferring the longer answer (exact binomial test against 1/2), the longer answer's win rate
    per relative-gap bucket (``LENGTH_BUCKETS``), and the length coefficient of the
    style-controlled Bradley-Terry fit with a ``bootstrap_rounds`` percentile interval
    (``style_bootstrap``: ``"one_step"`` linearised replicates, the default, or ``"exact"``
    refits; see ``compute_leaderboard``).
    """
    if style_bootstrap not in STYLE_BOOTSTRAP_METHODS:
        raise ValueError(f"style_bootstrap must be one of {', '.join(STYLE_BOOTSTRAP_METHODS)}")
    arrays = (
        battles if isinstance(battles, BattleArrays) else BattleArrays.from_battles(battles)
    ).without_self_battles()
    empty = LengthBias(
        binomial_share(0, 0),
        [LengthBucket(lo, hi, 0, 0, None) for lo, hi in LENGTH_BUCKETS],
        0,
        None,
        None,
        None,
    )
    if arrays.style_a is None or arrays.style_b is None:
        return empty
    tokens_a, tokens_b = arrays.style_a[:, 0], arrays.style_b[:, 0]
    known = ~(np.isnan(tokens_a) | np.isnan(tokens_b)) & (tokens_a != tokens_b)
    decisive = known & (arrays.outcome <= 1)
    a_longer = tokens_a > tokens_b
    longer_won = np.where(arrays.outcome == 0, a_longer, ~a_longer) & decisive
    longer = np.maximum(tokens_a, tokens_b)
    gap = np.where(known, np.abs(tokens_a - tokens_b) / np.where(longer > 0, longer, 1.0), np.nan)
    buckets = []
    for low, high in LENGTH_BUCKETS:
        inside = decisive & (gap >= low) & ((gap < high) | (high == 1.0) & (gap <= high))
        n_inside, n_longer = int(inside.sum()), int((longer_won & inside).sum())
        buckets.append(LengthBucket(low, high, n_inside, n_longer, _share(n_longer, n_inside)))
    coefficient = low_ci = high_ci = None
    design = style_design(arrays)
    if "length" in design.feature_names and design.battles_used >= 2:
        prior = degenerate_prior_precision(10.0)
        fit = fit_style_bradley_terry(design, prior_precision=prior)
        index = design.feature_names.index("length")
        coefficient = float(fit.gamma[0, index])
        if bootstrap_rounds:
            rounds = style_bootstrap_replicates(
                design, fit, rounds=bootstrap_rounds, seed=seed, prior_precision=prior, method=style_bootstrap
            )
            lows, highs = percentile_interval(rounds.gamma, ci)
            low_ci, high_ci = float(lows[index]), float(highs[index])
    return LengthBias(
        longer_wins=binomial_share(int(longer_won.sum()), int(decisive.sum())),
        buckets=buckets,
        ties_between_unequal_lengths=int((known & (arrays.outcome >= 2)).sum()),
        length_coefficient=coefficient,
        length_coefficient_ci_low=low_ci,
        length_coefficient_ci_high=high_ci,
    )


# --- The report's tables: one per question ---------------------------------------------------

ORDER_NOT_RECORDED = "order not recorded"
# A model shown in the same position in at least this many verdicts of a source, and never in
# the other, gets a caveat: that source's first-position share also measures that model.
FIXED_POSITION_MIN = 20


@dataclass(frozen=True)
class CombinedOrders:
    """A source whose every verdict stands for a judgment made in both orders (MT-Bench's
    ``gpt4_pair``: the two orders agreed, or the verdict is flagged inconsistent). ``verdicts``
    of them in the selection, ``flagged`` marked inconsistent by the source."""

    verdicts: int
    flagged: int


def _share_row(share: BinomialShare, *, test: bool = True) -> dict[str, Any]:
    row = share.to_dict()
    if not test:
        row["p_value"] = None
    return row


def _sources_present(labels: Any) -> list[tuple[int, str]]:
    """(code, name) of each source that has at least one verdict in ``labels``, by name: the rows
    of every per-source table and caveat, in one order."""
    present = set(np.unique(labels.source).tolist())
    return sorted(
        ((code, name) for code, name in enumerate(labels.sources) if code in present),
        key=lambda item: item[1],
    )


def position_table(arrays: BattleArrays, combined: dict[str, CombinedOrders] | None = None) -> dict[str, Any]:
    """Position bias per source: of the decisive verdicts whose shown order is recorded, the
    share won by the answer shown first (n, exact 95 % interval, two-sided binomial p against
    1/2). A source that did not record the order, or whose verdicts combine both orders
    (``combined``), gets ``order_recorded`` false and a reason instead of a number. With more
    than one source, ``overall`` pools only the sources whose order is recorded."""
    combined = combined or {}
    labels = labelled(arrays).labels
    assert labels is not None
    rows: list[dict[str, Any]] = []
    pooled = np.zeros(len(arrays), dtype=np.bool_)
    for code, name in _sources_present(labels):
        mine = labels.source == code
        decisive, first_wins = _first_shown_wins(arrays, mine)
        if name in combined:
            reason = "Each verdict combines both presentation orders, so the order shown is not recorded."
        elif not decisive.any() and (
            arrays.first_shown_known is None or not (arrays.first_shown_known & mine).any()
        ):
            reason = "The source did not record which answer was shown first."
        else:
            reason = None
        if reason:
            rows.append(
                {
                    "source": name,
                    "verdicts": int(mine.sum()),
                    "order_recorded": False,
                    "reason": reason,
                    "first_shown_wins": None,
                }
            )
            continue
        pooled |= mine
        rows.append(
            {
                "source": name,
                "verdicts": int(mine.sum()),
                "order_recorded": True,
                "reason": None,
                "first_shown_wins": _share_row(binomial_share(int(first_wins.sum()), int(decisive.sum()))),
            }
        )
    overall = None
    if len(rows) > 1 and pooled.any():
        decisive, first_wins = _first_shown_wins(arrays, pooled)
        overall = _share_row(binomial_share(int(first_wins.sum()), int(decisive.sum())))
    return {"rows": rows, "overall": overall}


def consistency_table(
    arrays: BattleArrays, combined: dict[str, CombinedOrders] | None = None
) -> dict[str, Any]:
    """Per source, how often a judge's two presentation orders agree (MT-Bench table 2), with
    n and an exact 95 % interval, and of the inconsistent pairs the share favouring the first
    position (binomial p against 1/2). Verdicts seen in both orders are paired as
    ``position_consistency`` does; a source whose verdicts combine both orders counts each
    verdict as one pair, inconsistent where the source flagged it (which order it favoured is
    then unknown). Sources with neither are left out."""
    combined = combined or {}
    labels = labelled(arrays).labels
    assert labels is not None
    rows: list[dict[str, Any]] = []
    for code, name in _sources_present(labels):
        if name in combined:
            flags = combined[name]
            rows.append(
                {
                    "source": name,
                    "counted_from": "inconsistency flags of the source",
                    "pairs": flags.verdicts,
                    "consistent": _share_row(
                        binomial_share(flags.verdicts - flags.flagged, flags.verdicts), test=False
                    ),
                    "inconsistent": flags.flagged,
                    "favour_first": None,
                }
            )
            continue
        pairs = position_consistency(arrays, labels.source == code)
        if not pairs.pairs:
            continue
        inconsistent = pairs.pairs - pairs.consistent
        rows.append(
            {
                "source": name,
                "counted_from": "verdicts in both orders",
                "pairs": pairs.pairs,
                "consistent": _share_row(binomial_share(pairs.consistent, pairs.pairs), test=False),
                "inconsistent": inconsistent,
                "favour_first": _share_row(binomial_share(pairs.favour_first, inconsistent)),
            }
        )
    return {"rows": rows}


def length_table(report: LengthBias) -> dict[str, Any]:
    """The length section as a table: the longer answer's share of decisive verdicts overall and
    per relative-gap bucket, each with n, exact 95 % interval and binomial p against 1/2."""
    return {
        "overall": _share_row(report.longer_wins),
        "rows": [
            {
                "low": b.low,
                "high": b.high,
                "longer_wins": _share_row(binomial_share(b.longer_wins, b.decisive)),
            }
            for b in report.buckets
        ],
        "ties_between_unequal_lengths": report.ties_between_unequal_lengths,
        "length_coefficient": report.length_coefficient,
        "length_coefficient_ci_low": report.length_coefficient_ci_low,
        "length_coefficient_ci_high": report.length_coefficient_ci_high,
    }


def provenance_caveats(arrays: BattleArrays, combined: dict[str, CombinedOrders] | None = None) -> list[str]:
    """What the data itself says about how far its position figures can be trusted: sources whose
    verdicts combine both orders, and models a source always showed in the same position
    (Vicuna-80's GPT-4 reviews put Vicuna second every time), whose position share then also
    measures that model."""
    combined = combined or {}
    labels = labelled(arrays).labels
    assert labels is not None
    caveats = []
    for code, name in _sources_present(labels):
        if name in combined:
            flags = combined[name]
            caveats.append(
                f"{name}: each verdict combines the judge's two presentation orders ({flags.flagged:,} of "
                f"{flags.verdicts:,} flagged inconsistent by the source), so its position bias cannot be "
                "known; its consistency comes from those flags."
            )
            continue
        if arrays.first_shown_known is None or arrays.first_shown_a is None:
            continue
        mine = (labels.source == code) & arrays.first_shown_known
        first = np.where(arrays.first_shown_a, arrays.model_a, arrays.model_b)[mine]
        second = np.where(arrays.first_shown_a, arrays.model_b, arrays.model_a)[mine]
        n_first = np.bincount(first, minlength=arrays.n_models)
        n_second = np.bincount(second, minlength=arrays.n_models)
        for model in np.flatnonzero((n_first == 0) & (n_second >= FIXED_POSITION_MIN)).tolist():
            caveats.append(
                f"{name}: {arrays.models[model]} was shown second in all {int(n_second[model]):,} of its "
                "verdicts, so this source's first-position share also measures "
                f"{arrays.models[model]} against the others."
            )
        for model in np.flatnonzero((n_second == 0) & (n_first >= FIXED_POSITION_MIN)).tolist():
            caveats.append(
                f"{name}: {arrays.models[model]} was shown first in all {int(n_first[model]):,} of its "
                "verdicts, so this source's first-position share also measures "
                f"{arrays.models[model]} against the others."
            )
    return caveats


def format_p_value(p: float | None) -> str:
    """A p-value as printed: three decimals, "< 0.001" below that, "-" when there is none."""
    if p is None or p != p:
        return "-"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


__all__ = [
    "FIXED_POSITION_MIN",
    "LENGTH_BUCKETS",
    "ORDER_NOT_RECORDED",
    "BinomialShare",
    "CombinedOrders",
    "LengthBias",
    "LengthBucket",
    "PositionBias",
    "PositionConsistency",
    "binomial_share",
    "consistency_table",
    "format_p_value",
    "length_bias",
    "length_table",
    "position_bias",
    "position_consistency",
    "position_table",
    "provenance_caveats",
]
