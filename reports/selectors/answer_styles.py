"""What the battle reader and the anomalous-rater check both look up, below both: the outcome
code of each winner name, id lookups for a million battles at once, and every answer's style
features (``battle_columns`` reads battles through them; ``rater_checks``, which the clean-rater
filter of that reader consults, reads the votes through them too)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from arena.models import Answer
from arena.ratings.arrays import A_WINS, B_WINS, BOTH_BAD, TIE

OUTCOME_OF_WINNER = {name: code for code, name in enumerate(("model_a", "model_b", "tie", "both_bad"))}
WINNER_NAMES = tuple(OUTCOME_OF_WINNER)  # by outcome code (A_WINS, B_WINS, TIE, BOTH_BAD)
assert (
    OUTCOME_OF_WINNER["model_a"],
    OUTCOME_OF_WINNER["model_b"],
    OUTCOME_OF_WINNER["tie"],
    OUTCOME_OF_WINNER["both_bad"],
) == (A_WINS, B_WINS, TIE, BOTH_BAD)


class IdMap:
    """Database ids (non-negative integers) to values, looked up for a million battles at once:
    a dense table indexed by id while the ids stay below ``DENSE_LIMIT`` (a binary search per
    battle costs far more; PERFORMANCE.md), a sorted search above it."""

    DENSE_LIMIT = 2**24

    def __init__(self, keys: NDArray[np.int64], values: NDArray[np.int64]) -> None:
        keys, values = np.asarray(keys, dtype=np.int64), np.asarray(values, dtype=np.int64)
        self._dense: NDArray[np.int64] | None = None
        if keys.size == 0 or int(keys.max()) < self.DENSE_LIMIT:
            self._dense = np.full(
                int(keys.max(initial=-1)) + 2, -1, dtype=np.int64
            )  # the last slot: not found
            self._dense[keys] = values
        else:
            order = np.argsort(keys, kind="stable")
            self._keys, self._values = keys[order], values[order]

    def get(self, ids: NDArray[np.int64]) -> NDArray[np.int64]:
        """The value of each id; -1 where it has none (negative ids included)."""
        if self._dense is not None:
            outside = self._dense.shape[0] - 1
            return self._dense[np.where((ids >= 0) & (ids < outside), ids, outside)]
        where = np.searchsorted(self._keys, ids).clip(0, self._keys.size - 1)
        return np.where(self._keys[where] == ids, self._values[where], -1)


class AnswerStyles:
    """Every answer's style features per turn, loaded on first use, looked up by arrays."""

    def __init__(self) -> None:
        self._ids: NDArray[np.int64] | None = None

    def _load(self) -> None:
        rows = sorted(Answer.objects.values_list("id", "prompt_id", "contender_id", "style"))
        self._ids = np.array([row[0] for row in rows], dtype=np.int64)
        turns = max((len(row[3] or []) for row in rows), default=0)
        # (answers, turns, 4) features, NaN where an answer has none for a turn.
        self._features = np.full((len(rows), max(turns, 1), 4), np.nan)
        for i, row in enumerate(rows):
            for t, features in enumerate(row[3] or []):
                self._features[i, t] = features
        prompt = np.array([row[1] for row in rows], dtype=np.int64)
        contender = np.array([row[2] for row in rows], dtype=np.int64)
        self._width = int(contender.max()) + 1 if contender.size else 1
        # One answer per (prompt, contender): the database enforces it.
        self._answer_of_pair = IdMap(prompt * self._width + contender, self._ids)
        self._row_of_answer = IdMap(self._ids, np.arange(self._ids.size))

    def find(self, prompt_id: NDArray[np.int64], contender_id: NDArray[np.int64]) -> NDArray[np.int64]:
        """The answer of each (prompt, contender), -1 where there is none (or no prompt)."""
        if self._ids is None:
            self._load()
        known = (prompt_id >= 0) & (contender_id < self._width)
        return np.where(
            known, self._answer_of_pair.get(np.where(known, prompt_id * self._width + contender_id, -1)), -1
        )

    def features(self, answer_id: NDArray[np.int64], turn: NDArray[np.int64]) -> NDArray[np.float64]:
        """(n, 4) style features of each answer at its turn, NaN where unknown."""
        if self._ids is None:
            self._load()
        assert self._ids is not None
        out = np.full((answer_id.shape[0], 4), np.nan)
        row = self._row_of_answer.get(answer_id)
        known = (row >= 0) & (turn >= 1) & (turn <= self._features.shape[1])
        out[known] = self._features[row[known], turn[known] - 1]
        return out
