"""Rating tests' builders: the shared factories (tests/factories.py), with answer texts that
never contain the model's name — these tests check that no name reaches the page before a vote."""

from __future__ import annotations

import itertools

from arena.models import Answer, Comparison, Prompt, PromptSet
from tests import factories

_counter = itertools.count(1)


def prompt_set(slug: str = "rating-set") -> PromptSet:
    return factories.prompt_set(slug)


def prompt(slug: str = "rating-set", *, turns: tuple[str, ...] = ("Say hello.",), category: str = "general") -> Prompt:
    return factories.prompt(prompt_set(slug), external_id=f"q{next(_counter)}", turns=turns, category=category)


def _name_free_texts(p: Prompt) -> tuple[str, ...]:
    return tuple(f"Answer number {next(_counter)} to turn {i + 1}." for i in range(len(p.turns)))


def answer(p: Prompt, model: str, *turns: str) -> Answer:
    return factories.answer(p, model, *(turns or _name_free_texts(p)))


def comparison(p: Prompt, model_1: str, model_2: str, *, turn: int = 1, texts=None, **fields) -> Comparison:
    texts = dict(texts or {})
    for model in (model_1, model_2):  # the test's own texts, else name-free ones
        texts.setdefault(model, _name_free_texts(p))
    return factories.comparison(p, model_1, model_2, turn=turn, texts=texts, **fields)


def comparisons(n: int, *, slug: str = "rating-set", models: tuple[str, str] = ("zephyr-secret-7b", "quokka-hidden-13b"),
                **fields) -> list[Comparison]:
    return [comparison(prompt(slug), *models, **fields) for _ in range(n)]
