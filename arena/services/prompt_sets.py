"""Loading the prompt sets Arena ships (Vicuna-80, MT-Bench, Self-Instruct User-Oriented-252).

Idempotent: prompts are matched on (set, external id) and updated in place, so running
``load_prompt_sets`` again changes nothing and never duplicates a prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from arena.imports import parsers
from arena.imports.rows import PromptRow
from arena.models import Prompt, PromptSet


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
    rows = [row for row in parsers.parse("prompts", spec.fmt, folder / spec.questions) if isinstance(row, PromptRow)]
    if spec.references:
        refs = dict(parsers.parse_reference_answers(folder / spec.references))
        rows = [
            PromptRow(
                line=row.line, external_id=row.external_id, category=row.category, turns=row.turns,
                references=tuple(refs.get(row.external_id, row.references)), metadata=row.metadata,
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
        defaults={"name": spec.name, "description": spec.description, "source": spec.source,
                  "license": spec.license, "bundled": True},
    )
    existing = {p.external_id: p for p in Prompt.objects.filter(prompt_set=pset)}
    created = updated = 0
    for position, row in enumerate(rows):
        values = {"category": row.category, "turns": list(row.turns), "references": list(row.references),
                  "metadata": row.metadata, "position": position}
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
