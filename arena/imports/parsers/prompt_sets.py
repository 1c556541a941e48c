"""Custom prompt sets, in the formats the field's evaluation kits use (``import_prompt_set``).

* ``fastchat``: FastChat ``llm_judge/data/<bench>/question.jsonl``: ``question_id``, ``category``,
  ``turns`` (multi-turn kept; the 2023 ``text`` is accepted for one turn), optional ``reference``
  (the answers' references, one per turn; used as ``references`` unless a reference file is
  given, and kept as ``metadata["human_reference"]`` like the bundled MT-Bench).
* ``arena_hard``: Arena-Hard-Auto ``question.jsonl``: ``uid`` (v2) or ``question_id`` (v0.1),
  ``category``, optional ``cluster`` (kept in metadata), and ``turns`` as ``[{"content": ...}]``
  or ``prompt`` (v2).
* ``alpaca_eval``: an AlpacaEval evaluation set (one JSON array, or JSON Lines): ``instruction``,
  ``dataset`` as the category; AlpacaEval has no ids, so the id is the 1-based record number
  (re-importing a changed file therefore matches prompts by position).
* ``jsonl``: ``prompt_id`` (synonym ``question_id``), optional ``category``, ``turns`` (array) or
  ``turn_1`` ... ``turn_n`` or ``prompt``; optional ``reference`` (string or one per turn).
* ``csv``: a header row, then the same names as columns (``turn_1`` ... or ``prompt``;
  empty trailing turns are dropped; ``reference`` or ``reference_1`` ... columns).

Every parser takes ``references``: a FastChat reference-answer file (``reference_answer/
<judge>.jsonl``) whose turns become the references of the prompts it names (a question id it
names that the file does not have is an error). Pure: no Django.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from arena.imports.parsers._base import (
    PathLike,
    as_id,
    csv_header,
    iter_csv,
    iter_json_records,
    iter_jsonl,
    missing,
    opt_str,
    req_id,
    req_str,
    req_str_list,
    wrong_type,
)
from arena.imports.parsers.fastchat import _reference_rows
from arena.imports.rows import ImportFormatError, PromptRow


def _with_references(
    rows: Iterable[PromptRow], file: str, references: PathLike | None, id_field: str = "prompt_id"
) -> Iterator[PromptRow]:
    """Check ids are unique, attach the reference file's turns, refuse references to unknown ids."""
    refs: dict[str, tuple[int, tuple[str, ...]]] = {}
    if references is not None:
        refs = {qid: (line, turns) for line, qid, turns in _reference_rows(references)}
    seen: dict[str, int] = {}
    out: list[PromptRow] = []
    for row in rows:
        if row.external_id in seen:
            raise ImportFormatError(
                file,
                row.line,
                f"duplicate prompt id {row.external_id} (first on line {seen[row.external_id]})",
                id_field,
            )
        seen[row.external_id] = row.line
        ref = refs.get(row.external_id)
        if ref is not None:
            row = PromptRow(
                line=row.line,
                external_id=row.external_id,
                category=row.category,
                turns=row.turns,
                references=ref[1],
                metadata=row.metadata,
            )
        out.append(row)
    if not out:
        raise ImportFormatError(file, None, "holds no prompts")
    unused = sorted((line, qid) for qid, (line, _turns) in refs.items() if qid not in seen)
    if unused:
        line, qid = unused[0]
        raise ImportFormatError(
            os.fspath(references or ""), line, f"question {qid} is not in {file}", "question_id"
        )
    yield from out


def _references_field(value: Any, key: str, file: str, line: int) -> tuple[str, ...]:
    if type(value) is str:
        return (value,)
    return req_str_list(value, key, file, line)


