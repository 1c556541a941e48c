"""Rating maths for the arena: pure NumPy/SciPy, never Django (a test enforces it).

The Django side turns votes, judgments and imports into ``Battle`` records (or builds
``BattleArrays`` directly) and calls:

- ``compute_leaderboard``: Elo or Bradley-Terry ratings with bootstrap intervals, ranks,
  records, win-rate and battle-count matrices, optional style control;
- ``position_bias``, ``length_bias``: bias checks on verdicts;
- ``agreement``, ``inter_rater_agreement``: agreement between sources and among raters.

The names are loaded on first use (PEP 562): every process touches ``arena.ratings.types``
at start-up (the battles selector names its types), and importing the whole package there
would load SciPy's statistics (slow; PERFORMANCE.md) into commands that never compute a rating.
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arena.ratings.agreement import (
        Agreement,
        InterRaterAgreement,
        agreement,
        cohen_kappa,
        fleiss_kappa,
        inter_rater_agreement,
        within_source_agreement,
    )
    from arena.ratings.arrays import BattleArrays, BattleCounts
    from arena.ratings.bias import (
        BinomialShare,
        LengthBias,
        LengthBucket,
        PositionBias,
        PositionConsistency,
        length_bias,
        position_bias,
    )
    from arena.ratings.grades import grade_agreement, grade_table, hhh_table, majority, rank_correlation
    from arena.ratings.leaderboard import Leaderboard, RatingRow, StyleCoefficient, compute_leaderboard
    from arena.ratings.length_control import length_controlled_win_rates
    from arena.ratings.scores import ScoreRecord, score_table
    from arena.ratings.style import markdown_style_features
    from arena.ratings.types import WINNERS, Battle, Position, StyleFeatures, Winner
    from arena.ratings.winrate import Preference, anchored_bradley_terry, win_rate

_MODULE_OF = {
    "Agreement": "agreement",
    "InterRaterAgreement": "agreement",
    "agreement": "agreement",
    "cohen_kappa": "agreement",
    "fleiss_kappa": "agreement",
    "inter_rater_agreement": "agreement",
    "within_source_agreement": "agreement",
    "BattleArrays": "arrays",
    "BattleCounts": "arrays",
    "BinomialShare": "bias",
    "LengthBias": "bias",
    "LengthBucket": "bias",
    "PositionBias": "bias",
    "PositionConsistency": "bias",
    "length_bias": "bias",
    "position_bias": "bias",
    "Leaderboard": "leaderboard",
    "RatingRow": "leaderboard",
    "StyleCoefficient": "leaderboard",
    "compute_leaderboard": "leaderboard",
    "markdown_style_features": "style",
    "WINNERS": "types",
    "Battle": "types",
    "Position": "types",
    "StyleFeatures": "types",
    "Winner": "types",
    "grade_agreement": "grades",
    "grade_table": "grades",
    "hhh_table": "grades",
    "majority": "grades",
    "rank_correlation": "grades",
    "length_controlled_win_rates": "length_control",
    "ScoreRecord": "scores",
    "score_table": "scores",
    "Preference": "winrate",
    "anchored_bradley_terry": "winrate",
    "win_rate": "winrate",
}

__all__ = [
    "WINNERS",
    "Agreement",
    "Battle",
    "BattleArrays",
    "BattleCounts",
    "BinomialShare",
    "InterRaterAgreement",
    "Leaderboard",
    "LengthBias",
    "LengthBucket",
    "Position",
    "PositionBias",
    "PositionConsistency",
    "Preference",
    "RatingRow",
    "ScoreRecord",
    "StyleCoefficient",
    "StyleFeatures",
    "Winner",
    "agreement",
    "anchored_bradley_terry",
    "cohen_kappa",
    "compute_leaderboard",
    "fleiss_kappa",
    "grade_agreement",
    "grade_table",
    "hhh_table",
    "inter_rater_agreement",
    "length_bias",
    "length_controlled_win_rates",
    "majority",
    "markdown_style_features",
    "position_bias",
    "rank_correlation",
    "score_table",
    "win_rate",
    "within_source_agreement",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF})


class _Package(ModuleType):
    """The import system binds each submodule on its package as it loads it; where a name is
    both (``agreement``), the function must win, as it did when this file imported it eagerly."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, ModuleType) and _MODULE_OF.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
