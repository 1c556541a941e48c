"""A small arena built row by row (the shared factories import the import pipeline, which other
people are still writing): three models, human votes, one LLM judge and one imported source."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model

from arena.models import (
    Answer,
    Comparison,
    Contender,
    ImportBatch,
    ImportedVerdict,
    Prompt,
    PromptSet,
    VerdictSource,
    Vote,
)

_line = itertools.count(1)


@pytest.fixture(autouse=True)
def _isolated(settings):
    """Inline tasks, no debounce, a fresh cache and in-memory channel layer per test."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.ARENA_SNAPSHOT_DEBOUNCE_SECONDS = 0
    settings.ARENA_BOOTSTRAP_ROUNDS = 50
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "leaderboards-tests"}}
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@dataclass
class Arena:
    prompt_set: PromptSet
    prompts: list[Prompt] = field(default_factory=list)
    contenders: dict[str, Contender] = field(default_factory=dict)
    answers: dict[tuple[int, str], Answer] = field(default_factory=dict)
    raters: list = field(default_factory=list)

    def comparison(self, prompt: Prompt, model_1: str, model_2: str, turn: int = 1) -> Comparison:
        a1, a2 = self.answers[(prompt.id, model_1)], self.answers[(prompt.id, model_2)]
        first, second = sorted((a1, a2), key=lambda a: a.id)
        return Comparison.objects.get_or_create(prompt=prompt, answer_a=first, answer_b=second, turn=turn)[0]

    def vote(self, rater, prompt: Prompt, winner_model: str, loser_model: str, *, tie: bool = False,
             left: str | None = None, turn: int = 1, **extra) -> Vote:
        """``winner_model`` beats ``loser_model`` (or ties with it); ``left`` is the model shown first."""
        comp = self.comparison(prompt, winner_model, loser_model, turn)
        name_a = comp.answer_a.contender.name
        winner = "tie" if tie else "model_a" if name_a == winner_model else "model_b"
        left = left or name_a
        return Vote.objects.create(rater=rater, comparison=comp, a_shown_first=(left == name_a),
                                   winner=winner, **extra)


def build_arena(models=("alpha", "beta", "gamma"), prompts: int = 6, set_slug: str = "demo-set",
                categories=("writing", "coding")) -> Arena:
    pset = PromptSet.objects.create(slug=set_slug, name=set_slug)
    arena = Arena(prompt_set=pset)
    for name in models:
        arena.contenders[name] = Contender.objects.get_or_create(name=name)[0]
    for i in range(prompts):
        p = Prompt.objects.create(prompt_set=pset, external_id=f"q{i}", category=categories[i % len(categories)],
                                  turns=["Say something.", "And more."], position=i)
        arena.prompts.append(p)
        for k, name in enumerate(models):
            text = f"{name} answers {i}." + " more" * (10 * (k + 1))
            arena.answers[(p.id, name)] = Answer.objects.create(
                prompt=p, contender=arena.contenders[name], turns=[text, text],
                token_counts=[len(text.split())] * 2,
                style=[[len(text.split()) + (i * 7 + k * 3) % 11, (i + k) % 3, k + i % 2, (i * k) % 4]] * 2,
            )
    User = get_user_model()
    arena.raters = [User.objects.create_user(f"rater{i}-{set_slug}", password="x") for i in range(3)]
    return arena


def human_votes(arena: Arena, *, seed: int = 1) -> list[Vote]:
    """Alpha usually beats beta, beta usually beats gamma; every rater votes on every pair."""
    rng = random.Random(seed)
    strength = {"alpha": 2.0, "beta": 1.0, "gamma": 0.0}
    votes = []
    for prompt in arena.prompts:
        for m1, m2 in itertools.combinations(list(arena.contenders), 2):
            for rater in arena.raters:
                p1 = 1 / (1 + 10 ** ((strength.get(m2, 0) - strength.get(m1, 0)) / 2))
                roll = rng.random()
                tie = roll < 0.1
                if tie or roll < 0.1 + 0.9 * p1:
                    winner, loser = m1, m2
                else:
                    winner, loser = m2, m1
                left = rng.choice([m1, m2])
                votes.append(arena.vote(rater, prompt, winner, loser, tie=tie, left=left,
                                        grade_a=rng.choice("ABCD"), grade_b=rng.choice("ABCD"),
                                        helpful=rng.choice(["model_a", "model_b", "same"]),
                                        honest=rng.choice(["model_a", "model_b", "same"]),
                                        harmless="same"))
    return votes


def imported_verdicts(arena: Arena, source_name: str = "paper-gpt4", *, is_human: bool = False,
                      seed: int = 2) -> VerdictSource:
    """An imported LLM judge that mostly agrees with the model order, on the same comparisons."""
    rng = random.Random(seed)
    source = VerdictSource.objects.create(name=source_name, is_human=is_human)
    batch = ImportBatch.objects.create(kind="verdicts", source=source_name, file_name=f"{source_name}.jsonl",
                                       sha256=f"{source_name:0<64}"[:64], format="fastchat",
                                       prompt_set=arena.prompt_set)
    order = list(arena.contenders)
    rows = []
    for prompt in arena.prompts:
        for m1, m2 in itertools.combinations(order, 2):
            winner = "model_a" if rng.random() < 0.8 else rng.choice(["model_b", "tie"])
            rows.append(ImportedVerdict(
                source=source, batch=batch, line=next(_line), model_a=arena.contenders[m1],
                model_b=arena.contenders[m2], winner=winner, prompt=prompt, question_ref=prompt.external_id,
                turn=1, position_known=True,
            ))
    ImportedVerdict.objects.bulk_create(rows)
    return source


@pytest.fixture
def staff_client(client, db):
    """Staff may have any valid combination of filters computed; visitors only the canonical set."""
    client.force_login(get_user_model().objects.create_user("stella-staff", is_staff=True))
    return client


@pytest.fixture
def arena(db) -> Arena:
    return build_arena()


@pytest.fixture
def voted_arena(arena) -> Arena:
    human_votes(arena)
    imported_verdicts(arena)
    return arena
