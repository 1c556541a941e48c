"""Model and judge names that some sources keep only in their file names.

PRD and QLoRA store a pairwise run as ``<A>-vs-<B>-<judge>-reviewer[-_]threeclass.jsonl``
(PRD: ``answer_gpt35-vs-answer_gpt4-claude-reviewer_threeclass``; QLoRA:
``65b-guanaco-vicuna-generations-topp0.9-temp0.7-vs-answer-gpt35-gpt-4-reviewer-threeclass``).
The rule is PRD's PROVENANCE rule: A is the text between ``answer_``/``answer-`` and ``-vs-``,
B the text between ``-vs-answer_``/``-vs-answer-``/``-vs-`` and ``-<judge>-reviewer``.
Names keep the file's spelling (``gpt35``); the import service resolves aliases.
"""

from __future__ import annotations

import os
import re
from pathlib import PurePath
from typing import NamedTuple

from arena.imports.rows import ImportFormatError

# QLoRA names a generation run "<size>-<dataset>-vicuna-generations-topp0.9-temp0.7[-extra]";
# the model is "<size>-<dataset>" and anything after the sampling settings ("-secondround")
# is a different run, so it stays in the name.
_QLORA_RUN = re.compile(r"^(?P<model>.+?)-vicuna-generations(?:-topp[0-9.]+)?(?:-temp[0-9.]+)?(?P<extra>.*)$")

# Judges seen in PRD and QLoRA file names. A judge name may contain hyphens ("vicuna-13b"), so
# the file name alone is ambiguous: the folder ("ratings-<judge>", PRD's layout) is tried first,
# then this list.
KNOWN_JUDGES: tuple[str, ...] = (
    "gpt-3.5-turbo",
    "vicuna-13b",
    "claude",
    "gpt-4",
    "gpt35",
    "human",
    "gpt4",
    "bard",
)


class PairName(NamedTuple):
    model_a: str
    model_b: str
    judge: str


def model_from_run_name(name: str) -> str:
    """``answer_gpt35`` -> ``gpt35``; ``65b-guanaco-vicuna-generations-topp0.9-temp0.7`` -> ``65b-guanaco``."""
    for prefix in ("answer_", "answer-"):
        if name.startswith(prefix) and len(name) > len(prefix):
            name = name[len(prefix) :]
            break
    match = _QLORA_RUN.match(name)
    if match:
        name = match["model"] + match["extra"]
    return name


def pair_from_filename(path: str | os.PathLike[str]) -> PairName:
    """Split a PRD/QLoRA rating file name into (model A, model B, judge).

    Raises ``ImportFormatError`` (line ``None``) when the name does not follow the pattern;
    the caller can then pass the names explicitly.
    """
    file = os.fspath(path)
    pure = PurePath(file)
    stem = pure.name.removesuffix(".jsonl").removesuffix(".json")
    for suffix in ("-threeclass", "_threeclass"):
        stem = stem.removesuffix(suffix)
    if not stem.endswith("-reviewer"):
        raise _bad_name(file, "it does not end with '-<judge>-reviewer[_threeclass].jsonl'")
    stem = stem.removesuffix("-reviewer")
    parts = stem.split("-vs-")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise _bad_name(file, "it does not contain exactly one '-vs-'")
    left, right = parts
    judge = _judge_suffix(right, pure.parent.name)
    if judge is None:
        raise _bad_name(file, "the judge after the second model is not recognised")
    right = right[: -len(judge) - 1]
    model_a, model_b = model_from_run_name(left), model_from_run_name(right)
    if not model_a or not model_b:
        raise _bad_name(file, "a model name is empty")
    return PairName(model_a, model_b, judge)


def _judge_suffix(right: str, folder: str) -> str | None:
    candidates = []
    if folder.startswith("ratings-") and len(folder) > len("ratings-"):
        candidates.append(folder[len("ratings-") :])
    candidates.extend(KNOWN_JUDGES)
    for judge in candidates:
        if right.endswith("-" + judge) and len(right) > len(judge) + 1:
            return judge
    return None


def _bad_name(file: str, why: str) -> ImportFormatError:
    return ImportFormatError(
        file,
        None,
        f"cannot read the model names from the file name: {why}; expected "
        "'answer_<A>-vs-answer_<B>-<judge>-reviewer_threeclass.jsonl', or pass model_a, model_b and rater",
        "file name",
    )
