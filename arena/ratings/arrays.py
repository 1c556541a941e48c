"""Columnar battles and the one aggregation every rating method starts from.

A million ``Battle`` objects are slow to walk in Python, so the rating maths reads
``BattleArrays``: integer model indices and int8 outcome codes. Everything that does not need
the battle order (Bradley-Terry, its bootstrap, win-rate and count matrices) then reads the
counts per (model_a, model_b, outcome) made once by ``outcome_counts``; its cost after that
no longer grows with the number of battles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from arena.ratings.types import Battle

_Scalar = TypeVar("_Scalar", bound=np.generic)

A_WINS = 0
B_WINS = 1
TIE = 2
BOTH_BAD = 3
OUTCOME_CODES: dict[str, int] = {"model_a": A_WINS, "model_b": B_WINS, "tie": TIE, "both_bad": BOTH_BAD}

STYLE_FEATURE_NAMES: tuple[str, ...] = ("length", "headers", "list_items", "bold")


@dataclass(frozen=True, eq=False)
class BattleLabels:
    """What bias and agreement reports group battles by, one integer code per battle.

    ``source``, ``rater`` and ``comparison`` index into ``sources``, ``raters`` and
    ``comparisons`` (the ``Battle`` fields of those names); -1 stands for None. Codes are
    local to the arrays that share a ``comparisons`` table (one read): match others by the
    names.
    """

    sources: tuple[str, ...]
    source: NDArray[np.intp]
    raters: tuple[str, ...]
    rater: NDArray[np.intp]
    comparisons: Sequence[str]
    comparison: NDArray[np.intp]
    turn: NDArray[np.int64]

    def take(self, rows: NDArray[np.bool_] | NDArray[np.intp]) -> BattleLabels:
        """The labels of ``rows`` (a mask or indices), the tables shared."""
        return BattleLabels(
            self.sources,
            self.source[rows],
            self.raters,
            self.rater[rows],
            self.comparisons,
            self.comparison[rows],
            self.turn[rows],
        )


def label_codes(values: Sequence[str | None]) -> tuple[tuple[str, ...], NDArray[np.intp]]:
    """(distinct names, code per value) with None as -1: labels from Python values."""
    names: dict[str, int] = {}
    codes = np.fromiter(
        (-1 if v is None else names.setdefault(v, len(names)) for v in values),
        dtype=np.intp,
        count=len(values),
    )
    return tuple(names), codes


@dataclass(frozen=True, eq=False)
class BattleArrays:
    """Battles as parallel arrays: the form the rating maths computes on.

    ``model_a``/``model_b`` index into ``models``; ``outcome`` holds the codes ``A_WINS`` (0),
    ``B_WINS`` (1), ``TIE`` (2), ``BOTH_BAD`` (3). ``first_shown_a`` is True where model_a sat
    in the first position (``first_shown_known`` masks battles whose source did not record
    it). ``style_a``/``style_b`` are (n, 4) float arrays of (tokens, headers, list items,
    bold), NaN where an answer's style is unknown. ``tstamp`` is NaN where unknown.
    ``labels`` (bias and agreement reports) say which source, rater and comparison each
    battle belongs to. Build them with ``from_battles`` or ``from_arrays``; both drop
    battles of a model against itself, which carry no information about any rating, unless
    told to keep them (the reports count every verdict).
    """

    models: tuple[str, ...]
    model_a: NDArray[np.intp]
    model_b: NDArray[np.intp]
    outcome: NDArray[np.int8]
    first_shown_a: NDArray[np.bool_] | None = None
    first_shown_known: NDArray[np.bool_] | None = None
    style_a: NDArray[np.float64] | None = None
    style_b: NDArray[np.float64] | None = None
    tstamp: NDArray[np.float64] | None = None
    labels: BattleLabels | None = None

    def __len__(self) -> int:
        return int(self.outcome.shape[0])

    @property
    def n_models(self) -> int:
        return len(self.models)

    @classmethod
    def from_battles(
        cls,
        battles: Sequence[Battle],
        models: Sequence[str] | None = None,
        *,
        keep_self_battles: bool = False,
    ) -> BattleArrays:
        """Columnar form of ``battles``, labels included; models sorted by name unless ``models``
        gives the order."""
        names = (
            tuple(models)
            if models is not None
            else tuple(sorted({m for b in battles for m in (b.model_a, b.model_b)}))
        )
        index = {name: i for i, name in enumerate(names)}
        try:
            model_a = np.fromiter((index[b.model_a] for b in battles), dtype=np.intp, count=len(battles))
            model_b = np.fromiter((index[b.model_b] for b in battles), dtype=np.intp, count=len(battles))
            outcome = np.fromiter(
                (OUTCOME_CODES[b.winner] for b in battles), dtype=np.int8, count=len(battles)
            )
        except KeyError as missing:
            raise ValueError(f"Unknown model or winner {missing} in battles") from None
        first_known = np.fromiter(
            (b.first_shown is not None for b in battles), dtype=np.bool_, count=len(battles)
        )
        first_a = np.fromiter(
            (b.first_shown == "model_a" for b in battles), dtype=np.bool_, count=len(battles)
        )
        style_a = style_b = None
        if any(b.style_a is not None and b.style_b is not None for b in battles):
            unknown = (np.nan,) * 4
            style_a = np.array(
                [b.style_a if b.style_a is not None else unknown for b in battles], dtype=np.float64
            )
            style_b = np.array(
                [b.style_b if b.style_b is not None else unknown for b in battles], dtype=np.float64
            )
            style_a = style_a.reshape(len(battles), 4)
            style_b = style_b.reshape(len(battles), 4)
        tstamp = None
        if any(b.tstamp is not None for b in battles):
            tstamp = np.array([np.nan if b.tstamp is None else b.tstamp for b in battles], dtype=np.float64)
        sources, source = label_codes([b.source for b in battles])
        raters, rater = label_codes([b.rater for b in battles])
        comparisons, comparison = label_codes([b.comparison for b in battles])
        turn = np.fromiter((b.turn for b in battles), dtype=np.int64, count=len(battles))
        return cls.from_arrays(
            names,
            model_a,
            model_b,
            outcome,
            first_shown_a=first_a if first_known.any() else None,
            first_shown_known=first_known if first_known.any() else None,
            style_a=style_a,
            style_b=style_b,
            tstamp=tstamp,
            labels=BattleLabels(sources, source, raters, rater, comparisons, comparison, turn),
            keep_self_battles=keep_self_battles,
        )

    @classmethod
    def from_arrays(
        cls,
        models: Sequence[str],
        model_a: ArrayLike,
        model_b: ArrayLike,
        outcome: ArrayLike,
        *,
        first_shown_a: ArrayLike | None = None,
        first_shown_known: ArrayLike | None = None,
        style_a: ArrayLike | None = None,
        style_b: ArrayLike | None = None,
        tstamp: ArrayLike | None = None,
        labels: BattleLabels | None = None,
        keep_self_battles: bool = False,
    ) -> BattleArrays:
        """Validated ``BattleArrays`` from plain arrays (synthetic data, benchmarks, the database).

        ``first_shown_a`` without ``first_shown_known`` means the position is known everywhere.
        """
        names = tuple(models)
        a = np.asarray(model_a, dtype=np.intp)
        b = np.asarray(model_b, dtype=np.intp)
        out = np.asarray(outcome, dtype=np.int8)
        n = out.shape[0]
        if a.shape != (n,) or b.shape != (n,):
            raise ValueError("model_a, model_b and outcome must be 1-D arrays of one length")
        if n and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= len(names)):
            raise ValueError("model indices must lie in range(len(models))")
        if n and (out.min() < A_WINS or out.max() > BOTH_BAD):
            raise ValueError("outcome codes must be 0 (a wins), 1 (b wins), 2 (tie) or 3 (both bad)")
        keep = np.ones(n, dtype=np.bool_) if keep_self_battles else a != b
        first_a = first_known = None
        if first_shown_a is not None:
            first_a = np.asarray(first_shown_a, dtype=np.bool_)
            first_known = (
                np.ones(n, dtype=np.bool_)
                if first_shown_known is None
                else np.asarray(first_shown_known, dtype=np.bool_)
            )
        sa = sb = None
        if (style_a is None) != (style_b is None):
            raise ValueError("give both style_a and style_b, or neither")
        if style_a is not None and style_b is not None:
            sa = np.asarray(style_a, dtype=np.float64).reshape(n, 4)
            sb = np.asarray(style_b, dtype=np.float64).reshape(n, 4)
        ts = None if tstamp is None else np.asarray(tstamp, dtype=np.float64).reshape(n)

        def kept(x: NDArray[_Scalar] | None) -> NDArray[_Scalar] | None:
            return x if x is None or keep.all() else x[keep]

        return cls(
            models=names,
            model_a=a[keep] if not keep.all() else a,
            model_b=b[keep] if not keep.all() else b,
            outcome=out[keep] if not keep.all() else out,
            first_shown_a=kept(first_a),
            first_shown_known=kept(first_known),
            style_a=kept(sa),
            style_b=kept(sb),
            tstamp=kept(ts),
            labels=None if labels is None else labels if keep.all() else labels.take(keep),
        )

    def chronological_order(self) -> NDArray[np.intp]:
        """Battle indices oldest first: by ``tstamp`` when every battle has one, else input order.

        A partly known clock cannot order the rest, so input order (the selector's own
        oldest-first order per source) is the honest fallback.
        """
        if self.tstamp is None or np.isnan(self.tstamp).any():
            return np.arange(len(self), dtype=np.intp)
        return np.argsort(self.tstamp, kind="stable").astype(np.intp)

    def without_self_battles(self) -> BattleArrays:
        """These battles less those of a model against itself (kept only for the reports)."""
        other = self.model_a != self.model_b
        return self if other.all() else self.take(other)

    def take(self, rows: NDArray[np.bool_] | NDArray[np.intp]) -> BattleArrays:
        """The battles ``rows`` selects (a mask or indices), models and label tables shared."""

        def kept(column: NDArray[Any] | None) -> Any:
            return None if column is None else column[rows]

        return replace(
            self,
            model_a=self.model_a[rows],
            model_b=self.model_b[rows],
            outcome=self.outcome[rows],
            first_shown_a=kept(self.first_shown_a),
            first_shown_known=kept(self.first_shown_known),
            style_a=kept(self.style_a),
            style_b=kept(self.style_b),
            tstamp=kept(self.tstamp),
            labels=None if self.labels is None else self.labels.take(rows),
        )


@dataclass(frozen=True, eq=False)
class BattleCounts:
    """Battles aggregated per (model_a, model_b, outcome): all Bradley-Terry needs.

    ``counts`` is the (n_models, n_models, 4) array ``outcome_counts`` makes from
    ``BattleArrays`` (self-battles left out), read here straight from an aggregate query, so
    its cost does not grow with the number of battles. ``total`` counts every battle read.
    """

    models: tuple[str, ...]
    counts: NDArray[np.int64]
    total: int

    @property
    def n_models(self) -> int:
        return len(self.models)


def labelled(battles: Sequence[Battle] | BattleArrays) -> BattleArrays:
    """Arrays with labels for the reports: ``Battle`` records become arrays, every one kept."""
    if isinstance(battles, BattleArrays):
        if battles.labels is None:
            raise ValueError(
                "bias and agreement reports need labelled battles (source, rater, comparison, turn)"
            )
        return battles
    return BattleArrays.from_battles(battles, keep_self_battles=True)


def group_codes(*columns: NDArray[np.integer]) -> NDArray[np.int64]:
    """One non-negative code per distinct combination of the columns' values (row by row).

    Codes are mixed-radix numbers, renumbered densely whenever the next column would
    overflow 62 bits; equal rows get equal codes and different rows different ones.
    """
    code = np.zeros(columns[0].shape[0] if columns else 0, dtype=np.int64)
    span = 1
    for column in columns:
        values = np.asarray(column, dtype=np.int64)
        low = int(values.min()) if values.size else 0
        width = (int(values.max()) - low + 1) if values.size else 1
        if span * width >= 2**62:
            uniques, code = np.unique(code, return_inverse=True)
            code = code.astype(np.int64).reshape(-1)
            span = max(int(uniques.size), 1)
        code = code * width + (values - low)
        span *= width
    return code


def model_name_rank(models: Sequence[str]) -> NDArray[np.intp]:
    """Rank of each model's name in alphabetical order (index order when ``models`` is sorted)."""
    return np.argsort(np.argsort(np.array(models, dtype=object), kind="stable"), kind="stable").astype(
        np.intp
    )


