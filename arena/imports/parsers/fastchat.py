"""FastChat formats: questions, reference and model answers, battles, LLM-judge verdicts.

Covers what lm-sys/FastChat writes and what the MT-Bench / Vicuna-80 releases ship:

* ``llm_judge/data/<bench>/question.jsonl`` (``turns``) and the 2023 ``eval/table/question.jsonl``
  (``text``): prompt sets.
* ``reference_answer/gpt-4.jsonl``: reference answers, attached to prompts.
* ``model_answer/<model>.jsonl`` (``choices[0].turns``) and the 2023 ``table/answer/*.jsonl``
  (``text``): answers, the kind detected per line.
* Chatbot Arena battles and MT-Bench human judgments (``model_a``/``model_b``/``winner``).
* ``gen_judgment.py`` pairwise output (``g1_winner``/``g2_winner``): two verdicts per line.
* 2023 GPT-4 reviews (``answer1_id``/``answer2_id``/``score``).
* ``gen_judgment.py`` single-answer grades (``model_judgment/<judge>_single.jsonl``).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import PurePath
from typing import IO, Any

from arena.imports.parsers._base import (
    PathLike,
    as_id,
    iter_json_records,
    iter_jsonl,
    missing,
    opt_dict,
    opt_number,
    opt_str,
    opt_turn,
    req_id,
    req_str,
    req_str_list,
    wrong_type,
)
from arena.imports.parsers.filenames import model_from_run_name
from arena.imports.rows import AnswerRow, ImportFormatError, PromptRow, ScoreRow, VerdictRow, Winner

# --------------------------------------------------------------------------- prompts


def _reference_rows(path: PathLike) -> Iterator[tuple[int, str, tuple[str, ...]]]:
    file = os.fspath(path)
    seen: dict[str, int] = {}
    for line, obj in iter_jsonl(path):
        qid = req_id(obj, "question_id", file, line)
        if qid in seen:
            raise ImportFormatError(
                file, line, f"question {qid} already has a reference on line {seen[qid]}", "question_id"
            )
        seen[qid] = line
        yield line, qid, _choice_turns(obj, file, line)


def parse_reference_answers(path: PathLike) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Yield ``(question_id, turns)`` from a FastChat reference-answer file.

    Any FastChat ``reference_answer/<judge>.jsonl`` (the model-answer schema): MT-Bench's
    GPT-4 references for questions 101-130, Vicuna-80's for 61-70. ``question_id`` is a string,
    like ``PromptRow.external_id``.
    """
    for _line, qid, turns in _reference_rows(path):
        yield qid, turns


def _questions(path: PathLike, references: PathLike | None, *, allow_text: bool) -> Iterator[PromptRow]:
    file = os.fspath(path)
    refs: dict[str, tuple[int, tuple[str, ...]]] = {}
    if references is not None:
        refs = {qid: (line, turns) for line, qid, turns in _reference_rows(references)}
    seen: dict[str, int] = {}
    for line, obj in iter_jsonl(path):
        qid = req_id(obj, "question_id", file, line)
        if qid in seen:
            raise ImportFormatError(
                file, line, f"duplicate question id {qid} (first on line {seen[qid]})", "question_id"
            )
        seen[qid] = line
        category = req_str(obj, "category", file, line, empty=False)
        if "turns" in obj:
            turns = req_str_list(obj["turns"], "turns", file, line)
        elif allow_text and "text" in obj:
            turns = (req_str(obj, "text", file, line, empty=False),)
        else:
            raise missing(file, line, "turns", "or 'text' in the 2023 table format" if allow_text else "")
        metadata: dict[str, Any] = {}
        if "reference" in obj:
            # MT-Bench's question file embeds human-written references on 39 rows. FastChat's
            # judge does not read them (it uses reference_answer/gpt-4.jsonl), so they are kept
            # as metadata and only the GPT-4 file fills ``references``.
            metadata["human_reference"] = list(req_str_list(obj["reference"], "reference", file, line))
        ref = refs.get(qid)
        yield PromptRow(
            line=line,
            external_id=qid,
            category=category,
            turns=turns,
            references=ref[1] if ref else (),
            metadata=metadata,
        )
    unused = sorted((line, qid) for qid, (line, _turns) in refs.items() if qid not in seen)
    if unused:
        line, qid = unused[0]
        raise ImportFormatError(
            os.fspath(references or ""), line, f"question {qid} is not in {file}", "question_id"
        )


