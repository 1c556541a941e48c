"""Our own plain formats, for answers and verdicts that come from anywhere else.

Answers, JSON Lines (one answer per line)::

    {"prompt_id": "81", "model": "my-model", "turns": ["first answer", "second answer"]}
    {"prompt_id": 82, "model": "my-model", "answer": "a one-turn answer"}

* ``prompt_id`` (string or integer; synonym ``question_id``): the prompt's external id in the
  target prompt set. It may be left out when ``prompt_text`` names the prompt by its text.
* ``model`` (string; synonym ``contender``): the contender. The ``contender`` option, when
  given, overrides it, and then the field may be absent.
* exactly one of ``turns`` (non-empty array of strings, one per turn) or ``answer`` (string).
* optional: ``answer_id`` (string, the source's id), ``prompt_text`` (string),
  ``metadata`` (object).

Answers, CSV: a header row, then one answer per record. Columns ``prompt_id`` (or
``question_id``), ``model`` (or ``contender``; optional with the ``contender`` option), then
``answer`` or ``turn_1``, ``turn_2``, ... (empty trailing turns are dropped, so one file can mix
one- and two-turn answers); optional ``answer_id``, ``prompt_text``. Other columns are ignored.

Verdicts, JSON Lines (one verdict per line) or CSV (same names as columns, empty cell = absent)::

    {"model_a": "gpt-4", "model_b": "my-model", "winner": "model_a", "prompt_id": "81",
     "turn": 1, "rater": "alice", "tstamp": 1700000000.0, "first_shown": "model_a"}

* ``model_a``, ``model_b`` (strings) and ``winner``: ``model_a`` | ``model_b`` | ``tie`` |
  ``both_bad`` (also FastChat's ``tie (bothbad)`` and ``tie (inconsistent)``), or ``error``
  (JSON ``null`` too) when the source could not parse the verdict: kept with winner ``None``.
* optional: ``prompt_id`` (synonym ``question_id``), ``prompt_text``, ``turn`` (positive
  integer, default 1), ``rater`` (synonym ``judge``), ``tstamp`` (Unix seconds),
  ``first_shown`` (``model_a`` | ``model_b``). Without ``first_shown`` the on-screen order is
  unknown (``position_known`` false); with ``first_shown: model_b`` the row is turned round so
  that ``model_a`` is the model shown first, as ``VerdictRow`` wants.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from arena.imports.parsers._base import (
    PathLike,
    as_id,
    csv_header,
    iter_csv,
    iter_jsonl,
    missing,
    opt_dict,
    opt_number,
    opt_str,
    opt_turn,
    req_str,
    req_str_list,
    wrong_type,
)
from arena.imports.rows import AnswerRow, ImportFormatError, VerdictRow, Winner


def _one_of(obj: dict[str, Any], keys: tuple[str, ...], file: str, line: int) -> tuple[str, Any]:
    """The (key, value) of whichever synonym is present; two at once is ambiguous."""
    found = [k for k in keys if obj.get(k) is not None]
    if len(found) > 1:
        raise ImportFormatError(file, line, f"give only one of {', '.join(found)}", found[1])
    return (found[0], obj[found[0]]) if found else (keys[0], None)


# --------------------------------------------------------------------------- answers


def _answer(obj: dict[str, Any], file: str, line: int, contender: str | None) -> AnswerRow:
    prompt_key, prompt = _one_of(obj, ("prompt_id", "question_id"), file, line)
    if prompt is not None:
        prompt = as_id(prompt, prompt_key, file, line)
    prompt_text = opt_str(obj, "prompt_text", file, line)
    if prompt is None and not prompt_text:
        raise missing(file, line, "prompt_id", "or prompt_text")
    model_key, model = _one_of(obj, ("model", "contender"), file, line)
    if model is not None and type(model) is not str:
        raise wrong_type(file, line, model_key, "a string", model)
    who = contender or model
    if who is None:
        raise missing(file, line, "model", "or pass the contender")
    if not who.strip():
        raise ImportFormatError(file, line, "must not be empty", model_key)
    has_turns, has_answer = obj.get("turns") is not None, obj.get("answer") is not None
    if has_turns and has_answer:
        raise ImportFormatError(file, line, "give either 'turns' or 'answer', not both", "answer")
    if has_turns:
        turns = req_str_list(obj["turns"], "turns", file, line)
    elif has_answer:
        turns = (req_str(obj, "answer", file, line),)
    else:
        raise missing(file, line, "turns", "or 'answer'")
    return AnswerRow(
        line=line,
        prompt=prompt,
        contender=who,
        turns=turns,
        external_id=opt_str(obj, "answer_id", file, line),
        prompt_text=prompt_text,
        metadata=opt_dict(obj, "metadata", file, line),
    )


def parse_jsonl_answers(path: PathLike, *, contender: str | None = None) -> Iterator[AnswerRow]:
    """Plain JSON Lines answers; the schema is in this module's docstring."""
    file = os.fspath(path)
    for line, obj in iter_jsonl(path):
        yield _answer(obj, file, line, contender)