def as_battle_arrays(battles: Sequence[Battle] | BattleArrays) -> BattleArrays:
    """Accept either form at the public entry points."""
    return battles if isinstance(battles, BattleArrays) else BattleArrays.from_battles(battles)


def outcome_counts(arrays: BattleArrays | BattleCounts) -> NDArray[np.int64]:
    """Counts per (model_a, model_b, outcome): an (n_models, n_models, 4) array, made in one pass."""
    if isinstance(arrays, BattleCounts):
        return arrays.counts
    n = arrays.n_models
    cell = (arrays.model_a * n + arrays.model_b) * 4 + arrays.outcome
    return np.bincount(cell, minlength=n * n * 4).reshape(n, n, 4).astype(np.int64)


def pairwise_wins(counts: NDArray[np.int64], *, both_bad_as_tie: bool = True) -> NDArray[np.float64]:
    """Win matrix W[i, j] = wins of i over j in either seat, ties counting half to each side.

    ``both_bad`` verdicts count as ties when ``both_bad_as_tie``; otherwise they are left out.
    """
    won_as_a = counts[:, :, A_WINS].astype(np.float64)
    won_as_b = counts[:, :, B_WINS].T.astype(np.float64)
    ties = counts[:, :, TIE] + (counts[:, :, BOTH_BAD] if both_bad_as_tie else 0)
    ties_both_seats = (ties + ties.T).astype(np.float64)
    return np.asarray(won_as_a + won_as_b + 0.5 * ties_both_seats, dtype=np.float64)


def record_per_model(
    counts: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """(wins, losses, ties) per model over all its battles; ``both_bad`` counts as a tie here."""
    wins = counts[:, :, A_WINS].sum(axis=1) + counts[:, :, B_WINS].sum(axis=0)
    losses = counts[:, :, B_WINS].sum(axis=1) + counts[:, :, A_WINS].sum(axis=0)
    drawn = counts[:, :, TIE] + counts[:, :, BOTH_BAD]
    ties = drawn.sum(axis=1) + drawn.sum(axis=0)
    return wins, losses, ties


def battle_count_matrix(counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """Battles between i and j in either seat, every outcome included."""
    per_seat = counts.sum(axis=2)
    return np.asarray(per_seat + per_seat.T, dtype=np.int64)


def win_rate_matrix(counts: NDArray[np.int64], *, both_bad_as_tie: bool = True) -> NDArray[np.float64]:
    """Observed share of battles i won against j (ties half); NaN where they never met."""
    wins = pairwise_wins(counts, both_bad_as_tie=both_bad_as_tie)
    games = wins + wins.T
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(games > 0, wins / np.where(games > 0, games, 1.0), np.nan)
    return np.asarray(rate, dtype=np.float64)
