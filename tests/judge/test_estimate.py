"""The cost estimate shown before a run starts: the same requests as the run makes, measured as
rendering them would, without rendering each one (MT-Bench with every demo contender is 158,596
requests; benchmarks/bench_run_estimate.py times it)."""

from __future__ import annotations

import pytest

from arena.models import Contender, Prompt, PromptSet
from judge.services import judge_run_estimate, judge_run_plan
from judge.services.rendering import KIND_BY_RUN_MODE
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed_set(db) -> PromptSet:
    """Two-turn prompts with and without references; one contender answered only the first turn."""
    pset = PromptSet.objects.create(slug="mixed", name="mixed")
    for i in range(3):
        prompt = Prompt.objects.create(
            prompt_set=pset,
            external_id=f"m{i}",
            position=i,
            category="math",
            turns=[f"Question {i} " + "x" * (40 * i), f"Follow-up {i}"],
            references=[f"ref {i}", f"ref two {i}"] if i != 1 else [],
        )
        for k, name in enumerate(("ant", "bee", "cat", "dog")):
            first = f"{name} answers {i} " + "word " * (7 * k + i)
            if name == "dog":
                factories.answer(prompt, name, first)
            else:
                factories.answer(prompt, name, first, f"{name} again " + "more " * (3 * k))
    return pset


def rendered_tokens(judge, targets, mode) -> int:
    """What the estimate approximates: every request rendered, four characters per token."""
    kind = KIND_BY_RUN_MODE[mode]
    return sum(
        max(1, len(m["content"]) // 4) + 4
        for t in targets
        for m in t.rendered(template_set=judge.template_set, kind=kind).messages
    )


@pytest.mark.parametrize(
    ("mode", "options"),
    [
        ("pairwise", {}),
        ("pairwise", {"turn": 2}),
        ("pairwise", {"baseline": "bee"}),
        ("pairwise", {"limit": 2}),
        ("pairwise", {"contenders": ["ant", "dog"]}),
        ("hhh", {"turn": 1}),
        ("single", {}),
        ("grade", {}),
    ],
)
def test_the_estimate_counts_and_measures_the_requests_the_run_sends(judge, mixed_set, mode, options):
    if "baseline" in options:
        options["baseline"] = Contender.objects.get(name=options["baseline"])
    if "contenders" in options:
        options["contenders"] = list(Contender.objects.filter(name__in=options["contenders"]))
    targets = judge_run_plan(prompt_set=mixed_set, mode=mode, **options)

    estimate = judge_run_estimate(judge=judge, prompt_set=mixed_set, mode=mode, **options)

    assert estimate.judgments == len(targets) > 0 and estimate.cached == 0
    # Rounding per message differs from rounding per request by under one token a message.
    assert abs(estimate.input_tokens - rendered_tokens(judge, targets, mode)) <= 2 * len(targets)


def test_requests_already_answered_are_counted_as_cached_and_cost_nothing(judge, mixed_set, start_run, llm):
    first = start_run(judge=judge, prompt_set=mixed_set, mode="pairwise", limit=1)
    assert first.judgments.filter(status="done").count() == first.judgments.count() > 0

    estimate = judge_run_estimate(judge=judge, prompt_set=mixed_set, mode="pairwise")
    targets = judge_run_plan(prompt_set=mixed_set, mode="pairwise")
    remaining = [t for t in targets if t.prompt.external_id != "m0"]

    assert estimate.judgments == len(targets)
    assert estimate.cached == first.judgments.count()
    assert abs(estimate.input_tokens - rendered_tokens(judge, remaining, "pairwise")) <= 2 * len(remaining)
    # Another model asks another question: nothing is cached for it.
    judge.model = "another-judge"
    judge.save()
    assert judge_run_estimate(judge=judge, prompt_set=mixed_set, mode="pairwise").cached == 0
