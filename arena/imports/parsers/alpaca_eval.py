"""AlpacaEval (tatsu-lab/alpaca_eval) ``model_outputs.json`` and ``annotations.json``.

Both are one JSON array per file. AlpacaEval has no prompt ids: rows name the prompt by its
``instruction`` text, which the service matches against the prompt set.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from typing import Any

from arena.imports.parsers._base import PathLike, iter_json_array, missing, opt_str, req_str, wrong_type
from arena.imports.rows import AnswerRow, ImportFormatError, VerdictRow, Winner


def parse_alpaca_eval_answers(path: PathLike, *, contender: str | None = None) -> Iterator[AnswerRow]:
    """``results/<model>/model_outputs.json``: ``instruction``, ``output``, ``generator``, ``dataset``.

    ``prompt`` is ``None`` and ``prompt_text`` the instruction. Contender: ``contender`` if
    given, else ``generator``. ``metadata`` holds ``dataset`` (AlpacaEval's source subset).
    """
    file = os.fspath(path)
    seen: dict[str, int] = {}
    for line, obj in iter_json_array(path):
        instruction = req_str(obj, "instruction", file, line, empty=False)
        output = req_str(obj, "output", file, line)
        generator = opt_str(obj, "generator", file, line)
        dataset = opt_str(obj, "dataset", file, line)
        who = contender or generator
        if not who:
            raise missing(file, line, "generator", "or pass the contender")
        if instruction in seen:
            raise ImportFormatError(
                file,
                line,
                f"second output for the same instruction (first on line {seen[instruction]})",
                "instruction",
            )
        seen[instruction] = line
        metadata: dict[str, Any] = {}
        if dataset is not None:
            metadata["dataset"] = dataset
        if contender and generator and generator != contender:
            metadata["generator"] = generator
        yield AnswerRow(
            line=line, prompt=None, contender=who, turns=(output,), prompt_text=instruction, metadata=metadata
        )


def preference_winner(value: Any, file: str, line: int) -> Winner | None:
    """AlpacaEval ``preference`` -> winner, the discretisation of AlpacaEval's discrete win rate.

    1 = ``output_1`` preferred, 2 = ``output_2``; 0 is the legacy draw code and exactly 1.5 a
    draw. A weighted annotator writes 1 + P(output_2 better) in (1, 2): above 1.5 counts as a
    win for ``output_2``, below as a win for ``output_1`` (``discrete_win_rate`` on the
    leaderboards). ``null``/NaN is an annotation AlpacaEval could not parse: ``None``.
    """
    if value is None:
        return None
    if type(value) not in (int, float):
        raise wrong_type(file, line, "preference", "a number", value)
    if math.isnan(value):
        return None
    if value == 0 or value == 1.5:
        return "tie"
    if value == 1:
        return "model_a"
    if value == 2:
        return "model_b"
    if 1 < value < 2:
        return "model_b" if value > 1.5 else "model_a"
    raise ImportFormatError(file, line, f"{value} is not 0 or in [1, 2]", "preference")


def parse_alpaca_eval_annotations(path: PathLike) -> Iterator[VerdictRow]:
    """``results/<model>/<annotator>/annotations.json``: ``generator_1`` vs ``generator_2``.

    ``preference`` as in ``preference_winner``; ``metadata`` keeps the raw value and the two
    outputs' lengths in characters (``length_a``/``length_b``, what AlpacaEval's length-controlled
    win rate reads) when the file carries the outputs.
    AlpacaEval shows the two outputs in a random order and maps the preference back to the
    stored columns without storing the switch, so ``position_known`` is false.
    ``rater`` is ``annotator``; ``prompt_text`` the instruction.
    """
    file = os.fspath(path)
    for line, obj in iter_json_array(path):
        instruction = req_str(obj, "instruction", file, line, empty=False)
        model_a = req_str(obj, "generator_1", file, line, empty=False)
        model_b = req_str(obj, "generator_2", file, line, empty=False)
        if "preference" not in obj:
            raise missing(file, line, "preference")
        preference = obj["preference"]
        winner = preference_winner(preference, file, line)
        annotator = opt_str(obj, "annotator", file, line)
        dataset = opt_str(obj, "dataset", file, line)
        metadata: dict[str, Any] = {"preference": preference}
        for side, key in (("length_a", "output_1"), ("length_b", "output_2")):
            output = opt_str(obj, key, file, line)
            if output is not None:
                metadata[side] = len(output)
        if dataset is not None:
            metadata["dataset"] = dataset
        yield VerdictRow(
            line=line,
            model_a=model_a,
            model_b=model_b,
            winner=winner,
            prompt_text=instruction,
            rater=annotator,
            position_known=False,
            metadata=metadata,
        )
