"""Prompt sets: loading the ones Arena ships (Vicuna-80, MT-Bench, Self-Instruct
User-Oriented-252) and importing custom ones.

Bundled sets are idempotent: prompts are matched on (set, external id) and updated in place, so
running ``load_prompt_sets`` again changes nothing and never duplicates a prompt.

Custom sets (``prompt_set_import``) are versioned instead: the same content again is a no-op; a
changed file makes the next version. A prompt the new version leaves as it was stays (its votes
and judgments count for both versions); one it changes or drops is closed (``last_version``)
and never edited, so every comparison, vote and judgment keeps the text it was made on.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction

from arena.imports import parsers
from arena.imports.rows import ImportFormatError, PromptRow
from arena.markdown import rendered_turns
from arena.models import Prompt, PromptSet, PromptSetVersion
from arena.signals import verdicts_changed


@dataclass(frozen=True)
class BundledPromptSet:
    slug: str
    name: str
    description: str
    source: str
    license: str
    folder: str
    questions: str
    fmt: str
    references: str | None = None


BUNDLED: tuple[BundledPromptSet, ...] = (
    BundledPromptSet(
        slug="vicuna80",
        name="Vicuna-80",
        description="80 single-turn questions in 9 categories, from the Vicuna blog evaluation.",
        source="lm-sys/FastChat fastchat/llm_judge/data/vicuna_bench (GPT-4 reference answers for coding and math)",
        license="Apache-2.0",
        folder="vicuna80",
        questions="question.jsonl",
        fmt="vicuna80",
        references="reference_answer_gpt-4.jsonl",
    ),
    BundledPromptSet(
        slug="mt_bench",
        name="MT-Bench",
        description="80 two-turn questions in 8 categories; GPT-4 reference answers for math, reasoning and coding.",
        source="lm-sys/FastChat fastchat/llm_judge/data/mt_bench (Zheng et al. 2023, arXiv:2306.05685)",
        license="Apache-2.0",
        folder="mt_bench",
        questions="question.jsonl",
        fmt="mt_bench",
        references="reference_answer_gpt-4.jsonl",
    ),
    BundledPromptSet(
        slug="user_oriented_252",
        name="Self-Instruct User-Oriented-252",
        description="252 user-oriented instructions with their inputs and human-written target outputs.",
        source="yizhongw/self-instruct human_eval/user_oriented_instructions.jsonl (Wang et al. 2023, arXiv:2212.10560)",
        license="Apache-2.0",
        folder="user_oriented_252",
        questions="user_oriented_instructions.jsonl",
        fmt="user_oriented_252",
    ),
)


@dataclass(frozen=True)
class LoadResult:
    slug: str
    prompts: int
    created: int
    updated: int


def prompt_rows(spec: BundledPromptSet, data_dir: Path) -> list[PromptRow]:
    folder = data_dir / "prompt_sets" / spec.folder
    rows = [
        row
        for row in parsers.parse("prompts", spec.fmt, folder / spec.questions)
        if isinstance(row, PromptRow)
    ]
    if spec.references:
        refs = dict(parsers.parse_reference_answers(folder / spec.references))
        rows = [
            PromptRow(
                line=row.line,
                external_id=row.external_id,
                category=row.category,
                turns=row.turns,
                references=tuple(refs.get(row.external_id, row.references)),
                metadata=row.metadata,
            )
            for row in rows
        ]
    return rows


@transaction.atomic
def prompt_set_load(spec: BundledPromptSet, *, data_dir: Path | None = None) -> LoadResult:
    """Create or update one bundled prompt set and its prompts."""
    rows = prompt_rows(spec, data_dir or settings.ARENA_DATA_DIR)
    pset, _ = PromptSet.objects.update_or_create(
        slug=spec.slug,
        defaults={
            "name": spec.name,
            "description": spec.description,
            "source": spec.source,
            "license": spec.license,
            "bundled": True,
        },
    )
    existing = {p.external_id: p for p in Prompt.objects.filter(prompt_set=pset)}
    created = updated = 0
    for position, row in enumerate(rows):
        values = {
            "category": row.category,
            "turns": list(row.turns),
            "references": list(row.references),
            "metadata": row.metadata,
            "position": position,
        }
        prompt = existing.get(row.external_id)
        if prompt is None:
            Prompt.objects.create(prompt_set=pset, external_id=row.external_id, **values)
            created += 1
        elif any(getattr(prompt, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(prompt, k, v)
            prompt.save()
            updated += 1
    return LoadResult(spec.slug, len(rows), created, updated)


def prompt_sets_load_bundled(slugs: list[str] | None = None) -> list[LoadResult]:
    return [prompt_set_load(spec) for spec in BUNDLED if not slugs or spec.slug in slugs]


# --------------------------------------------------------------------------- custom sets

SLUG_MAX_LENGTH = PromptSet._meta.get_field("slug").max_length or 64
NAME_MAX_LENGTH = PromptSet._meta.get_field("name").max_length or 200
_EXTERNAL_ID_MAX = Prompt._meta.get_field("external_id").max_length or 200
_CATEGORY_MAX = Prompt._meta.get_field("category").max_length or 100


@dataclass(frozen=True)
class PromptSetImported:
    slug: str
    version: int
    prompts: int
    created: int  # prompt rows made by this version (new or changed prompts)
    closed: int  # prompts of the previous version this one changed or dropped
    already_imported: bool = False

    def summary(self) -> str:
        if self.already_imported:
            return f"{self.slug}: already imported as version {self.version} ({self.prompts} prompts); nothing changed."
        if self.version == 1:
            return f"{self.slug}: version 1 with {self.prompts} prompts."
        kept = self.prompts - self.created
        return (
            f"{self.slug}: version {self.version} with {self.prompts} prompts "
            f"({kept} unchanged, {self.created} new or changed, {self.closed} of version {self.version - 1} "
            f"changed or dropped; their votes and judgments stay with version {self.version - 1})."
        )


def _content(row: PromptRow) -> dict:
    return {
        "category": row.category,
        "turns": list(row.turns),
        "references": list(row.references),
        "metadata": row.metadata,
    }


def prompt_rows_digest(rows: list[PromptRow]) -> str:
    """SHA-256 of the prompts as parsed (ids, order and content), not of the file's bytes: the
    same set re-exported with other whitespace is the same version."""
    payload = [[row.external_id, _content(row)] for row in rows]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def prompt_set_rows(
    path: Path, fmt: str, *, references: Path | None = None, progress: Callable[[int], object] | None = None
) -> list[PromptRow]:
    """Every row of a custom prompt-set file, checked against the database's limits (the first
    problem raises ``ImportFormatError`` naming the file, line and field)."""
    file = os.fspath(path)
    rows = []
    for row in parsers.parse("prompt_sets", fmt, path, references=references):
        assert isinstance(row, PromptRow)
        if len(row.external_id) > _EXTERNAL_ID_MAX:
            raise ImportFormatError(file, row.line, f"longer than {_EXTERNAL_ID_MAX} characters", "prompt_id")
        if len(row.category) > _CATEGORY_MAX:
            raise ImportFormatError(file, row.line, f"longer than {_CATEGORY_MAX} characters", "category")
        rows.append(row)
        if progress is not None:
            progress(1)
    return rows


def _check_slug_and_name(file: str, slug: str, name: str | None) -> None:
    if not slug or len(slug) > SLUG_MAX_LENGTH:
        raise ImportFormatError(file, None, f"must be 1 to {SLUG_MAX_LENGTH} characters", "--slug")
    try:
        validate_slug(slug)
    except ValidationError:
        raise ImportFormatError(
            file, None, f"{slug!r} is not a slug: use letters, digits, - and _", "--slug"
        ) from None
    if name is not None and (not name.strip() or len(name) > NAME_MAX_LENGTH or "\x00" in name):
        raise ImportFormatError(file, None, f"must be 1 to {NAME_MAX_LENGTH} printable characters", "--name")


def prompt_set_import(
    *,
    path: Path,
    fmt: str,
    slug: str,
    name: str | None = None,
    references: Path | None = None,
    progress: Callable[[int], object] | None = None,
) -> PromptSetImported:
    """Import a custom prompt set from ``path`` (format ``fmt``, see ``parsers.CUSTOM_PROMPT_FORMATS``).

    All or nothing. A new slug makes version 1; the same prompts again are a no-op; changed
    prompts make the next version (see the module docstring). A bundled set's slug is refused:
    ``load_prompt_sets`` owns those.
    """
    file = os.fspath(path)
    _check_slug_and_name(file, slug, name)
    rows = prompt_set_rows(path, fmt, references=references, progress=progress)
    digest = prompt_rows_digest(rows)
    with transaction.atomic():
        pset = PromptSet.objects.select_for_update().filter(slug=slug).first()
        if pset is not None and pset.bundled:
            raise ImportFormatError(
                file, None, f"'{slug}' is a bundled set (load_prompt_sets); choose another slug", "--slug"
            )
        if pset is None:
            pset = PromptSet.objects.create(slug=slug, name=name or slug, source=path.name, version=1)
            version = 1
            current: dict[str, Prompt] = {}
        else:
            latest = pset.versions.order_by("-number").first()
            if latest is not None and latest.sha256 == digest:
                return PromptSetImported(slug, pset.version, latest.prompts, 0, 0, already_imported=True)
            current = {p.external_id: p for p in Prompt.objects.current().filter(prompt_set=pset)}
            if (
                latest is None
                and [p.external_id for p in sorted(current.values(), key=lambda p: (p.position, p.id))]
                == [r.external_id for r in rows]
                and all(
                    _content(r)
                    == {
                        "category": current[r.external_id].category,
                        "turns": current[r.external_id].turns,
                        "references": current[r.external_id].references,
                        "metadata": current[r.external_id].metadata,
                    }
                    for r in rows
                )
            ):
                # A set made elsewhere (admin) holding exactly these prompts: record it, change nothing.
                PromptSetVersion.objects.create(
                    prompt_set=pset,
                    number=pset.version,
                    file_name=path.name[:500],
                    format=fmt,
                    sha256=digest,
                    prompts=len(rows),
                )
                return PromptSetImported(slug, pset.version, len(rows), 0, 0, already_imported=True)
            version = pset.version + 1
        seen = set()
        new: list[Prompt] = []
        moved: list[Prompt] = []
        close: list[int] = []
        for position, row in enumerate(rows):
            seen.add(row.external_id)
            old = current.get(row.external_id)
            values = _content(row)
            if old is not None and all(getattr(old, k) == v for k, v in values.items()):
                if old.position != position:
                    old.position = position
                    moved.append(old)
                continue
            if old is not None:
                close.append(old.pk)
            # Written in bulk (save() is bypassed), so the HTML save() would store is made here.
            new.append(
                Prompt(
                    prompt_set=pset,
                    external_id=row.external_id,
                    position=position,
                    first_version=version,
                    rendered=rendered_turns(values["turns"]),
                    **values,
                )
            )
        close += [p.pk for ext, p in current.items() if ext not in seen]
        closed = Prompt.objects.filter(pk__in=close).update(last_version=version - 1) if close else 0
        Prompt.objects.bulk_update(moved, ["position"], batch_size=1000)
        Prompt.objects.bulk_create(new, batch_size=1000)
        created = len(new)
        pset.version = version
        fields = ["version"]
        if name and name != pset.name:
            pset.name = name
            fields.append("name")
        pset.save(update_fields=fields)
        PromptSetVersion.objects.create(
            prompt_set=pset,
            number=version,
            file_name=path.name[:500],
            format=fmt,
            sha256=digest,
            prompts=len(rows),
        )
        if version > 1:
            # Every number read on this set counts the prompts of its latest version.
            transaction.on_commit(
                lambda: verdicts_changed.send(sender=PromptSet, source="all", prompt_set=slug)
            )
    return PromptSetImported(slug, version, len(rows), created, closed)