def parse_fastchat_prompts(path: PathLike, *, references: PathLike | None = None) -> Iterator[PromptRow]:
    """FastChat ``question.jsonl``; see the module docstring."""
    file = os.fspath(path)

    def rows() -> Iterator[PromptRow]:
        for line, obj in iter_jsonl(path):
            qid = req_id(obj, "question_id", file, line)
            category = req_str(obj, "category", file, line, empty=False)
            if "turns" in obj:
                turns = req_str_list(obj["turns"], "turns", file, line)
            elif "text" in obj:
                turns = (req_str(obj, "text", file, line, empty=False),)
            else:
                raise missing(file, line, "turns", "or 'text'")
            metadata: dict[str, Any] = {}
            refs: tuple[str, ...] = ()
            if obj.get("reference") is not None:
                refs = _references_field(obj["reference"], "reference", file, line)
                metadata["human_reference"] = list(refs)
            yield PromptRow(
                line=line,
                external_id=qid,
                category=category,
                turns=turns,
                references=() if references is not None else refs,
                metadata=metadata,
            )

    return _with_references(rows(), file, references, "question_id")


def _arena_hard_turns(obj: dict[str, Any], file: str, line: int) -> tuple[str, ...]:
    if obj.get("turns") is not None:
        value = obj["turns"]
        if type(value) is not list or not value:
            raise wrong_type(file, line, "turns", 'a non-empty array of {"content": ...} objects', value)
        turns = []
        for i, item in enumerate(value):
            if type(item) is str:
                turns.append(item)
                continue
            if type(item) is not dict:
                raise wrong_type(file, line, f"turns[{i}]", "an object with 'content'", item)
            turns.append(req_str(item, "content", file, line, empty=False, hint=f"in turns[{i}]"))
        return tuple(turns)
    if obj.get("prompt") is not None:
        return (req_str(obj, "prompt", file, line, empty=False),)
    raise missing(file, line, "turns", "or 'prompt'")


def parse_arena_hard_prompts(path: PathLike, *, references: PathLike | None = None) -> Iterator[PromptRow]:
    """Arena-Hard-Auto ``question.jsonl`` (v0.1 and v2); see the module docstring."""
    file = os.fspath(path)

    def rows() -> Iterator[PromptRow]:
        for line, obj in iter_jsonl(path):
            key = "uid" if obj.get("uid") is not None else "question_id"
            qid = req_id(obj, key, file, line, hint="or 'uid'")
            category = opt_str(obj, "category", file, line) or ""
            cluster = opt_str(obj, "cluster", file, line)
            metadata: dict[str, Any] = {"cluster": cluster} if cluster else {}
            yield PromptRow(
                line=line,
                external_id=qid,
                category=category.strip(),
                turns=_arena_hard_turns(obj, file, line),
                metadata=metadata,
            )

    return _with_references(rows(), file, references, "uid")


def parse_alpaca_eval_prompts(path: PathLike, *, references: PathLike | None = None) -> Iterator[PromptRow]:
    """An AlpacaEval evaluation set; see the module docstring."""
    file = os.fspath(path)

    def rows() -> Iterator[PromptRow]:
        seen: dict[str, int] = {}
        for record, (line, obj) in enumerate(iter_json_records(path), 1):
            instruction = req_str(obj, "instruction", file, line, empty=False)
            if instruction in seen:
                raise ImportFormatError(
                    file, line, f"the same instruction as line {seen[instruction]}", "instruction"
                )
            seen[instruction] = line
            dataset = opt_str(obj, "dataset", file, line) or ""
            yield PromptRow(
                line=line, external_id=str(record), category=dataset.strip(), turns=(instruction,)
            )

    return _with_references(rows(), file, references, "instruction")