def parse_vicuna80(path: PathLike, *, references: PathLike | None = None) -> Iterator[PromptRow]:
    """Vicuna-80 questions: ``llm_judge/vicuna_bench/question.jsonl`` or ``table/question.jsonl``.

    ``external_id`` is ``str(question_id)``. ``references`` optionally names a FastChat
    reference-answer file (``reference_answer/gpt-4.jsonl``) whose turns fill
    ``PromptRow.references`` for the questions it covers.
    """
    return _questions(path, references, allow_text=True)


def parse_mt_bench(path: PathLike, *, references: PathLike | None = None) -> Iterator[PromptRow]:
    """MT-Bench ``question.jsonl`` (80 two-turn questions).

    ``references`` as for ``parse_vicuna80``: pass ``reference_answer/gpt-4.jsonl`` to get the
    GPT-4 references that MT-Bench's math/reasoning/coding judge prompts use. The human-written
    ``reference`` embedded in 39 questions goes to ``metadata["human_reference"]``.
    """
    return _questions(path, references, allow_text=False)


# --------------------------------------------------------------------------- answers


def _choice_turns(obj: dict[str, Any], file: str, line: int) -> tuple[str, ...]:
    try:
        choices = obj["choices"]
    except KeyError:
        raise missing(file, line, "choices") from None
    if type(choices) is not list:
        raise wrong_type(file, line, "choices", "an array", choices)
    if not choices:
        raise ImportFormatError(file, line, "must hold at least one choice", "choices")
    first = choices[0]
    if type(first) is not dict:
        raise wrong_type(file, line, "choices[0]", "an object", first)
    if "turns" not in first:
        raise missing(file, line, "choices[0].turns")
    return req_str_list(first["turns"], "choices[0].turns", file, line)


def contender_from_answer_file(path: PathLike) -> str:
    """The model name a FastChat answer file's name gives (MT-Bench: "use the file name").

    Strips decoration only: ``answer_`` prefix, ``_answers`` suffix (``vicuna-13b-v1.2_answers``).
    """
    stem = PurePath(os.fspath(path)).name.removesuffix(".jsonl").removesuffix(".json")
    stem = stem.removesuffix("_answers").removesuffix("-answers")
    return model_from_run_name(stem)


