"""The tests' data builders, in one place, so each test states only what matters to it: rows
(prompt sets, prompts, contenders, answers, comparisons, judges), comparisons whose answers never
name their model (the rating tests check no name reaches the page before a vote), and a small
arena with people's votes and an imported judge's verdicts (the report tests)."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from decimal import Decimal

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
from arena.services.imports import answer_features, answer_reveals_identity
from judge.models import Judge

_counter = itertools.count(1)
_line = itertools.count(1)


def prompt_set(slug: str = "custom", **fields) -> PromptSet:
    return PromptSet.objects.get_or_create(slug=slug, defaults={"name": slug, **fields})[0]


def prompt(
    pset: PromptSet | None = None,
    *,
    external_id: str | None = None,
    turns=("Say hello.",),
    category: str = "general",
    references=(),
    **fields,
) -> Prompt:
    pset = pset or prompt_set()
    return Prompt.objects.create(
        prompt_set=pset,
        external_id=external_id or str(next(_counter)),
        category=category,
        turns=list(turns),
        references=list(references),
        **fields,
    )


def contender(name: str) -> Contender:
    return Contender.objects.get_or_create(name=name)[0]


def answer(p: Prompt, model: str | Contender, *turns: str) -> Answer:
    c = model if isinstance(model, Contender) else contender(model)
    texts = list(turns) or [f"{c.name} answers {p.external_id}."] * len(p.turns)
    tokens, style = answer_features(texts)
    return Answer.objects.create(
        prompt=p,
        contender=c,
        turns=texts,
        token_counts=tokens,
        style=style,
        reveals_identity=answer_reveals_identity(texts),
    )


def comparison(
    p: Prompt,
    model_1: str,
    model_2: str,
    *,
    turn: int = 1,
    texts: dict[str, tuple[str, ...]] | None = None,
    **fields,
) -> Comparison:
    """The comparison of the two models' answers to ``p`` (made when missing, with ``texts`` per
    model if given); ``fields`` set the comparison's other columns when it is created."""
    texts = texts or {}
    a1 = Answer.objects.filter(prompt=p, contender__name=model_1).first() or answer(
        p, model_1, *texts.get(model_1, ())
    )
    a2 = Answer.objects.filter(prompt=p, contender__name=model_2).first() or answer(
        p, model_2, *texts.get(model_2, ())
    )
    first, second = sorted((a1, a2), key=lambda a: a.id)
    return Comparison.objects.get_or_create(
        prompt=p, answer_a=first, answer_b=second, turn=turn, defaults=fields
    )[0]


def judge(base_url: str, name: str, **fields) -> Judge:
    """An LLM judge at ``base_url`` (the tests' LLM server) with a key variable no one sets."""
    return Judge.objects.create(
        name=name,
        base_url=base_url,
        model=fields.pop("model", "fake-judge"),
        api_key_env="ARENA_KEY_TEST_NO_SUCH_KEY",
        max_concurrent=4,
        requests_per_minute=60000,
        price_input_per_million=Decimal("2.5"),
        price_output_per_million=Decimal("10"),
        max_tokens=512,
        **fields,
    )


# --- Comparisons whose answers never name their model (the rating tests) -----------------------


def blind_prompt(
    slug: str = "rating-set", *, turns: tuple[str, ...] = ("Say hello.",), category: str = "general"
) -> Prompt:
    return prompt(prompt_set(slug), external_id=f"q{next(_counter)}", turns=turns, category=category)


def _name_free_texts(p: Prompt) -> tuple[str, ...]:
    return tuple(f"Answer number {next(_counter)} to turn {i + 1}." for i in range(len(p.turns)))


def blind_answer(p: Prompt, model: str, *turns: str) -> Answer:
    return answer(p, model, *(turns or _name_free_texts(p)))


