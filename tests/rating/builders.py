"""Tiny builders for rating tests: Answer rows made directly (style=[] and token_counts=[]),
so these tests do not depend on the import pipeline."""

from __future__ import annotations

import itertools

from django.conf import settings

from arena.identity import identity_mentions
from arena.models import Answer, Comparison, Contender, Prompt, PromptSet

_counter = itertools.count(1)


def prompt_set(slug: str = "rating-set") -> PromptSet:
    return PromptSet.objects.get_or_create(slug=slug, defaults={"name": slug})[0]


def prompt(slug: str = "rating-set", *, turns: tuple[str, ...] = ("Say hello.",), category: str = "general") -> Prompt:
    return Prompt.objects.create(
        prompt_set=prompt_set(slug), external_id=f"q{next(_counter)}", category=category, turns=list(turns)
    )


def answer(p: Prompt, model: str, *turns: str) -> Answer:
    contender = Contender.objects.get_or_create(name=model)[0]
    texts = list(turns) or [f"Answer number {next(_counter)} to turn {i + 1}." for i in range(len(p.turns))]
    reveals = any(identity_mentions(t, settings.ARENA_IDENTITY_WORDS) for t in texts)
    return Answer.objects.create(
        prompt=p, contender=contender, turns=texts, token_counts=[], style=[], reveals_identity=reveals
    )


def comparison(p: Prompt, model_1: str, model_2: str, *, turn: int = 1, texts=None, **fields) -> Comparison:
    a1 = Answer.objects.filter(prompt=p, contender__name=model_1).first() or answer(p, model_1, *(texts or {}).get(model_1, ()))
    a2 = Answer.objects.filter(prompt=p, contender__name=model_2).first() or answer(p, model_2, *(texts or {}).get(model_2, ()))
    first, second = sorted((a1, a2), key=lambda a: a.id)
    return Comparison.objects.create(prompt=p, answer_a=first, answer_b=second, turn=turn, **fields)


def comparisons(n: int, *, slug: str = "rating-set", models: tuple[str, str] = ("zephyr-secret-7b", "quokka-hidden-13b"),
                **fields) -> list[Comparison]:
    return [comparison(prompt(slug), *models, **fields) for _ in range(n)]
