"""An arena judged by fake judges (the test LLM server, through the real openai client) in every
mode, with people's votes on the same comparisons: what every evaluation report reads."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from arena.models import Comparison, Contender, Prompt, PromptSet, Vote
from judge.models import JudgeRun
from tests import factories
from tests.judge.conftest import _judge_settings, llm, start_run  # noqa: F401 - fixtures

MODES = ("single", "grade", "hhh", "five_level", "logprob", "pairwise")
QUALITY = {"strong": 9, "middle": 5, "weak": 2, "verbose": 4}
CATEGORIES = ("writing", "math", "coding")


@pytest.fixture
def graded_set(db) -> PromptSet:
    """Six one-turn prompts in three categories; four contenders whose answers carry the quality
    markers the fake judge reads (the verbose one writes long, mediocre answers)."""
    pset = PromptSet.objects.create(slug="eval-test", name="evaluation test")
    for i in range(6):
        category = CATEGORIES[i % 3]
        prompt = Prompt.objects.create(
            prompt_set=pset,
            external_id=f"q{i}",
            turns=[f"Question {i} about {category}."],
            category=category,
            position=i,
            references=[f"Reference answer {i}."] if category == "math" else [],
        )
        for model, quality in QUALITY.items():
            padding = " and more detail" * (40 if model == "verbose" else 2 * (i % 2 + 1))
            factories.answer(prompt, model, f"{model} answers question {i}{padding}. quality:{quality}")
    return pset


@pytest.fixture
def human_votes(graded_set):
    """Two people vote on every comparison against 'middle', with A-D grades and HHH choices that
    follow the quality markers (one of them disagrees now and then)."""
    users = [
        get_user_model().objects.create_user(f"rater{i}", password="pw-for-tests-only") for i in range(2)
    ]
    middle = Contender.objects.get(name="middle")
    made = []
    for prompt in Prompt.objects.filter(prompt_set=graded_set):
        answers = {a.contender.name: a for a in prompt.answers.select_related("contender")}
        for model in ("strong", "weak", "verbose"):
            first, second = sorted((answers[model], answers["middle"]), key=lambda a: a.pk)
            comp, _ = Comparison.objects.get_or_create(prompt=prompt, answer_a=first, answer_b=second, turn=1)
            better = (
                "model_a" if QUALITY[first.contender.name] > QUALITY[second.contender.name] else "model_b"
            )
            for n, user in enumerate(users):
                winner = better if (n == 0 or prompt.external_id != "q1") else "tie"
                grade = {9: "A", 5: "B", 4: "C", 2: "D"}
                Vote.objects.create(
                    rater=user,
                    comparison=comp,
                    a_shown_first=True,
                    winner=winner,
                    grade_a=grade[QUALITY[first.contender.name]],
                    grade_b=grade[QUALITY[second.contender.name]],
                    helpful=winner if winner != "tie" else "same",
                    honest=winner if winner != "tie" else "same",
                    harmless="same",
                )
            made.append(comp)
        assert middle
    return made


@pytest.fixture
def judged(graded_set, human_votes, llm, start_run):  # noqa: F811
    """One judge ('fake-judge') run in every mode; pairwise modes against the baseline 'middle'."""
    judge = factories.judge(llm.base_url, "fake-judge")
    middle = Contender.objects.get(name="middle")
    runs = {}
    for mode in MODES:
        baseline = middle if mode in ("five_level", "logprob", "pairwise", "hhh") else None
        runs[mode] = start_run(judge=judge, prompt_set=graded_set, mode=mode, baseline=baseline)
        assert runs[mode].status == JudgeRun.Status.DONE, (mode, runs[mode].error)
    return judge, runs