def blind_comparison(
    p: Prompt, model_1: str, model_2: str, *, turn: int = 1, texts=None, **fields
) -> Comparison:
    texts = dict(texts or {})
    for model in (model_1, model_2):  # the test's own texts, else name-free ones
        texts.setdefault(model, _name_free_texts(p))
    return comparison(p, model_1, model_2, turn=turn, texts=texts, **fields)


def blind_comparisons(
    n: int,
    *,
    slug: str = "rating-set",
    models: tuple[str, str] = ("zephyr-secret-7b", "quokka-hidden-13b"),
    **fields,
) -> list[Comparison]:
    return [blind_comparison(blind_prompt(slug), *models, **fields) for _ in range(n)]


# --- A small arena: three models, people's votes, one imported judge (the report tests) --------


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

    def vote(
        self,
        rater,
        prompt: Prompt,
        winner_model: str,
        loser_model: str,
        *,
        tie: bool = False,
        left: str | None = None,
        turn: int = 1,
        **extra,
    ) -> Vote:
        """``winner_model`` beats ``loser_model`` (or ties with it); ``left`` is the model shown first."""
        comp = self.comparison(prompt, winner_model, loser_model, turn)
        name_a = comp.answer_a.contender.name
        winner = "tie" if tie else "model_a" if name_a == winner_model else "model_b"
        left = left or name_a
        return Vote.objects.create(
            rater=rater, comparison=comp, a_shown_first=(left == name_a), winner=winner, **extra
        )


def build_arena(
    models=("alpha", "beta", "gamma"),
    prompts: int = 6,
    set_slug: str = "demo-set",
    categories=("writing", "coding"),
) -> Arena:
    pset = PromptSet.objects.create(slug=set_slug, name=set_slug)
    arena = Arena(prompt_set=pset)
    for name in models:
        arena.contenders[name] = Contender.objects.get_or_create(name=name)[0]
    for i in range(prompts):
        p = Prompt.objects.create(
            prompt_set=pset,
            external_id=f"q{i}",
            category=categories[i % len(categories)],
            turns=["Say something.", "And more."],
            position=i,
        )
        arena.prompts.append(p)
        for k, name in enumerate(models):
            text = f"{name} answers {i}." + " more" * (10 * (k + 1))
            arena.answers[(p.id, name)] = Answer.objects.create(
                prompt=p,
                contender=arena.contenders[name],
                turns=[text, text],
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
                votes.append(
                    arena.vote(
                        rater,
                        prompt,
                        winner,
                        loser,
                        tie=tie,
                        left=left,
                        grade_a=rng.choice("ABCD"),
                        grade_b=rng.choice("ABCD"),
                        helpful=rng.choice(["model_a", "model_b", "same"]),
                        honest=rng.choice(["model_a", "model_b", "same"]),
                        harmless="same",
                    )
                )
    return votes


def imported_verdicts(
    arena: Arena, source_name: str = "paper-gpt4", *, is_human: bool = False, seed: int = 2
) -> VerdictSource:
    """An imported LLM judge that mostly agrees with the model order, on the same comparisons."""
    rng = random.Random(seed)
    source = VerdictSource.objects.create(name=source_name, is_human=is_human)
    batch = ImportBatch.objects.create(
        kind="verdicts",
        source=source_name,
        file_name=f"{source_name}.jsonl",
        sha256=f"{source_name:0<64}"[:64],
        format="fastchat",
        prompt_set=arena.prompt_set,
    )
    order = list(arena.contenders)
    rows = []
    for prompt in arena.prompts:
        for m1, m2 in itertools.combinations(order, 2):
            winner = "model_a" if rng.random() < 0.8 else rng.choice(["model_b", "tie"])
            rows.append(
                ImportedVerdict(
                    source=source,
                    batch=batch,
                    line=next(_line),
                    model_a=arena.contenders[m1],
                    model_b=arena.contenders[m2],
                    winner=winner,
                    prompt=prompt,
                    question_ref=prompt.external_id,
                    turn=1,
                    position_known=True,
                )
            )
    ImportedVerdict.objects.bulk_create(rows)
    return source