def parse_fastchat_answers(path: PathLike, *, contender: str | None = None) -> Iterator[AnswerRow]:
    """FastChat answers, the kind detected per line.

    * llm_judge ``model_answer/<model>.jsonl``: ``question_id``, ``choices[0].turns``, optional
      ``answer_id``, ``model_id``, ``tstamp``. Contender: ``contender`` if given, else the file
      name (MT-Bench's rule: ``model_id`` differs from the file name in three official files).
    * 2023 eval table ``answer_<model>.jsonl``: ``answer_id``, ``model_id``, ``question_id``,
      ``text``, ``metadata``. Contender: ``contender`` if given, else ``model_id``
      (``gpt-3.5-turbo:20230327``), the name the 2023 reviews were made against.
    """
    file = os.fspath(path)
    from_name = contender_from_answer_file(path)
    seen: dict[tuple[str, str], int] = {}
    for line, obj in iter_jsonl(path):
        qid = req_id(obj, "question_id", file, line)
        model_id = opt_str(obj, "model_id", file, line)
        metadata: dict[str, Any] = {}
        if "choices" in obj:
            turns = _choice_turns(obj, file, line)
            answer_id = opt_str(obj, "answer_id", file, line)
            who = contender or from_name
            tstamp = opt_number(obj, "tstamp", file, line)
            if tstamp is not None:
                metadata["tstamp"] = tstamp
        elif "text" in obj:
            turns = (req_str(obj, "text", file, line),)
            answer_id = req_str(obj, "answer_id", file, line, empty=False)
            if model_id is None:
                raise missing(file, line, "model_id")
            who = contender or model_id
            extra = opt_dict(obj, "metadata", file, line)
            if extra:
                metadata["source_metadata"] = extra
        else:
            raise missing(file, line, "choices", "or 'text' in the 2023 eval-table format")
        if model_id is not None:
            metadata["model_id"] = model_id
        if not who.strip():
            raise ImportFormatError(file, line, "the contender name is empty", "model_id")
        key = (who, qid)
        if key in seen:
            raise ImportFormatError(
                file,
                line,
                f"second answer of {who} to question {qid} (first on line {seen[key]})",
                "question_id",
            )
        seen[key] = line
        yield AnswerRow(
            line=line, prompt=qid, contender=who, turns=turns, external_id=answer_id, metadata=metadata
        )


# --------------------------------------------------------------------------- battles

# FastChat's winner vocabulary -> (our winner, the two orders disagreed).
# "tie (inconsistent)" is what MT-Bench's gpt4_pair split writes when GPT-4's two orders
# disagreed; it counts as a tie (FastChat's compute_agreement.py does the same).
_BATTLE_WINNERS: dict[str, tuple[Winner, bool]] = {
    "model_a": ("model_a", False),
    "model_b": ("model_b", False),
    "tie": ("tie", False),
    "tie (bothbad)": ("both_bad", False),
    "tie (inconsistent)": ("tie", True),
}
_BATTLE_WINNER_LIST = ", ".join(_BATTLE_WINNERS)


def _battles(path: PathLike, *, need_question: bool, need_judge: bool) -> Iterator[VerdictRow]:
    file = os.fspath(path)
    winners = _BATTLE_WINNERS
    for line, obj in iter_json_records(path):
        model_a = req_str(obj, "model_a", file, line, empty=False)
        model_b = req_str(obj, "model_b", file, line, empty=False)
        try:
            raw = obj["winner"]
        except KeyError:
            raise missing(file, line, "winner") from None
        try:
            winner, inconsistent = winners[raw]
        except (KeyError, TypeError):
            raise ImportFormatError(
                file, line, f"{raw!r} is not one of {_BATTLE_WINNER_LIST}", "winner"
            ) from None
        qid = obj.get("question_id")
        if qid is not None:
            qid = as_id(qid, "question_id", file, line)
        elif need_question:
            raise missing(file, line, "question_id")
        judge = opt_str(obj, "judge", file, line)
        if judge is None and need_judge:
            raise missing(file, line, "judge")
        yield VerdictRow(
            line=line,
            model_a=model_a,
            model_b=model_b,
            winner=winner,
            prompt=qid,
            turn=opt_turn(obj, "turn", file, line),
            rater=judge,
            tstamp=opt_number(obj, "tstamp", file, line),
            position_known=True,
            metadata={"inconsistent": True} if inconsistent else {},
        )


def parse_fastchat_battles(path: PathLike) -> Iterator[VerdictRow]:
    """FastChat battles: a JSON array (``clean_battle_*.json``) or JSON Lines, detected.

    Fields: ``model_a``, ``model_b``, ``winner`` (``model_a`` | ``model_b`` | ``tie`` |
    ``tie (bothbad)`` | ``tie (inconsistent)``), optional ``question_id``, ``turn`` (default 1),
    ``judge`` (the rater), ``tstamp``; other fields are ignored. ``model_a`` is the model shown
    on the left, so ``position_known`` is true.
    """
    return _battles(path, need_question=False, need_judge=False)


