"""Rating maths for the arena: pure NumPy/SciPy, never Django (a test enforces it).

The Django side turns votes, judgments and imports into ``Battle`` records (or builds
``BattleArrays`` directly) and calls:

- ``compute_leaderboard``: Elo or Bradley-Terry ratings with bootstrap intervals, ranks,
  records, win-rate and battle-count matrices, optional style control;
- ``position_bias``, ``length_bias``: bias checks on verdicts;
- ``agreement``, ``inter_rater_agreement``: agreement between sources and among raters.
"""

from arena.ratings.agreement import (
    Agreement,
    InterRaterAgreement,
    agreement,
    cohen_kappa,
    fleiss_kappa,
    inter_rater_agreement,
)
from arena.ratings.arrays import BattleArrays
from arena.ratings.bias import (
    BinomialShare,
    LengthBias,
    LengthBucket,
    PositionBias,
    PositionConsistency,
    length_bias,
    position_bias,
)
from arena.ratings.leaderboard import Leaderboard, RatingRow, StyleCoefficient, compute_leaderboard
from arena.ratings.style import markdown_style_features
from arena.ratings.types import WINNERS, Battle, Position, StyleFeatures, Winner

__all__ = [
    "WINNERS",
    "Agreement",
    "Battle",
    "BattleArrays",
    "BinomialShare",
    "InterRaterAgreement",
    "Leaderboard",
    "LengthBias",
    "LengthBucket",
    "Position",
    "PositionBias",
    "PositionConsistency",
    "RatingRow",
    "StyleCoefficient",
    "StyleFeatures",
    "Winner",
    "agreement",
    "cohen_kappa",
    "compute_leaderboard",
    "fleiss_kappa",
    "inter_rater_agreement",
    "length_bias",
    "markdown_style_features",
    "position_bias",
]