def _generic(obj: dict[str, Any], file: str, line: int) -> PromptRow:
    found = [k for k in ("prompt_id", "question_id") if obj.get(k) is not None]
    if len(found) > 1:
        raise ImportFormatError(file, line, "give only one of prompt_id, question_id", "question_id")
    if not found:
        raise missing(file, line, "prompt_id", "(or question_id)")
    pid = as_id(obj[found[0]], found[0], file, line)
    category = opt_str(obj, "category", file, line) or ""
    turn_keys = sorted(int(k[5:]) for k in obj if k.startswith("turn_") and k[5:].isdigit())
    given = [k for k in ("turns", "prompt") if obj.get(k) is not None] + (["turn_1"] if turn_keys else [])
    if len(given) > 1:
        raise ImportFormatError(file, line, f"give only one of {', '.join(given)}", given[1])
    if not given:
        raise missing(file, line, "turns", "or 'prompt' or turn_1, turn_2, ...")
    if given[0] == "turns":
        turns = req_str_list(obj["turns"], "turns", file, line)
    elif given[0] == "prompt":
        turns = (req_str(obj, "prompt", file, line, empty=False),)
    else:
        if turn_keys != list(range(1, len(turn_keys) + 1)):
            gap = next(i for i, n in enumerate(turn_keys, 1) if n != i)
            raise ImportFormatError(
                file, line, "turns must be turn_1, turn_2, ... without gaps", f"turn_{gap}"
            )
        turns = tuple(req_str(obj, f"turn_{n}", file, line, empty=False) for n in turn_keys)
    for i, text in enumerate(turns):
        if not text.strip():
            raise ImportFormatError(
                file,
                line,
                "must not be empty",
                "prompt" if given[0] == "prompt" else ("turns" if given[0] == "turns" else f"turn_{i + 1}"),
            )
    refs: tuple[str, ...] = ()
    if obj.get("reference") is not None:
        refs = _references_field(obj["reference"], "reference", file, line)
    if len(refs) > len(turns):
        raise ImportFormatError(file, line, f"{len(refs)} references for {len(turns)} turns", "reference")
    return PromptRow(line=line, external_id=pid, category=category.strip(), turns=turns, references=refs)


def parse_jsonl_prompts(path: PathLike, *, references: PathLike | None = None) -> Iterator[PromptRow]:
    """Plain JSON Lines prompts; see the module docstring."""
    file = os.fspath(path)
    return _with_references((_generic(obj, file, line) for line, obj in iter_jsonl(path)), file, references)


def _numbered(header: list[str], prefix: str, file: str) -> list[str]:
    numbers = sorted(
        int(h[len(prefix) :]) for h in header if h.startswith(prefix) and h[len(prefix) :].isdigit()
    )
    if numbers != list(range(1, len(numbers) + 1)):
        gap = next(i for i, n in enumerate(numbers, 1) if n != i)
        raise ImportFormatError(
            file, 1, f"columns must be {prefix}1, {prefix}2, ... without gaps", f"{prefix}{gap}"
        )
    return [f"{prefix}{n}" for n in numbers]


def parse_csv_prompts(path: PathLike, *, references: PathLike | None = None) -> Iterator[PromptRow]:
    """CSV prompts; see the module docstring. Lines are CSV lines (header = 1)."""
    file = os.fspath(path)
    header = csv_header(path)
    turn_columns = _numbered(header, "turn_", file)
    ref_columns = _numbered(header, "reference_", file)
    if "prompt_id" not in header and "question_id" not in header:
        raise missing(file, 1, "prompt_id", "column")
    if "prompt" in header and turn_columns:
        raise ImportFormatError(
            file, 1, "give either a 'prompt' column or turn_1, turn_2, ..., not both", "prompt"
        )
    if "prompt" not in header and not turn_columns:
        raise missing(file, 1, "prompt", "or turn_1, turn_2, ... columns")

    def rows() -> Iterator[PromptRow]:
        for line, row in iter_csv(path):
            obj: dict[str, Any] = {
                k: v for k, v in row.items() if v != "" and not k.startswith(("turn_", "reference"))
            }
            if turn_columns:
                cells = [row[c] for c in turn_columns]
                while cells and cells[-1] == "":
                    cells.pop()
                gap = next((i for i, c in enumerate(cells) if c == ""), None)
                if gap is not None:
                    raise ImportFormatError(file, line, "is empty but a later turn is not", turn_columns[gap])
                if not cells:
                    raise ImportFormatError(file, line, "must not be empty", "turn_1")
                obj["turns"] = cells
            elif "prompt" not in obj:
                raise ImportFormatError(file, line, "must not be empty", "prompt")
            if ref_columns:
                refs = [row[c] for c in ref_columns]
                while refs and refs[-1] == "":
                    refs.pop()
                if refs:
                    obj["reference"] = refs
            elif row.get("reference"):
                obj["reference"] = row["reference"]
            yield _generic(obj, file, line)

    return _with_references(rows(), file, references)
