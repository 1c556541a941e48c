"""Self-Instruct (yizhongw/self-instruct) user-oriented evaluation set and its predictions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import PurePath

from arena.imports.parsers._base import PathLike, iter_jsonl, missing, opt_str, req_str, wrong_type
from arena.imports.rows import AnswerRow, ImportFormatError, PromptRow


def merge_instruction(instruction: str, instance_input: str) -> str:
    """One prompt from Self-Instruct's instruction and input, exactly as AlpacaEval merges them.

    With this rule all 252 tasks equal an AlpacaEval ``selfinstruct`` instruction string.
    """
    return instruction.strip() + ("\n\n" + instance_input if instance_input else "")


def parse_user_oriented_252(path: PathLike) -> Iterator[PromptRow]:
    """``user_oriented_instructions.jsonl``: ``id``, ``motivation_app``, ``instruction``, ``instances``.

    ``external_id`` is ``id``; ``category`` the motivating app; one turn (``merge_instruction``);
    the human-written ``instances[0].output`` is the reference. ``metadata`` keeps the app, the
    raw instruction and the input.
    """
    file = os.fspath(path)
    seen: dict[str, int] = {}
    for line, obj in iter_jsonl(path):
        task_id = req_str(obj, "id", file, line, empty=False)
        if task_id in seen:
            raise ImportFormatError(
                file, line, f"duplicate id {task_id} (first on line {seen[task_id]})", "id"
            )
        seen[task_id] = line
        app = req_str(obj, "motivation_app", file, line, empty=False)
        instruction = req_str(obj, "instruction", file, line, empty=False)
        instances = obj.get("instances")
        if type(instances) is not list or not instances:
            raise wrong_type(file, line, "instances", "a non-empty array", instances)
        first = instances[0]
        if type(first) is not dict:
            raise wrong_type(file, line, "instances[0]", "an object", first)
        for key in ("input", "output"):
            if key not in first:
                raise missing(file, line, f"instances[0].{key}")
            if type(first[key]) is not str:
                raise wrong_type(file, line, f"instances[0].{key}", "a string", first[key])
        instance_input, output = first["input"], first["output"]
        yield PromptRow(
            line=line,
            external_id=task_id,
            category=app,
            turns=(merge_instruction(instruction, instance_input),),
            references=(output,),
            metadata={"motivation_app": app, "instruction": instruction, "input": instance_input},
        )


def parse_self_instruct_answers(path: PathLike, *, contender: str | None = None) -> Iterator[AnswerRow]:
    """``predictions/<model>_predictions.jsonl``: ``instruction``, ``input``, ``response``, ...

    The files have no id: record *i* answers ``user_oriented_task_<i-1>`` (the authors' order,
    checked for all 8 x 252 rows). The turn is ``response`` stripped: the raw GPT-3 completions
    start with the space or blank lines that followed the prompt's "Output:", which is prompt
    formatting, not answer. Contender: ``contender`` if given, else the file name without
    ``_predictions``.
    """
    file = os.fspath(path)
    who = contender or PurePath(file).name.removesuffix(".jsonl").removesuffix("_predictions")
    for index, (line, obj) in enumerate(iter_jsonl(path)):
        req_str(obj, "instruction", file, line, empty=False)
        opt_str(obj, "input", file, line)
        response = req_str(obj, "response", file, line)
        yield AnswerRow(
            line=line,
            prompt=f"user_oriented_task_{index}",
            contender=who,
            turns=(response.strip(),),
        )