def parse_mtbench_human(path: PathLike) -> Iterator[VerdictRow]:
    """MT-Bench human judgments (``human_judgments/*.jsonl``).

    The battle schema with ``question_id`` and ``judge`` (expert/author id) required; ``turn``
    is absent from the turn-1 file and defaults to 1.
    """
    return _battles(path, need_question=True, need_judge=True)


# FastChat's gen_judgment.py maps the judge's A/B to the model fields in each game:
# game 1 shows model_1 as A, game 2 shows model_2 as A, and both g1_winner and g2_winner are
# written as "model_1"/"model_2" (fastchat/llm_judge/common.py, play_a_match_pair).
_PAIR_ORDER_1 = {"model_1": "model_a", "model_2": "model_b", "tie": "tie", "error": None}
_PAIR_ORDER_2 = {"model_1": "model_b", "model_2": "model_a", "tie": "tie", "error": None}


def _pair_winner(obj: dict[str, Any], key: str, table: dict[str, Any], file: str, line: int) -> Any:
    try:
        raw = obj[key]
    except KeyError:
        raise missing(file, line, key) from None
    try:
        return table[raw]
    except (KeyError, TypeError):
        raise ImportFormatError(
            file, line, f"{raw!r} is not one of model_1, model_2, tie, error", key
        ) from None


def parse_mtbench_pair(path: PathLike) -> Iterator[VerdictRow]:
    """FastChat ``gen_judgment.py`` pairwise output (``model_judgment/gpt-4_pair.jsonl``).

    One line is one judgment made in both orders, so it yields two rows sharing the line:
    order 1 shows ``model_1`` first (``model_a=model_1``, ``g1_winner``, ``judged_order=1``)
    and order 2 shows ``model_2`` first (``model_a=model_2``, ``g2_winner``, ``judged_order=2``).
    ``error`` (FastChat could not find ``[[A]]``/``[[B]]``/``[[C]]``) becomes winner ``None``.
    ``judge`` is ``[judge_model, prompt_name]``: the model is the rater, the prompt goes to
    metadata.
    """
    file = os.fspath(path)
    for line, obj in iter_jsonl(path):
        qid = req_id(obj, "question_id", file, line)
        model_1 = req_str(obj, "model_1", file, line, empty=False)
        model_2 = req_str(obj, "model_2", file, line, empty=False)
        winner_1 = _pair_winner(obj, "g1_winner", _PAIR_ORDER_1, file, line)
        winner_2 = _pair_winner(obj, "g2_winner", _PAIR_ORDER_2, file, line)
        rater, prompt_name = _judge_field(obj, file, line)
        judgment_1 = req_str(obj, "g1_judgment", file, line)
        judgment_2 = req_str(obj, "g2_judgment", file, line)
        turn = opt_turn(obj, "turn", file, line)
        tstamp = opt_number(obj, "tstamp", file, line)
        metadata = {"judge_prompt": prompt_name} if prompt_name else {}
        for order, (a, b, winner, output) in enumerate(
            ((model_1, model_2, winner_1, judgment_1), (model_2, model_1, winner_2, judgment_2)), 1
        ):
            yield VerdictRow(
                line=line,
                model_a=a,
                model_b=b,
                winner=winner,
                prompt=qid,
                turn=turn,
                rater=rater,
                tstamp=tstamp,
                position_known=True,
                judged_order=order,
                raw_output=output,
                metadata=dict(metadata),
            )


def _judge_field(obj: dict[str, Any], file: str, line: int) -> tuple[str, str | None]:
    """FastChat's ``judge``: ``[judge_model, prompt_name]`` (or a bare model name)."""
    judge = obj.get("judge")
    if judge is None:
        raise missing(file, line, "judge")
    if type(judge) is str:
        return judge, None
    if type(judge) is list and judge and all(type(j) is str for j in judge):
        return judge[0], (judge[1] if len(judge) > 1 else None)
    raise wrong_type(file, line, "judge", "[judge_model, prompt_name]", judge)


