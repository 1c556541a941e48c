"""Rows that format parsers yield and the one import service writes.

Parsers are pure (no Django): they read a file, validate every field and yield these rows,
each carrying the 1-based line (or record) number it came from so that an error found later,
against the database, can still name the line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Re-exported (``as``): the parsers take the winner's type from their contract, this module.
from arena.ratings.types import Winner as Winner


class ImportFormatError(ValueError):
    """Bad input: names the file, the line and the field so a person can fix it."""

    def __init__(self, file: str, line: int | None, message: str, field: str | None = None):
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        where = file if line is None else f"{file}, line {line}"
        what = f"field '{field}': {message}" if field else message
        super().__init__(f"{where}: {what}")


@dataclass(frozen=True, slots=True)
class PromptRow:
    line: int
    external_id: str
    category: str
    turns: tuple[str, ...]
    references: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """One contender's answer to one prompt, every turn."""

    line: int
    prompt: str | None  # external id of the prompt within the target prompt set
    contender: str  # model name as the file spells it (aliases are resolved by the service)
    turns: tuple[str, ...]
    external_id: str | None = None  # the source's own answer id (FastChat answer_id), if any
    # Formats without prompt ids (AlpacaEval) name the prompt by its text; the service matches
    # it against the prompt set's first turn (whitespace-normalised).
    prompt_text: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VerdictRow:
    """One pairwise verdict as the source recorded it.

    ``model_a`` is the model the source calls A; when ``position_known`` it is also the model
    that was shown first. ``answer_a``/``answer_b`` are the source's answer ids when the file
    refers to answers instead of model names (FastChat reviews); the service resolves them.
    ``judged_order`` groups two rows that are the two orders of one LLM judgment (1 and 2);
    ``None`` for a single verdict.
    """

    line: int
    model_a: str | None
    model_b: str | None
    winner: Winner | None  # None: the source recorded a verdict it could not parse (kept, never a tie)
    prompt: str | None = None
    prompt_text: str | None = None
    turn: int = 1
    rater: str | None = None
    tstamp: float | None = None
    position_known: bool = True
    answer_a: str | None = None
    answer_b: str | None = None
    judged_order: int | None = None
    raw_output: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """One single-answer grade as the source recorded it (FastChat's ``*_single.jsonl``).

    ``score`` is None when the judge's rating could not be parsed (FastChat writes -1): kept,
    counted as unparsed, never a number. ``rater`` is the judge model, ``metadata`` the prompt
    name it used.
    """

    line: int
    model: str
    prompt: str
    turn: int
    score: float | None
    rater: str | None = None
    tstamp: float | None = None
    raw_output: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
