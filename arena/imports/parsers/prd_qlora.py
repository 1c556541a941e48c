"""QLoRA (artidoro/qlora) and PRD (bcdnlp/PRD) Vicuna-80 files.

* QLoRA generations ``<size>-<dataset>-vicuna-generations-topp0.9-temp0.7.jsonl``: answers.
* Three-class LLM-judge ratings (PRD ``ratings-<judge>/``, QLoRA ``ratings-gpt4/vicuna/pairwise/``):
  verdicts whose model names and judge live in the file name (see ``filenames``).
* PRD crowd votes (``ratings-human/``): one vote per line, models from the file name.

QLoRA's baseline answer files (``answer_*.jsonl``) are FastChat eval-table files: use the
``fastchat`` answer format for them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

from arena.imports.parsers._base import (
    PathLike,
    iter_jsonl,
    missing,
    opt_str,
    req_id,
    req_str,
    wrong_type,
)
from arena.imports.parsers.filenames import model_from_run_name, pair_from_filename
from arena.imports.rows import AnswerRow, ImportFormatError, VerdictRow

_SHORTUUID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
# QLoRA's eval_gpt_review.py cuts this off the judged text before hashing it.
_QLORA_SYSTEM_PROMPT = "A chat between a curious human and an artificial intelligence"


def qlora_answer_id(judged_text: str) -> str:
    """The answer id QLoRA's ratings use for a generation: ``shortuuid.uuid(text)``.

    QLoRA's ``eval_gpt_review.py`` names an answer by the name-based shortuuid (UUID v5 in the
    DNS namespace, base-57, 22 characters, most significant digit first) of the judged text cut
    before any echoed system prompt. Reimplemented here (20 lines) rather than adding the
    ``shortuuid`` dependency; checked against all 4,480 pairwise rows.
    """
    name = judged_text.split(_QLORA_SYSTEM_PROMPT)[0]
    namespace = uuid.NAMESPACE_URL if name.lower().startswith(("http://", "https://")) else uuid.NAMESPACE_DNS
    number = uuid.uuid5(namespace, name).int
    digits = []
    while number:
        number, digit = divmod(number, 57)
        digits.append(_SHORTUUID_ALPHABET[digit])
    digits.extend(_SHORTUUID_ALPHABET[0] * (22 - len(digits)))
    return "".join(reversed(digits))


def parse_qlora_answers(path: PathLike, *, contender: str | None = None) -> Iterator[AnswerRow]:
    """QLoRA generations: ``question_id``, ``generation_truncated`` (the text GPT-4 judged).

    Contender: ``contender`` if given, else the file name without QLoRA's run decoration
    (``65b-guanaco-vicuna-generations-topp0.9-temp0.7`` -> ``65b-guanaco``), the same name the
    rating files give so answers and verdicts meet. ``external_id`` is the id the ratings use
    (``qlora_answer_id``), so the service can cross-check ``answer_a``/``answer_b``.
    """
    file = os.fspath(path)
    who = contender or model_from_run_name(PurePath(file).name.removesuffix(".jsonl"))
    seen: dict[str, int] = {}
    for line, obj in iter_jsonl(path):
        qid = req_id(obj, "question_id", file, line)
        text = req_str(obj, "generation_truncated", file, line)
        generation = opt_str(obj, "generation", file, line)
        opt_str(obj, "text", file, line)  # the question; only checked, the prompt set holds it
        if qid in seen:
            raise ImportFormatError(
                file, line, f"second answer to question {qid} (first on line {seen[qid]})", "question_id"
            )
        seen[qid] = line
        metadata: dict[str, Any] = {}
        if generation is not None and generation != text:
            # The raw generation ran on into invented "### Human:" turns; the judge saw the cut.
            metadata["truncated"] = True
        yield AnswerRow(
            line=line,
            prompt=qid,
            contender=who,
            turns=(text,),
            external_id=qlora_answer_id(text),
            metadata=metadata,
        )


def _pair_names(
    path: PathLike, model_a: str | None, model_b: str | None, rater: str | None
) -> tuple[str, str, str | None]:
    if model_a and model_b and rater:
        return model_a, model_b, rater
    name = pair_from_filename(path)
    return model_a or name.model_a, model_b or name.model_b, rater or name.judge


def _three_class(obj: dict[str, Any], file: str, line: int, allowed: dict[Any, Any]) -> Any:
    try:
        score = obj["score"]
    except KeyError:
        raise missing(file, line, "score") from None
    if type(score) is not int:
        raise wrong_type(file, line, "score", "an integer " + "/".join(str(k) for k in allowed), score)
    try:
        return allowed[score]
    except KeyError:
        raise ImportFormatError(
            file, line, f"{score} is not one of " + ", ".join(str(k) for k in allowed), "score"
        ) from None


# 1 = Assistant 1 (first shown, model A) better, 2 = Assistant 2, 3 = equivalent;
# -1 = the generating script could not parse the judge's output.
_THREECLASS = {1: "model_a", 2: "model_b", 3: "tie", -1: None}
_HUMAN = {1: "model_a", 2: "model_b", 3: "tie"}


def parse_threeclass(
    path: PathLike,
    *,
    model_a: str | None = None,
    model_b: str | None = None,
    rater: str | None = None,
) -> Iterator[VerdictRow]:
    """Three-class LLM-judge ratings (PRD ``ratings-<judge>/*.jsonl``, QLoRA ``pairwise/*.jsonl``).

    Fields: ``question_id``, ``answer1_id`` (shown first), ``answer2_id``, ``score`` (1 first
    better, 2 second, 3 tie, -1 unparsable -> winner ``None``), ``text`` (the judge output),
    optional ``reviewer_id``/``review_id`` (metadata). Model names and the judge (the rater)
    come from the file name unless ``model_a``/``model_b``/``rater`` are given. The answer ids
    are passed on for the service to cross-check.
    """
    file = os.fspath(path)
    name_a, name_b, judge = _pair_names(path, model_a, model_b, rater)
    for line, obj in iter_jsonl(path):
        qid = req_id(obj, "question_id", file, line)
        answer_a = req_str(obj, "answer1_id", file, line, empty=False)
        answer_b = req_str(obj, "answer2_id", file, line, empty=False)
        winner = _three_class(obj, file, line, _THREECLASS)
        text = req_str(obj, "text", file, line)
        metadata: dict[str, Any] = {}
        reviewer = obj.get("reviewer_id")
        if reviewer is not None:
            if type(reviewer) not in (int, str):
                raise wrong_type(file, line, "reviewer_id", "an integer or string", reviewer)
            metadata["reviewer_id"] = str(reviewer)
        review_id = opt_str(obj, "review_id", file, line)
        if review_id is not None:
            metadata["review_id"] = review_id
        yield VerdictRow(
            line=line,
            model_a=name_a,
            model_b=name_b,
            winner=winner,
            prompt=qid,
            rater=judge,
            position_known=True,
            answer_a=answer_a,
            answer_b=answer_b,
            raw_output=text,
            metadata=metadata,
        )


def parse_prd_human(
    path: PathLike, *, model_a: str | None = None, model_b: str | None = None
) -> Iterator[VerdictRow]:
    """PRD crowd votes (``ratings-human/*.jsonl``): one line is one annotator's vote.

    Fields: ``question_id``, ``text`` (the question, kept as ``prompt_text``), ``score`` 1 (A,
    shown first as "Response A", better) | 2 (B better) | 3 (tie). Models from the file name
    unless given. The files carry no annotator ids, so ``rater`` is ``None``.
    """
    file = os.fspath(path)
    name_a, name_b, _judge = _pair_names(path, model_a, model_b, "human")
    for line, obj in iter_jsonl(path):
        qid = req_id(obj, "question_id", file, line)
        question = req_str(obj, "text", file, line)
        winner = _three_class(obj, file, line, _HUMAN)
        yield VerdictRow(
            line=line,
            model_a=name_a,
            model_b=name_b,
            winner=winner,
            prompt=qid,
            prompt_text=question,
            rater=None,
            position_known=True,
        )
