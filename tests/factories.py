"""Small builders for test data, so each test states only what matters to it."""

from __future__ import annotations

import itertools

from arena.models import Answer, Comparison, Contender, Prompt, PromptSet
from arena.services.imports import answer_features, answer_reveals_identity

_counter = itertools.count(1)


def prompt_set(slug: str = "custom", **fields) -> PromptSet:
    return PromptSet.objects.get_or_create(slug=slug, defaults={"name": slug, **fields})[0]


def prompt(pset: PromptSet | None = None, *, external_id: str | None = None, turns=("Say hello.",),
           category: str = "general", references=()) -> Prompt:
    pset = pset or prompt_set()
    return Prompt.objects.create(
        prompt_set=pset, external_id=external_id or str(next(_counter)), category=category,
        turns=list(turns), references=list(references),
    )


def contender(name: str) -> Contender:
    return Contender.objects.get_or_create(name=name)[0]


def answer(p: Prompt, model: str | Contender, *turns: str) -> Answer:
    c = model if isinstance(model, Contender) else contender(model)
    texts = list(turns) or [f"{c.name} answers {p.external_id}."] * len(p.turns)
    tokens, style = answer_features(texts)
    return Answer.objects.create(prompt=p, contender=c, turns=texts, token_counts=tokens, style=style,
                                 reveals_identity=answer_reveals_identity(texts))


def comparison(p: Prompt, model_1: str, model_2: str, *, turn: int = 1,
               texts: dict[str, tuple[str, ...]] | None = None, **fields) -> Comparison:
    """The comparison of the two models' answers to ``p`` (made when missing, with ``texts`` per
    model if given); ``fields`` set the comparison's other columns when it is created."""
    texts = texts or {}
    a1 = Answer.objects.filter(prompt=p, contender__name=model_1).first() or answer(p, model_1, *texts.get(model_1, ()))
    a2 = Answer.objects.filter(prompt=p, contender__name=model_2).first() or answer(p, model_2, *texts.get(model_2, ()))
    first, second = sorted((a1, a2), key=lambda a: a.id)
    return Comparison.objects.get_or_create(prompt=p, answer_a=first, answer_b=second, turn=turn, defaults=fields)[0]
