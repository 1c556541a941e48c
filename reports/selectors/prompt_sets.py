"""What the prompt-set pages show: every set with its counts, and one set's prompts (searchable).

Reads only (counts are aggregate queries, one per table, grouped by set): anonymous requests
never create work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, TextField
from django.db.models.functions import Cast

from arena.models import Answer, Comparison, Prompt, PromptSet, Vote
from arena.params import NOT_FOUND, QueryReader

PAGE_SIZE = 50
SEARCH_MAX_LENGTH = 200


@dataclass
class PromptSetRow:
    prompt_set: PromptSet
    prompts: int = 0
    categories: int = 0
    contenders: int = 0
    comparisons: int = 0
    votes: int = 0
    judgments: int = 0
    versions: list[Any] = field(default_factory=list)


def _grouped(qs: Any, key: str, value: Any) -> dict[int, int]:
    return {row[key]: row["n"] for row in qs.values(key).annotate(n=value).order_by()}


def prompt_sets_list() -> list[PromptSetRow]:
    """Every prompt set with the counts of its latest version (votes and judgments: every version)."""
    from judge.models import Judgment  # judge depends on arena, not the other way round

    current = Prompt.objects.current()
    prompts = _grouped(current, "prompt_set", Count("id"))
    categories = _grouped(current.exclude(category=""), "prompt_set", Count("category", distinct=True))
    contenders = _grouped(
        Answer.objects.filter(prompt__last_version__isnull=True),
        "prompt__prompt_set",
        Count("contender", distinct=True),
    )
    comparisons = _grouped(Comparison.objects.all(), "prompt__prompt_set", Count("id"))
    votes = _grouped(Vote.objects.all(), "comparison__prompt__prompt_set", Count("id"))
    judgments = _grouped(Judgment.objects.filter(status=Judgment.Status.DONE), "run__prompt_set", Count("id"))
    rows = []
    for pset in PromptSet.objects.order_by("slug"):
        rows.append(
            PromptSetRow(
                prompt_set=pset,
                prompts=prompts.get(pset.pk, 0),
                categories=categories.get(pset.pk, 0),
                contenders=contenders.get(pset.pk, 0),
                comparisons=comparisons.get(pset.pk, 0),
                votes=votes.get(pset.pk, 0),
                judgments=judgments.get(pset.pk, 0),
            )
        )
    return rows


@dataclass
class PromptSetPage:
    prompt_set: PromptSet
    version: int
    q: str
    page: int
    pages: int
    total: int  # prompts in this version matching q
    in_version: int  # prompts in this version
    prompts: list[Prompt]
    versions: list[Any]


def prompt_set_page(*, prompt_set: PromptSet, reader: QueryReader) -> PromptSetPage:
    """One set's prompts of one version (``version``, default the latest), searched (``q``: id,
    category or text) and paged (``page``). Problems are recorded in ``reader``."""
    version = reader.optional_integer("version", minimum=1, maximum=1_000_000)
    if version is not None and version > prompt_set.version:
        reader.fail(
            "version",
            NOT_FOUND,
            f"{prompt_set.slug} has no version {version}.",
            f"1 to {prompt_set.version}, or nothing for the latest",
        )
        version = None
    version = version or prompt_set.version
    q = (
        reader.text(
            "q",
            max_length=SEARCH_MAX_LENGTH,
            allowed="words to find in the prompts' ids, categories "
            f"and text (at most {SEARCH_MAX_LENGTH} characters)",
        )
        or ""
    )
    page = reader.integer("page", 1, minimum=1, maximum=100_000)
    qs = Prompt.objects.in_version(version).filter(prompt_set=prompt_set).order_by("position", "id")
    in_version = qs.count()
    if q:
        qs = qs.annotate(text=Cast("turns", TextField())).filter(
            Q(external_id__icontains=q) | Q(category__icontains=q) | Q(text__icontains=q)
        )
    total = qs.count()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    return PromptSetPage(
        prompt_set=prompt_set,
        version=version,
        q=q,
        page=page,
        pages=pages,
        total=total,
        in_version=in_version,
        prompts=list(qs[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]),
        versions=list(prompt_set.versions.order_by("-number")),
    )
