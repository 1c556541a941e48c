"""Every source of verdicts reaches the ratings through one selector, as battles."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from arena.models import Assignment, ImportBatch, ImportedVerdict, VerdictSource, Vote
from judge.models import Judge, JudgeRun, Judgment
from reports.selectors.battle_records import battles_list
from reports.selectors.battles import UnknownSource, comparison_key, parse_source
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    pset = factories.prompt_set("custom")
    p1 = factories.prompt(pset, external_id="q1", category="math", turns=("What is 2+2?", "And 3+3?"))
    p2 = factories.prompt(pset, external_id="q2", category="writing")
    factories.answer(p1, "alpha", "It is **4**.\n\n- one\n- two", "Six.")
    factories.answer(p1, "beta", "# Four\nFour.", "6")
    return pset, p1, p2


def vote(rater, comparison, winner, *, a_shown_first=True):
    from datetime import timedelta

    from django.utils import timezone

    assignment = Assignment.objects.create(
        rater=rater,
        comparison=comparison,
        a_shown_first=a_shown_first,
        status="voted",
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    return Vote.objects.create(
        rater=rater, comparison=comparison, assignment=assignment, a_shown_first=a_shown_first, winner=winner
    )


def test_a_human_vote_becomes_a_battle_with_side_order_and_style(setup):
    _pset, p1, _ = setup
    comparison = factories.comparison(p1, "alpha", "beta")
    rater = get_user_model().objects.create_user("rita")
    vote(rater, comparison, "model_b", a_shown_first=False)
    [battle] = battles_list(source="human")
    assert (battle.source, battle.model_a, battle.model_b, battle.winner) == (
        "human",
        "alpha",
        "beta",
        "model_b",
    )
    assert (battle.prompt_set, battle.prompt, battle.category, battle.turn) == ("custom", "q1", "math", 1)
    assert battle.first_shown == "model_b"
    assert battle.rater == f"user:{rater.id}"
    assert battle.comparison == comparison_key("custom", "q1", 1, "beta", "alpha")
    assert battle.style_a is not None and battle.style_a.bold == 1 and battle.style_a.list_items == 2
    assert battle.style_b is not None and battle.style_b.headers == 1


def judgment(run, comparison, order, winner, turn=1):
    return Judgment.objects.create(
        run=run, comparison=comparison, order=order, turn=turn, status=Judgment.Status.DONE, winner=winner
    )


@pytest.mark.parametrize(
    ("order_1", "order_2", "policy", "expected"),
    [
        ("model_a", "model_a", "tie", ["model_a"]),
        ("model_a", "model_b", "tie", ["tie"]),
        ("model_a", "model_b", "drop", []),
        ("tie", "tie", "drop", ["tie"]),
    ],
)
def test_judge_orders_combine_into_the_agreed_verdict(setup, order_1, order_2, policy, expected):
    pset, p1, _ = setup
    comparison = factories.comparison(p1, "alpha", "beta")
    judge = Judge.objects.create(name="gpt-4", model="gpt-4")
    run = JudgeRun.objects.create(judge=judge, prompt_set=pset, inconsistent=policy)
    judgment(run, comparison, 1, order_1)
    judgment(run, comparison, 2, order_2)
    assert [b.winner for b in battles_list(source="judge:gpt-4")] == expected
    per_order = battles_list(source="judge:gpt-4", per_order=True)
    assert [(b.first_shown, b.winner) for b in per_order] == [("model_a", order_1), ("model_b", order_2)]


def test_pending_and_unparsed_judgments_are_not_battles(setup):
    pset, p1, _ = setup
    comparison = factories.comparison(p1, "alpha", "beta")
    run = JudgeRun.objects.create(judge=Judge.objects.create(name="j", model="m"), prompt_set=pset)
    Judgment.objects.create(run=run, comparison=comparison, order=1, status="unparsed", raw_output="hmm")
    Judgment.objects.create(run=run, comparison=comparison, order=2, status="pending")
    assert battles_list(source="all", per_order=True) == []


def test_imported_verdicts_keep_their_source_and_unparsed_ones_are_left_out(setup):
    _pset, p1, _ = setup
    source = VerdictSource.objects.create(name="mtbench-human", is_human=True)
    batch = ImportBatch.objects.create(
        kind="verdicts", source="mtbench-human", file_name="f", sha256="x", format="fastchat"
    )
    alpha, beta = factories.contender("alpha"), factories.contender("beta")
    ImportedVerdict.objects.create(
        source=source,
        batch=batch,
        line=1,
        model_a=alpha,
        model_b=beta,
        winner="tie",
        prompt=p1,
        question_ref="q1",
        turn=2,
        rater="expert_1",
    )
    ImportedVerdict.objects.create(
        source=source,
        batch=batch,
        line=2,
        model_a=beta,
        model_b=alpha,
        winner="",
        prompt=p1,
        question_ref="q1",
    )
    ImportedVerdict.objects.create(
        source=source,
        batch=batch,
        line=3,
        model_a=beta,
        model_b=alpha,
        winner="model_a",
        question_ref="arena-77",
        position_known=False,
    )
    battles = battles_list(source="import:mtbench-human")
    assert [(b.winner, b.turn, b.prompt, b.first_shown) for b in battles] == [
        ("tie", 2, "q1", "model_a"),
        ("model_a", 1, "arena-77", None),
    ]
    assert battles[0].style_a is not None  # linked to the answers of the prompt
    assert battles_list(source="import:mtbench-human", prompt_set="custom", turn=2)[0].rater == "expert_1"
    assert battles_list(source="import:other") == []


def test_filters_by_prompt_set_and_category(setup):
    _pset, p1, p2 = setup
    rater = get_user_model().objects.create_user("rita")
    vote(rater, factories.comparison(p1, "alpha", "beta"), "model_a")
    vote(rater, factories.comparison(p2, "alpha", "beta"), "tie")
    assert len(battles_list(source="human", prompt_set="custom")) == 2
    assert [b.prompt for b in battles_list(source="human", category="writing")] == ["q2"]
    assert battles_list(source="human", prompt_set="mt_bench") == []


@pytest.mark.parametrize("bad", ["humans", "judge:", "import", "gpt-4"])
def test_an_unknown_source_is_a_clear_error(bad):
    with pytest.raises(UnknownSource, match="use human, live, judge:NAME, import:NAME, panel:NAME or all"):
        parse_source(bad)