def parse_fastchat_single_judgments(path: PathLike) -> Iterator[ScoreRow]:
    """FastChat ``gen_judgment.py --mode single`` output (``model_judgment/gpt-4_single.jsonl``).

    Fields ``question_id, model, judge, score, turn`` (plus ``judgment``, ``tstamp``). A score of
    -1 is FastChat's "no rating found": yielded as ``score=None`` (unparsed, left out of the
    means as ``show_result.py`` does). Other scores must lie in 1-10.
    """
    file = os.fspath(path)
    seen: dict[tuple[str, str, int], int] = {}
    for line, obj in iter_jsonl(path):
        qid = req_id(obj, "question_id", file, line)
        model = req_str(obj, "model", file, line, empty=False)
        rater, prompt_name = _judge_field(obj, file, line)
        turn = opt_turn(obj, "turn", file, line)
        score = opt_number(obj, "score", file, line)
        if score is None:
            raise missing(file, line, "score")
        if score == -1:
            value: float | None = None
        elif 1.0 <= score <= 10.0:
            value = score
        else:
            raise ImportFormatError(
                file, line, f"{score:g} is not -1 (unparsed) or a rating in 1-10", "score"
            )
        key = (qid, model, turn)
        if key in seen:
            raise ImportFormatError(
                file,
                line,
                f"a second score for {model!r} on question {qid} turn {turn} (first on line {seen[key]})",
                "question_id",
            )
        seen[key] = line
        judgment = opt_str(obj, "judgment", file, line)
        yield ScoreRow(
            line=line,
            model=model,
            prompt=qid,
            turn=turn,
            score=value,
            rater=rater,
            tstamp=opt_number(obj, "tstamp", file, line),
            raw_output=judgment,
            metadata={"judge_prompt": prompt_name} if prompt_name else {},
        )


# --------------------------------------------------------------------------- 2023 reviews


def review_scores(obj: dict[str, Any], file: str, line: int) -> tuple[float, float] | None:
    """``score`` = [Assistant 1, Assistant 2]; ``[-1, -1]`` is FastChat's "could not parse"."""
    try:
        score = obj["score"]
    except KeyError:
        raise missing(file, line, "score") from None
    if type(score) is not list or len(score) != 2:
        raise wrong_type(file, line, "score", "[score_1, score_2]", score)
    for i, s in enumerate(score):
        if type(s) not in (int, float) or s != s:  # s != s: NaN
            raise wrong_type(file, line, f"score[{i}]", "a number", s)
        if s < 0 and s != -1:
            raise ImportFormatError(
                file, line, f"must be 0 or more (or -1 for unparsable), got {s}", f"score[{i}]"
            )
    if score[0] == -1 or score[1] == -1:
        return None
    return float(score[0]), float(score[1])


def parse_fastchat_review(path: PathLike, *, rater: str = "gpt-4") -> Iterator[VerdictRow]:
    """Vicuna-80 GPT-4 reviews (FastChat 2023 ``table/review/**/review_*.jsonl``).

    The reviews name answers, not models: ``answer_a``/``answer_b`` are ``answer1_id``
    (shown first as "Assistant 1") and ``answer2_id``; the service resolves them through the
    imported answers. The higher score wins, equal scores are a tie (the 2023 table had no tie
    label), ``-1`` scores give winner ``None``. Also reads QLoRA's ``relative-gpt-3.5`` files,
    which share the schema.
    """
    file = os.fspath(path)
    for line, obj in iter_jsonl(path):
        qid = req_id(obj, "question_id", file, line)
        answer_a = req_str(obj, "answer1_id", file, line, empty=False)
        answer_b = req_str(obj, "answer2_id", file, line, empty=False)
        scores = review_scores(obj, file, line)
        text = req_str(obj, "text", file, line)
        metadata: dict[str, Any] = {"scores": obj["score"]}
        reviewer = obj.get("reviewer_id")
        if reviewer is not None:
            metadata["reviewer_id"] = as_id(reviewer, "reviewer_id", file, line)
        review_id = opt_str(obj, "review_id", file, line)
        if review_id is not None:
            metadata["review_id"] = review_id
        winner: Winner | None
        if scores is None:
            winner = None
        elif scores[0] > scores[1]:
            winner = "model_a"
        elif scores[0] < scores[1]:
            winner = "model_b"
        else:
            winner = "tie"
        yield VerdictRow(
            line=line,
            model_a=None,
            model_b=None,
            winner=winner,
            prompt=qid,
            rater=rater,
            position_known=True,
            answer_a=answer_a,
            answer_b=answer_b,
            raw_output=text,
            metadata=metadata,
        )


