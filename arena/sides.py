"""Screen sides and comparison terms. Pure: no Django.

Every verdict is stored in the comparison's terms: ``model_a`` is its answer A, ``model_b`` its
answer B. Raters and judges see the two answers in an order: one is shown first (on the left,
labelled "A", or "Assistant A" for a judge) and the other second. That order is kept with each
verdict (``a_shown_first`` of an assignment or a live battle; a judgment's ``order``: 1 shows
answer A first). These two functions are the one place the translation is written; the rating
page, live battles and judge verdicts all go through them.
"""

from __future__ import annotations

MODEL_A, MODEL_B = "model_a", "model_b"


def comparison_side(shown_first: bool, *, a_shown_first: bool) -> str:
    """``model_a`` or ``model_b``: the answer shown first (``shown_first``) or second, in the
    comparison's terms."""
    return MODEL_A if shown_first == a_shown_first else MODEL_B


def is_shown_first(side: str, *, a_shown_first: bool) -> bool:
    """Whether ``side`` (``model_a`` / ``model_b``) is the answer that was shown first."""
    if side not in (MODEL_A, MODEL_B):
        raise ValueError(f"not a comparison side: {side!r}")
    return (side == MODEL_A) == a_shown_first
