"""Plain data types shared by the rating maths and the Django side.

This package is pure: NumPy/SciPy only, never Django (a test enforces it). The Django
battles selector (``reports.selectors.battles``) produces ``Battle`` records; every rating,
bias and agreement computation reads them and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

Winner = Literal["model_a", "model_b", "tie", "both_bad"]
WINNERS: tuple[Winner, ...] = ("model_a", "model_b", "tie", "both_bad")
Position = Literal["model_a", "model_b"]


class StyleFeatures(NamedTuple):
    """Surface features of one answer, the covariates of style-controlled Bradley-Terry."""

    tokens: int
    headers: int
    list_items: int
    bold: int


@dataclass(frozen=True, slots=True)
class Battle:
    """One verdict between two models on one prompt turn, from one source.

    ``model_a``/``model_b`` are the two contenders as the verdict names them; ``first_shown``
    says which of them sat in the first (left) position, or ``None`` when the source does not
    record it. ``comparison`` is a key shared by every verdict on the same (prompt, turn,
    unordered pair of answers), whatever the source and order: agreement and judge
    consistency join on it. ``rater`` distinguishes voters within one source.
    """

    source: str
    model_a: str
    model_b: str
    winner: Winner
    prompt_set: str | None = None
    prompt: str | None = None
    category: str | None = None
    turn: int = 1
    first_shown: Position | None = None
    comparison: str | None = None
    rater: str | None = None
    style_a: StyleFeatures | None = None
    style_b: StyleFeatures | None = None
    tstamp: float | None = None
