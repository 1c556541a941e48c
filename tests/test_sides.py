"""The one translation between screen sides and comparison terms (arena.sides)."""

from __future__ import annotations

import pytest

from arena.sides import comparison_side, is_shown_first


@pytest.mark.parametrize(
    ("shown_first", "a_shown_first", "side"),
    [
        (True, True, "model_a"),
        (False, True, "model_b"),
        (True, False, "model_b"),
        (False, False, "model_a"),
    ],
)
def test_both_directions_agree(shown_first: bool, a_shown_first: bool, side: str) -> None:
    assert comparison_side(shown_first, a_shown_first=a_shown_first) == side
    assert is_shown_first(side, a_shown_first=a_shown_first) is shown_first


def test_only_sides_have_a_position() -> None:
    with pytest.raises(ValueError, match="not a comparison side"):
        is_shown_first("tie", a_shown_first=True)
