"""Writing battles back out in other tools' formats."""

from __future__ import annotations

from typing import Any

from arena.ratings.types import Battle

_FASTCHAT_WINNER = {"model_a": "model_a", "model_b": "model_b", "tie": "tie", "both_bad": "tie (bothbad)"}


def battle_to_fastchat(battle: Battle) -> dict[str, Any]:
    """One battle as a FastChat battle record (``judge`` is the rater; None fields are omitted)."""
    record: dict[str, Any] = {
        "model_a": battle.model_a,
        "model_b": battle.model_b,
        "winner": _FASTCHAT_WINNER[battle.winner],
        "question_id": battle.prompt,
        "turn": battle.turn,
        "judge": battle.rater,
        "tstamp": battle.tstamp,
    }
    if record["question_id"] is not None and str(record["question_id"]).isdigit():
        record["question_id"] = int(record["question_id"])
    return record
