"""Format parsers: read a file, validate every field, yield rows (``arena.imports.rows``).

Pure: no Django. One importer pipeline serves every format: a parser here yields rows and the
import service writes them. A parser is a generator function ``parse_x(path, **options)``;
on the first problem it raises ``ImportFormatError`` naming the file, the line and the field.
Pick one by kind and format name with ``parse``; the registries below list the names.

Answer parsers take ``contender`` (overrides the name the file gives). Other options:
``references`` (prompt parsers: a FastChat reference-answer file), ``model_a``/``model_b``/
``rater`` (rating files whose names do not follow the PRD/QLoRA pattern), ``rater``
(``fastchat_review``, default ``gpt-4``).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterator
from typing import Any

from arena.imports.parsers.alpaca_eval import parse_alpaca_eval_annotations, parse_alpaca_eval_answers
from arena.imports.parsers.fastchat import (
    parse_fastchat_answers,
    parse_fastchat_battles,
    parse_fastchat_review,
    parse_fastchat_single_judgments,
    parse_mt_bench,
    parse_mtbench_human,
    parse_mtbench_pair,
    parse_reference_answers,
    parse_vicuna80,
    write_fastchat_battles,
)
from arena.imports.parsers.generic import (
    parse_csv_answers,
    parse_csv_verdicts,
    parse_jsonl_answers,
    parse_jsonl_verdicts,
)
from arena.imports.parsers.prd_qlora import parse_prd_human, parse_qlora_answers, parse_threeclass
from arena.imports.parsers.prompt_sets import (
    parse_alpaca_eval_prompts,
    parse_arena_hard_prompts,
    parse_csv_prompts,
    parse_fastchat_prompts,
    parse_jsonl_prompts,
)
from arena.imports.parsers.self_instruct import parse_self_instruct_answers, parse_user_oriented_252
from arena.imports.rows import AnswerRow, ImportFormatError, PromptRow, ScoreRow, VerdictRow

Row = PromptRow | AnswerRow | VerdictRow | ScoreRow
Parser = Callable[..., Iterator[Any]]

PROMPT_FORMATS: dict[str, Parser] = {
    "vicuna80": parse_vicuna80,
    "mt_bench": parse_mt_bench,
    "user_oriented_252": parse_user_oriented_252,
}

# The formats ``import_prompt_set`` reads (custom sets; the bundled ones above are read by
# ``load_prompt_sets``).
CUSTOM_PROMPT_FORMATS: dict[str, Parser] = {
    "fastchat": parse_fastchat_prompts,
    "arena_hard": parse_arena_hard_prompts,
    "alpaca_eval": parse_alpaca_eval_prompts,
    "jsonl": parse_jsonl_prompts,
    "csv": parse_csv_prompts,
}

ANSWER_FORMATS: dict[str, Parser] = {
    "fastchat": parse_fastchat_answers,
    "qlora": parse_qlora_answers,
    "self_instruct": parse_self_instruct_answers,
    "alpaca_eval": parse_alpaca_eval_answers,
    "jsonl": parse_jsonl_answers,
    "csv": parse_csv_answers,
}

VERDICT_FORMATS: dict[str, Parser] = {
    "fastchat": parse_fastchat_battles,
    "mtbench_human": parse_mtbench_human,
    "mtbench_pair": parse_mtbench_pair,
    "fastchat_review": parse_fastchat_review,
    "threeclass": parse_threeclass,
    "prd_human": parse_prd_human,
    "alpaca_eval": parse_alpaca_eval_annotations,
    "jsonl": parse_jsonl_verdicts,
    "csv": parse_csv_verdicts,
}

SCORE_FORMATS: dict[str, Parser] = {
    "fastchat_single": parse_fastchat_single_judgments,
}

FORMATS: dict[str, dict[str, Parser]] = {
    "prompts": PROMPT_FORMATS,
    "answers": ANSWER_FORMATS,
    "verdicts": VERDICT_FORMATS,
    "scores": SCORE_FORMATS,
    "prompt_sets": CUSTOM_PROMPT_FORMATS,
}


def parser_options(parser: Parser) -> tuple[str, ...]:
    """The keyword options a parser accepts (for forms and ``--help`` texts)."""
    return tuple(
        name
        for name, p in inspect.signature(parser).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    )


def parse(kind: str, fmt: str, path: str | os.PathLike[str], **opts: Any) -> Iterator[Row]:
    """Parse ``path`` as format ``fmt`` of ``kind`` (``prompts`` | ``answers`` | ``verdicts`` | ``scores``).

    An unknown kind, format or option raises ``ImportFormatError`` (line ``None``) listing the
    known ones. An option given as ``None`` counts as not given, so a caller can pass e.g.
    ``contender=None`` to every format.
    """
    file = os.fspath(path)
    registry = FORMATS.get(kind)
    if registry is None:
        raise ImportFormatError(file, None, f"unknown kind {kind!r}; known kinds: {', '.join(FORMATS)}")
    parser = registry.get(fmt)
    if parser is None:
        raise ImportFormatError(
            file, None, f"unknown {kind} format {fmt!r}; known {kind} formats: {', '.join(sorted(registry))}"
        )
    accepted = parser_options(parser)
    given = {k: v for k, v in opts.items() if v is not None}
    unknown = sorted(set(given) - set(accepted))
    if unknown:
        known = ", ".join(accepted) if accepted else "none"
        raise ImportFormatError(
            file,
            None,
            f"the {kind} format {fmt!r} takes no option {', '.join(unknown)}; its options: {known}",
        )
    return parser(path, **given)


__all__ = [
    "ANSWER_FORMATS",
    "CUSTOM_PROMPT_FORMATS",
    "FORMATS",
    "PROMPT_FORMATS",
    "SCORE_FORMATS",
    "VERDICT_FORMATS",
    "Parser",
    "Row",
    "parse",
    "parse_reference_answers",
    "parser_options",
    "write_fastchat_battles",
]
