"""The one import pipeline: a parser (``arena.imports.parsers``) yields rows, this service
resolves names against the database and writes them — all or nothing.

Any problem in any row (unknown prompt or model, a parse error, a conflicting answer) raises
``ImportFormatError`` naming the file, the line and the field, and the surrounding transaction
writes nothing. A file already imported (same kind, target and SHA-256) is a no-op.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.db import connection, transaction

from arena.identity import reveals_identity
from arena.imports import parsers
from arena.imports.rows import AnswerRow, ImportFormatError, VerdictRow
from arena.markdown import rendered_turns
from arena.models import (
    Answer,
    Contender,
    ContenderAlias,
    ImportBatch,
    ImportedVerdict,
    Prompt,
    PromptSet,
    VerdictSource,
    max_length_of,
)
from arena.ratings.style import markdown_style_features
from arena.signals import verdicts_changed

Progress = Callable[[int], object]
T = TypeVar("T")
HUMAN_FORMATS = {"mtbench_human", "prd_human"}
BULK_BATCH = 5000


@dataclass(frozen=True)
class ImportResult:
    file: str
    kind: str
    rows: int
    created: int
    unparsed: int = 0
    already_imported: bool = False
    created_contenders: tuple[str, ...] = ()

    def summary(self) -> str:
        if self.already_imported:
            return f"{self.file}: already imported, nothing written."
        text = f"{self.file}: {self.rows} rows read, {self.created} {self.kind} written"
        if self.unparsed:
            text += f", {self.unparsed} kept as unparsed (the source could not read the verdict)"
        if self.created_contenders:
            text += f"; new contenders: {', '.join(self.created_contenders)}"
        return text + "."


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _normalise_text(text: str) -> str:
    return " ".join(text.split())


def _counted(rows: Iterable[T], progress: Progress | None) -> Iterator[T]:
    for count, row in enumerate(rows, 1):
        if progress and count % 1000 == 0:
            progress(1000)
        yield row


class _ContenderNames:
    """Resolves a name as a file spells it (exact, then case-insensitive, name or alias)."""

    def __init__(self) -> None:
        self.by_name: dict[str, int] = {}
        for cid, name in Contender.objects.values_list("id", "name"):
            self.by_name[name] = cid
            self.by_name.setdefault(name.lower(), cid)
        for cid, alias in ContenderAlias.objects.values_list("contender_id", "alias"):
            self.by_name.setdefault(alias, cid)
            self.by_name.setdefault(alias.lower(), cid)
        self.new_names: list[str] = []

    def get(self, name: str) -> int | None:
        return self.by_name.get(name, self.by_name.get(name.lower()))

    def get_or_plan(self, name: str) -> int | str:
        """The contender id, or the name itself when it will be created by this import."""
        found = self.get(name)
        if found is not None:
            return found
        if name not in self.new_names:
            self.new_names.append(name)
        return name

    def create_planned(self) -> dict[str, int]:
        created = {}
        for name in self.new_names:
            created[name] = Contender.objects.create(name=name).id
        return created


class _PromptIndex:
    def __init__(self, prompt_set: PromptSet) -> None:
        self.prompt_set = prompt_set
        self.by_external_id: dict[str, int] = {}
        self.by_text: dict[str, int] = {}
        self.turns: dict[int, int] = {}
        for pid, ext, turns in (
            Prompt.objects.current().filter(prompt_set=prompt_set).values_list("id", "external_id", "turns")
        ):
            self.by_external_id[ext] = pid
            self.turns[pid] = len(turns)
            if turns:
                self.by_text.setdefault(_normalise_text(turns[0]), pid)

    def resolve(self, file: str, line: int, prompt: str | None, prompt_text: str | None) -> int:
        if prompt is not None:
            pid = self.by_external_id.get(str(prompt))
            if pid is None:
                raise ImportFormatError(
                    file,
                    line,
                    f"unknown question id {prompt!r} in prompt set '{self.prompt_set.slug}'",
                    "question_id",
                )
            return pid
        if prompt_text is not None:
            pid = self.by_text.get(_normalise_text(prompt_text))
            if pid is None:
                raise ImportFormatError(
                    file,
                    line,
                    f"no prompt in '{self.prompt_set.slug}' has this text: {prompt_text[:60]!r}",
                    "instruction",
                )
            return pid
        raise ImportFormatError(
            file, line, "a prompt id is required when --prompt-set is given", "question_id"
        )


def _check_text(file: str, line: int | None, field: str, value: str | None, max_length: int) -> None:
    """A name or id bound for a column of ``max_length`` characters: refused with its line and
    field when the database could not store it (too long, or holding a NUL character)."""
    if value is None:
        return
    if "\x00" in value:
        raise ImportFormatError(file, line, "contains a NUL character, which text cannot hold", field)
    if len(value) > max_length:
        raise ImportFormatError(
            file, line, f"is {len(value):,} characters long; at most {max_length} are stored", field
        )


def _check_answer_row(file: str, row: AnswerRow) -> None:
    _check_text(file, row.line, "model", row.contender, max_length_of(Contender, "name"))
    _check_text(file, row.line, "answer_id", row.external_id, max_length_of(Answer, "external_id"))


def _check_verdict_row(file: str, row: VerdictRow) -> None:
    name_length = max_length_of(Contender, "name")
    _check_text(file, row.line, "model_a", row.model_a, name_length)
    _check_text(file, row.line, "model_b", row.model_b, name_length)
    _check_text(file, row.line, "question_id", row.prompt, max_length_of(ImportedVerdict, "question_ref"))
    _check_text(file, row.line, "rater", row.rater, max_length_of(ImportedVerdict, "rater"))


def _check_source(file: str, source: str) -> None:
    """``--source`` names a VerdictSource (a slug) and the battles' source ``import:<source>``."""
    _check_text(file, None, "--source", source, max_length_of(VerdictSource, "name"))
    if not _SOURCE_NAME.fullmatch(source):
        raise ImportFormatError(
            file, None, f"{source[:60]!r} is not a source name: use letters, digits, - and _", "--source"
        )


