"""Grades (Self-Instruct's A–D), HHH preferences and the measures that compare judges.

* ``grade_table``: per model, how many A/B/C/D grades its answers got and the share of each;
* ``hhh_table``: per criterion (helpful, honest, harmless) and model, the share of comparisons
  it won, lost or drew ("the same"), and its win rate with draws as half;
* ``grade_agreement``: two graders on the same answers — exact agreement, agreement within one
  grade, and Cohen's weighted κ with linear weights (a disagreement by two grades costs twice
  one by one grade);
* ``rank_correlation``: Spearman's rho between two leaderboards over the models both rank;
* ``majority``: a panel's verdict from its judges' verdicts (Verga et al. 2024's max voting).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import numpy as np
from scipy.stats import spearmanr

GRADES = ("A", "B", "C", "D")
HHH_CRITERIA = ("helpful", "honest", "harmless")
T = TypeVar("T", bound=Hashable)


def grade_table(graded: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """(model, grade) pairs → one row per model: counts, total, shares and the A-or-B share.

    Sorted by the A-or-B share, best first. Grades outside A–D are ignored.
    """
    counts: dict[str, Counter[str]] = {}
    for model, grade in graded:
        if grade in GRADES:
            counts.setdefault(model, Counter())[grade] += 1
    rows = []
    for model, counter in counts.items():
        total = sum(counter.values())
        row: dict[str, Any] = {"model": model, "total": total, **{g: counter[g] for g in GRADES}}
        row.update({f"share_{g}": counter[g] / total for g in GRADES})
        row["share_ab"] = (counter["A"] + counter["B"]) / total
        rows.append(row)
    rows.sort(key=lambda r: (-float(r["share_ab"]), r["model"]))
    return rows


def hhh_table(verdicts: Iterable[tuple[Mapping[str, str], str, str]]) -> dict[str, list[dict[str, Any]]]:
    """(verdict per criterion, model_a, model_b) → per criterion, one row per model.

    A verdict is ``model_a``, ``model_b`` or ``same``. Each row: wins, losses, same, n, the three
    shares and ``win_rate`` = (wins + same / 2) / n; ranked by win rate.
    """
    tallies: dict[str, dict[str, Counter[str]]] = {c: {} for c in HHH_CRITERIA}
    for verdict, model_a, model_b in verdicts:
        for criterion in HHH_CRITERIA:
            value = verdict.get(criterion)
            if value not in ("model_a", "model_b", "same"):
                continue
            a = tallies[criterion].setdefault(model_a, Counter())
            b = tallies[criterion].setdefault(model_b, Counter())
            if value == "same":
                a["same"] += 1
                b["same"] += 1
            else:
                winner, loser = (a, b) if value == "model_a" else (b, a)
                winner["wins"] += 1
                loser["losses"] += 1
    boards: dict[str, list[dict[str, Any]]] = {}
    for criterion, per_model in tallies.items():
        rows: list[dict[str, Any]] = []
        for model, c in per_model.items():
            n = c["wins"] + c["losses"] + c["same"]
            rows.append(
                {
                    "model": model,
                    "wins": c["wins"],
                    "losses": c["losses"],
                    "same": c["same"],
                    "n": n,
                    "share_wins": c["wins"] / n,
                    "share_losses": c["losses"] / n,
                    "share_same": c["same"] / n,
                    "win_rate": (c["wins"] + 0.5 * c["same"]) / n,
                }
            )
        rows.sort(key=lambda r: (-float(r["win_rate"]), r["model"]))
        for rank, row in enumerate(rows, start=1):
            row["rank"] = rank
        boards[criterion] = rows
    return boards


@dataclass(frozen=True)
class GradeAgreement:
    n: int
    exact: float | None
    within_one: float | None
    weighted_kappa: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def weighted_kappa(confusion: np.ndarray[Any, np.dtype[np.float64]]) -> float | None:
    """Cohen's κ with linear disagreement weights |i - j| / (k - 1); None when undefined."""
    total = confusion.sum()
    k = confusion.shape[0]
    if total == 0 or k < 2:
        return None
    i, j = np.indices((k, k))
    weights = np.abs(i - j) / (k - 1)
    expected = np.outer(confusion.sum(axis=1), confusion.sum(axis=0)) / total
    denominator = float((weights * expected).sum())
    if denominator == 0:
        return None
    return 1.0 - float((weights * confusion).sum()) / denominator


def grade_agreement(pairs: Sequence[tuple[str, str]]) -> GradeAgreement:
    """Two graders' grades of the same answers: exact, within one grade, weighted κ."""
    valid = [(a, b) for a, b in pairs if a in GRADES and b in GRADES]
    if not valid:
        return GradeAgreement(0, None, None, None)
    confusion = np.zeros((4, 4))
    for a, b in valid:
        confusion[GRADES.index(a), GRADES.index(b)] += 1
    n = len(valid)
    gaps = [abs(GRADES.index(a) - GRADES.index(b)) for a, b in valid]
    return GradeAgreement(
        n, sum(g == 0 for g in gaps) / n, sum(g <= 1 for g in gaps) / n, weighted_kappa(confusion)
    )


def rank_correlation(
    ratings_a: Mapping[str, float], ratings_b: Mapping[str, float]
) -> tuple[float | None, int]:
    """Spearman's rho of two leaderboards over the models both rate, and how many that is."""
    shared = sorted(set(ratings_a) & set(ratings_b))
    if len(shared) < 3:
        return None, len(shared)
    a = [ratings_a[m] for m in shared]
    b = [ratings_b[m] for m in shared]
    if len(set(a)) < 2 or len(set(b)) < 2:
        return None, len(shared)
    rho = float(spearmanr(a, b).statistic)
    return (rho if np.isfinite(rho) else None), len(shared)


def majority(values: Sequence[T], *, tie: T | None = None) -> T | None:
    """The most common value; ``tie`` (default None) when two values share the top count."""
    if not values:
        return None
    top = Counter(values).most_common(2)
    if len(top) > 1 and top[0][1] == top[1][1]:
        return tie
    return top[0][0]
