"""What the home page shows: prompt sets, contenders and how much data each has."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from arena.models import Answer, Contender, ImportedVerdict, PromptSet, VerdictSource, Vote


@dataclass(frozen=True)
class Overview:
    prompt_sets: list[PromptSet]
    contenders: list[Contender]
    sources: list[VerdictSource]
    answers: int
    votes: int
    judgments: int
    imported_verdicts: int


def overview_get() -> Overview:
    from judge.models import Judgment

    return Overview(
        prompt_sets=list(
            PromptSet.objects.annotate(prompt_count=Count("prompts", distinct=True)).order_by("slug")
        ),
        contenders=list(Contender.objects.annotate(answer_count=Count("answers")).order_by("name")),
        sources=list(VerdictSource.objects.annotate(verdict_count=Count("verdicts")).order_by("name")),
        answers=Answer.objects.count(),
        votes=Vote.objects.count(),
        judgments=Judgment.objects.filter(status=Judgment.Status.DONE).count(),
        imported_verdicts=ImportedVerdict.objects.count(),
    )