def parse_csv_answers(path: PathLike, *, contender: str | None = None) -> Iterator[AnswerRow]:
    """CSV answers; the columns are in this module's docstring. Lines are CSV lines (header = 1)."""
    file = os.fspath(path)
    header = csv_header(path)
    turn_columns = _turn_columns(header, file)
    if "answer" in header and turn_columns:
        raise ImportFormatError(
            file, 1, "give either an 'answer' column or turn_1, turn_2, ..., not both", "answer"
        )
    if "answer" not in header and not turn_columns:
        raise missing(file, 1, "answer", "or turn_1, turn_2, ... columns")
    if "prompt_id" not in header and "question_id" not in header and "prompt_text" not in header:
        raise missing(file, 1, "prompt_id", "column")
    if contender is None and "model" not in header and "contender" not in header:
        raise missing(file, 1, "model", "column, or pass the contender")
    for line, row in iter_csv(path):
        obj: dict[str, Any] = {k: v for k, v in row.items() if v != ""}
        if turn_columns:
            cells = [row[c] for c in turn_columns]
            while len(cells) > 1 and cells[-1] == "":
                cells.pop()
            gap = next((i for i, c in enumerate(cells) if c == ""), None)
            if gap is not None and len(cells) > 1:
                raise ImportFormatError(file, line, "is empty but a later turn is not", turn_columns[gap])
            obj["turns"] = cells
        elif "answer" not in obj:
            obj["answer"] = ""
        yield _answer(obj, file, line, contender)


def _turn_columns(header: list[str], file: str) -> list[str]:
    numbers = sorted(int(h[5:]) for h in header if h.startswith("turn_") and h[5:].isdigit())
    if numbers != list(range(1, len(numbers) + 1)):
        expected = next(i for i, n in enumerate(numbers, 1) if n != i)
        raise ImportFormatError(
            file, 1, "turn columns must be turn_1, turn_2, ... without gaps", f"turn_{expected}"
        )
    return [f"turn_{n}" for n in numbers]


# --------------------------------------------------------------------------- verdicts

# value -> (winner, the two orders of a double-order judgment disagreed)
_WINNERS: dict[Any, tuple[Winner | None, bool]] = {
    "model_a": ("model_a", False),
    "model_b": ("model_b", False),
    "tie": ("tie", False),
    "both_bad": ("both_bad", False),
    "tie (bothbad)": ("both_bad", False),
    "tie (inconsistent)": ("tie", True),
    "error": (None, False),
    None: (None, False),
}
_SWAP: dict[Winner | None, Winner | None] = {"model_a": "model_b", "model_b": "model_a"}


def _verdict(obj: dict[str, Any], file: str, line: int) -> VerdictRow:
    model_a = req_str(obj, "model_a", file, line, empty=False)
    model_b = req_str(obj, "model_b", file, line, empty=False)
    if "winner" not in obj:
        raise missing(file, line, "winner")
    raw = obj["winner"]
    try:
        winner, inconsistent = _WINNERS[raw]
    except (KeyError, TypeError):
        raise ImportFormatError(
            file,
            line,
            f"{raw!r} is not one of model_a, model_b, tie, both_bad, tie (bothbad), error",
            "winner",
        ) from None
    prompt_key, prompt = _one_of(obj, ("prompt_id", "question_id"), file, line)
    if prompt is not None:
        prompt = as_id(prompt, prompt_key, file, line)
    rater_key, rater = _one_of(obj, ("rater", "judge"), file, line)
    if rater is not None and type(rater) is not str:
        raise wrong_type(file, line, rater_key, "a string", rater)
    first = obj.get("first_shown")
    if first not in (None, "model_a", "model_b"):
        raise ImportFormatError(file, line, f"{first!r} is not model_a or model_b", "first_shown")
    if first == "model_b":
        model_a, model_b = model_b, model_a
        winner = _SWAP.get(winner, winner)
    return VerdictRow(
        line=line,
        model_a=model_a,
        model_b=model_b,
        winner=winner,
        prompt=prompt,
        prompt_text=opt_str(obj, "prompt_text", file, line),
        turn=opt_turn(obj, "turn", file, line),
        rater=rater,
        tstamp=opt_number(obj, "tstamp", file, line),
        position_known=first is not None,
        metadata={"inconsistent": True} if inconsistent else {},
    )


def parse_jsonl_verdicts(path: PathLike) -> Iterator[VerdictRow]:
    """Plain JSON Lines verdicts; the schema is in this module's docstring."""
    file = os.fspath(path)
    for line, obj in iter_jsonl(path):
        yield _verdict(obj, file, line)


def parse_csv_verdicts(path: PathLike) -> Iterator[VerdictRow]:
    """CSV verdicts, the JSON Lines fields as columns; an empty cell is an absent field."""
    file = os.fspath(path)
    header = csv_header(path)
    for column in ("model_a", "model_b", "winner"):
        if column not in header:
            raise missing(file, 1, column, "column")
    for line, row in iter_csv(path):
        obj: dict[str, Any] = {k: v for k, v in row.items() if v != ""}
        for key, convert in (("turn", int), ("tstamp", float)):
            if key in obj:
                try:
                    obj[key] = convert(obj[key])
                except ValueError:
                    kind = "an integer" if convert is int else "a number"
                    raise ImportFormatError(file, line, f"expected {kind}, got {obj[key]!r}", key) from None
        if "winner" not in obj:
            raise ImportFormatError(
                file, line, "must not be empty (write 'error' for an unparsable verdict)", "winner"
            )
        yield _verdict(obj, file, line)