_SOURCE_NAME = re.compile(r"[-a-zA-Z0-9_]+")


def _get_prompt_set(slug: str) -> PromptSet:
    try:
        if "\x00" in slug:
            raise PromptSet.DoesNotExist
        return PromptSet.objects.get(slug=slug)
    except PromptSet.DoesNotExist:
        known = ", ".join(PromptSet.objects.values_list("slug", flat=True)) or "none — run load_prompt_sets"
        raise ImportFormatError(
            slug, None, f"unknown prompt set; known sets: {known}", "--prompt-set"
        ) from None


def answer_features(turns: Iterable[str]) -> tuple[list[int], list[list[int]]]:
    """Token counts and style covariates per turn (approximate tokens; see ratings.style)."""
    token_counts, style = [], []
    for text in turns:
        features = markdown_style_features(text)
        token_counts.append(int(features.tokens))
        style.append([int(v) for v in features])
    return token_counts, style


def answer_reveals_identity(turns: Iterable[str]) -> bool:
    """Does any turn name a model or vendor (ARENA_IDENTITY_WORDS) as a rater would read it? Such
    answers stay out of human comparisons by default."""
    return reveals_identity(turns, settings.ARENA_IDENTITY_WORDS)


def answers_import(
    *,
    path: Path,
    fmt: str,
    prompt_set: str,
    contender: str | None = None,
    replace: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import one answer file into ``prompt_set``; contenders named in it are created."""
    file = str(path)
    sha = file_sha256(path)
    pset = _get_prompt_set(prompt_set)
    if ImportBatch.objects.filter(kind=ImportBatch.Kind.ANSWERS, source=pset.slug, sha256=sha).exists():
        return ImportResult(file, "answers", 0, 0, already_imported=True)

    prompts = _PromptIndex(pset)
    names = _ContenderNames()
    existing = {
        (p, c): (aid, turns)
        for aid, p, c, turns in Answer.objects.filter(prompt__prompt_set=pset).values_list(
            "id", "prompt_id", "contender_id", "turns"
        )
    }
    planned: list[tuple[AnswerRow, int, int | str]] = []
    seen: dict[tuple[int, int | str], int] = {}
    rows = 0
    for row in _counted(parsers.parse("answers", fmt, path, contender=contender), progress):
        rows += 1
        assert isinstance(row, AnswerRow)
        _check_answer_row(file, row)
        pid = prompts.resolve(file, row.line, row.prompt, row.prompt_text)
        if len(row.turns) > prompts.turns[pid]:
            raise ImportFormatError(
                file, row.line, f"{len(row.turns)} turns but the prompt has {prompts.turns[pid]}", "turns"
            )
        cid = names.get_or_plan(row.contender)
        if (pid, cid) in seen:
            raise ImportFormatError(
                file,
                row.line,
                f"a second answer by {row.contender!r} to the same prompt (first on line {seen[(pid, cid)]})",
                "question_id",
            )
        seen[(pid, cid)] = row.line
        if (
            isinstance(cid, int)
            and (pid, cid) in existing
            and not replace
            and (list(existing[(pid, cid)][1]) != list(row.turns))
        ):
            raise ImportFormatError(
                file,
                row.line,
                f"{row.contender!r} already has a different answer to this prompt (use --replace to overwrite)",
                "turns",
            )
        planned.append((row, pid, cid))

    with transaction.atomic():
        created_ids = names.create_planned()
        ImportBatch.objects.create(
            kind=ImportBatch.Kind.ANSWERS,
            source=pset.slug,
            file_name=path.name,
            sha256=sha,
            format=fmt,
            prompt_set=pset,
            rows=rows,
        )
        new_answers: list[Answer] = []
        for row, pid, cid in planned:
            contender_id = cid if isinstance(cid, int) else created_ids[cid]
            known = existing.get((pid, contender_id))
            if known and not replace:
                continue  # the identical answer is already stored
            token_counts, style = answer_features(row.turns)
            fields = {
                "turns": list(row.turns),
                "rendered": rendered_turns(row.turns),
                "token_counts": token_counts,
                "style": style,
                "external_id": row.external_id or "",
                "origin": f"import:{path.name}",
                "reveals_identity": answer_reveals_identity(row.turns),
                "metadata": row.metadata,
            }
            if known:
                Answer.objects.filter(id=known[0]).update(**fields)
            else:
                new_answers.append(Answer(prompt_id=pid, contender_id=contender_id, **fields))
        Answer.objects.bulk_create(new_answers, batch_size=BULK_BATCH)
    return ImportResult(
        file,
        "answers",
        rows,
        len(new_answers),
        created_contenders=tuple(names.new_names),
    )


_VERDICT_COLUMNS = (
    "source_id",
    "batch_id",
    "line",
    "model_a_id",
    "model_b_id",
    "winner",
    "prompt_id",
    "question_ref",
    "turn",
    "position_known",
    "judged_order",
    "rater",
    "tstamp",
    "raw_output",
    "metadata",
)


def _verdicts_insert(values: list[tuple]) -> None:
    """Write verdict rows inside the caller's transaction.

    On PostgreSQL through COPY: building 100,000 model instances and an INSERT with 1.5 million
    parameters missed bench_import.py's goal; COPY streams the same rows well within it (PERFORMANCE.md).
    """
    if connection.vendor != "postgresql":
        ImportedVerdict.objects.bulk_create(
            [ImportedVerdict(**dict(zip(_VERDICT_COLUMNS, v, strict=True))) for v in values],
            batch_size=BULK_BATCH,
        )
        return
    table = ImportedVerdict._meta.db_table
    metadata_at = _VERDICT_COLUMNS.index("metadata")
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(_VERDICT_COLUMNS)}) FROM STDIN") as copy,
    ):
        for value in values:
            row = list(value)
            row[metadata_at] = json.dumps(row[metadata_at])
            copy.write_row(row)


def verdicts_import(
    *,
    path: Path,
    fmt: str,
    source: str,
    prompt_set: str | None = None,
    is_human: bool | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import one verdict file as source ``import:<source>``.

    With ``prompt_set``, every verdict must name a known prompt and known contenders; without
    it, prompts are not linked and unknown model names become new contenders (leaderboards
    still work from model names alone).
    """
    file = str(path)
    _check_source(file, source)
    sha = file_sha256(path)
    if ImportBatch.objects.filter(kind=ImportBatch.Kind.VERDICTS, source=source, sha256=sha).exists():
        return ImportResult(file, "verdicts", 0, 0, already_imported=True)
    pset = _get_prompt_set(prompt_set) if prompt_set else None
    prompts = _PromptIndex(pset) if pset else None
    names = _ContenderNames()
    answer_owner: dict[str, tuple[int, int]] = {}
    if pset is not None:
        answer_owner = {
            ext: (pid, cid)
            for ext, pid, cid in Answer.objects.filter(prompt__prompt_set=pset)
            .exclude(external_id="")
            .values_list("external_id", "prompt_id", "contender_id")
        }

    def model_id(
        row: VerdictRow, name: str | None, answer: str | None, field: str, pid: int | None
    ) -> int | str:
        if answer is not None and (name is None or pset is not None):
            if pset is None:
                raise ImportFormatError(
                    file, row.line, "answer ids can only be resolved with --prompt-set", field
                )
            owner = answer_owner.get(answer)
            if owner is None:
                raise ImportFormatError(
                    file,
                    row.line,
                    f"unknown answer id {answer!r}: import the answers into '{pset.slug}' first",
                    field,
                )
            if pid is not None and owner[0] != pid:
                raise ImportFormatError(file, row.line, f"answer {answer!r} belongs to another prompt", field)
            return owner[1]
        if name is None:
            raise ImportFormatError(file, row.line, "missing model name", field)
        if pset is not None:
            found = names.get(name)
            if found is None:
                raise ImportFormatError(
                    file,
                    row.line,
                    f"unknown model {name!r}: import its answers or add it as a contender alias",
                    field,
                )
            return found
        return names.get_or_plan(name)

    planned: list[tuple[VerdictRow, int | None, int | str, int | str]] = []
    rows = unparsed = 0
    for row in _counted(parsers.parse("verdicts", fmt, path), progress):
        rows += 1
        assert isinstance(row, VerdictRow)
        _check_verdict_row(file, row)
        pid = prompts.resolve(file, row.line, row.prompt, row.prompt_text) if prompts else None
        if prompts and pid is not None and row.turn > prompts.turns[pid]:
            raise ImportFormatError(
                file, row.line, f"turn {row.turn} but the prompt has {prompts.turns[pid]}", "turn"
            )
        a = model_id(row, row.model_a, row.answer_a, "model_a", pid)
        b = model_id(row, row.model_b, row.answer_b, "model_b", pid)
        if a == b:
            raise ImportFormatError(file, row.line, "model_a and model_b are the same model", "model_b")
        if row.winner is None:
            unparsed += 1
        planned.append((row, pid, a, b))

    with transaction.atomic():
        created_ids = names.create_planned()
        human = is_human if is_human is not None else fmt in HUMAN_FORMATS
        verdict_source, _ = VerdictSource.objects.get_or_create(name=source, defaults={"is_human": human})
        batch = ImportBatch.objects.create(
            kind=ImportBatch.Kind.VERDICTS,
            source=source,
            file_name=path.name,
            sha256=sha,
            format=fmt,
            prompt_set=pset,
            rows=rows,
        )

        def cid(value: int | str) -> int:
            return value if isinstance(value, int) else created_ids[value]

        values = [
            (
                verdict_source.id,
                batch.id,
                row.line,
                cid(a),
                cid(b),
                row.winner or "",
                pid,
                row.prompt or "",
                row.turn,
                row.position_known,
                row.judged_order or 0,
                row.rater or "",
                row.tstamp,
                row.raw_output or "",
                row.metadata,
            )
            for row, pid, a, b in planned
        ]
        _verdicts_insert(values)
        # bulk writes send no signals: tell open leaderboards about the new verdicts once.
        transaction.on_commit(
            lambda: verdicts_changed.send(
                sender=ImportBatch, source=f"import:{source}", prompt_set=prompt_set
            )
        )
    return ImportResult(
        file, "verdicts", rows, len(values), unparsed, created_contenders=tuple(names.new_names)
    )


def scores_import(
    *,
    path: Path,
    fmt: str,
    source: str,
    prompt_set: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import one file of single-answer grades (``fastchat_single``) as source ``import:<source>``.

    With ``prompt_set`` every row must name a known prompt of it (and a turn it has); models the
    file names are matched against contenders and their aliases, and new ones are created (a
    grade needs no stored answer). All or nothing, and a file already imported is a no-op.
    """
    from arena.imports.rows import ScoreRow
    from arena.models import ImportedScore

    file = str(path)
    sha = file_sha256(path)
    if ImportBatch.objects.filter(kind=ImportBatch.Kind.SCORES, source=source, sha256=sha).exists():
        return ImportResult(file, "scores", 0, 0, already_imported=True)
    pset = _get_prompt_set(prompt_set) if prompt_set else None
    prompts = _PromptIndex(pset) if pset else None
    names = _ContenderNames()
    planned: list[tuple[ScoreRow, int | None, int | str]] = []
    rows = unparsed = 0
    for row in _counted(parsers.parse("scores", fmt, path), progress):
        rows += 1
        assert isinstance(row, ScoreRow)
        pid = prompts.resolve(file, row.line, row.prompt, None) if prompts else None
        if prompts and pid is not None and row.turn > prompts.turns[pid]:
            raise ImportFormatError(
                file, row.line, f"turn {row.turn} but the prompt has {prompts.turns[pid]}", "turn"
            )
        unparsed += row.score is None
        planned.append((row, pid, names.get_or_plan(row.model)))
    with transaction.atomic():
        created_ids = names.create_planned()
        verdict_source, _ = VerdictSource.objects.get_or_create(name=source, defaults={"is_human": False})
        batch = ImportBatch.objects.create(
            kind=ImportBatch.Kind.SCORES,
            source=source,
            file_name=path.name,
            sha256=sha,
            format=fmt,
            prompt_set=pset,
            rows=rows,
        )
        ImportedScore.objects.bulk_create(
            [
                ImportedScore(
                    source=verdict_source,
                    batch=batch,
                    line=row.line,
                    model_id=cid if isinstance(cid, int) else created_ids[cid],
                    prompt_id=pid,
                    question_ref=row.prompt,
                    turn=row.turn,
                    score=row.score,
                    rater=row.rater or "",
                    tstamp=row.tstamp,
                    raw_output=row.raw_output or "",
                    metadata=row.metadata,
                )
                for row, pid, cid in planned
            ],
            batch_size=BULK_BATCH,
        )
        transaction.on_commit(
            lambda: verdicts_changed.send(
                sender=ImportBatch, source=f"import:{source}", prompt_set=prompt_set
            )
        )
    return ImportResult(
        file, "scores", rows, len(planned), unparsed, created_contenders=tuple(names.new_names)
    )