# --------------------------------------------------------------------------- writer

_WRITE_WINNERS = {
    "model_a": "model_a",
    "model_b": "model_b",
    "tie": "tie",
    "both_bad": "tie (bothbad)",
    "tie (bothbad)": "tie (bothbad)",
    "tie (inconsistent)": "tie (inconsistent)",
}


def _battle_record(record: Mapping[str, Any] | VerdictRow) -> dict[str, Any]:
    rec: Mapping[str, Any]
    if isinstance(record, VerdictRow):
        rec = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    else:
        rec = record
    model_a, model_b, winner = rec.get("model_a"), rec.get("model_b"), rec.get("winner")
    if not isinstance(model_a, str) or not isinstance(model_b, str):
        raise ValueError(
            f"a FastChat battle needs model_a and model_b names, got {model_a!r} and {model_b!r}"
        )
    if winner not in _WRITE_WINNERS:
        raise ValueError(f"winner {winner!r} cannot be written as a FastChat battle")
    fastchat_winner = _WRITE_WINNERS[winner]
    metadata = rec.get("metadata") or {}
    if fastchat_winner == "tie" and metadata.get("inconsistent"):
        fastchat_winner = "tie (inconsistent)"
    out: dict[str, Any] = {"model_a": model_a, "model_b": model_b, "winner": fastchat_winner}
    question = rec.get("question_id", rec.get("prompt"))
    if question is not None:
        # FastChat's own files use int question ids; keep that when the id is a plain number.
        if isinstance(question, str) and question.isdigit() and str(int(question)) == question:
            question = int(question)
        out["question_id"] = question
    for key, value in (
        ("turn", rec.get("turn")),
        ("judge", rec.get("judge", rec.get("rater"))),
        ("tstamp", rec.get("tstamp")),
    ):
        if value is not None:
            out[key] = value
    return out


def write_fastchat_battles(
    records: Iterable[Mapping[str, Any] | VerdictRow], fp: IO[str], *, jsonl: bool
) -> int:
    """Write verdicts in FastChat's battle format; returns the number written.

    Each record is a mapping (or a ``VerdictRow``) with ``model_a``, ``model_b``, ``winner``
    (ours, ``both_bad``, or FastChat's spelling) and optional ``question_id``/``prompt``,
    ``turn``, ``judge``/``rater``, ``tstamp``; ``metadata["inconsistent"]`` on a tie writes
    ``tie (inconsistent)``. ``None`` optional fields are left out. With ``jsonl`` false a JSON
    array is written, one record per line starting on line 1, so the record numbers that
    ``parse_fastchat_battles`` reports match either way. A verdict FastChat cannot express
    (winner ``None``, no model names) raises ``ValueError``; ``position_known`` is not carried
    (FastChat's model_a is always the one shown first).
    """
    count = 0
    for record in records:
        text = json.dumps(_battle_record(record))
        if jsonl:
            fp.write(text + "\n")
        else:
            fp.write(("[" if count == 0 else ",\n") + text)
        count += 1
    if not jsonl:
        fp.write("[]\n" if count == 0 else "]\n")
    return count
